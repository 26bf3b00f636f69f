"""What every pipeline measurement shares: the local stack on in-process moto, a seeded table, timers.

- `bench_pipeline()`: the template's stack on `mock_aws` with the local AWS environment, quiet handlers.
- `MotoClock`: how much of a wall time was spent inside moto (its request dispatch and backends), so a
  figure can be split into "ours" (handlers, SDK, glue) and "the fake AWS's".
- `InvocationTimer`: every handler invocation the glue makes, with its duration (for GB-seconds).
- `seed_published()`: N posts written to the table the way ingest commits them, and every feed rebuilt
  once, without pushing N events through the pipeline (that is setup, not the thing measured).
- `generated_posts()`: posts of the deterministic finews-shaped site of `examples/scale/generate.py`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from postfeed.models import FeedRef, Post
    from postfeed_tools.local.pipeline import LocalPipeline

REPO_ROOT = Path(__file__).resolve().parents[3]
GENERATOR = REPO_ROOT / "examples" / "scale" / "generate.py"
CORPUS = REPO_ROOT.parent / "shared" / "corpus"
# Parsing uses a fixed "now" so future-dated posts are treated the same in every run.
NOW = datetime(2026, 1, 1, tzinfo=UTC)
FEED_BASE_URL = "https://feeds.example.com"


# -- statistics -------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p90 of 20 values is the 18th smallest)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3) if denominator > 0 else 0.0


@contextlib.contextmanager
def frozen_heap(enabled: bool = True) -> Iterator[None]:
    """Keep the cyclic garbage collector off what exists now (moto's preloaded table, in this process).

    In Lambda the table is not in the handler's heap; here it is, and every full collection would walk
    it, charging the handlers for the size of the fake AWS's memory."""
    import gc

    if not enabled:
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# -- the local stack ----------------------------------------------------------------------------------


@contextlib.contextmanager
def bench_pipeline(*, parameters: dict[str, Any] | None = None) -> Iterator[LocalPipeline]:
    """A fresh stack on in-process moto (`mock_aws`) with the template's parameters (LogLevel included:
    the handlers format their log lines as in Lambda); what the functions print is dropped."""
    from moto import mock_aws

    from postfeed_tools.local.aws import create_pipeline, process_environment
    from postfeed_tools.local.function_output import function_output
    from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT

    with process_environment(LOCAL_AWS_ENVIRONMENT), mock_aws(), function_output(None):
        yield create_pipeline(
            endpoint_url=None,
            feed_base_url=FEED_BASE_URL,
            log_level=template_parameter("LogLevel"),
            parameters=parameters,
        )


def template_parameter(name: str) -> str:
    """A parameter's default in template.yaml."""
    from postfeed_tools.local.stack import TEMPLATE, parameter_defaults
    from postfeed_tools.local.template import load_template

    return str(parameter_defaults(load_template(TEMPLATE))[name])


def template_memory_mb() -> dict[str, int]:
    """Each function's MemorySize in template.yaml (its own, else Globals'), by logical id."""
    from postfeed_tools.local.stack import TEMPLATE
    from postfeed_tools.local.template import load_template

    template = load_template(TEMPLATE)
    default = int(template.get("Globals", {}).get("Function", {}).get("MemorySize", 128))
    return {
        logical_id: int(resource.get("Properties", {}).get("MemorySize", default))
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


class MotoClock:
    """Seconds spent inside moto's request handling while installed (in-process `mock_aws` only).

    moto answers a botocore request in a `before-send` hook (its BotocoreStubber): timing that hook is
    timing the fake AWS. Everything else in a wall time is ours: handlers, the SDK, the event glue."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self._original: Callable[..., Any] | None = None

    def __enter__(self) -> MotoClock:
        from moto.core.botocore_stubber import BotocoreStubber

        original = BotocoreStubber.__call__
        clock = self

        def timed(stubber: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(stubber, *args, **kwargs)
            finally:
                clock.seconds += time.perf_counter() - started
                clock.calls += 1

        self._original = original
        setattr(BotocoreStubber, "__call__", timed)  # noqa: B010 - restored on exit
        return self

    def __exit__(self, *exc: object) -> None:
        from moto.core.botocore_stubber import BotocoreStubber

        if self._original is not None:
            setattr(BotocoreStubber, "__call__", self._original)  # noqa: B010
            self._original = None

    def lap(self) -> float:
        """Seconds inside moto since the last lap."""
        seconds, self.seconds = self.seconds, 0.0
        return seconds


@dataclass
class InvocationTimer:
    """The handler invocations the glue makes, per function logical id: durations, records per
    invocation, event payload sizes."""

    durations: dict[str, list[float]] = field(default_factory=dict)
    batch_sizes: dict[str, list[int]] = field(default_factory=dict)
    payload_bytes: dict[str, list[int]] = field(default_factory=dict)

    def install(self, pipeline: LocalPipeline) -> InvocationTimer:
        import json

        glue = pipeline.glue
        invoke = glue._invoke  # the glue's one door into the handlers

        def timed(function: Any, event: dict[str, Any]) -> Any:
            name = function.logical_id
            self.batch_sizes.setdefault(name, []).append(len(event.get("Records", [])))
            self.payload_bytes.setdefault(name, []).append(len(json.dumps(event).encode()))
            started = time.perf_counter()
            try:
                return invoke(function, event)
            finally:
                self.durations.setdefault(name, []).append(time.perf_counter() - started)

        setattr(glue, "_invoke", timed)  # noqa: B010 - an instance attribute over the method, locally
        return self

    def reset(self) -> dict[str, list[float]]:
        durations, self.durations = self.durations, {}
        self.batch_sizes, self.payload_bytes = {}, {}
        return durations


# -- posts --------------------------------------------------------------------------------------------


def load_generator() -> Any:
    """The deterministic finews-shaped site generator (`examples/scale/generate.py`)."""
    if not GENERATOR.is_file():
        raise FileNotFoundError(f"{GENERATOR}: the scale site generator is missing")
    spec = importlib.util.spec_from_file_location("postfeed_scale_generate", GENERATOR)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {GENERATOR}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while they are made
    spec.loader.exec_module(module)
    return module


def generate_site(count: int, root: Path, tail: dict[str, Any] | None = None) -> Path:
    """`examples/scale/generate.py COUNT ROOT`: `_config.yml` and COUNT posts under ROOT/_posts; with `tail`, the
    generator's long tail (`LongTail(**tail)`: tags, categories, share, per_post)."""
    generator = load_generator()
    generator.generate(count, root, tail=generator.LongTail(**tail) if tail else None)
    return root


@dataclass(frozen=True, slots=True)
class GeneratedSite:
    config: bytes
    posts: tuple[tuple[str, bytes], ...]  # (bucket key, bytes), oldest first


def generated_posts(count: int, tail: dict[str, Any] | None = None) -> GeneratedSite:
    """The generator's first `count` posts, in memory (keys as `postfeed run` uploads them)."""
    with tempfile.TemporaryDirectory(prefix="postfeed-bench-") as folder:
        root = generate_site(count, Path(folder), tail)
        posts = tuple((f"_posts/{file.name}", file.read_bytes()) for file in sorted((root / "_posts").iterdir()))
        return GeneratedSite(config=(root / "_config.yml").read_bytes(), posts=posts)


def upload_config(pipeline: LocalPipeline, config: bytes) -> None:
    from postfeed_tools.local.uploads import upload_config as upload

    upload(pipeline, config)


# -- seeding ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seeded:
    posts: int  # published posts in the table
    feeds: int  # feeds rebuilt (each once)
    seconds: float


def seed_published(pipeline: LocalPipeline, posts: Sequence[ParsedPost]) -> Seeded:
    """Put `posts` in the table as ingest commits them (post item, memberships, content chunks), skip the
    stream records that wrote, and build every feed once as the feeds function would (archive pages,
    subscription documents, registry, index), so the published state exists before anything is timed."""
    from postfeed.models import feeds_of
    from postfeed.pipeline import ingest
    from postfeed.pipeline.wiring import adapters_from_env
    from postfeed.store.events import ChangeKind, ObjectChange
    from postfeed.store.items import content_hash, utc_instant
    from postfeed.store.records import PUBLISHED, PostState

    started = time.perf_counter()
    instants: dict[FeedRef, set[str]] = {}
    with pipeline.glue.environment_of(pipeline.stack.ingest):
        adapters = adapters_from_env()
        _, config_hash = ingest.current_site(adapters.settings, adapters.table)
        for key, body, post in posts:
            change = ObjectChange(bucket=adapters.settings.posts_bucket, key=key, kind=ChangeKind.PUT, sequencer=None)
            body_hash, warnings = content_hash(body), tuple(post.warnings)
            read = PostState(key, PUBLISHED, body_hash=body_hash, config_hash=config_hash, warnings=warnings)
            ingest.commit_published(change, post, read, writer=pipeline.table)
            for ref in feeds_of(post):
                instants.setdefault(ref, set()).add(utc_instant(post.date))
    rebuild_feeds(pipeline, {ref: page_instants(found) for ref, found in instants.items()})
    skip_stream(pipeline)  # the posts' records and the rebuild's own (feed state, pages): none delivered
    return Seeded(posts=len(posts), feeds=len(instants), seconds=time.perf_counter() - started)


def page_instants(instants: set[str]) -> set[str]:
    """Enough of a feed's entry instants to reach every archive page once: one per day, or one per hour
    of a day too full for a day page (`feeds.archive_pages`: month, day and hour pages of at most PAGE_ENTRIES)."""
    from postfeed.feeds.archive_pages import PAGE_ENTRIES

    days: dict[str, list[str]] = {}
    for instant in instants:
        days.setdefault(instant[:10], []).append(instant)
    chosen: set[str] = set()
    for day in days.values():
        if len(day) > PAGE_ENTRIES:
            chosen |= {min(i for i in day if i[:13] == hour) for hour in {i[:13] for i in day}}
        else:
            chosen.add(min(day))
    return chosen


def skip_stream(pipeline: LocalPipeline) -> None:
    """Move the glue's stream position past every record written so far, delivering none."""
    pipeline.glue.skip_stream()


def rebuild_feeds(pipeline: LocalPipeline, instants: dict[FeedRef, set[str]]) -> None:
    """Rebuild each feed once with the instants of its entries, then the index, through the feeds function's
    own batch policy (same settings, leases, hashes, archive pages); raises the first error it met."""
    from aws_lambda_powertools import Logger

    from postfeed.pipeline.feed_batches import FeedBatches
    from postfeed.pipeline.ingest import current_site
    from postfeed.pipeline.wiring import adapters_from_env

    batches = FeedBatches(logger=Logger(service="postfeed-bench-seed", level="WARNING"), count=lambda *_: None)
    with pipeline.glue.environment_of(pipeline.stack.build_feeds):
        adapters = adapters_from_env()
        site, _ = current_site(adapters.settings, adapters.table)
        done, discovery_error = batches.rebuild_feeds(instants, adapters=adapters, site=site, listing_changed=True)
    for error in [*done.failed.values(), discovery_error]:
        if error is not None:
            raise error


ParsedPost = tuple[str, bytes, "Post"]  # bucket key, bytes, what ingest would publish


def published_by_date(posts: Sequence[tuple[str, bytes]], config: bytes | None) -> list[ParsedPost]:
    """The posts that publish, parsed with the site's `_config.yml` (as the pipeline does: the template's
    defaults only fill what the config leaves out), oldest first (UTC instant, then key)."""
    from postfeed.jekyll import load_site, parse_post
    from postfeed.models import Post

    site = load_site(config)
    parsed = [(key, body, p) for key, body in posts if isinstance(p := parse_post(key, body, site, now=NOW), Post)]
    parsed.sort(key=lambda item: (item[2].date.astimezone(UTC), item[0]))
    return parsed
