"""Permalink styles, placeholders, slugify and escaping."""

from __future__ import annotations

import pytest

from postfeed.jekyll import load_site
from postfeed.jekyll.permalinks import escape_path, slugify, titleize_slug

from .helpers import published

FM = "date: 2024-03-05 06:07:08 +0800\ncategories: [News, team]\n"


@pytest.mark.parametrize(
    ("permalink", "expected"),
    [
        ("date", "/news/team/2024/03/05/hello-world.html"),
        ("pretty", "/news/team/2024/03/05/hello-world/"),
        ("ordinal", "/news/team/2024/065/hello-world.html"),
        ("none", "/news/team/hello-world.html"),
        ("/:year/:month/:day/:title/", "/2024/03/05/hello-world/"),
        ("/:i_month/:i_day/:short_year/:hour:minute:second/:slug", "/3/5/24/060708/hello-world"),
        ("/:collection/:name/:y_day:output_ext", "/posts/2024-01-02-hello-world/065.html"),
        ("/blog/:categories/:title_/", "/blog/news/team/hello-world/"),
    ],
)
def test_site_permalink_styles_and_placeholders(permalink: str, expected: str) -> None:
    site = load_site(timezone="Asia/Shanghai", permalink=permalink)
    post = published(FM, site=site)
    assert post.url == expected
    assert post.id == "/" + "/".join([*expected.strip("/").split("/")[:-1], "hello-world"]).lstrip("/")


def test_collections_posts_permalink_wins_over_site_permalink() -> None:
    config = b"permalink: pretty\ncollections:\n  posts:\n    permalink: /news/:year/:month/:day/:title/\n"
    # no timezone: UTC, so 06:07 +0800 is the 4th
    assert published(FM, site=load_site(config)).url == "/news/2024/03/04/hello-world/"


def test_per_post_permalink_with_and_without_placeholders() -> None:
    assert published(FM + "permalink: /about/me/\n").url == "/about/me/"
    assert published(FM + "permalink: /:year/x.html\n").url == "/2024/x.html"


def test_chinese_slug_is_kept_and_escaped() -> None:
    post = published("title: x\n", path="_posts/2024-01-02-你好 世界.md")
    assert post.url == "/2024/01/02/%E4%BD%A0%E5%A5%BD-%E4%B8%96%E7%95%8C.html"


def test_category_with_space_and_case_is_lowercased_and_escaped_in_url_only() -> None:
    post = published("category: My Stuff\n")
    assert post.categories == ("My Stuff",)
    assert post.url == "/my%20stuff/2024/01/02/hello-world.html"


def test_dot_segments_are_sanitized() -> None:
    assert published("permalink: /a/../b/./c\n").url == "/a/b/c"


@pytest.mark.parametrize(
    ("text", "mode", "cased", "expected"),
    [
        ("Hello, World!", "default", False, "hello-world"),
        ("Hello, World!", "pretty", True, "Hello,-World!"),
        ("three-light copy", "pretty", True, "three-light-copy"),
        ("南昌 日报", "default", False, "南昌-日报"),
        ("  trim me  ", "default", False, "trim-me"),
        ("a b", "raw", False, "a-b"),
        ("Café au lait", "ascii", False, "caf-au-lait"),
    ],
)
def test_slugify(text: str, mode: str, cased: bool, expected: str) -> None:
    assert slugify(text, mode, cased=cased) == expected


def test_titleize_slug() -> None:
    assert titleize_slug("welcome-to-jekyll") == "Welcome To Jekyll"
    assert titleize_slug("JavaScript-OOP") == "Javascript Oop"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/2024/01/a-b.html", "/2024/01/a-b.html"),
        ("a b", "a%20b"),
        ("50%", "50%25"),
        ("a#b", "a%23b"),
        ("[x]", "%5Bx%5D"),
        ("a:b@c!$&'()*+,;=", "a:b@c!$&'()*+,;="),
    ],
)
def test_escape_path(path: str, expected: str) -> None:
    assert escape_path(path) == expected
