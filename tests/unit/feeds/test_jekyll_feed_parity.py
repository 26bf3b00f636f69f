"""jekyll-feed's own behaviours (its spec, fixtures and template, read at jekyll/jekyll-feed), each on a small
site written here: the same `_config.yml` settings and front matter give the feeds jekyll-feed gives.

Every test builds the site with `load_site` and the posts with `parse_post`, exactly as the pipeline does, and
renders with `render_feed`; membership (which feeds exist) comes from `feed_refs` under the site's `feed:`."""

from __future__ import annotations

import json
from typing import Any

import feedparser
import pytest
from lxml import etree  # type: ignore[import-untyped]

from postfeed.feeds import FeedFormat, feed_key, render_feed
from postfeed.jekyll import load_site, parse_post
from postfeed.models import Author, FeedRef, Post, Site, Skipped, feeds_of

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

BASE_CONFIG = """
url: http://example.org
name: My awesome site
author:
  name: Dr. Jekyll
"""

# Our fixture site, in the shapes of jekyll-feed's spec fixtures (not their text).
POSTS = {
    "_posts/2013-12-12-dec-the-second.md": "---\nexcerpt: Foo\nimage: /image.png\ncategory: news\n---\n# December",
    "_posts/2014-03-02-march-the-second.md": (
        "---\nimage: https://cdn.example.org/absolute.png\ncategory: news\n---\nMarch the second!"
    ),
    "_posts/2014-03-04-march-the-fourth.md": (
        "---\ntitle: March the fourth!\ntags:\n  - march\n  - fourth\n  - fourth_tag\n"
        "category: updates\nexcerpt: ''\nimage:\n  path: /object-image.png\n---\n"
        "```\nLine 1\nLine 2\nLine 3\n```\n"
    ),
    "_posts/2015-01-18-jekyll-last-modified-at.md": (
        "---\nlast_modified_at: 2015-05-12T13:27:59+00:00\n---\nLast modified"
    ),
    "_posts/2015-02-12-strip-newlines.md": '---\ntitle: "The plugin\\nwill properly\\nstrip newlines."\n---\nx',
    "_posts/2015-05-18-author-detail.md": (
        "---\nauthor:\n  name: Ben\n  uri: http://ben.balter.com\n  email: ben@example.com\n---\nbody"
    ),
    "_posts/2015-05-22-id.md": "---\nauthor: Pat\nlang: en\n---\nbody",
    "_posts/2015-08-08-stuck-in-the-middle.html": "---\ndescription: A short description.\n---\n<p>html</p>",
    "_posts/2016-04-25-author-reference.md": "---\nauthor: garthdb\nlang: fr-FR\n---\nbody",
}
AUTHORS = {"garthdb": Author("Garth", "example@mail.com", "http://garthdb.com")}


def site_of(config: str = "", **overrides: Any) -> Site:
    return load_site(BASE_CONFIG + config, **overrides)


def posts_of(site: Site, files: dict[str, str] = POSTS) -> list[Post]:
    parsed = [parse_post(path, body.encode(), site) for path, body in files.items()]
    return [post for post in parsed if isinstance(post, Post)]


def feeds(site: Site, posts: list[Post]) -> dict[FeedRef, list[Post]]:
    members: dict[FeedRef, list[Post]] = {}
    for post in posts:
        for ref in feeds_of(post, site.feed):
            members.setdefault(ref, []).append(post)
    return members


def atom_of(site: Site, ref: FeedRef | None = None, posts: list[Post] | None = None) -> Any:
    ref = ref or FeedRef.site()
    members = feeds(site, posts if posts is not None else posts_of(site)).get(ref, [])
    atom, _rss, _json = render_feed(ref, members, site)
    return etree.fromstring(atom.body)


def entry_of(root: Any, slug: str) -> Any:
    return next(e for e in root.iter(f"{ATOM}entry") if slug in e.find(f"{ATOM}link").get("href"))


# -- the site feed ---------------------------------------------------------------------------------


def test_creates_the_site_feed_at_feed_xml_with_every_post() -> None:
    site = site_of("feed: {posts_limit: 100}")
    posts = posts_of(site)
    assert feed_key(FeedRef.site(), FeedFormat.ATOM, site) == "feed.xml"
    links = [e.find(f"{ATOM}link").get("href") for e in atom_of(site, posts=posts).iter(f"{ATOM}entry")]
    assert "http://example.org/updates/2014/03/04/march-the-fourth.html" in links
    assert "http://example.org/news/2013/12/12/dec-the-second.html" in links
    assert len(links) == len(POSTS)


