"""One Liquid render's state, and the reads of the site its tags and filters make through it.

`RenderState` holds the post's site and environment, what the render read (its `RenderReads`), warnings and
caches; the engine (`jekyll.liquid`) puts it in the render's globals and the tags (`jekyll.liquid_tags`) and
filters find it there (`render_state`). `include_text`, `relative_text`, `find_post_url` and `find_link` read the
environment as Jekyll's tags do and note each read, so that the pipeline can re-render the post when it changes.

python-liquid is imported only to raise a tag's error (`tag_error`), which happens inside a render.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from posixpath import dirname, normpath
from typing import TYPE_CHECKING, Any

from postfeed.models import RenderReads, Site

from . import errors
from .render_environment import (
    OtherPost,
    RenderEnvironment,
    include_relative_path,
    is_post_name,
    link_matches,
    post_url_matches,
)

if TYPE_CHECKING:
    from liquid.context import RenderContext
    from liquid.exceptions import LiquidError

__all__ = (
    "STATE_KEY",
    "RenderState",
    "find_link",
    "find_post_url",
    "include_text",
    "relative_text",
    "render_state",
    "tag_error",
)

STATE_KEY = "postfeed:state"  # a globals key no Liquid expression can name


@dataclass
class RenderState:
    """One render's site, environment, what it read, and its caches."""

    path: str
    site: Site
    env: RenderEnvironment
    now: datetime
    includes: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    data: set[str] = field(default_factory=set)
    config: set[str] = field(default_factory=set)
    post_urls: set[str] = field(default_factory=set)
    links: set[str] = field(default_factory=set)
    all_posts: bool = False
    warnings: dict[str, None] = field(default_factory=dict)
    templates: dict[str, Any] = field(default_factory=dict)
    iterations: int = 0
    _posts: list[OtherPost] | None = None

    def posts(self) -> list[OtherPost]:
        if self._posts is None:
            self._posts = list(self.env.posts())
        return self._posts

    def reads(self) -> RenderReads:
        return RenderReads(
            includes=tuple(sorted(self.includes)),
            files=tuple(sorted(self.files)),
            data=tuple(sorted(self.data)),
            config=tuple(sorted(self.config)),
            post_urls=tuple(sorted(self.post_urls)),
            links=tuple(sorted(self.links)),
            all_posts=self.all_posts,
        )


def render_state(context: RenderContext) -> RenderState:
    """The state of the render `context` belongs to."""
    state = context.globals[STATE_KEY]
    assert isinstance(state, RenderState)
    return state


def tag_error(code: str, message: str) -> LiquidError:
    """A Liquid error that fails the post with `code` (a `jekyll.errors` code) once the render reports it."""
    from liquid.exceptions import LiquidError

    error = LiquidError(message, token=None)
    error.postfeed_code = code  # type: ignore[attr-defined]
    return error


# --- post_url and link ----------------------------------------------------------------------------


def find_post_url(state: RenderState, name: str) -> str:
    state.post_urls.add(name.strip().removeprefix("/"))
    if not is_post_name(name):
        raise tag_error(
            errors.POST_URL_NOT_FOUND,
            f"could not parse the name of post {name!r} in tag 'post_url' (it needs YYYY-MM-DD-title)",
        )
    for post in state.posts():
        if post_url_matches(name, post.path):
            return post.url
    if not state.env.complete:
        state.warnings[f"{{% post_url {name} %}}"] = None
        return ""
    raise tag_error(errors.POST_URL_NOT_FOUND, f"could not find post {name!r} in tag 'post_url'")


def find_link(state: RenderState, target: str) -> str:
    state.links.add(target)
    for post in state.posts():
        if link_matches(target, post.path):
            return post.url
    unknowable = getattr(state.env, "posts_only_links", False) and "_posts/" not in target
    if not state.env.complete or unknowable:
        state.warnings[f"{{% link {target} %}}"] = None
        return ""
    raise tag_error(errors.LINK_NOT_FOUND, f"could not find document {target!r} in tag 'link'")


# --- includes ---------------------------------------------------------------------------------------


def include_text(state: RenderState, name: str) -> str | None:
    state.includes.add(name)
    return state.env.include(name)


def relative_text(state: RenderState, name: str, page_path: str) -> tuple[str, str | None]:
    """`include_relative name` from the page at `page_path`: the site-relative path and its text."""
    target = include_relative_path(page_path, name)
    if target is None:
        return normpath(f"{dirname(page_path)}/{name}".lstrip("/")), None
    state.files.add(target)
    return target, state.env.site_file(target)
