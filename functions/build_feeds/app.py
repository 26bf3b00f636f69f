"""BuildFeedsFunction: PostsTable stream records -> every feed the batch touches, rebuilt once (its archive
pages holding the changed entries, then its subscription documents), then the discovery documents (index.html,
feeds.opml and their shelves, feed.xsl) where a feed came or went, then the WebSub hub told which documents changed.
Records of the site stylesheet's item copy the site's `feed.xslt.xml` to the feeds bucket.

A feed that fails is reported as a batch item failure at the first record that touched it, so Lambda
retries from there (bisecting on repeated failure) and the feeds already rebuilt are not lost. The hub
notification never fails the batch and is bounded in time (postfeed.pipeline.websub).

Records a full rebuild's batches wrote are left to its second phase (postfeed.pipeline.fanout), which arrives
on the render queue, this function's second event source: each message a group of feeds, each rendered once,
then the discovery documents and the hub as for a stream batch; a group that fails is retried alone
(partial batch failures) and, after the queue's maxReceiveCount, kept in its dead-letter queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from postfeed.pipeline.failures import (
    LoggedBatchProcessor,
    describe_stream,
    describe_stream_event,
    log_failure,
    logged_handler,
)
from postfeed.pipeline.fanout import render_group, stream_pages
from postfeed.pipeline.ingest import current_site
from postfeed.pipeline.rebuild import rebuild_feed
from postfeed.pipeline.tracing import traced
from postfeed.pipeline.wiring import Adapters, adapters_from_env

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from postfeed.models import FeedRef, Site
    from postfeed.pipeline.rebuild import RebuildOutcome

logger = Logger(service="postfeed-feeds")
metrics = Metrics(namespace="postfeed", service="postfeed-feeds")


@metrics.log_metrics
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return traced(logged_handler(handle, logger, describe_stream_event), "postfeed-feeds")(event, context)


def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if _from_render_queue(event):
        return dict(
            process_partial_response(
                event=event, record_handler=render_record, processor=render_processor, context=context
            )
        )
    adapters = adapters_from_env()
    records = list(DynamoDBStreamEvent(event).records)
    stylesheet_failure = _copy_site_stylesheet(adapters, records)
    if stylesheet_failure is not None:  # retried from there: the feeds of the records before it go on
        records = records[: records.index(stylesheet_failure)]
    phase2 = adapters.settings.render_queue_url is not None  # a full rebuild's records: rendered in its phase 2
    per_record = [
        stream_pages(r.dynamodb.old_image, r.dynamodb.new_image, phase2=phase2) if r.dynamodb else {} for r in records
    ]
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
        _rendered(outcome)
    discovery_failed = _publish_discovery(adapters, site, listing_changed=listing_changed)
    _notify_hub(adapters, site.feed.hub, changed_urls)
    if discovery_failed:
        failed |= {ref for pages in per_record for ref in pages}  # retried from the first record: cheap
    first_failure = next((r for r, pages in zip(records, per_record, strict=True) if set(pages) & failed), None)
    return _failures(first_failure or stylesheet_failure)


def _rendered(outcome: RebuildOutcome) -> None:
    ref, archive = outcome.ref, outcome.archive
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


# -- a full rebuild's phase 2: render groups from the render queue ------------------------------------------


class RenderGroupFailed(RuntimeError):
    """Some feeds of a render group (or the discovery documents after them) failed: the message is retried."""


def _from_render_queue(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    first = records[0] if isinstance(records, list) and records else None
    return isinstance(first, dict) and first.get("eventSource") == "aws:sqs"


def _describe_message(record: Any) -> dict[str, Any]:
    return {"message_id": getattr(record, "message_id", None)}


render_processor = LoggedBatchProcessor(
    EventType.SQS, logger=logger, describe=_describe_message, what="render group message"
)


def render_record(record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
    """One render group: each feed once, then the discovery documents and the hub."""
    from postfeed.store.work import render_group_from_message

    logger.remove_keys(["correlation_id"])
    group = render_group_from_message(record.body)
    logger.append_keys(correlation_id=f"render/{group.generation}")
    adapters = adapters_from_env()
    site, _ = current_site(adapters.settings, adapters.table)
    outcome = render_group(
        group,
        site=site,
        table=adapters.table,
        feeds=adapters.feeds,
        lease_seconds=adapters.settings.lease_seconds,
        on_rendered=_rendered,
        remaining_ms=lambda_context.get_remaining_time_in_millis if lambda_context is not None else None,
    )
    if outcome.rest:  # a large feed's later months, or what this invocation has no time left for
        if adapters.render_queue is None:
            raise RenderGroupFailed("RENDER_QUEUE_URL is not set: the rest of a render group cannot be sent")
        adapters.render_queue.send_all(outcome.rest)
        logger.info(f"full rebuild {group.generation}: {len(outcome.rest)} render groups sent back for later")
    for ref, exc in outcome.failed.items():
        log_failure(logger, f"rebuilding feed {ref.kind.value}:{ref.name}", exc, feed=ref.name)
        metrics.add_metric(name="FeedRebuildFailures", unit=MetricUnit.Count, value=1)
    discovery_failed = _publish_discovery(adapters, site, listing_changed=outcome.listing_changed)
    _notify_hub(adapters, site.feed.hub, outcome.changed_urls)
    metrics.add_metric(name="RenderGroupFeeds", unit=MetricUnit.Count, value=len(outcome.rendered))
    if outcome.failed or discovery_failed:
        raise RenderGroupFailed(
            f"full rebuild {group.generation}: {len(outcome.failed)} of {len(group.feeds)} feeds failed"
            + ("; the discovery documents failed" if discovery_failed else "")
        )
    logger.info(f"full rebuild {group.generation}: {len(outcome.rendered)} feeds rendered")


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
