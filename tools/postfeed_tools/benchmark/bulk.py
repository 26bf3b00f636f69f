"""Bulk: `postfeed run` (a fresh process: in-process moto, the whole pipeline) and `postfeed build` (no AWS) over
one generated finews-shaped site of `examples/scale/generate.py` (deterministic seed): wall time, posts per
second, peak memory and the feeds each produced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from postfeed_tools.benchmark.harness import generate_site

POSTS = 16_000


def measure_bulk(
    posts: int = POSTS, *, run: bool = True, build: bool = True, log: Callable[[str], None] | None = None
) -> dict[str, dict[str, Any]]:
    """{"bulk": `postfeed run`'s figures, "build": `postfeed build`'s}, each when asked, on one generated site."""
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="postfeed-bench-bulk-") as folder:
        site = generate_site(posts, Path(folder) / "site")
        for command, wanted, name in (("run", run, "bulk"), ("build", build, "build")):
            if not wanted:
                continue
            if log:
                log(f"{name}: postfeed {command} over a generated {posts:,}-post site (a separate process)")
            out = Path(folder) / f"out-{command}"
            quiet = ["--no-progress"] if command == "run" else []
            wall, peak_mb = _timed([command, "--posts", str(site), "--out", str(out), *quiet])
            totals: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))["totals"]
            results[name] = _figures(posts, wall, peak_mb, totals)
    return results


def _timed(arguments: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB; the largest of the process and the workers it waited for)
    of `postfeed ARGUMENTS` in a fresh interpreter."""
    argv = [sys.executable, "-m", "postfeed_tools.cli", *arguments]
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    _, stderr = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"postfeed {arguments[0]} failed ({process.returncode}):\n{stderr[-2000:]}")
    return wall, usage.ru_maxrss / 1024  # kilobytes on Linux


def _figures(posts: int, wall: float, peak_mb: float, totals: dict[str, Any]) -> dict[str, Any]:
    return {
        "posts": posts,
        "generator": "examples/scale/generate.py (seeded)",
        "wall_s": round(wall, 1),
        "posts_per_s": round(posts / wall, 1) if wall else 0.0,
        "peak_mb": round(peak_mb, 1),
        "published": totals.get("published"),
        "skipped": totals.get("skipped"),
        "errors": totals.get("error"),
        "feeds": totals.get("feeds"),
        "documents": totals.get("documents"),
        "ingest_invocations": totals.get("ingest_invocations"),
        "feed_invocations": totals.get("feed_invocations"),
        "run_seconds": {k: v for k, v in totals.items() if k.endswith("_seconds")},
    }
