"""Archive pages and the feeds registry in the PostsTable (layout in `postfeed.store.items`).

| item          | pk               | sk                  | what                                                    |
|---------------|------------------|---------------------|---------------------------------------------------------|
| archive page  | `FEED#<feed id>` | `~PAGE#<page id>`   | entry count, neighbours linked, hashes of its documents |
| registry      | `FEEDS`          | `<feed id>`         | kind, name, entry count, newest entry: one per feed     |
| index state   | `SITE`           | `~INDEX`            | lease and hashes of index.html, feeds.opml, feed.xsl    |

Every query here is a Query on one partition with a sort-key range or prefix (no Scan): the members of a
period are `begins_with(sk, "2022-03")` on the feed's partition (membership sort keys start with the
entry's UTC instant), the pages of a month `begins_with(sk, "~PAGE#2022-03")`, a page's neighbours one
item each way from its sort key. `~PAGE#…` and `~STATE` sort after every membership (`~` is above digits),
so the newest-entries query (`sk < "~"`) never sees them.
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
INDEX_PK = "SITE"
INDEX_SK = "~INDEX"


class Member(NamedTuple):
    """One entry of a feed: its sort key, its post's key, and its archive line when it has one."""

    sk: str
    key: str
    line: dict[str, Any] | None = None


def page_sk(page: str) -> str:
    return PAGE_PREFIX + page


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

    # -- registry ----------------------------------------------------------------------------------

    def register(self, ref: FeedRef, entries: int, updated: str | None) -> None:
        """The feed's line in the registry (one item per feed, all in one partition)."""
        item = {
            "pk": REGISTRY_PK,
            "sk": feed_id(ref),
            "kind": ref.kind.value,
            "name": ref.name,
            **({"collection": ref.collection} if ref.collection != POSTS else {}),
            "entries": entries,
            "updated": updated,
        }
        self._update(item)

    def unregister(self, ref: FeedRef) -> None:
        self.client.delete_item(TableName=self.name, Key=to_attributes({"pk": REGISTRY_PK, "sk": feed_id(ref)}))

    def registry(self) -> Iterator[tuple[FeedRef, int, str | None]]:
        """Every registered feed: (feed, entry count, newest entry's date) — one Query on the registry partition."""
        for page in self._pages(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_attributes({":pk": REGISTRY_PK}),
            ConsistentRead=True,
        ):
            for item in map(from_attributes, page["Items"]):
                ref = FeedRef(FeedKind(item["kind"]), item.get("name", ""), item.get("collection", POSTS))
                yield ref, int(item.get("entries", 0)), item.get("updated")

    # -- index lease -------------------------------------------------------------------------------

    def acquire_index(self, owner: str, seconds: float) -> dict[str, Any]:
        """Take the lease on the root documents (index.html, feeds.opml, feed.xsl) or raise LeaseBusyError;
        returns their state item as it was (hashes of what is published)."""
        busy = "the feeds index is being published by another invocation"
        return self.table.take_lease({"pk": INDEX_PK, "sk": INDEX_SK}, owner, seconds, busy=busy)

    def bump_index(self) -> None:
        """Say the registry changed: the root documents are due (`pending` above `published`)."""
        self.client.update_item(
            TableName=self.name,
            Key=to_attributes({"pk": INDEX_PK, "sk": INDEX_SK}),
            UpdateExpression="ADD pending :one",
            ExpressionAttributeValues=to_attributes({":one": 1}),
        )

    def index_state(self) -> dict[str, Any]:
        response = self.client.get_item(
            TableName=self.name, Key=to_attributes({"pk": INDEX_PK, "sk": INDEX_SK}), ConsistentRead=True
        )
        return from_attributes(response["Item"]) if "Item" in response else {}

    def release_index(self, owner: str, state: dict[str, Any]) -> None:
        self.table.give_lease_back({"pk": INDEX_PK, "sk": INDEX_SK}, owner, state)

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
