"""A full rebuild's ledger in the PostsTable: what its batches touched and how many are done (phase 2's input;
the rules are in `postfeed.pipeline.fanout`).

Items, all under partitions of their own (`REBUILD#<generation>…`, never a post's or a feed's), each with
`expires_at` (epoch seconds, the table's TTL attribute) two weeks on:

* `REBUILD#G` / `COUNT`: `done` (batches counted), `planned` (batches enqueued, set by the last plan step),
  `claimed` (who enqueued phase 2), `enqueued` (when it finished doing so);
* `REBUILD#G` / `DONE#<first>`: one per batch counted, written in the same transaction as the count, so a
  retried or duplicated batch is counted once;
* `REBUILD#G#<shard>` / `BEFORE#<batch>`: a batch's posts as they were before it wrote them (the first
  attempt's, kept by a conditional put: a retry finds its own writes in the table, not what they replaced);
* `REBUILD#G#<shard>` / `F#<feed token>`: a feed the rebuild touched (kind, name, collection);
* `REBUILD#G#<shard>` / `T#<feed token>#<batch>`: the instants of the entries one batch changed in one feed,
  repeats kept (`rebuild.touched_by`), rewritten whole by a retry.

A batch is named by its position and its keys (`batch_id`): a plan step sent twice over a listing that changed
in between may send another batch at the same position, whose records must not replace the first one's.

The feed items are spread over SHARDS partitions by their feed, so the rebuild's writes are not bound by one
partition's 1,000 write units a second, and one Query prefix reads a feed's instants.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from postfeed.models import FeedKind, FeedRef
from postfeed.store.items import POST_SK, feed_id, post_state
from postfeed.store.records import PostState
from postfeed.store.table import PostsTable, from_attributes, to_attributes

SHARDS = 16
TTL_SECONDS = 14 * 24 * 3600
EXPIRES = "expires_at"
COUNT_SK = "COUNT"
BEFORE_ENTRY_FIELDS = ("hash", "date", "feeds", "categories", "tags", "collection")


def feed_token(ref: FeedRef) -> str:
    """A feed's fixed-width token in sort keys (no name is a prefix of another's)."""
    return hashlib.sha256(feed_id(ref).encode()).hexdigest()[:32]


def shard_of(token: str) -> int:
    return int(token[:8], 16) % SHARDS


def _batch(first: int) -> str:
    return f"{first:012d}"


def batch_id(first: int, keys: Sequence[str]) -> str:
    return f"{_batch(first)}#{hashlib.sha256(chr(10).join(keys).encode()).hexdigest()[:16]}"


def before_item(state: PostState) -> dict[str, Any]:
    """What the ledger keeps of a post's state before a batch writes it: what `rebuild.touched_by` reads of
    an old image (its entry cut to the fields that place it in feeds; no content)."""
    item: dict[str, Any] = {"sk": POST_SK}
    if state.config_hash is not None:
        item["config_hash"] = state.config_hash
    if state.generation:
        item["generation"] = state.generation
    if state.entry is not None:
        fields = state.entry.fields
        item["entry"] = {name: fields[name] for name in BEFORE_ENTRY_FIELDS if name in fields}
    return item


class RebuildLedger:
    def __init__(self, table: PostsTable) -> None:
        self.table = table
        self.client = table.client
        self.name = table.name

    @staticmethod
    def _pk(generation: str, shard: int | None = None) -> str:
        return f"REBUILD#{generation}" if shard is None else f"REBUILD#{generation}#{shard:02d}"

    @staticmethod
    def _expires() -> int:
        return int(time.time()) + TTL_SECONDS

    # -- phase 1: the batches ------------------------------------------------------------------------

    def record_before(self, generation: str, batch: str, states: Mapping[str, PostState]) -> dict[str, PostState]:
        """Keep a batch's posts as they were before its first attempt wrote them (what `touched_by` reads of
        them: no content); returns what is kept (this attempt's, or the first attempt's)."""
        posts = {key: before_item(state) for key, state in states.items()}
        key = {
            "pk": self._pk(generation, shard_of(hashlib.sha256(batch.encode()).hexdigest())),
            "sk": f"BEFORE#{batch}",
        }
        try:
            self.client.put_item(
                TableName=self.name,
                Item=to_attributes({**key, "posts": posts, EXPIRES: self._expires()}),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            raw = self.client.get_item(TableName=self.name, Key=to_attributes(key), ConsistentRead=True)["Item"]
            posts = dict(from_attributes(raw).get("posts") or {})
        return {key: post_state(item) for key, item in posts.items()}

    def record_touched(self, generation: str, batch: str, touched: Mapping[FeedRef, Sequence[str]]) -> None:
        """The feeds one batch touched, with its entries' instants in each (BatchWriteItem; idempotent)."""
        expires = self._expires()
        items: list[dict[str, Any]] = []
        for ref, instants in touched.items():
            token = feed_token(ref)
            pk = self._pk(generation, shard_of(token))
            feed = {"kind": ref.kind.value, "name": ref.name, "collection": ref.collection}
            items.append({"pk": pk, "sk": f"F#{token}", **feed, EXPIRES: expires})
            items.append({"pk": pk, "sk": f"T#{token}#{batch}", "instants": list(instants), EXPIRES: expires})
        self._put_all(items)

    def count_done(self, generation: str, first: int) -> bool:
        """Count one batch as done, once (False: it was counted before)."""
        pk = self._pk(generation)
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.name,
                            "Item": to_attributes({"pk": pk, "sk": f"DONE#{_batch(first)}", EXPIRES: self._expires()}),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.name,
                            "Key": to_attributes({"pk": pk, "sk": COUNT_SK}),
                            "UpdateExpression": "ADD done :one SET expires_at = :expires",
                            "ExpressionAttributeValues": to_attributes({":one": 1, ":expires": self._expires()}),
                        }
                    },
                ]
            )
        except self.client.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False
            raise
        return True

    def set_planned(self, generation: str, batches: int) -> None:
        """The number of batches the plan steps enqueued (known once listing ends)."""
        self.client.update_item(
            TableName=self.name,
            Key=to_attributes({"pk": self._pk(generation), "sk": COUNT_SK}),
            UpdateExpression="SET planned = :n, done = if_not_exists(done, :zero), expires_at = :expires",
            ExpressionAttributeValues=to_attributes({":n": batches, ":zero": 0, ":expires": self._expires()}),
        )

    def claim(self, generation: str, claimant: str) -> bool:
        """True for exactly one step once every planned batch is counted (and again for that same step, retried
        before it finished enqueueing phase 2)."""
        try:
            self.client.update_item(
                TableName=self.name,
                Key=to_attributes({"pk": self._pk(generation), "sk": COUNT_SK}),
                UpdateExpression="SET claimed = :me",
                ConditionExpression=(
                    "attribute_exists(planned) AND done >= planned"
                    " AND (attribute_not_exists(claimed) OR (claimed = :me AND attribute_not_exists(enqueued)))"
                ),
                ExpressionAttributeValues=to_attributes({":me": claimant}),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def mark_enqueued(self, generation: str, groups: int) -> None:
        self.client.update_item(
            TableName=self.name,
            Key=to_attributes({"pk": self._pk(generation), "sk": COUNT_SK}),
            UpdateExpression="SET enqueued = :groups",
            ExpressionAttributeValues=to_attributes({":groups": groups}),
        )

    def progress(self, generation: str) -> dict[str, Any]:
        raw = self.client.get_item(
            TableName=self.name, Key=to_attributes({"pk": self._pk(generation), "sk": COUNT_SK}), ConsistentRead=True
        ).get("Item")
        return from_attributes(raw) if raw else {}

    # -- phase 2: the feeds --------------------------------------------------------------------------

    def touched_feeds(self, generation: str) -> list[FeedRef]:
        """Every feed the rebuild's batches touched, in a stable order."""
        refs: list[FeedRef] = []
        for shard in range(SHARDS):
            for item in self._query(self._pk(generation, shard), "F#"):
                refs.append(FeedRef(FeedKind(item["kind"]), item["name"], item["collection"]))
        return sorted(refs)

    def instants(self, generation: str, ref: FeedRef) -> list[str]:
        """The instants of the entries the rebuild changed in this feed, batch after batch."""
        token = feed_token(ref)
        found: list[str] = []
        for item in self._query(self._pk(generation, shard_of(token)), f"T#{token}#"):
            found += item.get("instants") or []
        return found

    # -- helpers -------------------------------------------------------------------------------------

    def _query(self, pk: str, prefix: str) -> Iterable[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_attributes({":pk": pk, ":prefix": prefix}),
            "ConsistentRead": True,
        }
        while True:
            response = self.client.query(**kwargs)
            yield from (from_attributes(item) for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _put_all(self, items: list[dict[str, Any]]) -> None:
        self.table.batch_write([{"PutRequest": {"Item": to_attributes(item)}} for item in items])
