"""`postfeed build` writes what `postfeed run` writes: every file byte for byte (report.json aside, which says the
same about every post and document), on the corpus sites and on a generated site with archive pages, site
files and posts the pipeline refuses. The run is the reference: the real handlers on moto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from postfeed_tools.benchmark.harness import generate_site
from postfeed_tools.cli import main
from postfeed_tools.local.aws import create_pipeline
from postfeed_tools.local.build import build_site
from postfeed_tools.local.runner import run_site
from postfeed_tools.local.sitefiles import collect_site, config_url
from tests.conftest import CORPORA, CORPUS, REPO

NOT_COMPARED = frozenset({"report.json", "functions.log"})
# What report.json says the same way in both: each post's outcome, each document, each site file.
SAME_IN_REPORTS = ("config", "site_files", "posts", "feeds", "pages", "other_files")

AUTHORS = "速递编辑部:\n  name: 速递编辑部\n  email: desk@finews.example.com\n"
STYLESHEET = '<?xml version="1.0"?>\n<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>\n'


def files_of(out: Path) -> dict[str, bytes]:
    return {
        path.relative_to(out).as_posix(): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file() and path.name not in NOT_COMPARED
    }


def build_and_run(site_dir: Path, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """`postfeed build` then `postfeed run` of one site; asserts their files are the same; their reports."""
    site = collect_site(site_dir)
    base_url = config_url(site.config.read_bytes() if site.config else None)
    built = build_site(site, tmp_path / "build", feed_base_url=base_url, workers=2)
    pipeline = create_pipeline(endpoint_url=None, feed_base_url=base_url)
    ran = run_site(pipeline, site, tmp_path / "run", progress=False)
    assert not ran.pipeline_failed
    expected, actual = files_of(tmp_path / "run"), files_of(tmp_path / "build")
    assert sorted(actual) == sorted(expected)
    different = [key for key, body in expected.items() if actual[key] != body]
    assert different == [], f"{len(different)} of {len(expected)} files differ, e.g. {different[:5]}"
    for part in SAME_IN_REPORTS:
        assert built.report[part] == ran.report[part], part
    return built.report, ran.report


@pytest.fixture(scope="module")
def generated_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 generated posts (a few broken, unpublished or with a blank line first) in December 2021, whose busy
    feeds page by day; 3 entries a feed, so that small feeds have archives too; an authors file naming the
    site's author, the site's own stylesheet, a draft (not shown) and a post over the size limit."""
    root = generate_site(300, tmp_path_factory.mktemp("generated"))
    with (root / "_config.yml").open("a", encoding="utf-8") as config:
        config.write("feed:\n  posts_limit: 3\n")
    (root / "_data").mkdir()
    (root / "_data" / "authors.yml").write_text(AUTHORS, encoding="utf-8")
    (root / "feed.xslt.xml").write_text(STYLESHEET, encoding="utf-8")
    (root / "_drafts").mkdir()
    (root / "_drafts" / "draft.md").write_text("---\ntitle: 草稿\n---\n未发布\n", encoding="utf-8")
    big = "---\ntitle: 太大\ncategories: emnews\n---\n" + "很长的文章。" * 70_000
    (root / "_posts" / "2021-12-03-too-big.md").write_text(big, encoding="utf-8")
    return root


def test_build_writes_what_run_writes_on_a_generated_site(aws: None, generated_site: Path, tmp_path: Path) -> None:
    # GIVEN a site whose busy feeds have day pages, with site files and posts the pipeline refuses
    # WHEN it is built and run
    built, ran = build_and_run(generated_site, tmp_path)
    # THEN every file is the same (asserted there), and the run covered what it should
    pages = [doc["key"] for doc in built["feeds"] if doc.get("archive")]
    assert any(key.startswith("feed/archive/2021-12-0") for key in pages), "day pages"
    assert any(len(Path(key).stem) == 7 for key in pages), "month pages"
    assert "feed.xslt.xml" in built["other_files"]
    posts = {post["key"]: post for post in built["posts"]}
    assert posts["_posts/2021-12-03-too-big.md"]["code"] == "post_too_large"
    assert posts["_drafts/draft.md"]["status"] == "skipped"
    assert built["totals"]["error"] >= 2
    assert built["totals"]["skipped"] >= 2
    assert {status: built["totals"][status] for status in ("published", "skipped", "error")} == {
        status: ran["totals"][status] for status in ("published", "skipped", "error")
    }
    authored = (tmp_path / "build" / "feed.xml").read_text(encoding="utf-8")
    assert "desk@finews.example.com" in authored, "the authors file is in force"


@pytest.mark.parametrize("name", CORPORA)
def test_build_writes_what_run_writes_on_each_corpus_site(aws: None, name: str, tmp_path: Path) -> None:
    built, _ = build_and_run(CORPUS / name, tmp_path)
    assert built["totals"]["published"] > 50


def test_build_command_prints_a_summary_and_writes_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the sample site, and an output folder with a file of the user's
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    # WHEN it is built twice (the second build clears what the first wrote)
    for _ in range(2):
        assert main(["build", "--posts", str(REPO / "examples" / "site"), "--out", str(out), "--workers", "1"]) == 0
    # THEN the summary says what was built and how long each step took
    summary = capsys.readouterr().out.splitlines()[-16:]
    assert summary[-1] == f"report: {out / 'report.json'}"
    assert any(line.startswith("  time: read ") and "render" in line for line in summary)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["totals"] | {"posts": 13, "published": 11, "skipped": 1, "error": 1} == report["totals"]
    assert (out / "feed.xml").is_file()
    assert (out / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_build_command_refuses_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--posts", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    assert "not a folder" in capsys.readouterr().err
