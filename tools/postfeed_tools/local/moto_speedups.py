"""Local-only fixes for moto's costs on DynamoDB.

* Transactions: moto's `transact_write_items` deep-copies every table a transaction touches, once per
  action, so it can roll back on failure: O(table size) per write, quadratic over a site upload
  (measured: 30 ms per post at 10 posts, 300 ms at 100). This backs up only what a transaction can
  change — the items it names and the length of the table's stream — and restores exactly those on
  failure. Same semantics, O(actions).
* Queries: moto's `Table.query` on the table's own key sorts *every item of the table* to find one
  partition (O(table) per query: 40 ms each once a feed has 2,000 entries), then walks it from the start.
  Each partition (the dict moto keeps per hash key) becomes a `_Partition`, which also keeps its items in
  moto's query order, built on its first query and updated by every put/delete after (O(log P) to find
  the place). A query bisects that order for its sort-key condition, ExclusiveStartKey and Limit and hands
  moto only the items its loop would look at (O(log P + k)); moto then filters, pages and projects them
  exactly as before (same results, counts and LastEvaluatedKey). Index queries are untouched.
* Responses: moto's response serializer looks up every member of every structure it writes (each DynamoDB
  attribute value `{"S": ...}` is a structure of ten members) by asking six alias providers in turn which
  names to try: most of a bulk load's time. For a plain dict (no `Meta`, class `dict`) those names depend
  only on the member and its shape, so they are worked out once per (picker, member, shape) and kept; the
  lookups in that order are moto's own. Objects other than plain dicts, and pickers with response
  transformers, go the original way.
* Item sizes: moto checks an item's 400 KB limit on every attribute it sets by summing the sizes of all the
  attributes set so far (quadratic in the attributes of each item written), and a query sizes each item
  it looks at twice and deep-copies its results before reading them. A new item now keeps the running sum
  (the same comparison, attribute by attribute, the same error); within one query each item is sized once,
  and the results are copied item by item with their attribute dicts (moto only reads them: projection,
  filters and the response build new objects). Everything else (scans, backups, updates) is moto's own.
* Projections: moto projects an item by turning all of it into plain Python values (deep-copied) and back.
  A projection of top-level names only, whose values hold only strings, booleans, nulls, maps and lists
  (which that round trip gives back as they were), takes those attribute values as they are, in moto's
  order; numbers (which the round trip normalises), sets and binary values go moto's way.
* Attribute values: even so, serializing an item walks each of its values through the shapes (the member
  lookups above, a path stack, one call per level). A DynamoDB `AttributeValue` that is a plain dict with
  exactly one of its members is written directly, by the rules moto's JSON serializer applies to each
  member type (strings `str()`ed, booleans as they are, maps and lists recursed); binary values, and any
  other value, go the original way. `tests/functional/test_moto_speedups.py` holds the two to the same
  bytes on generated values. Requests likewise: an AttributeValue in a request is taken as moto's JSON
  parser would give it back (a copy with the same members; binary values and anything unusual parsed by moto).
"""

from __future__ import annotations

import bisect
import copy
import functools
import inspect
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, Self

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
    _install_fast_member_picker()
    _install_fast_attribute_values()
    _install_fast_attribute_parsing()
    _install_item_sizes()


def _install_fast_member_picker() -> None:
    from moto.core.serialize import AttributePicker
    from moto.core.utils import get_value

    original = AttributePicker.__call__
    missing = object()
    # (picker class, member name, shape) -> (shape, the names the alias providers would try, in order)
    found: dict[tuple[type, str, int], tuple[Any, tuple[str, ...]]] = {}

    @functools.wraps(original)
    def pick(self: Any, context: Any) -> Any:
        obj = context.obj
        if type(obj) is not dict or self.response_transformers:
            return original(self, context)
        # For a plain dict the names tried depend only on the member and its shape (no Meta, class `dict`).
        cache_key = (type(self), context.key, id(context.shape))
        cached = found.get(cache_key)
        if cached is None or cached[0] is not context.shape:
            cached = found[cache_key] = (context.shape, tuple(self.get_possible_keys(context)))
        for name in cached[1]:
            value = get_value(obj, name, missing)
            if value is not missing:
                return value
        return None

    AttributePicker.__call__ = pick  # type: ignore[method-assign]


