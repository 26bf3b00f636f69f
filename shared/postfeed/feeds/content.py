"""Making post text safe for feeds: XML-safe characters, absolute links, sanitised HTML, plain text.

Every text that goes into a feed passes through :func:`xml_safe` (or :func:`clean_line`, which also
collapses whitespace); post HTML passes through :func:`sanitize_html`, which resolves every link
against the post's URL and keeps only harmless markup. Text taken from HTML (excerpts, descriptions)
becomes plain text once, with :func:`html_text`; each format then escapes it once, as that format needs
(XML for Atom text; RSS ``<description>`` is HTML, so HTML-escaped inside that).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import nh3

from postfeed.jekyll.plain_text import html_to_text

__all__ = (
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "LINK_SCHEMES",
    "MEDIA_SCHEMES",
    "absolutize_url",
    "clean_line",
    "clip_text",
    "html_text",
    "is_absolute_url",
    "relative_links_note",
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


def html_text(fragment: str) -> str:
    """The text a reader sees of an HTML fragment, on one line: tags dropped (Liquid's ``strip_html``), then
    character references decoded, once (``a &amp;amp; b`` is the text ``a &amp; b``). Also for text already
    stripped by Jekyll (``Post.excerpt_text`` keeps its entities)."""
    return clean_line(html.unescape(html_to_text(fragment)))


def clip_text(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``…`` when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def is_absolute_url(url: str) -> bool:
    """Whether ``url`` has a scheme and a host (``https://example.org/x``), as a feed's links need."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return bool(parts.scheme and parts.netloc)


def relative_links_note(site_url: str) -> str | None:
    """Why a site's feeds carry relative links, or None when its ``url`` gives them an absolute base."""
    if is_absolute_url(site_url):
        return None
    return (
        "_config.yml has no absolute `url`: links and images in the feeds stay relative (root-relative to the "
        "site, as jekyll-feed leaves them), and so do entry links and ids; readers resolve them against the "
        "feed's own URL. Set `url` (e.g. https://example.org) for absolute links."
    )


def absolutize_url(url: str, base: str, schemes: frozenset[str] = LINK_SCHEMES) -> str | None:
    """``url`` resolved against ``base`` (protocol-relative ``//host`` becomes https), or None.

    None when the result is not a URL with one of ``schemes`` (``javascript:``, ``data:``...). When ``base``
    is not absolute (a site without ``url``), a relative ``url`` stays relative, resolved against ``base``'s
    path (``img.png`` in ``/2022/03/x.html`` is ``/2022/03/img.png``): dropping it would lose the target,
    and jekyll-feed keeps such links too. Other schemes are still dropped.
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
        parts = urlsplit(resolved)
    except ValueError:
        return None
    if parts.scheme.lower() in schemes:
        return resolved
    relative = not parts.scheme and not parts.netloc
    return resolved if relative and not is_absolute_url(base) else None


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
    """Safe HTML: links absolute (resolved against ``base_url``; relative when it is), only harmless elements kept.

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
