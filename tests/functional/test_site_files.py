"""Site files besides posts, end to end on moto: `_data/authors.yml` re-renders exactly the feeds of the posts
whose author it names, a bad data file is recorded and the last good one stays, drafts appear nowhere, a
declared collection gets its feed, the site's `feed.xslt.xml` is copied and linked, and shuffled duplicated
events reach the state of the final files processed once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import feedparser
import pytest

from postfeed.store.table import AUTHOR_KEY
from postfeed_tools.local.pipeline import LocalPipeline
from tests.functional.conftest import FEED_BASE_URL, FINEWS_PARAMETERS
from tests.support import Change, in_order_state, shuffled_state, snapshot

AUTHORS = "_data/authors.yml"
STYLESHEET = "feed.xslt.xml"
XSLT = (
    b'<?xml version="1.0"?>\n<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">\n'
    b'<xsl:template match="/"><html><body>%s</body></html></xsl:template>\n</xsl:stylesheet>\n'
)
# Three posts with feeds of their own: Jane's, Bob's, and one without an author.
JANE = "_posts/2026-11-25-jane.md"
BOB = "_posts/2026-11-26-bob.md"
NOBODY = "_posts/2026-11-27-nobody.md"
JANE_FEEDS = ("feed/emnews", "feed/by_tag/港股")
OTHER_FEEDS = ("feed/cailianshe", "feed/by_tag/A股", "feed/yangxingwangzhan", "feed/by_tag/央行公告")


def post(title: str, *, categories: str, tags: str, author: str | None = None, day: int = 25) -> bytes:
    by = f"author: {author}\n" if author else ""
    return (
        f'---\ntitle: "{title}"\ndate: 2026-11-{day} 09:30:00 +0800\ncategories: {categories}\ntags: {tags}\n'
        f"{by}---\n<p>{title}</p>\n"
    ).encode()


POSTS = {
    JANE: post("简的文章", categories="emnews", tags="港股", author="jane", day=25),
    BOB: post("鲍勃的文章", categories="cailianshe", tags="A股", author="bob", day=26),
    NOBODY: post("无名文章", categories="yangxingwangzhan", tags="央行公告", day=27),
}


class PutRecorder:
    """The keys of every PutObject the handlers make while installed."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def install(self) -> PutRecorder:
        from postfeed.store.clients import reset_clients, session

        reset_clients()  # clients copy their session's hooks when built
        session().events.register("before-parameter-build.s3.PutObject", self._record, unique_id="site-files-puts")
        return self

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        self.keys.append(params["Key"])

    def uninstall(self) -> None:
        from postfeed.store.clients import reset_clients, session

        session().events.unregister("before-parameter-build.s3.PutObject", unique_id="site-files-puts")
        reset_clients()


@pytest.fixture
def puts() -> Iterator[PutRecorder]:
    recorder = PutRecorder().install()
    try:
        yield recorder
    finally:
        recorder.uninstall()


def publish(pipeline: LocalPipeline, files: dict[str, bytes]) -> None:
    for key, body in files.items():
        pipeline.upload(key, body)
    pipeline.settle()


def documents(pipeline: LocalPipeline) -> dict[str, bytes]:
    return {key: body for key in pipeline.feed_keys() if (body := pipeline.feed(key)) is not None}


def authors_of(pipeline: LocalPipeline, key: str) -> dict[str, tuple[str, str]]:
    """Entry title -> (author name, email) of an Atom document."""
    parsed = feedparser.parse(pipeline.feed(key))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return {
        e.title: (e.get("author_detail", {}).get("name", ""), e.get("author_detail", {}).get("email", ""))
        for e in parsed.entries
    }


def of_feeds(keys: list[str], stems: tuple[str, ...]) -> list[str]:
    return sorted(key for key in keys if key.startswith(stems))


