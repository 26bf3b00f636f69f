"""`postfeed bench [--quick] [--json] [--only NAME,...]`: how fast the pipeline is on the local stack
(in-process moto): incremental cost vs size, bursts, cold start, memory, core throughput, a bulk run
and the AWS cost per 1,000 posts. Prints a table, or with --json one JSON object with every figure.

Only light stdlib modules at import time; the benchmarks (moto, boto3, the pipeline) load in run().
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from postfeed_tools.benchmark import MEASUREMENTS as NAMES


def _sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    if len(sizes) < 2 or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError("two or more positive sizes, e.g. 100,1000,10000")
    return tuple(sorted(sizes))


def _names(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in names if name not in NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown: {', '.join(unknown)} (choose from {', '.join(NAMES)})")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="smaller sizes: under two minutes on two cores")
    parser.add_argument("--json", action="store_true", help="print one JSON object with every figure")
    parser.add_argument("--from-json", metavar="FILE", help="measure nothing: print the table of a saved --json output")
    parser.add_argument("--only", type=_names, metavar="NAMES", help=f"comma-separated subset of: {', '.join(NAMES)}")
    parser.add_argument("--profile", action="store_true", help="cProfile extra uploads at the smallest and largest N")
    parser.add_argument("--sizes", type=_sizes, metavar="N,N,...", help="incremental preload sizes")
    parser.add_argument("--uploads", type=int, metavar="N", help="incremental uploads per size")
    parser.add_argument("--burst-uploads", type=int, metavar="N", help="uploads in the burst")
    parser.add_argument("--bulk-posts", type=int, metavar="N", help="posts of the generated site for the bulk run")
    parser.add_argument("--scaling-feeds", type=_sizes, metavar="N,N", help="feeds of the sites compared (70,5000)")
    parser.add_argument("--scaling-preload", type=int, metavar="N", help="posts of those sites (3500)")
    parser.add_argument("--scaling-uploads", type=int, metavar="N", help="uploads per pass into each (10)")


def run(args: argparse.Namespace) -> int:
    from postfeed_tools.benchmark import BenchOptions, run_benchmarks, targets
    from postfeed_tools.benchmark.report import format_report

    if args.from_json:
        with open(args.from_json, encoding="utf-8") as saved:
            result = json.load(saved)
        result["targets"] = targets(result)
        sys.stdout.write(format_report(result) + "\n")
        return 0

    overrides: dict[str, Any] = {
        key: value
        for key, value in (
            ("only", args.only),
            ("profile", args.profile or None),
            ("sizes", args.sizes),
            ("uploads", args.uploads),
            ("burst_uploads", args.burst_uploads),
            ("bulk_posts", args.bulk_posts),
            ("scaling_feeds", args.scaling_feeds),
            ("scaling_preload", args.scaling_preload),
            ("scaling_uploads", args.scaling_uploads),
        )
        if value is not None
    }
    options = BenchOptions.quick_defaults(**overrides) if args.quick else BenchOptions(**overrides)
    out = sys.stdout  # the handlers' own output is dropped while they run (see bench_pipeline)

    def log(line: str) -> None:
        print(f"postfeed bench: {line}", file=sys.stderr, flush=True)

    result = run_benchmarks(options, log=log)
    if args.json:
        out.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(format_report(result) + "\n")
    return 0
