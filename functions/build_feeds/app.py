"""BuildFeedsFunction: PostsTable stream records, and a full rebuild's render groups from the render queue ->
every feed they touch rebuilt once, then the discovery documents and the WebSub hub (the batch policy:
postfeed.pipeline.feed_batches). A feed that fails is reported as a batch item failure at the first record that
touched it; a render group that fails is retried alone (partial batch failures). Each failure leaves one ERROR
line in the log (postfeed.pipeline.failures) and counts in a metric (`FeedRebuildFailures`...)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from postfeed.pipeline.failures import describe_stream_event, logged_handler
from postfeed.pipeline.feed_batches import FeedBatches
from postfeed.pipeline.tracing import traced

logger = Logger(service="postfeed-feeds")
metrics = Metrics(namespace="postfeed", service="postfeed-feeds")


def count(name: str, value: float) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


batches = FeedBatches(logger=logger, count=count)


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return batches.handle(event, context)


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return traced(logged_handler(handle, logger, describe_stream_event), "postfeed-feeds")(event, context)
