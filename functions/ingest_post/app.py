"""IngestPostFunction: SQS messages carrying S3 events -> post state in the PostsTable.

Each message is one batch item (Powertools' BatchProcessor): a failure returns only that message to the
queue; after the queue's maxReceiveCount it lands, intact, in the dead-letter queue."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from postfeed.pipeline.ingest import Action, ingest_change
from postfeed.pipeline.tracing import traced
from postfeed.pipeline.wiring import adapters_from_env
from postfeed.store.events import changes_from_message

logger = Logger(service="postfeed-ingest")
metrics = Metrics(namespace="postfeed", service="postfeed-ingest")
# A batch where every record failed still answers with its failures (Lambda retries exactly those).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

METRIC_NAMES = {
    Action.PUBLISHED: "PostsIngested",
    Action.SKIPPED: "PostsSkipped",
    Action.REJECTED: "PostsRejected",
    Action.DELETED: "PostsDeleted",
    Action.UNCHANGED: "PostsUnchanged",
    Action.STALE: "StaleEvents",
    Action.IGNORED: "IgnoredEvents",
    Action.CONFIG: "ConfigChanges",
}


def record_handler(record: SQSRecord) -> None:
    adapters = adapters_from_env()
    for change in changes_from_message(record.body):
        logger.append_keys(correlation_id=f"{change.bucket}/{change.key}")
        outcome = ingest_change(change, settings=adapters.settings, bucket=adapters.posts, table=adapters.table)
        metrics.add_metric(name=METRIC_NAMES[outcome.action], unit=MetricUnit.Count, value=1)
        log = logger.warning if outcome.action is Action.REJECTED else logger.info
        log(
            f"{change.kind.value} {change.key}: {outcome.action.value}",
            action=outcome.action.value,
            code=outcome.code,
            detail=outcome.message,
            sequencer=change.sequencer,
        )


def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return traced(handle, "postfeed-ingest")(event, context)
