"""IngestPostFunction: SQS messages carrying S3 events -> post state in the PostsTable.

Each message is one batch item (Powertools' BatchProcessor): a failure returns only that message to the
queue; after the queue's maxReceiveCount it lands, intact, in the dead-letter queue. Each failure leaves one
ERROR line in the log, with the object key (or the work item's generation) and the message id, the error's type,
message and code (postfeed.pipeline.failures), and counts in the `RecordsFailed` metric."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from postfeed.pipeline.batch_failures import LoggedBatchProcessor
from postfeed.pipeline.failures import keyed, logged_handler, printable
from postfeed.pipeline.ingest import Action, ingest_change
from postfeed.pipeline.tracing import traced
from postfeed.pipeline.wiring import Adapters, adapters_from_env
from postfeed.store.events import changes_from_message
from postfeed.store.work import ReparseBatch, ReparsePlan, WorkItem, work_item_from_message

logger = Logger(service="postfeed-ingest")
metrics = Metrics(namespace="postfeed", service="postfeed-ingest")


def describe_message(record: SQSRecord) -> dict[str, Any]:
    """Where a failed message points: its object keys (bucket/key), or its work item's generation and keys."""
    where: dict[str, Any] = {"message_id": record.message_id}
    try:
        item = work_item_from_message(record.body)
        if item is not None:
            keys = list(item.keys) if isinstance(item, ReparseBatch) else []
            return where | {"generation": item.generation, "reason": item.reason} | keyed(keys)
        changes = changes_from_message(record.body)
    except Exception:  # not a message we can read: its id is all there is
        return where
    return where | keyed([change.key for change in changes]) | {"bucket": sorted({c.bucket for c in changes})}


def _count_failure(_: BaseException) -> None:
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=1)


# A batch where every record failed still answers with its failures (Lambda retries exactly those).
processor = LoggedBatchProcessor(
    EventType.SQS, logger=logger, describe=describe_message, what="message", on_failure=_count_failure
)

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
    logger.remove_keys(["correlation_id"])  # the previous record's, which this one must not be logged under
    adapters = adapters_from_env()
    item = work_item_from_message(record.body)
    if item is not None:
        _work(item, adapters)
        return
    for change in changes_from_message(record.body):
        logger.append_keys(correlation_id=printable(f"{change.bucket}/{change.key}"))
        outcome = ingest_change(
            change, settings=adapters.settings, bucket=adapters.posts, table=adapters.table, queue=adapters.queue
        )
        metrics.add_metric(name=METRIC_NAMES[outcome.action], unit=MetricUnit.Count, value=1)
        log = logger.warning if outcome.action is Action.REJECTED else logger.info
        log(
            f"{change.kind.value} {change.key}: {outcome.action.value}",
            action=outcome.action.value,
            code=outcome.code,
            detail=outcome.message,
            sequencer=change.sequencer,
        )


def _work(item: WorkItem, adapters: Adapters) -> None:
    """One step of a full rebuild (postfeed.pipeline.reparse), with its progress in the logs and metrics."""
    from postfeed.pipeline.reparse import handle_work_item

    logger.append_keys(correlation_id=f"reparse/{item.generation}")
    result = handle_work_item(
        item,
        settings=adapters.settings,
        bucket=adapters.posts,
        table=adapters.table,
        queue=adapters.queue,
        render_queue=adapters.render_queue,
    )
    if result.groups is not None:  # this step found every batch done: phase 2 is on the render queue
        metrics.add_metric(name="RenderGroupsEnqueued", unit=MetricUnit.Count, value=result.groups)
        logger.info(f"full rebuild {item.generation}: every batch done, {result.groups} render groups enqueued")
    if isinstance(item, ReparsePlan):
        metrics.add_metric(name="ReparseKeysPlanned", unit=MetricUnit.Count, value=result.listed)
        logger.info(
            f"full rebuild {item.generation}: {result.listed} posts planned in {result.batches} batches "
            f"(posts {item.planned + 1}-{item.planned + result.listed})" + ("; more to list" if result.more else ""),
            reason=item.reason,
            start_after=item.start_after,
            more=result.more,
        )
        return
    actions = result.actions
    for action, count in actions.items():
        metrics.add_metric(name=METRIC_NAMES[action], unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="ReparseBatches", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="ReparsedPosts", unit=MetricUnit.Count, value=len(result.outcomes))
    # A full rebuild's batch, or the posts a site file's change re-renders (postfeed.pipeline.sitefiles).
    work = f"{item.reason}: re-render {item.generation}" if item.reason else f"full rebuild {item.generation}"
    logger.info(
        f"{work}: posts {item.first + 1}-{item.first + len(item.keys)} re-ingested",
        actions={action.value: count for action, count in actions.items()},
        rejected=[o.key for o in result.outcomes if o.action is Action.REJECTED],
        feeds_touched=result.recorded.feeds if result.recorded else None,
        counted=result.recorded.counted if result.recorded else None,
    )


def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)


def describe_event(event: Any) -> dict[str, Any]:
    """The message ids of an event that failed as a whole (one that is not an SQS batch at all included)."""
    records = event.get("Records") if isinstance(event, dict) else None
    ids = [str(r.get("messageId")) for r in records or [] if isinstance(r, dict)]
    return {"message_ids": ids[:20], "records": len(records) if isinstance(records, list) else None}


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return traced(logged_handler(handle, logger, describe_event), "postfeed-ingest")(event, context)
