"""BuildFeedsFunction: PostsTable stream records -> every feed the batch touches, rebuilt once (its archive
pages holding the changed entries, then its subscription documents), then the discovery documents (index.html,
feeds.opml and their shelves, feed.xsl) where a feed came or went, then the WebSub hub told which documents changed.
Records of the site stylesheet's item copy the site's `feed.xslt.xml` to the feeds bucket.

A feed that fails is reported as a batch item failure at the first record that touched it, so Lambda
retries from there (bisecting on repeated failure) and the feeds already rebuilt are not lost. The hub
notification never fails the batch and is bounded in time (postfeed.pipeline.websub)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from postfeed.pipeline.failures import describe_stream, describe_stream_event, log_failure, logged_handler
from postfeed.pipeline.ingest import current_site
from postfeed.pipeline.rebuild import rebuild_feed, touched_pages
from postfeed.pipeline.tracing import traced
from postfeed.pipeline.wiring import Adapters, adapters_from_env

if TYPE_CHECKING:
    from postfeed.models import FeedRef, Site

logger = Logger(service="postfeed-feeds")
metrics = Metrics(namespace="postfeed", service="postfeed-feeds")


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return traced(logged_handler(handle, logger, describe_stream_event), "postfeed-feeds")(event, context)


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    adapters = adapters_from_env()
    records = list(DynamoDBStreamEvent(event).records)
    stylesheet_failure = _copy_site_stylesheet(adapters, records)
    if stylesheet_failure is not None:  # retried from there: the feeds of the records before it go on
        records = records[: records.index(stylesheet_failure)]
    per_record = [touched_pages([(r.dynamodb.old_image, r.dynamodb.new_image)]) if r.dynamodb else {} for r in records]
    touched: dict[FeedRef, list[str]] = {}
    for pages in per_record:
        for ref, instants in pages.items():
            touched.setdefault(ref, []).extend(instants)
    if not touched:
        return _failures(stylesheet_failure)
    site, _ = current_site(adapters.settings, adapters.table)
    failed = set()
    listing_changed = False
    changed_urls: list[str] = []
    for ref in sorted(touched):
        try:
            outcome = rebuild_feed(
                ref,
                site=site,
                table=adapters.table,
                feeds=adapters.feeds,
                lease_seconds=adapters.settings.lease_seconds,
                instants=touched[ref],
            )
        except Exception as exc:
            touching = [r.raw_event for r, pages in zip(records, per_record, strict=True) if ref in pages]
            log_failure(
                logger, f"rebuilding feed {ref.kind.value}:{ref.name}", exc, feed=ref.name, **describe_stream(touching)
            )
            metrics.add_metric(name="FeedRebuildFailures", unit=MetricUnit.Count, value=1)
            failed.add(ref)
            continue
        listing_changed |= outcome.listing_changed
        changed_urls += outcome.changed_urls
        archive = outcome.archive
        metrics.add_metric(name="FeedDocumentsWritten", unit=MetricUnit.Count, value=len(outcome.written))
        metrics.add_metric(name="FeedDocumentsUnchanged", unit=MetricUnit.Count, value=len(outcome.unchanged))
        if archive is not None:
            metrics.add_metric(name="ArchivePagesRendered", unit=MetricUnit.Count, value=len(archive.pages_rendered))
            metrics.add_metric(name="ArchivePagesRemoved", unit=MetricUnit.Count, value=len(archive.pages_removed))
        logger.info(
            f"feed {ref.kind.value}:{ref.name}: {len(outcome.written)} written",
            entries=outcome.entries,
            total=outcome.total,
            written=outcome.written,
            archive_pages=archive.pages_rendered if archive else [],
        )
    discovery_failed = _publish_discovery(adapters, site, listing_changed=listing_changed)
    _notify_hub(adapters, site.feed.hub, changed_urls)
    if discovery_failed:
        failed |= {ref for pages in per_record for ref in pages}  # retried from the first record: cheap
    first_failure = next((r for r, pages in zip(records, per_record, strict=True) if set(pages) & failed), None)
    return _failures(first_failure or stylesheet_failure)


def _failures(first: DynamoDBRecord | None) -> dict[str, Any]:
    if first is None or first.dynamodb is None:
        return {"batchItemFailures": []}
    return {"batchItemFailures": [{"itemIdentifier": first.dynamodb.sequence_number}]}


def _copy_site_stylesheet(adapters: Adapters, records: list[DynamoDBRecord]) -> DynamoDBRecord | None:
    """Copy the site's `feed.xslt.xml` to the feeds bucket as its item's records say; the record it failed
    at, if it did."""
    from postfeed.pipeline.sitefiles import copy_stylesheet, is_stylesheet_image

    for record in records:
        if record.dynamodb is None:
            continue
        old, new = record.dynamodb.old_image, record.dynamodb.new_image
        if not (is_stylesheet_image(old) or is_stylesheet_image(new)):
            continue
        try:
            done = copy_stylesheet(old, new, adapters.feeds)
        except Exception as exc:
            log_failure(
                logger,
                "copying the site's feed.xslt.xml to the feeds bucket",
                exc,
                **describe_stream([record.raw_event]),
            )
            metrics.add_metric(name="StylesheetCopyFailures", unit=MetricUnit.Count, value=1)
            return record
        if done:
            logger.info(f"site stylesheet feed.xslt.xml {done}")
    return None


def _publish_discovery(adapters: Adapters, site: Site, *, listing_changed: bool) -> bool:
    """The discovery documents (index.html, feeds.opml, the shelves around feeds that came or went) and feed.xsl
    when due; True if that failed (the batch is then retried, and the due marks are still there)."""
    from postfeed.pipeline.discovery import publish_discovery

    try:
        outcome = publish_discovery(site, table=adapters.table, feeds=adapters.feeds, listing_changed=listing_changed)
    except Exception as exc:
        log_failure(logger, "publishing index.html and feeds.opml", exc)
        metrics.add_metric(name="IndexPublishFailures", unit=MetricUnit.Count, value=1)
        return True
    if outcome.published:
        metrics.add_metric(name="IndexDocumentsWritten", unit=MetricUnit.Count, value=len(outcome.written))
        logger.info(
            f"feeds index: {outcome.feeds} feeds, {len(outcome.written)} written",
            written=outcome.written,
            deleted=outcome.deleted,
            shelves=outcome.shelves,
            full=outcome.full,
        )
    return False


def _notify_hub(adapters: Adapters, hub: str | None, urls: list[str]) -> None:
    if not hub or not urls:
        return
    from postfeed.pipeline.websub import WebSubPolicy, notify_hub

    settings = adapters.settings
    policy = WebSubPolicy(
        timeout=settings.websub_timeout, attempts=settings.websub_attempts, budget=settings.websub_budget
    )
    result = notify_hub(hub, urls, policy)
    metrics.add_metric(name="WebSubNotifications", unit=MetricUnit.Count, value=len(result.sent))
    metrics.add_metric(name="WebSubRetries", unit=MetricUnit.Count, value=max(0, result.retries))
    metrics.add_metric(name="WebSubFailures", unit=MetricUnit.Count, value=len(result.failed))
    for url, error in result.failed.items():
        logger.warning(f"WebSub hub not told about {url}", hub=hub, feed_url=url, error=error)
    if result.sent:
        logger.info(f"WebSub hub told about {len(result.sent)} documents", hub=hub, attempts=result.attempts)
