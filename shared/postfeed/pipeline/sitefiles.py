"""Site files besides posts: `_config.yml`, `_data/` files, `_includes/` files and the site's `feed.xslt.xml`,
ingested event by event like posts, and what a change to one of them re-renders.

Rules (as for posts, see `postfeed.pipeline.ingest`): S3 is the source of truth (a put reads the object's
current bytes, a delete applies only once the object is gone); the item keeps the newest sequencer and an
older event is dropped; every write is guarded by the item's `version`; the same bytes again write nothing.
A file that cannot be read is recorded (`rejected`, `error` with code, message and line: the `rejected`
index lists it beside rejected posts) and its last good version stays in force.

What a change re-renders:

* `_data/authors.*` (`site.data.authors`): only the feeds showing an author that changed. The old and new
  author maps are compared; the posts naming a changed author by key are found through the `authors` index
  and re-ingested under a new generation (work items on the ingest queue, as a full rebuild's batches), which
  makes the feed function re-render their feeds, and no other. When the site's own `author` is a changed key
  (it stands for every entry without an author) every feed changes: a full rebuild.
* any `_data/` file (authors too): validated and recorded with its bytes (`site.data` of the posts' Liquid,
  `postfeed.pipeline.renderenv`); when it changes, the posts whose render read its top-level `site.data`
  name are re-rendered (`postfeed.pipeline.dependencies`), by the same work items.
* an `_includes/` file: checked to be text (UTF-8) and recorded with its bytes, which the posts' Liquid reads
  (`{% include %}`). The bytes are kept on the item rather than read from S3 on demand: a render may include
  the same file many times and every post of an invocation reads the same few includes, so one Query of the
  site partition (already made for the config and `_data/`) serves them all, with no GetObject per render;
  includes are small, and the site file size limit keeps each item well under DynamoDB's 400 KB. When it
  changes (new bytes, removal, first upload), the posts whose render read it are re-rendered.
* `feed.xslt.xml`: the feed function copies it to the feeds bucket (the item's stream record). When it appears
  or disappears every feed document's stylesheet link changes: a full rebuild. New bytes alone change no feed.
* `_config.yml` (its item `SITE`/`CONFIG`, whose `raw` is the config in force for both functions): validated by
  reading the site settings from it (`Settings.site`); new settings, or its removal (template parameters then
  apply), start a full rebuild. A config that cannot be read (not UTF-8, not YAML, not a mapping, nested past
  any depth, a value of the wrong kind, too large, or one the reader crashes on) is recorded as any site file's
  error is, and the last good config stays in force: its `raw` untouched, no rebuild started. The next good
  upload clears the error (the same bytes as in force: nothing re-rendered).

The work a change starts is recorded on the item (`fanout`) before it is sent and cleared after, so a retry
after a failure in between sends it again (with the same generation: duplicates cost reads only).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from postfeed.jekyll.errors import JekyllError
from postfeed.jekyll.sitefiles import (
    AUTHORS,
    SiteFileError,
    authors_of,
    check_stylesheet,
    data_name,
    data_precedence,
    include_name,
    read_data,
    read_include,
)
from postfeed.models import Author
from postfeed.pipeline.dependencies import data_dependency, dependency
from postfeed.pipeline.outcomes import Action, Outcome
from postfeed.pipeline.settings import Settings
from postfeed.store.bucket import FeedsBucket, ObjectTooLargeError, PostsBucket
from postfeed.store.events import ChangeKind, ObjectChange
from postfeed.store.items import CONFIG_SK, SITE_PK, content_hash, site_file_state
from postfeed.store.records import Fanout, RecordedError, SiteFileState
from postfeed.store.table import (
    DATA_SK_PREFIX,
    INCLUDE_SK_PREFIX,
    STYLESHEET_SK,
    ConcurrentUpdateError,
    PostsTable,
)
from postfeed.store.work import ReparseBatch, WorkItem, WorkQueue

SITE_FILE_TOO_LARGE = "site_file_too_large"
PARSE_FAILED = "parse_failed"  # the reader raised: a bug of ours, recorded rather than retried forever
MAX_OPTIMISTIC_RETRIES = 5
BATCH_KEYS = 20  # posts per work item, as a full rebuild's batches
# Past this many posts to re-render, a full rebuild (listed and paged by its own plan steps) is cheaper to
# start than one invocation querying and enqueueing them all.
MAX_FANOUT_POSTS = 2_000
STORED, DELETED, ERROR = "stored", "deleted", "error"


def is_site_file(settings: Settings, key: str) -> bool:
    return (
        key in (settings.config_key, settings.stylesheet_key)
        or settings.is_data_key(key)
        or settings.is_include_key(key)
    )


def data_sk(key: str) -> str:
    return DATA_SK_PREFIX + key


def include_sk(key: str) -> str:
    return INCLUDE_SK_PREFIX + key


def site_sk(settings: Settings, key: str) -> str:
    """The sort key of a site file's item (under SITE_PK)."""
    if key == settings.config_key:
        return CONFIG_SK
    if key == settings.stylesheet_key:
        return STYLESHEET_SK
    return include_sk(key) if settings.is_include_key(key) else data_sk(key)


