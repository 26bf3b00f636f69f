"""`postfeed bench`: is the pipeline fast, and does it stay fast as the site grows? One module per
measurement, each returning plain data (JSON-ready); `run_benchmarks` runs the chosen ones and adds
the targets and the cost.

- incremental: cost of one more upload with 100 / 1,000 / 10,000 posts already published
- burst: 1,000 uploads at once: feed documents written per touched feed and format
- cold_start: import time of each handler against `import boto3`
- memory: peak RSS of each handler on the corpus's heaviest work
- core: posts parsed and rendered per second (one core, no AWS)
- bulk: `postfeed run` over a generated 16,000-post site
- feeds_scaling: the same uploads into a site with ~70 feeds and with ~5,000 (calls and bytes per upload)
- cost: USD per 1,000 posts ingested, from the counts above
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

MEASUREMENTS = ("incremental", "burst", "cold_start", "memory", "core", "bulk", "build", "feeds_scaling", "cost")
TARGETS = {
    "incremental.calls_equal": "calls identical for every N",
    "incremental.time_ratio": "<= 1.2",
    "incremental.ours_time_ratio": "<= 1.2 (wall minus time in moto)",
    "burst.writes_per_touched_feed_format": "<= 2",
    "cold_start.max_ratio_to_boto3": "<= 1.5",
    "memory.max_peak_mb": "fits 128 MB with headroom",
    "bulk.wall_s": "<= 60 s (postfeed run, 16,000 posts)",
    "build.wall_s": "<= 30 s (postfeed build, 16,000 posts)",
    "feeds_scaling.calls_equal": "calls identical at ~70 and ~5,000 feeds",
    "feeds_scaling.bytes_ratio": "<= 1.1 (bytes written per upload)",
}


@dataclass(frozen=True)
class BenchOptions:
    quick: bool = False
    only: tuple[str, ...] = MEASUREMENTS
    profile: bool = False
    sizes: tuple[int, ...] = (100, 1_000, 10_000)
    uploads: int = 20
    burst_uploads: int = 1_000
    burst_categories: int = 50
    burst_what_if: tuple[int, ...] = (1_000,)
    bulk_posts: int = 16_000
    scaling_preload: int = 3_500
    scaling_uploads: int = 10
    scaling_feeds: tuple[int, ...] = (70, 5_000)
    cold_runs: int = 9
    core_runs: int = 5
    memory_entries: int = 50
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def quick_defaults(cls, **overrides: Any) -> BenchOptions:
        """Small enough for two minutes on two cores; the same measurements, smaller sizes."""
        values: dict[str, Any] = {
            "quick": True,
            "sizes": (100, 1_000),
            "uploads": 5,
            "burst_uploads": 150,
            "burst_what_if": (),
            "bulk_posts": 150,
            "scaling_preload": 700,
            "scaling_uploads": 4,
            "scaling_feeds": (70, 1_000),
            "cold_runs": 3,
            "core_runs": 1,
            "memory_entries": 20,
        }
        return cls(**{**values, **overrides})


def machine() -> dict[str, Any]:
    import os

    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "-"

    return {
        "commit": _commit(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "machine": platform.machine(),
        "moto": version("moto"),
        "boto3": version("boto3"),
    }


def _commit() -> str:
    """The repository's HEAD, with "+dirty" when the tree has uncommitted changes (they are measured too)."""
    import subprocess

    from postfeed_tools.benchmark.harness import REPO_ROOT

    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT, capture_output=True, text=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "-"
    return head + ("+dirty" if dirty else "")


def run_benchmarks(options: BenchOptions, *, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the chosen measurements; every figure in one JSON-ready dict."""
    started = time.perf_counter()
    result: dict[str, Any] = {"mode": "quick" if options.quick else "full", "machine": machine()}
    sections: dict[str, float] = {}
    lap = [time.perf_counter()]

    def done(name: str) -> None:
        now = time.perf_counter()
        sections[name] = round(now - lap[0], 1)
        lap[0] = now

    chosen = set(options.only)
    if "cost" in chosen:  # priced from the incremental and burst counts
        chosen |= {"incremental", "burst"}
    cost_inputs: dict[str, Any] = {}
    if "incremental" in chosen:
        from postfeed_tools.benchmark.incremental import measure_incremental

        incremental = measure_incremental(options.sizes, options.uploads, profile=options.profile, log=log)
        cost_inputs["one_at_a_time"] = incremental.pop("_cost_totals")
        result["incremental"] = incremental
        done("incremental")
    if "burst" in chosen:
        from postfeed_tools.benchmark.burst import measure_burst

        burst = measure_burst(
            options.burst_uploads, options.burst_categories, what_if_batch_sizes=options.burst_what_if, log=log
        )
        cost_inputs["burst"] = burst.pop("_cost_totals")
        result["burst"] = burst
        done("burst")
    if "cold_start" in chosen:
        from postfeed_tools.benchmark.cold_start import measure_cold_start

        result["cold_start"] = measure_cold_start(options.cold_runs, log=log)
        done("cold_start")
    if "memory" in chosen:
        from postfeed_tools.benchmark.memory import measure_memory

        result["memory"] = measure_memory(options.memory_entries, log=log)
        done("memory")
    if "core" in chosen:
        from postfeed_tools.benchmark.core import measure_core

        result["core"] = measure_core(options.core_runs, log=log)
        done("core")
    if "bulk" in chosen or "build" in chosen:
        from postfeed_tools.benchmark.bulk import measure_bulk

        result |= measure_bulk(options.bulk_posts, run="bulk" in chosen, build="build" in chosen, log=log)
        done("bulk" if "bulk" in chosen else "build")
    if "feeds_scaling" in chosen:
        from postfeed_tools.benchmark.feeds_scaling import measure_feeds_scaling

        result["feeds_scaling"] = measure_feeds_scaling(
            options.scaling_preload, options.scaling_uploads, options.scaling_feeds, log=log
        )
        done("feeds_scaling")
    if "cost" in chosen:
        from postfeed_tools.benchmark.cost import cost_report
        from postfeed_tools.benchmark.harness import template_memory_mb

        result["cost"] = cost_report(cost_inputs, memory_mb=template_memory_mb())
    result["targets"] = targets(result)
    result["section_seconds"] = sections
    result["seconds"] = round(time.perf_counter() - started, 1)
    return result


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with its measured value and whether it is met (None: not measured in this run)."""
    rows = []
    for path, target in TARGETS.items():
        section, key = path.split(".")
        value = result.get(section, {}).get(key)
        met: bool | None = None
        if value is not None:
            if path == "incremental.calls_equal":
                met = bool(value)
            elif path.startswith("incremental.") and path.endswith("time_ratio"):
                met = value <= 1.2
            elif path == "burst.writes_per_touched_feed_format":
                met = value <= 2
            elif path == "cold_start.max_ratio_to_boto3":
                met = value <= 1.5
            elif path == "memory.max_peak_mb":
                met = value <= 128 * 0.8
            elif path in ("bulk.wall_s", "build.wall_s"):
                limit = 60 if path == "bulk.wall_s" else 30
                met = value <= limit if result[section]["posts"] == 16_000 else None  # the target is for 16,000
            elif path == "feeds_scaling.calls_equal":
                met = bool(value)
            elif path == "feeds_scaling.bytes_ratio":
                met = value <= 1.1
        rows.append({"figure": path, "value": value, "target": target, "met": met})
    return rows


__all__ = ("MEASUREMENTS", "BenchOptions", "machine", "run_benchmarks", "targets")
