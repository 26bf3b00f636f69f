"""`postfeed serve`: the local stack kept up, with the feeds served over HTTP.

- an embedded moto server (S3, SQS, DynamoDB and its streams) on 127.0.0.1, where posts are uploaded
  with any S3 client (`aws s3 cp … --endpoint-url`, boto3);
- a poller thread delivering the queue and the stream through the real handlers every `poll_seconds`;
- a state folder (postfeed_tools.local.state): the posts bucket written through before each upload's 200, the table
  and the feeds bucket snapshotted while idle, all restored on start;
- an upload gate in front of the endpoint: writes to the posts bucket get `503` (with `Retry-After`) while
  the state is restored and from the moment serve begins to stop, so nothing is acknowledged that the stop
  could lose; `stop(drain=…)` then delivers the backlog and takes a last snapshot;
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from postfeed.models import Site
from postfeed_tools.local.runner import FEED_EXTENSIONS, RunError, SiteFiles, feed_stem, feed_summary

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from mypy_boto3_s3 import S3Client

    from postfeed_tools.local.pipeline import LocalPipeline
    from postfeed_tools.local.state import StateFolder

POLL_SECONDS = 0.5
RETRY_AFTER_SECONDS = 5
SCHEDULE_SECONDS = 60.0  # how often `serve` runs the scheduled function (future-dated posts that are due)
FORMAT_MEDIA_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml", "json": "application/feed+json"}
FORMAT_ORDER = ("atom", "rss", "json")
FUNCTION_LOGGERS = ("postfeed-ingest", "postfeed-feeds", "postfeed_tools.local.glue")


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


# -- the local AWS endpoint, with a gate for uploads -----------------------------------------------------


class UploadGate:
    """WSGI middleware in front of moto: while shut, a write to the posts bucket (PUT, POST, DELETE on
    `/<bucket>…` or `<bucket>.<host>`) gets `503 ServiceUnavailable` with `Retry-After` and never reaches
    moto; everything else (reads, the functions' writes to the feeds bucket, the table, the queues) passes.
    `shut` waits for the writes already let in, so an upload is either refused or acknowledged before."""

    def __init__(self) -> None:
        self.bucket = ""
        self.reason = "starting"
        self.refused = 0
        self._shut = True
        self._inflight = 0
        self._changed = threading.Condition()

    def open(self) -> None:
        with self._changed:
            self._shut = False

    def shut(self, reason: str, timeout: float = 30.0) -> bool:
        """Refuse uploads from now on; True once every upload let in before has returned."""
        with self._changed:
            self._shut, self.reason = True, reason
            return self._changed.wait_for(lambda: self._inflight == 0, timeout)

    def wrap(self, app: WSGIApplication) -> WSGIApplication:
        def gated(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            if not self._is_upload(environ):
                return app(environ, start_response)
            with self._changed:
                if self._shut:
                    self.refused += 1
                    return self._refuse(start_response)
                self._inflight += 1
            try:
                return app(environ, start_response)  # moto answers in full here (its body is a list)
            finally:
                with self._changed:
                    self._inflight -= 1
                    self._changed.notify_all()

        return gated

    def _is_upload(self, environ: WSGIEnvironment) -> bool:
        if not self.bucket or environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
            return False
        path, host = str(environ.get("PATH_INFO", "")), str(environ.get("HTTP_HOST", ""))
        return path == f"/{self.bucket}" or path.startswith(f"/{self.bucket}/") or host.startswith(f"{self.bucket}.")

    def _refuse(self, start_response: StartResponse) -> list[bytes]:
        message = html.escape(f"postfeed serve is {self.reason}: uploads are refused; retry once it is up")
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>ServiceUnavailable</Code><Message>{message}</Message></Error>\n"
        ).encode()
        start_response(
            "503 Service Unavailable",
            [
                ("Content-Type", "application/xml"),
                ("Content-Length", str(len(body))),
                ("Retry-After", str(RETRY_AFTER_SECONDS)),
            ],
        )
        return [body]


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
        on_idle: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(name="postfeed-poller", daemon=True)
        self.pipeline = pipeline
        self.interval = interval
        self.schedule_interval = schedule_interval
        self.next_schedule = 0.0  # monotonic time of the next scheduled run (the first round runs it)
        self.console = console
        self.on_idle = on_idle  # called (lock held) after each round that ends with nothing left to deliver
        self.stopping = threading.Event()
        self.wake = threading.Event()  # ends the wait between rounds early
        self.lock = threading.Lock()  # held while the glue runs: callers can settle in step with it
        self.rounds = 0
        self.idle_rounds = 0  # the number of the last round that ended idle (rounds count from 1)
        self.round_done = threading.Condition()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.settle_once()
            self.wake.wait(self.interval)
            self.wake.clear()

    def settle_once(self) -> None:
        with self.lock:
            idle = False
            try:
                if time.monotonic() >= self.next_schedule:
                    self.next_schedule = time.monotonic() + self.schedule_interval
                    self.pipeline.glue.run_schedule()
                self.pipeline.settle()
                idle = True
                if self.on_idle is not None:
                    self.on_idle()
            except Exception as exc:  # a local server hiccup must not end the poller
                self._say(f"poller: {type(exc).__name__}: {exc}")
            with self.round_done:
                self.rounds += 1
                if idle:
                    self.idle_rounds = self.rounds
                self.round_done.notify_all()

    def drain(self, timeout: float, cancel: threading.Event) -> bool:
        """Wait until a round that starts after this call ends idle: every event already queued (each upload
        acknowledged before the gate shut) has then been delivered. False on `timeout` or `cancel`."""
        with self.lock, self.round_done:  # no round is running: the next one starts after this point
            wanted = self.rounds + 1
        self.wake.set()
        deadline = time.monotonic() + timeout
        with self.round_done:
            while self.idle_rounds < wanted:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or cancel.is_set() or not self.is_alive():
                    return False
                self.round_done.wait(min(remaining, 0.2))
        return True

    def stop(self, timeout: float = 30.0) -> None:
        self.stopping.set()
        self.wake.set()
        self.join(timeout)

    def _say(self, line: str) -> None:
        self.console.write(f"{time.strftime('%H:%M:%S')}  {line}\n")
        self.console.flush()


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


def instructions(
    *, endpoint: str, feeds_url: str, bucket: str, prefix: str, table: str, region: str, state: str = ""
) -> str:
    from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT

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
            *([f"  state        {state}   (posts, table and feeds kept across restarts)"] if state else []),
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
    """moto + the poller + the feeds HTTP server (+ the state folder), started and stopped together (`with`
    or start/stop)."""

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
        state: Path | None = None,
        fresh: bool = False,
    ) -> None:
        self.port = port
        self.s3_port = s3_port if s3_port is not None else (port + 1 if port else 0)
        self.host = host
        self.console = console
        self.log = log
        self.poll_seconds = poll_seconds
        self.access_log = access_log
        self.state_dir = state
        self.fresh = fresh
        self._stack = contextlib.ExitStack()
        self.httpd: FeedsHTTPServer | None = None
        self.pipeline: LocalPipeline | None = None
        self.poller: Poller | None = None
        self.gate = UploadGate()
        self.state: StateFolder | None = None
        self.endpoint = ""
        self._http_thread: threading.Thread | None = None

    @property
    def feeds_url(self) -> str:
        assert self.httpd is not None, "start() first"
        return self.httpd.url

    def start(self, site: SiteFiles | None = None) -> None:
        """Bring everything up: the state folder restored (uploads get 503 meanwhile), then `site` (config and
        posts), if any, loaded and settled before serving."""
        from postfeed_tools.local.runner import create_pipeline, function_output, local_aws_server
        from postfeed_tools.local.state import StateFolder

        if self.state_dir is not None:  # first: a folder in use or not ours stops us before any port is taken
            self.state = StateFolder(self.state_dir, fresh=self.fresh)
            self._stack.callback(self.state.close)  # last out: the folder stays locked until moto is down
        try:
            self.httpd = FeedsHTTPServer((self.host, self.port), access_log=self.console if self.access_log else None)
        except OSError as exc:
            raise RunError(f"cannot serve feeds on {self.host}:{self.port}: {exc}") from exc
        self._stack.callback(self.httpd.server_close)
        self.endpoint = self._stack.enter_context(local_aws_server(self.s3_port, self.host, wrap=self.gate.wrap))
        self._stack.enter_context(function_output(self.log))
        pipeline = create_pipeline(endpoint_url=self.endpoint, feed_base_url=self.feeds_url, log_level="INFO")
        self.pipeline = pipeline
        self.gate.bucket = pipeline.stack.posts_bucket
        self.httpd.attach(self._s3_client(), pipeline.stack.feeds_bucket, site=lambda: self._site(pipeline))
        if self.state is not None and self.state_dir is not None:
            restored = self.state.restore(pipeline)
            self.console.write(restored.summary(self.state_dir) + "\n")
            self.console.flush()
        self.gate.open()
        if site is not None:
            self._preload(site)
        self._http_thread = threading.Thread(target=self.httpd.serve_forever, name="postfeed-http", daemon=True)
        self._http_thread.start()
        self._stack.enter_context(console_logging(self.console, lambda key: f"{self.feeds_url}/{key}"))
        self.poller = Poller(pipeline, interval=self.poll_seconds, console=self.console, on_idle=self._checkpoint)
        self.poller.start()

    def stop(self, *, drain: float = 0.0, cancel: threading.Event | None = None) -> bool:
        """Shut the upload gate (503 from now on), deliver the backlog for up to `drain` seconds (or until
        `cancel`), take a last snapshot if it drained, then stop the poller, the HTTP server and moto;
        idempotent. True when the backlog was delivered; if not, the state folder still holds every upload
        acknowledged, and the next start delivers it."""
        drained = False
        self.gate.shut("stopping")
        if self.poller is not None:
            poller, self.poller = self.poller, None
            cancelled = cancel or threading.Event()
            if drain > 0:
                drained = poller.drain(drain, cancelled)
            poller.stop(timeout=2.0 if cancelled.is_set() or (drain > 0 and not drained) else 30.0)
            if drained and not poller.is_alive() and poller.idle_rounds == poller.rounds:
                self._checkpoint(force=True)
        if self.httpd is not None and self._http_thread is not None:
            self.httpd.shutdown()
            self._http_thread.join(10)
            self._http_thread = None
        self._stack.close()
        return drained

    def _checkpoint(self, *, force: bool = False) -> None:
        """A snapshot of the state, when the pipeline is idle (the poller's lock held, or the poller stopped)
        and it has moved since the last one (`force`: however recent that was)."""
        if self.state is None or self.pipeline is None:
            return
        if self.state.snapshot_due(self.pipeline, wait=not force):
            self.state.snapshot(self.pipeline)

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
            state=str(self.state_dir) if self.state_dir is not None else "",
        )

    def _s3_client(self) -> S3Client:
        import boto3

        client: S3Client = boto3.client("s3", region_name="us-east-1", endpoint_url=self.endpoint)
        return client

    @staticmethod
    def _site(pipeline: LocalPipeline) -> Site:
        from postfeed_tools.local.runner import local_settings

        try:
            config = pipeline.table.get_config()
            return local_settings(pipeline).site(config["raw"] if config else None)
        except Exception:  # the index page still works without the site's title
            return Site()

    def _preload(self, site: SiteFiles) -> None:
        from collections import Counter

        from postfeed_tools.local.runner import local_settings, post_items, post_report, upload_config, upload_posts

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
