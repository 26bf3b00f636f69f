"""PublishDueFunction: on a schedule, future-dated posts whose date has come -> the ingest queue, which
publishes them (postfeed.pipeline.schedule). A failed run leaves one ERROR line in the log (its error's type,
message and code: postfeed.pipeline.failures) and raises, so the scheduler retries it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from postfeed.pipeline.failures import logged_handler
from postfeed.pipeline.schedule import publish_due
from postfeed.pipeline.tracing import traced
from postfeed.pipeline.wiring import adapters_from_env

logger = Logger(service="postfeed-schedule")
metrics = Metrics(namespace="postfeed", service="postfeed-schedule")


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    adapters = adapters_from_env()
    if adapters.queue is None:
        raise RuntimeError("INGEST_QUEUE_URL is not set: due posts cannot be sent to the ingest function")
    outcome = publish_due(adapters.table, adapters.queue, datetime.now(UTC))
    metrics.add_metric(name="ScheduledPostsDue", unit=MetricUnit.Count, value=len(outcome.keys))
    if outcome.keys:
        logger.info(
            f"{len(outcome.keys)} scheduled posts due: sent to the ingest queue in {outcome.batches} batches",
            keys=outcome.keys[:100],
        )
    return {"due": len(outcome.keys), "batches": outcome.batches}


def describe_event(event: Any) -> dict[str, Any]:
    """A scheduled run carries no key: the schedule's own name when the event has one."""
    return {"schedule": event.get("resources") or event.get("id")} if isinstance(event, dict) and event else {}


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return traced(logged_handler(handle, logger, describe_event), "postfeed-schedule")(event, context)
