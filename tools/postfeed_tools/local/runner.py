"""`postfeed run`: a Jekyll site (or a bare folder of posts) through the whole pipeline on moto.

The flow is the one a user has in AWS: `_config.yml`, the `_data/` files and the site's `feed.xslt.xml` are
uploaded first and settled, then every post (with the drafts and the declared collections' documents), then
the feeds bucket is copied to a folder and every post's outcome is read back from the table into
`report.json`. Uploads are settled every `settle_every` posts, so queues and stream shards stay small
on large sites (16,000 posts and more).

`local_aws_server()` (an embedded moto server on 127.0.0.1 with the process environment pointing at it)
is shared with `postfeed serve`; `collect_site()` and `feed_summary()` too. (The server runs in this
process, so `LocalPipeline.create` installs `postfeed_tools.local.moto_speedups` in it: moto's DynamoDB does not
slow down as the table grows.)
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import os
import socket
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any

from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT, LocalPipeline
from postfeed_tools.local.sitefiles import ExtraFiles, collect_extra_files, site_file_report

if TYPE_CHECKING:
    from postfeed.pipeline.settings import Settings

POSTS_DIR = "_posts"
CONFIG_NAME = "_config.yml"
SETTLE_EVERY = 500
UPLOAD_WORKERS = 8
# A progress bar is drawn when stderr is a terminal, or (as plain periodic lines) for this many posts.
PROGRESS_MIN_POSTS = 1000
REPORT_NAME = "report.json"
FEED_EXTENSIONS = (".xml", ".rss", ".json")
# Folders Jekyll never reads posts from (besides names starting with "."), see its default `exclude`.
EXCLUDED_DIRS = frozenset({"_site", "node_modules", "vendor", ".jekyll-cache", ".sass-cache"})
LOG_NAME = "functions.log"
NOT_PROCESSED = "not_processed"


class RunError(RuntimeError):
    """A run that cannot start (bad folder, an output folder we will not clear); the message says why."""


# -- what to upload ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SiteFiles:
    """The files of a site to upload: `_config.yml` (if any), the other site files feeds depend on, and every
    post (with the drafts and the documents of the collections the config declares), by bucket key."""

    root: Path
    config: Path | None
    posts: tuple[tuple[str, Path], ...]  # (key, file), sorted by key
    site_files: tuple[tuple[str, Path], ...] = ()  # `_data/` files and `feed.xslt.xml`, sorted by key

    @property
    def keys(self) -> list[str]:
        return [key for key, _ in self.posts]


def collect_site(directory: Path, config: Path | None = None) -> SiteFiles:
    """The posts of a Jekyll site folder (every file under any `_posts/` folder, keyed by its path from
    the site root, e.g. `_posts/x.md`, `news/_posts/y.md`), or of a bare folder of posts (uploaded under
    `_posts/`). `_config.yml` is `config`, else the site root's, else none."""
    if not directory.is_dir():
        raise RunError(f"{directory}: not a folder")
    files = sorted(_walk(directory))
    in_posts = [f for f in files if POSTS_DIR in f.relative_to(directory).parts[:-1]]
    if in_posts:  # a site: keys relative to its root
        root = directory
        posts = [(f.relative_to(root).as_posix(), f) for f in in_posts]
    else:  # a bare folder of posts (or the _posts folder itself)
        root = directory.parent if directory.resolve().name == POSTS_DIR else directory
        posts = [
            (f"{POSTS_DIR}/{f.relative_to(directory).as_posix()}", f)
            for f in files
            if f.name != CONFIG_NAME or f.parent != directory
        ]
    if config is None and (root / CONFIG_NAME).is_file():
        config = root / CONFIG_NAME
    if config is not None and not config.is_file():
        raise RunError(f"{config}: no such file")
    extra = ExtraFiles()
    if in_posts or root != directory:  # a site, not a bare folder of posts
        extra = collect_extra_files(root, config.read_bytes() if config else None)
    posts = sorted(dict([*posts, *extra.documents]).items())
    return SiteFiles(root=root, config=config, posts=tuple(posts), site_files=extra.settings)


