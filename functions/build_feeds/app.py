"""BuildFeedsFunction: PostsTable stream records -> every feed the batch touches, rebuilt once.

A feed that fails is reported as a batch item failure at the first record that touched it, so Lambda
retries from there (bisecting on repeated failure) and the feeds already rebuilt are not lost."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from postfeed.pipeline.ingest import current_site
from postfeed.pipeline.rebuild import rebuild_feed, touched_feeds
from postfeed.pipeline.tracing import traced
from postfeed.pipeline.wiring import adapters_from_env

logger = Logger(service="postfeed-feeds")
metrics = Metrics(namespace="postfeed", service="postfeed-feeds")


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return traced(handle, "postfeed-feeds")(event, context)


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    adapters = adapters_from_env()
    records = list(DynamoDBStreamEvent(event).records)
    per_record = [
        touched_feeds([(r.dynamodb.old_image, r.dynamodb.new_image)]) if r.dynamodb else set() for r in records
    ]
    feeds = set().union(*per_record)
    if not feeds:
        return {"batchItemFailures": []}
    site, _ = current_site(adapters.settings, adapters.table)
    failed = set()
    for ref in sorted(feeds):
        try:
            outcome = rebuild_feed(
                ref,
                site=site,
                table=adapters.table,
                feeds=adapters.feeds,
                lease_seconds=adapters.settings.lease_seconds,
            )
        except Exception:
            logger.exception(f"rebuilding feed {ref.kind.value}:{ref.name} failed", feed=ref.name)
            metrics.add_metric(name="FeedRebuildFailures", unit=MetricUnit.Count, value=1)
            failed.add(ref)
            continue
        metrics.add_metric(name="FeedDocumentsWritten", unit=MetricUnit.Count, value=len(outcome.written))
        metrics.add_metric(name="FeedDocumentsUnchanged", unit=MetricUnit.Count, value=len(outcome.unchanged))
        logger.info(
            f"feed {ref.kind.value}:{ref.name}: {len(outcome.written)} written",
            entries=outcome.entries,
            written=outcome.written,
        )
    first_failure = next((r for r, refs in zip(records, per_record, strict=True) if refs & failed), None)
    if first_failure is None or first_failure.dynamodb is None:
        return {"batchItemFailures": []}
    return {"batchItemFailures": [{"itemIdentifier": first_failure.dynamodb.sequence_number}]}
