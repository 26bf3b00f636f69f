"""Feed keys and URLs: jekyll-feed's layout, safe and injective for any category or tag name."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postfeed.feeds import FeedFormat, feed_key, feed_url, key_segment
from postfeed.models import FeedRef, FeedSettings, Site

SITE = Site(url="https://finews.withounder.com", title="金融消息")

HOSTILE_NAMES = [
    "",
    ".",
    "..",
    "../../x",
    "../feed",
    "a/b",
    "/abs",
    "a\\b",
    "..\\..\\x",
    ".hidden",
    "a..b",
    "trailing.",
    "0.",
    "x" * 10_000,
    "南" * 40,  # 120 UTF-8 bytes
    "zero\u200bwidth",
    "\u202eevil\u202c",
    "bidi\u2066x\u2069",
    "nul\x00byte",
    "line\nbreak",
    "tab\tname",
    "with space",
    "🎉 party",
    "😀",
    "C++",
    "a~b",
    "~",
    "100%",
    "q?x#y",
    "by_tag/x",
]


def test_format_extensions_and_media_types() -> None:
    assert [fmt.extension for fmt in FeedFormat] == [".xml", ".rss", ".json"]
    assert FeedFormat.ATOM.media_type == "application/atom+xml; charset=utf-8"
    assert FeedFormat.RSS.media_type == "application/rss+xml; charset=utf-8"
    assert FeedFormat.JSON.media_type == "application/feed+json; charset=utf-8"


@pytest.mark.parametrize(
    ("ref", "keys"),
    [
        (FeedRef.site(), ("feed.xml", "feed.rss", "feed.json")),
        (FeedRef.category("emnews"), ("feed/emnews.xml", "feed/emnews.rss", "feed/emnews.json")),
        (
            FeedRef.tag("南昌日报新闻"),
            ("feed/by_tag/南昌日报新闻.xml", "feed/by_tag/南昌日报新闻.rss", "feed/by_tag/南昌日报新闻.json"),
        ),
        (FeedRef.category("by_tag"), ("feed/by_tag.xml", "feed/by_tag.rss", "feed/by_tag.json")),
        (FeedRef.category("v1.2_beta-3"), ("feed/v1.2_beta-3.xml", "feed/v1.2_beta-3.rss", "feed/v1.2_beta-3.json")),
    ],
)
def test_keys_follow_jekyll_feed_layout(ref: FeedRef, keys: tuple[str, str, str]) -> None:
    assert tuple(feed_key(ref, fmt, SITE) for fmt in FeedFormat) == keys


def test_site_feed_path_setting_is_kept() -> None:
    site = Site(url="https://x.org", feed=FeedSettings(path="atom/index.xml"))
    assert [feed_key(FeedRef.site(), fmt, site) for fmt in FeedFormat] == [
        "atom/index.xml",
        "atom/index.rss",
        "atom/index.json",
    ]


@pytest.mark.parametrize("path", ["../evil.xml", "/../x.xml", "", ".feed.xml", "a/./b.xml", "a\\b.xml"])
def test_unsafe_site_feed_path_falls_back_to_default(path: str) -> None:
    site = Site(url="https://x.org", feed=FeedSettings(path=path))
    assert feed_key(FeedRef.site(), FeedFormat.ATOM, site) == "feed.xml"


def test_feed_url_is_absolute_and_percent_encoded() -> None:
    url = feed_url(FeedRef.tag("南昌日报新闻"), FeedFormat.ATOM, SITE)
    assert url == (
        "https://finews.withounder.com/feed/by_tag/%E5%8D%97%E6%98%8C%E6%97%A5%E6%8A%A5%E6%96%B0%E9%97%BB.xml"
    )
    assert url.isascii()


def test_feed_url_uses_feed_base_url() -> None:
    site = Site(url="https://x.org", baseurl="/blog", feed=FeedSettings(base_url="https://cdn.x.org/feeds/"))
    assert feed_url(FeedRef.site(), FeedFormat.RSS, site) == "https://cdn.x.org/feeds/feed.rss"
    assert feed_url(FeedRef.site(), FeedFormat.RSS, Site(url="https://x.org", baseurl="/blog")) == (
        "https://x.org/blog/feed.rss"
    )


def _assert_contained(name: str) -> None:
    for kind, prefix in ((FeedRef.category, "feed/"), (FeedRef.tag, "feed/by_tag/")):
        for fmt in FeedFormat:
            key = feed_key(kind(name), fmt, SITE)
            assert key.startswith(prefix)
            segment = key.removeprefix(prefix)
            assert segment.endswith(fmt.extension)
            assert "/" not in segment
            assert "\\" not in segment
            assert not segment.startswith(".")
            assert ".." not in segment
            assert len(key.encode("utf-8")) <= 200
            assert all(char.isprintable() for char in segment)
            assert not any(0x200B <= ord(c) <= 0x200F or 0x202A <= ord(c) <= 0x202E for c in segment)
            url = feed_url(kind(name), fmt, SITE)
            assert url.isascii()
            path = urlsplit(url).path
            assert unquote(path) == "/" + key
            assert "/../" not in unquote(path)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_stay_in_their_folder(name: str) -> None:
    _assert_contained(name)
    assert "~" in key_segment(name)


def test_hostile_names_are_readable_where_possible() -> None:
    assert key_segment("../../x").startswith("x~")
    assert key_segment("with space").startswith("with-space~")
    assert key_segment("🎉 party").startswith("party~")
    assert key_segment("x" * 10_000).startswith("x" * 60 + "~")
    assert len(key_segment("x" * 10_000)) == 60 + 1 + 16


def test_hostile_names_do_not_collide() -> None:
    segments = [key_segment(name) for name in HOSTILE_NAMES]
    assert len(set(segments)) == len(HOSTILE_NAMES)


def test_mapping_is_stable() -> None:
    # Changing this value breaks subscribers' URLs: the mapping is part of the public contract.
    assert key_segment("a/b") == "a-b~c14cddc033f64b9d"


@given(st.text())
def test_any_name_stays_in_its_folder(name: str) -> None:
    _assert_contained(name)


@given(st.lists(st.text(), unique=True, max_size=30))
def test_mapping_is_injective(names: list[str]) -> None:
    segments = [key_segment(name) for name in names]
    assert len(set(segments)) == len(names)


@given(st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=25))
def test_plain_names_are_kept_verbatim(name: str) -> None:
    assert key_segment(name) == name


@given(st.text(max_size=40))
def test_names_with_tilde_are_never_verbatim(name: str) -> None:
    segment = key_segment(name + "~")
    assert segment != name + "~"
    assert segment.count("~") == 1
