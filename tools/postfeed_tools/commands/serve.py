"""`postfeed serve [--port N] [--s3-port M] [--posts DIR] [--state DIR] [--fresh]`: the local stack kept up.
Upload posts to the printed S3 endpoint with any S3 client; their feeds appear within seconds on the feeds
HTTP server. Its state (posts bucket, table, feeds bucket) lives in `--state` and survives a restart.

Ctrl-C (or SIGTERM): uploads are refused (503) at once, the backlog is delivered (up to `--drain` seconds; a
second Ctrl-C stops at once), then it exits. What was acknowledged is on disk either way.

Only light stdlib modules at import time; moto, boto3 and the pipeline are imported in run().
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

DEFAULT_STATE = ".postfeed/serve"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=int, default=4000, metavar="N", help="feeds HTTP server port on 127.0.0.1 (default 4000; 0: any)"
    )
    parser.add_argument(
        "--s3-port",
        type=int,
        metavar="N",
        help="local AWS endpoint (moto: S3, SQS, DynamoDB) port on 127.0.0.1 (default: --port + 1; 0: any)",
    )
    parser.add_argument("--posts", metavar="DIR", help="preload a site (or a folder of posts) before serving")
    parser.add_argument("--config", metavar="FILE", help="with --posts: the site's _config.yml")
    parser.add_argument("--log", metavar="FILE", help="append the functions' JSON logs and EMF metrics to FILE")
    parser.add_argument("--poll", type=float, default=0.5, metavar="SECONDS", help="delivery interval (default 0.5)")
    parser.add_argument("--quiet", action="store_true", help="no line per HTTP request")
    parser.add_argument(
        "--state",
        default=DEFAULT_STATE,
        metavar="DIR",
        help=f"where the posts bucket, the table and the feeds are kept across restarts (default {DEFAULT_STATE})",
    )
    parser.add_argument("--fresh", action="store_true", help="empty the state folder first: start with nothing")
    parser.add_argument(
        "--drain",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="on stop, how long to deliver the backlog before exiting anyway (default 60; it is kept either way)",
    )


def run(args: argparse.Namespace) -> int:
    from postfeed_tools.local.errors import RunError
    from postfeed_tools.local.service import LocalService
    from postfeed_tools.local.sitefiles import collect_site

    console = sys.stdout  # saved: while serving, sys.stdout carries the functions' output to --log
    stopping = threading.Event()
    cut_short = threading.Event()  # a second Ctrl-C: stop draining

    def request_stop(signum: int, frame: Any) -> None:
        if stopping.is_set():
            cut_short.set()
        stopping.set()

    service = LocalService(
        port=args.port,
        s3_port=args.s3_port,
        console=console,
        log=Path(args.log) if args.log else None,
        poll_seconds=args.poll,
        access_log=not args.quiet,
        state=Path(args.state),
        fresh=args.fresh,
    )
    drained = True
    try:
        site = collect_site(Path(args.posts), Path(args.config) if args.config else None) if args.posts else None
        # Our own SIGINT handler too: a shell starts background jobs with SIGINT ignored, and Python then
        # never raises KeyboardInterrupt; with it, Ctrl-C (or kill -INT) stops cleanly either way.
        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            service.start(site)
            console.write(service.instructions() + "\n")
            console.flush()
            while not stopping.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            console.write(
                "postfeed serve: stopping: uploads refused (503), delivering the backlog (Ctrl-C again: stop now)\n"
            )
            console.flush()
            drained = service.stop(drain=args.drain, cancel=cut_short)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    except RunError as exc:
        print(f"postfeed serve: {exc}", file=sys.stderr)
        return 2
    if service.gate.refused:
        console.write(f"postfeed serve: {service.gate.refused} uploads refused with 503 (retry them once it is up)\n")
    if not drained:
        console.write(f"postfeed serve: backlog not delivered; it is kept in {args.state} for the next start\n")
    console.write("postfeed serve: stopped\n")
    console.flush()
    return 0
