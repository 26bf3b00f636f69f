"""How closely what a reader of our feeds sees of each post agrees with what Jekyll's feed shows.

Per corpus, per post Jekyll published (``../shared/corpus/truth/<corpus>.content.json``): the post is parsed
with our parser, the whole site in reach of its Liquid (config, ``_includes/``, ``_data/``, every post, and the
stub document the truth's build added), its body rendered and sanitised as the feed builder does
(``feeds.content.sanitize_html`` against the post's URL), and compared with jekyll-feed's ``content_html`` on
what a reader sees:

- the visible text (HTML to text, whitespace runs collapsed, typographic quotes compared as they are),
- link targets (``a[href]``, resolved against the post's URL as a reader's client does, percent-escapes
  decoded: ``blog-%E5%8E%9F.png`` and ``blog-原.png`` are one target),
- image sources (``img[src]``, resolved the same way);

an iframe's content (its fallback, links included) is not shown, nor are scripts and styles.

A post is *identical* when all three agree and its headings carry the ids kramdown gives them; a *trivial*
difference is one a reader cannot see (heading ids, or whitespace only); any other is *material*, and gets a
cause: the first differing text, the missing and extra links or images.

Run: .venv/bin/python bench/content_agreement.py [--list] [--pipeline]   (`make agreement` prints the same
table; `--pipeline`: each post read through the pipeline's render environment, `pipeline.renderenv`, as
`postfeed run`, `postfeed build` and the ingest function read it).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "shared"), str(REPO)]  # run as a plain script, without installing the package

from bench.agreement import BUILD_TIME, CORPORA, CORPUS  # noqa: E402
from postfeed.feeds.content import LINK_SCHEMES, MEDIA_SCHEMES, absolutize_url, sanitize_html  # noqa: E402
from postfeed.jekyll import OtherPost, SiteFiles, load_site, parse_post  # noqa: E402
from postfeed.models import Post, Site  # noqa: E402

IDENTICAL, TRIVIAL, MATERIAL = "identical", "trivial", "material"
# Elements whose content a reader does not see as text (the sanitiser also removes most of them).
_HIDDEN = frozenset({"script", "style", "template", "iframe", "object", "noscript", "svg", "math", "head"})
# Elements that start a new line when shown: text on either side of one is not glued together.
_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "center", "dd", "details", "dialog", "div", "dl"),
        *("dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6"),
        *("header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody"),
        *("td", "tfoot", "th", "thead", "tr", "ul"),
    }
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_WHITESPACE = re.compile(r"\s+")
SNIPPET = 40


@dataclass(frozen=True)
class Seen:
    """What a reader sees of a post's HTML."""

    text: str
    links: tuple[str, ...]
    images: tuple[str, ...]
    heading_ids: tuple[str, ...]


