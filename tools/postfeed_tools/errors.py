"""The base of the tools' errors (command line, local stack, bench)."""

from __future__ import annotations

from postfeed.errors import PostfeedError


class ToolsError(PostfeedError):
    """Base of the tools' errors."""
