"""Per-upload cost against the number of feeds (issue 13, item 3): the same uploads, one at a time, into the same
site with a small long tail (~70 feeds) and with a large one (~5,000 feeds: the generator's long tail, tags on
one or two posts each and hundreds of small categories, `examples/scale/generate.py`).

The two sites hold the same posts but for their tail tags and categories, whose names have a fixed width, so
the feeds an upload touches hold entries of the same bytes in both: what could still grow with the number of
feeds is what no feed owns, the discovery documents and the registry. Two passes of uploads:

- `existing`: the generator's next posts, without a tail: into feeds both sites have (the site feed, a
  category, a source tag, a topic). The targets: calls identical, bytes written within 10 %.
- `new_feed`: the posts after those, each with a tag neither site has, so a feed appears with every upload:
  the discovery documents' worst case (its shelf, and the root when a shelf's first or last feed moves, or,
  in a section of one shelf, the root itself). Reported, no target.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from postfeed_tools.benchmark.harness import (
    ParsedPost,
    bench_pipeline,
    generated_posts,
    median,
    published_by_date,
    ratio,
    seed_published,
    upload_config,
)

PRELOAD = 3_500
UPLOADS = 10
FEEDS = (70, 5_000)
# Feeds the generator's site has without a tail: the site, 7 categories, their 7 source tags, 12 topics.
BASE_FEEDS = 27
# Every preloaded post carries two tail tags, handed out one or two posts each: 3,500 posts reach ~4,700.
TAIL_SHARE, TAIL_PER_POST = 1.0, 2
SPARE = 1.05  # a few generated posts do not publish (on purpose)

Post = tuple[str, bytes]


def tail_of(feeds: int) -> dict[str, Any]:
    """The generator's long tail for a site of about `feeds` feeds: a seventh of the feeds it adds are small
    categories (at most 300), the rest tags."""
    extra = max(0, feeds - BASE_FEEDS)
    categories = min(300, extra // 7)
    return {"tags": extra - categories, "categories": categories, "share": TAIL_SHARE, "per_post": TAIL_PER_POST}


@dataclass
class PutMeter:
    """Bytes the handlers put in the feeds bucket, and how many of them are discovery documents."""

    bytes: int = 0
    discovery_bytes: int = 0
    discovery_puts: int = 0

    def install(self) -> PutMeter:
        """Register on the handlers' session (after CallCounter, which rebuilds their clients)."""
        from postfeed.store.clients import session

        session().events.register(
            "before-parameter-build.s3.PutObject", self._put, unique_id="postfeed-bench-put-meter"
        )
        return self

    def _put(self, params: dict[str, Any], **_: Any) -> None:
        from postfeed.feeds.discovery import SHELF_FOLDER
        from postfeed.feeds.paths import INDEX_KEY, OPML_KEY

        body = params.get("Body", b"")
        size = len(body) if isinstance(body, bytes | bytearray) else len(str(body).encode())
        self.bytes += size
        if params.get("Key") in (INDEX_KEY, OPML_KEY) or str(params.get("Key", "")).startswith(SHELF_FOLDER + "/"):
            self.discovery_bytes += size
            self.discovery_puts += 1

    def reset(self) -> tuple[int, int, int]:
        counts = (self.bytes, self.discovery_bytes, self.discovery_puts)
        self.bytes = self.discovery_bytes = self.discovery_puts = 0
        return counts


@dataclass
class Pass:
    walls: list[float] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    bytes: list[int] = field(default_factory=list)
    discovery_bytes: list[int] = field(default_factory=list)
    discovery_puts: int = 0

    def summary(self) -> dict[str, Any]:
        uploads = max(1, len(self.walls))
        return {
            "uploads": len(self.walls),
            "median_ms": round(median(self.walls) * 1000, 2),
            "calls_per_upload": {op: round(n / uploads, 3) for op, n in sorted(self.calls.items())},
            "calls_total": dict(sorted(self.calls.items())),
            "bytes_per_upload": round(sum(self.bytes) / uploads),
            "discovery_bytes_per_upload": round(sum(self.discovery_bytes) / uploads),
            "discovery_puts_per_upload": round(self.discovery_puts / uploads, 3),
        }


