"""The format-neutral feed: what Atom, RSS and JSON Feed all say, computed once from posts and site.

Every text here is already XML-safe, every URL absolute (given an absolute ``site.url``) and every
date in the site's zone, so the format writers only lay it out.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from postfeed.feeds.content import clean_line, clip_text, html_text, sanitize_html
from postfeed.feeds.paths import URI_SAFE, FeedFormat, feed_page_url, feed_url, stylesheet_href
from postfeed.models import POSTS, Author, FeedKind, FeedRef, Post, Site

__all__ = ("EMPTY_FEED_UPDATED", "Channel", "Entry", "History", "Person", "build_channel", "feed_title")

# `updated` of a feed without entries: a fixed instant, so re-rendering an empty feed is byte-identical.
# (2000 rather than 1970: validators call dates before 1970 implausible, and 1970 UTC is 1969 west of it.)
EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)
FALLBACK_TITLE_CHARS = 80
TEXT_SUMMARY_CHARS = 500  # a summary taken from the post's text, when its excerpt has none
GENERATOR = "postfeed"
GENERATOR_URI = "https://github.com/postfeed/postfeed"
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")


@dataclass(frozen=True, slots=True)
class Person:
    """An author as every format can show it: a name, and an email/URI only when valid."""

    name: str
    email: str | None = None
    uri: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    id: str  # absolute URI derived from the Jekyll post id: never changes when the post is edited
    link: str  # absolute URL of the post's page
    title: str  # never empty
    published: datetime
    updated: datetime
    author: Person
    terms: tuple[str, ...]  # categories then tags, without duplicates or empty names
    summary: str  # plain text, may be empty
    content_html: str | None  # sanitised, absolute links; None when the site publishes excerpts only
    image: str | None = None  # the post's image (front matter `image`), absolute when the site has a url
    language: str | None = None  # the post's `lang`, as written


@dataclass(frozen=True, slots=True)
class History:
    """RFC 5005 (Feed Paging and Archiving) links of one document, in one format (absolute URLs).

    A subscription document has only ``prev_archive`` (the newest archive page); an archive document
    has ``archive=True``, ``current`` (the subscription document) and its neighbours. A document that holds
    every entry of the feed has ``complete=True`` (RFC 5005 §2, ``<fh:complete/>``) and no link to another
    document of the feed."""

    prev_archive: str | None = None
    next_archive: str | None = None
    current: str | None = None
    archive: bool = False
    complete: bool = False


@dataclass(frozen=True, slots=True)
class Channel:
    title: str
    description: str  # never empty (falls back to the title)
    subtitle: str | None  # the site's description, when it has one
    language: str | None
    home_url: str  # the HTML page the feed is the alternate of
    urls: dict[FeedFormat, str]  # this feed's public URL in each format
    hub: str | None
    updated: datetime
    author: Person
    entries: tuple[Entry, ...]
    # The Atom <id>: the subscription document's Atom URL, shared by the feed's archive documents.
    feed_id: str = ""
    # Root-relative URL of the XSLT stylesheet browsers use to show the document (None: no stylesheet).
    stylesheet: str | None = None
    history: Mapping[FeedFormat, History] = field(default_factory=dict)
    page_url: str | None = None  # the feed's HTML page (feeds.page): Atom's alternate, RSS's atom:link alternate
    icon: str | None = None  # `feed.icon` (Atom <icon>, JSON Feed favicon)
    logo: str | None = None  # `feed.logo` (Atom <logo>, RSS <image>, JSON Feed icon)
    generator_version: str = ""

    @property
    def atom_id(self) -> str:
        return self.feed_id or self.urls[FeedFormat.ATOM]


def _uri(url: str) -> str:
    """``url`` with every character a URI may not hold percent-encoded (existing escapes kept)."""
    return quote(clean_line(url), safe=URI_SAFE)


def plain_text(text: str) -> str:
    """An entry title as jekyll-feed shows it: `smartify | strip_html | normalize_whitespace`, as plain text."""
    from postfeed.jekyll.converters import smartify

    return html_text(smartify(clean_line(text)))


# Markup in channel-level text: elements (script and style with their content) and comments. Unlike Liquid's
# `strip_html`, a `<` that opens no tag stays (`Title <&>` is a title, as jekyll-feed shows it).
_MARKUP = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|</?[A-Za-z][^>]*>", re.DOTALL | re.IGNORECASE)


def channel_text(text: str) -> str:
    """The site's title, a category or tag name as plain text: smartified (jekyll-feed), markup removed so it
    can never arrive as live HTML in a reader that renders titles as HTML."""
    from postfeed.jekyll.converters import smartify

    return clean_line(html.unescape(_MARKUP.sub("", smartify(clean_line(text)))))


def _site_name(site: Site) -> str:
    """jekyll-feed's `site.title | default: site.name`; postfeed falls back to the host when there is neither."""
    named = channel_text(site.title) or channel_text(site.name)
    return named or urlsplit(site.root_url).hostname or site.root_url or "Feed"


def _capitalize(name: str) -> str:
    """Liquid's `capitalize` (Ruby's String#capitalize): first character upper case, the rest lower case."""
    return name[:1].upper() + name[1:].lower()


def feed_title(ref: FeedRef, site: Site) -> str:
    """jekyll-feed's titles: the site's title, then ` | Collection` for another collection and ` | Category` for a
    category (capitalised as Liquid's `capitalize`); a tag feed (postfeed's) adds ` | #tag` as written."""
    parts = [_site_name(site)]
    if ref.collection != POSTS:
        parts.append(_capitalize(channel_text(ref.collection)))
    if ref.kind is FeedKind.CATEGORY:
        parts.append(_capitalize(channel_text(ref.name)) or "(unnamed)")
    elif ref.kind is FeedKind.TAG:
        parts.append("#" + (channel_text(ref.name) or "(unnamed)"))
    return " | ".join(parts)


