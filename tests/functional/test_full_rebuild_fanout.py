"""A deployed full rebuild in two phases (postfeed.pipeline.fanout), on moto through the template's stack and
the real handlers: the batches re-ingest every post and record what they touched, the stream renders none of
it, and once every batch is done each touched feed is rendered once from the render queue. The end state is
the one a fresh load under the new settings makes (table items and every document's bytes), whatever the
order and repetition of the work messages, a render group that fails once, uploads meanwhile, or a second
rebuild started during the first."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from postfeed.models import FeedRef
from postfeed.pipeline import fanout, rebuild, reparse
from postfeed.store.rebuilds import RebuildLedger
from postfeed.store.work import WorkQueue
from postfeed_tools.benchmark.harness import generate_site
from postfeed_tools.local.pipeline import LocalPipeline
from postfeed_tools.local.sitefiles import collect_site
from tests.conftest import CORPUS
from tests.functional.test_bulk import assert_same, end_state, isolated_aws  # noqa: F401 (a fixture)

FEED_BASE_URL = "https://feeds.example.com"
State = tuple[dict[tuple[str, str], dict[str, Any]], dict[str, bytes]]


def new_settings(config: bytes, title: str = "Rebuilt title") -> bytes:
    """The site's `_config.yml` with another title and the UTC zone (every entry's date and page may move)."""
    text = config.decode()
    for key, value in (("title", title), ("timezone", "UTC")):
        line = f"{key}: {value}"
        text, found = re.subn(rf"^{key}:.*$", line, text, flags=re.MULTILINE)
        if not found:
            text += f"\n{line}\n"
    return text.encode()


class Renders:
    """Every `rebuild_feed` call (the stream's and phase 2's), by feed; `fail` makes chosen calls raise."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: Counter[FeedRef] = Counter()
        self.fail: Callable[[FeedRef, int], bool] = lambda ref, n: False
        real = rebuild.rebuild_feed

        def counted(ref: FeedRef, **kwargs: Any) -> Any:
            self.calls[ref] += 1
            if self.fail(ref, self.calls[ref]):
                raise RuntimeError(f"injected: rendering {ref.name or 'the site feed'} failed")
            return real(ref, **kwargs)

        # Before any handler is loaded, so the feed function binds the counting one too.
        monkeypatch.setattr(rebuild, "rebuild_feed", counted)

    def reset(self) -> Counter[FeedRef]:
        calls, self.calls = self.calls, Counter()
        return calls


@pytest.fixture
def renders(isolated_aws: None, monkeypatch: pytest.MonkeyPatch) -> Renders:  # noqa: F811
    return Renders(monkeypatch)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plan steps of 12 keys, batches of 5: many batches and plan steps from a small site."""
    monkeypatch.setattr(reparse, "PLAN_KEYS", 12)
    monkeypatch.setattr(reparse, "BATCH_KEYS", 5)


def batches_of(posts: int) -> int:
    """Batch messages a rebuild of this many posts sends (`small_batches`: steps of 12 keys, batches of 5)."""
    steps = [min(12, posts - start) for start in range(0, posts, 12)]
    return sum(-(-step // 5) for step in steps)


def site_files(site_dir: Path) -> tuple[bytes, list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    site = collect_site(site_dir)
    config = site.config.read_bytes() if site.config is not None else b""
    return (
        config,
        [(key, file.read_bytes()) for key, file in site.site_files],
        [(key, file.read_bytes()) for key, file in site.posts],
    )


def loaded(
    config: bytes, files: Sequence[tuple[str, bytes]], posts: Sequence[tuple[str, bytes]], **parameters: Any
) -> LocalPipeline:
    """A stack (on the moto that is open) with the site loaded through the bulk path."""
    pipeline = LocalPipeline.create(parameters=parameters or None, feed_base_url=FEED_BASE_URL)
    pipeline.upload("_config.yml", config)
    for key, body in files:
        pipeline.upload(key, body)
    pipeline.settle()
    pipeline.bulk_load(posts, chunk=60, workers=1)
    return pipeline


def published(pipeline: LocalPipeline) -> State:
    """The end state as a site publishes it: without the rebuild's own records (its ledger, which expires) and
    the post items' `generation` (which rebuild last re-read them)."""
    items, documents = end_state(pipeline)
    kept = {
        key: {k: v for k, v in item.items() if k != "generation"}
        for key, item in items.items()
        if not key[0].startswith("REBUILD#")
    }
    return kept, documents


def fresh(
    config: bytes, files: Sequence[tuple[str, bytes]], posts: Sequence[tuple[str, bytes]], **params: Any
) -> State:
    """What a stack loaded with `config` from the start publishes (the bulk path equals the event path:
    tests/functional/test_bulk.py)."""
    with mock_aws():
        return published(loaded(config, files, posts, **params))


