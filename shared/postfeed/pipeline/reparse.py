"""Full rebuild: every post re-read from S3 and re-ingested under the current site settings, so every URL,
date and feed document is derived again (after a new `_config.yml`, or on demand: `postfeed rebuild`).

It fans out through the ingest queue (`postfeed.store.work`): a plan step lists the next PLAN_KEYS post keys
of the posts bucket, sends them as batches of BATCH_KEYS keys, then sends the next plan step. The posts
prefix is listed first, then `_drafts/` (`show_drafts` publishes them), then every top-level `_<name>/`
folder that may hold a collection's documents (those the new config declares are read into their feeds;
those of a collection it no longer declares leave theirs). The first step also reads the site files again
(`_data/`, `feed.xslt.xml`), so `postfeed rebuild` takes in files uploaded while nothing was listening.
Each batch re-ingests its posts with the rebuild's `generation`: a post already re-ingested by this
generation with the same bytes and settings is left alone (so a retried or duplicated step costs reads
only), and so is one a newer full rebuild re-ingested; any other is written again with the generation, which
counts as a change (`touched_by`) of every feed and archive page holding it, even when the entry itself did
not change. Those feeds are not rendered by the stream as the batches go: each batch records what it touched,
and once every batch is done each touched feed is rendered once (phase 2, `postfeed.pipeline.fanout`).

Why list the posts bucket rather than the table: S3 is the source of truth, its listing is ordered and
resumable (`StartAfter`), it includes posts that were rejected or skipped under the old settings (they may
publish under the new ones) and posts whose events were lost, and it excludes deleted ones; the ingest
function may already list the bucket. The table has no partition holding every post key.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from postfeed.pipeline.fanout import BatchLedger, BatchRecord, is_full_rebuild, plan_done
from postfeed.pipeline.ingest import ingest_change
from postfeed.pipeline.outcomes import Action, Outcome
from postfeed.pipeline.settings import Settings
from postfeed.store.bucket import PostsBucket
from postfeed.store.events import ChangeKind, ObjectChange
from postfeed.store.table import PostsTable
from postfeed.store.work import BATCH_KEYS, ReparseBatch, ReparsePlan, WorkItem, WorkQueue

PLAN_KEYS = 1000  # keys listed by one plan step


@dataclass(slots=True)
class WorkResult:
    item: WorkItem
    listed: int = 0  # plan: keys listed and enqueued
    batches: int = 0  # plan: batch messages sent
    more: bool = False  # plan: a next plan step was sent
    outcomes: list[Outcome] = field(default_factory=list)  # batch: one per key
    recorded: BatchRecord | None = None  # a full rebuild's batch: what it recorded for phase 2
    groups: int | None = None  # render groups this step sent (it completed the rebuild's batches)

    @property
    def actions(self) -> Counter[Action]:
        return Counter(outcome.action for outcome in self.outcomes)


def handle_work_item(
    item: WorkItem,
    *,
    settings: Settings,
    bucket: PostsBucket,
    table: PostsTable,
    queue: WorkQueue | None,
    render_queue: WorkQueue | None = None,
    now: datetime | None = None,
) -> WorkResult:
    """Run one step of a full rebuild. Raises for AWS failures (the message is then retried alone).
    `render_queue`: where a full rebuild's phase 2 goes (`postfeed.pipeline.fanout`)."""
    if isinstance(item, ReparsePlan):
        return _plan(item, settings=settings, bucket=bucket, table=table, queue=queue, render_queue=render_queue)
    result = WorkResult(item)
    # A full rebuild's batch (not the re-render of an authors change, nor due posts): bracketed for phase 2.
    ledger = None
    if is_full_rebuild(item.generation) and not item.reason and render_queue is not None:
        ledger = BatchLedger(item, table=table, render_queue=render_queue)
        ledger.before()
    for key in item.keys:
        change = ObjectChange(
            bucket=settings.posts_bucket, key=key, kind=ChangeKind.PUT, sequencer=None, generation=item.generation
        )
        result.outcomes.append(ingest_change(change, settings=settings, bucket=bucket, table=table, now=now))
    if ledger is not None:
        result.recorded = ledger.after()
        result.groups = result.recorded.groups
    return result


