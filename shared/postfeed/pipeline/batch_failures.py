"""Powertools' BatchProcessor that logs each failed record once (`postfeed.pipeline.failures.log_failure`).

Its documented hook, `failure_handler`, is extended: the records are processed and reported exactly as
BatchProcessor does (partial failures), and each failure is logged as it is collected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo

from postfeed.pipeline.failures import Describe, log_failure


class LoggedBatchProcessor(BatchProcessor):
    """BatchProcessor that logs each failed record once (`log_failure`), with what `describe` finds in it.

    Partial failures as BatchProcessor reports them; a batch whose every record failed answers with all of them
    (not BatchProcessingError: the function's log then holds one line per record, not a second one per batch).
    `on_failure` is called with each error (a metric, say)."""

    def __init__(
        self,
        event_type: EventType,
        *,
        logger: Logger,
        describe: Describe,
        what: str = "record",
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        super().__init__(event_type=event_type, raise_on_entire_batch_failure=False)
        self._failure_logger = logger
        self._describe = describe
        self._what = what
        self._on_failure = on_failure

    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        entry = super().failure_handler(record, exception)
        exc = exception[1]
        if exc is None:  # BatchProcessor only calls this from an `except` block: there is an error
            return entry
        try:
            where = dict(self._describe(record))
        except Exception as describe_error:  # a record too malformed to describe still gets its line
            where = {"describe_error": f"{type(describe_error).__name__}: {describe_error}"}
        what = where.get("key") or f"{self._what} {where.get('message_id') or ''}".strip()
        log_failure(self._failure_logger, str(what), exc, **where)
        if self._on_failure is not None:
            self._on_failure(exc)
        return entry
