"""Discovery on moto: index.html (every feed, autodiscovery links), feeds.opml (OPML 2.0) and, for large sections,
their shelves, kept up to date from the registry by the feeds function: rewritten only when a feed comes or
goes, and then only where it sits; always what `feeds.discovery.discovery_documents` makes of the listed feeds."""

from __future__ import annotations

import dataclasses
import os
import time
from collections import Counter
from typing import Any
from unittest import mock
from urllib.parse import unquote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree, html  # type: ignore[import-untyped]
from moto import mock_aws

from postfeed.feeds import discovery
from postfeed.models import FeedRef
from postfeed.store.items import feed_id
from postfeed.store.pages import FeedPages
from postfeed.store.table import from_attributes, to_attributes
from postfeed_tools.local.calls import CallCounter
from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT, LocalPipeline
from tests.functional.conftest import FEED_BASE_URL, FINEWS_PARAMETERS
from tests.functional.test_pipeline_rules import post
from tests.hostile.checks import assert_feeds_sound, site_of

PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def opml(pipeline: LocalPipeline, key: str = "feeds.opml") -> Any:
    body = pipeline.feed(key)
    assert body is not None
    return etree.fromstring(body, PARSER)


def check_opml2(root: Any) -> None:
    """OPML 2.0 (http://opml.org/spec2.opml): <opml version="2.0"> with <head> and a <body> of one or more
    outlines; every outline has `text`; a subscription (`type="rss"`) has an absolute `xmlUrl`, an inclusion
    (`type="include"`) an absolute `url`."""
    assert root.tag == "opml"
    assert root.get("version") == "2.0"
    assert [child.tag for child in root] == ["head", "body"]
    assert len(root.find("body")) >= 1
    for outline in root.iter("outline"):
        assert outline.get("text"), etree.tostring(outline)
        if outline.get("type") == "rss":
            assert outline.get("xmlUrl", "").startswith("https://")
            assert len(outline) == 0
        if outline.get("type") == "include":
            assert outline.get("url", "").startswith("https://")


def subscriptions(root: Any) -> dict[str, str]:
    """xmlUrl -> title of every subscription in the OPML."""
    return {o.get("xmlUrl"): o.get("title") for o in root.iter("outline") if o.get("xmlUrl")}


def index(pipeline: LocalPipeline) -> Any:
    body = pipeline.feed("index.html")
    assert body is not None
    assert body.startswith(b"<!DOCTYPE html>")
    return html.document_fromstring(body)


def memberships(pipeline: LocalPipeline) -> Counter[str]:
    """Entries per feed id, counted from the membership items themselves (a Scan: the truth, for tests)."""
    found: Counter[str] = Counter()
    kwargs: dict[str, Any] = {"TableName": pipeline.table.name}
    while True:
        page = pipeline.table.client.scan(**kwargs)
        for item in map(from_attributes, page["Items"]):
            if item["pk"].startswith("FEED#") and not item["sk"].startswith("~"):
                found[item["pk"].removeprefix("FEED#")] += 1
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def state_totals(pipeline: LocalPipeline) -> dict[str, int]:
    """Each feed's `total` as its state item keeps it (feeds that have one)."""
    totals: dict[str, int] = {}
    kwargs: dict[str, Any] = {"TableName": pipeline.table.name}
    while True:
        page = pipeline.table.client.scan(**kwargs)
        for item in map(from_attributes, page["Items"]):
            if item["pk"].startswith("FEED#") and item["sk"] == "~STATE" and "total" in item:
                totals[item["pk"].removeprefix("FEED#")] = int(item["total"])
        if "LastEvaluatedKey" not in page:
            return totals
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def assert_discovery_exact(pipeline: LocalPipeline) -> None:
    """Every feed's total is its number of entries; the registry lists exactly the feeds with entries; no due
    mark is left; and the bucket holds exactly the discovery documents of that list, byte for byte."""
    truth = memberships(pipeline)
    totals = state_totals(pipeline)
    assert {fid: total for fid, total in totals.items() if total or fid in truth} == dict(truth)
    listed = FeedPages(pipeline.table).registry()
    assert {feed_id(ref) for ref in listed} == set(truth)
    due, _ = FeedPages(pipeline.table).due_and_index()
    assert due == []
    shelves = {key for key in pipeline.feed_keys() if key.startswith(discovery.SHELF_FOLDER + "/")}
    if pipeline.feed("index.html") is None:  # no feed was ever rebuilt
        assert (listed, shelves) == ([], set())
        return
    expected = {key: body for key, body, _ in discovery.discovery_documents(listed, site_of(pipeline))}
    assert shelves == {key for key in expected if key.startswith(discovery.SHELF_FOLDER + "/")}
    for key, body in expected.items():
        assert pipeline.feed(key) == body, key