DRAFT = b"---\ntitle: A draft\ndate: 2016-02-09\n---\nx"


def test_drafts_are_left_out_without_show_drafts() -> None:
    result = parse_post("_drafts/a-draft.md", DRAFT, site_of())
    assert isinstance(result, Skipped)
    assert result.reason == "draft"


def test_drafts_are_posts_with_show_drafts() -> None:
    site = site_of("show_drafts: true")
    draft = parse_post("_drafts/a-draft.md", DRAFT, site)
    assert isinstance(draft, Post)
    assert draft.url == "/2016/02/09/a-draft.html"
    assert FeedRef.site() in feeds_of(draft, site.feed)
    undated = parse_post("_drafts/undated.md", b"---\ntitle: x\n---\n", site)
    assert isinstance(undated, Skipped)
    assert undated.reason == "undated_document"


def test_no_blank_lines_or_trailing_whitespace() -> None:
    site = site_of()
    for document in render_feed(FeedRef.site(), posts_of(site), site):
        text = document.body.decode()
        assert "\n\n" not in text.rstrip("\n")
        assert not any(line != line.rstrip() for line in text.splitlines())


def test_preserves_line_breaks_in_preformatted_text() -> None:
    site = site_of()
    content = entry_of(atom_of(site), "march-the-fourth").findtext(f"{ATOM}content")
    assert "Line 1\nLine 2\nLine 3" in content


def test_converts_markdown_posts_to_html() -> None:
    content = entry_of(atom_of(site_of()), "march-the-second").findtext(f"{ATOM}content")
    assert "<p>March the second!</p>" in content


def test_post_author_as_an_object_and_as_a_string() -> None:
    root = atom_of(site_of())
    ben = entry_of(root, "author-detail").find(f"{ATOM}author")
    assert (ben.findtext(f"{ATOM}name"), ben.findtext(f"{ATOM}email"), ben.findtext(f"{ATOM}uri")) == (
        "Ben",
        "ben@example.com",
        "http://ben.balter.com",
    )
    pat = entry_of(root, "/id.html").find(f"{ATOM}author")
    assert pat.findtext(f"{ATOM}name") == "Pat"
    assert pat.find(f"{ATOM}email") is None


def test_author_reference_is_looked_up_in_data_authors() -> None:
    site = site_of(authors=AUTHORS)
    author = entry_of(atom_of(site), "author-reference").find(f"{ATOM}author")
    assert author.findtext(f"{ATOM}name") == "Garth"
    assert author.findtext(f"{ATOM}email") == "example@mail.com"
    assert author.findtext(f"{ATOM}uri") == "http://garthdb.com"


def test_no_empty_author_element() -> None:
    root = atom_of(site_of())
    assert all(a.findtext(f"{ATOM}name") for a in root.iter(f"{ATOM}author"))


def test_uses_last_modified_at() -> None:
    entry = entry_of(atom_of(site_of()), "last-modified-at")
    assert entry.findtext(f"{ATOM}updated") == "2015-05-12T13:27:59+00:00"


def test_title_newlines_become_spaces() -> None:
    assert entry_of(atom_of(site_of()), "strip-newlines").findtext(f"{ATOM}title") == (
        "The plugin will properly strip newlines."
    )


def test_item_image_relative_and_absolute_and_image_path() -> None:
    root = atom_of(site_of())

    def thumbnail(slug: str) -> str:
        return str(entry_of(root, slug).find(f"{MEDIA}thumbnail").get("url"))

    assert thumbnail("dec-the-second") == "http://example.org/image.png"
    assert thumbnail("march-the-second") == "https://cdn.example.org/absolute.png"
    assert thumbnail("march-the-fourth") == "http://example.org/object-image.png"
    content = entry_of(root, "dec-the-second").find(f"{MEDIA}content")
    assert (content.get("medium"), content.get("url")) == ("image", "http://example.org/image.png")
    assert entry_of(root, "strip-newlines").find(f"{MEDIA}thumbnail") is None


def test_atom_with_self_link_and_generator() -> None:
    root = atom_of(site_of())
    assert root.xpath("a:link[@rel='self']/@href", namespaces={"a": ATOM[1:-1]}) == ["http://example.org/feed.xml"]
    generator = root.find(f"{ATOM}generator")
    assert generator.text == "postfeed"
    assert generator.get("version")
    assert generator.get("uri")


