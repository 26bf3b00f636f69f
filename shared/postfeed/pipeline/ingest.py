"""Ingest: one S3 object change -> the post's state in the table, in one transaction.

Rules (see README, "Guarantees"):
- S3 is the source of truth. A put reads the object's *current* bytes; a delete is applied only if the
  object is really gone. A stale event (older than what the table holds, or contradicted by S3) is dropped.
- Events carry a `sequencer` per key; the table keeps the newest seen, and an older event never overwrites
  a newer one. An event without one (hand-made, or from moto) is applied on S3's current state.
- Same bytes and same site settings as stored: nothing is written, so nothing is regenerated.
- A post that fails to parse is recorded (code, message) and keeps its previous good version in feeds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from postfeed.models import FeedRef, ParseResult, Post, Rejected, Site, Skipped, feeds_of
from postfeed.pipeline.dependencies import dependencies, dependency, reads_attribute, waiting_on
from postfeed.pipeline.fanout import is_full_rebuild, new_generation, superseded
from postfeed.pipeline.outcomes import Action, Outcome
from postfeed.pipeline.settings import Settings
from postfeed.pipeline.sitefiles import (
    authors_of_source,
    authors_source,
    config_in_force,
    has_stylesheet,
    ingest_site_file,
    is_site_file,
    reparse_batches,
)
from postfeed.store.bucket import ObjectTooLargeError, PostsBucket
from postfeed.store.events import ChangeKind, ObjectChange
from postfeed.store.items import content_hash, post_state, publication, utc_instant
from postfeed.store.records import (
    DELETED,
    ERROR,
    PUBLISHED,
    SKIPPED,
    PostState,
    Publication,
    RecordedError,
    SiteFileState,
    SkipRecord,
)
from postfeed.store.table import ConcurrentUpdateError, PostsTable, PostWrite, PostWriter, TooManyActionsError
from postfeed.store.work import WorkQueue

if TYPE_CHECKING:
    from postfeed.jekyll.render_environment import SiteFiles

# Error codes of the pipeline itself (the parser's are in postfeed.jekyll.errors).
POST_TOO_LARGE = "post_too_large"
TOO_MANY_FEEDS = "too_many_feeds"
PARSE_FAILED = "parse_failed"  # the parser raised: a bug of ours, recorded rather than retried forever
METADATA_TOO_LARGE = "metadata_too_large"
CONFIG_REJECTED = "config_rejected"  # `postfeed build`: a config over its size limit

# Keep the post item well under DynamoDB's 400 KB (the HTML goes to compressed chunks, not here).
MAX_ENTRY_BYTES = 300_000
MAX_OPTIMISTIC_RETRIES = 5


def ingest_change(
    change: ObjectChange,
    *,
    settings: Settings,
    bucket: PostsBucket,
    table: PostsTable,
    now: datetime | None = None,
    queue: WorkQueue | None = None,
) -> Outcome:
    """Apply one S3 change. Raises only for AWS failures (the record is then retried).

    `_config.yml`, `_data/` and `_includes/` files and `feed.xslt.xml` go to postfeed.pipeline.sitefiles (a
    changed config starts a full rebuild through `queue`: postfeed.pipeline.reparse; one that cannot be read is
    recorded and the last good one stays in force); posts, drafts and the documents of the collections the
    config declares are read by `parse_post`, which tells them apart by path, with the site's render
    environment (postfeed.pipeline.renderenv). A post published releases the posts waiting for it
    (`release_waiting`)."""
    if is_site_file(settings, change.key):
        return ingest_site_file(change, settings=settings, bucket=bucket, table=table, queue=queue)
    if not (settings.is_post_key(change.key) or settings.is_draft_key(change.key)):
        folder = settings.collection_folder(change.key)
        declared = folder is not None and folder in current_site(settings, table)[0].collections
        reason = ignored_reason(change.key, settings, declared=declared)
        # A document of a collection the config no longer declares is read again when stored: it leaves its feeds.
        if reason is not None and (folder is None or table.get_state(change.key) is None):
            return Outcome(change.key, Action.IGNORED, message=reason)
    outcome = _ingest_with_retries(change, settings=settings, bucket=bucket, table=table, now=now)
    if outcome.action in (Action.SKIPPED, Action.REJECTED, Action.DELETED):
        rerender_readers(change.key, settings=settings, table=table, queue=queue)
    # A full rebuild reads every post again anyway: its posts skip the two Queries per publish.
    if outcome.action is Action.PUBLISHED and not is_full_rebuild(change.generation):
        released = release_waiting(change.key, settings=settings, bucket=bucket, table=table, now=now)
        if released:
            note = f"{len(released)} posts waiting for it read again"
            outcome = Outcome(
                outcome.key, outcome.action, outcome.code, f"{outcome.message}; {note}" if outcome.message else note
            )
    return outcome


def _ingest_with_retries(
    change: ObjectChange, *, settings: Settings, bucket: PostsBucket, table: PostsTable, now: datetime | None
) -> Outcome:
    for _ in range(MAX_OPTIMISTIC_RETRIES):
        try:
            return _ingest_post(change, settings=settings, bucket=bucket, table=table, now=now)
        except ConcurrentUpdateError:
            continue  # another invocation wrote this key between our read and write: decide again
    raise ConcurrentUpdateError(f"{change.key}: still contended after {MAX_OPTIMISTIC_RETRIES} attempts")


def rerender_readers(key: str, *, settings: Settings, table: PostsTable, queue: WorkQueue | None) -> int:
    """Re-render the posts whose `{% include_relative %}` read the file at `key` (a file beside posts, which
    is read as a post and not published): work items under a new generation on the ingest queue, as an
    include change's. Returns how many posts."""
    readers = sorted(set(table.posts_reading(dependency("file", key))) - {key})
    if not readers or queue is None:
        return 0
    queue.send_all(reparse_batches(new_generation(), readers, reason=f"{key} changed"))
    return len(readers)


