"""`make run` on a fresh copy of the repository, as the README's first command.

The copy holds the tracked files as committed (`git archive HEAD`: what a clone gets, without edits in
progress in this working tree). It reuses this checkout's `.venv` through a symlink, and make is told
not to rebuild the venv's install stamp (`-o`): a `pip install -e .` from the copy would re-point the
shared venv at a temporary folder. PYTHONPATH puts the copy's own code first, so what runs is what a
clone would hold."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.conftest import REPO

VENV = REPO / ".venv"


def fresh_copy(target: Path) -> None:
    """Every file `git ls-files` lists, with its committed content."""
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=REPO, capture_output=True, check=True)
    target.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")


@pytest.mark.skipif(
    shutil.which("make") is None or not (VENV / "bin" / "postfeed").exists(), reason="needs make and .venv"
)
def test_make_run_on_a_fresh_copy(tmp_path: Path) -> None:
    # GIVEN a copy of the tracked files, with the venv linked in
    copy = tmp_path / "postfeed"
    fresh_copy(copy)
    assert (copy / "examples" / "site" / "_config.yml").is_file()
    (copy / ".venv").symlink_to(VENV, target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    env["PYTHONPATH"] = str(copy / "shared")
    # WHEN `make run` runs there
    done = subprocess.run(
        ["make", "-o", ".venv/.installed", "run"], cwd=copy, env=env, capture_output=True, text=True, timeout=300
    )
    # THEN it succeeds and prints the summary
    assert done.returncode == 0, done.stdout + done.stderr
    assert "postfeed run" in done.stdout
    assert re.search(r"published\s+11\n", done.stdout)
    assert "yaml_syntax" in done.stdout
    # AND out/ holds the feeds and the report
    report = json.loads((copy / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["totals"]["posts"] == 13
    assert report["totals"]["error"] == 1
    assert (copy / "out" / "feed.xml").is_file()
    assert (copy / "out" / "feed" / "nanchangribao.xml").is_file()
    assert report["site"] == "examples/site"
