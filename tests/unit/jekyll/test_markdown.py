"""jekyll.markdown: Markdown in, the HTML kramdown (GFM input, GitHub Pages' settings) makes of it out.

Each case is one of kramdown's rules where CommonMark reads the text otherwise; the expected HTML follows
kramdown's own output shapes (its converter and the truth jekyll-feed wrote for the corpus)."""

from __future__ import annotations

import re

import pytest

from postfeed.jekyll.markdown import gfm_header_id, render_markdown, smart_typography


def text_of(html: str) -> str:
    """What a reader sees: tags dropped, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


# --- blocks ---------------------------------------------------------------------------------------------------


def test_dashes_under_several_lines_of_text_are_an_em_dash_not_a_heading() -> None:
    # the body of a file whose front matter Jekyll did not see (a blank line before its first ---)
    html = render_markdown("---\nlayout: post\ntitle: x\n---\n\nBody.\n")
    assert "<h2" not in html
    assert "<hr />" in html or "<hr>" in html
    assert "<p>layout: post\ntitle: x\n\u2014</p>" in html


def test_a_setext_heading_is_one_line_of_text() -> None:
    assert render_markdown("Title\n=====\n") == '<h1 id="title">Title</h1>\n'
    assert render_markdown("Sub\n---\n") == '<h2 id="sub">Sub</h2>\n'


def test_an_atx_heading_starts_at_the_start_of_its_line() -> None:
    assert render_markdown("# Title\n") == '<h1 id="title">Title</h1>\n'
    assert render_markdown("  # Not a title\n") == "<p># Not a title</p>\n"


def test_a_thematic_break_or_table_line_does_not_end_a_paragraph() -> None:
    html = render_markdown("Some text\n***\n| a | b |\n")
    assert html.count("<p>") == 1
    assert "<table>" not in html


def test_an_ordered_list_starting_at_any_number_ends_a_paragraph_and_is_numbered_from_one() -> None:
    html = render_markdown("Steps:\n3. three\n4. four\n")
    assert html.startswith("<p>Steps:</p>\n<ol>")
    assert "start=" not in html


def test_only_a_number_and_a_dot_starts_an_ordered_list_item() -> None:
    assert render_markdown("1) one\n2) two\n") == "<p>1) one\n2) two</p>\n"
    assert render_markdown("1. one\n").startswith("<ol>")


def test_an_html_block_runs_to_its_end_tag_through_blank_and_whitespace_only_lines() -> None:
    body = (
        "<table>\n  <tr>\n    <td>one</td>\n  </tr>\n   \n  <tr>\n\n        <td>two</td>\n  </tr>\n</table>\n\nAfter.\n"
    )
    html = render_markdown(body)
    assert "<pre>" not in html
    assert "<code>" not in html
    assert "<td>two</td>" in html
    assert html.endswith("<p>After.</p>\n")


def test_an_html_block_with_markdown_1_has_its_content_rendered() -> None:
    html = render_markdown('<div markdown="1">\n**bold** text\n</div>\n')
    assert html == "<div>\n<p><strong>bold</strong> text</p>\n</div>\n"


def test_options_parse_block_html_parses_the_html_blocks_after_it() -> None:
    body = '<div>\n*raw*\n</div>\n\n{::options parse_block_html="true" /}\n\n<div>\n*parsed*\n</div>\n'
    html = render_markdown(body + '\n<div markdown="0">\n*raw again*\n</div>\n')
    assert "<div>\n*raw*\n</div>" in html
    assert "<div>\n<p><em>parsed</em></p>\n</div>" in html
    assert "*raw again*" in html


def test_block_tags_and_declarations_in_running_text_are_shown_as_text() -> None:
    html = render_markdown("Centre the <DIV> in the page. Start with <!DOCTYPE html> always.\n")
    assert text_of(html) == "Centre the &lt;DIV&gt; in the page. Start with &lt;!DOCTYPE html&gt; always."


def test_an_end_tag_that_closes_nothing_is_text() -> None:
    html = render_markdown("<div>\ninside\n</div>\n\nText\n\n</div>\n\nand </span> here\n")
    assert html.startswith("<div>\ninside\n</div>\n")
    assert text_of(html).endswith("Text &lt;/div&gt; and &lt;/span&gt; here")


def test_a_span_element_left_open_is_closed_at_the_end_of_its_paragraph() -> None:
    html = render_markdown("The page <title>tag, and more.\n\nNext paragraph.\n")
    assert "<p>The page <title>tag, and more.</title></p>" in html
    assert "<p>Next paragraph.</p>" in html


def test_kramdown_tables_have_header_body_and_footer_sections_and_need_no_leading_pipe() -> None:
    body = "name | qty\n---|--:\napples | 3\npears | 4\n|---\nplums | 1\n|===\ntotal | 8\n"
    html = render_markdown(body)
    assert "<thead>\n<tr>\n<th>name</th>" in html
    assert html.count("<tbody>") == 2
    assert "<tfoot>\n<tr>\n<td>total</td>" in html
    assert '<td style="text-align: right">3</td>' in html
    assert "---" not in html
    assert "===" not in html


def test_a_table_needs_a_blank_line_before_it_and_a_body() -> None:
    assert "<table>" not in render_markdown("Text\n| a | b |\n| 1 | 2 |\n")
    assert "<table>" not in render_markdown("| a | b |\n|---|---|\n")
    assert "<td>1</td>" in render_markdown("| a | b |\n| 1 | 2 |\n")


def test_a_pipe_inside_a_code_span_does_not_split_a_cell() -> None:
    html = render_markdown("| `a|b` | c |\n")
    assert '<td><code class="language-plaintext highlighter-rouge">a|b</code></td>' in html


def test_display_math_is_mathjax_and_inline_math_needs_double_dollars() -> None:
    html = render_markdown("Area\n\n$$ a = \\pi r^2 $$\n\nInline $$x<y$$ and $not math$.\n")
    assert "\\[a = \\pi r^2\\]\n" in html
    assert "Inline \\(x&lt;y\\) and $not math$." in html


def test_an_unclosed_fence_is_text_and_a_fence_with_two_words_of_info_is_not_a_fence() -> None:
    assert "<pre" not in render_markdown("```\nnot closed\n")
    html = render_markdown("```js title\nx\n```\ny\n```\n")
    assert html.startswith("<p>```js title\nx</p>\n")
    assert "<code>y\n</code>" in html


def test_a_closing_fence_short_of_a_list_items_indentation_still_closes_the_fence() -> None:
    html = render_markdown("1. Install:\n   ```sh\n   make\n  ```\n\nThe rest.\n")
    assert '<div class="language-sh highlighter-rouge">' in html
    assert "<code>make\n</code>" in html
    assert html.endswith("<p>The rest.</p>\n")


def test_code_blocks_and_spans_in_the_shape_rouge_gives_them() -> None:
    html = render_markdown("```ruby\nputs 1 < 2\n```\n\n    indented\n\nSay `hi`.\n")
    assert (
        '<div class="language-ruby highlighter-rouge"><div class="highlight"><pre class="highlight">'
        "<code>puts 1 &lt; 2\n</code></pre></div></div>"
    ) in html
    assert "<pre><code>indented\n</code></pre>" in html
    assert '<code class="language-plaintext highlighter-rouge">hi</code>' in html


# --- attribute lists, extensions, abbreviations ---------------------------------------------------------------


def test_block_attribute_lists_go_to_the_block_before_them_and_show_no_text() -> None:
    html = render_markdown('A note.\n{: .note #first data-x="1"}\n\n{: .lead}\nNext.\n')
    assert '<p class="note" id="first" data-x="1">A note.</p>' in html
    assert '<p class="lead">Next.</p>' in html
    assert "{:" not in html


def test_an_attribute_list_line_inside_a_code_block_is_code() -> None:
    html = render_markdown("```yaml\nkey: value\n{: .full}\n```\n")
    assert "{: .full}" in html


def test_span_attribute_lists_are_applied_to_the_element_before_them() -> None:
    html = render_markdown("[Download](/get){: .btn .big} and *this*{: #here} too.\n")
    assert '<a href="/get" class="btn big">Download</a>' in html
    assert '<em id="here">this</em>' in html
    assert "{:" not in html


def test_extensions_ald_and_end_of_block_marker_show_no_text() -> None:
    body = '{::comment}\nhidden words\n{:/comment}\n{:ref: .x}\n{::options auto_ids="false" /}\n\nShown.\n^\n'
    html = render_markdown(body)
    assert text_of(html) == "Shown."
    assert render_markdown("{::nomarkdown}\n<b>raw *x*</b>\n{:/}\n") == "<b>raw *x*</b>\n"


def test_an_abbreviation_or_extension_line_right_under_text_is_text_but_an_ial_is_not() -> None:
    assert render_markdown("Some text\n*[HTML]: Hyper\n") == "<p>Some text\n*[HTML]: Hyper</p>\n"
    assert render_markdown("Some text\n{: .c}\n") == '<p class="c">Some text</p>\n'


def test_span_extensions_comment_and_nomarkdown() -> None:
    html = render_markdown("A {::comment}hidden{:/comment}and {::nomarkdown}<b>*x*</b>{:/} b\n")
    assert html == "<p>A and <b>*x*</b> b</p>\n"


def test_abbreviations_are_marked_and_their_definitions_disappear() -> None:
    html = render_markdown("Write CSS, not CSSX.\n\n*[CSS]: Cascading Style Sheets\n")
    assert html == '<p>Write <abbr title="Cascading Style Sheets">CSS</abbr>, not CSSX.</p>\n'


def test_definition_and_task_lists() -> None:
    html = render_markdown("Apple\n: A fruit.\n\n- [ ] open\n- [x] done\n")
    assert "<dl>\n<dt>Apple</dt>\n<dd>A fruit.</dd>\n</dl>" in html
    assert text_of(html).endswith("open done")
    assert 'checked="checked"' in html


# --- footnotes ------------------------------------------------------------------------------------------------


def test_footnotes_in_kramdowns_html() -> None:
    html = render_markdown("Claim[^src] and again[^src], also[^2].\n\n[^src]: A source.\n[^2]: Another.\n")
    assert (
        '<sup id="fnref:src"><a href="#fn:src" class="footnote" rel="footnote" role="doc-noteref">1</a></sup>'
    ) in html
    assert '<sup id="fnref:src:1"><a href="#fn:src"' in html
    assert '<a href="#fn:2" class="footnote" rel="footnote" role="doc-noteref">2</a>' in html
    assert '<div class="footnotes" role="doc-endnotes">' in html
    assert '<li id="fn:src">' in html
    assert '<a href="#fnref:src" class="reversefootnote" role="doc-backlink">&#8617;</a>' in html
    assert '<a href="#fnref:src:1" class="reversefootnote" role="doc-backlink">&#8617;<sup>2</sup></a>' in html


def test_a_footnote_marker_without_a_definition_is_text_read_as_one_piece() -> None:
    html = render_markdown("Matches [^A-Za-z0-9_] or /[^A-Za-z0-9_]/ here.\n")
    assert html == "<p>Matches [^A-Za-z0-9_] or /[^A-Za-z0-9_]/ here.</p>\n"


# --- spans ----------------------------------------------------------------------------------------------------


def test_strong_next_to_cjk_punctuation() -> None:
    html = render_markdown("**前置工作：**将文件放好，返回**\u201c通过\u201d**。\n")
    assert html == "<p><strong>前置工作：</strong>将文件放好，返回<strong>\u201c通过\u201d</strong>。</p>\n"


def test_underscores_inside_words_are_not_emphasis() -> None:
    assert render_markdown("snake_case_name and _this_\n") == "<p>snake_case_name and <em>this</em></p>\n"


def test_only_kramdowns_escapes_drop_their_backslash() -> None:
    assert render_markdown("a \\* b \\/ c \\@ d \\| e\n") == "<p>a * b \\/ c \\@ d | e</p>\n"


def test_a_line_break_is_one_or_two_backslashes_or_two_spaces_at_the_end_of_a_line() -> None:
    assert render_markdown("one\\\\\ntwo  \nthree\\\nfour\n") == "<p>one<br />\ntwo<br />\nthree<br />\nfour</p>\n"


def test_strikethrough_is_del_and_a_link_url_may_hold_spaces() -> None:
    html = render_markdown('~~old~~ ![pic](http://x.org/a b.png) [go](http://x.org/c d "T")\n')
    assert "<del>old</del>" in html
    assert (
        '<img src="http://x.org/a%20b.png" alt="pic" />' in html
        or '<img src="http://x.org/a%20b.png" alt="pic">' in html
    )
    assert '<a href="http://x.org/c%20d" title="T">go</a>' in html


def test_any_link_target_is_kept_for_the_sanitiser_to_judge() -> None:
    assert '<a href="file:///E:/demo.html">Demo</a>' in render_markdown("[Demo](file:///E:/demo.html)\n")


# --- typography -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plain", "typeset"),
    [
        ('He said "hello" -- then left...', "He said \u201chello\u201d \u2013 then left\u2026"),
        ("It's the '80s --- isn't it?", "It\u2019s the \u201980s \u2014 isn\u2019t it?"),
        ("Two dots.. and (c) stay", "Two dots.. and (c) stay"),
        ("<< guillemets >> and <<tight>>", "\u00ab\u00a0guillemets\u00a0\u00bb and \u00abtight\u00bb"),
        ('顺序是："script"、"defer"', "顺序是：\u201dscript\u201d、\u201ddefer\u201d"),
        ("'single' quotes", "\u2018single\u2019 quotes"),
    ],
)
def test_smart_typography_follows_kramdowns_smartypants_rules(plain: str, typeset: str) -> None:
    assert smart_typography(plain) == typeset


def test_typography_is_not_applied_to_code() -> None:
    html = render_markdown('`"a" -- b` and "c"\n')
    assert text_of(html) == '"a" -- b and \u201cc\u201d'


# --- heading ids and tables of contents -----------------------------------------------------------------------


def test_heading_ids_follow_kramdown_gfm_rules() -> None:
    seen: dict[str, int] = {}
    assert gfm_header_id("安装 SublimeLinter", seen) == "安装-sublimelinter"
    assert gfm_header_id("类选择器（Class selectors）", seen) == "类选择器class-selectors"
    assert gfm_header_id("Cache all the things! 💰", seen) == "cache-all-the-things-"
    assert gfm_header_id("hitimes/hitimes (LoadError)", seen) == "hitimeshitimes-loaderror"
    assert gfm_header_id("Intro", seen) == "intro"
    assert gfm_header_id("Intro", seen) == "intro-1"
    assert gfm_header_id("Intro", seen) == "intro-2"


def test_headings_get_ids_from_their_text_and_an_explicit_id_wins() -> None:
    html = render_markdown("## Don't `panic`\n\n### Custom {#mine}\n")
    assert '<h2 id="dont-panic">' in html
    assert '<h3 id="mine">Custom</h3>' in html


def test_a_toc_list_becomes_nested_links_to_every_heading() -> None:
    html = render_markdown("* x\n{:toc}\n\n## A [link](/y)\n\n### B\n\n## C\n{: .no_toc}\n\n## D\n")
    assert html.startswith('<ul id="markdown-toc">\n  <li><a href="#a-link" id="markdown-toc-a-link">A link</a>')
    assert '<li><a href="#b" id="markdown-toc-b">B</a></li>' in html
    assert '<li><a href="#d" id="markdown-toc-d">D</a></li>' in html
    assert "markdown-toc-c" not in html
    assert text_of(html.split("</ul>\n</li>")[0]).startswith("A link B")
