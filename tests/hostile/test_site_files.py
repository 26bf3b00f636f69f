"""Hostile site files: a 20,000-deep data file or `_config.yml`, alias bombs, unsafe tags, binary, foreign and
oversized files, and a stylesheet with entities. Each is a recorded error (never a crash or a failed batch), and
the last good authors file or config stays in force; extreme settings a config may hold leave the feeds sound."""

from __future__ import annotations

import pytest

from postfeed.models import FeedRef
from postfeed_tools.local.pipeline import LocalPipeline
from tests.hostile.checks import assert_pipeline_sound, json_items, published_titles, site_of

AUTHORS = "_data/authors.yml"
POST = "_posts/2026-11-27-by-jane.md"
DEEP = 20_000


def settle_site_file(pipeline: LocalPipeline, key: str, body: bytes) -> dict[str, object]:
    """Upload, settle, check the pipeline's nevers; the file's recorded error."""
    pipeline.upload(key, body)
    pipeline.settle()
    assert_pipeline_sound(pipeline)
    (rejected,) = [item for item in pipeline.table.rejected_posts() if item["key"] == key]
    error = rejected["error"]
    assert key in error["message"]
    return dict(error)


@pytest.fixture
def jane(pipeline: LocalPipeline) -> LocalPipeline:
    """A post by jane, and a good authors file naming her."""
    pipeline.upload(POST, b"---\ntitle: By Jane\nauthor: jane\n---\nbody\n")
    pipeline.upload(AUTHORS, b"jane: {name: Jane Doe}\n")
    pipeline.settle()
    return pipeline


def jane_shown_as(pipeline: LocalPipeline) -> str:
    (item,) = json_items(pipeline, FeedRef.site())
    return str(item["authors"][0]["name"])


def yaml_laughs(levels: int = 8) -> bytes:
    """Billion laughs in YAML: each anchor a list of ten aliases of the one before."""
    lines = [b'l0: &l0 ["lol"]']
    lines += [b"l%d: &l%d [%s]" % (i, i, b",".join([b"*l%d" % (i - 1)] * 10)) for i in range(1, levels + 1)]
    return b"\n".join(lines) + b"\n"


def xml_laughs(levels: int = 9) -> bytes:
    """Billion laughs in XML: each entity ten references to the one before."""
    entities = [b'<!ENTITY l0 "lol">']
    entities += [b'<!ENTITY l%d "%s">' % (i, b"".join([b"&l%d;" % (i - 1)] * 10)) for i in range(1, levels + 1)]
    return b'<?xml version="1.0"?>\n<!DOCTYPE x [' + b"".join(entities) + b"]>\n<x>&l%d;</x>\n" % levels


@pytest.mark.parametrize(
    ("key", "body", "code"),
    [
        (AUTHORS, b"a: " + b"[" * DEEP + b"]" * DEEP + b"\n", "yaml_too_complex"),
        (AUTHORS, b"- " * DEEP + b"x\n", "yaml_too_complex"),
        ("_data/authors.json", b"[" * DEEP + b"]" * DEEP, "yaml_too_complex"),
        ("_data/authors.json", b'{"a": ' * DEEP + b"1" + b"}" * DEEP, "yaml_too_complex"),
        (AUTHORS, yaml_laughs(), "yaml_alias_bomb"),
        (AUTHORS, b"jane: !!python/object/apply:os.system ['true']\n", "yaml_unsupported_tag"),
        (AUTHORS, b"\x89PNG\r\n\x1a\n" + bytes(300), "invalid_utf8"),
        (AUTHORS, b"jane: x\x00\n", "nul_byte"),
        (AUTHORS, b"# big\n" + b"x: " + b"y" * (300 * 1024) + b"\n", "site_file_too_large"),
        ("_data/people.csv", b'name,email\n"unclosed,x\n', "data_invalid"),
    ],
    ids=[
        "deep-flow",
        "deep-block",
        "deep-json-list",
        "deep-json-map",
        "alias-bomb",
        "python-tag",
        "binary",
        "nul",
        "over-256-kib",
        "bad-csv",
    ],
)
def test_a_hostile_data_file_is_recorded_and_the_good_authors_stay(
    jane: LocalPipeline, key: str, body: bytes, code: str
) -> None:
    error = settle_site_file(jane, key, body)
    assert error["code"] == code
    assert jane_shown_as(jane) == "Jane Doe"


