"""RFC 5005 archived feeds: which archive page holds an entry, and the bytes of one archive page.

Pure: no I/O. The pipeline (``postfeed.pipeline.archive_updates``) keeps the pages up to date incrementally.

**Paging.** An entry's page is a period of its UTC instant (the instant that starts its membership sort key):

* its UTC month (``2022-03``), when that month holds at most :data:`PAGE_ENTRIES` entries of the feed;
* else its UTC day (``2022-03-05``), when that day holds at most :data:`PAGE_ENTRIES`;
* else its UTC hour (``2022-03-05T07``), whatever it holds (the finest period).

Page ids sort as text in time order, and a month's pages never overlap (a month is one page, or its days
and hours are). An entry's page changes only when its own date changes or when its month (or day) crosses
the threshold; then only that month's pages are rewritten. Archive entries carry the excerpt, never the
full content, so a page stays bounded (see docs/archives.md).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from postfeed.feeds.atom_rss import render_atom, render_rss
from postfeed.feeds.channel import Channel, History, build_channel, feed_title
from postfeed.feeds.content import clip_text
from postfeed.feeds.paths import FeedFormat, archive_key, archive_url, feed_url, is_page_id
from postfeed.feeds.render import FeedDocument
from postfeed.models import FeedRef, Post, Site

__all__ = (
    "ARCHIVE_FORMATS",
    "PAGE_ENTRIES",
    "PAGE_LEVELS",
    "SUMMARY_CHARS",
    "linked_plan",
    "page_label",
    "page_links",
    "page_of",
    "plan_feed",
    "plan_pages",
    "region_to_replan",
    "render_archive_page",
    "subscription_history",
)

# At most this many entries on a month or day page (an hour page takes whatever its hour holds).
PAGE_ENTRIES = 200
# Page ids are these prefixes of a UTC instant "YYYY-MM-DDTHH:MM:SSZ": month, day, hour.
PAGE_LEVELS = (7, 10, 13)
# An archive entry's summary is cut to this many characters (the excerpt of a post can be its whole text).
SUMMARY_CHARS = 500
ARCHIVE_FORMATS = (FeedFormat.ATOM, FeedFormat.RSS)


def page_of(instant: str, level: int) -> str:
    """The page id of ``instant`` (or of a membership sort key) at a paging level (0 month, 1 day, 2 hour)."""
    return instant[: PAGE_LEVELS[level]]


def _level(page: str) -> int:
    return PAGE_LEVELS.index(len(page))


def region_to_replan(instant: str, pages: Mapping[str, int], touched: Sequence[str], limit: int = PAGE_ENTRIES) -> str:
    """The page to re-plan (with :func:`plan_pages`) for a change at ``instant``, from the existing pages of its
    month and their entry counts (``pages``: page id -> count) — no counting query.

    It is the coarsest existing page that holds the instant, or the period where a new page would go (the
    month, or a day or hour of a split month or day). It widens to the enclosing day or month while all the
    pages there hold at most ``limit`` entries plus the ``touched`` instants inside it (entries this change may
    have removed), so a period that shrank merges back into one page. Re-planning from the region's members then
    splits a page that grew past ``limit``. Any region that holds the changed pages is correct; this one is
    the smallest that is sure to."""
    region = page_of(instant, 0)
    for level in range(len(PAGE_LEVELS)):
        region = page_of(instant, level)
        if region in pages or not any(page.startswith(region) for page in pages):
            break  # an existing page, or a period with no pages inside: a new page
    while _level(region) > 0:
        parent = page_of(instant, _level(region) - 1)
        inside = sum(count for page, count in pages.items() if page.startswith(parent))
        if inside > limit + sum(1 for other in touched if other.startswith(parent)):
            break
        region = parent
    return region


def plan_pages(sort_keys: Sequence[str], region: str, limit: int = PAGE_ENTRIES) -> dict[str, list[str]]:
    """Every page inside ``region`` (a page id) and the sort keys each holds, from all the region's sort keys.

    ``region`` is one page if it holds at most ``limit`` entries (or is
    an hour), else each of its days (hours) is planned the same way. Empty periods have no page."""
    keys = [key for key in sort_keys if key.startswith(region)]
    if not keys:
        return {}
    level = _level(region)
    if len(keys) <= limit or level == len(PAGE_LEVELS) - 1:
        return {region: sorted(keys)}
    children: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        children[page_of(key, level + 1)].append(key)
    planned: dict[str, list[str]] = {}
    for child in sorted(children):
        planned.update(plan_pages(children[child], child, limit))
    return planned


def plan_feed(sort_keys: Sequence[str], limit: int = PAGE_ENTRIES) -> dict[str, list[str]]:
    """Every archive page of a feed and the sort keys each holds, from all its sort keys: each month planned
    with :func:`plan_pages`. What the pipeline's incremental re-planning always arrives at."""
    months: dict[str, list[str]] = defaultdict(list)
    for key in sort_keys:
        months[page_of(key, 0)].append(key)
    planned: dict[str, list[str]] = {}
    for month in sorted(months):
        planned |= plan_pages(months[month], month, limit)
    return planned


