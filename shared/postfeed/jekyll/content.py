"""Post bodies: Liquid run, Markdown rendered, excerpts cut and flattened to text.

Jekyll runs Liquid then kramdown; so do we (Liquid in `jekyll.liquid`, python-liquid loaded only for a body
that holds `{%` or `{{`), and render Markdown as kramdown does (`jekyll.converters.markdownify` on
`jekyll.markdown`, on markdown-it-py, loaded on first use).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from postfeed.models import RenderReads

from .converters import markdownify
from .liquid import LiquidPage, has_liquid, render_liquid

MARKDOWN_EXTENSIONS = frozenset({".md", ".markdown", ".mkdown", ".mkd", ".mkdn", ".mdown"})
HTML_EXTENSIONS = frozenset({".html", ".htm"})

# Kramdown appends the link reference definitions found after the separator to the excerpt.
_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:.+$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    warnings: tuple[str, ...]
    reads: RenderReads = field(default_factory=RenderReads)


def render(path: str, text: str, ext: str, page: LiquidPage | None = None) -> Rendered:
    """Liquid run as Jekyll runs it (`jekyll.liquid`, only when the text holds any), then Markdown -> HTML for
    Markdown extensions; HTML posts pass through. Raises LiquidFailure where Jekyll would fail the build."""
    reads, warnings = RenderReads(), tuple[str, ...]()
    if has_liquid(text):
        text, reads, warnings = render_liquid(path, text, page)
    if ext.lower() in MARKDOWN_EXTENSIONS:
        return Rendered(markdownify(text), warnings, reads)
    return Rendered(text, warnings, reads)


def extract_excerpt(content: str, separator: str) -> str:
    """Jekyll's Excerpt#extract_excerpt: text before the separator, plus trailing link definitions."""
    head, found, tail = content.partition(separator)
    if not found or not tail:
        return head
    return head + "\n\n" + "\n".join(_LINK_DEFINITION.findall(tail))


_SCRIPT = re.compile(r"<script.*?</script>", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_STYLE = re.compile(r"<style.*?</style>", re.DOTALL)
_ANY_TAG = re.compile(r"<.*?>", re.DOTALL)


def html_to_text(html: str) -> str:
    """Liquid's `strip_html | normalize_whitespace`: tags dropped, entities left as they are."""
    text = _ANY_TAG.sub("", _STYLE.sub("", _HTML_COMMENT.sub("", _SCRIPT.sub("", html))))
    # Ruby's \s is ASCII-only: an ideographic space (U+3000) is content, not whitespace.
    return re.sub(r"[ \t\r\n\f\v]+", " ", text).strip(" \t\r\n\f\v\0")