def test_an_authors_file_rerenders_exactly_the_feeds_of_the_posts_it_names(
    pipeline: LocalPipeline, puts: PutRecorder
) -> None:
    # GIVEN three posts: by jane, by bob, and without an author
    publish(pipeline, POSTS)
    assert pipeline.table.get_post(JANE)[AUTHOR_KEY] == "=jane"  # type: ignore[index]
    assert AUTHOR_KEY not in (pipeline.table.get_post(NOBODY) or {})
    before = documents(pipeline)
    puts.keys.clear()
    # WHEN _data/authors.yml arrives naming jane (and someone with no post)
    publish(pipeline, {AUTHORS: b"jane:\n  name: Jane Doe\n  email: jane@example.com\nzoe: Zoe\n"})
    # THEN jane's entries show her name and email, in every feed holding her post
    for key in ("feed.xml", "feed/emnews.xml", "feed/by_tag/港股.xml"):
        assert authors_of(pipeline, key)["简的文章"] == ("Jane Doe", "jane@example.com"), key
    # AND only the feeds holding her post were written: the others' documents are untouched, byte for byte
    after = documents(pipeline)
    changed = sorted(key for key in after if after[key] != before.get(key))
    assert of_feeds(changed, OTHER_FEEDS) == []
    assert of_feeds(puts.keys, OTHER_FEEDS) == []
    assert of_feeds(changed, JANE_FEEDS)
    assert "feed.xml" in changed
    # WHEN bob is added and jane's entry changes: bob's feeds are re-rendered too; the author-less post's not
    puts.keys.clear()
    publish(pipeline, {AUTHORS: b"jane: {name: Jane D., email: jane@example.com}\nbob: {name: Bob Roe}\n"})
    assert authors_of(pipeline, "feed/cailianshe.xml")["鲍勃的文章"][0] == "Bob Roe"
    assert authors_of(pipeline, "feed/emnews.xml")["简的文章"][0] == "Jane D."
    assert of_feeds(puts.keys, ("feed/yangxingwangzhan", "feed/by_tag/央行公告")) == []
    # WHEN the same bytes come again: nothing is re-rendered
    puts.keys.clear()
    publish(pipeline, {AUTHORS: b"jane: {name: Jane D., email: jane@example.com}\nbob: {name: Bob Roe}\n"})
    assert puts.keys == []
    # WHEN the file is removed: the authors are back to their keys
    pipeline.delete(AUTHORS)
    pipeline.settle()
    assert authors_of(pipeline, "feed.xml")["简的文章"][0] == "jane"
    assert (pipeline.table.get_site_item(f"DATA#{AUTHORS}") or {})["state"] == "deleted"


def test_a_site_author_named_by_key_rerenders_every_feed(pipeline: LocalPipeline) -> None:
    # GIVEN a site whose own author is a key of the authors file, and posts without an author
    publish(pipeline, {"_config.yml": b"title: Site\nurl: https://news.example.org\nauthor: ed\n"})
    publish(
        pipeline,
        {NOBODY: POSTS[NOBODY], "_posts/2026-11-20-x.md": post("另一篇", categories="emnews", tags="港股", day=20)},
    )
    # WHEN the authors file names the site's author
    publish(pipeline, {AUTHORS: b"ed: {name: The Editor, email: ed@example.com}\n"})
    # THEN every entry without its own author shows the site's author as the file gives it (a full rebuild)
    for key in ("feed.xml", "feed/emnews.xml", "feed/yangxingwangzhan.xml"):
        assert set(authors_of(pipeline, key).values()) == {("The Editor", "ed@example.com")}, key


def test_a_bad_data_file_is_recorded_and_the_last_good_one_stays(pipeline: LocalPipeline) -> None:
    publish(pipeline, {JANE: POSTS[JANE], AUTHORS: b"jane: {name: Jane Doe}\n"})
    assert authors_of(pipeline, "feed.xml")["简的文章"][0] == "Jane Doe"
    # WHEN a broken version arrives (an unclosed quote on line 2)
    publish(pipeline, {AUTHORS: b'jane:\n  name: "Jane\n'})
    # THEN it is recorded with its code, message and line, listed with the rejected posts, and Jane's good
    # entry stays in force
    (rejected,) = list(pipeline.table.rejected_posts())
    assert rejected["key"] == AUTHORS
    assert rejected["error"]["code"] == "yaml_syntax"
    assert AUTHORS in rejected["error"]["message"]
    assert rejected["error"]["line"] == 3
    assert authors_of(pipeline, "feed.xml")["简的文章"][0] == "Jane Doe"
    # AND a list instead of a mapping is an error of its own
    publish(pipeline, {AUTHORS: b"- jane\n- bob\n"})
    (rejected,) = list(pipeline.table.rejected_posts())
    assert rejected["error"]["code"] == "authors_not_mapping"
    # AND so is any other data file that cannot be read, while the feeds do not depend on it
    publish(pipeline, {"_data/navigation.json": b'{"a": [1, 2}'})
    codes = {item["key"]: item["error"]["code"] for item in pipeline.table.rejected_posts()}
    assert codes == {AUTHORS: "authors_not_mapping", "_data/navigation.json": "data_invalid"}
    # AND a fixed upload clears both
    publish(pipeline, {AUTHORS: b"jane: {name: Jane Roe}\n", "_data/navigation.json": b'{"a": [1, 2]}'})
    assert list(pipeline.table.rejected_posts()) == []
    assert authors_of(pipeline, "feed.xml")["简的文章"][0] == "Jane Roe"


