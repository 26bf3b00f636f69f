"""`postfeed run`: a Jekyll site (or a bare folder of posts) through the whole pipeline on moto.

The flow is the one a user has in AWS: `_config.yml`, the `_data/` files and the site's `feed.xslt.xml` are
uploaded first and settled, then every post (with the drafts and the declared collections' documents), then
the feeds bucket is copied to a folder and every post's outcome is read back from the table into
`report.json`. The pieces have their own modules: `sitefiles` (what to upload), `aws` (moto and the stack),
`uploads`, `function_output` (the functions' logs), `export` (the output folder), `report` (reading back),
`summary` (the table printed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from postfeed_tools.local.aws import local_settings
from postfeed_tools.local.export import LOG_NAME, REPORT_NAME, export_feeds, prepare_out
from postfeed_tools.local.function_output import function_output
from postfeed_tools.local.pipeline import LocalPipeline
from postfeed_tools.local.report import (
    NOT_PROCESSED,
    config_report,
    diagnose_functions,
    post_items,
    post_report,
    published_report,
    queue_depth,
    site_file_report,
    site_notes,
)
from postfeed_tools.local.sitefiles import SiteFiles
from postfeed_tools.local.uploads import SETTLE_EVERY, UPLOAD_WORKERS, load_posts, upload_config, upload_posts


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
