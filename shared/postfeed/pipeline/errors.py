"""The base of the pipeline's errors (the use cases the Lambda functions run)."""

from __future__ import annotations

from postfeed.errors import PostfeedError


class PipelineError(PostfeedError):
    """Base of the pipeline's errors."""