def ingest_site_file(
    change: ObjectChange, *, settings: Settings, bucket: PostsBucket, table: PostsTable, queue: WorkQueue | None
) -> Outcome:
    """Apply one change of `_config.yml`, a `_data/` or `_includes/` file, or `feed.xslt.xml`. Raises only for
    AWS failures."""
    for _ in range(MAX_OPTIMISTIC_RETRIES):
        try:
            sk = site_sk(settings, change.key)
            return _ingest_file(change, sk, settings=settings, bucket=bucket, table=table, queue=queue)
        except ConcurrentUpdateError:
            continue  # another invocation wrote this file's item between our read and write: decide again
    raise ConcurrentUpdateError(f"{change.key}: still contended after {MAX_OPTIMISTIC_RETRIES} attempts")


# -- reading the site files in force ------------------------------------------------------------------


def site_authors(files: Iterable[SiteFileState]) -> dict[str, Author]:
    """`site.data.authors` from the site files in the table: the good version of the `_data/authors.*` file
    Jekyll would read last."""
    return authors_of_source(authors_source(files))


def authors_source(files: Iterable[SiteFileState]) -> tuple[str, bytes] | None:
    """The key and good bytes of the `_data/authors.*` file Jekyll would read last (None: the site has none)."""
    candidates = [
        (file.key, file.raw)
        for file in files
        if file.sk.startswith(DATA_SK_PREFIX)
        and file.state == STORED
        and file.raw is not None
        and data_name(file.key) == AUTHORS
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda candidate: data_precedence(candidate[0]))


def authors_of_source(source: tuple[str, bytes] | None) -> dict[str, Author]:
    """`site.data.authors` of the file `authors_source` chose."""
    if source is None:
        return {}
    try:
        return dict(_parsed_authors(*source))
    except JekyllError:  # validated before it was stored; a reader change must not stop every feed
        return {}


def has_stylesheet(files: Iterable[SiteFileState]) -> bool:
    return any(file.sk == STYLESHEET_SK and file.state == STORED for file in files)


def config_in_force(files: Iterable[SiteFileState]) -> bytes | None:
    """The last good `_config.yml` (None: none, and template parameters apply)."""
    config = next((file for file in files if file.sk == CONFIG_SK), None)
    return config.raw if config is not None and config.raw else None


@lru_cache(maxsize=8)
def _parsed_authors(key: str, raw: bytes) -> Mapping[str, Author]:
    # Every ingest and every feed rebuild reads the site; parse a given authors file once per environment.
    return authors_of(key, read_data(key, raw))


# -- `_data/` -------------------------------------------------------------------------------------------


