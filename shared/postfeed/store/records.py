"""What the PostsTable holds, as records: a post's state, a site file's, a feed's. The pipeline reads and writes
these, never item maps.

`postfeed.store.items` turns them into the table's items and back (`post_item`/`post_state`,
`site_file_item`/`site_file_state`, `feed_state_attributes`/`feed_state`; stream images too: `post_change`);
the adapters write and read them (`PostWrite.of`, `PostsTable.get_state`, `get_states`, `get_site_files`,
`put_site_file`, `acquire_lease`, `release_lease`; a full rebuild's ledger: `RebuildLedger.record_before`).
A feed's memberships, archive pages and the discovery documents' items (`Membership`, `ArchivePage`,
`DueFeed`, `ShelfState`, `IndexState`) are encoded and read by `postfeed.store.pages` (`FeedPages`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from postfeed.models import FeedRef

PUBLISHED, SKIPPED, ERROR, DELETED = "published", "skipped", "error", "deleted"


@dataclass(frozen=True, slots=True)
class RecordedError:
    """Why the latest upload of a post could not be used (the parser's or the pipeline's code)."""

    code: str
    message: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class SkipRecord:
    """Why a post is not published (unpublished, a draft, dated in the future...)."""

    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """A published post's entry as stored: its `entry` map (`items.encode_entry`, opaque here: feeds decode
    it), the feeds it is in, and the content chunks written beside it (only when just encoded: a stored
    entry counts them, `chunk_count`)."""

    fields: Mapping[str, Any]
    refs: tuple[FeedRef, ...]
    chunks: tuple[bytes, ...] = ()

    @property
    def hash(self) -> str | None:
        """Fingerprint of everything a feed shows of the post (`items.entry_hash`)."""
        value = self.fields.get("hash")
        return None if value is None else str(value)

    @property
    def chunk_count(self) -> int:
        return int(self.fields.get("chunks", 0))

    @property
    def blob(self) -> bytes | None:
        """The compressed content when stored inline (else it is in `chunk_count` chunk items)."""
        value = self.fields.get("blob")
        return value if value else None

    @property
    def date(self) -> str:
        return str(self.fields["date"])


@dataclass(frozen=True, slots=True)
class Publication:
    """Everything the table stores of a post being published, encoded once: its entry, its sort key in
    every feed it is in, and the archive line its memberships carry (None: too big to carry)."""

    entry: EntryRecord
    member_sk: str
    line: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class PostState:
    """The state of one S3 key in the table (its post item, without the table's keys).

    `version` is the item's optimistic lock (None: not stored yet); `generation` the full rebuild (or other
    re-ingest) that last read it; `body_hash`/`config_hash` what it was read from; `reads` what its last
    render read (`pipeline.dependencies`); `due_at` when a future-dated post is due (`pipeline.schedule`)."""

    key: str
    state: str
    version: int | None = None
    sequencer: str | None = None
    changed_at: str | None = None
    body_hash: str | None = None
    config_hash: str | None = None
    rejected: bool = False
    error: RecordedError | None = None
    skip: SkipRecord | None = None
    due_at: str | None = None
    warnings: Sequence[str] | None = None
    reads: Mapping[str, Sequence[str]] | None = None
    generation: str | None = None
    entry: EntryRecord | None = None
    member_sk: str | None = None

    @property
    def published(self) -> bool:
        return self.state == PUBLISHED

    @property
    def error_code(self) -> str | None:
        return self.error.code if self.error is not None else None


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed's state item (`~STATE`): what its last rebuild published, and its lease. Read as the lease is
    taken (`PostsTable.acquire_lease`); given back with what was published (`release_lease`: the attributes
    set, the others left as they are).

    `listed` is a bool, or [total, newest date] as feeds listed before listing keys hold it; `total` None: a
    feed counted before archives (or never); `lease_owner` set: its previous holder never gave it back."""

    hashes: Mapping[str, str] | None = None
    entries: int | None = None
    total: int | None = None
    listed: bool | Sequence[Any] | None = None
    recount: bool | None = None
    kind: str | None = None
    name: str | None = None
    lease_owner: str | None = None


@dataclass(frozen=True, slots=True)
class Fanout:
    """The work a site file's change starts, recorded on its item until it is sent (`pipeline.sitefiles`):
    every post read again (`site_wide`), or the posts of these author keys and of these dependencies."""

    generation: str
    site_wide: bool = False
    authors: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SiteFileState:
    """The state of one site file (`_config.yml`, a `_data/` or `_includes/` file, `feed.xslt.xml`) in its
    item under `SITE`: `state` stored, deleted or error (a first upload that could not be used); the last good
    bytes (`raw`, which posts are read with; `body` for the stylesheet, which the feed function copies);
    the latest upload's error while it is `rejected` (the last good state and bytes stay in force).

    `version` is the item's optimistic lock (None: not stored yet, or a config item of before versions)."""

    sk: str
    key: str
    state: str
    body_hash: str | None = None
    raw: bytes | None = None
    body: bytes | None = None
    sequencer: str | None = None
    changed_at: str | None = None
    rejected: bool = False
    error: RecordedError | None = None
    fanout: Fanout | None = None
    version: int | None = None


@dataclass(frozen=True, slots=True)
class Membership:
    """One entry of a feed (a membership item): its sort key, its post's key, and its archive line when it
    carries one (`items.member_line`, opaque here: `items.post_from_line` decodes it)."""

    sk: str
    key: str
    line: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ArchivePage:
    """An archive page's item (`~PAGE#<page>` in its feed's partition): how many entries it holds, the pages
    it links to (`prev-archive`, `next-archive`), the hashes of its documents (key -> hash)."""

    page: str
    count: int = 0
    prev: str | None = None
    next: str | None = None
    hashes: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class DueFeed:
    """A feed that came or went since the discovery documents were published (`~DUE#<listing key>`); `seq`
    counts its marks, so clearing it can tell whether it was marked again since it was read."""

    listing: str
    ref: FeedRef
    seq: int


@dataclass(frozen=True, slots=True)
class ShelfState:
    """A discovery shelf's item (`~SHELF#<key>`): its section (a feed kind's value), how many feeds it holds,
    its first and last feed, the hashes of its documents (none while its section is listed on the root)."""

    key: str
    section: str | None = None
    count: int | None = None
    first: FeedRef | None = None
    last: FeedRef | None = None
    hashes: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class IndexState:
    """The discovery documents' state item (`~INDEX`), read as their lease is taken and given back with what
    was published: the root documents' hashes, the site they show (a fingerprint), how many feeds are listed,
    and the shelving version that rendered them (None, each: not known, or left as it is on release)."""

    hashes: Mapping[str, str] | None = None
    site: str | None = None
    feeds: int | None = None
    shelving: int | None = None
