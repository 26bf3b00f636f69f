"""Every document of a site's feeds bucket, rendered in one pass from its published posts: what the pipeline
leaves in the bucket once it has ingested every post, without AWS (`postfeed build`; a reference for tests of
the pipeline).

Pure: no I/O. It calls the renderers the feed function calls, with what the feed function reads:

* each feed's members are its posts' membership sort keys (`member_sk`), and its archive pages the plan of
  all of them from scratch (`feeds.archive_pages.plan_feed`: what incremental re-planning always arrives at),
  linked to their neighbours (`linked_plan`);
* archive pages render the posts' archive lines as the table returns them (`post_from_line(member_line(p))`,
  the whole entry when a post has no line), subscription documents and pages the newest `posts_limit`
  entries as stored (`decode_entry(encode_entry(p))`), with the feed's history (`subscription_history`);
* the discovery documents come from the feeds listed (every feed with entries), through the one function
  that renders them all, `feeds.discovery.discovery_documents`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from postfeed.models import FeedRef, Post, Site

if TYPE_CHECKING:
    from postfeed.store.table import PostWrite

# Pages (or fronts) a worker renders per task at most: small, so that the workers finish together although
# an archive page holds from one entry to a few hundred.
JOBS_PER_TASK = 16


class Document(NamedTuple):
    """One object of the feeds bucket: its key, bytes and media type (a `FeedsBucket.put_changed` tuple)."""

    key: str
    body: bytes
    media_type: str


@dataclass(frozen=True, slots=True)
class StoredPost:
    """A published post as the table holds it, read back as the feed function reads it."""

    key: str
    sort_key: str  # its membership sort key in every feed it is in
    entry: Post  # decoded from its post item: what subscription documents and feed pages show
    line: Post  # decoded from its archive line (the entry when it has none): what archive pages show
    feeds: tuple[FeedRef, ...]


@dataclass(slots=True)
class SiteDocuments:
    documents: list[Document] = field(default_factory=list)
    feeds: list[FeedRef] = field(default_factory=list)  # every feed with entries: the ones listed


def stored_post(write: PostWrite) -> StoredPost | None:
    """The published post a post write leaves in the table (its entry, sort key, archive line and feeds), read
    back as the feed function reads it; None when the write publishes nothing (a skip, a rejection)."""
    from postfeed.store.items import decode_entry, post_from_line

    entry = write.item.get("entry")
    if write.item.get("state") != "published" or not entry or not write.add_members:
        return None
    post = decode_entry(entry, entry.get("blob") or b"".join(write.chunks))
    line = post_from_line(write.member_line) if write.member_line is not None else post
    sort_key = write.add_members[0][1]
    return StoredPost(write.key, sort_key, post, line, tuple(ref for ref, _ in write.add_members))


def feed_members(posts: Iterable[StoredPost]) -> dict[FeedRef, list[StoredPost]]:
    """Each feed's posts, oldest first (membership sort key order, as a feed's partition is read)."""
    members: dict[FeedRef, list[StoredPost]] = defaultdict(list)
    for post in posts:
        for ref in post.feeds:
            members[ref].append(post)
    return {ref: sorted(found, key=lambda post: post.sort_key) for ref, found in members.items()}


@dataclass(frozen=True, slots=True)
class ArchivePage:
    """One archive page to render: its posts (archive lines, oldest first) and its neighbours."""

    ref: FeedRef
    page: str
    posts: tuple[Post, ...]
    prev_page: str | None
    next_page: str | None


@dataclass(frozen=True, slots=True)
class FeedFront:
    """A feed's subscription documents and HTML page to render: its newest entries (newest first), its newest
    archive page, and whether those entries are the whole feed."""

    ref: FeedRef
    posts: tuple[Post, ...]
    newest_page: str | None
    complete: bool


def plan_feed_documents(
    ref: FeedRef, members: Sequence[StoredPost], site: Site, *, page_entries: int | None = None
) -> list[ArchivePage | FeedFront]:
    """What one feed publishes, from all its members (oldest first): its archive pages (planned from scratch,
    linked to their neighbours) and its front documents. `page_entries`: the page bound (default
    `feeds.archive_pages.PAGE_ENTRIES`, read at call time)."""
    from postfeed.feeds import archive_pages as archive_rules

    limit = archive_rules.PAGE_ENTRIES if page_entries is None else page_entries
    by_key = {post.sort_key: post for post in members}
    planned = archive_rules.linked_plan(list(by_key), limit)
    jobs: list[ArchivePage | FeedFront] = [
        ArchivePage(ref, page, tuple(by_key[key].line for key in keys), prev_page, next_page)
        for page, keys, prev_page, next_page in planned
    ]
    # The newest `posts_limit` entries, newest first, as the rebuild's query reads them.
    shown = max(site.feed.posts_limit, 0)
    newest = tuple(post.entry for post in reversed(members[-shown:])) if shown else ()
    jobs.append(
        FeedFront(
            ref,
            newest,
            planned[-1].page if planned else None,
            complete=len(members) <= shown,
        )
    )
    return jobs


def render_documents(jobs: Sequence[ArchivePage | FeedFront], site: Site) -> list[Document]:
    """The documents of these pages and fronts, through the feed function's renderers."""
    from postfeed.feeds.archive_pages import render_archive_page, subscription_history
    from postfeed.feeds.render import render_feed_with_page

    documents: list[Document] = []
    for job in jobs:
        if isinstance(job, ArchivePage):
            archived = render_archive_page(
                job.ref, job.page, job.posts, site, prev_page=job.prev_page, next_page=job.next_page
            )
            documents += [Document(doc.key, doc.body, doc.media_type) for doc in archived]
            continue
        history = subscription_history(job.ref, job.newest_page, site, complete=job.complete)
        feed_documents, page = render_feed_with_page(job.ref, job.posts, site, history=history)
        documents += [Document(doc.key, doc.body, doc.media_type) for doc in feed_documents]
        documents.append(Document(page.key, page.body, page.media_type))
    return documents


def render_site(
    site: Site,
    posts: Iterable[StoredPost],
    *,
    site_stylesheet: bytes | None = None,
    page_entries: int | None = None,
    workers: int = 1,
) -> SiteDocuments:
    """Every document of the feeds bucket for these published posts: each feed's archive pages, subscription
    documents and HTML page (rendered on `workers` processes), the discovery documents, and the site's own
    `feed.xslt.xml` when it has a good one."""
    from postfeed.feeds.discovery import STYLESHEET_MEDIA_TYPE, discovery_documents
    from postfeed.feeds.paths import SITE_STYLESHEET_KEY
    from postfeed.processes import chunked, map_chunks

    rendered = SiteDocuments()
    jobs: list[ArchivePage | FeedFront] = []
    for ref, members in sorted(feed_members(posts).items()):
        jobs += plan_feed_documents(ref, members, site, page_entries=page_entries)
        rendered.feeds.append(ref)
    rendered.documents = map_chunks(render_documents, chunked(jobs, workers, most=JOBS_PER_TASK), site, workers=workers)
    rendered.documents += [Document(*document) for document in discovery_documents(rendered.feeds, site)]
    if site_stylesheet is not None:
        rendered.documents.append(Document(SITE_STYLESHEET_KEY, site_stylesheet, STYLESHEET_MEDIA_TYPE))
    return rendered
