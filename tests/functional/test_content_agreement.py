"""The content agreement harness (bench/content_agreement.py): how it reads a post as a reader does, how it
classifies a difference, and the corpus floor it keeps (the numbers `make agreement` prints)."""

from __future__ import annotations

import pytest

from bench.agreement import CORPORA
from bench.content_agreement import IDENTICAL, MATERIAL, TRIVIAL, compare, measure_content, seen

POST = "https://blog.example.org/2024/05/01/hello/"

# Posts a reader sees as Jekyll's feed shows them, per corpus: all of them, as measured (was 110, 56 and 2 with
# CommonMark and Liquid left out).
FLOORS = {"finews": 119, "jekyll__jekyll": 80, "Gaohaoyang__gaohaoyang.github.io": 67}


def test_a_reader_sees_text_links_and_images_resolved_against_the_post() -> None:
    # GIVEN HTML with relative links, an image, a script and blocks with no whitespace between them
    html = '<h2 id="a">Top</h2><p>See <a href="../x/">x</a> &amp; <img src="/i.png" alt="i"></p><script>no()</script>'
    # WHEN read at the post's URL
    result = seen(html, POST)
    # THEN the text is what shows (entities decoded, blocks apart, no script), links and images are absolute
    assert result.text == "Top See x &"
    assert result.links == ("https://blog.example.org/2024/05/01/x/",)
    assert result.images == ("https://blog.example.org/i.png",)
    assert result.heading_ids == ("a",)


def test_the_same_content_with_other_markup_is_identical() -> None:
    ours = '<h2 id="intro">Intro</h2>\n<p>A <em>b</em> <a href="https://example.com/">c</a></p>'
    theirs = '<h2 id="intro">Intro</h2>\n\n<p>A <i>b</i>\n<a href="https://example.com/">c</a></p>\n'
    assert compare("p.md", POST, ours, ours, theirs).kind == IDENTICAL


def test_heading_ids_and_whitespace_only_are_a_trivial_difference() -> None:
    theirs = '<h2 id="intro">Intro</h2><p>one two</p>'
    verdict = compare("p.md", POST, "<h2>Intro</h2><p>one two</p>", "<h2>Intro</h2><p>one two</p>", theirs)
    assert verdict.kind == TRIVIAL
    assert "heading ids" in verdict.causes[0]
    spaced = compare("p.md", POST, "<p>中文 字</p>", "<p>中文 字</p>", "<p>中文字</p>")
    assert spaced.kind == TRIVIAL
    assert spaced.causes[0].startswith("whitespace")


def test_other_quotes_a_missing_link_or_an_unrendered_mark_are_material_with_their_cause() -> None:
    quotes = compare("p.md", POST, '<p>"a"</p>', '<p>"a"</p>', "<p>\u201ca\u201d</p>")
    assert quotes.kind == MATERIAL
    assert quotes.causes[0].startswith("text at 0")
    link = '<p>see <a href="#fn:1">1</a></p>'
    missing = compare("p.md", POST, "<p>see 1</p>", "<p>see 1</p>", link)
    assert missing.kind == MATERIAL
    assert missing.causes == (f"missing link {POST}#fn:1",)
    unpublished = compare("p.md", POST, None, None, "<p>x</p>")
    assert unpublished.kind == MATERIAL


@pytest.mark.parametrize("corpus", CORPORA)
def test_corpus_content_agreement_stays_above_its_floor(corpus: str) -> None:
    # GIVEN every post Jekyll's feed carries WHEN rendered and sanitised as our feed does
    result = measure_content(corpus)
    # THEN at least as many posts as measured read the same as in Jekyll's feed
    assert result.posts == len(result.verdicts) > 0
    assert result.same >= FLOORS[corpus], [v for v in result.verdicts if v.kind == MATERIAL][:3]


def test_through_the_pipelines_environment_only_links_to_documents_the_corpus_lacks_differ() -> None:
    # GIVEN each post read as the ingest function, postfeed run and postfeed build read it (pipeline.renderenv)
    results = {corpus: measure_content(corpus, pipeline=True) for corpus in CORPORA}
    # THEN every post reads as with the whole site in reach, but those linking a collection document the
    # corpus kit does not hold (`{% link _docs/history.md %}`: rendered empty, not a failed post)
    for corpus, result in results.items():
        differing = [v for v in result.verdicts if v.kind == MATERIAL]
        assert result.same >= FLOORS[corpus] - len(differing), corpus
        for verdict in differing:
            assert any("/docs/history/" in cause for cause in verdict.causes), (corpus, verdict)
