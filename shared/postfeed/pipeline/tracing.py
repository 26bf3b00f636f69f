"""X-Ray tracing, only when enabled and only from the first invocation on.

Powertools' Tracer loads the X-Ray SDK (~280 ms, measured by `postfeed bench`'s cold start) when it is
created, so the handlers never create it at import. With `POSTFEED_TRACING=true` (template parameter
EnableTracing) the first invocation creates it, which also patches boto3 so every AWS call is a subsegment.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

Handler = TypeVar("Handler", bound=Callable[..., Any])


@cache
def _tracer(service: str) -> Any:
    from aws_lambda_powertools import Tracer

    return Tracer(service=service)


def tracing_enabled() -> bool:
    return os.environ.get("POSTFEED_TRACING", "false").lower() == "true"


def traced(handler: Handler, service: str) -> Handler:
    """`handler` wrapped by Tracer.capture_lambda_handler when tracing is on, else itself."""
    if not tracing_enabled():
        return handler
    wrapped: Handler = _tracer(service).capture_lambda_handler(handler)
    return wrapped
