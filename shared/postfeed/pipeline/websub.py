"""WebSub (W3C Recommendation, §5 "publishing"): tell the hub which feed documents changed.

One POST per changed subscription document, form-encoded ``hub.mode=publish`` and ``hub.url=<feed URL>``,
the de facto publisher ping every public hub accepts (WebSub leaves the publisher-to-hub protocol open).
All notifications of an invocation run in parallel, each retried with exponential backoff on a network
error, a timeout, 429 or 5xx; a 4xx other than 429 is final. The whole thing is bounded by a budget in
seconds: a notification that has not succeeded when the budget runs out is given up, logged and counted.
Nothing here ever raises: the feeds are published whether or not the hub hears about them.
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from postfeed.pipeline.errors import PipelineError

logger = logging.getLogger(__name__)

USER_AGENT = "postfeed-websub/1 (+https://www.w3.org/TR/websub/)"
MAX_WORKERS = 8


@dataclass(frozen=True, slots=True)
class WebSubPolicy:
    timeout: float = 3.0  # seconds per request
    attempts: int = 3  # per feed document
    backoff: float = 0.25  # first wait between attempts; doubles each time
    budget: float = 10.0  # seconds for all notifications of one invocation


@dataclass(slots=True)
class Notified:
    sent: list[str] = field(default_factory=list)  # feed URLs the hub accepted
    failed: dict[str, str] = field(default_factory=dict)  # feed URL -> last error
    attempts: int = 0

    @property
    def retries(self) -> int:
        return self.attempts - len(self.sent) - len(self.failed)


class _Permanent(PipelineError):
    """The hub refused the request (4xx other than 429): retrying will not help."""

    code = "websub_refused"


def notify_hub(hub: str, feed_urls: Sequence[str], policy: WebSubPolicy | None = None) -> Notified:
    """POST ``hub.mode=publish`` for each feed URL to ``hub``; returns what was accepted and what failed."""
    policy = policy or WebSubPolicy()
    result = Notified()
    urls = list(dict.fromkeys(feed_urls))
    if not urls:
        return result
    deadline = time.monotonic() + policy.budget
    pool = ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(urls)), thread_name_prefix="websub")
    try:
        futures = {pool.submit(_notify_one, hub, url, policy, deadline): url for url in urls}
        done, _ = wait(futures, timeout=max(0.0, deadline - time.monotonic()) + 0.5)
        for future, url in futures.items():
            if future not in done:
                result.failed[url] = "gave up: the time budget ran out"
                continue
            attempts, error = future.result()
            result.attempts += attempts
            if error is None:
                result.sent.append(url)
            else:
                result.failed[url] = error
    finally:
        # Never wait for a straggler: its own timeout ends it, and Lambda freezes it with the environment.
        pool.shutdown(wait=False, cancel_futures=True)
    for url, error in result.failed.items():
        logger.warning("WebSub hub %s was not told about %s: %s", hub, url, error)
    return result


def _notify_one(hub: str, url: str, policy: WebSubPolicy, deadline: float) -> tuple[int, str | None]:
    """(attempts made, last error or None)."""
    body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": url}).encode()
    error = "not attempted: the time budget ran out"
    wait_s = policy.backoff
    for attempt in range(1, max(1, policy.attempts) + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0.05:
            return attempt - 1, error
        try:
            _post(hub, body, min(policy.timeout, remaining))
            return attempt, None
        except _Permanent as exc:
            return attempt, str(exc)
        except (OSError, ValueError) as exc:  # URLError, HTTPError (5xx/429), timeouts, bad URL
            error = f"{type(exc).__name__}: {exc}"
        if attempt < policy.attempts:
            time.sleep(max(0.0, min(wait_s, deadline - time.monotonic())))
            wait_s *= 2
    return policy.attempts, error


def _post(hub: str, body: bytes, timeout: float) -> None:
    request = urllib.request.Request(
        hub,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT},
    )
    if urllib.parse.urlsplit(hub).scheme.lower() not in ("http", "https"):
        raise _Permanent(f"not an http(s) hub URL: {hub}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # scheme checked above
            response.read(1024)
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500 and exc.code != 429:
            raise _Permanent(f"the hub answered {exc.code} {exc.reason}") from exc
        raise
