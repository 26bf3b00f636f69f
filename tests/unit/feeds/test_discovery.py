"""The discovery documents' pure rules: listing order, shelves cut by content (a feed coming or going moves only
the shelf it sits in), and what the root, the shelves and the OPML lists hold (feeds.discovery)."""

from __future__ import annotations

import random
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree, html  # type: ignore[import-untyped]

from postfeed.feeds import discovery
from postfeed.feeds.discovery import (
    MAX_HEAD_LINKS,
    SHELF_FOLDER,
    discovery_documents,
    is_cut,
    listing_key,
    plan_shelves,
)
from postfeed.feeds.paths import FeedFormat, feed_page_url, feed_url
from postfeed.models import FeedKind, FeedRef
from tests.unit.feeds.support import make_site

PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
names = st.text(min_size=0, max_size=12) | st.sampled_from(["港股", "A股", "../x", "a/b", "~end", "x" * 400, ""])
refs = st.builds(
    lambda kind, name, collection: FeedRef(kind, "" if kind is FeedKind.SITE else name, collection),
    st.sampled_from(list(FeedKind)),
    names,
    st.sampled_from(["posts", "posts", "docs"]),
)


def documents(feeds: list[FeedRef], **site: Any) -> dict[str, bytes]:
    return {key: body for key, body, _ in discovery_documents(feeds, make_site(**site))}


def test_listing_order_is_sections_then_names() -> None:
    feeds = [FeedRef.tag("b"), FeedRef.category("z"), FeedRef.tag("a"), FeedRef.site(), FeedRef.category("a")]
    assert sorted(feeds, key=listing_key) == [
        FeedRef.site(),
        FeedRef.category("a"),
        FeedRef.category("z"),
        FeedRef.tag("a"),
        FeedRef.tag("b"),
    ]
    # a name that extends another sorts after it; other collections' feeds are told apart
    assert listing_key(FeedRef.tag("a")) < listing_key(FeedRef.tag("a b")) < listing_key(FeedRef.tag("ab"))
    assert listing_key(FeedRef.category("x")) != listing_key(FeedRef.category("x", "docs"))


@given(st.sets(refs, max_size=30))
def test_listing_keys_are_distinct_short_and_start_with_their_section(feeds: set[FeedRef]) -> None:
    keys = {listing_key(ref) for ref in feeds}
    assert len(keys) == len(feeds)
    for ref in feeds:
        key = listing_key(ref)
        assert len(key.encode("utf-8", "surrogatepass")) <= 400  # a DynamoDB sort key holds 1,024 bytes
        assert discovery.section_start(ref.kind) < key < discovery.section_end(ref.kind)


@settings(max_examples=200)
@given(st.sets(refs, max_size=60), refs, st.sampled_from((1, 2, 3, 4, 8)))
def test_a_feed_coming_changes_only_the_run_it_lands_in(feeds: set[FeedRef], new: FeedRef, span: int) -> None:
    with mock.patch.object(discovery, "SHELF_SPAN", span):
        before = set(plan_shelves(feeds - {new}))
        after = set(plan_shelves(feeds | {new}))
        # every feed on exactly one shelf, in listing order; no shelf over twice the span; a shelf is keyed by
        # its last feed, but the run after a section's last cut
        for plan, listed in ((before, feeds - {new}), (after, feeds | {new})):
            placed = [ref for shelf in plan for ref in shelf.feeds]
            assert sorted(placed, key=listing_key) == sorted(listed, key=listing_key)
            for shelf in plan:
                assert list(shelf.feeds) == sorted(shelf.feeds, key=listing_key)
                assert len(shelf.feeds) <= 2 * span
                last = shelf.feeds[-1]
                section = sorted((ref for ref in listed if ref.kind is shelf.section), key=listing_key)
                trailing = last == section[-1] and not is_cut(last)
                assert shelf.key == (discovery.section_end(shelf.section) if trailing else listing_key(last))
        # what changes is within the run the new feed lands in (from the cut before it to the cut after it)
        ordered = sorted((ref for ref in feeds | {new} if ref.kind is new.kind), key=listing_key)
        at = ordered.index(new)
        start = next((i + 1 for i in range(at - 1, -1, -1) if is_cut(ordered[i])), 0)
        stop = next((i + 1 for i in range(at + 1, len(ordered)) if is_cut(ordered[i])), len(ordered))
        window = set(ordered[start:stop])
        for shelf in before ^ after:
            assert set(shelf.feeds) <= window


@given(st.sets(refs, max_size=25), st.randoms(use_true_random=False))
def test_the_documents_depend_on_the_set_of_feeds_alone(feeds: set[FeedRef], rng: random.Random) -> None:
    ordered = sorted(feeds, key=listing_key)
    shuffled = list(feeds)
    rng.shuffle(shuffled)
    with mock.patch.object(discovery, "SHELF_SPAN", 2):
        assert discovery_documents(ordered, make_site()) == discovery_documents(shuffled + shuffled, make_site())