def test_items_count_contents_and_excerpt() -> None:
    site = site_of()
    parsed = feedparser.parse(render_feed(FeedRef.site(), posts_of(site), site)[0].body)
    assert len(parsed.entries) == 9
    oldest = parsed.entries[-1]
    assert oldest.title == "Dec The Second"
    assert oldest.link == "http://example.org/news/2013/12/12/dec-the-second.html"
    assert oldest.published.startswith("2013-12-12")
    assert oldest.summary == "Foo"


def test_blank_excerpt_gives_no_summary() -> None:
    assert entry_of(atom_of(site_of()), "march-the-fourth").find(f"{ATOM}summary") is None


def test_description_is_the_summary() -> None:
    entry = entry_of(atom_of(site_of()), "stuck-in-the-middle")
    assert entry.findtext(f"{ATOM}summary") == "A short description."


@pytest.mark.parametrize(
    ("config", "title"),
    [
        ("title: My Site Title", "My Site Title"),
        ("", "My awesome site"),  # site.name when there is no title
        ("title: My Site Title\nname: My Site Name", "My Site Title"),
        ('title: "Pat\'s Site"', "Pat’s Site"),  # smartify
    ],
)
def test_feed_title_from_title_or_name_smartified(config: str, title: str) -> None:
    assert atom_of(site_of(config)).findtext(f"{ATOM}title") == title


def test_site_title_special_characters_stay_text() -> None:
    assert atom_of(site_of("title: My Site Title <&>")).findtext(f"{ATOM}title") == "My Site Title <&>"


def test_entry_link_is_titled_without_markup() -> None:
    site = site_of()
    files = {"_posts/2020-01-01-x.md": "---\ntitle: <b>Sparkling</b> Title\n---\nx"}
    link = atom_of(site, posts=posts_of(site, files)).find(f"{ATOM}entry/{ATOM}link")
    assert link.get("title") == "Sparkling Title"


def test_html_in_titles_is_stripped() -> None:
    site = site_of("title: <b>Bold</b> site")
    files = {"_posts/2020-01-01-x.md": "---\ntitle: A <em>marked</em> title\n---\nx"}
    root = atom_of(site, posts=posts_of(site, files))
    assert root.findtext(f"{ATOM}title") == "Bold site"
    assert root.find(f"{ATOM}entry").findtext(f"{ATOM}title") == "A marked title"


def test_baseurl_is_in_every_link() -> None:
    site = site_of(baseurl="/bass")
    hrefs = [e.find(f"{ATOM}link").get("href") for e in atom_of(site).iter(f"{ATOM}entry")]
    assert "http://example.org/bass/updates/2014/03/04/march-the-fourth.html" in hrefs
    assert "http://example.org/bass/news/2013/12/12/dec-the-second.html" in hrefs


@pytest.mark.parametrize("config", ["feed: {path: atom.xml}", "feed: {collections: {posts: {path: atom.xml}}}"])
def test_changing_the_feed_path(config: str) -> None:
    site = site_of(config)
    assert feed_key(FeedRef.site(), FeedFormat.ATOM, site) == "atom.xml"
    assert atom_of(site).xpath("a:link[@rel='self']/@href", namespaces={"a": ATOM[1:-1]}) == [
        "http://example.org/atom.xml"
    ]


def test_site_stylesheet_is_linked_when_the_site_has_one() -> None:
    site = site_of()
    site = load_site(BASE_CONFIG, feed=site.feed.__class__(xslt=True))
    body = render_feed(FeedRef.site(), posts_of(site), site)[0].body
    assert b'<?xml-stylesheet type="text/xsl" href="/feed.xslt.xml"?>' in body


def test_site_lang_as_written_with_hreflang() -> None:
    root = atom_of(site_of("lang: en_US"))
    assert root.get(XML_LANG) == "en_US"
    html_links = [link for link in root.findall(f"{ATOM}link") if link.get("type") == "text/html"]
    assert html_links
    assert all(link.get("hreflang") == "en_US" for link in html_links)


def test_no_lang_when_the_site_declares_none() -> None:
    site = site_of()
    atom, rss, jsonf = render_feed(FeedRef.site(), posts_of(site), site)
    assert etree.fromstring(atom.body).get(XML_LANG) is None
    assert etree.fromstring(rss.body).find("channel/language") is None
    assert "language" not in json.loads(jsonf.body)


