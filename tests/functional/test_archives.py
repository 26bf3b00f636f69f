"""RFC 5005 archived feeds, end to end on moto: every feed's subscription document links `prev-archive` to
its newest archive page, pages chain back to the first, and changes touch only the pages they must."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import feedparser
import pytest
from lxml import etree  # type: ignore[import-untyped]

from postfeed.feeds import archive_pages as archive_rules
from postfeed.models import Post
from postfeed.pipeline.ingest import commit_published
from postfeed.store.events import ChangeKind, ObjectChange
from postfeed.store.items import utc_instant
from postfeed.store.records import PUBLISHED, PostState
from postfeed_tools.local.pipeline import LocalPipeline
from tests.functional.conftest import FEED_BASE_URL, FINEWS_PARAMETERS
from tests.functional.test_pipeline_rules import post

NS = {"a": "http://www.w3.org/2005/Atom", "fh": "http://purl.org/syndication/history/1.0"}
CST = timezone(timedelta(hours=8))
POSTS_LIMIT = 1
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@pytest.fixture
def pipeline(aws: None) -> LocalPipeline:
    # One entry per subscription document: from a feed's second post on, its subscription document links the
    # archive pages (with every entry in it, it would be complete: RFC 5005 §2, no archive link to walk).
    parameters = {**FINEWS_PARAMETERS, "PostsLimit": str(POSTS_LIMIT)}
    return LocalPipeline.create(parameters=parameters, feed_base_url=FEED_BASE_URL)


def is_complete(root: Any, rss: bool) -> bool:
    return bool(root.xpath("channel/fh:complete" if rss else "fh:complete", namespaces=NS))


def key_of(url: str) -> str:
    assert url.startswith(FEED_BASE_URL + "/"), url
    from urllib.parse import unquote

    return unquote(urlsplit(url).path.lstrip("/"))


def links(root: Any, rel: str, rss: bool) -> list[str]:
    path = f"channel/a:link[@rel='{rel}']" if rss else f"a:link[@rel='{rel}']"
    return [link.get("href") for link in root.xpath(path, namespaces=NS)]


def walk(pipeline: LocalPipeline, subscription_key: str, *, rss: bool = False) -> list[tuple[str, Any]]:
    """Follow prev-archive from the subscription document to the first archive page, checking each page's
    RFC 5005 links on the way; returns (key, root) of every archive page, newest first."""
    body = pipeline.feed(subscription_key)
    assert body is not None, subscription_key
    root = etree.fromstring(body, PARSER)
    assert not root.xpath("//fh:archive", namespaces=NS), "a subscription document is not an archive"
    current_url = links(root, "self", rss)[0]
    pages: list[tuple[str, Any]] = []
    newer: str | None = None
    target = links(root, "prev-archive", rss)
    while target:
        (url,) = target
        key = key_of(url)
        page_body = pipeline.feed(key)
        assert page_body is not None, f"{key} is linked but missing"
        page = etree.fromstring(page_body, PARSER)
        channel = page.find("channel") if rss else page
        assert len(channel.findall("fh:archive", NS)) == 1, key
        assert links(page, "self", rss) == [url]
        assert links(page, "next-archive", rss) == ([newer] if newer else []), key
        # A lone page holds the whole feed: complete, and so linked to no other document (RFC 5005 §2)
        lone = newer is None and not links(page, "prev-archive", rss)
        assert is_complete(page, rss) == lone, key
        assert links(page, "current", rss) == ([] if lone else [current_url]), key
        pages.append((key, page))
        newer = url
        target = links(page, "prev-archive", rss)
        assert len(pages) < 10_000, "prev-archive loops"
    return pages


def entry_ids(root: Any, rss: bool) -> list[str]:
    if rss:
        return [guid.text for guid in root.iterfind("channel/item/guid")]
    return [entry.findtext("a:id", namespaces=NS) for entry in root.iterfind("a:entry", NS)]


def make_post(n: int, date: datetime, category: str = "emnews") -> Post:
    slug = f"p{n:05d}"
    url = f"/{category}/{date:%Y/%m/%d}/{slug}.html"
    return Post(
        path=f"_posts/{date:%Y-%m-%d}-{slug}.md",
        title=f"第{n}条快讯",
        date=date,
        slug=slug,
        url=url,
        absolute_url="https://finews.withounder.com" + url,
        id=url.removesuffix(".html"),
        categories=(category,),
        tags=(),
        content_html=f"<p>正文 {n}</p>",
        excerpt_html=f"<p>摘要 {n}</p>",
        excerpt_text=f"摘要 {n}",
    )


def seed(pipeline: LocalPipeline, posts: list[Post]) -> None:
    """Write published posts straight into the table, as ingest does (post item + memberships in one
    transaction); the stream then drives the feed function as usual."""
    for item in posts:
        change = ObjectChange(bucket=pipeline.stack.posts_bucket, key=item.path, kind=ChangeKind.PUT, sequencer=None)
        commit_published(change, item, PostState(item.path, PUBLISHED, body_hash="seeded"), writer=pipeline.table)


def two_thousand_posts() -> list[Post]:
    """2,000 posts of one category: two years at ~42 a month (month pages), a month of 600 (day pages) and a
    day of 400 (hour pages); dates in UTC+8, so the first hours of a local month page under the last one."""
    posts: list[Post] = []
    start = datetime(2020, 1, 1, 3, 0, tzinfo=CST)  # 2019-12-31T19:00Z: December's page
    for n in range(1000):
        posts.append(make_post(len(posts), start + timedelta(hours=n * 17.5)))
    for n in range(600):
        posts.append(make_post(len(posts), datetime(2022, 3, 1, 9, tzinfo=CST) + timedelta(minutes=n * 71)))
    for n in range(400):
        posts.append(make_post(len(posts), datetime(2022, 5, 10, 0, 0, tzinfo=UTC) + timedelta(seconds=n * 211)))
    return posts


@pytest.mark.slow
def test_following_prev_archive_finds_every_post_of_a_2000_post_category_exactly_once(
    pipeline: LocalPipeline,
) -> None:
    # GIVEN a category of 2,000 posts written to the table and delivered through the stream
    posts = two_thousand_posts()
    began = time.monotonic()
    seed(pipeline, posts)
    pipeline.settle()
    # WHEN a client follows prev-archive from the subscription document to the first archive page
    for rss in (False, True):
        pages = walk(pipeline, "feed/emnews.rss" if rss else "feed/emnews.xml", rss=rss)
        # THEN it meets every post exactly once across the archive pages
        ids = Counter(entry_id for _, page in pages for entry_id in entry_ids(page, rss))
        assert len(ids) == 2000
        assert set(ids.values()) == {1}
        expected = {f"https://finews.withounder.com{p.id}" for p in posts}
        assert set(ids) == expected
        # AND the pages are the UTC months, days and hours the paging rules give, none over its bound
        names = [key.rsplit("/", 1)[1].rsplit(".", 1)[0] for key, _ in pages]
        assert names == sorted(names, reverse=True)
        by_level = Counter(len(name) for name in names)
        assert by_level == {7: 25, 10: 30, 13: 24}, by_level
        for (key, page), name in zip(pages, names, strict=True):
            if len(name) < 13:
                assert len(entry_ids(page, rss)) <= archive_rules.PAGE_ENTRIES, key
        assert "2019-12" in names  # 2020-01-01 03:00 +0800 is still December in UTC
    # AND the subscription document shows the newest posts_limit entries, each also archived
    newest = feedparser.parse(pipeline.feed("feed/emnews.xml"))
    assert newest.bozo == 0
    assert len(newest.entries) == POSTS_LIMIT
    # AND every archive document is a valid feed
    for key in pipeline.feed_keys():
        if "/archive/" in key:
            assert feedparser.parse(pipeline.feed(key)).bozo == 0, key
    # (about 35 s of CPU on moto, seeding included; no wall-clock assertion: the CI machine is shared)
    assert time.monotonic() > began


def test_every_archive_page_matches_the_paging_rules(pipeline: LocalPipeline) -> None:
    """Same as above on a smaller feed, against the pure planner: the pipeline's incremental pages are the
    pages `plan_pages` gives for the whole feed at once."""
    posts = [make_post(n, datetime(2021, 1 + n % 12, 1 + n % 28, n % 24, tzinfo=CST)) for n in range(60)]
    seed(pipeline, posts)
    pipeline.settle()
    pages = walk(pipeline, "feed/emnews.xml")
    sort_keys = [utc_instant(p.date) for p in posts]
    planned: dict[str, list[str]] = {}
    for month in sorted({k[:7] for k in sort_keys}):
        planned |= archive_rules.plan_pages(sort_keys, month)
    assert sorted(key.rsplit("/", 1)[1].removesuffix(".xml") for key, _ in pages) == sorted(planned)


class Writes:
    """The keys the handlers put to and delete from S3, via botocore's hooks on their session."""

    def __init__(self) -> None:
        self.put: list[str] = []
        self.deleted: list[str] = []

    def install(self) -> Writes:
        from postfeed.store.clients import reset_clients, session

        reset_clients()
        events = session().events
        events.register("provide-client-params.s3.PutObject", self._put, unique_id="archives-test-put")
        events.register("provide-client-params.s3.DeleteObject", self._delete, unique_id="archives-test-delete")
        return self

    def _put(self, params: dict[str, Any], **_: Any) -> None:
        self.put.append(params["Key"])

    def _delete(self, params: dict[str, Any], **_: Any) -> None:
        self.deleted.append(params["Key"])

    def reset(self) -> tuple[set[str], set[str]]:
        put, deleted = set(self.put), set(self.deleted)
        self.put, self.deleted = [], []
        return put, deleted


