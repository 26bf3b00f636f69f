"""What `postfeed serve` tells the user on its console: what to paste to upload posts, then one short line per
post change and per feed rebuilt, from the functions' loggers."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import IO

FUNCTION_LOGGERS = ("postfeed-ingest", "postfeed-feeds", "postfeed_tools.local.glue")


class ConsoleLogHandler(logging.Handler):
    """One short line per post change and per feed rebuild, from the functions' Powertools loggers."""

    def __init__(self, console: IO[str], feed_url: Callable[[str], str]) -> None:
        super().__init__(level=logging.INFO)
        self.console = console
        self.feed_url = feed_url

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = record.getMessage()
            code, detail = getattr(record, "code", None), getattr(record, "detail", None)
            if code:
                line += f" ({code}: {detail})" if detail else f" ({code})"
            written = getattr(record, "written", None)
            if written:  # the shortest key is the feed's own Atom document, not one of its archive pages
                line += f" ({self.feed_url(min(written, key=len))}" + (" …)" if len(written) > 1 else ")")
            self.console.write(f"{time.strftime('%H:%M:%S')}  {line}\n")
            self.console.flush()
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def console_logging(console: IO[str], feed_url: Callable[[str], str]) -> Iterator[None]:
    handler = ConsoleLogHandler(console, feed_url)
    loggers = [logging.getLogger(name) for name in FUNCTION_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def instructions(
    *, endpoint: str, feeds_url: str, bucket: str, prefix: str, table: str, region: str, state: str = ""
) -> str:
    from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT

    env = LOCAL_AWS_ENVIRONMENT
    exports = " ".join(
        f"{name}={env[name]}"
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION")
    )
    return "\n".join(
        [
            "postfeed serve: the local stack is up (Ctrl-C stops it)",
            "",
            f"  feeds        {feeds_url}/   (index of every feed; feed links point here)",
            f"  endpoint     {endpoint}   (S3, SQS, DynamoDB on moto)",
            f"  posts        s3://{bucket}/{prefix}",
            f"  table        {table}",
            *([f"  state        {state}   (posts, table and feeds kept across restarts)"] if state else []),
            "",
            "Fake credentials for the local endpoint (set them in the shell you upload from):",
            f"  export {exports}",
            "",
            "Upload a post (AWS CLI):",
            f"  aws s3 cp FILE s3://{bucket}/{prefix}NAME --endpoint-url {endpoint}",
            "",
            "Upload a post (Python, boto3):",
            "  import boto3",
            f'  s3 = boto3.client("s3", endpoint_url="{endpoint}", region_name="{region}",',
            f'                    aws_access_key_id="{env["AWS_ACCESS_KEY_ID"]}", '
            f'aws_secret_access_key="{env["AWS_SECRET_ACCESS_KEY"]}")',
            f'  s3.upload_file("FILE", "{bucket}", "{prefix}NAME")',
            "",
            f"Site settings: upload _config.yml to s3://{bucket}/_config.yml the same way (before the posts).",
            f"Delete a post: aws s3 rm s3://{bucket}/{prefix}NAME --endpoint-url {endpoint}",
            "",
        ]
    )
