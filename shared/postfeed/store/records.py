"""What the PostsTable holds of a post, as records: the pipeline reads and writes these, never item maps.

`postfeed.store.items` turns them into the table's items and back (`post_item`, `post_state`); the adapter
(`postfeed.store.table`) writes them (`PostWrite.of`) and reads them (`PostsTable.get_state`).
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
