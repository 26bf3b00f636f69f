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

The pipeline reads and writes these as records (`postfeed.store.records`: Membership, ArchivePage, DueFeed,
ShelfState, IndexState), encoded and decoded here, in the order of attributes they have always been stored in.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from postfeed.models import POSTS, FeedKind, FeedRef
from postfeed.store.items import feed_id, feed_pk
from postfeed.store.records import ArchivePage, DueFeed, IndexState, Membership, ShelfState
from postfeed.store.table import PostsTable, from_attributes, to_attributes

PAGE_PREFIX = "~PAGE#"
PAGE_UPPER = "~PAGE#~"  # above every page id (ids start with a digit)
REGISTRY_PK = "FEEDS"
LISTING_UPPER = "A"  # above every listing key (a digit first), below the lines of old versions (a letter first)
DUE_PREFIX = "~DUE#"
INDEX_SK = "~INDEX"  # sorts after every `~DUE#…` and before every `~SHELF#…`
SHELF_PREFIX = "~SHELF#"


def page_sk(page: str) -> str:
    return PAGE_PREFIX + page


def archive_page(item: Mapping[str, Any]) -> ArchivePage:
    """The record of a page item."""
    hashes = item.get("hashes")
    return ArchivePage(
        page=str(item["sk"]).removeprefix(PAGE_PREFIX),
        count=int(item.get("count", 0)),
        prev=item.get("prev"),
        next=item.get("next"),
        hashes=None if hashes is None else dict(hashes),
    )


def page_attributes(page: ArchivePage) -> dict[str, Any]:
    """A page item's attributes besides its keys and id (None ones are removed from the item)."""
    hashes = None if page.hashes is None else dict(page.hashes)
    return {"count": page.count, "prev": page.prev, "next": page.next, "hashes": hashes}


def shelf_state(item: Mapping[str, Any]) -> ShelfState:
    """The record of a shelf item."""
    first, last, count, hashes = item.get("first"), item.get("last"), item.get("count"), item.get("hashes")
    return ShelfState(
        key=str(item["sk"]).removeprefix(SHELF_PREFIX),
        section=item.get("section"),
        count=None if count is None else int(count),
        first=_ref_of(first) if first else None,
        last=_ref_of(last) if last else None,
        hashes=None if hashes is None else dict(hashes),
    )


def shelf_attributes(shelf: ShelfState) -> dict[str, Any]:
    """A shelf item's attributes besides its keys (None ones are removed from the item); a feed as a map of
    its kind, name and collection."""
    return {
        "section": shelf.section,
        "count": shelf.count,
        "first": None if shelf.first is None else _ref_map(shelf.first),
        "last": None if shelf.last is None else _ref_map(shelf.last),
        "hashes": None if shelf.hashes is None else dict(shelf.hashes),
    }


def index_state(item: Mapping[str, Any]) -> IndexState:
    """The record of the index state item (empty before the first publication)."""
    hashes, feeds, shelving = item.get("hashes"), item.get("feeds"), item.get("shelving")
    return IndexState(
        hashes=None if hashes is None else dict(hashes),
        site=item.get("site"),
        feeds=None if feeds is None else int(feeds),
        shelving=None if shelving is None else int(shelving),
    )


def index_attributes(state: IndexState) -> dict[str, Any]:
    """The attributes a release of the index lease sets: those with a value."""
    hashes = None if state.hashes is None else dict(state.hashes)
    values = {"hashes": hashes, "site": state.site, "feeds": state.feeds, "shelving": state.shelving}
    return {k: v for k, v in values.items() if v is not None}


