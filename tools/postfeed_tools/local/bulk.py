"""The bulk path: many posts at once (a whole site through `postfeed run`, or `postfeed serve` loading its
state), with the event path's rules and a fraction of its calls. A tool, not in the layer: on AWS, a full
rebuild fans out over the queues instead (`postfeed.pipeline.fanout`).

The event path ingests one S3 change in one transaction and lets the table's stream rebuild the feeds it
touched, batch by batch: a site of N posts costs N transactions and rebuilds its busiest feeds N/100 times.
The bulk path makes the same decisions (`ingest.apply_post`, the same items, memberships and archive lines)
for a batch of posts, then:

1. parses them on every core (`jekyll.parse_many`; parsing is pure), refusing the oversized unread;
2. reads their items in BatchGetItem calls and writes the changes in BatchWriteItem calls of 25 requests;
3. rebuilds each touched feed once, from its final entries (`rebuild.rebuild_feed`, as the feed function
   does), then the discovery documents once. A feed that had no membership before the bulk path wrote its
   first one has no members but those it wrote (`WrittenMembers`): its archive pages are planned from them
   (`archive_updates.members_known`), not read back from the table.

So the end state (table items and every document's bytes) is the event path's: the same functions decide
and render it. What it gives up is the per-post transaction: a batch's writes are not atomic per post and
carry no version condition, so the bulk path is for writers that own the keys they write (a fresh stack,
`postfeed run`, a rebuild that re-reads S3 under its own generation); a post uploaded during a bulk batch is
applied again by its own event, whose sequencer the batch leaves alone.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from postfeed.models import FeedRef, Site
from postfeed.pipeline.ingest import apply_post, current_site, ignored_reason, read_upload
from postfeed.pipeline.outcomes import Action, Outcome
from postfeed.pipeline.settings import Settings
from postfeed.store.bucket import FeedsBucket
from postfeed.store.events import ChangeKind, ObjectChange
from postfeed.store.items import MAX_TRANSACTION_ACTIONS, post_state
from postfeed.store.records import Membership, PostState
from postfeed.store.table import PostsTable, PostWrite, TooManyActionsError

if TYPE_CHECKING:
    from postfeed.feeds.render import FeedDocument
    from postfeed.jekyll.render_environment import SiteFiles

# Archive pages rendered ahead per worker task at most, and fewer pages than this are rendered in place.
PAGES_PER_TASK = 16
MIN_PAGES_AHEAD = 64


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
class WrittenMembers:
    """Every membership of the feeds a bulk load created (those with none before its first write to them),
    kept as its writes go: the members their archive pages are planned from, without reading them back."""

    created: dict[FeedRef, dict[str, Membership]] = field(default_factory=dict)  # feed -> sort key -> member
    seen: set[FeedRef] = field(default_factory=set)  # feeds looked at (created or not)

    def record(self, writes: Sequence[PostWrite], table: PostsTable) -> None:
        """Note these writes' memberships; call before they are written (a feed new to this load is created
        by it if the table holds none of its memberships yet)."""
        new = {ref for write in writes for ref, _ in (*write.remove_members, *write.add_members)} - self.seen
        self.created |= {ref: {} for ref in sorted(new) if not table.newest_members(ref, 1)}
        self.seen |= new
        for write in writes:  # in the order the table applies them: each write's deletes, then its puts
            for ref, sort_key in write.remove_members:
                if ref in self.created:
                    self.created[ref].pop(sort_key, None)
            for ref, sort_key in write.add_members:
                if ref in self.created:
                    self.created[ref][sort_key] = Membership(sort_key, write.key, write.member_line)

    def by_feed(self) -> dict[FeedRef, list[Membership]]:
        """Each created feed's members, oldest first (the table's order of their sort keys)."""
        return {ref: [members[sk] for sk in sorted(members)] for ref, members in self.created.items()}


@dataclass(slots=True)
class BulkOutcome:
    outcomes: list[Outcome] = field(default_factory=list)
    # Feeds whose documents change, each with the UTC instants of its changed entries (archive pages to update).
    touched: dict[FeedRef, list[str]] = field(default_factory=dict)
    writes: int = 0  # post changes written
    # Each post's state as the table now holds it (what a report reads back), None for a key never stored.
    states: dict[str, PostState | None] = field(default_factory=dict)


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
    members: WrittenMembers | None = None,
) -> BulkOutcome:
    """Apply the current bytes of many posts (key, body) as the event path would apply each one's upload,
    with batched reads and writes; returns each post's outcome and the feeds to rebuild. `parsed`: each
    file's `bulk_reader` result under the current site at `now`, when the caller parsed them ahead. `env`:
    the render environment they were (or are) read with (`renderenv.bulk_environment`); a post rejected
    because a post it names is missing is read again with the posts of this batch. `members`: where the
    memberships written are noted, across the batches of one load (for `rebuild_touched`)."""
    from postfeed.jekyll import parse_many

    now = now or datetime.now(UTC)
    site, config_hash = current_site(settings, table)
    stored = table.get_states([key for key, _ in files])
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
    if members is not None:
        members.record(batch.writes, table)
    table.write_posts(batch.writes)
    outcome.writes = len(batch.writes)
    outcome.states = {key: stored.get(key) for key, _ in files} | {write.key: _written(write) for write in batch.writes}
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


def touched_by(writes: Iterable[PostWrite], stored: Mapping[str, PostState]) -> dict[FeedRef, list[str]]:
    """The feeds (and entry instants) these writes touch, by the feed function's own rule on the states of
    each post before and after (what the stream's old and new images of its item hold)."""
    from postfeed.pipeline import rebuild

    return rebuild.touched_by((stored.get(write.key), _written(write)) for write in writes)


def _written(write: PostWrite) -> PostState:
    """The state a write puts (decoded from its item when it was not made from one)."""
    return write.state if write.state is not None else post_state(write.item)


def rebuild_touched(
    touched: dict[FeedRef, list[str]],
    *,
    site: Site,
    table: PostsTable,
    feeds: FeedsBucket,
    lease_seconds: float,
    members: WrittenMembers | None = None,
    workers: int | None = None,
) -> int:
    """Each touched feed rebuilt once from its final entries, then the discovery documents once (the feed
    function's work for a stream batch, done once for the whole bulk); returns the documents written.
    `members`: the load's memberships (`ingest_bulk`), which the feeds it created are paged from, their pages
    rendered ahead on `workers` processes (default: every core) while the feeds are rebuilt (`PagesAhead`)."""
    from postfeed.pipeline.archive_updates import members_known
    from postfeed.pipeline.discovery import publish_discovery
    from postfeed.pipeline.rebuild import rebuild_feed

    written = 0
    listing_changed = False
    known = members.by_feed() if members is not None else {}
    with contextlib.closing(PagesAhead(known, site, workers=workers)) as ahead, members_known(known, ahead.take):
        for ref in sorted(touched):
            outcome = rebuild_feed(
                ref, site=site, table=table, feeds=feeds, lease_seconds=lease_seconds, instants=touched[ref]
            )
            written += len(outcome.written)
            listing_changed |= outcome.listing_changed
    discovery = publish_discovery(site, table=table, feeds=feeds, listing_changed=listing_changed)
    return written + len(discovery.written)


@dataclass(frozen=True, slots=True)
class PageTask:
    """An archive page to render: its feed, id, members (each with its archive line) and neighbours."""

    ref: FeedRef
    page: str
    members: tuple[Membership, ...]
    prev_page: str | None
    next_page: str | None


class PagesAhead:
    """The archive pages of the feeds a bulk load created, as their updates will page them (a fresh feed's
    months re-planned whole: `feeds.archive_pages.plan_feed`, linked in order), rendered on worker processes while
    the feeds are rebuilt one by one. `take` hands a page's documents to the update that asks for exactly
    that page (the same members and links, the same site); any other page is rendered by its update."""

    def __init__(self, members: Mapping[FeedRef, Sequence[Membership]], site: Site, *, workers: int | None) -> None:
        from postfeed.processes import available_cores, chunked, imap_chunks

        self.site = site
        count = workers if workers is not None else available_cores()
        tasks = [task for ref in sorted(members) for task in _page_tasks(ref, members[ref])]
        if count < 2 or len(tasks) < MIN_PAGES_AHEAD:
            tasks = []
        self.tasks = {(task.ref, task.page): task for task in tasks}
        groups = chunked(tasks, count, most=PAGES_PER_TASK)
        self.results: Iterator[list[tuple[FeedDocument, FeedDocument]]] = imap_chunks(
            _render_pages, groups, site, workers=count
        )
        self.pending: Iterator[list[PageTask]] = iter(groups)
        self.ready: dict[tuple[FeedRef, str], tuple[FeedDocument, FeedDocument]] = {}

    def take(
        self,
        ref: FeedRef,
        page: str,
        members: Sequence[Membership],
        prev_page: str | None,
        next_page: str | None,
        site: Site,
    ) -> tuple[FeedDocument, FeedDocument] | None:
        """The page's documents if they were rendered ahead from these very inputs, else None."""
        task = self.tasks.pop((ref, page), None)
        if task is None:
            return None
        while (ref, page) not in self.ready:  # in the order submitted, which is the order the updates ask
            group, rendered = next(self.pending), next(self.results)
            self.ready |= {(done.ref, done.page): pair for done, pair in zip(group, rendered, strict=True)}
        documents = self.ready.pop((ref, page))
        same = site is self.site and (task.prev_page, task.next_page) == (prev_page, next_page)
        return documents if same and task.members == tuple(members) else None

    def close(self) -> None:
        """Stop the workers (pages never asked for are dropped)."""
        close = getattr(self.results, "close", None)
        if close is not None:
            close()


def _page_tasks(ref: FeedRef, members: Sequence[Membership]) -> list[PageTask]:
    """A fresh feed's every page, as its first update plans and links them (none when a member has no
    archive line: its post item is read then, by the update)."""
    from postfeed.feeds import archive_pages as archive_rules

    if any(member.line is None for member in members):
        return []
    by_sk = {member.sk: member for member in members}
    return [
        PageTask(ref, page, tuple(by_sk[sk] for sk in sks), prev_page, next_page)
        for page, sks, prev_page, next_page in archive_rules.linked_plan(list(by_sk), archive_rules.PAGE_ENTRIES)
    ]


def _render_pages(tasks: list[PageTask], site: Site) -> list[tuple[FeedDocument, FeedDocument]]:
    """Each page's (Atom, RSS) documents, as `archive_updates._publish_page` renders them (in a worker)."""
    from postfeed.feeds.archive_pages import render_archive_page
    from postfeed.store.items import post_from_line

    return [
        render_archive_page(
            task.ref,
            task.page,
            [post_from_line(member.line) for member in task.members if member.line is not None],
            site,
            prev_page=task.prev_page,
            next_page=task.next_page,
        )
        for task in tasks
    ]
