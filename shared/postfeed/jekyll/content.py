"""Post bodies: Liquid run, Markdown rendered, excerpts cut and flattened to text.

Jekyll runs Liquid then kramdown; so do we (Liquid in `jekyll.liquid`, python-liquid loaded only for a body
that holds `{%` or `{{`), and render Markdown with
markdown-it-py (CommonMark + tables + strikethrough, raw HTML passed through, kramdown-like typography).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it import MarkdownIt

from postfeed.models import RenderReads

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


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": True})
    return md.enable(["table", "strikethrough", "smartquotes", "replacements"])


def render(path: str, text: str, ext: str, page: LiquidPage | None = None) -> Rendered:
    """Liquid run as Jekyll runs it (`jekyll.liquid`, only when the text holds any), then Markdown -> HTML for
    Markdown extensions; HTML posts pass through. Raises LiquidFailure where Jekyll would fail the build."""
    reads, warnings = RenderReads(), tuple[str, ...]()
    if has_liquid(text):
        text, reads, warnings = render_liquid(path, text, page)
    if ext.lower() in MARKDOWN_EXTENSIONS:
        return Rendered(_render_markdown(text), warnings, reads)
    return Rendered(text, warnings, reads)


_TOC = re.compile(r"^[ \t]*[*+-][ \t]+.*\n[ \t]*\{:[ \t]*toc[ \t]*\}[ \t]*$", re.MULTILINE)
_TOC_MARK = "<!--postfeed-toc-->"
_BLOCKS = "p|div|center|blockquote|ul|ol|li|table|tr|h[1-6]|pre|hr|figure|section"
_ADJACENT_BLOCKS = re.compile(rf"(</(?:{_BLOCKS})>|<(?:hr|br)\s*/?>)(?=<(?:/?(?:{_BLOCKS})|!--)[\s>])")
# kramdown attribute lists and extensions on a line of their own ({: .class}, {::options ...}).
_BLOCK_IAL = re.compile(r"^[ \t]*\{::?[^}\n]*\}[ \t]*$", re.MULTILINE)


def _render_markdown(text: str) -> str:
    """markdown-it, plus the kramdown syntax common in posts: `{:toc}` lists and block attribute lists."""
    text = _BLOCK_IAL.sub("", _TOC.sub(_TOC_MARK, text))
    md = _markdown()
    tokens = md.parse(text)
    # kramdown re-emits raw HTML blocks one element per line; without that, strip_html glues the
    # text of adjacent blocks together (`</p><p>`).
    html = _ADJACENT_BLOCKS.sub(r"\1\n", md.renderer.render(tokens, md.options, {}))
    if _TOC_MARK in html:
        headings = [
            md.renderInline(tokens[i + 1].content)
            for i, token in enumerate(tokens)
            if token.type == "heading_open" and i + 1 < len(tokens)
        ]
        items = "".join(f"  <li>{heading}</li>\n" for heading in headings)
        html = html.replace(_TOC_MARK, f'<ul id="markdown-toc">\n{items}</ul>' if items else "", 1)
    return html


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


@lru_cache(maxsize=1)
def _smartypants() -> MarkdownIt:
    # Inline text only (no emphasis, links, HTML or other replacements): typographic quotes.
    return MarkdownIt("zero", {"typographer": True}).enable(["smartquotes"])


# kramdown's SmartyPants symbols (typographic_syms), longest first; `..` and `(c)` stay as written.
_SMART_SYMBOLS = (("---", "\u2014"), ("--", "\u2013"), ("...", "\u2026"), ("<<", "\u00ab"), (">>", "\u00bb"))


def smartify(text: str) -> str:
    """Jekyll's `smartify` filter on plain text: typographic quotes, dashes, ellipses and guillemets, as
    kramdown's SmartyPants parser makes them; plain text out."""
    for plain, typographic in _SMART_SYMBOLS:
        text = text.replace(plain, typographic)
    return html.unescape(_smartypants().renderInline(text))
