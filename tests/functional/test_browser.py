"""Feeds read as pages in a browser: headless Chromium loads a feed (served as `postfeed serve` serves the feeds
bucket, from 127.0.0.1: browsers refuse XSLT from file://), applies feed.xsl, and shows the title, the entries and
the subscribe URL. Screenshots land in out/screenshots/ (gitignored).

Chromium is Debian's `chromium` package (`.ci/run` installs it). Without it the test is skipped, except in
CI (`CI` set), where it fails: the check must never silently disappear there."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock
from urllib.parse import unquote

import boto3
import feedparser
import pytest
from lxml import html  # type: ignore[import-untyped]

from postfeed.feeds import discovery
from postfeed_tools.local.feeds_http import FeedsServer
from postfeed_tools.local.pipeline import LocalPipeline
from tests.conftest import REPO
from tests.functional.conftest import FINEWS_PARAMETERS
from tests.functional.test_pipeline_rules import post

SCREENSHOTS = REPO / "out" / "screenshots"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("Chromium is not installed, and CI must run the browser check (.ci/run installs it)")
    pytest.skip("Chromium is not installed (apt-get install -y chromium); CI runs this check")


class Documents:
    """The feeds bucket served as `postfeed serve` serves it (postfeed_tools.local.feeds_http) on 127.0.0.1, from
    the in-process moto; `requests`: the keys asked for, in order."""

    def __init__(self) -> None:
        self.log = io.StringIO()
        self.server = FeedsServer("127.0.0.1", 0, access_log=self.log)

    @property
    def base_url(self) -> str:
        return self.server.url

    def serve(self, pipeline: LocalPipeline) -> None:
        self.server.attach(boto3.client("s3", region_name="us-east-1"), pipeline.stack.feeds_bucket)
        self.server.start()

    @property
    def requests(self) -> list[str]:
        return [unquote(path) for path in re.findall(r'"GET /(\S*) HTTP', self.log.getvalue())]


@pytest.fixture
def documents(aws: None) -> Iterator[Documents]:
    served = Documents()
    try:
        yield served
    finally:
        served.server.stop()


def browse(url: str, *extra: str) -> str:
    binary = chromium_binary()
    with tempfile.TemporaryDirectory(prefix="postfeed-chromium-") as profile:
        completed = subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
            capture_output=True,
            timeout=90,
            check=False,
        )
    assert completed.returncode == 0, completed.stderr.decode(errors="replace")[-2000:]
    return completed.stdout.decode("utf-8")


def test_a_feed_reads_as_a_page_in_a_browser(aws: None, documents: Documents) -> None:
    # GIVEN feeds published with the local server's address as their public base URL, with more posts than a
    # subscription document shows (one that shows them all is complete and links no archive page)
    base = documents.base_url
    pipeline = LocalPipeline.create(parameters={**FINEWS_PARAMETERS, "PostsLimit": "2"}, feed_base_url=base)
    pipeline.upload("_posts/2026-11-25-a.md", post(title="央行开展逆回购操作", categories="emnews"))
    pipeline.upload(
        "_posts/2026-10-26-b.md",
        post(title="港股午评：恒指涨1%", categories="emnews", date="2026-10-26 12:00:00 +0800"),
    )
    pipeline.upload(
        "_posts/2026-09-01-c.md", post(title="九月旧闻", categories="emnews", date="2026-09-01 12:00:00 +0800")
    )
    pipeline.settle()
    documents.serve(pipeline)
    atom_url = f"{base}/feed/emnews.xml"
    assert feedparser.parse(pipeline.feed_object("feed/emnews.xml")["body"]).bozo == 0
    # WHEN Chromium opens the Atom feed
    dom = html.document_fromstring(browse(atom_url, "--dump-dom"))
    # THEN it shows the feed as a page: title, entries with links and dates, the URL to subscribe to
    assert "feed.xsl" in documents.requests
    assert dom.findtext(".//h1[@id='feed-title']") == "金融消息 | Emnews"
    assert dom.findtext(".//code[@id='subscribe-url']").strip() == atom_url
    titles = [a.text_content() for a in dom.xpath("//article[@class='entry']/h2/a")]
    assert titles == ["央行开展逆回购操作", "港股午评：恒指涨1%"]
    assert dom.xpath("//article/h2/a/@href")[0] == "https://finews.withounder.com/emnews/2026/11/27/a.html"
    assert dom.xpath("//a[@id='older']/@href") == [f"{base}/feed/emnews/archive/2026-11.xml"]
    # AND the RSS archive page reads the same way, marked as an archive, linking the live feed
    rss_page = f"{base}/feed/emnews/archive/2026-10.rss"
    dom = html.document_fromstring(browse(rss_page, "--dump-dom"))
    assert dom.findtext(".//code[@id='subscribe-url']").strip() == rss_page
    assert dom.xpath("//a[@id='current-feed']/@href") == [f"{base}/feed/emnews.rss"]
    assert dom.xpath("//a[@id='newer']/@href") == [f"{base}/feed/emnews/archive/2026-11.rss"]
    assert [a.text_content() for a in dom.xpath("//article/h2/a")] == ["港股午评：恒指涨1%"]
    # AND the index page lists the feeds
    dom = html.document_fromstring(browse(f"{base}/index.html", "--dump-dom"))
    assert atom_url in dom.xpath("//li//a/@href")
    # AND screenshots are saved for a human to look at
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, url in (("feed-atom", atom_url), ("archive-rss", rss_page), ("index", f"{base}/index.html")):
        target = SCREENSHOTS / f"{name}.png"
        target.unlink(missing_ok=True)
        browse(url, f"--screenshot={target}", "--window-size=1100,1300", "--hide-scrollbars")
        assert Path(target).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", target


ENGLISH_PARAMETERS = {"SiteUrl": "https://news.example.com", "SiteTitle": "Example News", "Lang": "en"}
SITES = {
    # name: (template parameters, category, three posts' titles, newest first, their body)
    "zh": (FINEWS_PARAMETERS, "emnews", ("央行开展逆回购操作", "港股午评：恒指涨1%", "九月旧闻"), "<p>逆回购。</p>"),
    "en": (
        ENGLISH_PARAMETERS,
        "markets",
        ("Central bank injects liquidity", "Hang Seng up 1% at midday", "September news"),
        "<p>The central bank ran a reverse repo operation today.</p>",
    ),
}


@pytest.mark.parametrize("name", sorted(SITES))
def test_a_feed_page_reads_in_a_browser_without_xslt(aws: None, documents: Documents, name: str) -> None:
    # GIVEN a site's feeds (three posts in one category, two shown: the oldest is in the archive) published at
    # the local server's address
    parameters, category, (newest, older, oldest), body = SITES[name]
    base = documents.base_url
    pipeline = LocalPipeline.create(parameters={**parameters, "PostsLimit": "2"}, feed_base_url=base)
    for slug, day, title in (("a", "2026-11-25", newest), ("b", "2026-10-26", older), ("c", "2026-09-01", oldest)):
        document = post(title=title, categories=category, tags="tag", date=f"{day} 12:00:00 +0800", body=body)
        pipeline.upload(f"_posts/{day}-{slug}.md", document)
    pipeline.settle()
    documents.serve(pipeline)
    stem = f"{base}/feed/{category}"
    page_url = f"{stem}.html"
    atom = feedparser.parse(pipeline.feed_object(f"feed/{category}.xml")["body"])
    assert atom.feed.link == page_url  # the Atom feed's text/html alternate
    assert pipeline.feed_object(f"feed/{category}.html")["content_type"] == "text/html; charset=utf-8"
    # WHEN Chromium opens the category feed's HTML page
    dom = html.document_fromstring(browse(page_url, "--dump-dom"))
    # THEN it shows the feed, in the site's language, with no stylesheet transform involved
    assert "feed.xsl" not in documents.requests
    assert dom.get("lang") == parameters["Lang"]
    assert dom.findtext(".//h1[@id='feed-title']") == atom.feed.title
    assert [a.text_content() for a in dom.xpath("//article[@class='entry']/h2/a")] == [newest, older]
    assert dom.xpath("//article/h2/a/@href") == [entry.link for entry in atom.entries]
    assert dom.xpath("//a[@id='subscribe-atom']/@href") == [f"{stem}.xml"]
    assert dom.xpath("//a[@id='home']/@href") == [parameters["SiteUrl"] + "/"]
    assert dom.xpath("//a[@id='older']/@href") == [f"{stem}/archive/2026-11.xml"]
    # AND the index links each feed's page by its title
    dom = html.document_fromstring(browse(f"{base}/index.html", "--dump-dom"))
    titles = {a.text_content(): a.get("href") for a in dom.xpath("//li/a[1]")}
    assert titles[atom.feed.title] == page_url
    assert titles[parameters["SiteTitle"]] == f"{base}/feed.html"
    # AND screenshots of the page and the index are saved for a human to look at (CJK text must render)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for shot, url in ((f"page-{name}", page_url), (f"index-{name}", f"{base}/index.html")):
        target = SCREENSHOTS / f"{shot}.png"
        target.unlink(missing_ok=True)
        browse(url, f"--screenshot={target}", "--window-size=1000,1200", "--hide-scrollbars")
        assert Path(target).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", target
        print(f"screenshot: {target}")


def test_a_shelved_index_leads_to_each_feed_through_its_shelf(aws: None, documents: Documents) -> None:
    # GIVEN a site with more tags than one shelf holds (shelves of about 4 here), published at the server's address
    base = documents.base_url
    with mock.patch.object(discovery, "SHELF_SPAN", 4):
        pipeline = LocalPipeline.create(parameters=FINEWS_PARAMETERS, feed_base_url=base)
        tags = [f"标签{n:02d}" for n in range(12)]
        for n, tag in enumerate(tags):
            pipeline.upload(f"_posts/2026-11-{n + 1:02d}-t{n}.md", post(title=f"帖{n}", tags=tag))
        pipeline.settle()
    documents.serve(pipeline)
    # WHEN Chromium opens the feeds' root (`/`: index.html, CloudFront's DefaultRootObject)
    dom = html.document_fromstring(browse(f"{base}/", "--dump-dom"))
    # THEN the tags are shelves, labelled by their first and last tag, and every shelf page lists its tags, each
    # title linking the tag's feed page
    shelves = dom.xpath("//section[@id='tag']/ul[@class='shelves']/li/a[1]")
    assert len(shelves) > 1
    assert all(a.text_content().startswith("#标签") for a in shelves)
    found = []
    for link in shelves:
        page = html.document_fromstring(browse(link.get("href"), "--dump-dom"))
        found += [(a.text_content(), unquote(a.get("href"))) for a in page.xpath("//section[@id='tag']/ul/li/a[1]")]
    assert sorted(found) == [(f"金融消息 | #{tag}", f"{base}/feed/by_tag/{tag}.html") for tag in tags]
    # AND a screenshot of the index and of a shelf for a human to look at
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for shot, url in (("index-shelved", f"{base}/index.html"), ("shelf", shelves[0].get("href"))):
        target = SCREENSHOTS / f"{shot}.png"
        target.unlink(missing_ok=True)
        browse(url, f"--screenshot={target}", "--window-size=1000,1200", "--hide-scrollbars")
        assert Path(target).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", target
