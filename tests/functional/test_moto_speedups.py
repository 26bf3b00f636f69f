"""The local speedups must behave as moto's own: a cancelled transaction changes nothing, and a query on a
table's key answers exactly as moto's `Table.query` does."""

from __future__ import annotations

import contextlib
import copy
import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Literal

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from postfeed_tools.local import moto_speedups


def test_cancelled_transaction_restores_items_and_stream(aws: None) -> None:
    moto_speedups.install()
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    ddb.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "1"}})
    ddb.put_item(TableName="t", Item={"pk": {"S": "b"}, "sk": {"S": "1"}, "v": {"N": "1"}})
    ddb.put_item(TableName="t", Item={"pk": {"S": "d"}, "sk": {"S": "1"}, "v": {"N": "1"}})
    # WHEN a transaction overwrites one item, deletes another, then fails its last condition
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"N": "2"}}}},
                {"Delete": {"TableName": "t", "Key": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "c"}, "sk": {"S": "1"}}}},
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": {"pk": {"S": "d"}, "sk": {"S": "1"}},
                        "ConditionExpression": "v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
            ]
        )
    # THEN every item is as before and the stream holds only the three original inserts
    items = {i["pk"]["S"]: i["v"]["N"] for i in ddb.scan(TableName="t")["Items"]}
    assert items == {"a": "1", "b": "1", "d": "1"}
    arn = ddb.describe_table(TableName="t")["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "INSERT", "INSERT"]


# -- queries: the same answers as moto's own Table.query ----------------------------------------------------

_HASH_KEYS = ("a", "b")
_PKS = st.sampled_from(("a", "a", "a", "b"))  # most on one partition, to fill it
# S keys: mostly from a dense set (many share a prefix), else also Latin-1, astral and the last code point
# (begins_with's upper end). N keys: equal values spelled differently ("1" / "1.0", "10" / "1e1") are one
# key to moto.
_ALPHABET = "ab~\u00e9\U0001f600\U0010ffff"
_S_KEYS = st.text(alphabet="ab", min_size=1, max_size=3) | st.text(alphabet=_ALPHABET, min_size=1, max_size=3)
_PREFIXES = st.text(alphabet="ab", min_size=1, max_size=2) | st.text(alphabet=_ALPHABET, min_size=1, max_size=2)
_N_KEYS = st.sampled_from(["-10", "-1.5", "0", "1", "1.0", "1.50", "2", "10", "1e1", "100"])
_CHECK_KEY = {"S": "check", "N": "999"}  # never generated: the key a failing ConditionCheck names
_OPERATORS = ("=", "<", "<=", ">", ">=", "BETWEEN", "begins_with")
_LEGACY_OPERATORS = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE", "BETWEEN": "BETWEEN"}
_table_names = itertools.count()


@contextlib.contextmanager
def _stock_query() -> Iterator[None]:
    """moto's own `Table.query` for the duration."""
    from moto.dynamodb.models.table import Table

    patched: Any = Table.query
    setattr(Table, "query", patched.__wrapped__)  # noqa: B010 - a method, replaced for the duration
    try:
        yield
    finally:
        setattr(Table, "query", patched)  # noqa: B010


def _call(function: Any, **kwargs: Any) -> Any:
    """The response without its metadata, or the error."""
    try:
        response = dict(function(**kwargs))
    except ClientError as exc:
        return ("error", exc.response["Error"])
    response.pop("ResponseMetadata", None)
    return response


class _Queries(RuleBasedStateMachine):
    """Interleaved writes (put, update, delete, batch write, transactions, cancelled ones) and queries on a
    table whose sort key is of type KEY_TYPE: every query page must be the one moto's own query returns,
    and the table must hold what the writes left (a cancelled transaction: nothing)."""

    KEY_TYPE: Literal["S", "N"] = "S"
    KEYS: st.SearchStrategy[str] = _S_KEYS

    def __init__(self) -> None:
        super().__init__()
        moto_speedups.install()
        self.ddb: Any = boto3.client("dynamodb", region_name="us-east-1")  # untyped: dicts built here
        self.table = f"q{next(_table_names)}"
        self.ddb.create_table(
            TableName=self.table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": self.KEY_TYPE},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        self.model: dict[tuple[str, Any], dict[str, Any]] = {}  # (pk, normalized sk) -> item

    def teardown(self) -> None:
        self.ddb.delete_table(TableName=self.table)

    # -- helpers

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {self.KEY_TYPE: sk}}

    def _model_key(self, pk: str, sk: str) -> tuple[str, Any]:
        return (pk, Decimal(sk) if self.KEY_TYPE == "N" else sk)

    def _put(self, pk: str, sk: str, v: int) -> dict[str, Any]:
        item = {**self._key(pk, sk), "v": {"N": str(v)}}
        self.model[self._model_key(pk, sk)] = item
        return item

    def _update(self, pk: str, sk: str, v: int) -> dict[str, Any]:
        current = self.model.setdefault(self._model_key(pk, sk), self._key(pk, sk))
        current["v"] = {"N": str(v)}
        return {
            "Key": self._key(pk, sk),
            "UpdateExpression": "SET v = :v",
            "ExpressionAttributeValues": {":v": {"N": str(v)}},
        }

    def _query_both(self, **kwargs: Any) -> None:
        """Page through a query with moto's query and the patched one: page by page the same."""
        kwargs["TableName"] = self.table
        for _ in range(100):
            with _stock_query():
                expected = _call(self.ddb.query, **kwargs)
            actual = _call(self.ddb.query, **kwargs)
            assert actual == expected, kwargs
            if not isinstance(expected, dict) or "LastEvaluatedKey" not in expected:
                return
            kwargs["ExclusiveStartKey"] = expected["LastEvaluatedKey"]
        raise AssertionError("more than 100 pages")

    # -- writes

    @initialize(data=st.data())
    def fill(self, data: st.DataObject) -> None:
        """A denser partition to start from."""
        for sk in data.draw(st.lists(self.KEYS, max_size=20)):
            self.ddb.put_item(TableName=self.table, Item=self._put("a", sk, data.draw(st.integers(0, 9))))

    @rule(pk=_PKS, sk=st.data(), v=st.integers(0, 9))
    def put(self, pk: str, sk: st.DataObject, v: int) -> None:
        self.ddb.put_item(TableName=self.table, Item=self._put(pk, sk.draw(self.KEYS), v))

    @rule(pk=_PKS, sk=st.data(), v=st.integers(0, 9))
    def update(self, pk: str, sk: st.DataObject, v: int) -> None:
        self.ddb.update_item(TableName=self.table, **self._update(pk, sk.draw(self.KEYS), v))

    @rule(pk=_PKS, sk=st.data())
    def delete(self, pk: str, sk: st.DataObject) -> None:
        key = sk.draw(self.KEYS)
        self.model.pop(self._model_key(pk, key), None)
        self.ddb.delete_item(TableName=self.table, Key=self._key(pk, key))

    @rule(data=st.data())
    def batch_write(self, data: st.DataObject) -> None:
        keys = data.draw(
            st.lists(st.tuples(_PKS, self.KEYS), min_size=1, max_size=4, unique_by=self._model),
        )
        requests: list[dict[str, Any]] = []
        for pk, sk in keys:
            if data.draw(st.booleans()):
                requests.append({"PutRequest": {"Item": self._put(pk, sk, data.draw(st.integers(0, 9)))}})
            else:
                self.model.pop(self._model_key(pk, sk), None)
                requests.append({"DeleteRequest": {"Key": self._key(pk, sk)}})
        self.ddb.batch_write_item(RequestItems={self.table: requests})

    def _model(self, key: tuple[str, str]) -> tuple[str, Any]:
        return self._model_key(*key)

    @rule(data=st.data(), cancelled=st.booleans())
    def transact(self, data: st.DataObject, cancelled: bool) -> None:
        keys = data.draw(
            st.lists(st.tuples(_PKS, self.KEYS), min_size=1, max_size=4, unique_by=self._model),
        )
        before = copy.deepcopy(self.model)
        actions: list[dict[str, Any]] = []
        for pk, sk in keys:
            kind, v = data.draw(st.sampled_from(["Put", "Update", "Delete"])), data.draw(st.integers(0, 9))
            if kind == "Put":
                actions.append({"Put": {"TableName": self.table, "Item": self._put(pk, sk, v)}})
            elif kind == "Update":
                actions.append({"Update": {"TableName": self.table, **self._update(pk, sk, v)}})
            else:
                self.model.pop(self._model_key(pk, sk), None)
                actions.append({"Delete": {"TableName": self.table, "Key": self._key(pk, sk)}})
        if not cancelled:
            self.ddb.transact_write_items(TransactItems=actions)
            return
        # a condition that fails, anywhere in the transaction: the actions around it are all undone
        check = {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": self._key("a", _CHECK_KEY[self.KEY_TYPE]),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }
        actions.insert(data.draw(st.integers(0, len(actions))), check)
        self.model = before
        with pytest.raises(ClientError, match="TransactionCanceled"):
            self.ddb.transact_write_items(TransactItems=actions)

    # -- queries

    @rule(
        pk=_PKS,
        operator=st.sampled_from((None, *_OPERATORS)),
        data=st.data(),
        forward=st.booleans(),
        limit=st.none() | st.integers(1, 5),
        filtered=st.booleans(),
        projected=st.booleans(),
    )
    def query(
        self,
        pk: str,
        operator: str | None,
        data: st.DataObject,
        forward: bool,
        limit: int | None,
        filtered: bool,
        projected: bool,
    ) -> None:
        condition, values = "pk = :pk", {":pk": {"S": pk}}
        if operator == "begins_with" and self.KEY_TYPE != "S":
            operator = "BETWEEN"
        if operator == "BETWEEN":
            condition += " AND sk BETWEEN :lo AND :hi"
            values[":lo"] = {self.KEY_TYPE: data.draw(self.KEYS)}
            values[":hi"] = {self.KEY_TYPE: data.draw(self.KEYS)}
        elif operator == "begins_with":
            condition += " AND begins_with(sk, :s)"
            values[":s"] = {"S": data.draw(_PREFIXES)}
        elif operator is not None:
            condition += f" AND sk {operator} :s"
            values[":s"] = {self.KEY_TYPE: data.draw(self.KEYS)}
        kwargs: dict[str, Any] = {"KeyConditionExpression": condition, "ScanIndexForward": forward}
        if limit is not None:
            kwargs["Limit"] = limit
        if filtered:
            kwargs["FilterExpression"] = "v >= :f"
            values[":f"] = {"N": str(data.draw(st.integers(0, 9)))}
        if projected:
            kwargs["ProjectionExpression"] = "sk, v"
        if data.draw(st.booleans()):  # start after any key (of either partition), present or not
            kwargs["ExclusiveStartKey"] = self._key(data.draw(st.sampled_from(_HASH_KEYS)), data.draw(self.KEYS))
        self._query_both(ExpressionAttributeValues=values, **kwargs)

    @rule(
        pk=_PKS,
        operator=st.sampled_from((None, *_LEGACY_OPERATORS)),
        data=st.data(),
        forward=st.booleans(),
        limit=st.none() | st.integers(1, 5),
        query_filter=st.booleans(),
    )
    def legacy_query(
        self,
        pk: str,
        operator: str | None,
        data: st.DataObject,
        forward: bool,
        limit: int | None,
        query_filter: bool,
    ) -> None:
        """KeyConditions (and QueryFilter, which moto applies inside its loop)."""
        conditions: dict[str, Any] = {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": pk}]}}
        if operator is not None:
            count = 2 if operator == "BETWEEN" else 1
            conditions["sk"] = {
                "ComparisonOperator": _LEGACY_OPERATORS[operator],
                "AttributeValueList": [{self.KEY_TYPE: data.draw(self.KEYS)} for _ in range(count)],
            }
        kwargs: dict[str, Any] = {"KeyConditions": conditions, "ScanIndexForward": forward}
        if limit is not None:
            kwargs["Limit"] = limit
        if query_filter:
            value = {"N": str(data.draw(st.integers(0, 9)))}
            kwargs["QueryFilter"] = {"v": {"ComparisonOperator": "GE", "AttributeValueList": [value]}}
        self._query_both(**kwargs)

    # -- invariants

    @invariant()
    def table_holds_what_was_written(self) -> None:
        items = self.ddb.scan(TableName=self.table, ConsistentRead=True)["Items"]
        assert sorted(map(repr, items)) == sorted(map(repr, self.model.values()))

    @invariant()
    def partition_orders_are_sorted(self) -> None:
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends["123456789012"]["us-east-1"].tables[self.table]
        for partition in table.items.values():
            if isinstance(partition, moto_speedups._Partition) and partition._order is not None:
                expected = sorted(partition.values(), key=lambda item: item.range_key.cast_value)
                assert [id(item) for item in partition._order] == [id(item) for item in expected]
                assert partition._keys == [item.range_key.cast_value for item in expected]


class _NumberQueries(_Queries):
    KEY_TYPE = "N"
    KEYS = _N_KEYS


# Derandomized and without shrinking, as the property profile `ci` (tests/property/conftest.py): a failure
# prints its steps, reproducibly; shrinking a long stateful run can take minutes.
_MACHINE_SETTINGS = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("machine", [_Queries, _NumberQueries], ids=["S", "N"])
def test_queries_answer_as_moto_does(aws: None, machine: type[RuleBasedStateMachine]) -> None:
    run_state_machine_as_test(machine, settings=_MACHINE_SETTINGS)


def _table(ddb: Any, name: str) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _same_as_moto(ddb: Any, **kwargs: Any) -> Any:
    with _stock_query():
        expected = _call(ddb.query, **kwargs)
    actual = _call(ddb.query, **kwargs)
    assert actual == expected
    return actual


def test_a_large_item_after_the_matches_stops_the_page_as_in_moto(aws: None) -> None:
    """moto ends a page (LastEvaluatedKey) at any item, even one that does not match, that would take the
    results over 1 MB: here the second item after the matches."""
    moto_speedups.install()
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    _table(ddb, "big")
    sizes = {"k1": 330_000, "k2": 330_000, "k3": 10, "k4": 390_000, "k5": 10}
    for sk, size in sizes.items():
        ddb.put_item(TableName="big", Item={"pk": {"S": "p"}, "sk": {"S": sk}, "blob": {"S": "x" * size}})
    values = {":pk": {"S": "p"}, ":s": {"S": "k2"}}
    page = _same_as_moto(
        ddb, TableName="big", KeyConditionExpression="pk = :pk AND sk <= :s", ExpressionAttributeValues=values
    )
    assert page["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"S": "k2"}}
    # and the same the other way round
    values[":s"] = {"S": "k4"}
    page = _same_as_moto(
        ddb,
        TableName="big",
        KeyConditionExpression="pk = :pk AND sk >= :s",
        ExpressionAttributeValues=values,
        ScanIndexForward=False,
    )
    assert [item["sk"]["S"] for item in page["Items"]] == ["k5", "k4"]


def test_restored_and_recreated_tables_answer_as_moto_does(aws: None) -> None:
    moto_speedups.install()
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    _table(ddb, "t")
    for i in range(20):
        ddb.put_item(TableName="t", Item={"pk": {"S": "p"}, "sk": {"S": f"{i:02d}"}})
    query = {"KeyConditionExpression": "pk = :pk AND sk > :s", "Limit": 5}
    values = {":pk": {"S": "p"}, ":s": {"S": "07"}}
    _same_as_moto(ddb, TableName="t", ExpressionAttributeValues=values, **query)  # the partition is ordered
    arn = ddb.create_backup(TableName="t", BackupName="backup")["BackupDetails"]["BackupArn"]
    ddb.delete_item(TableName="t", Key={"pk": {"S": "p"}, "sk": {"S": "08"}})
    ddb.restore_table_from_backup(TargetTableName="restored", BackupArn=arn)
    ddb.put_item(TableName="restored", Item={"pk": {"S": "p"}, "sk": {"S": "07a"}})
    page = _same_as_moto(ddb, TableName="restored", ExpressionAttributeValues=values, **query)
    assert [item["sk"]["S"] for item in page["Items"]] == ["07a", "08", "09", "10", "11"]
    page = _same_as_moto(ddb, TableName="t", ExpressionAttributeValues=values, **query)
    assert [item["sk"]["S"] for item in page["Items"]] == ["09", "10", "11", "12", "13"]
    ddb.delete_table(TableName="t")
    _table(ddb, "t")
    ddb.put_item(TableName="t", Item={"pk": {"S": "p"}, "sk": {"S": "09"}})
    page = _same_as_moto(ddb, TableName="t", ExpressionAttributeValues=values, **query)
    assert [item["sk"]["S"] for item in page["Items"]] == ["09"]


# -- attribute values written directly -------------------------------------------------------------
# Values of every kind (binary ones and malformed ones take moto's own path, and must still come out the same).

_NAMES = st.text(alphabet="abcXYZ_ é中", max_size=4)
_SCALAR_VALUES = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=8)),
    st.builds(lambda n: {"N": n}, st.sampled_from(["0", "1.5", "-7", "1E+2"])),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda b: {"B": b}, st.binary(max_size=6)),
    st.builds(lambda ss: {"SS": ss}, st.lists(st.text(max_size=4), max_size=3)),
    st.builds(lambda ns: {"NS": ns}, st.lists(st.sampled_from(["1", "2.5"]), max_size=3)),
    st.builds(lambda bs: {"BS": bs}, st.lists(st.binary(max_size=3), max_size=2)),
    st.just({}),  # not one member: moto's own path
    st.just({"S": "x", "N": "1"}),
)
_VALUES = st.recursive(
    _SCALAR_VALUES,
    lambda inner: st.one_of(
        st.builds(lambda m: {"M": m}, st.dictionaries(_NAMES, inner, max_size=3)),
        st.builds(lambda values: {"L": values}, st.lists(inner, max_size=3)),
    ),
    max_leaves=8,
)


