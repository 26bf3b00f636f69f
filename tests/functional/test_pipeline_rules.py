"""The pipeline's rules, end to end on moto: edits, moves, deletes, unchanged uploads, rejections,
sizes, ignored events, configuration."""

from __future__ import annotations

import json

import feedparser
import pytest

from postfeed_tools.local.calls import CallCounter
from postfeed_tools.local.pipeline import LocalPipeline

KEY = "_posts/2026-11-27-liquidity.md"


def post(
    title: str = "央行开展逆回购操作",
    categories: str = "yangxingwangzhan",
    tags: str = "央行公告",
    date: str = "2026-11-27 09:30:00 +0800",
    body: str = "<p>央行今日开展逆回购操作。</p>",
) -> bytes:
    return (
        f'---\nlayout: post\ntitle: "{title}"\ndate: {date}\ncategories: {categories}\ntags: {tags}\n---\n{body}\n'
    ).encode()


def entries(pipeline: LocalPipeline, key: str) -> list[str]:
    document = pipeline.feed(key)
    assert document is not None, f"{key} missing"
    parsed = feedparser.parse(document)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return [entry.title for entry in parsed.entries]


def test_edit_moves_post_between_category_feeds(pipeline: LocalPipeline) -> None:
    # GIVEN a post in category A
    pipeline.upload(KEY, post(categories="cailianshe"))
    pipeline.settle()
    assert entries(pipeline, "feed/cailianshe.xml") == ["央行开展逆回购操作"]
    # WHEN it is re-uploaded in category B with a new title
    pipeline.upload(KEY, post(title="逆回购操作加码", categories="emnews"))
    pipeline.settle()
    # THEN it has left A (whose feed stays, valid and empty) and is in B and the site feed once
    assert entries(pipeline, "feed/cailianshe.xml") == []
    assert entries(pipeline, "feed/emnews.xml") == ["逆回购操作加码"]
    assert entries(pipeline, "feed.xml") == ["逆回购操作加码"]


def test_delete_takes_post_out_of_every_feed(pipeline: LocalPipeline) -> None:
    pipeline.upload(KEY, post())
    pipeline.upload("_posts/2026-11-26-other.md", post(title="另一篇", categories="emnews", tags="港股"))
    pipeline.settle()
    pipeline.delete(KEY)
    pipeline.settle()
    assert entries(pipeline, "feed.xml") == ["另一篇"]
    assert entries(pipeline, "feed/yangxingwangzhan.xml") == []
    assert entries(pipeline, "feed/by_tag/央行公告.rss") == []
    item = pipeline.table.get_post(KEY)
    assert item is not None
    assert item["state"] == "deleted"


def test_unchanged_reupload_writes_and_regenerates_nothing(pipeline: LocalPipeline) -> None:
    pipeline.upload(KEY, post())
    pipeline.settle()
    counter = CallCounter().install()
    # WHEN the bot uploads the same bytes again (it rewrites every post every five minutes)
    pipeline.upload(KEY, post())
    pipeline.settle()
    # THEN nothing is written: no table write, no feed put
    calls = counter.reset()
    assert calls["s3.PutObject"] == 0
    assert calls["dynamodb.TransactWriteItems"] == 0
    assert calls["dynamodb.PutItem"] == 0


def test_an_edit_puts_only_the_documents_whose_bytes_changed(pipeline: LocalPipeline) -> None:
    pipeline.upload(KEY, post())
    pipeline.upload("_posts/2026-11-26-other.md", post(title="另一篇", categories="emnews", tags="港股"))
    pipeline.settle()
    counter = CallCounter().install()
    pipeline.upload("_posts/2026-11-26-other.md", post(title="另一篇（更新）", categories="emnews", tags="港股"))
    pipeline.settle()
    # site, emnews and 港股 feeds change, in three formats and their HTML page, and the archive page holding the
    # post in each (Atom and RSS); yangxingwangzhan and 央行公告 do not, nor does the index (same feeds, same counts)
    assert counter["s3.PutObject"] == 3 * 4 + 3 * 2


def test_rejected_post_is_recorded_and_keeps_its_good_version(pipeline: LocalPipeline) -> None:
    # GIVEN a good version in the feeds
    pipeline.upload(KEY, post())
    pipeline.settle()
    # WHEN a broken version arrives (unescaped quote in the title), beside a good post in the same batch
    pipeline.upload(KEY, post(title='央行"逆回购'))
    pipeline.upload("_posts/2026-11-26-other.md", post(title="另一篇", categories="emnews"))
    pipeline.settle()
    # THEN the error is recorded under the key and queryable, the good version stays, the batch went on
    (rejected,) = list(pipeline.table.rejected_posts())
    assert rejected["key"] == KEY
    assert rejected["error"]["code"] == "yaml_syntax"
    assert KEY in rejected["error"]["message"]
    assert entries(pipeline, "feed/yangxingwangzhan.xml") == ["央行开展逆回购操作"]
    assert "另一篇" in entries(pipeline, "feed.xml")
    # AND a fixed upload clears the rejection
    pipeline.upload(KEY, post(title="央行逆回购（修正）"))
    pipeline.settle()
    assert list(pipeline.table.rejected_posts()) == []
    assert entries(pipeline, "feed/yangxingwangzhan.xml") == ["央行逆回购（修正）"]