def _walk(directory: Path) -> Iterator[Path]:
    for parent, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in EXCLUDED_DIRS)
        for name in names:
            path = Path(parent) / name
            if path.is_file():
                yield path


def config_url(config: bytes | None) -> str:
    """`url` + `baseurl` of a `_config.yml` (the default public base of local feeds), or ""."""
    import yaml

    try:
        data = yaml.safe_load(config) if config else None
    except yaml.YAMLError:
        return ""
    if not isinstance(data, dict):
        return ""
    url, baseurl = str(data.get("url") or ""), str(data.get("baseurl") or "")
    return (url.rstrip("/") + "/" + baseurl.strip("/")).rstrip("/") if url else ""


# -- the local AWS --------------------------------------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def process_environment(variables: dict[str, str]) -> contextlib.AbstractContextManager[None]:
    """Set environment variables for the duration (the handlers' boto3 session reads them when it builds
    its clients, so those are rebuilt on the way in and out)."""
    from postfeed.store.clients import reset_clients
    from postfeed_tools.local.glue import environment_variables

    return environment_variables(variables, reset_clients)


@contextlib.contextmanager
def local_aws_server(
    port: int = 0, host: str = "127.0.0.1", *, wrap: Callable[[Any], Any] | None = None
) -> Iterator[str]:
    """An embedded moto server on `host:port` (0: a free port); yields its endpoint URL. While it runs,
    the process talks to it: AWS_ENDPOINT_URL and the fake credentials of LOCAL_AWS_ENVIRONMENT are set.
    `wrap` puts a WSGI layer in front of moto's application (`postfeed serve`'s upload gate)."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request on stderr
    server = ThreadedMotoServer(ip_address=host, port=port or free_port(host), verbose=False)
    try:
        server.start()
    except OSError as exc:
        raise RunError(f"cannot start the local AWS server on {host}:{port}: {exc}") from exc
    if wrap is not None and server._server is not None:
        server._server.app = wrap(server._server.app)  # werkzeug calls `server.app` for each request
    bound_host, bound_port = server.get_host_and_port()
    endpoint = f"http://{bound_host}:{bound_port}"
    try:
        with process_environment({**LOCAL_AWS_ENVIRONMENT, "AWS_ENDPOINT_URL": endpoint}):
            yield endpoint
    finally:
        server.stop()
        if server._server is not None:  # stop() shuts the loop down but leaves the socket open
            server._server.server_close()


@contextlib.contextmanager
def local_aws_in_process() -> Iterator[None]:
    """moto inside this process (no HTTP server: each AWS call is a function call, about half the cost of a
    request to `local_aws_server`), with the fake credentials of LOCAL_AWS_ENVIRONMENT. For a run that
    nothing outside the process talks to (`postfeed run`, whose uploads are in-process anyway)."""
    from moto import mock_aws

    with process_environment(dict(LOCAL_AWS_ENVIRONMENT)), mock_aws():
        yield


def create_pipeline(
    *,
    endpoint_url: str | None,
    feed_base_url: str,
    log_level: str = "WARNING",
    parameters: dict[str, Any] | None = None,
) -> LocalPipeline:
    """The template's stack on the moto that `endpoint_url` (or mock_aws) reaches; `log_level` is the
    template's LogLevel parameter (the functions' Powertools loggers)."""
    return LocalPipeline.create(
        parameters={"LogLevel": log_level, **(parameters or {})},
        endpoint_url=endpoint_url,
        feed_base_url=feed_base_url,
    )


class _FunctionOutput(io.TextIOBase):
    """Stands in for sys.stdout while the functions run: what they print (Powertools' JSON log lines and
    EMF metrics, i.e. what CloudWatch Logs receives in AWS) goes to `target`, or nowhere. Powertools keeps
    the stream it first saw, so outside a run this forwards to whatever sys.stdout is at the time."""

    def __init__(self) -> None:
        super().__init__()
        self.target: IO[str] | None = None
        self.active = False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.active:
            if self.target is not None:
                self.target.write(text)
        elif sys.stdout is not self:
            sys.stdout.write(text)
        return len(text)

    def flush(self) -> None:
        if self.active and self.target is not None:
            self.target.flush()


FUNCTION_OUTPUT = _FunctionOutput()


@contextlib.contextmanager
def function_output(log: Path | None) -> Iterator[None]:
    """Send the functions' stdout to the file `log` (None: drop it) for the duration. Not re-entrant: the
    process's sys.stdout is replaced, so print the caller's own lines to a stream saved beforehand."""
    with contextlib.ExitStack() as stack:
        target = stack.enter_context(log.open("a", encoding="utf-8")) if log else None
        FUNCTION_OUTPUT.target, FUNCTION_OUTPUT.active = target, True
        _log_through_function_output()
        stack.enter_context(contextlib.redirect_stdout(FUNCTION_OUTPUT))
        stack.enter_context(warnings.catch_warnings())
        # The feed function adds no metric when a batch touches no feed; Powertools warns then.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        try:
            yield
        finally:
            FUNCTION_OUTPUT.target, FUNCTION_OUTPUT.active = None, False


def _log_through_function_output() -> None:
    """Point the functions' Powertools loggers (services `postfeed-*`) at FUNCTION_OUTPUT: one made before
    any run (a test's pipeline, a bulk load outside a run) keeps the stdout of that moment and would write
    past this run's log. FUNCTION_OUTPUT forwards to the current stdout outside a run, so this is safe."""
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and logger.name.startswith("postfeed"):
            for handler in logger.handlers:
                if type(handler) is logging.StreamHandler and handler.stream is not FUNCTION_OUTPUT:
                    handler.setStream(FUNCTION_OUTPUT)


# -- uploading ------------------------------------------------------------------------------------


class Progress:
    """A tqdm bar on stderr when it is a terminal or the run is long; otherwise nothing."""

    def __init__(self, total: int, *, unit: str, enabled: bool | None = None, desc: str = "") -> None:
        self.bar: Any = None
        if enabled is None:
            enabled = sys.stderr.isatty() or total >= PROGRESS_MIN_POSTS
        if enabled and total:
            from tqdm import tqdm  # type: ignore[import-untyped]  # no types-tqdm pinned

            interactive = sys.stderr.isatty()
            self.bar = tqdm(
                total=total,
                unit=unit,
                desc=desc,
                file=sys.stderr,
                dynamic_ncols=interactive,
                mininterval=0.2 if interactive else 10.0,
                ascii=not interactive,
            )

    def update(self, count: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def note(self, text: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@dataclass(slots=True)
class UploadStats:
    uploaded: int = 0
    settles: int = 0
    upload_seconds: float = 0.0
    settle_seconds: float = 0.0
    # The bulk path's account of each post's item (what a Scan would read back); None: read the table.
    items: dict[str, dict[str, Any] | None] | None = None


def upload_config(
    pipeline: LocalPipeline, config: bytes | None, key: str = CONFIG_NAME, site_files: Sequence[tuple[str, Path]] = ()
) -> None:
    """Upload `_config.yml` and the other site files and settle, so every post is parsed with the site's
    settings (and no feed is rendered twice for an authors file or a stylesheet that comes after)."""
    if config is not None:
        pipeline.upload(key, config)
    for file_key, file in site_files:
        pipeline.upload(file_key, file.read_bytes())
    pipeline.settle()


def upload_posts(
    pipeline: LocalPipeline,
    posts: Sequence[tuple[str, Path]],
    *,
    settle_every: int = SETTLE_EVERY,
    workers: int = UPLOAD_WORKERS,
    progress: bool | None = None,
) -> UploadStats:
    """Upload posts `settle_every` at a time (concurrently), settling the pipeline after each chunk."""
    stats = UploadStats()
    bar = Progress(len(posts), unit="post", enabled=progress, desc="posts")

    def put(item: tuple[str, Path]) -> None:
        key, file = item
        pipeline.upload(key, file.read_bytes())

    try:
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="postfeed-upload") as pool:
            for start in range(0, len(posts), max(1, settle_every)):
                chunk = posts[start : start + max(1, settle_every)]
                began = time.perf_counter()
                for _ in pool.map(put, chunk):
                    bar.update()
                stats.uploaded += len(chunk)
                stats.upload_seconds += time.perf_counter() - began
                bar.note("settling")
                began = time.perf_counter()
                pipeline.settle()
                stats.settle_seconds += time.perf_counter() - began
                stats.settles += 1
                bar.note("")
    finally:
        bar.close()
    return stats


def load_posts(pipeline: LocalPipeline, posts: Sequence[tuple[str, Path]]) -> UploadStats:
    """Every post through the bulk path at once (LocalPipeline.bulk_load): the same end state as uploading
    them one by one, in a fraction of the calls."""
    began = time.perf_counter()
    loaded = pipeline.bulk_load([(key, file.read_bytes()) for key, file in posts])
    before = dataclasses.replace(pipeline.glue.delivery)
    delivery = pipeline.settle()  # anything the bulk path set in motion (none expected) is delivered first
    # The items it wrote are the table's, unless that settle ran a function after them.
    invocations = (delivery.sqs_invocations, delivery.stream_invocations)
    items = loaded.items if invocations == (before.sqs_invocations, before.stream_invocations) else None
    return UploadStats(uploaded=len(posts), settles=1, upload_seconds=time.perf_counter() - began, items=items)


# -- reading back ---------------------------------------------------------------------------------


def post_items(pipeline: LocalPipeline) -> dict[str, dict[str, Any]]:
    """Every post item of the table, by key (one paginated Scan, without the entries' content)."""
    from postfeed.store.items import POST_SK
    from postfeed.store.table import from_attributes

    client, found = pipeline.table.client, {}
    pages = client.get_paginator("scan").paginate(
        TableName=pipeline.table.name,
        FilterExpression="sk = :post",
        ProjectionExpression="#k, #s, #r, #e, #sk, #w, #n.#t, #n.#u",
        ExpressionAttributeNames={
            "#k": "key",
            "#s": "state",
            "#r": "rejected",
            "#e": "error",
            "#sk": "skip",
            "#w": "warnings",
            "#n": "entry",
            "#t": "title",
            "#u": "absolute_url",
        },
        ExpressionAttributeValues={":post": {"S": POST_SK}},
    )
    for page in pages:
        for raw in page.get("Items", []):
            item = from_attributes(raw)
            found[item["key"]] = item
    return found


def post_report(key: str, item: dict[str, Any] | None, settings: Settings) -> dict[str, Any]:
    """One post's outcome: published | skipped | error (with code/message, or reason/detail)."""
    if item is None:
        readable = settings.is_post_key(key) or settings.is_draft_key(key) or settings.collection_folder(key)
        if not readable and key != settings.config_key:
            return {
                "key": key,
                "status": "skipped",
                "reason": "outside_posts_prefix",
                "detail": f"{key}: the pipeline only reads posts under {settings.posts_prefix!r} (PostsPrefix)",
            }
        return {
            "key": key,
            "status": "error",
            "code": NOT_PROCESSED,
            "message": f"{key}: no state in the table: its event failed (see the dead-letter queue)",
            "line": None,
        }
    entry: dict[str, Any] = {"key": key}
    state = item.get("state")
    if item.get("rejected") == "1":
        error = item.get("error") or {}
        entry |= {
            "status": "error",
            "code": error.get("code"),
            "message": error.get("message"),
            "line": error.get("line"),
        }
        if state == "published":
            entry["kept_previous"] = True  # an earlier good version stays in the feeds
    elif state == "skipped":
        skip = item.get("skip") or {}
        entry |= {"status": "skipped", "reason": skip.get("reason"), "detail": skip.get("detail")}
    elif state == "published":
        published = item.get("entry") or {}
        entry |= {"status": "published", "title": published.get("title"), "url": published.get("absolute_url")}
        if item.get("warnings"):
            entry["warnings"] = list(item["warnings"])
    else:
        entry["status"] = str(state)
    return entry


FEED_FORMATS = ("atom", "rss", "json")
PAGE_FORMAT = "html"  # a feed's HTML page (feeds.page): beside its feed, not a feed format
# RFC 5005: an archived feed document (a page of older entries, not something to subscribe to).
ARCHIVE_MARK = "{http://purl.org/syndication/history/1.0}archive"


def published_report(posts: list[dict[str, Any]], exported: list[dict[str, Any]]) -> dict[str, Any]:
    """report.json's account of what a site published: `totals` (posts by status, feeds, documents, pages,
    other files), then `posts`, `feeds` (feed documents), `pages` (feeds' HTML pages: listed apart) and
    `other_files`, from each post's outcome and each exported file's `feed_summary`."""
    feeds = [doc for doc in exported if doc["format"] in FEED_FORMATS]
    pages = [doc for doc in exported if doc["format"] == PAGE_FORMAT]
    others = [doc["key"] for doc in exported if doc["format"] not in (*FEED_FORMATS, PAGE_FORMAT)]
    statuses = Counter(p["status"] for p in posts)
    totals = {
        "posts": len(posts),
        **{status: statuses.get(status, 0) for status in ("published", "skipped", "error")},
        "feeds": len({feed_stem(f["key"]) for f in feeds if not f.get("archive")}),
        "documents": len(feeds),
        "pages": len(pages),
        "other_files": len(others),
    }
    return {"totals": totals, "posts": posts, "feeds": feeds, "pages": pages, "other_files": others}


def feed_summary(key: str, body: bytes) -> dict[str, Any]:
    """Format (atom | rss | json, from the document itself; `html` for a feed's HTML page, which is no feed
    format; `other` for anything else in the feeds bucket such as a stylesheet or the index page), title and
    entry count of a document."""
    fmt, title, entries, archive = "other", "", 0, False
    suffix = PurePosixPath(key).suffix
    try:
        if suffix == ".json":
            data = json.loads(body)
            if isinstance(data, dict) and str(data.get("version", "")).startswith("https://jsonfeed.org/"):
                fmt, title, entries = "json", str(data.get("title", "")), len(data.get("items", []))
        elif suffix in (".xml", ".rss"):
            from lxml import etree  # type: ignore[import-untyped]  # no lxml-stubs pinned

            root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True))
            atom = "{http://www.w3.org/2005/Atom}"
            if root.tag == f"{atom}feed":
                fmt, title, entries = "atom", root.findtext(f"{atom}title") or "", len(root.findall(f"{atom}entry"))
                archive = root.find(ARCHIVE_MARK) is not None
            elif root.tag == "rss":
                fmt, title = "rss", root.findtext("channel/title") or ""
                entries = len(root.findall("channel/item"))
                archive = root.find(f"channel/{ARCHIVE_MARK}") is not None
        elif suffix == ".html":
            from lxml import html  # (lxml's missing stubs are ignored at the etree import above)

            page = html.document_fromstring(body) if body.strip() else None  # lxml refuses an empty document
            # A feed's page (feeds.page) says it was generated by postfeed and titles the feed; the index does not.
            if (
                page is not None
                and page.xpath("//meta[@name='generator'][@content='postfeed']")
                and page.xpath("//h1[@id='feed-title']")
            ):
                fmt, title = "html", page.xpath("string(//h1[@id='feed-title'])")
                entries = len(page.xpath("//article[@class='entry']"))
    except (ValueError, SyntaxError):  # json.JSONDecodeError, lxml's XMLSyntaxError
        fmt = "invalid"
    summary = {"key": key, "format": fmt, "title": title, "entries": entries, "bytes": len(body)}
    return summary | {"archive": True} if archive else summary


