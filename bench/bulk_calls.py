"""What the bulk path costs for one site: seconds, AWS calls by operation, and both per post.

Run: .venv/bin/python bench/bulk_calls.py SITE_DIR [--events] [--workers N]
     (a site: `examples/scale/generate.py 2000 /tmp/site2k` writes one)

The site's `_config.yml` is uploaded and settled first (the event path, as `postfeed run` does); then every
post goes through `LocalPipeline.bulk_load` (or, with `--events`, one upload at a time, settling every 500),
on in-process moto. Only the posts' part is counted and timed.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "shared"))  # run as a plain script, without installing the package

from moto import mock_aws  # noqa: E402

from postfeed_tools.local.calls import CallCounter  # noqa: E402
from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT, LocalPipeline  # noqa: E402
from postfeed_tools.local.sitefiles import collect_site  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--events", action="store_true", help="one upload at a time instead of the bulk path")
    parser.add_argument("--workers", type=int, default=None, help="parsing processes (default: every core)")
    args = parser.parse_args()
    os.environ.update({**LOCAL_AWS_ENVIRONMENT, "POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "ERROR"})
    logging.disable(logging.WARNING)
    site = collect_site(args.site)
    posts = [(key, file.read_bytes()) for key, file in site.posts]
    with mock_aws():
        pipeline = LocalPipeline.create(feed_base_url="https://feeds.example.com")
        if site.config is not None:
            pipeline.upload("_config.yml", site.config.read_bytes())
        pipeline.settle()
        counter = CallCounter().install()
        began = time.perf_counter()
        if args.events:
            for start in range(0, len(posts), 500):
                for key, body in posts[start : start + 500]:
                    pipeline.upload(key, body)
                pipeline.settle()
        else:
            pipeline.bulk_load(posts, workers=args.workers)
        seconds = time.perf_counter() - began
        calls = counter.reset()
    total = sum(calls.values())
    path = "events" if args.events else "bulk"
    print(f"{path}: {len(posts)} posts in {seconds:.1f} s ({len(posts) / seconds:.0f} posts/s)")
    print(f"  AWS calls {total} ({total / len(posts):.2f} per post)")
    for name, count in calls.most_common():
        print(f"  {name:<32}{count:>8}")


if __name__ == "__main__":
    main()