def test_a_hostile_stylesheet_is_recorded_and_the_good_copy_stays(pipeline: LocalPipeline) -> None:
    good = b'<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>\n'
    pipeline.upload("feed.xslt.xml", good)
    pipeline.settle()
    assert pipeline.feed("feed.xslt.xml") == good
    # An entity bomb is refused by the XML reader (never expanded), and so is a file that is not XML at all
    for body in (xml_laughs(), b"\x00\x01 not xml", b"<x>" * DEEP):
        pipeline.upload("feed.xslt.xml", body)
        pipeline.settle()
        (rejected,) = list(pipeline.table.rejected_posts())
        assert rejected["error"]["code"] == "stylesheet_invalid"
        assert pipeline.feed("feed.xslt.xml") == good
    assert pipeline.glue.delivery.sqs_failures == 0


# -- `_config.yml` ----------------------------------------------------------------------------------

CONFIG = "_config.yml"
GOOD_CONFIG = b"title: Good Site\nurl: https://news.example.org\ntimezone: Asia/Shanghai\n"


@pytest.fixture
def configured(pipeline: LocalPipeline) -> LocalPipeline:
    """A post published under a good `_config.yml`."""
    pipeline.upload(CONFIG, GOOD_CONFIG)
    pipeline.upload(POST, b"---\ntitle: By Jane\n---\nbody\n")
    pipeline.settle()
    assert site_of(pipeline).title == "Good Site"
    return pipeline


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"title: " + b"[" * DEEP + b"]" * DEEP + b"\n", "config_yaml"),
        (b"- " * DEEP + b"x\n", "config_yaml"),
        (b"feed: " + b"{a: " * DEEP + b"1" + b"}" * DEEP + b"\n", "config_yaml"),
        (yaml_laughs(), "config_yaml"),
        (b"title: !!python/object/apply:os.system ['true']\n", "config_yaml"),
        (b"\x89PNG\r\n\x1a\n" + bytes(300), "config_yaml"),
        ("title: café\n".encode("utf-16"), "config_yaml"),
        (b"title: x\x00\n", "config_yaml"),
        (b"- title\n- url\n", "config_yaml"),
        (b"just a sentence\n", "config_yaml"),
        (b"timezone: Mars/Olympus\n", "config_value"),
        (b"feed: {posts_limit: lots}\n", "config_value"),
        (b"collections: 5\n", "config_value"),
        (b"# big\n" + b"title: " + b"y" * (300 * 1024) + b"\n", "site_file_too_large"),
    ],
    ids=[
        "deep-flow",
        "deep-block",
        "deep-mapping",
        "alias-bomb",
        "python-tag",
        "binary",
        "utf-16",
        "nul",
        "a-list",
        "a-scalar",
        "unknown-timezone",
        "limit-not-a-number",
        "collections-not-a-mapping",
        "over-256-kib",
    ],
)
def test_a_hostile_config_is_recorded_and_the_good_one_stays(configured: LocalPipeline, body: bytes, code: str) -> None:
    site = site_of(configured)
    error = settle_site_file(configured, CONFIG, body)
    assert error["code"] == code
    # the good config stays in force: the same settings, its bytes still the item's
    assert site_of(configured) == site
    assert (configured.table.get_config() or {})["raw"] == GOOD_CONFIG
    assert published_titles(configured) == ["By Jane"]


@pytest.mark.parametrize("limit", [b"0", b"2147483648", b"99999999999999999999999"])
def test_an_extreme_posts_limit_is_taken_and_the_feeds_stay_sound(configured: LocalPipeline, limit: bytes) -> None:
    configured.upload(CONFIG, GOOD_CONFIG + b"feed: {posts_limit: " + limit + b"}\n")
    configured.settle()
    assert_pipeline_sound(configured)
    assert site_of(configured).feed.posts_limit == int(limit)
    assert published_titles(configured) == ([] if limit == b"0" else ["By Jane"])
