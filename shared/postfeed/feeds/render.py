"""render_feed: one feed's posts in, its Atom, RSS and JSON Feed documents out. Pure: no I/O."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from postfeed.feeds.atom_rss import render_atom, render_rss
from postfeed.feeds.channel import History, build_channel
from postfeed.feeds.jsonfeed import render_json
from postfeed.feeds.paths import FeedFormat, feed_key
from postfeed.models import FeedRef, Post, Site

__all__ = ("FeedDocument", "render_feed")


@dataclass(frozen=True, slots=True)
class FeedDocument:
    """One rendered feed file: where it goes in the feeds bucket and what it holds."""

    format: FeedFormat
    key: str
    body: bytes
    media_type: str


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
    ``history`` adds RFC 5005 links (the subscription document's ``prev-archive``; see ``feeds.archive``).
    """
    channel = build_channel(ref, posts, site)
    if history:
        channel = dataclasses.replace(channel, history=history)

    def document(fmt: FeedFormat, body: bytes) -> FeedDocument:
        return FeedDocument(format=fmt, key=feed_key(ref, fmt, site), body=body, media_type=fmt.media_type)

    return (
        document(FeedFormat.ATOM, render_atom(channel)),
        document(FeedFormat.RSS, render_rss(channel)),
        document(FeedFormat.JSON, render_json(channel)),
    )
