"""The PostsTable's item layout, as plain Python values (no AWS SDK here: the adapter serialises).

One table, generic keys `pk`/`sk`:

| item        | pk                          | sk                          | what                                   |
|-------------|-----------------------------|-----------------------------|----------------------------------------|
| post        | `POST#<key>`                | `POST`                      | state of one S3 key: entry, sequencer… |
| content     | `POST#<key>`                | `CHUNK#<nnnn>`              | compressed content when too big inline |
| membership  | `FEED#<feed id>`            | `<utc date>#<post id>#<key>`| one per feed a post is in; archive line|
| feed state  | `FEED#<feed id>`            | `~STATE`                    | rebuild lease, published hashes        |
| site config | `SITE`                      | `CONFIG`                    | the `_config.yml` in the posts bucket  |

"Newest N entries of feed F" is one Query on `pk = FEED#F` with `ScanIndexForward=False`, `Limit=N`:
membership sort keys start with the entry's UTC instant (fixed width, so string order is time order);
`~STATE` sorts after every date, so a descending query reads it first and we skip it with the key
condition `sk < "~"`. Rejected posts carry `rejected = "1"` and sit in a sparse GSI; future-dated posts
carry `scheduled = "1"` and `due_at` (UTC instant) and sit in another, ordered by when they are due.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from postfeed.jekyll.plain_text import html_to_text
from postfeed.models import POSTS, Author, FeedKind, FeedRef, Post, feed_refs
from postfeed.store.records import (
    EntryRecord,
    Fanout,
    FeedState,
    PostState,
    Publication,
    RecordedError,
    SiteFileState,
    SkipRecord,
)

POST_SK = "POST"
STATE_SK = "~STATE"
SITE_PK = "SITE"
CONFIG_SK = "CONFIG"
REJECTED_INDEX = "rejected"
SCHEDULED_INDEX = "scheduled"
MEMBER_SK_LIMIT = "~"  # every membership sort key is below it, the state item above

# DynamoDB caps keys at 2048 (pk) / 1024 (sk) bytes and items at 400 KB; keep well clear.
_KEY_PART_BYTES = 700
INLINE_BLOB_BYTES = 300_000
# A transaction holds at most 100 actions: the post item, its content chunks and membership changes.
MAX_TRANSACTION_ACTIONS = 100


POST_PK_PREFIX = "POST#"


def post_pk(key: str) -> str:
    return POST_PK_PREFIX + key


def feed_id(ref: FeedRef) -> str:
    """Stable id of a feed inside the table. Names too long for a DynamoDB key are hashed; the two forms
    use different separators (`=` vs `#`) so a readable id can never equal a hashed one."""
    if ref.collection != POSTS:
        # Another collection's feeds: `@<collection>` after the kind never meets the `=`/`#` forms of posts.
        name = f"{ref.collection}\x1f{ref.name}"
        if len(name.encode()) <= _KEY_PART_BYTES:
            return f"{ref.kind.value}@{name}"
        return f"{ref.kind.value}@#{hashlib.sha256(name.encode()).hexdigest()}"
    if ref.kind is FeedKind.SITE:
        return "site"
    if len(ref.name.encode()) <= _KEY_PART_BYTES:
        return f"{ref.kind.value}={ref.name}"
    return f"{ref.kind.value}#{hashlib.sha256(ref.name.encode()).hexdigest()}"


def feed_pk(ref: FeedRef) -> str:
    return "FEED#" + feed_id(ref)


def _clip(text: str) -> str:
    raw = text.encode()
    if len(raw) <= _KEY_PART_BYTES // 2:
        return text
    return raw[: _KEY_PART_BYTES // 4].decode(errors="ignore") + "~" + hashlib.sha256(raw).hexdigest()


def member_sk(post: Post) -> str:
    """Sort key of a post in every feed it belongs to: newest first is descending string order."""
    return f"{utc_instant(post.date)}#{_clip(post.id)}#{_clip(post.path)}"


def utc_instant(moment: datetime) -> str:
    """Fixed-width UTC timestamp whose string order is time order, for years 1 to 9999 in any offset."""
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # year 1 east of UTC, or 9999 west of it, leaves datetime's range
        return "0000-00-00T00:00:00Z" if moment.year == 1 else "9999-12-31T23:59:59Z"
    # Built by hand: strftime's %Y does not pad years below 1000 on every platform.
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"


def content_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """What the table keeps of a published post: the Post minus its bulky HTML, plus that HTML compressed."""

    post: Post
    blob: bytes  # zlib(JSON {content_html, excerpt_html, excerpt_text}); chunk items when too big

    @property
    def chunks(self) -> list[bytes]:
        if len(self.blob) <= INLINE_BLOB_BYTES:
            return []
        return [self.blob[i : i + INLINE_BLOB_BYTES] for i in range(0, len(self.blob), INLINE_BLOB_BYTES)]


def encode_entry(post: Post, feeds: Sequence[FeedRef] | None = None) -> tuple[dict[str, Any], list[bytes]]:
    """The `entry` map of a post item, and the content chunks to store beside it (often none).

    `feeds`: the feeds the post is in under the site's `feed:` settings; kept in the entry when they are not
    every feed of its categories and tags (`refs_of_entry` reads them back)."""
    html = json.dumps(
        {"content_html": post.content_html, "excerpt_html": post.excerpt_html, "excerpt_text": post.excerpt_text},
        ensure_ascii=False,
    )
    stored = StoredEntry(post, zlib.compress(html.encode(), 6))
    chunks = stored.chunks
    entry: dict[str, Any] = {**post_fields(post), "chunks": len(chunks)}
    if feeds is not None and tuple(feeds) != feed_refs(post.categories, post.tags, collection=post.collection):
        entry["feeds"] = [[ref.kind.value, ref.name, ref.collection] for ref in feeds]
    if not chunks:
        entry["blob"] = stored.blob
    entry["hash"] = entry_hash(entry, stored.blob)
    return entry, chunks


def entry_hash(entry: dict[str, Any], blob: bytes) -> str:
    """Fingerprint of everything a feed shows of a post: equal hashes, identical feeds."""
    visible = {k: v for k, v in entry.items() if k not in ("blob", "hash", "chunks")}
    digest = hashlib.sha256(json.dumps(visible, sort_keys=True, ensure_ascii=False).encode())
    digest.update(blob)
    return digest.hexdigest()


def decode_entry(entry: Mapping[str, Any], blob: bytes) -> Post:
    """The Post a feed renders, from a post item's `entry` map and its (joined) content blob."""
    html = json.loads(zlib.decompress(blob)) if blob else {"content_html": "", "excerpt_html": "", "excerpt_text": ""}
    return post_of_fields(entry, html["content_html"], html["excerpt_html"], html["excerpt_text"])