MAX_RELEASED = 100  # posts read again by one invocation because a post they name arrived


def release_waiting(
    key: str, *, settings: Settings, bucket: PostsBucket, table: PostsTable, now: datetime | None
) -> list[Outcome]:
    """Read again the posts rejected because `{% post_url %}`/`{% link %}` named the post just published at
    `key` while it was missing (found by their dependency items: `pipeline.dependencies`), and, when one of
    them is published, those waiting for it in turn. As if each were uploaded again: S3's current bytes, no
    sequencer (an event of theirs meanwhile is applied by its own rules), no generation."""
    published, seen = [key], {key}
    outcomes: list[Outcome] = []
    while published and len(outcomes) < MAX_RELEASED:
        for satisfied in waiting_on(published.pop(0)):
            for waiter in table.posts_reading(satisfied):
                if waiter in seen or len(outcomes) >= MAX_RELEASED:
                    continue
                seen.add(waiter)
                if not _missed_a_post(table.get_state(waiter)):
                    continue
                again = ObjectChange(bucket=settings.posts_bucket, key=waiter, kind=ChangeKind.PUT, sequencer=None)
                outcome = _ingest_with_retries(again, settings=settings, bucket=bucket, table=table, now=now)
                outcomes.append(outcome)
                if outcome.action is Action.PUBLISHED:
                    published.append(waiter)
    return outcomes


def ignored_reason(key: str, settings: Settings, *, declared: bool) -> str | None:
    """Why the ingest function leaves a key alone (None: it reads it as a post): outside the posts prefix and
    the drafts folder, and not in a collection's folder that the config declares (`declared`)."""
    if settings.is_post_key(key) or settings.is_draft_key(key):
        return None
    folder = settings.collection_folder(key)
    if folder is None:
        return "not a post, draft, collection document or site file"
    return None if declared else f"_{folder}/ is not a collection _config.yml declares"


