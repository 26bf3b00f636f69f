"""A site without an absolute `url` (a real _config.yml may leave it empty): links and images in the feeds keep
their targets, relative to the site's root, as jekyll-feed leaves them; unsafe schemes are still dropped."""

from __future__ import annotations

import pytest
from lxml import html  # type: ignore[import-untyped]

from postfeed.feeds import render_feed
from postfeed.feeds.content import MEDIA_SCHEMES, absolutize_url, relative_links_note, sanitize_html
from postfeed.models import FeedRef
from tests.unit.feeds.support import NS, json_doc, make_post, make_site, xml_root

POST_URL = "/news/2022/03/02/post-1.html"


@pytest.mark.parametrize(
    ("url", "resolved"),
    [
        ("img/a.png", "/news/2022/03/02/img/a.png"),
        ("./a.png", "/news/2022/03/02/a.png"),
        ("../other.html", "/news/2022/03/other.html"),
        ("/about/", "/about/"),
        ("#notes", "/news/2022/03/02/post-1.html#notes"),
        ("https://example.org/x", "https://example.org/x"),
        ("//cdn.example.org/x.png", "https://cdn.example.org/x.png"),
        ("mailto:editor@example.org", "mailto:editor@example.org"),
    ],
)
def test_without_an_absolute_base_a_link_keeps_its_target(url: str, resolved: str) -> None:
    assert absolutize_url(url, POST_URL) == resolved


@pytest.mark.parametrize("url", ["javascript:alert(1)", "java\tscript:alert(1)", "vbscript:x", "data:text/html,x"])
def test_without_an_absolute_base_unsafe_schemes_are_still_dropped(url: str) -> None:
    assert absolutize_url(url, POST_URL) is None
    assert absolutize_url(url, POST_URL, MEDIA_SCHEMES) is None


def test_with_an_absolute_base_a_relative_link_becomes_absolute() -> None:
    assert absolutize_url("img/a.png", "https://news.example.org" + POST_URL) == (
        "https://news.example.org/news/2022/03/02/img/a.png"
    )
    assert absolutize_url("mailto:x@example.org", "https://news.example.org/", MEDIA_SCHEMES) is None


def test_sanitized_content_keeps_relative_links_and_sources() -> None:
    fragment = (
        '<p><a href="../other.html">other</a> <img src="img/1.png" srcset="img/1.png 1x, img/2.png 2x, data:x 3x">'
        ' <a href="javascript:alert(1)">bad</a></p>'
    )
    (paragraph,) = html.fragments_fromstring(sanitize_html(fragment, POST_URL))
    assert paragraph.xpath("//a/@href") == ["/news/2022/03/other.html"]  # the javascript: link lost its href
    assert paragraph.xpath("//img/@src") == ["/news/2022/03/02/img/1.png"]
    assert paragraph.xpath("//img/@srcset") == ["/news/2022/03/02/img/1.png 1x, /news/2022/03/02/img/2.png 2x"]


def test_feeds_of_a_site_without_url_keep_every_link_and_image() -> None:
    # GIVEN a site whose _config.yml leaves `url` empty, so the post's own URL is relative
    site = make_site(url="")
    post = make_post(1, absolute_url=POST_URL)
    atom, rss, jsonf = render_feed(FeedRef.site(), [post], site)
    # THEN the content of each format still links its page and shows its image
    for content in (
        xml_root(atom).findtext("a:entry/a:content", namespaces=NS),
        xml_root(rss).findtext("channel/item/content:encoded", namespaces=NS),
        json_doc(jsonf)["items"][0]["content_html"],
    ):
        (paragraph,) = html.fragments_fromstring(content)
        assert paragraph.xpath("//a/@href") == ["/news/2022/03/other.html"]
        assert paragraph.xpath("//img/@src") == ["/news/2022/03/02/img/1.png"]


def test_the_note_says_why_links_are_relative_only_when_they_are() -> None:
    note = relative_links_note("")
    assert note is not None
    assert "url" in note
    assert "relative" in note
    assert relative_links_note("/blog") is not None  # a path is no base for a reader either
    assert relative_links_note("https://news.example.org") is None
