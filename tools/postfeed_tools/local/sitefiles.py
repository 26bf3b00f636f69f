"""A site's files to upload, found in a Jekyll site folder (or a bare folder of posts) for `postfeed run`,
`build` and `serve --posts`: `_config.yml`, every post (under any `_posts/` folder), and what else the pipeline
reads (`_data/` and `_includes/` files, the site's `feed.xslt.xml`, `_drafts/`, the folders of the collections
`_config.yml` declares), each by its bucket key; and the public base URL `_config.yml` implies."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from postfeed_tools.local.errors import RunError

POSTS_DIR = "_posts"
CONFIG_NAME = "_config.yml"
DATA_DIR = "_data"
INCLUDES_DIR = "_includes"
DRAFTS_DIR = "_drafts"
STYLESHEET_NAME = "feed.xslt.xml"
# Folders Jekyll never reads posts from (besides names starting with "."), see its default `exclude`.
EXCLUDED_DIRS = frozenset({"_site", "node_modules", "vendor", ".jekyll-cache", ".sass-cache"})


@dataclass(frozen=True, slots=True)
class SiteFiles:
    """The files of a site to upload: `_config.yml` (if any), the other site files feeds depend on, and every
    post (with the drafts and the documents of the collections the config declares), by bucket key."""

    root: Path
    config: Path | None
    posts: tuple[tuple[str, Path], ...]  # (key, file), sorted by key
    site_files: tuple[tuple[str, Path], ...] = ()  # `_data/` files and `feed.xslt.xml`, sorted by key

    @property
    def keys(self) -> list[str]:
        return [key for key, _ in self.posts]


def collect_site(directory: Path, config: Path | None = None) -> SiteFiles:
    """The posts of a Jekyll site folder (every file under any `_posts/` folder, keyed by its path from
    the site root, e.g. `_posts/x.md`, `news/_posts/y.md`), or of a bare folder of posts (uploaded under
    `_posts/`). `_config.yml` is `config`, else the site root's, else none."""
    if not directory.is_dir():
        raise RunError(f"{directory}: not a folder")
    files = sorted(_walk(directory))
    in_posts = [f for f in files if POSTS_DIR in f.relative_to(directory).parts[:-1]]
    if in_posts:  # a site: keys relative to its root
        root = directory
        posts = [(f.relative_to(root).as_posix(), f) for f in in_posts]
    else:  # a bare folder of posts (or the _posts folder itself)
        root = directory.parent if directory.resolve().name == POSTS_DIR else directory
        posts = [
            (f"{POSTS_DIR}/{f.relative_to(directory).as_posix()}", f)
            for f in files
            if f.name != CONFIG_NAME or f.parent != directory
        ]
    if config is None and (root / CONFIG_NAME).is_file():
        config = root / CONFIG_NAME
    if config is not None and not config.is_file():
        raise RunError(f"{config}: no such file")
    extra = ExtraFiles()
    if in_posts or root != directory:  # a site, not a bare folder of posts
        extra = collect_extra_files(root, config.read_bytes() if config else None)
    posts = sorted(dict([*posts, *extra.documents]).items())
    return SiteFiles(root=root, config=config, posts=tuple(posts), site_files=extra.settings)


def _walk(directory: Path) -> Iterator[Path]:
    for parent, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in EXCLUDED_DIRS)
        for name in names:
            path = Path(parent) / name
            if path.is_file():
                yield path


def config_url(config: bytes | None) -> str:
    """`url` + `baseurl` of a `_config.yml` (the default public base of local feeds), or ""."""
    import yaml

    try:
        data = yaml.safe_load(config) if config else None
    except yaml.YAMLError:
        return ""
    if not isinstance(data, dict):
        return ""
    url, baseurl = str(data.get("url") or ""), str(data.get("baseurl") or "")
    return (url.rstrip("/") + "/" + baseurl.strip("/")).rstrip("/") if url else ""


@dataclass(frozen=True, slots=True)
class ExtraFiles:
    """A site's files besides `_config.yml` and `_posts/`, by bucket key, sorted."""

    settings: tuple[tuple[str, Path], ...] = ()  # `_data/`, `_includes/` files and `feed.xslt.xml`: before the posts
    documents: tuple[tuple[str, Path], ...] = ()  # drafts and collection documents: read as posts are


def collect_extra_files(root: Path, config: bytes | None) -> ExtraFiles:
    """The data files (the extensions Jekyll reads), the includes, `feed.xslt.xml`, every file under `_drafts/`,
    and every file under the `_<name>/` folder of each collection the config declares (none when it cannot be
    read)."""
    from postfeed.jekyll.sitefiles import data_name, include_name

    settings = [(key, path) for key, path in _files(root, DATA_DIR) if data_name(key) is not None]
    settings += [(key, path) for key, path in _files(root, INCLUDES_DIR) if include_name(key) is not None]
    if (root / STYLESHEET_NAME).is_file():
        settings.append((STYLESHEET_NAME, root / STYLESHEET_NAME))
    documents = list(_files(root, DRAFTS_DIR))
    for name in sorted(declared_collections(config)):
        documents += _files(root, f"_{name}")
    return ExtraFiles(settings=tuple(sorted(settings)), documents=tuple(sorted(dict(documents).items())))


def declared_collections(config: bytes | None) -> list[str]:
    """The collections besides posts that `_config.yml` declares ([] when it cannot be read)."""
    from postfeed.jekyll import ConfigError, load_site

    try:
        site = load_site(config)
    except ConfigError:
        return []
    return [name for name in site.collections if name and "/" not in name and name not in (".", "..")]


def _files(root: Path, folder: str) -> Iterator[tuple[str, Path]]:
    """(key, file) of every file under `root/folder`, dot files and folders left out, as Jekyll does."""
    base = root / folder
    if not base.is_dir():
        return
    for parent, dirs, names in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(parent) / name
            if not name.startswith(".") and path.is_file():
                yield path.relative_to(root).as_posix(), path
