"""Format-specific rules: Atom (RFC 4287), RSS 2.0 (+ RSS Board best practices), JSON Feed 1.1."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from postfeed.feeds import FeedFormat, feed_url, render_feed
from postfeed.models import Author, FeedRef, FeedSettings, Post
from tests.unit.feeds.support import (
    NS,
    check_atom,
    check_feedparser,
    check_json,
    check_rss,
    make_post,
    make_site,
)

HUB = "https://hub.example.net/"
TAG = FeedRef.tag("南昌日报新闻")


def _render(ref: FeedRef = TAG, posts: list[Post] | None = None, **site_overrides: Any) -> tuple[Any, Any, Any]:
    site = make_site(**site_overrides)
    atom, rss, jsonf = render_feed(ref, [make_post(1)] if posts is None else posts, site)
    return (
        check_atom(atom, feed_url(ref, FeedFormat.ATOM, site)),
        check_rss(rss, feed_url(ref, FeedFormat.RSS, site)),
        check_json(jsonf, feed_url(ref, FeedFormat.JSON, site)),
    )


# --- Atom -------------------------------------------------------------------------------------------


def test_atom_feed_metadata() -> None:
    root, _, _ = _render(feed=FeedSettings(hub=HUB))
    url = "https://news.example.org/feed/by_tag/%E5%8D%97%E6%98%8C%E6%97%A5%E6%8A%A5%E6%96%B0%E9%97%BB.xml"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN"
    assert root.findtext("a:id", namespaces=NS) == url
    assert root.findtext("a:title", namespaces=NS) == "Example News | #南昌日报新闻"
    assert root.findtext("a:subtitle", namespaces=NS) == "All the news"
    assert root.findtext("a:generator", namespaces=NS) == "postfeed"
    assert root.xpath("a:link[@rel='self']/@href", namespaces=NS) == [url]
    assert root.xpath("a:link[@rel='hub']/@href", namespaces=NS) == [HUB]
    # the feed's HTML page is its one text/html alternate (RFC 4287); the website is related
    page = "https://news.example.org/feed/by_tag/%E5%8D%97%E6%98%8C%E6%97%A5%E6%8A%A5%E6%96%B0%E9%97%BB.html"
    assert root.xpath("a:link[@rel='alternate']/@href", namespaces=NS) == [page]
    assert root.xpath("a:link[@rel='alternate']/@type", namespaces=NS) == ["text/html"]
    assert root.xpath("a:link[@rel='related']/@href", namespaces=NS) == ["https://news.example.org/"]
    assert root.xpath("a:author/a:name/text()", namespaces=NS) == ["Site Author"]


def test_atom_without_hub_or_description() -> None:
    root, _, _ = _render(description="")
    assert root.xpath("a:link[@rel='hub']", namespaces=NS) == []
    assert root.find("a:subtitle", NS) is None


def test_atom_entry() -> None:
    post = make_post(1, categories=("news", "dup"), tags=("dup", "南昌日报新闻"))
    root, _, _ = _render(posts=[post])
    (entry,) = root.findall("a:entry", NS)
    assert entry.findtext("a:id", namespaces=NS) == "https://news.example.org/news/2022/03/02/post-1"
    assert entry.xpath("a:link/@href", namespaces=NS) == ["https://news.example.org/news/2022/03/02/post-1.html"]
    assert entry.findtext("a:published", namespaces=NS) == "2022-03-02T08:00:00+08:00"
    assert entry.findtext("a:updated", namespaces=NS) == "2022-03-02T08:00:00+08:00"
    assert entry.xpath("a:category/@term", namespaces=NS) == ["news", "dup", "南昌日报新闻"]
    assert entry.findtext("a:summary", namespaces=NS) == "Body 1"
    assert entry.find("a:summary", NS).get("type") is None  # text
    content = entry.find("a:content", NS)
    assert content.get("type") == "html"
    assert content.text == (
        '<p>Body 1 <a href="https://news.example.org/news/2022/03/other.html" rel="noopener noreferrer">other</a> '
        '<img src="https://news.example.org/news/2022/03/02/img/1.png"></p>'
    )
    assert entry.xpath("a:author/a:name/text()", namespaces=NS) == ["Site Author"]


def test_entry_id_is_stable_across_edits() -> None:
    before = make_post(1)
    after = make_post(
        1,
        title="Edited title",
        content_html="<p>new</p>",
        updated=datetime(2023, 1, 1, tzinfo=UTC),
        tags=("other",),
    )
    ids = [_render(FeedRef.site(), [post])[0].xpath("//a:entry/a:id/text()", namespaces=NS) for post in (before, after)]
    assert ids[0] == ids[1]
    rss_guids = [_render(FeedRef.site(), [post])[1].xpath("//item/guid/text()") for post in (before, after)]
    assert rss_guids[0] == rss_guids[1] == ids[0]


def test_empty_title_falls_back_to_excerpt_then_date() -> None:
    long_excerpt = "长" * 100
    posts = [
        make_post(1, title="", excerpt_text="  short\n excerpt "),
        make_post(2, title=" \x00 ", excerpt_text=long_excerpt),
        make_post(3, title="", excerpt_text=""),
    ]
    root, rss, data = _render(FeedRef.site(), posts)
    titles = root.xpath("//a:entry/a:title/text()", namespaces=NS)
    assert titles == ["2022-03-04", "长" * 79 + "…", "short excerpt"]
    assert rss.xpath("//item/title/text()") == titles
    assert [item["title"] for item in data["items"]] == titles


def test_author_precedence() -> None:
    posts = [make_post(1, author=Author("Post Author", uri="https://pa.example.org/")), make_post(2)]
    root, _, _ = _render(FeedRef.site(), posts)
    assert root.xpath("//a:entry/a:author/a:name/text()", namespaces=NS) == ["Site Author", "Post Author"]
    assert root.xpath("//a:entry/a:author/a:uri/text()", namespaces=NS) == ["https://pa.example.org/"]
    root, _, data = _render(FeedRef.site(), posts, author=None, title="")
    assert root.xpath("//a:entry/a:author/a:name/text()", namespaces=NS) == ["news.example.org", "Post Author"]
    assert data["authors"] == [{"name": "news.example.org"}]


# --- RSS --------------------------------------------------------------------------------------------


def test_rss_channel() -> None:
    _, rss, _ = _render(feed=FeedSettings(hub=HUB))
    channel = rss.find("channel")
    url = "https://news.example.org/feed/by_tag/%E5%8D%97%E6%98%8C%E6%97%A5%E6%8A%A5%E6%96%B0%E9%97%BB.rss"
    assert channel.findtext("title") == "Example News | #南昌日报新闻"
    assert channel.findtext("link") == "https://news.example.org/"
    assert channel.findtext("description") == "All the news"
    assert channel.findtext("language") == "zh-CN"
    assert channel.findtext("lastBuildDate") == "Wed, 02 Mar 2022 08:00:00 +0800"
    assert channel.xpath("a:link[@rel='self']/@href", namespaces=NS) == [url]
    assert channel.xpath("a:link[@rel='hub']/@href", namespaces=NS) == [HUB]
    assert channel.xpath("a:link[@rel='alternate']/@href", namespaces=NS) == [url.removesuffix(".rss") + ".html"]
    assert channel.find("pubDate") is None


def test_rss_description_never_empty() -> None:
    _, rss, data = _render(description="  ")
    assert rss.findtext("channel/description") == "Example News | #南昌日报新闻"
    assert "description" not in data


def test_rss_item() -> None:
    post = make_post(1, excerpt_text="a < b & c", author=Author("记者", email="reporter@example.org"))
    _, rss, _ = _render(posts=[post])
    (item,) = rss.findall("channel/item")
    assert item.findtext("title") == "Post 1"
    assert item.findtext("link") == "https://news.example.org/news/2022/03/02/post-1.html"
    guid = item.find("guid")
    assert guid.get("isPermaLink") == "false"
    assert guid.text == "https://news.example.org/news/2022/03/02/post-1"
    assert item.findtext("pubDate") == "Wed, 02 Mar 2022 08:00:00 +0800"
    assert item.findtext("author") == "reporter@example.org (记者)"
    assert item.find("dc:creator", NS) is None
    assert item.findtext("description") == "a &lt; b &amp; c"  # escaped text: HTML-decoding gives the text back
    assert item.xpath("category/text()") == ["news", "南昌日报新闻"]
    assert "https://news.example.org/news/2022/03/other.html" in item.findtext("content:encoded", namespaces=NS)


def test_rss_guid_is_permalink_when_id_is_the_link() -> None:
    post = make_post(1, url="/news/a/", absolute_url="https://news.example.org/news/a", id="/news/a")
    _, rss, _ = _render(FeedRef.site(), [post])
    assert rss.xpath("//item/guid/@isPermaLink") == ["true"]


def test_rss_author_without_email_uses_dc_creator() -> None:
    _, rss, _ = _render(FeedRef.site(), [make_post(1, author=Author("Jane", email="jane at example"))])
    assert rss.xpath("//item/author") == []
    assert rss.xpath("//item/dc:creator/text()", namespaces=NS) == ["Jane"]


def test_rss_dates_have_four_digit_years() -> None:
    _, rss, _ = _render(FeedRef.site(), [make_post(1, date=datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC))])
    assert rss.xpath("//item/pubDate/text()") == ["Sat, 01 Jan 2000 07:59:59 +0800"]


# --- JSON Feed --------------------------------------------------------------------------------------


def test_json_feed_top_level() -> None:
    _, _, data = _render(feed=FeedSettings(hub=HUB))
    assert list(data) == [
        "version",
        "title",
        "home_page_url",
        "feed_url",
        "description",
        "authors",
        "language",
        "hubs",
        "items",
    ]
    assert data["feed_url"] == (
        "https://news.example.org/feed/by_tag/%E5%8D%97%E6%98%8C%E6%97%A5%E6%8A%A5%E6%96%B0%E9%97%BB.json"
    )
    assert data["home_page_url"] == "https://news.example.org/"
    assert data["hubs"] == [{"type": "WebSub", "url": HUB}]
    assert data["authors"] == [{"name": "Site Author"}]
    assert data["language"] == "zh-CN"


def test_json_feed_item() -> None:
    post = make_post(1, author=Author("记者", email="reporter@example.org"), updated=datetime(2022, 3, 3, tzinfo=UTC))
    _, _, data = _render(posts=[post])
    (item,) = data["items"]
    assert list(item) == [
        "id",
        "url",
        "title",
        "content_html",
        "summary",
        "date_published",
        "date_modified",
        "authors",
        "tags",
    ]
    assert item["id"] == "https://news.example.org/news/2022/03/02/post-1"
    assert item["url"] == "https://news.example.org/news/2022/03/02/post-1.html"
    assert item["date_published"] == "2022-03-02T08:00:00+08:00"
    assert item["date_modified"] == "2022-03-03T08:00:00+08:00"
    assert item["authors"] == [{"name": "记者", "url": "mailto:reporter@example.org"}]
    assert item["tags"] == ["news", "南昌日报新闻"]


def test_json_feed_bytes_are_utf8_without_escapes() -> None:
    site = make_site()
    _, _, jsonf = render_feed(TAG, [make_post(1)], site)
    assert "南昌日报新闻".encode() in jsonf.body
    assert b"\\u" not in jsonf.body
    assert b"null" not in jsonf.body
    assert jsonf.body.endswith(b"}\n")


def test_feedparser_reads_the_atom_and_rss_hub_and_self_links() -> None:
    site = make_site(feed=FeedSettings(hub=HUB))
    atom, rss, _ = render_feed(FeedRef.site(), [make_post(1)], site)
    for doc, url in ((atom, "https://news.example.org/feed.xml"), (rss, "https://news.example.org/feed.rss")):
        parsed = check_feedparser(doc, ["Post 1"])
        rels = {link.rel: link.href for link in parsed.feed.links}
        assert rels["self"] == url
        assert rels["hub"] == HUB