def _serialized_query(items: list[dict[str, Any]]) -> Any:
    from moto.core.serialize import JSONSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    operation = get_service_model("dynamodb").operation_model("Query")
    serializer = JSONSerializer(operation_model=operation, pretty_print=False, value_picker=XFormedAttributePicker())
    return serializer.serialize({"Items": items, "Count": len(items)})["body"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(st.dictionaries(_NAMES, _VALUES, max_size=4), max_size=3))
def test_attribute_values_written_directly_are_the_bytes_moto_writes(items: list[dict[str, Any]]) -> None:
    from moto.core.serialize import BaseJSONSerializer

    moto_speedups.install()
    fast = BaseJSONSerializer._serialize_type_structure
    with _stock_serializer():
        expected = _serialized_query(copy.deepcopy(items))
    assert BaseJSONSerializer._serialize_type_structure is fast
    assert _serialized_query(copy.deepcopy(items)) == expected


@contextlib.contextmanager
def _stock_serializer() -> Iterator[None]:
    from moto.core.serialize import AttributePicker, BaseJSONSerializer

    fast, picker = BaseJSONSerializer._serialize_type_structure, AttributePicker.__call__
    BaseJSONSerializer._serialize_type_structure = fast.__wrapped__  # type: ignore[attr-defined,method-assign]
    AttributePicker.__call__ = picker.__wrapped__  # type: ignore[attr-defined,method-assign]
    try:
        yield
    finally:
        BaseJSONSerializer._serialize_type_structure = fast  # type: ignore[method-assign]
        AttributePicker.__call__ = picker  # type: ignore[method-assign]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(attrs=st.dictionaries(_NAMES, _VALUES, max_size=5), data=st.data())
