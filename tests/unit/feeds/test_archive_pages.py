"""Archive paging rules and archive documents (RFC 5005 §4, Appendix B), pure: no AWS."""

from __future__ import annotations

import itertools
import string

import feedparser
import pytest
from hypothesis import given
from hypothesis import strategies as st

from postfeed.feeds import FeedFormat, render_feed
from postfeed.feeds.archive_pages import (
    PAGE_ENTRIES,
    SUMMARY_CHARS,
    page_label,
    page_links,
    plan_feed,
    plan_pages,
    region_to_replan,
    render_archive_page,
    subscription_history,
)
from postfeed.feeds.paths import archive_key, archive_url, is_page_id, stylesheet_href
from postfeed.models import FeedRef, FeedSettings
from tests.unit.feeds.support import NS, by_format, check_atom, check_rss, make_post, make_site, xml_root

FH = {"fh": "http://purl.org/syndication/history/1.0", **NS}


def keys(*instants: str) -> list[str]:
    return [f"{instant}#/x/{n}#_posts/{n}.md" for n, instant in enumerate(instants)]


def test_a_month_under_the_threshold_is_one_page() -> None:
    sort_keys = keys("2022-03-01T00:00:00Z", "2022-03-31T23:59:59Z")
    assert plan_pages(sort_keys, "2022-03", limit=2) == {"2022-03": sorted(sort_keys)}
    assert region_to_replan("2022-03-05T07:00:00Z", {"2022-03": 2}, [], limit=2) == "2022-03"


def test_a_month_over_the_threshold_splits_into_days_and_a_full_day_into_hours() -> None:
    sort_keys = keys(
        "2022-03-01T00:00:00Z",
        "2022-03-02T01:00:00Z",
        "2022-03-02T01:30:00Z",
        "2022-03-02T05:00:00Z",
    )
    plan = plan_pages(sort_keys, "2022-03", limit=2)
    assert list(plan) == ["2022-03-01", "2022-03-02T01", "2022-03-02T05"]
    assert sum(len(v) for v in plan.values()) == 4
    counts = {page: len(members) for page, members in plan.items()}
    assert region_to_replan("2022-03-01T00:00:00Z", counts, [], limit=2) == "2022-03-01"
    assert region_to_replan("2022-03-02T01:30:00Z", counts, [], limit=2) == "2022-03-02T01"
    # a new hour of the split day, a new day of the split month, a new month: where their pages go
    assert region_to_replan("2022-03-02T09:00:00Z", counts, [], limit=2) == "2022-03-02T09"
    assert region_to_replan("2022-03-07T09:00:00Z", counts, [], limit=2) == "2022-03-07"
    assert region_to_replan("2022-04-07T09:00:00Z", {}, [], limit=2) == "2022-04"
    # a removal that may bring the month back to one page widens the region to the month
    touched = ["2022-03-02T05:00:00Z", "2022-03-02T01:00:00Z"]
    assert region_to_replan(touched[0], counts, touched, limit=2) == "2022-03"


def test_an_hour_is_never_split_and_an_empty_region_has_no_page() -> None:
    sort_keys = keys(*["2022-03-02T01:00:00Z"] * 5)
    assert list(plan_pages(sort_keys, "2022-03", limit=2)) == ["2022-03-02T01"]
    assert plan_pages([], "2022-03", limit=2) == {}


instants = st.builds(
    lambda y, mo, d, h, mi: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:00Z",
    st.integers(2020, 2021),
    st.integers(1, 2),
    st.integers(1, 3),
    st.integers(0, 2),
    st.integers(0, 59),
)


@given(st.lists(instants, max_size=40), st.integers(1, 6))
def test_every_entry_is_on_exactly_one_page_and_pages_never_overlap(raw: list[str], limit: int) -> None:
    sort_keys = keys(*raw)
    plan = plan_feed(sort_keys, limit)
    held = [key for page in plan.values() for key in page]
    assert sorted(held) == sorted(sort_keys)
    pages = sorted(plan)
    for a, b in itertools.pairwise(pages):
        assert not b.startswith(a), "pages never overlap"
    for page, members in plan.items():
        assert len(page) == 13 or len(members) <= limit


