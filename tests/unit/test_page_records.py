"""The records of store/pages.py's items read what the items hold and encode them as they were always written
(attribute names and order, None ones left for the update to remove)."""

from __future__ import annotations

from postfeed.models import FeedKind, FeedRef
from postfeed.store.pages import (
    archive_page,
    index_attributes,
    index_state,
    page_attributes,
    shelf_attributes,
    shelf_state,
)
from postfeed.store.records import ArchivePage, IndexState, ShelfState


def test_an_archive_page_reads_its_item_and_writes_count_links_and_hashes_in_order() -> None:
    item = {"pk": "FEED#site", "sk": "~PAGE#2022-03", "page": "2022-03", "count": 7, "next": "2022-04"}
    page = archive_page(item | {"hashes": {"a.xml": "1"}})
    assert page == ArchivePage("2022-03", 7, None, "2022-04", {"a.xml": "1"})
    assert list(page_attributes(page).items()) == [
        ("count", 7),
        ("prev", None),
        ("next", "2022-04"),
        ("hashes", {"a.xml": "1"}),
    ]
    assert archive_page({"sk": "~PAGE#2022-05"}) == ArchivePage("2022-05")


def test_a_shelf_reads_its_feeds_as_refs_and_writes_them_as_maps_with_their_collection() -> None:
    first, last = FeedRef(FeedKind.TAG, "a"), FeedRef(FeedKind.TAG, "m", "notes")
    item = {
        "pk": "FEEDS",
        "sk": "~SHELF#3m",
        "section": "tag",
        "count": 12,
        "first": {"kind": "tag", "name": "a", "collection": "posts"},
        "last": {"kind": "tag", "name": "m", "collection": "notes"},
        "hashes": {},
    }
    shelf = shelf_state(item)
    assert shelf == ShelfState("3m", "tag", 12, first, last, {})
    assert shelf_attributes(shelf) == {key: item[key] for key in ("section", "count", "first", "last", "hashes")}
    assert list(shelf_attributes(shelf)) == ["section", "count", "first", "last", "hashes"]
    assert shelf_state({"sk": "~SHELF#x"}) == ShelfState("x")


def test_the_index_state_sets_only_what_it_holds() -> None:
    state = index_state({"pk": "FEEDS", "sk": "~INDEX", "hashes": {"index.html": "h"}, "site": "f", "feeds": 3})
    assert state == IndexState({"index.html": "h"}, "f", 3, None)
    assert list(index_attributes(IndexState({}, "f", 0, 1)).items()) == [
        ("hashes", {}),
        ("site", "f"),
        ("feeds", 0),
        ("shelving", 1),
    ]
    assert index_attributes(IndexState()) == {}
