"""The base of the store's errors (the AWS adapters: table, buckets, queues)."""

from __future__ import annotations

from postfeed.errors import PostfeedError


class StoreError(PostfeedError):
    """Base of the store's errors."""
