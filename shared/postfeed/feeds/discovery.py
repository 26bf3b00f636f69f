"""Discovery documents: ``index.html`` and ``feeds.opml`` at the feeds root, the *shelves* they lead to, and the
XSLT stylesheet that shows a feed in a browser (design and cost argument: ``docs/discovery.md``).

Pure: no I/O. Input is the set of listed feeds (every feed with entries); same set, same bytes, whatever order
the feeds came and went in. Nothing volatile is shown (no entry counts, no dates), so a new post changes none of
these documents: only a feed appearing or disappearing does, and then only the shelf that holds it.

Shelves: each section (site, categories, tags) is in *listing order* (`listing_key`, by name), cut after every
feed whose name hashes to a multiple of `SHELF_SPAN` (content-defined: a feed's cut depends on that feed
alone). A shelf is a run of feeds ending at a cut, or the run after the section's last cut; a run longer than
twice `SHELF_SPAN` is split at denser cuts (the same rule, smaller divisors), so a shelf stays bounded. A section of one
shelf is listed in full on the root documents; a larger one gets a page and an OPML file per shelf, linked from
the root by its first and last feed. Adding or removing a feed rewrites its own shelf (others of its run when
it is a cut or moves the run across twice `SHELF_SPAN`), and the root only when a shelf appears, disappears or
changes its first or last feed.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lxml import etree  # type: ignore[import-untyped]  # no lxml-stubs pinned

from postfeed.feeds.channel import feed_title, language_tag
from postfeed.feeds.content import clean_line
from postfeed.feeds.paths import (
    INDEX_KEY,
    OPML_KEY,
    STYLESHEET_KEY,
    URI_SAFE,
    FeedFormat,
    feed_page_url,
    feed_url,
    key_segment,
    root_url,
    url_path,
)
from postfeed.models import POSTS, FeedKind, FeedRef, Site

__all__ = (
    "INDEX_MEDIA_TYPE",
    "MAX_HEAD_LINKS",
    "OPML_MEDIA_TYPE",
    "SHELF_FOLDER",
    "SHELF_SPAN",
    "STYLESHEET_MEDIA_TYPE",
    "SectionView",
    "Shelf",
    "ShelfSummary",
    "discovery_documents",
    "is_cut",
    "listing_key",
    "plan_section",
    "plan_shelves",
    "render_index",
    "render_opml",
    "root_documents",
    "section_end",
    "section_start",
    "sections_of",
    "shelf_documents",
    "shelf_key",
    "stylesheet",
)

INDEX_MEDIA_TYPE = "text/html; charset=utf-8"
OPML_MEDIA_TYPE = "text/x-opml; charset=utf-8"
# Chromium, Firefox and Safari all load an XSLT stylesheet served as XML.
STYLESHEET_MEDIA_TYPE = "application/xslt+xml; charset=utf-8"
# Autodiscovery links in a page's <head>: the site feed, then the listed category and tag feeds up to this many
# (a shelf of many feeds would otherwise put a long run of links in every head; the body lists them all).
MAX_HEAD_LINKS = 50
# Expected feeds per run: a feed is a cut with probability 1/SHELF_SPAN (read at call time: tests lower it). A run
# longer than twice that is split again at the feeds of a denser cut (1/2, then 1/8 of it, then every feed), so no
# shelf holds more than 2 * SHELF_SPAN feeds.
SHELF_SPAN = 64
_DENSER = (1, 2, 8)  # SHELF_SPAN is divided by these at levels 0, 1 and 2; at level 3 every feed is a cut
# Shelf documents: index/<section>/<shelf>.html and .opml (beside no feed: feeds live under feed/ or the site path).
SHELF_FOLDER = "index"
_SECTIONS = (
    (FeedKind.SITE, "Site", "site"),
    (FeedKind.CATEGORY, "Categories", "categories"),
    (FeedKind.TAG, "Tags", "tags"),
)
_DIGIT = {FeedKind.SITE: "0", FeedKind.CATEGORY: "1", FeedKind.TAG: "2"}
_NAME_BYTES = 300  # of a name in its listing key (DynamoDB sort keys hold 1,024 bytes); a digest follows
_END_SLUG = "~end"  # the run after a section's last cut; key_segment never makes it ("~" + 16 hex digits)


# -- listing order and shelves ---------------------------------------------------------------------------------


def _digest(ref: FeedRef) -> str:
    identity = f"{ref.kind.value}\x1f{ref.collection}\x1f{ref.name}"
    return hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()


def listing_key(ref: FeedRef) -> str:
    """Where a feed sorts in the lists: its section's digit, `#`, its name (cut to 300 bytes), then a digest that
    tells apart names equal in those bytes or in other collections. String order (code points, which is also
    DynamoDB's UTF-8 byte order) of these keys is the listing order."""
    name = ref.name.encode("utf-8", "surrogatepass")[:_NAME_BYTES].decode("utf-8", "ignore")
    return f"{_DIGIT[ref.kind]}#{name}\x1f{_digest(ref)[:16]}"


def section_start(kind: FeedKind) -> str:
    """Below every listing key of the section."""
    return f"{_DIGIT[kind]}#"


def section_end(kind: FeedKind) -> str:
    """Above every listing key of the section (`$` follows `#`) and below the next section's: the key of the
    shelf after the section's last cut."""
    return f"{_DIGIT[kind]}$"


def is_cut(ref: FeedRef, level: int = 0) -> bool:
    """Whether a run ends at this feed (level 0), or a long run is split after it (levels 1 to 3, each denser and
    holding the cuts of the levels before): decided by the feed alone, so a feed coming or going moves no other
    cut."""
    if level >= len(_DENSER):
        return True
    return int(_digest(ref)[16:24], 16) % max(1, SHELF_SPAN // _DENSER[level]) == 0


@dataclass(frozen=True, slots=True)
class Shelf:
    """A run of listed feeds of one section, in listing order. `key` is the listing key of its last feed, a cut,
    or `section_end` for the run after the section's last cut: it stays while feeds come and go inside."""

    section: FeedKind
    key: str
    feeds: tuple[FeedRef, ...]


@dataclass(frozen=True, slots=True)
class ShelfSummary:
    """What the root shows of a shelf: a link labelled with its first and last feed."""

    section: FeedKind
    key: str
    first: FeedRef
    last: FeedRef


@dataclass(frozen=True, slots=True)
class SectionView:
    """One section of the root documents: its feeds in full (a one-shelf section), or its shelves."""

    kind: FeedKind
    feeds: tuple[FeedRef, ...] = ()
    shelves: tuple[ShelfSummary, ...] = ()


def plan_section(kind: FeedKind, feeds: Iterable[FeedRef]) -> list[Shelf]:
    """The shelves of consecutive feeds of one section (a whole section, or its feeds between two level-0 cuts):
    runs end after each cut; a run longer than 2 * SHELF_SPAN is split at the next level's cuts, and so on. A
    shelf is keyed by its last feed, or `section_end(kind)` for the run after the section's last cut."""
    ordered = sorted(feeds, key=listing_key)
    shelves: list[Shelf] = []
    for run in _runs(ordered, 0):
        for part in _split(run, 0):
            last_of_section = part[-1] is run[-1] and not is_cut(run[-1])
            key = section_end(kind) if last_of_section else listing_key(part[-1])
            shelves.append(Shelf(kind, key, tuple(part)))
    return shelves


def _runs(feeds: Sequence[FeedRef], level: int) -> list[list[FeedRef]]:
    runs: list[list[FeedRef]] = [[]]
    for ref in feeds:
        runs[-1].append(ref)
        if is_cut(ref, level):
            runs.append([])
    return [run for run in runs if run]


def _split(run: list[FeedRef], level: int) -> list[list[FeedRef]]:
    if len(run) <= 2 * max(1, SHELF_SPAN) or level >= len(_DENSER):
        return [run]
    return [part for sub in _runs(run, level + 1) for part in _split(sub, level + 1)]


def plan_shelves(feeds: Iterable[FeedRef]) -> list[Shelf]:
    """Every shelf of these listed feeds, sections in order (site, categories, tags)."""
    by_kind: dict[FeedKind, list[FeedRef]] = {}
    for ref in set(feeds):
        by_kind.setdefault(ref.kind, []).append(ref)
    return [shelf for kind, _, _ in _SECTIONS for shelf in plan_section(kind, by_kind.get(kind, ()))]


def sections_of(shelves: Sequence[Shelf]) -> list[SectionView]:
    """What the root documents show of these shelves (all of them, in order): each non-empty section in full
    when it is one shelf, else one summary per shelf."""
    views = []
    for kind, _, _ in _SECTIONS:
        own = [shelf for shelf in shelves if shelf.section is kind and shelf.feeds]
        if len(own) == 1:
            views.append(SectionView(kind, feeds=own[0].feeds))
        elif own:
            summaries = tuple(ShelfSummary(kind, s.key, s.feeds[0], s.feeds[-1]) for s in own)
            views.append(SectionView(kind, shelves=summaries))
    return views


def shelf_key(section: FeedKind, key: str, last: FeedRef | None, extension: str) -> str:
    """Bucket key of a shelf's page (`.html`) or OPML file (`.opml`): ``index/<section>/<last feed>.html``, named
    after its cut feed (``key_segment``: one safe segment), or ``~end`` for the run after the last cut."""
    folder = next(folder for kind, _, folder in _SECTIONS if kind is section)
    if key == section_end(section) or last is None:
        slug = _END_SLUG
    else:
        slug = key_segment(last.name)
        if last.collection != POSTS:  # `@` is in no key_segment, so these never meet the posts' feeds
            slug += "@" + key_segment(last.collection)
    return f"{SHELF_FOLDER}/{folder}/{slug}{extension}"


def _shelf_url(summary: ShelfSummary, extension: str, site: Site) -> str:
    return f"{root_url(site)}/{url_path(shelf_key(summary.section, summary.key, summary.last, extension))}"


# -- documents ------------------------------------------------------------------------------------------------


def discovery_documents(feeds: Iterable[FeedRef], site: Site) -> list[tuple[str, bytes, str]]:
    """Every discovery document of these listed feeds as (key, body, media type): ``feed.xsl``, ``feeds.opml``,
    ``index.html``, then each shelf's page and OPML file (sections of more than one shelf). What the feed
    function's incremental updates arrive at; `postfeed build` publishes these directly."""
    shelves = plan_shelves(feeds)
    sections = sections_of(shelves)
    documents = [(STYLESHEET_KEY, stylesheet(), STYLESHEET_MEDIA_TYPE), *root_documents(sections, site)]
    shelved = {view.kind for view in sections if view.shelves}
    for shelf in shelves:
        if shelf.section in shelved:
            documents += shelf_documents(shelf, site)
    return documents


def root_documents(sections: Sequence[SectionView], site: Site) -> list[tuple[str, bytes, str]]:
    """``feeds.opml`` and ``index.html`` of these sections."""
    return [
        (OPML_KEY, render_opml(sections, site), OPML_MEDIA_TYPE),
        (INDEX_KEY, render_index(sections, site), INDEX_MEDIA_TYPE),
    ]


def shelf_documents(shelf: Shelf, site: Site) -> list[tuple[str, bytes, str]]:
    """A shelf's page and OPML file."""
    last = shelf.feeds[-1] if shelf.feeds else None
    return [
        (shelf_key(shelf.section, shelf.key, last, ".opml"), _render_shelf_opml(shelf, site), OPML_MEDIA_TYPE),
        (shelf_key(shelf.section, shelf.key, last, ".html"), _render_shelf_page(shelf, site), INDEX_MEDIA_TYPE),
    ]


def _site_title(site: Site) -> str:
    return feed_title(FeedRef.site(), site)


def _name(ref: FeedRef, site: Site) -> str:
    """A feed's title without the site's name in front (`Emnews`, `#港股`): how a shelf is labelled."""
    title = feed_title(ref, site)
    return title.removeprefix(_site_title(site) + " | ") if ref.kind is not FeedKind.SITE else title


def _label(summary: ShelfSummary, site: Site) -> str:
    first, last = _name(summary.first, site), _name(summary.last, site)
    return first if summary.first == summary.last else f"{first} – {last}"


def _heading(kind: FeedKind) -> str:
    return next(heading for k, heading, _ in _SECTIONS if k is kind)


_CSS = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "li{margin:.4rem 0}.formats a{margin-right:.6rem;font-size:.9em}"
)


def _head(title: str, head_feeds: Sequence[FeedRef], opml_url: str, site: Site) -> list[str]:
    esc = html.escape
    lines = [
        "<!DOCTYPE html>",
        f'<html lang="{esc(lang)}">' if (lang := language_tag(site.lang)) else "<html>",
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
    ]
    others = [ref for ref in head_feeds if ref.kind is not FeedKind.SITE]
    linked = [ref for ref in head_feeds if ref.kind is FeedKind.SITE] + others[:MAX_HEAD_LINKS]
    for ref in linked:
        for fmt in tuple(FeedFormat) if ref.kind is FeedKind.SITE else (FeedFormat.ATOM,):
            lines.append(
                f'<link rel="alternate" type="{fmt.media_type.partition(";")[0]}" title="{esc(feed_title(ref, site))}"'
                f' href="{esc(feed_url(ref, fmt, site))}">'
            )
    lines += [
        f'<link rel="outline" type="text/x-opml" title="OPML" href="{esc(opml_url)}">',
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
    ]
    return lines


def _feed_items(feeds: Sequence[FeedRef], site: Site) -> list[str]:
    esc = html.escape
    lines = ["<ul>"]
    for ref in feeds:
        links = " ".join(
            f'<a href="{esc(feed_url(ref, fmt, site))}" type="{fmt.media_type.partition(";")[0]}">{label}</a>'
            for fmt, label in ((FeedFormat.ATOM, "Atom"), (FeedFormat.RSS, "RSS"), (FeedFormat.JSON, "JSON"))
        )
        # The title opens the feed's HTML page (feeds.page), readable in any browser, with or without XSLT.
        lines.append(
            f'<li><a href="{esc(feed_page_url(ref, site))}" type="text/html">{esc(feed_title(ref, site))}</a>'
            f' <span class="formats">{links}</span></li>'
        )
    return [*lines, "</ul>"]


def render_index(sections: Sequence[SectionView], site: Site) -> bytes:
    """``index.html``: each section's feeds (title linking the feed's HTML page, and the URL of each format), or
    for a large section one link per shelf; ``<link rel="alternate">`` autodiscovery in the head for the site
    feed and the feeds listed here. HTML5, UTF-8, no script."""
    esc = html.escape
    title = f"{_site_title(site)} — feeds"
    shown = [ref for view in sections for ref in view.feeds]
    lines = _head(title, shown, f"{root_url(site)}/{OPML_KEY}", site)
    lines += [
        f"<h1>{esc(title)}</h1>",
        "<p>Read a feed by its title, subscribe to it in your feed reader with its Atom, RSS or JSON link, or import"
        f' them: <a href="{OPML_KEY}">{OPML_KEY}</a> (OPML).</p>',
    ]
    for view in sections:
        lines += [f'<section id="{view.kind.value}">']
        if view.feeds:
            lines += [f"<h2>{_heading(view.kind)} ({len(view.feeds):,})</h2>", *_feed_items(view.feeds, site)]
        else:
            lines += [f"<h2>{_heading(view.kind)}</h2>", '<ul class="shelves">']
            for summary in view.shelves:
                opml = _shelf_url(summary, ".opml", site)
                lines.append(
                    f'<li><a href="{esc(_shelf_url(summary, ".html", site))}" type="text/html">'
                    f"{esc(_label(summary, site))}</a>"
                    f' <span class="formats"><a href="{esc(opml)}" type="text/x-opml">OPML</a></span></li>'
                )
            lines += ["</ul>"]
        lines += ["</section>"]
    lines += ["</body>", "</html>", ""]
    return "\n".join(lines).encode("utf-8")


def _render_shelf_page(shelf: Shelf, site: Site) -> bytes:
    """A shelf's page: its feeds as the root lists a small section's, and a link back to the root."""
    esc = html.escape
    summary = ShelfSummary(shelf.section, shelf.key, shelf.feeds[0], shelf.feeds[-1])
    label = f"{_heading(shelf.section)}: {_label(summary, site)}"
    title = f"{_site_title(site)} — feeds — {label}"
    lines = _head(title, shelf.feeds, _shelf_url(summary, ".opml", site), site)
    lines += [
        f"<h1>{esc(label)}</h1>",
        f'<p><a href="{esc(root_url(site))}/{INDEX_KEY}">← {esc(_site_title(site))} — feeds</a>'
        f' · <a href="{esc(_shelf_url(summary, ".opml", site))}">OPML</a></p>',
        f'<section id="{shelf.section.value}">',
        *_feed_items(shelf.feeds, site),
        "</section>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def _opml(title: str) -> tuple[Any, Any]:
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    return root, etree.SubElement(root, "body")


def _subscriptions(group: Any, feeds: Sequence[FeedRef], site: Site) -> None:
    home = _uri(site.root_url) + "/"
    for ref in feeds:
        name = feed_title(ref, site)
        etree.SubElement(
            group,
            "outline",
            type="rss",
            text=name,
            title=name,
            xmlUrl=feed_url(ref, FeedFormat.ATOM, site),
            htmlUrl=home,
        )


def _serialise(root: Any, body: Any) -> bytes:
    if not len(body):
        # OPML 2.0: a body holds one or more outlines.
        etree.SubElement(body, "outline", text="No feeds yet")
    serialised: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)
    return serialised


def render_opml(sections: Sequence[SectionView], site: Site) -> bytes:
    """``feeds.opml``: an OPML 2.0 subscription list grouped under Site, Categories and Tags: one ``type="rss"``
    outline per feed (its Atom URL), or for a large section one ``type="include"`` outline per shelf (OPML 2.0
    inclusion of the shelf's own list). No dates: it changes only when the listed feeds do."""
    root, body = _opml(f"{_site_title(site)} — feeds")
    for view in sections:
        heading = _heading(view.kind)
        group = etree.SubElement(body, "outline", text=heading, title=heading)
        _subscriptions(group, view.feeds, site)
        for summary in view.shelves:
            label = f"{heading}: {_label(summary, site)}"
            etree.SubElement(group, "outline", type="include", text=label, url=_shelf_url(summary, ".opml", site))
    return _serialise(root, body)


def _render_shelf_opml(shelf: Shelf, site: Site) -> bytes:
    summary = ShelfSummary(shelf.section, shelf.key, shelf.feeds[0], shelf.feeds[-1])
    label = f"{_heading(shelf.section)}: {_label(summary, site)}"
    root, body = _opml(f"{_site_title(site)} — feeds — {label}")
    _subscriptions(etree.SubElement(body, "outline", text=label, title=label), shelf.feeds, site)
    return _serialise(root, body)


def _uri(url: str) -> str:
    return quote(clean_line(url), safe=URI_SAFE)


@cache
def stylesheet() -> bytes:
    """``feed.xsl``: shows an Atom or RSS document (subscription or archive) as a readable page."""
    return (Path(__file__).with_name(STYLESHEET_KEY)).read_bytes()
