from __future__ import annotations

from datetime import UTC, datetime

from postfeed.models import FeedKind, FeedRef, Post, Site, feeds_of


def _post(categories: tuple[str, ...], tags: tuple[str, ...]) -> Post:
    return Post(
        path="_posts/2024-01-01-a.md",
        title="A",
        date=datetime(2024, 1, 1, tzinfo=UTC),
        slug="a",
        url="/2024/01/01/a.html",
        absolute_url="https://example.com/2024/01/01/a.html",
        id="/2024/01/01/a",
        categories=categories,
        tags=tags,
        content_html="",
        excerpt_html="",
        excerpt_text="",
    )


def test_feeds_of_lists_site_then_categories_then_tags_once_each() -> None:
    refs = feeds_of(_post(("news", "news"), ("南昌", "news")))
    assert refs == (
        FeedRef(FeedKind.SITE),
        FeedRef.category("news"),
        FeedRef.tag("南昌"),
        FeedRef.tag("news"),
    )


def test_site_urls_join_url_and_baseurl_without_double_slashes() -> None:
    site = Site(url="https://example.com/", baseurl="/blog/")
    assert site.root_url == "https://example.com/blog"
    assert site.feed_base_url == "https://example.com/blog"
    assert Site(url="https://example.com").root_url == "https://example.com"


def test_site_zone_defaults_to_utc() -> None:
    assert Site().tz.utcoffset(None) == UTC.utcoffset(None)
    assert str(Site(timezone="Asia/Shanghai").tz) == "Asia/Shanghai"