def with_new_tag(body: bytes, tag: str) -> bytes:
    """The post with one more tag (its `tags:` line as a flow list)."""
    lines = body.decode("utf-8").split("\n")
    for index, line in enumerate(lines):
        if line.startswith("tags: "):
            value = line.removeprefix("tags: ")
            items = value[1:-1] if value.startswith("[") else value
            lines[index] = f"tags: [{items}, {tag}]"
            break
    return "\n".join(lines).encode("utf-8")


def measure_site(
    feeds: int, preload: Sequence[ParsedPost], config: bytes, passes: dict[str, Sequence[Post]]
) -> dict[str, Any]:
    from postfeed.store.pages import FeedPages
    from postfeed_tools.local.calls import CallCounter

    with bench_pipeline() as pipeline:
        upload_config(pipeline, config)
        seeded = seed_published(pipeline, preload)
        listed = len(FeedPages(pipeline.table).registry())
        counter = CallCounter().install()
        meter = PutMeter().install()
        results: dict[str, Any] = {}
        for name, posts in passes.items():
            measured = Pass()
            for key, body in posts:
                counter.reset()
                meter.reset()
                started = time.perf_counter()
                pipeline.upload(key, body)
                pipeline.settle()
                measured.walls.append(time.perf_counter() - started)
                measured.calls.update(counter.reset())
                written, discovery_written, discovery_puts = meter.reset()
                measured.bytes.append(written)
                measured.discovery_bytes.append(discovery_written)
                measured.discovery_puts += discovery_puts
            results[name] = measured.summary()
        return {
            "target_feeds": feeds,
            "feeds": listed,
            "preloaded_posts": seeded.posts,
            "preload_seconds": round(seeded.seconds, 1),
            **results,
        }


def measure_feeds_scaling(
    preload: int = PRELOAD,
    uploads: int = UPLOADS,
    feeds: Sequence[int] = FEEDS,
    *,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The same uploads into a site of `preload` posts with each number of feeds (smallest and largest)."""
    wanted = math.ceil((preload + 2 * uploads) * SPARE) + 10
    generated = generated_posts(wanted)
    config = generated.config
    plain = published_by_date(generated.posts, config)
    after = [(key, body) for key, body, _ in plain[preload:]]
    existing = after[:uploads]
    # Named among the tail tags (`话题0097` < `话题0097新` < `话题0098`): each lands on a shelf of the large site's
    # tail, as a new tag of the real site would.
    later = after[uploads : 2 * uploads]
    new_feed = [(key, with_new_tag(body, f"话题{97 * n + 13:04d}新")) for n, (key, body) in enumerate(later)]
    sites = []
    for count in feeds:
        if log:
            log(f"feeds scaling: ~{count:,} feeds: preloading {preload:,} posts, then {2 * uploads} uploads")
        tailed = published_by_date(generated_posts(wanted, tail_of(count)).posts, config)
        sites.append(measure_site(count, tailed[:preload], config, {"existing": existing, "new_feed": new_feed}))
    small, large = sites[0], sites[-1]
    return {
        "preload_posts": preload,
        "uploads": uploads,
        "sites": sites,
        "ratio_of": f"{large['feeds']:,} feeds / {small['feeds']:,} feeds",
        "calls_equal": all(site["existing"]["calls_total"] == small["existing"]["calls_total"] for site in sites),
        "bytes_ratio": ratio(large["existing"]["bytes_per_upload"], small["existing"]["bytes_per_upload"]),
        "discovery_bytes_per_upload": [site["existing"]["discovery_bytes_per_upload"] for site in sites],
        "new_feed_calls_equal": all(
            site["new_feed"]["calls_total"] == small["new_feed"]["calls_total"] for site in sites
        ),
        "new_feed_bytes_ratio": ratio(large["new_feed"]["bytes_per_upload"], small["new_feed"]["bytes_per_upload"]),
        "new_feed_discovery_bytes_per_upload": [site["new_feed"]["discovery_bytes_per_upload"] for site in sites],
    }
