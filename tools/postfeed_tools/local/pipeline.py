"""The whole pipeline on moto, as one object: the template's stack, the event glue and the clients.

Used the same way by the tests, `postfeed run`, `serve` and `bench`: upload or delete posts, `settle()`
(deliver every pending event through the real handlers), then read the feeds bucket and the table."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from postfeed.store.table import PostsTable
from postfeed_tools.local.glue import Delivery, EventGlue
from postfeed_tools.local.stack import LocalStack, StackClients, create_stack

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_s3 import S3Client

    from postfeed.pipeline.wiring import Adapters
    from postfeed_tools.local.bulk import BulkOutcome

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
BULK_CHUNK = 2000  # posts parsed and written per bulk step: bounds memory, keeps every core busy


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

        from postfeed_tools.local import moto_speedups

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

    def bulk_load(
        self, posts: Sequence[tuple[str, bytes]], *, chunk: int = BULK_CHUNK, workers: int | None = None
    ) -> BulkOutcome:
        """A whole site's posts at once through the bulk path (postfeed_tools.local.bulk), as a rebuild or an
        import would take them: the objects land in the posts bucket in-process (moto's own store, not 16,000
        HTTP requests, and without notifications: the bulk path reads the posts itself), each
        chunk is parsed on every core and written in batches, and then each touched feed is rebuilt once,
        with the feed function's settings, leases and hashes (the feeds it created paged from the memberships
        it wrote, not read back). Those writes make no stream records: the rebuild already made what they
        would make."""
        from postfeed.jekyll.parallel import parse_ahead
        from postfeed.pipeline.ingest import current_site
        from postfeed.pipeline.outcomes import Action, Outcome
        from postfeed.pipeline.renderenv import MISSING_TARGET, bulk_environment
        from postfeed_tools.local.bulk import BulkOutcome, WrittenMembers, bulk_reader, ingest_bulk, rebuild_touched

        seen_waiting: set[str] = set()
        latest: dict[str, Outcome] = {}

        self.settle()  # what came before (the config, site files) is in force first
        self._store_objects(self.stack.posts_bucket, posts)
        total = BulkOutcome()
        members = WrittenMembers()
        with self._unstreamed(), self.glue.environment_of(self.stack.ingest):
            from aws_lambda_powertools import Logger

            logger = Logger(service="postfeed-ingest")  # the ingest function's log, as it would record them
            adapters = _bulk_adapters()
            settings, now = adapters.settings, datetime.now(UTC)
            items = adapters.table.get_site_files()
            site, _ = current_site(settings, adapters.table, items)
            limit = settings.max_site_file_bytes
            env = bulk_environment(items, site, posts, table=adapters.table, bucket=adapters.posts, limit=limit)
            chunks = [posts[start : start + chunk] for start in range(0, len(posts), max(1, chunk))]
            ahead = parse_ahead(chunks, site, now=now, read=bulk_reader(settings, env), workers=workers)
            # Lazily: each chunk is written as soon as it is parsed, while the workers parse the next.
            again: list[tuple[Sequence[tuple[str, bytes]], Any]] = []
            rounds = itertools.chain(zip(chunks, ahead, strict=True), _drained(again))
            for number, (files, parsed) in enumerate(rounds, start=1):
                done = ingest_bulk(
                    files, settings=settings, table=adapters.table, now=now, parsed=parsed, env=env, members=members
                )
                latest |= {outcome.key: outcome for outcome in done.outcomes}
                if number >= len(chunks):  # posts rejected for a post a later chunk published: read them again
                    waiting = {key for key, outcome in latest.items() if outcome.code in MISSING_TARGET}
                    waiting_files = [(key, body) for key, body in posts if key in waiting]
                    if waiting_files and waiting != seen_waiting:
                        seen_waiting = waiting
                        env = bulk_environment(
                            items, site, waiting_files, table=adapters.table, bucket=adapters.posts, limit=limit
                        )
                        again.append((waiting_files, None))
                total.states |= done.states
                for outcome in done.outcomes:
                    if outcome.action in (Action.REJECTED, Action.SKIPPED):
                        log = logger.warning if outcome.action is Action.REJECTED else logger.info
                        log(
                            f"bulk {outcome.key}: {outcome.action.value}",
                            action=outcome.action.value,
                            code=outcome.code,
                            detail=outcome.message,
                        )
                total.writes += done.writes
                for ref, instants in done.touched.items():
                    total.touched.setdefault(ref, []).extend(instants)
            total.outcomes = list(latest.values())  # each post's last outcome, in the order first read
        with self._unstreamed(), self.glue.environment_of(self.stack.build_feeds):
            adapters = _bulk_adapters()
            site, _ = current_site(adapters.settings, adapters.table)
            rebuild_touched(
                total.touched,
                site=site,
                table=adapters.table,
                feeds=adapters.feeds,
                lease_seconds=adapters.settings.lease_seconds,
                members=members,
                workers=workers,
            )
        return total

    @contextlib.contextmanager
    def _unstreamed(self) -> Iterator[None]:
        """The table's writes for the duration make no stream records (moto's table in this process, its shard
        detached): the bulk path's records would only be passed over, and moto's cost per record (an image of
        the item, its size) is a tenth of a bulk load's."""
        from moto.backends import get_backend

        region = self.table.client.meta.region_name
        table = get_backend("dynamodb")[self.stack.account][region].get_table(self.stack.table)
        self.glue.skip_stream()  # what came before is delivered or passed over first
        shard, table.stream_shard = table.stream_shard, None
        try:
            yield
        finally:
            table.stream_shard = shard

    def _store_objects(self, bucket: str, objects: Sequence[tuple[str, bytes]]) -> None:
        """Objects written straight into moto's S3 store (same process), as an `aws s3 sync` would leave them,
        with the bucket's notifications held back meanwhile (the bulk path reads these objects itself)."""
        from moto.backends import get_backend

        backend = get_backend("s3")[self.stack.account]["global"]
        store = backend.get_bucket(bucket)
        notifications, store.notification_configuration = store.notification_configuration, None
        try:
            for key, body in objects:
                backend.put_object(bucket, key, body)
        finally:
            store.notification_configuration = notifications

    def settle(self) -> Delivery:
        """Deliver every pending S3 event and stream record through the real handlers."""
        return self.glue.run_until_idle()

    # -- what comes out -----------------------------------------------------------------------------

    def feed_keys(self) -> list[str]:
        return sorted(obj["Key"] for obj in self._objects(self.stack.feeds_bucket))

    def feed_documents(self) -> Iterator[tuple[str, bytes]]:
        """Every object of the feeds bucket, by key, read straight from moto's S3 store in this process (an
        export of thousands of documents, not thousands of GetObject requests through the HTTP emulation)."""
        from moto.backends import get_backend
        from moto.s3.models import FakeKey

        store = get_backend("s3")[self.stack.account]["global"].get_bucket(self.stack.feeds_bucket)
        for key in sorted(store.keys):
            obj = store.keys.get(key)
            if isinstance(obj, FakeKey):  # not a delete marker
                yield key, obj.value

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


def _drained(queue: list[Any]) -> Iterator[Any]:
    """The items put on `queue`, first in first out, including those put while this is being read."""
    while queue:
        yield queue.pop(0)


def _bulk_adapters() -> Adapters:
    """The function's adapters (as its environment gives them) for the bulk path, whose table client skips
    botocore's client-side parameter validation: its requests are the event path's own (the same store code,
    validated in every test of that path), and validating 68,000 items a site costs a twentieth of a bulk
    load. moto, like DynamoDB, still parses and checks every request."""
    import dataclasses

    from botocore.config import Config

    from postfeed.pipeline.wiring import adapters_from_env
    from postfeed.store.clients import client_config, session

    adapters = adapters_from_env()
    client = session().client("dynamodb", config=client_config().merge(Config(parameter_validation=False)))
    return dataclasses.replace(adapters, table=PostsTable(adapters.table.name, client))
