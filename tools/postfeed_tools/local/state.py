"""`postfeed serve`'s state folder (`--state DIR`): everything serve acknowledged survives a restart.

moto keeps its buckets, queues and tables in memory and has no persistence of its own: its recorder logs
every request (reads, receives and deletes of queue messages, shard iterators included) to send them again
to a new server, which is a history to re-enact, not a state. So the folder holds two things:

- `posts/`: the posts bucket, written through. Every write of moto's S3 ends in its backend's `put_object`
  or `delete_object` (PutObject, CopyObject, CompleteMultipartUpload, DeleteObject(s)); for the posts
  bucket, `WriteThrough` lets moto store the change, then writes the object as it now stands to a file
  (or removes the file) and fsyncs, all before the request returns: no 200 goes out for an upload that is
  not on disk. One file per key, named by the key's SHA-256 (S3 keys are not file names: `a` and `a/b`
  coexist, keys may be 1,024 bytes), holding a JSON line with the key, then the object's bytes. These files
  are the source of truth.
- `snapshot.jsonl` and `blobs/`: every item of the table and every object of the feeds bucket (bytes, by
  SHA-256, shared between snapshots; content type and cache control), taken together while the pipeline is
  idle (every event delivered, so the table and the feeds agree), while serving when something moved (see
  SNAPSHOT_SECONDS) and once more after the drain on stop. Written aside and renamed: whole or absent.

On start (`StateFolder.restore`) the snapshot goes into the new stack (its stream records are passed over:
the feeds already show them; the event glue stamps sequencers after the newest the table holds), the
posts bucket is filled from `posts/` without notifications, and every object whose bytes the table does
not record (an upload acknowledged after the snapshot, one whose event failed, or all of them when there is
no snapshot) is announced again by the bucket's own notification, as is the removal of every key the table
holds but the folder does not; site files first (and settled), so posts are read with the site's settings.
Ingest is idempotent (same bytes and settings: nothing written), so announcing too much costs a read and
never a wrong feed; and nothing can be announced too little, since the comparison is with the table itself.
A `kill -9` loses nothing acknowledged: the work since the last snapshot is done again. A snapshot taken
while the feeds were served at another address (their links name it) is set aside: everything goes through
again, a whole site through the bulk path.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import astuple, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from postfeed_tools.local.errors import RunError

if TYPE_CHECKING:
    from postfeed_tools.local.pipeline import LocalPipeline

FORMAT = 1
MARK = "postfeed-state.json"  # says the folder is ours (and which format), so `--fresh` may empty it
SNAPSHOT = "snapshot.jsonl"
# While serving, a snapshot when something moved, at most every SNAPSHOT_SECONDS, and at most every
# SNAPSHOT_SHARE times as long as the last one took (the scan grows with the table: ~10 s for 1,000 posts on a
# busy 2-core machine), so snapshots hold the poller up for at most a tenth of its time.
SNAPSHOT_SECONDS = 10.0
SNAPSHOT_SHARE = 10.0
BATCH_WRITE = 25  # DynamoDB BatchWriteItem's limit
BULK_REPLAY = 200  # more posts than this to announce again: through the bulk path instead of one event each


def content_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def fsync_folder(folder: Path) -> None:
    """Make a rename or an unlink in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, chunks: Iterable[bytes]) -> None:
    """`path` holds `chunks` after this returns, even across a crash: written aside, fsynced, renamed."""
    aside = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    with aside.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    os.replace(aside, path)
    fsync_folder(path.parent)


# -- the posts bucket, written through --------------------------------------------------------------


