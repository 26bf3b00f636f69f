"""Atom 1.0 and RSS 2.0 documents of a :class:`Channel`, built with feedgen and then corrected.

feedgen 1.0.0 gets most things right; what this module adds or fixes on its lxml tree:

* feed-level ``updated``/``lastBuildDate`` come from the entries (feedgen would stamp ``now()``);
* RSS dates are written here with a 4-digit year, independent of the process locale (feedgen
  switches the process-wide locale to format them);
* entry ``<link>`` gets its ``rel="alternate"`` and ``type`` (feedgen 1.0.0 drops both);
* RSS ``<atom:link rel="hub">`` (feedgen only copies the ``self`` link into RSS);
* RSS ``<description>`` of an item holds the summary as HTML (it is HTML by convention, and the W3C
  validator parses it as HTML): the plain text HTML-escaped once, so a ``<`` in plain text is never read as
  markup; HTML content goes to ``<content:encoded>``, escaped, never CDATA;
* ``<dc:creator>`` carries an author's name when there is no valid email for RSS ``<author>``;
* RFC 5005 links (``prev-archive``, ``next-archive``, ``current``), ``<fh:archive/>`` and ``<fh:complete/>``
  (RSS: Appendix B, as ``<atom:link>``), and the ``<?xml-stylesheet?>`` that lets a browser show the feed as a page.
"""

from __future__ import annotations

import html
from datetime import datetime
from email.utils import format_datetime

from feedgen.feed import FeedGenerator
from lxml import etree  # type: ignore[import-untyped]  # no lxml-stubs pinned

from postfeed.feeds.channel import GENERATOR, GENERATOR_URI, Channel, Entry, History, Person, language_tag
from postfeed.feeds.paths import FeedFormat

__all__ = ("render_atom", "render_rss", "rfc822", "rfc3339")

ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005 feed history
MEDIA_NS = "http://search.yahoo.com/mrss/"  # Media RSS: jekyll-feed's entry image
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=True)
_HTML = "text/html"


def rfc3339(moment: datetime) -> str:
    """RFC 3339 timestamp with the moment's own offset (``2022-03-11T08:14:43+08:00``)."""
    return moment.isoformat()


def rfc822(moment: datetime) -> str:
    """RFC 822 (RFC 2822) timestamp with a 4-digit year and numeric offset, locale-independent."""
    return format_datetime(moment)


def _person_dict(person: Person) -> dict[str, str]:
    fields = {"name": person.name, "email": person.email, "uri": person.uri}
    return {key: value for key, value in fields.items() if value}


def _generator(channel: Channel, fmt: FeedFormat) -> FeedGenerator:
    fg = FeedGenerator()
    if fmt is FeedFormat.RSS:
        fg.load_extension("dc", atom=False, rss=True)
    fg.id(channel.atom_id)
    fg.title(channel.title)
    fg.updated(channel.updated)
    fg.lastBuildDate(channel.updated)
    fg.generator(GENERATOR, version=channel.generator_version or None, uri=GENERATOR_URI)
    fg.author(_person_dict(channel.author))
    if channel.subtitle:
        fg.subtitle(channel.subtitle)  # feedgen's description() would set the Atom subtitle too
    if fmt is FeedFormat.RSS:
        fg.description(channel.description)
    # Atom's xml:lang as the site declares it (jekyll-feed); RSS <language> must be a language tag.
    language = channel.language if fmt is FeedFormat.ATOM else language_tag(channel.language)
    if language:
        fg.language(language)
    if fmt is FeedFormat.ATOM:
        if channel.icon:
            fg.icon(channel.icon)
        if channel.logo:
            fg.logo(channel.logo)
    elif channel.logo:
        fg.image(url=channel.logo, title=channel.title, link=channel.home_url)
    fg.link(href=channel.urls[fmt], rel="self", type=fmt.media_type.partition(";")[0])
    if channel.hub:
        fg.link(href=channel.hub, rel="hub")
    if fmt is FeedFormat.ATOM and channel.page_url:
        # RFC 4287 allows one text/html alternate: the feed's own page, which links the site; the site is related.
        fg.link(href=channel.page_url, rel="alternate", type=_HTML)
        fg.link(href=channel.home_url, rel="related", type=_HTML)
    else:
        # Last: feedgen takes the RSS <link> (the website, as RSS means it) from the last feed link set.
        fg.link(href=channel.home_url, rel="alternate", type=_HTML)
    for entry in channel.entries:
        _add_entry(fg, entry, fmt)
    return fg


def _add_entry(fg: FeedGenerator, entry: Entry, fmt: FeedFormat) -> None:
    fe = fg.add_entry(order="append")
    fe.guid(entry.id, permalink=entry.id == entry.link)
    fe.title(entry.title)
    fe.link(href=entry.link, rel="alternate", type=_HTML)
    fe.published(entry.published)
    fe.updated(entry.updated)
    fe.author(_person_dict(entry.author))
    if fmt is FeedFormat.RSS and not entry.author.email:
        fe.dc.dc_creator(entry.author.name)
    if entry.terms:
        fe.category([{"term": term} for term in entry.terms])
    if fmt is FeedFormat.ATOM:
        if entry.summary:
            fe.summary(entry.summary)
        if entry.content_html is not None:
            fe.content(entry.content_html, type="html")
    else:
        if entry.summary:
            fe.description(html.escape(entry.summary, quote=False))
        if entry.content_html is not None:
            fe.content(entry.content_html)


