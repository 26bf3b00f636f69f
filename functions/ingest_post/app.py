"""IngestPostFunction: SQS messages carrying S3 events -> post state in the PostsTable, and a full rebuild's work
items -> its steps (the batch policy: postfeed.pipeline.ingest_batches). Each message is one batch item: a failure
returns only that message to the queue, and after the queue's maxReceiveCount it lands, intact, in the dead-letter
queue. Each failure leaves one ERROR line in the log (postfeed.pipeline.failures) and counts in the `RecordsFailed`
metric."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.typing import LambdaContext

from postfeed.pipeline.failures import logged_handler
from postfeed.pipeline.ingest_batches import IngestBatches, describe_event
from postfeed.pipeline.tracing import traced

logger = Logger(service="postfeed-ingest")
metrics = Metrics(namespace="postfeed", service="postfeed-ingest")


def count(name: str, value: float) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


batches = IngestBatches(logger=logger, count=count)


def handle(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return batches.handle(event, context)


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return traced(logged_handler(handle, logger, describe_event), "postfeed-ingest")(event, context)
