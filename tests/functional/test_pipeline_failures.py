"""Failure paths of the pipeline on moto: poison messages, racing rebuilds, the handlers' sample events."""

from __future__ import annotations

import json
import logging
import time

import pytest

from postfeed.models import FeedRef
from postfeed.pipeline.ingest import current_site
from postfeed.pipeline.rebuild import rebuild_feed
from postfeed.pipeline.settings import Settings
from postfeed.store.bucket import FeedsBucket
from postfeed.store.records import FeedState
from postfeed.store.table import LeaseBusyError
from postfeed_tools.local.glue import LambdaContext, load_handler
from postfeed_tools.local.pipeline import LocalPipeline
from tests.conftest import load_event
from tests.functional.test_pipeline_rules import KEY, entries, post


def test_poison_message_lands_in_the_dead_letter_queue_intact(pipeline: LocalPipeline) -> None:
    # GIVEN a message that is not an S3 event at all
    body = '{"Records": [{"eventName": "ObjectCreated:Put", "s3": "not an object"}]}'
    sqs = pipeline.glue.sqs
    sqs.send_message(QueueUrl=pipeline.stack.queue_url, MessageBody=body)
    # WHEN it has been received as often as the redrive policy allows
    pipeline.settle()
    # THEN it sits in the DLQ byte for byte, and the queue is empty
    dead = sqs.receive_message(QueueUrl=pipeline.stack.dead_letter_queue_url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in dead] == [body]
    assert pipeline.glue.delivery.sqs_failures == 5  # maxReceiveCount in template.yaml
    assert sqs.receive_message(QueueUrl=pipeline.stack.queue_url).get("Messages", []) == []


def test_an_invocation_error_leaves_its_traceback_in_the_function_log(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a post ingested, then a misconfigured feeds function: each invocation fails before any record
    pipeline.upload(KEY, post())
    while pipeline.glue.pump_queue():
        pass
    pipeline.glue.environment = {"POSTS_LIMIT": "lots"}
    caplog.set_level(logging.ERROR, logger="postfeed_tools.local.glue")
    pipeline.glue.pump_stream()
    invocations = pipeline.glue.delivery.stream_invocations
    assert invocations > 1  # retried as the template says, then given up
    # THEN as in Lambda, the function's log holds each error with its traceback (one JSON object each)
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"errorMessage"')]
    assert {(record["errorType"], record["errorMessage"]) for record in logged} == {
        ("ValueError", "invalid literal for int() with base 10: 'lots'")
    }
    assert len(logged) == invocations
    assert all(any("handle" in frame for frame in record["stackTrace"]) for record in logged)
    # AND the console gets one line per failed invocation that names the function and says it is retried
    lines = [record.getMessage() for record in caplog.records if record.name == "postfeed_tools.local.glue"]
    assert len(lines) == invocations
    assert lines[0].startswith("BuildFeedsFunction failed: ValueError: invalid literal")
    assert lines[0].endswith("the batch is retried)")


def test_a_rebuild_waits_for_the_feed_lease_and_never_overlaps(pipeline: LocalPipeline) -> None:
    pipeline.upload(KEY, post())
    pipeline.settle()
    site, _ = current_site(pipeline_settings(pipeline), pipeline.table)
    ref = FeedRef.category("yangxingwangzhan")
    # GIVEN another rebuild holding the feed's lease
    pipeline.table.acquire_lease(ref, "other-invocation", seconds=60)
    # WHEN a second rebuild starts, it gives up (its stream record is retried) rather than overlap
    with pytest.raises(LeaseBusyError):
        rebuild_feed(ref, site=site, table=pipeline.table, feeds=feeds_bucket(pipeline), lease_seconds=60)
    # AND once the holder's lease has expired, a rebuild takes over
    pipeline.table.release_lease(ref, "other-invocation", FeedState())
    pipeline.table.acquire_lease(ref, "crashed-invocation", seconds=0.01)
    time.sleep(0.05)
    outcome = rebuild_feed(ref, site=site, table=pipeline.table, feeds=feeds_bucket(pipeline), lease_seconds=60)
    assert outcome.entries == 1


def test_a_failed_rebuild_is_retried_from_the_stream(pipeline: LocalPipeline) -> None:
    # GIVEN a lease held by an invocation that died (it expires within the retries)
    ref = FeedRef.category("yangxingwangzhan")
    pipeline.table.acquire_lease(ref, "crashed-invocation", seconds=1.0)
    pipeline.upload(KEY, post())
    # WHEN the stream is delivered: the first attempts fail, the retry after expiry succeeds
    pipeline.settle()
    assert entries(pipeline, "feed/yangxingwangzhan.xml") == ["央行开展逆回购操作"]
    assert pipeline.glue.delivery.stream_failed_batches == 0


def test_sample_events_drive_the_handlers(pipeline: LocalPipeline, seed_bytes: bytes) -> None:
    ingest = load_handler(pipeline.stack.ingest)
    context = LambdaContext(function_name="IngestPostFunction", timeout_seconds=30)
    with pipeline.glue.environment_of(pipeline.stack.ingest):
        # the test event and a put of a post that is not in the bucket: nothing fails
        assert ingest(load_event("sqs_s3_test_event.json"), context) == {"batchItemFailures": []}
        pipeline.s3.put_object(
            Bucket=pipeline.stack.posts_bucket,
            Key=json.loads(load_event("sqs_s3_put_post.json")["Records"][0]["body"])["Records"][0]["s3"]["object"][
                "key"
            ],
            Body=seed_bytes,
        )
        assert ingest(load_event("sqs_s3_put_post.json"), context) == {"batchItemFailures": []}
    item = pipeline.table.get_post("_posts/2022-03-11-202203112305364917.md")
    assert item is not None
    assert item["state"] == "published"
    build = load_handler(pipeline.stack.build_feeds)
    with pipeline.glue.environment_of(pipeline.stack.build_feeds):
        result = build(load_event("ddb_stream_post_batch.json"), LambdaContext("BuildFeedsFunction", 60))
    assert result == {"batchItemFailures": []}
    assert "feed/yangxingwangzhan.xml" in pipeline.feed_keys()
    due = load_handler(pipeline.stack.publish_due)
    with pipeline.glue.environment_of(pipeline.stack.publish_due):
        assert due(load_event("schedule_due_check.json"), LambdaContext("PublishDueFunction", 30)) == {
            "due": 0,
            "batches": 0,
        }


def pipeline_settings(pipeline: LocalPipeline) -> Settings:
    return Settings.from_env({**pipeline.stack.build_feeds.environment, **pipeline.glue.environment})


def feeds_bucket(pipeline: LocalPipeline) -> FeedsBucket:
    return FeedsBucket(pipeline.stack.feeds_bucket, pipeline.s3, cache_control="public, max-age=300")