def _serialize(root: etree._Element, channel: Channel) -> bytes:
    if channel.stylesheet:
        # The href is a percent-encoded path (no quotes, no `<`, no `&`): safe in the pseudo-attribute.
        root.addprevious(etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href="{channel.stylesheet}"'))
    body: bytes = etree.tostring(root.getroottree(), encoding="UTF-8", xml_declaration=True, pretty_print=True)
    return body


def _history_links(history: History | None, media_type: str) -> list[tuple[str, str, str | None]]:
    if history is None:
        return []
    links = [
        ("current", history.current, media_type),
        ("prev-archive", history.prev_archive, media_type),
        ("next-archive", history.next_archive, media_type),
    ]
    return [(rel, href, kind) for rel, href, kind in links if href]


def _add_history(
    root: etree._Element, parent: etree._Element, history: History | None, media_type: str
) -> etree._Element:
    """RFC 5005 links after the parent's last feed-level link, then ``<fh:archive/>`` for an archive document
    and ``<fh:complete/>`` for one that holds the whole feed.

    Returns the root, rebuilt if ``fh`` had to be declared on it (lxml cannot add a prefix to an element)."""
    anchor = parent.findall(f"{{{ATOM_NS}}}link")[-1]
    for rel, href, kind in _history_links(history, media_type):
        link = etree.Element(f"{{{ATOM_NS}}}link", rel=rel, href=href)
        if kind:
            link.set("type", kind)
        anchor.addnext(link)
        anchor = link
    if history is None:
        return root
    marks = [name for name, on in (("archive", history.archive), ("complete", history.complete)) if on]
    for name in marks:
        mark = etree.Element(f"{{{FH_NS}}}{name}")
        anchor.addnext(mark)
        anchor = mark
    if marks:
        etree.cleanup_namespaces(root, top_nsmap={"fh": FH_NS})
    return root


def _child(parent: etree._Element, tag: str) -> etree._Element:
    child = parent.find(tag)
    if child is None:  # pragma: no cover - feedgen always writes it
        raise RuntimeError(f"feedgen wrote no <{tag}>")
    return child


def _add_entry_extras(root: etree._Element, items: list[etree._Element], channel: Channel, atom: bool) -> None:
    """jekyll-feed's per-entry extras: the post's image (Media RSS thumbnail and content) and, in Atom, the
    post's `lang` as the entry's xml:lang; the site's language as `hreflang` of the Atom HTML links."""
    for item, entry in zip(items, channel.entries, strict=True):
        if atom:
            item.find(f"{{{ATOM_NS}}}link").set("title", entry.title)  # jekyll-feed titles the entry link
        if atom and entry.language:
            item.set(XML_LANG, entry.language)
        if entry.image:
            etree.SubElement(item, f"{{{MEDIA_NS}}}thumbnail", url=entry.image)
            etree.SubElement(item, f"{{{MEDIA_NS}}}content", medium="image", url=entry.image)
    if atom and channel.language:
        for link in root.iterfind(f"{{{ATOM_NS}}}link[@type='{_HTML}']"):
            link.set("hreflang", channel.language)
    if any(entry.image for entry in channel.entries):
        etree.cleanup_namespaces(root, top_nsmap={"media": MEDIA_NS})


def render_atom(channel: Channel) -> bytes:
    """The Atom 1.0 document (RFC 4287)."""
    root = etree.fromstring(_generator(channel, FeedFormat.ATOM).atom_str(), _PARSER)
    for link in root.iterfind(f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}link"):
        link.set("rel", "alternate")
        link.set("type", _HTML)
    _add_entry_extras(root, root.findall(f"{{{ATOM_NS}}}entry"), channel, atom=True)
    media_type = FeedFormat.ATOM.media_type.partition(";")[0]
    root = _add_history(root, root, channel.history.get(FeedFormat.ATOM), media_type)
    return _serialize(root, channel)


def render_rss(channel: Channel) -> bytes:
    """The RSS 2.0 document."""
    root = etree.fromstring(_generator(channel, FeedFormat.RSS).rss_str(), _PARSER)
    channel_elem = _child(root, "channel")
    for build_date in channel_elem.iterfind("lastBuildDate"):
        build_date.text = rfc822(channel.updated)
    for item, entry in zip(channel_elem.iterfind("item"), channel.entries, strict=True):
        for pub_date in item.iterfind("pubDate"):
            pub_date.text = rfc822(entry.published)
    _add_entry_extras(root, channel_elem.findall("item"), channel, atom=False)
    if channel.hub:
        hub = etree.Element(f"{{{ATOM_NS}}}link", href=channel.hub, rel="hub")
        _child(channel_elem, f"{{{ATOM_NS}}}link").addnext(hub)
    if channel.page_url:
        # <link> stays the website. The feed's page goes before it: parsers that read an atom:link alternate as
        # the channel link (feedparser) take the last one, which so remains <link>.
        page = etree.Element(f"{{{ATOM_NS}}}link", href=channel.page_url, rel="alternate", type=_HTML)
        _child(channel_elem, "link").addprevious(page)
    media_type = FeedFormat.RSS.media_type.partition(";")[0]
    root = _add_history(root, channel_elem, channel.history.get(FeedFormat.RSS), media_type)
    return _serialize(root, channel)
