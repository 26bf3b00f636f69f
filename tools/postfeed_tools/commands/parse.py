"""`postfeed parse FILE... [--config _config.yml] [--json]`: what Jekyll would publish for each file.

Only light stdlib modules at import time; the parser is imported in run().
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="post files (under a _posts/ folder)")
    parser.add_argument("--config", metavar="_config.yml", help="site config (default: _config.yml in the site root)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file (JSON lines)")


def site_root(file: Path) -> Path | None:
    """The folder holding the nearest enclosing `_posts` folder (the site root), if any."""
    for parent in file.resolve().parents:
        if parent.name == "_posts":
            return parent.parent
    return None


def run(args: argparse.Namespace) -> int:
    from postfeed.jekyll import ConfigError, load_site, parse_post
    from postfeed.models import Post, Rejected

    sites: dict[Path | None, Any] = {}

    def site_for(root: Path | None) -> Any:
        if root not in sites:
            config = Path(args.config) if args.config else (root / "_config.yml" if root else None)
            data = config.read_bytes() if config and (args.config or config.is_file()) else None
            sites[root] = load_site(data)
        return sites[root]

    for name in args.files:
        file = Path(name)
        root = site_root(file)
        path = file.resolve().relative_to(root).as_posix() if root else file.as_posix()
        try:
            site = site_for(root)
            body = file.read_bytes()
        except ConfigError as exc:
            print(f"postfeed parse: config error ({exc.code}): {exc.message}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"postfeed parse: {exc}", file=sys.stderr)
            return 2
        result = parse_post(path, body, site)
        record: dict[str, Any] = {"path": path, "status": str(result.status)}
        if isinstance(result, Post):
            record |= {
                "title": result.title,
                "date": result.date.isoformat(),
                "url": result.url,
                "absolute_url": result.absolute_url,
                "id": result.id,
                "slug": result.slug,
                "categories": list(result.categories),
                "tags": list(result.tags),
                "excerpt_text": result.excerpt_text,
                "warnings": list(result.warnings),
            }
        elif isinstance(result, Rejected):
            record |= {"code": result.code, "message": result.message, "line": result.line, "warnings": []}
        else:
            record |= {"reason": result.reason, "detail": result.detail, "warnings": []}
        print(json.dumps(record, ensure_ascii=False) if args.json else _summary(record))
    return 0


def _summary(record: dict[str, Any]) -> str:
    status, path = record["status"], record["path"]
    if status == "published":
        line = f"published {path}: {record['date']} {record['url']} {record['title']!r}"
        return line + "".join(f"\n  warning: {w}" for w in record["warnings"])
    if status == "skipped":
        return f"skipped   {path}: {record['reason']}: {record['detail']}"
    return f"error     {path}: {record['code']}: {record['message']}"