def feed_stem(key: str) -> str:
    """A feed's key without its format's extension: the three documents of a feed share it."""
    for extension in FEED_EXTENSIONS:
        if key.endswith(extension):
            return key[: -len(extension)]
    return key


def prepare_out(out: Path) -> list[str]:
    """Remove what the previous run wrote to `out` (the files its report.json lists, then the folders
    that leaves empty); anything else in `out` is left alone. Returns the keys removed."""
    if out.exists() and not out.is_dir():
        raise RunError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    try:
        previous = json.loads((out / REPORT_NAME).read_text(encoding="utf-8"))
        listed = [doc["key"] for doc in [*previous.get("feeds", []), *previous.get("pages", [])]]
        listed += list(previous.get("other_files", []))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        listed = []
    root = out.resolve()
    removed = []
    for key in [*listed, REPORT_NAME, LOG_NAME]:
        path = (out / key).resolve()
        if root in path.parents and path.is_file():
            path.unlink()
            removed.append(key)
            for folder in path.parents:  # the folders it leaves empty, up to `out`
                if folder == root or any(folder.iterdir()):
                    break
                folder.rmdir()
    return removed


def export_feeds(pipeline: LocalPipeline, out: Path) -> list[dict[str, Any]]:
    """Copy every object of the feeds bucket to `out` (same keys); a summary of each (`feed_summary`)."""
    summaries = []
    root = out.resolve()
    for key, body in pipeline.feed_documents():
        target = (out / key).resolve()
        if root not in target.parents:  # keys are safe by construction (docs/feeds.md); never trust it here
            raise RunError(f"feed key {key!r} would leave {out}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        summaries.append(feed_summary(key, body))
    return summaries


def queue_depth(pipeline: LocalPipeline, url: str) -> int:
    if not url:
        return 0
    attributes = pipeline.glue.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
        attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
    )