class _Reader(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.parts: list[str] = []
        self.links: list[str] = []
        self.images: list[str] = []
        self.heading_ids: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in _HIDDEN:
            self.hidden += 1
        if tag in _BLOCKS:
            self.parts.append(" ")
        if self.hidden:
            pass  # an iframe's fallback links and images are not shown
        elif tag == "a" and values.get("href") is not None:
            link = absolutize_url(values["href"], self.base, LINK_SCHEMES)
            if link is not None:
                self.links.append(unquote(link))
        elif tag == "img" and values.get("src"):
            image = absolutize_url(values["src"], self.base, MEDIA_SCHEMES)
            if image is not None:
                self.images.append(unquote(image))
        elif tag in _HEADINGS:
            self.heading_ids.append(values.get("id", ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _HIDDEN:
            self.hidden -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN and self.hidden:
            self.hidden -= 1
        if tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def seen(html: str, base: str) -> Seen:
    """The text (whitespace collapsed), links, images and heading ids of ``html`` read at ``base``."""
    reader = _Reader(base)
    reader.feed(html)
    reader.close()
    text = _WHITESPACE.sub(" ", "".join(reader.parts)).strip()
    return Seen(text, tuple(reader.links), tuple(reader.images), tuple(reader.heading_ids))


@dataclass(frozen=True)
class Verdict:
    path: str
    url: str
    kind: str
    causes: tuple[str, ...] = ()


def _first_difference(ours: str, theirs: str) -> str:
    at = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), min(len(ours), len(theirs)))
    start = max(0, at - 15)
    return f"text at {at}: ours {ours[start : at + SNIPPET]!r} / jekyll {theirs[start : at + SNIPPET]!r}"


def _listed(kind: str, ours: tuple[str, ...], theirs: tuple[str, ...]) -> list[str]:
    if ours == theirs:
        return []
    missing = [x for x in dict.fromkeys(theirs) if x not in ours]
    extra = [x for x in dict.fromkeys(ours) if x not in theirs]
    if not missing and not extra:
        return [f"{kind} in another order or count ({len(ours)} vs {len(theirs)})"]
    causes = [f"missing {kind} {x}" for x in missing[:3]] + [f"extra {kind} {x}" for x in extra[:3]]
    more = len(missing) + len(extra) - len(causes)
    return causes + ([f"... and {more} more {kind}"] if more > 0 else [])


def compare(path: str, url: str, ours_html: str | None, feed_html: str | None, theirs_html: str) -> Verdict:
    """Classify one post: ``ours_html`` is our renderer's HTML (for heading ids), ``feed_html`` the sanitised
    HTML our feed carries, ``theirs_html`` jekyll-feed's content."""
    if ours_html is None or feed_html is None:
        return Verdict(path, url, MATERIAL, ("not published by postfeed",))
    ours, theirs = seen(feed_html, url), seen(theirs_html, url)
    causes: list[str] = []
    if ours.text != theirs.text and ours.text.replace(" ", "") != theirs.text.replace(" ", ""):
        causes.append(_first_difference(ours.text, theirs.text))
    causes += _listed("link", ours.links, theirs.links)
    causes += _listed("image", ours.images, theirs.images)
    if causes:
        return Verdict(path, url, MATERIAL, tuple(causes))
    trivial: list[str] = []
    if ours.text != theirs.text:
        trivial.append("whitespace: " + _first_difference(ours.text, theirs.text))
    our_ids = seen(ours_html, url).heading_ids
    if our_ids != theirs.heading_ids:
        trivial.append(f"heading ids: ours {list(our_ids)[:4]} / jekyll {list(theirs.heading_ids)[:4]}")
    return Verdict(path, url, TRIVIAL if trivial else IDENTICAL, tuple(trivial))


@dataclass
class ContentAgreement:
    corpus: str
    verdicts: list[Verdict] = field(default_factory=list)

    @property
    def posts(self) -> int:
        return len(self.verdicts)

    def count(self, kind: str) -> int:
        return sum(v.kind == kind for v in self.verdicts)

    @property
    def same(self) -> int:
        """Posts a reader sees the same in both feeds (identical, or differing only where nobody looks)."""
        return self.count(IDENTICAL) + self.count(TRIVIAL)

    @property
    def percent(self) -> float:
        return 100.0 * self.same / self.posts if self.posts else 100.0


# The documents the truth's build added to make a post's Liquid resolve (INDEX.md, "truth/").
STUB_DOCUMENTS = {
    "jekyll__jekyll": (
        OtherPost(path="_docs/history.md", url="/docs/history/", date=BUILD_TIME, title="History", collection="docs"),
    ),
}


def site_files(corpus: str, site: Site) -> SiteFiles:
    """What a post's Liquid may read, as the pipeline holds it for a whole site: the config, `_includes/`,
    `_data/` and every post (read once without Liquid: url, date, title, categories and tags need none)."""
    from postfeed.jekyll.sitefiles import read_data

    root = CORPUS / corpus
    posts = []
    for file in sorted((root / "_posts").rglob("*")):
        rel = file.relative_to(root).as_posix()
        parsed = parse_post(rel, file.read_bytes(), site, now=BUILD_TIME) if file.is_file() else None
        if isinstance(parsed, Post):
            posts.append(
                OtherPost(path=rel, url=parsed.url, date=parsed.date, title=parsed.title, slug=parsed.slug,
                          id=parsed.id, categories=parsed.categories, tags=parsed.tags)
            )  # fmt: skip
    includes = {
        f.relative_to(root / "_includes").as_posix(): f.read_text()
        for f in (root / "_includes").rglob("*")
        if f.is_file()
    }
    data = {f.stem: read_data(f"_data/{f.name}", f.read_bytes()) for f in (root / "_data").glob("*") if f.is_file()}
    return SiteFiles(
        settings=site.config,
        includes=includes,
        data_files=data,
        other_posts=(*posts, *STUB_DOCUMENTS.get(corpus, ())),
    )


def pipeline_files(corpus: str, site: Site) -> SiteFiles:
    """What the pipeline's environment (`postfeed.pipeline.renderenv`, as `postfeed build` and the event path
    build it) gives a post's Liquid: the includes and data files, the posts it names (its other posts are
    the corpus's, narrowed to those per post by `ingest.read_post`), no stub documents: a `link` to a
    document the corpus lacks renders empty with a warning there."""
    from postfeed.pipeline.renderenv import site_environment

    whole = site_files(corpus, site)
    posts = [post for post in whole.other_posts if post.path.startswith("_posts/")]
    return site_environment(site, whole.includes, whole.data_files, posts)


def measure_content(corpus: str, *, pipeline: bool = False) -> ContentAgreement:
    """Every post in truth/<corpus>.content.json against our rendering of the file Jekyll made it from, with
    the whole site in reach of its Liquid (`pipeline`: through the pipeline's render environment and reader,
    as `postfeed run`, `postfeed build` and the ingest function read a post)."""
    from postfeed.pipeline.ingest import read_post

    root = CORPUS / corpus
    site = load_site((root / "_config.yml").read_bytes())
    env = pipeline_files(corpus, site) if pipeline else site_files(corpus, site)
    records: list[dict[str, Any]] = json.loads((CORPUS / "truth" / f"{corpus}.truth.json").read_text())
    contents: dict[str, dict[str, str]] = json.loads((CORPUS / "truth" / f"{corpus}.content.json").read_text())["posts"]
    result = ContentAgreement(corpus)
    for record in records:
        url = record["absolute_url"]
        if url not in contents:
            continue
        rel = record["relative_path"]
        body = (root / rel).read_bytes()
        if pipeline:
            parsed = read_post(rel, body, site, BUILD_TIME, env)
        else:
            parsed = parse_post(rel, body, site, now=BUILD_TIME, env=env)
        ours = parsed.content_html if isinstance(parsed, Post) else None
        feed = sanitize_html(ours, url) if ours is not None else None
        result.verdicts.append(compare(rel, url, ours, feed, contents[url]["content_html"]))
    return result


def table(results: list[ContentAgreement]) -> str:
    header = ["corpus", "posts", IDENTICAL, TRIVIAL, MATERIAL, "% same to a reader"]
    rows = [
        [r.corpus, str(r.posts), str(r.count(IDENTICAL)), str(r.count(TRIVIAL)), str(r.count(MATERIAL)),
         f"{r.percent:.1f}"]
        for r in results
    ]  # fmt: skip
    total = ContentAgreement("all", [v for r in results for v in r.verdicts])
    rows.append(["all", str(total.posts), str(total.count(IDENTICAL)), str(total.count(TRIVIAL)),
                 str(total.count(MATERIAL)), f"{total.percent:.1f}"])  # fmt: skip
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *rows]]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def listing(results: list[ContentAgreement], *, trivial: bool = False) -> str:
    """The posts that differ (material ones; trivial ones too when asked), each with its causes."""
    lines = []
    for result in results:
        for verdict in result.verdicts:
            if verdict.kind == MATERIAL or (trivial and verdict.kind == TRIVIAL):
                lines.append(f"{result.corpus} {verdict.path} [{verdict.kind}]")
                lines += [f"    {cause}" for cause in verdict.causes]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    results = [measure_content(corpus, pipeline="--pipeline" in argv) for corpus in CORPORA]
    print(table(results))
    if "--list" in argv or "--all" in argv:
        print()
        print(listing(results, trivial="--all" in argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
