"""What the property tests exercised, added up over every example, for the closing figures.

Each pytest process (xdist worker or a plain run) writes its totals to `out/property-stats/<worker>.json`
at the end of its session, then merges every file of the same test run into `out/property-stats.json`
(the last process to finish writes the complete sum) and prints it."""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[2] / "out"
RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


@dataclass
class Totals:
    """Totals for one property test (every example hypothesis ran, failing and shrinking ones included)."""

    examples: int = 0
    changes: int = 0  # uploads, edits and deletes made in S3
    events: int = 0  # S3 event messages S3 sent
    deliveries: int = 0  # messages sent to the ingest queue (every copy)
    duplicated: int = 0  # extra copies of an event
    reordered: int = 0  # deliveries of an event after a newer event of the same key
    faults: Counter[str] = field(default_factory=Counter)  # injected, by kind
    sqs_redeliveries: int = 0  # messages the ingest function failed (back to the queue)
    dead_lettered: int = 0  # messages in the DLQ at the end (permanent failure only)
    redriven: int = 0  # messages moved back by `postfeed redrive`
    posts_lost: int = 0  # committed posts missing from a feed at the end (must stay 0)

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in vars(self).items() if k != "faults"}
        data["faults"] = dict(sorted(self.faults.items()))
        data["faults_total"] = sum(self.faults.values())
        return data


STATS: dict[str, Totals] = {}


def stats_for(test: str) -> Totals:
    return STATS.setdefault(test, Totals())


def write() -> dict[str, Any] | None:
    """Write this process's totals and the merged totals of the whole run; returns the merged totals."""
    if not STATS:
        return None
    folder = OUT / "property-stats"
    folder.mkdir(parents=True, exist_ok=True)
    mine = {"run": RUN_ID, "tests": {name: stats.as_dict() for name, stats in STATS.items()}}
    (folder / f"{WORKER}.json").write_text(json.dumps(mine, indent=2, ensure_ascii=False))
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        merged = _merge(folder)
        (OUT / "property-stats.json").write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    return merged


def _merge(folder: Path) -> dict[str, Any]:
    tests: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        if data.get("run") != RUN_ID:
            continue  # an earlier run's worker
        tests.update(data["tests"])
    total: dict[str, Any] = {}
    for values in tests.values():
        for key, value in values.items():
            if isinstance(value, dict):
                bucket = total.setdefault(key, Counter())
                bucket.update(value)
            else:
                total[key] = total.get(key, 0) + value
    total = {k: dict(sorted(v.items())) if isinstance(v, Counter) else v for k, v in total.items()}
    return {"run": RUN_ID, "total": total, "tests": tests}


def summary_line(merged: dict[str, Any]) -> str:
    t = merged["total"]
    faults = ", ".join(f"{kind} {n}" for kind, n in t.get("faults", {}).items()) or "none"
    return (
        f"property tests: {t['examples']} examples, {t['changes']} S3 changes, {t['deliveries']} deliveries "
        f"({t['duplicated']} duplicated, {t['reordered']} reordered), {t['faults_total']} injected faults "
        f"({faults}), {t['sqs_redeliveries']} SQS redeliveries (failed messages back in the queue), "
        f"{t['dead_lettered']} dead-lettered, {t['redriven']} redriven, "
        f"{t['posts_lost']} posts lost"
    )
