"""RFC 5005 §2 complete feeds: a document that holds every entry of its feed says so (`<fh:complete/>`) and links
no other document of the feed; otherwise it is an archived feed (§4) and links its neighbours."""

from __future__ import annotations

from typing import Any

import feedparser
import pytest

from postfeed.feeds import FeedFormat, render_feed
from postfeed.feeds.archive_pages import render_archive_page, subscription_history
from postfeed.feeds.paths import archive_url
from postfeed.models import FeedRef
from tests.unit.feeds.support import NS, make_post, make_site, xml_root

FH = {"fh": "http://purl.org/syndication/history/1.0", **NS}
REF = FeedRef.category("news")


def feed_element(root: Any, rss: bool) -> Any:
    return root.find("channel") if rss else root


def rels(root: Any, rss: bool) -> list[str]:
    return sorted(link.get("rel") for link in feed_element(root, rss).findall("a:link", NS))


def marks(root: Any, rss: bool) -> list[str]:
    return [el.tag.rsplit("}", 1)[1] for el in feed_element(root, rss) if el.tag.startswith("{" + FH["fh"])]


@pytest.mark.parametrize("rss", [False, True])
def test_a_subscription_document_holding_the_whole_feed_is_complete(rss: bool) -> None:
    site = make_site()
    history = subscription_history(REF, "2022-03", site, complete=True)
    atom, rss_doc, _ = render_feed(REF, [make_post(1), make_post(2)], site, history=history)
    root = xml_root(rss_doc if rss else atom)
    assert marks(root, rss) == ["complete"]
    assert "prev-archive" not in rels(root, rss)
    assert feedparser.parse(rss_doc.body if rss else atom.body).bozo == 0


@pytest.mark.parametrize("rss", [False, True])
def test_a_subscription_document_with_older_entries_links_the_newest_page(rss: bool) -> None:
    site = make_site()
    history = subscription_history(REF, "2022-03", site, complete=False)
    atom, rss_doc, _ = render_feed(REF, [make_post(1)], site, history=history)
    root = xml_root(rss_doc if rss else atom)
    assert marks(root, rss) == []
    fmt = FeedFormat.RSS if rss else FeedFormat.ATOM
    prev = [link.get("href") for link in feed_element(root, rss).findall("a:link[@rel='prev-archive']", NS)]
    assert prev == [archive_url(REF, "2022-03", fmt, site)]


def test_a_complete_empty_feed_links_nothing() -> None:
    history = subscription_history(REF, None, make_site(), complete=True)
    atom, _, _ = render_feed(REF, [], make_site(), history=history)
    assert marks(xml_root(atom), rss=False) == ["complete"]


@pytest.mark.parametrize("rss", [False, True])
def test_a_lone_archive_page_is_complete_and_links_no_other_document(rss: bool) -> None:
    docs = render_archive_page(REF, "2022-03", [make_post(1)], make_site(), prev_page=None, next_page=None)
    root = xml_root(docs[1] if rss else docs[0])
    assert marks(root, rss) == ["archive", "complete"]
    # no current: in a complete feed it could only point at the page itself
    assert not {"current", "prev-archive", "next-archive"} & set(rels(root, rss))
    assert "self" in rels(root, rss)


@pytest.mark.parametrize(("prev_page", "next_page"), [("2022-02", None), (None, "2022-04"), ("2022-02", "2022-04")])
def test_an_archive_page_with_a_neighbour_is_not_complete(prev_page: str | None, next_page: str | None) -> None:
    atom, rss = render_archive_page(
        REF, "2022-03", [make_post(1)], make_site(), prev_page=prev_page, next_page=next_page
    )
    for root, is_rss in ((xml_root(atom), False), (xml_root(rss), True)):
        assert marks(root, is_rss) == ["archive"]
        assert "current" in rels(root, is_rss)
