"""Discovery documents at the feeds root: ``index.html`` (every feed, with autodiscovery links) and
``feeds.opml`` (OPML 2.0 subscription list), and the XSLT stylesheet that shows a feed in a browser.

Pure: no I/O. Input is the feeds registry (one :class:`ListedFeed` per feed); same input, same bytes.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import quote

from lxml import etree  # type: ignore[import-untyped]  # no lxml-stubs pinned

from postfeed.feeds.atom_rss import rfc822
from postfeed.feeds.channel import feed_title, language_tag
from postfeed.feeds.content import clean_line
from postfeed.feeds.paths import OPML_KEY, STYLESHEET_KEY, URI_SAFE, FeedFormat, feed_page_url, feed_url, root_url
from postfeed.models import FeedKind, FeedRef, Site

__all__ = (
    "INDEX_MEDIA_TYPE",
    "MAX_HEAD_LINKS",
    "OPML_MEDIA_TYPE",
    "STYLESHEET_MEDIA_TYPE",
    "ListedFeed",
    "render_index",
    "render_opml",
    "stylesheet",
)

INDEX_MEDIA_TYPE = "text/html; charset=utf-8"
OPML_MEDIA_TYPE = "text/x-opml; charset=utf-8"
# Chromium, Firefox and Safari all load an XSLT stylesheet served as XML.
STYLESHEET_MEDIA_TYPE = "application/xslt+xml; charset=utf-8"
# Autodiscovery links in the index's <head>: the site feed, then the largest category and tag feeds up to this
# many (a site with thousands of tags would otherwise put megabytes in the head; the body lists every feed).
MAX_HEAD_LINKS = 50
_KIND_ORDER = {FeedKind.SITE: 0, FeedKind.CATEGORY: 1, FeedKind.TAG: 2}
_SECTIONS = ((FeedKind.SITE, "Site"), (FeedKind.CATEGORY, "Categories"), (FeedKind.TAG, "Tags"))


@dataclass(frozen=True, slots=True)
class ListedFeed:
    """One feed as the registry knows it: which feed, how many entries in all, its newest entry's date."""

    ref: FeedRef
    entries: int
    updated: datetime | None = None


def _ordered(feeds: Sequence[ListedFeed]) -> list[ListedFeed]:
    listed = [feed for feed in feeds if feed.entries > 0]
    return sorted(listed, key=lambda feed: (_KIND_ORDER[feed.ref.kind], feed.ref.name))


def _site_title(site: Site) -> str:
    return feed_title(FeedRef.site(), site)


def _lang(site: Site) -> str | None:
    """The page's `lang`: the site's language as a BCP 47 tag, or none when the site declares none."""
    return language_tag(site.lang)


def _entries_text(count: int) -> str:
    return f"{count:,} entr{'y' if count == 1 else 'ies'}"


def render_index(feeds: Sequence[ListedFeed], site: Site) -> bytes:
    """``index.html``: every feed with entries (site, categories, tags), its title linking its HTML page, entry
    count and the URL of each format; ``<link rel="alternate">`` autodiscovery in the head. HTML5, UTF-8, no
    script."""
    listed = _ordered(feeds)
    esc = html.escape
    title = f"{_site_title(site)} — feeds"
    head_feeds = [f for f in listed if f.ref.kind is FeedKind.SITE]
    others = sorted((f for f in listed if f.ref.kind is not FeedKind.SITE), key=lambda f: (-f.entries, f.ref))
    head_feeds += others[:MAX_HEAD_LINKS]
    lines = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(lang)}">' if (lang := _lang(site)) else "<html>",
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
    ]
    for feed in head_feeds:
        formats = tuple(FeedFormat) if feed.ref.kind is FeedKind.SITE else (FeedFormat.ATOM,)
        for fmt in formats:
            media = fmt.media_type.partition(";")[0]
            lines.append(
                f'<link rel="alternate" type="{media}" title="{esc(feed_title(feed.ref, site))}"'
                f' href="{esc(feed_url(feed.ref, fmt, site))}">'
            )
    lines += [
        f'<link rel="outline" type="text/x-opml" title="OPML" href="{esc(root_url(site))}/{OPML_KEY}">',
        "<style>",
        "body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#222}",
        "li{margin:.4rem 0}.count{color:#666}.formats a{margin-right:.6rem;font-size:.9em}",
        "</style>",
        "</head>",
        "<body>",
        f"<h1>{esc(title)}</h1>",
        "<p>Read a feed by its title, subscribe to it in your feed reader with its Atom, RSS or JSON link, or import"
        f' them all: <a href="{OPML_KEY}">{OPML_KEY}</a> (OPML).</p>',
    ]
    for kind, heading in _SECTIONS:
        section = [feed for feed in listed if feed.ref.kind is kind]
        if not section:
            continue
        lines += [f'<section id="{kind.value}">', f"<h2>{heading} ({len(section):,})</h2>", "<ul>"]
        for feed in section:
            urls = {fmt: feed_url(feed.ref, fmt, site) for fmt in FeedFormat}
            links = " ".join(
                f'<a href="{esc(urls[fmt])}" type="{fmt.media_type.partition(";")[0]}">{label}</a>'
                for fmt, label in ((FeedFormat.ATOM, "Atom"), (FeedFormat.RSS, "RSS"), (FeedFormat.JSON, "JSON"))
            )
            # The title opens the feed's HTML page (feeds.page), readable in any browser, with or without XSLT.
            lines.append(
                f'<li><a href="{esc(feed_page_url(feed.ref, site))}" type="text/html">'
                f"{esc(feed_title(feed.ref, site))}</a>"
                f' <span class="count">({_entries_text(feed.entries)})</span>'
                f' <span class="formats">{links}</span></li>'
            )
        lines += ["</ul>", "</section>"]
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines).encode("utf-8")


def render_opml(feeds: Sequence[ListedFeed], site: Site) -> bytes:
    """``feeds.opml``: an OPML 2.0 subscription list, one ``type="rss"`` outline per feed (its Atom URL)
    grouped under Site, Categories and Tags. ``dateModified`` is the newest entry's date, never "now"."""
    listed = _ordered(feeds)
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = f"{_site_title(site)} — feeds"
    newest = max((feed.updated for feed in listed if feed.updated is not None), default=None)
    if newest is not None:
        etree.SubElement(head, "dateModified").text = rfc822(newest)
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(root, "body")
    home = _uri(site.root_url) + "/"
    for kind, heading in _SECTIONS:
        section = [feed for feed in listed if feed.ref.kind is kind]
        if not section:
            continue
        group = etree.SubElement(body, "outline", text=heading, title=heading)
        for feed in section:
            name = feed_title(feed.ref, site)
            etree.SubElement(
                group,
                "outline",
                type="rss",
                text=name,
                title=name,
                xmlUrl=feed_url(feed.ref, FeedFormat.ATOM, site),
                htmlUrl=home,
                description=_entries_text(feed.entries),
            )
    if not len(body):
        # OPML 2.0: a body holds one or more outlines.
        etree.SubElement(body, "outline", text="No feeds yet")
    body_bytes: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)
    return body_bytes


def _uri(url: str) -> str:
    return quote(clean_line(url), safe=URI_SAFE)


@cache
def stylesheet() -> bytes:
    """``feed.xsl``: shows an Atom or RSS document (subscription or archive) as a readable page."""
    return (Path(__file__).with_name(STYLESHEET_KEY)).read_bytes()
