"""Where each feed lives: the bucket key and the public URL of a feed in a given format.

The layout keeps jekyll-feed's paths so existing subscribers keep working:

* site-wide Atom at ``site.feed.path`` (default ``feed.xml``),
* a category's Atom at ``feed/<category>.xml``,
* a tag's Atom at ``feed/by_tag/<tag>.xml``,

with RSS beside each Atom file (``.rss``) and JSON Feed beside it too (``.json``).

Category and tag names come from posts, so they are untrusted. :func:`key_segment` maps a name to one
path segment; the mapping is injective and can never leave its folder (see ``docs/feeds.md``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from enum import StrEnum
from urllib.parse import quote, urlsplit

from postfeed.models import POSTS, FeedKind, FeedRef, Site

__all__ = (
    "ARCHIVE_FOLDER",
    "CATEGORY_PREFIX",
    "MAX_VERBATIM_BYTES",
    "PAGE_EXTENSION",
    "PAGE_MEDIA_TYPE",
    "ROOT_KEYS",
    "TAG_PREFIX",
    "FeedFormat",
    "archive_key",
    "archive_url",
    "feed_key",
    "feed_page_key",
    "feed_page_url",
    "feed_url",
    "is_page_id",
    "key_segment",
    "root_url",
    "stylesheet_href",
)

CATEGORY_PREFIX = "feed/"
TAG_PREFIX = "feed/by_tag/"
DEFAULT_SITE_PATH = "feed.xml"
# A name longer than this (in UTF-8 bytes) is shortened and hashed rather than kept verbatim.
MAX_VERBATIM_BYTES = 100
# The readable part of a hashed segment is cut to at most this many UTF-8 bytes.
_MAX_STEM_BYTES = 60
_HASH_HEX_CHARS = 16  # 64 bits of SHA-256
_MARK = "~"  # never allowed in a verbatim segment, always present in a hashed one
_PUNCTUATION_KEPT = frozenset("-_.")
# Characters a URI may hold as they are; everything else (spaces, non-ASCII, controls...) is %-encoded.
URI_SAFE = "!#$%&'()*+,/:;=?@[]~"
# Archive pages of a feed live in this folder beside the feed (docs/archives.md).
ARCHIVE_FOLDER = "archive"
# A page id: a UTC month, day or hour (`2022-03`, `2022-03-05`, `2022-03-05T07`); nothing else is a key.
_PAGE_ID = re.compile(r"[0-9]{4}-[0-9]{2}(?:-[0-9]{2}(?:T[0-9]{2})?)?")
# Documents at the feeds root (the discovery page, the OPML list and the browser stylesheet).
INDEX_KEY = "index.html"
OPML_KEY = "feeds.opml"
STYLESHEET_KEY = "feed.xsl"
# The site's own stylesheet (jekyll-feed links `/feed.xslt.xml` when the site has one), copied beside the feeds.
SITE_STYLESHEET_KEY = "feed.xslt.xml"
ROOT_KEYS = (INDEX_KEY, OPML_KEY, STYLESHEET_KEY)
# A feed's HTML page (a view for people that needs no XSLT) sits beside its Atom document with this extension.
PAGE_EXTENSION = ".html"
PAGE_MEDIA_TYPE = "text/html; charset=utf-8"


class FeedFormat(StrEnum):
    """The three formats every feed is published in."""

    ATOM = "atom"
    RSS = "rss"
    JSON = "json"

    @property
    def extension(self) -> str:
        """File extension of this format's key, with its dot."""
        return _EXTENSIONS[self]

    @property
    def media_type(self) -> str:
        """Content-Type to serve the document with."""
        return _MEDIA_TYPES[self]


_EXTENSIONS = {FeedFormat.ATOM: ".xml", FeedFormat.RSS: ".rss", FeedFormat.JSON: ".json"}
_MEDIA_TYPES = {
    FeedFormat.ATOM: "application/atom+xml; charset=utf-8",
    FeedFormat.RSS: "application/rss+xml; charset=utf-8",
    FeedFormat.JSON: "application/feed+json; charset=utf-8",
}


