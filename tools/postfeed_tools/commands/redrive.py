"""`postfeed redrive (--stack NAME | --dlq-url URL) [--queue-url URL] [--endpoint-url URL] [--dry-run] [--max N]`:
move the ingest dead-letter queue's messages back to the ingest queue, once the cause of their failure is
fixed; prints how many moved and the S3 keys their events name.

Only light stdlib modules at import time; boto3 is imported in run().
"""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", metavar="NAME", help="the deployed stack (its IngestDeadLetterQueueUrl output)")
    where.add_argument("--dlq-url", metavar="URL", help="the dead-letter queue to empty")
    parser.add_argument(
        "--queue-url",
        metavar="URL",
        help="where the messages go (default: the queue whose redrive policy targets the dead-letter queue)",
    )
    parser.add_argument("--endpoint-url", metavar="URL", help="AWS endpoint, e.g. the one `postfeed serve` prints")
    parser.add_argument("--region", metavar="REGION", help="AWS region (default: the environment's)")
    parser.add_argument("--dry-run", action="store_true", help="list what would move, move nothing")
    parser.add_argument("--max", type=int, metavar="N", help="move at most N messages")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")


def run(args: argparse.Namespace) -> int:
    import boto3

    from postfeed_tools.deployed.redrive import RedriveError, dlq_url_of_stack, redrive, source_queue_of

    if args.max is not None and args.max < 1:
        print("postfeed redrive: --max must be at least 1", file=sys.stderr)
        return 2
    session = boto3.session.Session(region_name=args.region)
    sqs = session.client("sqs", endpoint_url=args.endpoint_url)
    try:
        dlq_url = args.dlq_url or dlq_url_of_stack(
            session.client("cloudformation", endpoint_url=args.endpoint_url), args.stack
        )
        queue_url = args.queue_url or source_queue_of(sqs, dlq_url)
        result = redrive(sqs, dlq_url=dlq_url, queue_url=queue_url, max_messages=args.max, dry_run=args.dry_run)
    except RedriveError as exc:
        print(f"postfeed redrive: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return 0
    verb = "would move" if result.dry_run else "moved"
    print(f"postfeed redrive: {verb} {result.moved} message(s) from {result.dlq_url} to {result.queue_url}")
    for key in result.keys:
        print(f"  {key}")
    if result.not_events:
        print(f"  {result.not_events} message(s) not S3 events (moved as they are; they will fail again)")
    if result.delete_failures:
        print(f"  {result.delete_failures} message(s) sent but not deleted from the DLQ: they will be processed twice")
    return 0