def post_fields(post: Post) -> dict[str, Any]:
    """What an entry and an archive line both store of a post (all but its content)."""
    fields: dict[str, Any] = {
        "path": post.path,
        "title": post.title,
        "date": post.date.isoformat(),
        "slug": post.slug,
        "url": post.url,
        "absolute_url": post.absolute_url,
        "id": post.id,
        "categories": list(post.categories),
        "tags": list(post.tags),
    }
    if post.author is not None:
        fields["author"] = {
            k: v
            for k, v in (("name", post.author.name), ("email", post.author.email), ("uri", post.author.uri))
            if v is not None
        }
    if post.updated is not None:
        fields["updated"] = post.updated.isoformat()
    # jekyll-feed's per-post extras, stored only when given (older items stay byte-identical).
    for name in ("image", "lang", "description", "excerpt_only"):
        if getattr(post, name) is not None:
            fields[name] = getattr(post, name)
    if post.collection != POSTS:
        fields["collection"] = post.collection
    return fields


def post_of_fields(fields: Mapping[str, Any], content_html: str, excerpt_html: str, excerpt_text: str) -> Post:
    """The Post of stored `post_fields` and its content."""
    author = fields.get("author")
    updated = fields.get("updated")
    return Post(
        path=fields["path"],
        title=fields["title"],
        date=datetime.fromisoformat(fields["date"]),
        slug=fields["slug"],
        url=fields["url"],
        absolute_url=fields["absolute_url"],
        id=fields["id"],
        categories=tuple(fields["categories"]),
        tags=tuple(fields["tags"]),
        content_html=content_html,
        excerpt_html=excerpt_html,
        excerpt_text=excerpt_text,
        author=Author(**author) if author else None,
        updated=datetime.fromisoformat(updated) if updated else None,
        image=fields.get("image"),
        lang=fields.get("lang"),
        description=fields.get("description"),
        excerpt_only=fields.get("excerpt_only"),
        collection=fields.get("collection", POSTS),
    )


# A membership item carries the post's *archive line* (what an archive page shows: no content) when it is
# at most this big, so an archive page renders from one Query of its members; a bigger one (huge titles or
# category lists) is left out and the page reads that post item instead.
MAX_LINE_BYTES = 4_000
LINE_SUMMARY_CHARS = 600  # the excerpt, whitespace collapsed, cut (archive pages show at most 500)


