"""`moto_at_scale` (used by `postfeed run` and `serve`): moto's DynamoDB without its whole-table costs, with
the same results, so that a local run stays linear in the number of posts."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from postfeed.local.pipeline import LOCAL_AWS_ENVIRONMENT
from postfeed.local.runner import collect_site, config_url, create_pipeline, moto_at_scale, run_site
from tests.conftest import REPO

SITE = REPO / "examples" / "site"


@pytest.fixture
def clients(aws: None) -> tuple[Any, Any, str]:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    stream_arn = dynamodb.create_table(
        TableName="t",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    return dynamodb, streams, stream_arn


def put(dynamodb: Any, pk: str, sk: str, **extra: str) -> None:
    item = {"pk": {"S": pk}, "sk": {"S": sk}} | {k: {"S": v} for k, v in extra.items()}
    dynamodb.put_item(TableName="t", Item=item)


def cancelled_transaction(dynamodb: Any) -> None:
    """A Put that would succeed, then one whose condition fails: DynamoDB writes neither."""
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
                {"Delete": {"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "2"}}}},
                {
                    "Put": {
                        "TableName": "t",
                        "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "new"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )


def stream_keys_after_a_cancelled_transaction(clients: tuple[Any, Any, str]) -> list[str]:
    dynamodb, streams, arn = clients
    put(dynamodb, "a", "1", v="old")
    put(dynamodb, "a", "2")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    page = streams.get_records(ShardIterator=iterator)
    assert len(page["Records"]) == 2
    cancelled_transaction(dynamodb)
    put(dynamodb, "c", "1")
    page = streams.get_records(ShardIterator=page["NextShardIterator"])
    return [record["dynamodb"]["Keys"]["pk"]["S"] for record in page["Records"]]


def test_a_cancelled_transaction_changes_nothing(clients: tuple[Any, Any, str]) -> None:
    dynamodb, _, _ = clients
    with moto_at_scale():
        # GIVEN two items
        put(dynamodb, "a", "1", v="old")
        put(dynamodb, "a", "2")
        # WHEN a transaction touching both and a new one is cancelled
        cancelled_transaction(dynamodb)
        # THEN the table is as it was
        items = dynamodb.scan(TableName="t")["Items"]
        assert sorted((i["pk"]["S"], i["sk"]["S"], i.get("v", {}).get("S")) for i in items) == [
            ("a", "1", "old"),
            ("a", "2", None),
        ]
        # AND a transaction that succeeds writes everything
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
                {"Delete": {"TableName": "t", "Key": {"pk": {"S": "a"}, "sk": {"S": "2"}}}},
            ]
        )
        assert dynamodb.scan(TableName="t")["Count"] == 2


def test_a_cancelled_transaction_leaves_no_stream_records_and_open_iterators_keep_reading(
    clients: tuple[Any, Any, str],
) -> None:
    with moto_at_scale():
        assert stream_keys_after_a_cancelled_transaction(clients) == ["c"]


@pytest.mark.xfail(strict=True, reason="moto 5.2.5: a cancelled transaction swaps in a deep copy of the table")
def test_moto_alone_strands_open_stream_iterators_after_a_cancelled_transaction(clients: tuple[Any, Any, str]) -> None:
    """Found while building `moto_at_scale`: without it, an iterator opened before a cancelled transaction
    returns the cancelled Put ("b", which DynamoDB never wrote) and never the later one ("c"). The glue
    keeps its iterators across rounds, so locally a ConcurrentUpdateError would stall feed rebuilds."""
    assert stream_keys_after_a_cancelled_transaction(clients) == ["c"]


def test_queries_answer_the_same(clients: tuple[Any, Any, str]) -> None:
    dynamodb, _, _ = clients
    for pk in ("FEED#x", "FEED#y", "POST#z"):
        for n in range(12):
            put(dynamodb, pk, f"2024-01-{n + 1:02d}#{pk}")
        put(dynamodb, pk, "~STATE")
    queries: list[dict[str, Any]] = [
        {"KeyConditionExpression": "pk = :p AND sk < :s", "ScanIndexForward": False, "Limit": 5},
        {"KeyConditionExpression": "pk = :p AND begins_with(sk, :b)", "ConsistentRead": True},
        {"KeyConditionExpression": "pk = :p", "Limit": 3},
        {
            "KeyConditionExpression": "pk = :p",
            "ExclusiveStartKey": {"pk": {"S": "FEED#x"}, "sk": {"S": "2024-01-03#FEED#x"}},
        },
    ]
    values = {":p": {"S": "FEED#x"}, ":s": {"S": "~"}, ":b": {"S": "2024-01-1"}}

    def answers() -> list[Any]:
        found = []
        for query in queries:
            used = {k: v for k, v in values.items() if k in query["KeyConditionExpression"]}
            response = dynamodb.query(TableName="t", ExpressionAttributeValues=used, **query)
            found.append((response["Items"], response.get("LastEvaluatedKey"), response["Count"]))
        return found

    plain = answers()
    with moto_at_scale():
        assert answers() == plain
    assert plain[0][2] == 5


def test_transactions_no_longer_slow_down_as_the_table_grows(clients: tuple[Any, Any, str]) -> None:
    dynamodb, _, _ = clients
    for start in range(0, 3000, 25):
        batch = [
            {"PutRequest": {"Item": {"pk": {"S": f"POST#{n}"}, "sk": {"S": "POST"}, "body": {"S": "正文" * 200}}}}
            for n in range(start, start + 25)
        ]
        dynamodb.batch_write_item(RequestItems={"t": batch})

    def transaction_seconds() -> float:
        began = time.perf_counter()
        for n in range(3):
            dynamodb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": f"X{n}"}, "sk": {"S": f"{k}"}}}} for k in range(5)
                ]
            )
        return time.perf_counter() - began

    plain = transaction_seconds()
    with moto_at_scale():
        fast = transaction_seconds()
    assert fast < plain / 5, (fast, plain)


def test_the_sample_site_gives_the_same_feeds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key, value in LOCAL_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    site = collect_site(SITE)
    base = config_url((SITE / "_config.yml").read_bytes())
    with mock_aws():
        plain = run_site(create_pipeline(endpoint_url=None, feed_base_url=base), site, tmp_path / "a", progress=False)
    with mock_aws(), moto_at_scale():
        fast = run_site(create_pipeline(endpoint_url=None, feed_base_url=base), site, tmp_path / "b", progress=False)
    assert json.dumps(fast.report["posts"]) == json.dumps(plain.report["posts"])
    assert [doc["key"] for doc in fast.report["feeds"]] == [doc["key"] for doc in plain.report["feeds"]]
    for doc in plain.report["feeds"]:
        assert (tmp_path / "b" / doc["key"]).read_bytes() == (tmp_path / "a" / doc["key"]).read_bytes(), doc["key"]
