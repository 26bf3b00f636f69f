"""Post text as Liquid's `strip_html | normalize_whitespace` makes it: what summaries and plain-text excerpts hold.

A module of its own so that the feed function (feeds.content, store.items) reads text without importing the
renderer (Liquid, Markdown) at cold start."""

from __future__ import annotations

import re

_SCRIPT = re.compile(r"<script.*?</script>", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_STYLE = re.compile(r"<style.*?</style>", re.DOTALL)
_ANY_TAG = re.compile(r"<.*?>", re.DOTALL)


def html_to_text(html: str) -> str:
    """Liquid's `strip_html | normalize_whitespace`: tags dropped, entities left as they are."""
    text = _ANY_TAG.sub("", _STYLE.sub("", _HTML_COMMENT.sub("", _SCRIPT.sub("", html))))
    # Ruby's \s is ASCII-only: an ideographic space (U+3000) is content, not whitespace.
    return re.sub(r"[ \t\r\n\f\v]+", " ", text).strip(" \t\r\n\f\v\0")