def upload(pipeline: LocalPipeline, name: str, date: str, title: str, categories: str = "emnews") -> None:
    pipeline.upload(f"_posts/{name}.md", post(title=title, categories=categories, tags="港股", date=date))


FEEDS = ("feed", "feed/emnews", "feed/by_tag/港股")


def subscription(stem: str, fmt: str = "xml") -> set[str]:
    """A feed's subscription document in one format, or with "all" every document rebuilt with them (the three
    formats and the feed's HTML page)."""
    return {f"{stem}.xml", f"{stem}.rss", f"{stem}.json", f"{stem}.html"} if fmt == "all" else {f"{stem}.{fmt}"}


def archive_page(stem: str, page: str) -> set[str]:
    return {f"{stem}/archive/{page}.xml", f"{stem}/archive/{page}.rss"}


@pytest.fixture
def writes(pipeline: LocalPipeline) -> Iterator[Writes]:
    recorder = Writes().install()
    yield recorder
    from postfeed.store.clients import reset_clients

    reset_clients()


def test_a_new_post_touches_the_subscription_documents_and_only_the_page_holding_it(
    pipeline: LocalPipeline, writes: Writes
) -> None:
    # GIVEN three months of posts
    for n, month in enumerate(("2026-08", "2026-09", "2026-10")):
        upload(pipeline, f"{month}-10-p{n}", f"{month}-10 09:00:00 +0800", f"旧闻{n}")
    pipeline.settle()
    writes.reset()
    # WHEN one more post arrives in the newest month
    upload(pipeline, "2026-10-20-new", "2026-10-20 09:00:00 +0800", "新闻")
    pipeline.settle()
    put, deleted = writes.reset()
    # THEN each of its feeds rewrote its subscription documents and the 2026-10 page, nothing older
    expected = set().union(*(subscription(stem, "all") | archive_page(stem, "2026-10") for stem in FEEDS))
    assert put - {"index.html", "feeds.opml"} == expected
    assert deleted == set()
    pages = walk(pipeline, "feed/emnews.xml")
    assert [key for key, _ in pages] == [f"feed/emnews/archive/{m}.xml" for m in ("2026-10", "2026-09", "2026-08")]
    assert entry_ids(pages[0][1], rss=False)[0].endswith("/new")


