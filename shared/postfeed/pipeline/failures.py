"""One structured log line for every failure of a handler, whatever raised it.

A failed record still fails as before (the SQS message returns to the queue, the stream batch is retried from
it): these helpers only say so, once, in the function's JSON log (Powertools Logger), with

* where: the object key (`key`, or `keys` when a message holds several), else what the record does carry (the
  stream record's table keys, a full rebuild's generation), and always the SQS `message_id` when there is one;
* what: `error_type` (the exception's class), `error` (its message), `code` for our own errors (their stable
  `code`, as `postfeed.jekyll.errors` lists them) and `aws_error_code` for an AWS error; `traceback` (the last
  frames only: a RecursionError's thousand frames would make a line nobody reads).

Every text is made encodable first: a key holding a lone surrogate (a percent-escape S3 never sends, but a
hand-made message may) must not turn the failure line itself into an error of the logging module.

`postfeed.pipeline.batch_failures.LoggedBatchProcessor` logs each failed record of a batch (a module of its own:
a function without a batch, publish_due, does not import Powertools' batch utilities). `logged_handler` does the
same for an error that escapes a whole invocation (a malformed event, a throttled call outside the per-record
handling); it re-raises, so Lambda retries as before.

    CloudWatch Logs Insights: fields @timestamp, key, error_type, error, code | filter failure = 1
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from aws_lambda_powertools import Logger

MAX_ERROR_CHARS = 2_000
MAX_KEYS = 20  # keys named on one line (a full rebuild's batch names 20 posts)
TRACEBACK_FRAMES = 8

Handler = TypeVar("Handler", bound=Callable[..., Any])
Describe = Callable[[Any], Mapping[str, Any]]


def error_fields(exc: BaseException) -> dict[str, Any]:
    """What a failure line says about the error: type, message, our stable `code`, AWS's error code."""
    fields: dict[str, Any] = {
        "failure": 1,
        "error_type": type(exc).__name__,
        "error": printable(str(exc))[:MAX_ERROR_CHARS],
    }
    code = getattr(exc, "code", None)
    if isinstance(code, str):
        fields["code"] = code
    response = getattr(exc, "response", None)  # botocore's ClientError (and its modelled subclasses)
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping) and error.get("Code"):
            fields["aws_error_code"] = printable(str(error["Code"]))
            fields["operation"] = printable(str(getattr(exc, "operation_name", "")))
    frames = traceback.format_tb(exc.__traceback__, limit=-TRACEBACK_FRAMES) if exc.__traceback__ else []
    fields["traceback"] = printable("".join(frames))
    return fields


def log_failure(logger: Logger, what: str, exc: BaseException, **where: Any) -> None:
    """The one line a failure leaves: `what` failed, where (keys, ids) and the error's fields."""
    fields = error_fields(exc)
    logger.error(
        f"{printable(what)} failed: {fields['error_type']}: {fields['error'][:300]}",
        **{name: printable_value(value) for name, value in where.items()},
        **fields,
    )


def printable(text: str) -> str:
    """`text` as UTF-8 can carry it (a lone surrogate becomes its escape)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def printable_value(value: Any) -> Any:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list | tuple):
        return [printable_value(item) for item in value]
    if isinstance(value, Mapping):
        return {printable(str(k)): printable_value(v) for k, v in value.items()}
    return value


def keyed(keys: list[str]) -> dict[str, Any]:
    """`{"key": k}` for one key, `{"keys": [...]}` for several (the first MAX_KEYS), `{}` for none."""
    if len(keys) == 1:
        return {"key": keys[0]}
    return {"keys": keys[:MAX_KEYS], "key_count": len(keys)} if keys else {}


def logged_handler(handler: Handler, logger: Logger, describe: Callable[[Any], Mapping[str, Any]]) -> Handler:
    """`handler(event, context)` that logs an error escaping it (with what `describe` finds in the event) and
    raises it again: Lambda retries the invocation as before, and its log says why in one line."""

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        try:
            return handler(event, context)
        except Exception as exc:
            try:
                where = dict(describe(event))
            except Exception as describe_error:
                where = {"describe_error": f"{type(describe_error).__name__}: {describe_error}"}
            log_failure(logger, "invocation", exc, **where)
            raise

    return wrapper  # type: ignore[return-value]


def stream_record_key(record: Mapping[str, Any]) -> str:
    """A DynamoDB stream record (Lambda's JSON) named by its object key when it is a post's (`POST#<key>`),
    else by its table keys (`pk sk`), else by its event id (an SQS record of the feed function's other source:
    its message id)."""
    from postfeed.store.items import POST_PK_PREFIX, POST_SK

    data = record.get("dynamodb")
    keys = data.get("Keys") if isinstance(data, Mapping) else None
    parts: dict[str, str] = {}
    for name in ("pk", "sk"):
        value = keys.get(name) if isinstance(keys, Mapping) else None
        if isinstance(value, Mapping) and value:
            parts[name] = str(next(iter(value.values())))
    pk, sk = parts.get("pk", ""), parts.get("sk", "")
    if pk.startswith(POST_PK_PREFIX) and sk == POST_SK:
        return pk.removeprefix(POST_PK_PREFIX)
    return f"{pk} {sk}".strip() or str(record.get("eventID") or record.get("messageId") or "?")


def describe_stream(records: Any) -> dict[str, Any]:
    """Where failed stream records point: their keys (`stream_record_key`) and their sequence numbers' range."""
    if not isinstance(records, list):
        return {"records": 0}  # not a batch of records at all
    readable = [r for r in records if isinstance(r, Mapping)]
    numbers = [
        str(r["dynamodb"]["SequenceNumber"])
        for r in readable
        if isinstance(r.get("dynamodb"), Mapping) and r["dynamodb"].get("SequenceNumber")
    ]
    where = keyed([stream_record_key(r) for r in readable]) | {"records": len(records)}
    if numbers:
        where |= {"first_sequence_number": numbers[0], "last_sequence_number": numbers[-1]}
    return where


def describe_stream_event(event: Any) -> dict[str, Any]:
    """`describe_stream` of a whole stream event (one that is not a stream batch at all included)."""
    return describe_stream(event.get("Records") if isinstance(event, Mapping) else None)