def _ingest_file(
    change: ObjectChange,
    sk: str,
    *,
    settings: Settings,
    bucket: PostsBucket,
    table: PostsTable,
    queue: WorkQueue | None,
) -> Outcome:
    """One site file's change, kept in its item `sk` (a data file's or the stylesheet's): the same S3-current,
    sequencer and last-good-version rules as posts."""
    stored = table.get_site_file(sk)
    if _is_older(change.sequencer, stored):
        return Outcome(change.key, Action.STALE, message="an event with a newer sequencer was already applied")
    if change.kind is ChangeKind.DELETE:
        if bucket.exists(change.key):
            return Outcome(change.key, Action.STALE, message="the object exists again: a newer upload supersedes it")
        if stored is not None and stored.state == DELETED and not (stored.fanout or stored.rejected):
            return Outcome(change.key, Action.UNCHANGED, message="already removed")
        removed = SiteFileState(sk, change.key, DELETED)
        return _store(change, sk, stored, removed, settings=settings, table=table, queue=queue)
    try:
        obj = bucket.read(change.key, limit=settings.max_site_file_bytes)
    except ObjectTooLargeError as exc:
        return _record_rejection(change, sk, stored, _too_large(change.key, exc), None, table=table, queue=queue)
    if obj is None:
        return Outcome(change.key, Action.STALE, message="the object is gone: a newer delete supersedes it")
    body_hash = content_hash(obj.body)
    # (a data file stored before its bytes were kept, `raw`, keeps them now)
    kept = stored is not None and (stored.raw is not None or stored.body is not None)
    if stored is not None and stored.body_hash == body_hash and stored.fanout is None and kept:
        return Outcome(change.key, Action.UNCHANGED, message="same bytes as stored")
    new = good_state(settings, change.key, obj.body)
    if isinstance(new, SiteFileError):
        return _record_rejection(change, sk, stored, new, body_hash, table=table, queue=queue)
    return _store(change, sk, stored, new, settings=settings, table=table, queue=queue)


def _authors_fanout(new: SiteFileState, *, settings: Settings, table: PostsTable) -> Fanout | None:
    """What this authors file's change re-renders: the changed author keys, or every feed when the site's
    own author is one of them; None when no author resolves differently."""
    files = table.get_site_files()
    before = site_authors(files)
    after = site_authors([*(file for file in files if file.sk != new.sk), new])
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if not changed:
        return None
    try:
        author = settings.site(config_in_force(files)).author
    except JekyllError:
        author = None
    # The site's author stands for every entry without one: as a changed key, it changes every feed.
    if author is not None and not author.email and not author.uri and author.name in changed:
        return _fanout(site_wide=True)
    return _fanout(authors=changed)


# -- `feed.xslt.xml` ------------------------------------------------------------------------------------


def is_stylesheet_image(image: Mapping[str, Any] | None) -> bool:
    """A stream image of the site stylesheet's item."""
    return bool(image) and image.get("pk") == SITE_PK and image.get("sk") == STYLESHEET_SK  # type: ignore[union-attr]


def copy_stylesheet(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, feeds: FeedsBucket) -> str | None:
    """Make the feeds bucket's `feed.xslt.xml` what this stream record of the site stylesheet's item says:
    its good bytes, or nothing once the site has none. Records of one item arrive in order, so applying each
    converges on the last. Returns what was done (None: the bytes in force did not change)."""
    from postfeed.feeds.discovery import STYLESHEET_MEDIA_TYPE
    from postfeed.feeds.paths import SITE_STYLESHEET_KEY

    before, after = _good_bytes(_image_state(old)), _good_bytes(_image_state(new))
    if before == after:
        return None
    if after is None:
        feeds.delete(SITE_STYLESHEET_KEY)
        return "deleted"
    feeds.put(SITE_STYLESHEET_KEY, after, STYLESHEET_MEDIA_TYPE)
    return "written"


def _image_state(image: Mapping[str, Any] | None) -> SiteFileState | None:
    return site_file_state(image) if image else None


def _good_bytes(stored: SiteFileState | None) -> bytes | None:
    return stored.body if stored is not None and stored.state == STORED else None


# -- shared ---------------------------------------------------------------------------------------------