def test_a_post_opening_a_new_page_relinks_its_older_neighbour(pipeline: LocalPipeline, writes: Writes) -> None:
    upload(pipeline, "2026-09-10-a", "2026-09-10 09:00:00 +0800", "甲")
    pipeline.settle()
    writes.reset()
    # WHEN a post opens November's page
    upload(pipeline, "2026-11-02-b", "2026-11-02 09:00:00 +0800", "乙")
    pipeline.settle()
    put, _ = writes.reset()
    # THEN the new page is written, and September's page only for its new next-archive link
    for stem in FEEDS:
        assert archive_page(stem, "2026-11") <= put
        assert archive_page(stem, "2026-09") <= put
    pages = walk(pipeline, "feed/by_tag/港股.xml")
    assert [key.rsplit("/", 1)[1] for key, _ in pages] == ["2026-11.xml", "2026-09.xml"]
    # AND a post in between (October) slots in, relinking both neighbours
    upload(pipeline, "2026-10-05-c", "2026-10-05 09:00:00 +0800", "丙")
    pipeline.settle()
    pages = walk(pipeline, "feed/by_tag/港股.rss", rss=True)
    assert [key.rsplit("/", 1)[1] for key, _ in pages] == ["2026-11.rss", "2026-10.rss", "2026-09.rss"]


