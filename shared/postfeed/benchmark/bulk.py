"""Bulk: `postfeed run` (a fresh process: embedded moto server, the whole pipeline) over a generated
finews-shaped site of `examples/scale/generate.py` (deterministic seed): wall time and feeds produced."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from postfeed.benchmark.harness import generate_site

POSTS = 16_000


def measure_bulk(posts: int = POSTS, *, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="postfeed-bench-bulk-") as folder:
        site, out = Path(folder) / "site", Path(folder) / "out"
        generate_site(posts, site)
        if log:
            log(f"bulk: postfeed run over a generated {posts:,}-post site (a separate process)")
        argv = [sys.executable, "-m", "postfeed.cli", "run", "--posts", str(site), "--out", str(out), "--no-progress"]
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"postfeed run failed ({done.returncode}):\n{done.stderr[-2000:]}")
        totals: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))["totals"]
    return {
        "posts": posts,
        "generator": "examples/scale/generate.py (seeded)",
        "wall_s": round(wall, 1),
        "posts_per_s": round(posts / wall, 1) if wall else 0.0,
        "published": totals.get("published"),
        "skipped": totals.get("skipped"),
        "errors": totals.get("error"),
        "feeds": totals.get("feeds"),
        "documents": totals.get("documents"),
        "ingest_invocations": totals.get("ingest_invocations"),
        "feed_invocations": totals.get("feed_invocations"),
        "run_seconds": {k: v for k, v in totals.items() if k.endswith("_seconds")},
    }
