"""Archive pages of one feed, kept up to date incrementally (RFC 5005 §4; the rules are in `feeds.archive_pages`).

Called by `rebuild_feed` under the feed's lease, with the UTC instants of the entries that changed (the old
and the new date of each). For each instant:

1. the month's page items (one Query: their ids and entry counts);
2. the *region* to re-plan (`region_to_replan`, no counting query): the existing page that holds the instant
   (or where its new page goes), or the day or month around it when that period may now fit one page;
   every existing page inside the region that the plan does not keep is removed (a month that shrank merges
   its day pages back, a page that grew past PAGE_ENTRIES splits);
3. the region's pages are rendered from its members (one Query with the region's prefix, one BatchGetItem);
4. neighbours whose `prev-archive`/`next-archive` links change are re-rendered too: the pages around the
   changed months, found with one Query each way.

So a new post touches the page that holds it (and, when it opens a new page, the page before it); an edit,
a delete or a date change touches the pages that held and hold the entry. Documents are put only when their
bytes change (hashes in the page items); new pages are published before stale ones are deleted.

A writer that knows every membership of some feeds (the bulk path, for the feeds it created) says so with
`members_known`: within it, those feeds' members are taken from what it knows instead of read back (step 3).
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field

from postfeed.feeds import archive_pages as archive_rules
from postfeed.feeds.archive_pages import (
    ARCHIVE_FORMATS,
    page_links,
    plan_pages,
    region_to_replan,
    render_archive_page,
)
from postfeed.feeds.paths import archive_key
from postfeed.feeds.render import FeedDocument
from postfeed.models import FeedRef, Post, Site
from postfeed.store.bucket import FeedsBucket
from postfeed.store.items import decode_entry, post_from_line
from postfeed.store.pages import FeedPages
from postfeed.store.records import ArchivePage, Membership
from postfeed.store.table import PostsTable

MONTH = 7  # a page id's month prefix: "2022-03"

Documents = tuple[FeedDocument, FeedDocument]  # a page's (Atom, RSS)
# The documents of a page rendered ahead, given (feed, page, members, prev, next, site); None: not rendered.
RenderedAhead = Callable[[FeedRef, str, Sequence[Membership], str | None, str | None, Site], Documents | None]


@dataclass(frozen=True, slots=True)
class _Known:
    members: Mapping[FeedRef, Sequence[Membership]] = field(default_factory=dict)
    rendered: RenderedAhead | None = None


# What the caller knows ahead of the updates: see `members_known`.
_KNOWN: ContextVar[_Known | None] = ContextVar("known_members", default=None)
_NOTHING_KNOWN = _Known()


@dataclass(slots=True)
class ArchiveOutcome:
    newest_page: str | None = None
    entries_delta: int = 0  # change of the sum of the feed's page counts: every page written or removed
    pages_rendered: list[str] = field(default_factory=list)
    pages_removed: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def load_posts(table: PostsTable, keys: Sequence[str]) -> list[Post]:
    """The posts stored under these keys (those still published), in the order given."""
    states = table.get_states(keys)
    posts = []
    for key in keys:
        state = states.get(key)
        entry = state.entry if state is not None else None
        if entry is None:
            continue  # membership and entry are written in one transaction; a gap is a concurrent delete
        blob = entry.blob or (table.get_content(key, entry.chunk_count) if entry.chunk_count else b"")
        posts.append(decode_entry(entry.fields, blob))
    return posts


@contextlib.contextmanager
def members_known(
    members: Mapping[FeedRef, Sequence[Membership]], rendered: RenderedAhead | None = None
) -> Iterator[None]:
    """Within: the pages of these feeds are planned from `members` (each feed's every membership, with its
    archive line, oldest first: exactly what the table holds) instead of Queries. For a writer that wrote them
    all and lets nobody else write them meanwhile (the bulk path, for the feeds it created). `rendered`: a
    page's documents when they were rendered ahead from exactly these inputs (else the page is rendered here)."""
    token = _KNOWN.set(_Known(members, rendered))
    try:
        yield
    finally:
        _KNOWN.reset(token)


def _members(pages: FeedPages, ref: FeedRef, prefix: str) -> list[Membership]:
    """The feed's members whose sort key starts with `prefix`, oldest first, with their archive lines."""
    known = (_KNOWN.get() or _NOTHING_KNOWN).members.get(ref)
    if known is None:
        return pages.members(ref, prefix, lines=True)
    start = bisect.bisect_left(known, prefix, key=_sort_key)
    end = start
    while end < len(known) and known[end].sk.startswith(prefix):
        end += 1
    return list(known[start:end])


def _sort_key(member: Membership) -> str:
    return member.sk