def current_site(
    settings: Settings, table: PostsTable, files: Sequence[SiteFileState] | None = None
) -> tuple[Site, str]:
    """The site settings in force (with `site.data.authors` and whether the site has its own `feed.xslt.xml`),
    and a hash that changes whenever the settings posts are read with do (the other site files only change
    how feeds are rendered, or what some posts' Liquid reads: postfeed.pipeline.sitefiles re-renders what they
    affect). `files`: the site files when the caller read them already. Made once per version of the
    config, authors file and stylesheet (every post of a batch reads the site under the same ones)."""
    files = table.get_site_files() if files is None else files
    return _site_in_force(settings, config_in_force(files), authors_source(files), has_stylesheet(files))


@lru_cache(maxsize=8)
def _site_in_force(
    settings: Settings, raw: bytes | None, authors: tuple[str, bytes] | None, xslt: bool
) -> tuple[Site, str]:
    site = settings.site(raw, authors=authors_of_source(authors), xslt=xslt)
    fingerprint = content_hash(
        json.dumps([raw.hex() if raw else None, dict(settings.site_defaults)], sort_keys=True, default=str).encode()
    )
    return site, fingerprint


def _ingest_post(
    change: ObjectChange, *, settings: Settings, bucket: PostsBucket, table: PostsTable, now: datetime | None
) -> Outcome:
    stored = table.get_state(change.key)
    if _is_older(change.sequencer, stored):
        return Outcome(change.key, Action.STALE, message="an event with a newer sequencer was already applied")
    if superseded(change.generation, stored):  # two full rebuilds at once: the newer one's write stays
        return Outcome(change.key, Action.STALE, message="a newer full rebuild already re-ingested this post")
    if change.kind is ChangeKind.DELETE:
        if bucket.exists(change.key):
            return Outcome(change.key, Action.STALE, message="the object exists again: a newer upload supersedes it")
        _commit(change, stored, table, PostState(change.key, DELETED))
        return Outcome(change.key, Action.DELETED)

    try:
        obj = bucket.read(change.key, limit=settings.max_post_bytes)
    except ObjectTooLargeError as exc:
        rejected = Rejected(change.key, POST_TOO_LARGE, str(exc))
        return _record_rejection(change, stored, table, rejected, body_hash=None, config_hash=None)
    if obj is None:
        return Outcome(change.key, Action.STALE, message="the object is gone: a newer delete supersedes it")

    from postfeed.pipeline.renderenv import event_environment

    files = table.get_site_files()
    site, config_hash = current_site(settings, table, files)
    limit = settings.max_site_file_bytes
    env = event_environment(files, site, change.key, obj.body, table=table, bucket=bucket, limit=limit)
    return apply_post(change, stored, obj.body, site, config_hash, writer=table, now=now, env=env)


def _missed_a_post(stored: PostState | None) -> bool:
    """Rejected because a post it names (`post_url`, `link`) was missing: that post may have arrived since."""
    from postfeed.pipeline.renderenv import MISSING_TARGET

    return stored is not None and stored.rejected and stored.error_code in MISSING_TARGET


def is_unchanged(change: ObjectChange, stored: PostState | None, body_hash: str, config_hash: str) -> bool:
    """Same bytes, read under the same settings, and not a full rebuild's first visit: nothing to write (but a
    post rejected because a post it names was missing is read again)."""
    if stored is None or (stored.body_hash, stored.config_hash) != (body_hash, config_hash):
        return False
    if _missed_a_post(stored):
        return False
    return change.generation in (None, stored.generation)


def read_post(key: str, body: bytes, site: Site, now: datetime | None, env: SiteFiles | None = None) -> ParseResult:
    """parse_post, with a crash of ours recorded as `parse_failed` rather than retried forever. `env`: the
    site's render environment (`pipeline.renderenv`), narrowed here to what this post names; None: no site
    files (incomplete: a missing include renders empty)."""
    from postfeed.jekyll import parse_post

    try:
        if env is None:
            return parse_post(key, body, site, now=now or datetime.now(UTC))
        from postfeed.pipeline.renderenv import for_post, text_of_upload

        env = for_post(env, key, text_of_upload(body))
        return parse_post(key, body, site, now=now or datetime.now(UTC), env=env)
    except MemoryError:
        raise
    except Exception as exc:  # pure and deterministic: these bytes would fail every retry, then sit in the DLQ
        message = f"{key}: the post could not be read ({type(exc).__name__}: {exc}); please report this"
        return Rejected(key, PARSE_FAILED, message)


