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