@settings(max_examples=60)
@given(st.sets(refs, min_size=1, max_size=25), st.sampled_from((1, 2, 3, 64)))
def test_every_feed_is_listed_once_and_every_link_has_its_document(feeds: set[FeedRef], span: int) -> None:
    site = make_site()
    with mock.patch.object(discovery, "SHELF_SPAN", span):
        docs = documents(sorted(feeds, key=listing_key))
    base = "https://news.example.org/"
    # shelves stay in their folder, one segment each, whatever the names
    for key in docs:
        if key.startswith(SHELF_FOLDER + "/"):
            _folder, section, name = key.split("/")
            assert section in ("site", "categories", "tags")
            assert name not in ("", ".", "..")
            assert "\\" not in name
    index = html.document_fromstring(docs["index.html"])
    shelf_pages = [href.removeprefix(base) for href in index.xpath("//ul[@class='shelves']/li/a[1]/@href")]
    pages = [index, *(html.document_fromstring(docs[_key(href)]) for href in shelf_pages)]
    listed = [href for page in pages for href in page.xpath("//section/ul[not(@class)]/li/a[1]/@href")]
    assert sorted(listed) == sorted(feed_page_url(ref, site) for ref in feeds)
    # the OPML lists: the root's rss outlines and those of the shelves it includes, each feed once
    root = etree.fromstring(docs["feeds.opml"], PARSER)
    included = [url.removeprefix(base) for url in root.xpath("//outline[@type='include']/@url")]
    assert [_key(url) for url in included] == [_key(href).removesuffix(".html") + ".opml" for href in shelf_pages]
    lists = [root, *(etree.fromstring(docs[_key(url)], PARSER) for url in included)]
    subscribed = [url for doc in lists for url in doc.xpath("//outline[@type='rss']/@xmlUrl")]
    assert sorted(subscribed) == sorted(feed_url(ref, FeedFormat.ATOM, site) for ref in feeds)
    for doc in lists:
        assert doc.get("version") == "2.0"
        assert doc.find("head/dateModified") is None
    # every shelf document is linked (no orphan), and a one-shelf section has none
    assert {key for key in docs if key.startswith(SHELF_FOLDER + "/")} == {_key(href) for href in shelf_pages} | {
        _key(url) for url in included
    }


def _key(url: str) -> str:
    from urllib.parse import unquote

    return unquote(url)


def test_a_small_site_is_listed_in_full_on_the_root() -> None:
    feeds = [FeedRef.site(), FeedRef.category("emnews"), FeedRef.tag("港股")]
    docs = documents(feeds)
    assert set(docs) == {"feed.xsl", "feeds.opml", "index.html"}
    index = html.document_fromstring(docs["index.html"])
    assert [h.text_content() for h in index.xpath("//h2")] == ["Site (1)", "Categories (1)", "Tags (1)"]


def test_a_large_section_is_linked_by_shelf_labelled_with_its_first_and_last_feed() -> None:
    tags = [FeedRef.tag(f"t{n:03d}") for n in range(300)]
    with mock.patch.object(discovery, "SHELF_SPAN", 16):
        docs = documents([FeedRef.site(), *tags])
        shelves = plan_shelves(tags)
    assert len(shelves) > 2
    index = html.document_fromstring(docs["index.html"])
    labels = index.xpath("//section[@id='tag']/ul[@class='shelves']/li/a[1]/text()")
    assert labels == [
        f"#{s.feeds[0].name}" if len(s.feeds) == 1 else f"#{s.feeds[0].name} – #{s.feeds[-1].name}" for s in shelves
    ]
    # the root's head advertises the site feed only (the tags are a shelf away); a shelf's head its own feeds
    alternates = index.xpath("//head/link[@rel='alternate']/@href")
    assert alternates == [feed_url(FeedRef.site(), fmt, make_site()) for fmt in FeedFormat]
    key = f"{SHELF_FOLDER}/tags/~end.html"
    if key in docs:
        page = html.document_fromstring(docs[key])
        assert len(page.xpath("//head/link[@rel='alternate']")) <= MAX_HEAD_LINKS


def test_names_become_safe_shelf_keys() -> None:
    hostile = [FeedRef.tag(name) for name in ("../../etc", "a/b", "~end", "", "x" * 500, "a\\b")]
    with mock.patch.object(discovery, "SHELF_SPAN", 1):  # every feed a cut: a shelf each
        docs = documents(hostile)
    shelf_keys = sorted(key for key in docs if key.startswith(SHELF_FOLDER + "/"))
    assert len(shelf_keys) == 2 * len(hostile)
    for key in shelf_keys:
        assert key.count("/") == 2
        assert ".." not in key.split("/")
        assert "\\" not in key
