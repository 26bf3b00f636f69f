"""Hostile bytes: empty, binary, wrong encodings, BOM, line endings, sizes. Each through the whole pipeline
(upload, settle) and ending in correct feeds or a recorded error with a specific code, never a failed
batch, an invalid feed or a key outside the feed paths (checks.deliver)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from postfeed.models import FeedRef
from postfeed_tools.local.pipeline import LocalPipeline
from tests.hostile.checks import KEY, assert_rejected, deliver, json_items, published_titles

MIB = 1024 * 1024


def test_empty_file_is_a_post_titled_after_its_name(pipeline: LocalPipeline) -> None:
    # Jekyll reads an empty file in _posts as a post with no front matter: title from the slug
    item = deliver(pipeline, b"")
    assert item["state"] == "published"
    assert published_titles(pipeline) == ["Hostile"]


def test_binary_data_is_rejected(pipeline: LocalPipeline) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8
    assert_rejected(deliver(pipeline, png), "binary")
    assert pipeline.feed_keys() == []


def test_invalid_utf8_is_rejected_with_its_place(pipeline: LocalPipeline) -> None:
    message = assert_rejected(deliver(pipeline, b"---\ntitle: ok\n---\nbad \xff\xfe here\n"), "invalid_utf8")
    assert "byte 22" in message
    assert "line 4" in message


def test_gbk_encoded_text_is_rejected(pipeline: LocalPipeline) -> None:
    gbk = "---\ntitle: 央行开展逆回购操作\ncategories: yangxingwangzhan\n---\n央行今日开展逆回购操作。\n".encode("gbk")
    assert_rejected(deliver(pipeline, gbk), "invalid_utf8")


def test_utf8_bom_is_ignored(pipeline: LocalPipeline) -> None:
    item = deliver(pipeline, "\ufeff---\ntitle: 带BOM的文章\ncategories: emnews\n---\n正文\n".encode())
    assert item["state"] == "published"
    assert published_titles(pipeline, FeedRef.category("emnews")) == ["带BOM的文章"]


def test_crlf_line_endings_read_as_lf(pipeline: LocalPipeline) -> None:
    body = b"---\r\ntitle: Windows\r\ncategories: emnews\r\n---\r\nfirst\r\n\r\nsecond\r\n"
    assert deliver(pipeline, body)["state"] == "published"
    (item,) = json_items(pipeline, FeedRef.category("emnews"))
    assert item["title"] == "Windows"
    assert "\r" not in item["content_html"]


def test_mixed_line_endings_read_as_lf(pipeline: LocalPipeline) -> None:
    body = b"---\ntitle: Mixed\r\ncategories: emnews\rtags: old-mac\n---\r\nline one\rline two\n"
    assert deliver(pipeline, body)["state"] == "published"
    assert published_titles(pipeline, FeedRef.tag("old-mac")) == ["Mixed"]


def test_one_mebibyte_post_is_published(pipeline: LocalPipeline) -> None:
    head = b"---\ntitle: A mebibyte\ncategories: emnews\n---\n"
    paragraph = "<p>市场成交额{0:08d}亿元，指数收涨。</p>\n"
    lines = [paragraph.format(i).encode() for i in range(MIB // len(paragraph.format(0).encode()) + 1)]
    body = (head + b"".join(lines))[:MIB].decode(errors="ignore").encode()  # whole characters only
    body += b" " * (MIB - len(body))
    assert len(body) == MIB  # exactly the limit: still accepted
    assert deliver(pipeline, body)["state"] == "published"
    (item,) = json_items(pipeline, FeedRef.category("emnews"))
    assert item["content_html"].count("<p>") > 19_000


class GetObjectRecorder:
    """The Range the functions ask S3 for, and how many bytes S3 sent back (hooks on their session)."""

    def __init__(self) -> None:
        self.ranges: list[str | None] = []
        self.lengths: list[int] = []

    def _before(self, params: dict[str, Any], **_: Any) -> None:
        self.ranges.append(params.get("headers", {}).get("Range"))

    def _after(self, parsed: dict[str, Any], **_: Any) -> None:
        self.lengths.append(int(parsed.get("ContentLength", 0)))

    @classmethod
    def installed(cls) -> Iterator[GetObjectRecorder]:
        from postfeed.store.clients import reset_clients, session

        recorder = cls()
        reset_clients()  # clients copy their session's hooks when built
        session().events.register("before-call.s3.GetObject", recorder._before)
        session().events.register("after-call.s3.GetObject", recorder._after)
        try:
            yield recorder
        finally:
            reset_clients()


@pytest.fixture
def get_objects() -> Iterator[GetObjectRecorder]:
    yield from GetObjectRecorder.installed()


def test_twenty_mebibyte_post_is_rejected_without_reading_it(
    pipeline: LocalPipeline, get_objects: GetObjectRecorder
) -> None:
    huge = b"---\ntitle: Huge\n---\n" + b"x" * (20 * MIB)
    message = assert_rejected(deliver(pipeline, huge), "post_too_large")
    assert "1,048,576" in message
    # one ranged read of the first MiB + 1 byte told the size; the rest never left S3
    assert get_objects.ranges == [f"bytes=0-{MIB}"]
    assert get_objects.lengths == [MIB + 1]
    assert pipeline.feed_keys() == []


def test_an_oversized_upload_keeps_the_earlier_good_version(pipeline: LocalPipeline) -> None:
    deliver(pipeline, b"---\ntitle: Good\ncategories: emnews\n---\nfine\n")
    item = deliver(pipeline, b"---\ntitle: Huge\n---\n" + b"x" * (2 * MIB))
    assert item["state"] == "published"  # the earlier version stays in the feeds
    assert item["error"]["code"] == "post_too_large"
    assert published_titles(pipeline, FeedRef.category("emnews")) == ["Good"]


def test_the_hostile_key_is_the_only_one(pipeline: LocalPipeline) -> None:
    # the catalogue's posts all use one key: an error recorded under it names it
    item = deliver(pipeline, b"\x00" * 64)
    assert item["key"] == KEY
    assert item["error"]["code"] in ("binary", "nul_byte")
