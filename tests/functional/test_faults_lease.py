"""No feed regression: a rebuild that stalls between reading a feed and writing it (a slow S3 put, a paused
Lambda) cannot overwrite a newer rebuild's document, because the newer one waits for the feed's lease and
reads after the stalled one wrote."""

from __future__ import annotations

import threading
import time
from typing import Any

from postfeed.models import FeedRef
from postfeed.pipeline.ingest import current_site, ingest_change
from postfeed.pipeline.rebuild import rebuild_feed
from postfeed.store.bucket import FeedsBucket, PostsBucket
from postfeed.store.events import ChangeKind, ObjectChange
from postfeed.store.records import FeedState
from postfeed.store.table import LeaseBusyError, PostsTable
from postfeed_tools.local.pipeline import LocalPipeline
from tests.functional.test_pipeline_failures import pipeline_settings
from tests.functional.test_pipeline_rules import entries, post

FIRST, SECOND = "_posts/2026-11-25-first.md", "_posts/2026-11-26-second.md"


def test_a_stalled_rebuild_cannot_overwrite_a_newer_one(pipeline: LocalPipeline) -> None:
    from postfeed.store.clients import reset_clients, session

    pipeline.upload(FIRST, post(title="第一篇", categories="emnews"))
    pipeline.settle()
    settings = pipeline_settings(pipeline)
    site, _ = current_site(settings, pipeline.table)
    bucket = PostsBucket(pipeline.stack.posts_bucket, pipeline.s3)

    def commit(key: str, body: bytes, sequencer: str) -> None:
        """Upload and ingest, without delivering the stream record (the test runs the rebuilds itself)."""
        pipeline.upload(key, body)
        change = ObjectChange(pipeline.stack.posts_bucket, key, ChangeKind.PUT, sequencer.rjust(32, "0"))
        assert ingest_change(change, settings=settings, bucket=bucket, table=pipeline.table).action == "published"

    # the edit that R1 rebuilds the feed for
    commit(FIRST, post(title="第一篇（更新）", categories="emnews"), "E0")
    ref = FeedRef.category("emnews")
    newer: dict[str, Any] = {}
    waited: list[LeaseBusyError] = []

    def newer_rebuild() -> None:
        # R2, another invocation (its own client and lease owner), triggered by the second post's commit
        table = PostsTable(pipeline.table.name, pipeline.table.client)
        original = table.acquire_lease

        def acquire(*args: Any, **kwargs: Any) -> FeedState:
            try:
                return original(*args, **kwargs)
            except LeaseBusyError as exc:
                waited.append(exc)
                raise

        table.acquire_lease = acquire  # type: ignore[method-assign]
        feeds = FeedsBucket(pipeline.stack.feeds_bucket, pipeline.s3, cache_control="no-cache")
        newer["outcome"] = rebuild_feed(ref, site=site, table=table, feeds=feeds, lease_seconds=60)

    thread = threading.Thread(target=newer_rebuild)
    stalled = threading.Event()

    def stall_first_put(request: Any, **_: Any) -> None:
        # the subscription document: written after R1 read the feed's newest entries (archive pages come first)
        if stalled.is_set() or not request.url.split("?")[0].endswith("/feed/emnews.xml"):
            return
        stalled.set()
        # WHILE R1 has read the feed (the edited first post only) and not yet written it: a second post commits ...
        commit(SECOND, post(title="第二篇", categories="emnews", date="2026-11-26 09:00:00 +0800"), "F0")
        # ... and R2 starts, and must wait for R1's lease
        thread.start()
        time.sleep(0.5)
        assert "outcome" not in newer, "R2 rebuilt the feed while R1 held its lease"

    # GIVEN R1, a rebuild whose first S3 put stalls
    reset_clients()
    session().events.register("before-send.s3.PutObject", stall_first_put)
    try:
        s3 = session().client("s3")
        stalled_feeds = FeedsBucket(pipeline.stack.feeds_bucket, s3, cache_control="no-cache")
        rebuild_feed(ref, site=site, table=pipeline.table, feeds=stalled_feeds, lease_seconds=60)
    finally:
        reset_clients()
    thread.join(timeout=30)
    # THEN R2 waited, then published after R1: the feed holds both posts, not R1's stale view
    assert stalled.is_set()
    assert waited, "R2 never met R1's lease"
    assert newer["outcome"].entries == 2
    assert entries(pipeline, "feed/emnews.xml") == ["第一篇（更新）", "第二篇"]