def _ref_map(ref: FeedRef) -> dict[str, str]:
    return {"kind": ref.kind.value, "name": ref.name, "collection": ref.collection}


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

    def members(self, ref: FeedRef, prefix: str, *, lines: bool = False) -> list[Membership]:
        """Every entry whose sort key starts with `prefix`, oldest first (with its archive line if asked)."""
        found: list[Membership] = []
        projection = "sk, #k, #l" if lines else "sk, #k"
        names = {"#k": "key", "#l": "line"} if lines else {"#k": "key"}
        for page in self._pages(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues=to_attributes({":pk": feed_pk(ref), ":p": prefix}),
            ProjectionExpression=projection,
            ExpressionAttributeNames=names,
            ConsistentRead=True,
        ):
            found += [
                Membership(item["sk"], item["key"], item.get("line")) for item in map(from_attributes, page["Items"])
            ]
        return found

    # -- pages -------------------------------------------------------------------------------------

    def pages(self, ref: FeedRef, prefix: str) -> dict[str, ArchivePage]:
        """Pages whose id starts with `prefix` (a month: the month's page, or its days' and hours'), by id."""
        found: dict[str, ArchivePage] = {}
        for page in self._pages(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues=to_attributes({":pk": feed_pk(ref), ":p": page_sk(prefix)}),
            ConsistentRead=True,
        ):
            for item in map(from_attributes, page["Items"]):
                stored = archive_page(item)
                found[stored.page] = stored
        return found

    def page_before(self, ref: FeedRef, bound: str) -> ArchivePage | None:
        """The newest page whose id sorts before `bound`."""
        item = self._one(ref, page_sk(""), page_sk(bound), forward=False, exclusive_high=True)
        return None if item is None else archive_page(item)

    def page_after(self, ref: FeedRef, bound: str, below: str | None = None) -> ArchivePage | None:
        """The oldest page whose id sorts after `bound` (and before `below`, when given)."""
        high = page_sk(below) if below else PAGE_UPPER
        item = self._one(ref, page_sk(bound), high, forward=True, exclusive_low=True, exclusive_high=True)
        return None if item is None else archive_page(item)

    def newest_page(self, ref: FeedRef) -> str | None:
        item = self._one(ref, page_sk(""), PAGE_UPPER, forward=False)
        return item["sk"].removeprefix(PAGE_PREFIX) if item else None

    def put_page(self, ref: FeedRef, page: ArchivePage) -> None:
        item = {**page_attributes(page), "pk": feed_pk(ref), "sk": page_sk(page.page), "page": page.page}
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

    def due_and_index(self) -> tuple[list[DueFeed], IndexState]:
        """The due feeds and the index state, in one Query (`~DUE#…` sorts just below `~INDEX`)."""
        due: list[DueFeed] = []
        state = IndexState()
        for page in self._pages(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=to_attributes({":pk": REGISTRY_PK, ":lo": DUE_PREFIX, ":hi": INDEX_SK}),
            ConsistentRead=True,
        ):
            for item in map(from_attributes, page["Items"]):
                if item["sk"] == INDEX_SK:
                    state = index_state(item)
                else:
                    due.append(DueFeed(item["sk"].removeprefix(DUE_PREFIX), _ref_of(item), int(item["seq"])))
        return due, state

    def clear_due(self, due: Sequence[DueFeed]) -> None:
        """Delete these due marks, each only if nobody marked it again since it was read (else it stays due)."""
        for feed in due:
            try:
                self.client.delete_item(
                    TableName=self.name,
                    Key=to_attributes({"pk": REGISTRY_PK, "sk": DUE_PREFIX + feed.listing}),
                    ConditionExpression="seq = :s",
                    ExpressionAttributeValues=to_attributes({":s": feed.seq}),
                )
            except self.client.exceptions.ConditionalCheckFailedException:
                continue

    def shelves(self) -> dict[str, ShelfState]:
        """Every shelf by shelf key (a few dozen for thousands of feeds): one Query."""
        found: dict[str, ShelfState] = {}
        for page in self._pages(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
            ExpressionAttributeValues=to_attributes({":pk": REGISTRY_PK, ":p": SHELF_PREFIX}),
            ConsistentRead=True,
        ):
            for item in map(from_attributes, page["Items"]):
                shelf = shelf_state(item)
                found[shelf.key] = shelf
        return found

    def put_shelf(self, shelf: ShelfState) -> None:
        self._update({**shelf_attributes(shelf), "pk": REGISTRY_PK, "sk": SHELF_PREFIX + shelf.key})

    def delete_shelf(self, key: str) -> None:
        self.client.delete_item(TableName=self.name, Key=to_attributes({"pk": REGISTRY_PK, "sk": SHELF_PREFIX + key}))

    def acquire_index(self, owner: str, seconds: float) -> IndexState:
        """Take the lease on the discovery documents (root, shelves, feed.xsl) or raise LeaseBusyError; returns
        their state as it was (hashes of the root documents, the site they were rendered for)."""
        busy = "the feeds index is being published by another invocation"
        return index_state(self.table.take_lease({"pk": REGISTRY_PK, "sk": INDEX_SK}, owner, seconds, busy=busy))

    def release_index(self, owner: str, state: IndexState) -> None:
        """Record what was published (the attributes `state` sets) and give the lease back."""
        self.table.give_lease_back({"pk": REGISTRY_PK, "sk": INDEX_SK}, owner, index_attributes(state))

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