def member_line(post: Post) -> dict[str, Any] | None:
    """The archive line of a post (see MAX_LINE_BYTES), or None when it would be too big."""
    # Pages show no content: an excerpt without text (a lone image) gives way to the start of the post's text,
    # as `feeds.channel` does for any entry without content.
    text = post.excerpt_text if post.excerpt_text.strip() else html_to_text(post.content_html)
    summary = " ".join(text.split())[:LINE_SUMMARY_CHARS]
    line = {**post_fields(post), "summary": summary}
    if len(json.dumps(line, ensure_ascii=False).encode()) > MAX_LINE_BYTES:
        return None
    return line


def post_from_line(line: Mapping[str, Any]) -> Post:
    """The Post an archive page renders from a membership's archive line (excerpt only, no content)."""
    return post_of_fields(line, "", "", line["summary"])


def refs_of_entry(entry: dict[str, Any] | None) -> tuple[FeedRef, ...]:
    """The feeds a stored entry appears in (none for a missing entry)."""
    if not entry:
        return ()
    if "feeds" in entry:
        return tuple(FeedRef(FeedKind(kind), name, collection) for kind, name, collection in entry["feeds"])
    return feed_refs(entry["categories"], entry["tags"], collection=entry.get("collection", POSTS))


def entry_record(fields: Mapping[str, Any], chunks: Sequence[bytes] = ()) -> EntryRecord:
    """The record of an `entry` map (and the chunks just encoded beside it)."""
    return EntryRecord(fields=fields, refs=refs_of_entry(dict(fields)), chunks=tuple(chunks))


def publication(post: Post, feeds: Sequence[FeedRef]) -> Publication:
    """What the table stores of `post` published in `feeds`: entry, content chunks, sort key and archive
    line, each encoded once."""
    fields, chunks = encode_entry(post, feeds)
    entry = EntryRecord(fields=fields, refs=tuple(feeds), chunks=tuple(chunks))
    return Publication(entry=entry, member_sk=member_sk(post), line=member_line(post))


def post_state(item: Mapping[str, Any]) -> PostState:
    """The record of a post item (as read from the table, or a stream image of one)."""
    error, skip, entry = item.get("error"), item.get("skip"), item.get("entry")
    version, warnings = item.get("version"), item.get("warnings")
    return PostState(
        key=str(item.get("key", "")),
        state=str(item.get("state", "")),
        version=None if version is None else int(version),
        sequencer=item.get("sequencer"),
        changed_at=item.get("changed_at"),
        body_hash=item.get("body_hash"),
        config_hash=item.get("config_hash"),
        rejected=bool(item.get("rejected")),
        error=_recorded_error(error),
        skip=SkipRecord(str(skip.get("reason")), str(skip.get("detail"))) if isinstance(skip, Mapping) else None,
        due_at=item.get("due_at"),
        warnings=None if warnings is None else tuple(warnings),
        reads=item.get("reads"),
        generation=item.get("generation") or None,
        entry=entry_record(entry) if isinstance(entry, Mapping) and entry else None,
        member_sk=item.get("member_sk"),
    )


def post_item(state: PostState) -> dict[str, Any]:
    """The post item of a record, without the table's keys and version (`PostsTable` adds them). Attributes
    without a value are left out, in the order the table has always written them."""
    item: dict[str, Any] = {
        "key": state.key,
        "state": state.state,
        "sequencer": state.sequencer,
        "changed_at": state.changed_at,
    }
    extra: dict[str, Any] = {"body_hash": state.body_hash, "config_hash": state.config_hash}
    if state.rejected:
        extra["rejected"] = "1"
    if state.error is not None:
        extra["error"] = _error_map(state.error)
    if state.skip is not None:
        extra["skip"] = {"reason": state.skip.reason, "detail": state.skip.detail}
    if state.due_at is not None:  # found by `publish_due` once its date has come (pipeline.schedule)
        extra |= {"scheduled": "1", "due_at": state.due_at}
    extra |= {"warnings": None if state.warnings is None else list(state.warnings), "reads": state.reads}
    item |= {k: v for k, v in extra.items() if v is not None}
    if state.generation:
        item["generation"] = state.generation
    if state.entry is not None:
        item["entry"], item["member_sk"] = state.entry.fields, state.member_sk
    return item


def _recorded_error(error: Any) -> RecordedError | None:
    if not isinstance(error, Mapping):
        return None
    return RecordedError(str(error.get("code")), str(error.get("message")), error.get("line"))


