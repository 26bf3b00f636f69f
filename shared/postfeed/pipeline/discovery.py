"""Discovery documents (index.html, feeds.opml, their shelves) and the browser stylesheet (feed.xsl), kept up to
date after the feed rebuilds of an invocation. The rules and what they cost: `feeds.discovery`, docs/discovery.md.

A feed's rebuild, under the feed's lease, registers the feed when it gets its first entry and unregisters it
when it has none left (one registry line per listed feed, keyed by its listing key), then marks it *due*. The
publisher, under the index lease, reads the due marks and the shelf items (one Query each), re-plans only the
runs holding the due feeds from their registry lines (a Query each), puts the documents whose bytes changed,
and clears the marks it handled, each only if nobody marked it again since.
A publisher that fails leaves the marks: the next invocation (or the retry of this one) publishes them.

Nothing here depends on the number of feeds but the shelf items read (one per ~30 feeds, ~300 bytes each), and
that only when a feed came or went; an invocation that changed no listing costs one Query.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from postfeed.feeds.discovery import (
    STYLESHEET_MEDIA_TYPE,
    SectionView,
    Shelf,
    ShelfSummary,
    is_cut,
    listing_key,
    plan_section,
    root_documents,
    section_end,
    section_start,
    shelf_documents,
    stylesheet,
)
from postfeed.feeds.paths import STYLESHEET_KEY
from postfeed.models import FeedKind, FeedRef, Site
from postfeed.store.bucket import FeedsBucket
from postfeed.store.pages import FeedPages
from postfeed.store.records import IndexState, ShelfState
from postfeed.store.table import LeaseBusyError, PostsTable, lease_owner

INDEX_LEASE_SECONDS = 30.0
LEASE_WAITS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)
# What the published documents were rendered by: a state without it (an older version's) is republished whole.
SHELVING = 1
_KINDS = (FeedKind.SITE, FeedKind.CATEGORY, FeedKind.TAG)


@dataclass(slots=True)
class DiscoveryOutcome:
    published: bool = False  # False: nothing was due (one Query said so)
    full: bool = False  # every shelf re-planned (new settings, first publish, or forced)
    feeds: int = 0  # listed feeds
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    shelves: list[str] = field(default_factory=list)  # shelf keys re-planned


def site_fingerprint(site: Site) -> str:
    """Changes whenever a site setting the documents show may have changed (titles, URLs, language)."""
    return hashlib.sha256(repr(site).encode()).hexdigest()


def publish_discovery(
    site: Site, *, table: PostsTable, feeds: FeedsBucket, listing_changed: bool = False, force: bool = False
) -> DiscoveryOutcome:
    """Bring the discovery documents up to date with the due feeds (or re-plan everything after a change of
    site settings, or with `force`); put feed.xsl when its bytes changed. `listing_changed`: this invocation
    marked feeds due, so skip the check and take the lease."""
    pages = FeedPages(table)
    fingerprint = site_fingerprint(site)
    xsl = stylesheet()
    xsl_hash = hashlib.sha256(xsl).hexdigest()
    outcome = DiscoveryOutcome()
    if not (listing_changed or force):
        due, state = pages.due_and_index()
        stylesheet_put = (state.hashes or {}).get(STYLESHEET_KEY) == xsl_hash
        if not due and not _whole_due(state, fingerprint) and stylesheet_put:
            return outcome
    owner = lease_owner()
    state = _acquire(pages, owner)
    try:
        due, _ = pages.due_and_index()  # under the lease: every mark made before it is seen
        outcome.published, outcome.full = True, force or _whole_due(state, fingerprint)
        hashes = dict(state.hashes or {})
        root: list[tuple[str, bytes, str]] = [(STYLESHEET_KEY, xsl, STYLESHEET_MEDIA_TYPE)]
        if outcome.full:
            _adopt_legacy_lines(pages)
        if due or outcome.full:
            refs = [feed.ref for feed in due]
            sections, outcome.feeds = _update_shelves(pages, feeds, site, refs, full=outcome.full, outcome=outcome)
            if sections is not None:
                root += root_documents(sections, site)
        else:
            outcome.feeds = state.feeds or 0
        done = feeds.put_changed(root, hashes)
        hashes |= done.hashes
        outcome.written += done.written
        outcome.unchanged += done.unchanged
        pages.clear_due(due)
    except BaseException:
        _release_quietly(pages, owner)
        raise
    pages.release_index(owner, IndexState(hashes, fingerprint, outcome.feeds, SHELVING))
    return outcome


def _adopt_legacy_lines(pages: FeedPages) -> None:
    """Registry lines an older version wrote (keyed by feed id, with counts) become lines under listing keys, so
    the first publication after an upgrade still lists every feed; each feed's next rebuild confirms its line."""
    for sk, ref, entries in pages.legacy_lines():
        if entries > 0:
            pages.register(ref, listing_key(ref))
        pages.delete_line(sk)