def _is_verbatim_char(char: str) -> bool:
    """Letters, marks and digits of any script, plus ``-``, ``_`` and ``.``."""
    return char in _PUNCTUATION_KEPT or unicodedata.category(char)[0] in "LMN"


def _is_verbatim(name: str) -> bool:
    return (
        name != ""
        and len(name.encode("utf-8", "surrogatepass")) <= MAX_VERBATIM_BYTES
        and not name.startswith(".")
        and not name.endswith(".")  # else "a." + ".xml" would hold ".."
        and ".." not in name
        and all(_is_verbatim_char(char) for char in name)
    )


def _truncate_utf8(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def key_segment(name: str) -> str:
    """One safe path segment for a category or tag name; injective, readable where possible.

    A name made only of letters, marks and digits (any script) and ``-``, ``_``, ``.``, that does not
    start or end with ``.``, contains no ``..`` and is at most 100 UTF-8 bytes, is kept verbatim. Any other
    name becomes ``<stem>~<hash>``: ``stem`` is the name with every other character turned into ``-``
    (runs collapsed, ``-`` trimmed at both ends, cut to 60 bytes) and ``hash`` is the first 16 hex
    digits of the SHA-256 of the exact name (UTF-8). Verbatim segments never contain ``~`` and hashed
    ones always do, so the two kinds never meet; two hashed names only meet if SHA-256 collides.
    """
    if _is_verbatim(name):
        return name
    stem = "".join(char if _is_verbatim_char(char) and char != "." else "-" for char in name)
    stem = _truncate_utf8(re.sub(r"-{2,}", "-", stem).strip("-"), _MAX_STEM_BYTES).strip("-")
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_HEX_CHARS]
    return f"{stem}{_MARK}{digest}"


def _clean_path(path: str, default: str) -> str:
    """A configured feed path as a key: leading `/` dropped; an unsafe one (empty, an empty, `.`, `..` or
    dot-first segment, `\\`, `~`, a non-printable character) replaced by ``default``."""
    path = path.strip().lstrip("/")
    segments = path.split("/")
    unsafe = (
        path == ""
        or any(seg in ("", ".", "..") or seg.startswith(".") for seg in segments)
        or any(not char.isprintable() or char in "\\~" for char in path)
    )
    return default if unsafe else path


def _stem(path: str) -> str:
    return path.removesuffix(".xml") if path.endswith(".xml") and path != ".xml" else path


def _site_stem(site: Site) -> tuple[str, str]:
    """(Atom key, stem for the other formats) of the site-wide feed."""
    path = _clean_path(site.feed.path, DEFAULT_SITE_PATH)
    return path, _stem(path)


def _collection_stem(collection: str, site: Site) -> tuple[str, str]:
    """(Atom key, stem) of another collection's feed: its `feed.collections.<name>.path`, else `feed/<name>.xml`."""
    default = f"{CATEGORY_PREFIX}{key_segment(collection)}.xml"
    meta = next((c for c in site.feed.collections if c.name == collection), None)
    path = _clean_path(meta.path, default) if meta is not None and meta.path else default
    return path, _stem(path)


def _folder(ref: FeedRef, site: Site) -> str:
    """The folder a category or tag feed lives in: `feed/`, `feed/<collection>/`, or the tags' folder."""
    if ref.kind is FeedKind.TAG:
        return site.feed.tags.path
    if ref.collection == POSTS:
        return CATEGORY_PREFIX
    return f"{CATEGORY_PREFIX}{key_segment(ref.collection)}/"


def _atom_key_and_stem(ref: FeedRef, site: Site) -> tuple[str, str]:
    if ref.kind is FeedKind.SITE:
        return _site_stem(site) if ref.collection == POSTS else _collection_stem(ref.collection, site)
    stem = _folder(ref, site) + key_segment(ref.name)
    return stem + FeedFormat.ATOM.extension, stem


