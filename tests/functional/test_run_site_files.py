"""`postfeed run` and `postfeed import` with the site files besides `_config.yml` and `_posts/`: `_data/`, the
site's `feed.xslt.xml`, `_drafts/` and the declared collections' folders, uploaded and reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import feedparser

from postfeed_tools.local.importer import import_site
from postfeed_tools.local.pipeline import LocalPipeline
from postfeed_tools.local.runner import run_site
from postfeed_tools.local.sitefiles import collect_site
from postfeed_tools.local.summary import format_summary

CONFIG = (
    "title: Site\nurl: https://news.example.org\ncollections: {notes: {output: true}}\nfeed: {collections: [notes]}\n"
)
XSLT = '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>\n'


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make_site(root: Path) -> Path:
    write(root / "_config.yml", CONFIG)
    write(root / "_posts" / "2026-11-25-a.md", "---\ntitle: A\nauthor: jane\n---\nA\n")
    write(root / "_drafts" / "b.md", "---\ntitle: Draft B\n---\nB\n")
    write(root / "_notes" / "2026-11-20-n.md", "---\ntitle: Note N\n---\nN\n")
    write(root / "_misc" / "2026-11-20-m.md", "---\ntitle: Misc M\n---\nM\n")  # not a declared collection
    write(root / "_data" / "authors.yml", "jane: {name: Jane Doe, email: jane@example.com}\n")
    write(root / "_data" / "menu.yml", "- [unclosed\n")
    write(root / "_data" / "notes.txt", "not data\n")
    write(root / "_includes" / "note.html", "<aside>{{ include.text }}</aside>\n")
    write(root / "_includes" / ".hidden.html", "left out\n")
    write(root / "feed.xslt.xml", XSLT)
    return root


def by_key(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["key"]: entry for entry in entries}


def test_collect_site_finds_the_site_files_feeds_depend_on(tmp_path: Path) -> None:
    site = collect_site(make_site(tmp_path / "site"))
    assert [key for key, _ in site.site_files] == [
        "_data/authors.yml",
        "_data/menu.yml",
        "_includes/note.html",
        "feed.xslt.xml",
    ]
    assert site.keys == ["_drafts/b.md", "_notes/2026-11-20-n.md", "_posts/2026-11-25-a.md"]


def test_run_uploads_the_site_files_first_and_reports_them(pipeline: LocalPipeline, tmp_path: Path) -> None:
    site = collect_site(make_site(tmp_path / "site"))
    result = run_site(pipeline, site, tmp_path / "out", progress=False)
    report = result.report
    # THEN the data files and the stylesheet are reported, a bad one with its code and line
    files = by_key(report["site_files"])
    assert files["_data/authors.yml"]["status"] == "stored"
    assert files["feed.xslt.xml"]["status"] == "stored"
    assert files["_includes/note.html"]["status"] == "stored"
    assert (files["_data/menu.yml"]["status"], files["_data/menu.yml"]["code"]) == ("error", "yaml_syntax")
    assert files["_data/menu.yml"]["line"] == 2
    # AND the draft is skipped, the note is in its collection's feed, the post shows its author from _data/
    posts = by_key(report["posts"])
    assert (posts["_drafts/b.md"]["status"], posts["_drafts/b.md"]["reason"]) == ("skipped", "draft")
    assert posts["_notes/2026-11-20-n.md"]["status"] == "published"
    out = tmp_path / "out"
    assert [e.title for e in feedparser.parse((out / "feed" / "notes.xml").read_bytes()).entries] == ["Note N"]
    (entry,) = feedparser.parse((out / "feed.xml").read_bytes()).entries
    assert (entry.author_detail.name, entry.author_detail.email) == ("Jane Doe", "jane@example.com")
    # AND the site's stylesheet is copied out and linked
    assert (out / "feed.xslt.xml").read_text(encoding="utf-8") == XSLT
    assert "/feed.xslt.xml" in (out / "feed.xml").read_text(encoding="utf-8")
    # AND the summary lists the bad data file
    assert "error    _data/menu.yml: yaml_syntax line 2" in format_summary(result)


def test_import_uploads_the_site_files_before_the_posts(pipeline: LocalPipeline, tmp_path: Path) -> None:
    root = make_site(tmp_path / "site")
    puts: list[str] = []
    pipeline.s3.meta.events.register(
        "before-parameter-build.s3.PutObject", lambda params, **_: puts.append(params["Key"])
    )
    result = import_site(pipeline.s3, pipeline.stack.posts_bucket, root, wait_for_config=lambda: None, progress=False)
    assert result.ok
    # THEN the config, then the data files and the stylesheet, then the posts, drafts and collection documents
    assert puts[:5] == ["_config.yml", "_data/authors.yml", "_data/menu.yml", "_includes/note.html", "feed.xslt.xml"]
    assert sorted(puts[5:]) == ["_drafts/b.md", "_notes/2026-11-20-n.md", "_posts/2026-11-25-a.md"]
    # AND a second import uploads nothing
    puts.clear()
    again = import_site(pipeline.s3, pipeline.stack.posts_bucket, root, progress=False)
    assert puts == []
    assert len(again.skipped) == 7  # all but _config.yml, which has its own line
