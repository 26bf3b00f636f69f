"""`postfeed serve`: the local stack kept up, with the feeds served over HTTP.

- an embedded moto server (S3, SQS, DynamoDB and its streams) on 127.0.0.1, where posts are uploaded
  with any S3 client (`aws s3 cp … --endpoint-url`, boto3);
- a poller thread delivering the queue and the stream through the real handlers every `poll_seconds`;
- a feeds HTTP server on 127.0.0.1 reading the feeds bucket as CloudFront would: the object's stored
  Content-Type and Cache-Control, its ETag and Last-Modified, `304 Not Modified` for `If-None-Match` and
  `If-Modified-Since`, HEAD, 404 for missing keys, percent-decoded UTF-8 paths (Chinese tag feeds), and
  an index page at `/` listing every feed with autodiscovery `<link rel="alternate">` tags.
"""

from __future__ import annotations

import contextlib
import html
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from postfeed.local.runner import FEED_EXTENSIONS, RunError, SiteFiles, feed_stem, feed_summary
from postfeed.models import Site

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from postfeed.local.pipeline import LocalPipeline

POLL_SECONDS = 0.5
SCHEDULE_SECONDS = 60.0  # how often `serve` runs the scheduled function (future-dated posts that are due)
FORMAT_MEDIA_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml", "json": "application/feed+json"}
FORMAT_ORDER = ("atom", "rss", "json")
FUNCTION_LOGGERS = ("postfeed-ingest", "postfeed-feeds", "postfeed.local.glue")


# -- the feeds over HTTP ------------------------------------------------------------------------------


