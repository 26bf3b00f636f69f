"""Every corpus site through `postfeed run`, then every feed document checked as readers and the W3C validator would.

Run: .venv/bin/python bench/validate_feeds.py [CORPUS ...]   (or `make validate`; about a minute for the three).

For each site under ../shared/corpus (the team kit beside the repo): `postfeed run` into a temporary folder, then
each Atom, RSS and JSON Feed document there gets the checks of ../shared/tools/check_feeds.py: well-formed XML,
feedparser without bozo, JSON Feed 1.1 fields, and the W3C Feed Validation Service's own code at level AA, called
in-process through check_feeds.py's own `w3c_check` (so the kit stays the one place that knows how to call it).
Prints one row per site: feeds, invalid documents, W3C errors, W3C warnings by type; then what is wrong where.

Exit 1 when a document is invalid, has a W3C error or a W3C warning other than ALLOWED_WARNINGS. The functional test
`tests/functional/test_feed_validation.py` runs the same checks.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "shared"))  # run as a plain script, without installing the package

KIT = REPO.parent / "shared"
TOOLS = KIT / "tools"
CORPUS = KIT / "corpus"
CORPORA = ("finews", "jekyll__jekyll", "Gaohaoyang__gaohaoyang.github.io")
# Entries that share an `updated` instant: finews' bot publishes several posts in the same second. That is the
# data, not the feed (RFC 4287 asks distinct `updated` only of one entry's revisions), so it is not a defect.
ALLOWED_WARNINGS = frozenset({"DuplicateUpdated"})
FEED_SUFFIXES = (".xml", ".rss", ".atom", ".json")
MAX_LISTED = 30


@dataclass
class Tally:
    """What the checks found in one site's documents."""

    corpus: str
    feeds: int = 0
    invalid: list[str] = field(default_factory=list)  # "path: why"
    errors: Counter[str] = field(default_factory=Counter)  # W3C error type -> count
    warnings: Counter[str] = field(default_factory=Counter)  # W3C warning type -> count
    findings: list[str] = field(default_factory=list)  # "path: Type: message", errors and unexpected warnings

    @property
    def unexpected_warnings(self) -> int:
        return sum(n for kind, n in self.warnings.items() if kind not in ALLOWED_WARNINGS)

    @property
    def ok(self) -> bool:
        return self.feeds > 0 and not self.invalid and not self.errors and not self.unexpected_warnings


def load_check_feeds(tools: Path = TOOLS) -> ModuleType:
    """The kit's check_feeds.py as a module (it is a script, not a package)."""
    path = tools / "check_feeds.py"
    spec = importlib.util.spec_from_file_location("check_feeds", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"no check_feeds.py in {tools}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _w3c(checker: ModuleType, path: Path, base: str, tools: Path) -> tuple[list[Any], list[Any]]:
    saved = list(sys.path)
    try:  # w3c_check puts the validator's folder on sys.path at every call: keep ours as it was
        errors, warnings, _ = checker.w3c_check(str(tools / "feedvalidator"), path, base)
    finally:
        sys.path[:] = saved
    return list(errors), list(warnings)


def _json_feed_ok(data: dict[str, Any]) -> bool:
    items = data.get("items")
    return (
        isinstance(data.get("title"), str)
        and isinstance(items, list)
        and all(isinstance(i.get("id"), str) and ("content_html" in i or "content_text" in i) for i in items)
    )


def check_folder(corpus: str, folder: Path, checker: ModuleType | None = None, tools: Path = TOOLS) -> Tally:
    """Every feed document under `folder`, counted and checked as check_feeds.py does (with --w3c)."""
    import feedparser
    from lxml import etree  # type: ignore[import-untyped]  # no lxml-stubs pinned

    checker = checker or load_check_feeds(tools)
    tally = Tally(corpus)
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in FEED_SUFFIXES):
        rel = path.relative_to(folder).as_posix()
        body = path.read_bytes()
        if path.suffix == ".json":
            try:
                data = json.loads(body)
            except ValueError:
                continue
            if isinstance(data, dict) and "jsonfeed" in str(data.get("version")):
                tally.feeds += 1
                if not _json_feed_ok(data):
                    tally.invalid.append(f"{rel}: not a JSON Feed 1.1 (title, items, id, content)")
            continue
        try:
            root = etree.fromstring(body)
        except etree.XMLSyntaxError as exc:
            tally.feeds += 1
            tally.invalid.append(f"{rel}: {exc}")
            continue
        if etree.QName(root).localname not in ("rss", "feed"):
            continue
        tally.feeds += 1
        parsed = feedparser.parse(body)
        if parsed.bozo:
            tally.invalid.append(f"{rel}: feedparser: {parsed.bozo_exception}")
        errors, warnings = _w3c(checker, path, checker.self_href(root) or "http://example.org/" + rel, tools)
        for event, counter in [*((e, tally.errors) for e in errors), *((w, tally.warnings) for w in warnings)]:
            kind = type(event).__name__
            counter[kind] += 1
            if counter is tally.errors or kind not in ALLOWED_WARNINGS:
                tally.findings.append(f"{rel}: {kind}: {event.params}")
    return tally


