"""Post bodies: Liquid left out, Markdown rendered, excerpts cut and flattened to text.

Jekyll runs Liquid then kramdown; we do not execute Liquid (no site data here) and render Markdown with
markdown-it-py (CommonMark + tables + strikethrough, raw HTML passed through, kramdown-like typography).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt

MARKDOWN_EXTENSIONS = frozenset({".md", ".markdown", ".mkdown", ".mkd", ".mkdn", ".mdown"})
HTML_EXTENSIONS = frozenset({".html", ".htm"})

_RAW = re.compile(r"{%-?\s*raw\s*-?%}(.*?){%-?\s*endraw\s*-?%}", re.DOTALL)
_COMMENT = re.compile(r"{%-?\s*comment\s*-?%}.*?{%-?\s*endcomment\s*-?%}", re.DOTALL)
_HIGHLIGHT = re.compile(r"{%-?\s*highlight\s+([\w+#.-]+)[^%]*-?%}\n?(.*?){%-?\s*endhighlight\s*-?%}", re.DOTALL)
_TAG = re.compile(r"{%-?\s*(\w+).*?-?%}", re.DOTALL)
_OUTPUT = re.compile(r"{{.*?}}", re.DOTALL)
_EMPTY_DEFINITION = re.compile(r"^( {0,3}\[[^\]]+\]:)[ \t]*$", re.MULTILINE)
_RAW_MARK = "\x00raw{}\x00"
# Kramdown appends the link reference definitions found after the separator to the excerpt.
_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:.+$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    warnings: tuple[str, ...]


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": True})
    return md.enable(["table", "strikethrough", "smartquotes", "replacements"])


def strip_liquid(path: str, text: str) -> tuple[str, tuple[str, ...]]:
    """Unwrap {% raw %}, drop comments, turn {% highlight %} into a code fence, drop other tags/outputs."""
    raws: list[str] = []

    def keep_raw(match: re.Match[str]) -> str:
        raws.append(match[1])
        return _RAW_MARK.format(len(raws) - 1)

    text = _RAW.sub(keep_raw, text)
    dropped: dict[str, None] = {}

    def fence(match: re.Match[str]) -> str:
        dropped["{% highlight %} (rendered as a code fence)"] = None
        return f"```{match[1]}\n{match[2].rstrip()}\n```"

    def drop_tag(match: re.Match[str]) -> str:
        dropped["{% " + match[1] + " %}"] = None
        return ""

    def drop_output(match: re.Match[str]) -> str:
        dropped[match[0] if len(match[0]) <= 60 else match[0][:57] + "...}}"] = None
        return ""

    text = _COMMENT.sub(drop_tag, text)
    text = _HIGHLIGHT.sub(fence, text)
    text = _TAG.sub(drop_tag, text)
    text = _OUTPUT.sub(drop_output, text)
    for index, raw in enumerate(raws):
        text = text.replace(_RAW_MARK.format(index), raw)
    warnings: tuple[str, ...] = ()
    if dropped:
        warnings = (f"{path}: Liquid not executed, dropped: {', '.join(dropped)}",)
        # `[ref]: {% post_url x %}` lost its target: keep it a (dead) definition, not visible text.
        text = _EMPTY_DEFINITION.sub(r"\1 <>", text)
    return text, warnings


def render(path: str, text: str, ext: str) -> Rendered:
    """Liquid stripped, then Markdown -> HTML for Markdown extensions; HTML posts pass through."""
    text, warnings = strip_liquid(path, text)
    if ext.lower() in MARKDOWN_EXTENSIONS:
        return Rendered(_render_markdown(text), warnings)
    return Rendered(text, warnings)


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
