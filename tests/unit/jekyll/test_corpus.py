"""The parser against what Jekyll published for the three corpora (../shared/corpus/truth)."""

from __future__ import annotations

import pytest

from bench.agreement import CORPORA, measure

REQUIRED = ("status", "title", "date", "url", "categories", "tags")
# Measured: 266/266 (finews 119/119, jekyll__jekyll 80/80, Gaohaoyang 67/67) since jekyll.markdown reads the
# blank-line-before-`---` files as kramdown does (the closing `---` under text is an em dash, not a heading).
EXCERPT_FLOOR = 1.0


@pytest.mark.parametrize("corpus", CORPORA)
def test_corpus_agrees_with_jekyll_on_every_required_field(corpus: str) -> None:
    # GIVEN every file under the corpus's _posts/ WHEN parsed with its own _config.yml
    result = measure(corpus)
    # THEN status, title, date (instant and offset), url, categories and tags all match the truth
    assert result.posts > 0
    misses = [m for m in result.mismatches if m[1] in REQUIRED]
    assert misses == []
    for name in REQUIRED:
        assert result.matched[name] == result.total[name] > 0


def test_corpus_excerpt_text_agreement_stays_above_floor() -> None:
    results = [measure(corpus) for corpus in CORPORA]
    matched = sum(r.matched["excerpt_text"] for r in results)
    total = sum(r.total["excerpt_text"] for r in results)
    assert total == 266
    assert matched / total >= EXCERPT_FLOOR, f"{matched}/{total}"
