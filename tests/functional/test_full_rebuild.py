"""Full rebuild on moto: a new `_config.yml` (or `postfeed rebuild`) re-derives every post and re-renders
every feed, archive page and the index, fanned out through the ingest queue in bounded, resumable batches."""

from __future__ import annotations

import json
import logging
from collections import Counter
from typing import Any

import boto3
import feedparser
import pytest

from postfeed.models import FeedRef
from postfeed.pipeline import reparse
from postfeed.pipeline.ingest import ingest_change as real_ingest_change
from postfeed.store.items import POST_SK
from postfeed.store.pages import FeedPages
from postfeed.store.table import from_attributes
from postfeed_tools import cli
from postfeed_tools.local.pipeline import LocalPipeline
from tests.functional.conftest import FEED_BASE_URL, FINEWS_PARAMETERS
from tests.functional.test_archives import walk
from tests.functional.test_pipeline_rules import post

POSTS = {
    "_posts/2026-09-10-a.md": post(title="甲", categories="emnews", tags="港股", date="2026-09-10 09:00:00 +0800"),
    "_posts/2026-10-11-b.md": post(title="乙", categories="emnews", tags="港股", date="2026-10-11 09:00:00 +0800"),
    "_posts/2026-11-12-c.md": post(title="丙", categories="cailianshe", tags="A股", date="2026-11-12 00:30:00 +0800"),
}
NEW_CONFIG = b"""title: \xe6\x96\xb0\xe6\xa0\x87\xe9\xa2\x98
url: https://news.example.org
timezone: UTC
permalink: /:categories/:title/
feed:
  posts_limit: 2
"""


def publish(pipeline: LocalPipeline, posts: dict[str, bytes]) -> None:
    for key, body in posts.items():
        pipeline.upload(key, body)
    pipeline.settle()


def post_items(pipeline: LocalPipeline) -> dict[str, dict[str, Any]]:
    client, items = pipeline.table.client, {}
    kwargs: dict[str, Any] = {"TableName": pipeline.table.name}
    while True:
        page = client.scan(**kwargs)
        for raw in page["Items"]:
            item = from_attributes(raw)
            if item["sk"] == POST_SK:
                items[item["key"]] = item
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def progress(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("full rebuild")]


@pytest.fixture(autouse=True)
def info_logs(caplog: pytest.LogCaptureFixture) -> None:
    """The ingest function's INFO records, whatever level an earlier test in this process left its logger at
    (Powertools configures a service's logger once per process)."""
    caplog.set_level(logging.INFO, logger="postfeed-ingest")


