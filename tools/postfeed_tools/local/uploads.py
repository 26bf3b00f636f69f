"""A site's files into the local pipeline: the config and site files first (settled), then the posts, one by
one through their events (`settle_every` at a time, so queues and stream shards stay small on large sites) or
all at once through the bulk path."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from postfeed_tools.local.progress import Progress
from postfeed_tools.local.sitefiles import CONFIG_NAME

if TYPE_CHECKING:
    from postfeed.store.records import PostState
    from postfeed_tools.local.pipeline import LocalPipeline

SETTLE_EVERY = 500
UPLOAD_WORKERS = 8


@dataclass(slots=True)
class UploadStats:
    uploaded: int = 0
    settles: int = 0
    upload_seconds: float = 0.0
    settle_seconds: float = 0.0
    # The bulk path's account of each post's item (what a Scan would read back); None: read the table.
    items: dict[str, dict[str, Any] | None] | None = None


def upload_config(
    pipeline: LocalPipeline, config: bytes | None, key: str = CONFIG_NAME, site_files: Sequence[tuple[str, Path]] = ()
) -> None:
    """Upload `_config.yml` and the other site files and settle, so every post is parsed with the site's
    settings (and no feed is rendered twice for an authors file or a stylesheet that comes after)."""
    if config is not None:
        pipeline.upload(key, config)
    for file_key, file in site_files:
        pipeline.upload(file_key, file.read_bytes())
    pipeline.settle()


def upload_posts(
    pipeline: LocalPipeline,
    posts: Sequence[tuple[str, Path]],
    *,
    settle_every: int = SETTLE_EVERY,
    workers: int = UPLOAD_WORKERS,
    progress: bool | None = None,
) -> UploadStats:
    """Upload posts `settle_every` at a time (concurrently), settling the pipeline after each chunk."""
    stats = UploadStats()
    bar = Progress(len(posts), unit="post", enabled=progress, desc="posts")

    def put(item: tuple[str, Path]) -> None:
        key, file = item
        pipeline.upload(key, file.read_bytes())

    try:
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="postfeed-upload") as pool:
            for start in range(0, len(posts), max(1, settle_every)):
                chunk = posts[start : start + max(1, settle_every)]
                began = time.perf_counter()
                for _ in pool.map(put, chunk):
                    bar.update()
                stats.uploaded += len(chunk)
                stats.upload_seconds += time.perf_counter() - began
                bar.note("settling")
                began = time.perf_counter()
                pipeline.settle()
                stats.settle_seconds += time.perf_counter() - began
                stats.settles += 1
                bar.note("")
    finally:
        bar.close()
    return stats


def _items(states: Mapping[str, PostState | None]) -> dict[str, dict[str, Any] | None]:
    """The post items the report reads, from the states the bulk path left (`items.post_item`)."""
    from postfeed.store.items import post_item

    return {key: None if state is None else post_item(state) for key, state in states.items()}


def load_posts(pipeline: LocalPipeline, posts: Sequence[tuple[str, Path]]) -> UploadStats:
    """Every post through the bulk path at once (LocalPipeline.bulk_load): the same end state as uploading
    them one by one, in a fraction of the calls."""
    began = time.perf_counter()
    loaded = pipeline.bulk_load([(key, file.read_bytes()) for key, file in posts])
    before = dataclasses.replace(pipeline.glue.delivery)
    delivery = pipeline.settle()  # anything the bulk path set in motion (none expected) is delivered first
    # The items it wrote are the table's, unless that settle ran a function after them.
    invocations = (delivery.sqs_invocations, delivery.stream_invocations)
    items = _items(loaded.states) if invocations == (before.sqs_invocations, before.stream_invocations) else None
    return UploadStats(uploaded=len(posts), settles=1, upload_seconds=time.perf_counter() - began, items=items)
