"""AWS clients, built on first use and cached (nothing at import: cold start), with retries for
throttling and 5xx. Adapters take a client argument so tests pass moto-backed ones explicitly."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


def client_config() -> Config:
    """Standard retries back off exponentially with jitter on throttling, 5xx and dropped connections."""
    from botocore.config import Config

    return Config(retries={"mode": "standard", "max_attempts": 6}, connect_timeout=5, read_timeout=30)


@cache
def session() -> boto3.session.Session:
    """The handlers' own session: tests and benchmarks hook its events (call counting, fault injection)
    before the clients are built, without touching any other boto3 user in the process."""
    import boto3

    return boto3.session.Session()


@cache
def s3_client() -> S3Client:
    return session().client("s3", config=client_config())


@cache
def dynamodb_client() -> DynamoDBClient:
    return session().client("dynamodb", config=client_config())


@cache
def sqs_client() -> SQSClient:
    return session().client("sqs", config=client_config())


def reset_clients() -> None:
    """Forget the session and its clients (tests switch endpoints and hooks between runs)."""
    for factory in (session, s3_client, dynamodb_client, sqs_client):
        factory.cache_clear()
