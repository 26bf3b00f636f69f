"""`postfeed import SITE_DIR --bucket NAME [--endpoint-url URL] [--prefix _posts/] [--workers N]`: upload an
existing Jekyll site's `_config.yml` (first) and `_posts/` to a posts bucket; resumable.

Only light stdlib modules at import time; boto3 is imported in run().
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("site", metavar="SITE_DIR", help="the Jekyll site folder (holding _config.yml and _posts/)")
    parser.add_argument("--bucket", required=True, help="the posts bucket (the stack's PostsBucketName output)")
    parser.add_argument("--endpoint-url", metavar="URL", help="S3 endpoint, e.g. the one `postfeed serve` prints")
    parser.add_argument("--region", help="AWS region (default: from your AWS configuration)")
    parser.add_argument("--prefix", default="_posts/", help="key prefix of the posts (PostsPrefix; default _posts/)")
    parser.add_argument("--workers", type=int, default=8, metavar="N", help="concurrent uploads (default 8)")
    parser.add_argument(
        "--table",
        metavar="NAME",
        help="the PostsTable (PostsTableName output): wait until it holds the uploaded _config.yml before the posts",
    )
    parser.add_argument(
        "--config-wait",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="without --table: how long to wait after uploading _config.yml (default 15)",
    )
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar")


def run(args: argparse.Namespace) -> int:
    import time

    import boto3
    from botocore.config import Config

    from postfeed_tools.local.errors import RunError
    from postfeed_tools.local.importer import format_import_summary, import_site, table_config_waiter
    from postfeed_tools.local.sitefiles import CONFIG_NAME

    config = Config(max_pool_connections=max(10, args.workers + 2), retries={"mode": "standard", "max_attempts": 6})
    session = boto3.session.Session(region_name=args.region)
    s3 = session.client("s3", endpoint_url=args.endpoint_url, config=config)
    site = Path(args.site)

    def wait_for_config() -> None:
        if args.table:
            dynamodb = session.client("dynamodb", endpoint_url=args.endpoint_url, config=config)
            table_config_waiter(dynamodb, args.table, (site / CONFIG_NAME).read_bytes())()
        else:
            time.sleep(max(0.0, args.config_wait))

    def note(text: str) -> None:
        print(f"postfeed import: {text}", file=sys.stderr)

    try:
        result = import_site(
            s3,
            args.bucket,
            site,
            prefix=args.prefix,
            workers=args.workers,
            wait_for_config=wait_for_config,
            progress=args.progress,
            on_note=note,
        )
    except RunError as exc:
        print(f"postfeed import: {exc}", file=sys.stderr)
        return 2
    for line in format_import_summary(result, bucket=args.bucket, site_dir=site):
        print(line)
    return 0 if result.ok else 1
