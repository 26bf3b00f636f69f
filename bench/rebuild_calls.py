"""What a deployed full rebuild costs, phase by phase: AWS calls by operation, per post (phase 1: the ingest
function's plan steps and batches) and per feed (phase 2: the feed function's render groups), the invocations,
and the rebuild ledger's items (postfeed.pipeline.fanout).

Run: .venv/bin/python bench/rebuild_calls.py SITE_DIR [--out report.json]
     (a site: `examples/scale/generate.py 1000 /tmp/site1k --long-tail` writes one)

The site is loaded first (config, then every post through the bulk path), on in-process moto with the
template's stack; then a new `_config.yml` (another title) is uploaded and the rebuild is driven to its end
through the real handlers: the ingest queue and the stream until both are idle (phase 1), then the render queue
(phase 2). Only the handlers' calls count (the event glue's own receives and deletes do not).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "shared"))  # run as a plain script, without installing the package

from moto import mock_aws  # noqa: E402

from postfeed.store.table import from_attributes  # noqa: E402
from postfeed_tools.local.calls import CallCounter  # noqa: E402
from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT, LocalPipeline  # noqa: E402
from postfeed_tools.local.sitefiles import collect_site  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--out", type=Path, help="write the report here too (the functions' metrics share stdout)")
    args = parser.parse_args()
    os.environ.update({**LOCAL_AWS_ENVIRONMENT, "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "ERROR"})
    logging.disable(logging.WARNING)
    site = collect_site(args.site)
    config = site.config.read_bytes() if site.config is not None else b""
    posts = [(key, file.read_bytes()) for key, file in site.posts]
    rebuilt = re.sub(rb"^title:.*$", b"title: rebuilt", config, flags=re.MULTILINE) or b"title: rebuilt\n"
    with mock_aws():
        pipeline = LocalPipeline.create(feed_base_url="https://feeds.example.com")
        pipeline.upload("_config.yml", config)
        pipeline.settle()
        pipeline.bulk_load(posts)
        glue = pipeline.glue
        counter = CallCounter().install()
        before = (glue.delivery.sqs_invocations, glue.delivery.stream_invocations)
        began = time.perf_counter()
        pipeline.upload("_config.yml", rebuilt)
        while True:  # phase 1: the config, the plan steps and the batches, and their (deferred) stream records
            moved = 0
            while glue.pump_queue():
                moved += 1
            moved += glue.pump_stream()
            if not moved:
                break
        phase1_seconds = time.perf_counter() - began
        phase1 = counter.reset()
        ingest_invocations = glue.delivery.sqs_invocations - before[0]
        stream_invocations = glue.delivery.stream_invocations - before[1]
        began = time.perf_counter()
        while glue.pump_render_queue():  # phase 2: the render groups
            pass
        phase2_seconds = time.perf_counter() - began
        phase2 = counter.reset()
        table = [
            from_attributes(raw)
            for page in pipeline.table.client.get_paginator("scan").paginate(TableName=pipeline.table.name)
            for raw in page["Items"]
        ]
        ledger = [item for item in table if item["pk"].startswith("REBUILD#")]
        posts_bytes = [_size(item) for item in table if item["sk"] == "POST"]
        members = [_size(item) for item in table if item["pk"].startswith("FEED#") and not item["sk"].startswith("~")]
        kinds = Counter(item["sk"].split("#", 1)[0] for item in ledger)
        sizes: Counter[str] = Counter()
        for item in ledger:
            sizes[item["sk"].split("#", 1)[0]] += _size(item)
    feeds = kinds["F"]
    report = {
        "posts": len(posts),
        "feeds_rendered": feeds,
        "phase1": {
            "seconds": round(phase1_seconds, 1),
            "ingest_invocations": ingest_invocations,
            "stream_invocations": stream_invocations,
            "calls": sum(phase1.values()),
            "calls_per_post": round(sum(phase1.values()) / len(posts), 2),
            "by_operation": dict(phase1.most_common()),
        },
        "phase2": {
            "seconds": round(phase2_seconds, 1),
            "render_invocations": glue.delivery.render_invocations,
            "calls": sum(phase2.values()),
            "calls_per_feed": round(sum(phase2.values()) / max(1, feeds), 2),
            "by_operation": dict(phase2.most_common()),
        },
        "ledger_items": dict(kinds),
        "ledger_bytes": dict(sizes),
        "post_item_bytes_mean": round(sum(posts_bytes) / max(1, len(posts_bytes))),
        "memberships": len(members),
        "membership_bytes_mean": round(sum(members) / max(1, len(members))),
    }
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


def _size(item: dict[str, object]) -> int:
    """About an item's size as DynamoDB bills it (names and values; JSON is close enough for an estimate)."""
    return len(json.dumps(item, default=str, ensure_ascii=False).encode())


if __name__ == "__main__":
    main()
