"""Incremental cost vs size: with N posts already published, upload new posts one at a time through the
whole pipeline (S3 put -> queue -> ingest -> table -> stream -> feed rebuild -> feeds bucket) and measure
each upload: wall time, the part of it spent inside moto, and the handlers' AWS calls by operation.

The new posts are the same for every N (the generator's posts after the largest N, so newer than any
preloaded post): the calls must not depend on N, and the time should not either."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from postfeed.benchmark.capacity import CapacityMeter
from postfeed.benchmark.harness import (
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
from postfeed.benchmark.profiling import profiled, summary

SIZES = (100, 1_000, 10_000)
UPLOADS = 20
# The generator mixes dates with and without an offset (a naive YAML time is UTC, as in Jekyll), so file
# order is not time order: posts are ordered by their parsed instant, the oldest N preloaded, the next
# ones uploaded. Every new post is then newer than every preloaded post, whatever N.
# A few more than needed are generated: about 2% do not publish (broken or unpublished on purpose).
SPARE = 1.05


@dataclass
class SizeResult:
    size: int
    seeded_posts: int
    seeded_feeds: int
    seed_seconds: float
    walls: list[float] = field(default_factory=list)
    moto: list[float] = field(default_factory=list)
    calls: list[Counter[str]] = field(default_factory=list)
    glue_calls: Counter[str] = field(default_factory=Counter)
    invocations: dict[str, list[float]] = field(default_factory=dict)
    feed_puts: int = 0
    units: dict[str, float] = field(default_factory=dict)
    profile: dict[str, Any] | None = None

    @property
    def total_calls(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for counts in self.calls:
            total.update(counts)
        return total

    def summary(self) -> dict[str, Any]:
        ours = [w - m for w, m in zip(self.walls, self.moto, strict=True)]
        uploads = len(self.walls)
        return {
            "n": self.size,
            "preloaded_posts": self.seeded_posts,
            "preloaded_feeds": self.seeded_feeds,
            "preload_seconds": round(self.seed_seconds, 2),
            "uploads": uploads,
            "median_ms": round(median(self.walls) * 1000, 2),
            "p90_ms": round(percentile(self.walls, 0.9) * 1000, 2),
            "moto_median_ms": round(median(self.moto) * 1000, 2),
            "ours_median_ms": round(median(ours) * 1000, 2),
            "ours_p90_ms": round(percentile(ours, 0.9) * 1000, 2),
            "calls_per_upload": {op: round(n / uploads, 3) for op, n in sorted(self.total_calls.items())},
            "calls_total": dict(sorted(self.total_calls.items())),
            "invocations": {name: len(durations) for name, durations in sorted(self.invocations.items())},
            "invocation_ms": {
                name: round(sum(durations) * 1000, 2) for name, durations in sorted(self.invocations.items())
            },
            "feed_documents_written": self.feed_puts,
            "request_units_per_upload": {k: round(v / uploads, 2) for k, v in sorted(self.units.items())},
        }

    def cost_totals(self) -> dict[str, Any]:
        """What the cost model needs: totals over this size's uploads."""
        return {
            "posts": len(self.walls),
            "calls": dict(self.total_calls),
            "units": dict(self.units),
            "invocations": {name: len(d) for name, d in self.invocations.items()},
            "seconds": {name: sum(d) for name, d in self.invocations.items()},
        }


def measure_size(
    size: int,
    preload: Sequence[ParsedPost],
    new_posts: Sequence[tuple[str, bytes]],
    config: bytes,
    *,
    freeze: bool = True,
    profile_posts: Sequence[tuple[str, bytes]] = (),
) -> SizeResult:
    from postfeed.local.calls import CallCounter

    with bench_pipeline() as pipeline:
        upload_config(pipeline, config)
        seeded = seed_published(pipeline, preload[:size])
        result = SizeResult(size, seeded.posts, seeded.feeds, seeded.seconds)
        timer = InvocationTimer().install(pipeline)
        counter = CallCounter().install()
        meter = CapacityMeter().install()  # after the counter: it rebuilds the handlers' session
        glue = CallCounter()
        for client in (pipeline.glue.sqs, pipeline.glue.streams):
            client.meta.events.register("before-call", glue._count)
        with MotoClock() as moto, frozen_heap(freeze):
            for key, body in new_posts:
                moto.lap()
                counter.reset()
                started = time.perf_counter()
                pipeline.upload(key, body)
                pipeline.settle()
                result.walls.append(time.perf_counter() - started)
                result.moto.append(moto.lap())
                result.calls.append(counter.reset())
            result.units = meter.reset()
            result.glue_calls = glue.calls
            result.invocations = timer.reset()
            result.feed_puts = sum(c["s3.PutObject"] for c in result.calls)
            if profile_posts:  # more new posts, under cProfile (slower: kept out of the timings above)
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
    """Preload each N, upload `uploads` new posts one at a time; with `profile`, upload as many more
    under cProfile for the smallest and largest N and split their time by owner."""
    largest = max(sizes)
    site = generated_posts(math.ceil((largest + 2 * uploads) * SPARE) + 10)
    if log:
        log(f"incremental: parsing {len(site.posts):,} generated posts to order them by date")
    ordered = published_by_date(site.posts, site.config)
    preload = ordered[:largest]
    new_posts = [(key, body) for key, body, _ in ordered[largest : largest + uploads]]
    more_posts = [(key, body) for key, body, _ in ordered[largest + uploads : largest + 2 * uploads]]
    results = []
    for size in sizes:
        if log:
            log(f"incremental: N={size:,}: preloading, then {len(new_posts)} uploads one at a time")
        profiling = more_posts if profile and size in (min(sizes), largest) else ()
        results.append(measure_size(size, preload, new_posts, site.config, profile_posts=profiling))
    smallest, biggest = results[0], results[-1]
    calls_equal = all(r.calls == smallest.calls for r in results)
    first, last = smallest.summary(), biggest.summary()
    report: dict[str, Any] = {
        "sizes": list(sizes),
        "uploads": uploads,
        "by_size": [r.summary() for r in results],
        "calls_equal": calls_equal,
        "time_ratio": ratio(last["median_ms"], first["median_ms"]),
        "p90_ratio": ratio(last["p90_ms"], first["p90_ms"]),
        "ours_time_ratio": ratio(last["ours_median_ms"], first["ours_median_ms"]),
        "ratio_of": f"N={biggest.size} / N={smallest.size}",
        "glue_calls_per_upload": {
            op: round(n / max(1, len(biggest.walls)), 3) for op, n in sorted(biggest.glue_calls.items())
        },
        "units_equal": all(r.units == smallest.units for r in results),
        # Priced at the smallest N: the fewest of moto's O(n) costs in the measured durations.
        "_cost_totals": smallest.cost_totals(),
    }
    if profile:
        report["profile"] = {f"n={r.size}": r.profile for r in results if r.profile is not None}
    return report
