"""The PostsTable adapter: post state per S3 key, feed memberships, feed rebuild leases, site config and
the other site files feeds depend on.

The layout is described in `postfeed.store.items`, plus the site files' items kept here:

| item            | pk     | sk            | what                                                            |
|-----------------|--------|---------------|-----------------------------------------------------------------|
| data file       | `SITE` | `DATA#<key>`  | one `_data/` file: state, last good bytes, error                |
| include         | `SITE` | `INCL#<key>`  | one `_includes/` file: state, last good bytes, error            |
| site stylesheet | `SITE` | `XSLT`        | the site's `feed.xslt.xml`: state, last good bytes, error       |

and what posts' renders read (`postfeed.pipeline.dependencies`):

| item            | pk                 | sk         | what                                                  |
|-----------------|--------------------|------------|-------------------------------------------------------|
| dependency      | `DEP#<dependency>` | `<key>`    | the post at `<key>` read it when last rendered        |

and one attribute: a published post whose author is a bare name (a key jekyll-feed may look up in
`site.data.authors`) carries `author_key`, so the sparse GSI `authors` finds the posts of an author.

Every read that a decision depends on is strongly consistent; every write of one post is one transaction
guarded by the item's `version` (optimistic locking), so two ingests of the same key can never interleave
their writes. Site file items are guarded the same way.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from postfeed.models import FeedRef
from postfeed.store.errors import StoreError
from postfeed.store.items import (
    CONFIG_SK,
    MAX_TRANSACTION_ACTIONS,
    MEMBER_SK_LIMIT,
    POST_PK_PREFIX,
    POST_SK,
    REJECTED_INDEX,
    SCHEDULED_INDEX,
    SITE_PK,
    STATE_SK,
    feed_pk,
    feed_state,
    feed_state_attributes,
    post_item,
    post_pk,
    post_state,
    site_file_item,
    site_file_state,
)
from postfeed.store.records import FeedState, PostState, SiteFileState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


DATA_SK_PREFIX = "DATA#"
DEPENDS_PK_PREFIX = "DEP#"  # DEP#<dependency> / <post key>: a post whose last render read it
INCLUDE_SK_PREFIX = "INCL#"
STYLESHEET_SK = "XSLT"
SITE_FILES_LIMIT = "~"  # site file items sort below it, the index state (`~INDEX`) above
AUTHORS_INDEX = "authors"
AUTHOR_KEY = "author_key"
_AUTHOR_KEY_BYTES = 700  # a GSI key is at most 2048 bytes


def depends_pk(dependency: str) -> str:
    return DEPENDS_PK_PREFIX + dependency


def author_index_key(name: str) -> str:
    """The `authors` index key of an author key. Names too long for a key are hashed; the two forms start
    differently (`=` vs `#`), so a readable one can never equal a hashed one."""
    if len(name.encode()) <= _AUTHOR_KEY_BYTES:
        return "=" + name
    return "#" + hashlib.sha256(name.encode()).hexdigest()


def entry_author_key(entry: dict[str, Any] | None) -> str | None:
    """The `authors` index key of a stored entry: its author's name when that is all it gives (jekyll-feed
    then looks it up in `site.data.authors`, as `postfeed.feeds.channel` does); None otherwise."""
    author = (entry or {}).get("author")
    if not isinstance(author, dict) or not author.get("name") or author.get("email") or author.get("uri"):
        return None
    return author_index_key(str(author["name"]))


class ConcurrentUpdateError(StoreError, RuntimeError):
    """The post item changed between our read and our write; read again and redo the decision."""


class TooManyActionsError(StoreError, ValueError):
    """A post's write would need more than one transaction can hold."""

    def __init__(self, write: PostWrite) -> None:
        super().__init__(f"{write.action_count} table writes needed, a transaction holds {MAX_TRANSACTION_ACTIONS}")
        # What the limit leaves for feed memberships once the post item and its content chunks are counted.
        self.membership_budget = MAX_TRANSACTION_ACTIONS - (1 + len(write.chunks) + write.stale_chunks)
        self.leaves = len(write.remove_members)


class LeaseBusyError(StoreError, RuntimeError):
    """Another rebuild of the same feed holds its lease; the record is retried later."""


