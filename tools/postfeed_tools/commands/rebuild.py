"""`postfeed rebuild (--stack NAME | --queue-url URL) [--endpoint-url URL] [--region REGION]`: start a full
rebuild, as a new `_config.yml` does: every post is re-read from S3 and re-ingested under the current site
settings, and every feed and archive page holding it is rendered again (postfeed.pipeline.reparse).

It only enqueues the first step on the ingest queue; the ingest function does the rest in bounded batches
(progress in its logs, "full rebuild <generation>: posts N-M re-ingested", and its Reparse* metrics).
Use it after a deployment that changes how feeds are rendered, or after changing template parameters.

Only light stdlib modules at import time; boto3 is imported in run().
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from postfeed_tools.errors import ToolsError

QUEUE_OUTPUT = "IngestQueueUrl"


class RebuildError(ToolsError, RuntimeError):
    """The ingest queue could not be found."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", metavar="NAME", help=f"the deployed stack (its {QUEUE_OUTPUT} output)")
    where.add_argument("--queue-url", metavar="URL", help="the ingest queue's URL")
    parser.add_argument("--endpoint-url", metavar="URL", help="AWS endpoint, e.g. the one `postfeed serve` prints")
    parser.add_argument("--region", metavar="REGION", help="AWS region (default: the environment's)")
    parser.add_argument("--reason", default="postfeed rebuild", help="a note carried into the logs")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")


def queue_url_of_stack(cloudformation: Any, stack: str) -> str:
    """The ingest queue's URL from the stack's outputs (`cloudformation`: a boto3 CloudFormation client)."""
    from postfeed_tools.deployed.outputs import StackOutputError, stack_output

    try:
        return stack_output(cloudformation, stack, QUEUE_OUTPUT, missing_hint="deployed before `postfeed rebuild`?")
    except StackOutputError as exc:
        raise RebuildError(str(exc)) from exc


def run(args: argparse.Namespace) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from postfeed.pipeline.fanout import start_rebuild
    from postfeed.store.work import WorkQueue

    session = boto3.session.Session(region_name=args.region)
    try:
        queue_url = args.queue_url or queue_url_of_stack(
            session.client("cloudformation", endpoint_url=args.endpoint_url), args.stack
        )
        sqs = session.client("sqs", endpoint_url=args.endpoint_url)
        generation = start_rebuild(WorkQueue(queue_url, sqs), reason=args.reason)
    except RebuildError as exc:
        print(f"postfeed rebuild: {exc}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as exc:
        print(f"postfeed rebuild: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"generation": generation, "queue_url": queue_url}))
        return 0
    print(f"postfeed rebuild: full rebuild {generation} started through {queue_url}")
    print("  the ingest function re-reads every post in batches; follow it in its logs ('full rebuild …')")
    return 0