def feed_key(ref: FeedRef, fmt: FeedFormat, site: Site) -> str:
    """Key of the feed in the feeds bucket: its URL path under ``site.feed_base_url``, unescaped."""
    atom_key, stem = _atom_key_and_stem(ref, site)
    return atom_key if fmt is FeedFormat.ATOM else stem + fmt.extension


def feed_page_key(ref: FeedRef, site: Site) -> str:
    """Key of the feed's HTML page: beside its Atom document, ``.html`` for ``.xml`` (``feed/emnews.html``;
    a site path without ``.xml`` gets ``.html`` appended, as its other formats get their extension).

    It is the stem the feed's RSS and JSON keys share plus ``.html``: feeds have distinct stems, the other
    documents end in ``.xml``, ``.rss`` or ``.json`` and archive pages sit below the stem, so a page takes
    no other document's key."""
    key = feed_key(ref, FeedFormat.RSS, site).removesuffix(FeedFormat.RSS.extension) + PAGE_EXTENSION
    # `site.feed.path: index.xml` would take the discovery page's key.
    return key if key not in ROOT_KEYS else key.removesuffix(PAGE_EXTENSION) + "-feed" + PAGE_EXTENSION


def url_path(key: str) -> str:
    """A key as a percent-encoded URL path (UTF-8), ``/`` kept."""
    return quote(key, safe="/")


def feed_url(ref: FeedRef, fmt: FeedFormat, site: Site) -> str:
    """Absolute public URL of the feed (percent-encoded)."""
    return f"{quote(site.feed_base_url, safe=URI_SAFE)}/{url_path(feed_key(ref, fmt, site))}"


def feed_page_url(ref: FeedRef, site: Site) -> str:
    """Absolute public URL of the feed's HTML page (percent-encoded)."""
    return f"{root_url(site)}/{url_path(feed_page_key(ref, site))}"


def _archive_folder(ref: FeedRef, site: Site) -> str:
    """Folder (with its final ``/``) of a feed's archive pages: beside the feed, named after its stem."""
    atom_key, stem = _atom_key_and_stem(ref, site)
    # `feed.xml` -> `feed/archive/`; a path without `.xml` is a file, so its folder gets a suffix.
    return f"{stem}/{ARCHIVE_FOLDER}/" if atom_key != stem else f"{stem}-{ARCHIVE_FOLDER}/"


def is_page_id(page: str) -> bool:
    """Whether ``page`` is an archive page id: ``YYYY-MM``, ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH`` (UTC)."""
    return _PAGE_ID.fullmatch(page) is not None


def archive_key(ref: FeedRef, page: str, fmt: FeedFormat, site: Site) -> str:
    """Key of one archive page of a feed (RFC 5005 archive document), e.g. ``feed/emnews/archive/2022-03.xml``.

    Only Atom and RSS have archive documents. The page id is checked, so a key never leaves its folder."""
    if fmt is FeedFormat.JSON:
        raise ValueError("JSON Feed has no archive documents")
    if not is_page_id(page):
        raise ValueError(f"not an archive page id: {page!r}")
    return _archive_folder(ref, site) + page + fmt.extension


def root_url(site: Site) -> str:
    """Percent-encoded public base URL of the feeds (no trailing slash)."""
    return quote(site.feed_base_url, safe=URI_SAFE)


def archive_url(ref: FeedRef, page: str, fmt: FeedFormat, site: Site) -> str:
    """Absolute public URL of an archive page (percent-encoded)."""
    return f"{root_url(site)}/{url_path(archive_key(ref, page, fmt, site))}"


def stylesheet_href(site: Site) -> str:
    """Root-relative URL of the XSLT stylesheet the feeds link: the site's own `feed.xslt.xml` when it has one
    (jekyll-feed), else ours; same origin as the feeds wherever they are served."""
    base_path = urlsplit(site.feed_base_url).path.rstrip("/")
    key = SITE_STYLESHEET_KEY if site.feed.xslt else STYLESHEET_KEY
    return quote(f"{base_path}/{key}", safe=URI_SAFE)
