"""`postfeed serve` as a user runs it: a subprocess on free ports; the seed post uploaded with boto3 to the
printed endpoint shows up in its feeds over HTTP; conditional requests; the published index at `/`; Ctrl-C
stops it. (Restarts and stops with a backlog: test_serve_restart.py.)"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import feedparser
import pytest

from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT
from tests.conftest import REPO, SEED_KEY
from tests.support import http_get as get

SEED_TITLE = "携手共奋进"


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    output: Path
    endpoint: str
    bucket: str
    feeds: str

    def text(self) -> str:
        return self.output.read_text(encoding="utf-8")


def clean_environment() -> dict[str, str]:
    """The user's shell: no AWS settings of ours (the command sets its own), the repo's code first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_"))}
    env["PYTHONPATH"] = str(REPO / "shared")
    return env


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def start_serve(folder: Path, *args: str, name: str = "serve.out") -> Served:
    """`postfeed serve ARGS` started in `folder` as a user would, once it has printed what to paste."""
    output = folder / name
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "postfeed_tools.cli", "serve", *args],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=clean_environment(),
            cwd=folder,
        )
    try:
        wait_for(lambda: "Delete a post:" in output.read_text(encoding="utf-8") or process.poll() is not None, 60, "up")
        text = output.read_text(encoding="utf-8")
        assert process.poll() is None, text
        cli = re.search(r"aws s3 cp FILE s3://([^/]+)/_posts/NAME --endpoint-url (http://127\.0\.0\.1:\d+)", text)
        feeds = re.search(r"feeds\s+(http://127\.0\.0\.1:\d+)/", text)
        assert cli is not None, text
        assert feeds is not None, text
        assert 'boto3.client("s3", endpoint_url="' + cli.group(2) in text
    except BaseException:
        stop_serve(process)
        raise
    return Served(process, output, endpoint=cli.group(2), bucket=cli.group(1), feeds=feeds.group(1))


def stop_serve(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(10)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    served = start_serve(tmp_path, "--port", "0", "--s3-port", "0")
    try:
        yield served
    finally:
        stop_serve(served.process)


def feeds_bucket(s3: Any) -> str:
    (name,) = [b["Name"] for b in s3.list_buckets()["Buckets"] if "feedsbucket" in b["Name"].lower()]
    return str(name)


class AlternateLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []
        self.in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "head":
            self.in_head = True
        elif tag == "link" and self.in_head and dict(attrs).get("rel") == "alternate":
            self.links.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False


def s3_client(endpoint: str, **config: Any) -> Any:
    """An S3 client for the printed endpoint, with the printed fake credentials (`config`: botocore's)."""
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=LOCAL_AWS_ENVIRONMENT["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_AWS_ENVIRONMENT["AWS_SECRET_ACCESS_KEY"],
        config=Config(**config),
    )


def test_an_uploaded_post_is_served_in_its_feeds(served: Served, seed_bytes: bytes) -> None:
    # GIVEN the printed endpoint and fake credentials, as a user would paste them
    s3 = s3_client(served.endpoint)
    # WHEN the seed post is uploaded
    s3.put_object(Bucket=served.bucket, Key=SEED_KEY, Body=seed_bytes)
    # THEN its category feed appears within seconds, with the post, links pointing at the local server
    url = f"{served.feeds}/feed/nanchangribao.xml"
    tag_url = f"{served.feeds}/{quote('feed/by_tag/南昌日报新闻.json')}"
    wait_for(lambda: get(url)[0] == 200, 30, url)
    wait_for(lambda: get(tag_url)[0] == 200, 30, tag_url)  # the feeds of one batch are rebuilt one by one
    status, headers, body = get(url)
    assert status == 200
    stored = s3.head_object(Bucket=feeds_bucket(s3), Key="feed/nanchangribao.xml")
    assert headers["Content-Type"] == stored["ContentType"]  # as stored by the feed function
    assert headers["ETag"] == stored["ETag"]
    assert "xml" in headers["Content-Type"]
    assert headers["Cache-Control"]
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0
    (entry,) = parsed.entries
    assert entry.title.startswith(SEED_TITLE)
    assert any(link.href == url for link in parsed.feed.links if link.rel == "self")
    # AND conditional requests get 304 without a body
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    status, again, body = get(url, {"If-None-Match": etag})
    assert (status, body, again["ETag"]) == (304, b"", etag)
    assert get(url, {"If-Modified-Since": last_modified})[0] == 304
    assert get(url, {"If-None-Match": '"something-else"', "If-Modified-Since": last_modified})[0] == 200
    assert get(url, {"If-Modified-Since": "Thu, 01 Jan 2015 00:00:00 GMT"})[0] == 200
    # AND HEAD answers the headers alone
    status, head, body = get(url, method="HEAD")
    assert (status, body, head["ETag"]) == (200, b"", etag)
    assert int(head["Content-Length"]) > 0
    # AND the tag feed is reached by its percent-encoded UTF-8 path, JSON Feed with its type
    status, headers, body = get(tag_url)
    assert status == 200
    assert headers["Content-Type"].startswith("application/feed+json")
    assert SEED_TITLE in body.decode("utf-8")
    # AND a missing feed is refused as CloudFront refuses it in front of the private bucket (403)
    assert get(f"{served.feeds}/feed/nope.xml")[0] == 403
    assert get(f"{served.feeds}/feed/%FF.xml")[0] == 403  # not UTF-8
    # AND `/` is the pipeline's own index.html (DefaultRootObject), with autodiscovery links in its head
    status, headers, page = get(f"{served.feeds}/")
    index = s3.get_object(Bucket=feeds_bucket(s3), Key="index.html")
    assert (status, page) == (200, index["Body"].read())
    assert headers["Content-Type"] == index["ContentType"] == "text/html; charset=utf-8"
    links = AlternateLinks()
    links.feed(page.decode("utf-8"))
    hrefs = {link["href"]: link["type"] for link in links.links}
    assert hrefs == {  # the site feed in every format, the others' Atom documents
        f"{served.feeds}/feed.xml": "application/atom+xml",
        f"{served.feeds}/feed.rss": "application/rss+xml",
        f"{served.feeds}/feed.json": "application/feed+json",
        url: "application/atom+xml",
        f"{served.feeds}/{quote('feed/by_tag/南昌日报新闻.xml')}": "application/atom+xml",
    }
    # AND its body links every format of every feed
    assert f'<a href="{tag_url}" type="application/feed+json">JSON</a>' in page.decode("utf-8")
    assert ">postfeed | Nanchangribao</a>" in page.decode("utf-8")
    # AND the console told what happened
    assert f"put {SEED_KEY}: published" in served.text()

    # WHEN Ctrl-C is pressed
    served.process.send_signal(signal.SIGINT)
    # THEN it stops cleanly
    assert served.process.wait(30) == 0
    assert served.text().rstrip().endswith("postfeed serve: stopped")
    assert "Traceback" not in served.text()
