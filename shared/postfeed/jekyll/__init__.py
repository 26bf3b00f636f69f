"""Reading Jekyll sites as GitHub Pages' Jekyll (3.10) does: pure, no I/O, no AWS.

The names below are loaded on first use (PEP 562): a handler that needs one helper of a submodule (the
store's `plain_text.html_to_text`) does not pay for the parser, Liquid and the config loader at cold start."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import load_site
    from .errors import ConfigError
    from .parallel import parse_many
    from .posts import is_post_path, parse_post
    from .render_environment import NO_SITE_FILES, OtherPost, RenderEnvironment, SiteFiles

_HOMES = {
    "load_site": ".config",
    "ConfigError": ".errors",
    "NO_SITE_FILES": ".render_environment",
    "OtherPost": ".render_environment",
    "RenderEnvironment": ".render_environment",
    "SiteFiles": ".render_environment",
    "parse_many": ".parallel",
    "is_post_path": ".posts",
    "parse_post": ".posts",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


__all__ = (
    "NO_SITE_FILES",
    "ConfigError",
    "OtherPost",
    "RenderEnvironment",
    "SiteFiles",
    "is_post_path",
    "load_site",
    "parse_many",
    "parse_post",
)
