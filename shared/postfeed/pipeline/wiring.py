"""Adapters built from the functions' environment, once per execution environment (lazily: nothing
happens at import, so a cold start pays only for what the first invocation uses)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from postfeed.pipeline.settings import Settings
from postfeed.store.bucket import FeedsBucket, PostsBucket
from postfeed.store.table import PostsTable
from postfeed.store.work import WorkQueue


@dataclass(frozen=True, slots=True)
class Adapters:
    settings: Settings
    posts: PostsBucket
    feeds: FeedsBucket
    table: PostsTable
    queue: WorkQueue | None = None  # the ingest queue, when INGEST_QUEUE_URL is set (full rebuilds)
    render_queue: WorkQueue | None = None  # a full rebuild's phase 2, when RENDER_QUEUE_URL is set


@cache
def adapters_from_env() -> Adapters:
    from postfeed.store.clients import dynamodb_client, s3_client

    settings = Settings.from_env()
    return Adapters(
        settings=settings,
        posts=PostsBucket(settings.posts_bucket, s3_client()),
        feeds=FeedsBucket(
            settings.feeds_bucket,
            s3_client(),
            cache_control=settings.cache_control,
            browser_types=settings.feed_content_types != "registered",
        ),
        table=PostsTable(settings.table_name, dynamodb_client()),
        queue=WorkQueue(settings.ingest_queue_url) if settings.ingest_queue_url else None,
        render_queue=WorkQueue(settings.render_queue_url) if settings.render_queue_url else None,
    )


def reset_adapters() -> None:
    """Forget the adapters (the local stack switches between the functions' environments); the clients
    stay, as they do across warm invocations in Lambda."""
    adapters_from_env.cache_clear()
