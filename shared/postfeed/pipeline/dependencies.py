"""Dependencies are events too: what each post's render read, and which posts a change re-renders.

A post's item records what its last render read (`reads`: include names, top-level `site.data` names,
`post_url` names, `link` targets; `jekyll.liquid` reports them), and the table holds one small item per
(dependency, post) (`DEP#<dependency>` / `<key>`, `store.table`). Why membership items rather than a sparse
GSI (as the `authors` index is): a GSI key holds one value per item, and a post reads any number of includes
and data files; a Query of `DEP#include:figure.html` lists exactly the posts to re-render, with no Scan and no
index to project. The items are written with the post (before its transaction; the ones no longer read
removed after it).

What a change re-renders:

* `_includes/<name>` changed (new bytes, removed, or first upload): the posts that read `include:<name>`
  (`pipeline.sitefiles`: work items on the ingest queue, as an authors change's), and their feeds follow on
  the stream. A missing include is recorded as read, so a post rejected for it is re-read when it arrives.
* `_data/<name>...` changed: the posts that read `data:<top-level name>` (`site.data.team` for
  `_data/team.yml` and `_data/team/*.yml`).
* a post published at `key`: the posts rejected because `{% post_url %}` or `{% link %}` named it while it was
  missing (`post:<name>`, `link:<key>`) are read again in the same invocation (`ingest.release_waiting`).
* a file beside posts that `{% include_relative %}` read (`file:<path>`, e.g. `_posts/snippet.txt`, itself
  read as a post and skipped): when it changes or goes, the posts that read it (`ingest.rerender_readers`).
* `_config.yml`: a full rebuild, as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from postfeed.models import RenderReads

MAX_NAME_BYTES = 512  # a dependency names a partition key (at most 2048 bytes): longer names are hashed
KINDS = (("includes", "include"), ("files", "file"), ("data", "data"), ("post_urls", "post"), ("links", "link"))


def dependency(kind: str, name: str) -> str:
    """`include:figure.html`, `data:team`, `post:2020-01-02-x`, `link:_posts/2020-01-02-x.md`."""
    if kind in ("post", "link"):
        name = name.strip().removeprefix("/")
    value = f"{kind}:{name}"
    if len(value.encode()) > MAX_NAME_BYTES:
        return f"{kind}#sha256:{hashlib.sha256(name.encode()).hexdigest()}"
    return value


def reads_attribute(reads: RenderReads) -> dict[str, list[str]]:
    """What a post item keeps of its render's reads (empty when it read nothing the pipeline follows)."""
    kept = {field: sorted(set(getattr(reads, field))) for field, _ in KINDS}
    return {field: names for field, names in kept.items() if names}


def dependencies(reads: Mapping[str, Any] | None) -> set[str]:
    """The dependencies of a post item's `reads`."""
    found: set[str] = set()
    for field, kind in KINDS:
        for name in (reads or {}).get(field, ()):
            found.add(dependency(kind, str(name)))
    return found


def waiting_on(key: str) -> list[str]:
    """The dependencies a post published at `key` satisfies (posts naming it by `post_url` or `link`)."""
    from postfeed.pipeline.renderenv import post_url_name

    name = post_url_name(key)
    return [dependency("link", key)] + ([dependency("post", name)] if name else [])


def data_dependency(data_name: str) -> str:
    return dependency("data", data_name.split(".", 1)[0])
