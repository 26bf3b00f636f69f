"""Hostile dates: ones Jekyll cannot read (refused as Jekyll stops its build), ones Ruby rolls over (the same
result as Jekyll), and the ends of the calendar."""

from __future__ import annotations

from datetime import datetime

from postfeed.models import FeedRef
from postfeed_tools.local.pipeline import LocalPipeline
from tests.hostile.checks import assert_rejected, deliver, json_items


def dated(date: str) -> bytes:
    return f"---\ntitle: Dated\ncategories: emnews\ndate: {date}\n---\nbody\n".encode()


def published_date(pipeline: LocalPipeline) -> datetime:
    (item,) = json_items(pipeline, FeedRef.category("emnews"))
    return datetime.fromisoformat(item["date_published"])


def test_an_offset_alone_is_not_a_date(pipeline: LocalPipeline) -> None:
    message = assert_rejected(deliver(pipeline, dated("+0800")), "invalid_date")
    assert "'+0800'" in message


def test_an_empty_date_is_not_a_date(pipeline: LocalPipeline) -> None:
    assert_rejected(deliver(pipeline, dated("")), "invalid_date")


def test_february_30_rolls_over_to_march_1_as_in_ruby(pipeline: LocalPipeline) -> None:
    assert deliver(pipeline, dated("2024-02-30 10:00:00 +0800"))["state"] == "published"
    assert published_date(pipeline) == datetime.fromisoformat("2024-03-01T10:00:00+08:00")


def test_hour_25_rolls_over_to_the_next_day_as_in_ruby(pipeline: LocalPipeline) -> None:
    assert deliver(pipeline, dated("2024-03-01 25:00:00 +0800"))["state"] == "published"
    assert published_date(pipeline) == datetime.fromisoformat("2024-03-02T01:00:00+08:00")


def test_year_one_is_published(pipeline: LocalPipeline) -> None:
    assert deliver(pipeline, dated("0001-01-01 00:00:00 +0000"))["state"] == "published"
    assert published_date(pipeline).year == 1


def test_year_9999_is_published(pipeline: LocalPipeline) -> None:
    assert deliver(pipeline, dated("9999-06-01 12:00:00 +0800"))["state"] == "published"
    assert published_date(pipeline) == datetime.fromisoformat("9999-06-01T12:00:00+08:00")


def test_the_last_second_of_9999_utc_is_past_the_calendar_in_the_site_zone(pipeline: LocalPipeline) -> None:
    # In Asia/Shanghai this is 10000-01-01 07:59:59: beyond what the feeds' dates can express
    message = assert_rejected(deliver(pipeline, dated("9999-12-31 23:59:59 +0000")), "invalid_date")
    assert "1-9999" in message


def test_a_post_dated_year_one_and_one_dated_9999_share_a_feed_in_order(pipeline: LocalPipeline) -> None:
    deliver(pipeline, dated("0001-01-01 00:00:00 +0000"), key="_posts/2026-11-01-first.md")
    deliver(pipeline, dated("9999-06-01 12:00:00 +0800"), key="_posts/2026-11-02-last.md")
    years = [datetime.fromisoformat(i["date_published"]).year for i in json_items(pipeline, FeedRef.category("emnews"))]
    assert years == [9999, 1]
