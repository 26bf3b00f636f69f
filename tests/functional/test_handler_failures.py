"""Every failure of a handler on moto leaves exactly one structured line in the function's log (Powertools'
JSON, captured from stdout) naming the object key, or the stream record's keys, or the message id, with the
error's type and message; and the record still fails as before (back to the queue, the stream retried)."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from postfeed_tools.local.faults import FaultInjector, FaultKind, FaultRule
from postfeed_tools.local.glue import LambdaContext, load_handler
from postfeed_tools.local.pipeline import LocalPipeline
from tests.functional.test_faults import RETRY_ATTEMPTS
from tests.functional.test_pipeline_rules import KEY, entries, post

MAX_RECEIVE_COUNT = 5  # template.yaml: the ingest queue's redrive policy
THROTTLED = FaultRule("dynamodb.*", rate=1.0, kinds=(FaultKind.THROTTLING,))
THROTTLE_CODES = {"ThrottlingException", "ProvisionedThroughputExceededException"}


FUNCTION_LOGGERS = ("postfeed-ingest", "postfeed-feeds", "postfeed-schedule")


class CurrentStdout:
    """Writes to whatever sys.stdout is when a line is written (capsys swaps it between a test's phases)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@pytest.fixture(autouse=True)
def function_logs() -> None:
    """The functions' JSON log lines on this test's captured stdout: Powertools gives a service's logger its
    handler once per process, bound to the stdout of that moment (an earlier test's capture, closed since).
    Each service's logger is made here if need be: the functions' own `Logger(service=...)` then reuse it."""
    for name in FUNCTION_LOGGERS:
        Logger(service=name)
    for handler in (h for name in FUNCTION_LOGGERS for h in logging.getLogger(name).handlers):
        if isinstance(handler, logging.StreamHandler):
            handler.stream = CurrentStdout()  # not setStream: it would flush the closed one first


def failure_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The failure lines the functions logged since the last read (not the runtime's own error records)."""
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return [line for line in logged if line.get("failure") == 1]


def s3_event(bucket: str, key: str) -> str:
    return json.dumps(
        {"Records": [{"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}
    )


def dead_letters(pipeline: LocalPipeline) -> list[str]:
    sqs = pipeline.glue.sqs
    messages = sqs.receive_message(QueueUrl=pipeline.stack.dead_letter_queue_url, MaxNumberOfMessages=10)
    return [message["Body"] for message in messages.get("Messages", [])]


# -- ingest ----------------------------------------------------------------------------------------


def test_a_body_that_is_not_json_is_logged_at_each_receive_then_dead_lettered(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    sent = pipeline.glue.sqs.send_message(QueueUrl=pipeline.stack.queue_url, MessageBody="{not json")
    delivery = pipeline.settle()
    lines = failure_lines(capsys)
    # THEN one line per failed receive, with the message id (the body names no key) and the error
    assert delivery.sqs_failures == MAX_RECEIVE_COUNT
    assert len(lines) == MAX_RECEIVE_COUNT
    assert {(line["message_id"], line["error_type"], line["service"]) for line in lines} == {
        (sent["MessageId"], "EventShapeError", "postfeed-ingest")
    }
    assert lines[0]["error"].startswith("message body is not JSON")
    assert lines[0]["level"] == "ERROR"
    assert "key" not in lines[0]
    # AND the message still went to the dead-letter queue, intact
    assert dead_letters(pipeline) == ["{not json"]


def test_a_key_utf8_cannot_carry_is_logged_escaped(pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a hand-made event whose key holds a lone surrogate (S3 never sends one): botocore cannot encode it
    capsys.readouterr()
    key = "_posts/2026-11-27-\ud800.md"
    pipeline.glue.sqs.send_message(QueueUrl=pipeline.stack.queue_url, MessageBody=s3_event("b", key))
    pipeline.settle()
    lines = failure_lines(capsys)
    assert len(lines) == MAX_RECEIVE_COUNT
    assert {(line["key"], line["error_type"]) for line in lines} == {
        ("_posts/2026-11-27-\\ud800.md", "UnicodeEncodeError")
    }


def test_a_missing_posts_bucket_is_logged_with_the_key_and_aws_error(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an ingest function pointed at a bucket that does not exist
    pipeline.glue.environment = {"POSTS_BUCKET": "postfeed-no-such-bucket"}
    capsys.readouterr()
    pipeline.upload(KEY, post())
    delivery = pipeline.settle()
    lines = failure_lines(capsys)
    assert delivery.sqs_failures == len(lines) == MAX_RECEIVE_COUNT
    line = lines[0]
    assert (line["key"], line["error_type"], line["aws_error_code"]) == (KEY, "NoSuchBucket", "NoSuchBucket")
    assert line["operation"] == "GetObject"
    assert line["message_id"]
    assert line["message"].startswith(f"{KEY} failed: NoSuchBucket")


def test_a_throttled_table_fails_the_upload_with_one_line_per_attempt(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    with FaultInjector([THROTTLED], backoff_scale=0):
        pipeline.upload(KEY, post())
        for _ in range(2):
            pipeline.glue.pump_queue()
    lines = failure_lines(capsys)
    assert pipeline.glue.delivery.sqs_failures == len(lines) == 2
    assert {line["key"] for line in lines} == {KEY}
    assert {line["aws_error_code"] for line in lines} <= {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
    }
    # AND once the table answers again, the redelivered message publishes the post
    pipeline.settle()
    assert entries(pipeline, "feed/yangxingwangzhan.xml") == ["央行开展逆回购操作"]
    assert failure_lines(capsys) == []


def test_a_malformed_record_and_a_malformed_event_each_leave_one_line(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest = load_handler(pipeline.stack.ingest)
    context = LambdaContext(function_name="IngestPostFunction", timeout_seconds=30)
    capsys.readouterr()
    with pipeline.glue.environment_of(pipeline.stack.ingest):
        # a record without a body: only it fails
        good = {"messageId": "m-good", "body": json.dumps({"Event": "s3:TestEvent"})}
        assert ingest({"Records": [{"messageId": "m-bad"}, good]}, context) == {
            "batchItemFailures": [{"itemIdentifier": "m-bad"}]
        }
        (line,) = failure_lines(capsys)
        assert (line["message_id"], line["error_type"], line["error"]) == ("m-bad", "KeyError", "'body'")
        # an event that is not a batch at all: the invocation fails, and says so once
        with pytest.raises(Exception, match="Unexpected batch event type") as raised:
            ingest({"Records": None}, context)
    (line,) = failure_lines(capsys)
    assert line["error_type"] == type(raised.value).__name__ == "UnexpectedBatchTypeError"
    assert line["message"].startswith("invocation failed: UnexpectedBatchTypeError")


# -- feeds -----------------------------------------------------------------------------------------


def test_a_throttled_stream_batch_names_its_records_at_each_retry(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a post ingested, its stream record not delivered yet
    pipeline.upload(KEY, post())
    while pipeline.glue.pump_queue():
        pass
    capsys.readouterr()
    # WHEN every table call of the feeds function is throttled
    with FaultInjector([THROTTLED], backoff_scale=0):
        pipeline.glue.pump_stream()
    # THEN each invocation left one line naming the record's post key, and the batch was retried then given up
    lines = failure_lines(capsys)
    delivery = pipeline.glue.delivery
    assert delivery.stream_failed_batches == 1
    assert len(lines) == delivery.stream_invocations > 1
    assert {(line["key"], line["service"]) for line in lines} == {(KEY, "postfeed-feeds")}
    assert all(line["first_sequence_number"] == line["last_sequence_number"] for line in lines)


def test_a_stream_record_that_cannot_be_read_is_logged_with_its_keys(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    build = load_handler(pipeline.stack.build_feeds)
    keys = {"pk": {"S": f"POST#{KEY}"}, "sk": {"S": "POST"}}
    record = {
        "eventID": "e-1",
        "eventName": "MODIFY",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": keys, "NewImage": {**keys, "entry": {"Q": "no such type"}}, "SequenceNumber": "42"},
    }
    capsys.readouterr()
    with pipeline.glue.environment_of(pipeline.stack.build_feeds), pytest.raises(TypeError):
        build({"Records": [record]}, LambdaContext("BuildFeedsFunction", 60))
    (line,) = failure_lines(capsys)
    assert (line["key"], line["first_sequence_number"], line["error_type"]) == (KEY, "42", "TypeError")


# -- publish-due -----------------------------------------------------------------------------------


def test_a_throttled_scheduled_run_logs_once_and_raises(
    pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    with FaultInjector([THROTTLED], backoff_scale=0) as faults, pytest.raises(ClientError) as raised:
        pipeline.glue.run_schedule()
    (line,) = failure_lines(capsys)
    assert line["service"] == "postfeed-schedule"
    assert line["error_type"] == type(raised.value).__name__
    assert line["aws_error_code"] in THROTTLE_CODES
    assert faults.requests["dynamodb.Query"] == RETRY_ATTEMPTS