def test_an_include_is_recorded_with_its_bytes_and_a_bad_one_keeps_the_last_good(pipeline: LocalPipeline) -> None:
    key, sk = "_includes/figure.html", "INCL#_includes/figure.html"
    publish(pipeline, {key: b'<figure><img src="{{ include.src }}"></figure>\n'})
    item = pipeline.table.get_site_item(sk) or {}
    assert (item["state"], bytes(item["raw"])) == ("stored", b'<figure><img src="{{ include.src }}"></figure>\n')
    # WHEN bytes that are not text arrive: recorded with the line, the last good bytes stay in force
    publish(pipeline, {key: b"<figure>\n\xff</figure>\n"})
    (rejected,) = list(pipeline.table.rejected_posts())
    assert (rejected["key"], rejected["error"]["code"], rejected["error"]["line"]) == (key, "invalid_utf8", 2)
    item = pipeline.table.get_site_item(sk) or {}
    assert bytes(item["raw"]).startswith(b"<figure><img")
    # AND a dot file under _includes/ is not an include; a folder marker neither
    publish(pipeline, {"_includes/.notes": b"x", "_includes/": b""})
    assert pipeline.table.get_site_item("INCL#_includes/.notes") is None
    # WHEN the include is removed: its item says so
    pipeline.delete(key)
    pipeline.settle()
    assert (pipeline.table.get_site_item(sk) or {})["state"] == "deleted"


def test_drafts_are_skipped_and_appear_nowhere(pipeline: LocalPipeline) -> None:
    publish(pipeline, {JANE: POSTS[JANE]})
    before = documents(pipeline)
    draft = "_drafts/2026-11-28-a-draft.md"
    publish(pipeline, {draft: post("草稿", categories="emnews", tags="草稿标签", day=28)})
    item = pipeline.table.get_post(draft)
    assert item is not None
    assert (item["state"], item["skip"]["reason"]) == ("skipped", "draft")
    assert documents(pipeline) == before  # no feed, entry or document of its own
    # WHEN the site turns show_drafts on: the config's full rebuild reads _drafts/ again, and publishes it
    publish(pipeline, {"_config.yml": b"title: Site\nurl: https://news.example.org\nshow_drafts: true\n"})
    assert "草稿" in [e.title for e in feedparser.parse(pipeline.feed("feed/emnews.xml")).entries]


def test_a_declared_collection_gets_its_feed(pipeline: LocalPipeline) -> None:
    config = b"title: Site\nurl: https://news.example.org\ncollections:\n  notes:\n    output: true\n"
    config += b"feed:\n  collections: [notes]\n"
    publish(pipeline, {"_config.yml": config})
    note = b"---\ntitle: A note\ndate: 2026-11-20 08:00:00 +0800\n---\n<p>note</p>\n"
    publish(pipeline, {"_notes/2026-11-20-a-note.md": note, "_misc/2026-11-20-x.md": note, JANE: POSTS[JANE]})
    # THEN the collection's document is in its own feed, not the posts' feeds; an undeclared folder is ignored
    assert [e.title for e in feedparser.parse(pipeline.feed("feed/notes.xml")).entries] == ["A note"]
    assert [e.title for e in feedparser.parse(pipeline.feed("feed.xml")).entries] == ["简的文章"]
    assert pipeline.table.get_post("_misc/2026-11-20-x.md") is None
    # WHEN the config no longer declares it: its document leaves the collection's feed (a full rebuild)
    publish(pipeline, {"_config.yml": b"title: Site\nurl: https://news.example.org\n"})
    assert feedparser.parse(pipeline.feed("feed/notes.xml")).entries == []
    assert (pipeline.table.get_post("_notes/2026-11-20-a-note.md") or {})["state"] == "skipped"