@given(st.lists(instants, max_size=40), st.lists(instants, max_size=8), st.data(), st.integers(1, 6))
def test_replanning_the_regions_of_a_change_gives_the_pages_of_a_full_plan(
    before: list[str], added: list[str], data: st.DataObject, limit: int
) -> None:
    """The archive update's rule: pages re-planned only in the regions of the touched instants (added and
    removed entries), from the stored pages' counts, end up exactly as planning everything from scratch."""
    old_keys = keys(*before)
    removed = data.draw(st.lists(st.sampled_from(old_keys), unique=True) if old_keys else st.just([]))
    new_keys = [key for key in old_keys if key not in removed] + [f"{i}#/new/{n}" for n, i in enumerate(added)]
    old_plan = plan_feed(old_keys, limit)
    changes = [key[:20] for key in removed] + added  # one per changed entry, as the feed function passes them
    regions: set[str] = set()
    for instant in set(changes):
        counts = {page: len(members) for page, members in old_plan.items() if page.startswith(instant[:7])}
        regions.add(region_to_replan(instant, counts, changes, limit))
    regions = {r for r in regions if not any(o != r and r.startswith(o) for o in regions)}
    incremental = {page: members for page, members in old_plan.items() if not any(page.startswith(r) for r in regions)}
    for region in regions:
        incremental |= plan_pages(new_keys, region, limit=limit)
    assert incremental == plan_feed(new_keys, limit)


def test_each_page_links_its_older_and_newer_neighbour() -> None:
    assert page_links(["2022-02", "2022-03-01", "2022-03-02T05"]) == {
        "2022-02": (None, "2022-03-01"),
        "2022-03-01": ("2022-02", "2022-03-02T05"),
        "2022-03-02T05": ("2022-03-01", None),
    }
    assert page_links(["2022-02"]) == {"2022-02": (None, None)}
    assert page_links([]) == {}


def test_page_ids_and_labels() -> None:
    assert [page_label(p) for p in ("2022-03", "2022-03-05", "2022-03-05T07")] == [
        "2022-03",
        "2022-03-05",
        "2022-03-05 07:00",
    ]
    for bad in ("", "2022", "2022-3", "2022-03-05T07:00", "../x", "2022-03/../../x", "2022-03\n"):
        assert not is_page_id(bad)
        with pytest.raises(ValueError, match="page id"):
            archive_key(FeedRef.site(), bad, FeedFormat.ATOM, make_site())


def test_archive_keys_sit_beside_each_feed() -> None:
    site = make_site()
    assert archive_key(FeedRef.site(), "2022-03", FeedFormat.ATOM, site) == "feed/archive/2022-03.xml"
    assert archive_key(FeedRef.category("emnews"), "2022-03", FeedFormat.RSS, site) == "feed/emnews/archive/2022-03.rss"
    assert (
        archive_key(FeedRef.tag("南昌"), "2022-03-05", FeedFormat.ATOM, site)
        == "feed/by_tag/南昌/archive/2022-03-05.xml"
    )
    assert archive_key(FeedRef.category("a/../b"), "2022-03", FeedFormat.ATOM, site).startswith("feed/a-b~")
    custom = make_site(feed=FeedSettings(path="atom"))
    assert archive_key(FeedRef.site(), "2022-03", FeedFormat.ATOM, custom) == "atom-archive/2022-03.xml"
    with pytest.raises(ValueError, match="JSON"):
        archive_key(FeedRef.site(), "2022-03", FeedFormat.JSON, site)
    assert archive_url(FeedRef.tag("南昌"), "2022-03", FeedFormat.ATOM, site) == (
        "https://news.example.org/feed/by_tag/%E5%8D%97%E6%98%8C/archive/2022-03.xml"
    )


