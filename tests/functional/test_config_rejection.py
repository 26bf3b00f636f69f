"""A `_config.yml` that cannot be read, on moto: recorded as a rejected post is (code, message, line; the
`rejected` index, the ingest log, `postfeed run`'s report), the last good config stays in force with no rebuild
started, and the next good upload clears the record. And the full rebuild a new config starts survives a
SendMessage that fails: the retry sends it."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import feedparser
import pytest

from postfeed.pipeline.ingest import current_site
from postfeed_tools.local.aws import create_pipeline
from postfeed_tools.local.faults import FaultInjector, FaultKind, FaultRule
from postfeed_tools.local.pipeline import LocalPipeline
from postfeed_tools.local.runner import run_site
from postfeed_tools.local.sitefiles import collect_site
from tests.functional.test_faults import RETRY_ATTEMPTS
from tests.functional.test_handler_failures import function_logs  # noqa: F401 - autouse: the JSON log on capsys
from tests.functional.test_pipeline_failures import pipeline_settings
from tests.functional.test_pipeline_rules import KEY, post

CONFIG = "_config.yml"
GOOD = b"title: Good Site\nurl: https://news.example.org\n"
NEWER = b"title: Newer Site\nurl: https://news.example.org\n"
NESTED = b"title: " + b"[" * 20_000 + b"]" * 20_000 + b"\n"  # issue 14: once a RecursionError, then the DLQ
TEMPLATE_TITLE = "金融消息"  # FINEWS_PARAMETERS' SiteTitle


def site_title(pipeline: LocalPipeline) -> str:
    return str(feedparser.parse(pipeline.feed("feed.xml")).feed.title)


def settings_in_force(pipeline: LocalPipeline) -> str:
    """The fingerprint of the settings posts are read under (it changes whenever they do)."""
    return current_site(pipeline_settings(pipeline), pipeline.table)[1]


def ingest_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("service") == "postfeed-ingest"]


@pytest.fixture
def good_site(pipeline: LocalPipeline) -> LocalPipeline:
    pipeline.upload(CONFIG, GOOD)
    pipeline.upload(KEY, post())
    pipeline.settle()
    assert site_title(pipeline) == "Good Site"
    return pipeline


def test_a_nested_config_is_recorded_and_the_last_good_one_stays(
    good_site: LocalPipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    pipeline = good_site
    before, fingerprint = pipeline.table.get_config(), settings_in_force(pipeline)
    assert before is not None
    capsys.readouterr()
    # WHEN a config nested 20,000 deep arrives
    with FaultInjector([]) as calls:
        pipeline.upload(CONFIG, NESTED)
        delivery = pipeline.settle()
    # THEN the event did not fail (nothing goes to the dead-letter queue) and no rebuild was started
    assert delivery.sqs_failures == 0
    assert calls.requests["sqs.SendMessage"] == calls.requests["sqs.SendMessageBatch"] == 0
    # AND the config is recorded as a rejected post is: listed by the rejected index, with its code and message
    (rejected,) = list(pipeline.table.rejected_posts())
    assert rejected["key"] == CONFIG
    assert rejected["error"]["code"] == "config_yaml"
    assert rejected["error"]["message"].startswith(f"{CONFIG}: ")
    # AND the good config stays in force: its bytes, the settings posts are read under, the feeds
    after = pipeline.table.get_config()
    assert after is not None
    assert (after["raw"], after["state"]) == (before["raw"], "stored")
    assert settings_in_force(pipeline) == fingerprint
    assert site_title(pipeline) == "Good Site"
    # AND the ingest log says so in one WARNING line, and no failure line
    lines = ingest_lines(capsys)
    (line,) = [line for line in lines if line.get("action") == "rejected"]
    assert (line["level"], line["code"], line["message"]) == ("WARNING", "config_yaml", f"put {CONFIG}: rejected")
    assert not [line for line in lines if line.get("failure")]
    # WHEN a good config arrives: the record is cleared, and a rebuild brings in its settings
    pipeline.upload(CONFIG, NEWER)
    pipeline.settle()
    assert list(pipeline.table.rejected_posts()) == []
    assert site_title(pipeline) == "Newer Site"


def test_the_config_in_force_uploaded_again_clears_the_record_without_a_rebuild(good_site: LocalPipeline) -> None:
    pipeline = good_site
    pipeline.upload(CONFIG, b"title: [unclosed\n")
    pipeline.settle()
    (rejected,) = list(pipeline.table.rejected_posts())
    assert (rejected["error"]["code"], rejected["error"]["line"]) == ("config_yaml", 2)
    # WHEN the good bytes come back
    with FaultInjector([]) as calls:
        pipeline.upload(CONFIG, GOOD)
        pipeline.settle()
    # THEN the record is gone and nothing was re-rendered: the settings never changed
    assert list(pipeline.table.rejected_posts()) == []
    assert calls.requests["sqs.SendMessage"] == 0
    assert "feed.xml" in pipeline.feed_keys()


def test_a_first_config_that_cannot_be_read_leaves_the_template_parameters(pipeline: LocalPipeline) -> None:
    pipeline.upload(CONFIG, b"- a list\n- not settings\n")
    pipeline.upload(KEY, post())
    pipeline.settle()
    item = pipeline.table.get_config()
    assert item is not None
    assert (item["state"], item["error"]["code"], "raw" in item) == ("error", "config_yaml", False)
    assert site_title(pipeline) == TEMPLATE_TITLE
    # a removal then starts no rebuild either: no settings of the config's were ever in force
    with FaultInjector([]) as calls:
        pipeline.delete(CONFIG)
        pipeline.settle()
    assert calls.requests["sqs.SendMessage"] == 0
    assert list(pipeline.table.rejected_posts()) == []


def test_the_rebuild_a_config_starts_is_sent_again_after_sendmessage_failed(
    good_site: LocalPipeline, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    pipeline = good_site
    capsys.readouterr()
    # GIVEN every attempt of the first SendMessage fails (botocore's retries included)
    failing = FaultRule(
        "sqs.SendMessage", calls=frozenset(range(1, RETRY_ATTEMPTS + 1)), kinds=(FaultKind.UNAVAILABLE,)
    )
    with FaultInjector([failing], backoff_scale=0) as faults:
        # WHEN the new config's event is delivered
        pipeline.upload(CONFIG, NEWER)
        while pipeline.glue.pump_queue():
            if pipeline.glue.delivery.sqs_failures:
                break
        # THEN the event failed (one line says so) with the new config stored and its rebuild recorded as due
        assert pipeline.glue.delivery.sqs_failures == 1
        (line,) = [line for line in ingest_lines(capsys) if line.get("failure")]
        assert (line["key"], line["aws_error_code"], line["operation"]) == (CONFIG, "ServiceUnavailable", "SendMessage")
        item = pipeline.table.get_config()
        assert item is not None
        assert item["raw"] == NEWER
        assert item["fanout"]["site_wide"] is True
        # AND its retry sends the rebuild (the old order wrote the config first: the retry saw it unchanged)
        caplog.set_level(logging.INFO, logger="postfeed-ingest")
        pipeline.settle()
    assert faults.injected == {FaultKind.UNAVAILABLE.value: RETRY_ATTEMPTS}
    assert "fanout" not in (pipeline.table.get_config() or {})
    assert any(record.getMessage().startswith("full rebuild") for record in caplog.records)
    assert site_title(pipeline) == "Newer Site"


def test_postfeed_run_reports_the_recorded_config_error(aws: None, tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "_posts").mkdir(parents=True)
    (root / "_posts" / "2026-11-27-a.md").write_bytes(post())
    (root / CONFIG).write_bytes(b"title: ok\ntimezone: Mars/Olympus\n")
    pipeline = create_pipeline(endpoint_url=None, feed_base_url="https://feeds.example.org")
    report = run_site(pipeline, collect_site(root), tmp_path / "out", progress=False).report
    assert report["config"] | {"message": "..."} == {
        "key": CONFIG,
        "status": "error",
        "code": "config_value",
        "message": "...",
        "line": None,
    }
    assert "Mars/Olympus" in report["config"]["message"]
    assert json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["config"] == report["config"]


def test_a_config_item_written_before_is_taken_over_without_a_rebuild(good_site: LocalPipeline) -> None:
    pipeline = good_site
    # GIVEN the config's item as the ingest function wrote it before (its bytes only: no version, no state)
    pipeline.table.put_config({"raw": GOOD})
    # WHEN the same config is uploaded again: nothing is re-rendered, and the item is versioned from then on
    with FaultInjector([]) as calls:
        pipeline.upload(CONFIG, GOOD)
        pipeline.settle()
    assert calls.requests["sqs.SendMessage"] == 0
    item = pipeline.table.get_config() or {}
    assert (item["raw"], item["state"], item["version"], item["key"]) == (GOOD, "stored", 1, CONFIG)
    # AND a new config then starts its rebuild as usual
    pipeline.upload(CONFIG, NEWER)
    pipeline.settle()
    item = pipeline.table.get_config() or {}
    assert (item["version"], "fanout" in item) == (3, False)  # stored with its rebuild due, then marked sent
    assert site_title(pipeline) == "Newer Site"
