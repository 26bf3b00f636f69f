"""Liquid in post bodies, run as Jekyll runs it on GitHub Pages: objects, Jekyll's filters and tags, what each
render read, and the errors Jekyll would fail the build on."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from postfeed.jekyll import OtherPost, SiteFiles, errors, load_site, parse_post
from postfeed.jekyll.liquid import has_liquid
from postfeed.jekyll.render_environment import link_matches, post_url_matches
from postfeed.models import Post, Rejected, Site

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SITE = load_site(b"url: https://example.org\nbaseurl: /blog\nrepository: owner/repo\ntitle: Site\n")
EARLIER = OtherPost(
    path="_posts/2013-05-06-one-released.md",
    url="/2013/05/06/one-released.html",
    date=datetime(2013, 5, 6, tzinfo=UTC),
    title="One released",
    categories=("release",),
    tags=("a",),
)


def parse(body: str, *, env: SiteFiles | None = None, site: Site = SITE, front: str = "title: Hello\n") -> object:
    text = f"---\n{front}---\n{body}"
    return parse_post("_posts/2020-01-02-hello.md", text.encode(), site, now=NOW, env=env or SiteFiles())


def html_of(body: str, **kwargs: object) -> str:
    post = parse(body, **kwargs)  # type: ignore[arg-type]
    assert isinstance(post, Post), post
    return post.content_html


def liquid(expression: str, **kwargs: object) -> str:
    """The output of one Liquid snippet, in an HTML post (no Markdown after it)."""
    text = f"---\ntitle: Hello\ntags: [b, a]\n---\n{expression}"
    env = kwargs.pop("env", SiteFiles())
    post = parse_post("_posts/2020-01-02-hello.html", text.encode(), SITE, now=NOW, env=env)  # type: ignore[arg-type]
    assert isinstance(post, Post), post
    return post.content_html


def rejected(body: str, **kwargs: object) -> Rejected:
    result = parse(body, **kwargs)  # type: ignore[arg-type]
    assert isinstance(result, Rejected), result
    return result


# --- objects -------------------------------------------------------------------------------------


def test_site_shows_every_config_key_and_the_settings_in_force() -> None:
    assert liquid("{{ site.repository }}/issues/1") == "owner/repo/issues/1"
    assert liquid("{{ site.url }}{{ site.baseurl }}") == "https://example.org/blog"
    assert liquid("{{ site.time | date: '%Y' }}") == "2026"


def test_page_holds_front_matter_and_the_derived_fields() -> None:
    assert liquid("{{ page.title }}|{{ page.url }}|{{ page.tags | join: ',' }}") == "Hello|/2020/01/02/hello.html|b,a"
    assert liquid("{{ page.date }}") == "2020-01-02 00:00:00 +0000"
    assert liquid("{{ page.path }} {{ page.id }}") == "_posts/2020-01-02-hello.html /2020/01/02/hello"


def test_site_data_and_site_posts_come_from_the_environment() -> None:
    env = SiteFiles(data_files={"team": {"lead": "Ann"}}, other_posts=[EARLIER])
    assert liquid("{{ site.data.team.lead }}", env=env) == "Ann"
    assert liquid("{% for p in site.posts %}{{ p.title }} {{ p.url }}{% endfor %}", env=env) == (
        "One released /2013/05/06/one-released.html"
    )
    assert liquid("{{ site.categories.release.size }}", env=env) == "1"


def test_undefined_variables_and_unknown_filters_render_empty_or_unchanged() -> None:
    # Jekyll's defaults: strict_variables and strict_filters are off
    assert liquid("[{{ nothing.here }}]") == "[]"
    assert liquid("{{ 'x' | no_such_filter }}") == "x"


def test_output_jekyll_cannot_parse_strictly_is_read_leniently() -> None:
    # JSX in a post without {% raw %}: Liquid 4's warn mode shows the first fragment's (empty) value
    assert liquid("exit={{ opacity: 0, x: 0 }}") == "exit="


def test_raw_and_comment() -> None:
    assert liquid("{% raw %}{{ kept }} {% tag %}{% endraw %}") == "{{ kept }} {% tag %}"
    assert liquid("a{% comment %}{{ gone }}{% endcomment %}b") == "ab"


def test_liquid_runs_before_markdown() -> None:
    body = "{% for i in (1..2) %}[#{{ i }}]: https://x.org/{{ i }}\n{% endfor %}\nSee [#1][] and [#2][].\n"
    assert '<a href="https://x.org/2">#2</a>' in html_of(body)


# --- filters --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("{{ '/a b.png' | relative_url }}", "/blog/a%20b.png"),
        ("{{ 'img/x.png' | relative_url }}", "/blog/img/x.png"),
        ("{{ 'https://cdn.org/x' | relative_url }}", "https://cdn.org/x"),
        ("{{ '/x/' | absolute_url }}", "https://example.org/blog/x/"),
        ("{{ '/x/index.html' | strip_index }}", "/x/"),
        ("{{ page.date | date_to_xmlschema }}", "2020-01-02T00:00:00+00:00"),
        ("{{ page.date | date_to_rfc822 }}", "Thu, 02 Jan 2020 00:00:00 +0000"),
        ("{{ page.date | date_to_string }}", "02 Jan 2020"),
        ("{{ page.date | date_to_string: 'ordinal', 'US' }}", "Jan 2nd, 2020"),
        ("{{ page.date | date_to_long_string: 'ordinal' }}", "2nd January 2020"),
        ("{{ '2021-03-01 10:00:00 +0800' | date_to_xmlschema }}", "2021-03-01T02:00:00+00:00"),
        ("{{ '<a & \"b\">' | xml_escape }}", "&lt;a &amp; &quot;b&quot;&gt;"),
        ("{{ 'a b&c' | cgi_escape }}", "a+b%26c"),
        ("{{ 'foo, bar \\baz?' | uri_escape }}", "foo,%20bar%20%5Cbaz?"),
        ("{{ 'The _config.yml file' | slugify }}", "the-config-yml-file"),
        ("{{ 'The _config.yml file' | slugify: 'pretty' }}", "the-_config.yml-file"),
        ("{{ 'The _config.yml file' | slugify: 'raw' }}", "the-_config.yml-file"),
        ("{{ 'Café 中文' | slugify: 'ascii' }}", "caf"),
        ("{{ 'Café au lait' | slugify: 'latin' }}", "cafe-au-lait"),
        ("{{ '中文 标题' | slugify }}", "中文-标题"),
        ("{{ page.tags | jsonify }}", '["b","a"]'),
        ("{{ page.tags | array_to_sentence_string }}", "b and a"),
        ("{{ 'x,y,z' | split: ',' | array_to_sentence_string: 'or' }}", "x, y, or z"),
        ("{{ 'one  two\n three' | number_of_words }}", "3"),
        ("{{ '中文 abc' | number_of_words: 'cjk' }}", "3"),
        ("{{ ' a \n  b ' | normalize_whitespace }}", "a b"),
        ("{{ '12' | to_integer | plus: 1 }}", "13"),
        ("{{ page.tags | sort | join: ',' }}", "a,b"),
        ("{{ page.tags | push: 'c' | join: ',' }}", "b,a,c"),
        ("{{ page.tags | pop | join: ',' }}", "b"),
        ("{{ page.tags | shift | join: ',' }}", "a"),
        ("{{ page.tags | unshift: 'z' | join: ',' }}", "z,b,a"),
        ("{{ 'a \"q\"' | inspect }}", "&quot;a \\&quot;q\\&quot;&quot;"),
        ("{{ '\"Hi\" -- ok...' | smartify }}", "\u201cHi\u201d \u2013 ok\u2026"),
        ("{{ '*x*' | markdownify }}", "<p><em>x</em></p>\n"),
    ],
)
def test_jekyll_filter(expression: str, expected: str) -> None:
    assert liquid(expression) == expected


def test_where_find_and_their_expression_forms() -> None:
    env = SiteFiles(data_files={"people": [{"n": "a", "age": 3}, {"n": "b", "age": 9}, {"n": "c", "age": 9}]})
    people = "site.data.people"
    assert liquid(f"{{{{ {people} | where: 'age', 9 | map: 'n' | join: ',' }}}}", env=env) == "b,c"
    assert liquid(f"{{{{ {people} | where_exp: 'p', 'p.age < 5' | map: 'n' | join }}}}", env=env) == "a"
    assert liquid(f"{{{{ {people} | find: 'n', 'c' | map: 'age' }}}}", env=env) == "9"
    assert liquid(f"{{% assign f = {people} | find_exp: 'p', 'p.age > 5' %}}{{{{ f.n }}}}", env=env) == "b"


def test_group_by_and_group_by_exp_and_sort_by_property() -> None:
    env = SiteFiles(data_files={"people": [{"n": "a", "age": 3}, {"n": "b", "age": 9}, {"n": "c"}]})
    grouped = (
        "{% assign g = site.data.people | group_by: 'age' %}{% for x in g %}{{ x.name }}:{{ x.size }};{% endfor %}"
    )
    assert liquid(grouped, env=env) == "3:1;9:1;:1;"
    by_exp = "{% assign g = site.data.people | group_by_exp: 'p', 'p.n | upcase' %}{{ g | map: 'name' | join }}"
    assert liquid(by_exp, env=env) == "A B C"
    sort_last = "{{ site.data.people | sort: 'age', 'last' | map: 'n' | join }}"
    assert liquid(sort_last, env=env) == "a b c"
    assert liquid("{{ site.data.people | sort: 'age' | map: 'n' | join }}", env=env) == "c a b"


# --- tags -----------------------------------------------------------------------------------------


def test_include_with_parameters_from_strings_and_variables() -> None:
    env = SiteFiles(includes={"figure.html": '<img src="{{ include.src | relative_url }}" alt="{{ include.alt }}">'})
    expression = "{% assign words = 'A cat' %}{% include figure.html src=\"/c.png\" alt=words %}"
    assert liquid(expression, env=env) == '<img src="/blog/c.png" alt="A cat">'


def test_include_by_a_variable_name_and_nested_includes_see_their_own_parameters() -> None:
    env = SiteFiles(includes={"a.html": "a{{ include.x }}{% include b.html x='2' %}", "b.html": "b{{ include.x }}"})
    assert liquid("{% assign n = 'a.html' %}{% include {{ n }} x='1' %}", env=env) == "a1b2"


def test_include_relative_reads_beside_the_post() -> None:
    env = SiteFiles(files={"_posts/snippet.md": "from {{ page.title }}"})
    assert liquid("{% include_relative snippet.md %}", env=env) == "from Hello"


def test_post_url_and_link_give_the_other_post_url() -> None:
    env = SiteFiles(other_posts=[EARLIER])
    assert liquid("{% post_url 2013-05-06-one-released %}", env=env) == "/2013/05/06/one-released.html"
    assert liquid("{% link _posts/2013-05-06-one-released.md %}", env=env) == "/2013/05/06/one-released.html"


def test_post_url_and_link_name_matching() -> None:
    assert post_url_matches("2013-05-06-one", "_posts/2013-05-06-one.markdown")
    assert post_url_matches("/news/2013-05-06-one", "news/_posts/2013-05-06-one.md")
    assert not post_url_matches("2013-05-06-one", "_posts/2013-05-06-one-two.md")
    assert link_matches("_posts/x.md", "_posts/x.md")
    assert not link_matches("_posts/x.md", "_posts/y.md")


def test_highlight_is_jekylls_figure_with_liquid_run_inside() -> None:
    out = liquid("{% highlight Ruby %}\nputs '<a>' # {{ page.title }}\n{% endhighlight %}")
    assert out == (
        '<figure class="highlight"><pre><code class="language-ruby" data-lang="ruby">'
        "puts '&lt;a&gt;' # Hello</code></pre></figure>"
    )


def test_highlight_with_linenos_shows_line_numbers_beside_the_code() -> None:
    out = liquid("{% highlight c++ linenos %}\na;\nb;\n{% endhighlight %}")
    assert 'class="language-c--" data-lang="c++"' in out
    assert '<pre class="lineno">1\n2\n</pre>' in out
    assert "<pre>a;\nb;\n</pre>" in out


# --- what a render read ---------------------------------------------------------------------------


def test_reads_name_every_include_data_file_config_key_and_post_target() -> None:
    env = SiteFiles(includes={"i.html": "{{ site.data.team.lead }}"}, data_files={"team": {}}, other_posts=[EARLIER])
    body = "{% include i.html %} {{ site.repository }} {{ '/x' | relative_url }} {% post_url 2013-05-06-one-released %}"
    post = parse(body, env=env)
    assert isinstance(post, Post)
    assert post.reads.includes == ("i.html",)
    assert post.reads.data == ("team",)
    assert set(post.reads.config) == {"repository", "baseurl"}
    assert post.reads.post_urls == ("2013-05-06-one-released",)
    assert not post.reads.all_posts


def test_a_post_without_liquid_reads_nothing() -> None:
    post = parse("Plain *text*.\n")
    assert isinstance(post, Post)
    assert not post.reads


def test_a_missing_target_is_recorded_on_the_rejection() -> None:
    result = rejected("{% post_url 2001-01-01-later %}\n")
    assert result.code == errors.POST_URL_NOT_FOUND
    assert result.reads.post_urls == ("2001-01-01-later",)


# --- build failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "line"),
    [
        ("ok\n{% seo %}\n", errors.LIQUID_UNKNOWN_TAG, 5),
        ("ok\n{% render 'x' %}\n", errors.LIQUID_UNKNOWN_TAG, 5),
        ("\n\n{% include missing.html %}\n", errors.INCLUDE_NOT_FOUND, 6),
        ("{% include ../secret %}\n", errors.LIQUID_SYNTAX, 4),
        ("{% include a.html bad-params %}\n", errors.LIQUID_SYNTAX, 4),
        ("{% post_url 2000-01-01-none %}\n", errors.POST_URL_NOT_FOUND, 4),
        ("{% post_url not-a-post-name %}\n", errors.POST_URL_NOT_FOUND, 4),
        ("x\n{% link _posts/none.md %}\n", errors.LINK_NOT_FOUND, 5),
        ("{% highlight %}x{% endhighlight %}\n", errors.LIQUID_SYNTAX, 4),
        ("{% for x in %}{% endfor %}\n", errors.LIQUID_SYNTAX, None),
        ("one\n{% if true %}never closed\n", errors.LIQUID_SYNTAX, 5),
        ("{% capture x %}{% raw %}{% endcapture %}{% endraw %}\n", errors.LIQUID_SYNTAX, 4),
        ("{{ 'x' | date_to_xmlschema }}\n", errors.LIQUID_ERROR, 4),
    ],
)
def test_what_jekyll_fails_the_build_on_is_a_rejection_with_code_and_line(body: str, code: str, line: int) -> None:
    result = rejected(body)
    assert (result.code, result.line) == (code, line)
    assert result.message.startswith("_posts/2020-01-02-hello.md: Liquid")


def test_an_error_inside_an_include_names_the_include_and_the_posts_line() -> None:
    result = rejected("one\n{% include outer.html %}\n", env=SiteFiles(includes={"outer.html": "{% nope %}"}))
    assert (result.code, result.line) == (errors.LIQUID_UNKNOWN_TAG, 5)
    assert "_includes/outer.html" in result.message


def test_the_default_environment_renders_unknown_targets_empty_with_a_warning() -> None:
    text = b"---\ntitle: x\n---\nSee [it][p] {% include nav.html %}\n\n[p]: {% post_url 2000-01-01-x %}\n"
    post = parse_post("_posts/2020-01-02-x.md", text, SITE, now=NOW)
    assert isinstance(post, Post)
    assert "{% post_url 2000-01-01-x %}" in post.warnings[0]
    assert "{% include nav.html %}" in post.warnings[0]
    assert post.reads.includes == ("nav.html",)


def test_an_excerpt_cut_inside_a_block_is_closed_as_jekyll_closes_it() -> None:
    post = parse("{% if true %}\nfirst\n\nsecond\n{% endif %}\n")
    assert isinstance(post, Post)
    assert post.excerpt_text == "first"


# --- lazy import ---------------------------------------------------------------------------------


def test_python_liquid_is_imported_only_for_a_body_with_liquid() -> None:
    assert has_liquid("a {{ b }}")
    assert has_liquid("{% raw %}")
    assert not has_liquid("{ not } %}")
    program = (
        "import sys\nfrom postfeed.jekyll import load_site, parse_post\n"
        "parse_post('_posts/2020-01-01-a.md', b'---\\ntitle: a\\n---\\nplain\\n', load_site())\n"
        "assert 'liquid' not in sys.modules\n"
        "parse_post('_posts/2020-01-01-a.md', b'---\\ntitle: a\\n---\\n{{ page.title }}\\n', load_site())\n"
        "assert 'liquid' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", program], check=True, env={"PYTHONPATH": "shared"})


def test_a_whole_site_parsed_at_once_resolves_links_between_its_posts() -> None:
    from postfeed.jekyll import parse_many

    first = ("_posts/2019-01-01-first.md", b"---\ntitle: First\n---\nHi.\n")
    second = ("_posts/2019-02-01-second.md", b"---\ntitle: Second\n---\n[back]({% post_url 2019-01-01-first %})\n")
    (alone,) = parse_many([first], SITE, now=NOW)
    assert isinstance(alone, Post)
    env = SiteFiles(other_posts=[OtherPost.of(alone)])
    _, linked = parse_many([first, second], SITE, now=NOW, env=env)
    assert isinstance(linked, Post)
    assert '<a href="/2019/01/01/first.html">back</a>' in linked.content_html
    assert linked.reads.post_urls == ("2019-01-01-first",)


def test_gist_is_known_as_on_github_pages_and_gives_its_script() -> None:
    assert liquid("{% gist octo/123abc hello.rb %}") == (
        '<script src="https://gist.github.com/octo/123abc.js?file=hello.rb"> </script>'
    )
    assert (
        liquid("{% assign g = 'octo/9' %}{% gist g %}") == '<script src="https://gist.github.com/octo/9.js"> </script>'
    )


def test_include_cached_is_known_only_when_the_site_lists_jekyll_include_cache() -> None:
    env = SiteFiles(includes={"nav.html": "nav {{ include.x }}"})
    assert rejected("{% include_cached nav.html x=1 %}\n", env=env).code == errors.LIQUID_UNKNOWN_TAG
    listed = load_site(b"plugins: [jekyll-feed, jekyll-include-cache]\n")
    assert html_of("{% include_cached nav.html x=1 %}\n", env=env, site=listed) == "<p>nav 1</p>\n"


@pytest.mark.parametrize(
    ("body", "line"),
    [("a\n{{ x }\n", 5), ("{% raw %}{{ kept {% endraw %}\n\n{% raw %}\nno end\n", 6), ("ok %}\n{% if\n", 5)],
)
def test_an_output_tag_or_raw_left_open_is_a_syntax_error_at_its_opening(body: str, line: int) -> None:
    result = rejected(body)
    assert (result.code, result.line) == (errors.LIQUID_SYNTAX, line)


def test_openings_inside_raw_are_text() -> None:
    assert liquid("{% raw %}{{ {% {% endraw %}}}") == "{{ {% }}"


def test_reading_site_posts_or_every_data_file_is_recorded_as_such() -> None:
    env = SiteFiles(data_files={"a": 1, "b": 2}, other_posts=[EARLIER])
    post = parse("{{ site.tags.a.size }} {% for d in site.data %}{{ d[0] }}{% endfor %}", env=env)
    assert isinstance(post, Post)
    assert post.reads.all_posts
    assert post.reads.data == ("a", "b")


def test_a_config_key_or_data_file_read_but_absent_is_recorded_for_when_it_arrives() -> None:
    post = parse("{{ site.twitter }} {{ site.data.authors.ann }} {{ site.posts.size }}")
    assert isinstance(post, Post)
    assert post.reads.config == ("twitter",)
    assert post.reads.data == ("authors",)
