"""The pipeline's render environment (postfeed.pipeline.renderenv) on moto: a post's Liquid reads the site's
`_includes/` and `_data/` files and `_config.yml` as the table holds them, and the posts it names by
`post_url`/`link`; what Jekyll fails the build on is the post's recorded rejection (code and line), and its
earlier good version stays. `postfeed run` (the bulk path) and `postfeed build` read posts the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import feedparser

from postfeed.local.build import build_site
from postfeed.local.pipeline import LocalPipeline
from postfeed.local.runner import collect_site

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