class PostFiles:
    """The posts bucket's objects, one file each (named by the key's SHA-256; a JSON line with the key, then
    the bytes)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        for leftover in folder.glob(".*.tmp"):  # a write cut short by a crash: never acknowledged
            leftover.unlink()

    def path(self, key: str) -> Path:
        return self.folder / content_hash(key.encode("utf-8"))

    def write(self, key: str, body: bytes) -> None:
        header = json.dumps({"key": key}, ensure_ascii=False).encode("utf-8") + b"\n"
        write_durably(self.path(key), (header, body))

    def remove(self, key: str) -> None:
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            return
        fsync_folder(self.folder)

    def objects(self) -> Iterator[tuple[str, bytes]]:
        for path in sorted(self.folder.iterdir()):
            if path.name.startswith("."):
                continue
            header, _, body = path.read_bytes().partition(b"\n")
            yield str(json.loads(header)["key"]), body


class WriteThrough:
    """moto's S3 backend, with every change to one bucket's keys written to `files` before the request that
    made it returns. Installed on the backend object (instance attributes shadow its two methods)."""

    STRIPES = 64

    def __init__(self, backend: Any, bucket: str, files: PostFiles) -> None:
        self.backend = backend
        self.bucket = bucket
        self.files = files
        # One lock per key stripe: two uploads of one key reach the disk in the order moto stored them.
        self._locks = [threading.Lock() for _ in range(self.STRIPES)]
        self._put: Callable[..., Any] = backend.put_object
        self._delete: Callable[..., Any] = backend.delete_object

    def install(self) -> None:
        self.backend.put_object = self.put_object
        self.backend.delete_object = self.delete_object

    def uninstall(self) -> None:
        for name in ("put_object", "delete_object"):
            self.backend.__dict__.pop(name, None)

    def put_object(self, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        return self._through(self._put, bucket_name, key_name, *args, **kwargs)

    def delete_object(self, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        return self._through(self._delete, bucket_name, key_name, *args, **kwargs)

    def _through(self, method: Callable[..., Any], bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        if bucket_name != self.bucket:
            return method(bucket_name, key_name, *args, **kwargs)
        with self._lock(key_name):
            try:
                return method(bucket_name, key_name, *args, **kwargs)
            finally:  # even when moto fails after changing the key: the file follows the bucket
                self._sync(key_name)

    def _lock(self, key: str) -> threading.Lock:
        return self._locks[hash(key) % self.STRIPES]

    def _sync(self, key: str) -> None:
        """The file of `key` as the bucket now holds it (its newest version; none, or a delete marker: no file)."""
        from moto.s3.models import FakeKey

        current = self.backend.get_bucket(self.bucket).keys.get(key)
        if isinstance(current, FakeKey):
            self.files.write(key, current.value)
        else:
            self.files.remove(key)


# -- the table and the feeds bucket, snapshotted ----------------------------------------------------


def encode_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB attribute value (boto3's low-level shape) as JSON: binary as base64."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode("ascii") for b in inner]}
    if kind == "M":
        return {"M": {k: encode_attribute(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [encode_attribute(v) for v in inner]}
    return value


def decode_attribute(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b) for b in inner]}
    if kind == "M":
        return {"M": {k: decode_attribute(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [decode_attribute(v) for v in inner]}
    return value


@dataclass(frozen=True, slots=True)
class FeedFile:
    """One object of the feeds bucket in a snapshot: its bytes are `blobs/<blob>`."""

    blob: str
    etag: str
    content_type: str | None
    cache_control: str | None


@dataclass
class Snapshot:
    taken_at: str
    feed_base_url: str
    items: list[dict[str, Any]]  # the table's items, low-level attribute values
    feeds: dict[str, FeedFile] = field(default_factory=dict)


@dataclass
class Restored:
    """What `StateFolder.restore` found and did, for the console."""

    snapshot: str | None = None  # when the snapshot was taken
    items: int = 0
    feed_files: int = 0
    objects: int = 0
    replayed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    moved_from: str | None = None  # the feeds server of a snapshot left unused: the feeds are made again
    seconds: float = 0.0
    set_aside: str | None = None  # a snapshot that could not be read, renamed: everything goes through again

    def summary(self, folder: Path) -> str:
        if self.snapshot is None and not self.objects:
            return f"state: {folder} (empty)"
        taken = f"snapshot of {self.snapshot}: " if self.snapshot else "no snapshot: "
        if self.moved_from is not None:
            taken = f"feeds served at {self.moved_from} before, made again: "
        if self.set_aside is not None:
            taken = f"unreadable snapshot set aside ({self.set_aside}), made again: "
        return (
            f"state: {folder} ({taken}{self.items} table items, {self.feed_files} feed files; "
            f"{self.objects} objects in the posts bucket, {len(self.replayed)} announced again, "
            f"{len(self.removed)} removals announced; {self.seconds:.1f} s)"
        )


class StateFolder:
    """The folder: locked for one `serve` at a time; `restore` into a new stack, `write_through` while
    serving, `snapshot` when the pipeline is idle."""

    def __init__(self, folder: Path, *, fresh: bool = False) -> None:
        self.folder = folder
        self._write_through: WriteThrough | None = None
        if folder.is_dir() and not (folder / MARK).is_file() and self._foreign():  # before leaving a lock file in it
            raise RunError(f"{folder}: not a postfeed state folder (no {MARK}); choose another --state")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._lock_file: IO[bytes] | None = (folder / "lock").open("wb")
        except OSError as exc:
            raise RunError(f"cannot use {folder} as the state folder: {exc}") from exc
        try:
            try:
                fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                raise RunError(f"{folder} is in use by another postfeed serve") from exc
            if fresh:
                self._clear()
            self._check_mark()
        except BaseException:
            self.close()
            raise
        self.files = PostFiles(folder / "posts")
        self.blobs = folder / "blobs"
        self.blobs.mkdir(exist_ok=True)
        for leftover in [*folder.glob(".*.tmp"), *self.blobs.glob(".*.tmp")]:  # a snapshot cut short
            leftover.unlink()
        self._feeds: dict[str, FeedFile] = {}  # the last snapshot's feed files, by key (unchanged ETag: reused)
        self.snapshot_at = 0.0  # monotonic time of the last snapshot
        self.snapshot_moved = -1  # the glue's delivered count at the last snapshot
        self.snapshot_took = 0.0  # seconds the last snapshot took

    def _clear(self) -> None:
        """Empty the folder (`--fresh`; we hold its lock), only if it is a state folder (or empty)."""
        if not (self.folder / MARK).is_file() and self._foreign():
            raise RunError(f"{self.folder}: not a postfeed state folder (no {MARK}); not emptying it")
        for child in self.folder.iterdir():
            if child.name == "lock":
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()

    def _foreign(self) -> bool:
        return any(p.name != "lock" for p in self.folder.iterdir())

    def _check_mark(self) -> None:
        mark = self.folder / MARK
        if not mark.is_file():
            if self._foreign():
                raise RunError(f"{self.folder}: not a postfeed state folder (no {MARK}); choose another --state")
            write_durably(mark, [json.dumps({"format": FORMAT}).encode() + b"\n"])
            return
        found = json.loads(mark.read_text(encoding="utf-8")).get("format")
        if found != FORMAT:
            raise RunError(f"{self.folder}: state format {found}, this postfeed reads {FORMAT}; start with --fresh")

    def close(self) -> None:
        if self._write_through is not None:
            self._write_through.uninstall()
            self._write_through = None
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    # -- start ------------------------------------------------------------------------------------

    def restore(self, pipeline: LocalPipeline) -> Restored:
        """Fill a new stack from the folder, announce what the table does not record, then write through."""
        from postfeed.pipeline.sitefiles import is_site_file
        from postfeed_tools.local.aws import local_settings

        began = time.perf_counter()
        restored = Restored()
        backend = s3_backend(pipeline)
        bucket = pipeline.stack.posts_bucket
        settings = local_settings(pipeline)
        snapshot = self._read_snapshot(restored)
        if snapshot is not None and snapshot.feed_base_url != feed_base_url(pipeline):
            # The feeds' links name the feeds server: served elsewhere now, every feed is made again.
            restored.moved_from = snapshot.feed_base_url
            snapshot = None
        recorded: dict[str, str | None] = {}  # key -> hash of the bytes the table records (None: deleted)
        if snapshot is not None:
            self._restore_table(pipeline, snapshot.items)
            self._restore_feeds(pipeline, snapshot.feeds)
            pipeline.glue.skip_stream()  # the restore's own writes: the feeds already show them
            recorded = recorded_objects(snapshot.items, settings.config_key)
            pipeline.glue.resume_sequencers(newest_sequencer(snapshot.items))
            self._feeds = dict(snapshot.feeds)
            restored.snapshot, restored.items, restored.feed_files = (
                snapshot.taken_at,
                len(snapshot.items),
                len(snapshot.feeds),
            )
        announce: list[tuple[str, bytes]] = []
        on_disk: set[str] = set()
        for key, body in self.files.objects():
            on_disk.add(key)
            if recorded.get(key) == content_hash(body):
                put_quietly(backend, bucket, key, body)
            else:
                announce.append((key, body))
        restored.objects = len(on_disk)
        gone = sorted(key for key in recorded if key not in on_disk and recorded[key] is not None)

        def site_file(key: str) -> bool:
            return key == settings.config_key or is_site_file(settings, key)

        # Site files first, settled: the posts after them are read with the site's settings.
        for first in (True, False):
            batch = [(key, body) for key, body in announce if site_file(key) is first]
            if not first and len(batch) > BULK_REPLAY:  # a whole site: parsed on every core, each feed made once
                pipeline.bulk_load(batch)
                for key, body in batch:  # stored without notifications: see put_quietly
                    put_quietly(backend, bucket, key, body)
                restored.replayed += [key for key, _ in batch]
                batch = []
            for key, body in batch:
                backend.put_object(bucket, key, body)  # ObjectCreated:Put, by the bucket's notification
                restored.replayed.append(key)
            for key in gone:
                if site_file(key) is first:
                    put_quietly(backend, bucket, key, b"")
                    backend.delete_object(bucket, key)  # ObjectRemoved:Delete
                    restored.removed.append(key)
            if first:  # (also delivers the test event moto sends when the stack sets the bucket's notifications)
                pipeline.settle()
        self._write_through = WriteThrough(backend, bucket, self.files)
        self._write_through.install()
        # What went through again changed the table (the bulk path without the glue's counters): snapshot it.
        self.snapshot_moved = -1 if restored.replayed or restored.removed else moved(pipeline)
        self.snapshot_at = time.monotonic()
        restored.seconds = time.perf_counter() - began
        return restored

    def _read_snapshot(self, restored: Restored) -> Snapshot | None:
        """The last snapshot; one that cannot be read whole is set aside (renamed) and the posts replayed."""
        path = self.folder / SNAPSHOT
        if not path.is_file():
            return None
        try:
            with path.open("rb") as lines:
                head = json.loads(lines.readline())
                rows = [json.loads(line) for line in lines if line.strip()]
            items = [{k: decode_attribute(v) for k, v in row.items()} for row in rows]
            feeds = {key: FeedFile(**spec) for key, spec in head["feeds"].items()}
            missing = sum(not (self.blobs / feed.blob).is_file() for feed in feeds.values())
            if missing:
                raise ValueError(f"{missing} feed files missing from blobs/")
            return Snapshot(taken_at=head["taken_at"], feed_base_url=head["feed_base_url"], items=items, feeds=feeds)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            aside = path.with_name(f"snapshot.unreadable.{int(time.time())}.jsonl")
            os.replace(path, aside)
            restored.set_aside = f"{aside.name}: {type(exc).__name__}: {exc}"
            return None

    def _restore_table(self, pipeline: LocalPipeline, items: list[dict[str, Any]]) -> None:
        client, table = pipeline.table.client, pipeline.table.name
        for start in range(0, len(items), BATCH_WRITE):
            requests: Any = {table: [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH_WRITE]]}
            while requests:
                requests = client.batch_write_item(RequestItems=requests).get("UnprocessedItems") or None

    def _restore_feeds(self, pipeline: LocalPipeline, feeds: dict[str, FeedFile]) -> None:
        for key, feed in feeds.items():
            extra: dict[str, str] = {}
            if feed.content_type:
                extra["ContentType"] = feed.content_type
            if feed.cache_control:
                extra["CacheControl"] = feed.cache_control
            body = (self.blobs / feed.blob).read_bytes()
            pipeline.s3.put_object(Bucket=pipeline.stack.feeds_bucket, Key=key, Body=body, **extra)  # type: ignore[arg-type]

    # -- while serving ------------------------------------------------------------------------------

    def snapshot_due(self, pipeline: LocalPipeline, *, wait: bool = True) -> bool:
        """Whether the pipeline has moved since the last snapshot (and, with `wait`, that was SNAPSHOT_SECONDS
        ago or more)."""
        if moved(pipeline) == self.snapshot_moved:
            return False
        interval = max(SNAPSHOT_SECONDS, SNAPSHOT_SHARE * self.snapshot_took)
        return not wait or time.monotonic() - self.snapshot_at >= interval

    def snapshot(self, pipeline: LocalPipeline) -> Snapshot:
        """The table and the feeds bucket as they are now: call it only while no event is being delivered and
        none is pending in the stream (between two settled rounds), so the two agree."""
        began = time.perf_counter()
        client = pipeline.table.client
        items: list[dict[str, Any]] = []
        for scanned in client.get_paginator("scan").paginate(TableName=pipeline.table.name, ConsistentRead=True):
            items += scanned.get("Items", [])
        feeds: dict[str, FeedFile] = {}
        s3, bucket = pipeline.s3, pipeline.stack.feeds_bucket
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                key, etag = obj["Key"], obj["ETag"]
                known = self._feeds.get(key)
                if known is not None and known.etag == etag and (self.blobs / known.blob).is_file():
                    feeds[key] = known
                    continue
                response = s3.get_object(Bucket=bucket, Key=key)
                body = response["Body"].read()
                blob = content_hash(body)
                if not (self.blobs / blob).is_file():
                    write_durably(self.blobs / blob, [body])
                feeds[key] = FeedFile(
                    blob=blob,
                    etag=response["ETag"],
                    content_type=response.get("ContentType"),
                    cache_control=response.get("CacheControl"),
                )
        taken = Snapshot(
            taken_at=datetime.now(UTC).isoformat(timespec="seconds"),
            feed_base_url=feed_base_url(pipeline),
            items=items,
            feeds=feeds,
        )
        head = {
            "format": FORMAT,
            "taken_at": taken.taken_at,
            "feed_base_url": taken.feed_base_url,
            "feeds": {k: _feed_spec(v) for k, v in feeds.items()},
        }
        lines = [json.dumps(head, ensure_ascii=False).encode("utf-8") + b"\n"]
        lines += [json.dumps({k: encode_attribute(v) for k, v in item.items()}).encode() + b"\n" for item in items]
        write_durably(self.folder / SNAPSHOT, lines)
        self._feeds = feeds
        kept = {feed.blob for feed in feeds.values()}
        for stale in self.blobs.iterdir():
            if stale.name not in kept and not stale.name.startswith("."):
                stale.unlink()
        self.snapshot_moved = moved(pipeline)
        self.snapshot_at = time.monotonic()
        self.snapshot_took = time.perf_counter() - began
        return taken


def _feed_spec(feed: FeedFile) -> dict[str, Any]:
    return {
        "blob": feed.blob,
        "etag": feed.etag,
        "content_type": feed.content_type,
        "cache_control": feed.cache_control,
    }


def s3_backend(pipeline: LocalPipeline) -> Any:
    """moto's S3 backend of the stack's account (serve runs its moto server in this process)."""
    from moto.backends import get_backend

    return get_backend("s3")[pipeline.stack.account]["global"]


def put_quietly(backend: Any, bucket: str, key: str, body: bytes) -> None:
    """An object into moto's bucket without a notification. Its ETag is worked out now: moto computes it
    lazily, caches it when a notification needs it, and disposes of the bytes when the key is removed
    before the removal's notification asks for it (a later delete would then fail)."""
    backend.put_object(bucket, key, body, disable_notification=True).etag  # noqa: B018


