"""A feed's HTML page (feeds.page): its key beside the Atom document, escaping, CJK, language, determinism, and
the links that lead to it (Atom alternate, RSS atom:link, the index, the XSLT view)."""

from __future__ import annotations

import dataclasses
from typing import Any

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree, html  # type: ignore[import-untyped]

from postfeed.feeds import FeedFormat, feed_key, feed_url, render_feed
from postfeed.feeds.archive_pages import render_archive_page
from postfeed.feeds.channel import Channel, Person, build_channel
from postfeed.feeds.discovery import discovery_documents, stylesheet
from postfeed.feeds.page import render_feed_page
from postfeed.feeds.paths import (
    PAGE_MEDIA_TYPE,
    ROOT_KEYS,
    archive_key,
    feed_page_key,
    feed_page_url,
)
from postfeed.feeds.render import render_feed_with_page
from postfeed.models import FeedRef, FeedSettings, Site
from tests.unit.feeds.support import NS, make_post, make_site

HOSTILE = '</title><script>alert("x")</script><img src=x onerror=alert(1)> & <b>'
EMNEWS = FeedRef.category("emnews")


def page_dom(body: bytes) -> Any:
    return html.document_fromstring(body)


def channel(ref: FeedRef = EMNEWS, posts: int = 2, **site_overrides: Any) -> Channel:
    site = make_site(**site_overrides)
    return build_channel(ref, [make_post(n) for n in range(1, posts + 1)], site)


# --- key and URL ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "path", "key"),
    [
        (FeedRef.site(), "feed.xml", "feed.html"),
        (FeedRef.site(), "atom/index.xml", "atom/index.html"),
        (FeedRef.site(), "atom", "atom.html"),  # no `.xml`: appended, as the other formats' extensions
        (FeedRef.site(), "news.html", "news.html.html"),
        (FeedRef.site(), "index.xml", "index-feed.html"),  # never the discovery page's key
        (FeedRef.site(), "../evil.xml", "feed.html"),  # an unsafe path falls back with the feed
        (EMNEWS, "feed.xml", "feed/emnews.html"),
        (FeedRef.category("by_tag"), "feed.xml", "feed/by_tag.html"),
        (FeedRef.tag("南昌日报新闻"), "feed.xml", "feed/by_tag/南昌日报新闻.html"),
        (FeedRef.tag("a/b"), "feed.xml", "feed/by_tag/a-b~c14cddc033f64b9d.html"),
    ],
)
def test_page_key_is_beside_the_atom_document(ref: FeedRef, path: str, key: str) -> None:
    site = Site(url="https://x.org", feed=FeedSettings(path=path))
    assert feed_page_key(ref, site) == key
    assert key not in {feed_key(ref, fmt, site) for fmt in FeedFormat}


def test_page_url_is_absolute_and_percent_encoded() -> None:
    site = Site(url="https://x.org", feed=FeedSettings(base_url="https://cdn.x.org/feeds/"))
    assert feed_page_url(FeedRef.tag("南昌"), site) == "https://cdn.x.org/feeds/feed/by_tag/%E5%8D%97%E6%98%8C.html"


_NAMES = st.text(max_size=12)
_SITE_PATHS = st.sampled_from(["feed.xml", "index.xml", "atom", "feed.html", "a/b.xml", "feed.json", "x.rss"])


@given(st.lists(_NAMES, unique=True, max_size=8), st.lists(_NAMES, unique=True, max_size=8), _SITE_PATHS)
def test_page_keys_never_collide_with_any_document(categories: list[str], tags: list[str], path: str) -> None:
    site = Site(url="https://x.org", feed=FeedSettings(path=path))
    refs = [FeedRef.site(), *map(FeedRef.category, categories), *map(FeedRef.tag, tags)]
    pages = [feed_page_key(ref, site) for ref in refs]
    others = {feed_key(ref, fmt, site) for ref in refs for fmt in FeedFormat} | set(ROOT_KEYS)
    others |= {archive_key(ref, "2022-03", fmt, site) for ref in refs for fmt in (FeedFormat.ATOM, FeedFormat.RSS)}
    assert len(set(pages)) == len(refs)
    assert not set(pages) & others
    assert all(page.endswith(".html") and "/archive/" not in page for page in pages)


# --- the page ---------------------------------------------------------------------------------------------


