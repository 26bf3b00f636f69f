"""Text taken from HTML reaches readers escaped exactly once: summaries (Jekyll's `excerpt_text` keeps its
entities), the site's description and the names in feed titles (markup dropped, as jekyll-feed's `strip_html`),
and an entry whose excerpt has no text still has some (archive pages show no content)."""

from __future__ import annotations

import html

import feedparser
import pytest

from postfeed.feeds import render_feed
from postfeed.feeds.archive_pages import render_archive_page
from postfeed.feeds.content import html_text
from postfeed.jekyll import load_site, parse_post
from postfeed.models import FeedRef, FeedSettings, Post
from postfeed.store.items import member_line, post_from_line
from tests.conftest import CORPUS
from tests.unit.feeds.support import NS, json_doc, make_post, make_site, xml_root

# What Jekyll's strip_html leaves of `<p>Jekyll meet &amp; greet, 精度满足&lt;1%</p>`: entities as written.
STRIPPED = "Jekyll meet &amp; greet, 精度满足&lt;1%"
PLAIN = "Jekyll meet & greet, 精度满足<1%"


@pytest.mark.parametrize(
    ("fragment", "text"),
    [
        (STRIPPED, PLAIN),
        ("<p>a <b>bold</b>\n move</p>", "a bold move"),
        ("written as &amp;lt;b&amp;gt;", "written as &lt;b&gt;"),  # decoded once, not twice
        ("AT&T &copy; 2022", "AT&T © 2022"),
        ("<script>alert(1)</script>safe", "safe"),
    ],
)
def test_html_text_drops_tags_and_decodes_references_once(fragment: str, text: str) -> None:
    assert html_text(fragment) == text


def test_a_summary_with_entities_is_escaped_once_in_every_format() -> None:
    # GIVEN a post whose excerpt text (as Jekyll strips it) still holds `&amp;` and `&lt;`
    post = make_post(1, excerpt_html=f"<p>{STRIPPED}</p>", excerpt_text=STRIPPED)
    atom, rss, jsonf = render_feed(FeedRef.site(), [post], make_site())
    # THEN Atom's text summary holds the plain text, and a reader gets it back exactly
    assert xml_root(atom).findtext("a:entry/a:summary", namespaces=NS) == PLAIN
    assert feedparser.parse(atom.body).entries[0].summary == PLAIN
    assert b"&amp;amp;" not in atom.body
    # AND RSS's description (HTML by convention) is that text HTML-escaped once: shown as the plain text
    description = xml_root(rss).findtext("channel/item/description")
    assert description == html.escape(PLAIN, quote=False)
    entry = feedparser.parse(rss.body).entries[0]
    assert entry.summary_detail.type == "text/html"
    assert html.unescape(entry.summary) == PLAIN
    assert b"&amp;amp;amp;" not in rss.body
    # AND JSON Feed's summary is the plain text
    assert json_doc(jsonf)["items"][0]["summary"] == PLAIN


def test_the_corpus_post_with_a_bare_less_than_reads_back_as_written() -> None:
    # GIVEN finews' post whose Markdown says `精度满足<1%`
    root = CORPUS / "finews"
    site = load_site((root / "_config.yml").read_bytes())
    name = "_posts/2021-12-08-202112082206796814.md"
    post = parse_post(name, (root / name).read_bytes(), site)
    assert isinstance(post, Post)
    atom, rss, jsonf = render_feed(FeedRef.site(), [post], site)
    # THEN every format shows `<1%`, never `&lt;1%`
    assert "精度满足<1%" in feedparser.parse(atom.body).entries[0].summary
    assert "精度满足<1%" in html.unescape(feedparser.parse(rss.body).entries[0].summary)
    assert "精度满足<1%" in json_doc(jsonf)["items"][0]["summary"]
    assert "精度满足<1%" in xml_root(atom).findtext("a:entry/a:summary", namespaces=NS)
    description = xml_root(rss).findtext("channel/item/description")
    assert "精度满足&lt;1%" in description  # HTML, escaped once
    assert "&amp;lt;" not in description


HOSTILE_TITLE = "News</title><script>alert(1)</script>"
HOSTILE_DESCRIPTION = '<img src=x onerror="alert(1)">Tips &amp; <b>tricks</b>'


