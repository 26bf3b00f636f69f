"""The bulk path (postfeed_tools.local.bulk, LocalPipeline.bulk_load) ends where the event path ends: the same
table items and the same bytes in every document, from the same site, on every corpus site and on a generated
one with archive pages; and a second bulk load over a published site changes only what changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from postfeed.feeds import FeedFormat, feed_key
from postfeed.jekyll import parse_post
from postfeed.models import Post, feeds_of
from postfeed.pipeline.ingest import current_site
from postfeed.store.table import from_attributes
from postfeed_tools.benchmark.harness import generate_site
from postfeed_tools.local.aws import local_settings
from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT, LocalPipeline
from postfeed_tools.local.sitefiles import collect_site
from tests.conftest import CORPUS

# Written anew by every write, whatever it writes (times, versions, leases, the index's publish counters), and
# the S3 event sequencer, which only events carry: not part of what a site publishes.
VOLATILE = frozenset(
    {"changed_at", "lease_owner", "lease_until", "lease_expires", "version", "pending", "published", "sequencer"}
)


@pytest.fixture
def isolated_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local AWS environment; each load below opens its own moto, so two stacks never share a store."""
    for key, value in LOCAL_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def end_state(pipeline: LocalPipeline) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, bytes]]:
    """Every table item (volatile fields left out) and every feeds-bucket object."""
    client = pipeline.table.client
    items: dict[tuple[str, str], dict[str, Any]] = {}
    for page in client.get_paginator("scan").paginate(TableName=pipeline.table.name):
        for raw in page["Items"]:
            item = from_attributes(raw)
            items[(item["pk"], item["sk"])] = {k: v for k, v in item.items() if k not in VOLATILE}
    documents = {key: pipeline.feed(key) or b"" for key in pipeline.feed_keys()}
    return items, documents


def load(site_dir: Path, *, bulk: bool, parameters: dict[str, Any] | None = None) -> tuple[Any, Any]:
    site = collect_site(site_dir)
    with mock_aws():
        pipeline = LocalPipeline.create(parameters=parameters, feed_base_url="https://feeds.example.com")
        if site.config is not None:
            pipeline.upload("_config.yml", site.config.read_bytes())
        for key, file in site.site_files:
            pipeline.upload(key, file.read_bytes())
        pipeline.settle()
        posts = [(key, file.read_bytes()) for key, file in site.posts]
        if bulk:
            pipeline.bulk_load(posts, chunk=40, workers=2)
        else:
            for start in range(0, len(posts), 50):
                for key, body in posts[start : start + 50]:
                    pipeline.upload(key, body)
                pipeline.settle()
        pipeline.settle()
        return end_state(pipeline)


def assert_same(bulk: Any, events: Any) -> None:
    bulk_items, bulk_documents = bulk
    event_items, event_documents = events
    assert sorted(bulk_documents) == sorted(event_documents)
    for key, body in event_documents.items():
        assert bulk_documents[key] == body, key
    assert sorted(bulk_items) == sorted(event_items)
    for key, item in event_items.items():
        assert bulk_items[key] == item, key


@pytest.mark.parametrize("corpus", ["finews", "jekyll__jekyll", "Gaohaoyang__gaohaoyang.github.io"])
def test_bulk_load_ends_where_the_events_end_on_the_corpus(isolated_aws: None, corpus: str) -> None:
    assert_same(load(CORPUS / corpus, bulk=True), load(CORPUS / corpus, bulk=False))


@pytest.fixture(scope="module")
def generated_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_site(300, tmp_path_factory.mktemp("generated"))


def test_bulk_load_ends_where_the_events_end_on_a_generated_site(isolated_aws: None, generated_site: Path) -> None:
    parameters = {"PostsLimit": "3"}  # small feeds: most entries live on archive pages
    assert_same(
        load(generated_site, bulk=True, parameters=parameters),
        load(generated_site, bulk=False, parameters=parameters),
    )


def test_a_second_bulk_load_writes_only_what_changed(isolated_aws: None) -> None:
    site_dir = CORPUS / "finews"
    files = [(key, file.read_bytes()) for key, file in collect_site(site_dir).posts]
    key, body = next((k, b) for k, b in files if k.startswith("_posts/2022-05-30-"))
    edited = body + "\n\n批量更新。\n".encode()
    with mock_aws():
        pipeline = LocalPipeline.create(feed_base_url="https://feeds.example.com")
        pipeline.upload("_config.yml", (site_dir / "_config.yml").read_bytes())
        pipeline.settle()
        first = pipeline.bulk_load(files, workers=2)
        assert first.writes == len(files)
        _, before = end_state(pipeline)
        again = pipeline.bulk_load([(k, edited if k == key else b) for k, b in files], workers=2)
        assert again.writes == 1  # every other post: same bytes under the same settings, so unchanged
        _, after = end_state(pipeline)
        site, _ = current_site(local_settings(pipeline), pipeline.table)
    post = parse_post(key, edited, site)
    assert isinstance(post, Post)
    stems = {feed_key(ref, FeedFormat.ATOM, site).removesuffix(".xml") for ref in feeds_of(post, site.feed)}
    changed = {k for k in after if before.get(k) != after[k]}
    assert "feed.xml" in changed
    for document in changed:  # only the feeds the post is in, and the root documents that list feeds
        assert "/" not in document or any(document.startswith((stem + ".", stem + "/")) for stem in stems), document