def _whole_due(state: IndexState, fingerprint: str) -> bool:
    """Everything is re-planned for new site settings, and once after an older version's publications."""
    return state.site != fingerprint or state.shelving != SHELVING


@dataclass(slots=True)
class _Slot:
    """A shelf after this update: its feeds (None: not read, it did not change), its stored state, whether it
    was re-planned now."""

    feeds: tuple[FeedRef, ...] | None
    stored: ShelfState | None
    planned: bool


def _update_shelves(
    pages: FeedPages,
    bucket: FeedsBucket,
    site: Site,
    due: Sequence[FeedRef],
    *,
    full: bool,
    outcome: DiscoveryOutcome,
) -> tuple[list[SectionView] | None, int]:
    """Re-plan the shelves around the due feeds (every shelf when `full`), put or delete their documents, store
    their items. Returns the root's sections when the root documents may have changed (else None), and the
    number of listed feeds."""
    stored = pages.shelves()
    root_changed = full
    listed = 0
    after: list[tuple[FeedKind, list[str], dict[str, _Slot]]] = []
    for kind in _KINDS:
        old = {key: shelf for key, shelf in stored.items() if shelf.section == kind.value}
        whole: list[tuple[str | None, str]] = [(None, section_end(kind))]
        # Re-planning starts and stops at run ends (level-0 cuts): a long run's split depends on all of it.
        bounds = sorted(key for key, shelf in old.items() if key == section_end(kind) or _ends_run(shelf))
        regions = whole if full else _regions(kind, bounds, due)
        slots, removed = _replan(pages, kind, old, regions)
        keys = sorted(slots)
        inline = len(keys) == 1  # listed in full on the root: no documents of its own
        for position, key in enumerate(keys):
            slot = slots[key]
            hashes: dict[str, str] = dict((slot.stored.hashes if slot.stored else None) or {})
            if not inline and (slot.planned or not hashes or full):
                if slot.feeds is None:  # a shelf that did not change, getting documents (its section grew)
                    slot.feeds = _read(pages, kind, keys[position - 1] if position else None, key)
                done = bucket.put_changed(shelf_documents(Shelf(kind, key, slot.feeds), site), hashes)
                outcome.written += done.written
                outcome.unchanged += done.unchanged
                hashes = done.hashes
            elif inline and hashes:  # its section shrank to one shelf
                _delete(bucket, hashes, outcome)
                hashes = {}
            shelf = _shelf(kind, key, slot, hashes)
            if shelf != (slot.stored or ShelfState(key)):
                pages.put_shelf(shelf)
            listed += int(shelf.count or 0)
        for key in removed:
            _delete(bucket, dict(old[key].hashes or {}), outcome)
            pages.delete_shelf(key)
        outcome.shelves += [key for key, slot in slots.items() if slot.planned] + removed
        touched = bool(removed) or any(slot.planned for slot in slots.values())
        before = [_summary(kind, shelf) for _, shelf in sorted(old.items())]
        now = [_summary(kind, _shelf(kind, key, slots[key], {})) for key in keys]
        # The root shows a one-shelf section's feeds, and the other sections' shelves by first and last feed.
        root_changed |= (touched and (len(old) == 1 or inline)) or before != now
        after.append((kind, keys, slots))
    if not root_changed:
        return None, listed
    sections = []
    for kind, keys, slots in after:
        if len(keys) == 1:
            slot = slots[keys[0]]
            feeds = slot.feeds if slot.feeds is not None else _read(pages, kind, None, keys[0])
            sections.append(SectionView(kind, feeds=feeds))
        elif keys:
            summaries = [_summary(kind, _shelf(kind, key, slots[key], {})) for key in keys]
            sections.append(SectionView(kind, shelves=tuple(s for s in summaries if s is not None)))
    return sections, listed


