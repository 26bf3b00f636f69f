"""How closely postfeed.jekyll agrees with what Jekyll published for each corpus (../shared/corpus/truth).

Run: .venv/bin/python bench/agreement.py   (or `make agreement`). Prints one row per corpus; exits 0.
The corpus tests import `measure` from here, so the table and the tests count the same way. The `content`
column is bench/content_agreement.py's: posts whose content a reader sees the same as in Jekyll's feed (its
table follows; `--list` lists the posts that differ, with their cause).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "shared"), str(REPO)]  # run as a plain script, without installing the package

from postfeed.jekyll import load_site, parse_post  # noqa: E402
from postfeed.models import Post  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"
CORPORA = ("finews", "jekyll__jekyll", "Gaohaoyang__gaohaoyang.github.io")
# The truth was built with `time:` fixed to 2026-01-01.
BUILD_TIME = datetime(2026, 1, 1, tzinfo=UTC)
FIELDS = ("status", "title", "date", "url", "categories", "tags", "excerpt_text")
# The truth keeps the first 200 characters of excerpt_text.
EXCERPT_CHARS = 200


@dataclass
class Agreement:
    corpus: str
    posts: int = 0
    matched: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    total: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    mismatches: list[tuple[str, str, object, object]] = field(default_factory=list)

    def count(self, path: str, name: str, ours: object, theirs: object) -> None:
        self.total[name] += 1
        if ours == theirs:
            self.matched[name] += 1
        else:
            self.mismatches.append((path, name, ours, theirs))


def fields_of(post: Post) -> dict[str, object]:
    """Our post in the truth's shapes (date as ISO 8601 with offset, lists)."""
    return {
        "title": post.title,
        "date": post.date.isoformat(),
        "url": post.url,
        "categories": list(post.categories),
        "tags": list(post.tags),
        "excerpt_text": post.excerpt_text[:EXCERPT_CHARS],
    }


def measure(corpus: str) -> Agreement:
    """Parse every file under the corpus's _posts/ and compare it with truth/<corpus>.truth.json."""
    root = CORPUS / corpus
    site = load_site((root / "_config.yml").read_bytes())
    truth: dict[str, dict[str, Any]] = {
        t["relative_path"]: t for t in json.loads((CORPUS / "truth" / f"{corpus}.truth.json").read_text())
    }
    excluded = {e["relative_path"] for e in json.loads((CORPUS / "truth" / f"{corpus}.excluded.json").read_text())}
    result = Agreement(corpus)
    for file in sorted((root / "_posts").rglob("*")):
        if not file.is_file():
            continue
        rel = file.relative_to(root).as_posix()
        parsed = parse_post(rel, file.read_bytes(), site, now=BUILD_TIME)
        result.posts += 1
        expected = truth.get(rel)
        published = isinstance(parsed, Post)
        result.count(rel, "status", "published" if published else "excluded",
                     "published" if expected else ("excluded" if rel in excluded else "unknown"))  # fmt: skip
        if expected is None or not isinstance(parsed, Post):
            continue
        ours = fields_of(parsed)
        theirs = {**expected, "excerpt_text": expected["excerpt_text"][:EXCERPT_CHARS]}
        for name in FIELDS[1:]:
            result.count(rel, name, ours[name], theirs[name])
    return result


def table(results: list[Agreement], content: list[str] | None = None) -> str:
    """One row per corpus; ``content`` adds a last column (one cell per corpus)."""
    header = ["corpus", "posts", *FIELDS, *(["content"] if content else [])]
    rows = [[r.corpus, str(r.posts), *(f"{r.matched[f]}/{r.total[f]}" for f in FIELDS)] for r in results]
    if content:
        rows = [[*row, cell] for row, cell in zip(rows, content, strict=True)]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *rows]]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    from bench.content_agreement import listing, measure_content
    from bench.content_agreement import table as content_table

    results = [measure(corpus) for corpus in CORPORA]
    contents = [measure_content(corpus) for corpus in CORPORA]
    print(table(results, [f"{c.same}/{c.posts}" for c in contents]))
    if "-v" in argv:
        for result in results:
            for path, name, ours, theirs in result.mismatches:
                print(f"\n{result.corpus} {path} {name}\n  ours:   {ours!r}\n  theirs: {theirs!r}")
    print("\ncontent, as a reader of the feed sees it (bench/content_agreement.py):")
    print(content_table(contents))
    if "--list" in argv:
        print("\n" + listing(contents))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