def ledger_of(pipeline: LocalPipeline) -> RebuildLedger:
    return RebuildLedger(pipeline.table)


def generations(pipeline: LocalPipeline) -> set[str | None]:
    items, _ = end_state(pipeline)
    return {item.get("generation") for key, item in items.items() if key[1] == "POST"}


def rebuild_of(pipeline: LocalPipeline) -> str:
    (generation,) = {g for g in generations(pipeline) if g}
    assert generation.startswith("full-")
    return generation


@pytest.mark.parametrize("corpus", ["finews", "jekyll__jekyll"])
def test_a_full_rebuild_renders_each_touched_feed_once_and_ends_where_a_fresh_load_ends(
    renders: Renders, small_batches: None, corpus: str
) -> None:
    config, files, posts = site_files(CORPUS / corpus)
    rebuilt = new_settings(config)
    with mock_aws():
        pipeline = loaded(config, files, posts)
        renders.reset()
        # WHEN a new _config.yml arrives on the deployed stack
        pipeline.upload("_config.yml", rebuilt)
        delivery = pipeline.settle()
        # THEN each feed was rendered exactly once, all of it in phase 2 (the render queue), none by the stream
        calls = renders.reset()
        generation = rebuild_of(pipeline)
        touched = ledger_of(pipeline).touched_feeds(generation)
        assert touched
        assert calls == dict.fromkeys(touched, 1)
        assert delivery.render_messages == -(-len(touched) // 50)
        progress = ledger_of(pipeline).progress(generation)
        assert progress["done"] == progress["planned"] == batches_of(len(posts))
        state = published(pipeline)
    # AND the site is what a stack loaded under the new settings from the start publishes
    assert_same(state, fresh(rebuilt, files, posts))


@pytest.fixture(scope="module")
def generated_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_site(120, tmp_path_factory.mktemp("generated"))


def test_a_full_rebuild_of_a_generated_site_with_archive_pages(
    renders: Renders, small_batches: None, generated_site: Path
) -> None:
    config, files, posts = site_files(generated_site)
    rebuilt = new_settings(config)
    with mock_aws():
        pipeline = loaded(config, files, posts, PostsLimit="3")  # small feeds: most entries on archive pages
        assert any("/archive/" in key for key in pipeline.feed_keys())
        renders.reset()
        pipeline.upload("_config.yml", rebuilt)
        pipeline.settle()
        calls = renders.reset()
        assert set(calls.values()) == {1}
        assert len(calls) == len(ledger_of(pipeline).touched_feeds(rebuild_of(pipeline)))
        state = published(pipeline)
    assert_same(state, fresh(rebuilt, files, posts, PostsLimit="3"))


def test_a_large_feed_is_rendered_a_slice_of_months_at_a_time(
    renders: Renders, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, files, posts = site_files(CORPUS / "finews")  # 106 posts in 2021-12, 14 in four months of 2022
    rebuilt = new_settings(config)
    monkeypatch.setattr(fanout, "RENDER_ENTRIES", 5)
    with mock_aws():
        pipeline = loaded(config, files, posts)
        renders.reset()
        pipeline.upload("_config.yml", rebuilt)
        delivery = pipeline.settle()
        calls = renders.reset()
        # THEN the site feed went back to the render queue with its later months, a slice per invocation
        assert calls[FeedRef.site()] >= 3
        groups = -(-len(ledger_of(pipeline).touched_feeds(rebuild_of(pipeline))) // 50)
        assert delivery.render_messages >= groups + 2
        state = published(pipeline)
    assert_same(state, fresh(rebuilt, files, posts))


def shuffled_and_doubled(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """Every batch and render group sent twice, in shuffled order (plan steps once: each sends the next)."""
    rng = random.Random(seed)
    real_send_all = WorkQueue.send_all

    def send_all(self: WorkQueue, items: Sequence[Any]) -> None:
        doubled = [*items, *items]
        rng.shuffle(doubled)
        real_send_all(self, doubled)

    monkeypatch.setattr(WorkQueue, "send_all", send_all)


def test_shuffled_and_duplicated_work_messages_count_each_batch_once(
    renders: Renders, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, files, posts = site_files(CORPUS / "finews")
    rebuilt = new_settings(config)
    with mock_aws():
        pipeline = loaded(config, files, posts)
        renders.reset()
        shuffled_and_doubled(monkeypatch, seed=13)
        pipeline.upload("_config.yml", rebuilt)
        pipeline.settle()
        generation = rebuild_of(pipeline)
        progress = ledger_of(pipeline).progress(generation)
        # every batch counted once, though each arrived at least twice; phase 2 enqueued once (its groups doubled)
        assert progress["done"] == progress["planned"] == batches_of(len(posts))
        assert progress["enqueued"] == 1
        touched = ledger_of(pipeline).touched_feeds(generation)
        assert renders.reset() == dict.fromkeys(touched, 2)  # a duplicated group renders again: harmless
        state = published(pipeline)
    assert_same(state, fresh(rebuilt, files, posts))


def test_a_failed_render_group_is_retried_alone(renders: Renders, monkeypatch: pytest.MonkeyPatch) -> None:
    config, files, posts = site_files(CORPUS / "finews")
    rebuilt = new_settings(config)
    monkeypatch.setattr("postfeed.pipeline.fanout.RENDER_GROUP", 3)
    with mock_aws():
        pipeline = loaded(config, files, posts)
        renders.reset()
        victim: list[FeedRef] = []

        def fail(ref: FeedRef, attempt: int) -> bool:  # the first tag feed rendered fails once
            if not victim and ref.kind.value == "tag":
                victim.append(ref)
            return ref in victim and attempt == 1

        renders.fail = fail
        pipeline.upload("_config.yml", rebuilt)
        delivery = pipeline.settle()
        generation = rebuild_of(pipeline)
        touched = ledger_of(pipeline).touched_feeds(generation)
        calls = renders.reset()
        # THEN only the failed group ran again: its feeds twice, every other feed once
        assert delivery.render_failures == 1
        (group,) = [touched[i : i + 3] for i in range(0, len(touched), 3) if victim[0] in touched[i : i + 3]]
        assert calls == {ref: 2 if ref in group else 1 for ref in touched}
        state = published(pipeline)
    renders.fail = lambda ref, n: False
    assert_same(state, fresh(rebuilt, files, posts))


def pump_some(pipeline: LocalPipeline, invocations: int) -> None:
    """Some ingest invocations (rebuild steps and events alike), and what their stream records render."""
    for _ in range(invocations):
        pipeline.glue.pump_queue()
    pipeline.glue.pump_stream()


def test_uploads_during_a_rebuild_render_as_usual_and_the_end_state_holds_them(
    renders: Renders, small_batches: None
) -> None:
    config, files, posts = site_files(CORPUS / "finews")
    rebuilt = new_settings(config)
    keys = [key for key, _ in posts]
    first, last = keys[0], keys[-1]  # re-ingested early, and late
    edits = {first: dict(posts)[first] + "\n\n改写一。\n".encode(), last: dict(posts)[last] + "\n\n改写二。\n".encode()}
    added = ("_posts/2030-01-02-new.md", b"---\ntitle: New during the rebuild\ncategories: [fresh]\n---\nHello.\n")
    with mock_aws():
        pipeline = loaded(config, files, posts)
        pipeline.upload("_config.yml", rebuilt)
        pump_some(pipeline, 3)  # the config, the first plan step, its first batches
        renders.reset()
        # WHEN posts are edited and added while the rebuild runs
        for key, body in [*edits.items(), added]:
            pipeline.upload(key, body)
        pump_some(pipeline, 2)
        # THEN the stream rendered the uploads' feeds at once (the new post's category among them)
        assert renders.calls[FeedRef.category("fresh")] >= 1
        pipeline.settle()
        state = published(pipeline)
    final = [(key, edits.get(key, body)) for key, body in posts] + [added]
    assert_same(state, fresh(rebuilt, files, final))


def test_a_second_rebuild_during_the_first_wins(renders: Renders, small_batches: None) -> None:
    config, files, posts = site_files(CORPUS / "finews")
    first, second = new_settings(config, "First rebuild"), new_settings(config, "Second rebuild")
    with mock_aws():
        pipeline = loaded(config, files, posts)
        pipeline.upload("_config.yml", first)
        pump_some(pipeline, 4)
        # WHEN another config arrives before the first rebuild is done
        pipeline.upload("_config.yml", second)
        pipeline.settle()
        # THEN every post carries the newer rebuild's generation, and the feeds show the newer settings
        (newer,) = generations(pipeline)
        assert newer is not None
        older = {g for g in _rebuild_generations(pipeline) if g != newer}
        assert older
        assert all(g < newer for g in older)
        assert b"Second rebuild" in (pipeline.feed("feed.xml") or b"")
        state = published(pipeline)
    assert_same(state, fresh(second, files, posts))


def _rebuild_generations(pipeline: LocalPipeline) -> Iterator[str]:
    items, _ = end_state(pipeline)
    for pk, sk in items:
        if pk.startswith("REBUILD#") and sk == "COUNT":
            yield pk.removeprefix("REBUILD#")