def test_a_new_config_rederives_every_post_and_rebuilds_every_feed(
    pipeline: LocalPipeline, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN three published posts under the template's settings
    publish(pipeline, POSTS)
    assert feedparser.parse(pipeline.feed("feed.xml")).feed.title == "金融消息"
    # WHEN a _config.yml arrives with another url, title, zone, permalink and posts_limit
    pipeline.upload("_config.yml", NEW_CONFIG)
    pipeline.settle()
    # THEN every post's URL and date are derived again (UTC: c's local 00:30 is the day before)
    site = feedparser.parse(pipeline.feed("feed.xml"))
    assert site.bozo == 0
    assert site.feed.title == "新标题"
    assert [e.link for e in site.entries] == [
        "https://news.example.org/cailianshe/c/",
        "https://news.example.org/emnews/b/",
    ]  # the new permalink, and posts_limit 2
    assert site.entries[0].published.startswith("2026-11-11T16:30:00")
    # AND every category and tag feed, every archive page and the index were rendered again
    for stem in ("feed/emnews", "feed/by_tag/港股", "feed/cailianshe", "feed/by_tag/A股"):
        assert feedparser.parse(pipeline.feed(f"{stem}.xml")).feed.title.startswith("新标题 | ")
        for key, page in walk(pipeline, f"{stem}.xml"):
            assert page.findtext("{http://www.w3.org/2005/Atom}title").startswith("新标题 | "), key
            assert "https://news.example.org/" in (pipeline.feed(key) or b"").decode()
    index = (pipeline.feed("index.html") or b"").decode()
    assert "新标题 | Emnews" in index
    assert "金融消息" not in index
    # AND every post item was re-ingested by one generation, logged as it went
    generations = {item.get("generation") for item in post_items(pipeline).values()}
    assert len(generations) == 1
    assert None not in generations
    messages = progress(caplog)
    assert any("3 posts planned in 1 batches" in m for m in messages), messages
    assert any("posts 1-3 re-ingested" in m for m in messages), messages


def test_the_same_config_again_starts_no_rebuild(pipeline: LocalPipeline, caplog: pytest.LogCaptureFixture) -> None:
    publish(pipeline, POSTS)
    pipeline.upload("_config.yml", NEW_CONFIG)
    pipeline.settle()
    started = len(progress(caplog))
    # WHEN the bot uploads the same _config.yml again
    pipeline.upload("_config.yml", NEW_CONFIG)
    pipeline.settle()
    # THEN nothing is re-ingested
    assert len(progress(caplog)) == started
    assert any(r.getMessage() == "put _config.yml: unchanged" for r in caplog.records)


def test_a_full_rebuild_fans_out_in_bounded_batches_and_retries_a_failed_batch_alone(
    pipeline: LocalPipeline, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN seven posts, plan steps of 3 keys and batches of 2
    posts = {
        f"_posts/2026-11-{day:02d}-p{day}.md": post(title=f"第{day}条", date=f"2026-11-{day:02d} 09:00:00 +0800")
        for day in range(1, 8)
    }
    publish(pipeline, posts)
    monkeypatch.setattr(reparse, "PLAN_KEYS", 3)
    monkeypatch.setattr(reparse, "BATCH_KEYS", 2)
    # AND a batch whose second post fails once (an AWS error, say)
    calls: Counter[str] = Counter()
    real = real_ingest_change
    flaky = "_posts/2026-11-05-p5.md"  # the second post of the batch "posts 4-5"

    def ingest_change(change: Any, **kwargs: Any) -> Any:
        calls[change.key] += 1
        if change.key == flaky and calls[change.key] == 1:
            raise RuntimeError("injected: throttled")
        return real(change, **kwargs)

    monkeypatch.setattr(reparse, "ingest_change", ingest_change)
    # WHEN a full rebuild runs
    assert cli.main(["rebuild", "--queue-url", pipeline.stack.queue_url]) == 0
    delivery = pipeline.settle()
    # THEN three plan steps enqueued five batches; only the failed batch ran twice
    messages = progress(caplog)
    assert sum("planned" in m for m in messages) == 3
    assert sorted(m.split(": ", 1)[1] for m in messages if "re-ingested" in m) == [
        "posts 1-2 re-ingested",
        "posts 3-3 re-ingested",
        "posts 4-5 re-ingested",
        "posts 6-6 re-ingested",
        "posts 7-7 re-ingested",
    ]
    assert calls == {key: 2 if key in ("_posts/2026-11-04-p4.md", flaky) else 1 for key in posts}
    assert delivery.sqs_failures == 1
    # (the retry found p4 already re-ingested by this generation: unchanged, nothing written)
    (retried,) = [r for r in caplog.records if r.getMessage().endswith("posts 4-5 re-ingested")]
    assert retried.__dict__["actions"] == {"unchanged": 1, "published": 1}
    # AND every post carries the rebuild's generation; the feeds are whole
    assert len({item.get("generation") for item in post_items(pipeline).values()}) == 1
    assert len(feedparser.parse(pipeline.feed("feed.xml")).entries) == 7


def test_postfeed_rebuild_restores_archive_pages_a_deployment_never_wrote(aws: None) -> None:
    # GIVEN feeds whose archive pages are missing (published before archives existed); one entry a feed, so
    # the older ones live on archive pages (a feed that shows every entry is complete and has none)
    pipeline = LocalPipeline.create(parameters={**FINEWS_PARAMETERS, "PostsLimit": "1"}, feed_base_url=FEED_BASE_URL)
    publish(pipeline, POSTS)
    pages = FeedPages(pipeline.table)
    for key in pipeline.feed_keys():
        if "/archive/" in key:
            pipeline.s3.delete_object(Bucket=pipeline.stack.feeds_bucket, Key=key)
    for raw in pipeline.table.client.scan(TableName=pipeline.table.name)["Items"]:
        item = from_attributes(raw)
        if item["sk"].startswith("~PAGE#"):
            pipeline.table.client.delete_item(TableName=pipeline.table.name, Key={"pk": raw["pk"], "sk": raw["sk"]})
    assert pages.newest_page(FeedRef.site()) is None
    # WHEN `postfeed rebuild` runs
    assert cli.main(["rebuild", "--queue-url", pipeline.stack.queue_url]) == 0
    pipeline.settle()
    # THEN every feed has its archive chain again
    assert [k.rsplit("/", 1)[1] for k, _ in walk(pipeline, "feed.xml")] == ["2026-11.xml", "2026-10.xml", "2026-09.xml"]
    assert len(walk(pipeline, "feed/by_tag/港股.rss", rss=True)) == 2


def test_postfeed_rebuild_finds_the_ingest_queue_in_the_stack_outputs(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    template = {
        "Resources": {"IngestQueue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {"IngestQueueUrl": {"Value": {"Ref": "IngestQueue"}}},
    }
    cloudformation.create_stack(StackName="blog", TemplateBody=json.dumps(template))
    assert cli.main(["rebuild", "--stack", "blog", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    sqs = boto3.client("sqs", region_name="us-east-1")
    (message,) = sqs.receive_message(QueueUrl=result["queue_url"])["Messages"]
    body = json.loads(message["Body"])
    assert body["postfeed"] == "reparse"
    assert body["generation"] == result["generation"]
    assert "keys" not in body
    # AND a stack without the output, or no stack at all, is a clear error
    assert cli.main(["rebuild", "--stack", "missing"]) == 2
    assert "missing" in capsys.readouterr().err
