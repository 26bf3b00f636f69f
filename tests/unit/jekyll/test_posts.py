"""parse_post rules: which files are posts, titles, categories, tags, publishing, content, excerpts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from postfeed.jekyll import errors as codes
from postfeed.jekyll import is_post_path, load_site, parse_post
from postfeed.models import Author, Post, Skipped

from .helpers import NOW, SHANGHAI, parse, post_bytes, published


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("_posts/2024-01-01-a.md", True),
        ("news/_posts/2024-01-01-a.markdown", True),
        ("_posts/2015/2015-01-01-a.mkdn", True),
        ("_posts/2024-01-01-a.HTML", True),
        ("_posts/no-date.md", True),  # the date check belongs to parse_post
        ("_posts/2024-01-01-a.txt", False),
        ("_drafts/2024-01-01-a.md", False),
        ("2024-01-01-a.md", False),
        ("_posts", False),
    ],
)
def test_is_post_path(path: str, expected: bool) -> None:
    assert is_post_path(path) is expected


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("_posts/-202205262391921712.md", codes.SKIP_NAME_LACKS_DATE),
        ("_posts/hello.md", codes.SKIP_NAME_LACKS_DATE),
        ("_posts/2024-01-01-a.txt", codes.SKIP_EXTENSION),
        ("about.md", codes.SKIP_NOT_IN_POSTS),
        ("_posts/.2024-01-01-a.md", codes.SKIP_HIDDEN),
        ("_posts/2024-01-01-a.md~", codes.SKIP_HIDDEN),
    ],
)
def test_files_jekyll_does_not_read_as_posts_are_skipped(path: str, reason: str) -> None:
    result = parse_post(path, post_bytes("title: x\n"), SHANGHAI, now=NOW)
    assert isinstance(result, Skipped)
    assert result.reason == reason


def test_folders_above_posts_become_categories_first() -> None:
    post = published("categories: [Release, news]\n", path="news/team/_posts/2024-01-02-a.md")
    assert post.categories == ("news", "team", "Release")
    assert post.url == "/news/team/release/2024/01/02/a.html"


@pytest.mark.parametrize(
    ("front_matter", "expected"),
    [
        ("categories: HTML CSS\n", ("HTML", "CSS")),
        ("categories:  a   b\n", ("a", "b")),
        ("categories: [team, community]\n", ("team", "community")),
        ("categories:\n  - 2015\n  - true\n  - x y\n", ("2015", "true", "x y")),
        ("category: one name\n", ("one name",)),
        ("category: release\ncategories: [news, release]\n", ("news", "release")),
        ("categories: [b, a, b]\n", ("b", "a")),
        ("categories:\n", ()),
        ("categories: Three.js\n", ("Three.js",)),
    ],
)
def test_categories(front_matter: str, expected: tuple[str, ...]) -> None:
    assert published(front_matter).categories == expected


@pytest.mark.parametrize(
    ("front_matter", "expected"),
    [
        ("tags:  Three.js WebGL\n", ("Three.js", "WebGL")),
        ("tags: [jekyll, RubyGems]\n", ("jekyll", "RubyGems")),
        ("tag: one tag\ntags: a b\n", ("one tag",)),
        ("tags: 南昌日报新闻\n", ("南昌日报新闻",)),
        ("tags: [1, a, a]\n", ("1", "a")),
        ("tags:\n", ()),
    ],
)
def test_tags(front_matter: str, expected: tuple[str, ...]) -> None:
    assert published(front_matter).tags == expected


@pytest.mark.parametrize(
    ("front_matter", "expected"),
    [
        ('title: "Jekyll\'s Mid-Life Crisis"\n', "Jekyll's Mid-Life Crisis"),
        ('title: ""\n', ""),
        ("title: 2015\n", "2015"),
        ("layout: post\n", "Hello World"),
        ("title:\n", "Hello World"),
    ],
)
def test_titles(front_matter: str, expected: str) -> None:
    assert published(front_matter).title == expected


def test_title_from_slug_capitalizes_each_word_and_lowercases_the_rest() -> None:
    post = published("layout: post\n", path="_posts/2016-06-12-JavaScript-this.md")
    assert post.title == "Javascript This"


@pytest.mark.parametrize("value", ["false", "null", ""])
def test_published_false_or_null_skips(value: str) -> None:
    result = parse(f"published: {value}\n")
    assert isinstance(result, Skipped)
    assert result.reason == codes.SKIP_UNPUBLISHED


def test_published_true_or_string_publishes() -> None:
    assert isinstance(parse("published: true\n"), Post)
    assert isinstance(parse('published: "false"\n'), Post)  # a non-empty string is truthy in Ruby


def test_future_posts_follow_site_future() -> None:
    fm = "date: 2030-01-01 00:00:00 +0000\n"
    assert isinstance(parse(fm), Post)  # future: true is GitHub Pages' default
    result = parse(fm, site=load_site(future=False))
    assert isinstance(result, Skipped)
    assert result.reason == codes.SKIP_FUTURE
    assert result.due == datetime(2030, 1, 1, tzinfo=UTC)  # when Jekyll would publish it (the scheduled check)
    past = parse_post("_posts/2024-01-02-a.md", post_bytes("title: x\n"), load_site(future=False), now=NOW)
    assert isinstance(past, Post)


def test_future_uses_site_time_when_now_not_given() -> None:
    site = load_site(future=False, time=datetime(2020, 1, 1, tzinfo=UTC))
    assert isinstance(parse_post("_posts/2024-01-02-a.md", post_bytes("title: x\n"), site), Skipped)


def test_file_not_starting_with_dashes_has_no_front_matter_and_warns() -> None:
    body = b'\n---\nlayout: post\ntitle: "X"\ncategories: emnews\n---\n\nBody.'
    post = parse_post("_posts/2021-12-08-202112082206703990.md", body, SHANGHAI, now=NOW)
    assert isinstance(post, Post)
    assert post.title == "202112082206703990"
    assert post.categories == ()
    assert post.date.isoformat() == "2021-12-08T00:00:00+08:00"
    assert post.url == "/2021/12/08/202112082206703990.html"
    assert any("does not start with ---" in w for w in post.warnings)


def test_unclosed_front_matter_is_content_and_warns() -> None:
    post = parse_post("_posts/2024-01-02-a.md", b"---\ntitle: x\n\nNo closing line.\n", SHANGHAI, now=NOW)
    assert isinstance(post, Post)
    assert post.title == "A"
    assert any("no closing ---" in w for w in post.warnings)


def test_bom_and_crlf_are_fine() -> None:
    body = "\ufeff---\r\ntitle: Café\r\ntags: a b\r\n---\r\nFirst para.\r\n\r\nSecond.\r"
    post = parse_post("_posts/2024-01-02-a.md", body.encode(), SHANGHAI, now=NOW)
    assert isinstance(post, Post)
    assert (post.title, post.tags, post.excerpt_text) == ("Café", ("a", "b"), "First para.")
    assert "\r" not in post.content_html


def test_mixed_line_endings_are_normalised() -> None:
    post = parse_post("_posts/2024-01-02-a.md", b"---\ntitle: x\r\n---\rOne\r\n\nTwo\n", SHANGHAI, now=NOW)
    assert isinstance(post, Post)
    assert post.excerpt_text == "One"


def test_markdown_is_rendered_with_tables_strikethrough_html_and_autolinks() -> None:
    body = '| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ <span id="s">x</span> <http://example.com>\n'
    html = published(body=body).content_html
    assert "<table>" in html
    assert "<del>old</del>" in html  # kramdown's GFM strikethrough
    assert '<span id="s">x</span>' in html
    assert '<a href="http://example.com">http://example.com</a>' in html


def test_html_posts_are_not_markdown_rendered() -> None:
    post = published(body="*not emphasis*\n\n<p>x</p>", path="_posts/2024-01-02-a.html")
    assert post.content_html == "*not emphasis*\n\n<p>x</p>"


def test_liquid_runs_raw_stays_text_and_an_unknown_link_renders_empty_with_a_warning() -> None:
    # The default environment knows no other document, so a link to one renders empty (not an error).
    body = "See {% link _docs/x.md %} and {{ site.title }}.\n\n{% raw %}{{ kept }}{% endraw %}\n"
    post = published(body=body, site=load_site(b"title: My site\n"))
    assert "{{ kept }}" in post.content_html
    assert "See  and My site." in post.content_html
    assert any("{% link _docs/x.md %}" in w for w in post.warnings)


def test_excerpt_is_text_before_the_separator() -> None:
    post = published(body="First *para*  &amp; more.\n\nSecond.\n")
    assert post.excerpt_html == "<p>First <em>para</em>  &amp; more.</p>\n"
    assert post.excerpt_text == "First para &amp; more."  # strip_html keeps entities


def test_excerpt_separator_from_site_and_from_front_matter() -> None:
    site = load_site(b'excerpt_separator: "<!--more-->"\n')
    body = "One.\n\nTwo.\n<!--more-->\nThree.\n"
    assert published(body=body, site=site).excerpt_text == "One. Two."
    assert published("excerpt_separator: Two\n", body=body).excerpt_text == "One."


def test_front_matter_excerpt_wins_and_is_used_as_written() -> None:
    assert published("excerpt: Short *summary*.\n").excerpt_text == "Short *summary*."


def test_empty_separator_means_no_excerpt() -> None:
    assert published('excerpt_separator: ""\n').excerpt_html == ""


def test_author_string_or_mapping() -> None:
    assert published("author: ashmaroli\n").author == Author("ashmaroli")
    mapping = "author:\n  name: A B\n  email: a@b.c\n  uri: https://a.b\n"
    assert published(mapping).author == Author("A B", "a@b.c", "https://a.b")
    assert published("title: x\n").author is None


def test_last_modified_at_becomes_updated() -> None:
    post = published("last_modified_at: 2024-02-03 04:05:06 +0000\n")
    assert post.updated is not None
    assert post.updated.isoformat() == "2024-02-03T12:05:06+08:00"
    bad = published("last_modified_at: yesterday\n")
    assert bad.updated is None
    assert any("last_modified_at" in w for w in bad.warnings)


def test_space_in_file_name_becomes_dash_in_url_but_not_in_slug_or_id() -> None:
    post = published("title: x\n", path="_posts/2022-06-06-three-light copy.md")
    assert post.url == "/2022/06/06/three-light-copy.html"
    assert post.slug == "three-light copy"
    assert post.id == "/2022/06/06/three-light copy"


def test_front_matter_slug_overrides_the_file_name() -> None:
    post = published("slug: Other Name\n")
    assert post.url == "/2024/01/02/Other-Name.html"
    assert post.slug == "Other Name"


def test_kramdown_toc_list_becomes_a_list_of_headings_and_attribute_lists_vanish() -> None:
    body = "* content\n{:toc}\n\n## One\n\nText.\n{: .note}\n\n## Two\n"
    html = published(body=body, site=load_site()).content_html
    # kramdown's toc: each entry links to its heading's auto id; the IAL's class lands on its paragraph
    assert '<ul id="markdown-toc">\n  <li><a href="#one" id="markdown-toc-one">One</a></li>\n' in html
    assert '<h2 id="two">Two</h2>' in html
    assert '<p class="note">Text.</p>' in html
    assert "{:" not in html
    assert "content" not in html


def test_adjacent_raw_html_blocks_keep_their_texts_apart_in_excerpt_text() -> None:
    post = published(body="<p>One.</p><center>Two.</center><p>Three.</p>\n")
    assert post.excerpt_text == "One. Two. Three."


def test_link_definition_whose_target_was_liquid_stays_hidden() -> None:
    post = published(body="See [the post][p].\n\n[p]: {% post_url 2013-05-06-x %}\n")
    assert post.excerpt_text == "See the post."