# -- the run ----------------------------------------------------------------------------------------


@dataclass
class RunResult:
    report: dict[str, Any]
    out: Path
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def pipeline_failed(self) -> bool:
        """Events the functions failed on (as opposed to posts they rejected): the run did not complete."""
        totals = self.report["totals"]  # `postfeed build`'s have no pipeline counts
        return bool(totals.get("dead_letters") or totals.get("unprocessed") or totals.get("failed_feed_batches"))


def diagnose_functions(pipeline: LocalPipeline) -> list[str]:
    """Why the functions failed, when they cannot even be loaded (the usual cause of every event failing:
    the glue, like Lambda, only returns such a batch to the queue)."""
    from postfeed_tools.local.glue import function_environment, load_handler

    problems = []
    for function in pipeline.stack.functions.values():
        try:
            with function_environment({**function.environment, **pipeline.glue.environment}):
                load_handler(function)
        except Exception as exc:
            problems.append(f"{function.logical_id} cannot be loaded: {type(exc).__name__}: {exc}")
    return problems


def local_settings(pipeline: LocalPipeline) -> Settings:
    from postfeed.pipeline.settings import Settings

    stack = pipeline.stack
    return Settings(
        posts_bucket=stack.posts_bucket,
        feeds_bucket=stack.feeds_bucket,
        table_name=stack.table,
        posts_prefix=str(stack.parameters.get("PostsPrefix") or "_posts/"),
    )


