"""Site files read as Jekyll and jekyll-feed read them: data file names and precedence, `site.data.authors`
lookups, the formats, and the errors (with their lines)."""

from __future__ import annotations

import pytest

from postfeed.jekyll import errors
from postfeed.jekyll.sitefiles import (
    AUTHORS_NOT_MAPPING,
    INVALID_DATA,
    SiteFileError,
    authors_of,
    check_stylesheet,
    data_name,
    data_precedence,
    read_data,
)
from postfeed.models import Author
from postfeed.pipeline.settings import Settings


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("_data/authors.yml", "authors"),
        ("_data/authors.yaml", "authors"),
        ("_data/authors.json", "authors"),
        ("_data/team/members.csv", "team.members"),
        ("_data/x.tsv", "x"),
        ("_data/authors.YML", None),  # Jekyll globs the lower-case extensions
        ("_data/authors.txt", None),
        ("_data/.hidden.yml", None),
        ("_data/.git/x.yml", None),
        ("_data/", None),
        ("_data/.yml", None),
        ("data/authors.yml", None),
    ],
)
def test_data_names_are_jekylls(key: str, name: str | None) -> None:
    assert data_name(key) == name


def test_a_later_extension_wins_as_jekyll_reads_them_in_order() -> None:
    order = sorted(["_data/a.json", "_data/a.yml", "_data/a.tsv", "_data/a.yaml", "_data/a.csv"], key=data_precedence)
    assert order == ["_data/a.yaml", "_data/a.yml", "_data/a.json", "_data/a.csv", "_data/a.tsv"]


def test_authors_are_looked_up_as_jekyll_feed_does() -> None:
    value = read_data(
        "_data/authors.yml",
        b"jane:\n  name: Jane Doe\n  email: jane@example.com\n  uri: https://jane.example\n"
        b"bob: {email: bob@example.com}\nal: Al Smith\nempty:\nno_thanks: false\n123: {name: Numbers}\n",
    )
    assert authors_of("_data/authors.yml", value) == {
        "jane": Author("Jane Doe", "jane@example.com", "https://jane.example"),
        "bob": Author("bob", "bob@example.com"),  # no name: its key (jekyll-feed: `.name | default: …`)
        "al": Author("Al Smith"),  # a scalar is the name
        "123": Author("Numbers"),
    }
    assert authors_of("_data/authors.yml", None) == {}  # an empty file finds nothing, and is no error


@pytest.mark.parametrize(("body", "kind"), [(b"- jane\n- bob\n", "list"), (b"just text\n", "single value")])
def test_authors_that_are_not_a_mapping_are_an_error(body: bytes, kind: str) -> None:
    with pytest.raises(SiteFileError) as caught:
        authors_of("_data/authors.yml", read_data("_data/authors.yml", body))
    assert caught.value.code == AUTHORS_NOT_MAPPING
    assert f"a {kind}," in caught.value.message


def test_json_tables_and_tabs_are_read() -> None:
    assert read_data("_data/a.json", b'{\n\t"jane": {"name": "Jane"}\n}') == {"jane": {"name": "Jane"}}
    assert read_data("_data/a.csv", b"name,email\nJane,j@x\nBob\n") == [
        {"name": "Jane", "email": "j@x"},
        {"name": "Bob", "email": None},
    ]
    assert read_data("_data/a.tsv", b"name\temail\nJane\tj@x\n") == [{"name": "Jane", "email": "j@x"}]
    assert read_data("_data/a.yml", b"\xef\xbb\xbfa: 1\r\n") == {"a": 1}


@pytest.mark.parametrize(
    ("key", "body", "code", "line"),
    [
        ("_data/a.yml", b"a: 1\nb: [\n", errors.YAML_SYNTAX, 3),
        ("_data/a.json", b'{\n"a": 1,\n}', INVALID_DATA, 3),
        ("_data/a.csv", b'a,b\n"x,1\n', INVALID_DATA, 2),
        ("_data/a.yml", b"a: 1\n\xff\n", errors.INVALID_UTF8, 2),
        ("_data/a.yml", b"a: " + b"[" * 20_000 + b"]" * 20_000, errors.YAML_TOO_COMPLEX, None),
        ("_data/a.json", b"[" * 20_000 + b"]" * 20_000, errors.YAML_TOO_COMPLEX, None),
    ],
)
def test_unreadable_data_is_an_error_with_its_line(key: str, body: bytes, code: str, line: int | None) -> None:
    with pytest.raises(SiteFileError) as caught:
        read_data(key, body)
    assert (caught.value.code, caught.value.line) == (code, line)
    assert caught.value.message.startswith(key)


def test_a_stylesheet_must_be_well_formed_xml() -> None:
    check_stylesheet("feed.xslt.xml", b'<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>')
    with pytest.raises(SiteFileError) as caught:
        check_stylesheet("feed.xslt.xml", b"<a>\n<b></a>\n")
    assert caught.value.line == 2


@pytest.mark.parametrize(
    ("key", "folder"),
    [
        ("_notes/a.md", "notes"),
        ("_notes/sub/a.md", "notes"),
        ("_notes/", None),
        ("_notes", None),
        ("_site/a.html", None),
        ("_data/a.yml", None),
        ("_drafts/a.md", None),
        ("_posts/a.md", None),
        ("notes/a.md", None),
        ("_/a.md", None),
    ],
)
def test_collection_folders_are_top_level_underscore_folders(key: str, folder: str | None) -> None:
    settings = Settings(posts_bucket="p", feeds_bucket="f", table_name="t")
    assert settings.collection_folder(key) == folder
