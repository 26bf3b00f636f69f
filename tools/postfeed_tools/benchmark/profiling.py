"""Where the time goes, by owner: cProfile's functions grouped into moto, the AWS SDK, the event glue,
our code (postfeed and the handlers, with the libraries they call), and the rest.

Standard-library and built-in functions belong to whoever called them (json, copy, `sorted`… are
charged to moto when moto calls them), following pstats' per-caller times up the call graph."""

from __future__ import annotations

import cProfile
import pstats
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# The libraries the handlers use, charged to "ours" (they run in Lambda too).
HANDLER_LIBRARIES = (
    "yaml",
    "feedgen",
    "lxml",
    "markdown_it",
    "mdurl",
    "nh3",
    "dateutil",
    "pydantic",
    "pydantic_core",
    "aws_lambda_powertools",
    "jmespath",
)
OWNERS = ("moto", "sdk", "glue", "ours", "other")

FunctionKey = tuple[str, int, str]


def owner_of(function: FunctionKey) -> str | None:
    """The owner of a function by its file, or None for the standard library and built-ins."""
    path = function[0].replace("\\", "/")
    if "site-packages/" in path:
        package = path.split("site-packages/", 1)[1].split("/", 1)[0]
        if package in ("moto", "werkzeug", "responses", "xmltodict", "jinja2", "markupsafe"):
            return "moto"
        if package in ("botocore", "boto3", "s3transfer", "urllib3"):
            return "sdk"
        if package in HANDLER_LIBRARIES:
            return "ours"
        return "other"
    if path.endswith("/postfeed_tools/local/moto_speedups.py"):
        return "moto"  # local patches of moto's own algorithms: part of the fake AWS
    if "/postfeed_tools/local/" in path or "/postfeed_tools/benchmark/" in path:
        return "glue"
    if "/postfeed/" in path or "/functions/" in path:
        return "ours"
    return None


def split_by_owner(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of own time per owner; unowned functions pass their time to their callers."""
    table: dict[FunctionKey, Any] = stats.stats  # type: ignore[attr-defined]
    shares: dict[FunctionKey, dict[str, float]] = {}

    def share(function: FunctionKey, depth: int = 0) -> dict[str, float]:
        if function in shares:
            return shares[function]
        owner = owner_of(function)
        if owner is not None:
            result = {owner: 1.0}
        else:
            callers = table.get(function, (0, 0, 0.0, 0.0, {}))[4]
            weights: Counter[str] = Counter()
            total = 0.0
            if depth < 40:
                shares[function] = {"other": 1.0}  # breaks cycles while we look up
                for caller, timing in callers.items():
                    own = timing[2]
                    total += own
                    for name, fraction in share(caller, depth + 1).items():
                        weights[name] += own * fraction
            result = {name: weight / total for name, weight in weights.items()} if total > 0 else {"other": 1.0}
        shares[function] = result
        return result

    seconds: dict[str, float] = defaultdict(float)
    for function, (_, _, own, _, _) in table.items():
        for name, fraction in share(function).items():
            seconds[name] += own * fraction
    return {name: round(seconds.get(name, 0.0), 3) for name in OWNERS}


def top_functions(
    stats: pstats.Stats, count: int = 8, owner: str | None = None, *, cumulative: bool = False
) -> list[dict[str, Any]]:
    """The functions with the most own (or cumulative) time, optionally of one owner."""
    table: dict[FunctionKey, Any] = stats.stats  # type: ignore[attr-defined]
    rows = [(function, values) for function, values in table.items() if owner is None or owner_of(function) == owner]
    rows.sort(key=lambda row: row[1][3 if cumulative else 2], reverse=True)
    return [
        {
            "function": f"{_short(function[0])}:{function[1]}({function[2]})",
            "calls": values[1],
            "own_s": round(values[2], 3),
            "cumulative_s": round(values[3], 3),
        }
        for function, values in rows[:count]
    ]


def _short(path: str) -> str:
    path = path.replace("\\", "/")
    for marker in ("site-packages/", "/shared/", "/work/main/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


@contextmanager
def profiled() -> Iterator[cProfile.Profile]:
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield profile
    finally:
        profile.disable()


def summary(profile: cProfile.Profile, *, wall: float) -> dict[str, Any]:
    stats = pstats.Stats(profile)
    return {
        "wall_s": round(wall, 3),
        "seconds_by_owner": split_by_owner(stats),
        "top_moto": top_functions(stats, 5, "moto"),
        "top_ours": top_functions(stats, 5, "ours"),
        "top_glue": top_functions(stats, 5, "glue", cumulative=True),
        "moto_table_query": [
            row for row in top_functions(stats, 200, "moto", cumulative=True) if row["function"].endswith("(query)")
        ][:2],
    }
