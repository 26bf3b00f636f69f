"""Pure work shared out over processes: chunks of one task's inputs mapped on every core, results in order.

Parsing a site's posts (`jekyll.parse_many`) and rendering its feeds (`local.sitefeeds`) are pure and CPU
bound, so they scale with processes, not threads. Lambda may import this module: the process machinery is
imported only when a pool starts, and where processes cannot start (Lambda has no /dev/shm for their
semaphores) the chunks run in this process instead.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.context import BaseContext

Item = TypeVar("Item")
Result = TypeVar("Result")

TASKS_PER_WORKER = 4  # several chunks per worker, so that the workers finish together
# Modules a fork server imports once for all its workers: the heavy ones of parsing and rendering.
PRELOAD = ("postfeed.jekyll.posts", "postfeed.pipeline.ingest", "postfeed.feeds.render", "postfeed.feeds.archive_pages")


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform says, else every core)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def chunked(items: Sequence[Item], workers: int, *, most: int) -> list[list[Item]]:
    """`items` in consecutive chunks of at most `most`, about TASKS_PER_WORKER per worker."""
    size = max(1, min(most, math.ceil(len(items) / (max(1, workers) * TASKS_PER_WORKER))))
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def map_chunks(
    function: Callable[..., list[Result]], chunks: Sequence[Sequence[Item]], *shared: Any, workers: int
) -> list[Result]:
    """`function(chunk, *shared)` for each chunk, concatenated in chunk order: on `workers` processes when there
    are two or more of both, else here. `function` and `shared` must pickle (a module-level function, frozen
    dataclasses)."""
    if workers < 2 or len(chunks) < 2:
        return [result for chunk in chunks for result in function(chunk, *shared)]
    try:
        return _in_processes(function, chunks, shared, min(workers, len(chunks)))
    except OSError:  # no semaphores or no fork here (Lambda, some sandboxes)
        return [result for chunk in chunks for result in function(chunk, *shared)]


def imap_chunks(
    function: Callable[..., list[Result]], chunks: Sequence[Sequence[Item]], *shared: Any, workers: int
) -> Iterator[list[Result]]:
    """`map_chunks` one chunk at a time: every chunk is given to the workers at once, and each chunk's results
    come back in order as soon as they are ready, so the caller works on the first while the rest are done."""
    here = (function(chunk, *shared) for chunk in chunks)
    if workers < 2 or len(chunks) < 2:
        yield from here
        return
    arguments = [[argument] * len(chunks) for argument in shared]
    with contextlib.ExitStack() as stack:
        try:
            pool = stack.enter_context(_pool(min(workers, len(chunks))))
            results = pool.map(function, chunks, *arguments)  # every chunk submitted now
        except OSError:  # no semaphores or no fork here (Lambda, some sandboxes)
            results = here
        yield from results


def _in_processes(
    function: Callable[..., list[Result]], chunks: Sequence[Sequence[Item]], shared: tuple[Any, ...], workers: int
) -> list[Result]:
    arguments = [[argument] * len(chunks) for argument in shared]
    with _pool(workers) as pool:
        return [result for results in pool.map(function, chunks, *arguments) for result in results]


def _pool(workers: int) -> ProcessPoolExecutor:
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor

    context: BaseContext | None = None  # alone, the platform's default: fork on Linux, the cheapest start
    if threading.active_count() > 1:
        # Forking a process that runs other threads (a local AWS server, an upload pool) can copy a lock one of
        # them holds (an import's, a log handler's) into a worker that then waits forever. A fork server is
        # single-threaded, and cheap once started (the parser and renderers preloaded); else fresh interpreters.
        if "forkserver" in multiprocessing.get_all_start_methods():
            server = multiprocessing.get_context("forkserver")
            server.set_forkserver_preload(list(PRELOAD))
            context = server
        else:
            context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)
