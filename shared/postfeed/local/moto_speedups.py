"""Local-only fixes for moto's costs on DynamoDB.

* Transactions: moto's `transact_write_items` deep-copies every table a transaction touches, once per
  action, so it can roll back on failure: O(table size) per write, quadratic over a site upload
  (measured: 30 ms per post at 10 posts, 300 ms at 100). This backs up only what a transaction can
  change — the items it names and the length of the table's stream — and restores exactly those on
  failure. Same semantics, O(actions).
* Queries: moto's `Table.query` on the table's own key sorts *every item of the table* to find one
  partition (O(table) per query: 40 ms each once a feed has 2,000 entries). This hands it that partition's
  items only, already in order (so moto's own sort of DynamoType objects is linear); moto then filters
  and pages them exactly as before. Index queries are untouched.
"""

from __future__ import annotations

import bisect
import copy
import inspect
from types import SimpleNamespace
from typing import Any

_INSTALLED = "_postfeed_targeted_rollback"


def install() -> None:
    """Patch moto's DynamoDB backend in this process (idempotent)."""
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if getattr(DynamoDBBackend.transact_write_items, _INSTALLED, False):
        return

    def deepcopy_except_tables(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    # moto's module uses `copy.deepcopy` only for backups; tables are now backed up item by item below.
    models.copy = SimpleNamespace(deepcopy=deepcopy_except_tables, copy=copy.copy)  # type: ignore[assignment,attr-defined]
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        backup = _backup(self, transact_items)
        try:
            original(self, transact_items)
        except Exception:
            _restore(backup)
            raise

    setattr(transact_write_items, _INSTALLED, True)
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _install_partition_queries(Table)


class _PartitionView:
    """A table seen by `Table.query` as holding one partition (everything else is the table's own)."""

    def __init__(self, table: Any, items: list[Any]) -> None:
        self._table = table
        self._items = items

    def all_items(self) -> list[Any]:
        return self._items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _plain_range_key(item: Any) -> tuple[str, Any]:
    key = item.range_key
    if key is None:
        return ("", "")
    if key.type == "N":
        return (key.type, float(key.value))
    return (key.type, key.value)


def _candidates(partition: list[Any], comparison: str | None, values: list[Any]) -> list[Any]:
    """The slice of a sorted partition that can satisfy a string sort-key condition (a superset: moto
    still applies the condition itself); the whole partition for anything else."""
    if not comparison or not values or any(getattr(v, "type", None) != "S" for v in values):
        return partition
    if any(item.range_key is None or item.range_key.type != "S" for item in partition):
        return partition
    keys = [item.range_key.value for item in partition]
    op, first, last = comparison.upper(), values[0].value, values[-1].value
    low, high = 0, len(partition)
    if op in ("=", "EQ", "BETWEEN", ">", ">=", "GT", "GE", "BEGINS_WITH"):
        low = bisect.bisect_left(keys, first)
    if op in ("=", "EQ", "BETWEEN", "<", "<=", "LT", "LE"):
        high = bisect.bisect_right(keys, last)
    if op == "BEGINS_WITH":
        high = low
        while high < len(keys) and keys[high].startswith(first):
            high += 1
    return partition[low:high]


def _install_partition_queries(table_class: Any) -> None:
    original = table_class.query
    signature = inspect.signature(original)

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = signature.bind(self, hash_key, *args, **kwargs).arguments.get("index_name")
        if index_name or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        arguments = signature.bind(self, hash_key, *args, **kwargs).arguments
        # Pre-sorted on the plain values: moto's own sort (DynamoType comparisons) then runs in linear time.
        partition = sorted(self.items.get(hash_key, {}).values(), key=_plain_range_key)
        partition = _candidates(partition, arguments.get("range_comparison"), arguments.get("range_objs") or [])
        return original(_PartitionView(self, partition), hash_key, *args, **kwargs)

    table_class.query = query


def _backup(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved: list[tuple[Any, ...]] = []
    seen_tables = set()
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        if table is None:
            continue
        attrs = op.get("Item") or op.get("Key") or {}
        if table.hash_key_attr not in attrs:
            continue
        hash_value = DynamoType(attrs[table.hash_key_attr])
        range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr in attrs else None
        current = table.get_item(hash_value, range_value)
        saved.append(("item", table, hash_value, range_value, copy.deepcopy(current)))
        if id(table) not in seen_tables and table.stream_shard is not None:
            seen_tables.add(id(table))
            saved.append(("stream", table, len(table.stream_shard.items)))
    return saved


def _restore(backup: list[tuple[Any, ...]]) -> None:
    for entry in reversed(backup):
        if entry[0] == "stream":
            _, table, length = entry
            del table.stream_shard.items[length:]
            continue
        _, table, hash_value, range_value, item = entry
        if range_value is None:
            if item is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = item
        elif item is None:
            table.items[hash_value].pop(range_value, None)
        else:
            table.items[hash_value][range_value] = item
