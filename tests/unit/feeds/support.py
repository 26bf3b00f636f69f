"""Helpers for the feed tests: hand-made posts and sites, and strict checks of rendered documents."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import feedparser
from lxml import etree, html  # type: ignore[import-untyped]

from postfeed.feeds import FeedDocument, FeedFormat
from postfeed.models import Author, FeedSettings, Post, Site

NS = {
    "a": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
CST = timezone(timedelta(hours=8))
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
RFC822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    r"\d{2}:\d{2}:\d{2} [+-]\d{4}$"
)
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def make_site(**overrides: Any) -> Site:
    feed = overrides.pop("feed", FeedSettings())
    fields: dict[str, Any] = {
        "url": "https://news.example.org",
        "title": "Example News",
        "description": "All the news",
        "lang": "zh-CN",
        "timezone": "Asia/Shanghai",
        "author": Author("Site Author"),
        "feed": feed,
    }
    fields.update(overrides)
    return Site(**fields)


def make_post(n: int = 1, **overrides: Any) -> Post:
    date = overrides.pop("date", datetime(2022, 3, 1, 8, 0, 0, tzinfo=CST) + timedelta(days=n))
    slug = overrides.pop("slug", f"post-{n}")
    url = f"/news/{date:%Y/%m/%d}/{slug}.html"
    fields: dict[str, Any] = {
        "path": f"_posts/{date:%Y-%m-%d}-{slug}.md",
        "title": f"Post {n}",
        "date": date,
        "slug": slug,
        "url": url,
        "absolute_url": "https://news.example.org" + url,
        "id": url.removesuffix(".html"),
        "categories": ("news",),
        "tags": ("南昌日报新闻",),
        "content_html": f'<p>Body {n} <a href="../other.html">other</a> <img src="img/{n}.png"></p>',
        "excerpt_html": f"<p>Body {n}</p>",
        "excerpt_text": f"Body {n}",
    }
    fields.update(overrides)
    return Post(**fields)


def by_format(docs: Sequence[FeedDocument]) -> dict[FeedFormat, FeedDocument]:
    return {doc.format: doc for doc in docs}


def xml_root(doc: FeedDocument) -> Any:
    return etree.fromstring(doc.body, _PARSER)


def json_doc(doc: FeedDocument) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(doc.body.decode("utf-8"))
    return data


def _is_absolute_http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def assert_safe_html(fragment: str) -> None:
    """No active content, and every link or source absolute http(s) (or mailto for links)."""
    assert not XML_FORBIDDEN.search(fragment)
    lowered = fragment.lower()
    for needle in ("<script", "<style", "<iframe", "<object", "<embed", "<form", "javascript:", "vbscript:"):
        assert needle not in lowered, needle
    if not fragment.strip():
        return
    for element in html.fragments_fromstring(fragment, no_leading_text=False):
        if not isinstance(element, etree._Element):
            continue
        for node in element.iter():
            if not isinstance(node.tag, str):
                continue
            for name, value in node.attrib.items():
                assert not name.lower().startswith("on"), name
                assert name != "style"
                if name in ("href", "src", "poster", "cite"):
                    scheme = urlsplit(value).scheme
                    assert scheme in ("http", "https", "mailto"), value
                    assert scheme == "mailto" or _is_absolute_http(value), value
                if name == "srcset":
                    for candidate in value.split(", "):
                        assert _is_absolute_http(candidate.split(" ")[0]), value


def check_atom(doc: FeedDocument, expected_url: str) -> Any:
    """RFC 4287's rules that a validator checks, on the parsed document; returns the root."""
    assert doc.media_type == "application/atom+xml; charset=utf-8"
    assert b"<![CDATA[" not in doc.body
    root = xml_root(doc)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"a:{name}", NS)) == 1, name
    assert RFC3339.match(root.findtext("a:updated", namespaces=NS))
    assert root.findtext("a:title", namespaces=NS).strip()
    (self_link,) = root.xpath("a:link[@rel='self']", namespaces=NS)
    assert self_link.get("href") == expected_url
    assert self_link.get("type") == "application/atom+xml"
    alternates = root.xpath("a:link[@rel='alternate']", namespaces=NS)
    assert len(alternates) == 1
    assert _is_absolute_http(alternates[0].get("href"))
    feed_has_author = bool(root.xpath("a:author/a:name[normalize-space()]", namespaces=NS))
    ids = []
    for entry in root.findall("a:entry", NS):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"a:{name}", NS)) == 1, name
        ids.append(entry.findtext("a:id", namespaces=NS))
        assert urlsplit(ids[-1]).scheme in ("https", "http", "tag")
        assert entry.findtext("a:title", namespaces=NS).strip()
        for name in ("updated", "published"):
            assert RFC3339.match(entry.findtext(f"a:{name}", namespaces=NS)), name
        links = entry.xpath("a:link[@rel='alternate']", namespaces=NS)
        assert len(links) == 1
        assert links[0].get("type") == "text/html"
        assert _is_absolute_http(links[0].get("href"))
        assert feed_has_author or entry.xpath("a:author/a:name[normalize-space()]", namespaces=NS)
        assert len(entry.findall("a:content", NS)) <= 1
        for content in entry.findall("a:content", NS):
            assert content.get("type") == "html"
            assert_safe_html(content.text or "")
        for category in entry.findall("a:category", NS):
            assert category.get("term")
    assert len(ids) == len(set(ids))
    return root