def test_page_is_a_complete_html5_document_without_script_or_external_resources() -> None:
    feed = channel()
    body = render_feed_page(feed)
    text = body.decode("utf-8")
    assert text.startswith('<!DOCTYPE html>\n<html lang="zh-CN">')
    dom = page_dom(body)
    assert dom.xpath("//head/meta/@charset") == ["utf-8"]
    assert dom.xpath("//head/meta[@name='viewport']/@content") == ["width=device-width, initial-scale=1"]
    assert dom.findtext(".//title") == feed.title
    assert dom.xpath("//script") == []
    assert dom.xpath("//head/link[@rel='stylesheet']") == []
    assert dom.xpath("//head/style")  # the CSS is inline
    # autodiscovery of every format in the head, the subscribe block in the body
    alternates = {link.get("type"): link.get("href") for link in dom.xpath("//head/link[@rel='alternate']")}
    assert alternates == {fmt.media_type.partition(";")[0]: feed.urls[fmt] for fmt in FeedFormat}
    assert dom.xpath("//head/link[@rel='canonical']/@href") == [feed.page_url]
    for fmt in FeedFormat:
        (link,) = dom.xpath(f"//section[@id='subscribe']//a[@id='subscribe-{fmt.value}']")
        assert link.get("href") == feed.urls[fmt]
        assert link.text_content() == feed.urls[fmt]
    assert dom.xpath("//a[@id='home']/@href") == [feed.home_url] == ["https://news.example.org/"]


def test_entries_show_title_link_date_author_terms_and_content() -> None:
    feed = channel()
    dom = page_dom(render_feed_page(feed))
    articles = dom.xpath("//article[@class='entry']")
    assert len(articles) == len(feed.entries) == 2
    for article, entry in zip(articles, feed.entries, strict=True):
        (link,) = article.xpath("h2/a")
        assert (link.text_content(), link.get("href")) == (entry.title, entry.link)
        assert article.xpath(".//time/@datetime") == [entry.published.isoformat()]
        assert article.findtext(".//time") == f"{entry.published:%Y-%m-%d %H:%M}"
        assert article.xpath("string(.//span[@class='author'])") == entry.author.name
        assert [li.text_content() for li in article.xpath("ul[@class='terms']/li")] == list(entry.terms)
        # the sanitised content, links absolute; its first paragraph is the excerpt, so no separate summary
        assert article.xpath("div[@class='content']//img/@src")[0].startswith("https://news.example.org/")
        assert article.xpath("p[@class='summary']") == []


def test_summary_is_shown_when_it_is_not_the_start_of_the_content() -> None:
    feed = channel(posts=1)
    entry = dataclasses.replace(feed.entries[0], summary="A separate description")
    dom = page_dom(render_feed_page(dataclasses.replace(feed, entries=(entry,))))
    assert dom.xpath("string(//p[@class='summary'])") == "A separate description"
    excerpt_only = dataclasses.replace(feed.entries[0], content_html=None)
    dom = page_dom(render_feed_page(dataclasses.replace(feed, entries=(excerpt_only,))))
    assert dom.xpath("string(//p[@class='summary'])") == "Body 1"
    assert dom.xpath("//div[@class='content']") == []


def test_hostile_text_is_escaped_everywhere_but_the_sanitised_content() -> None:
    feed = channel(posts=1)
    entry = dataclasses.replace(
        feed.entries[0],
        title=HOSTILE,
        summary=HOSTILE,
        terms=(HOSTILE,),
        author=Person(name=HOSTILE, uri='https://x.org/"onmouseover="alert(1)'),
        content_html=None,
    )
    hostile = dataclasses.replace(feed, title=HOSTILE, subtitle=HOSTILE, entries=(entry,))
    body = render_feed_page(hostile)
    lowered = body.lower()
    assert b"<script" not in lowered
    assert b"<img" not in lowered
    assert b"</title><script" not in lowered
    dom = page_dom(body)
    assert dom.findtext(".//title") == HOSTILE
    assert dom.xpath("string(//h1[@id='feed-title'])") == HOSTILE
    assert dom.xpath("string(//p[@class='about'])") == HOSTILE
    assert dom.xpath("string(//article/h2/a)") == HOSTILE
    assert dom.xpath("string(//p[@class='summary'])") == HOSTILE
    assert dom.xpath("string(//ul[@class='terms']/li)") == HOSTILE
    (author,) = dom.xpath("//span[@class='author']/a")
    assert author.text_content() == HOSTILE
    assert dict(author.attrib) == {"href": 'https://x.org/"onmouseover="alert(1)'}  # one attribute: quotes held
    assert dom.xpath("//head/link[@rel='alternate']/@title")[0] == f"{HOSTILE} (Atom)"


def test_cjk_text_and_chinese_labels_for_a_chinese_site() -> None:
    posts = [make_post(1, title="央行开展逆回购操作", categories=("央行公告",), tags=("港股",))]
    site = make_site(title="金融消息", description="财经新闻", lang="zh-CN")
    (atom, _, _), page = render_feed_with_page(FeedRef.category("央行公告"), posts, site)
    text = page.body.decode("utf-8")
    for shown in ('<html lang="zh-CN">', "金融消息", "财经新闻", "央行开展逆回购操作", "港股", "订阅", "访问网站"):
        assert shown in text, shown
    assert page.key == "feed/央行公告.html"
    assert page.media_type == PAGE_MEDIA_TYPE == "text/html; charset=utf-8"
    assert atom.key == "feed/央行公告.xml"