def read_upload(
    key: str, body: bytes, site: Site, now: datetime | None, *, limit: int, env: SiteFiles | None = None
) -> ParseResult:
    """`read_post` of an upload held whole (the bulk path, `postfeed build`), refused unread over `limit` bytes
    as the event path's ranged GET refuses it (`post_too_large`, the same message)."""
    if len(body) > limit:
        return Rejected(key, POST_TOO_LARGE, str(ObjectTooLargeError(key, len(body), limit)))
    return read_post(key, body, site, now, env)


def apply_post(
    change: ObjectChange,
    stored: PostState | Mapping[str, Any] | None,
    body: bytes,
    site: Site,
    config_hash: str,
    *,
    writer: PostWriter,
    now: datetime | None = None,
    parsed: ParseResult | None = None,
    env: SiteFiles | None = None,
) -> Outcome:
    """Decide what one post's current bytes make of its item and hand the write to `writer` (the table, one
    transaction; or the bulk path's batch). `stored`: the post's state (the bulk path may pass the item it
    read); `parsed`: the bytes already parsed under `site` (bulk parses in parallel first)."""
    if stored is not None and not isinstance(stored, PostState):
        stored = post_state(stored)
    body_hash = content_hash(body)
    if is_unchanged(change, stored, body_hash, config_hash):
        return Outcome(change.key, Action.UNCHANGED)
    result = parsed if parsed is not None else read_post(change.key, body, site, now, env)
    if isinstance(result, Rejected):
        return _record_rejection(change, stored, writer, result, body_hash=body_hash, config_hash=config_hash)
    read = PostState(change.key, SKIPPED, body_hash=body_hash, config_hash=config_hash)
    if isinstance(result, Skipped):
        due = utc_instant(result.due) if result.due is not None else None
        _commit(change, stored, writer, replace(read, skip=SkipRecord(result.reason, result.detail), due_at=due))
        return Outcome(change.key, Action.SKIPPED, code=result.reason, message=result.detail)
    read = replace(read, state=PUBLISHED, warnings=tuple(result.warnings), reads=_reads(result))
    return _publish(change, stored, writer, result, read, feeds_of(result, site.feed))


def _reads(result: Post | Rejected) -> dict[str, list[str]] | None:
    return reads_attribute(result.reads) or None


def _publish(
    change: ObjectChange,
    stored: PostState | None,
    table: PostWriter,
    post: Post,
    read: PostState,
    feeds: tuple[FeedRef, ...],
) -> Outcome:
    hashes = {"body_hash": read.body_hash, "config_hash": read.config_hash}
    published = publication(post, feeds)
    entry = published.entry.fields
    entry_bytes = len(json.dumps({k: v for k, v in entry.items() if k != "blob"}, ensure_ascii=False).encode())
    if entry_bytes > MAX_ENTRY_BYTES:
        message = (
            f"{post.path}: title, categories and tags take {entry_bytes:,} bytes; the limit is {MAX_ENTRY_BYTES:,}"
        )
        return _record_rejection(change, stored, table, Rejected(post.path, METADATA_TOO_LARGE, message), **hashes)
    try:
        _commit(change, stored, table, read, published=published)
    except TooManyActionsError as exc:
        message = (
            f"{post.path}: in {len(feeds)} feeds (the site feed, {len(post.categories)} categories and "
            f"{len(post.tags)} tags), but a post can be in at most {exc.membership_budget - 1} categories and tags "
            "together"
        )
        if exc.leaves:
            message += f" (this change also removes {exc.leaves} feed entries of its previous version, which count)"
        message += ". Use fewer categories and tags."
        return _record_rejection(change, stored, table, Rejected(post.path, TOO_MANY_FEEDS, message), **hashes)
    return Outcome(change.key, Action.PUBLISHED)


