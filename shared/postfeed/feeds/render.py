"""render_feed: one feed's posts in, its Atom, RSS and JSON Feed documents out (and, with
``render_feed_with_page``, its HTML page). Pure: no I/O."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from postfeed.feeds.atom_rss import render_atom, render_rss
from postfeed.feeds.channel import Channel, History, build_channel
from postfeed.feeds.jsonfeed import render_json
from postfeed.feeds.page import render_feed_page
from postfeed.feeds.paths import PAGE_MEDIA_TYPE, FeedFormat, feed_key, feed_page_key
from postfeed.models import FeedRef, Post, Site

__all__ = ("FeedDocument", "PageDocument", "render_feed", "render_feed_with_page")


@dataclass(frozen=True, slots=True)
class FeedDocument:
    """One rendered feed file: where it goes in the feeds bucket and what it holds."""

    format: FeedFormat
    key: str
    body: bytes
    media_type: str


@dataclass(frozen=True, slots=True)
class PageDocument:
    """A feed's HTML page (``feeds.page``): a view for people, not a feed format."""

    key: str
    body: bytes
    media_type: str = PAGE_MEDIA_TYPE


def render_feed(
    ref: FeedRef,
    posts: Sequence[Post],
    site: Site,
    *,
    history: dict[FeedFormat, History] | None = None,
) -> tuple[FeedDocument, FeedDocument, FeedDocument]:
    """The feed ``ref`` as (Atom, RSS, JSON Feed) documents.

    ``posts`` may come in any order and hold more than the feed shows: they are sorted newest first
    (date, then id, descending) and cut to ``site.feed.posts_limit``. Same input, same bytes.
    ``history`` adds RFC 5005 links (the subscription document's ``prev-archive``; see ``feeds.archive_pages``).
    """
    return _documents(ref, _channel(ref, posts, site, history), site)


def render_feed_with_page(
    ref: FeedRef,
    posts: Sequence[Post],
    site: Site,
    *,
    history: dict[FeedFormat, History] | None = None,
) -> tuple[tuple[FeedDocument, FeedDocument, FeedDocument], PageDocument]:
    """``render_feed``'s three documents and the feed's HTML page, from one channel (posts sanitised once)."""
    channel = _channel(ref, posts, site, history)
    page = PageDocument(key=feed_page_key(ref, site), body=render_feed_page(channel))
    return _documents(ref, channel, site), page


def _channel(ref: FeedRef, posts: Sequence[Post], site: Site, history: dict[FeedFormat, History] | None) -> Channel:
    channel = build_channel(ref, posts, site)
    return dataclasses.replace(channel, history=history) if history else channel


def _documents(ref: FeedRef, channel: Channel, site: Site) -> tuple[FeedDocument, FeedDocument, FeedDocument]:
    def document(fmt: FeedFormat, body: bytes) -> FeedDocument:
        return FeedDocument(format=fmt, key=feed_key(ref, fmt, site), body=body, media_type=fmt.media_type)

    return (
        document(FeedFormat.ATOM, render_atom(channel)),
        document(FeedFormat.RSS, render_rss(channel)),
        document(FeedFormat.JSON, render_json(channel)),
    )
