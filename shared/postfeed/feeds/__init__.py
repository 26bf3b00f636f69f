"""Feeds: which key and URL each feed has, and its Atom 1.0, RSS 2.0 and JSON Feed 1.1 bytes.

Pure: no I/O, no AWS. ``render_feed(ref, posts, site)`` gives the three documents of one feed.
"""

from postfeed.feeds.channel import EMPTY_FEED_UPDATED, feed_title
from postfeed.feeds.paths import FeedFormat, feed_key, feed_url, key_segment
from postfeed.feeds.render import FeedDocument, render_feed

__all__ = (
    "EMPTY_FEED_UPDATED",
    "FeedDocument",
    "FeedFormat",
    "feed_key",
    "feed_title",
    "feed_url",
    "key_segment",
    "render_feed",
)
