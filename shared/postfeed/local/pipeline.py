"""The whole pipeline on moto, as one object: the template's stack, the event glue and the clients.

Used the same way by the tests, `postfeed run`, `serve` and `bench`: upload or delete posts, `settle()`
(deliver every pending event through the real handlers), then read the feeds bucket and the table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from postfeed.local.glue import Delivery, EventGlue
from postfeed.local.stack import LocalStack, StackClients, create_stack
from postfeed.store.table import PostsTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_s3 import S3Client

# What moto needs to run in-process or as a local server: fake credentials, one region, and (botocore
# >= 1.44) no account-id endpoints, which moto's in-process streams do not answer.
LOCAL_AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "POWERTOOLS_METRICS_NAMESPACE": "postfeed",
}


@dataclass
class LocalPipeline:
    stack: LocalStack
    glue: EventGlue
    s3: S3Client
    table: PostsTable

    @classmethod
    def create(
        cls,
        *,
        parameters: dict[str, Any] | None = None,
        feed_base_url: str = "",
        environment: dict[str, str] | None = None,
        endpoint_url: str | None = None,
    ) -> LocalPipeline:
        """Create the stack on the moto that boto3 currently reaches (mock_aws, or `endpoint_url`)."""
        import boto3

        from postfeed.local import moto_speedups

        moto_speedups.install()

        def client(service: str) -> Any:
            return boto3.client(service, region_name="us-east-1", endpoint_url=endpoint_url)  # type: ignore[call-overload]

        s3: S3Client = client("s3")
        streams: DynamoDBStreamsClient = client("dynamodbstreams")
        stack = create_stack(StackClients(s3=s3, sqs=client("sqs"), dynamodb=client("dynamodb")), parameters=parameters)
        env = {"FEED_BASE_URL": feed_base_url, **(environment or {})}
        glue = EventGlue(stack, sqs=client("sqs"), streams=streams, environment=env)
        return cls(stack=stack, glue=glue, s3=s3, table=PostsTable(stack.table, client("dynamodb")))

    # -- what a user does ---------------------------------------------------------------------------

    def upload(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.stack.posts_bucket, Key=key, Body=body)

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.stack.posts_bucket, Key=key)

    def settle(self) -> Delivery:
        """Deliver every pending S3 event and stream record through the real handlers."""
        return self.glue.run_until_idle()

    # -- what comes out -----------------------------------------------------------------------------

    def feed_keys(self) -> list[str]:
        return sorted(obj["Key"] for obj in self._objects(self.stack.feeds_bucket))

    def feed(self, key: str) -> bytes | None:
        try:
            return self.s3.get_object(Bucket=self.stack.feeds_bucket, Key=key)["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None

    def feed_object(self, key: str) -> dict[str, Any]:
        response = self.s3.get_object(Bucket=self.stack.feeds_bucket, Key=key)
        return {
            "body": response["Body"].read(),
            "content_type": response.get("ContentType"),
            "cache_control": response.get("CacheControl"),
        }

    def _objects(self, bucket: str) -> Iterator[Any]:
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            yield from page.get("Contents", [])
