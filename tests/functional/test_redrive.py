"""`postfeed redrive` on moto: messages that kept failing sit in the DLQ intact; once the cause is fixed,
redrive moves them back byte for byte (deleting each only after it was sent) and the pipeline catches up."""

from __future__ import annotations

import json

import pytest

from postfeed_tools.cli import main
from postfeed_tools.deployed.redrive import redrive
from postfeed_tools.local.faults import FaultInjector, FaultKind, FaultRule
from postfeed_tools.local.pipeline import LocalPipeline
from tests.functional.test_pipeline_rules import KEY, entries, post

OTHER = "_posts/2026-11-26-加息+降准.md"
MAX_RECEIVES = 5  # the ingest queue's redrive policy in template.yaml


def peek(pipeline: LocalPipeline, url: str) -> list[str]:
    """The bodies in a queue, left visible."""
    sqs = pipeline.glue.sqs
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return sorted(m["Body"] for m in messages)


def dead_letters_after_an_outage(pipeline: LocalPipeline) -> list[str]:
    """Two uploads whose every read of S3 fails (an outage, a broken permission): both end in the DLQ."""
    outage = FaultRule("s3.GetObject", rate=1.0, kinds=(FaultKind.UNAVAILABLE,))
    with FaultInjector([outage], backoff_scale=0):
        pipeline.upload(KEY, post())
        pipeline.upload(OTHER, post(title="降准", categories="emnews"))
        delivery = pipeline.settle()
    assert delivery.sqs_failures == 2 * MAX_RECEIVES
    assert pipeline.feed_keys() == []
    bodies = peek(pipeline, pipeline.stack.dead_letter_queue_url)
    assert len(bodies) == 2
    return bodies


def test_poison_to_dlq_fix_redrive_processed(pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN two S3 events that failed as often as the redrive policy allows, in the DLQ as S3 sent them
    bodies = dead_letters_after_an_outage(pipeline)
    assert all(json.loads(b)["Records"][0]["eventName"].startswith("ObjectCreated") for b in bodies)
    # WHEN the outage is over and redrive runs (the ingest queue found from the DLQ's redrive policy)
    assert main(["redrive", "--dlq-url", pipeline.stack.dead_letter_queue_url]) == 0
    # THEN it reports both keys, the bodies are back in the ingest queue byte for byte, the DLQ is empty
    out = capsys.readouterr().out
    assert "moved 2 message(s)" in out
    assert f"  {KEY}\n" in out
    assert f"  {OTHER}\n" in out
    assert peek(pipeline, pipeline.stack.queue_url) == bodies
    assert peek(pipeline, pipeline.stack.dead_letter_queue_url) == []
    # AND the pipeline processes them: both posts in their feeds
    delivery = pipeline.settle()
    assert delivery.sqs_failures == 2 * MAX_RECEIVES  # only those of the outage
    assert entries(pipeline, "feed.xml") == ["央行开展逆回购操作", "降准"]
    assert entries(pipeline, "feed/emnews.xml") == ["降准"]


def test_dry_run_lists_and_moves_nothing(pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]) -> None:
    bodies = dead_letters_after_an_outage(pipeline)
    capsys.readouterr()  # the functions' failure lines during the outage (a logger may write to this stdout)
    assert main(["redrive", "--dlq-url", pipeline.stack.dead_letter_queue_url, "--dry-run", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["dry_run"] is True
    assert result["moved"] == 2
    assert sorted(result["keys"]) == sorted([KEY, OTHER])
    assert peek(pipeline, pipeline.stack.dead_letter_queue_url) == bodies  # still there, visible
    assert peek(pipeline, pipeline.stack.queue_url) == []


def test_max_moves_at_most_n(pipeline: LocalPipeline) -> None:
    dead_letters_after_an_outage(pipeline)
    result = redrive(
        pipeline.glue.sqs,
        dlq_url=pipeline.stack.dead_letter_queue_url,
        queue_url=pipeline.stack.queue_url,
        max_messages=1,
    )
    assert result.moved == 1
    assert len(result.keys) == 1
    assert len(peek(pipeline, pipeline.stack.queue_url)) == 1
    assert len(peek(pipeline, pipeline.stack.dead_letter_queue_url)) == 1


def test_a_failed_send_leaves_the_message_in_the_dlq(pipeline: LocalPipeline) -> None:
    bodies = dead_letters_after_an_outage(pipeline)
    sqs = pipeline.glue.sqs
    with pytest.raises(sqs.exceptions.ClientError):
        redrive(
            sqs,
            dlq_url=pipeline.stack.dead_letter_queue_url,
            queue_url=pipeline.stack.queue_url.rsplit("/", 1)[0] + "/no-such-queue",
            visibility_timeout=0,
        )
    assert peek(pipeline, pipeline.stack.dead_letter_queue_url) == bodies


def test_a_message_that_is_not_an_event_moves_as_it_is(pipeline: LocalPipeline) -> None:
    sqs = pipeline.glue.sqs
    pipeline.settle()  # the s3:TestEvent of the notification set-up
    body = '{"Records": [{"eventName": "ObjectCreated:Put", "s3": "not an object"}]}'
    sqs.send_message(QueueUrl=pipeline.stack.dead_letter_queue_url, MessageBody=body)
    result = redrive(sqs, dlq_url=pipeline.stack.dead_letter_queue_url, queue_url=pipeline.stack.queue_url)
    assert (result.moved, result.not_events, result.keys) == (1, 1, [])
    assert peek(pipeline, pipeline.stack.queue_url) == [body]


def test_stack_outputs_name_the_dlq(pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]) -> None:
    import boto3

    # GIVEN a deployed stack whose outputs name the DLQ (a stand-in with the template's output)
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {"IngestDeadLetterQueueUrl": {"Value": pipeline.stack.dead_letter_queue_url}},
    }
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="postfeed", TemplateBody=json.dumps(template)
    )
    dead_letters_after_an_outage(pipeline)
    assert main(["redrive", "--stack", "postfeed", "--max", "5"]) == 0
    assert "moved 2 message(s)" in capsys.readouterr().out
    assert peek(pipeline, pipeline.stack.dead_letter_queue_url) == []


def test_a_dlq_without_a_source_queue_is_refused(pipeline: LocalPipeline, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["redrive", "--dlq-url", pipeline.stack.failure_queue_url]) == 2
    assert "--queue-url" in capsys.readouterr().err