def config_report(pipeline: LocalPipeline, settings: Settings, config: bytes | None, key: str) -> dict[str, Any]:
    """Whether the site's `_config.yml` is in force (the table holds it), and why not if it is not: the error the
    ingest function recorded (code, message, line; `kept_previous` when an earlier good config stays in force)."""
    from postfeed.jekyll import ConfigError

    if config is None:
        return {"key": None, "status": "absent"}
    stored = pipeline.table.get_config()
    if stored and stored.get("rejected") == "1":
        error = stored.get("error") or {}
        report = {"key": key, "status": "error", "code": error.get("code"), "message": error.get("message")}
        return report | {"line": error.get("line")} | ({"kept_previous": True} if stored.get("raw") else {})
    if stored and stored.get("raw") == config:
        return {"key": key, "status": "published"}
    try:
        settings.site(config)
    except ConfigError as exc:
        return {"key": key, "status": "error", "code": exc.code, "message": f"{key}: {exc}"}
    return {"key": key, "status": "error", "code": "not_processed", "message": f"{key}: not in the table"}


def site_notes(settings: Settings, config: bytes | None) -> dict[str, Any]:
    """`{"notes": [...]}`: what the site's settings do to its feeds that is easy to miss (links left relative
    for want of an absolute `url`); `{}` when there is nothing to say or the config cannot be read."""
    from postfeed.feeds.content import relative_links_note
    from postfeed.jekyll import ConfigError

    try:
        site = settings.site(config)
    except ConfigError:
        return {}
    note = relative_links_note(site.url)
    return {"notes": [note]} if note else {}


