"""Hostile category and tag names: path traversal, separators, empty, enormous, invisible, right-to-left,
emoji. Each name gets its own feed (or none, when Jekyll drops it), at a key under `feed/` that no other
name shares, holding the post."""

from __future__ import annotations

import json

import pytest

from postfeed.feeds.channel import feed_title
from postfeed.feeds.paths import FeedFormat, feed_key
from postfeed.models import FeedRef
from postfeed_tools.local.pipeline import LocalPipeline
from tests.hostile.checks import assert_rejected, deliver, json_items, site_of

NAMES = {
    "dot-dot": "..",
    "traversal": "../../x",
    "absolute": "/etc/passwd",
    "slash": "a/b",
    "backslash": "a\\..\\b",
    "zero-width": "a\u200bb\u200d",
    "right-to-left": "\u202eabc\u202c عربي עברית",
    "emoji": "🚀📈",
    "url-escapes": "%2e%2e%2f",
    "tilde": "~x",
    "dot-only": ".",
    "control": "x\u0085y",
}


def quoted(name: str) -> str:
    """A YAML double-quoted scalar holding exactly `name`: characters as they are (UTF-8), only the quote,
    the backslash and what YAML does not allow raw escaped."""

    def one(char: str) -> str:
        if char in '"\\':
            return "\\" + char
        if ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F or char in "\u2028\u2029\ufeff":
            return f"\\u{ord(char):04x}"
        return char

    return '"' + "".join(map(one, name)) + '"'


def with_names(name: str) -> bytes:
    return f"---\ntitle: Named\ncategories: [{quoted(name)}]\ntags: [{quoted(name)}, plain]\n---\nbody\n".encode()


@pytest.mark.parametrize("name", NAMES.values(), ids=NAMES.keys())
def test_a_hostile_name_gets_a_safe_feed_of_its_own(pipeline: LocalPipeline, name: str) -> None:
    item = deliver(pipeline, with_names(name))
    assert item["state"] == "published"
    site = site_of(pipeline)
    for ref in (FeedRef.category(name), FeedRef.tag(name)):
        key = feed_key(ref, FeedFormat.ATOM, site)
        assert key.startswith("feed/by_tag/" if ref.kind.value == "tag" else "feed/")
        assert key.count("/") == (2 if ref.kind.value == "tag" else 1)  # one segment: never a folder of its own
        assert key in pipeline.feed_keys()
        assert [i["title"] for i in json_items(pipeline, ref)] == ["Named"]
    # the name is shown as written (the title of its feed), not the key it is stored under
    document = json.loads(pipeline.feed(feed_key(FeedRef.category(name), FeedFormat.JSON, site)) or b"{}")
    # (jekyll-feed's title: smartified, `capitalize`d, markup stripped; never the hashed key segment)
    assert document["title"] == feed_title(FeedRef.category(name), site)
    if name.isprintable() and not set(name) & set("<>-.'\"&"):
        assert name[:50].lower() in document["title"].lower()


def test_an_empty_name_makes_no_feed(pipeline: LocalPipeline) -> None:
    item = deliver(pipeline, b'---\ntitle: Empty\ncategories: ["", emnews]\ntags: [""]\n---\nbody\n')
    assert item["entry"]["categories"] == ["emnews"]
    assert item["entry"]["tags"] == []
    assert [k for k in pipeline.feed_keys() if k.startswith("feed/") and "archive" not in k] == [
        "feed/emnews.html",
        "feed/emnews.json",
        "feed/emnews.rss",
        "feed/emnews.xml",
    ]


def test_names_that_differ_only_in_invisible_characters_get_different_feeds(pipeline: LocalPipeline) -> None:
    deliver(pipeline, b"---\ntitle: One\ncategories: [ab]\n---\nbody\n", key="_posts/2026-11-01-one.md")
    deliver(pipeline, with_names("a\u200bb"), key="_posts/2026-11-02-two.md")
    assert [i["title"] for i in json_items(pipeline, FeedRef.category("ab"))] == ["One"]
    assert [i["title"] for i in json_items(pipeline, FeedRef.category("a\u200bb"))] == ["Named"]


def test_a_surrogate_escape_in_a_name_is_recorded_not_retried(pipeline: LocalPipeline) -> None:
    # `json.dumps("🚀")` writes "\\ud83d\\ude80": YAML reads that as two lone surrogates (libyaml, Jekyll's
    # parser, refuses it): a YAML error on its line that says what to write instead, recorded, never retried.
    item = deliver(pipeline, f"---\ntitle: Rocket\ncategories: [{json.dumps('🚀')}]\n---\nbody\n".encode())
    assert item["state"] == "error"
    assert item["error"]["code"] == "yaml_syntax"
    assert "line 3" in item["error"]["message"]
    assert "\\ud83d" in item["error"]["message"]
    assert pipeline.feed_keys() == []


LONG = "长" * 10_000  # 30 KB of UTF-8


def test_a_ten_thousand_character_tag_gets_a_hashed_feed(pipeline: LocalPipeline) -> None:
    item = deliver(pipeline, f"---\ntitle: Long tag\ntags: [{quoted(LONG)}]\n---\nbody\n".encode())
    assert item["state"] == "published"
    key = feed_key(FeedRef.tag(LONG), FeedFormat.ATOM, site_of(pipeline))
    assert key.startswith("feed/by_tag/长")
    assert "~" in key  # shortened and hashed
    assert len(key.encode()) < 200
    assert [i["title"] for i in json_items(pipeline, FeedRef.tag(LONG))] == ["Long tag"]


def test_a_ten_thousand_character_category_is_too_much_metadata(pipeline: LocalPipeline) -> None:
    # A category is part of the permalink too (url, absolute URL and id, percent-encoded: 9 bytes a character)
    item = deliver(pipeline, f"---\ntitle: Long category\ncategories: [{quoted(LONG)}]\n---\nbody\n".encode())
    message = assert_rejected(item, "metadata_too_large")
    assert "the limit is 300,000" in message
    assert pipeline.feed_keys() == []
