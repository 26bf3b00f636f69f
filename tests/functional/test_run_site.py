"""`postfeed run`'s logic (postfeed_tools.local.runner) on mock_aws: the sample site through the whole pipeline,
the report, the output folder."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import feedparser
import pytest
from moto import mock_aws

from postfeed_tools.local import glue
from postfeed_tools.local.aws import create_pipeline
from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT, LocalPipeline
from postfeed_tools.local.runner import run_site
from postfeed_tools.local.sitefiles import collect_site, config_url
from postfeed_tools.local.summary import format_summary
from tests.conftest import REPO

SITE = REPO / "examples" / "site"
BROKEN = "_posts/2024-03-15-202403151700000013.md"
UNPUBLISHED = "_posts/2024-03-13-202403131800000008.md"
BLANK_LINE_FIRST = "_posts/2024-03-14-202403141018310009.md"

POST = """---
layout: post
title: "{title}"
date: {date} +0800
categories: {category}
tags: {tag}
---
<p>{title}</p>
"""


def write_post(
    folder: Path, name: str, *, title: str = "测试", category: str = "emnews", tag: str = "测试新闻"
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    date = "-".join(name.split("-")[:3]) + " 08:00:00"
    path = folder / name
    path.write_text(POST.format(title=title, date=date, category=category, tag=tag), encoding="utf-8")
    return path


@pytest.fixture
def site_pipeline(aws: None) -> LocalPipeline:
    config = (SITE / "_config.yml").read_bytes()
    return create_pipeline(endpoint_url=None, feed_base_url=config_url(config))


def by_key(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {post["key"]: post for post in report["posts"]}


def test_example_site_reports_every_post_and_writes_valid_feeds(site_pipeline: LocalPipeline, tmp_path: Path) -> None:
    # GIVEN the sample site
    site = collect_site(SITE)
    out = tmp_path / "out"
    # WHEN it runs through the pipeline
    result = run_site(site_pipeline, site, out, progress=False)
    # THEN every post has its outcome, read back from the table
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report == json.loads(json.dumps(result.report))
    posts = by_key(report)
    assert sorted(posts) == site.keys
    assert len(posts) == 13
    assert posts[BROKEN]["status"] == "error"
    assert posts[BROKEN]["code"] == "yaml_syntax"
    assert posts[BROKEN]["line"] == 3
    assert posts[UNPUBLISHED] == posts[UNPUBLISHED] | {"status": "skipped", "reason": "unpublished"}
    assert posts[BLANK_LINE_FIRST]["status"] == "published"
    assert "front matter ignored" in posts[BLANK_LINE_FIRST]["warnings"][0]
    assert report["totals"] | {"published": 11, "skipped": 1, "error": 1, "posts": 13} == report["totals"]
    assert report["config"] == {"key": "_config.yml", "status": "published"}
    # AND every feed document of the bucket is in out/ under its key, valid, with its entry count
    documents = {doc["key"]: doc for doc in report["feeds"]}
    pages = {doc["key"]: doc for doc in report["pages"]}
    assert sorted([*documents, *pages, *report["other_files"]]) == site_pipeline.feed_keys()
    # AND each feed's HTML page is listed apart from the feed documents, beside its Atom document
    assert report["totals"]["pages"] == len(pages) == report["totals"]["feeds"]
    assert {key.removesuffix(".html") + ".xml" for key in pages} <= set(documents)
    assert pages["feed/emnews.html"]["format"] == "html"
    assert pages["feed/emnews.html"]["entries"] == documents["feed/emnews.xml"]["entries"]
    assert (out / "feed/emnews.html").read_bytes() == site_pipeline.feed("feed/emnews.html")
    for key in report["other_files"]:  # e.g. a stylesheet or an index page beside the feeds
        assert (out / key).read_bytes() == site_pipeline.feed(key)
    for key, doc in documents.items():
        assert (out / key).read_bytes() == site_pipeline.feed(key)
        body = (out / key).read_bytes()
        if key.endswith(".json"):  # feedparser reads JSON Feed only from an HTTP response
            data = json.loads(body)
            assert data["version"] == "https://jsonfeed.org/version/1.1", key
            assert len(data["items"]) == doc["entries"], key
            continue
        parsed = feedparser.parse(body)
        assert parsed.bozo == 0, key
        assert len(parsed.entries) == doc["entries"], key
    for stem in ("feed", "feed/emnews", "feed/nanchangribao", "feed/by_tag/东财滚动新闻", "feed/by_tag/新能源"):
        for ext in (".xml", ".rss", ".json"):
            assert f"{stem}{ext}" in documents
    assert documents["feed.xml"]["entries"] == 10  # jekyll-feed's posts_limit
    assert documents["feed/emnews.xml"]["title"] == "财经速递 | Emnews"
    # AND links point at the site's url (protocol-relative ones made absolute)
    site_feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert all(entry.link.startswith("https://finews.example.com/") for entry in site_feed.entries)
    assert "//finews.example.com/" in (out / "feed/emnews.xml").read_text(encoding="utf-8")
    # AND the summary names the broken post and its code
    summary = format_summary(result)
    assert BROKEN in summary
    assert "yaml_syntax" in summary


def test_a_new_run_removes_what_the_previous_one_wrote_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for key, value in LOCAL_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    # GIVEN an output folder from a run of the sample site, which also holds someone else's files
    out = tmp_path / "out"
    with mock_aws():
        run_site(create_pipeline(endpoint_url=None, feed_base_url=""), collect_site(SITE), out, progress=False)
    assert (out / "feed" / "nanchangribao.xml").is_file()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    (out / "feed" / "mine.json").write_text("{}", encoding="utf-8")
    # WHEN another site (one post, another category) runs into it, on a fresh stack
    posts = tmp_path / "posts"
    write_post(posts, "2024-01-02-a.md", category="other", tag="其他")
    with mock_aws():
        pipeline = create_pipeline(endpoint_url=None, feed_base_url="https://x.example")
        result = run_site(pipeline, collect_site(posts), out, progress=False)
    # THEN the previous run's feeds are gone, the new ones are there, the other files untouched
    assert not (out / "feed" / "nanchangribao.xml").exists()
    assert not (out / "feed" / "nanchangribao.html").exists()
    assert not (out / "feed" / "by_tag" / "南昌日报新闻.xml").exists()
    assert (out / "feed" / "other.xml").is_file()
    assert (out / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert (out / "feed" / "mine.json").read_text(encoding="utf-8") == "{}"
    listed = {doc["key"] for doc in [*result.report["feeds"], *result.report["pages"]]}
    listed |= set(result.report["other_files"])
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert written == listed | {"report.json", "functions.log", "notes.txt", "feed/mine.json"}


def test_bare_folder_of_posts_goes_under_the_posts_prefix(aws: None, tmp_path: Path) -> None:
    # GIVEN a folder of posts, no _config.yml, one of them in a sub-folder
    posts = tmp_path / "posts"
    write_post(posts, "2024-01-02-a.md", title="甲")
    write_post(posts / "2024", "2024-01-03-b.md", title="乙")
    site = collect_site(posts)
    assert site.keys == ["_posts/2024-01-02-a.md", "_posts/2024/2024-01-03-b.md"]
    assert site.config is None
    # WHEN it runs (template defaults for the site, a chosen feed base URL)
    pipeline = create_pipeline(endpoint_url=None, feed_base_url="https://feeds.example.org")
    result = run_site(pipeline, site, tmp_path / "out", settle_every=1, workers=1, progress=False, bulk=False)
    # THEN both are published, settling after each upload
    assert [p["status"] for p in result.report["posts"]] == ["published", "published"]
    assert result.report["totals"]["settles"] == 2
    config = result.report["config"]
    assert (config["key"], config["status"]) == (None, "absent")
    assert "`url`" in config["notes"][0]  # no _config.yml, so no url: links stay relative, and the report says so
    assert "https://feeds.example.org/feed.xml" in (tmp_path / "out" / "feed.xml").read_text(encoding="utf-8")


def test_site_with_nested_posts_folders_keeps_keys_from_the_site_root(aws: None, tmp_path: Path) -> None:
    # GIVEN a site with _posts/ and news/_posts/ (Jekyll: category "news"), plus pages and a built _site/
    root = tmp_path / "site"
    write_post(root / "_posts", "2024-01-02-a.md")
    write_post(root / "news" / "_posts", "2024-01-03-b.md")
    write_post(root / "_site" / "_posts", "2024-01-04-c.md")
    (root / "about.md").write_text("# about", encoding="utf-8")
    (root / "_config.yml").write_text("title: t\nurl: https://x.example\nbaseurl: /blog\n", encoding="utf-8")
    site = collect_site(root)
    assert site.keys == ["_posts/2024-01-02-a.md", "news/_posts/2024-01-03-b.md"]
    assert config_url(site.config.read_bytes() if site.config else None) == "https://x.example/blog"
    # WHEN it runs with the template's PostsPrefix (_posts/)
    pipeline = create_pipeline(endpoint_url=None, feed_base_url="")
    posts = by_key(run_site(pipeline, site, tmp_path / "out", progress=False).report)
    # THEN the post outside the prefix is reported, not lost silently
    assert posts["_posts/2024-01-02-a.md"]["status"] == "published"
    assert (
        posts["news/_posts/2024-01-03-b.md"] | {"status": "skipped", "reason": "outside_posts_prefix"}
        == (posts["news/_posts/2024-01-03-b.md"])
    )


def test_pointing_at_the_posts_folder_finds_the_sites_config(tmp_path: Path) -> None:
    write_post(tmp_path / "_posts", "2024-01-02-a.md")
    (tmp_path / "_config.yml").write_text("title: t\n", encoding="utf-8")
    site = collect_site(tmp_path / "_posts")
    assert site.keys == ["_posts/2024-01-02-a.md"]
    assert site.config == tmp_path / "_config.yml"


def test_glue_loads_a_handler_module_inside_the_functions_environment(
    pipeline: LocalPipeline, seed_bytes: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda initialises the module with the function's environment: Powertools' Logger reads
    POWERTOOLS_LOG_LEVEL (the template's LogLevel) at import, so loading it outside left every local
    run logging at INFO whatever LogLevel said."""
    seen: dict[str, str | None] = {}
    real_load = glue.load_handler

    def load(function: Any) -> Any:
        seen[function.logical_id] = os.environ.get("POWERTOOLS_LOG_LEVEL")
        return real_load(function)

    monkeypatch.setattr(glue, "load_handler", load)
    pipeline.upload("_posts/2022-03-11-202203112305364917.md", seed_bytes)
    pipeline.settle()
    assert seen == {"IngestPostFunction": "INFO", "BuildFeedsFunction": "INFO"}
