"""A local-only fix for moto's cost of DynamoDB transactions.

moto's `transact_write_items` deep-copies every table a transaction touches, once per action, so it can
roll back on failure: O(table size) per write, quadratic over a site upload (measured: 30 ms per post
at 10 posts, 300 ms at 100). This backs up only what a transaction can change — the items it names and
the length of the table's stream — and restores exactly those on failure. Same semantics, O(actions).
"""

from __future__ import annotations

import copy
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