def _store(
    change: ObjectChange,
    sk: str,
    stored: SiteFileState | None,
    new: SiteFileState,
    *,
    settings: Settings,
    table: PostsTable,
    queue: WorkQueue | None,
) -> Outcome:
    """Store the file's new good state (or its removal) with the work it starts, then send that work."""
    in_force = (stored.state, stored.raw, stored.body) if stored else (None, None, None)
    changed = in_force != (new.state, new.raw, new.body)
    fanout: Fanout | None = None
    if sk == CONFIG_SK:
        if bytes(in_force[1] or b"") != bytes(new.raw or b""):  # none in force reads as an empty one
            fanout = _fanout(site_wide=True)  # every post is read again under the new settings
    elif changed and sk == STYLESHEET_SK and (in_force[0] == STORED) != (new.state == STORED):
        fanout = _fanout(site_wide=True)  # every feed document links the site's stylesheet, or ours
    elif changed and settings.is_include_key(change.key):
        fanout = _fanout(dependencies=[dependency("include", str(include_name(change.key)))])
    elif changed:  # a data file: the posts whose Liquid read its `site.data` name, and for authors, their feeds
        fanout = _fanout(dependencies=[data_dependency(str(data_name(change.key)))])
        if data_name(change.key) == AUTHORS:
            fanout = _merged(fanout, _authors_fanout(new, settings=settings, table=table))
    fanout = _merged(stored.fanout if stored else None, fanout)
    item = _item(change, stored, new, fanout)
    version = _put(table, item, stored)
    note = _fan_out(change.key, item, version, table=table, queue=queue)
    if sk == CONFIG_SK:  # a new config, or none: settings, not a file of the site's (ConfigChanges)
        if new.state == DELETED:
            note = "config removed: template parameters apply" + (f"; {note}" if note else "")
        return Outcome(change.key, Action.CONFIG, message=note)
    action = Action.DELETED if new.state == DELETED else Action.CONFIG
    return Outcome(change.key, action, message=note)


def _record_rejection(
    change: ObjectChange,
    sk: str,
    stored: SiteFileState | None,
    error: SiteFileError,
    body_hash: str | None,
    *,
    table: PostsTable,
    queue: WorkQueue | None,
) -> Outcome:
    """Record the error on the file's item; its last good version (state and bytes) stays in force."""
    new = SiteFileState(
        sk,
        change.key,
        stored.state if stored else ERROR,
        body_hash=body_hash,
        raw=stored.raw if stored else None,
        body=stored.body if stored else None,
        rejected=True,
        error=RecordedError(error.code, error.message, error.line),
    )
    item = _item(change, stored, new, stored.fanout if stored else None)
    version = _put(table, item, stored)
    _fan_out(change.key, item, version, table=table, queue=queue)  # work a failure left recorded
    return Outcome(change.key, Action.REJECTED, code=error.code, message=error.message)


def good_state(settings: Settings, key: str, body: bytes) -> SiteFileState | SiteFileError:
    """What a site file's item keeps of these bytes when they can be used (state, hash, and the bytes: `body` for
    the stylesheet, which the feed function copies; `raw` for the others, which posts are read with), or why
    they cannot."""
    config = key == settings.config_key
    stylesheet = key == settings.stylesheet_key
    include = not (stylesheet or config) and settings.is_include_key(key)
    authors = not (stylesheet or config or include) and data_name(key) == AUTHORS
    error = _validate(
        key, body, authors=authors, stylesheet=stylesheet, include=include, config=settings if config else None
    )
    if error is not None:
        return error
    # `body` for the stylesheet; `raw` for the settings in force (ingest.current_site), `site.data` and the
    # includes (pipeline.renderenv)
    new = SiteFileState(site_sk(settings, key), key, STORED, body_hash=content_hash(body))
    return replace(new, body=body) if stylesheet else replace(new, raw=body)


def first_upload_state(settings: Settings, key: str, body: bytes) -> SiteFileState:
    """The state the first upload of a site file leaves (what `site_authors` and `has_stylesheet` read),
    without AWS: its good state, or its error (`postfeed build` reads a site folder this way)."""
    if len(body) > settings.max_site_file_bytes:
        new: SiteFileState | SiteFileError = _too_large(
            key, ObjectTooLargeError(key, len(body), settings.max_site_file_bytes)
        )
    else:
        new = good_state(settings, key, body)
    if isinstance(new, SiteFileError):
        error = RecordedError(new.code, new.message, new.line)
        return SiteFileState(site_sk(settings, key), key, ERROR, rejected=True, error=error)
    return new


def _validate(
    key: str,
    body: bytes,
    *,
    authors: bool = False,
    stylesheet: bool = False,
    include: bool = False,
    config: Settings | None = None,
) -> SiteFileError | None:
    """Why these bytes cannot be used, or None. `config`: the settings `_config.yml` is read under."""
    try:
        if config is not None:
            config.site(body)
        elif stylesheet:
            check_stylesheet(key, body)
        elif include:
            read_include(key, body)
        else:
            value = read_data(key, body)
            if authors:
                authors_of(key, value)
    except SiteFileError as exc:
        return exc
    except JekyllError as exc:  # ConfigError: its code and line, the message as `postfeed build` reports it
        return SiteFileError(exc.code, f"{key}: {exc}", exc.line)
    except MemoryError:
        raise
    except Exception as exc:  # pure and deterministic: these bytes would fail every retry, then sit in the DLQ
        return SiteFileError(
            PARSE_FAILED, f"{key}: could not be read ({type(exc).__name__}: {exc}); please report this"
        )
    return None


