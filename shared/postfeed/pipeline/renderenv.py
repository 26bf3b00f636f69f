"""What a post's Liquid reads in the pipeline (`jekyll.render_environment`): the site's `_includes/` and
`_data/` files and `_config.yml` as the table holds them (their items under `SITE`, one Query per invocation:
`ingest.current_site` already makes it), and the other posts that `{% post_url %}` and `{% link %}` name.

The same environment serves the event path, the bulk path (`postfeed run`) and `postfeed build` (from the site
folder), so all three render a post alike:

* `complete=True`: the pipeline knows the whole site, so what Jekyll fails the build on (a missing include,
  `post_url`/`link` to no post) is the post's recorded rejection, and its earlier good version stays. A
  `link` to something other than a post (a page, a static file, a collection document) that is not found
  renders empty with a warning: the pipeline does not hold pages and static files, so it cannot tell.
* Includes and data files are those in force (`state` stored; a rejected upload keeps the last good bytes).
* Other posts: the post's text (and the includes) are scanned for the literal names of `post_url`, `link` and
  `include_relative`; each named post is looked up by the caller (`PostFinder`: the event path lists the
  posts bucket under the name's `_posts/<folder><date>-<slug>.` prefix and reads the items with BatchGetItem:
  no Scan), and only published ones are supplied. So `site.posts` in a post's Liquid holds those posts only
  (the pipeline has no listing of every post per render); a loop over `site.posts` shows them alone.
* `include_relative` files: read from the bucket (event path, bulk) or the folder (`postfeed build`).

Pure here (no AWS): the callers pass what they read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from functools import lru_cache
from posixpath import splitext
from typing import TYPE_CHECKING, Any, TypeVar

from postfeed.jekyll import errors
from postfeed.jekyll.errors import JekyllError
from postfeed.jekyll.render_environment import (
    OtherPost,
    SiteFiles,
    include_relative_path,
    link_matches,
    post_url_matches,
)
from postfeed.jekyll.sitefiles import data_name, data_precedence, include_name, read_data, read_include
from postfeed.models import Post, Site
from postfeed.store.records import PostState, SiteFileState
from postfeed.store.table import DATA_SK_PREFIX, INCLUDE_SK_PREFIX

if TYPE_CHECKING:
    from postfeed.store.bucket import PostsBucket
    from postfeed.store.table import PostsTable

STORED = "stored"
# `{% post_url name %}`, `{% link path %}`, `{% include_relative path %}` with a literal argument
_NAMED = re.compile(r"{%-?\s*(post_url|link|include_relative)\s+([^\s{}%]+)[^%]*?-?%}")
POSTS_DIR = "_posts/"

Result = TypeVar("Result")
MISSING_TARGET = frozenset({errors.POST_URL_NOT_FOUND, errors.LINK_NOT_FOUND})


def named_targets(texts: Iterable[str]) -> tuple[set[str], set[str], set[str]]:
    """The literal `post_url` names, `link` paths and `include_relative` paths in these texts."""
    post_urls: set[str] = set()
    links: set[str] = set()
    relative: set[str] = set()
    for text in texts:
        if "{%" not in text:
            continue
        for tag, name in _NAMED.findall(text):
            {"post_url": post_urls, "link": links, "include_relative": relative}[tag].add(name.strip())
    return post_urls, links, relative


def post_url_prefixes(name: str) -> list[str]:
    """The key prefixes under which the post `{% post_url name %}` names may be (`_posts/<folder><date>-<slug>.`,
    `<folder>_posts/<date>-<slug>.`)."""
    found = re.match(r"^(.+/)*(\d+-\d+-\d+)-(.*)$", name.strip().removeprefix("/"), re.DOTALL)
    if found is None:
        return []
    folder, rest = found[1] or "", f"{found[2]}-{found[3]}."
    return sorted({f"{POSTS_DIR}{folder}{rest}", f"{folder}{POSTS_DIR}{rest}"})


def post_url_name(key: str) -> str | None:
    """The name `{% post_url %}` gives the post at `key` (`_posts/a/2020-01-02-x.md` -> `a/2020-01-02-x`)."""
    folder, _, rest = key.partition(POSTS_DIR)
    if not rest or not re.match(r"^\d+-\d+-\d+-", rest.rsplit("/", 1)[-1]):
        return None
    stem = splitext(rest)[0]
    sub, _, base = stem.rpartition("/")
    return f"{folder}{sub + '/' if sub else ''}{base}" if folder or sub else base


def link_target(target: str) -> str:
    return target.strip().removeprefix("/")


def other_post(key: str, stored: PostState) -> OtherPost | None:
    """A published post as `post_url`/`link`/`site.posts` see it (None: nothing published there)."""
    if not stored.published or stored.entry is None:
        return None
    entry = stored.entry.fields
    return OtherPost(
        path=key,
        url=str(entry["url"]),
        date=datetime.fromisoformat(str(entry["date"])),
        title=str(entry.get("title", "")),
        slug=str(entry.get("slug", "")),
        id=str(entry.get("id", "")),
        categories=tuple(entry.get("categories", ())),
        tags=tuple(entry.get("tags", ())),
        collection=str(entry.get("collection", "posts")),
    )


def site_parts(files: Iterable[SiteFileState]) -> tuple[dict[str, str], dict[str, object]]:
    """The includes (name -> text) and `site.data` in force, from the site files in the table."""
    includes: dict[str, str] = {}
    data: dict[str, tuple[int, object]] = {}
    for file in files:
        sk, key, raw = file.sk, file.key, file.raw
        if file.state != STORED or raw is None:
            continue
        if sk.startswith(INCLUDE_SK_PREFIX) and (name := include_name(key)) is not None:
            text = _include_text(key, raw)
            if text is not None:
                includes[name] = text
        elif sk.startswith(DATA_SK_PREFIX) and (name := data_name(key)) is not None:
            value = _data_value(key, raw)
            if value is not _UNREADABLE and (name not in data or data[name][0] <= data_precedence(key)):
                data[name] = (data_precedence(key), value)
    return includes, _nested({name: value for name, (_, value) in data.items()})


def site_environment(
    site: Site,
    includes: Mapping[str, str],
    data: Mapping[str, object],
    posts: Iterable[OtherPost] = (),
    files: Mapping[str, str] | None = None,
) -> SiteFiles:
    """The site's environment: its includes and data, and a pool of other posts and files beside posts that
    `for_post` narrows to what one post names."""
    return SiteFiles(
        settings=dict(site.config),
        includes=dict(includes),
        files=dict(files or {}),
        data_files=dict(data),
        other_posts=tuple(sorted({post.path: post for post in posts}.values(), key=lambda post: post.path)),
        complete=True,
        posts_only_links=True,
    )


def wanted(texts: Mapping[str, str], includes: Mapping[str, str]) -> tuple[list[str], list[str], list[str]]:
    """What these posts' (key -> text) Liquid names, to look up: key prefixes of `post_url` targets, keys of
    `link` targets, and paths of `include_relative` files."""
    post_urls, links, relative = named_targets([*texts.values(), *includes.values()])
    prefixes = sorted({prefix for name in post_urls for prefix in post_url_prefixes(name)})
    paths = sorted(
        {path for key in texts for name in relative if (path := include_relative_path(key, name)) is not None}
    )
    return prefixes, sorted({link_target(target) for target in links}), paths


def for_post(env: SiteFiles, key: str, text: str) -> SiteFiles:
    """The environment of the post at `key`: the site's, with only the other posts its text (or an include)
    names by `post_url`/`link`, and only the files beside it that it names. Every path narrows alike, so a
    post renders the same through the event path, the bulk path and `postfeed build`."""
    post_urls, links, relative = named_targets([text, *env.includes.values()])
    posts = tuple(
        post
        for post in env.other_posts
        if post.path != key
        and (
            any(post_url_matches(name, post.path) for name in post_urls)
            or any(link_matches(target, post.path) for target in links)
        )
    )
    paths = {path for name in relative if (path := include_relative_path(key, name)) is not None}
    files = {path: body for path, body in env.files.items() if path in paths}
    return replace(env, other_posts=posts, files=files)


def text_of_upload(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


_UNREADABLE = object()


@lru_cache(maxsize=256)
def _include_text(key: str, raw: bytes) -> str | None:
    try:
        return read_include(key, raw)
    except JekyllError:  # validated before it was stored
        return None


@lru_cache(maxsize=256)
def _data_value(key: str, raw: bytes) -> object:
    # Every ingest of an invocation reads the same data files: parsed once per (key, bytes).
    try:
        return read_data(key, raw)
    except JekyllError:
        return _UNREADABLE


def _nested(values: Mapping[str, object]) -> dict[str, object]:
    """`team.a` -> {"team": {"a": ...}} as Jekyll's DataReader nests a folder's files."""
    tree: dict[str, Any] = {}
    for name in sorted(values):
        *folders, leaf = name.split(".")
        node = tree
        for folder in folders:
            child = node.get(folder)
            if not isinstance(child, dict):
                child = node[folder] = {}
            node = child
        node[leaf] = values[name]
    return tree


# -- reading what a render names from the table and the bucket -------------------------------------------


def lookup_posts(
    prefixes: Sequence[str], keys: Sequence[str], *, table: PostsTable, bucket: PostsBucket
) -> list[OtherPost]:
    """The published posts under these key prefixes (a `post_url` name fixes all but the extension: a listing
    of that prefix, a few keys at most) or at these keys, each read by its key (GetItem, which the ingest
    role has): no Scan."""
    candidates = list(keys)
    for prefix in prefixes:
        listed, _ = bucket.list_keys(prefix, limit=100)
        candidates += listed
    found = []
    for key in sorted(set(candidates)):
        stored = table.get_state(key)
        if stored is not None and (post := other_post(key, stored)) is not None:
            found.append(post)
    return found


def read_files(paths: Sequence[str], *, bucket: PostsBucket, limit: int) -> dict[str, str]:
    """The text of the files beside posts that `include_relative` names (absent, too large or not text: left
    out, so the render fails as Jekyll's would)."""
    from postfeed.store.bucket import ObjectTooLargeError

    files: dict[str, str] = {}
    for path in paths:
        try:
            obj = bucket.read(path, limit=limit)
        except ObjectTooLargeError:
            continue
        if obj is not None and (text := _include_text(path, obj.body)) is not None:
            files[path] = text
    return files


def event_environment(
    files: Iterable[SiteFileState],
    site: Site,
    key: str,
    body: bytes,
    *,
    table: PostsTable,
    bucket: PostsBucket,
    limit: int,
) -> SiteFiles:
    """The environment of one upload on the event path: the site files in force (`get_site_files`), and the
    posts and files its Liquid names, looked up now."""
    includes, data = site_parts(files)
    text = text_of_upload(body)
    prefixes, keys, paths = wanted({key: text}, includes)
    posts = lookup_posts(prefixes, keys, table=table, bucket=bucket) if prefixes or keys else []
    beside = read_files(paths, bucket=bucket, limit=limit) if paths else {}
    return for_post(site_environment(site, includes, data, posts, beside), key, text)


# -- many posts at once (the bulk path, `postfeed build`) ------------------------------------------------

MAX_ROUNDS = 20  # a chain of posts each naming the next resolves one link per round


def other_post_of(post: Post) -> OtherPost:
    """A parsed post as `post_url`/`link` see it: what `other_post` reads back from its stored entry (which
    keeps no excerpt)."""
    return replace(OtherPost.of(post), excerpt="")


def resolve_named_posts(
    files: Sequence[tuple[str, bytes]],
    results: Sequence[Result],
    env: SiteFiles,
    *,
    reread: Callable[[str, bytes, SiteFiles], Result],
    code_of: Callable[[Result], str | None],
    post_of: Callable[[Result], Post | None],
) -> list[Result]:
    """Read again, with the posts these results published, those rejected because a post they name by
    `post_url`/`link` was missing, until none resolves further: the state the event path reaches when each
    named post arrives and re-renders the posts waiting for it."""
    results = list(results)
    for _ in range(MAX_ROUNDS):
        pending = [index for index, result in enumerate(results) if code_of(result) in MISSING_TARGET]
        if not pending:
            break
        pool = {post.path: post for post in env.other_posts}
        for result in results:
            if (post := post_of(result)) is not None:
                pool[post.path] = other_post_of(post)
        richer = replace(env, other_posts=tuple(sorted(pool.values(), key=lambda post: post.path)))
        progress = False
        for index in pending:
            key, body = files[index]
            results[index] = reread(key, body, richer)
            progress |= code_of(results[index]) not in MISSING_TARGET
        if not progress:
            break
    return results


def bulk_environment(
    files: Iterable[SiteFileState],
    site: Site,
    uploads: Sequence[tuple[str, bytes]],
    *,
    table: PostsTable,
    bucket: PostsBucket,
    limit: int,
) -> SiteFiles:
    """The environment of many uploads (the bulk path): the site files in force, and the posts and files
    their Liquid names as the table and bucket hold them now (`for_post` narrows it to each post's)."""
    includes, data = site_parts(files)
    texts = {key: text for key, body in uploads if "{%" in (text := text_of_upload(body))}
    prefixes, keys, paths = wanted(texts, includes)
    posts = lookup_posts(prefixes, keys, table=table, bucket=bucket) if prefixes or keys else []
    found = read_files(paths, bucket=bucket, limit=limit) if paths else {}
    return site_environment(site, includes, data, posts, found)
