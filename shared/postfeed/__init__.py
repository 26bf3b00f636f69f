"""postfeed: Jekyll posts in, RSS 2.0 / Atom 1.0 / JSON Feed 1.1 out, one event at a time.

The pure core (`postfeed.jekyll`, `postfeed.feeds`) imports no AWS SDK; adapters live in `postfeed.store`.
"""

from postfeed.models import (
    Author,
    FeedKind,
    FeedRef,
    FeedSettings,
    ParseResult,
    Post,
    Rejected,
    Site,
    Skipped,
    Status,
    feeds_of,
)

__version__ = "0.1.0"

__all__ = (
    "Author",
    "FeedKind",
    "FeedRef",
    "FeedSettings",
    "ParseResult",
    "Post",
    "Rejected",
    "Site",
    "Skipped",
    "Status",
    "feeds_of",
)