def _plan(
    item: ReparsePlan,
    *,
    settings: Settings,
    bucket: PostsBucket,
    table: PostsTable,
    queue: WorkQueue | None,
    render_queue: WorkQueue | None,
) -> WorkResult:
    if queue is None:
        raise RuntimeError("a full rebuild needs the ingest queue (INGEST_QUEUE_URL is not set)")
    prefixes = item.prefixes
    if prefixes is None:
        prefixes = [settings.posts_prefix, *_document_folders(settings, bucket)]
        if not item.start_after:
            _reread_site_files(settings=settings, bucket=bucket, table=table, queue=queue)
    prefix = prefixes[0] if prefixes else settings.posts_prefix
    listed, more = bucket.list_keys(prefix, start_after=item.start_after, limit=PLAN_KEYS)
    keys = [key for key in listed if settings.is_post_key(key) or (prefix != settings.posts_prefix and key[-1:] != "/")]
    batches: list[WorkItem] = [
        ReparseBatch(generation=item.generation, keys=keys[start : start + BATCH_KEYS], first=item.planned + start)
        for start in range(0, len(keys), BATCH_KEYS)
    ]
    # The batches first: if this step fails after them, its retry sends them again (duplicates are cheap).
    queue.send_all(batches)
    more = more and bool(listed)
    following = None
    if more:
        following = ReparsePlan(generation=item.generation, start_after=listed[-1], prefixes=prefixes)
    elif len(prefixes) > 1:
        following = ReparsePlan(generation=item.generation, prefixes=prefixes[1:])
    sent = item.batches + len(batches)
    result = WorkResult(item, listed=len(keys), batches=len(batches), more=following is not None)
    if following is not None:
        queue.send(
            following.model_copy(update={"reason": item.reason, "planned": item.planned + len(keys), "batches": sent})
        )
    else:  # the listing ended: the rebuild's batches number `sent`
        if is_full_rebuild(item.generation) and render_queue is not None:
            result.groups = plan_done(item.generation, sent, table=table, render_queue=render_queue)
    return result


def _document_folders(settings: Settings, bucket: PostsBucket) -> list[str]:
    """The bucket's `_drafts/`, and its top-level `_<name>/` folders that may hold a collection's documents
    (declared now, or before): one listing, and no plan step for a folder the bucket does not have."""
    from postfeed.pipeline.settings import NOT_COLLECTIONS

    return [
        folder
        for folder in bucket.list_folders("_")
        if folder != settings.posts_prefix and (folder == settings.drafts_prefix or folder[:-1] not in NOT_COLLECTIONS)
    ]


def _reread_site_files(*, settings: Settings, bucket: PostsBucket, table: PostsTable, queue: WorkQueue) -> None:
    """Ingest every `_data/` and `_includes/` file and `feed.xslt.xml` as they are in the bucket, and remove
    from the table those that are gone (unchanged ones cost a read)."""
    from postfeed.jekyll.sitefiles import DATA_DIR, INCLUDES_DIR
    from postfeed.pipeline.sitefiles import ingest_site_file

    present: list[str] = []
    for folder, wanted in ((DATA_DIR, settings.is_data_key), (INCLUDES_DIR, settings.is_include_key)):
        start_after, more = "", True
        while more:
            listed, more = bucket.list_keys(folder, start_after=start_after)
            present += [key for key in listed if wanted(key)]
            start_after = listed[-1] if listed else ""
            more = more and bool(listed)
    if bucket.exists(settings.stylesheet_key):
        present.append(settings.stylesheet_key)
    known = {file.key for file in table.get_site_files() if file.key and file.state != "deleted"}
    changes = [(key, ChangeKind.PUT) for key in present] + [
        (key, ChangeKind.DELETE) for key in sorted(known - set(present))
    ]
    for key, kind in changes:
        change = ObjectChange(bucket=settings.posts_bucket, key=key, kind=kind, sequencer=None)
        ingest_site_file(change, settings=settings, bucket=bucket, table=table, queue=queue)
