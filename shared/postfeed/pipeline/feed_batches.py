"""The feed function's batch policy: PostsTable stream records -> every feed the batch touches, rebuilt once
(its archive pages holding the changed entries, then its subscription documents), then the discovery documents
(index.html, feeds.opml and their shelves, feed.xsl) where a feed came or went, then the WebSub hub told which
documents changed. Records of the site stylesheet's item copy the site's `feed.xslt.xml` to the feeds bucket.

A feed that fails is reported as a batch item failure at the first record that touched it, so Lambda
retries from there (bisecting on repeated failure) and the feeds already rebuilt are not lost. The hub
notification never fails the batch and is bounded in time (postfeed.pipeline.websub).

Records a full rebuild's batches wrote are left to its second phase (postfeed.pipeline.fanout), which arrives
on the render queue, the function's second event source: each message a group of feeds, each rendered once,
then the discovery documents and the hub as for a stream batch; a group that fails is retried alone
(Powertools' partial batch failures) and, after the queue's maxReceiveCount, kept in its dead-letter queue.

`FeedBatches` reports to the function's logger and metrics (`count`); the bench's seeding rebuilds its feeds
through the same `rebuild_feeds`."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from postfeed.pipeline import rebuild
from postfeed.pipeline.batch_failures import LoggedBatchProcessor
from postfeed.pipeline.errors import PipelineError
from postfeed.pipeline.failures import describe_stream, log_failure
from postfeed.pipeline.fanout import GroupOutcome, render_group, stream_pages
from postfeed.pipeline.ingest import current_site
from postfeed.pipeline.wiring import Adapters, adapters_from_env

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from postfeed.models import FeedRef, Site
    from postfeed.pipeline.rebuild import RebuildOutcome

Count = Callable[[str, float], None]  # a metric's name and value (Powertools' Count unit, in the function)
Describe = Callable[["FeedRef"], Mapping[str, Any]]


class RenderGroupFailed(PipelineError, RuntimeError):
    """Some feeds of a render group (or the discovery documents after them) failed: the message is retried."""


def from_render_queue(event: Any) -> bool:
    """Whether `event` is a batch of the render queue (SQS), not of the table's stream."""
    records = event.get("Records") if isinstance(event, dict) else None
    first = records[0] if isinstance(records, list) and records else None
    return isinstance(first, dict) and first.get("eventSource") == "aws:sqs"


def _describe_message(record: Any) -> dict[str, Any]:
    return {"message_id": getattr(record, "message_id", None)}


def _nowhere(_: FeedRef) -> Mapping[str, Any]:
    return {}


