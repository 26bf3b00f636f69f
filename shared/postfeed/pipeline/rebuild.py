"""Rebuild: table changes (DynamoDB stream records of post items) -> the feeds they touch, each rebuilt once.

No regression under concurrency: a rebuild holds the feed's lease (a conditional write on the feed's
state item) from before its strongly consistent queries until after its last S3 put or delete (archive
pages, subscription documents) and its registry line, so rebuilds of one feed never overlap, and each
one publishes everything committed before it took the lease. The lease outlives the function timeout, so
Lambda ends a holder before its lease can pass to another.

The holder is named after its execution environment and thread (`lease_owner`), which run one rebuild at a
time: a lease under our own name is one we took and lost track of (the answer to the conditional write
was lost, or a failed rebuild could not release it), and we take it back at once instead of waiting out
its expiry while the stream retries run out.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from postfeed.models import FeedRef, Post, Site
from postfeed.store.bucket import FeedsBucket
from postfeed.store.items import utc_instant
from postfeed.store.records import FeedState, PostState
from postfeed.store.table import LeaseBusyError, PostsTable, lease_owner

if TYPE_CHECKING:
    from postfeed.pipeline.archive_updates import ArchiveOutcome

LEASE_WAITS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)  # then give up: the stream record is retried


def touched_by(changes: Iterable[tuple[PostState | None, PostState | None]]) -> dict[FeedRef, list[str]]:
    """Feeds whose documents change with these (before, after) states of posts (a stream record's old and new
    images, `items.post_change`), each with the UTC instants of the entries that changed there (old and new
    date: the archive pages to update), one per changed entry and date, repeats kept (how many entries a
    period may have lost bounds its re-planning).

    A change of what a feed shows counts (the entry's hash), and so does a post re-derived under other site
    settings (`config_hash`) or re-ingested by a full rebuild (`generation`): the feed-level parts of the
    documents (titles, links, limits) may have changed. A rejected upload, a skipped duplicate or a
    sequencer bump regenerates nothing."""
    touched: dict[FeedRef, list[str]] = {}
    for old, new in changes:
        if not _changed(old, new):
            continue
        changed: dict[FeedRef, set[str]] = {}
        for entry in (old.entry if old else None, new.entry if new else None):
            if entry is None:
                continue
            instant = utc_instant(datetime.fromisoformat(entry.date))
            for ref in entry.refs:
                changed.setdefault(ref, set()).add(instant)
        for ref, instants in changed.items():
            touched.setdefault(ref, []).extend(sorted(instants))
    return touched


def _changed(old: PostState | None, new: PostState | None) -> bool:
    old_entry, new_entry = (old.entry if old else None), (new.entry if new else None)
    if (old_entry.hash if old_entry else None) != (new_entry.hash if new_entry else None):
        return True
    if new is None or new_entry is None:
        return False
    old_config = old.config_hash if old else None
    if old_config and new.config_hash and old_config != new.config_hash:
        return True
    return bool(new.generation) and new.generation != (old.generation if old else None)


@dataclass(slots=True)
class RebuildOutcome:
    ref: FeedRef
    entries: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    total: int = 0  # entries of the feed in all: the sum of its archive pages' counts, exactly
    listing_changed: bool = False  # the feed came or went: registry line written, feed marked due for discovery
    changed_urls: list[str] = field(default_factory=list)  # subscription documents whose bytes changed
    archive: ArchiveOutcome | None = None


def rebuild_feed(
    ref: FeedRef,
    *,
    site: Site,
    table: PostsTable,
    feeds: FeedsBucket,
    lease_seconds: float,
    instants: Iterable[str] = (),
) -> RebuildOutcome:
    """Under the feed's lease: update the archive pages holding `instants` (UTC instants of changed entries),
    then render the subscription documents (newest entries, `prev-archive` to the newest page) and the feed's
    HTML page, and put those whose bytes changed; then, if the feed got its first entry or lost its last, its
    registry line and its due mark for the discovery documents (`pipeline.discovery`)."""
    from postfeed.feeds import feed_url
    from postfeed.feeds.archive_pages import subscription_history
    from postfeed.feeds.discovery import listing_key
    from postfeed.feeds.render import render_feed_with_page
    from postfeed.pipeline.archive_updates import update_archives
    from postfeed.store.pages import FeedPages

    owner = lease_owner()
    state = _acquire(table, ref, owner, lease_seconds)
    try:
        archive = update_archives(ref, instants, site=site, table=table, feeds=feeds)
        posts, complete = newest_posts(table, ref, site.feed.posts_limit)
        outcome = RebuildOutcome(ref, entries=len(posts), archive=archive)
        outcome.written += archive.written + archive.deleted
        outcome.unchanged += archive.unchanged
        history = subscription_history(ref, archive.newest_page, site, complete=complete)
        documents, page = render_feed_with_page(ref, posts, site, history=history)
        to_put = [(d.key, d.body, d.media_type) for d in documents] + [(page.key, page.body, page.media_type)]
        done = feeds.put_changed(to_put, state.hashes or {})
        outcome.written += done.written
        outcome.unchanged += done.unchanged
        # Only feed documents go to the WebSub hub: the page is for people.
        outcome.changed_urls += [feed_url(ref, d.format, site) for d in documents if d.key in done.written]
        pages = FeedPages(table)
        outcome.total = (state.total or 0) + archive.entries_delta
        if state.lease_owner or state.recount or state.total is None or outcome.total < 0:
            # A new feed, one from before archives, or the last rebuild died midway: count the pages once.
            outcome.total = pages.count_paged(ref)
        # Listed while it has entries: on its pages, or among its memberships (those whose stream records are
        # still to come), so a live feed never leaves the lists, whatever order its changes are paged in.
        listed = outcome.total > 0 or bool(posts)
        previous = state.listed  # a bool; [total, newest date] before listing keys
        if previous is not listed and (listed or previous is not None):
            key = listing_key(ref)
            if isinstance(previous, Sequence):  # its old line, unless the first publication adopted it already
                pages.unregister_legacy(ref)
            # An empty feed leaves the registry (its documents stay, valid and empty, for its subscribers).
            if listed:
                pages.register(ref, key)
            else:
                pages.unregister(key)
            pages.mark_due(ref, key)  # after the registry: a publisher that sees this mark reads the new line
            outcome.listing_changed = True
    except BaseException:
        _release_quietly(table, ref, owner)
        raise
    published = FeedState(
        hashes=done.hashes,
        entries=len(posts),
        total=outcome.total,
        listed=listed,
        recount=False,
        kind=ref.kind.value,
        name=ref.name,
    )
    table.release_lease(ref, owner, published)
    return outcome


def newest_posts(table: PostsTable, ref: FeedRef, limit: int) -> tuple[list[Post], bool]:
    """The feed's newest `limit` posts, and whether they are all of its posts (the subscription documents then
    hold the whole feed: RFC 5005 complete). One key more is read to tell."""
    from postfeed.pipeline.archive_updates import load_posts

    limit = max(limit, 0)
    keys = table.newest_members(ref, limit + 1)
    return load_posts(table, keys[:limit]), len(keys) <= limit


def _acquire(table: PostsTable, ref: FeedRef, owner: str, seconds: float) -> FeedState:
    for wait in (*LEASE_WAITS, None):
        try:
            return table.acquire_lease(ref, owner, seconds)
        except LeaseBusyError:
            if wait is None:
                raise
            time.sleep(wait)
    raise AssertionError("unreachable")


def _release_quietly(table: PostsTable, ref: FeedRef, owner: str) -> None:
    # The lease expires by itself; the error that brought us here matters more than this one.
    # `recount`: the archive pages may have moved without the feed's total; the next rebuild counts again.
    with contextlib.suppress(Exception):
        table.release_lease(ref, owner, FeedState(recount=True))
