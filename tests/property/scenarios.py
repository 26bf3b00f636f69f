"""Random histories of a few posts, and their delivery: what the property tests draw, and how they drive it.

A history is a list of S3 changes over 3-4 keys: uploads and edits (titles, categories, tags, dates from a
small alphabet, so that posts move between feeds and collide in them), deletes, and rejected versions in
between. The final version of each key is valid or deleted: a rejected final version keeps whatever good
version came before it, which depends on the order of delivery by design (tests/support.py,
`assert_same_outcome`), so the reference could not be computed from the final objects alone."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from hypothesis import strategies as st

from postfeed.feeds.channel import build_channel
from postfeed.feeds.paths import ROOT_KEYS, FeedFormat, feed_key
from postfeed.models import FeedRef, Site
from postfeed.store.items import decode_entry, refs_of_entry
from postfeed.store.table import from_attributes
from postfeed_tools.local.faults import FaultKind, FaultRule
from postfeed_tools.local.pipeline import LocalPipeline
from tests.hostile.checks import assert_feeds_sound, body_problem, site_of
from tests.property.stats import Totals
from tests.support import Change, assert_same_outcome, is_test_event, snapshot, take_messages

KEYS = (
    "_posts/2026-11-25-alpha.md",
    "_posts/2026-11-26-beta.md",
    "_posts/2026-11-27-gamma.md",
    "_posts/2026-11-28-delta.md",
)
TITLES = ("甲", "乙（更新）", "Tom & Jerry <b>", "第三篇")
CATEGORIES = ("emnews", "cailianshe", "emnews cailianshe", "")
TAGS = ("港股", "A股", "港股 A股", "")
DATES = ("", "2026-11-27 09:30:00 +0800", "2026-11-20 08:00:00", "2025-12-31")
REJECTED: tuple[bytes, ...] = (
    '---\ntitle: "坏"标题"\ncategories: emnews\n---\n<p>x</p>\n'.encode(),  # yaml_syntax
    b"---\ntitle: bad date\ndate: +0800\ncategories: emnews\n---\n<p>x</p>\n",  # invalid_date
    b"---\n- a list\n- not a mapping\n---\n<p>x</p>\n",  # front_matter_not_mapping
    b"---\ntitle: \xff\xfe\n---\n<p>x</p>\n",  # invalid_utf8
)
# Operations whose failures matter differently: reads and writes of both functions.
OPERATIONS = (
    "s3.GetObject",
    "s3.HeadObject",
    "s3.PutObject",
    "dynamodb.GetItem",
    "dynamodb.TransactWriteItems",
    "dynamodb.Query",
    "dynamodb.BatchGetItem",
    "dynamodb.UpdateItem",
)
RETRY_ATTEMPTS = 7  # botocore's max_attempts 6 counts retries: 1 + 6 requests per call


def body(title: str, categories: str, tags: str, date: str, published: bool = True) -> bytes:
    lines = ["---", "layout: post", f'title: "{title}"']
    lines += [f"date: {date}"] if date else []
    lines += [f"categories: {categories}"] if categories else []
    lines += [f"tags: {tags}"] if tags else []
    lines += [] if published else ["published: false"]
    lines += ["---", f"<p>{title}：正文。</p>", ""]
    return "\n".join(lines).encode()


valid_bodies = st.builds(
    body,
    st.sampled_from(TITLES),
    st.sampled_from(CATEGORIES),
    st.sampled_from(TAGS),
    st.sampled_from(DATES),
    st.sampled_from((True, True, True, True, False)),  # now and then unpublished (skipped)
)
VersionBody = bytes | None  # None: a delete
final_versions: st.SearchStrategy[bytes | None] = st.one_of(valid_bodies, st.none())
any_versions: st.SearchStrategy[bytes | None] = st.one_of(
    valid_bodies, valid_bodies, st.none(), st.sampled_from(REJECTED)
)


@st.composite
def histories(draw: st.DrawFn, max_changes: int = 10) -> list[Change]:
    """Changes over 3-4 keys; each key's final version valid or deleted."""
    keys = KEYS[: draw(st.integers(3, 4), label="keys")]
    steps = draw(st.lists(st.tuples(st.sampled_from(keys), any_versions), min_size=1, max_size=max_changes))
    changes = [Change(key, version) for key, version in steps]
    last: dict[str, bytes | None] = {}
    for change in changes:
        last[change.key] = change.body
    for key, version in last.items():
        if version in REJECTED:
            changes.append(Change(key, draw(final_versions, label=f"final {key}")))
    return changes


@st.composite
def fault_rules(draw: st.DrawFn) -> list[FaultRule]:
    """Transient faults at some rate on every call, and now and then a call failing all its attempts."""
    rate = draw(st.sampled_from((0.02, 0.05, 0.1)), label="fault rate")
    kinds = draw(st.sets(st.sampled_from(list(FaultKind)), min_size=1), label="fault kinds")
    rules = [FaultRule("*", rate=rate, kinds=tuple(sorted(kinds)))]
    if draw(st.booleans(), label="a call fails"):
        operation = draw(st.sampled_from(OPERATIONS), label="failing operation")
        first = draw(st.integers(1, 20), label="failing from request")
        kind = draw(st.sampled_from(list(FaultKind)), label="failing kind")
        rules.append(FaultRule(operation, calls=frozenset(range(first, first + RETRY_ATTEMPTS)), kinds=(kind,)))
    return rules


# -- delivery -------------------------------------------------------------------------------------------


