"""Parsing many posts at once on every core: `parse_post` is pure, so a site's posts split into chunks that
worker processes parse independently, given back in order (`postfeed.processes`).

For whole sites read at once (`postfeed build`, the pipeline's bulk path). Lambda may import this module:
where processes cannot start, the posts are parsed in this process.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, overload

from postfeed.models import ParseResult, Site

if TYPE_CHECKING:
    from postfeed.jekyll.render_environment import RenderEnvironment

# Posts per task at most: large enough that pickling the site and the results is noise.
CHUNK = 200
# Fewer posts than this are parsed in this process: starting workers would cost more than it saves.
MIN_PARALLEL = 100

Result = TypeVar("Result")


def read_with_parse_post(
    key: str, body: bytes, site: Site, now: datetime, env: RenderEnvironment | None = None
) -> ParseResult:
    """The default reader: `parse_post` at `now` (module-level, so that workers can unpickle it), its Liquid
    reading `env` (default: no site files)."""
    from postfeed.jekyll.posts import parse_post

    if env is None:
        return parse_post(key, body, site, now=now)
    return parse_post(key, body, site, now=now, env=env)


@overload
def parse_many(
    files: Sequence[tuple[str, bytes]],
    site: Site,
    *,
    workers: int | None = None,
    now: datetime | None = None,
    env: RenderEnvironment | None = None,
) -> list[ParseResult]: ...


@overload
def parse_many(
    files: Sequence[tuple[str, bytes]],
    site: Site,
    *,
    workers: int | None = None,
    now: datetime | None = None,
    read: Callable[[str, bytes, Site, datetime], Result],
) -> list[Result]: ...


def parse_many(
    files: Sequence[tuple[str, bytes]],
    site: Site,
    *,
    workers: int | None = None,
    now: datetime | None = None,
    read: Callable[[str, bytes, Site, datetime], Any] = read_with_parse_post,
    env: RenderEnvironment | None = None,
) -> list[Any]:
    """Every (key, body) read under `site` at one instant `now` (default: now), results in the order of `files`.

    `workers` processes (default: every available core) share the work when there is enough of it. `read` is
    what each file goes through: `parse_post` by default; the pipeline's reader records a crash of the parser
    as a rejection, and `postfeed build`'s decides the post's write there too. It must pickle (a module-level
    function, or a `functools.partial` of one). `env` is what the default reader's Liquid reads (includes,
    data, other posts; it must pickle too); default: none of them."""
    from postfeed.processes import available_cores, chunked, map_chunks

    if env is not None and read is read_with_parse_post:
        read = functools.partial(read_with_parse_post, env=env)
    moment = now or datetime.now(UTC)  # one instant for all: `future` posts are judged alike in every worker
    count = workers if workers is not None else available_cores()
    if len(files) < MIN_PARALLEL:
        count = 1
    return map_chunks(_read_chunk, chunked(files, count, most=CHUNK), site, moment, read, workers=count)


def parse_ahead(
    groups: Sequence[Sequence[tuple[str, bytes]]],
    site: Site,
    *,
    now: datetime,
    read: Callable[[str, bytes, Site, datetime], Result],
    workers: int | None = None,
) -> Iterator[list[Result]]:
    """Each group's results in order, one group at a time, while the workers already parse the groups after
    it (a caller that writes one group while the next is parsed keeps every core busy)."""
    from postfeed.processes import available_cores, chunked, imap_chunks

    count = workers if workers is not None else available_cores()
    tasks = [chunked(group, count, most=CHUNK) for group in groups]
    done = imap_chunks(_read_chunk, [task for group in tasks for task in group], site, now, read, workers=count)
    for group in tasks:
        yield [result for _ in group for result in next(done)]


def _read_chunk(
    files: list[tuple[str, bytes]], site: Site, now: datetime, read: Callable[[str, bytes, Site, datetime], Result]
) -> list[Result]:
    return [read(key, body, site, now) for key, body in files]
