"""A full rebuild's second phase: every feed it touched rendered once, after all its batches are done.

Phase 1 (`postfeed.pipeline.reparse`) re-ingests every post under the rebuild's generation, one transaction a
post as uploads are, 20 posts a batch message. Were the feed function to render what each stream batch of those
writes touched, a rebuild of 100,000 posts would render the site feed ~1,000 times and every busy feed hundreds
of times. Instead:

1. The stream leaves alone a record whose post item a full rebuild's batch wrote (`deferred`: its generation
   changed to a full rebuild's). Uploads meanwhile keep the generation their item has, so they render as usual.
2. Each batch records what it touched in the rebuild's ledger (`postfeed.store.rebuilds`): its posts as they
   were before its first attempt, then, after its writes, the feeds and entry instants by the feed function's
   own rule (`rebuild.touched_by` on each post's state before and after), then counts itself done (once: a
   transaction with a per-batch mark). A retried batch rewrites the same records; a duplicated one finds its
   mark and counts nothing.
3. The step that sees the count complete (a batch, or the last plan step, which alone knows the total) claims
   phase 2 with a conditional write, and sends the touched feeds in groups of RENDER_GROUP to the render queue.
   Exactly one step wins the claim; only that step, retried, sends the groups again (duplicates are harmless).
4. The feed function renders each feed of a group once under its lease (`rebuild.rebuild_feed`, with the
   instants the batches recorded), then the discovery documents, as for a stream batch. A group that fails is
   retried alone (its message), then lands in the render queue's dead-letter queue.

Bounded invocations: a full rebuild changes every entry, so a feed's every archive page is rendered again (a
site feed of 100,000 entries has 500 pages or more). A feed with more than RENDER_ENTRIES changed entries is
rendered a slice of whole months at a time (`rebuild_feed` with those months' instants: the archive rules
accept changes split any way, as stream batches split them), and the rest goes back to the render queue as a
group of its own (`from_month`); so do the feeds of a group left when the invocation's time runs low. Such a
feed's subscription documents are rendered once per slice; each archive page still once.

Two rebuilds at once: generations are ordered by start time (`new_generation`), and a batch leaves a post that
a newer rebuild already re-ingested (`superseded`, in the ingest transaction's optimistic read), so the newer
one wins. The older one's phase 2 may still run, before or after the newer one's; it is safe because
`rebuild_feed` renders a feed from the table as it is when it takes the feed's lease, under the site settings in
force then, never from anything the group carries: a late group republishes the current state, and the feeds
the newer rebuild changed are rendered by its own phase 2 after its last batch.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from postfeed.models import FeedKind, FeedRef, Site
from postfeed.pipeline.rebuild import RebuildOutcome, touched_by
from postfeed.store.bucket import FeedsBucket
from postfeed.store.items import post_change
from postfeed.store.rebuilds import RebuildLedger, batch_id
from postfeed.store.records import PostState
from postfeed.store.table import PostsTable
from postfeed.store.work import RenderGroup, ReparseBatch, ReparsePlan, WorkQueue

FULL = "full-"  # a full rebuild's generation; other re-ingests (authors, due posts) render through the stream
RENDER_GROUP = 50  # feeds per render message: ~50 renders in a 60 s invocation, well under 256 KB of names
RENDER_ENTRIES = 4000  # changed entries of one feed rendered per invocation (~20 full archive pages)
RESERVE_MS = 20_000  # time left under which a group's remaining feeds go back to the render queue


def new_generation() -> str:
    """A generation that sorts by when it was made (nanoseconds, then randomness)."""
    return f"{time.time_ns():016x}{uuid.uuid4().hex[:16]}"


def full_generation(generation: str | None = None) -> str:
    generation = generation or new_generation()
    return generation if generation.startswith(FULL) else FULL + generation


def is_full_rebuild(generation: Any) -> bool:
    return isinstance(generation, str) and generation.startswith(FULL)


def start_rebuild(queue: WorkQueue, *, reason: str, generation: str | None = None) -> str:
    """Enqueue the first plan step of a full rebuild (`pipeline.reparse`); returns its generation
    (`generation`, marked as a full rebuild's: `full_generation`)."""
    generation = full_generation(generation)
    queue.send(ReparsePlan(generation=generation, reason=reason[:200]))
    return generation


def superseded(generation: str | None, stored: PostState | None) -> bool:
    """A full rebuild's write that a newer full rebuild has overtaken on this post."""
    newer = stored.generation if stored is not None else None
    return is_full_rebuild(generation) and is_full_rebuild(newer) and str(newer) > str(generation)


def deferred(old: PostState | None, new: PostState | None) -> bool:
    """A change a full rebuild's batch wrote: its phase 2 renders what it touched."""
    generation = new.generation if new is not None else None
    return is_full_rebuild(generation) and generation != (old.generation if old is not None else None)


def stream_pages(
    old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, *, phase2: bool = True
) -> dict[FeedRef, list[str]]:
    """What the feed function renders for one stream record (its old and new images): `touched_by`, unless
    phase 2 will (`phase2`: the stack has a render queue; without one, the batches record nothing and the
    stream renders as before)."""
    change = post_change(old, new)
    if change is None or (phase2 and deferred(*change)):
        return {}
    return touched_by([change])


def batch_touched(
    keys: Sequence[str], before: Mapping[str, PostState], after: Mapping[str, PostState]
) -> dict[FeedRef, list[str]]:
    """The feeds (and entry instants) a batch's writes touched, by the feed function's rule."""
    return touched_by((before.get(key), after.get(key)) for key in dict.fromkeys(keys))


# -- phase 1's side: the batches and the last plan step -------------------------------------------------


@dataclass(slots=True)
class BatchRecord:
    feeds: int = 0  # feeds this batch touched
    counted: bool = False  # counted now (False: a retry or a duplicate, counted before)
    groups: int | None = None  # render groups sent, when this step started phase 2


class BatchLedger:
    """Brackets one full rebuild batch: `before` ahead of its writes, `after` once they are done."""

    def __init__(self, item: ReparseBatch, *, table: PostsTable, render_queue: WorkQueue) -> None:
        self.item = item
        self.table = table
        self.ledger = RebuildLedger(table)
        self.render_queue = render_queue
        self.previous: dict[str, PostState] = {}
        self.batch = batch_id(item.first, item.keys)

    def before(self) -> None:
        current = self.table.get_states(self.item.keys)
        self.previous = self.ledger.record_before(self.item.generation, self.batch, current)

    def after(self) -> BatchRecord:
        item = self.item
        touched = batch_touched(item.keys, self.previous, self.table.get_states(item.keys))
        self.ledger.record_touched(item.generation, self.batch, touched)
        record = BatchRecord(feeds=len(touched), counted=self.ledger.count_done(item.generation, item.first))
        record.groups = start_phase2(
            item.generation, claimant=f"batch {item.first}", ledger=self.ledger, render_queue=self.render_queue
        )
        return record


def plan_done(generation: str, batches: int, *, table: PostsTable, render_queue: WorkQueue) -> int | None:
    """The last plan step: every batch is enqueued, `batches` in all. Returns the render groups sent, when the
    batches were all done already. A rebuild of an empty bucket has nothing to render and leaves no ledger."""
    if batches == 0:
        return None
    ledger = RebuildLedger(table)
    ledger.set_planned(generation, batches)
    return start_phase2(generation, claimant="plan", ledger=ledger, render_queue=render_queue)


def start_phase2(generation: str, *, claimant: str, ledger: RebuildLedger, render_queue: WorkQueue) -> int | None:
    """Enqueue phase 2 if every planned batch is counted and this step wins the claim; the groups sent."""
    if not ledger.claim(generation, claimant):
        return None
    groups = render_groups(generation, ledger.touched_feeds(generation))
    render_queue.send_all(groups)
    ledger.mark_enqueued(generation, len(groups))
    return len(groups)


def render_groups(generation: str, refs: Sequence[FeedRef], size: int | None = None) -> list[RenderGroup]:
    size = size or RENDER_GROUP  # read at call time
    return [
        RenderGroup(generation=generation, feeds=[(r.kind.value, r.name, r.collection) for r in refs[i : i + size]])
        for i in range(0, len(refs), size)
    ]


# -- phase 2: a render group in the feed function ----------------------------------------------------------


@dataclass(slots=True)
class GroupOutcome:
    rendered: list[RebuildOutcome] = field(default_factory=list)
    failed: dict[FeedRef, Exception] = field(default_factory=dict)
    listing_changed: bool = False
    changed_urls: list[str] = field(default_factory=list)
    rest: list[RenderGroup] = field(default_factory=list)  # to send back to the render queue


def month_slice(instants: Sequence[str], limit: int | None = None) -> tuple[list[str], str]:
    """The first whole months of these instants holding at most `limit` of them (RENDER_ENTRIES; at least one
    month), and the first month left for later ("" when none is)."""
    limit = RENDER_ENTRIES if limit is None else limit
    ordered = sorted(instants)
    if len(ordered) <= limit:
        return ordered, ""
    cut = limit
    while cut > 0 and ordered[cut][:7] == ordered[cut - 1][:7]:
        cut -= 1
    if cut == 0:  # one month holds more than `limit`: that month alone
        month = ordered[0][:7]
        cut = next((i for i, instant in enumerate(ordered) if instant[:7] != month), len(ordered))
    return ordered[:cut], ordered[cut][:7] if cut < len(ordered) else ""


def group_refs(group: RenderGroup) -> list[FeedRef]:
    return [FeedRef(FeedKind(kind), name, collection) for kind, name, collection in group.feeds]


def render_group(
    group: RenderGroup,
    *,
    site: Site,
    table: PostsTable,
    feeds: FeedsBucket,
    lease_seconds: float,
    on_rendered: Callable[[RebuildOutcome], None] | None = None,
    remaining_ms: Callable[[], int] | None = None,
) -> GroupOutcome:
    """Each feed of the group rebuilt once from the table as it is, with the instants the rebuild's batches
    recorded for it (its archive pages to update). A feed that fails is reported, the others go on. What does
    not fit this invocation (see the module docstring) is returned in `rest`."""
    from postfeed.pipeline import rebuild

    ledger = RebuildLedger(table)
    outcome = GroupOutcome()
    refs = group_refs(group)
    for index, ref in enumerate(refs):
        if index and remaining_ms is not None and remaining_ms() < RESERVE_MS:
            outcome.rest.append(RenderGroup(generation=group.generation, feeds=group.feeds[index:]))
            break
        instants = ledger.instants(group.generation, ref)
        if index == 0 and group.from_month:
            instants = [instant for instant in instants if instant[:7] >= group.from_month]
        instants, later = month_slice(instants)
        try:
            done = rebuild.rebuild_feed(
                ref, site=site, table=table, feeds=feeds, lease_seconds=lease_seconds, instants=instants
            )
        except Exception as exc:
            outcome.failed[ref] = exc
            continue
        outcome.rendered.append(done)
        outcome.listing_changed |= done.listing_changed
        outcome.changed_urls += done.changed_urls
        if on_rendered is not None:
            on_rendered(done)
        if later:
            outcome.rest.append(RenderGroup(generation=group.generation, feeds=[group.feeds[index]], from_month=later))
            if group.feeds[index + 1 :]:
                outcome.rest.append(RenderGroup(generation=group.generation, feeds=group.feeds[index + 1 :]))
            break
    return outcome