def test_post_lang_is_the_entry_xml_lang() -> None:
    root = atom_of(site_of())
    assert entry_of(root, "author-reference").get(XML_LANG) == "fr-FR"
    assert entry_of(root, "/id.html").get(XML_LANG) == "en"
    assert entry_of(root, "march-the-second").get(XML_LANG) is None


# -- categories, collections, tags -----------------------------------------------------------------


def test_every_category_has_a_feed_by_default() -> None:
    site = site_of()
    assert {ref.name for ref in feeds(site, posts_of(site)) if ref.kind.value == "category"} == {"news", "updates"}


@pytest.mark.parametrize("config", ["feed: {categories: [news]}", "feed: {collections: {posts: {categories: [news]}}}"])
def test_configured_categories_only(config: str) -> None:
    site = site_of(config)
    members = feeds(site, posts_of(site))
    assert {ref.name for ref in members if ref.kind.value == "category"} == {"news"}
    assert feed_key(FeedRef.category("news"), FeedFormat.ATOM, site) == "feed/news.xml"
    root = atom_of(site, FeedRef.category("news"))
    assert root.findtext(f"{ATOM}title") == "My awesome site | News"
    hrefs = [e.find(f"{ATOM}link").get("href") for e in root.iter(f"{ATOM}entry")]
    assert hrefs == [
        "http://example.org/news/2014/03/02/march-the-second.html",
        "http://example.org/news/2013/12/12/dec-the-second.html",
    ]


COLLECTION_FILES = {
    "_collection/2018-01-01-collection-doc.md": "---\ntitle: Collection doc\n---\nA document",
    "_collection/2018-01-02-collection-category-doc.md": (
        "---\ntitle: Collection category doc\ncategory: news\n---\nIn news"
    ),
}


@pytest.mark.parametrize(
    "feed_config",
    ["feed: {collections: [collection]}", "feed: {collections: {collection: {categories: [news]}}}"],
)
def test_collection_feeds(feed_config: str) -> None:
    site = site_of("collections: {collection: {output: true}}\n" + feed_config)
    docs = posts_of(site, COLLECTION_FILES)
    assert [doc.url for doc in docs] == [
        "/collection/2018-01-01-collection-doc.html",
        "/collection/2018-01-02-collection-category-doc.html",
    ]
    members = feeds(site, docs)
    assert len(members[FeedRef.site("collection")]) == 2
    assert feed_key(FeedRef.site("collection"), FeedFormat.ATOM, site) == "feed/collection.xml"
    assert atom_of(site, FeedRef.site("collection"), docs).findtext(f"{ATOM}title") == "My awesome site | Collection"
    news = FeedRef.category("news", "collection")
    assert feed_key(news, FeedFormat.ATOM, site) == "feed/collection/news.xml"
    assert [doc.title for doc in members[news]] == ["Collection category doc"]
    assert atom_of(site, news, docs).findtext(f"{ATOM}title") == "My awesome site | Collection | News"
    assert FeedRef.site() not in members  # a collection's documents are not posts


def test_collection_feed_with_its_own_path() -> None:
    site = site_of(
        "collections: {collection: {output: true}}\nfeed: {collections: {collection: {path: /changes.atom}}}"
    )
    assert feed_key(FeedRef.site("collection"), FeedFormat.ATOM, site) == "changes.atom"


def test_collection_not_in_feed_collections_has_no_feed() -> None:
    site = site_of("collections: {collection: {output: true}}")
    result = parse_post("_collection/2018-01-01-collection-doc.md", b"---\ntitle: x\n---\n", site)
    assert isinstance(result, Skipped)
    assert result.reason == "no_collection_feed"


def test_excerpt_only_site_wide_and_per_post() -> None:
    site = site_of("feed: {excerpt_only: true}")
    assert atom_of(site).find(f"{ATOM}entry/{ATOM}content") is None
    site = site_of()
    files = {
        "_posts/2020-01-01-short.md": "---\nfeed: {excerpt_only: true}\n---\nOnly the excerpt",
        "_posts/2020-01-02-full.md": "---\ntitle: Full\n---\nThe whole post",
    }
    root = atom_of(site, posts=posts_of(site, files))
    assert entry_of(root, "short").find(f"{ATOM}content") is None
    assert entry_of(root, "full").find(f"{ATOM}content") is not None


