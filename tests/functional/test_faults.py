"""The fault injector on the real handlers against moto: each fault kind reaches botocore as AWS would send
it, botocore's standard retry mode absorbs it, and a call that still fails sends its record back to the
queue or the stream, whose redelivery completes the work."""

from __future__ import annotations

import pytest
from moto import mock_aws

from postfeed.models import FeedRef
from postfeed.store.pages import FeedPages
from postfeed.store.table import LeaseBusyError, lease_owner
from postfeed_tools.local.faults import FaultInjector, FaultKind, FaultRule
from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT, LocalPipeline
from tests.functional.conftest import FEED_BASE_URL, FINEWS_PARAMETERS
from tests.functional.test_pipeline_rules import KEY, entries, post

# postfeed.store.clients.client_config: botocore's `max_attempts` counts retries, so a call is 1 + 6 requests.
RETRY_ATTEMPTS = 7


@pytest.mark.parametrize("kind", list(FaultKind))
def test_each_fault_kind_is_retried_by_botocore(pipeline: LocalPipeline, kind: FaultKind) -> None:
    # GIVEN the first read of the post fails once with this fault
    with FaultInjector([FaultRule("s3.GetObject", calls=frozenset({1}), kinds=(kind,))], backoff_scale=0) as faults:
        # WHEN the upload is delivered
        pipeline.upload(KEY, post())
        delivery = pipeline.settle()
    # THEN botocore retried the request and the record never failed
    assert faults.injected == {kind.value: 1}
    assert faults.requests["s3.GetObject"] == 2
    assert delivery.sqs_failures == 0
    assert entries(pipeline, "feed/yangxingwangzhan.xml") == ["央行开展逆回购操作"]


@pytest.mark.parametrize(
    ("kind", "service", "code"),
    [
        (FaultKind.THROTTLING, "s3", "SlowDown"),
        (FaultKind.INTERNAL_ERROR, "s3", "InternalError"),
        (FaultKind.UNAVAILABLE, "dynamodb", "ServiceUnavailable"),
        (FaultKind.INTERNAL_ERROR, "dynamodb", "InternalServerError"),
    ],
)
def test_synthetic_errors_parse_as_the_service_would_send_them(
    pipeline: LocalPipeline, kind: FaultKind, service: str, code: str
) -> None:
    from botocore.config import Config
    from botocore.exceptions import ClientError

    from postfeed.store.clients import session

    with FaultInjector([FaultRule(f"{service}.*", rate=1.0, kinds=(kind,))], backoff_scale=0) as faults:
        client = session().client(service, config=Config(retries={"mode": "standard", "total_max_attempts": 1}))  # type: ignore[call-overload]

        def call() -> object:
            if service == "s3":
                return client.get_object(Bucket=pipeline.stack.posts_bucket, Key=KEY)
            return client.get_item(TableName=pipeline.stack.table, Key={"pk": {"S": "x"}, "sk": {"S": "y"}})

        with pytest.raises(ClientError) as raised:
            call()
    assert raised.value.response["Error"]["Code"] == code
    assert faults.injected == {kind.value: 1}


@pytest.mark.parametrize("kind", list(FaultKind))
def test_only_a_read_timeout_is_applied_behind_the_fault(pipeline: LocalPipeline, kind: FaultKind) -> None:
    from postfeed.store.clients import client_config, session

    # GIVEN a call that is not idempotent (each application adds a message), failing once
    with FaultInjector([FaultRule("sqs.SendMessage", calls=frozenset({1}), kinds=(kind,))], backoff_scale=0):
        session().client("sqs", config=client_config()).send_message(
            QueueUrl=pipeline.stack.failure_queue_url, MessageBody="once"
        )
    # THEN the failed attempt reached the service only when the fault is a lost answer
    received = pipeline.glue.sqs.receive_message(QueueUrl=pipeline.stack.failure_queue_url, MaxNumberOfMessages=10)
    assert len(received.get("Messages", [])) == (2 if kind is FaultKind.READ_TIMEOUT else 1)