def commit_published(change: ObjectChange, post: Post, read: PostState, *, writer: PostWriter) -> None:
    """Write `post` as published in every feed of its categories and tags, over no stored state and deciding
    nothing (tests and the bench seed the table this way); `read`: what it was read from (hashes, warnings)."""
    _commit(change, None, writer, replace(read, state=PUBLISHED), published=publication(post, feeds_of(post)))


def _record_rejection(
    change: ObjectChange,
    stored: PostState | None,
    table: PostWriter,
    rejected: Rejected,
    *,
    body_hash: str | None,
    config_hash: str | None,
) -> Outcome:
    """Record the error under the key; an earlier good version stays in the feeds untouched."""
    keep = stored is not None and stored.published
    new = PostState(
        change.key,
        PUBLISHED if keep else ERROR,
        body_hash=body_hash,
        config_hash=config_hash,
        rejected=True,
        error=RecordedError(rejected.code, rejected.message, rejected.line),
        reads=_reads(rejected),
    )
    _commit(change, stored, table, new, keep_entry=keep)
    return Outcome(change.key, Action.REJECTED, code=rejected.code, message=rejected.message)


def _commit(
    change: ObjectChange,
    stored: PostState | None,
    table: PostWriter,
    new: PostState,
    *,
    published: Publication | None = None,
    keep_entry: bool = False,
) -> None:
    """Write `new` (what reading the change concluded) as the key's state: with the entry `published`, or the
    entry in force when `keep_entry`; the memberships, chunks and dependency items follow."""
    old_entry = stored.entry if stored else None
    old_sk = stored.member_sk if stored else None
    new = replace(
        new,
        key=change.key,
        sequencer=_newest(change.sequencer, stored.sequencer if stored else None),
        changed_at=datetime.now(UTC).isoformat(),
        # The full rebuild that last re-ingested this post (kept by later changes; see pipeline.reparse).
        generation=change.generation or (stored.generation if stored else None),
    )
    if keep_entry and old_entry is not None:
        new = replace(new, entry=old_entry, member_sk=old_sk)
    elif published is not None:
        new = replace(new, entry=published.entry, member_sk=published.member_sk)
    write = PostWrite.of(new, expected_version=stored.version if stored else None)
    old_dependencies = dependencies(stored.reads if stored else None)
    new_dependencies = dependencies(new.reads)
    write.add_dependencies = sorted(new_dependencies - old_dependencies)
    if not keep_entry:  # the version kept in the feeds read those: a change to one still re-renders it
        write.remove_dependencies = sorted(old_dependencies - new_dependencies)
    if keep_entry and old_entry is not None:
        table.write_post(write)
        return
    old_refs = set(old_entry.refs) if old_entry else set()
    write.stale_chunks = max(0, (old_entry.chunk_count if old_entry else 0) - len(write.chunks))
    new_sk = published.member_sk if published else None
    new_refs = set(published.entry.refs) if published else set()
    same_sk = old_sk == new_sk
    # Memberships carry the archive line: rewritten whenever what the feeds show of the post changes.
    same_entry = same_sk and (old_entry.hash if old_entry else None) == (new.entry.hash if new.entry else None)
    write.add_members = (
        sorted((ref, new_sk) for ref in new_refs if not (same_entry and ref in old_refs)) if new_sk else []
    )
    if published is not None:
        write.member_line = dict(published.line) if published.line is not None else None
    if old_sk:
        write.remove_members = sorted((ref, old_sk) for ref in old_refs if not (same_sk and ref in new_refs))
    table.write_post(write)


def _is_older(sequencer: str | None, stored: PostState | None) -> bool:
    known = stored.sequencer if stored else None
    return bool(sequencer and known and sequencer < known)


def _newest(a: str | None, b: str | None) -> str | None:
    return max((s for s in (a, b) if s), default=None)
