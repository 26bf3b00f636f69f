"""What a post's Liquid may read from the site besides the post, and how its tags name a post there.

The caller supplies a `RenderEnvironment` (includes by name, files beside the post, `_data/`, the raw
`_config.yml`, the other posts): pure, no I/O. `SiteFiles` is one held in memory. `post_url_matches` and
`link_matches` are Jekyll's rules for which post a `post_url` or `link` names: the render follows them, and the
pipeline uses them to find the posts a change of another post affects.

No python-liquid here: the pipeline and `jekyll.posts` import this module for every post.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from posixpath import dirname, normpath
from typing import Protocol

from postfeed.models import Post

__all__ = (
    "NO_SITE_FILES",
    "OtherPost",
    "RenderEnvironment",
    "SiteFiles",
    "include_relative_path",
    "is_post_name",
    "link_matches",
    "post_url_matches",
)


@dataclass(frozen=True, slots=True)
class OtherPost:
    """A post of the site as `site.posts`, `post_url` and `link` see it."""

    path: str  # site-relative, e.g. "_posts/2020-01-01-x.md"
    url: str  # site-relative permalink
    date: datetime
    title: str = ""
    slug: str = ""
    id: str = ""
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    collection: str = "posts"
    excerpt: str = ""  # rendered excerpt HTML
    data: Mapping[str, object] = field(default_factory=dict)  # front matter

    @classmethod
    def of(cls, post: Post) -> OtherPost:
        """A parsed post as the other posts' Liquid sees it."""
        return cls(
            path=post.path,
            url=post.url,
            date=post.date,
            title=post.title,
            slug=post.slug,
            id=post.id,
            categories=post.categories,
            tags=post.tags,
            collection=post.collection,
            excerpt=post.excerpt_html,
        )


class RenderEnvironment(Protocol):
    """What a render may read from the site besides the post: supplied by the caller, read on demand.

    `complete` says whether the includes and posts are the whole site's: then a missing one fails the post as
    it fails Jekyll's build; when not (the default environment knows nothing of the site), a missing one
    renders empty, with a warning."""

    @property
    def complete(self) -> bool: ...

    def config(self) -> Mapping[str, object]:
        """The site's `_config.yml` as read (every key, `site.*` in Liquid)."""
        ...

    def include(self, name: str) -> str | None:
        """The text of `_includes/<name>`, or None when there is no such file."""
        ...

    def site_file(self, path: str) -> str | None:
        """The text of a file by its site-relative path (`include_relative`), or None."""
        ...

    def data(self) -> Mapping[str, object]:
        """`site.data`: each `_data/` file's value under its name (`team.a` nests as team -> a)."""
        ...

    def posts(self) -> Sequence[OtherPost]:
        """The site's posts (for `site.posts`, `post_url`, `link`), in any order."""
        ...


@dataclass(frozen=True)
class SiteFiles:
    """A RenderEnvironment held in memory: the default one (nothing but the config) and the one tests and local
    tools build from a site folder."""

    settings: Mapping[str, object] = field(default_factory=dict)
    includes: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    data_files: Mapping[str, object] = field(default_factory=dict)
    other_posts: Sequence[OtherPost] = ()
    complete: bool = True
    # Only posts are known (the pipeline holds no pages or static files): a `link` to a path that is not a
    # post (no `_posts/` in it) and is not found renders empty with a warning rather than failing the post.
    posts_only_links: bool = False

    def config(self) -> Mapping[str, object]:
        return self.settings

    def include(self, name: str) -> str | None:
        return self.includes.get(name)

    def site_file(self, path: str) -> str | None:
        return self.files.get(path)

    def data(self) -> Mapping[str, object]:
        return self.data_files

    def posts(self) -> Sequence[OtherPost]:
        return self.other_posts


NO_SITE_FILES = SiteFiles(complete=False)


# --- which post a tag names -------------------------------------------------------------------------

_POST_NAME = re.compile(r"^(.+/)*(\d+-\d+-\d+)-(.*)$", re.DOTALL)


def is_post_name(name: str) -> bool:
    """Does `{% post_url name %}` name a post at all (YYYY-MM-DD-title, in folders or not)?"""
    return _POST_NAME.match(name.strip().removeprefix("/")) is not None


def post_url_matches(name: str, path: str) -> bool:
    """Jekyll's PostComparer: does `{% post_url name %}` name the post at site-relative `path`?"""
    found = _POST_NAME.match(name.strip().removeprefix("/"))
    if found is None:
        return False
    folder, day, slug = found[1] or "", found[2], re.escape(found[3])
    pattern = rf"^_posts/{re.escape(folder)}{day}-{slug}\.[^.]+|^{re.escape(folder)}_posts/?{day}-{slug}\.[^.]+"
    return re.match(pattern, path) is not None


def include_relative_path(page_path: str, name: str) -> str | None:
    """The site-relative file `{% include_relative name %}` names from the page at `page_path` (None: outside
    the site, which Jekyll refuses)."""
    target = normpath(f"{dirname(page_path)}/{name}".lstrip("/"))
    return None if target.startswith("../") or target == ".." else target


def link_matches(target: str, path: str) -> bool:
    """Jekyll's Link tag: `{% link target %}` names the file at site-relative `path`."""
    return path in (target, "/" + target) or "/" + path == target
