"""Incremental cost vs size: with N posts already published, upload new posts one at a time through the
whole pipeline (S3 put -> queue -> ingest -> table -> stream -> feed rebuild -> feeds bucket) and measure
each upload: wall time, the part of it spent inside moto, and the handlers' AWS calls by operation.

The new posts are the same for every N and continue the site: the preload is the N posts published just
before them (as a site with N posts gets its next post). The calls must not depend on N, and the time
should not either.

moto is not O(1) per request: even with the local speedups (`postfeed_tools.local.moto_speedups`: a Query reads
only its partition), each Query sorts the queried partition, so an upload that reads ten entries of a feed
costs moto O(entries of that feed). The time spent inside moto is measured apart (MotoClock); wall minus
that is "ours" (handlers, SDK, glue), the part that runs in Lambda."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from postfeed_tools.benchmark.capacity import CapacityMeter
from postfeed_tools.benchmark.harness import (
    InvocationTimer,
    MotoClock,
    ParsedPost,
    bench_pipeline,
    frozen_heap,
    generated_posts,
    median,
    percentile,
    published_by_date,
    ratio,
    seed_published,
    upload_config,
)
from postfeed_tools.benchmark.profiling import profiled, summary

if TYPE_CHECKING:
    from postfeed_tools.local.pipeline import LocalPipeline

SIZES = (100, 1_000, 10_000)
UPLOADS = 20
# The generator mixes dates with and without an offset (a naive YAML time is UTC, as in Jekyll), so file
# order is not time order: posts are ordered by their parsed instant, the oldest N preloaded, the next
# ones uploaded. A few more are generated than needed: about 2% do not publish (on purpose).
SPARE = 1.05

Post = tuple[str, bytes]


@dataclass
class Pass:
    """One pass of uploads, one at a time: wall and moto seconds per upload, handler calls per upload."""

    walls: list[float] = field(default_factory=list)
    moto: list[float] = field(default_factory=list)
    calls: list[Counter[str]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        ours = [w - m for w, m in zip(self.walls, self.moto, strict=True)]
        return {
            "uploads": len(self.walls),
            "median_ms": round(median(self.walls) * 1000, 2),
            "p90_ms": round(percentile(self.walls, 0.9) * 1000, 2),
            "moto_median_ms": round(median(self.moto) * 1000, 2),
            "ours_median_ms": round(median(ours) * 1000, 2),
            "ours_p90_ms": round(percentile(ours, 0.9) * 1000, 2),
        }

    @property
    def total_calls(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for counts in self.calls:
            total.update(counts)
        return total


@dataclass
class SizeResult:
    size: int
    seeded_posts: int
    seeded_feeds: int
    seed_seconds: float
    timed: Pass = field(default_factory=Pass)
    glue_calls: Counter[str] = field(default_factory=Counter)
    invocations: dict[str, list[float]] = field(default_factory=dict)
    units: dict[str, float] = field(default_factory=dict)
    profile: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        timed = self.timed
        uploads = max(1, len(timed.walls))
        total = timed.total_calls
        return {
            "n": self.size,
            "preloaded_posts": self.seeded_posts,
            "preloaded_feeds": self.seeded_feeds,
            "preload_seconds": round(self.seed_seconds, 2),
            **timed.summary(),
            "calls_per_upload": {op: round(n / uploads, 3) for op, n in sorted(total.items())},
            "calls_total": dict(sorted(total.items())),
            "request_units_per_upload": {k: round(v / uploads, 2) for k, v in sorted(self.units.items())},
            "invocations": {name: len(durations) for name, durations in sorted(self.invocations.items())},
            "invocation_ms": {
                name: round(sum(durations) * 1000, 2) for name, durations in sorted(self.invocations.items())
            },
            "feed_documents_written": total["s3.PutObject"],
        }

    def cost_totals(self) -> dict[str, Any]:
        """What the cost model needs: totals over the timed uploads."""
        return {
            "posts": len(self.timed.walls),
            "calls": dict(self.timed.total_calls),
            "units": dict(self.units),
            "invocations": {name: len(d) for name, d in self.invocations.items()},
            "seconds": {name: sum(d) for name, d in self.invocations.items()},
        }


def upload_each(pipeline: LocalPipeline, posts: Sequence[Post], moto: MotoClock, counter: Any, into: Pass) -> None:
    for key, body in posts:
        moto.lap()
        counter.reset()
        started = time.perf_counter()
        pipeline.upload(key, body)
        pipeline.settle()
        into.walls.append(time.perf_counter() - started)
        into.moto.append(moto.lap())
        into.calls.append(counter.reset())


def measure_size(
    size: int,
    preload: Sequence[ParsedPost],
    config: bytes,
    *,
    new_posts: Sequence[Post],
    profile_posts: Sequence[Post] = (),
    freeze: bool = True,
) -> SizeResult:
    from postfeed_tools.local.calls import CallCounter

    with bench_pipeline() as pipeline:
        upload_config(pipeline, config)
        seeded = seed_published(pipeline, preload[len(preload) - size :])
        result = SizeResult(size, seeded.posts, seeded.feeds, seeded.seconds)
        timer = InvocationTimer().install(pipeline)
        counter = CallCounter().install()
        meter = CapacityMeter().install()  # after the counter: it rebuilds the handlers' session
        glue = CallCounter()
        for client in (pipeline.glue.sqs, pipeline.glue.streams):
            client.meta.events.register("before-call", glue._count)
        with MotoClock() as moto, frozen_heap(freeze):
            upload_each(pipeline, new_posts, moto, counter, result.timed)
            result.units = meter.reset()
            result.glue_calls = glue.reset()
            result.invocations = timer.reset()
            if profile_posts:  # more new posts, under cProfile (kept out of the timings)
                started = time.perf_counter()
                with profiled() as profiler:
                    for key, body in profile_posts:
                        pipeline.upload(key, body)
                        pipeline.settle()
                result.profile = summary(profiler, wall=time.perf_counter() - started)
        return result


def measure_incremental(
    sizes: Sequence[int] = SIZES,
    uploads: int = UPLOADS,
    *,
    profile: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Preload each N, then upload `uploads` new posts one at a time; with `profile`, two more under
    cProfile at the smallest and largest N, their time split by owner (moto, SDK, glue, ours)."""
    largest = max(sizes)
    profiled_uploads = 2 if profile else 0
    wanted = largest + uploads + profiled_uploads
    site = generated_posts(math.ceil(wanted * SPARE) + 10)
    if log:
        log(f"incremental: ordering {len(site.posts):,} generated posts by date")
    ordered = published_by_date(site.posts, site.config)
    preload = ordered[:largest]  # each N takes the newest N of these
    after = [(key, body) for key, body, _ in ordered[largest:]]
    new_posts = after[:uploads]
    more_posts = after[uploads : uploads + profiled_uploads]
    results = []
    for size in sizes:
        if log:
            log(f"incremental: N={size:,}: preloading, then {len(new_posts)} uploads one at a time")
        results.append(
            measure_size(
                size,
                preload,
                site.config,
                new_posts=new_posts,
                profile_posts=more_posts if size in (min(sizes), largest) else (),
            )
        )
    smallest, biggest = results[0], results[-1]
    first, last = smallest.summary(), biggest.summary()
    same = [r.timed.calls == biggest.timed.calls for r in results]
    equal_from = next((results[i].size for i in range(len(results)) if all(same[i:])), None)
    difference = {
        op: round(last["calls_per_upload"].get(op, 0) - first["calls_per_upload"].get(op, 0), 3)
        for op in sorted(set(first["calls_per_upload"]) | set(last["calls_per_upload"]))
        if last["calls_per_upload"].get(op, 0) != first["calls_per_upload"].get(op, 0)
    }
    report: dict[str, Any] = {
        "sizes": list(sizes),
        "uploads": uploads,
        "by_size": [r.summary() for r in results],
        "calls_equal": all(same),
        "calls_equal_from_n": equal_from,  # every size from this one on makes the same calls
        "calls_difference_per_upload": difference,  # largest N minus smallest N, per operation
        "calls_ratio": ratio(sum(last["calls_per_upload"].values()), sum(first["calls_per_upload"].values())),
        "units_equal": all(r.units == smallest.units for r in results),
        "time_ratio": ratio(last["median_ms"], first["median_ms"]),
        "p90_ratio": ratio(last["p90_ms"], first["p90_ms"]),
        "ours_time_ratio": ratio(last["ours_median_ms"], first["ours_median_ms"]),
        "ours_p90_ratio": ratio(last["ours_p90_ms"], first["ours_p90_ms"]),
        "ratio_of": f"N={biggest.size} / N={smallest.size}",
        "glue_calls_per_upload": {
            op: round(n / max(1, len(biggest.timed.walls)), 3) for op, n in sorted(biggest.glue_calls.items())
        },
        # Priced at the smallest N: the least of moto's O(N) costs in the measured durations.
        "_cost_totals": smallest.cost_totals(),
    }
    if profile:
        report["profile"] = {f"n={r.size}": r.profile for r in results if r.profile is not None}
    return report
