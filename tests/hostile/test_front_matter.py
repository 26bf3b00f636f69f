"""Hostile front matter: unclosed, not a mapping, YAML errors, alias bombs, hundreds of categories."""

from __future__ import annotations

import time

import pytest

from postfeed.models import FeedRef
from postfeed_tools.local.pipeline import LocalPipeline
from tests.hostile.checks import assert_rejected, deliver, published_titles


def test_front_matter_without_closing_dashes_is_all_content(pipeline: LocalPipeline) -> None:
    # Jekyll: no closing --- means no front matter; the whole file is content and the title comes from the name
    item = deliver(pipeline, b"---\ntitle: Never closed\ncategories: emnews\n\nThe body.\n")
    assert item["state"] == "published"
    assert published_titles(pipeline) == ["Hostile"]
    assert published_titles(pipeline, FeedRef.category("emnews")) == []
    assert any("no closing ---" in warning for warning in item["warnings"])


def test_front_matter_that_is_a_list_is_rejected(pipeline: LocalPipeline) -> None:
    message = assert_rejected(deliver(pipeline, b"---\n- title\n- categories\n---\nbody\n"), "front_matter_not_mapping")
    assert "list" in message


def test_front_matter_that_is_a_scalar_is_rejected(pipeline: LocalPipeline) -> None:
    message = assert_rejected(deliver(pipeline, b"---\njust a sentence\n---\nbody\n"), "front_matter_not_mapping")
    assert "scalar" in message


def test_unescaped_quote_in_title_is_a_yaml_error_with_its_line(pipeline: LocalPipeline) -> None:
    item = deliver(pipeline, '---\nlayout: post\ntitle: "央行"逆回购"\n---\nbody\n'.encode())
    message = assert_rejected(item, "yaml_syntax")
    assert item["error"]["line"] == 3
    assert "line 3" in message


def test_yaml_tab_indentation_is_a_yaml_error(pipeline: LocalPipeline) -> None:
    assert_rejected(deliver(pipeline, b"---\ntitle: x\ncategories:\n\t- a\n---\nbody\n"), "yaml_syntax")


def test_alias_bomb_is_refused_quickly(pipeline: LocalPipeline) -> None:
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for name, previous in zip("bcdefghi", "abcdefgh", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    started = time.monotonic()
    item = deliver(pipeline, ("---\n" + "\n".join(levels) + "\n---\nbody\n").encode())
    assert_rejected(item, "yaml_alias_bomb")
    assert time.monotonic() - started < 10  # 10^9 nodes never built


def test_python_object_tag_is_refused(pipeline: LocalPipeline) -> None:
    body = b"---\ntitle: !!python/object/apply:os.system ['touch /tmp/pwned']\n---\nbody\n"
    assert_rejected(deliver(pipeline, body), "yaml_unsupported_tag")


def test_five_hundred_categories_are_refused_with_the_limit(pipeline: LocalPipeline) -> None:
    categories = " ".join(f"c{i:03d}" for i in range(500))
    item = deliver(pipeline, f"---\ntitle: Everywhere\ncategories: {categories}\n---\nbody\n".encode())
    message = assert_rejected(item, "too_many_feeds")
    assert "500 categories" in message
    assert "at most 98 categories and tags" in message
    assert pipeline.feed_keys() == []


def test_too_many_feeds_keeps_the_earlier_good_version(pipeline: LocalPipeline) -> None:
    deliver(pipeline, b"---\ntitle: Modest\ncategories: emnews\n---\nbody\n")
    categories = " ".join(f"c{i:03d}" for i in range(150))
    item = deliver(pipeline, f"---\ntitle: Greedy\ncategories: {categories}\n---\nbody\n".encode())
    assert item["state"] == "published"
    assert item["error"]["code"] == "too_many_feeds"
    assert published_titles(pipeline, FeedRef.category("emnews")) == ["Modest"]


def test_a_parser_crash_is_recorded_not_retried(pipeline: LocalPipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a parser bug: some bytes make it raise (it is pure, so they would fail every retry)
    import postfeed.jekyll

    def crash(*_: object, **__: object) -> None:
        raise UnicodeEncodeError("utf-8", "\ud83d", 0, 1, "surrogates not allowed")

    monkeypatch.setattr(postfeed.jekyll, "parse_post", crash)
    # WHEN such a post arrives, THEN it is recorded as an error, not retried into the DLQ
    message = assert_rejected(deliver(pipeline, b"---\ntitle: x\n---\nbody\n"), "parse_failed")
    assert "UnicodeEncodeError" in message


def test_ninety_eight_categories_and_tags_are_published(pipeline: LocalPipeline) -> None:
    categories = " ".join(f"c{i:02d}" for i in range(90))
    tags = " ".join(f"t{i}" for i in range(8))
    item = deliver(pipeline, f"---\ntitle: Wide\ncategories: {categories}\ntags: {tags}\n---\nbody\n".encode())
    assert item["state"] == "published"
    assert published_titles(pipeline, FeedRef.category("c89")) == ["Wide"]
    assert published_titles(pipeline, FeedRef.tag("t7")) == ["Wide"]