def test_projections_taken_as_they_are_equal_moto_s_own(attrs: dict[str, Any], data: st.DataObject) -> None:
    from moto.dynamodb.models.dynamo_type import Item

    moto_speedups.install()
    # names of the item's attributes (repeated, missing, nested and indexed ones too)
    names = data.draw(st.lists(st.sampled_from([*attrs, "missing", "a.b", "x[0]"]), max_size=5))
    try:
        item = Item({"S": "h"}, {"S": "r"}, copy.deepcopy(attrs))  # type: ignore[arg-type]
    except Exception:  # a value moto refuses to hold
        return
    paths = [name.split(".") for name in names]

    def projected(project: Any) -> Any:  # the projected item, or the error moto raises (a path into a number)
        try:
            return project(item, paths).to_json()
        except Exception as exc:
            return type(exc)

    assert projected(Item.project) == projected(Item.project.__wrapped__)  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(st.dictionaries(_NAMES, _VALUES, max_size=4), min_size=1, max_size=3))
def test_attribute_values_in_requests_parse_as_moto_parses_them(items: list[dict[str, Any]]) -> None:
    import base64
    import json

    from moto.core.parse import BaseJSONParser, JSONParser
    from moto.core.utils import get_service_model

    def wire(value: Any) -> Any:  # what boto3 sends: binary values in base64
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        if isinstance(value, dict):
            return {k: wire(v) for k, v in value.items()}
        if isinstance(value, list):
            return [wire(v) for v in value]
        return value

    moto_speedups.install()
    operation = get_service_model("dynamodb").operation_model("BatchWriteItem")
    body = json.dumps({"RequestItems": {"t": [{"PutRequest": {"Item": wire(item)}} for item in items]}})
    request: Any = {"body": body, "headers": {}, "method": "POST", "url_path": "/", "query_string": ""}
    fast = BaseJSONParser._parse_structure
    BaseJSONParser._parse_structure = fast.__wrapped__  # type: ignore[attr-defined,method-assign]
    try:
        expected = JSONParser(operation).parse(request)
    finally:
        BaseJSONParser._parse_structure = fast  # type: ignore[method-assign]
    assert JSONParser(operation).parse(request) == expected
