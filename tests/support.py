"""Helpers shared by the functional and property tests: driving S3 changes and comparing outcomes."""

from __future__ import annotations

import contextlib
import json
import random
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import HTTPServer
from typing import Any, TypeVar

from postfeed.store.table import from_attributes
from postfeed_tools.local.pipeline import LocalPipeline

Result = TypeVar("Result")

ServerT = TypeVar("ServerT", bound=HTTPServer)

# Bookkeeping that legitimately differs between two runs reaching the same state.
VOLATILE = {"changed_at", "version", "sequencer", "lease_owner", "lease_until"}


@dataclass(frozen=True)
class Change:
    key: str
    body: bytes | None  # None: delete


def apply(pipeline: LocalPipeline, change: Change) -> None:
    if change.body is None:
        pipeline.delete(change.key)
    else:
        pipeline.upload(change.key, change.body)


def snapshot(pipeline: LocalPipeline) -> dict[str, Any]:
    """Every feed document's bytes and every table item (less bookkeeping: volatile fields, and full rebuilds'
    ledgers, which expire), for comparing two runs."""
    client = pipeline.table.client
    items: dict[str, Any] = {}
    kwargs: dict[str, Any] = {"TableName": pipeline.table.name}
    while True:
        page = client.scan(**kwargs)
        for raw in page["Items"]:
            item = from_attributes(raw)
            if not item["pk"].startswith("REBUILD#"):
                items[f"{item['pk']}|{item['sk']}"] = {k: v for k, v in item.items() if k not in VOLATILE}
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    feeds = {key: pipeline.feed(key) for key in pipeline.feed_keys()}
    return {"items": items, "feeds": feeds}


@contextlib.contextmanager
def in_order_state(
    changes: list[Change],
    read: Callable[[LocalPipeline], Result],
    *,
    parameters: dict[str, Any],
    feed_base_url: str,
) -> Iterator[Result]:
    """`read` of a fresh local stack after the final objects of `changes` were uploaded one at a time, each
    settled before the next: the reference that shuffled and duplicated deliveries must reach. The local AWS
    environment stays set while it is in use (the tests that compare with it run under it)."""
    import pytest
    from moto import mock_aws

    from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT

    with pytest.MonkeyPatch.context() as monkeypatch:
        for key, value in {**LOCAL_AWS_ENVIRONMENT, "POWERTOOLS_METRICS_DISABLED": "true"}.items():
            monkeypatch.setenv(key, value)
        with mock_aws():
            pipeline = LocalPipeline.create(parameters=parameters, feed_base_url=feed_base_url)
            for key, body in final_objects(changes).items():
                pipeline.upload(key, body)
                pipeline.settle()
            reference = read(pipeline)
        yield reference


def shuffled_state(
    changes: list[Change],
    read: Callable[[LocalPipeline], Result],
    *,
    seed: int,
    parameters: dict[str, Any],
    feed_base_url: str,
) -> Result:
    """`read` of a fresh local stack where every change was made in S3 before any event was delivered, then the
    events arrived shuffled and duplicated (seeded): what must equal `in_order_state`."""
    from moto import mock_aws

    with mock_aws():
        pipeline = LocalPipeline.create(parameters=parameters, feed_base_url=feed_base_url)
        for change in changes:
            apply(pipeline, change)
        bodies = take_messages(pipeline)
        assert redeliver(pipeline, bodies, random.Random(seed)) > 0
        pipeline.settle()
        return read(pipeline)


def final_objects(changes: list[Change]) -> dict[str, bytes]:
    """What S3 holds once all the changes are made (keys in first-touched order)."""
    final: dict[str, bytes | None] = {}
    for change in changes:
        final[change.key] = change.body
    return {key: body for key, body in final.items() if body is not None}


def assert_same_outcome(actual: dict[str, Any], reference: dict[str, Any]) -> None:
    """The pipeline reached the reference state: the same posts (a delete's tombstone counts as absent)
    with the same entries and memberships, the same feed documents byte for byte; a feed that only an
    intermediate version created may remain, but then valid and empty (subscribers keep their URL)."""

    def posts_and_members(items: dict[str, Any]) -> dict[str, Any]:
        return {
            key: item for key, item in items.items() if not key.endswith("|~STATE") and item.get("state") != "deleted"
        }

    assert posts_and_members(actual["items"]) == posts_and_members(reference["items"])
    for key, body in reference["feeds"].items():
        assert actual["feeds"].get(key) == body, key
    for key in set(actual["feeds"]) - set(reference["feeds"]):
        assert _entry_count(key, actual["feeds"][key]) == 0, key


def _entry_count(key: str, body: bytes) -> int:
    if key.endswith(".json"):
        return len(json.loads(body)["items"])
    if key.endswith(".html"):  # a feed's HTML page (feeds.page): one <article class="entry"> per entry
        return body.count(b'<article class="entry">')
    import feedparser

    parsed = feedparser.parse(body)
    assert parsed.bozo == 0
    return len(parsed.entries)


def take_messages(pipeline: LocalPipeline) -> list[str]:
    """Remove every pending S3 event from the queue, each stamped with its sequencer (in S3's order)."""
    sqs, url = pipeline.glue.sqs, pipeline.stack.queue_url
    bodies: list[str] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(pipeline.glue.stamp(message["MessageId"], message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def redeliver(pipeline: LocalPipeline, bodies: list[str], rng: random.Random, duplicate: float = 0.5) -> int:
    """Send the events back duplicated and shuffled, as S3's at-least-once, unordered delivery may."""
    batch = bodies + [body for body in bodies if rng.random() < duplicate]
    rng.shuffle(batch)
    for body in batch:
        pipeline.glue.sqs.send_message(QueueUrl=pipeline.stack.queue_url, MessageBody=body)
    return len(batch) - len(bodies)


def is_test_event(body: str) -> bool:
    return bool(json.loads(body).get("Event") == "s3:TestEvent")


@contextlib.contextmanager
def serving(server: ServerT) -> Iterator[ServerT]:
    """Run a local HTTP server in a daemon thread for the duration; shut down and closed after."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def http_get(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One request (any method): status, headers and body, error statuses included."""
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