def _regions(kind: FeedKind, bounds: list[str], due: Iterable[FeedRef]) -> list[tuple[str | None, str]]:
    """The key ranges (low exclusive, None for the section's start; high inclusive) to re-plan for these due
    feeds: from the run end before each to the run end after it (the run that holds it, and the next one too
    when the feed is itself a run's end), merged where they overlap."""
    ranges = []
    for ref in due:
        if ref.kind is not kind:
            continue
        key = listing_key(ref)
        low = max((bound for bound in bounds if bound < key), default=None)
        high = min((bound for bound in bounds if bound > key), default=section_end(kind))
        ranges.append((low, high))
    merged: list[tuple[str | None, str]] = []
    for low, high in sorted(ranges, key=lambda r: (r[0] or "", r[1])):
        if merged and (low is None or low < merged[-1][1]):
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def _replan(
    pages: FeedPages, kind: FeedKind, old: dict[str, ShelfState], regions: list[tuple[str | None, str]]
) -> tuple[dict[str, _Slot], list[str]]:
    """The section's shelves after re-planning `regions` from the registry, and the stored shelves they remove.
    A region whose feeds do not end at a cut though it stops short of the section's end cannot happen while the
    marks are kept; if it ever does, the whole section is re-planned."""
    end = section_end(kind)
    slots = {key: _Slot(None, shelf, False) for key, shelf in old.items()}
    removed: list[str] = []
    for low, high in regions:
        members = [ref for key, ref in pages.listed(low or section_start(kind), high) if key != low]
        planned = plan_section(kind, members)
        if planned and planned[-1].key == end and high != end:
            return _replan(pages, kind, old, [(None, end)])
        inside = [key for key in slots if (low is None or key > low) and key <= high]
        for key in inside:
            if key not in {shelf.key for shelf in planned}:
                del slots[key]
                if key in old:
                    removed.append(key)
        for shelf in planned:
            slots[shelf.key] = _Slot(shelf.feeds, old.get(shelf.key), True)
    return slots, removed


def _ends_run(shelf: ShelfState) -> bool:
    return shelf.last is not None and is_cut(shelf.last)


def _read(pages: FeedPages, kind: FeedKind, low: str | None, high: str) -> tuple[FeedRef, ...]:
    """The feeds of the shelf that ends at `high` (the previous shelf ends at `low`)."""
    return tuple(ref for key, ref in pages.listed(low or section_start(kind), high) if key != low)


def _shelf(kind: FeedKind, key: str, slot: _Slot, hashes: dict[str, str]) -> ShelfState:
    """A shelf's state: its section, how many feeds it holds, its first and last feed, its documents' hashes."""
    if slot.feeds is None:
        stored = slot.stored or ShelfState(key)
        return ShelfState(key, kind.value, stored.count, stored.first, stored.last, hashes)
    return ShelfState(key, kind.value, len(slot.feeds), slot.feeds[0], slot.feeds[-1], hashes)


def _summary(kind: FeedKind, shelf: ShelfState) -> ShelfSummary | None:
    if shelf.first is None or shelf.last is None:
        return None
    return ShelfSummary(kind, shelf.key, shelf.first, shelf.last)


def _delete(bucket: FeedsBucket, hashes: dict[str, str], outcome: DiscoveryOutcome) -> None:
    for key in sorted(hashes):
        bucket.delete(key)
        outcome.deleted.append(key)


def _acquire(pages: FeedPages, owner: str) -> IndexState:
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
        pages.release_index(owner, IndexState())
    except Exception:  # the lease expires by itself; the original error matters more
        return