class FeedBatches:
    """The feed function's two event sources, handled with its `logger` and metric counter `count`."""

    def __init__(self, *, logger: Logger, count: Count) -> None:
        self.logger = logger
        self.count = count
        self.render_processor = LoggedBatchProcessor(
            EventType.SQS, logger=logger, describe=_describe_message, what="render group message"
        )

    def handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        """A stream batch or a render queue batch; the batch item failures Lambda retries."""
        if from_render_queue(event):
            return dict(
                process_partial_response(
                    event=event, record_handler=self.render_record, processor=self.render_processor, context=context
                )
            )
        return self.stream_batch(event)

    # -- the table's stream ---------------------------------------------------------------------------------

    def stream_batch(self, event: dict[str, Any]) -> dict[str, Any]:
        """Every feed the stream batch touches rebuilt once; the first record of a failed feed (or of a failed
        stylesheet copy) is the batch item failure."""
        adapters = adapters_from_env()
        records = list(DynamoDBStreamEvent(event).records)
        stylesheet_failure = self._copy_site_stylesheet(adapters, records)
        if stylesheet_failure is not None:  # retried from there: the feeds of the records before it go on
            records = records[: records.index(stylesheet_failure)]
        phase2 = adapters.settings.render_queue_url is not None  # a full rebuild's records: rendered in its phase 2
        per_record = [
            stream_pages(r.dynamodb.old_image, r.dynamodb.new_image, phase2=phase2) if r.dynamodb else {}
            for r in records
        ]
        touched: dict[FeedRef, list[str]] = {}
        for pages in per_record:
            for ref, instants in pages.items():
                touched.setdefault(ref, []).extend(instants)
        if not touched:
            return _failures(stylesheet_failure)

        def touching(ref: FeedRef) -> Mapping[str, Any]:
            return describe_stream([r.raw_event for r, pages in zip(records, per_record, strict=True) if ref in pages])

        site, _ = current_site(adapters.settings, adapters.table)
        done, discovery_error = self.rebuild_feeds(touched, adapters=adapters, site=site, describe=touching)
        failed = set(done.failed)
        if discovery_error is not None:
            failed |= {ref for pages in per_record for ref in pages}  # retried from the first record: cheap
        first_failure = next((r for r, pages in zip(records, per_record, strict=True) if set(pages) & failed), None)
        return _failures(first_failure or stylesheet_failure)

    def rebuild_feeds(
        self,
        touched: Mapping[FeedRef, Collection[str]],
        *,
        adapters: Adapters,
        site: Site,
        describe: Describe = _nowhere,
        listing_changed: bool = False,
    ) -> tuple[GroupOutcome, Exception | None]:
        """Each feed once (in order) with the instants of its changed entries, then the discovery documents and
        the hub; a feed that fails is logged (with what `describe` says of it) and the others go on. What the
        feeds came to, and the discovery documents' error if they failed."""
        outcome = GroupOutcome(listing_changed=listing_changed)
        for ref in sorted(touched):
            try:
                done = rebuild.rebuild_feed(
                    ref,
                    site=site,
                    table=adapters.table,
                    feeds=adapters.feeds,
                    lease_seconds=adapters.settings.lease_seconds,
                    instants=touched[ref],
                )
            except Exception as exc:
                self._feed_failed(ref, exc, **describe(ref))
                outcome.failed[ref] = exc
                continue
            outcome.listing_changed |= done.listing_changed
            outcome.changed_urls += done.changed_urls
            outcome.rendered.append(done)
            self._rendered(done)
        return outcome, self._after_feeds(adapters, site, outcome)

    # -- a full rebuild's phase 2: render groups from the render queue ----------------------------------------

    def render_record(self, record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
        """One render group: each feed once, then the discovery documents and the hub."""
        from postfeed.store.work import render_group_from_message

        logger = self.logger
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
            on_rendered=self._rendered,
            remaining_ms=lambda_context.get_remaining_time_in_millis if lambda_context is not None else None,
        )
        if outcome.rest:  # a large feed's later months, or what this invocation has no time left for
            if adapters.render_queue is None:
                raise RenderGroupFailed("RENDER_QUEUE_URL is not set: the rest of a render group cannot be sent")
            adapters.render_queue.send_all(outcome.rest)
            logger.info(f"full rebuild {group.generation}: {len(outcome.rest)} render groups sent back for later")
        for ref, exc in outcome.failed.items():
            self._feed_failed(ref, exc)
        discovery_error = self._after_feeds(adapters, site, outcome)
        self.count("RenderGroupFeeds", len(outcome.rendered))
        if outcome.failed or discovery_error is not None:
            raise RenderGroupFailed(
                f"full rebuild {group.generation}: {len(outcome.failed)} of {len(group.feeds)} feeds failed"
                + ("; the discovery documents failed" if discovery_error is not None else "")
            )
        logger.info(f"full rebuild {group.generation}: {len(outcome.rendered)} feeds rendered")

    # -- reporting and the steps after the feeds -------------------------------------------------------------

    def _feed_failed(self, ref: FeedRef, exc: Exception, **where: Any) -> None:
        log_failure(self.logger, f"rebuilding feed {ref.kind.value}:{ref.name}", exc, feed=ref.name, **where)
        self.count("FeedRebuildFailures", 1)

    def _rendered(self, outcome: RebuildOutcome) -> None:
        ref, archive = outcome.ref, outcome.archive
        self.count("FeedDocumentsWritten", len(outcome.written))
        self.count("FeedDocumentsUnchanged", len(outcome.unchanged))
        if archive is not None:
            self.count("ArchivePagesRendered", len(archive.pages_rendered))
            self.count("ArchivePagesRemoved", len(archive.pages_removed))
        self.logger.info(
            f"feed {ref.kind.value}:{ref.name}: {len(outcome.written)} written",
            entries=outcome.entries,
            total=outcome.total,
            written=outcome.written,
            archive_pages=archive.pages_rendered if archive else [],
        )

    def _after_feeds(self, adapters: Adapters, site: Site, outcome: GroupOutcome) -> Exception | None:
        """The discovery documents, then the hub told about the changed documents; the discovery documents'
        error, if they failed (the batch is then retried, and their due marks are still there)."""
        discovery_error = self._publish_discovery(adapters, site, listing_changed=outcome.listing_changed)
        self._notify_hub(adapters, site.feed.hub, outcome.changed_urls)
        return discovery_error

    def _copy_site_stylesheet(self, adapters: Adapters, records: list[DynamoDBRecord]) -> DynamoDBRecord | None:
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
                    self.logger,
                    "copying the site's feed.xslt.xml to the feeds bucket",
                    exc,
                    **describe_stream([record.raw_event]),
                )
                self.count("StylesheetCopyFailures", 1)
                return record
            if done:
                self.logger.info(f"site stylesheet feed.xslt.xml {done}")
        return None

    def _publish_discovery(self, adapters: Adapters, site: Site, *, listing_changed: bool) -> Exception | None:
        """The discovery documents (index.html, feeds.opml, the shelves around feeds that came or went) and
        feed.xsl when due; the error if that failed."""
        from postfeed.pipeline.discovery import publish_discovery

        try:
            outcome = publish_discovery(
                site, table=adapters.table, feeds=adapters.feeds, listing_changed=listing_changed
            )
        except Exception as exc:
            log_failure(self.logger, "publishing index.html and feeds.opml", exc)
            self.count("IndexPublishFailures", 1)
            return exc
        if outcome.published:
            self.count("IndexDocumentsWritten", len(outcome.written))
            self.logger.info(
                f"feeds index: {outcome.feeds} feeds, {len(outcome.written)} written",
                written=outcome.written,
                deleted=outcome.deleted,
                shelves=outcome.shelves,
                full=outcome.full,
            )
        return None

    def _notify_hub(self, adapters: Adapters, hub: str | None, urls: list[str]) -> None:
        if not hub or not urls:
            return
        from postfeed.pipeline.websub import WebSubPolicy, notify_hub

        settings = adapters.settings
        policy = WebSubPolicy(
            timeout=settings.websub_timeout, attempts=settings.websub_attempts, budget=settings.websub_budget
        )
        result = notify_hub(hub, urls, policy)
        self.count("WebSubNotifications", len(result.sent))
        self.count("WebSubRetries", max(0, result.retries))
        self.count("WebSubFailures", len(result.failed))
        for url, error in result.failed.items():
            self.logger.warning(f"WebSub hub not told about {url}", hub=hub, feed_url=url, error=error)
        if result.sent:
            self.logger.info(f"WebSub hub told about {len(result.sent)} documents", hub=hub, attempts=result.attempts)


def _failures(first: DynamoDBRecord | None) -> dict[str, Any]:
    if first is None or first.dynamodb is None:
        return {"batchItemFailures": []}
    return {"batchItemFailures": [{"itemIdentifier": first.dynamodb.sequence_number}]}
