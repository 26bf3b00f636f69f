"""The base of the feed renderer's errors."""

from __future__ import annotations

from postfeed.errors import PostfeedError


class FeedsError(PostfeedError):
    """Base of the feed renderer's errors."""
