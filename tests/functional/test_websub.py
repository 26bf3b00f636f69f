"""WebSub: feeds advertise the hub, and the feed function tells it which documents changed, with bounded
retries and a bounded total time, never failing or blocking the pipeline. The hub is a local HTTP server."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import feedparser
import pytest
from lxml import etree  # type: ignore[import-untyped]

from postfeed.pipeline.websub import WebSubPolicy, notify_hub
from postfeed_tools.local.pipeline import LocalPipeline
from tests.functional.conftest import FEED_BASE_URL, FINEWS_PARAMETERS
from tests.functional.test_pipeline_rules import post
from tests.support import serving

NS = {"a": "http://www.w3.org/2005/Atom"}


class Hub(ThreadingHTTPServer):
    """A WebSub hub on 127.0.0.1 that records publish pings. `failures[url]` answers 503 that many times
    first; `status` is the answer after that; `hang` seconds makes it never answer in time."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _HubHandler)
        self.pings: list[dict[str, list[str]]] = []
        self.failures: dict[str, int] = {}
        self.fail_everything = 0
        self.status = HTTPStatus.NO_CONTENT
        self.hang = 0.0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hub"

    def accepted(self) -> list[str]:
        return [ping["hub.url"][0] for ping in self.pings if ping.get("_status") == ["204"]]


class _HubHandler(BaseHTTPRequestHandler):
    server: Hub

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        if self.server.hang:
            time.sleep(self.server.hang)
        with self.server.lock:
            url = form.get("hub.url", [""])[0]
            if self.server.failures.get(url, 0) > 0 or self.server.fail_everything > 0:
                self.server.failures[url] = self.server.failures.get(url, 0) - 1
                self.server.fail_everything -= 1
                status = HTTPStatus.SERVICE_UNAVAILABLE
            else:
                status = self.server.status
            self.server.pings.append({**form, "_status": [str(int(status))]})
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def hub() -> Iterator[Hub]:
    with serving(Hub()) as server:
        yield server


FAST = WebSubPolicy(timeout=0.5, attempts=3, backoff=0.05, budget=3.0)
URLS = [f"{FEED_BASE_URL}/feed.xml", f"{FEED_BASE_URL}/feed.rss", f"{FEED_BASE_URL}/feed.json"]


def test_one_publish_ping_per_changed_document(hub: Hub) -> None:
    result = notify_hub(hub.url, URLS, FAST)
    assert sorted(result.sent) == sorted(URLS)
    assert result.failed == {}
    assert sorted(hub.accepted()) == sorted(URLS)
    assert all(ping["hub.mode"] == ["publish"] for ping in hub.pings)


def test_a_hub_that_fails_then_recovers_gets_every_ping_after_retries(hub: Hub) -> None:
    hub.failures = {URLS[0]: 2, URLS[1]: 1}
    result = notify_hub(hub.url, URLS, FAST)
    assert sorted(result.sent) == sorted(URLS)
    assert result.attempts == 3 + 2 + 1
    assert result.retries == 3
    assert sorted(hub.accepted()) == sorted(URLS)


def test_a_hub_that_keeps_failing_is_given_up_after_the_bounded_attempts(hub: Hub) -> None:
    hub.fail_everything = 100
    result = notify_hub(hub.url, URLS[:1], FAST)
    assert result.sent == []
    assert "503" in result.failed[URLS[0]]
    assert len(hub.pings) == FAST.attempts


def test_a_hub_refusal_is_not_retried(hub: Hub) -> None:
    hub.status = HTTPStatus.BAD_REQUEST
    result = notify_hub(hub.url, URLS[:1], FAST)
    assert "400" in result.failed[URLS[0]]
    assert len(hub.pings) == 1


def test_a_hub_that_never_answers_costs_at_most_the_budget(hub: Hub) -> None:
    hub.hang = 5.0
    began = time.monotonic()
    result = notify_hub(hub.url, URLS, WebSubPolicy(timeout=0.3, attempts=3, backoff=0.05, budget=1.0))
    elapsed = time.monotonic() - began
    assert elapsed < 2.0
    assert result.sent == []
    assert set(result.failed) == set(URLS)


