"""`postfeed import`: an existing Jekyll site's `_config.yml` and `_posts/` uploaded to a posts bucket
(in AWS, or the local one of `postfeed serve`), with the other files the feeds depend on: `_data/`, the
site's `feed.xslt.xml`, `_drafts/` and the folders of the collections `_config.yml` declares.

- `_config.yml` goes first, then the `_data/` files and `feed.xslt.xml`, and the posts wait until the config
  is in force (the table holds it, or a fixed delay), so every post is parsed with the site's settings, not
  the template's defaults. Drafts and collection documents go with the posts.
- Resumable: one ListObjectsV2 listing of the prefix gives every object's ETag; a file whose MD5 equals
  it is already there and is skipped (an SSE-S3 or unencrypted single-part object's ETag is its MD5).
  When `_config.yml` itself changed, every post is uploaded again: the pipeline re-parses a post only
  when its bytes or the site settings changed, and only on an upload.
- Concurrent (a thread pool; boto3 clients are thread-safe), with a progress bar and a summary.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from postfeed_tools.local.errors import RunError
from postfeed_tools.local.progress import Progress
from postfeed_tools.local.sitefiles import CONFIG_NAME, POSTS_DIR, STYLESHEET_NAME, collect_extra_files

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

WORKERS = 8
CONFIG_WAIT_SECONDS = 15.0


@dataclass
class ImportResult:
    config: str = "absent"  # absent | uploaded | unchanged | failed
    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (key, error)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and self.config != "failed"


def site_files(site_dir: Path, prefix: str = f"{POSTS_DIR}/") -> tuple[Path | None, list[tuple[str, Path]]]:
    """The site's `_config.yml` (if any) and every file under its `_posts/`, keyed `prefix` + the path
    under `_posts/` (sub-folders kept; dot folders such as .git left out)."""
    if not site_dir.is_dir():
        raise RunError(f"{site_dir}: not a folder")
    posts_dir = site_dir / POSTS_DIR
    if not posts_dir.is_dir():
        raise RunError(f"{site_dir}: no {POSTS_DIR}/ folder (is it a Jekyll site?)")
    config = site_dir / CONFIG_NAME
    posts = []
    for parent, dirs, names in os.walk(posts_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(parent) / name
            if path.is_file():
                posts.append((prefix + path.relative_to(posts_dir).as_posix(), path))
    return (config if config.is_file() else None), sorted(posts)


def md5_of(body: bytes) -> str:
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def remote_etags(s3: S3Client, bucket: str, prefix: str) -> dict[str, str]:
    """Key -> ETag (without quotes) of every object under `prefix`: one paginated ListObjectsV2."""
    etags: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            etags[obj["Key"]] = obj["ETag"].strip('"')
    return etags


def put(s3: S3Client, bucket: str, key: str, body: bytes) -> None:
    digest = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentMD5=digest)


def table_config_waiter(
    dynamodb: DynamoDBClient, table: str, body: bytes, *, timeout: float = 300.0, interval: float = 1.0
) -> Callable[[], None]:
    """Wait until the PostsTable holds this `_config.yml` (the ingest function has taken it in)."""
    from postfeed.store.items import CONFIG_SK, SITE_PK

    def wait() -> None:
        deadline = time.monotonic() + timeout
        while True:
            item = dynamodb.get_item(
                TableName=table, Key={"pk": {"S": SITE_PK}, "sk": {"S": CONFIG_SK}}, ConsistentRead=True
            ).get("Item")
            if item and item.get("raw", {}).get("B") == body:
                return
            if time.monotonic() > deadline:
                raise RunError(f"{table}: _config.yml not taken in after {timeout:.0f} s (was it rejected? see logs)")
            time.sleep(interval)

    return wait


def import_site(
    s3: S3Client,
    bucket: str,
    site_dir: Path,
    *,
    prefix: str = f"{POSTS_DIR}/",
    workers: int = WORKERS,
    wait_for_config: Callable[[], None] | None = None,
    progress: bool | None = None,
    on_note: Callable[[str], None] = lambda _: None,
) -> ImportResult:
    """Upload `_config.yml` (then `wait_for_config()`), then every changed post, concurrently."""
    if not prefix.endswith("/"):
        raise RunError(f"--prefix {prefix!r} must end with /")
    began = time.perf_counter()
    result = ImportResult()
    config, posts = site_files(site_dir, prefix)
    extra = collect_extra_files(site_dir, config.read_bytes() if config is not None else None)
    posts = sorted(dict([*posts, *extra.documents]).items())
    existing = remote_etags(s3, bucket, prefix)
    for folder in sorted({key.split("/", 1)[0] + "/" for key, _ in [*extra.documents, *extra.settings] if "/" in key}):
        existing |= remote_etags(s3, bucket, folder)
    if extra.settings and extra.settings[-1][0] == STYLESHEET_NAME:
        existing |= remote_etags(s3, bucket, STYLESHEET_NAME)
    config_changed = False
    if config is not None:
        body = config.read_bytes()
        remote = remote_etags(s3, bucket, CONFIG_NAME).get(CONFIG_NAME)
        if remote == md5_of(body):
            result.config = "unchanged"
        else:
            try:
                put(s3, bucket, CONFIG_NAME, body)
            except Exception as exc:
                result.config = "failed"
                result.failed.append((CONFIG_NAME, _describe(exc)))
                result.seconds = time.perf_counter() - began
                return result  # posts parsed without the site's settings would be wrong: stop here
            result.config, config_changed = "uploaded", True
            _upload_site_files(s3, bucket, extra.settings, existing, result)
            if wait_for_config is not None:
                on_note(f"{CONFIG_NAME} uploaded; waiting until the pipeline has taken it in")
                wait_for_config()
    if not config_changed:
        _upload_site_files(s3, bucket, extra.settings, existing, result)
    if config_changed and existing:
        on_note(f"{CONFIG_NAME} changed: uploading every post again so each is parsed with the new settings")
        existing = {}

    bar = Progress(len(posts), unit="post", enabled=progress, desc="import")

    def upload(key: str, path: Path) -> str:
        body = path.read_bytes()
        if existing.get(key) == md5_of(body):
            return "skipped"
        put(s3, bucket, key, body)
        return "uploaded"

    try:
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="postfeed-import") as pool:
            futures = {pool.submit(upload, key, path): key for key, path in posts}
            for future in as_completed(futures):
                key = futures[future]
                try:
                    outcome = future.result()
                except Exception as exc:
                    result.failed.append((key, _describe(exc)))
                else:
                    (result.uploaded if outcome == "uploaded" else result.skipped).append(key)
                bar.update()
    finally:
        bar.close()
    result.uploaded.sort()
    result.skipped.sort()
    result.failed.sort()
    result.seconds = time.perf_counter() - began
    return result


def _upload_site_files(
    s3: S3Client, bucket: str, files: Sequence[tuple[str, Path]], existing: dict[str, str], result: ImportResult
) -> None:
    """The `_data/` files and `feed.xslt.xml` (a few small files), before the posts; unchanged ones skipped."""
    for key, path in files:
        body = path.read_bytes()
        if existing.get(key) == md5_of(body):
            result.skipped.append(key)
            continue
        try:
            put(s3, bucket, key, body)
        except Exception as exc:
            result.failed.append((key, _describe(exc)))
        else:
            result.uploaded.append(key)


def _describe(exc: Exception) -> str:
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        error = response["Error"]
        return f"{error.get('Code', type(exc).__name__)}: {error.get('Message', '')}".rstrip(": ")
    return f"{type(exc).__name__}: {exc}"


def format_import_summary(result: ImportResult, *, bucket: str, site_dir: Path) -> Iterator[str]:
    total = len(result.uploaded) + len(result.skipped) + len(result.failed)
    yield f"postfeed import: {site_dir} -> s3://{bucket}/ in {result.seconds:.1f} s"
    yield f"  {CONFIG_NAME:<12}{result.config}"
    yield f"  {'uploaded':<12}{len(result.uploaded):>7}"
    yield f"  {'skipped':<12}{len(result.skipped):>7}   (already there, same MD5)"
    yield f"  {'failed':<12}{len(result.failed):>7}"
    yield f"  {'posts':<12}{total:>7}"
    for key, error in result.failed:
        yield f"  failed {key}: {error}"