def _resolve_author(author: Author | None, site: Site) -> Author | None:
    """jekyll-feed's `site.data.authors[post_author] | default: post_author`: an author given by name alone is
    looked up in `_data/authors.yml`."""
    if author is None or author.email or author.uri:
        return author
    found = site.authors.get(author.name)
    return found if found is not None else author


def _person(author: Author | None, fallback: Person) -> Person:
    if author is None:
        return fallback
    email = clean_line(author.email or "")
    uri = clean_line(author.uri or "")
    valid_email = email if _EMAIL.match(email) else None
    valid_uri = _uri(uri) if urlsplit(uri).scheme.lower() in ("http", "https") else None
    name = clean_line(author.name) or valid_email
    if not name:
        return fallback
    return Person(name=name, email=valid_email, uri=valid_uri)


def language_tag(lang: str | None) -> str | None:
    """A declared language as a BCP 47 tag for RSS and JSON Feed (`en_US` -> `en-US`); None if it is not one."""
    tag = clean_line(lang or "").replace("_", "-")
    return tag if _LANGUAGE.match(tag) else None


def _in_zone(moment: datetime, site: Site) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=site.tz)
    return moment.astimezone(site.tz)


def _entry_title(post: Post, published: datetime) -> str:
    title = plain_text(post.title)
    if title:
        return title
    return clip_text(html_text(post.excerpt_text), FALLBACK_TITLE_CHARS) or published.date().isoformat()


def _image(post: Post, site: Site) -> str | None:
    """jekyll-feed's image: as written when it holds `://`, else `| absolute_url` (relative without a site url)."""
    if not post.image or not clean_line(post.image):
        return None
    image = clean_line(post.image)
    if "://" not in image:
        image = site.root_url + "/" + image.lstrip("/")
    return _uri(image)


def _excerpt_only(post: Post, site: Site) -> bool:
    return bool(post.excerpt_only or site.feed.excerpt_only)


def _excerpt_summary(post: Post, site: Site) -> str:
    """The excerpt as plain text (``excerpt_text`` keeps Liquid's entities: decoded here, once). An entry that
    shows no content and whose excerpt has no text (a lone image) would have no text at all: it gets the start
    of the post's text instead."""
    summary = html_text(post.excerpt_text)
    if summary or not _excerpt_only(post, site):
        return summary
    return clip_text(html_text(post.content_html), TEXT_SUMMARY_CHARS)


def _entry(post: Post, site: Site, fallback_author: Person) -> Entry:
    link = _uri(post.absolute_url)
    published = _in_zone(post.date, site)
    terms = (clean_line(term) for term in (*post.categories, *post.tags))
    return Entry(
        id=_uri(site.root_url) + _uri(post.id if post.id.startswith("/") else "/" + post.id),
        link=link,
        title=_entry_title(post, published),
        published=published,
        updated=_in_zone(post.updated or post.date, site),
        author=_person(_resolve_author(post.author, site), fallback_author),
        terms=tuple(dict.fromkeys(term for term in terms if term)),
        summary=plain_text(post.description) if post.description else _excerpt_summary(post, site),
        content_html=None if _excerpt_only(post, site) else sanitize_html(post.content_html, link),
        image=_image(post, site),
        language=clean_line(post.lang or "") or None,
    )


def select_posts(posts: Sequence[Post], limit: int) -> list[Post]:
    """Newest first (date, then id, then path, all descending), one post per id, at most ``limit``."""
    seen: set[str] = set()
    unique: list[Post] = []
    for post in sorted(posts, key=lambda post: (post.date, post.id, post.path), reverse=True):
        if post.id not in seen:
            seen.add(post.id)
            unique.append(post)
    return unique[: max(limit, 0)]


def build_channel(ref: FeedRef, posts: Sequence[Post], site: Site) -> Channel:
    """Everything the three formats say about this feed, from its posts (any order) and the site."""
    title = feed_title(ref, site)
    site_author = _person(_resolve_author(site.author, site), Person(name=_site_name(site)))
    entries = tuple(_entry(post, site, site_author) for post in select_posts(posts, site.feed.posts_limit))
    # Plain text, like the titles: markup in `description` must not reach readers that render it as HTML.
    description = html_text(site.description)
    hub = clean_line(site.feed.hub or "")
    return Channel(
        title=title,
        description=description or title,
        subtitle=description or None,
        language=clean_line(site.lang or "") or None,
        home_url=_uri(site.root_url) + "/",
        urls={fmt: feed_url(ref, fmt, site) for fmt in FeedFormat},
        hub=_uri(hub) if urlsplit(hub).scheme.lower() in ("http", "https") else None,
        updated=max((entry.updated for entry in entries), default=_in_zone(EMPTY_FEED_UPDATED, site)),
        author=site_author,
        entries=entries,
        stylesheet=stylesheet_href(site),
        page_url=feed_page_url(ref, site),
        icon=_site_asset(site.feed.icon, site),
        logo=_site_asset(site.feed.logo, site),
        generator_version=_version(),
    )


def _site_asset(path: str | None, site: Site) -> str | None:
    """An image of the site (`feed.icon`, `feed.logo`) as an absolute URL when it can be one."""
    path = clean_line(path or "")
    if not path:
        return None
    return _uri(path if "://" in path else site.root_url + "/" + path.lstrip("/"))


def _version() -> str:
    from postfeed import __version__

    return __version__