def test_an_unreachable_hub_is_a_logged_failure_not_an_error() -> None:
    result = notify_hub("http://127.0.0.1:9/hub", URLS[:1], FAST)  # discard port: connection refused
    assert result.sent == []
    assert URLS[0] in result.failed
    assert notify_hub("ftp://example.com/hub", URLS[:1], FAST).failed


def hub_pipeline(hub: Hub, **environment: str) -> LocalPipeline:
    return LocalPipeline.create(
        parameters={**FINEWS_PARAMETERS, "WebSubHub": hub.url},
        feed_base_url=FEED_BASE_URL,
        environment={"WEBSUB_TIMEOUT_SECONDS": "0.5", "WEBSUB_BUDGET_SECONDS": "2", **environment},
    )


def test_the_pipeline_advertises_the_hub_and_pings_it_for_every_changed_document(aws: None, hub: Hub) -> None:
    pipeline = hub_pipeline(hub)
    pipeline.upload("_posts/2026-11-27-a.md", post(categories="emnews", tags="港股"))
    pipeline.settle()
    # THEN each feed document advertises the hub (Atom, RSS, JSON Feed)
    atom = etree.fromstring(pipeline.feed("feed/emnews.xml"))
    assert atom.xpath("a:link[@rel='hub']/@href", namespaces=NS) == [hub.url]
    rss = etree.fromstring(pipeline.feed("feed/emnews.rss"))
    assert rss.xpath("channel/a:link[@rel='hub']/@href", namespaces=NS) == [hub.url]
    assert json.loads(pipeline.feed("feed/emnews.json") or b"{}")["hubs"] == [{"type": "WebSub", "url": hub.url}]
    assert feedparser.parse(pipeline.feed("feed/emnews.xml")).bozo == 0
    # AND the hub heard once about each subscription document that changed (site, category, tag)
    expected = {
        f"{FEED_BASE_URL}/{stem}{ext}"
        for stem in ("feed", "feed/emnews", "feed/by_tag/%E6%B8%AF%E8%82%A1")
        for ext in (".xml", ".rss", ".json")
    }
    assert sorted(hub.accepted()) == sorted(expected)
    # AND an edit of the category only pings what changed: an unchanged re-upload pings nothing
    hub.pings.clear()
    pipeline.upload("_posts/2026-11-27-a.md", post(categories="emnews", tags="港股"))
    pipeline.settle()
    assert hub.pings == []


def test_a_hub_that_never_answers_neither_fails_nor_blocks_the_pipeline(
    aws: None, hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="postfeed-feeds")  # whatever an earlier test left it at
    hub.hang = 10.0
    pipeline = hub_pipeline(hub, WEBSUB_TIMEOUT_SECONDS="0.3", WEBSUB_BUDGET_SECONDS="1")
    pipeline.upload("_posts/2026-11-27-a.md", post(categories="emnews"))
    began = time.monotonic()
    pipeline.settle()
    assert time.monotonic() - began < 15
    assert pipeline.glue.delivery.stream_failed_batches == 0
    assert feedparser.parse(pipeline.feed("feed/emnews.xml")).entries
    # AND each document the hub was not told about is logged (and counted: WebSubFailures)
    failures = {r.getMessage() for r in caplog.records if r.getMessage().startswith("WebSub hub not told")}
    assert f"WebSub hub not told about {FEED_BASE_URL}/feed/emnews.xml" in failures


def test_a_hub_that_fails_then_recovers_gets_every_ping_from_the_pipeline(aws: None, hub: Hub) -> None:
    hub.fail_everything = 4  # the first four requests answer 503, whichever documents they are about
    pipeline = hub_pipeline(hub)
    pipeline.upload("_posts/2026-11-27-a.md", post(categories="emnews", tags=""))
    pipeline.settle()
    assert len(set(hub.accepted())) == 6  # site and emnews, three formats each
    assert len(hub.pings) == 6 + 4