@pytest.mark.parametrize(("config", "count"), [("", 9), ("feed: {posts_limit: 5}", 5), ("feed: {posts_limit: 2}", 2)])
def test_posts_limit(config: str, count: int) -> None:
    site = site_of(config)
    assert len(atom_of(site).findall(f"{ATOM}entry")) == min(count, 10)


@pytest.mark.parametrize(
    ("config", "tags"),
    [
        ("", {"march", "fourth", "fourth_tag"}),  # postfeed's default: every tag
        ("feed: {tags: false}", set()),
        ("feed: {tags: true}", {"march", "fourth", "fourth_tag"}),
        ("feed: {tags: {except: [fourth]}}", {"march", "fourth_tag"}),
        ("feed: {tags: {only: [fourth, march]}}", {"fourth", "march"}),
        ("feed: {tags: {only: [fourth, march], except: [march]}}", {"fourth"}),
    ],
)
def test_tag_feeds(config: str, tags: set[str]) -> None:
    site = site_of(config)
    assert {ref.name for ref in feeds(site, posts_of(site)) if ref.kind.value == "tag"} == tags


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("alternative/path/for/tags/feeds/", "alternative/path/for/tags/feeds/march.xml"),
        ("/alternative/path/", "alternative/path/march.xml"),
        ("alternative/path", "alternative/path/march.xml"),
        ("./alternative//path/", "alternative/path/march.xml"),
        ("../../../../../../../questionable/path/", "questionable/path/march.xml"),  # kept inside the site
    ],
)
def test_tag_feeds_path_is_cleaned(path: str, key: str) -> None:
    site = site_of(f"feed: {{tags: {{path: '{path}'}}}}")
    assert feed_key(FeedRef.tag("march"), FeedFormat.ATOM, site) == key


def test_tag_feeds_path_naming_no_folder_is_a_config_error() -> None:
    from postfeed.jekyll import ConfigError

    with pytest.raises(ConfigError, match=r"feed\.tags\.path"):
        site_of("feed: {tags: {path: ../..}}")


def test_icon_and_logo() -> None:
    site = site_of("feed: {icon: /favicon.ico, logo: /logo.png}")
    atom, rss, jsonf = render_feed(FeedRef.site(), posts_of(site), site)
    root = etree.fromstring(atom.body)
    assert (root.findtext(f"{ATOM}icon"), root.findtext(f"{ATOM}logo")) == (
        "http://example.org/favicon.ico",
        "http://example.org/logo.png",
    )
    assert etree.fromstring(rss.body).findtext("channel/image/url") == "http://example.org/logo.png"
    data = json.loads(jsonf.body)
    assert (data["icon"], data["favicon"]) == ("http://example.org/logo.png", "http://example.org/favicon.ico")


def test_front_matter_defaults_apply_by_scope() -> None:
    config = (
        "defaults:\n- scope: {path: ''}\n  values: {image: /og.png}\n"
        "- scope: {path: _posts, type: posts}\n  values: {author: Default Author}\n"
    )
    site = site_of(config)
    post = parse_post("_posts/2020-01-01-x.md", b"---\ntitle: x\n---\n", site)
    assert isinstance(post, Post)
    assert (post.image, post.author) == ("/og.png", Author("Default Author"))
    own = parse_post("_posts/2020-01-01-y.md", b"---\nimage: /mine.png\n---\n", site)
    assert isinstance(own, Post)
    assert own.image == "/mine.png"


def test_entry_categories_are_categories_then_tags() -> None:
    site = site_of()
    files = {
        "_posts/2020-01-01-single.md": "---\ntitle: Single\ncategory: news\n---\nx",
        "_posts/2020-01-02-many.md": "---\ntitle: Many\ncategories: [first, second, third]\n---\nx",
        "_posts/2020-01-03-both.md": (
            '---\ntitle: Both\ncategories: [updates, jekyll]\ntags: ["\\"/><VADER>", test]\n---\nx'
        ),
    }
    root = atom_of(site, posts=posts_of(site, files))

    def terms(slug: str) -> list[str]:
        return [c.get("term") for c in entry_of(root, slug).findall(f"{ATOM}category")]

    assert terms("single") == ["news"]
    assert terms("many") == ["first", "second", "third"]
    assert terms("both") == ["updates", "jekyll", '"/><VADER>', "test"]