def feed_base_url(pipeline: LocalPipeline) -> str:
    """Where the feeds are served (their links say so)."""
    return pipeline.glue.environment.get("FEED_BASE_URL", "")


def moved(pipeline: LocalPipeline) -> int:
    """How much the glue has delivered so far (a change means the table or the feeds may have changed)."""
    return sum(astuple(pipeline.glue.delivery))


def recorded_objects(items: Iterable[dict[str, Any]], config_key: str) -> dict[str, str | None]:
    """The objects the table records, by key: the hash of the bytes it read ("" when it read none, e.g. a
    post too large to read; None: deleted). Post items and site-file items carry their key and `body_hash`;
    the config item its raw bytes."""
    from postfeed.store.items import CONFIG_SK, POST_SK, SITE_PK
    from postfeed.store.table import from_attributes

    recorded: dict[str, str | None] = {}
    for raw in items:
        pk, sk = raw.get("pk", {}).get("S", ""), raw.get("sk", {}).get("S", "")
        if sk != POST_SK and pk != SITE_PK:
            continue
        item = from_attributes(raw)
        if pk == SITE_PK and sk == CONFIG_SK:
            config = bytes(item.get("raw") or b"")
            recorded[config_key] = content_hash(config) if config else None
        elif isinstance(item.get("key"), str):
            live = item.get("state") != "deleted"
            recorded[item["key"]] = str(item.get("body_hash") or "") if live else None
    return recorded


def newest_sequencer(items: Iterable[dict[str, Any]]) -> int:
    """The highest S3 sequencer the table holds (hex, as the glue stamps them), 0 when none."""
    newest = 0
    for raw in items:
        value = raw.get("sequencer", {}).get("S")
        if value:
            with contextlib.suppress(ValueError):
                newest = max(newest, int(value, 16))
    return newest
