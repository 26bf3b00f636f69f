"""Cold start: how long importing each handler module takes in a fresh interpreter, loaded as Lambda loads
it (its folder first on sys.path, `import app`, the layer's `shared/` after it), against `import boto3`.

Each figure is the median of several fresh processes, handlers and boto3 interleaved so a busy machine
slows them alike. `-X importtime` names the slowest imports of each handler."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from postfeed_tools.benchmark.harness import REPO_ROOT, median, ratio

FUNCTIONS = {"ingest_post": "postfeed-ingest", "build_feeds": "postfeed-feeds", "publish_due": "postfeed-schedule"}
RUNS = 9

_TIMED_IMPORT = """
import sys, time
code_dir, layer, modules = sys.argv[1], sys.argv[2], sys.argv[3:]
if code_dir:
    sys.path[:0] = [code_dir, layer]  # /var/task, then the layer (/opt/python)
started = time.perf_counter()
for name in modules:
    __import__(name)
print(time.perf_counter() - started)
"""


def lambda_environment(service: str) -> dict[str, str]:
    """What Lambda and the template set before the module loads (Powertools reads it at import)."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": service,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "POWERTOOLS_SERVICE_NAME": service,
        "POWERTOOLS_METRICS_NAMESPACE": "postfeed",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def import_seconds(code_dir: Path | None, modules: list[str], environment: dict[str, str]) -> float:
    """Seconds to import `modules` in a fresh isolated interpreter."""
    layer = str(REPO_ROOT / "shared")
    argv = [sys.executable, "-I", "-c", _TIMED_IMPORT, str(code_dir or ""), layer, *modules]
    done = subprocess.run(argv, capture_output=True, text=True, env=environment, check=True, cwd=code_dir)
    return float(done.stdout.strip().splitlines()[-1])


def slowest_imports(code_dir: Path, environment: dict[str, str], count: int = 6) -> list[dict[str, Any]]:
    """The direct imports of `app` with the most cumulative time (`python -X importtime`)."""
    layer = str(REPO_ROOT / "shared")
    argv = [sys.executable, "-I", "-X", "importtime", "-c", _TIMED_IMPORT, str(code_dir), layer, "app"]
    done = subprocess.run(argv, capture_output=True, text=True, env=environment, check=True, cwd=code_dir)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if not cumulative.strip().isdigit():
            continue
        depth = (len(name) - len(name.lstrip(" "))) // 2
        rows.append((depth, name.strip(), int(cumulative)))
    app_depth = next((depth for depth, name, _ in rows if name == "app"), 0)
    direct = [(name, us) for depth, name, us in rows if depth == app_depth + 1]
    direct.sort(key=lambda row: row[1], reverse=True)
    return [{"module": name, "ms": round(us / 1000, 1)} for name, us in direct[:count]]


def measure_cold_start(runs: int = RUNS, *, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    if log:
        log(f"cold start: {runs} fresh interpreters per module")
    base_env = lambda_environment("boto3")
    samples: dict[str, list[float]] = {"boto3": [], **{name: [] for name in FUNCTIONS}}
    with_sdk: dict[str, list[float]] = {name: [] for name in FUNCTIONS}
    for _ in range(runs):
        samples["boto3"].append(import_seconds(None, ["boto3"], base_env))
        for name, service in FUNCTIONS.items():
            code_dir = REPO_ROOT / "functions" / name
            env = lambda_environment(service)
            samples[name].append(import_seconds(code_dir, ["app"], env))
            with_sdk[name].append(import_seconds(code_dir, ["app", "boto3"], env))
    boto3_ms = median(samples["boto3"]) * 1000
    handlers: dict[str, dict[str, Any]] = {}
    for name, service in FUNCTIONS.items():
        handler_ms = median(samples[name]) * 1000
        handlers[name] = {
            "import_ms": round(handler_ms, 1),
            "ratio_to_boto3": ratio(handler_ms, boto3_ms),
            # What the first invocation adds before its first AWS call (clients need boto3).
            "import_with_boto3_ms": round(median(with_sdk[name]) * 1000, 1),
            "slowest_imports": slowest_imports(REPO_ROOT / "functions" / name, lambda_environment(service)),
        }
    return {
        "runs": runs,
        "boto3_import_ms": round(boto3_ms, 1),
        "handlers": handlers,
        "max_ratio_to_boto3": max(h["ratio_to_boto3"] for h in handlers.values()),
    }
