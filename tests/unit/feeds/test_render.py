"""render_feed: selection, order, determinism, and documents every reader accepts."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postfeed.feeds import EMPTY_FEED_UPDATED, FeedDocument, FeedFormat, feed_key, feed_title, feed_url, render_feed
from postfeed.models import Author, FeedRef, FeedSettings, Site
from tests.unit.feeds.support import (
    CST,
    NS,
    by_format,
    check_atom,
    check_feedparser,
    check_json,
    check_rss,
    make_post,
    make_site,
)

REFS = [FeedRef.site(), FeedRef.category("news"), FeedRef.tag("南昌日报新闻")]


def check_all(ref: FeedRef, docs: tuple[FeedDocument, FeedDocument, FeedDocument], site: Site) -> None:
    atom, rss, jsonf = docs
    check_atom(atom, feed_url(ref, FeedFormat.ATOM, site))
    check_rss(rss, feed_url(ref, FeedFormat.RSS, site))
    check_json(jsonf, feed_url(ref, FeedFormat.JSON, site))


@pytest.mark.parametrize("ref", REFS)
def test_documents_have_keys_formats_and_media_types(ref: FeedRef) -> None:
    site = make_site()
    docs = render_feed(ref, [make_post(1), make_post(2)], site)
    assert [doc.format for doc in docs] == [FeedFormat.ATOM, FeedFormat.RSS, FeedFormat.JSON]
    assert [doc.key for doc in docs] == [feed_key(ref, fmt, site) for fmt in FeedFormat]
    assert [doc.media_type for doc in docs] == [fmt.media_type for fmt in FeedFormat]
    check_all(ref, docs, site)


def test_rendering_is_byte_identical_and_order_independent() -> None:
    site = make_site()
    posts = [make_post(n) for n in range(1, 13)]
    first = render_feed(FeedRef.site(), posts, site)
    again = render_feed(FeedRef.site(), list(reversed(posts)), site)
    assert [doc.body for doc in first] == [doc.body for doc in again]


def test_newest_first_then_id_desc_and_limited() -> None:
    site = make_site(feed=FeedSettings(posts_limit=3))
    same_time = datetime(2022, 5, 1, 12, 0, tzinfo=CST)
    posts = [
        make_post(1),
        make_post(2, date=same_time, slug="a"),
        make_post(3, date=same_time, slug="c"),
        make_post(4, date=same_time, slug="b"),
        make_post(5, date=datetime(2022, 4, 30, 23, 0, tzinfo=UTC)),  # 2022-05-01 07:00 +08:00
    ]
    atom, rss, jsonf = render_feed(FeedRef.site(), posts, site)
    expected = ["Post 3", "Post 4", "Post 2"]
    check_feedparser(atom, expected)
    check_feedparser(rss, expected)
    assert [item["title"] for item in check_json(jsonf, feed_url(FeedRef.site(), FeedFormat.JSON, site))["items"]] == (
        expected
    )


def test_duplicate_ids_appear_once() -> None:
    site = make_site()
    post = make_post(1)
    atom, _, _ = render_feed(FeedRef.site(), [post, post], site)
    check_feedparser(atom, ["Post 1"])


def test_empty_feed_is_valid_and_dated_with_a_constant() -> None:
    site = make_site()
    for ref in REFS:
        docs = render_feed(ref, [], site)
        check_all(ref, docs, site)
        atom, rss, _jsonf = by_format(docs).values()
        check_feedparser(atom, [])
        check_feedparser(rss, [])
        root = check_atom(atom, feed_url(ref, FeedFormat.ATOM, site))
        assert root.findtext("a:updated", namespaces=NS) == EMPTY_FEED_UPDATED.astimezone(site.tz).isoformat()
        assert root.findtext("a:updated", namespaces=NS) == "2000-01-01T08:00:00+08:00"
        assert docs == render_feed(ref, [], site)


def test_feed_updated_is_the_newest_entry_time_never_now() -> None:
    site = make_site()
    edited = make_post(1, updated=datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC))
    atom, rss, _jsonf = render_feed(FeedRef.site(), [edited, make_post(2)], site)
    root = check_atom(atom, feed_url(FeedRef.site(), FeedFormat.ATOM, site))
    assert root.findtext("a:updated", namespaces=NS) == "2023-01-02T11:04:05+08:00"
    rss_root = check_rss(rss, feed_url(FeedRef.site(), FeedFormat.RSS, site))
    assert rss_root.findtext("channel/lastBuildDate") == "Mon, 02 Jan 2023 11:04:05 +0800"


def test_feed_titles() -> None:
    site = make_site()
    assert feed_title(FeedRef.site(), site) == "Example News"
    assert feed_title(FeedRef.category("news"), site) == "Example News | News"
    assert feed_title(FeedRef.tag("南昌日报新闻"), site) == "Example News | #南昌日报新闻"
    assert feed_title(FeedRef.tag("a\x00\u202e b"), site) == "Example News | #a\u202e b"
    assert feed_title(FeedRef.site(), make_site(title="")) == "news.example.org"


def test_feedparser_round_trip() -> None:
    site = make_site(author=None)
    post = make_post(
        7,
        title="携手共奋进 & <一起> 向未来",
        updated=datetime(2022, 3, 12, 1, 2, 3, tzinfo=UTC),
        categories=("nanchangribao",),
        tags=("南昌日报新闻", "nanchangribao"),
        author=Author("记者", email="reporter@example.org"),
    )
    atom, rss, _jsonf = render_feed(FeedRef.category("nanchangribao"), [post], site)
    for doc in (atom, rss):
        # jekyll-feed's `strip_html`: `<一起>` reads as a tag and goes, as in Jekyll.
        parsed = check_feedparser(doc, ["携手共奋进 & 向未来"])
        (entry,) = parsed.entries
        assert entry.link == post.absolute_url
        assert entry.id == "https://news.example.org" + post.id
        assert [tag.term for tag in entry.tags] == ["nanchangribao", "南昌日报新闻"]
        published = entry.published_parsed
        assert calendar.timegm(published) == int(post.date.timestamp())
        assert entry.published.endswith(("+08:00", "+0800"))
        assert 'href="https://news.example.org/news/2022/03/other.html"' in entry.content[0].value
        assert "Body 7" in entry.summary
        assert parsed.feed.title == "Example News | Nanchangribao"
        # Atom's text/html alternate is the feed's page; RSS's channel link stays the website
        page = "https://news.example.org/feed/nanchangribao.html"
        assert parsed.feed.link == (page if doc is atom else "https://news.example.org/")
        assert parsed.feed.language == "zh-CN"
    parsed_atom = check_feedparser(atom, ["携手共奋进 & 向未来"])
    assert parsed_atom.entries[0].updated == "2022-03-12T09:02:03+08:00"
    assert parsed_atom.entries[0].author_detail.name == "记者"
    assert parsed_atom.entries[0].author_detail.email == "reporter@example.org"
    assert parsed_atom.feed.author == "Example News"  # no site author: the site's name stands in
    parsed_rss = check_feedparser(rss, ["携手共奋进 & 向未来"])
    assert parsed_rss.entries[0].author == "reporter@example.org (记者)"


def test_excerpt_only_omits_content() -> None:
    site = make_site(feed=FeedSettings(excerpt_only=True))
    atom, rss, jsonf = render_feed(FeedRef.site(), [make_post(1)], site)
    root = check_atom(atom, feed_url(FeedRef.site(), FeedFormat.ATOM, site))
    assert root.xpath("//a:content", namespaces=NS) == []
    assert root.xpath("//a:summary/text()", namespaces=NS) == ["Body 1"]
    rss_root = check_rss(rss, feed_url(FeedRef.site(), FeedFormat.RSS, site))
    assert rss_root.xpath("//content:encoded", namespaces=NS) == []
    assert rss_root.xpath("//item/description/text()") == ["Body 1"]
    (item,) = check_json(jsonf, feed_url(FeedRef.site(), FeedFormat.JSON, site))["items"]
    assert "content_html" not in item
    assert item["content_text"] == "Body 1"


def test_dates_are_in_the_site_zone() -> None:
    site = make_site(timezone="America/Los_Angeles")
    post = make_post(1, date=datetime(2022, 7, 1, 12, 0, tzinfo=UTC))
    atom, rss, jsonf = render_feed(FeedRef.site(), [post], site)
    root = check_atom(atom, feed_url(FeedRef.site(), FeedFormat.ATOM, site))
    assert root.xpath("//a:entry/a:published/text()", namespaces=NS) == ["2022-07-01T05:00:00-07:00"]
    rss_root = check_rss(rss, feed_url(FeedRef.site(), FeedFormat.RSS, site))
    assert rss_root.xpath("//item/pubDate/text()") == ["Fri, 01 Jul 2022 05:00:00 -0700"]
    (item,) = check_json(jsonf, feed_url(FeedRef.site(), FeedFormat.JSON, site))["items"]
    assert item["date_published"] == "2022-07-01T05:00:00-07:00"


def test_hostile_post_renders_safely() -> None:
    site = make_site()
    post = make_post(
        1,
        title="Bad \x00title]]> <script>alert(1)</script>\x1b",
        content_html=(
            '<p onclick="x()">a]]>b\x00c</p><script>alert(1)</script><img src="x.png" onerror="alert(1)">'
            '<a href="javascript:alert(1)">j</a><a href="data:text/html,x">d</a><iframe src="//evil"></iframe>'
            + "<div>" * 10_000
            + "deep"
            + "</div>" * 10_000
        ),
        excerpt_text="sum\x00mary ]]> <b>",
        categories=("cat\x00\u200b",),
        tags=("",),
        author=Author("Name\x07", email="not an email", uri="javascript:alert(1)"),
    )
    started = datetime.now(UTC)
    docs = render_feed(FeedRef.site(), [post], site)
    assert datetime.now(UTC) - started < timedelta(seconds=10)
    check_all(FeedRef.site(), docs, site)
    atom, rss, _jsonf = docs
    for doc in docs:
        assert b"\x00" not in doc.body
        assert b"\x1b" not in doc.body
        assert b"\x07" not in doc.body
        assert b"javascript:" not in doc.body
        assert b"onerror" not in doc.body
        assert b"data:text" not in doc.body
    check_feedparser(atom, ["Bad title]]>"])  # markup stripped from titles, script and all (jekyll-feed)
    rss_root = check_rss(rss, feed_url(FeedRef.site(), FeedFormat.RSS, site))
    assert rss_root.xpath("//item/author") == []
    assert rss_root.xpath("//item/dc:creator/text()", namespaces=NS) == ["Name"]
    assert rss_root.xpath("//item/category/text()") == ["cat\u200b"]


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(max_size=40),
    body=st.text(max_size=200),
    name=st.text(max_size=20),
    author=st.text(max_size=20),
)
def test_any_text_gives_valid_documents(title: str, body: str, name: str, author: str) -> None:
    site = make_site()
    post = make_post(1, title=title, content_html=body, excerpt_text=body, categories=(name,), author=Author(author))
    for ref in (FeedRef.site(), FeedRef.category(name), FeedRef.tag(name)):
        docs = render_feed(ref, [post], site)
        check_all(ref, docs, site)
        assert docs == render_feed(ref, [post], site)