def run_site(
    pipeline: LocalPipeline,
    site: SiteFiles,
    out: Path,
    *,
    settle_every: int = SETTLE_EVERY,
    workers: int = UPLOAD_WORKERS,
    progress: bool | None = None,
    clock: Callable[[], float] = time.perf_counter,
    bulk: bool = True,
) -> RunResult:
    """Upload the site's config then its posts, settle, copy the feeds to `out`, write `out/report.json`."""
    began = clock()
    prepare_out(out)
    settings = local_settings(pipeline)
    config = site.config.read_bytes() if site.config else None
    with function_output(out / LOG_NAME):
        if config is not None or site.site_files:
            upload_config(pipeline, config, settings.config_key, site.site_files)
        config_done = clock()
        if bulk:
            stats = load_posts(pipeline, site.posts)
        else:
            stats = upload_posts(pipeline, site.posts, settle_every=settle_every, workers=workers, progress=progress)
    posts_done = clock()
    items = stats.items if stats.items is not None else post_items(pipeline)
    posts = [post_report(key, items.get(key), settings) for key in site.keys]
    published = published_report(posts, export_feeds(pipeline, out))
    dead_letters = queue_depth(pipeline, pipeline.stack.dead_letter_queue_url)
    unprocessed = sum(1 for p in posts if p.get("code") == NOT_PROCESSED)
    failures = diagnose_functions(pipeline) if dead_letters or unprocessed else []
    finished = clock()
    timings = {
        "config_seconds": round(config_done - began, 3),
        "posts_seconds": round(posts_done - config_done, 3),
        "upload_seconds": round(stats.upload_seconds, 3),
        "settle_seconds": round(stats.settle_seconds, 3),
        "report_seconds": round(finished - posts_done, 3),
        "total_seconds": round(finished - began, 3),
    }
    delivery = pipeline.glue.delivery
    report: dict[str, Any] = {
        "site": str(site.root),
        "config": config_report(pipeline, settings, config, settings.config_key) | site_notes(settings, config),
        "feed_base_url": pipeline.glue.environment.get("FEED_BASE_URL", ""),
        "totals": {
            **published.pop("totals"),
            "dead_letters": dead_letters,
            "unprocessed": unprocessed,
            "failed_feed_batches": delivery.stream_failed_batches,
            "settles": stats.settles,
            "ingest_invocations": delivery.sqs_invocations,
            "feed_invocations": delivery.stream_invocations,
            **timings,
        },
        "function_errors": failures,
        "site_files": site_file_report(pipeline, [key for key, _ in site.site_files]),
        **published,
    }
    (out / REPORT_NAME).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return RunResult(report=report, out=out, seconds=finished - began, timings=timings)


