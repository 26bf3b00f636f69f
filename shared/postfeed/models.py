"""Domain models shared by the pure core (parser, feed renderer) and the adapters.

Everything here is plain data: frozen dataclasses, no I/O, no AWS. Datetimes are always aware.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Author:
    """A person, as jekyll-feed reads `author` (a string, or a mapping with name/email/uri)."""

    name: str
    email: str | None = None
    uri: str | None = None


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """The `feed:` block of jekyll-feed, plus postfeed's own additions."""

    path: str = "feed.xml"
    posts_limit: int = 10
    excerpt_only: bool = False
    # Public base URL the feeds are served from; defaults to the site's url + baseurl.
    base_url: str | None = None
    # Optional WebSub hub advertised in feeds.
    hub: str | None = None


@dataclass(frozen=True, slots=True)
class Site:
    """Site settings, read from Jekyll's `_config.yml` with Jekyll's defaults where absent."""

    url: str = ""
    baseurl: str = ""
    title: str = ""
    description: str = ""
    lang: str = "en"
    author: Author | None = None
    # IANA zone name; None means UTC (GitHub Pages' builders and Lambda run in UTC).
    timezone: str | None = None
    permalink: str = "date"
    excerpt_separator: str = "\n\n"
    future: bool = True
    # Jekyll's `site.time`: the build time, used for `future`. None means "now" at parse time.
    time: datetime | None = None
    feed: FeedSettings = field(default_factory=FeedSettings)

    @property
    def tz(self) -> tzinfo:
        """The site's zone as a tzinfo (UTC when `timezone` is unset)."""
        return ZoneInfo(self.timezone) if self.timezone else UTC

    @property
    def root_url(self) -> str:
        """Absolute URL of the site root, without a trailing slash (`url` + `baseurl`)."""
        return (self.url.rstrip("/") + "/" + self.baseurl.strip("/")).rstrip("/")

    @property
    def feed_base_url(self) -> str:
        """Absolute URL under which feed keys are served, without a trailing slash."""
        return (self.feed.base_url or self.root_url).rstrip("/")


class Status(StrEnum):
    PUBLISHED = "published"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Post:
    """A post as Jekyll would publish it."""

    path: str  # key or relative path it was read from, e.g. "_posts/2022-03-11-x.md"
    title: str
    date: datetime  # aware, in the site's zone
    slug: str
    url: str  # site-relative permalink, URL-escaped, e.g. "/nanchangribao/2022/03/11/x.html"
    absolute_url: str
    id: str  # Jekyll's post id: the url without its extension; stable across edits
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    content_html: str
    excerpt_html: str
    excerpt_text: str
    author: Author | None = None
    updated: datetime | None = None  # front matter last_modified_at/updated, when given
    warnings: tuple[str, ...] = ()
    status: Literal[Status.PUBLISHED] = Status.PUBLISHED


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file Jekyll would not publish (not a post, unpublished, future-dated)."""

    path: str
    reason: str  # short machine code, e.g. "name_lacks_date", "unpublished", "future"
    detail: str
    status: Literal[Status.SKIPPED] = Status.SKIPPED
    due: datetime | None = None  # a future-dated post: when Jekyll would publish it


@dataclass(frozen=True, slots=True)
class Rejected:
    """A file that cannot be read as a post; `code` is a stable error code, `message` names the file."""

    path: str
    code: str
    message: str
    line: int | None = None
    status: Literal[Status.ERROR] = Status.ERROR


ParseResult = Post | Skipped | Rejected


class FeedKind(StrEnum):
    SITE = "site"
    CATEGORY = "category"
    TAG = "tag"


@dataclass(frozen=True, slots=True, order=True)
class FeedRef:
    """Which feed: the site-wide one, or one category's, or one tag's (`name` as written in posts)."""

    kind: FeedKind
    name: str = ""

    @classmethod
    def site(cls) -> FeedRef:
        return cls(FeedKind.SITE)

    @classmethod
    def category(cls, name: str) -> FeedRef:
        return cls(FeedKind.CATEGORY, name)

    @classmethod
    def tag(cls, name: str) -> FeedRef:
        return cls(FeedKind.TAG, name)


def feed_refs(categories: Iterable[str], tags: Iterable[str]) -> tuple[FeedRef, ...]:
    """Every feed a post with these categories and tags belongs to: site-wide, each category, each tag."""
    refs = [FeedRef.site()]
    refs += [FeedRef.category(name) for name in categories]
    refs += [FeedRef.tag(name) for name in tags]
    return tuple(dict.fromkeys(refs))


def feeds_of(post: Post) -> tuple[FeedRef, ...]:
    """Every feed a published post belongs to (no duplicates, in a stable order)."""
    return feed_refs(post.categories, post.tags)
