"""Domain models shared by the pure core (parser, feed renderer) and the adapters.

Everything here is plain data: frozen dataclasses, no I/O, no AWS. Datetimes are always aware.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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


DEFAULT_TAGS_PATH = "feed/by_tag/"


@dataclass(frozen=True, slots=True)
class TagFeeds:
    """jekyll-feed's `feed.tags`: which tags get a feed, and in which folder.

    Unset (`explicit` False), postfeed writes a feed for every tag; `feed.tags: false` writes none; `true` or a
    mapping follow jekyll-feed (`only`, then `except`, then `path`)."""

    enabled: bool = True
    explicit: bool = False
    only: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    path: str = DEFAULT_TAGS_PATH  # a bucket folder: no leading `/`, one trailing `/`

    def has_feed(self, tag: str) -> bool:
        if not self.enabled:
            return False
        if self.only is not None and tag not in self.only:
            return False
        return tag not in self.exclude


@dataclass(frozen=True, slots=True)
class CollectionFeed:
    """A collection other than posts that jekyll-feed's `feed.collections` asks a feed for."""

    name: str
    path: str | None = None  # the Atom key of the collection's feed; None: `feed/<name>.xml`
    categories: tuple[str, ...] | None = None  # category feeds of the collection; None: every category


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """The `feed:` block of jekyll-feed, plus postfeed's own additions."""

    path: str = "feed.xml"
    posts_limit: int = 10
    excerpt_only: bool = False
    # `feed.categories`: the categories that get a feed; None (unset) = every category, postfeed's default.
    categories: tuple[str, ...] | None = None
    tags: TagFeeds = field(default_factory=TagFeeds)
    collections: tuple[CollectionFeed, ...] = ()
    icon: str | None = None
    logo: str | None = None
    # The site has its own `feed.xslt.xml` at its root: jekyll-feed links it instead of our stylesheet.
    xslt: bool = False
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
    name: str = ""  # jekyll-feed's fallback for `title`
    description: str = ""
    lang: str | None = None  # as written; None: the site declares no language
    author: Author | None = None
    # `site.data.authors` (`_data/authors.yml`): an author named by key in front matter is looked up here.
    authors: Mapping[str, Author] = field(default_factory=dict)
    # Front matter defaults (`defaults:`), as (path prefix, type, values) in config order.
    defaults: tuple[tuple[str, str | None, Mapping[str, object]], ...] = ()
    # Collections other than posts that `collections:` declares, with their `permalink` (None: Jekyll's default).
    collections: Mapping[str, str | None] = field(default_factory=dict)
    # IANA zone name; None means UTC (GitHub Pages' builders and Lambda run in UTC).
    timezone: str | None = None
    permalink: str = "date"
    excerpt_separator: str = "\n\n"
    future: bool = True
    show_drafts: bool = False  # posts under `_drafts/` are published (and so in feeds) only with this
    # Jekyll's `site.time`: the build time, used for `future`. None means "now" at parse time.
    time: datetime | None = None
    feed: FeedSettings = field(default_factory=FeedSettings)
    # `_config.yml` as read (with the defaults it left out): `site.*` for a post's Liquid (`site.repository`).
    config: Mapping[str, object] = field(default_factory=dict, compare=False, repr=False)

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
class RenderReads:
    """What rendering a post's Liquid read besides the post: when one of these changes, the post's content may
    change too. Names as the post wrote them; empty when the post holds no Liquid."""

    includes: tuple[str, ...] = ()  # `_includes/<name>` names (missing ones too)
    files: tuple[str, ...] = ()  # site-relative paths read by `include_relative`
    data: tuple[str, ...] = ()  # top-level `site.data` names read (`authors` for `_data/authors.yml`)
    config: tuple[str, ...] = ()  # `_config.yml` keys read (`site.repository`, and url/baseurl by url filters)
    post_urls: tuple[str, ...] = ()  # `{% post_url %}` names (one that matched no post too)
    links: tuple[str, ...] = ()  # `{% link %}` paths (one that matched no document too)
    all_posts: bool = False  # `site.posts`, `site.categories` or `site.tags`: any post's change

    def __bool__(self) -> bool:
        return any((self.includes, self.files, self.data, self.config, self.post_urls, self.links, self.all_posts))

    def merged(self, other: RenderReads) -> RenderReads:
        """Both renders' reads (a post's body and its excerpt)."""

        def union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(sorted({*a, *b}))

        return RenderReads(
            includes=union(self.includes, other.includes),
            files=union(self.files, other.files),
            data=union(self.data, other.data),
            config=union(self.config, other.config),
            post_urls=union(self.post_urls, other.post_urls),
            links=union(self.links, other.links),
            all_posts=self.all_posts or other.all_posts,
        )


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
    image: str | None = None  # front matter `image` or `image.path`, as written
    lang: str | None = None  # front matter `lang`, as written
    description: str | None = None  # front matter `description`: the summary when given
    excerpt_only: bool | None = None  # front matter `feed.excerpt_only`: wins over the site's
    collection: str = "posts"
    # What rendering its Liquid read (includes, data, config keys, other posts): a change to one re-renders it.
    reads: RenderReads = field(default_factory=RenderReads)


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
    # What a failed Liquid render had read (a missing include or post_url target): its arrival re-renders it.
    reads: RenderReads = field(default_factory=RenderReads)


ParseResult = Post | Skipped | Rejected


class FeedKind(StrEnum):
    SITE = "site"
    CATEGORY = "category"
    TAG = "tag"


POSTS = "posts"


@dataclass(frozen=True, slots=True, order=True)
class FeedRef:
    """Which feed: the site-wide one, or one category's, or one tag's (`name` as written in posts).

    `collection` is `posts` for the posts' feeds; another collection's feed (jekyll-feed's `feed.collections`)
    is its SITE feed, and its categories' feeds are CATEGORY feeds with that collection."""

    kind: FeedKind
    name: str = ""
    collection: str = POSTS

    @classmethod
    def site(cls, collection: str = POSTS) -> FeedRef:
        return cls(FeedKind.SITE, "", collection)

    @classmethod
    def category(cls, name: str, collection: str = POSTS) -> FeedRef:
        return cls(FeedKind.CATEGORY, name, collection)

    @classmethod
    def tag(cls, name: str) -> FeedRef:
        return cls(FeedKind.TAG, name)


def feed_refs(
    categories: Iterable[str], tags: Iterable[str], feed: FeedSettings | None = None, collection: str = POSTS
) -> tuple[FeedRef, ...]:
    """Every feed a document with these categories and tags belongs to under the `feed:` settings (None: every
    feed, postfeed's default): its collection's feed, each category's that has one, each tag's that has one.

    Another collection has feeds only when `feed.collections` names it, and no tag feeds (jekyll-feed's tag
    feeds are of posts)."""
    feed = feed or FeedSettings()
    if collection == POSTS:
        wanted: tuple[str, ...] | None = feed.categories
    else:
        meta = next((c for c in feed.collections if c.name == collection), None)
        if meta is None:
            return ()
        wanted = meta.categories
    refs = [FeedRef.site(collection)]
    refs += [FeedRef.category(name, collection) for name in categories if wanted is None or name in wanted]
    if collection == POSTS:
        refs += [FeedRef.tag(name) for name in tags if feed.tags.has_feed(name)]
    return tuple(dict.fromkeys(refs))


def feeds_of(post: Post, feed: FeedSettings | None = None) -> tuple[FeedRef, ...]:
    """Every feed a published post belongs to under the `feed:` settings (no duplicates, in a stable order)."""
    return feed_refs(post.categories, post.tags, feed, post.collection)