# -- the summary ----------------------------------------------------------------------------------

MAX_LISTED = 20
FORMAT_ORDER = {"atom": 0, "rss": 1, "json": 2}


def display_width(text: str) -> int:
    """Terminal columns of `text`: CJK and other wide characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def format_summary(result: RunResult, *, source: str = "", command: str = "run") -> str:
    """The short table `postfeed run` (or `postfeed build`, without functions' logs) prints."""
    report, totals = result.report, result.report["totals"]
    rate = totals["posts"] / result.seconds if result.seconds > 0 else 0.0
    lines = [
        f"postfeed {command}: {source or report['site']} -> {result.out}/ "
        f"({totals['posts']} posts in {result.seconds:.1f} s, {rate:.0f} posts/s)",
        "",
        f"  {'posts':<12}{'count':>7}",
        *(f"  {status:<12}{totals[status]:>7}" for status in ("published", "skipped", "error")),
        f"  {'total':<12}{totals['posts']:>7}",
        "",
    ]
    config = report["config"]
    if config["status"] == "error":
        lines += [f"  config: {config['key']}: {config['code']}: {config['message']}", ""]
    if config.get("notes"):
        lines += [*(f"  note: {note}" for note in config["notes"]), ""]
    feeds: dict[str, dict[str, Any]] = {}
    archives = sum(1 for doc in report["feeds"] if doc.get("archive"))
    for doc in report["feeds"]:
        if doc.get("archive"):
            continue
        feed = feeds.setdefault(feed_stem(doc["key"]), {"entries": 0, "formats": []})
        feed["entries"] = max(feed["entries"], doc["entries"])
        feed["formats"].append(doc["format"])
    width = min(48, max((display_width(stem) for stem in feeds), default=4) + 2)
    lines.append(f"  {pad('feed', width)}{'entries':>7}  formats")
    ordered = sorted(feeds.items(), key=lambda kv: (kv[0].count("/"), -kv[1]["entries"], kv[0]))
    for stem, feed in ordered[:MAX_LISTED]:
        formats = sorted(feed["formats"], key=lambda f: FORMAT_ORDER.get(f, len(FORMAT_ORDER)))
        lines.append(f"  {pad(stem, width)}{feed['entries']:>7}  {' '.join(formats)}")
    if len(ordered) > MAX_LISTED:
        lines.append(f"  … and {len(ordered) - MAX_LISTED} more feeds")
    others = f" (+ {', '.join(report['other_files'])})" if report["other_files"] else ""
    archived = f", {archives} of them archive pages" if archives else ""
    pages = f", {totals['pages']} HTML pages" if totals.get("pages") else ""
    lines.append(f"  {len(feeds)} feeds, {totals['documents']} documents{archived}{pages}{others}")
    problems = [p for p in report.get("site_files", []) if p["status"] == "error"]
    problems += [p for p in report["posts"] if p["status"] != "published"]
    if problems:
        lines.append("")
        for post in problems[:MAX_LISTED]:
            if post["status"] == "error":
                where = f" line {post['line']}" if post.get("line") else ""
                lines.append(f"  error    {post['key']}: {post['code']}{where}")
            else:
                lines.append(f"  {post['status']:<8} {post['key']}: {post.get('reason')}")
        if len(problems) > MAX_LISTED:
            lines.append(f"  … and {len(problems) - MAX_LISTED} more (see {REPORT_NAME})")
    if result.pipeline_failed:
        lines += [
            "",
            f"  THE PIPELINE FAILED: {totals['unprocessed']} posts not processed, "
            f"{totals['dead_letters']} events in the dead-letter queue, "
            f"{totals['failed_feed_batches']} failed feed batches",
            *(f"  {problem}" for problem in report["function_errors"]),
        ]
    logs = f"   functions' logs: {result.out / LOG_NAME}" if command == "run" else ""
    lines += ["", f"report: {result.out / REPORT_NAME}{logs}"]
    return "\n".join(lines)
