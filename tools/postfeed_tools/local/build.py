"""`postfeed build`: a Jekyll site folder straight to the feeds bucket's documents, without AWS, for sites
that publish from CI (GitHub Pages, Actions).

The same decisions and the same renderers as the pipeline, in one pass: the settings the template's
parameters imply (`template_environment`), `_config.yml` and the site files as their first upload would
leave them, every post parsed on all cores (`jekyll.parse_many` with the ingest function's reader) and
decided by the ingest function's own `apply_post` into the write it would commit, then every document
rendered from those writes (`local.sitefeeds`). The files are the ones `postfeed run --out` writes, byte
for byte (tests/functional/test_build.py), with a `report.json` of the same shape.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from postfeed_tools.local.errors import RunError
from postfeed_tools.local.export import REPORT_NAME, feed_summary, prepare_out
from postfeed_tools.local.report import post_report, published_report, site_notes
from postfeed_tools.local.runner import RunResult
from postfeed_tools.local.sitefiles import SiteFiles
from postfeed_tools.local.summary import format_summary

# Documents a worker writes and sums up per task at most.
WRITES_PER_TASK = 200

if TYPE_CHECKING:
    from postfeed.jekyll.render_environment import SiteFiles as RenderSiteFiles
    from postfeed.models import Site
    from postfeed.pipeline.settings import Settings
    from postfeed.store.records import SiteFileState
    from postfeed_tools.local.sitefeeds import Document, StoredPost


@dataclass(frozen=True, slots=True)
class SiteInForce:
    """The site settings posts are read and feeds rendered with, and how each settings file fared."""

    site: Site
    config: dict[str, Any]  # report.json's `config`
    site_files: list[dict[str, Any]]  # report.json's `site_files`
    stylesheet: bytes | None  # the site's own feed.xslt.xml, when it has a good one
    files: list[SiteFileState] = field(default_factory=list)  # the site files' states their uploads leave


def build_settings(feed_base_url: str | None) -> Settings:
    """The deployment settings of a stack created with the template's default parameters (as `postfeed run`'s
    local stack is), feeds served from `feed_base_url` (None: the site's url + baseurl)."""
    from postfeed.pipeline.settings import Settings
    from postfeed_tools.local.stack import template_environment

    return Settings.from_env({**template_environment("SQS"), "FEED_BASE_URL": feed_base_url or ""})


def site_in_force(settings: Settings, config: bytes | None, files: Sequence[tuple[str, bytes]]) -> SiteInForce:
    """`_config.yml` and the site files (`_data/`, `feed.xslt.xml`) as their first upload leaves them: a config
    the ingest function would refuse is not in force (template defaults apply), a bad site file is recorded."""
    from postfeed.jekyll import ConfigError
    from postfeed.pipeline.ingest import CONFIG_REJECTED
    from postfeed.pipeline.sitefiles import first_upload_state, has_stylesheet, site_authors
    from postfeed.store.bucket import ObjectTooLargeError

    key = settings.config_key
    raw: bytes | None = None
    report: dict[str, Any] = {"key": None, "status": "absent"}
    if config is not None:
        report = {"key": key, "status": "published"}
        try:
            if len(config) > settings.max_post_bytes:
                too_large = ObjectTooLargeError(key, len(config), settings.max_post_bytes)
                report |= {"status": "error", "code": CONFIG_REJECTED, "message": str(too_large)}
            else:
                settings.site(config)
                raw = config
        except ConfigError as exc:
            report |= {"status": "error", "code": exc.code, "message": f"{key}: {exc}"}
    states = [first_upload_state(settings, file_key, body) for file_key, body in files]
    site = settings.site(raw, authors=site_authors(states), xslt=has_stylesheet(states))
    reports = []
    for state in states:
        entry: dict[str, Any] = {"key": state.key, "status": state.state}
        if state.rejected and state.error is not None:
            entry |= {"code": state.error.code, "message": state.error.message, "line": state.error.line}
        reports.append(entry)
    stylesheet = next((state.body for state in states if state.body is not None), None)
    return SiteInForce(site, report | site_notes(settings, raw), reports, stylesheet, states)


def decide_post(
    settings: Settings, key: str, body: bytes, site: Site, now: datetime, env: RenderSiteFiles | None = None
) -> tuple[dict[str, Any], StoredPost | None]:
    """The first upload of one post, decided as the ingest function decides it (refused when too large, else
    parsed; then `ingest.apply_post` makes the write it would commit): the post's report.json entry, and the
    published post as the feed function reads it back (None when it publishes nothing). Pure: the parse
    workers run it (`parse_many`)."""
    from postfeed.pipeline.ingest import apply_post, read_upload
    from postfeed.store.events import ChangeKind, ObjectChange
    from postfeed_tools.local.bulk import BatchWrites
    from postfeed_tools.local.sitefeeds import stored_post

    parsed = read_upload(key, body, site, now, limit=settings.max_post_bytes, env=env)
    batch = BatchWrites()
    change = ObjectChange(bucket=settings.posts_bucket, key=key, kind=ChangeKind.PUT, sequencer=None)
    apply_post(change, None, body, site, "", writer=batch, now=now, parsed=parsed)
    write = batch.writes[-1]  # a first upload is always written: published, skipped or rejected
    return post_report(key, write.item, settings), stored_post(write)


def folder_environment(
    site_files: SiteFiles, settings: Settings, in_force: SiteInForce, files: Sequence[tuple[str, bytes]]
) -> RenderSiteFiles:
    """What the posts' Liquid reads, as the pipeline's environment gives it (`pipeline.renderenv`): the
    includes and data files as their uploads leave them, and the files beside posts that `include_relative`
    names, from the folder (the other posts are added as they are read: `resolve_named_posts`)."""
    from postfeed.jekyll.errors import JekyllError
    from postfeed.jekyll.sitefiles import read_include
    from postfeed.pipeline.renderenv import site_environment, site_parts, text_of_upload, wanted

    includes, data = site_parts(in_force.files)
    texts = {key: text for key, body in files if "{%" in (text := text_of_upload(body))}
    _, _, paths = wanted(texts, includes)
    found: dict[str, str] = {}
    for path in paths:
        file = site_files.root / path
        if file.is_file() and file.stat().st_size <= settings.max_site_file_bytes:
            with contextlib.suppress(JekyllError):
                found[path] = read_include(path, file.read_bytes())
    return site_environment(in_force.site, includes, data, (), found)


def readable(settings: Settings, site: Site, key: str) -> bool:
    """Whether the ingest function reads an upload at `key` as a document (post, draft, declared collection's)."""
    if settings.is_post_key(key) or settings.is_draft_key(key):
        return True
    return settings.collection_folder(key) in site.collections


def write_documents(documents: Sequence[Document], out: Path, *, workers: int = 1) -> list[dict[str, Any]]:
    """Each document to `out/<key>` (on `workers` processes: summing a document up parses it); a summary of
    each (`export.feed_summary`), in key order."""
    from postfeed.processes import chunked, map_chunks

    ordered = sorted(documents, key=lambda document: document.key)
    root = out.resolve()
    for document in ordered:  # checked before anything is written
        if root not in (out / document.key).resolve().parents:  # keys are safe by construction (docs/feeds.md)
            raise RunError(f"feed key {document.key!r} would leave {out}")
    return map_chunks(_write_chunk, chunked(ordered, workers, most=WRITES_PER_TASK), root, workers=workers)


def _write_chunk(documents: list[Document], root: Path) -> list[dict[str, Any]]:
    summaries = []
    for document in documents:
        target = root / document.key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(document.body)
        summaries.append(feed_summary(document.key, document.body))
    return summaries


def build_site(
    site_files: SiteFiles,
    out: Path,
    *,
    feed_base_url: str | None = None,
    workers: int | None = None,
    now: datetime | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> RunResult:
    """Render the site's feeds to `out` (what `postfeed run` writes there) and write `out/report.json`."""
    from postfeed.jekyll import parse_many
    from postfeed.pipeline.renderenv import resolve_named_posts
    from postfeed.processes import available_cores
    from postfeed_tools.local.sitefeeds import render_site

    began = clock()
    prepare_out(out)
    settings = build_settings(feed_base_url)
    config = site_files.config.read_bytes() if site_files.config else None
    in_force = site_in_force(settings, config, [(key, path.read_bytes()) for key, path in site_files.site_files])
    site = in_force.site
    files = [(key, path.read_bytes()) for key, path in site_files.posts if readable(settings, site, key)]
    read_done = clock()
    workers = workers if workers is not None else available_cores()
    now = now or datetime.now(UTC)
    env = folder_environment(site_files, settings, in_force, files)
    decide = functools.partial(decide_post, settings, env=env)
    results = parse_many(files, site, workers=workers, now=now, read=decide)
    results = resolve_named_posts(
        files,
        results,
        env,
        reread=lambda key, body, richer: decide_post(settings, key, body, site, now, env=richer),
        code_of=lambda result: result[0].get("code"),
        post_of=lambda result: result[1].entry if result[1] is not None else None,
    )
    decided = dict(zip([key for key, _ in files], results, strict=True))
    parse_done = clock()
    published = [post for _, post in decided.values() if post is not None]
    rendered = render_site(site, published, site_stylesheet=in_force.stylesheet, workers=workers)
    render_done = clock()
    exported = write_documents(rendered.documents, out, workers=workers)
    # Keys the ingest function does not read have no item: post_report says why (or that it failed).
    posts = [decided[key][0] if key in decided else post_report(key, None, settings) for key in site_files.keys]
    finished = clock()
    timings = {
        "read_seconds": round(read_done - began, 3),
        "parse_seconds": round(parse_done - read_done, 3),
        "render_seconds": round(render_done - parse_done, 3),
        "write_seconds": round(finished - render_done, 3),
        "total_seconds": round(finished - began, 3),
    }
    report = _report(site_files, settings, in_force, posts, exported, timings, workers)
    (out / REPORT_NAME).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return RunResult(report=report, out=out, seconds=finished - began, timings=timings)


def _report(
    site_files: SiteFiles,
    settings: Settings,
    in_force: SiteInForce,
    posts: list[dict[str, Any]],
    exported: list[dict[str, Any]],
    timings: dict[str, float],
    workers: int,
) -> dict[str, Any]:
    """report.json in `postfeed run`'s shape, without what only a pipeline has (invocations, dead letters)."""
    published = published_report(posts, exported)
    return {
        "site": str(site_files.root),
        "config": in_force.config,
        "feed_base_url": settings.feed_base_url or "",
        "totals": {**published.pop("totals"), "workers": workers, **timings},
        "site_files": in_force.site_files,
        **published,
    }


def format_build_summary(result: RunResult, *, source: str = "") -> str:
    """`postfeed run`'s table, titled for build, with where the time went."""
    totals = result.report["totals"]
    lines = format_summary(result, source=source, command="build").splitlines()
    timing = (
        f"  time: read {totals['read_seconds']:.1f} s, parse {totals['parse_seconds']:.1f} s "
        f"({totals['workers']} workers), render {totals['render_seconds']:.1f} s, write {totals['write_seconds']:.1f} s"
    )
    return "\n".join([*lines[:-2], timing, *lines[-2:]])
