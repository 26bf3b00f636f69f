"""The ingest function's batch policy: SQS messages carrying S3 events -> post state in the PostsTable, and
messages carrying a full rebuild's work items -> its steps (postfeed.pipeline.reparse, imported only for them).

Each message is one batch item (Powertools' BatchProcessor): a failure returns only that message to the
queue; after the queue's maxReceiveCount it lands, intact, in the dead-letter queue. Each failure leaves one
ERROR line in the log, with the object key (or the work item's generation) and the message id, the error's type,
message and code (postfeed.pipeline.failures), and counts in the `RecordsFailed` metric.

`IngestBatches` reports to the function's logger and metrics (`count`), as `FeedBatches` does for the feed
function."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response

from postfeed.pipeline.batch_failures import LoggedBatchProcessor
from postfeed.pipeline.failures import keyed, printable
from postfeed.pipeline.ingest import ingest_change
from postfeed.pipeline.outcomes import Action
from postfeed.pipeline.wiring import Adapters, adapters_from_env
from postfeed.store.events import changes_from_message
from postfeed.store.work import ReparseBatch, ReparsePlan, work_item_from_message

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from postfeed.pipeline.feed_batches import Count
    from postfeed.store.work import WorkItem

# The metric each ingest action counts in (`PostsRejected` raises the template's alarm).
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


def describe_event(event: Any) -> dict[str, Any]:
    """The message ids of an event that failed as a whole (one that is not an SQS batch at all included)."""
    records = event.get("Records") if isinstance(event, dict) else None
    ids = [str(r.get("messageId")) for r in records or [] if isinstance(r, dict)]
    return {"message_ids": ids[:20], "records": len(records) if isinstance(records, list) else None}


class IngestBatches:
    """The ingest function's queue, handled with its `logger` and metric counter `count`."""

    def __init__(self, *, logger: Logger, count: Count) -> None:
        self.logger = logger
        self.count = count
        # A batch where every record failed still answers with its failures (Lambda retries exactly those).
        self.processor = LoggedBatchProcessor(
            EventType.SQS, logger=logger, describe=describe_message, what="message", on_failure=self._count_failure
        )

    def handle(self, event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
        """An SQS batch; the messages that failed, which Lambda returns to the queue."""
        return process_partial_response(
            event=event, record_handler=self.record_handler, processor=self.processor, context=context
        )

    def record_handler(self, record: SQSRecord) -> None:
        """One message: a full rebuild's work item, or the S3 changes it carries, each ingested and logged."""
        logger = self.logger
        logger.remove_keys(["correlation_id"])  # the previous record's, which this one must not be logged under
        adapters = adapters_from_env()
        item = work_item_from_message(record.body)
        if item is not None:
            self._work(item, adapters)
            return
        for change in changes_from_message(record.body):
            logger.append_keys(correlation_id=printable(f"{change.bucket}/{change.key}"))
            outcome = ingest_change(
                change, settings=adapters.settings, bucket=adapters.posts, table=adapters.table, queue=adapters.queue
            )
            self.count(METRIC_NAMES[outcome.action], 1)
            log = logger.warning if outcome.action is Action.REJECTED else logger.info
            log(
                f"{change.kind.value} {change.key}: {outcome.action.value}",
                action=outcome.action.value,
                code=outcome.code,
                detail=outcome.message,
                sequencer=change.sequencer,
            )

    def _count_failure(self, _: BaseException) -> None:
        self.count("RecordsFailed", 1)

    def _work(self, item: WorkItem, adapters: Adapters) -> None:
        """One step of a full rebuild (postfeed.pipeline.reparse), with its progress in the logs and metrics."""
        from postfeed.pipeline.reparse import handle_work_item

        logger = self.logger
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
            self.count("RenderGroupsEnqueued", result.groups)
            logger.info(f"full rebuild {item.generation}: every batch done, {result.groups} render groups enqueued")
        if isinstance(item, ReparsePlan):
            self.count("ReparseKeysPlanned", result.listed)
            logger.info(
                f"full rebuild {item.generation}: {result.listed} posts planned in {result.batches} batches "
                f"(posts {item.planned + 1}-{item.planned + result.listed})"
                + ("; more to list" if result.more else ""),
                reason=item.reason,
                start_after=item.start_after,
                more=result.more,
            )
            return
        actions = result.actions
        for action, n in actions.items():
            self.count(METRIC_NAMES[action], n)
        self.count("ReparseBatches", 1)
        self.count("ReparsedPosts", len(result.outcomes))
        # A full rebuild's batch, or the posts a site file's change re-renders (postfeed.pipeline.sitefiles).
        work = f"{item.reason}: re-render {item.generation}" if item.reason else f"full rebuild {item.generation}"
        logger.info(
            f"{work}: posts {item.first + 1}-{item.first + len(item.keys)} re-ingested",
            actions={action.value: n for action, n in actions.items()},
            rejected=[o.key for o in result.outcomes if o.action is Action.REJECTED],
            feeds_touched=result.recorded.feeds if result.recorded else None,
            counted=result.recorded.counted if result.recorded else None,
        )