def test_skipped_post_leaves_the_feeds_with_its_reason(pipeline: LocalPipeline) -> None:
    pipeline.upload(KEY, post())
    pipeline.settle()
    pipeline.upload(KEY, post().replace(b"layout: post\n", b"layout: post\npublished: false\n"))
    pipeline.settle()
    assert entries(pipeline, "feed.xml") == []
    item = pipeline.table.get_post(KEY)
    assert item is not None
    assert item["state"] == "skipped"
    assert item["skip"]["reason"] == "unpublished"


def test_one_mebibyte_post_goes_through_and_twenty_is_rejected(pipeline: LocalPipeline) -> None:
    # A post just under 1 MiB: paragraphs of varied text (compresses, but not to nothing)
    paragraphs = "".join(
        f"<p>第{i}段：市场成交额{i * 7919 % 100000}亿元，指数收涨{i % 97}点。</p>\n" for i in range(14500)
    )
    big = post(body=paragraphs)
    assert 900_000 < len(big) <= 1024 * 1024
    pipeline.upload(KEY, big)
    huge_key = "_posts/2026-11-25-huge.md"
    pipeline.upload(huge_key, post(body="<p>" + "数据" * (10 * 1024 * 1024 // 3) + "</p>"))
    pipeline.settle()
    document = json.loads(pipeline.feed("feed/yangxingwangzhan.json") or b"{}")
    (item,) = document["items"]
    assert item["content_html"].count("<p>") == 14500
    rejected = pipeline.table.get_post(huge_key)
    assert rejected is not None
    assert rejected["error"]["code"] == "post_too_large"
    assert "1,048,576" in rejected["error"]["message"]


def test_keys_outside_the_prefix_and_test_events_are_ignored(pipeline: LocalPipeline) -> None:
    # moto sends an s3:TestEvent when notifications are configured: it is already in the queue
    pipeline.s3.put_object(Bucket=pipeline.stack.posts_bucket, Key="drafts/2026-11-27-x.md", Body=post())
    pipeline.s3.put_object(Bucket=pipeline.stack.posts_bucket, Key="_posts/", Body=b"")
    delivery = pipeline.settle()
    assert delivery.sqs_failures == 0
    assert pipeline.feed_keys() == []


def test_site_config_in_the_bucket_wins_over_template_parameters(pipeline: LocalPipeline) -> None:
    config = "title: 财经快讯\nurl: https://news.example.org\ntimezone: Asia/Shanghai\nlang: zh-CN\n"
    pipeline.upload("_config.yml", config.encode())
    pipeline.settle()
    pipeline.upload(KEY, post())
    pipeline.settle()
    parsed = feedparser.parse(pipeline.feed("feed.xml"))
    assert parsed.feed.title == "财经快讯"
    assert parsed.entries[0].link.startswith("https://news.example.org/yangxingwangzhan/2026/11/27/")


def test_broken_config_is_rejected_and_the_previous_one_stays(pipeline: LocalPipeline) -> None:
    pipeline.upload("_config.yml", b"title: [unclosed\n")
    pipeline.settle()
    pipeline.upload(KEY, post())
    pipeline.settle()
    parsed = feedparser.parse(pipeline.feed("feed.xml"))
    assert parsed.feed.title == "金融消息"  # the template parameter


@pytest.mark.parametrize("name", ["2026-11-27-a b.md", "2026-11-27-加息+降准.md"])
def test_keys_with_spaces_plus_and_chinese_are_decoded(pipeline: LocalPipeline, name: str) -> None:
    pipeline.upload(f"_posts/{name}", post())
    pipeline.settle()
    item = pipeline.table.get_post(f"_posts/{name}")
    assert item is not None
    assert item["state"] == "published"


def test_incompressible_post_is_stored_in_chunks_and_read_back_whole(pipeline: LocalPipeline) -> None:
    import random

    # GIVEN ~1 MiB of text that zlib cannot shrink below DynamoDB's item limit
    rng = random.Random(7)
    text = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(330_000))
    pipeline.upload(KEY, post(body=f"<p>{text}</p>"))
    pipeline.settle()
    item = pipeline.table.get_post(KEY)
    assert item is not None
    assert item["entry"]["chunks"] >= 2
    document = json.loads(pipeline.feed("feed/yangxingwangzhan.json") or b"{}")
    assert text in document["items"][0]["content_html"]
    # WHEN it shrinks again, the extra chunk items go
    pipeline.upload(KEY, post(body="<p>短文</p>"))
    pipeline.settle()
    item = pipeline.table.get_post(KEY)
    assert item is not None
    assert item["entry"]["chunks"] == 0
    assert pipeline.table.get_content(KEY, 99) == b""
