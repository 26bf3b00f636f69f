"""The pipeline's render environment (postfeed.pipeline.renderenv) on moto: a post's Liquid reads the site's
`_includes/` and `_data/` files and `_config.yml` as the table holds them, and the posts it names by
`post_url`/`link`; what Jekyll fails the build on is the post's recorded rejection (code and line), and its
earlier good version stays. `postfeed run` (the bulk path) and `postfeed build` read posts the same way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest

from postfeed_tools.local.build import build_site
from postfeed_tools.local.pipeline import LocalPipeline
from postfeed_tools.local.sitefiles import collect_site
from tests.functional.conftest import FEED_BASE_URL, FINEWS_PARAMETERS
from tests.support import Change, in_order_state, shuffled_state, snapshot, take_messages

CONFIG = b"title: Site\nurl: https://news.example.org\nrepository: octo/site\n"
FIGURE = b'<figure class="shot"><img src="{{ include.src }}" alt="{{ include.alt }}"></figure>\n'
OLDER = "_posts/2026-11-20-older.md"
NEWER = "_posts/2026-11-22-newer.md"


def post(title: str, body: str, day: int) -> bytes:
    return f'---\ntitle: "{title}"\ndate: 2026-11-{day} 09:30:00 +0000\n---\n{body}\n'.encode()


def publish(pipeline: LocalPipeline, files: dict[str, bytes]) -> None:
    for key, body in files.items():
        pipeline.upload(key, body)
    pipeline.settle()


def contents(pipeline: LocalPipeline) -> dict[str, str]:
    """Entry title -> content of the site feed."""
    parsed = feedparser.parse(pipeline.feed("feed.xml"))
    return {entry.title: entry.content[0].value for entry in parsed.entries}


def error_of(pipeline: LocalPipeline, key: str) -> dict[str, Any]:
    item = pipeline.table.get_post(key) or {}
    return dict(item.get("error") or {})


def test_a_post_reads_the_sites_includes_data_and_config(pipeline: LocalPipeline) -> None:
    publish(pipeline, {"_config.yml": CONFIG, "_includes/figure.html": FIGURE, "_data/team.yml": b"lead: Ada\n"})
    body = (
        '{% include figure.html src="/a.png" alt="A" %}\n\nLed by {{ site.data.team.lead }} at {{ site.repository }}.'
    )
    publish(pipeline, {OLDER: post("Older", body, 20)})
    content = contents(pipeline)["Older"]
    assert '<figure><img alt="A" src="https://news.example.org/a.png" /></figure>' in content
    assert "Led by Ada at octo/site." in content


def test_what_jekyll_fails_on_is_recorded_and_the_good_version_stays(pipeline: LocalPipeline) -> None:
    publish(pipeline, {"_includes/figure.html": FIGURE})
    publish(pipeline, {OLDER: post("Older", "Good {% include figure.html src='/a.png' %}", 20)})
    assert "/a.png" in contents(pipeline)["Older"]
    # WHEN a new version includes a file the site does not have (on its body's third line, the file's sixth)
    publish(pipeline, {OLDER: post("Older", "Line one\n\nThen {% include missing.html %}", 20)})
    # THEN it is rejected with Jekyll's reason and the line, and the good version stays in the feed
    error = error_of(pipeline, OLDER)
    assert (error["code"], error["line"]) == ("include_not_found", 7)
    assert "_includes/missing.html" in error["message"]
    assert "/a.png" in contents(pipeline)["Older"]
    # AND a post_url to no post is rejected too
    publish(pipeline, {NEWER: post("Newer", "See [this]({% post_url 2020-01-01-nowhere %}).", 22)})
    assert error_of(pipeline, NEWER)["code"] == "post_url_not_found"
    assert "Newer" not in contents(pipeline)


def test_post_url_and_link_resolve_to_the_named_posts_url(pipeline: LocalPipeline) -> None:
    publish(pipeline, {OLDER: post("Older", "The first.", 20)})
    body = "See [one]({% post_url 2026-11-20-older %}) and [two]({% link _posts/2026-11-20-older.md %})."
    publish(pipeline, {NEWER: post("Newer", body, 22)})
    content = contents(pipeline)["Newer"]
    assert content.count('/2026/11/20/older.html"') == 2, content
    # AND a link to a page, which the pipeline does not hold, renders empty rather than failing the post
    publish(pipeline, {NEWER: post("Newer", "[About]({% link about.md %})", 22)})
    assert not error_of(pipeline, NEWER)


def write(root: Path, files: dict[str, bytes]) -> Path:
    for key, body in files.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(body)
    return root


def test_build_resolves_chains_of_named_posts_and_reads_the_site_folder(tmp_path: Path) -> None:
    first, second, third = "_posts/2026-11-20-a.md", "_posts/2026-11-21-b.md", "_posts/2026-11-22-c.md"
    root = write(
        tmp_path / "site",
        {
            "_config.yml": CONFIG,
            "_includes/figure.html": FIGURE,
            "_posts/snippet.txt": b"from beside the post\n",
            # a names b, b names c: one round of reading again per link of the chain
            first: post("A", "[b]({% post_url 2026-11-21-b %}) {% include figure.html src='/x.png' %}", 20),
            second: post("B", "[c]({% post_url 2026-11-22-c %}) {% include_relative snippet.txt %}", 21),
            third: post("C", "The end.", 22),
        },
    )
    result = build_site(collect_site(root), tmp_path / "out", workers=1)
    statuses = {entry["key"]: entry["status"] for entry in result.report["posts"]}
    assert statuses == {first: "published", second: "published", third: "published", "_posts/snippet.txt": "skipped"}
    parsed = feedparser.parse((tmp_path / "out" / "feed.xml").read_bytes())
    content = {entry.title: entry.content[0].value for entry in parsed.entries}
    assert 'href="https://news.example.org/2026/11/21/b.html"' in content["A"]
    assert 'src="https://news.example.org/x.png"' in content["A"]
    assert 'href="https://news.example.org/2026/11/22/c.html"' in content["B"]
    assert "from beside the post" in content["B"]


# -- dependencies are events ------------------------------------------------------------------------------

READER = "_posts/2026-11-23-reader.md"
PLAIN = "_posts/2026-11-24-plain.md"


def versions(pipeline: LocalPipeline, *keys: str) -> dict[str, int]:
    return {key: int((pipeline.table.get_post(key) or {})["version"]) for key in keys}


def test_an_include_or_data_change_rerenders_exactly_the_posts_that_read_it(pipeline: LocalPipeline) -> None:
    publish(
        pipeline,
        {"_includes/figure.html": FIGURE, "_includes/other.html": b"other\n", "_data/team.yml": b"lead: Ada\n"},
    )
    publish(
        pipeline,
        {
            OLDER: post("Older", "{% include figure.html src='/a.png' %}", 20),
            NEWER: post("Newer", "{% include other.html %}", 22),
            READER: post("Reader", "Led by {{ site.data.team.lead }}.", 23),
            PLAIN: post("Plain", "No Liquid here.", 24),
        },
    )
    item = pipeline.table.get_post(OLDER) or {}
    assert item["reads"] == {"includes": ["figure.html"]}
    assert pipeline.table.posts_reading("include:figure.html") == [OLDER]
    before = versions(pipeline, OLDER, NEWER, READER, PLAIN)
    # WHEN the figure include changes: only the post that included it is read again, and its feed shows it
    publish(pipeline, {"_includes/figure.html": b'<figure class="wide"><img src="{{ include.src }}"></figure>\n'})
    after = versions(pipeline, OLDER, NEWER, READER, PLAIN)
    assert [key for key in after if after[key] != before[key]] == [OLDER]
    assert "/a.png" in contents(pipeline)["Older"]
    # WHEN the team data changes: only the post that read site.data.team
    publish(pipeline, {"_data/team.yml": b"lead: Grace\n"})
    again = versions(pipeline, OLDER, NEWER, READER, PLAIN)
    assert [key for key in again if again[key] != after[key]] == [READER]
    assert "Led by Grace." in contents(pipeline)["Reader"]
    # WHEN the other include is removed: the post that read it is rejected, its good version stays
    pipeline.delete("_includes/other.html")
    pipeline.settle()
    assert error_of(pipeline, NEWER)["code"] == "include_not_found"
    assert "other" in contents(pipeline)["Newer"]
    # AND when it comes back, the post is published again and no longer rejected
    publish(pipeline, {"_includes/other.html": b"back again\n"})
    assert not error_of(pipeline, NEWER)
    assert "back again" in contents(pipeline)["Newer"]


def test_a_post_waiting_for_the_post_it_names_is_published_when_that_post_arrives(pipeline: LocalPipeline) -> None:
    chain = "_posts/2026-11-19-chain.md"
    publish(pipeline, {chain: post("Chain", "[next]({% link _posts/2026-11-22-newer.md %})", 19)})
    publish(pipeline, {NEWER: post("Newer", "[first]({% post_url 2026-11-20-older %})", 22)})
    assert error_of(pipeline, NEWER)["code"] == "post_url_not_found"
    assert error_of(pipeline, chain)["code"] == "link_not_found"
    # WHEN the named post arrives: the post waiting for it is published, and so is the one waiting for that
    publish(pipeline, {OLDER: post("Older", "The first.", 20)})
    assert not error_of(pipeline, NEWER)
    assert not error_of(pipeline, chain)
    shown = contents(pipeline)
    assert "/2026/11/20/older.html" in shown["Newer"]
    assert "/2026/11/22/newer.html" in shown["Chain"]


# -- at-least-once, out of order ------------------------------------------------------------------------

CHANGES = [
    Change(OLDER, post("Older", "{% include figure.html src='/a.png' %} [n]({% post_url 2026-11-22-newer %})", 20)),
    Change("_includes/figure.html", FIGURE),
    Change(NEWER, post("Newer", "Led by {{ site.data.team.lead }}.", 22)),
    Change("_data/team.yml", b"lead: Ada\n"),
    Change("_includes/figure.html", b"<figure>{{ include.src }}</figure>\n"),
    Change(PLAIN, post("Plain", "No Liquid here.", 24)),
    Change("_includes/gone.html", b"gone\n"),
    Change("_data/team.yml", b"lead: Grace\n"),
    Change(READER, post("Reader", "{% include gone.html %}", 23)),
    Change("_includes/gone.html", None),
    Change(READER, post("Reader", "Back to plain text.", 23)),
]
# Bookkeeping of re-renders, which differs with the order the work happened in (generations are random).
VOLATILE = {"generation", "changed_at", "version", "sequencer", "lease_owner", "lease_until", "pending", "published"}


def outcome(pipeline: LocalPipeline) -> dict[str, Any]:
    state = snapshot(pipeline)
    items = {
        key: {k: v for k, v in item.items() if k not in VOLATILE}
        for key, item in state["items"].items()
        if not key.endswith("|~STATE") and not key.endswith("|~INDEX") and item.get("state") != "deleted"
    }  # a deleted file's tombstone: absent, as in a run that never saw it
    return {"items": items, "feeds": state["feeds"]}


@pytest.fixture(scope="module")
def in_order() -> Iterator[dict[str, Any]]:
    with in_order_state(CHANGES, outcome, parameters=FINEWS_PARAMETERS, feed_base_url=FEED_BASE_URL) as reference:
        yield reference


@pytest.mark.parametrize("seed", range(3))
def test_shuffled_duplicated_events_of_posts_and_what_they_read_reach_the_in_order_state(
    in_order: dict[str, Any], seed: int
) -> None:
    # The reference: every post published, reading the final include and data
    assert {key.split("|")[0] for key in in_order["items"] if key.startswith("DEP#")} == {
        "DEP#include:figure.html",
        "DEP#post:2026-11-22-newer",
        "DEP#data:team",
    }
    # GIVEN every change made in S3 before any event is delivered, WHEN the events arrive shuffled and duplicated
    actual = shuffled_state(CHANGES, outcome, seed=seed, parameters=FINEWS_PARAMETERS, feed_base_url=FEED_BASE_URL)
    # THEN the table and every document are those of the final files processed once, in order
    assert actual["items"] == in_order["items"]
    assert actual["feeds"] == in_order["feeds"]


def test_a_full_rebuild_takes_in_includes_uploaded_while_nothing_listened(pipeline: LocalPipeline) -> None:
    publish(
        pipeline, {"_includes/figure.html": FIGURE, OLDER: post("Older", "{% include figure.html src='/a.png' %}", 20)}
    )
    # GIVEN a new version of the include whose event is lost
    pipeline.upload("_includes/figure.html", b"<p>unannounced {{ include.src }}</p>\n")
    assert take_messages(pipeline)
    # WHEN a full rebuild runs (a new config starts one)
    publish(pipeline, {"_config.yml": CONFIG})
    # THEN the include in the bucket is in force, and the post shows it
    item = pipeline.table.get_site_item("INCL#_includes/figure.html") or {}
    assert bytes(item["raw"]) == b"<p>unannounced {{ include.src }}</p>\n"
    assert "unannounced" in contents(pipeline)["Older"]


def test_the_bulk_path_resolves_posts_named_across_its_chunks(pipeline: LocalPipeline) -> None:
    first, second, third = "_posts/2026-11-20-a.md", "_posts/2026-11-21-b.md", "_posts/2026-11-22-c.md"
    posts = [
        (first, post("A", "[b]({% post_url 2026-11-21-b %})", 20)),
        (second, post("B", "[c]({% link _posts/2026-11-22-c.md %})", 21)),
        (third, post("C", "The end.", 22)),
    ]
    # WHEN each post is its own chunk: a and b are read before the post each names is in the table
    outcome = pipeline.bulk_load(posts, chunk=1, workers=1)
    # THEN both are read again once it is, and each post has one outcome: published
    assert [(o.key, o.action.value) for o in outcome.outcomes] == [(key, "published") for key, _ in posts]
    shown = contents(pipeline)
    assert "/2026/11/21/b.html" in shown["A"]
    assert "/2026/11/22/c.html" in shown["B"]
    assert pipeline.table.posts_reading("post:2026-11-21-b") == [first]


def test_a_file_beside_posts_rerenders_the_posts_that_include_it(pipeline: LocalPipeline) -> None:
    snippet = "_posts/snippet.txt"
    publish(pipeline, {snippet: b"first words\n", OLDER: post("Older", "{% include_relative snippet.txt %}", 20)})
    publish(pipeline, {PLAIN: post("Plain", "No Liquid here.", 24)})
    assert "first words" in contents(pipeline)["Older"]
    assert (pipeline.table.get_post(OLDER) or {})["reads"] == {"files": [snippet]}
    before = versions(pipeline, OLDER, PLAIN)
    # WHEN the file changes: the post that included it shows the new words; the other post is not read again
    publish(pipeline, {snippet: b"second words\n"})
    assert "second words" in contents(pipeline)["Older"]
    after = versions(pipeline, OLDER, PLAIN)
    assert [key for key in after if after[key] != before[key]] == [OLDER]
    # WHEN it is removed: the post is rejected as Jekyll's build fails, and its good version stays
    pipeline.delete(snippet)
    pipeline.settle()
    assert error_of(pipeline, OLDER)["code"] == "include_not_found"
    assert "second words" in contents(pipeline)["Older"]