def check_rss(doc: FeedDocument, expected_url: str) -> Any:
    """RSS 2.0 spec and RSS Board best-practice rules, on the parsed document; returns the root."""
    assert doc.media_type == "application/rss+xml; charset=utf-8"
    assert b"<![CDATA[" not in doc.body
    root = xml_root(doc)
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    (channel,) = root.findall("channel")
    for name in ("title", "link", "description"):
        assert len(channel.findall(name)) == 1, name
        assert (channel.findtext(name) or "").strip(), name
    assert _is_absolute_http(channel.findtext("link"))
    (self_link,) = channel.xpath("a:link[@rel='self']", namespaces=NS)
    assert self_link.get("href") == expected_url
    assert self_link.get("type") == "application/rss+xml"
    assert RFC822.match(channel.findtext("lastBuildDate"))
    guids = []
    for item in channel.findall("item"):
        assert (item.findtext("title") or "").strip() or (item.findtext("description") or "").strip()
        assert _is_absolute_http(item.findtext("link"))
        (guid,) = item.findall("guid")
        guids.append(guid.text)
        if guid.get("isPermaLink", "true") == "true":
            assert guid.text == item.findtext("link")
        assert RFC822.match(item.findtext("pubDate"))
        for author in item.findall("author"):
            assert re.match(r"^\S+@\S+( \(.+\))?$", author.text)
        for encoded in item.findall("content:encoded", NS):
            assert_safe_html(encoded.text or "")
        for category in item.findall("category"):
            assert (category.text or "").strip()
    assert len(guids) == len(set(guids))
    return root


_JSON_ITEM_STRINGS = ("id", "url", "title", "content_html", "content_text", "summary")


def check_json(doc: FeedDocument, expected_url: str) -> dict[str, Any]:
    """JSON Feed 1.1's required fields and types; returns the parsed document."""
    assert doc.media_type == "application/feed+json; charset=utf-8"
    data = json_doc(doc)
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(data["title"], str)
    assert data["title"]
    assert data["feed_url"] == expected_url
    assert _is_absolute_http(data["home_page_url"])
    assert isinstance(data["items"], list)
    for key in ("description", "language"):
        assert isinstance(data.get(key, ""), str)
    for hub in data.get("hubs", []):
        assert isinstance(hub["type"], str)
        assert isinstance(hub["url"], str)
    for author in data.get("authors", []):
        assert isinstance(author["name"], str)
    ids = []
    for item in data["items"]:
        assert isinstance(item["id"], str)
        assert item["id"]
        ids.append(item["id"])
        for key in _JSON_ITEM_STRINGS:
            assert isinstance(item.get(key, ""), str), key
        assert "content_html" in item or "content_text" in item
        assert _is_absolute_http(item["url"])
        for key in ("date_published", "date_modified"):
            assert RFC3339.match(item[key]), key
        assert all(isinstance(tag, str) for tag in item.get("tags", []))
        assert_safe_html(item.get("content_html", ""))
        for value in item.values():
            assert not (isinstance(value, str) and XML_FORBIDDEN.search(value))
    assert len(ids) == len(set(ids))
    return data


def check_feedparser(doc: FeedDocument, titles: Iterable[str]) -> Any:
    """feedparser reads the document without complaint (bozo 0) and finds the given entry titles."""
    parsed = feedparser.parse(doc.body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert [entry.title for entry in parsed.entries] == list(titles)
    return parsed
