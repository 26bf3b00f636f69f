"""DynamoDB request units of the handlers' calls, computed from item sizes (moto's ConsumedCapacity is a
constant, so it cannot be asked). The rules of DynamoDB's on-demand mode:

- reads: 1 RRU per 4 KB strongly consistent (0.5 eventually consistent), per item for GetItem and
  BatchGetItem (a missing item still costs the minimum), on the summed size of the items read for Query;
- writes: 1 WRU per 1 KB written, twice that inside a transaction; an UpdateItem counts the larger of the
  item before and after (we see the after, or the values written); a Put of an item carrying a GSI key
  also writes the index.

Query with a projection returns less than it reads: the membership items read are estimated at their
full layout size (pk, sk, key), which is what DynamoDB charges."""

from __future__ import annotations

import math
from typing import Any

READ_UNIT = 4096
WRITE_UNIT = 1024
# A membership item: pk `FEED#…`, sk `<instant>#<post id>#<key>`, key; beyond the projected key.
MEMBERSHIP_OVERHEAD = 120
GSI_KEY = "rejected"


def value_size(value: Any) -> int:
    """Bytes of one DynamoDB attribute value (typed, e.g. {"S": "…"})."""
    if not isinstance(value, dict) or len(value) != 1:
        return 0
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return math.ceil(len(str(inner).lstrip("-").replace(".", "")) / 2) + 1
    if kind == "B":
        raw = getattr(inner, "value", inner)  # boto3's Binary wraps the bytes
        return len(raw) if isinstance(raw, bytes | bytearray) else len(str(raw))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in inner)
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: v}) for v in inner)
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT))
    return float(units if consistent else units / 2)


def write_units(size: int, transactional: bool = False) -> int:
    units = max(1, math.ceil(size / WRITE_UNIT))
    return 2 * units if transactional else units


class CapacityMeter:
    """RRU and WRU of every DynamoDB call the handlers make while installed."""

    def __init__(self) -> None:
        self.units: dict[str, float] = {"RRU": 0.0, "WRU": 0.0}

    def install(self) -> CapacityMeter:
        """Register on the handlers' session. Install after CallCounter (it rebuilds the session) and
        before the handlers build their clients."""
        from postfeed.store.clients import session

        events = session().events
        events.register("before-parameter-build.dynamodb", self._request, unique_id="postfeed-capacity-in")
        events.register("after-call.dynamodb", self._response, unique_id="postfeed-capacity-out")
        return self

    def reset(self) -> dict[str, float]:
        units, self.units = self.units, {"RRU": 0.0, "WRU": 0.0}
        return units

    # Writes are charged from the request (what is written), reads from the response (what was read).
    def _request(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        name = model.name
        if name == "TransactWriteItems":
            for action in params.get("TransactItems", []):
                ((kind, body),) = action.items()
                size = item_size(body.get("Item")) if kind == "Put" else item_size(body.get("Key")) + 100
                self.units["WRU"] += write_units(size, transactional=True)
                if kind == "Put" and GSI_KEY in (body.get("Item") or {}):
                    self.units["WRU"] += write_units(size)
        elif name == "PutItem":
            self.units["WRU"] += write_units(item_size(params.get("Item")))
        elif name == "UpdateItem" and params.get("ReturnValues") != "ALL_NEW":
            written = item_size(params.get("Key")) + item_size(params.get("ExpressionAttributeValues"))
            self.units["WRU"] += write_units(written)
        elif name == "DeleteItem":
            self.units["WRU"] += write_units(item_size(params.get("Key")))

    def _response(self, model: Any, parsed: dict[str, Any], context: Any = None, **_: Any) -> None:
        name = model.name
        if name == "UpdateItem" and "Attributes" in parsed:
            self.units["WRU"] += write_units(item_size(parsed["Attributes"]))
        elif name == "GetItem":
            self.units["RRU"] += read_units(item_size(parsed.get("Item")), consistent=True)
        elif name == "BatchGetItem":
            found = [item for items in parsed.get("Responses", {}).values() for item in items]
            self.units["RRU"] += sum(read_units(item_size(item), consistent=True) for item in found)
        elif name == "Query":
            items = parsed.get("Items", [])
            size = sum(item_size(item) + MEMBERSHIP_OVERHEAD for item in items)
            self.units["RRU"] += read_units(size, consistent=True)
