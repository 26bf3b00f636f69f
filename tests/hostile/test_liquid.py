"""Hostile Liquid: templates that would loop for ages, write gigabytes, grow a variable without end, nest
past any depth or include themselves. Each hits a limit and becomes a recorded error (or, for what the
pipeline cannot judge, a post published without it), never a hang or a crashed batch."""

from __future__ import annotations

import pytest

from postfeed.jekyll import SiteFiles, errors, load_site, parse_post
from postfeed.models import Rejected
from postfeed_tools.local.pipeline import LocalPipeline
from tests.hostile.checks import assert_rejected, deliver


def post(body: str) -> bytes:
    return f"---\ntitle: hostile\ncategories: emnews\n---\n{body}\n".encode()


@pytest.mark.parametrize(
    "body",
    [
        # nested loops: a billion iterations
        "{% for a in (1..1000) %}{% for b in (1..1000) %}{% for c in (1..1000) %}x{% endfor %}{% endfor %}{% endfor %}",
        # one huge range
        "{% for i in (1..999999999999) %}{% endfor %}",
        # many loops one after another, each under the nested limit
        "{% for i in (1..900000) %}{% endfor %}" * 3,
        # a string doubled until it fills memory
        "{% assign s = 'xx' %}" + "{% assign s = s | append: s %}" * 40 + "{{ s.size }}",
        # output past the cap through a capture
        "{% capture c %}{% for i in (1..300000) %}0123456789012345678901234567890123456789{% endfor %}"
        "{% endcapture %}{{ c }}",
    ],
    ids=["nested-loops", "huge-range", "sequential-loops", "doubling-string", "huge-capture"],
)
def test_runaway_liquid_is_a_recorded_limit_error(pipeline: LocalPipeline, body: str) -> None:
    message = assert_rejected(deliver(pipeline, post(body)), errors.LIQUID_LIMIT)
    assert "line 5" in message


def test_liquid_nested_past_the_parser_depth_is_a_limit_error(pipeline: LocalPipeline) -> None:
    body = "{% if true %}" * 200 + "x" + "{% endif %}" * 200
    assert_rejected(deliver(pipeline, post(body)), errors.LIQUID_LIMIT)


def test_an_unknown_tag_is_recorded_with_its_line(pipeline: LocalPipeline) -> None:
    message = assert_rejected(deliver(pipeline, post("fine\n\n{% exec rm -rf / %}")), errors.LIQUID_UNKNOWN_TAG)
    assert "line 7" in message


def test_an_include_that_includes_itself_stops_at_the_depth_limit() -> None:
    env = SiteFiles(includes={"loop.html": "again {% include loop.html %}"})
    result = parse_post("_posts/2020-01-01-x.md", post("{% include loop.html %}"), load_site(), env=env)
    assert isinstance(result, Rejected)
    assert (result.code, result.line) == (errors.LIQUID_LIMIT, 5)
    assert result.reads.includes == ("loop.html",)


def test_two_includes_that_include_each_other_stop_too() -> None:
    env = SiteFiles(includes={"a.html": "{% include b.html %}", "b.html": "{% include a.html x='1' %}"})
    result = parse_post("_posts/2020-01-01-x.md", post("{% include a.html %}"), load_site(), env=env)
    assert isinstance(result, Rejected)
    assert result.code == errors.LIQUID_LIMIT


def test_a_filter_fed_a_deeply_nested_value_is_an_error_not_a_crash() -> None:
    data: object = "leaf"
    for _ in range(5000):
        data = [data]
    env = SiteFiles(data_files={"deep": data})
    result = parse_post("_posts/2020-01-01-x.md", post("{{ site.data.deep | jsonify }}"), load_site(), env=env)
    assert isinstance(result, Rejected)
    assert result.code == errors.LIQUID_LIMIT


@pytest.mark.parametrize(
    "body",
    [
        "{% include a.html " + "k=v " * 20000 + "! %}",
        "{% include " + "{{a}}" * 20000 + " %}",
        "{% highlight ruby " + "linenos " * 20000 + "= %}x{% endhighlight %}",
        "{{ " + "a, " * 30000 + "}}",
        "{{ x" + " | append: 'y'" * 5000 + " }}",
    ],
    ids=["include-params", "include-name-outputs", "highlight-options", "lax-output", "filter-chain"],
)
def test_long_hostile_markup_is_decided_quickly_without_a_crash(body: str) -> None:
    env = SiteFiles(includes={"a.html": "a"})
    result = parse_post("_posts/2020-01-01-x.md", post(body), load_site(), env=env)
    assert result.status.value in ("published", "error")


@pytest.mark.parametrize(
    "body",
    ["{{" * 30000, "{{ a }}" + "{% a " * 30000, "{% raw %}" * 30000, "x {% doc %}" * 30000, "{% raw %}{{" * 9000],
    ids=["open-outputs", "open-tags", "open-raws", "open-docs", "raw-then-open-output"],
)
def test_many_unclosed_openings_are_one_syntax_error_found_in_one_pass(body: str) -> None:
    # python-liquid's lexer would rescan the rest of the post from each opening (minutes for these)
    result = parse_post("_posts/2020-01-01-x.md", post(body), load_site())
    assert isinstance(result, Rejected)
    assert (result.code, result.line) == (errors.LIQUID_SYNTAX, 5)


@pytest.mark.parametrize(
    ("body", "line"),
    [("{{ a }}" * 20_001, 5), ("ok\n{{ " + "(" * 30_000 + " }}", 6), ("{% if " + "(" * 201 + "a %}{% endif %}", 5)],
    ids=["too-many-outputs", "parentheses-in-output", "parentheses-in-tag"],
)
def test_markup_python_liquid_would_take_minutes_on_is_a_limit_error(body: str, line: int) -> None:
    result = parse_post("_posts/2020-01-01-x.md", post(body), load_site())
    assert isinstance(result, Rejected)
    assert result.code == errors.LIQUID_LIMIT
    assert result.line == line
