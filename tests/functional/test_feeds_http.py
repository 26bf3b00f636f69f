"""`postfeed serve`'s feeds over HTTP (postfeed_tools.local.feeds_http) as the template's CloudFront distribution
serves the feeds bucket: `/` is the published `index.html` (DefaultRootObject), each object with its own
Content-Type, Cache-Control, ETag and Last-Modified, 304 for conditional requests, HEAD without a body, 403 for a
key the bucket does not hold (Origin Access Control, no s3:ListBucket) and for methods besides GET and HEAD."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import boto3
import pytest

from postfeed_tools.local.feeds_http import FeedsServer
from postfeed_tools.local.pipeline import LocalPipeline
from tests.conftest import SEED_KEY
from tests.functional.conftest import FINEWS_PARAMETERS
from tests.support import http_get as get


@pytest.fixture
def served(aws: None, seed_bytes: bytes) -> Iterator[tuple[FeedsServer, LocalPipeline, io.StringIO]]:
    """The seed post published to feeds whose public base is the server's own address, the bucket served."""
    log = io.StringIO()
    server = FeedsServer("127.0.0.1", 0, access_log=log)
    try:
        pipeline = LocalPipeline.create(parameters=FINEWS_PARAMETERS, feed_base_url=server.url)
        pipeline.upload(SEED_KEY, seed_bytes)
        pipeline.settle()
        server.attach(boto3.client("s3", region_name="us-east-1"), pipeline.stack.feeds_bucket)
        server.start()
        yield server, pipeline, log
    finally:
        server.stop()


def stored(pipeline: LocalPipeline, key: str) -> dict[str, Any]:
    s3 = boto3.client("s3", region_name="us-east-1")
    return dict(s3.head_object(Bucket=pipeline.stack.feeds_bucket, Key=key))


def test_the_root_is_the_published_index(served: tuple[FeedsServer, LocalPipeline, io.StringIO]) -> None:
    server, pipeline, log = served
    # WHEN the root is requested
    status, headers, body = get(f"{server.url}/")
    # THEN it is the pipeline's own index.html object, with its stored headers
    index = pipeline.feed_object("index.html")
    assert status == 200
    assert body == index["body"]
    assert headers["Content-Type"] == index["content_type"]
    assert headers["ETag"] == stored(pipeline, "index.html")["ETag"]
    assert get(f"{server.url}/index.html")[2] == body
    # AND it lists the seed's feeds at the server's address
    assert f'href="{server.url}/feed/nanchangribao.xml"' in body.decode("utf-8")
    # AND each request is in the access log
    assert '"GET / HTTP/1.1" 200 -' in log.getvalue()


def test_a_feed_has_its_stored_headers_and_answers_conditional_requests(
    served: tuple[FeedsServer, LocalPipeline, io.StringIO],
) -> None:
    server, pipeline, _ = served
    url = f"{server.url}/feed/nanchangribao.xml"
    status, headers, body = get(url)
    head = stored(pipeline, "feed/nanchangribao.xml")
    assert status == 200
    body_of_feed = pipeline.feed_object("feed/nanchangribao.xml")["body"]
    assert body == body_of_feed
    assert headers["Content-Type"] == head["ContentType"]
    assert headers["Cache-Control"] == head["CacheControl"]
    assert headers["ETag"] == head["ETag"]
    assert headers["Last-Modified"]
    # If-None-Match decides alone when present (weak comparison, `*`); If-Modified-Since otherwise
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    status, again, body = get(url, {"If-None-Match": etag})
    assert (status, body, again["ETag"]) == (304, b"", etag)
    assert get(url, {"If-None-Match": f'"other", W/{etag}'})[0] == 304
    assert get(url, {"If-None-Match": "*"})[0] == 304
    assert get(url, {"If-Modified-Since": last_modified})[0] == 304
    assert get(url, {"If-None-Match": '"something-else"', "If-Modified-Since": last_modified})[0] == 200
    assert get(url, {"If-Modified-Since": "Thu, 01 Jan 2015 00:00:00 GMT"})[0] == 200
    # AND HEAD answers the headers alone
    status, head_headers, body = get(url, method="HEAD")
    assert (status, body, head_headers["ETag"]) == (200, b"", etag)
    assert int(head_headers["Content-Length"]) == head["ContentLength"]
    assert get(url, {"If-None-Match": etag}, method="HEAD")[:3:2] == (304, b"")
    # AND a byte range is answered 206, as S3 answers it
    status, ranged, part = get(url, {"Range": "bytes=0-9"})
    assert (status, part, ranged["Content-Range"]) == (206, body_of_feed[:10], f"bytes 0-9/{head['ContentLength']}")
    assert get(url, {"Range": f"bytes={head['ContentLength']}-"})[0] == 416
    # AND a percent-encoded UTF-8 path reaches a tag feed
    status, headers, _ = get(f"{server.url}/{quote('feed/by_tag/南昌日报新闻.json')}")
    assert (status, headers["Content-Type"]) == (200, stored(pipeline, "feed/by_tag/南昌日报新闻.json")["ContentType"])


def test_missing_keys_and_other_methods_are_refused_as_cloudfront_refuses_them(
    served: tuple[FeedsServer, LocalPipeline, io.StringIO],
) -> None:
    server, _, _ = served
    # A key the bucket does not hold: S3's AccessDenied (the distribution may not list the bucket)
    for path in ("/feed/nope.xml", "/feed/%FF.xml", "/feed/"):
        status, headers, body = get(f"{server.url}{path}")
        assert (status, headers["Content-Type"]) == (403, "application/xml"), path
        assert b"<Code>AccessDenied</Code>" in body
    # Methods besides GET and HEAD (AllowedMethods): refused, the bucket untouched
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        assert get(f"{server.url}/feed/nanchangribao.xml", method=method)[0] == 403, method
    assert get(f"{server.url}/feed/nanchangribao.xml")[0] == 200


def test_before_the_bucket_is_attached_it_answers_503() -> None:
    server = FeedsServer("127.0.0.1", 0)
    server.start()
    try:
        assert get(f"{server.url}/")[0] == 503
    finally:
        server.stop()
    server.stop()  # idempotent


def test_a_port_in_use_is_an_os_error() -> None:
    server = FeedsServer("127.0.0.1", 0)
    try:
        with pytest.raises(OSError, match="in use"):
            FeedsServer("127.0.0.1", server.port)
    finally:
        server.stop()