@pytest.mark.parametrize(
    ("lang", "attribute", "label"),
    [
        ("en", ' lang="en"', "Subscribe"),
        ("zh_TW", ' lang="zh-TW"', "訂閱"),
        ("zh-Hans-CN", ' lang="zh-Hans-CN"', "订阅"),
        ("", "", "Subscribe"),
        ('en" onload="x', "", "Subscribe"),  # not a language tag: no lang rather than a broken attribute
    ],
)
def test_language_sets_the_lang_attribute_and_labels(lang: str, attribute: str, label: str) -> None:
    text = render_feed_page(channel(lang=lang)).decode("utf-8")
    assert text.splitlines()[1] == f"<html{attribute}>"
    assert f"<h2>{label}</h2>" in text


def test_empty_feed_page_says_so_and_links_older_entries_when_archived() -> None:
    site = make_site(lang="en")
    (_, _, _), page = render_feed_with_page(EMNEWS, [], site)
    dom = page_dom(page.body)
    assert dom.xpath("string(//p[@class='empty'])") == "No entries yet."
    assert dom.xpath("//a[@id='older']") == []
    from postfeed.feeds.archive_pages import subscription_history

    history = subscription_history(EMNEWS, "2022-03", site)
    (_, _, _), page = render_feed_with_page(EMNEWS, [make_post(1)], site, history=history)
    assert page_dom(page.body).xpath("//a[@id='older']/@href") == [history[FeedFormat.ATOM].prev_archive]


def test_page_bytes_are_deterministic_and_order_independent() -> None:
    posts = [make_post(n) for n in range(1, 6)]
    site = make_site()
    first = render_feed_with_page(EMNEWS, posts, site)
    again = render_feed_with_page(EMNEWS, list(reversed(posts)), site)
    assert first == again
    assert first[0] == render_feed(EMNEWS, posts, site)  # the same three documents as render_feed


# --- links to the page ----------------------------------------------------------------------------------


def test_atom_alternate_is_the_page_and_the_site_is_related() -> None:
    site = make_site()
    atom, rss, jsonf = render_feed(EMNEWS, [make_post(1)], site)
    page, home = feed_page_url(EMNEWS, site), "https://news.example.org/"
    root = etree.fromstring(atom.body)
    # RFC 4287: at most one alternate per type and hreflang
    assert root.xpath("a:link[@rel='alternate']/@href", namespaces=NS) == [page]
    assert root.xpath("a:link[@rel='alternate']/@type", namespaces=NS) == ["text/html"]
    assert root.xpath("a:link[@rel='related']/@href", namespaces=NS) == [home]
    channel_elem = etree.fromstring(rss.body).find("channel")
    assert channel_elem.findtext("link") == home  # RSS's channel link is the website
    assert channel_elem.xpath("a:link[@rel='alternate'][@type='text/html']/@href", namespaces=NS) == [page]
    assert b'"home_page_url": "https://news.example.org/"' in jsonf.body
    # readers: Atom's link is the page, RSS's stays the website; both parse cleanly
    parsed_atom, parsed_rss = feedparser.parse(atom.body), feedparser.parse(rss.body)
    assert (parsed_atom.bozo, parsed_atom.feed.link) == (0, page)
    assert (parsed_rss.bozo, parsed_rss.feed.link) == (0, home)


def test_archive_documents_keep_the_site_as_their_alternate() -> None:
    site = make_site()
    atom, rss = render_archive_page(EMNEWS, "2022-03", [make_post(1)], site, prev_page=None, next_page=None)
    assert etree.fromstring(atom.body).xpath("a:link[@rel='alternate']/@href", namespaces=NS) == [
        "https://news.example.org/"
    ]
    assert etree.fromstring(atom.body).xpath("a:link[@rel='related']", namespaces=NS) == []
    assert etree.fromstring(rss.body).xpath("channel/a:link[@rel='alternate']", namespaces=NS) == []


def test_index_titles_link_each_feeds_page() -> None:
    site = make_site()
    listed = [FeedRef.site(), EMNEWS, FeedRef.tag("港股")]
    dom = page_dom({key: body for key, body, _ in discovery_documents(listed, site)}["index.html"])
    titles = dom.xpath("//body//li/a[1]")
    assert [a.get("href") for a in titles] == [feed_page_url(ref, site) for ref in listed]
    assert {a.get("type") for a in titles} == {"text/html"}
    formats = dom.xpath("//li/span[@class='formats']/a/@href")
    assert feed_url(EMNEWS, FeedFormat.ATOM, site) in formats


def test_xslt_view_links_the_site_and_the_page() -> None:
    site = make_site()
    atom, rss, _ = render_feed(EMNEWS, [make_post(1)], site)
    transform = etree.XSLT(etree.fromstring(stylesheet()))
    for doc in (atom, rss):
        view = transform(etree.fromstring(doc.body))
        assert view.xpath("//a[@id='feed-page']/@href") == [feed_page_url(EMNEWS, site)]
        assert view.xpath("//a[starts-with(., 'Visit the website')]/@href") == ["https://news.example.org/"]
