"""Rebuild: table changes (DynamoDB stream records of post items) -> the feeds they touch, each rebuilt once.

No regression under concurrency: a rebuild holds the feed's lease (a conditional write on the feed's
state item) from before its strongly consistent query until after its last S3 put, so rebuilds of one
feed never overlap, and each one publishes everything committed before it took the lease. The lease
outlives the function timeout, so Lambda ends a holder before its lease can pass to another.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from postfeed.models import FeedRef, Post, Site
from postfeed.store.bucket import FeedsBucket
from postfeed.store.items import POST_SK, decode_entry, refs_of_entry
from postfeed.store.table import LeaseBusyError, PostsTable

LEASE_WAITS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)  # then give up: the stream record is retried


def touched_feeds(images: Iterable[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]]) -> set[FeedRef]:
    """Feeds whose content changes with these (old image, new image) pairs of post items.

    Only a change of what a feed shows counts (the entry's hash): a rejected upload, a skipped
    duplicate or a sequencer bump regenerates nothing."""
    touched: set[FeedRef] = set()
    for old, new in images:
        item = new or old
        if not item or item.get("sk") != POST_SK:
            continue
        old_entry = (old or {}).get("entry")
        new_entry = (new or {}).get("entry")
        if (old_entry or {}).get("hash") == (new_entry or {}).get("hash"):
            continue
        touched.update(refs_of_entry(old_entry))
        touched.update(refs_of_entry(new_entry))
    return touched


@dataclass(slots=True)
class RebuildOutcome:
    ref: FeedRef
    entries: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def rebuild_feed(
    ref: FeedRef, *, site: Site, table: PostsTable, feeds: FeedsBucket, lease_seconds: float
) -> RebuildOutcome:
    """Query the feed's newest entries, render its three documents, put those whose bytes changed."""
    from postfeed.feeds import render_feed

    owner = uuid.uuid4().hex
    state = _acquire(table, ref, owner, lease_seconds)
    try:
        posts = newest_posts(table, ref, site.feed.posts_limit)
        outcome = RebuildOutcome(ref, entries=len(posts))
        published: dict[str, str] = dict(state.get("hashes") or {})
        hashes: dict[str, str] = {}
        for document in render_feed(ref, posts, site):
            digest = hashlib.sha256(document.body).hexdigest()
            hashes[document.key] = digest
            if published.get(document.key) == digest:
                outcome.unchanged.append(document.key)
                continue
            feeds.put(document.key, document.body, document.media_type)
            outcome.written.append(document.key)
    except BaseException:
        _release_quietly(table, ref, owner)
        raise
    table.release_lease(ref, owner, {"hashes": hashes, "entries": len(posts), "kind": ref.kind.value, "name": ref.name})
    return outcome


def newest_posts(table: PostsTable, ref: FeedRef, limit: int) -> list[Post]:
    keys = table.newest_members(ref, limit)
    items = table.get_posts(keys)
    posts = []
    for key in keys:
        entry = items.get(key, {}).get("entry")
        if not entry:
            continue  # membership and entry are written in one transaction; a gap is a concurrent delete
        blob = entry.get("blob") or (table.get_content(key, int(entry["chunks"])) if entry.get("chunks") else b"")
        posts.append(decode_entry(entry, blob))
    return posts


def _acquire(table: PostsTable, ref: FeedRef, owner: str, seconds: float) -> dict[str, Any]:
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
    with contextlib.suppress(Exception):
        table.release_lease(ref, owner, {})