def update_archives(
    ref: FeedRef,
    instants: Iterable[str],
    *,
    site: Site,
    table: PostsTable,
    feeds: FeedsBucket,
    limit: int | None = None,
) -> ArchiveOutcome:
    """Bring the archive pages holding (or that held) these instants up to date; see the module docstring.
    `limit` is the page bound (default `feeds.archive_pages.PAGE_ENTRIES`, read at call time)."""
    limit = archive_rules.PAGE_ENTRIES if limit is None else limit
    pages = FeedPages(table)
    outcome = ArchiveOutcome()
    changes = list(instants)  # one per changed entry: how many a period may have lost
    touched = sorted(set(changes))
    if not touched:
        outcome.newest_page = pages.newest_page(ref)
        return outcome

    existing: dict[str, dict[str, ArchivePage]] = {}  # month -> page id -> page

    def month_pages(month: str) -> dict[str, ArchivePage]:
        if month not in existing:
            existing[month] = pages.pages(ref, month)
        return existing[month]

    # 1-2. the regions to re-plan, from the pages' counts (once per month)
    counts = {
        month: {page: found.count for page, found in month_pages(month).items()}
        for month in {instant[:MONTH] for instant in touched}
    }
    regions = {region_to_replan(instant, counts[instant[:MONTH]], changes, limit) for instant in touched}
    regions = {r for r in regions if not any(o != r and r.startswith(o) for o in regions)}

    # 3. plan each region from its members
    planned: dict[str, list[Membership]] = {}  # page -> its entries, oldest first
    stale: set[str] = set()
    for region in sorted(regions):
        members = _members(pages, ref, region)
        by_sk = {member.sk: member for member in members}
        plan = plan_pages(list(by_sk), region, limit)
        planned |= {page: [by_sk[sk] for sk in sks] for page, sks in plan.items()}
        old = month_pages(region[:MONTH])
        stale |= {page for page in old if page.startswith(region) and page not in plan}

    # 4. the pages of the changed months after this change, and their neighbours outside them
    months = sorted(existing)
    after: dict[str, list[str]] = {
        month: sorted((set(existing[month]) - stale) | {p for p in planned if p.startswith(month)}) for month in months
    }
    order, outside = _ordered_pages(pages, ref, months, after)
    links = _links(order, outside)

    # 5. render what changed: re-planned pages, and pages whose links moved
    stored: dict[str, ArchivePage] = {page: item for month in months for page, item in existing[month].items()}
    stored |= {page: item for page, (item, _) in outside.items()}
    for page, (prev_page, next_page) in links.items():
        before = stored.get(page) or ArchivePage(page)
        relinked = (before.prev, before.next) != (prev_page, next_page)
        if page not in planned and not relinked:
            continue
        members = planned[page] if page in planned else _members(pages, ref, page)
        _publish_page(
            ref, page, members, prev_page, next_page, before, site=site, table=table, feeds=feeds, outcome=outcome
        )

    # 6. then remove the pages the plan replaced
    for page in sorted(stale):
        outcome.entries_delta -= existing[page[:MONTH]][page].count
        for fmt in ARCHIVE_FORMATS:
            key = archive_key(ref, page, fmt, site)
            feeds.delete(key)
            outcome.deleted.append(key)
        pages.delete_page(ref, page)
        outcome.pages_removed.append(page)
    outcome.newest_page = pages.newest_page(ref)
    return outcome


# The pages next to the changed months, each with its side of them: "before", "after" or "both".
Outside = dict[str, tuple[ArchivePage, str]]


def _ordered_pages(
    pages: FeedPages, ref: FeedRef, months: list[str], after: dict[str, list[str]]
) -> tuple[list[str], Outside]:
    """Every page of the changed months in order, with the nearest page on each side of each run of them
    (the pages whose links can change); returns the order and those outside pages, each with its side."""
    outside: Outside = {}
    order: list[str] = []
    before = pages.page_before(ref, months[0])
    if before:
        outside[before.page] = (before, "before")
        order.append(before.page)
    for index, month in enumerate(months):
        order += after[month]
        upper = months[index + 1] if index + 1 < len(months) else None
        first = pages.page_after(ref, month + "~", upper)
        if first is None:
            continue
        outside[first.page] = (first, "after")
        order.append(first.page)
        if upper is None:
            continue
        last = pages.page_before(ref, upper)
        if last and last.page != first.page:
            outside[last.page] = (last, "before")
            order.append(last.page)
        elif last:
            outside[first.page] = (first, "both")
    return order, outside


def _links(order: list[str], outside: Outside) -> dict[str, tuple[str | None, str | None]]:
    """(prev, next) of every page of the changed months and of the outside pages next to them. An outside
    page keeps its stored link on the side that faces away from the changed months."""
    links = page_links(order)
    for page, (prev_page, next_page) in links.items():
        if page not in outside:
            continue
        stored, side = outside[page]
        if side == "before":  # the changed months come after it: its own `prev` does not move
            links[page] = (stored.prev, next_page)
        elif side == "after":
            links[page] = (prev_page, stored.next)
    return links


def page_posts(table: PostsTable, members: Sequence[Membership]) -> list[Post]:
    """The posts of an archive page: from the members' archive lines, or (a member without one: a huge
    title, or written before archive lines existed) from its post item."""
    missing = [member.key for member in members if member.line is None]
    loaded = {post.path: post for post in load_posts(table, missing)} if missing else {}
    posts = []
    for member in members:
        if member.line is not None:
            posts.append(post_from_line(member.line))
        elif member.key in loaded:
            posts.append(loaded[member.key])
    return posts


def _publish_page(
    ref: FeedRef,
    page: str,
    members: Sequence[Membership],
    prev_page: str | None,
    next_page: str | None,
    stored: ArchivePage,
    *,
    site: Site,
    table: PostsTable,
    feeds: FeedsBucket,
    outcome: ArchiveOutcome,
) -> None:
    ahead = (_KNOWN.get() or _NOTHING_KNOWN).rendered
    documents = ahead(ref, page, members, prev_page, next_page, site) if ahead is not None else None
    if documents is None:
        posts = page_posts(table, members)
        documents = render_archive_page(ref, page, posts, site, prev_page=prev_page, next_page=next_page)
    done = feeds.put_changed(((d.key, d.body, d.media_type) for d in documents), stored.hashes or {})
    outcome.written += done.written
    outcome.unchanged += done.unchanged
    count = len(members)
    # Every page write moves the total by exactly what it changes, whether the page was re-planned or only
    # relinked (a relinked page is rendered from its members now, which may include entries that later stream
    # records announce): the feed's total stays the sum of its pages' counts.
    outcome.entries_delta += count - stored.count
    FeedPages(table).put_page(ref, ArchivePage(page, count, prev_page, next_page, done.hashes))
    outcome.pages_rendered.append(page)
