"""Feeds as validators and readers see them, through the whole pipeline: the W3C Feed Validation Service's own code
on every document of a corpus site's `postfeed run` (as `make validate` does), RFC 5005 complete feeds as a feed
grows and shrinks, and a site without `url` whose links stay relative and whose report says why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from lxml import etree, html  # type: ignore[import-untyped]

from bench.validate_feeds import ALLOWED_WARNINGS, check_folder, load_check_feeds, run_corpus
from postfeed_tools.local.aws import create_pipeline
from postfeed_tools.local.pipeline import LocalPipeline
from postfeed_tools.local.runner import run_site
from postfeed_tools.local.sitefiles import collect_site
from postfeed_tools.local.summary import format_summary
from tests.conftest import CORPUS, KIT
from tests.functional.conftest import FEED_BASE_URL, FINEWS_PARAMETERS
from tests.functional.test_pipeline_rules import post

NS = {"a": "http://www.w3.org/2005/Atom", "fh": "http://purl.org/syndication/history/1.0"}


@pytest.mark.slow
@pytest.mark.parametrize("corpus", ["finews", "jekyll__jekyll"])
def test_every_feed_of_a_corpus_run_passes_the_w3c_validator(corpus: str, tmp_path: Path) -> None:
    # GIVEN the corpus site run through the local pipeline, as `postfeed run` does
    run_corpus(CORPUS / corpus, tmp_path)
    # WHEN every document goes through check_feeds and the W3C validator's code (level AA)
    tally = check_folder(corpus, tmp_path, load_check_feeds(KIT / "tools"), KIT / "tools")
    # THEN nothing is invalid, nothing is an error, and the only warning is the data's own (same-second posts)
    assert tally.feeds > 50
    assert tally.invalid == []
    assert not tally.errors, tally.findings
    assert set(tally.warnings) <= ALLOWED_WARNINGS, tally.findings


def document(pipeline: LocalPipeline, key: str) -> Any:
    body = pipeline.feed(key)
    assert body is not None, key
    return etree.fromstring(body)


def history(root: Any) -> tuple[list[str], list[str]]:
    """(RFC 5005 marks, RFC 5005 link relations) of an Atom document."""
    marks = [el.tag.rsplit("}", 1)[1] for el in root if el.tag.startswith("{" + NS["fh"])]
    rels = [link.get("rel") for link in root.findall("a:link", NS)]
    return marks, sorted(rel for rel in rels if rel in ("current", "prev-archive", "next-archive"))


def test_a_feed_is_complete_while_its_subscription_document_holds_every_entry(aws: None) -> None:
    pipeline = LocalPipeline.create(parameters={**FINEWS_PARAMETERS, "PostsLimit": "1"}, feed_base_url=FEED_BASE_URL)
    # GIVEN one post: the subscription document and its lone archive page each hold the whole feed
    pipeline.upload("_posts/2026-09-10-a.md", post(title="甲", categories="emnews", date="2026-09-10 09:00:00 +0800"))
    pipeline.settle()
    assert history(document(pipeline, "feed/emnews.xml")) == (["complete"], [])
    assert history(document(pipeline, "feed/emnews/archive/2026-09.xml")) == (["archive", "complete"], [])
    # WHEN a second post arrives in another month
    pipeline.upload("_posts/2026-10-10-b.md", post(title="乙", categories="emnews", date="2026-10-10 09:00:00 +0800"))
    pipeline.settle()
    # THEN the feed is archived: the subscription document links the newest page, the pages link each other
    assert history(document(pipeline, "feed/emnews.xml")) == ([], ["prev-archive"])
    assert history(document(pipeline, "feed/emnews/archive/2026-10.xml")) == (["archive"], ["current", "prev-archive"])
    assert history(document(pipeline, "feed/emnews/archive/2026-09.xml")) == (["archive"], ["current", "next-archive"])
    # WHEN the newer post goes again, the feed is complete again, its remaining page too
    pipeline.delete("_posts/2026-10-10-b.md")
    pipeline.settle()
    assert history(document(pipeline, "feed/emnews.xml")) == (["complete"], [])
    assert history(document(pipeline, "feed/emnews/archive/2026-09.xml")) == (["archive", "complete"], [])


SITE_WITHOUT_URL = """title: 无网址的站
url: ""
timezone: Asia/Shanghai
"""
LINKING_POST = """---
title: 图文
date: 2022-03-01 08:00:00 +0800
categories: news
---
见[上一篇](../../02/28/before.html)与[关于](/about/)。

![图](img/chart.png)
"""


def test_a_site_without_url_keeps_relative_links_and_the_report_says_why(aws: None, tmp_path: Path) -> None:
    # GIVEN a site whose _config.yml leaves `url` empty, with a post that links and shows an image relatively
    root = tmp_path / "site"
    (root / "_posts").mkdir(parents=True)
    (root / "_config.yml").write_text(SITE_WITHOUT_URL, encoding="utf-8")
    (root / "_posts" / "2022-03-01-linking.md").write_text(LINKING_POST, encoding="utf-8")
    out = tmp_path / "out"
    # WHEN it runs through the pipeline
    result = run_site(create_pipeline(endpoint_url=None, feed_base_url=""), collect_site(root), out, progress=False)
    # THEN the feeds keep every link and image, root-relative to the post's page
    feed = json.loads((out / "feed.json").read_text(encoding="utf-8"))
    (paragraph, figure) = html.fragments_fromstring(feed["items"][0]["content_html"])
    assert paragraph.xpath("//a/@href") == ["/news/2022/02/28/before.html", "/about/"]
    assert figure.xpath("//img/@src") == ["/news/2022/03/01/img/chart.png"]
    atom = (out / "feed.xml").read_text(encoding="utf-8")
    assert "/news/2022/03/01/img/chart.png" in atom
    # AND the report and the summary say the links are relative because the site has no url
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    (note,) = report["config"]["notes"]
    assert "`url`" in note
    assert "relative" in note
    assert f"note: {note}" in format_summary(result)
