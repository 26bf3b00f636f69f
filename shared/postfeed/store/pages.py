"""Archive pages, the feeds registry and the discovery shelves in the PostsTable (layout in `postfeed.store.items`).

| item          | pk               | sk                  | what                                                    |
|---------------|------------------|---------------------|---------------------------------------------------------|
| archive page  | `FEED#<feed id>` | `~PAGE#<page id>`   | entry count, neighbours linked, hashes of its documents |
| registry line | `FEEDS`          | `<listing key>`     | kind, name (collection): one per feed with entries      |
| due feed      | `FEEDS`          | `~DUE#<listing key>`| a feed that came or went since the documents were put  |
| index state   | `FEEDS`          | `~INDEX`            | lease, hashes of index.html, feeds.opml, feed.xsl; site |
| shelf         | `FEEDS`          | `~SHELF#<shelf key>`| section, feeds, first and last feed, document hashes   |

Every query here is a Query on one partition with a sort-key range or prefix (no Scan): the members of a
period are `begins_with(sk, "2022-03")` on the feed's partition (membership sort keys start with the
entry's UTC instant), the pages of a month `begins_with(sk, "~PAGE#2022-03")`, a page's neighbours one
item each way from its sort key. `~PAGE#…` and `~STATE` sort after every membership (`~` is above digits),
so the newest-entries query (`sk < "~"`) never sees them. Listing keys (`feeds.discovery.listing_key`) start
with a digit: a registry range is a `BETWEEN`, and the `~` items of the partition sort after every line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from postfeed.models import POSTS, FeedKind, FeedRef
from postfeed.store.items import feed_id, feed_pk
from postfeed.store.table import PostsTable, from_attributes, to_attributes

PAGE_PREFIX = "~PAGE#"
PAGE_UPPER = "~PAGE#~"  # above every page id (ids start with a digit)
REGISTRY_PK = "FEEDS"
LISTING_UPPER = "A"  # above every listing key (a digit first), below the lines of old versions (a letter first)
DUE_PREFIX = "~DUE#"
INDEX_SK = "~INDEX"  # sorts after every `~DUE#…` and before every `~SHELF#…`
SHELF_PREFIX = "~SHELF#"


class Member(NamedTuple):
    """One entry of a feed: its sort key, its post's key, and its archive line when it has one."""

    sk: str
    key: str
    line: dict[str, Any] | None = None


def page_sk(page: str) -> str:
    return PAGE_PREFIX + page


def _ref_attributes(ref: FeedRef) -> dict[str, Any]:
    return {
        "kind": ref.kind.value,
        "name": ref.name,
        **({"collection": ref.collection} if ref.collection != POSTS else {}),
    }


def _ref_of(item: dict[str, Any]) -> FeedRef:
    return FeedRef(FeedKind(item["kind"]), item.get("name", ""), item.get("collection", POSTS))