@dataclass
class Courier:
    """Takes S3's event messages off the queue and delivers them late, duplicated and out of order, counting."""

    pipeline: LocalPipeline
    rng: random.Random
    pending: list[str] = field(default_factory=list)
    events: int = 0
    deliveries: int = 0
    duplicated: int = 0
    reordered: int = 0
    newest: dict[str, str] = field(default_factory=dict)  # key -> newest sequencer delivered

    def take(self) -> None:
        bodies = take_messages(self.pipeline)
        self.events += sum(len(_events_of(b)) for b in bodies)
        self.pending += bodies

    def deliver(self, share: float, duplicate: float) -> None:
        """Send `share` of what is pending (a random part), with duplicates, shuffled."""
        self.rng.shuffle(self.pending)
        cut = round(len(self.pending) * share)
        now, self.pending = self.pending[:cut], self.pending[cut:]
        batch = now + [b for b in now if self.rng.random() < duplicate]
        self.rng.shuffle(batch)
        self.duplicated += len(batch) - len(now)
        sqs, url = self.pipeline.glue.sqs, self.pipeline.stack.queue_url
        for message in batch:
            for key, sequencer in _events_of(message):
                if self.newest.get(key, "") > sequencer:
                    self.reordered += 1
                self.newest[key] = max(self.newest.get(key, ""), sequencer)
            sqs.send_message(QueueUrl=url, MessageBody=message)
            self.deliveries += 1

    def pump(self, rounds: int) -> None:
        """A few ingest invocations, then the stream: ingest and feed building interleave."""
        for _ in range(rounds):
            if not self.pipeline.glue.pump_queue():
                break
        self.pipeline.glue.pump_stream()


def _events_of(message: str) -> list[tuple[str, str]]:
    if is_test_event(message):
        return []
    records = json.loads(message).get("Records", [])
    return [(unquote_plus(r["s3"]["object"]["key"]), r["s3"]["object"]["sequencer"]) for r in records]


# -- checks ---------------------------------------------------------------------------------------------


def queue_bodies(pipeline: LocalPipeline, url: str) -> list[str]:
    """Every message in a queue, left there and visible again."""
    bodies, receipts = [], []
    sqs = pipeline.glue.sqs
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
        if not messages:
            break
        bodies += [m["Body"] for m in messages]
        receipts += [m["ReceiptHandle"] for m in messages]
    for receipt in receipts:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=receipt, VisibilityTimeout=0)
    return bodies


def shown_title(item: dict[str, Any], pipeline: LocalPipeline, site: Site) -> str:
    """The title a feed shows for a stored post (jekyll-feed's rule: smartified, markup stripped, with its
    fallbacks), rendered by the feeds' own channel builder."""
    entry = item["entry"]
    blob = entry.get("blob") or pipeline.table.get_content(item["key"], int(entry.get("chunks", 0)))
    post = decode_entry(entry, bytes(blob))
    return build_channel(FeedRef.site(), [post], site).entries[0].title


def lost_posts(pipeline: LocalPipeline, site: Site) -> list[str]:
    """Committed posts missing from a JSON feed they belong to, or shown there more than once."""
    expected: dict[FeedRef, Counter[str]] = {}
    kwargs: dict[str, Any] = {"TableName": pipeline.table.name}
    while True:
        page = pipeline.table.client.scan(**kwargs)
        for item in map(from_attributes, page["Items"]):
            if item.get("sk") == "POST" and item.get("entry") and item.get("state") == "published":
                title = shown_title(item, pipeline, site)
                for ref in refs_of_entry(item["entry"]):
                    expected.setdefault(ref, Counter())[title] += 1
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    problems = []
    for ref, titles in expected.items():
        document = pipeline.feed(feed_key(ref, FeedFormat.JSON, site))
        shown = Counter(item["title"] for item in json.loads(document)["items"]) if document else Counter()
        if shown != titles:
            problems.append(f"{ref}: committed {dict(titles)}, shown {dict(shown)}")
    return problems


INDEX_ITEM = "FEEDS|~INDEX"  # lease, hashes of the root documents and the site they show (postfeed.store.pages)


def assert_same_end_state(actual: dict[str, Any], reference: dict[str, Any]) -> None:
    """`assert_same_outcome`, with the feeds' root documents (index.html, feeds.opml, feed.xsl) treated as it
    treats a feed that only an intermediate version created: they may remain, valid and listing no feed.
    Of their state item, what is published counts (hashes, settings, feeds), not the lease."""
    index = actual["items"].get(INDEX_ITEM)
    if INDEX_ITEM in reference["items"]:
        published = ("hashes", "site", "feeds")
        expected = reference["items"][INDEX_ITEM]
        assert {k: (index or {}).get(k) for k in published} == {k: expected.get(k) for k in published}
    elif index is not None:
        assert index.get("feeds") == 0, index
    for key in set(ROOT_KEYS) & set(actual["feeds"]) - set(reference["feeds"]):
        assert body_problem(key, actual["feeds"][key]) is None, key

    def without_roots(snapshot: dict[str, Any]) -> dict[str, Any]:
        return {
            "items": {k: v for k, v in snapshot["items"].items() if k != INDEX_ITEM},
            "feeds": {k: v for k, v in snapshot["feeds"].items() if k not in ROOT_KEYS or k in reference["feeds"]},
        }

    assert_same_outcome(without_roots(actual), without_roots(reference))


def assert_reference_reached(pipeline: LocalPipeline, expected: dict[str, Any], totals: Totals) -> None:
    """No post lost or shown twice, no queue or failed batch left over, the reference's end state, sound feeds."""
    lost = lost_posts(pipeline, site_of(pipeline))
    totals.posts_lost += len(lost)
    assert lost == []
    assert queue_bodies(pipeline, pipeline.stack.dead_letter_queue_url) == []
    assert queue_bodies(pipeline, pipeline.stack.failure_queue_url) == []
    assert pipeline.glue.delivery.stream_failed_batches == 0
    assert_same_end_state(snapshot(pipeline), expected)
    assert_feeds_sound(pipeline)