def run_corpus(site: Path, out: Path) -> None:
    """`postfeed run --posts SITE --out OUT` in a process of its own (each run is a fresh local stack)."""
    command = [
        sys.executable,
        "-m",
        "postfeed_tools.cli",
        "run",
        "--posts",
        str(site),
        "--out",
        str(out),
        "--no-progress",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "shared"), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"postfeed run failed on {site} (exit {done.returncode}):\n{done.stdout}{done.stderr}")


def _kinds(counter: Counter[str]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))) or "-"


def format_table(tallies: list[Tally]) -> str:
    width = max(len("corpus"), *(len(t.corpus) for t in tallies)) + 2
    lines = [f"{'corpus':<{width}}{'feeds':>7}{'invalid':>9}{'w3c errors':>12}  w3c warnings by type"]
    for t in tallies:
        lines.append(
            f"{t.corpus:<{width}}{t.feeds:>7}{len(t.invalid):>9}{sum(t.errors.values()):>12}  {_kinds(t.warnings)}"
        )
    if len(tallies) > 1:
        feeds, invalid = sum(t.feeds for t in tallies), sum(len(t.invalid) for t in tallies)
        errors = sum(sum(t.errors.values()) for t in tallies)
        warnings = sum((t.warnings for t in tallies), Counter[str]())
        lines.append(f"{'total':<{width}}{feeds:>7}{invalid:>9}{errors:>12}  {_kinds(warnings)}")
    problems = [f"{t.corpus}/{line}" for t in tallies for line in (*t.invalid, *t.findings)]
    if problems:
        lines += ["", *problems[:MAX_LISTED]]
        if len(problems) > MAX_LISTED:
            lines.append(f"… and {len(problems) - MAX_LISTED} more")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("corpora", nargs="*", default=list(CORPORA), help=f"sites under {CORPUS} (default: all)")
    parser.add_argument("--keep", type=Path, help="write each site's feeds to KEEP/<corpus> instead of a temp folder")
    args = parser.parse_args(argv)
    if not TOOLS.is_dir():
        parser.error(f"the team kit is not beside the repo: {TOOLS} is missing")
    checker = load_check_feeds()
    tallies = []
    with tempfile.TemporaryDirectory(prefix="postfeed-validate-") as scratch:
        for corpus in args.corpora:
            out = (args.keep or Path(scratch)) / corpus
            run_corpus(CORPUS / corpus, out)
            tallies.append(check_folder(corpus, out, checker))
            print(f"{corpus}: {tallies[-1].feeds} feeds checked", file=sys.stderr)
    print(format_table(tallies))
    return 0 if all(t.ok for t in tallies) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
