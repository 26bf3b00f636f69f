"""The whole-site renderer (postfeed_tools.local.sitefeeds), pure: each feed's archive pages planned from scratch and
linked, its subscription documents and page, the discovery documents; the same bytes whatever the order of
the posts and the number of processes. (That they are the pipeline's bytes: tests/functional/test_build.py.)"""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta

from postfeed.feeds.archive_pages import plan_feed
from postfeed.models import FeedRef, FeedSettings, Post, Site, feeds_of
from postfeed.store.items import encode_entry, member_line, member_sk
from postfeed.store.table import PostWrite
from postfeed_tools.local.sitefeeds import (
    ArchivePage,
    FeedFront,
    StoredPost,
    feed_members,
    plan_feed_documents,
    render_site,
    stored_post,
)
from tests.unit.feeds.support import CST, make_post, make_site

FH = "{http://purl.org/syndication/history/1.0}"
ATOM = "{http://www.w3.org/2005/Atom}"


def stored(post: Post, site: Site) -> StoredPost:
    """The post as the ingest function writes it (entry, sort key, archive line, feeds), read back."""
    feeds = feeds_of(post, site.feed)
    entry, chunks = encode_entry(post, feeds)
    sort_key = member_sk(post)
    item = {"state": "published", "entry": entry, "member_sk": sort_key}
    write = PostWrite(
        key=post.path,
        item=item,
        expected_version=None,
        chunks=chunks,
        add_members=[(ref, sort_key) for ref in feeds],
        member_line=member_line(post),
    )
    found = stored_post(write)
    assert found is not None
    return found


def site_with(limit: int) -> Site:
    return make_site(feed=FeedSettings(posts_limit=limit))


def posts(count: int, *, hours: int = 1) -> list[Post]:
    start = datetime(2022, 3, 1, 8, 0, 0, tzinfo=CST)
    return [make_post(n, date=start + timedelta(hours=hours * n)) for n in range(count)]


def by_key(
    site: Site,
    found: list[StoredPost],
    *,
    page_entries: int | None = None,
    workers: int = 1,
    site_stylesheet: bytes | None = None,
) -> dict[str, bytes]:
    rendered = render_site(site, found, page_entries=page_entries, workers=workers, site_stylesheet=site_stylesheet)
    return {document.key: document.body for document in rendered.documents}


def links(body: bytes) -> dict[str, str]:
    from lxml import etree  # type: ignore[import-untyped]

    root = etree.fromstring(body)
    return {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}


def test_a_write_that_publishes_nothing_stores_no_post() -> None:
    write = PostWrite(key="_posts/x.md", item={"state": "skipped"}, expected_version=None)
    assert stored_post(write) is None


def test_archive_pages_show_the_lines_and_a_post_without_one_its_entry() -> None:
    site = site_with(10)
    post = stored(make_post(1), site)
    assert post.line.content_html == ""
    assert post.entry.content_html == make_post(1).content_html
    huge = stored(make_post(2, title="长" * 5_000), site)  # over an archive line's 4 KB
    assert huge.line is huge.entry


def test_each_feed_is_its_members_in_sort_key_order() -> None:
    site = site_with(10)
    found = [stored(post, site) for post in posts(4)]
    members = feed_members(reversed(found))
    assert set(members) == {FeedRef.site(), FeedRef.category("news"), FeedRef.tag("南昌日报新闻")}
    assert all(feed == found for feed in members.values())


def test_pages_are_planned_from_scratch_and_linked_to_their_neighbours() -> None:
    # GIVEN 5 posts of one month, 3 a page at most: the month splits into days
    site = site_with(2)
    found = [stored(post, site) for post in posts(5, hours=24)]
    jobs = plan_feed_documents(FeedRef.site(), found, site, page_entries=3)
    pages = [job for job in jobs if isinstance(job, ArchivePage)]
    (front,) = [job for job in jobs if isinstance(job, FeedFront)]
    # THEN the pages are the plan of every sort key, each linked to the next older and newer one
    plan = plan_feed([post.sort_key for post in found], 3)
    assert [page.page for page in pages] == sorted(plan)
    assert [(page.prev_page, page.next_page) for page in pages] == [
        (None, "2022-03-02"),
        ("2022-03-01", "2022-03-03"),
        ("2022-03-02", "2022-03-04"),
        ("2022-03-03", "2022-03-05"),
        ("2022-03-04", None),
    ]
    # AND the front shows the newest two, newest first, and is not the whole feed
    assert [post.title for post in front.posts] == ["Post 4", "Post 3"]
    assert (front.newest_page, front.complete) == ("2022-03-05", False)


def test_the_site_renders_every_document_of_every_feed_and_the_discovery_documents() -> None:
    site = site_with(2)
    found = [stored(post, site) for post in posts(5, hours=24)]
    documents = by_key(site, found, page_entries=3, site_stylesheet=b"<xsl/>")
    for stem in ("feed", "feed/news", "feed/by_tag/南昌日报新闻"):
        assert {f"{stem}.xml", f"{stem}.rss", f"{stem}.json", f"{stem}.html"} <= set(documents)
        assert {f"{stem}/archive/2022-03-0{day}.xml" for day in range(1, 6)} <= set(documents)
    assert {"feed.xsl", "feeds.opml", "index.html"} <= set(documents)
    assert documents["feed.xslt.xml"] == b"<xsl/>"
    assert links(documents["feed.xml"])["prev-archive"].endswith("/feed/archive/2022-03-05.xml")
    middle = links(documents["feed/news/archive/2022-03-03.xml"])
    assert middle["prev-archive"].endswith("/feed/news/archive/2022-03-02.xml")
    assert middle["next-archive"].endswith("/feed/news/archive/2022-03-04.xml")
    assert "feed.xslt.xml" not in by_key(site, found, page_entries=3)


def test_a_feed_within_its_posts_limit_is_complete_and_so_is_its_lone_page() -> None:
    from lxml import etree

    site = site_with(10)
    documents = by_key(site, [stored(post, site) for post in posts(3)])
    front, page = etree.fromstring(documents["feed.xml"]), etree.fromstring(documents["feed/archive/2022-03.xml"])
    assert front.find(f"{FH}complete") is not None
    assert "prev-archive" not in links(documents["feed.xml"])
    assert page.find(f"{FH}complete") is not None
    assert page.find(f"{FH}archive") is not None
    assert len(front.findall(f"{ATOM}entry")) == 3
    assert front.find(f"{ATOM}entry/{ATOM}content") is not None
    assert page.find(f"{ATOM}entry/{ATOM}content") is None, "archive entries are excerpts"


def test_the_same_bytes_whatever_the_order_of_the_posts_and_the_processes() -> None:
    site = dataclasses.replace(site_with(3), title="Same bytes")
    found = [stored(post, site) for post in posts(40, hours=5)]
    expected = by_key(site, found, page_entries=4)
    shuffled = found[:]
    random.Random(7).shuffle(shuffled)
    assert by_key(site, shuffled, page_entries=4, workers=2) == expected
