"""Parsing many posts on every core (postfeed.jekyll.parse_many, postfeed.processes): the results of one
process, in order, at one instant; any picklable reader; in this process where no worker can start."""

from __future__ import annotations

import functools
import threading
from datetime import UTC, datetime

import pytest

from postfeed import processes
from postfeed.jekyll import load_site, parse_many, parse_post
from postfeed.jekyll.parallel import MIN_PARALLEL
from postfeed.models import Post, Site, Skipped

NOW = datetime(2024, 3, 12, tzinfo=UTC)


def files(count: int) -> list[tuple[str, bytes]]:
    """Posts a day apart from 2024-01-01, one of them broken, and some after NOW."""
    posts = []
    for n in range(count):
        day = datetime(2024, 1, 1).toordinal() + n
        name = datetime.fromordinal(day).strftime("%Y-%m-%d")
        title = 'a "broken" title"' if n == 7 else f"Post {n}"
        posts.append((f"_posts/{name}-p{n}.md", f'---\ntitle: "{title}"\n---\n*Body* {n}\n'.encode()))
    return posts


def size_and_title(prefix: str, key: str, body: bytes, site: Site, now: datetime) -> str:
    """A reader of another shape (module-level: workers unpickle it)."""
    result = parse_post(key, body, site, now=now)
    return f"{prefix}{len(body)}:{result.title if isinstance(result, Post) else result.status}"


def test_workers_give_the_results_of_one_process_in_order() -> None:
    site = load_site(b"future: false\n")
    posts = files(MIN_PARALLEL + 20)
    alone = parse_many(posts, site, workers=1, now=NOW)
    shared = parse_many(posts, site, workers=2, now=NOW)
    assert shared == alone
    assert [result.path for result in shared] == [key for key, _ in posts]
    assert alone[7].status == "error"
    # one instant for every worker: the posts after it are future posts, all of them
    future = [key for key, _ in posts if key[7:17] > "2024-03-12"]
    assert future
    assert [r.path for r in shared if isinstance(r, Skipped) and r.reason == "future"] == future


def test_any_picklable_reader_and_its_results() -> None:
    site = load_site(None)
    posts = files(MIN_PARALLEL)
    read = functools.partial(size_and_title, "#")
    results = parse_many(posts, site, workers=2, now=NOW, read=read)
    assert results == [read(key, body, site, NOW) for key, body in posts]
    assert results[3].endswith(":Post 3")


def test_where_no_worker_can_start_the_posts_are_read_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_semaphores(*_: object) -> list[object]:
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(processes, "_in_processes", no_semaphores)
    posts = files(MIN_PARALLEL)
    assert parse_many(posts, load_site(None), workers=2, now=NOW) == parse_many(
        posts, load_site(None), workers=1, now=NOW
    )


def test_chunks_are_bounded_and_several_per_worker() -> None:
    items = list(range(1000))
    chunks = processes.chunked(items, 2, most=200)
    assert [item for chunk in chunks for item in chunk] == items
    assert len(chunks) == 8
    assert max(map(len, processes.chunked(items, 1, most=50))) == 50
    assert processes.chunked([], 2, most=10) == []


def test_beside_other_threads_workers_start_from_a_clean_process() -> None:
    # GIVEN a thread at work (as a local AWS server runs beside `postfeed run`): forking could copy its locks
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait, daemon=True)
    busy.start()
    try:
        # WHEN posts are parsed on two workers THEN they are the posts of one process
        posts = files(MIN_PARALLEL)
        assert parse_many(posts, load_site(None), workers=2, now=NOW) == parse_many(
            posts, load_site(None), workers=1, now=NOW
        )
    finally:
        stop.set()
        busy.join()
