"""Post HTML made safe: absolute links, no active content, no XML-forbidden characters."""

from __future__ import annotations

import time

import pytest

from postfeed.feeds.content import absolutize_url, clean_line, sanitize_html, xml_safe
from tests.unit.feeds.support import assert_safe_html

BASE = "https://finews.withounder.com/emnews/2021/12/08/202112082206735975.html"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("../emnews/", "https://finews.withounder.com/emnews/2021/12/emnews/"),
        ("./emnews/", "https://finews.withounder.com/emnews/2021/12/08/emnews/"),
        ("img/a.png", "https://finews.withounder.com/emnews/2021/12/08/img/a.png"),
        ("/category/x.html", "https://finews.withounder.com/category/x.html"),
        ("//finews.zning.me/", "https://finews.zning.me/"),
        (
            "//finews.withounder.com/category/nanchangribao.html",
            "https://finews.withounder.com/category/nanchangribao.html",
        ),
        ("#top", BASE + "#top"),
        ("?page=2", "https://finews.withounder.com/emnews/2021/12/08/202112082206735975.html?page=2"),
        ("http://example.com/x", "http://example.com/x"),
        ("  https://example.com/x  ", "https://example.com/x"),
        ("mailto:a@example.com", "mailto:a@example.com"),
    ],
)
def test_links_are_resolved_against_the_post_url(url: str, expected: str) -> None:
    assert absolutize_url(url, BASE) == expected


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        " javascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "file:///etc/passwd",
        "http://[::1",
    ],
)
def test_dangerous_links_are_dropped(url: str) -> None:
    assert absolutize_url(url, BASE) is None


def test_finews_footer_links_become_absolute_https() -> None:
    html = (
        '<p><a href="//finews.withounder.com/category/nanchangribao.html">返回南昌日报新闻</a>｜'
        '<a href="//finews.withounder.com/">返回首页</a> <a href="../emnews/">返回</a> <a href="./emnews/">x</a></p>'
    )
    out = sanitize_html(html, BASE)
    assert 'href="https://finews.withounder.com/category/nanchangribao.html"' in out
    assert 'href="https://finews.withounder.com/"' in out
    assert 'href="https://finews.withounder.com/emnews/2021/12/emnews/"' in out
    assert_safe_html(out)


def test_media_attributes_are_absolutised() -> None:
    html = (
        '<img src="a.png" srcset="a.png 1x, /b.png 2x, data:image/png;base64,AAAA 3x">'
        '<video poster="p.jpg" src="//cdn.example.com/v.mp4"><source src="v.webm" type="video/webm"></video>'
        '<blockquote cite="../q.html">q</blockquote>'
    )
    out = sanitize_html(html, BASE)
    assert 'src="https://finews.withounder.com/emnews/2021/12/08/a.png"' in out
    assert "https://finews.withounder.com/b.png 2x" in out
    assert "data:" not in out
    assert 'poster="https://finews.withounder.com/emnews/2021/12/08/p.jpg"' in out
    assert 'src="https://cdn.example.com/v.mp4"' in out
    assert 'cite="https://finews.withounder.com/emnews/2021/12/q.html"' in out
    assert_safe_html(out)


HOSTILE = (
    "<script>alert(1)</script><style>body{}</style>"
    '<img src="x" onerror="alert(1)"><a href="javascript:alert(1)" onclick="x()">j</a>'
    '<a href="data:text/html,<script>alert(1)</script>">d</a><iframe src="https://evil.example/">f</iframe>'
    '<object data="x.swf"></object><embed src="x.swf"><form action="/x"><input name="q"><button>go</button></form>'
    '<p style="background:url(javascript:alert(1))">styled</p><svg onload="alert(1)"><circle/></svg>'
    "<math><mi>x</mi></math><!-- secret comment --><meta http-equiv=refresh content=0>"
    '<base href="https://evil.example/"><link rel=stylesheet href=x.css>'
)


def test_hostile_markup_is_removed() -> None:
    out = sanitize_html(HOSTILE, BASE)
    assert_safe_html(out)
    for gone in ("alert", "onerror", "onclick", "secret comment", "<meta", "<base", "<link", "<svg", "style="):
        assert gone not in out
    assert "styled" in out
    assert "go" in out


def test_useful_markup_is_kept() -> None:
    html = (
        '<h2>Title</h2><p><strong>b</strong> <em>i</em> <code>c</code></p><pre><code class="language-py">x = 1'
        "</code></pre><blockquote>q</blockquote><ul><li>1</li></ul><ol><li>2</li></ol>"
        "<table><thead><tr><th>h</th></tr></thead><tbody><tr><td>d</td></tr></tbody></table>"
        '<figure><img src="https://e.org/a.png" alt="A"><figcaption>cap</figcaption></figure>'
    )
    out = sanitize_html(html, BASE)
    for kept in (
        "<h2>",
        "<strong>",
        "<em>",
        '<code class="language-py">',
        "<pre>",
        "<blockquote>",
        "<ul>",
        "<ol>",
        "<table>",
        "<th>",
        "<td>",
        "<figure>",
        "<figcaption>",
        '<img src="https://e.org/a.png" alt="A">',
    ):
        assert kept in out, kept


def test_cdata_terminator_and_forbidden_characters() -> None:
    out = sanitize_html("<p>a ]]> b \x00\x01\x0b\x1f\x7f\ufffe\ud800 c\r\nd</p>", BASE)
    assert "]]>" not in out
    assert "]]&gt;" in out
    assert out == "<p>a ]]&gt; b  c\nd</p>"


def test_xml_safe_and_clean_line() -> None:
    assert xml_safe("a\x00b\x08c\td\ne\rf\r\ng") == "abc\td\ne\nf\ng"
    assert xml_safe("\U0010ffff\U0001f600") == "\U0001f600"
    assert clean_line("  a \n\t b\u3000c  ") == "a b c"


def test_ten_thousand_nested_elements() -> None:
    depth = 10_000
    for tag in ("div", "blockquote", "b", "span"):
        html = f"<{tag}>" * depth + '<a href="../x">deep</a>' + f"</{tag}>" * depth
        started = time.perf_counter()
        out = sanitize_html(html, BASE)
        assert time.perf_counter() - started < 5
        assert "deep" in out
        assert 'href="https://finews.withounder.com/emnews/2021/12/x"' in out
