"""The pure rules of a full rebuild's second phase (postfeed.pipeline.fanout)."""

from __future__ import annotations

from postfeed.models import FeedRef
from postfeed.pipeline import fanout
from postfeed.store.items import POST_SK, post_state
from postfeed.store.rebuilds import before_item
from postfeed.store.records import PostState


def entry(date: str, *, categories: list[str], digest: str = "h1") -> dict[str, object]:
    return {"hash": digest, "date": date, "categories": categories, "tags": [], "title": "not needed"}


def test_full_rebuild_generations_sort_by_start_and_are_told_apart() -> None:
    first, second = fanout.full_generation(), fanout.full_generation()
    assert first < second
    assert fanout.is_full_rebuild(first)
    assert fanout.full_generation(first) == first  # marking twice changes nothing
    assert not fanout.is_full_rebuild("due-2026-11-01T00:00:00Z")  # due posts: rendered by the stream
    assert not fanout.is_full_rebuild(None)


def stored(generation: str) -> PostState:
    return PostState("p", "published", generation=generation)


def test_a_newer_full_rebuild_is_not_overwritten_by_an_older_one() -> None:
    older, newer = fanout.full_generation(), fanout.full_generation()
    assert fanout.superseded(older, stored(newer))
    assert not fanout.superseded(newer, stored(older))
    assert not fanout.superseded(older, stored(older))
    assert not fanout.superseded(None, stored(newer))  # an upload keeps the item's generation
    assert not fanout.superseded(older, stored("an-authors-change"))
    assert not fanout.superseded(older, None)


def test_the_stream_defers_only_what_a_full_rebuild_wrote() -> None:
    generation = fanout.full_generation()
    old = {"sk": POST_SK, "generation": "before", "entry": entry("2026-11-01T09:00:00+08:00", categories=["a"])}
    rebuilt = {**old, "generation": generation}
    edited = {**rebuilt, "entry": entry("2026-11-01T09:00:00+08:00", categories=["b"], digest="h2")}
    assert fanout.deferred(post_state(old), post_state(rebuilt))
    assert fanout.stream_pages(old, rebuilt) == {}
    assert fanout.stream_pages(old, rebuilt, phase2=False)  # no render queue: the stream renders it, as before
    assert not fanout.deferred(
        post_state(rebuilt), post_state(edited)
    )  # an upload during the rebuild keeps the generation: rendered
    assert set(fanout.stream_pages(rebuilt, edited)) == {FeedRef.site(), FeedRef.category("a"), FeedRef.category("b")}
    authors = {**old, "generation": "0123abcd"}  # an authors change's re-render
    assert not fanout.deferred(post_state(old), post_state(authors))


def test_a_batch_records_the_feeds_its_posts_left_and_joined() -> None:
    generation = fanout.full_generation()
    kept = before_item(
        post_state({"sk": POST_SK, "generation": "g0", "entry": entry("2026-11-01T01:00:00+00:00", categories=["a"])})
    )
    assert "title" not in kept["entry"]  # cut to what the rule reads
    before = {"p": post_state(kept)}
    after = {
        "p": post_state(
            {"sk": POST_SK, "generation": generation, "entry": entry("2026-10-31T17:00:00+00:00", categories=["b"])}
        )
    }
    touched = fanout.batch_touched(["p", "p"], before, after)
    assert touched == {
        FeedRef.site(): ["2026-10-31T17:00:00Z", "2026-11-01T01:00:00Z"],
        FeedRef.category("a"): ["2026-11-01T01:00:00Z"],
        FeedRef.category("b"): ["2026-10-31T17:00:00Z"],
    }


def test_a_large_feed_is_sliced_by_whole_months() -> None:
    instants = [f"2026-0{month}-{day:02d}T00:00:00Z" for month in (1, 2, 3) for day in range(1, 11)]
    assert fanout.month_slice(instants, limit=30) == (sorted(instants), "")
    first, later = fanout.month_slice(instants, limit=25)
    assert (len(first), later) == (20, "2026-03")  # not a month cut in two
    alone, later = fanout.month_slice(instants, limit=5)
    assert (len(alone), later) == (10, "2026-02")  # a month over the limit goes alone


def test_render_groups_hold_at_most_a_group_of_feeds() -> None:
    refs = [FeedRef.category(f"c{i:03d}") for i in range(120)]
    groups = fanout.render_groups("full-x", refs, size=50)
    assert [len(g.feeds) for g in groups] == [50, 50, 20]
    assert fanout.group_refs(groups[2]) == refs[100:]
