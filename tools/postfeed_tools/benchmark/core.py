"""Core throughput: posts parsed (`parse_post`) and rendered (`render_feed` of a one-entry feed, all three
formats) per second over every post of the corpus, in this one process (one core, no AWS)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from postfeed_tools.benchmark.harness import CORPUS, NOW, median

RUNS = 5


def corpus_sites() -> list[tuple[bytes | None, list[tuple[str, bytes]]]]:
    """Each corpus site: its `_config.yml` and its posts (key relative to the site root, bytes)."""
    sites = []
    for root in sorted(p for p in CORPUS.iterdir() if (p / "_posts").is_dir()):
        config = root / "_config.yml"
        posts = [
            (path.relative_to(root).as_posix(), path.read_bytes())
            for path in sorted((root / "_posts").rglob("*"))
            if path.is_file()
        ]
        sites.append((config.read_bytes() if config.is_file() else None, posts))
    return sites


def one_pass(sites: list[tuple[Any, list[tuple[str, bytes]]]]) -> tuple[int, int, float, float]:
    """(posts, rendered, parse seconds, render seconds) of one pass over the corpus."""
    from postfeed.feeds import render_feed
    from postfeed.jekyll import parse_post
    from postfeed.models import FeedRef, Post

    posts = rendered = 0
    parsing = rendering = 0.0
    for site, files in sites:
        for key, body in files:
            started = time.perf_counter()
            result = parse_post(key, body, site, now=NOW)
            parsed = time.perf_counter()
            posts += 1
            parsing += parsed - started
            if isinstance(result, Post):
                render_feed(FeedRef.site(), [result], site)
                rendering += time.perf_counter() - parsed
                rendered += 1
    return posts, rendered, parsing, rendering


def measure_core(runs: int = RUNS, *, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    from postfeed.jekyll import load_site

    sites = [(load_site(config), files) for config, files in corpus_sites()]
    if log:
        log(f"core: parse_post + render_feed over {sum(len(f) for _, f in sites)} corpus posts, {runs} passes")
    one_pass(sites)  # warm-up: imports, compiled patterns, time zones
    passes = [one_pass(sites) for _ in range(runs)]
    posts, rendered = passes[0][0], passes[0][1]
    totals = [parse + render for _, _, parse, render in passes]
    seconds = median(totals)
    return {
        "corpus": str(Path(CORPUS)),
        "posts": posts,
        "rendered": rendered,
        "runs": runs,
        "posts_per_s": round(posts / seconds, 1) if seconds else 0.0,
        "parse_ms_per_post": round(median([p for _, _, p, _ in passes]) / posts * 1000, 3),
        "render_ms_per_post": round(median([r for _, _, _, r in passes]) / max(1, rendered) * 1000, 3),
    }
