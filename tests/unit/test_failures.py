"""postfeed.pipeline.failures without AWS: whatever a record handler raises, the batch answers with exactly the
failed records (as Powertools' BatchProcessor does) and the log holds one JSON line per failure, with where it
happened and the error's type, message and code."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from postfeed.jekyll.errors import CONFIG_YAML, ConfigError
from postfeed.pipeline.batch_failures import LoggedBatchProcessor
from postfeed.pipeline.failures import (
    describe_stream_event,
    error_fields,
    logged_handler,
    printable,
)
from postfeed.store.table import ConcurrentUpdateError
from postfeed.store.work import ReparseBatch


def recurse(depth: int) -> int:
    return recurse(depth + 1) + 1


def throttled() -> None:
    from botocore.exceptions import ClientError

    raise ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate exceeds the allowed"}},
        "TransactWriteItems",
    )


def invalid_work_item() -> None:
    ReparseBatch.model_validate({"postfeed": "reparse", "generation": "", "keys": []})


def out_of_memory() -> None:
    raise MemoryError


def config_error() -> None:
    raise ConfigError(CONFIG_YAML, "_config.yml: not a mapping of settings")


# body -> (what the handler does with it, the error type logged)
FAILING: dict[str, tuple[Callable[[], object], str]] = {
    "recursion": (lambda: recurse(0), "RecursionError"),
    "memory": (out_of_memory, "MemoryError"),
    "unicode": (lambda: b"caf\xe9".decode("utf-8"), "UnicodeDecodeError"),
    "aws": (throttled, "ClientError"),
    "pydantic": (invalid_work_item, "ValidationError"),
    "malformed": (lambda: dict[str, str]()["body"], "KeyError"),
    "ours": (config_error, "ConfigError"),
    "contended": (lambda: (_ for _ in ()).throw(ConcurrentUpdateError("SITE CONFIG")), "ConcurrentUpdateError"),
}


def sqs_record(message_id: str, body: str) -> dict[str, Any]:
    return {"messageId": message_id, "receiptHandle": "r", "body": body, "attributes": {}, "eventSource": "aws:sqs"}


@pytest.fixture
def log() -> tuple[Logger, io.StringIO]:
    buffer = io.StringIO()
    # A service of its own per test: Powertools keeps the first handler of a service's logger.
    service = f"failures-test-{uuid.uuid4().hex}"
    return Logger(service=service, logger_handler=logging.StreamHandler(buffer)), buffer


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_every_kind_of_failure_leaves_one_line_and_fails_only_its_record(log: tuple[Logger, io.StringIO]) -> None:
    logger, buffer = log

    def handler(record: SQSRecord) -> None:
        if record.body in FAILING:
            FAILING[record.body][0]()

    processor = LoggedBatchProcessor(
        EventType.SQS, logger=logger, describe=lambda record: {"message_id": record.message_id, "key": record.body}
    )
    records = [sqs_record(f"m-{body}", body) for body in [*FAILING, "fine"]]
    # WHEN a batch holds one record failing for each reason, and one that succeeds
    response = process_partial_response({"Records": records}, handler, processor)
    # THEN exactly the failed records are reported, for Lambda to retry
    assert response == {"batchItemFailures": [{"itemIdentifier": f"m-{body}"} for body in FAILING]}
    # AND each left exactly one ERROR line naming its record and its error
    logged = lines(buffer)
    assert [(line["key"], line["error_type"]) for line in logged] == [(b, t) for b, (_, t) in FAILING.items()]
    assert all(line["level"] == "ERROR" and line["failure"] == 1 for line in logged)
    by_key = {line["key"]: line for line in logged}
    assert by_key["recursion"]["error"] == "maximum recursion depth exceeded"
    assert by_key["recursion"]["traceback"].count("in recurse") <= 8  # the last frames, not a thousand
    assert by_key["ours"]["code"] == CONFIG_YAML
    assert by_key["aws"]["aws_error_code"] == "ProvisionedThroughputExceededException"
    assert by_key["aws"]["operation"] == "TransactWriteItems"
    assert "generation" in by_key["pydantic"]["error"]
    assert by_key["malformed"]["error"] == "'body'"
    assert by_key["contended"]["code"] == "concurrent_update_error"


def test_a_batch_where_every_record_failed_answers_with_all_of_them(log: tuple[Logger, io.StringIO]) -> None:
    logger, buffer = log

    def handler(record: SQSRecord) -> None:
        raise KeyError(record.body)

    processor = LoggedBatchProcessor(EventType.SQS, logger=logger, describe=lambda r: {"message_id": r.message_id})
    response = process_partial_response({"Records": [sqs_record("a", "1"), sqs_record("b", "2")]}, handler, processor)
    assert response == {"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "b"}]}
    assert [(line["message_id"], line["message"]) for line in lines(buffer)] == [
        ("a", "record a failed: KeyError: '1'"),
        ("b", "record b failed: KeyError: '2'"),
    ]


def test_a_record_that_cannot_be_described_still_gets_its_line(log: tuple[Logger, io.StringIO]) -> None:
    logger, buffer = log

    def describe(record: SQSRecord) -> dict[str, Any]:
        return {"message_id": record["no such field"]}

    def handler(record: SQSRecord) -> float:
        return 1 / 0

    processor = LoggedBatchProcessor(EventType.SQS, logger=logger, describe=describe)
    response = process_partial_response({"Records": [sqs_record("a", "x")]}, handler, processor)
    assert response == {"batchItemFailures": [{"itemIdentifier": "a"}]}
    (line,) = lines(buffer)
    assert line["error_type"] == "ZeroDivisionError"
    assert line["describe_error"] == "KeyError: 'no such field'"


def test_an_error_escaping_the_invocation_is_logged_once_and_raised_again(log: tuple[Logger, io.StringIO]) -> None:
    logger, buffer = log
    event = {
        "Records": [
            {"eventID": "1", "dynamodb": {"Keys": {"pk": {"S": "POST#_posts/a.md"}, "sk": {"S": "POST"}}}},
            {"eventID": "2", "dynamodb": {"Keys": {"pk": {"S": "SITE"}, "sk": {"S": "XSLT"}}, "SequenceNumber": "9"}},
            {"eventID": "3"},
            {"messageId": "m-4", "eventSource": "aws:sqs"},
        ]
    }

    def handler(event: dict[str, Any], context: Any) -> None:
        raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")

    with pytest.raises(UnicodeEncodeError):
        logged_handler(handler, logger, describe_stream_event)(event, None)
    (line,) = lines(buffer)
    assert line["keys"] == ["_posts/a.md", "SITE XSLT", "3", "m-4"]
    assert line["records"] == 4
    assert line["first_sequence_number"] == line["last_sequence_number"] == "9"
    assert line["error_type"] == "UnicodeEncodeError"
    # an event that is not a batch at all is described as such, not a second error
    with pytest.raises(ValueError, match="no batch"):
        logged_handler(lambda e, c: (_ for _ in ()).throw(ValueError("no batch")), logger, describe_stream_event)(
            "nonsense", None
        )
    assert lines(buffer)[-1]["records"] == 0


def test_texts_that_utf8_cannot_carry_are_escaped() -> None:
    assert printable("_posts/\ud800.md") == "_posts/\\ud800.md"
    fields = error_fields(KeyError("\udcff"))
    json.dumps(fields, ensure_ascii=False).encode("utf-8")  # would raise on a lone surrogate
    assert fields["error"] == "'\\udcff'"
