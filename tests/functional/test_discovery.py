"""Discovery at the feeds root on moto: index.html (every feed, counts, autodiscovery links) and feeds.opml
(OPML 2.0), kept up to date from the feeds registry without listing the table."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from lxml import etree, html  # type: ignore[import-untyped]

from postfeed.local.calls import CallCounter
from postfeed.local.pipeline import LocalPipeline
from postfeed.store.pages import FeedPages
from tests.functional.conftest import FEED_BASE_URL
from tests.functional.test_pipeline_rules import post

PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def opml(pipeline: LocalPipeline) -> Any:
    body = pipeline.feed("feeds.opml")
    assert body is not None
    return etree.fromstring(body, PARSER)


def check_opml2(root: Any) -> None:
    """OPML 2.0 (http://opml.org/spec2.opml): <opml version="2.0"> with <head> and a <body> of one or more
    outlines; every outline has `text`; a subscription (`type="rss"`) has an absolute `xmlUrl`."""
    assert root.tag == "opml"
    assert root.get("version") == "2.0"
    assert [child.tag for child in root] == ["head", "body"]
    assert len(root.find("body")) >= 1
    for outline in root.iter("outline"):
        assert outline.get("text"), etree.tostring(outline)
        if outline.get("type") == "rss":
            assert outline.get("xmlUrl", "").startswith("https://")
            assert len(outline) == 0
    modified = root.findtext("head/dateModified")
    if modified:
        from email.utils import parsedate_to_datetime

        assert parsedate_to_datetime(modified).tzinfo is not None


def subscriptions(root: Any) -> dict[str, tuple[str, str]]:
    """xmlUrl -> (title, description) of every subscription in the OPML."""
    return {o.get("xmlUrl"): (o.get("title"), o.get("description")) for o in root.iter("outline") if o.get("xmlUrl")}


def index(pipeline: LocalPipeline) -> Any:
    body = pipeline.feed("index.html")
    assert body is not None
    assert body.startswith(b"<!DOCTYPE html>")
    return html.document_fromstring(body)


def test_index_and_opml_list_every_feed_with_titles_and_counts(pipeline: LocalPipeline) -> None:
    # GIVEN posts in two categories and three tags
    pipeline.upload("_posts/2026-11-25-a.md", post(title="甲", categories="emnews", tags="港股 A股"))
    pipeline.upload("_posts/2026-11-26-b.md", post(title="乙", categories="emnews", tags="港股"))
    pipeline.upload("_posts/2026-11-27-c.md", post(title="丙", categories="cailianshe", tags="a&b"))
    pipeline.settle()
    # THEN feeds.opml is OPML 2.0 with one subscription per feed, titled, with its entry count
    root = opml(pipeline)
    check_opml2(root)
    subs = subscriptions(root)
    assert subs == {
        f"{FEED_BASE_URL}/feed.xml": ("金融消息", "3 entries"),
        f"{FEED_BASE_URL}/feed/cailianshe.xml": ("金融消息 | Cailianshe", "1 entry"),
        f"{FEED_BASE_URL}/feed/emnews.xml": ("金融消息 | Emnews", "2 entries"),
        f"{FEED_BASE_URL}/feed/by_tag/A%E8%82%A1.xml": ("金融消息 | #A股", "1 entry"),
        f"{FEED_BASE_URL}/feed/by_tag/a-b~4e012385d7caf841.xml": ("金融消息 | #a&b", "1 entry"),
        f"{FEED_BASE_URL}/feed/by_tag/%E6%B8%AF%E8%82%A1.xml": ("金融消息 | #港股", "2 entries"),
    }
    assert [o.get("text") for o in root.find("body")] == ["Site", "Categories", "Tags"]
    # AND index.html lists the same feeds, each titled with a link to its HTML page, with its three formats, and
    # autodiscovery links in its head
    page = index(pipeline)
    assert page.get("lang") == "zh-CN"
    listed = {a.get("href") for a in page.xpath("//body//li/a[1]")}
    assert listed == {url.removesuffix(".xml") + ".html" for url in subs}
    for url in subs:
        stem = url.removesuffix(".xml")
        assert {f"{stem}.xml", f"{stem}.rss", f"{stem}.json"} <= {a.get("href") for a in page.xpath("//a")}
    alternates = page.xpath("//head/link[@rel='alternate']")
    assert {link.get("href") for link in alternates} >= set(subs)
    assert {link.get("type") for link in alternates} == {
        "application/atom+xml",
        "application/rss+xml",
        "application/feed+json",
    }
    emnews = f"{FEED_BASE_URL}/feed/emnews.html"
    assert "(2 entries)" in page.xpath(f"string(//li[a[1]/@href='{emnews}'])")
    assert pipeline.feed_object("index.html")["content_type"] == "text/html; charset=utf-8"
    assert pipeline.feed_object("feeds.opml")["content_type"] == "text/x-opml; charset=utf-8"


def test_counts_follow_changes_and_an_emptied_feed_leaves_the_lists(pipeline: LocalPipeline) -> None:
    pipeline.upload("_posts/2026-11-25-a.md", post(title="甲", categories="emnews", tags="港股"))
    pipeline.upload("_posts/2026-11-26-b.md", post(title="乙", categories="cailianshe", tags="港股"))
    pipeline.settle()
    # WHEN b moves to emnews
    pipeline.upload("_posts/2026-11-26-b.md", post(title="乙", categories="emnews", tags="港股"))
    pipeline.settle()
    subs = subscriptions(opml(pipeline))
    assert subs[f"{FEED_BASE_URL}/feed/emnews.xml"][1] == "2 entries"
    assert f"{FEED_BASE_URL}/feed/cailianshe.xml" not in subs  # its feed stays, valid and empty
    assert pipeline.feed("feed/cailianshe.xml") is not None
    # AND the registry is one item per feed with entries, in one partition
    registry = {ref.name: entries for ref, entries, _ in FeedPages(pipeline.table).registry()}
    assert registry == {"": 2, "emnews": 2, "港股": 2}


def test_nothing_is_published_when_the_lists_did_not_change(pipeline: LocalPipeline) -> None:
    pipeline.upload("_posts/2026-11-25-a.md", post(title="甲", categories="emnews"))
    pipeline.settle()
    before = {key: pipeline.feed_object(key) for key in ("index.html", "feeds.opml", "feed.xsl")}
    counter = CallCounter().install()
    # WHEN an edit changes a title, not which feeds exist nor their counts
    pipeline.upload("_posts/2026-11-25-a.md", post(title="甲（更新）", categories="emnews"))
    pipeline.settle()
    # THEN the feeds are rebuilt, but the root documents are not even rendered: one GetItem says so
    # site, emnews and 央行公告 (post()'s tag): subscription documents, HTML page and the archive page
    assert counter["s3.PutObject"] == 3 * (3 + 1 + 2)
    after = {key: pipeline.feed_object(key) for key in before}
    assert after == before


def test_a_busy_index_lease_retries_the_batch_until_the_index_is_published(pipeline: LocalPipeline) -> None:
    # GIVEN another invocation holding the root documents' lease (it died: the lease expires in 1 s)
    FeedPages(pipeline.table).acquire_index("crashed-invocation", 1.0)
    pipeline.upload("_posts/2026-11-25-a.md", post(title="甲", categories="emnews"))
    began = time.monotonic()
    # WHEN the stream is delivered: the first attempt waits out its lease waits, fails, and is retried
    pipeline.settle()
    # THEN the feeds and the index are published, and no batch was given up
    assert pipeline.glue.delivery.stream_failed_batches == 0
    assert f"{FEED_BASE_URL}/feed/emnews.xml" in subscriptions(opml(pipeline))
    assert time.monotonic() - began < 30


def test_the_stylesheet_is_published_once(pipeline: LocalPipeline) -> None:
    pipeline.upload("_posts/2026-11-25-a.md", post(title="甲", categories="emnews"))
    pipeline.settle()
    xsl = pipeline.feed_object("feed.xsl")
    assert xsl["content_type"] == "application/xslt+xml; charset=utf-8"
    root = etree.fromstring(xsl["body"], PARSER)
    assert root.tag == "{http://www.w3.org/1999/XSL/Transform}stylesheet"
    etree.XSLT(root)  # compiles
    counter = CallCounter().install()
    pipeline.upload("_posts/2026-11-26-b.md", post(title="乙", categories="emnews"))
    pipeline.settle()
    assert counter["s3.PutObject"] > 0
    assert pipeline.feed_object("feed.xsl")["body"] == xsl["body"]


def test_an_empty_bucket_has_no_index(pipeline: LocalPipeline) -> None:
    pipeline.settle()
    assert pipeline.feed_keys() == []


def test_counts_stay_exact_when_a_feed_is_first_built_before_all_its_stream_records_arrive(
    pipeline: LocalPipeline,
) -> None:
    # GIVEN a stream delivered one record per invocation, so a feed's first rebuild sees memberships
    # (ingested already) whose own stream records come in later invocations
    feeds = pipeline.stack.build_feeds
    small = dataclasses.replace(feeds, source=dataclasses.replace(feeds.source, batch_size=1))
    pipeline.stack.functions[feeds.logical_id] = small
    dates = ["2026-09-10 09:00:00 +0800", "2026-10-10 09:00:00 +0800", "2026-11-10 09:00:00 +0800"]
    for number, date in enumerate(dates):
        pipeline.upload(f"_posts/2026-0{number + 1}-0{number + 1}-p{number}.md", post(title=f"帖{number}", date=date))
    pipeline.settle()
    # THEN the registry counts each entry once, as the archive pages do
    registry = {ref.name: entries for ref, entries, _ in FeedPages(pipeline.table).registry()}
    assert registry == {"": 3, "yangxingwangzhan": 3, "央行公告": 3}
    assert subscriptions(opml(pipeline))[f"{FEED_BASE_URL}/feed.xml"][1] == "3 entries"
