"""Discovery documents at the feeds root (index.html, feeds.opml) and the browser stylesheet (feed.xsl),
published from the feeds registry after the feed rebuilds of an invocation.

The registry is one item per feed in one partition (`postfeed.store.pages`), written by each feed's rebuild
under that feed's lease, so rendering the index is one Query, never a listing of the table. The root
documents have their own lease: two invocations never publish them at once. An invocation that changed the
registry first bumps `pending` on the index state; a publisher records the `pending` it saw when it took the
lease (it reads the registry after that), so a change it may have missed leaves `pending > published` and
the next invocation (or the retry of this one, when the lease stayed busy) publishes again.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from postfeed.models import Site
from postfeed.store.bucket import FeedsBucket
from postfeed.store.pages import FeedPages
from postfeed.store.table import LeaseBusyError, PostsTable, lease_owner

INDEX_LEASE_SECONDS = 30.0
LEASE_WAITS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)


@dataclass(slots=True)
class DiscoveryOutcome:
    published: bool = False  # False: nothing had changed (not even rendered)
    feeds: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def site_fingerprint(site: Site) -> str:
    """Changes whenever a site setting the root documents show may have changed (titles, URLs, language)."""
    return hashlib.sha256(repr(site).encode()).hexdigest()


def publish_discovery(
    site: Site, *, table: PostsTable, feeds: FeedsBucket, listing_changed: bool, force: bool = False
) -> DiscoveryOutcome:
    """Render and put index.html, feeds.opml and feed.xsl when the registry or the site settings changed
    (or the stylesheet's bytes did, after a deployment). Cheap when nothing did: one GetItem."""
    from postfeed.feeds.discovery import (
        INDEX_MEDIA_TYPE,
        OPML_MEDIA_TYPE,
        STYLESHEET_MEDIA_TYPE,
        ListedFeed,
        render_index,
        render_opml,
        stylesheet,
    )
    from postfeed.feeds.paths import INDEX_KEY, OPML_KEY, STYLESHEET_KEY

    pages = FeedPages(table)
    fingerprint = site_fingerprint(site)
    xsl = stylesheet()
    xsl_hash = hashlib.sha256(xsl).hexdigest()
    outcome = DiscoveryOutcome()
    if listing_changed:
        pages.bump_index()
    elif not force:
        state = pages.index_state()
        current = (
            int(state.get("pending", 0)) <= int(state.get("published", 0))
            and state.get("site") == fingerprint
            and (state.get("hashes") or {}).get(STYLESHEET_KEY) == xsl_hash
        )
        if current:
            return outcome
    owner = lease_owner()
    state = _acquire(pages, owner)
    try:
        listed = [
            ListedFeed(ref, entries, datetime.fromisoformat(updated) if updated else None)
            for ref, entries, updated in pages.registry()
        ]
        outcome.published, outcome.feeds = True, sum(1 for feed in listed if feed.entries > 0)
        documents = (
            (STYLESHEET_KEY, xsl, STYLESHEET_MEDIA_TYPE),
            (OPML_KEY, render_opml(listed, site), OPML_MEDIA_TYPE),
            (INDEX_KEY, render_index(listed, site), INDEX_MEDIA_TYPE),
        )
        done = feeds.put_changed(documents, state.get("hashes") or {})
        outcome.written += done.written
        outcome.unchanged += done.unchanged
    except BaseException:
        _release_quietly(pages, owner)
        raise
    seen = int(state.get("pending", 0))
    pages.release_index(owner, {"hashes": done.hashes, "site": fingerprint, "feeds": outcome.feeds, "published": seen})
    return outcome


def _acquire(pages: FeedPages, owner: str) -> dict[str, Any]:
    for wait in (*LEASE_WAITS, None):
        try:
            return pages.acquire_index(owner, INDEX_LEASE_SECONDS)
        except LeaseBusyError:
            if wait is None:
                raise
            time.sleep(wait)
    raise AssertionError("unreachable")


def _release_quietly(pages: FeedPages, owner: str) -> None:
    try:
        pages.release_index(owner, {})
    except Exception:  # the lease expires by itself; the original error matters more
        return
