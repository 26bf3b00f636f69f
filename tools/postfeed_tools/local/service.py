"""`postfeed serve`: the local stack kept up, with the feeds served over HTTP.

- an embedded moto server (S3, SQS, DynamoDB and its streams) on 127.0.0.1, where posts are uploaded
  with any S3 client (`aws s3 cp … --endpoint-url`, boto3), behind the upload gate (`upload_gate`);
- the poller (`poller`) delivering the queue and the stream through the real handlers every `poll_seconds`;
- a state folder (`state`): the posts bucket written through before each upload's 200, the table and the feeds
  bucket snapshotted while idle, all restored on start; `stop(drain=…)` shuts the gate, delivers the backlog
  and takes a last snapshot;
- the feeds bucket over HTTP on 127.0.0.1 as CloudFront would serve it (`feeds_http`);
- the console (`console`): what to paste, and a line per post change and feed rebuilt.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from pathlib import Path
from typing import IO, TYPE_CHECKING

from postfeed_tools.local.console import console_logging, instructions
from postfeed_tools.local.errors import RunError
from postfeed_tools.local.feeds_http import FeedsServer
from postfeed_tools.local.poller import POLL_SECONDS, Poller
from postfeed_tools.local.upload_gate import UploadGate

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from postfeed_tools.local.pipeline import LocalPipeline
    from postfeed_tools.local.sitefiles import SiteFiles
    from postfeed_tools.local.state import StateFolder


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
        self.httpd: FeedsServer | None = None
        self.pipeline: LocalPipeline | None = None
        self.poller: Poller | None = None
        self.gate = UploadGate()
        self.state: StateFolder | None = None
        self.endpoint = ""

    @property
    def feeds_url(self) -> str:
        assert self.httpd is not None, "start() first"
        return self.httpd.url

    def start(self, site: SiteFiles | None = None) -> None:
        """Bring everything up: the state folder restored (uploads get 503 meanwhile), then `site` (config and
        posts), if any, loaded and settled before serving."""
        from postfeed_tools.local.aws import create_pipeline, local_aws_server
        from postfeed_tools.local.function_output import function_output
        from postfeed_tools.local.state import StateFolder

        if self.state_dir is not None:  # first: a folder in use or not ours stops us before any port is taken
            self.state = StateFolder(self.state_dir, fresh=self.fresh)
            self._stack.callback(self.state.close)  # last out: the folder stays locked until moto is down
        try:
            self.httpd = FeedsServer(self.host, self.port, access_log=self.console if self.access_log else None)
        except OSError as exc:
            raise RunError(f"cannot serve feeds on {self.host}:{self.port}: {exc}") from exc
        self._stack.callback(self.httpd.stop)
        self.endpoint = self._stack.enter_context(local_aws_server(self.s3_port, self.host, wrap=self.gate.wrap))
        self._stack.enter_context(function_output(self.log))
        pipeline = create_pipeline(endpoint_url=self.endpoint, feed_base_url=self.feeds_url, log_level="INFO")
        self.pipeline = pipeline
        self.gate.bucket = pipeline.stack.posts_bucket
        self.httpd.attach(self._s3_client(), pipeline.stack.feeds_bucket)
        if self.state is not None and self.state_dir is not None:
            restored = self.state.restore(pipeline)
            self.console.write(restored.summary(self.state_dir) + "\n")
            self.console.flush()
        self.gate.open()
        if site is not None:
            self._preload(site)
        self.httpd.start()
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
        if self.httpd is not None:
            self.httpd.stop()
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

    def _preload(self, site: SiteFiles) -> None:
        from postfeed_tools.local.aws import local_settings
        from postfeed_tools.local.report import post_items, post_report
        from postfeed_tools.local.uploads import upload_config, upload_posts

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