def _too_large(key: str, exc: ObjectTooLargeError) -> SiteFileError:
    return SiteFileError(SITE_FILE_TOO_LARGE, f"{key}: {exc.size:,} bytes; site files are limited to {exc.limit:,}")


def _fanout(*, site_wide: bool = False, authors: Sequence[str] = (), dependencies: Sequence[str] = ()) -> Fanout:
    from postfeed.pipeline.fanout import new_generation  # ordered by time: of two full rebuilds, the newer wins

    # `dependencies`: the posts whose render read one of these (`pipeline.dependencies`)
    return Fanout(new_generation(), site_wide, tuple(authors), tuple(sorted(dependencies)))


def _merged(pending: Fanout | None, new: Fanout | None) -> Fanout | None:
    """Work a failed invocation left recorded, and this change's: both are due (under a new generation, so
    the posts the first already re-ingested are re-ingested again, under the newer files)."""
    if pending is None or new is None:
        return pending or new
    if pending.site_wide or new.site_wide:
        return _fanout(site_wide=True)
    return _fanout(
        authors=sorted({*pending.authors, *new.authors}),
        dependencies=sorted({*pending.dependencies, *new.dependencies}),
    )


def _item(
    change: ObjectChange, stored: SiteFileState | None, new: SiteFileState, fanout: Fanout | None
) -> SiteFileState:
    sequencer = _newest(change.sequencer, stored.sequencer if stored else None)
    changed_at = datetime.now(UTC).isoformat()
    return replace(new, key=change.key, sequencer=sequencer, changed_at=changed_at, fanout=fanout)


def _fan_out(key: str, item: SiteFileState, version: int, *, table: PostsTable, queue: WorkQueue | None) -> str | None:
    """Send the work recorded on the item (written at `version`), then clear it. Raises for AWS failures:
    the event is retried, and finds the work still recorded."""
    fanout = item.fanout
    if fanout is None:
        return None
    if queue is None:
        return "feeds not re-rendered: no ingest queue (INGEST_QUEUE_URL) to send the work to"
    generation = fanout.generation
    keys: list[str] = []
    if not fanout.site_wide:
        keys = sorted(
            {post for author in fanout.authors for post in table.posts_by_author(author)}
            | {post for name in fanout.dependencies for post in table.posts_reading(name)}
        )
    if fanout.site_wide or len(keys) > MAX_FANOUT_POSTS:
        from postfeed.pipeline.fanout import start_rebuild

        start_rebuild(queue, reason=f"{key} changed", generation=generation)
        note = f"full rebuild {generation} started"
    else:
        queue.send_all(reparse_batches(generation, keys, reason=f"{key} changed"))
        changed = [*fanout.authors, *fanout.dependencies]
        note = f"{', '.join(changed)} changed: {len(keys)} posts to re-render"
    # A conflict: a newer change of this file was stored meanwhile, and carried this work over with its own.
    with contextlib.suppress(ConcurrentUpdateError):
        table.put_site_file(replace(item, fanout=None), version)
    return note


def reparse_batches(generation: str, keys: Sequence[str], *, reason: str) -> list[WorkItem]:
    return [
        ReparseBatch(generation=generation, keys=list(keys[start : start + BATCH_KEYS]), first=start, reason=reason)
        for start in range(0, len(keys), BATCH_KEYS)
    ]


def _put(table: PostsTable, item: SiteFileState, stored: SiteFileState | None) -> int:
    """Write the item if it is still at the version `stored` was read at; returns the version written."""
    if stored is not None and stored.version is None:  # a config item of before (`site_file_state`)
        return table.replace_legacy_config(item)
    return table.put_site_file(item, stored.version if stored else None)


def _is_older(sequencer: str | None, stored: SiteFileState | None) -> bool:
    known = stored.sequencer if stored else None
    return bool(sequencer and known and sequencer < known)


def _newest(a: str | None, b: str | None) -> str | None:
    return max((s for s in (a, b) if s), default=None)