def test_dynamodb_throttling_uses_both_of_its_codes(pipeline: LocalPipeline) -> None:
    from botocore.config import Config
    from botocore.exceptions import ClientError

    from postfeed.store.clients import session

    codes = set()
    with FaultInjector([FaultRule("dynamodb.*", rate=1.0, kinds=(FaultKind.THROTTLING,))], seed=3, backoff_scale=0):
        client = session().client("dynamodb", config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
        for _ in range(20):
            with pytest.raises(ClientError) as raised:
                client.get_item(TableName=pipeline.stack.table, Key={"pk": {"S": "x"}, "sk": {"S": "y"}})
            codes.add(raised.value.response["Error"]["Code"])
    assert codes == {"ThrottlingException", "ProvisionedThroughputExceededException"}


def test_a_call_that_fails_every_attempt_sends_its_message_back_to_the_queue(pipeline: LocalPipeline) -> None:
    # GIVEN the read of the post fails on all of botocore's attempts, once
    rule = FaultRule("s3.GetObject", calls=frozenset(range(1, RETRY_ATTEMPTS + 1)), kinds=(FaultKind.UNAVAILABLE,))
    with FaultInjector([rule], backoff_scale=0) as faults:
        pipeline.upload(KEY, post())
        delivery = pipeline.settle()
    # THEN the message failed once, came back, and the second delivery published the post
    assert faults.total == RETRY_ATTEMPTS
    assert faults.requests["s3.GetObject"] == RETRY_ATTEMPTS + 1
    assert delivery.sqs_failures == 1
    assert entries(pipeline, "feed.xml") == ["央行开展逆回购操作"]
    assert _dead_letters(pipeline) == []


def test_a_feed_put_that_fails_every_attempt_is_retried_from_the_stream(pipeline: LocalPipeline) -> None:
    rule = FaultRule("s3.PutObject", calls=frozenset(range(1, RETRY_ATTEMPTS + 1)), kinds=(FaultKind.THROTTLING,))
    with FaultInjector([rule], backoff_scale=0) as faults:
        pipeline.upload(KEY, post())
        delivery = pipeline.settle()
    assert faults.total == RETRY_ATTEMPTS
    assert delivery.stream_invocations == 2  # the failed batch, then its retry
    assert delivery.stream_failed_batches == 0
    assert entries(pipeline, "feed/yangxingwangzhan.xml") == ["央行开展逆回购操作"]


def test_a_lost_answer_to_the_post_write_is_not_applied_twice(pipeline: LocalPipeline) -> None:
    # GIVEN the transaction that publishes the post is applied, but its answer is lost
    rule = FaultRule("dynamodb.TransactWriteItems", calls=frozenset({1}), kinds=(FaultKind.READ_TIMEOUT,))
    with FaultInjector([rule], backoff_scale=0) as faults:
        pipeline.upload(KEY, post())
        delivery = pipeline.settle()
    # THEN botocore's retry finds the item moved on, the ingest decides again (unchanged) and nothing fails
    assert faults.injected == {"read_timeout": 1}
    assert delivery.sqs_failures == 0
    item = pipeline.table.get_post(KEY)
    assert item is not None
    assert item["version"] == 1
    assert entries(pipeline, "feed.xml") == ["央行开展逆回购操作"]


def test_a_lost_answer_to_the_lease_write_does_not_lock_the_feed(pipeline: LocalPipeline) -> None:
    # GIVEN the first rebuild's lease is taken but the answer is lost: botocore retries the conditional write
    rule = FaultRule("dynamodb.UpdateItem", calls=frozenset({1}), kinds=(FaultKind.READ_TIMEOUT,))
    with FaultInjector([rule], backoff_scale=0) as faults:
        pipeline.upload(KEY, post())
        delivery = pipeline.settle()
    # THEN the retry takes back its own lease: no failed invocation, no waiting out the lease
    assert faults.injected == {"read_timeout": 1}
    assert delivery.stream_invocations == 1
    assert delivery.stream_failed_batches == 0
    assert entries(pipeline, "feed/yangxingwangzhan.xml") == ["央行开展逆回购操作"]


def test_a_lease_is_taken_back_by_its_holder_and_by_no_one_else(pipeline: LocalPipeline) -> None:
    ref = FeedRef.category("yangxingwangzhan")
    pipeline.table.acquire_lease(ref, lease_owner(), seconds=60)
    pipeline.table.acquire_lease(ref, lease_owner(), seconds=60)  # our own: taken again
    with pytest.raises(LeaseBusyError):
        pipeline.table.acquire_lease(ref, "another-environment", seconds=60)
    pages = FeedPages(pipeline.table)
    pages.acquire_index(lease_owner(), 60)
    pages.acquire_index(lease_owner(), 60)
    with pytest.raises(LeaseBusyError):
        pages.acquire_index("another-environment", 60)


def test_faults_are_reproducible_from_the_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {**LOCAL_AWS_ENVIRONMENT, "POWERTOOLS_METRICS_DISABLED": "true"}.items():
        monkeypatch.setenv(key, value)

    def run(seed: int) -> list[tuple[str, str, int]]:
        with mock_aws():
            pipeline = LocalPipeline.create(parameters=FINEWS_PARAMETERS, feed_base_url=FEED_BASE_URL)
            with FaultInjector([FaultRule("*", rate=0.2)], seed=seed, backoff_scale=0) as faults:
                pipeline.upload(KEY, post())
                pipeline.settle()
        return [(f.operation, f.kind.value, f.request_number) for f in faults.history]

    # The same calls in the same order meet the same faults; another seed, others.
    first = run(11)
    assert first
    assert run(11) == first
    assert run(12) != first


def test_backoff_is_counted_not_slept_when_scaled_to_zero(pipeline: LocalPipeline) -> None:
    import time

    rule = FaultRule("dynamodb.GetItem", calls=frozenset({1, 2, 3}), kinds=(FaultKind.THROTTLING,))
    started = time.monotonic()
    with FaultInjector([rule], backoff_scale=0) as faults:
        pipeline.upload(KEY, post())
        pipeline.settle()
    # three throttling retries ask for up to 1 + 2 + 4 seconds; none of it is waited for
    assert faults.backoff_seconds > 0
    assert time.monotonic() - started < 5
    assert faults.injected == {"throttling": 3}


def test_uninstalled_injector_leaves_the_clients_alone(pipeline: LocalPipeline) -> None:
    with FaultInjector([FaultRule("*", rate=1.0)], backoff_scale=0) as faults:
        pass
    pipeline.upload(KEY, post())
    delivery = pipeline.settle()
    assert faults.total == 0
    assert delivery.sqs_failures == 0


def test_rules_are_validated() -> None:
    with pytest.raises(ValueError, match="rate"):
        FaultRule(rate=1.5)
    with pytest.raises(ValueError, match="kind"):
        FaultRule(kinds=())


def _dead_letters(pipeline: LocalPipeline) -> list[str]:
    response = pipeline.glue.sqs.receive_message(QueueUrl=pipeline.stack.dead_letter_queue_url, MaxNumberOfMessages=10)
    return [m["Body"] for m in response.get("Messages", [])]
