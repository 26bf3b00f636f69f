"""The local transaction rollback must behave as moto's own: a cancelled transaction changes nothing."""

from __future__ import annotations

import boto3
import pytest

from postfeed.local import moto_speedups


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