@dataclass
class FeedIndex:
    """Titles and entry counts of the feeds bucket's documents, re-read only when an ETag changes."""

    s3: S3Client
    bucket: str

    def __post_init__(self) -> None:
        self._known: dict[str, tuple[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def documents(self) -> list[dict[str, Any]]:
        listed: dict[str, str] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for obj in page.get("Contents", []):
                if obj["Key"].endswith(FEED_EXTENSIONS):
                    listed[obj["Key"]] = obj["ETag"]
        found = []
        for key, etag in sorted(listed.items()):
            with self._lock:
                known = self._known.get(key)
            if known is None or known[0] != etag:
                try:
                    response = self.s3.get_object(Bucket=self.bucket, Key=key)
                except self.s3.exceptions.NoSuchKey:
                    continue
                known = (response["ETag"], feed_summary(key, response["Body"].read()))
                with self._lock:
                    self._known[key] = known
            found.append(known[1])
        return found


def etag_matches(header: str, etag: str) -> bool:
    """If-None-Match: `*`, or any listed tag equal to ours (weak comparison, as RFC 9110 asks for GET)."""
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


def not_modified(headers: Any, etag: str, last_modified: datetime) -> bool:
    """Whether a conditional GET/HEAD gets 304; If-None-Match, when present, decides alone."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        return etag_matches(if_none_match, etag)
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified.replace(microsecond=0) <= since
    return False


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


class FeedsHTTPServer(ThreadingHTTPServer):
    """Bound at construction (so its port is known before the stack exists); `attach` the bucket after."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], *, access_log: IO[str] | None = None) -> None:
        super().__init__(address, FeedRequestHandler)
        self.access_log = access_log
        self.s3: S3Client | None = None
        self.bucket = ""
        self.index: FeedIndex | None = None
        self.site: Callable[[], Site] = Site

    def attach(self, s3: S3Client, bucket: str, site: Callable[[], Site] | None = None) -> None:
        self.s3, self.bucket, self.index = s3, bucket, FeedIndex(s3, bucket)
        if site is not None:
            self.site = site

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        host = self.server_address[0]
        return f"http://{host!s}:{self.port}"


class FeedRequestHandler(BaseHTTPRequestHandler):
    server: FeedsHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "postfeed"

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def _respond(self, *, head: bool) -> None:
        try:
            key = unquote(urlsplit(self.path).path, encoding="utf-8", errors="strict").lstrip("/")
        except UnicodeDecodeError:  # %-escapes that are not UTF-8 name no key
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", head=head)
            return
        if key in ("", "index.html"):
            self._send(HTTPStatus.OK, self._index_page(), "text/html; charset=utf-8", head=head)
            return
        s3, bucket = self.server.s3, self.server.bucket
        if s3 is None:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, b"starting\n", "text/plain; charset=utf-8", head=head)
            return
        try:
            if head:
                obj: Any = s3.head_object(Bucket=bucket, Key=key)
            else:
                obj = s3.get_object(Bucket=bucket, Key=key)
        except s3.exceptions.ClientError as exc:
            status = str(exc.response.get("Error", {}).get("Code", ""))
            if status in ("404", "NoSuchKey", "NotFound"):
                self._send(
                    HTTPStatus.NOT_FOUND, f"not found: /{key}\n".encode(), "text/plain; charset=utf-8", head=head
                )
                return
            raise
        headers = {
            "ETag": obj["ETag"],
            "Last-Modified": http_date(obj["LastModified"]),
            "Cache-Control": obj.get("CacheControl") or "no-cache",
        }
        if not_modified(self.headers, obj["ETag"], obj["LastModified"]):
            if not head:
                obj["Body"].close()
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, head=True, extra=headers)
            return
        body = b"" if head else obj["Body"].read()
        content_type = obj.get("ContentType") or "application/octet-stream"
        self._send(HTTPStatus.OK, body, content_type, head=head, extra=headers, length=int(obj["ContentLength"]))

    def _send(
        self,
        status: HTTPStatus,
        body: bytes,
        content_type: str | None,
        *,
        head: bool,
        extra: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if status is not HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _index_page(self) -> bytes:
        documents = self.server.index.documents() if self.server.index else []
        site = self.server.site()
        base = self.server.url
        feeds: dict[str, dict[str, dict[str, Any]]] = {}
        for doc in documents:
            if doc["format"] in FORMAT_MEDIA_TYPES and not doc.get("archive"):  # archive pages: not to subscribe
                feeds.setdefault(feed_stem(doc["key"]), {})[doc["format"]] = doc
        ordered = sorted(feeds.items(), key=lambda kv: (kv[0].count("/"), kv[0]))
        links, rows = [], []
        for stem, formats in ordered:
            first = next(formats[f] for f in (*FORMAT_ORDER, *formats) if f in formats)
            title = html.escape(first["title"] or stem)
            cells = []
            for fmt in FORMAT_ORDER:
                if fmt not in formats:
                    cells.append("<td></td>")
                    continue
                href = html.escape(f"{base}/{quote(formats[fmt]['key'], safe='/')}")
                links.append(
                    f'<link rel="alternate" type="{FORMAT_MEDIA_TYPES[fmt]}" title="{title} ({fmt})" href="{href}">'
                )
                cells.append(f'<td><a href="{href}">{fmt}</a></td>')
            rows.append(
                f"<tr><td>{title}</td><td><code>{html.escape(stem)}</code></td>"
                f'<td class="n">{first["entries"]}</td>{"".join(cells)}</tr>'
            )
        site_title = html.escape(site.title or "postfeed")
        page = "\n".join(
            [
                "<!DOCTYPE html>",
                f'<html lang="{html.escape(site.lang or "")}">' if site.lang else "<html>",
                "<head>",
                '<meta charset="utf-8">',
                f"<title>{site_title}: feeds</title>",
                *links,
                "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .8em;text-align:left}"
                ".n{text-align:right}</style>",
                "</head>",
                "<body>",
                f"<h1>{site_title}: {len(ordered)} feeds</h1>",
                "<table>",
                "<tr><th>title</th><th>feed</th><th>entries</th><th colspan=3>formats</th></tr>",
                *rows,
                "</table>",
                "<p>Served by <code>postfeed serve</code> from the local feeds bucket.</p>",
                "</body>",
                "</html>",
                "",
            ]
        )
        return page.encode("utf-8")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.access_log is not None:
            stamp = time.strftime("%H:%M:%S")
            self.server.access_log.write(f"{stamp}  http {self.address_string()} {format % args}\n")
            self.server.access_log.flush()


# -- keeping the pipeline moving ----------------------------------------------------------------------


class Poller(threading.Thread):
    """Delivers the queue and the stream through the handlers every `interval` seconds, and runs the
    scheduled function every `schedule_interval` seconds, until stopped."""

    def __init__(
        self,
        pipeline: LocalPipeline,
        *,
        interval: float = POLL_SECONDS,
        schedule_interval: float = SCHEDULE_SECONDS,
        console: IO[str],
    ) -> None:
        super().__init__(name="postfeed-poller", daemon=True)
        self.pipeline = pipeline
        self.interval = interval
        self.schedule_interval = schedule_interval
        self.next_schedule = 0.0  # monotonic time of the next scheduled run (the first round runs it)
        self.console = console
        self.stopping = threading.Event()
        self.lock = threading.Lock()  # held while the glue runs: callers can settle in step with it
        self.rounds = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            self.settle_once()
            self.stopping.wait(self.interval)

    def settle_once(self) -> None:
        with self.lock:
            try:
                if time.monotonic() >= self.next_schedule:
                    self.next_schedule = time.monotonic() + self.schedule_interval
                    self.pipeline.glue.run_schedule()
                self.pipeline.settle()
            except Exception as exc:  # a local server hiccup must not end the poller
                self.console.write(f"{time.strftime('%H:%M:%S')}  poller: {type(exc).__name__}: {exc}\n")
                self.console.flush()
            self.rounds += 1

    def stop(self, timeout: float = 30.0) -> None:
        self.stopping.set()
        self.join(timeout)


class ConsoleLogHandler(logging.Handler):
    """One short line per post change and per feed rebuild, from the functions' Powertools loggers."""

    def __init__(self, console: IO[str], feed_url: Callable[[str], str]) -> None:
        super().__init__(level=logging.INFO)
        self.console = console
        self.feed_url = feed_url

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = record.getMessage()
            code, detail = getattr(record, "code", None), getattr(record, "detail", None)
            if code:
                line += f" ({code}: {detail})" if detail else f" ({code})"
            written = getattr(record, "written", None)
            if written:  # the shortest key is the feed's own Atom document, not one of its archive pages
                line += f" ({self.feed_url(min(written, key=len))}" + (" …)" if len(written) > 1 else ")")
            self.console.write(f"{time.strftime('%H:%M:%S')}  {line}\n")
            self.console.flush()
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def console_logging(console: IO[str], feed_url: Callable[[str], str]) -> Iterator[None]:
    handler = ConsoleLogHandler(console, feed_url)
    loggers = [logging.getLogger(name) for name in FUNCTION_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


# -- what to tell the user ----------------------------------------------------------------------------


def instructions(*, endpoint: str, feeds_url: str, bucket: str, prefix: str, table: str, region: str) -> str:
    from postfeed.local.pipeline import LOCAL_AWS_ENVIRONMENT

    env = LOCAL_AWS_ENVIRONMENT
    exports = " ".join(
        f"{name}={env[name]}"
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION")
    )
    return "\n".join(
        [
            "postfeed serve: the local stack is up (Ctrl-C stops it)",
            "",
            f"  feeds        {feeds_url}/   (index of every feed; feed links point here)",
            f"  endpoint     {endpoint}   (S3, SQS, DynamoDB on moto)",
            f"  posts        s3://{bucket}/{prefix}",
            f"  table        {table}",
            "",
            "Fake credentials for the local endpoint (set them in the shell you upload from):",
            f"  export {exports}",
            "",
            "Upload a post (AWS CLI):",
            f"  aws s3 cp FILE s3://{bucket}/{prefix}NAME --endpoint-url {endpoint}",
            "",
            "Upload a post (Python, boto3):",
            "  import boto3",
            f'  s3 = boto3.client("s3", endpoint_url="{endpoint}", region_name="{region}",',
            f'                    aws_access_key_id="{env["AWS_ACCESS_KEY_ID"]}", '
            f'aws_secret_access_key="{env["AWS_SECRET_ACCESS_KEY"]}")',
            f'  s3.upload_file("FILE", "{bucket}", "{prefix}NAME")',
            "",
            f"Site settings: upload _config.yml to s3://{bucket}/_config.yml the same way (before the posts).",
            f"Delete a post: aws s3 rm s3://{bucket}/{prefix}NAME --endpoint-url {endpoint}",
            "",
        ]
    )


# -- the whole service --------------------------------------------------------------------------------


class LocalService:
    """moto + the poller + the feeds HTTP server, started and stopped together (`with` or start/stop)."""

    def __init__(
        self,
        *,
        port: int = 4000,
        s3_port: int | None = None,
        host: str = "127.0.0.1",
        console: IO[str],
        log: Path | None = None,
        poll_seconds: float = POLL_SECONDS,
        access_log: bool = True,
    ) -> None:
        self.port = port
        self.s3_port = s3_port if s3_port is not None else (port + 1 if port else 0)
        self.host = host
        self.console = console
        self.log = log
        self.poll_seconds = poll_seconds
        self.access_log = access_log
        self._stack = contextlib.ExitStack()
        self.httpd: FeedsHTTPServer | None = None
        self.pipeline: LocalPipeline | None = None
        self.poller: Poller | None = None
        self.endpoint = ""
        self._http_thread: threading.Thread | None = None

    @property
    def feeds_url(self) -> str:
        assert self.httpd is not None, "start() first"
        return self.httpd.url

    def start(self, site: SiteFiles | None = None) -> None:
        """Bring everything up; `site` (config and posts) is loaded and settled before serving."""
        from postfeed.local.runner import create_pipeline, function_output, local_aws_server

        try:
            self.httpd = FeedsHTTPServer((self.host, self.port), access_log=self.console if self.access_log else None)
        except OSError as exc:
            raise RunError(f"cannot serve feeds on {self.host}:{self.port}: {exc}") from exc
        self._stack.callback(self.httpd.server_close)
        self.endpoint = self._stack.enter_context(local_aws_server(self.s3_port, self.host))
        self._stack.enter_context(function_output(self.log))
        pipeline = create_pipeline(endpoint_url=self.endpoint, feed_base_url=self.feeds_url, log_level="INFO")
        self.pipeline = pipeline
        self.httpd.attach(self._s3_client(), pipeline.stack.feeds_bucket, site=lambda: self._site(pipeline))
        if site is not None:
            self._preload(site)
        self._http_thread = threading.Thread(target=self.httpd.serve_forever, name="postfeed-http", daemon=True)
        self._http_thread.start()
        self._stack.enter_context(console_logging(self.console, lambda key: f"{self.feeds_url}/{key}"))
        self.poller = Poller(pipeline, interval=self.poll_seconds, console=self.console)
        self.poller.start()

    def stop(self) -> None:
        """Stop the poller (finishing its round), the HTTP server, then moto; idempotent."""
        if self.poller is not None:
            self.poller.stop()
            self.poller = None
        if self.httpd is not None and self._http_thread is not None:
            self.httpd.shutdown()
            self._http_thread.join(10)
            self._http_thread = None
        self._stack.close()

    def __enter__(self) -> LocalService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def instructions(self) -> str:
        assert self.pipeline is not None, "start() first"
        stack = self.pipeline.stack
        return instructions(
            endpoint=self.endpoint,
            feeds_url=self.feeds_url,
            bucket=stack.posts_bucket,
            prefix=str(stack.parameters.get("PostsPrefix") or "_posts/"),
            table=stack.table,
            region=stack.region,
        )

    def _s3_client(self) -> S3Client:
        import boto3

        client: S3Client = boto3.client("s3", region_name="us-east-1", endpoint_url=self.endpoint)
        return client

    @staticmethod
    def _site(pipeline: LocalPipeline) -> Site:
        from postfeed.local.runner import local_settings

        try:
            config = pipeline.table.get_config()
            return local_settings(pipeline).site(config["raw"] if config else None)
        except Exception:  # the index page still works without the site's title
            return Site()

    def _preload(self, site: SiteFiles) -> None:
        from collections import Counter

        from postfeed.local.runner import local_settings, post_items, post_report, upload_config, upload_posts

        assert self.pipeline is not None
        settings = local_settings(self.pipeline)
        if site.config is not None or site.site_files:
            config = site.config.read_bytes() if site.config is not None else None
            upload_config(self.pipeline, config, settings.config_key, site.site_files)
        upload_posts(self.pipeline, site.posts)
        items = post_items(self.pipeline)
        outcomes = Counter(post_report(key, items.get(key), settings)["status"] for key in site.keys)
        summary = ", ".join(f"{count} {status}" for status, count in sorted(outcomes.items()))
        self.console.write(f"preloaded {len(site.posts)} posts from {site.root}: {summary or 'none'}\n")
        self.console.flush()