def test_a_date_change_moves_the_entry_and_an_emptied_page_is_removed(pipeline: LocalPipeline, writes: Writes) -> None:
    key = "_posts/2026-09-10-moving.md"
    pipeline.upload(key, post(title="搬家", categories="emnews", tags="港股", date="2026-09-10 09:00:00 +0800"))
    upload(pipeline, "2026-10-10-stay", "2026-10-10 09:00:00 +0800", "留下")
    pipeline.settle()
    writes.reset()
    # WHEN the September post's date moves to November (same key: an edit)
    pipeline.upload(key, post(title="搬家", categories="emnews", tags="港股", date="2026-11-01 09:00:00 +0800"))
    pipeline.settle()
    put, deleted = writes.reset()
    # THEN September's page is gone (documents deleted), November's holds it, October's links both ways
    for stem in FEEDS:
        assert deleted == set().union(*(archive_page(s, "2026-09") for s in FEEDS))
        assert archive_page(stem, "2026-11") <= put
        assert pipeline.feed(f"{stem}/archive/2026-09.xml") is None
    pages = walk(pipeline, "feed/emnews.xml")
    assert [key.rsplit("/", 1)[1] for key, _ in pages] == ["2026-11.xml", "2026-10.xml"]
    assert [len(entry_ids(page, rss=False)) for _, page in pages] == [1, 1]


def test_a_delete_updates_the_page_that_held_the_post(pipeline: LocalPipeline, writes: Writes) -> None:
    upload(pipeline, "2026-10-10-a", "2026-10-10 09:00:00 +0800", "甲")
    upload(pipeline, "2026-10-11-b", "2026-10-11 09:00:00 +0800", "乙")
    pipeline.settle()
    writes.reset()
    pipeline.delete("_posts/2026-10-11-b.md")
    pipeline.settle()
    put, deleted = writes.reset()
    assert deleted == set()
    assert put - {"index.html", "feeds.opml"} == set().union(
        *(subscription(stem, "all") | archive_page(stem, "2026-10") for stem in FEEDS)
    )
    # AND with one post left the subscription document holds the whole feed: complete, no archive link
    feed = etree.fromstring(pipeline.feed("feed.xml"), PARSER)
    assert is_complete(feed, rss=False)
    assert walk(pipeline, "feed.xml") == []
    page = etree.fromstring(pipeline.feed("feed/archive/2026-10.xml"), PARSER)
    assert is_complete(page, rss=False)
    assert [i.rsplit("/", 1)[1] for i in entry_ids(page, rss=False)] == ["a"]
    # AND deleting the last post removes the page and the subscription document's prev-archive link
    pipeline.delete("_posts/2026-10-10-a.md")
    pipeline.settle()
    assert walk(pipeline, "feed.xml") == []
    assert pipeline.feed("feed/archive/2026-10.xml") is None
    assert feedparser.parse(pipeline.feed("feed.xml")).bozo == 0


