"""Reading Jekyll sites as GitHub Pages' Jekyll (3.10) does: pure, no I/O, no AWS."""

from __future__ import annotations

from .config import load_site
from .errors import ConfigError
from .liquid import NO_SITE_FILES, OtherPost, RenderEnvironment, SiteFiles
from .parallel import parse_many
from .posts import is_post_path, parse_post

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