def test_the_site_stylesheet_is_copied_and_linked(pipeline: LocalPipeline, puts: PutRecorder) -> None:
    publish(pipeline, POSTS)
    assert b"/feed.xsl" in (pipeline.feed("feed.xml") or b"")
    # WHEN the site's feed.xslt.xml is uploaded
    publish(pipeline, {STYLESHEET: XSLT % b"one"})
    # THEN it is copied beside the feeds and every feed document links it instead of postfeed's stylesheet
    copy = pipeline.feed_object(STYLESHEET)
    assert copy["body"] == XSLT % b"one"
    assert copy["content_type"].startswith("application/xslt+xml")
    for key in ("feed.xml", "feed.rss", "feed/emnews.xml", "feed/by_tag/A股.rss"):
        assert b"/feed.xslt.xml" in (pipeline.feed(key) or b""), key
    # WHEN only its bytes change: the copy follows, no feed document is written
    puts.keys.clear()
    publish(pipeline, {STYLESHEET: XSLT % b"two"})
    assert puts.keys == [STYLESHEET]
    assert pipeline.feed(STYLESHEET) == XSLT % b"two"
    # WHEN a version that is not XML arrives: recorded, and the copy in force stays
    publish(pipeline, {STYLESHEET: b"<stylesheet>\n<oops></stylesheet>\n"})
    (rejected,) = list(pipeline.table.rejected_posts())
    assert (rejected["key"], rejected["error"]["code"], rejected["error"]["line"]) == (
        STYLESHEET,
        "stylesheet_invalid",
        2,
    )
    assert pipeline.feed(STYLESHEET) == XSLT % b"two"
    # WHEN it is removed: the copy goes and the feeds link postfeed's stylesheet again
    pipeline.delete(STYLESHEET)
    pipeline.settle()
    assert pipeline.feed(STYLESHEET) is None
    assert b"/feed.xslt.xml" not in (pipeline.feed("feed.xml") or b"")
    assert b"/feed.xsl" in (pipeline.feed("feed.xml") or b"")


# -- at-least-once, out of order ------------------------------------------------------------------------

CHANGES = [
    Change(JANE, POSTS[JANE]),
    Change(AUTHORS, b"jane: {name: Jane Doe}\n"),
    Change(BOB, POSTS[BOB]),
    Change(STYLESHEET, XSLT % b"one"),
    Change(AUTHORS, b"jane: [unclosed\n"),  # rejected, then fixed below
    Change("_drafts/draft.md", post("草稿", categories="emnews", tags="港股")),
    Change(STYLESHEET, None),
    Change(AUTHORS, b"jane: {name: Jane Roe, email: jane@example.com}\nbob: Bob Roe\n"),
    Change(NOBODY, POSTS[NOBODY]),
    Change(STYLESHEET, XSLT % b"two"),
    Change("_data/other.yml", b"x: 1\n"),
]
# Bookkeeping of re-renders, which differs with the order the work happened in (generations are random).
VOLATILE = {"generation", "changed_at", "version", "sequencer", "lease_owner", "lease_until", "pending", "published"}


def outcome(pipeline: LocalPipeline) -> dict[str, Any]:
    state = snapshot(pipeline)
    items = {
        key: {k: v for k, v in item.items() if k not in VOLATILE}
        for key, item in state["items"].items()
        if not key.endswith("|~STATE") and not key.endswith("|~INDEX")
    }
    return {"items": items, "feeds": state["feeds"]}


@pytest.fixture(scope="module")
def in_order() -> Iterator[dict[str, Any]]:
    with in_order_state(CHANGES, outcome, parameters=FINEWS_PARAMETERS, feed_base_url=FEED_BASE_URL) as reference:
        yield reference


@pytest.mark.parametrize("seed", range(3))
def test_shuffled_duplicated_site_file_events_reach_the_in_order_state(in_order: dict[str, Any], seed: int) -> None:
    # GIVEN every change made in S3 before any event is delivered, WHEN the events arrive shuffled and duplicated
    actual = shuffled_state(CHANGES, outcome, seed=seed, parameters=FINEWS_PARAMETERS, feed_base_url=FEED_BASE_URL)
    # THEN the table and every document are those of the final files processed once, in order
    assert actual["items"] == in_order["items"]
    assert actual["feeds"] == in_order["feeds"]
