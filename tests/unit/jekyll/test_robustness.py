"""parse_post never raises: odd front matter values and arbitrary bytes become a Post, Skipped or Rejected."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from postfeed.jekyll import parse_post
from postfeed.models import Post, Rejected, Skipped

from .helpers import NOW, SHANGHAI, post_bytes

ODD_VALUES = ["[1, 2]", "{a: 1}", "~", "true", "12.5", "''", "2024-01-01", "!!binary aGVsbG8="]
KEYS = ["title", "date", "categories", "category", "tags", "tag", "permalink", "slug", "excerpt",
        "excerpt_separator", "author", "authors", "published", "last_modified_at"]  # fmt: skip


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("value", ODD_VALUES)
def test_odd_front_matter_values_never_raise(key: str, value: str) -> None:
    result = parse_post("_posts/2024-01-02-a.md", post_bytes(f"{key}: {value}\n"), SHANGHAI, now=NOW)
    assert isinstance(result, Post | Skipped | Rejected)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(body: bytes) -> None:
    result = parse_post("_posts/2024-01-02-a.md", b"---\n" + body, SHANGHAI, now=NOW)
    assert isinstance(result, Post | Skipped | Rejected)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_front_matter_text_never_raises(text: str) -> None:
    result = parse_post("_posts/2024-01-02-a.md", post_bytes(text + "\n"), SHANGHAI, now=NOW)
    assert isinstance(result, Post | Skipped | Rejected)
