"""`postfeed parse`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from postfeed_tools.cli import main
from tests.conftest import CORPUS, REPO


def _site(tmp_path: Path) -> Path:
    (tmp_path / "_posts").mkdir()
    (tmp_path / "_config.yml").write_text("url: https://ex.org\ntimezone: Asia/Shanghai\n")
    (tmp_path / "_posts" / "2024-01-02-ok.md").write_text("---\ntitle: OK\ntags: a b\n---\nHi.\n")
    (tmp_path / "_posts" / "2024-01-03-bad.md").write_text('---\ntitle: "a "b""\n---\n')
    (tmp_path / "_posts" / "nodate.md").write_text("---\ntitle: x\n---\n")
    return tmp_path


def test_json_lines_one_per_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _site(tmp_path)
    files = [str(root / "_posts" / n) for n in ("2024-01-02-ok.md", "2024-01-03-bad.md", "nodate.md")]
    assert main(["parse", "--json", *files]) == 0
    ok, bad, skipped = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert ok["path"] == "_posts/2024-01-02-ok.md"
    assert ok["status"] == "published"
    assert ok["date"] == "2024-01-02T00:00:00+08:00"  # the site root's _config.yml was used
    assert ok["absolute_url"] == "https://ex.org/2024/01/02/ok.html"
    assert (ok["url"], ok["tags"], ok["categories"], ok["excerpt_text"]) == (
        "/2024/01/02/ok.html",
        ["a", "b"],
        [],
        "Hi.",
    )
    assert (bad["status"], bad["code"], bad["line"]) == ("error", "yaml_syntax", 2)
    assert "2024-01-03-bad.md" in bad["message"]
    assert (skipped["status"], skipped["reason"]) == ("skipped", "name_lacks_date")
    assert skipped["detail"]


def test_readable_summary(capsys: pytest.CaptureFixture[str]) -> None:
    seed_like = CORPUS / "finews" / "_posts" / "2021-12-01-init.md"
    assert main(["parse", str(seed_like)]) == 0
    assert capsys.readouterr().out.startswith("published _posts/2021-12-01-init.md: 2021-12-01T21:33:50+08:00")


def test_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _site(tmp_path)
    (tmp_path / "bad.yml").write_text("timezone: Nowhere/Land\n")
    assert main(["parse", "--config", str(tmp_path / "bad.yml"), str(root / "_posts" / "2024-01-02-ok.md")]) == 2
    assert "config_value" in capsys.readouterr().err


def test_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["parse"])
    assert caught.value.code == 2


def test_jekyll_core_does_not_import_boto3() -> None:
    code = "import sys, postfeed.jekyll, postfeed_tools.commands.parse; assert 'boto3' not in sys.modules; print('ok')"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False,
        env={"PYTHONPATH": str(REPO / "shared")},
    )  # fmt: skip
    assert done.stdout.strip() == "ok", done.stderr