# AttributeValue members written directly: to their JSON value (the "B" and "BS" blobs take moto's path).
_SCALARS = frozenset({"S", "N", "BOOL", "NULL"})
_DIRECT = _SCALARS | {"SS", "NS", "M", "L"}


def _install_fast_attribute_values() -> None:
    from moto.core.serialize import BaseJSONSerializer

    original = BaseJSONSerializer._serialize_type_structure

    @functools.wraps(original)
    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue":
            direct = _attribute_value(value)
            if direct is not _NOT_DIRECT:
                serialized[key] = direct
                return
        original(self, serialized, value, shape, key)

    BaseJSONSerializer._serialize_type_structure = serialize_structure  # type: ignore[method-assign]


_NOT_DIRECT: Any = object()


def _install_fast_attribute_parsing() -> None:
    from moto.core.parse import BaseJSONParser

    original = BaseJSONParser._parse_structure

    @functools.wraps(original)
    def parse_structure(self: Any, shape: Any, value: Any) -> Any:
        if self.MAP_TYPE is dict and shape.name == "AttributeValue":
            parsed = _parsed_attribute_value(value)
            if parsed is not _NOT_DIRECT:
                return parsed
        return original(self, shape, value)  # type: ignore[no-untyped-call]

    BaseJSONParser._parse_structure = parse_structure  # type: ignore[method-assign]


def _same(value: Any) -> Any:
    """moto's JSON parser: a string or boolean member as it came."""
    return value


def _string(value: Any) -> Any:
    """moto's JSON serializer: a string member `str()`ed (None, {} and [] as they are)."""
    return str(value) if value not in (None, {}, []) else value


def _parsed_attribute_value(value: Any) -> Any:
    """One AttributeValue of a request as moto's JSON parser returns it (strings and booleans as they came,
    sets and lists copied, maps rebuilt), or _NOT_DIRECT for what needs moto's own parsing."""
    return _attribute_json(value, _same, _same, empty_names=True)


def _attribute_value(value: Any) -> Any:
    """The JSON of one AttributeValue as moto's serializer writes it, or _NOT_DIRECT when this value needs
    moto's own path (binary, not a plain one-member dict, a nested value that does, an empty map key: moto
    writes that one's value into the map itself)."""
    return _attribute_json(value, _string, _same, empty_names=False)


def _attribute_json(value: Any, text: Callable[[Any], Any], flag: Callable[[Any], Any], *, empty_names: bool) -> Any:
    """An AttributeValue walked as moto's JSON parser or serializer walks it through the shapes: `text` for
    each S, N and set member, `flag` for BOOL and NULL; _NOT_DIRECT for anything that walk would treat
    otherwise (so the caller leaves it to moto)."""
    if type(value) is not dict or len(value) != 1:
        return _NOT_DIRECT
    ((kind, member),) = value.items()
    if kind not in _DIRECT or member is None:
        return _NOT_DIRECT
    if kind in ("S", "N"):
        return {kind: text(member)}
    if kind in ("BOOL", "NULL"):
        return {kind: flag(member)}
    if kind in ("SS", "NS"):
        return {kind: [text(v) for v in member]} if type(member) is list else _NOT_DIRECT
    inners = member.items() if type(member) is dict else enumerate(member) if type(member) is list else None
    if inners is None or (kind == "M") != (type(member) is dict):
        return _NOT_DIRECT
    walked = {}
    for name, inner in inners:
        if kind == "M" and not (name or empty_names):
            return _NOT_DIRECT
        walked[name] = done = _attribute_json(inner, text, flag, empty_names=empty_names)
        if done is _NOT_DIRECT:
            return _NOT_DIRECT
    return {kind: walked if kind == "M" else list(walked.values())}


class _QueryScope(threading.local):
    """What the query running in this thread may reuse: each item's size, by identity (the item is held so
    that its id stays its own); None outside a query."""

    sizes: dict[int, tuple[Any, int]] | None = None


_query_scope = _QueryScope()


