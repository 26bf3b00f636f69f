"""`postfeed run` through the CLI, in-process, on its embedded moto server."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import feedparser
import pytest

from postfeed_tools import cli
from tests.conftest import REPO

SITE = REPO / "examples" / "site"


def test_run_on_the_sample_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN no AWS settings in the environment
    before = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    out = tmp_path / "out"
    # WHEN the sample site is run
    code = cli.main(["run", "--posts", str(SITE), "--out", str(out), "--no-progress"])
    # THEN it succeeds although one post is broken, and prints the summary table
    assert code == 0
    printed = capsys.readouterr().out
    assert re.search(r"published\s+11\n\s+skipped\s+1\n\s+error\s+1\n\s+total\s+13\n", printed)
    assert "_posts/2024-03-15-202403151700000013.md: yaml_syntax line 3" in printed
    # AND out/ holds the feeds and the report
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["totals"]["posts"] == 13
    assert report["totals"]["dead_letters"] == 0
    assert report["feed_base_url"] == "https://finews.example.com"
    statuses = {p["key"]: p["status"] for p in report["posts"]}
    assert statuses["_posts/2024-03-15-202403151700000013.md"] == "error"
    for doc in report["feeds"]:
        assert (out / doc["key"]).is_file()
    parsed = feedparser.parse((out / "feed/by_tag/东财滚动新闻.xml").read_bytes())
    assert parsed.bozo == 0
    assert parsed.feed.title == "财经速递 | #东财滚动新闻"
    # AND the functions' logs went to a file, not to stdout
    assert '"level":"WARNING"' in (out / "functions.log").read_text(encoding="utf-8")
    assert '"level"' not in printed
    # AND the process environment is as it was
    assert {k: v for k, v in os.environ.items() if k.startswith("AWS_")} == before


def test_run_with_a_bad_folder_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run", "--posts", str(tmp_path / "missing")]) == 2
    assert "not a folder" in capsys.readouterr().err
