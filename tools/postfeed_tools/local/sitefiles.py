"""The site files besides `_config.yml` and `_posts/` that `postfeed run`, `serve --posts` and `import`
upload: what the pipeline reads (`_data/` and `_includes/` files, the site's `feed.xslt.xml`, `_drafts/`, the
folders of the collections `_config.yml` declares), found in a Jekyll site folder, and how each fared, read
back from the table for `report.json`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from postfeed_tools.local.pipeline import LocalPipeline

DATA_DIR = "_data"
INCLUDES_DIR = "_includes"
DRAFTS_DIR = "_drafts"
STYLESHEET_NAME = "feed.xslt.xml"


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


def site_file_report(pipeline: LocalPipeline, keys: list[str]) -> list[dict[str, Any]]:
    """How each uploaded site file fared: `stored` (in force), or `error` with its code, message and line
    (`kept_previous` when an earlier good version stays in force), read back from the table."""
    from postfeed.jekyll.sitefiles import include_name
    from postfeed.pipeline.sitefiles import data_sk, include_sk
    from postfeed.store.table import STYLESHEET_SK

    report = []
    for key in keys:
        sk = include_sk(key) if include_name(key) is not None else data_sk(key)
        item = pipeline.table.get_site_item(STYLESHEET_SK if key == STYLESHEET_NAME else sk)
        entry: dict[str, Any] = {"key": key}
        if item is None:
            entry |= {"status": "error", "code": "not_processed", "message": f"{key}: no state in the table"}
        elif item.get("rejected") == "1":
            error = item.get("error") or {}
            entry |= {"status": "error", "code": error.get("code"), "message": error.get("message")}
            entry |= {"line": error.get("line")}
            if item.get("state") == "stored":
                entry["kept_previous"] = True
        else:
            entry["status"] = str(item.get("state"))
        report.append(entry)
    return report