def _install_item_sizes() -> None:
    import moto.dynamodb.models.table as table_module
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    def new_item(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        self.attrs = LimitedSizeDict()
        held = 0  # what LimitedSizeDict.__setitem__ sums again on every set: the sizes of names and values
        for key, value in attrs.items():
            typed = DynamoType(value)
            added = bytesize(str(key)) + typed.size()
            if held + added > _MAX_ITEM_SIZE:
                raise ItemSizeTooLarge
            dict.__setitem__(self.attrs, key, typed)
            held += added

    original_size = Item.size

    def size(self: Any) -> int:
        sizes = _query_scope.sizes
        if sizes is None:
            return original_size(self)
        known = sizes.get(id(self))
        if known is None:
            known = sizes[id(self)] = (self, original_size(self))
        return known[1]

    def deepcopy(value: Any, memo: Any = None) -> Any:
        if _query_scope.sizes is not None and type(value) is list and all(type(item) is Item for item in value):
            return [_item_copy(item) for item in value]
        return copy.deepcopy(value, memo)

    original_project = Item.project

    def project(self: Any, projection_expressions: list[list[str]]) -> Any:
        names = [path[0] for path in projection_expressions if len(path) == 1]
        if len(names) != len(projection_expressions) or any("[" in name for name in names):
            return original_project(self, projection_expressions)
        chosen = {}
        for name in names:
            value = self.attrs.get(name)
            if value is None or name in chosen:
                continue
            if not _round_trips(value):
                return original_project(self, projection_expressions)
            chosen[name] = value
        projected: Any = Item.__new__(Item)
        projected.hash_key, projected.range_key = self.hash_key, self.range_key
        projected.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.update(projected.attrs, chosen)
        return projected

    def _round_trips(value: Any) -> bool:
        """Whether moto's plain-Python round trip gives this value back as it is."""
        if type(value) is not DynamoType:
            return False
        if value.type == "S":
            return type(value.value) is str
        if value.type == "BOOL":
            return type(value.value) is bool
        if value.type == "NULL":
            return value.value is True
        if value.type == "M":
            return type(value.value) is dict and all(_round_trips(inner) for inner in value.value.values())
        if value.type == "L":
            return type(value.value) is list and all(_round_trips(inner) for inner in value.value)
        return False

    Item.project = functools.wraps(original_project)(project)  # type: ignore[method-assign]
    Item.__init__ = functools.wraps(Item.__init__)(new_item)  # type: ignore[method-assign]
    Item.size = functools.wraps(original_size)(size)  # type: ignore[method-assign]
    table_module.copy = SimpleNamespace(deepcopy=deepcopy, copy=copy.copy)  # type: ignore[assignment,attr-defined]


def _item_copy(item: Any) -> Any:
    """A new Item holding the same attribute values in a dict of its own."""
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    copied = copy.copy(item)
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.update(attrs, item.attrs)
    copied.attrs = attrs
    return copied


class _PartitionView:
    """A table seen by `Table.query` as holding only `items` (everything else is the table's own)."""

    def __init__(self, table: Any, items: list[Any]) -> None:
        self._table = table
        self._items = items

    def all_items(self) -> list[Any]:
        return self._items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def _sort_key(item: Any) -> Any:
    """What moto's query sorts a partition by: `item.range_key`, whose `<` compares `cast_value`s
    (`Decimal` for N, the value itself for S and B)."""
    return item.range_key.cast_value


class _Partition(dict[Any, Any]):
    """One partition of a table with a sort key (range key -> Item), as moto stores it, that also keeps its
    items in the order moto's query sorts them into, and their sort keys for bisecting.

    That order is a stable sort of the dict's insertion order by `_sort_key`, built on the first query and
    then kept up to date by every change of the dict: a new key goes after the items with an equal sort key
    (as it goes after them in the dict); a replaced item takes its predecessor's place; a removed item
    leaves. Anything less common (`update`, `clear`, a replacement whose sort key differs, ...) drops the
    order, to be rebuilt by the next query. Items change in place (UpdateItem) but never their `range_key`,
    so in-place updates cannot reorder a partition."""

    __slots__ = ("_keys", "_order")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._order: list[Any] | None = None
        self._keys: list[Any] | None = None

    def __reduce__(self) -> Any:
        # copy / deepcopy / pickle: the items only (the order is rebuilt on demand).
        return (type(self), (dict(self),))

    def sorted_items(self) -> tuple[list[Any], list[Any]] | None:
        """The items in moto's query order and their sort keys; None if they do not sort (moto's own
        query then raises or copes, as it would without this cache)."""
        if self._order is None or self._keys is None:
            try:
                order = sorted(self.values(), key=_sort_key)
            except Exception:  # e.g. mixed key types, a NaN: leave it to moto
                return None
            self._order, self._keys = order, [_sort_key(item) for item in order]
        return self._order, self._keys

    def _drop_order(self) -> None:
        self._order = self._keys = None

    def _position(self, item: Any) -> int | None:
        """Where `item` (this very object) is in the order."""
        order, keys = self._order or [], self._keys or []
        key = _sort_key(item)
        position = bisect.bisect_left(keys, key)
        while position < len(order) and keys[position] == key:
            if order[position] is item:
                return position
            position += 1
        return None

    def _removed(self, item: Any) -> None:
        if self._order is None:
            return
        try:
            position = self._position(item)
        except Exception:  # an incomparable key: rebuild on demand
            position = None
        if position is None or self._keys is None:
            self._drop_order()
            return
        del self._order[position]
        del self._keys[position]

    def __setitem__(self, key: Any, value: Any) -> None:
        old = self.get(key, _MISSING)
        super().__setitem__(key, value)
        if self._order is None or self._keys is None:
            return
        try:
            new_key = _sort_key(value)
            if old is _MISSING:
                position = bisect.bisect_right(self._keys, new_key)
                self._order.insert(position, value)
                self._keys.insert(position, new_key)
                return
            found = self._position(old)
            if found is not None and type(new_key) is type(self._keys[found]) and new_key == self._keys[found]:
                self._order[found] = value
                return
        except Exception:  # an incomparable key: rebuild on demand
            pass
        self._drop_order()

    def __delitem__(self, key: Any) -> None:
        old = self[key]
        super().__delitem__(key)
        self._removed(old)

    def pop(self, key: Any, *default: Any) -> Any:
        if key not in self:
            return super().pop(key, *default)
        old = super().pop(key)
        self._removed(old)
        return old

    def popitem(self) -> tuple[Any, Any]:
        self._drop_order()
        return super().popitem()

    def clear(self) -> None:
        self._drop_order()
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._drop_order()
        super().update(*args, **kwargs)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self._drop_order()
        return super().setdefault(key, default)

    def __ior__(self, other: Any) -> Self:  # type: ignore[misc]
        self._drop_order()
        return super().__ior__(other)


_MISSING = object()

# An item is at most this big: moto's LimitedSizeDict refuses more on every write of a top-level attribute,
# as DynamoDB refuses items over 400 KB. (Only an UpdateExpression that grows a nested map or list in place
# escapes moto's check; only such an item could end a page already holding > 595 KB where `window` does not.)
_MAX_ITEM_SIZE = 405_000


def _install_partition_queries(table_class: Any) -> None:
    from moto.dynamodb.comparisons import COMPARISON_FUNCS
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT

    original = table_class.query
    signature = inspect.signature(original)
    # moto's own comparison functions, by identity, for the operators a key condition can use.
    operators = {
        COMPARISON_FUNCS["="]: ("EQ", 1),
        COMPARISON_FUNCS["<"]: ("LT", 1),
        COMPARISON_FUNCS["<="]: ("LE", 1),
        COMPARISON_FUNCS[">"]: ("GT", 1),
        COMPARISON_FUNCS[">="]: ("GE", 1),
        COMPARISON_FUNCS["BETWEEN"]: ("BETWEEN", 2),
        COMPARISON_FUNCS["BEGINS_WITH"]: ("BEGINS_WITH", 1),
    }

    def matching(table: Any, keys: list[Any], arguments: dict[str, Any]) -> tuple[int, int] | None:
        """The slice of the sorted partition whose items satisfy the sort-key condition, exactly as moto
        decides it (same cast values, same operators); None when that cannot be told by bisecting.
        (moto tests the sort-key *attribute*; it is `range_key` unless a legacy AttributeUpdates rewrote it,
        which moto allows and DynamoDB refuses: such a table may answer differently.)"""
        comparison = arguments.get("range_comparison")
        if not comparison:
            return 0, len(keys)
        conditions = arguments.get("range_key_conditions")
        if conditions and (len(conditions) != 1 or conditions[-1][0] != table.range_key_attr):
            return None
        operator = operators.get(COMPARISON_FUNCS.get(comparison))  # type: ignore[arg-type]
        if operator is None:
            return None
        name, arity = operator
        try:
            values = [value.cast_value for value in arguments.get("range_objs") or []]
        except Exception:  # not DynamoTypes: leave it to moto
            return None
        key_type = type(keys[0])
        if len(values) != arity or any(type(value) is not key_type for value in values):
            return None
        first = values[0]
        try:
            if name == "EQ":
                return bisect.bisect_left(keys, first), bisect.bisect_right(keys, first)
            if name == "LT":
                return 0, bisect.bisect_left(keys, first)
            if name == "LE":
                return 0, bisect.bisect_right(keys, first)
            if name == "GT":
                return bisect.bisect_right(keys, first), len(keys)
            if name == "GE":
                return bisect.bisect_left(keys, first), len(keys)
            if name == "BETWEEN":
                low = bisect.bisect_left(keys, first)
                return low, max(low, bisect.bisect_right(keys, values[1]))
            if key_type not in (str, bytes):
                return None
            # BEGINS_WITH: the keys with a prefix are contiguous and start at the prefix itself.
            low = bisect.bisect_left(keys, first)
            return low, bisect.bisect_left(keys, True, lo=low, key=lambda key: not key.startswith(first))
        except Exception:  # e.g. a NaN bound: leave it to moto
            return None

    def window(table: Any, order: list[Any], keys: list[Any], arguments: dict[str, Any]) -> list[Any]:
        """The items of the sorted partition moto's query loop must see to answer exactly as it would over
        the whole partition: the matches after ExclusiveStartKey, up to Limit, and the item after them.

        moto's loop (per item, in order): skip while before ExclusiveStartKey; stop (LastEvaluatedKey) if
        Limit results are in, or if this item's size would take the results over 1 MB; keep it if it
        satisfies the sort-key condition. So the items before the start key change nothing; non-matching
        items before the matches change nothing either (no results yet, and no item is 1 MB); after the
        last match, only the next item can stop on Limit, and a later one only on size, which cannot
        happen while the results plus the largest possible item stay under 1 MB (else: all of them)."""
        forward = arguments.get("scan_index_forward", True)
        limit = arguments.get("limit")
        bounds = matching(table, keys, arguments)
        if (
            bounds is None
            or arguments.get("filter_kwargs")  # legacy QueryFilter: counts and keeps per item
            or not isinstance(forward, bool)
            or (limit is not None and (type(limit) is not int or limit < 1))
        ):
            return order
        low, high = bounds
        start, stop = 0, len(order)
        exclusive_start_key = arguments.get("exclusive_start_key")
        if exclusive_start_key is not None:
            hash_attrs, range_attrs = [table.hash_key_attr], [table.range_key_attr]

            def before(item: Any) -> bool:
                return bool(table._item_comes_before_dct(item, exclusive_start_key, hash_attrs, range_attrs, forward))

            # moto's predicate, bisected: in query order it holds for a prefix of the partition.
            if forward:
                start = bisect.bisect_left(order, True, key=lambda item: not before(item))
            else:
                stop = bisect.bisect_left(order, True, key=before)
        low, high = max(low, start), min(high, stop)
        if low >= high:
            return []
        count = high - low
        taken = count if limit is None else min(limit, count)
        if forward:
            first, last = low, low + taken
            shown = order[first : last + 1]
            later = len(order) - (last + 1)
        else:
            first, last = high - taken, high
            shown = order[max(0, first - 1) : last]
            later = first - 1
        if taken < count or later <= 0:
            return shown
        if sum(item.size() for item in order[first:last]) + _MAX_ITEM_SIZE <= RESULT_SIZE_LIMIT:
            return shown
        return order[first:] if forward else order[:last]

    @functools.wraps(original)  # `Table.query.__wrapped__`: moto's own (the tests compare the two)
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(self, hash_key, *args, **kwargs).arguments
        if arguments.get("index_name") or hash_key is None or not self.range_key_attr:
            return original(self, hash_key, *args, **kwargs)
        partition = self.items.get(hash_key)
        if partition is None:
            items: list[Any] = []
        else:
            if type(partition) is dict:  # a partition moto created: give it an order (same place, same items)
                partition = self.items[hash_key] = _Partition(partition)
            if not isinstance(partition, _Partition):
                return original(self, hash_key, *args, **kwargs)
            sorted_items = partition.sorted_items()
            if sorted_items is None:
                return original(self, hash_key, *args, **kwargs)
            order, keys = sorted_items
            items = window(self, order, keys, arguments) if order else []
        # moto then filters, pages and sorts (linear: already in order) only these, exactly as before.
        _query_scope.sizes = {}
        try:
            return original(_PartitionView(self, items), hash_key, *args, **kwargs)
        finally:
            _query_scope.sizes = None

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
