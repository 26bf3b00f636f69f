"""Burst: many uploads at once (all puts first, then one settle), with the event source mappings' batch
sizes and windows from the template. How many feed documents get written per touched feed and format?

With a batching window, every record already in the stream when the poller looks is delivered in full
batches of BatchSize (the glue does the same: it reads everything available, then cuts batches). Each
batch rebuilds every feed it touches once, so a feed is written at most once per stream batch that
changes what it shows: the writes per feed are bounded by ceil(records / BatchSize), not by uploads."""

from __future__ import annotations

import dataclasses
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from postfeed_tools.benchmark.capacity import CapacityMeter
from postfeed_tools.benchmark.harness import (
    InvocationTimer,
    bench_pipeline,
    generated_posts,
    median,
    published_by_date,
    upload_config,
)

if TYPE_CHECKING:
    from postfeed_tools.local.pipeline import LocalPipeline

UPLOADS = 1_000
CATEGORIES = 50
_CATEGORY_LINE = re.compile(rb"^categories: .*$", re.MULTILINE)


def burst_posts(uploads: int, categories: int) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The generator's first `uploads` posts, spread round-robin over `categories` categories."""
    site = generated_posts(uploads)
    posts = [
        (key, _CATEGORY_LINE.sub(f"categories: c{index % categories:02d}".encode(), body, count=1))
        for index, (key, body) in enumerate(site.posts)
    ]
    return site.config, posts


class FeedWrites:
    """Every PutObject key the handlers send (the feeds function's documents), in order."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def install(self) -> FeedWrites:
        """Register on the handlers' session (after CallCounter, which rebuilds it)."""
        from postfeed.store.clients import session

        session().events.register("before-parameter-build.s3.PutObject", self._record)
        return self

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.keys.append(str(params.get("Key")))


def subscription_documents(pipeline: LocalPipeline, posts: Sequence[tuple[str, bytes]]) -> dict[str, tuple[str, str]]:
    """Key -> (feed, format) of the subscription documents (Atom, RSS, JSON) of every feed these posts can
    touch, under the site settings the feeds function uses. Other keys are archive pages or the index."""
    from postfeed.feeds import FeedFormat
    from postfeed.feeds.paths import feed_key
    from postfeed.models import feeds_of
    from postfeed.pipeline.ingest import current_site
    from postfeed.pipeline.wiring import adapters_from_env

    with pipeline.glue.environment_of(pipeline.stack.build_feeds):
        adapters = adapters_from_env()
        site, _ = current_site(adapters.settings, adapters.table)
    config = pipeline.table.get_config()
    refs = {ref for _, _, post in published_by_date(posts, config["raw"] if config else None) for ref in feeds_of(post)}
    documents = {}
    for ref in refs:
        name = ref.kind.value + (f":{ref.name}" if ref.name else "")
        for fmt in FeedFormat:
            documents[feed_key(ref, fmt, site)] = (name, fmt.value)
    return documents


def document_kind(key: str, subscriptions: dict[str, tuple[str, str]]) -> str:
    from postfeed.feeds.discovery import SHELF_FOLDER
    from postfeed.feeds.paths import PAGE_EXTENSION, ROOT_KEYS

    if key in subscriptions:
        return "subscription"
    if key in ROOT_KEYS or key.startswith(SHELF_FOLDER + "/"):  # the root documents and their shelves
        return "index"
    if key.endswith(PAGE_EXTENSION):  # a feed's HTML page (feeds.page), rewritten with its subscription documents
        return "page"
    return "archive"


def run_burst(
    posts: Sequence[tuple[str, bytes]], config: bytes, *, stream_batch_size: int | None = None
) -> dict[str, Any]:
    """Upload every post, then settle once; what was invoked and written."""
    from postfeed_tools.local.calls import CallCounter

    with bench_pipeline() as pipeline:
        upload_config(pipeline, config)
        stack = pipeline.stack
        function = stack.build_feeds
        if stream_batch_size is not None:  # a what-if: the template's value with one number changed
            source = dataclasses.replace(function.source, batch_size=stream_batch_size)
            stack.functions[function.logical_id] = dataclasses.replace(function, source=source)
        source = stack.build_feeds.source
        before = dataclasses.replace(pipeline.glue.delivery)
        timer = InvocationTimer().install(pipeline)
        counter = CallCounter().install()
        writes = FeedWrites().install()
        meter = CapacityMeter().install()
        started = time.perf_counter()
        for key, body in posts:
            pipeline.upload(key, body)
        uploaded = time.perf_counter()
        delivery = pipeline.settle()
        settled = time.perf_counter()
        calls = counter.reset()
        units = meter.reset()
        subscriptions = subscription_documents(pipeline, posts)

    kinds = Counter(document_kind(key, subscriptions) for key in writes.keys)
    per_document = Counter(key for key in writes.keys if key in subscriptions)
    feeds = {subscriptions[key][0] for key in per_document}
    written = sum(per_document.values())
    site_writes = max((n for key, n in per_document.items() if subscriptions[key][0] == "site"), default=0)
    ingest_invocations = delivery.sqs_invocations - before.sqs_invocations
    stream_invocations = delivery.stream_invocations - before.stream_invocations
    stream_records = delivery.stream_records - before.stream_records
    return {
        "uploads": len(posts),
        "stream_batch_size": source.batch_size,
        "stream_window_s": source.window_seconds,
        "sqs_batch_size": stack.ingest.source.batch_size,
        "sqs_window_s": stack.ingest.source.window_seconds,
        "ingest_invocations": ingest_invocations,
        "feed_invocations": stream_invocations,
        "stream_records": stream_records,
        "stream_batches": timer.batch_sizes.get(function.logical_id, []),
        "max_stream_payload_bytes": max(timer.payload_bytes.get(function.logical_id, [0])),
        "max_feed_invocation_s": round(max(timer.durations.get(function.logical_id, [0.0])), 2),
        "feeds_touched": len(feeds),
        "documents_written": written,
        "archive_documents_written": kinds["archive"],
        "page_documents_written": kinds["page"],
        "index_documents_written": kinds["index"],
        "writes_per_touched_feed_format": round(written / (3 * len(feeds)), 3) if feeds else 0.0,
        "max_writes_per_feed_format": max(per_document.values(), default=0),
        "median_writes_per_feed_format": median(list(per_document.values())),
        "site_feed_writes_per_format": site_writes,
        "put_seconds": round(uploaded - started, 2),
        "settle_seconds": round(settled - uploaded, 2),
        "calls": dict(sorted(calls.items())),
        "_cost_totals": {
            "posts": len(posts),
            "calls": dict(calls),
            "units": dict(units),
            "invocations": {name: len(d) for name, d in timer.durations.items()},
            "seconds": {name: sum(d) for name, d in timer.durations.items()},
        },
    }


def measure_burst(
    uploads: int = UPLOADS,
    categories: int = CATEGORIES,
    *,
    what_if_batch_sizes: Sequence[int] = (),
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    config, posts = burst_posts(uploads, categories)
    if log:
        log(f"burst: {uploads:,} uploads across {categories} categories, then one settle")
    result = run_burst(posts, config)
    result["categories"] = categories
    what_ifs = []
    for size in what_if_batch_sizes:
        if log:
            log(f"burst: what if the stream's BatchSize were {size}")
        run = run_burst(posts, config, stream_batch_size=size)
        what_ifs.append(
            {k: v for k, v in run.items() if not k.startswith("_") and k not in ("calls", "stream_batches")}
        )
    if what_ifs:
        result["what_if"] = what_ifs
    return result