def page_links(order: Sequence[str]) -> dict[str, tuple[str | None, str | None]]:
    """(``prev-archive``, ``next-archive``) of each page of pages in time order: its older and newer neighbours."""
    return {
        page: (order[index - 1] if index > 0 else None, order[index + 1] if index + 1 < len(order) else None)
        for index, page in enumerate(order)
    }


class PlannedPage(NamedTuple):
    """One archive page of a feed planned whole: its id, the sort keys it holds and its neighbours."""

    page: str
    keys: list[str]
    prev_page: str | None
    next_page: str | None


def linked_plan(sort_keys: Sequence[str], limit: int = PAGE_ENTRIES) -> list[PlannedPage]:
    """Every archive page of a feed (:func:`plan_feed`) in time order, each with its neighbours
    (:func:`page_links`): what a feed's first publication writes."""
    plan = plan_feed(sort_keys, limit)
    return [PlannedPage(page, plan[page], *links) for page, links in page_links(sorted(plan)).items()]


def page_label(page: str) -> str:
    """How a page is named in its title: ``2022-03``, ``2022-03-05``, ``2022-03-05 07:00`` (all UTC)."""
    if not is_page_id(page):
        raise ValueError(f"not an archive page id: {page!r}")
    return f"{page[:10]} {page[11:13]}:00" if len(page) == PAGE_LEVELS[2] else page


def subscription_history(
    ref: FeedRef, newest_page: str | None, site: Site, *, complete: bool = False
) -> dict[FeedFormat, History]:
    """The subscription documents' RFC 5005 link: ``prev-archive`` to the newest archive page; or, when they hold
    every entry of the feed (``complete``: it has at most ``posts_limit``), ``<fh:complete/>`` and no archive link
    (RFC 5005 §2: the whole feed is in one document, and a complete feed links to no other part of it)."""
    if complete:
        return {fmt: History(complete=True) for fmt in ARCHIVE_FORMATS}
    if newest_page is None:
        return {}
    return {fmt: History(prev_archive=archive_url(ref, newest_page, fmt, site)) for fmt in ARCHIVE_FORMATS}


def _archive_channel(
    ref: FeedRef, page: str, posts: Sequence[Post], site: Site, fmt_links: Mapping[FeedFormat, History]
) -> Channel:
    # Excerpts only, every post of the page: the same entries the subscription document would show.
    page_site = dataclasses.replace(
        site, feed=dataclasses.replace(site.feed, excerpt_only=True, posts_limit=max(1, len(posts)))
    )
    channel = build_channel(ref, posts, page_site)
    entries = tuple(
        dataclasses.replace(entry, summary=clip_text(entry.summary, SUMMARY_CHARS)) for entry in channel.entries
    )
    return dataclasses.replace(
        channel,
        title=f"{feed_title(ref, site)} · {page_label(page)} (UTC)",
        urls={fmt: archive_url(ref, page, fmt, site) for fmt in ARCHIVE_FORMATS}
        | {FeedFormat.JSON: feed_url(ref, FeedFormat.JSON, site)},
        feed_id=feed_url(ref, FeedFormat.ATOM, site),
        entries=entries,
        history=fmt_links,
        page_url=None,  # the feed's page shows its newest entries, not this page's: the site stays the alternate
    )


def render_archive_page(
    ref: FeedRef,
    page: str,
    posts: Sequence[Post],
    site: Site,
    *,
    prev_page: str | None,
    next_page: str | None,
) -> tuple[FeedDocument, FeedDocument]:
    """One archive page of a feed as (Atom, RSS) archive documents (RFC 5005 §4, and Appendix B for RSS).

    Each carries ``<fh:archive/>``, ``current`` (the subscription document), ``prev-archive`` to the older
    neighbour page and ``next-archive`` to the newer one (each left out when there is none). The Atom
    ``<id>`` is the subscription document's: every page is part of one logical feed.

    A lone page (no neighbour) holds every entry of the feed: it is also complete (RFC 5005 §2,
    ``<fh:complete/>``), and a complete feed links no other document of its feed, so it has no ``current``."""
    lone = prev_page is None and next_page is None
    links = {
        fmt: History(
            current=None if lone else feed_url(ref, fmt, site),
            prev_archive=archive_url(ref, prev_page, fmt, site) if prev_page else None,
            next_archive=archive_url(ref, next_page, fmt, site) if next_page else None,
            archive=True,
            complete=lone,
        )
        for fmt in ARCHIVE_FORMATS
    }
    channel = _archive_channel(ref, page, posts, site, links)

    def document(fmt: FeedFormat, body: bytes) -> FeedDocument:
        return FeedDocument(format=fmt, key=archive_key(ref, page, fmt, site), body=body, media_type=fmt.media_type)

    return document(FeedFormat.ATOM, render_atom(channel)), document(FeedFormat.RSS, render_rss(channel))