@given(st.text(alphabet=string.printable + "南昌/.~ ", max_size=30), st.sampled_from(["category", "tag"]))
def test_archive_keys_never_leave_their_feeds_folder(name: str, kind: str) -> None:
    ref = FeedRef.category(name) if kind == "category" else FeedRef.tag(name)
    key = archive_key(ref, "2022-03-05T07", FeedFormat.ATOM, make_site())
    prefix = "feed/by_tag/" if kind == "tag" else "feed/"
    assert key.startswith(prefix)
    segment, rest = key[len(prefix) :].split("/", 1)
    assert rest == "archive/2022-03-05T07.xml"
    assert segment not in ("", ".", "..")
    assert "/" not in segment


def test_archive_documents_carry_rfc5005_links_and_stay_valid_feeds() -> None:
    site = make_site()
    ref = FeedRef.category("news")
    posts = [make_post(n, excerpt_text="摘要" * 600) for n in range(3)]
    atom, rss = render_archive_page(ref, "2022-03", posts, site, prev_page="2022-02-28T23", next_page=None)
    root = check_atom(atom, "https://news.example.org/feed/news/archive/2022-03.xml")
    assert root.findtext("a:id", namespaces=NS) == "https://news.example.org/feed/news.xml"
    assert len(root.findall("fh:archive", FH)) == 1
    assert root.xpath("a:link[@rel='current']/@href", namespaces=NS) == ["https://news.example.org/feed/news.xml"]
    assert root.xpath("a:link[@rel='prev-archive']/@href", namespaces=NS) == [
        "https://news.example.org/feed/news/archive/2022-02-28T23.xml"
    ]
    assert root.xpath("a:link[@rel='next-archive']", namespaces=NS) == []
    # excerpts only, cut to SUMMARY_CHARS: a page stays bounded whatever the posts hold
    assert root.xpath("a:entry/a:content", namespaces=NS) == []
    assert all(len(s) <= SUMMARY_CHARS for s in root.xpath("a:entry/a:summary/text()", namespaces=NS))
    channel = check_rss(rss, "https://news.example.org/feed/news/archive/2022-03.rss").find("channel")
    assert len(channel.findall("fh:archive", FH)) == 1
    assert channel.xpath("a:link[@rel='current']/@href", namespaces=NS) == ["https://news.example.org/feed/news.rss"]
    for document in (atom, rss):
        assert b'<?xml-stylesheet type="text/xsl" href="/feed.xsl"?>' in document.body
        parsed = feedparser.parse(document.body)
        assert parsed.bozo == 0
        assert len(parsed.entries) == 3


def test_the_subscription_document_links_its_newest_archive_page_and_is_no_archive() -> None:
    site = make_site()
    ref = FeedRef.tag("南昌日报新闻")
    docs = by_format(render_feed(ref, [make_post(1)], site, history=subscription_history(ref, "2022-03-02", site)))
    atom = xml_root(docs[FeedFormat.ATOM])
    assert atom.xpath("a:link[@rel='prev-archive']/@href", namespaces=NS) == [
        archive_url(ref, "2022-03-02", FeedFormat.ATOM, site)
    ]
    assert atom.findall("fh:archive", FH) == []
    rss = xml_root(docs[FeedFormat.RSS])
    assert rss.xpath("channel/a:link[@rel='prev-archive']/@href", namespaces=NS) == [
        archive_url(ref, "2022-03-02", FeedFormat.RSS, site)
    ]
    assert subscription_history(ref, None, site) == {}


def test_the_stylesheet_is_root_relative_on_the_feeds_base() -> None:
    assert stylesheet_href(make_site()) == "/feed.xsl"
    assert stylesheet_href(make_site(url="https://x.example", baseurl="/blog/新")) == "/blog/%E6%96%B0/feed.xsl"
    assert stylesheet_href(make_site(feed=FeedSettings(base_url="https://cdn.example/feeds/"))) == "/feeds/feed.xsl"


def test_page_bound_is_documented_value() -> None:
    assert PAGE_ENTRIES == 200