def test_index_and_opml_list_every_feed_with_titles(pipeline: LocalPipeline) -> None:
    # GIVEN posts in two categories and three tags
    pipeline.upload("_posts/2026-11-25-a.md", post(title="甲", categories="emnews", tags="港股 A股"))
    pipeline.upload("_posts/2026-11-26-b.md", post(title="乙", categories="emnews", tags="港股"))
    pipeline.upload("_posts/2026-11-27-c.md", post(title="丙", categories="cailianshe", tags="a&b"))
    pipeline.settle()
    # THEN feeds.opml is OPML 2.0 with one subscription per feed, titled, and no volatile count or date
    root = opml(pipeline)
    check_opml2(root)
    subs = subscriptions(root)
    assert subs == {
        f"{FEED_BASE_URL}/feed.xml": "金融消息",
        f"{FEED_BASE_URL}/feed/cailianshe.xml": "金融消息 | Cailianshe",
        f"{FEED_BASE_URL}/feed/emnews.xml": "金融消息 | Emnews",
        f"{FEED_BASE_URL}/feed/by_tag/A%E8%82%A1.xml": "金融消息 | #A股",
        f"{FEED_BASE_URL}/feed/by_tag/a-b~4e012385d7caf841.xml": "金融消息 | #a&b",
        f"{FEED_BASE_URL}/feed/by_tag/%E6%B8%AF%E8%82%A1.xml": "金融消息 | #港股",
    }
    assert [o.get("text") for o in root.find("body")] == ["Site", "Categories", "Tags"]
    assert root.find("head/dateModified") is None
    assert not any(o.get("description") for o in root.iter("outline"))
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
    assert "entr" not in page.text_content()  # no entry counts: a new post changes nothing here
    assert pipeline.feed_object("index.html")["content_type"] == "text/html; charset=utf-8"
    assert pipeline.feed_object("feeds.opml")["content_type"] == "text/x-opml; charset=utf-8"
    assert_discovery_exact(pipeline)


def test_an_emptied_feed_leaves_the_lists(pipeline: LocalPipeline) -> None:
    pipeline.upload("_posts/2026-11-25-a.md", post(title="甲", categories="emnews", tags="港股"))
    pipeline.upload("_posts/2026-11-26-b.md", post(title="乙", categories="cailianshe", tags="港股"))
    pipeline.settle()
    # WHEN b moves to emnews
    pipeline.upload("_posts/2026-11-26-b.md", post(title="乙", categories="emnews", tags="港股"))
    pipeline.settle()
    subs = subscriptions(opml(pipeline))
    assert f"{FEED_BASE_URL}/feed/emnews.xml" in subs
    assert f"{FEED_BASE_URL}/feed/cailianshe.xml" not in subs  # its feed stays, valid and empty
    assert pipeline.feed("feed/cailianshe.xml") is not None
    # AND the registry is one line per feed with entries, in one partition; totals are exact
    assert {ref.name for ref in FeedPages(pipeline.table).registry()} == {"", "emnews", "港股"}
    assert state_totals(pipeline) == {"site": 2, "category=emnews": 2, "category=cailianshe": 0, "tag=港股": 2}
    assert_discovery_exact(pipeline)


def test_nothing_is_published_when_no_feed_comes_or_goes(pipeline: LocalPipeline) -> None:
    pipeline.upload("_posts/2026-11-25-a.md", post(title="甲", categories="emnews"))
    pipeline.settle()
    before = {key: pipeline.feed_object(key) for key in ("index.html", "feeds.opml", "feed.xsl")}
    counter = CallCounter().install()
    # WHEN a new post joins the same feeds (their entry counts change, which feeds exist does not)
    pipeline.upload("_posts/2026-11-26-b.md", post(title="乙", categories="emnews"))
    pipeline.settle()
    # THEN the feeds are rebuilt, but the discovery documents are not even rendered: one Query says so
    # site, emnews and 央行公告 (post()'s tag): subscription documents, HTML page and the archive page
    assert counter["s3.PutObject"] == 3 * (3 + 1 + 2)
    assert counter["dynamodb.DeleteItem"] == 0
    after = {key: pipeline.feed_object(key) for key in before}
    assert after == before
    # AND the same for an edit
    counter.reset()
    pipeline.upload("_posts/2026-11-26-b.md", post(title="乙（更新）", categories="emnews"))
    pipeline.settle()
    assert counter["s3.PutObject"] == 3 * (3 + 1 + 2)
    assert {key: pipeline.feed_object(key) for key in before} == before


