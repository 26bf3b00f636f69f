"""What must never happen, whatever a post holds: a failed batch, an invalid feed document, or a key outside
the feed paths in the feeds bucket. One helper for the hostile catalogue and the property tests."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from postfeed.feeds.discovery import SHELF_FOLDER
from postfeed.feeds.paths import ROOT_KEYS, FeedFormat, archive_key, feed_key, feed_page_key
from postfeed.models import FeedRef, Site
from postfeed.pipeline.ingest import current_site
from postfeed.pipeline.settings import Settings
from postfeed_tools.local.pipeline import LocalPipeline

FEED_FOLDER = "feed/"


def site_of(pipeline: LocalPipeline) -> Site:
    """The site settings the functions use now (template parameters, the bucket's `_config.yml`)."""
    settings = Settings.from_env({**pipeline.stack.build_feeds.environment, **pipeline.glue.environment})
    site, _ = current_site(settings, pipeline.table)
    return site


def assert_pipeline_sound(pipeline: LocalPipeline) -> None:
    """No failed batch, every document in the feeds bucket valid, and every key where a feed may be."""
    delivery = pipeline.glue.delivery
    assert delivery.sqs_failures == 0, f"ingest failed {delivery.sqs_failures} messages"
    assert delivery.stream_failed_batches == 0, f"{delivery.stream_failed_batches} stream batches gave up"
    assert_feeds_sound(pipeline)


def assert_feeds_sound(pipeline: LocalPipeline) -> None:
    """Every document in the feeds bucket valid, and every key where a feed may be."""
    site = site_of(pipeline)
    problems = {key: problem for key in pipeline.feed_keys() if (problem := key_problem(key, site))}
    problems |= {key: problem for key in pipeline.feed_keys() if (problem := document_problem(key, pipeline))}
    assert not problems, problems


def allowed_roots(site: Site) -> set[str]:
    """Keys outside `feed/` that may exist: the site feed in its formats and its HTML page, the root documents
    (and the index's shelves, under `index/`)."""
    site_feed = {feed_key(FeedRef.site(), fmt, site) for fmt in FeedFormat} | {feed_page_key(FeedRef.site(), site)}
    return site_feed | set(ROOT_KEYS)


def key_problem(key: str, site: Site) -> str | None:
    site_archive = archive_key(FeedRef.site(), "2000-01", FeedFormat.ATOM, site).rsplit("/", 1)[0] + "/"
    if key not in allowed_roots(site) and not key.startswith((FEED_FOLDER, site_archive, SHELF_FOLDER + "/")):
        return "outside the feed paths"
    segments = key.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        return "empty, . or .. segment"
    if "\\" in key or any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in key):
        return "backslash or invisible character"
    return None


def document_problem(key: str, pipeline: LocalPipeline) -> str | None:
    body = pipeline.feed(key)
    if body is None:
        return "listed but unreadable"
    return body_problem(key, body)


def body_problem(key: str, body: bytes) -> str | None:
    """Why a document of the feeds bucket is not valid (None when it is)."""
    if key.endswith(".json"):
        return _json_problem(body)
    if key.endswith((".xml", ".rss", ".opml", ".xsl")):
        problem = _xml_problem(body)
        if problem or key.endswith((".opml", ".xsl")):
            return problem
        import feedparser

        parsed = feedparser.parse(body)
        return f"feedparser: {parsed.get('bozo_exception')}" if parsed.bozo else None
    if key.endswith(".html"):
        return None if body.lstrip().lower().startswith(b"<!doctype html") else "not an HTML document"
    return "unexpected document type"


def _json_problem(body: bytes) -> str | None:
    try:
        document: Any = json.loads(body)
    except ValueError as exc:
        return f"JSON: {exc}"
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith("https://jsonfeed.org/"):
        return "not a JSON Feed"
    if not isinstance(document.get("items"), list):
        return "JSON Feed without items"
    return None


def _xml_problem(body: bytes) -> str | None:
    from lxml import etree  # type: ignore[import-untyped]

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        return f"XML: {exc}"
    return None


# -- driving one post through ---------------------------------------------------------------------------

KEY = "_posts/2026-11-27-hostile.md"


def deliver(pipeline: LocalPipeline, body: bytes, key: str = KEY) -> dict[str, Any]:
    """Upload, settle, check the three nevers; the post's item in the table."""
    pipeline.upload(key, body)
    pipeline.settle()
    assert_pipeline_sound(pipeline)
    item = pipeline.table.get_post(key)
    assert item is not None, f"{key}: no record of it at all"
    return item


def assert_rejected(item: dict[str, Any], code: str) -> str:
    """Recorded as an error with this code, its message naming the key; the message."""
    assert item["state"] == "error", item
    assert item["error"]["code"] == code, item["error"]
    assert item["key"] in item["error"]["message"]
    return str(item["error"]["message"])


def json_items(pipeline: LocalPipeline, ref: FeedRef) -> list[dict[str, Any]]:
    """The items of a feed's JSON Feed document ([] when there is no document)."""
    body = pipeline.feed(feed_key(ref, FeedFormat.JSON, site_of(pipeline)))
    return list(json.loads(body)["items"]) if body else []


def published_titles(pipeline: LocalPipeline, ref: FeedRef | None = None) -> list[str]:
    return [item["title"] for item in json_items(pipeline, ref or FeedRef.site())]
