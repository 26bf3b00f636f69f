"""Future-dated posts, published when their date comes (Jekyll publishes them at its first build after).

The ingest records a future-dated post as skipped with `scheduled` and `due_at` (its UTC instant), which put
it in the sparse GSI `scheduled`. On a schedule, `publish_due` finds the posts due by now (one Query) and
sends them through the ingest queue as re-ingest batches (`postfeed.store.work`); the ingest re-reads each
from S3 and, its date now past, publishes it, or records what it is now (edited, deleted, rejected).

A batch's generation is its posts' due instant: a post sent again before the ingest got to it (the next
check came first, or a duplicate message) is then found already re-ingested by that generation, and left."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from postfeed.store.items import utc_instant
from postfeed.store.table import PostsTable
from postfeed.store.work import BATCH_KEYS, ReparseBatch, WorkItem, WorkQueue


@dataclass(slots=True)
class DueOutcome:
    keys: list[str] = field(default_factory=list)  # posts due, soonest first
    batches: int = 0  # re-ingest batches sent


def publish_due(table: PostsTable, queue: WorkQueue, now: datetime) -> DueOutcome:
    """Send every post due at or before `now` to the ingest queue, to be published."""
    due = table.due_posts(utc_instant(now))
    by_instant: dict[str, list[str]] = defaultdict(list)
    for key, instant in due:
        by_instant[instant].append(key)
    batches: list[WorkItem] = [
        ReparseBatch(generation=f"due-{instant}", keys=keys[start : start + BATCH_KEYS])
        for instant, keys in by_instant.items()
        for start in range(0, len(keys), BATCH_KEYS)
    ]
    queue.send_all(batches)
    return DueOutcome(keys=[key for key, _ in due], batches=len(batches))