def test_a_busy_index_lease_retries_the_batch_until_the_index_is_published(pipeline: LocalPipeline) -> None:
    # GIVEN another invocation holding the discovery documents' lease (it died: the lease expires in 1 s)
    FeedPages(pipeline.table).acquire_index("crashed-invocation", 1.0)
    pipeline.upload("_posts/2026-11-25-a.md", post(title="甲", categories="emnews"))
    began = time.monotonic()
    # WHEN the stream is delivered: the first attempt waits out its lease waits, fails, and is retried
    pipeline.settle()
    # THEN the feeds and the index are published, and no batch was given up
    assert pipeline.glue.delivery.stream_failed_batches == 0
    assert f"{FEED_BASE_URL}/feed/emnews.xml" in subscriptions(opml(pipeline))
    assert time.monotonic() - began < 30
    assert_discovery_exact(pipeline)


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


def test_totals_stay_exact_when_a_feed_is_first_built_before_all_its_stream_records_arrive(
    pipeline: LocalPipeline,
) -> None:
    # GIVEN a stream delivered one record per invocation, so a feed's first rebuild sees memberships
    # (ingested already) whose own stream records come in later invocations
    with_batch_size(pipeline, 1)
    dates = ["2026-09-10 09:00:00 +0800", "2026-10-10 09:00:00 +0800", "2026-11-10 09:00:00 +0800"]
    for number, date in enumerate(dates):
        pipeline.upload(f"_posts/2026-0{number + 1}-0{number + 1}-p{number}.md", post(title=f"帖{number}", date=date))
    pipeline.settle()
    # THEN each entry is counted once, as the archive pages do
    assert state_totals(pipeline) == {"site": 3, "category=yangxingwangzhan": 3, "tag=央行公告": 3}
    assert_discovery_exact(pipeline)


def test_totals_stay_exact_when_a_relinked_neighbour_page_takes_in_entries_announced_later(
    pipeline: LocalPipeline,
) -> None:
    # GIVEN a feed with an October page
    october, november = "2026-10-10 09:00:00 +0800", "2026-11-10 09:00:00 +0800"
    pipeline.upload("_posts/2026-10-10-x.md", post(title="x", date=october))
    pipeline.settle()
    # WHEN a November post and another October post are ingested, and the stream announces them one at a time,
    # November's first: its new page relinks October's, rendered from its members, the new October post already
    # among them
    with_batch_size(pipeline, 1)
    pipeline.upload("_posts/2026-11-10-a.md", post(title="a", date=november))
    pipeline.upload("_posts/2026-10-11-b.md", post(title="b", date=october))
    while pipeline.glue.pump_queue():
        pass
    pipeline.settle()
    # THEN the totals count every entry once (they used to miss the one the relinked page took in: 2 for 3)
    assert state_totals(pipeline) == {"site": 3, "category=yangxingwangzhan": 3, "tag=央行公告": 3}
    assert_discovery_exact(pipeline)


def test_an_upgrade_keeps_every_feed_listed(pipeline: LocalPipeline) -> None:
    # GIVEN feeds published by an older version: registry lines keyed by feed id, with counts; no shelves and no
    # index state of this version
    pipeline.upload("_posts/2026-11-25-a.md", post(title="甲", categories="emnews", tags="港股"))
    pipeline.upload("_posts/2026-11-26-b.md", post(title="乙", categories="cailianshe", tags="A股"))
    pipeline.settle()
    pages, client, name = FeedPages(pipeline.table), pipeline.table.client, pipeline.table.name
    for ref in pages.registry():
        pages.unregister(discovery.listing_key(ref))
        old = {"pk": "FEEDS", "sk": feed_id(ref), "kind": ref.kind.value, "name": ref.name, "entries": 1}
        client.put_item(TableName=name, Item=to_attributes(old))
        client.update_item(
            TableName=name,
            Key=to_attributes({"pk": f"FEED#{feed_id(ref)}", "sk": "~STATE"}),
            UpdateExpression="SET listed = :old",
            ExpressionAttributeValues=to_attributes({":old": [1, "2026-11-26T09:30:00+08:00"]}),
        )
    for sk in ["~INDEX", *(f"~SHELF#{key}" for key in pages.shelves())]:
        client.delete_item(TableName=name, Key=to_attributes({"pk": "FEEDS", "sk": sk}))
    # WHEN the new version rebuilds one category's feeds
    pipeline.upload("_posts/2026-11-27-c.md", post(title="丙", categories="emnews", tags="港股"))
    pipeline.settle()
    # THEN every feed is still listed, now under listing keys, and the old lines are gone
    assert pages.legacy_lines() == []
    assert len(subscriptions(opml(pipeline))) == 5
    assert_discovery_exact(pipeline)