def lease_owner() -> str:
    """This execution environment's and thread's name as a lease holder.

    Lambda runs one invocation at a time in an environment, and a thread one rebuild at a time, so no other
    holder can be at work under this name: a lease held under it is one we took and lost track of (the
    answer to the conditional write was lost, or a failed rebuild could not give it back). Acquiring takes
    such a lease back at once, instead of waiting out its expiry while the stream's retries run out."""
    return f"{_environment_id()}-{threading.get_ident()}"


@cache
def _environment_id() -> str:
    return uuid.uuid4().hex


def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def to_attributes(item: dict[str, Any]) -> dict[str, Any]:
    serializer = _serializer()
    return {k: serializer.serialize(v) for k, v in item.items() if v is not None}


def from_attributes(item: dict[str, Any]) -> dict[str, Any]:
    deserializer = _deserializer()
    return {k: _plain(deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    """DynamoDB's Decimal and Binary back to int/float and bytes."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and isinstance(value.value, bytes):
        return bytes(value.value)
    return value


@dataclass(slots=True)
class PostWrite:
    """Everything one post change writes, committed as one transaction."""

    key: str
    item: dict[str, Any]  # the new post item (without pk/sk/version)
    expected_version: int | None  # None: the item must not exist yet
    chunks: list[bytes] = field(default_factory=list)
    stale_chunks: int = 0  # chunk items of the previous version beyond len(chunks)
    add_members: list[tuple[FeedRef, str]] = field(default_factory=list)  # (feed, sort key)
    remove_members: list[tuple[FeedRef, str]] = field(default_factory=list)
    member_line: dict[str, Any] | None = None  # the archive line every added membership carries
    # What its render reads (`pipeline.dependencies`): items written before the transaction (a crash after
    # leaves one too many: at worst a needless re-render), the ones no longer read removed after it.
    add_dependencies: list[str] = field(default_factory=list)
    remove_dependencies: list[str] = field(default_factory=list)
    state: PostState | None = None  # the state `item` encodes, when the write was made from one (`of`)

    @classmethod
    def of(cls, state: PostState, *, expected_version: int | None) -> PostWrite:
        """The write of a post's new state (its entry's chunks included), over the version read."""
        chunks = list(state.entry.chunks) if state.entry is not None else []
        return cls(key=state.key, item=post_item(state), expected_version=expected_version, chunks=chunks, state=state)

    @property
    def action_count(self) -> int:
        return 1 + len(self.chunks) + self.stale_chunks + len(self.add_members) + len(self.remove_members)


class PostWriter(Protocol):
    """Where a post change goes: the table (one transaction) or a bulk batch (postfeed_tools.local.bulk)."""

    def write_post(self, write: PostWrite) -> None: ...


class PostsTable:
    def __init__(self, name: str, client: DynamoDBClient) -> None:
        self.name = name
        self.client = client

    # -- posts -------------------------------------------------------------------------------------

    def get_post(self, key: str) -> dict[str, Any] | None:
        """The post item as stored (tools and tests inspect it; the pipeline reads `get_state`)."""
        response = self.client.get_item(
            TableName=self.name,
            Key=to_attributes({"pk": post_pk(key), "sk": POST_SK}),
            ConsistentRead=True,
        )
        return from_attributes(response["Item"]) if "Item" in response else None

    def get_state(self, key: str) -> PostState | None:
        """The post's state (strongly consistent), or None when the key was never stored."""
        item = self.get_post(key)
        return None if item is None else post_state(item)

    def get_states(self, keys: Sequence[str]) -> dict[str, PostState]:
        """The states of the posts stored under these keys (consistent BatchGetItem)."""
        return {key: post_state(item) for key, item in self.get_posts(keys).items()}

    @staticmethod
    def _post_item(write: PostWrite) -> dict[str, Any]:
        version = (write.expected_version or 0) + 1
        item = {**write.item, "pk": post_pk(write.key), "sk": POST_SK, "version": version}
        # Derived here, where every post item is written, so the index can never disagree with the entry.
        author = entry_author_key(item.get("entry"))
        if author is not None:
            item[AUTHOR_KEY] = author
        return item

    @staticmethod
    def _side_items(write: PostWrite) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(items to put, keys to delete) of a post change besides its post item, chunks and memberships, as
        attribute values: the archive line every added membership carries is serialized once, not per feed."""
        puts: list[dict[str, Any]] = []
        deletes: list[dict[str, Any]] = []
        for index, chunk in enumerate(write.chunks):
            puts.append(to_attributes({"pk": post_pk(write.key), "sk": f"CHUNK#{index:04d}", "data": chunk}))
        for index in range(len(write.chunks), len(write.chunks) + write.stale_chunks):
            deletes.append(to_attributes({"pk": post_pk(write.key), "sk": f"CHUNK#{index:04d}"}))
        for ref, sort_key in write.remove_members:
            deletes.append(to_attributes({"pk": feed_pk(ref), "sk": sort_key}))
        line = to_attributes({"line": write.member_line})
        for ref, sort_key in write.add_members:
            puts.append(to_attributes({"pk": feed_pk(ref), "sk": sort_key, "key": write.key}) | line)
        return puts, deletes

    def write_posts(self, writes: Sequence[PostWrite]) -> None:
        """Write many post changes with BatchWriteItem (25 requests a call, unprocessed ones retried with
        backoff): no conditions and no atomicity across a post's items, so only for the bulk path, whose
        caller owns the keys it writes (postfeed_tools.local.bulk)."""
        requests: list[Any] = []
        for write in writes:
            puts, deletes = self._side_items(write)
            puts += [to_attributes({"pk": depends_pk(name), "sk": write.key}) for name in write.add_dependencies]
            deletes += [to_attributes({"pk": depends_pk(name), "sk": write.key}) for name in write.remove_dependencies]
            requests += [{"DeleteRequest": {"Key": key}} for key in deletes]
            requests += [{"PutRequest": {"Item": item}} for item in (to_attributes(self._post_item(write)), *puts)]
        self.batch_write(requests)

    def batch_write(self, requests: list[Any]) -> None:
        """BatchWriteItem requests, 25 a call, unprocessed ones retried with backoff."""
        attempt = 0
        while requests:
            batch, requests = requests[:25], requests[25:]
            response = self.client.batch_write_item(RequestItems={self.name: batch})
            unprocessed = list((response.get("UnprocessedItems") or {}).get(self.name) or [])
            if unprocessed:
                attempt += 1
                time.sleep(min(2.0, 0.05 * 2**attempt))
                requests = unprocessed + requests
            else:
                attempt = 0

    def write_post(self, write: PostWrite) -> None:
        """Commit one post change atomically. Raises ConcurrentUpdateError if the item moved on."""
        if write.action_count > MAX_TRANSACTION_ACTIONS:
            raise TooManyActionsError(write)
        for name in write.add_dependencies:
            self.client.put_item(TableName=self.name, Item=to_attributes({"pk": depends_pk(name), "sk": write.key}))
        item = self._post_item(write)
        put: dict[str, Any] = {"TableName": self.name, "Item": to_attributes(item)}
        if write.expected_version is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :v"
            put["ExpressionAttributeValues"] = to_attributes({":v": write.expected_version})
        actions: list[dict[str, Any]] = [{"Put": put}]
        puts, deletes = self._side_items(write)
        actions += [{"Delete": {"TableName": self.name, "Key": key}} for key in deletes]
        actions += [{"Put": {"TableName": self.name, "Item": item}} for item in puts]
        try:
            self.client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
        except self.client.exceptions.TransactionCanceledException as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise ConcurrentUpdateError(write.key) from exc
            raise
        for name in write.remove_dependencies:
            self.client.delete_item(TableName=self.name, Key=to_attributes({"pk": depends_pk(name), "sk": write.key}))

    def get_content(self, key: str, chunks: int) -> bytes:
        """Join a post's content chunk items."""
        parts: list[bytes] = []
        for page in self._query_pages(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :chunk)",
            ExpressionAttributeValues=to_attributes({":pk": post_pk(key), ":chunk": "CHUNK#"}),
            ConsistentRead=True,
        ):
            parts += [item["data"] for item in page]
        return b"".join(parts[:chunks])

    def get_posts(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Post items by key (consistent BatchGetItem; unprocessed keys retried with backoff)."""
        found: dict[str, dict[str, Any]] = {}
        pending = [to_attributes({"pk": post_pk(key), "sk": POST_SK}) for key in dict.fromkeys(keys)]
        attempt = 0
        while pending:
            batch, pending = pending[:100], pending[100:]
            response = self.client.batch_get_item(RequestItems={self.name: {"Keys": batch, "ConsistentRead": True}})
            for raw in response["Responses"].get(self.name, []):
                item = from_attributes(raw)
                found[item["key"]] = item
            leftover: dict[str, Any] = dict(response.get("UnprocessedKeys") or {})
            unprocessed: list[Any] = list(leftover.get(self.name, {}).get("Keys") or [])
            if unprocessed:
                attempt += 1
                time.sleep(min(2.0, 0.05 * 2**attempt))
                pending = unprocessed + pending
        return found

    def rejected_posts(self) -> Iterator[dict[str, Any]]:
        """Every post whose latest upload was rejected (sparse GSI: no Scan of the table)."""
        for page in self._query_pages(
            IndexName=REJECTED_INDEX,
            KeyConditionExpression="rejected = :r",
            ExpressionAttributeValues=to_attributes({":r": "1"}),
        ):
            yield from page

    def due_posts(self, until: str) -> list[tuple[str, str]]:
        """(key, due instant) of every future-dated post due at or before `until` (a UTC instant), soonest
        first (sparse GSI, keys only: no Scan, and nothing read while no post is scheduled)."""
        due: list[tuple[str, str]] = []
        for page in self._query_pages(
            IndexName=SCHEDULED_INDEX,
            KeyConditionExpression="scheduled = :s AND due_at <= :until",
            ExpressionAttributeValues=to_attributes({":s": "1", ":until": until}),
        ):
            due += [(item["pk"].removeprefix(POST_PK_PREFIX), item["due_at"]) for item in page]
        return due

    # -- feeds -------------------------------------------------------------------------------------

    def newest_members(self, ref: FeedRef, limit: int) -> list[str]:
        """Keys of the newest `limit` posts of a feed: one strongly consistent Query, newest first."""
        response = self.client.query(
            TableName=self.name,
            KeyConditionExpression="pk = :pk AND sk < :limit",
            ExpressionAttributeValues=to_attributes({":pk": feed_pk(ref), ":limit": MEMBER_SK_LIMIT}),
            ScanIndexForward=False,
            Limit=max(1, limit),
            ConsistentRead=True,
            ProjectionExpression="#k",
            ExpressionAttributeNames={"#k": "key"},
        )
        return [from_attributes(item)["key"] for item in response["Items"]][:limit]

    def acquire_lease(self, ref: FeedRef, owner: str, seconds: float) -> FeedState:
        """Take the feed's rebuild lease (or raise LeaseBusyError); returns the feed's state as it was before
        (empty for a new feed). A `lease_owner` in it means the previous holder never released."""
        busy = f"feed {feed_pk(ref)} is being rebuilt by another invocation"
        return feed_state(self.take_lease({"pk": feed_pk(ref), "sk": STATE_SK}, owner, seconds, busy=busy))

    def release_lease(self, ref: FeedRef, owner: str, state: FeedState) -> None:
        """Record what was published (the attributes `state` sets) and give the feed's lease back (only if we
        still hold it)."""
        self.give_lease_back({"pk": feed_pk(ref), "sk": STATE_SK}, owner, feed_state_attributes(state))

    def take_lease(self, key: dict[str, str], owner: str, seconds: float, *, busy: str) -> dict[str, Any]:
        """Take the lease kept on the item at `key` (or raise LeaseBusyError with `busy`); returns the item as
        it was before. A lease `owner` already holds is taken again: a retried request whose first attempt
        was applied (its answer lost) must not find itself in its own way."""
        now = time.time()
        try:
            response = self.client.update_item(
                TableName=self.name,
                Key=to_attributes(key),
                UpdateExpression="SET lease_owner = :me, lease_until = :until",
                ConditionExpression="attribute_not_exists(lease_until) OR lease_until < :now OR lease_owner = :me",
                ExpressionAttributeValues=to_attributes(
                    {":me": owner, ":until": Decimal(str(now + seconds)), ":now": Decimal(str(now))}
                ),
                ReturnValues="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            raise LeaseBusyError(busy) from exc
        return from_attributes(response.get("Attributes") or {})

    def give_lease_back(self, key: dict[str, str], owner: str, state: dict[str, Any]) -> None:
        """Set `state` on the item at `key` and remove its lease, only if `owner` still holds it."""
        names = {"#lo": "lease_owner", "#lu": "lease_until"}
        names |= {f"#a{i}": name for i, name in enumerate(state)}
        values = {f":v{i}": value for i, value in enumerate(state.values())}
        sets = ", ".join(f"#a{i} = :v{i}" for i in range(len(state)))
        self.client.update_item(
            TableName=self.name,
            Key=to_attributes(key),
            UpdateExpression=(f"SET {sets} " if sets else "") + "REMOVE #lo, #lu",
            ConditionExpression="#lo = :me",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_attributes({**values, ":me": owner}),
        )

    # -- site config -------------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any] | None:
        """The config item as stored (tools and tests inspect it; the pipeline reads `get_site_files`)."""
        response = self.client.get_item(
            TableName=self.name,
            Key=to_attributes({"pk": SITE_PK, "sk": CONFIG_SK}),
            ConsistentRead=True,
        )
        return from_attributes(response["Item"]) if "Item" in response else None

    def put_config(self, item: dict[str, Any]) -> None:
        """Write the config item as given (tests write one of before versions: `raw` alone)."""
        self.client.put_item(TableName=self.name, Item=to_attributes({**item, "pk": SITE_PK, "sk": CONFIG_SK}))

    # -- other site files (`_data/`, `_includes/`, `feed.xslt.xml`) ------------------------------------

    def get_site_files(self) -> list[SiteFileState]:
        """The config and every site file, without the stylesheet's bytes (nor versions): one consistent
        Query."""
        items: list[dict[str, Any]] = []
        for page in self._query_pages(
            KeyConditionExpression="pk = :pk AND sk < :limit",
            ExpressionAttributeValues=to_attributes({":pk": SITE_PK, ":limit": SITE_FILES_LIMIT}),
            ProjectionExpression="sk, #key, #state, #raw, body_hash",
            ExpressionAttributeNames={"#key": "key", "#state": "state", "#raw": "raw"},
            ConsistentRead=True,
        ):
            items += page
        return [site_file_state(item) for item in items]

    def get_site_item(self, sk: str) -> dict[str, Any] | None:
        """The site file item as stored (tools and tests inspect it; the pipeline reads `get_site_file`)."""
        response = self.client.get_item(
            TableName=self.name, Key=to_attributes({"pk": SITE_PK, "sk": sk}), ConsistentRead=True
        )
        return from_attributes(response["Item"]) if "Item" in response else None

    def get_site_file(self, sk: str) -> SiteFileState | None:
        """The site file's state (strongly consistent), or None when it was never stored."""
        item = self.get_site_item(sk)
        return None if item is None else site_file_state(item)

    def put_site_file(self, state: SiteFileState, expected_version: int | None) -> int:
        """Write a site file's state if its item is still at `expected_version` (None: absent), else raise
        ConcurrentUpdateError; returns the version written."""
        version = (expected_version or 0) + 1
        put: dict[str, Any] = {
            "TableName": self.name,
            "Item": to_attributes({**site_file_item(state), "pk": SITE_PK, "sk": state.sk, "version": version}),
        }
        if expected_version is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "version = :v"
            put["ExpressionAttributeValues"] = to_attributes({":v": expected_version})
        try:
            self.client.put_item(**put)
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            raise ConcurrentUpdateError(state.sk) from exc
        return version

    def replace_legacy_config(self, state: SiteFileState) -> int:
        """Write the config's state over a config item of before versions (unguarded: it has no version);
        returns the version written (1)."""
        self.put_config({**site_file_item(state), "version": 1})
        return 1

    def posts_by_author(self, name: str) -> list[str]:
        """Keys of the published posts whose author is the bare name `name` (sparse GSI, keys only)."""
        keys: list[str] = []
        for page in self._query_pages(
            IndexName=AUTHORS_INDEX,
            KeyConditionExpression="#a = :a",
            ExpressionAttributeNames={"#a": AUTHOR_KEY},
            ExpressionAttributeValues=to_attributes({":a": author_index_key(name)}),
        ):
            keys += [item["pk"].removeprefix(POST_PK_PREFIX) for item in page]
        return keys

    def posts_reading(self, dependency: str) -> list[str]:
        """Keys of the posts whose last render read `dependency` (one Query of its partition)."""
        keys: list[str] = []
        for page in self._query_pages(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_attributes({":pk": depends_pk(dependency)}),
            ConsistentRead=True,
        ):
            keys += [str(item["sk"]) for item in page]
        return keys

    # -- helpers -----------------------------------------------------------------------------------

    def _query_pages(self, **kwargs: Any) -> Iterable[list[dict[str, Any]]]:
        kwargs["TableName"] = self.name
        while True:
            response = self.client.query(**kwargs)
            yield [from_attributes(item) for item in response["Items"]]
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