def test_channel_text_is_plain_text_in_every_format() -> None:
    # GIVEN a site whose title and description hold markup, and a tag name that does too
    site = make_site(title=HOSTILE_TITLE, description=HOSTILE_DESCRIPTION)
    ref = FeedRef.tag("<i>港股</i>")
    atom, rss, jsonf = render_feed(ref, [make_post(1, tags=("<i>港股</i>",))], site)
    # THEN the markup is gone and the entities are decoded, once
    atom_root, channel = xml_root(atom), xml_root(rss).find("channel")
    assert atom_root.findtext("a:subtitle", namespaces=NS) == "Tips & tricks"
    assert channel.findtext("description") == "Tips & tricks"
    assert json_doc(jsonf)["description"] == "Tips & tricks"
    for title in (atom_root.findtext("a:title", namespaces=NS), channel.findtext("title"), json_doc(jsonf)["title"]):
        assert title.startswith("News")
        assert "港股" in title
        assert "<" not in title
    # AND nothing that a reader could run survives, escaped or not
    for doc in (atom, rss, jsonf):
        text = doc.body.decode()
        assert "<script" not in text
        assert "alert(" not in text
        assert "onerror" not in text


def test_rss_description_falls_back_to_the_plain_title() -> None:
    site = make_site(title=HOSTILE_TITLE, description="<p> </p>")
    _, rss, jsonf = render_feed(FeedRef.site(), [make_post(1)], site)
    assert xml_root(rss).findtext("channel/description") == "News"
    assert "description" not in json_doc(jsonf)


def test_an_archive_page_carries_the_plain_description() -> None:
    site = make_site(description=HOSTILE_DESCRIPTION)
    atom, rss = render_archive_page(FeedRef.site(), "2022-03", [make_post(1)], site, prev_page=None, next_page=None)
    assert xml_root(atom).findtext("a:subtitle", namespaces=NS) == "Tips & tricks"
    assert xml_root(rss).findtext("channel/description") == "Tips & tricks"


IMAGE_ONLY = make_post(
    7,
    excerpt_html='<p><img src="/img/sticker.png" alt="Sticker"></p>',
    excerpt_text="",
    content_html='<p><img src="/img/sticker.png"></p>\n<p>Stickers &amp; more are <em>out</em>.</p>',
)


def test_an_excerpt_only_entry_without_excerpt_text_shows_the_start_of_the_post() -> None:
    # GIVEN an excerpt-only site and a post whose excerpt is a lone image
    site = make_site(feed=FeedSettings(excerpt_only=True))
    atom, rss, jsonf = render_feed(FeedRef.site(), [IMAGE_ONLY], site)
    # THEN each format still has text for the entry: the post's own, plain
    assert xml_root(atom).findtext("a:entry/a:summary", namespaces=NS) == "Stickers & more are out."
    assert xml_root(rss).findtext("channel/item/description") == "Stickers &amp; more are out."
    assert json_doc(jsonf)["items"][0]["content_text"] == "Stickers & more are out."


def test_an_entry_with_content_keeps_an_empty_excerpt_empty() -> None:
    (atom, _, _) = render_feed(FeedRef.site(), [IMAGE_ONLY], make_site())
    entry = xml_root(atom).find("a:entry", NS)
    assert entry.find("a:summary", NS) is None
    assert entry.find("a:content", NS) is not None


def test_an_archive_page_entry_from_its_archive_line_has_text() -> None:
    # GIVEN the archive line the table keeps for the image-only post (no content: a page renders from it)
    post = post_from_line(member_line(IMAGE_ONLY) or {})
    atom, rss = render_archive_page(FeedRef.site(), "2022-03", [post], make_site(), prev_page=None, next_page=None)
    # THEN the page's entry has a summary (RFC 4287: an entry without content should have one)
    assert xml_root(atom).findtext("a:entry/a:summary", namespaces=NS) == "Stickers & more are out."
    assert xml_root(atom).find("a:entry/a:content", NS) is None
    assert xml_root(rss).findtext("channel/item/description") == "Stickers &amp; more are out."


def test_rss_item_text_that_looks_like_markup_stays_text() -> None:
    post = make_post(1, excerpt_text="use &lt;script&gt; tags &amp; more")
    _, rss, _ = render_feed(FeedRef.site(), [post], make_site())
    description = xml_root(rss).findtext("channel/item/description")
    assert description == "use &lt;script&gt; tags &amp; more"  # HTML that shows `use <script> tags & more`
