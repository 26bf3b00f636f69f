"""The bulk path: many posts at once (a whole site through `postfeed run`, `postfeed import`, a full rebuild),
with the event path's rules and a fraction of its calls.

The event path ingests one S3 change in one transaction and lets the table's stream rebuild the feeds it
touched, batch by batch: a site of N posts costs N transactions and rebuilds its busiest feeds N/100 times.
The bulk path makes the same decisions (`ingest.apply_post`, the same items, memberships and archive lines)
for a batch of posts, then:

1. parses them on every core (`jekyll.parse_many`; parsing is pure), refusing the oversized unread;
2. reads their items in BatchGetItem calls and writes the changes in BatchWriteItem calls of 25 requests;
3. rebuilds each touched feed once, from its final entries (`rebuild.rebuild_feed`, as the feed function
   does), then the discovery documents once.

So the end state (table items and every document's bytes) is the event path's: the same functions decide
and render it. What it gives up is the per-post transaction: a batch's writes are not atomic per post and
carry no version condition, so the bulk path is for writers that own the keys they write (a fresh stack,
`postfeed run`, a rebuild that re-reads S3 under its own generation); a post uploaded during a bulk batch is
applied again by its own event, whose sequencer the batch leaves alone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from postfeed.models import FeedRef, Site
from postfeed.pipeline.ingest import Action, Outcome, apply_post, current_site, ignored_reason, read_upload
from postfeed.pipeline.settings import Settings
from postfeed.store.bucket import FeedsBucket
from postfeed.store.events import ChangeKind, ObjectChange
from postfeed.store.items import MAX_TRANSACTION_ACTIONS, POST_SK
from postfeed.store.table import PostsTable, PostWrite, TooManyActionsError

if TYPE_CHECKING:
    from postfeed.jekyll.render_environment import SiteFiles


@dataclass(slots=True)
class BatchWrites:
    """A PostWriter that keeps the writes for one BatchWriteItem pass, refusing what a transaction would
    refuse (so a post in too many feeds is rejected exactly as on the event path)."""

    writes: list[PostWrite] = field(default_factory=list)

    def write_post(self, write: PostWrite) -> None:
        if write.action_count > MAX_TRANSACTION_ACTIONS:
            raise TooManyActionsError(write)
        self.writes.append(write)


@dataclass(slots=True)
class BulkOutcome:
    outcomes: list[Outcome] = field(default_factory=list)
    # Feeds whose documents change, each with the UTC instants of its changed entries (archive pages to update).
    touched: dict[FeedRef, list[str]] = field(default_factory=dict)
    writes: int = 0  # post changes written
    # Each post's item as the table now holds it (what a report reads back), None for keys left alone.
    items: dict[str, dict[str, Any] | None] = field(default_factory=dict)


def ingest_bulk(
    files: Sequence[tuple[str, bytes]],
    *,
    settings: Settings,
    table: PostsTable,
    generation: str | None = None,
    now: datetime | None = None,
    workers: int | None = None,
    parsed: Sequence[Any] | None = None,
    env: SiteFiles | None = None,
) -> BulkOutcome:
    """Apply the current bytes of many posts (key, body) as the event path would apply each one's upload,
    with batched reads and writes; returns each post's outcome and the feeds to rebuild. `parsed`: each
    file's `bulk_reader` result under the current site at `now`, when the caller parsed them ahead. `env`:
    the render environment they were (or are) read with (`renderenv.bulk_environment`); a post rejected
    because a post it names is missing is read again with the posts of this batch."""
    from postfeed.jekyll import parse_many

    now = now or datetime.now(UTC)
    site, config_hash = current_site(settings, table)
    stored = table.get_posts([key for key, _ in files])
    outcome = BulkOutcome()
    readable, ahead = [], []
    for index, (key, body) in enumerate(files):  # the event path's routing: what it leaves alone, so does this
        folder = settings.collection_folder(key)
        reason = ignored_reason(key, settings, declared=folder is not None and folder in site.collections)
        if reason is not None and (folder is None or key not in stored):
            outcome.outcomes.append(Outcome(key, Action.IGNORED, message=reason))
        else:
            readable.append((key, body))
            ahead.append(parsed[index] if parsed is not None else None)
    files = readable
    if parsed is None:
        ahead = parse_many(files, site, workers=workers, now=now, read=bulk_reader(settings, env))
    if env is not None:
        ahead = _resolved(files, ahead, env, settings=settings, site=site, now=now)
    batch = BatchWrites()
    for (key, body), result in zip(files, ahead, strict=True):
        change = ObjectChange(
            bucket=settings.posts_bucket, key=key, kind=ChangeKind.PUT, sequencer=None, generation=generation
        )
        outcome.outcomes.append(
            apply_post(change, stored.get(key), body, site, config_hash, writer=batch, now=now, parsed=result)
        )
    table.write_posts(batch.writes)
    outcome.writes = len(batch.writes)
    outcome.items = {key: stored.get(key) for key, _ in files} | {write.key: write.item for write in batch.writes}
    outcome.touched = touched_by(batch.writes, stored)
    return outcome


def bulk_reader(settings: Settings, env: SiteFiles | None = None) -> Callable[[str, bytes, Site, datetime], Any]:
    """How the bulk path reads a post (in a worker process): as the ingest function reads an upload, an
    oversized one refused unread (as S3 reads refuse it), its Liquid reading `env`."""
    return functools.partial(read_upload, limit=settings.max_post_bytes, env=env)


def _resolved(
    files: Sequence[tuple[str, bytes]],
    results: Sequence[Any],
    env: SiteFiles,
    *,
    settings: Settings,
    site: Site,
    now: datetime,
) -> list[Any]:
    from postfeed.models import Post, Rejected
    from postfeed.pipeline.renderenv import resolve_named_posts

    def reread(key: str, body: bytes, richer: SiteFiles) -> Any:
        return read_upload(key, body, site, now, limit=settings.max_post_bytes, env=richer)

    return resolve_named_posts(
        files,
        results,
        env,
        reread=reread,
        code_of=lambda result: result.code if isinstance(result, Rejected) else None,
        post_of=lambda result: result if isinstance(result, Post) else None,
    )


def touched_by(writes: Iterable[PostWrite], stored: dict[str, dict[str, Any]]) -> dict[FeedRef, list[str]]:
    """The feeds (and entry instants) these writes touch, by the feed function's own rule on the stream's
    (old image, new image) of each post item."""
    from postfeed.pipeline.rebuild import touched_pages

    images = [(stored.get(write.key), {**write.item, "sk": POST_SK}) for write in writes]
    return touched_pages(images)


def rebuild_touched(
    touched: dict[FeedRef, list[str]], *, site: Site, table: PostsTable, feeds: FeedsBucket, lease_seconds: float
) -> int:
    """Each touched feed rebuilt once from its final entries, then the discovery documents once (the feed
    function's work for a stream batch, done once for the whole bulk); returns the documents written."""
    from postfeed.pipeline.discovery import publish_discovery
    from postfeed.pipeline.rebuild import rebuild_feed

    written = 0
    listing_changed = False
    for ref in sorted(touched):
        outcome = rebuild_feed(
            ref, site=site, table=table, feeds=feeds, lease_seconds=lease_seconds, instants=touched[ref]
        )
        written += len(outcome.written)
        listing_changed |= outcome.listing_changed
    discovery = publish_discovery(site, table=table, feeds=feeds, listing_changed=listing_changed)
    return written + len(discovery.written)
