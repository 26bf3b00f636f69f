"""Making post text safe for feeds: XML-safe characters, absolute links, sanitised HTML.

Every text that goes into a feed passes through :func:`xml_safe` (or :func:`clean_line`, which also
collapses whitespace); post HTML passes through :func:`sanitize_html`, which resolves every link
against the post's absolute URL and keeps only harmless markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import nh3

__all__ = (
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "LINK_SCHEMES",
    "MEDIA_SCHEMES",
    "absolutize_url",
    "clean_line",
    "sanitize_html",
    "xml_safe",
)

# Characters XML 1.0 forbids (C0 controls but tab/LF/CR, surrogates, U+FFFE/U+FFFF) and those it
# discourages (DEL and C1 controls, noncharacters), which strict validators flag.
_XML_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    "\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff\U0004fffe\U0004ffff"
    "\U0005fffe\U0005ffff\U0006fffe\U0006ffff\U0007fffe\U0007ffff\U0008fffe\U0008ffff"
    "\U0009fffe\U0009ffff\U000afffe\U000affff\U000bfffe\U000bffff\U000cfffe\U000cffff"
    "\U000dfffe\U000dffff\U000efffe\U000effff\U000ffffe\U000fffff\U0010fffe\U0010ffff]"
)
_NEWLINES = re.compile(r"\r\n?")
_WHITESPACE = re.compile(r"\s+")

LINK_SCHEMES = frozenset({"http", "https", "mailto"})
MEDIA_SCHEMES = frozenset({"http", "https"})

ALLOWED_TAGS = frozenset((nh3.ALLOWED_TAGS - {"map", "area"}) | {"audio", "picture", "source", "video", "track"})
_URL_ATTRIBUTES = frozenset({"href", "src", "srcset", "poster", "cite"})
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"title", "lang", "dir"},
    "a": {"href", "hreflang"},
    "img": {"src", "srcset", "sizes", "alt", "width", "height"},
    "video": {"src", "poster", "controls", "width", "height", "loop", "muted"},
    "audio": {"src", "controls", "loop", "muted"},
    "source": {"src", "srcset", "sizes", "type", "media"},
    "track": {"src", "kind", "srclang", "label", "default"},
    "code": {"class"},
    "pre": {"class"},
}
# Removed with their content (the others not in ALLOWED_TAGS are unwrapped, their text kept).
_CLEAN_CONTENT_TAGS = frozenset(
    {
        "script",
        "style",
        "template",
        "iframe",
        "object",
        "embed",
        "applet",
        "frame",
        "frameset",
        "noembed",
        "noframes",
        "noscript",
        "select",
        "textarea",
        "svg",
        "math",
    }
)
_SRCSET_SEPARATOR = re.compile(r",\s+|,(?=\S+\s)")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids or discourages; CR/CRLF become LF."""
    return _XML_UNSAFE.sub("", _NEWLINES.sub("\n", text))


def clean_line(text: str) -> str:
    """XML-safe one-line text: whitespace runs collapsed to one space, trimmed."""
    return _WHITESPACE.sub(" ", xml_safe(text)).strip()


def absolutize_url(url: str, base: str, schemes: frozenset[str] = LINK_SCHEMES) -> str | None:
    """``url`` resolved against ``base`` (protocol-relative ``//host`` becomes https), or None.

    None when the result is not a URL with one of ``schemes`` (``javascript:``, ``data:``...).
    """
    url = xml_safe(url).strip()
    if url.startswith("//"):
        resolved = "https:" + url
    else:
        try:
            resolved = urljoin(base, url)
        except ValueError:  # e.g. an invalid IPv6 host
            return None
    try:
        scheme = urlsplit(resolved).scheme.lower()
    except ValueError:
        return None
    return resolved if scheme in schemes else None


def _absolutize_srcset(value: str, base: str) -> str | None:
    candidates = []
    for candidate in _SRCSET_SEPARATOR.split(value.strip()):
        url, _, descriptor = candidate.strip().partition(" ")
        resolved = absolutize_url(url, base, MEDIA_SCHEMES) if url else None
        if resolved is not None:
            candidates.append(f"{resolved} {descriptor.strip()}".strip())
    return ", ".join(candidates) or None


def _attribute_filter(base: str) -> Callable[[str, str, str], str | None]:
    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in _URL_ATTRIBUTES:
            return value
        if attribute == "srcset":
            return _absolutize_srcset(value, base)
        schemes = LINK_SCHEMES if attribute in ("href", "cite") else MEDIA_SCHEMES
        return absolutize_url(value, base, schemes)

    return attribute_filter


def sanitize_html(html: str, base_url: str) -> str:
    """Safe HTML: links absolute (resolved against ``base_url``), only harmless elements kept.

    Removes script/style/iframe/object/embed/form controls, event handler and style attributes, and
    any link or source that is not http(s) (or mailto for links). nh3 (ammonia) parses iteratively,
    so deeply nested input cannot exhaust the Python stack.
    """
    cleaner = nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_CLEAN_CONTENT_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter(base_url),
        url_schemes=set(LINK_SCHEMES),
        strip_comments=True,
        link_rel="noopener noreferrer",
    )
    return xml_safe(cleaner.clean(xml_safe(html)))
