"""Future-dated posts on moto, on a site with `future: false` (plain Jekyll's default; GitHub Pages' is true):
skipped at upload, found by the scheduled function once their date has come, published through the ingest
queue; edits, deletes, duplicates and AWS faults."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from postfeed.store.items import utc_instant
from postfeed_tools.local.faults import FaultInjector, FaultKind, FaultRule
from postfeed_tools.local.pipeline import LocalPipeline
from tests.functional.test_pipeline_rules import KEY, entries, post

FEED = "feed/yangxingwangzhan.xml"  # post()'s category


@pytest.fixture
def pipeline(pipeline: LocalPipeline) -> LocalPipeline:
    pipeline.upload("_config.yml", b"future: false\n")
    pipeline.settle()
    return pipeline


def soon(seconds: float = 1.5) -> datetime:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0) + timedelta(seconds=1)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S +0000")


def wait_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.05)


def test_a_future_post_is_published_by_the_first_scheduled_run_after_its_date(pipeline: LocalPipeline) -> None:
    # GIVEN a published post, and a future-dated one uploaded beside it
    pipeline.upload("_posts/2026-11-01-old.md", post(title="旧闻", date="2026-11-01 09:00:00 +0800"))
    due = soon()
    pipeline.upload(KEY, post(title="明日公告", date=stamp(due)))
    pipeline.settle()
    # THEN it is skipped, with when it is due, and no feed shows it yet
    item = pipeline.table.get_post(KEY)
    assert item is not None
    assert (item["state"], item["skip"]["reason"]) == ("skipped", "future")
    assert (item["scheduled"], item["due_at"]) == ("1", utc_instant(due))
    assert entries(pipeline, FEED) == ["旧闻"]
    # AND a scheduled run before its date finds nothing to do
    assert pipeline.glue.run_schedule() == {"due": 0, "batches": 0}
    # WHEN the date has come and the scheduled function runs (twice before the ingest gets to it)
    wait_until(due)
    assert pipeline.glue.run_schedule() == {"due": 1, "batches": 1}
    assert pipeline.glue.run_schedule() == {"due": 1, "batches": 1}
    delivery = pipeline.settle()
    # THEN it is published in its feeds, once, and no longer scheduled
    assert delivery.sqs_failures == 0
    assert entries(pipeline, FEED) == ["明日公告", "旧闻"]
    assert entries(pipeline, "feed.xml") == ["明日公告", "旧闻"]
    item = pipeline.table.get_post(KEY)
    assert item is not None
    assert item["state"] == "published"
    assert "scheduled" not in item
    assert "due_at" not in item
    assert item["generation"] == f"due-{utc_instant(due)}"  # the duplicate batch found it done
    assert pipeline.glue.run_schedule() == {"due": 0, "batches": 0}


def test_a_scheduled_post_deleted_or_postponed_before_its_date_is_not_published(pipeline: LocalPipeline) -> None:
    due = soon()
    pipeline.upload(KEY, post(title="撤回", date=stamp(due)))
    pipeline.upload("_posts/2026-11-28-later.md", post(title="推迟", date=stamp(due)))
    pipeline.settle()
    # WHEN one is deleted and the other postponed by a day before their date
    pipeline.delete(KEY)
    later = due + timedelta(days=1)
    pipeline.upload("_posts/2026-11-28-later.md", post(title="推迟", date=stamp(later)))
    pipeline.settle()
    wait_until(due)
    # THEN the scheduled run finds nothing due; the postponed one waits for its new date
    assert pipeline.glue.run_schedule() == {"due": 0, "batches": 0}
    postponed = pipeline.table.get_post("_posts/2026-11-28-later.md")
    assert postponed is not None
    assert postponed["due_at"] == utc_instant(later)
    assert pipeline.table.due_posts(utc_instant(later)) == [("_posts/2026-11-28-later.md", utc_instant(later))]
    assert pipeline.feed(FEED) is None


def test_a_post_edited_while_due_is_published_as_it_is_now(pipeline: LocalPipeline) -> None:
    due = soon()
    pipeline.upload(KEY, post(title="初稿", date=stamp(due)))
    pipeline.settle()
    wait_until(due)
    assert pipeline.glue.run_schedule()["due"] == 1
    # WHEN the post is edited after the scheduled run sent it, before the ingest read it
    pipeline.upload(KEY, post(title="定稿", date=stamp(due)))
    pipeline.settle()
    # THEN the feeds show the edited version (the ingest re-reads S3, in any order)
    assert entries(pipeline, FEED) == ["定稿"]


@pytest.mark.parametrize("kind", [FaultKind.THROTTLING, FaultKind.INTERNAL_ERROR, FaultKind.UNAVAILABLE])
@pytest.mark.parametrize("operation", ["dynamodb.Query", "sqs.SendMessageBatch"])
def test_a_scheduled_run_that_fails_leaves_its_posts_to_the_next_run(
    pipeline: LocalPipeline, kind: FaultKind, operation: str
) -> None:
    due = soon()
    pipeline.upload(KEY, post(title="定时", date=stamp(due)))
    pipeline.settle()
    wait_until(due)
    # GIVEN AWS failing every attempt of one of the scheduled function's calls
    rule = FaultRule(operation, rate=1.0, kinds=(kind,))
    with FaultInjector([rule], backoff_scale=0) as faults, pytest.raises(ClientError):
        pipeline.glue.run_schedule()
    assert faults.total > 1  # the SDK retried before giving up
    pipeline.settle()
    assert pipeline.feed(FEED) is None  # nothing was lost: the post is still scheduled
    # WHEN the next scheduled run meets no fault, THEN it publishes the post
    assert pipeline.glue.run_schedule()["due"] == 1
    pipeline.settle()
    assert entries(pipeline, FEED) == ["定时"]
