"""Memory: peak RSS of each handler, invoked once in a fresh interpreter (as a Lambda execution
environment would be), on the heaviest work the corpus offers:

- ingest: the largest post of the corpus (by bytes), one SQS message;
- build_feeds: a full-content rebuild of a 50-entry feed: the 50 largest posts of that post's site,
  `PostsLimit` 50, all of their stream records in one batch (the site feed's first build).

The AWS side is an embedded moto server in this process; the handler's process holds only the handler,
boto3 and its libraries, so its peak RSS is the handler's own (moto's memory is not in it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from postfeed_tools.benchmark.harness import CORPUS, FEED_BASE_URL, REPO_ROOT, template_parameter

if TYPE_CHECKING:
    from postfeed_tools.local.pipeline import LocalPipeline

CHILD = Path(__file__).with_name("lambda_child.py")
FEED_ENTRIES = 50
LAMBDA_MB = 128


def corpus_posts() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*/_posts/**/*") if p.is_file())


def largest_post() -> Path:
    return max(corpus_posts(), key=lambda p: (p.stat().st_size, str(p)))


def site_root(post: Path) -> Path:
    return next(parent.parent for parent in post.parents if parent.name == "_posts")


def invoke_in_child(pipeline: LocalPipeline, function_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """Invoke one handler in a fresh interpreter with the function's environment; its RSS figures."""
    function = pipeline.stack.functions[function_id]
    environment = {**os.environ, **function.environment, **pipeline.glue.environment}
    environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = str(function.memory_mb)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(event, handle)
    try:
        argv = [sys.executable, "-I", str(CHILD), str(function.code_dir), str(REPO_ROOT / "shared"), handle.name]
        done = subprocess.run(argv, capture_output=True, text=True, env=environment, check=False)
    finally:
        os.unlink(handle.name)
    if done.returncode != 0:
        raise RuntimeError(f"{function_id} in a child process failed:\n{done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["memory_size_mb"] = function.memory_mb  # the template's MemorySize for this function
    return figures


def sqs_event(pipeline: LocalPipeline) -> dict[str, Any]:
    """The pending messages of the ingest queue, as the SQS event Lambda would deliver."""
    from postfeed_tools.local.glue import stamp_sequencers

    stack, sqs = pipeline.stack, pipeline.glue.sqs
    messages = sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
        "Messages", []
    )
    arn = sqs.get_queue_attributes(QueueUrl=stack.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    counter = iter(range(1, 1_000_000))
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": stamp_sequencers(m["Body"], counter),
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": stack.region,
            }
            for m in messages
        ]
    }


def stream_event(pipeline: LocalPipeline) -> dict[str, Any]:
    """Every new stream record that passes the feeds function's filter, as one stream event."""
    from postfeed_tools.local.glue import matches

    function = pipeline.stack.build_feeds
    records = pipeline.glue._new_stream_records()  # the glue's reader: Lambda's record shape
    patterns = function.source.filter_patterns
    return {"Records": [r for r in records if not patterns or any(matches(p, r) for p in patterns)]}


def measure_memory(entries: int = FEED_ENTRIES, *, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    from postfeed_tools.local.aws import create_pipeline, local_aws_server
    from postfeed_tools.local.function_output import function_output

    post = largest_post()
    root = site_root(post)
    config = (root / "_config.yml").read_bytes() if (root / "_config.yml").is_file() else None
    neighbours = sorted((p for p in root.glob("_posts/**/*") if p.is_file()), key=lambda p: -p.stat().st_size)
    feed_posts = neighbours[:entries]
    results: dict[str, Any] = {}
    with local_aws_server() as endpoint, function_output(None):
        pipeline = create_pipeline(
            endpoint_url=endpoint,
            feed_base_url=FEED_BASE_URL,
            log_level=template_parameter("LogLevel"),
            parameters={"PostsLimit": entries},
        )
        if config is not None:
            pipeline.upload("_config.yml", config)
            pipeline.settle()
        # ingest: the largest post, in its own invocation
        if log:
            log(f"memory: ingest of {post.relative_to(CORPUS)} ({post.stat().st_size:,} bytes) in a child process")
        pipeline.upload(f"_posts/{post.name}", post.read_bytes())
        ingest = invoke_in_child(pipeline, pipeline.stack.ingest.logical_id, sqs_event(pipeline))
        stream_event(pipeline)  # that post's own stream record: not part of the rebuild below
        ingest["post"] = str(post.relative_to(CORPUS))
        ingest["post_bytes"] = post.stat().st_size
        results["ingest_post"] = ingest
        # build_feeds: the site's 50 largest posts, ingested here, rebuilt there in one invocation
        if log:
            log(f"memory: full-content rebuild of a {entries}-entry feed in a child process")
        for path in feed_posts:  # the largest is there already: unchanged, no stream record
            pipeline.upload(f"_posts/{path.name}", path.read_bytes())
        while pipeline.glue.pump_queue():
            pass
        event = stream_event(pipeline)
        build = invoke_in_child(pipeline, pipeline.stack.build_feeds.logical_id, event)
        build["records"] = len(event["Records"])
        build["site_feed_entries"] = _entries(pipeline.feed("feed.json"))
        build["site_feed_bytes"] = {
            key: len(pipeline.feed(key) or b"") for key in ("feed.xml", "feed.rss", "feed.json")
        }
        results["build_feeds"] = build
    peak = max(r["peak_mb"] for r in results.values())
    return {
        "handlers": results,
        "max_peak_mb": peak,
        "lambda_mb": LAMBDA_MB,
        "headroom_mb_at_128": round(LAMBDA_MB - peak, 1),
    }


def _entries(body: bytes | None) -> int:
    if not body:
        return 0
    items: list[Any] = json.loads(body).get("items", [])
    return len(items)
