"""`postfeed run --posts DIR [--config FILE] [--out DIR]`: the whole pipeline locally, on an embedded moto
server; the feeds land in `--out` with `report.json` (every post's outcome, every feed document).

Only light stdlib modules at import time; moto, boto3 and the pipeline are imported in run().
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path


def add_site_arguments(parser: argparse.ArgumentParser) -> None:
    """The site and where its feeds will be served: `--posts`, `--config`, `--feed-base-url` (run and build)."""
    parser.add_argument(
        "--posts",
        required=True,
        metavar="DIR",
        help="a Jekyll site folder (posts under _posts/, e.g. news/_posts/) or a bare folder of posts",
    )
    parser.add_argument("--config", metavar="FILE", help="the site's _config.yml (default: DIR/_config.yml if any)")
    parser.add_argument(
        "--feed-base-url",
        metavar="URL",
        help="public base URL of the feeds (default: the site's url + baseurl from _config.yml)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_site_arguments(parser)
    parser.add_argument("--out", default="out", metavar="DIR", help="where the feeds and report.json go (default: out)")
    parser.add_argument(
        "--settle-every",
        type=int,
        default=500,
        metavar="N",
        help="deliver pending events after every N uploads (default: 500)",
    )
    parser.add_argument(
        "--workers", type=int, default=8, metavar="N", help="concurrent uploads with --events (default: 8)"
    )
    parser.add_argument(
        "--events",
        action="store_true",
        help="upload the posts one by one and let each upload's events drive the functions (the default is the "
        "bulk path: every post parsed on all cores, written in batches, each feed rendered once; same result)",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="the functions' log level (LogLevel; their JSON logs go to OUT/functions.log; default: WARNING)",
    )
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar")


def run(args: argparse.Namespace) -> int:
    from postfeed_tools.local.aws import create_pipeline, local_aws_in_process, local_aws_server
    from postfeed_tools.local.errors import RunError
    from postfeed_tools.local.runner import run_site
    from postfeed_tools.local.sitefiles import collect_site, config_url
    from postfeed_tools.local.summary import format_summary

    try:
        site = collect_site(Path(args.posts), Path(args.config) if args.config else None)
        config = site.config.read_bytes() if site.config else None
        base_url = args.feed_base_url if args.feed_base_url is not None else config_url(config)
        print(
            f"postfeed run: {len(site.posts)} posts"
            + (f" and {site.config}" if site.config else " (no _config.yml: template defaults)")
            + f" from {args.posts}",
            file=sys.stderr,
        )
        # The event path uploads from several threads over HTTP, as a user's client would; the bulk path
        # stores the posts in-process and needs no server.
        aws: contextlib.AbstractContextManager[str | None] = (
            local_aws_server() if args.events else local_aws_in_process()
        )
        with aws as endpoint:
            pipeline = create_pipeline(endpoint_url=endpoint, feed_base_url=base_url, log_level=args.log_level)
            result = run_site(
                pipeline,
                site,
                Path(args.out),
                settle_every=args.settle_every,
                workers=args.workers,
                progress=args.progress,
                bulk=not args.events,
            )
    except RunError as exc:
        print(f"postfeed run: {exc}", file=sys.stderr)
        return 2
    print(format_summary(result, source=args.posts))
    # Rejected posts are the user's to fix and still a successful run; events the functions failed on are not.
    return 1 if result.pipeline_failed else 0