def test_a_month_splits_into_days_past_the_bound_and_merges_back(
    pipeline: LocalPipeline, writes: Writes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive_rules, "PAGE_ENTRIES", 2)
    upload(pipeline, "2026-10-10-a", "2026-10-10 09:00:00 +0800", "甲")
    upload(pipeline, "2026-10-11-b", "2026-10-11 09:00:00 +0800", "乙")
    upload(pipeline, "2026-09-11-x", "2026-09-11 09:00:00 +0800", "九月")
    pipeline.settle()
    assert [k.rsplit("/", 1)[1] for k, _ in walk(pipeline, "feed/emnews.xml")] == ["2026-10.xml", "2026-09.xml"]
    writes.reset()
    # WHEN a third October post passes the bound
    upload(pipeline, "2026-10-12-c", "2026-10-12 09:00:00 +0800", "丙")
    pipeline.settle()
    put, deleted = writes.reset()
    # THEN October is paged by day; the month page is deleted; September now links the first day
    names = [k.rsplit("/", 1)[1] for k, _ in walk(pipeline, "feed/emnews.xml")]
    assert names == ["2026-10-12.xml", "2026-10-11.xml", "2026-10-10.xml", "2026-09.xml"]
    assert archive_page("feed/emnews", "2026-10") <= deleted
    assert archive_page("feed/emnews", "2026-09") <= put
    # WHEN one October post goes, the month fits again: its days merge back into one page
    pipeline.delete("_posts/2026-10-11-b.md")
    pipeline.settle()
    names = [k.rsplit("/", 1)[1] for k, _ in walk(pipeline, "feed/emnews.xml")]
    assert names == ["2026-10.xml", "2026-09.xml"]
    assert pipeline.feed("feed/emnews/archive/2026-10-12.xml") is None
    for key in pipeline.feed_keys():
        if key.endswith((".xml", ".rss")):
            assert feedparser.parse(pipeline.feed(key)).bozo == 0, key


def test_the_lease_covers_the_archive_pages(pipeline: LocalPipeline) -> None:
    """A rebuild that cannot take the feed's lease publishes nothing, archive pages included."""
    from postfeed.models import FeedRef
    from postfeed.pipeline.ingest import current_site
    from postfeed.pipeline.rebuild import rebuild_feed
    from postfeed.store.table import LeaseBusyError
    from tests.functional.test_pipeline_failures import feeds_bucket, pipeline_settings

    upload(pipeline, "2026-10-10-a", "2026-10-10 09:00:00 +0800", "甲")
    pipeline.settle()
    site, _ = current_site(pipeline_settings(pipeline), pipeline.table)
    ref = FeedRef.category("emnews")
    pipeline.table.acquire_lease(ref, "other", seconds=60)
    before = {key: pipeline.feed(key) for key in pipeline.feed_keys()}
    with pytest.raises(LeaseBusyError):
        rebuild_feed(
            ref,
            site=site,
            table=pipeline.table,
            feeds=feeds_bucket(pipeline),
            lease_seconds=60,
            instants=["2026-10-10T01:00:00Z"],
        )
    assert {key: pipeline.feed(key) for key in pipeline.feed_keys()} == before
