"""The format-neutral feed: what Atom, RSS and JSON Feed all say, computed once from posts and site.

Every text here is already XML-safe, every URL absolute (given an absolute ``site.url``) and every
date in the site's zone, so the format writers only lay it out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from postfeed.feeds.content import clean_line, sanitize_html
from postfeed.feeds.paths import URI_SAFE, FeedFormat, feed_url, stylesheet_href
from postfeed.models import Author, FeedKind, FeedRef, Post, Site

__all__ = ("EMPTY_FEED_UPDATED", "Channel", "Entry", "History", "Person", "build_channel", "feed_title")

# `updated` of a feed without entries: a fixed instant, so re-rendering an empty feed is byte-identical.
# (2000 rather than 1970: validators call dates before 1970 implausible, and 1970 UTC is 1969 west of it.)
EMPTY_FEED_UPDATED = datetime(2000, 1, 1, tzinfo=UTC)
FALLBACK_TITLE_CHARS = 80
GENERATOR = "postfeed"
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


@dataclass(frozen=True, slots=True)
class History:
    """RFC 5005 (Feed Paging and Archiving) links of one document, in one format (absolute URLs).

    A subscription document has only ``prev_archive`` (the newest archive page); an archive document
    has ``archive=True``, ``current`` (the subscription document) and its neighbours."""

    prev_archive: str | None = None
    next_archive: str | None = None
    current: str | None = None
    archive: bool = False


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

    @property
    def atom_id(self) -> str:
        return self.feed_id or self.urls[FeedFormat.ATOM]


def _uri(url: str) -> str:
    """``url`` with every character a URI may not hold percent-encoded (existing escapes kept)."""
    return quote(clean_line(url), safe=URI_SAFE)


def _site_name(site: Site) -> str:
    return clean_line(site.title) or urlsplit(site.root_url).hostname or site.root_url or "Feed"


def feed_title(ref: FeedRef, site: Site) -> str:
    """Title of a feed: the site's title, then ``» name`` for a category and ``» #name`` for a tag."""
    base = _site_name(site)
    if ref.kind is FeedKind.SITE:
        return base
    name = clean_line(ref.name) or "(unnamed)"
    return f"{base} » {name}" if ref.kind is FeedKind.CATEGORY else f"{base} » #{name}"


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


def _language(lang: str) -> str | None:
    tag = clean_line(lang).replace("_", "-")
    return tag if _LANGUAGE.match(tag) else None


def _in_zone(moment: datetime, site: Site) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=site.tz)
    return moment.astimezone(site.tz)


def _entry_title(post: Post, published: datetime) -> str:
    title = clean_line(post.title)
    if title:
        return title
    excerpt = clean_line(post.excerpt_text)
    if len(excerpt) > FALLBACK_TITLE_CHARS:
        return excerpt[: FALLBACK_TITLE_CHARS - 1].rstrip() + "…"
    return excerpt or published.date().isoformat()


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
        author=_person(post.author, fallback_author),
        terms=tuple(dict.fromkeys(term for term in terms if term)),
        summary=clean_line(post.excerpt_text),
        content_html=None if site.feed.excerpt_only else sanitize_html(post.content_html, link),
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
    site_author = _person(site.author, Person(name=_site_name(site)))
    entries = tuple(_entry(post, site, site_author) for post in select_posts(posts, site.feed.posts_limit))
    description = clean_line(site.description)
    hub = clean_line(site.feed.hub or "")
    return Channel(
        title=title,
        description=description or title,
        subtitle=description or None,
        language=_language(site.lang),
        home_url=_uri(site.root_url) + "/",
        urls={fmt: feed_url(ref, fmt, site) for fmt in FeedFormat},
        hub=_uri(hub) if urlsplit(hub).scheme.lower() in ("http", "https") else None,
        updated=max((entry.updated for entry in entries), default=_in_zone(EMPTY_FEED_UPDATED, site)),
        author=site_author,
        entries=entries,
        stylesheet=stylesheet_href(site),
    )
