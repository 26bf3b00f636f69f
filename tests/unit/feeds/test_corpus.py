"""Every feed of every corpus site (and of the seed post) renders to documents every reader accepts."""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from postfeed.feeds import FeedFormat, feed_url, render_feed
from postfeed.jekyll import load_site, parse_post
from postfeed.models import FeedKind, FeedRef, Post, Site, feeds_of
from tests.conftest import CORPORA, CORPUS, SEED_KEY
from tests.unit.feeds.support import check_atom, check_feedparser, check_json, check_rss

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Corpus:
    name: str
    site: Site
    posts: tuple[Post, ...]


def _load(name: str, extra: dict[str, bytes] | None = None) -> Corpus:
    root = CORPUS / "finews" if name == "seed" else CORPUS / name
    site = load_site((root / "_config.yml").read_bytes())
    files = (
        {}
        if name == "seed"
        else {
            path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted((root / "_posts").rglob("*"))
            if path.is_file()
        }
    )
    files.update(extra or {})
    posts = []
    for key, body in files.items():
        result = parse_post(key, body, site, now=NOW)
        if isinstance(result, Post):
            posts.append(result)
    return Corpus(name, site, tuple(posts))


@pytest.fixture(scope="module", params=[*CORPORA, "seed"])
def corpus(request: pytest.FixtureRequest, seed_bytes: bytes) -> Corpus:
    name: str = request.param
    return _load(name, {SEED_KEY: seed_bytes} if name == "seed" else None)


def _members(posts: tuple[Post, ...]) -> dict[FeedRef, list[Post]]:
    members: dict[FeedRef, list[Post]] = defaultdict(list)
    for post in posts:
        for ref in feeds_of(post):
            members[ref].append(post)
    members.setdefault(FeedRef.site(), [])
    return members


def _expected(posts: list[Post], limit: int) -> list[Post]:
    newest_first = sorted(posts, key=lambda p: (p.date, p.id, p.path), reverse=True)
    unique = list({p.id: p for p in reversed(newest_first)}.values())
    return sorted(unique, key=lambda p: (p.date, p.id, p.path), reverse=True)[:limit]


def test_corpus_has_posts(corpus: Corpus) -> None:
    assert corpus.posts


def test_every_feed_of_the_corpus(corpus: Corpus) -> None:
    site = corpus.site
    members = _members(corpus.posts)
    assert len(members) > 1
    for ref, posts in sorted(members.items()):
        # GIVEN the feed's posts in file order; WHEN rendered; THEN each document is valid and faithful.
        docs = render_feed(ref, posts, site)
        atom, rss, jsonf = docs
        check_atom(atom, feed_url(ref, FeedFormat.ATOM, site))
        check_rss(rss, feed_url(ref, FeedFormat.RSS, site))
        data = check_json(jsonf, feed_url(ref, FeedFormat.JSON, site))
        expected = _expected(posts, site.feed.posts_limit)
        for doc in (atom, rss):
            parsed = check_feedparser(doc, [entry["title"] for entry in data["items"]])
            assert [entry.id for entry in parsed.entries] == [item["id"] for item in data["items"]]
            assert [entry.link for entry in parsed.entries] == [post.absolute_url for post in expected]
            assert [calendar.timegm(entry.published_parsed) for entry in parsed.entries] == [
                int(post.date.timestamp()) for post in expected
            ]
            for entry, post in zip(parsed.entries, expected, strict=True):
                names = [name for name in dict.fromkeys((*post.categories, *post.tags)) if name.strip()]
                assert [tag.term for tag in entry.get("tags", [])] == names
                if post.content_html.strip():
                    # RSS without a summary carries the HTML in <description> (feedparser: summary).
                    body = entry.content[0].value if "content" in entry else entry.summary
                    assert body.strip()
        assert [item["url"] for item in data["items"]] == [post.absolute_url for post in expected]
        if ref.kind is not FeedKind.SITE:
            assert ref.name.lower() in data["title"].lower() or not ref.name.strip()


def test_site_feed_is_byte_identical_on_rerender(corpus: Corpus) -> None:
    first = render_feed(FeedRef.site(), corpus.posts, corpus.site)
    again = render_feed(FeedRef.site(), tuple(reversed(corpus.posts)), corpus.site)
    assert first == again


def test_seed_post_feed_entries(seed_bytes: bytes) -> None:
    seed = _load("seed", {SEED_KEY: seed_bytes})
    (post,) = seed.posts
    atom, rss, jsonf = render_feed(FeedRef.tag("南昌日报新闻"), seed.posts, seed.site)
    assert atom.key == "feed/by_tag/南昌日报新闻.xml"
    data = check_json(jsonf, feed_url(FeedRef.tag("南昌日报新闻"), FeedFormat.JSON, seed.site))
    (item,) = data["items"]
    assert item["id"] == "https://finews.withounder.com" + post.id
    assert item["date_published"] == "2022-03-11T08:14:43+08:00"
    assert 'href="https://finews.withounder.com/category/nanchangribao.html"' in item["content_html"]
    assert 'href="https://finews.withounder.com/"' in item["content_html"]
    parsed = check_feedparser(rss, [post.title])
    assert parsed.entries[0].published == "Fri, 11 Mar 2022 08:14:43 +0800"