def with_batch_size(pipeline: LocalPipeline, size: int) -> None:
    """Deliver the stream to the feeds function `size` records at a time."""
    feeds = pipeline.stack.build_feeds
    pipeline.stack.functions[feeds.logical_id] = dataclasses.replace(
        feeds, source=dataclasses.replace(feeds.source, batch_size=size)
    )


# -- shelves -----------------------------------------------------------------------------------------------------


def test_a_large_section_is_shelved_and_a_new_feed_rewrites_only_its_shelf(pipeline: LocalPipeline) -> None:
    # GIVEN shelves of about 3 feeds, and 12 tags
    with mock.patch.object(discovery, "SHELF_SPAN", 3):
        tags = [f"标签{n:02d}" for n in range(12)]
        for n, tag in enumerate(tags):
            pipeline.upload(f"_posts/2026-11-{n + 1:02d}-t{n}.md", post(title=f"帖{n}", tags=tag))
        pipeline.settle()
        # THEN the root lists the site and the category in full, and the tags by shelf, each shelf a page and an
        # OPML file that the root links (OPML 2.0 inclusion)
        assert_discovery_exact(pipeline)
        page = index(pipeline)
        shelf_links = page.xpath("//section[@id='tag']/ul[@class='shelves']/li/a[1]/@href")
        assert len(shelf_links) > 1
        root = opml(pipeline)
        check_opml2(root)
        includes = [o.get("url") for o in root.iter("outline") if o.get("type") == "include"]
        assert [url.removesuffix(".opml") for url in includes] == [url.removesuffix(".html") for url in shelf_links]
        shown: list[str] = []
        for url in includes:
            shelf = opml(pipeline, unquote(url.removeprefix(FEED_BASE_URL + "/")))
            check_opml2(shelf)
            shown += list(subscriptions(shelf).values())
        assert sorted(shown) == sorted(f"金融消息 | #{tag}" for tag in tags)
        assert_feeds_sound(pipeline)
        # WHEN a post brings one more tag
        before = shelf_documents(pipeline)
        pipeline.upload("_posts/2026-11-20-new.md", post(title="新", tags="标签055"))
        pipeline.settle()
        # THEN only its shelf changed (two, when the new tag is a cut); the others kept their bytes
        after = shelf_documents(pipeline)
        changed = {key.rsplit(".", 1)[0] for key in set(before) | set(after) if before.get(key) != after.get(key)}
        assert 1 <= len(changed) <= (2 if discovery.is_cut(FeedRef.tag("标签055")) else 1)
        assert_discovery_exact(pipeline)


def shelf_documents(pipeline: LocalPipeline) -> dict[str, bytes | None]:
    return {key: pipeline.feed(key) for key in pipeline.feed_keys() if key.startswith(discovery.SHELF_FOLDER + "/")}


REFS = st.sampled_from([f"t{n:02d}" for n in range(20)])  # runs of more than twice the span: split


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(
        st.lists(st.tuples(st.integers(0, 5), st.lists(REFS, max_size=5)), min_size=1, max_size=3), max_size=4
    ),
    span=st.sampled_from((1, 2, 3)),
)
def test_shelves_after_any_comings_and_goings_equal_the_shelves_of_the_final_list(
    steps: list[list[tuple[int, list[str]]]], span: int
) -> None:
    """Feeds come and go in any order, a few per invocation: the documents are always those of a plan from
    scratch (what `postfeed build` writes), the shelves' items and marks leave nothing behind."""
    environment = {**LOCAL_AWS_ENVIRONMENT, "POWERTOOLS_METRICS_DISABLED": "true"}
    with mock.patch.dict(os.environ, environment), mock_aws(), mock.patch.object(discovery, "SHELF_SPAN", span):
        pipeline = LocalPipeline.create(parameters=FINEWS_PARAMETERS, feed_base_url=FEED_BASE_URL)
        for step in steps:
            for slot, tags in step:
                key = f"_posts/2026-11-0{slot + 1}-p{slot}.md"
                if tags:
                    pipeline.upload(key, post(title=f"帖{slot}", tags=" ".join(tags), categories=f"c{slot % 2}"))
                else:
                    pipeline.delete(key)
            pipeline.settle()
            assert pipeline.glue.delivery.stream_failed_batches == 0
            assert_discovery_exact(pipeline)
