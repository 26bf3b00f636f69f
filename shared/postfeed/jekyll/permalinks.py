"""Post URLs: permalink styles, placeholders, slugify and URL escaping as in Jekyll 3.10.

Ports of Jekyll's Utils.slugify / titleize_slug, Configuration#style_to_permalink, Drops::UrlDrop and
URL (generate_url_from_drop, sanitize_url, escape_path).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import quote

from .errors import INVALID_PERMALINK, PostError

# Jekyll 3.10's named styles (4.x adds `weekdate`).
STYLES: Mapping[str, str] = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
_PLACEHOLDER = re.compile(r":([a-z_]+)")
# Characters Jekyll's escape_path leaves alone: RFC 3986 unreserved, sub-delims, ":", "@", "/"; and "?",
# which 3.10's Addressable::URI.encode reads as the query delimiter and keeps.
_SAFE = "-._~!$&'()*+,;=:@/?"
_ASCII_PATH = re.compile(r"[a-zA-Z0-9./-]+")
_PRETTY_KEEP = set("._~!$&'()+,;=@")


def style_to_template(permalink: str) -> str:
    """A permalink style name (`date`, `pretty`, ...) -> its template; anything else is a template."""
    return STYLES.get(permalink, permalink)


def slugify(text: str, mode: str = "default", *, cased: bool = False) -> str:
    """Jekyll's Utils.slugify for the modes posts use: `default`, `pretty`, `raw`, `ascii`.

    Runs of characters that are not letters/digits (plus, in `pretty`, URL-safe punctuation) become one
    `-`; letters of every script are kept, so Chinese slugs stay Chinese.
    """
    if mode == "raw":
        slug = re.sub(r"\s+", "-", text)
    elif mode == "ascii":
        slug = re.sub(r"[^A-Za-z0-9]+", "-", text)
    else:
        keep = _PRETTY_KEEP if mode == "pretty" else set()
        slug = "".join(ch if ch in keep or _is_alnum(ch) else "\0" for ch in text)
        slug = re.sub("\0+", "-", slug)
    slug = re.sub(r"^-|-$", "", slug)
    return slug if cased else slug.lower()


def _is_alnum(ch: str) -> bool:
    # Ruby's [[:alnum:]]: letters (with their combining marks) and decimal digits.
    category = unicodedata.category(ch)
    return category[0] in "LM" or category == "Nd"


def titleize_slug(slug: str) -> str:
    """Jekyll's Utils.titleize_slug: split on `-`, capitalize each word (rest lowercased), join with spaces."""
    return " ".join(word[:1].upper() + word[1:].lower() for word in slug.split("-"))


def escape_path(path: str) -> str:
    """Jekyll's URL.escape_path: percent-encode (UTF-8) what may not appear in a path segment."""
    if not path or _ASCII_PATH.fullmatch(path):
        return path
    return quote(path, safe=_SAFE)


def placeholders(
    *,
    date: datetime,
    slug: str,
    basename: str,
    categories: Sequence[str],
    output_ext: str,
    relative_path: str,
) -> dict[str, str]:
    """Values of Drops::UrlDrop (Jekyll 3.10) for a post."""
    category_set = dict.fromkeys(c.lower() for c in categories)
    return {
        "collection": "posts",
        "path": relative_path,
        "name": slugify(basename),
        "title": slugify(slug, "pretty", cased=True),
        "slug": slugify(slug),
        "categories": "/".join(category_set),
        "year": f"{date.year:04d}",
        "month": f"{date.month:02d}",
        "day": f"{date.day:02d}",
        "hour": f"{date.hour:02d}",
        "minute": f"{date.minute:02d}",
        "second": f"{date.second:02d}",
        "i_day": str(date.day),
        "i_month": str(date.month),
        "short_year": f"{date.year % 100:02d}",
        "y_day": f"{date.timetuple().tm_yday:03d}",
        "output_ext": output_ext,
    }


def generate_url(path: str, template: str, values: Mapping[str, str]) -> str:
    """Fill `template` (URL#generate_url_from_drop) and sanitize it (URL#sanitize_url)."""

    def replace(match: re.Match[str]) -> str:
        key = match[1]
        for candidate in (key, key.removesuffix("_")) if key.endswith("_") else (key,):
            if candidate in values:
                return escape_path(values[candidate])
        raise PostError(INVALID_PERMALINK, f"{path}: permalink {template!r} uses :{key}, which Jekyll does not know")

    url = re.sub("/+", "/", _PLACEHOLDER.sub(replace, template))
    url = ("/" + url).replace("..", "/").replace("./", "")
    return re.sub("/+", "/", url)


def post_id(url: str, slug: str) -> str:
    """Jekyll's Document#id: File.join(File.dirname(url), slug)."""
    trimmed = url.rstrip("/") or "/"
    parent = trimmed.rsplit("/", 1)[0] or "/"
    return parent.rstrip("/") + "/" + slug
