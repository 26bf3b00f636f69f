"""The bulk path pages the feeds it created from the memberships it wrote (`bulk.WrittenMembers`), and reads
back the memberships of feeds it did not create: either way it ends where the event path ends."""

from __future__ import annotations

from typing import Any

import pytest
from moto import mock_aws

from postfeed.models import FeedKind, FeedRef
from postfeed.store.pages import FeedPages
from postfeed.store.table import PostWrite
from postfeed_tools.local import bulk
from postfeed_tools.local.bulk import PagesAhead, WrittenMembers
from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT, LocalPipeline
from tests.conftest import CORPUS

SITE = CORPUS / "finews"


@pytest.fixture
def isolated_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in LOCAL_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")


def posts() -> list[tuple[str, bytes]]:
    return sorted((f"_posts/{path.name}", path.read_bytes()) for path in (SITE / "_posts").glob("*.md"))


def documents(
    first: list[tuple[str, bytes]], rest: list[tuple[str, bytes]], *, bulk: bool, workers: int = 1
) -> tuple[dict[str, bytes], int]:
    """Every feeds-bucket object after `first` went through the events and `rest` through the bulk path (or
    the events), and how many member queries paging made meanwhile."""
    queries = 0
    original = FeedPages.members

    def counted(self: FeedPages, *args: Any, **kwargs: Any) -> Any:
        nonlocal queries
        queries += 1
        return original(self, *args, **kwargs)

    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(FeedPages, "members", counted)
        pipeline = LocalPipeline.create(parameters={"PostsLimit": "3"}, feed_base_url="https://feeds.example.com")
        pipeline.upload("_config.yml", (SITE / "_config.yml").read_bytes())
        for key, body in first:
            pipeline.upload(key, body)
        pipeline.settle()
        queries = 0
        if bulk:
            pipeline.bulk_load(rest, chunk=40, workers=workers)
        else:
            for key, body in rest:
                pipeline.upload(key, body)
        pipeline.settle()
        return {key: pipeline.feed(key) or b"" for key in pipeline.feed_keys()}, queries


def test_feeds_the_bulk_path_created_are_paged_without_reading_members_back(isolated_aws: None) -> None:
    files = posts()
    bulk, queries = documents([], files, bulk=True)
    assert queries == 0
    assert bulk == documents([], files, bulk=False)[0]


def test_feeds_with_members_before_the_bulk_load_are_paged_from_the_table(isolated_aws: None) -> None:
    files = posts()
    first, rest = files[: len(files) // 2], files[len(files) // 2 :]
    bulk, queries = documents(first, rest, bulk=True)
    assert queries > 0
    assert bulk == documents(first, rest, bulk=False)[0]


def test_pages_rendered_ahead_on_workers_are_the_pages_rendered_in_place(
    isolated_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = posts()
    monkeypatch.setattr(bulk, "MIN_PAGES_AHEAD", 0)
    taken: list[bool] = []
    original = PagesAhead.take

    def counted(self: PagesAhead, *args: Any) -> Any:
        documents = original(self, *args)
        taken.append(documents is not None)
        return documents

    monkeypatch.setattr(PagesAhead, "take", counted)
    ahead, _ = documents([], files, bulk=True, workers=2)
    assert taken
    assert all(taken)
    assert ahead == documents([], files, bulk=False)[0]


class EmptyTable:
    """A table whose feeds have no memberships, but `had` (which have one)."""

    def __init__(self, had: set[FeedRef]) -> None:
        self.had = had

    def newest_members(self, ref: FeedRef, limit: int) -> list[str]:
        return ["other.md"] if ref in self.had else []


def test_written_members_follow_adds_and_removes_of_created_feeds_only() -> None:
    new, old = FeedRef(FeedKind.TAG, "new"), FeedRef(FeedKind.TAG, "old")
    line = {"title": "a"}
    members = WrittenMembers()
    first = PostWrite("a.md", {}, None, add_members=[(new, "2022-01#a"), (old, "2022-01#a")], member_line=line)
    members.record([first], EmptyTable({old}))  # type: ignore[arg-type]
    moved = PostWrite("a.md", {}, 1, add_members=[(new, "2022-02#a")], remove_members=[(new, "2022-01#a")])
    second = PostWrite("b.md", {}, None, add_members=[(new, "2021-12#b")], member_line=None)
    members.record([moved, second], EmptyTable({old, new}))  # type: ignore[arg-type]
    by_feed = members.by_feed()
    assert list(by_feed) == [new]
    assert [(m.sk, m.key, m.line) for m in by_feed[new]] == [("2021-12#b", "b.md", None), ("2022-02#a", "a.md", None)]