class FeedPages:
    """Archive pages of feeds, and the membership queries that decide them."""

    def __init__(self, table: PostsTable) -> None:
        self.table = table
        self.client = table.client
        self.name = table.name

    # -- memberships ---------------------------------------------------------------------------------

    def count_paged(self, ref: FeedRef) -> int:
        """The feed's entries as its archive pages count them (one Query over its page items). Not the
        memberships: some may be newer than the pages, and the rebuild that pages them adds them then."""
        total = 0
        for page in self._pages(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues=to_attributes({":pk": feed_pk(ref), ":p": PAGE_PREFIX}),
            ProjectionExpression="#c",
            ExpressionAttributeNames={"#c": "count"},
            ConsistentRead=True,
        ):
            total += sum(int(item.get("count", 0)) for item in map(from_attributes, page["Items"]))
        return total

    def members(self, ref: FeedRef, prefix: str, *, lines: bool = False) -> list[Member]:
        """Every entry whose sort key starts with `prefix`, oldest first (with its archive line if asked)."""
        found: list[Member] = []
        projection = "sk, #k, #l" if lines else "sk, #k"
        names = {"#k": "key", "#l": "line"} if lines else {"#k": "key"}
        for page in self._pages(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues=to_attributes({":pk": feed_pk(ref), ":p": prefix}),
            ProjectionExpression=projection,
            ExpressionAttributeNames=names,
            ConsistentRead=True,
        ):
            found += [Member(item["sk"], item["key"], item.get("line")) for item in map(from_attributes, page["Items"])]
        return found

    # -- pages -------------------------------------------------------------------------------------

    def pages(self, ref: FeedRef, prefix: str) -> dict[str, dict[str, Any]]:
        """Page items whose id starts with `prefix` (a month: the month's page, or its days' and hours')."""
        found: dict[str, dict[str, Any]] = {}
        for page in self._pages(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues=to_attributes({":pk": feed_pk(ref), ":p": page_sk(prefix)}),
            ConsistentRead=True,
        ):
            for item in map(from_attributes, page["Items"]):
                found[item["sk"].removeprefix(PAGE_PREFIX)] = item
        return found

    def page_before(self, ref: FeedRef, bound: str) -> dict[str, Any] | None:
        """The newest page whose id sorts before `bound`."""
        return self._one(ref, page_sk(""), page_sk(bound), forward=False, exclusive_high=True)

    def page_after(self, ref: FeedRef, bound: str, below: str | None = None) -> dict[str, Any] | None:
        """The oldest page whose id sorts after `bound` (and before `below`, when given)."""
        high = page_sk(below) if below else PAGE_UPPER
        return self._one(ref, page_sk(bound), high, forward=True, exclusive_low=True, exclusive_high=True)

    def newest_page(self, ref: FeedRef) -> str | None:
        item = self._one(ref, page_sk(""), PAGE_UPPER, forward=False)
        return item["sk"].removeprefix(PAGE_PREFIX) if item else None

    def put_page(self, ref: FeedRef, page: str, attributes: dict[str, Any]) -> None:
        item = {**attributes, "pk": feed_pk(ref), "sk": page_sk(page), "page": page}
        self._update(item)

    def delete_page(self, ref: FeedRef, page: str) -> None:
        self.client.delete_item(TableName=self.name, Key=to_attributes({"pk": feed_pk(ref), "sk": page_sk(page)}))

    # -- registry, shelves, due feeds and the index lease: all in the FEEDS partition -------------------

    def register(self, ref: FeedRef, listing: str) -> None:
        """The feed's line in the registry, under its listing key (`feeds.discovery.listing_key`)."""
        self._update({"pk": REGISTRY_PK, "sk": listing, **_ref_attributes(ref)})

    def unregister(self, listing: str) -> None:
        self.client.delete_item(TableName=self.name, Key=to_attributes({"pk": REGISTRY_PK, "sk": listing}))

    def unregister_legacy(self, ref: FeedRef) -> None:
        """Remove the line a feed had before listing keys (sort key: its feed id, with counts)."""
        self.client.delete_item(TableName=self.name, Key=to_attributes({"pk": REGISTRY_PK, "sk": feed_id(ref)}))

    def legacy_lines(self) -> list[tuple[str, FeedRef, int]]:
        """Registry lines of versions before listing keys (sort key: the feed id, a letter first; with counts)."""
        found: list[tuple[str, FeedRef, int]] = []
        for page in self._pages(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=to_attributes({":pk": REGISTRY_PK, ":lo": "a", ":hi": "z"}),
            ConsistentRead=True,
        ):
            found += [
                (item["sk"], _ref_of(item), int(item.get("entries", 0))) for item in map(from_attributes, page["Items"])
            ]
        return found

    def delete_line(self, sk: str) -> None:
        self.client.delete_item(TableName=self.name, Key=to_attributes({"pk": REGISTRY_PK, "sk": sk}))

    def listed(self, low: str, high: str) -> list[tuple[str, FeedRef]]:
        """The registered feeds whose listing keys are in [low, high], in listing order: one Query (paginated
        past 1 MB)."""
        found: list[tuple[str, FeedRef]] = []
        for page in self._pages(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=to_attributes({":pk": REGISTRY_PK, ":lo": low, ":hi": high}),
            ConsistentRead=True,
        ):
            found += [(item["sk"], _ref_of(item)) for item in map(from_attributes, page["Items"])]
        return found

    def registry(self) -> list[FeedRef]:
        """Every registered feed, in listing order (listing keys start with a digit: below `LISTING_UPPER`)."""
        return [ref for _, ref in self.listed("0", LISTING_UPPER)]

    def mark_due(self, ref: FeedRef, listing: str) -> None:
        """Say the feed came or went: the discovery documents holding it are due. `seq` tells a publisher that
        read this item whether it changed again since."""
        self.client.update_item(
            TableName=self.name,
            Key=to_attributes({"pk": REGISTRY_PK, "sk": DUE_PREFIX + listing}),
            UpdateExpression="SET #k = :k, #n = :n, #c = :c ADD seq :one",
            ExpressionAttributeNames={"#k": "kind", "#n": "name", "#c": "collection"},
            ExpressionAttributeValues=to_attributes(
                {":k": ref.kind.value, ":n": ref.name, ":c": ref.collection, ":one": 1}
            ),
        )

    def due_and_index(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The due feeds' items and the index state, in one Query (`~DUE#…` sorts just below `~INDEX`)."""
        due: list[dict[str, Any]] = []
        state: dict[str, Any] = {}
        for page in self._pages(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=to_attributes({":pk": REGISTRY_PK, ":lo": DUE_PREFIX, ":hi": INDEX_SK}),
            ConsistentRead=True,
        ):
            for item in map(from_attributes, page["Items"]):
                if item["sk"] == INDEX_SK:
                    state = item
                else:
                    due.append(item)
        return due, state

    @staticmethod
    def due_ref(item: dict[str, Any]) -> FeedRef:
        return _ref_of(item)

    def clear_due(self, items: list[dict[str, Any]]) -> None:
        """Delete these due items, each only if nobody marked it again since it was read (else it stays due)."""
        for item in items:
            try:
                self.client.delete_item(
                    TableName=self.name,
                    Key=to_attributes({"pk": REGISTRY_PK, "sk": item["sk"]}),
                    ConditionExpression="seq = :s",
                    ExpressionAttributeValues=to_attributes({":s": item["seq"]}),
                )
            except self.client.exceptions.ConditionalCheckFailedException:
                continue

    def shelves(self) -> dict[str, dict[str, Any]]:
        """Every shelf item by shelf key (a few dozen for thousands of feeds): one Query."""
        found: dict[str, dict[str, Any]] = {}
        for page in self._pages(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues=to_attributes({":pk": REGISTRY_PK, ":p": SHELF_PREFIX}),
            ConsistentRead=True,
        ):
            for item in map(from_attributes, page["Items"]):
                found[item["sk"].removeprefix(SHELF_PREFIX)] = item
        return found

    def put_shelf(self, key: str, attributes: dict[str, Any]) -> None:
        self._update({**attributes, "pk": REGISTRY_PK, "sk": SHELF_PREFIX + key})

    def delete_shelf(self, key: str) -> None:
        self.client.delete_item(TableName=self.name, Key=to_attributes({"pk": REGISTRY_PK, "sk": SHELF_PREFIX + key}))

    def acquire_index(self, owner: str, seconds: float) -> dict[str, Any]:
        """Take the lease on the discovery documents (root, shelves, feed.xsl) or raise LeaseBusyError; returns
        their state item as it was (hashes of the root documents, the site they were rendered for)."""
        busy = "the feeds index is being published by another invocation"
        return self.table.take_lease({"pk": REGISTRY_PK, "sk": INDEX_SK}, owner, seconds, busy=busy)

    def release_index(self, owner: str, state: dict[str, Any]) -> None:
        self.table.give_lease_back({"pk": REGISTRY_PK, "sk": INDEX_SK}, owner, state)

    # -- helpers -----------------------------------------------------------------------------------

    def _update(self, item: dict[str, Any]) -> None:
        """Upsert with UpdateItem (the feed function has no PutItem): every attribute set, None ones removed."""
        key = {"pk": item["pk"], "sk": item["sk"]}
        fields = {k: v for k, v in item.items() if k not in key}
        names = {f"#a{i}": name for i, name in enumerate(fields)}
        sets = [f"#a{i} = :v{i}" for i, value in enumerate(fields.values()) if value is not None]
        removes = [f"#a{i}" for i, value in enumerate(fields.values()) if value is None]
        values = {f":v{i}": value for i, value in enumerate(fields.values()) if value is not None}
        expression = " ".join(
            part
            for part in (
                ("SET " + ", ".join(sets)) if sets else "",
                ("REMOVE " + ", ".join(removes)) if removes else "",
            )
            if part
        )
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "Key": to_attributes(key),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = to_attributes(values)
        self.client.update_item(**kwargs)

    def _one(
        self,
        ref: FeedRef,
        low: str,
        high: str,
        *,
        forward: bool,
        exclusive_low: bool = False,
        exclusive_high: bool = False,
    ) -> dict[str, Any] | None:
        # BETWEEN is inclusive: ask for two and drop a bound that matched exactly.
        for page in self._pages(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=to_attributes({":pk": feed_pk(ref), ":lo": low, ":hi": high}),
            ScanIndexForward=forward,
            Limit=2,
            ConsistentRead=True,
        ):
            for item in map(from_attributes, page["Items"]):
                if (exclusive_low and item["sk"] == low) or (exclusive_high and item["sk"] == high):
                    continue
                if not item["sk"].startswith(PAGE_PREFIX) or item["sk"] == PAGE_UPPER:
                    continue
                return item
            return None
        return None

    def _pages(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        kwargs["TableName"] = self.name
        while True:
            response: dict[str, Any] = dict(self.client.query(**kwargs))
            yield response
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
