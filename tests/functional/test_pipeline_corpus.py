"""Every corpus site uploaded through the whole pipeline: every site, category and tag feed holds the
newest posts Jekyll itself published for it, in Jekyll's order."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest

from postfeed.feeds import FeedFormat, feed_key
from postfeed.jekyll import load_site
from postfeed.models import FeedRef, Site, feed_refs
from postfeed_tools.local.pipeline import LocalPipeline
from tests.conftest import CORPORA, CORPUS


def upload_site(pipeline: LocalPipeline, root: Path) -> None:
    pipeline.upload("_config.yml", (root / "_config.yml").read_bytes())
    pipeline.settle()
    for path in sorted((root / "_posts").rglob("*")):
        if path.is_file():
            pipeline.upload(path.relative_to(root).as_posix(), path.read_bytes())
    pipeline.settle()


def expected_feeds(truth: list[dict[str, Any]], site: Site, limit: int) -> dict[FeedRef, list[str]]:
    """Each feed's newest entries: every category and tag has a feed unless the site's `feed:` settings say
    otherwise (jekyll__jekyll's `feed.categories: [release]`)."""
    members: dict[FeedRef, list[dict[str, Any]]] = defaultdict(list)
    for post in truth:
        for ref in feed_refs(post["categories"], post["tags"], site.feed):
            members[ref].append(post)

    def newest_first(post: dict[str, Any]) -> tuple[datetime, str]:
        return datetime.fromisoformat(post["date"]), post["id"]

    return {
        ref: [p["absolute_url"] for p in sorted(posts, key=newest_first, reverse=True)[:limit]]
        for ref, posts in members.items()
    }


def entry_links(document: bytes, fmt: FeedFormat) -> list[str]:
    if fmt is FeedFormat.JSON:
        return [item["url"] for item in json.loads(document)["items"]]
    parsed = feedparser.parse(document)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return [entry.link for entry in parsed.entries]


@pytest.mark.parametrize("corpus", CORPORA)
def test_corpus_site_feeds_match_what_jekyll_published(aws: None, corpus: str) -> None:
    root = CORPUS / corpus
    truth = json.loads((CORPUS / "truth" / f"{corpus}.truth.json").read_text(encoding="utf-8"))
    site: Site = load_site((root / "_config.yml").read_bytes())
    pipeline = LocalPipeline.create()
    # WHEN the whole site is uploaded
    upload_site(pipeline, root)
    # THEN every post Jekyll published is published, and every feed holds the right entries in order
    published = {p["relative_path"] for p in truth}
    for relative in published:
        item = pipeline.table.get_post(relative)
        assert item is not None, relative
        assert item["state"] == "published", (relative, item.get("error"), item.get("skip"))
    for ref, links in expected_feeds(truth, site, site.feed.posts_limit).items():
        for fmt in FeedFormat:
            document = pipeline.feed(feed_key(ref, fmt, site))
            assert document is not None, (ref, fmt)
            assert entry_links(document, fmt) == links, (ref, fmt)
    # AND no subscription document for a category or tag that no published post has
    expected_keys = {feed_key(ref, fmt, site) for ref in expected_feeds(truth, site, 1) for fmt in FeedFormat}
    subscription_keys = {key for key in pipeline.feed_keys() if is_subscription_document(key)}
    assert subscription_keys == expected_keys


def is_subscription_document(key: str) -> bool:
    """Feed documents readers subscribe to: not archive pages, the index, the OPML list or the stylesheet."""
    return key.endswith((".xml", ".rss", ".json")) and "/archive/" not in key and key != "feeds.opml"
