"""`postfeed build --posts DIR --out DIR`: a site's feeds straight from its folder, no AWS (for sites that
publish from CI): the files `postfeed run --out` writes, byte for byte, with report.json.

Only light stdlib modules at import time; the parser and the renderers are imported in run().
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from postfeed_tools.commands.run import add_site_arguments

    add_site_arguments(parser)
    parser.add_argument("--out", required=True, metavar="DIR", help="where the feeds and report.json go")
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes parsing posts and rendering feeds (default: every available core)",
    )


def run(args: argparse.Namespace) -> int:
    from postfeed_tools.local.build import build_site, format_build_summary
    from postfeed_tools.local.errors import RunError
    from postfeed_tools.local.sitefiles import collect_site, config_url

    if args.workers is not None and args.workers < 1:
        print("postfeed build: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        site = collect_site(Path(args.posts), Path(args.config) if args.config else None)
        config = site.config.read_bytes() if site.config else None
        base_url = args.feed_base_url if args.feed_base_url is not None else config_url(config)
        result = build_site(site, Path(args.out), feed_base_url=base_url, workers=args.workers)
    except RunError as exc:
        print(f"postfeed build: {exc}", file=sys.stderr)
        return 2
    print(format_build_summary(result, source=args.posts))
    return 1 if result.pipeline_failed else 0
