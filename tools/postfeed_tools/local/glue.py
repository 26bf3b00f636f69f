"""Event glue: what Lambda's event source mappings do, done locally against moto.

- SQS -> IngestPostFunction: receive up to BatchSize messages, invoke with Lambda's SQS event shape,
  delete what succeeded, make failures visible again (the queue's redrive policy moves a message to the
  DLQ after maxReceiveCount receives). moto's S3 events carry no `sequencer`: we stamp one per message,
  increasing in the order S3 sent them, as S3 does (kept across redeliveries of the same message).
- EventBridge Scheduler -> PublishDueFunction: `run_schedule` is one scheduled run (`serve` runs it every
  SCHEDULE_SECONDS; tests call it).
- DynamoDB stream -> BuildFeedsFunction: read every shard from where we left off, apply the template's
  filter criteria, invoke in batches of BatchSize with Lambda's stream event shape, retry from the
  reported failure (bisecting a batch that errors), and after MaximumRetryAttempts send the batch's
  description to the on-failure queue and move on.
- SQS (render queue) -> BuildFeedsFunction: a full rebuild's render groups, delivered as the ingest queue's
  messages are (`pump_render_queue`).

This module is the only place that knows those shapes; tests, `postfeed run` and `serve` all use it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import json
import logging
import os
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from postfeed_tools.local.stack import EventSource, LocalFunction, LocalStack

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_sqs import SQSClient

Handler = Callable[[dict[str, Any], Any], Any]
LOGGER = logging.getLogger("postfeed_tools.local.glue")


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_seconds * 1000


def load_handler(function: LocalFunction) -> Handler:
    """The function's real handler, loaded from its CodeUri as Lambda would (`app.lambda_handler`)."""
    module_name, attribute = function.handler.rsplit(".", 1)
    path = function.code_dir / f"{module_name}.py"
    spec = importlib.util.spec_from_file_location(f"postfeed_local_{function.logical_id}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Handler = getattr(module, attribute)
    return handler


@contextlib.contextmanager
def environment_variables(variables: dict[str, str], reset: Callable[[], None]) -> Iterator[None]:
    """Set environment variables for the duration, calling `reset` on the way in and out (to forget what
    was built from the variables before)."""
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    reset()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset()


def function_environment(variables: dict[str, str]) -> contextlib.AbstractContextManager[None]:
    """The function's environment variables, set for the duration of an invocation (its adapters are built
    anew from them; the boto3 clients stay, as across warm invocations in Lambda)."""
    from postfeed.pipeline.wiring import reset_adapters

    return environment_variables(variables, reset_adapters)


def matches(pattern: Any, value: Any) -> bool:
    """Lambda event filtering (the subset the template uses): nested keys, lists of allowed values,
    `{"prefix": …}` and `{"exists": …}`."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(
            matches(sub, value.get(key)) if key in value or not _wants_existence(sub) else _exists_false(sub)
            for key, sub in pattern.items()
        )
    if isinstance(pattern, list):
        return any(_match_leaf(option, value) for option in pattern)
    return bool(pattern == value)


def _wants_existence(sub: Any) -> bool:
    return not (isinstance(sub, list) and any(isinstance(o, dict) and o.get("exists") is False for o in sub))


def _exists_false(sub: Any) -> bool:
    return isinstance(sub, list) and any(isinstance(o, dict) and o.get("exists") is False for o in sub)


def _match_leaf(option: Any, value: Any) -> bool:
    if isinstance(option, dict):
        if "prefix" in option:
            return isinstance(value, str) and value.startswith(option["prefix"])
        if "exists" in option:
            return (value is not None) == bool(option["exists"])
        return False
    return bool(option == value)


@dataclass
class Delivery:
    """Counts of what the glue delivered, for reports and benchmarks."""

    sqs_invocations: int = 0
    sqs_messages: int = 0
    sqs_failures: int = 0
    render_invocations: int = 0
    render_messages: int = 0
    render_failures: int = 0
    stream_invocations: int = 0
    stream_records: int = 0
    stream_failed_batches: int = 0


class EventGlue:
    def __init__(
        self,
        stack: LocalStack,
        *,
        sqs: SQSClient,
        streams: DynamoDBStreamsClient,
        environment: dict[str, str] | None = None,
    ) -> None:
        self.stack = stack
        self.sqs = sqs
        self.streams = streams
        self.environment = environment or {}
        self.delivery = Delivery()
        self._handlers: dict[str, Handler] = {}
        self._stamped: dict[str, str] = {}
        self._sequence = itertools.count(1)
        self._iterators: dict[str, str | None] = {}

    # -- SQS -> ingest ----------------------------------------------------------------------------

    def pump_queue(self) -> int:
        """One invocation of the ingest function with up to BatchSize messages; returns how many."""
        messages, failed = self._pump(self.stack.ingest, self.stack.ingest.source, self.stack.queue_url)
        self.delivery.sqs_invocations += 1 if messages else 0
        self.delivery.sqs_messages += messages
        self.delivery.sqs_failures += failed
        return messages

    def pump_render_queue(self) -> int:
        """One invocation of the feed function with up to BatchSize render groups; returns how many."""
        function = self.stack.build_feeds
        source = function.sqs_source()
        if source is None:
            return 0
        messages, failed = self._pump(function, source, source.queue_url)
        self.delivery.render_invocations += 1 if messages else 0
        self.delivery.render_messages += messages
        self.delivery.render_failures += failed
        return messages

    def _pump(self, function: LocalFunction, source: EventSource, queue_url: str) -> tuple[int, int]:
        """Receive, invoke, delete what succeeded and make failures visible again: (messages, failed)."""
        response = self.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(10, source.batch_size),
            AttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0, 0
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        event = {"Records": [self._sqs_record(message, queue_arn) for message in messages]}
        try:
            result = self._invoke(function, event) or {}
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        except Exception:  # an invocation error: Lambda returns the whole batch to the queue
            failed = {message["MessageId"] for message in messages}
        for message in messages:
            if message["MessageId"] in failed:
                # Visible again at once (locally we do not wait out the visibility timeout).
                self.sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages), len(failed)

    def _sqs_record(self, message: Any, queue_arn: str) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": self.stamp(message["MessageId"], message["Body"]),
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": self.stack.region,
        }

    def stamp(self, message_id: str, body: str) -> str:
        """The message body with sequencers stamped (once per message, kept across redeliveries)."""
        if message_id not in self._stamped:
            self._stamped[message_id] = stamp_sequencers(body, self._sequence)
        return self._stamped[message_id]

    def resume_sequencers(self, after: int) -> None:
        """Stamp sequencers from `after + 1` on. For `serve` restarted on a restored table
        (postfeed_tools.local.state): the table holds the sequencers the previous run stamped, and an event
        numbered from 1 again would be dropped as older than them."""
        self._sequence = itertools.count(after + 1)

    # -- stream -> feeds --------------------------------------------------------------------------

    def pump_stream(self) -> int:
        """Deliver every new stream record (in batches of BatchSize); returns how many records."""
        function = self.stack.build_feeds
        records = [r for r in self._new_stream_records() if self._passes_filter(function, r)]
        for start in range(0, len(records), function.source.batch_size):
            self._deliver_stream_batch(function, records[start : start + function.source.batch_size])
        return len(records)

    def _passes_filter(self, function: LocalFunction, record: dict[str, Any]) -> bool:
        patterns = function.source.filter_patterns
        return not patterns or any(matches(p, record) for p in patterns)

    def skip_stream(self) -> None:
        """Move the stream position past every record written so far, delivering none (the bulk path): each
        shard's iterator starts again at LATEST, without reading what lies before it."""
        description = self.streams.describe_stream(StreamArn=self.stack.stream_arn)["StreamDescription"]
        for shard in description["Shards"]:
            self._iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                StreamArn=self.stack.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]

    def _new_stream_records(self) -> list[dict[str, Any]]:
        description = self.streams.describe_stream(StreamArn=self.stack.stream_arn)["StreamDescription"]
        records: list[dict[str, Any]] = []
        for shard in description["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.stack.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            while iterator:
                page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                records += [self._stream_record(r) for r in page["Records"]]
                next_iterator = page.get("NextShardIterator")
                if not page["Records"]:
                    self._iterators[shard_id] = next_iterator or iterator
                    break
                iterator = next_iterator
                self._iterators[shard_id] = iterator
        return records

    def _stream_record(self, raw: Any) -> dict[str, Any]:
        record: dict[str, Any] = json.loads(json.dumps(raw, default=_json_default))
        created = raw["dynamodb"].get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            record["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
        record["eventSourceARN"] = self.stack.stream_arn
        return record

    def _deliver_stream_batch(self, function: LocalFunction, batch: Sequence[dict[str, Any]]) -> None:
        pending: list[Sequence[dict[str, Any]]] = [batch]
        attempts = 0
        while pending:
            current = pending.pop(0)
            if not current:
                continue
            self.delivery.stream_invocations += 1
            self.delivery.stream_records += len(current)
            try:
                result = self._invoke(function, {"Records": list(current)}) or {}
            except Exception:
                attempts += 1
                if attempts > function.source.max_retries:
                    self._give_up(current)
                    continue
                if function.source.bisect and len(current) > 1:
                    middle = len(current) // 2
                    pending[:0] = [current[:middle], current[middle:]]
                else:
                    pending.insert(0, current)
                continue
            failures = [f["itemIdentifier"] for f in result.get("batchItemFailures", [])]
            if failures:
                attempts += 1
                numbers = [r["dynamodb"]["SequenceNumber"] for r in current]
                first = min(numbers.index(f) for f in failures if f in numbers) if set(failures) & set(numbers) else 0
                if attempts > function.source.max_retries:
                    self._give_up(current[first:])
                    continue
                pending.insert(0, current[first:])

    def _give_up(self, records: Sequence[dict[str, Any]]) -> None:
        """Lambda's on-failure destination: a description of the batch, not the records themselves."""
        self.delivery.stream_failed_batches += 1
        if not self.stack.failure_queue_url:
            return
        numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
        self.sqs.send_message(
            QueueUrl=self.stack.failure_queue_url,
            MessageBody=json.dumps(
                {
                    "DDBStreamBatchInfo": {
                        "streamArn": self.stack.stream_arn,
                        "startSequenceNumber": numbers[0],
                        "endSequenceNumber": numbers[-1],
                        "batchSize": len(numbers),
                    }
                }
            ),
        )

    # -- schedule -> due posts ----------------------------------------------------------------------

    def run_schedule(self) -> Any:
        """One run of the scheduled function, as EventBridge Scheduler invokes it (no Input: `{}`); what it
        sends goes through the ingest queue at the next pump."""
        return self._invoke(self.stack.publish_due, {})

    # -- both ---------------------------------------------------------------------------------------

    def run_until_idle(self, max_rounds: int = 1_000_000) -> Delivery:
        """Deliver until neither the queue nor the stream has anything left."""
        for _ in range(max_rounds):
            moved = 0
            while self.pump_queue():
                moved += 1
            moved += self.pump_stream()
            while self.pump_render_queue():
                moved += 1
            if not moved:
                return self.delivery
        raise RuntimeError("the local pipeline did not settle")

    def environment_of(self, function: LocalFunction) -> contextlib.AbstractContextManager[None]:
        """The function's environment as the glue invokes it (template variables plus local overrides)."""
        return function_environment({**function.environment, **self.environment})

    def _invoke(self, function: LocalFunction, event: dict[str, Any]) -> Any:
        context = LambdaContext(
            function_name=function.logical_id, timeout_seconds=function.timeout, memory_limit_in_mb=function.memory_mb
        )
        # As in Lambda, the module is initialised with the function's environment (Powertools reads it then).
        with self.environment_of(function):
            try:
                if function.logical_id not in self._handlers:
                    self._handlers[function.logical_id] = load_handler(function)
                return self._handlers[function.logical_id](event, context)
            except Exception as exc:
                report_invocation_error(function, context, exc)
                raise


def report_invocation_error(function: LocalFunction, context: LambdaContext, exc: BaseException) -> None:
    """What Lambda's runtime does with an unhandled error: the error and its traceback in the function's
    log (here sys.stdout, where the functions' output goes), and a line for the console."""
    record = {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": context.aws_request_id,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }
    print(json.dumps(record, ensure_ascii=False), flush=True)
    LOGGER.error(
        f"{function.logical_id} failed: {type(exc).__name__}: {exc} (traceback in the functions' log; "
        "the batch is retried)",
        extra={"function": function.logical_id},
    )


def stamp_sequencers(body: str, counter: Iterator[int]) -> str:
    """Give each S3 record of a message a sequencer where it has none (moto sends none)."""
    try:
        payload = json.loads(body)
    except json.JSONDecodeError:
        return body
    if not isinstance(payload, dict) or not isinstance(payload.get("Records"), list):
        return body
    stamped = False
    for record in payload["Records"]:
        entity = record.get("s3") if isinstance(record, dict) else None
        obj = entity.get("object") if isinstance(entity, dict) else None
        if isinstance(obj, dict) and not obj.get("sequencer"):
            obj["sequencer"] = f"{next(counter):016X}"
            stamped = True
    # Untouched messages keep their bytes (a poison message must reach the DLQ exactly as sent).
    return json.dumps(payload) if stamped else body


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, bytes | bytearray):
        import base64

        return base64.b64encode(value).decode()
    raise TypeError(type(value))
