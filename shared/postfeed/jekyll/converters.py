"""Jekyll's converters as a post's body and its filters call them: Markdown (kramdown) to HTML, and SmartyPants
on plain text (the `markdownify` and `smartify` filters; jekyll-feed's titles).

Both are on `jekyll.markdown` (markdown-it-py), imported on first use: a post without Markdown and a feed
without titles to smarten never load it.
"""

from __future__ import annotations

import re

__all__ = ("markdownify", "smartify")

_BLOCKS = "p|div|center|blockquote|ul|ol|li|table|tr|h[1-6]|pre|hr|figure|section"
_ADJACENT_BLOCKS = re.compile(rf"(</(?:{_BLOCKS})>|<(?:hr|br)\s*/?>)(?=<(?:/?(?:{_BLOCKS})|!--)[\s>])")


def markdownify(text: str) -> str:
    """Markdown as kramdown renders it (`jekyll.markdown`, loaded on first use)."""
    from .markdown import render_markdown

    # kramdown re-emits raw HTML blocks one element per line; without that, strip_html glues the
    # text of adjacent blocks together (`</p><p>`).
    return _ADJACENT_BLOCKS.sub(r"\1\n", render_markdown(text))


def smartify(text: str) -> str:
    """Jekyll's `smartify` filter on plain text: typographic quotes, dashes, ellipses and guillemets, as
    kramdown's SmartyPants parser makes them (`markdown.smart_typography`; `..` and `(c)` stay as written);
    plain text out."""
    from .markdown import smart_typography

    return smart_typography(text)