def _error_map(error: RecordedError) -> dict[str, Any]:
    return {"code": error.code, "message": error.message, "line": error.line}


def post_change(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> tuple[PostState | None, PostState | None] | None:
    """The post states before and after a change of one item, from its (old, new) images (a stream record's,
    or items read around a write); None when the item is not a post item."""
    image = new or old
    if not image or image.get("sk") != POST_SK:
        return None
    return (post_state(old) if old else None), (post_state(new) if new else None)


# -- site files (`PostsTable.get_site_file`) -----------------------------------------------------------------

STORED_FILE, DELETED_FILE = "stored", "deleted"


def site_file_state(item: Mapping[str, Any]) -> SiteFileState:
    """The record of a site file item (as read, or a stream image of one: Lambda's stream event carries binary
    attributes base64-encoded). A config item written before `_config.yml` was ingested as a site file holds
    only `raw` (b"": removed) and `sequencer`: it reads as stored (or deleted), with no version."""
    raw, body, fanout, version = item.get("raw"), item.get("body"), item.get("fanout"), item.get("version")
    state = item.get("state")
    if state is None:
        state, raw = (STORED_FILE, raw) if raw else (DELETED_FILE, None)
    return SiteFileState(
        sk=str(item.get("sk", "")),
        key=str(item.get("key", "")),
        state=str(state),
        body_hash=item.get("body_hash"),
        raw=_binary(raw),
        body=_binary(body),
        sequencer=item.get("sequencer"),
        changed_at=item.get("changed_at"),
        rejected=bool(item.get("rejected")),
        error=_recorded_error(item.get("error")),
        fanout=_fanout(fanout) if isinstance(fanout, Mapping) and fanout else None,
        version=None if version is None else int(version),
    )


def site_file_item(state: SiteFileState) -> dict[str, Any]:
    """The site file item of a record, without the table's keys and version (`PostsTable` adds them).
    Attributes without a value are left out, in the order the table has always written them."""
    item: dict[str, Any] = {"state": state.state}
    if state.rejected:  # the last good bytes kept, then the rejected upload's hash and error
        item |= {"raw": state.raw, "body": state.body, "body_hash": state.body_hash, "rejected": "1"}
        item["error"] = None if state.error is None else _error_map(state.error)
    else:
        item |= {"body_hash": state.body_hash, "body": state.body, "raw": state.raw}
    item |= {"key": state.key, "sequencer": state.sequencer, "changed_at": state.changed_at}
    if state.fanout is not None:
        item["fanout"] = fanout_map(state.fanout)
    return {k: v for k, v in item.items() if v is not None}


def fanout_map(fanout: Fanout) -> dict[str, Any]:
    """A fanout as its item attribute holds it (`dependencies` only when there are some)."""
    found = {"generation": fanout.generation, "site_wide": fanout.site_wide, "authors": list(fanout.authors)}
    if fanout.dependencies:
        found["dependencies"] = list(fanout.dependencies)
    return found


def _fanout(value: Mapping[str, Any]) -> Fanout:
    return Fanout(
        generation=str(value["generation"]),
        site_wide=bool(value.get("site_wide")),
        authors=tuple(map(str, value.get("authors", ()))),
        dependencies=tuple(map(str, value.get("dependencies", ()))),
    )


def _binary(value: Any) -> bytes | None:
    if value is None:
        return None
    return base64.b64decode(value) if isinstance(value, str) else bytes(value)


# -- a feed's state (`PostsTable.acquire_lease`) --------------------------------------------------------------


def feed_state(item: Mapping[str, Any]) -> FeedState:
    """The record of a feed's state item (empty for a feed never rebuilt)."""
    hashes, entries, total, recount = item.get("hashes"), item.get("entries"), item.get("total"), item.get("recount")
    return FeedState(
        hashes=None if hashes is None else {str(k): str(v) for k, v in hashes.items()},
        entries=None if entries is None else int(entries),
        total=None if total is None else int(total),
        listed=item.get("listed"),
        recount=None if recount is None else bool(recount),
        kind=item.get("kind"),
        name=item.get("name"),
        lease_owner=item.get("lease_owner"),
    )


def feed_state_attributes(state: FeedState) -> dict[str, Any]:
    """The attributes a release sets: those with a value, in the order the table has always written them."""
    values = {
        "hashes": None if state.hashes is None else dict(state.hashes),
        "entries": state.entries,
        "total": state.total,
        "listed": state.listed,
        "recount": state.recount,
        "kind": state.kind,
        "name": state.name,
    }
    return {k: v for k, v in values.items() if v is not None}
