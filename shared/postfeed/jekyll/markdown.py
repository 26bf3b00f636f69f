"""Markdown as GitHub Pages' kramdown renders it (GFM input, ``auto_ids``, smart quotes, ``hard_wrap: false``).

Built on markdown-it-py and mdit-py-plugins (chosen over Python-Markdown with pymdown-extensions by their
scores on the content agreement harness, bench/content_agreement.py; see docs/jekyll-differences.md), with
kramdown's rules where they differ from CommonMark:

- blocks: a paragraph is not ended by a thematic break, a table or a setext underline (``---`` under two lines
  of text is an em dash in the text); a setext heading is one line of text; an ATX heading starts its line;
  any ``N.`` list item ends a paragraph, ``N)`` starts none; a fence has a one-word info string and must be
  closed; an HTML block runs to its element's end tag, through blank lines (``markdown="1"`` parses its
  content); kramdown tables (any line with a pipe after a blank line, ``|---|`` separators, ``|===|`` footers);
  ``$$`` math blocks (MathJax's ``\\[...\\]``); block IALs and ALDs (``{: .class #id}``), extensions
  (``{::comment}``), abbreviation definitions and the end-of-block marker ``^`` leave no text;
- spans: kramdown's emphasis (a delimiter opens when not followed by whitespace and closes when not preceded by
  it, so ``**前置工作：**将`` is bold; ``_`` not inside a word), span IALs, ``$$x$$`` as ``\\(x\\)``, only
  kramdown's escapes, block tags and declarations in running text shown as text, span elements closed at the
  end of their paragraph, smart quotes by kramdown's SmartyPants rules and its typographic symbols
  (``---`` ``--`` ``...`` ``<<`` ``>>``; ``..`` and ``(c)`` stay as written), abbreviations;
- output: heading ids by kramdown-parser-gfm's rule, ``{:toc}`` lists as kramdown builds them, footnotes,
  task lists, definition lists, ``<del>`` and code blocks in kramdown's HTML shape.

markdown-it-py and mdit-py-plugins are imported on first use (cold start).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_block import StateBlock
    from markdown_it.rules_core import StateCore
    from markdown_it.rules_inline import StateInline
    from markdown_it.token import Token

__all__ = ("gfm_header_id", "render_markdown", "smart_typography")


def render_markdown(text: str) -> str:
    """``text`` (Markdown, Liquid already run) as the HTML kramdown makes of it."""
    md = _parser()
    env: dict[str, Any] = {}
    return str(md.renderer.render(md.parse(text, env), md.options, env))


# --- typography: kramdown's smart quotes (SmartyPants rules) and typographic symbols -------------------------

_SQ_PUNCT = r"""[!"#$%'()*+,\-./:;<=>?@\[\\\]^_`{|}~]"""
_FLAGS = re.ASCII | re.MULTILINE
# (pattern, actions): an int keeps that group as text; a name is a quote, "lquote1"/"rquote2" read the quote
# character from group 1 or 2. In kramdown's order; \w, \s, \d and \b are ASCII, as in Ruby.
_SQ_RULES: tuple[tuple[re.Pattern[str], tuple[int | str, ...]], ...] = (
    (re.compile(r"""(["'])(?=[_*]{1,2}\S)""", _FLAGS), ("lquote1",)),
    (re.compile(rf"""(["'])(?={_SQ_PUNCT}(?!\.\.)\B)""", _FLAGS), ("rquote1",)),
    (re.compile(r"""(\s?)"'(?=\w)""", _FLAGS), (1, "ldquo", "lsquo")),
    (re.compile(r"""(\s?)'"(?=\w)""", _FLAGS), (1, "lsquo", "ldquo")),
    (re.compile(r"""(\s?)'(?=\d\ds)""", _FLAGS), (1, "rsquo")),
    (re.compile(r"""(\s)(['"])(?=\w)""", _FLAGS), (1, "lquote2")),
    (re.compile(r"""([^ \t\r\n\[{(\-])(['"])""", _FLAGS), (1, "rquote2")),
    (re.compile(r"""(["'])(?=\s|s\b|$)""", _FLAGS), ("rquote1",)),
    (re.compile(r"""(.?)'""", _FLAGS | re.DOTALL), (1, "lsquo")),
    (re.compile(r"""(.?)\"""", _FLAGS | re.DOTALL), (1, "ldquo")),
)
_QUOTES = {"ldquo": "\u201c", "rdquo": "\u201d", "lsquo": "\u2018", "rsquo": "\u2019"}
_SYMBOLS = (
    ("---", "\u2014"),
    ("--", "\u2013"),
    ("...", "\u2026"),
    ("\\<<", "<<"),
    ("\\>>", ">>"),
    ("<< ", "\u00ab\u00a0"),
    (" >>", "\u00a0\u00bb"),
    ("<<", "\u00ab"),
    (">>", "\u00bb"),
)
_NEXT_SPECIAL = re.compile(r"""[^\\]?["']|---|--|\.\.\.|\\<<|\\>>|<< | >>|<<|>>""")


def _quote(action: str, match: re.Match[str]) -> str:
    if action in _QUOTES:
        return _QUOTES[action]
    char = match[int(action[-1])]
    side = "l" if action.startswith("l") else "r"
    return _QUOTES[side + ("d" if char == '"' else "s") + "quo"]


def _quote_rule(source: str, start: int, end: int) -> tuple[re.Match[str], tuple[int | str, ...]]:
    """The first of kramdown's quote rules that matches at ``start`` within the run (the last ones match any
    quote character)."""
    for pattern, actions in _SQ_RULES:
        match = pattern.match(source, start)
        if match is not None and match.end() <= end:
            return match, actions
    raise AssertionError(source[start:end])  # pragma: no cover


def smart_typography(text: str, after: str = "") -> str:
    """Plain ``text`` with kramdown's smart quotes and typographic symbols, as one run of kramdown text.

    ``after`` is what follows the run in the source (it is looked at, not changed): kramdown's quote rules
    look ahead past the end of a text run (``"*word*"`` opens a quote)."""
    if not any(c in text for c in "\"'-.<>"):
        return text
    source = text + after
    out: list[str] = []
    pos = 0
    while pos < len(text):
        found = _NEXT_SPECIAL.search(text, pos)
        if found is None:
            break
        start = found.start()
        out.append(text[pos:start])
        symbol = next((s for s in _SYMBOLS if text.startswith(s[0], start)), None)
        is_quote = found[0][-1] in "\"'" and (symbol is None or found[0] not in (s[0] for s in _SYMBOLS))
        if is_quote:
            match, actions = _quote_rule(source, start, len(text))
            for action in actions:
                out.append(match[action] or "" if isinstance(action, int) else _quote(action, match))
            pos = match.end()
        else:
            assert symbol is not None
            out.append(symbol[1])
            pos = start + len(symbol[0])
    out.append(text[pos:])
    return "".join(out)


# --- heading ids (kramdown-parser-gfm's generate_gfm_header_id) ----------------------------------------------


def _is_word(char: str) -> bool:
    """Ruby's \\p{Word}: letters, marks, decimal and letter numbers, connector punctuation."""
    category = unicodedata.category(char)
    return category.startswith(("L", "M")) or category in ("Nd", "Nl", "Pc")


def gfm_header_id(text: str, seen: dict[str, int]) -> str:
    """The id kramdown's GFM parser gives a heading whose text is ``text``: lowercased, every character but
    word characters, ``-``, space and tab dropped, spaces and tabs as ``-``; a repeat gets ``-1``, ``-2``..."""
    base = "".join(c for c in text.lower() if c in "- \t" or _is_word(c)).replace(" ", "-").replace("\t", "-")
    count = seen.get(base, -1) + 1
    seen[base] = count
    return f"{base}-{count}" if count else base


# --- attribute lists ------------------------------------------------------------------------------------------

_IAL_LINE = re.compile(r"^ {0,3}\{:(?!:|/)([^}\n]*)\}[ \t]*$")
_ALD_LINE = re.compile(r"^ {0,3}\{:([\w-]+):([^}\n]*)\}[ \t]*$")
_EXTENSION_LINE = re.compile(r"^ {0,3}\{::(\w+)([^}\n]*?)(/)?\}[ \t]*(.*)$")
_ABBREVIATION_LINE = re.compile(r"^ {0,3}\*\[([^\]\n]+)\]:[ \t]*(.*?)[ \t]*$")
_EOB_LINE = re.compile(r"^\^[ \t]*$")
_IAL_PART = re.compile(r"""([#.][\w:-]+)|([\w-]+)=(?:"((?:\\.|[^"])*)"|'((?:\\.|[^'])*)')|([\w-]+)""")


def _attributes(text: str) -> tuple[dict[str, str], list[str]]:
    """An IAL's attributes (``.a .b`` as one class, ``#id``, ``key="v"``) and its references (``toc``)."""
    attrs: dict[str, str] = {}
    refs: list[str] = []
    for part in _IAL_PART.finditer(text):
        if part[1] and part[1][0] == ".":
            attrs["class"] = f"{attrs['class']} {part[1][1:]}" if "class" in attrs else part[1][1:]
        elif part[1]:
            attrs["id"] = part[1][1:]
        elif part[2]:
            attrs[part[2]] = part[3] if part[3] is not None else part[4] or ""
        elif part[5]:
            refs.append(part[5])
    return attrs, refs


def _apply(token: Token, attrs: dict[str, str], refs: list[str]) -> None:
    for key, value in attrs.items():
        if key == "class" and token.attrGet("class"):
            token.attrSet("class", f"{token.attrGet('class')} {value}")
        else:
            token.attrSet(key, value)
    if "toc" in refs:
        token.meta = {**(token.meta or {}), "toc": True}


def _line(state: StateBlock, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line] - min(state.tShift[line], 3) : state.eMarks[line]]


def _at_block_boundary(state: StateBlock, line: int) -> bool:
    """kramdown's after_block_boundary?: first in its container, or after a blank line."""
    if line <= 0 or state.isEmpty(line - 1):
        return True
    return not state.tokens or state.tokens[-1].nesting == 1


def _block_ial(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """A line of its own holding an IAL, an ALD, an extension, an abbreviation or ``^``: no text of its own."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    text = _line(state, start)
    if not text.lstrip(" ").startswith(("{:", "*[", "^")):
        return False
    extension = _EXTENSION_LINE.match(text)
    if extension and not extension[3] and extension[1] in ("comment", "nomarkdown"):
        return not silent and _extension_block(state, start, end, silent, extension)
    ial = _IAL_LINE.match(text)
    abbreviation = _ABBREVIATION_LINE.match(text)
    if not (ial or extension or abbreviation or _ALD_LINE.match(text) or _EOB_LINE.match(text)):
        return False
    if silent:  # kramdown's paragraph end (LAZY_END): an IAL or ALD line and `^`, not the others
        return bool(ial or _ALD_LINE.match(text) or _EOB_LINE.match(text))
    if abbreviation:
        state.env.setdefault("abbreviations", {})[abbreviation[1]] = abbreviation[2]
    elif ial:
        attrs, refs = _attributes(ial[1])
        adjacent = start > 0 and not state.isEmpty(start - 1)
        token = state.push("kd_ial", "", 0)
        token.meta = {"attrs": attrs, "refs": refs, "after": adjacent}
        token.hidden = True
    elif extension and extension[1] == "options":
        # `{::options parse_block_html="true" /}`: the HTML blocks after it have their content parsed
        setting = _attributes(extension[2])[0].get("parse_block_html")
        if setting is not None:
            state.env["parse_block_html"] = setting == "true"
    state.line = start + 1
    return True


def _extension_block(state: StateBlock, start: int, end: int, silent: bool, extension: re.Match[str]) -> bool:
    """``{::comment}`` ... ``{:/comment}`` (dropped) and ``{::nomarkdown}`` ... ``{:/}`` (raw HTML)."""
    name = extension[1]
    closing = re.compile(r"\{:/(?:" + name + r")?\}")
    # The first closing marker at or after this line's extension (searched once per document and name).
    known: dict[str, list[int]] = state.env.setdefault("kd_extension_ends", {})
    if name not in known:
        known[name] = [found.start() for found in closing.finditer(state.src)]
    after = state.eMarks[start] - len(extension[4])
    following = next((at for at in known[name] if at >= after), -1) if known[name] else -1
    if following < 0 or following > state.eMarks[end - 1]:
        return False
    line = start
    while state.eMarks[line] < following:
        line += 1
    rest = state.src[state.bMarks[line] : state.eMarks[line]]
    found = closing.search(rest)
    if found is None:
        return False
    if silent:
        return True
    if name == "nomarkdown":
        first = extension[4]
        inner = (
            first[: closing.search(first).start()]  # type: ignore[union-attr]
            if line == start
            else "\n".join(
                [
                    first,
                    *(state.src[state.bMarks[n] : state.eMarks[n]] for n in range(start + 1, line)),
                    rest[: found.start()],
                ]
            )
        )
        token = state.push("html_block", "", 0)
        token.content = inner.strip("\n") + "\n"
        token.map = [start, line + 1]
    state.line = line + 1
    return True


# --- HTML blocks: to the element's end tag, through blank lines -----------------------------------------------

_SPAN_ELEMENTS = frozenset(
    {
        *("a", "abbr", "acronym", "b", "big", "bdo", "br", "button", "cite", "code", "del", "dfn", "em", "i"),
        *("img", "input", "ins", "kbd", "label", "mark", "option", "q", "rb", "rbc", "rp", "rt", "rtc", "ruby"),
        *("s", "samp", "select", "small", "span", "strike", "strong", "sub", "sup", "textarea", "time", "tt"),
        *("u", "var", "wbr"),
    }
)
_VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)
_ATTRIBUTE = r"""\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?"""
_HTML_START = re.compile(rf"<([A-Za-z][A-Za-z0-9-]*)((?:{_ATTRIBUTE})*)\s*>")
_RAW_ATTRIBUTE = re.compile(r"""\s+markdown\s*=\s*(?:"0"|'0'|0)""")
# kramdown's raw content model: never parsed, whatever parse_block_html says.
_RAW_CONTENT = frozenset({"script", "style", "math", "option", "textarea", "pre", "code", "kbd", "samp", "var"})
_MARKDOWN_ATTRIBUTE = re.compile(r"""\s+markdown\s*=\s*(?:"(?:1|block|span)"|'(?:1|block|span)'|1|block|span)""")


def _html_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    begin = state.bMarks[start] + state.tShift[start]
    opening = _HTML_START.match(state.src, begin)
    if opening is None or opening.start() != begin:
        return False
    tag = opening[1].lower()
    if tag in _SPAN_ELEMENTS or tag in _VOID_ELEMENTS:
        return False
    limit = state.eMarks[end - 1] if end > start else state.eMarks[start]
    close_at = _end_tag(state, tag, begin)
    if close_at < 0 or close_at > limit:
        return False
    last = start
    while last < end - 1 and state.eMarks[last] < close_at:
        last += 1
    if silent:
        return True
    markdown = _MARKDOWN_ATTRIBUTE.search(opening[2] or "")
    raw = _RAW_ATTRIBUTE.search(opening[2] or "")
    parse = (markdown or state.env.get("parse_block_html")) and not raw and tag not in _RAW_CONTENT
    line_rest = state.src[opening.end() : state.eMarks[start]].strip()
    close_line = state.src[state.bMarks[last] + state.tShift[last] : state.eMarks[last]].strip()
    if parse and not line_rest and last > start and close_line.lower() == f"</{tag}>":
        token = state.push("html_block", "", 0)
        token.content = opening[0].replace(markdown[0], "") + "\n" if markdown else opening[0] + "\n"
        token.map = [start, start + 1]
        old_max, state.lineMax = state.lineMax, last
        state.md.block.tokenize(state, start + 1, last)
        state.lineMax = old_max
        token = state.push("html_block", "", 0)
        token.content = close_line + "\n"
        token.map = [last, last + 1]
    else:
        token = state.push("html_block", "", 0)
        token.content = state.getLines(start, last + 1, state.blkIndent, True)
        token.map = [start, last + 1]
    state.line = last + 1
    return True


_STRAY_CLOSE = re.compile(r"</([A-Za-z][A-Za-z0-9-]*)\s*>")


def _not_declaration(rule: Callable[..., bool]) -> Callable[..., bool]:
    """markdown-it's HTML block rule, but a line starting with ``<!DOCTYPE`` or ``<![CDATA[`` is text, and so
    is one starting with an end tag that closes no element (kramdown: "invalidly used HTML closing tag")."""

    def html_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        begin = state.bMarks[start] + state.tShift[start]
        if state.src.startswith("<!", begin) and not state.src.startswith("<!--", begin):
            return False
        stray = _STRAY_CLOSE.match(state.src, begin)
        if stray is not None and stray[1].lower() not in _SPAN_ELEMENTS:
            return False
        return rule(state, start, end, silent)

    return html_block


_FENCE_OPEN = re.compile(r"(([~`])\2{2,})[ \t]*(?:(\S+?)(?:\?\S*)?)?[ \t]*$")


def _fence(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """kramdown-parser-gfm's fenced code block: a one-word info string (``js``, ``js?x``), closed by the same
    fence (or a longer one) with up to three spaces before it, even a line that falls short of a list item's
    indentation (kramdown reads it as a lazy line of the item); unclosed, it is not a code block."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    opening = _FENCE_OPEN.match(state.src, state.bMarks[start] + state.tShift[start], state.eMarks[start])
    if opening is None:
        return False
    fence, language = opening[1], opening[3] or ""
    closing = re.compile(rf"{re.escape(fence)}{re.escape(fence[0])}*[ \t]*$")
    line = start + 1
    closed = False
    while line < end:
        begin = state.bMarks[line] + state.tShift[line]
        blank = begin >= state.eMarks[line]
        if not blank and state.sCount[line] < state.blkIndent:
            closed = state.parentType == "list" and state.tShift[line] <= 3 + state.blkIndent
            closed = closed and closing.match(state.src, begin, state.eMarks[line]) is not None
            break
        if (
            not blank
            and state.sCount[line] - state.blkIndent <= 3
            and closing.match(state.src, begin, state.eMarks[line])
        ):
            closed = True
            break
        line += 1
    if not closed and state.blkIndent == 0 and state.parentType not in ("blockquote", "list"):
        return False
    if silent:
        return True
    token = state.push("fence", "code", 0)
    token.info = language
    token.content = state.getLines(start + 1, line, state.sCount[start], True)
    token.markup = fence
    token.map = [start, line + 1 if closed else line]
    state.line = line + 1 if closed else line
    return True


def _flush_left(rule: Callable[..., bool]) -> Callable[..., bool]:
    """markdown-it's ATX heading rule, but only at the start of the line (kramdown-parser-gfm's
    ATX_HEADER_START has no leading spaces: `  # x` is text)."""

    def heading(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        if state.sCount[start] != state.blkIndent:
            return False
        return rule(state, start, end, silent)

    return heading


def _end_tag(state: StateBlock, tag: str, begin: int) -> int:
    """Where the element whose start tag is at ``begin`` ends (nested elements of the same name counted), or -1.

    The tags of that name are found once per document, and each one's end by a next-lower-depth pass, so a
    post of many unclosed ``<div>`` lines takes linear time, not quadratic."""
    cache: dict[str, dict[int, int]] = state.env.setdefault("kd_end_tags", {})
    if tag not in cache:
        events: list[tuple[int, int, int]] = []  # (start, end, +1 open / -1 close)
        for found in re.finditer(rf"<(/?){re.escape(tag)}\b[^>]*?(/?)>", state.src, re.IGNORECASE):
            if not found[2]:
                events.append((found.start(), found.end(), -1 if found[1] else 1))
        depth = [0]
        for _, _, step in events:
            depth.append(depth[-1] + step)
        # for each open event k: the first event j > k after which the depth falls below its depth after k
        ends: dict[int, int] = {}
        waiting: list[int] = []  # open events, their depth after them increasing along the list
        for index, (_, stop, _) in enumerate(events):
            while waiting and depth[index + 1] < depth[waiting[-1] + 1]:
                ends[events[waiting.pop()][0]] = stop
            if events[index][2] == 1:
                waiting.append(index)
        cache[tag] = ends
    return cache[tag].get(begin, -1)


_PAREN_ITEM = re.compile(r"\d{1,9}\)")


def _dot_lists_only(rule: Callable[..., bool]) -> Callable[..., bool]:
    """markdown-it's list rule, but ``1)`` starts no list item: kramdown's ordered items are ``1.`` only."""

    def list_rule(state: StateBlock, start: int, end: int, silent: bool) -> bool:
        if _PAREN_ITEM.match(state.src, state.bMarks[start] + state.tShift[start]):
            return False
        return rule(state, start, end, silent)

    return list_rule


# --- math blocks ----------------------------------------------------------------------------------------------


def _math_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """``$$ ... $$`` standing alone as a block: MathJax's display math ``\\[...\\]``."""
    if state.sCount[start] - state.blkIndent >= 4 or not _at_block_boundary(state, start):
        return False
    first = _line(state, start).lstrip(" ")
    if not first.startswith("$$"):
        return False
    body = first[2:]
    line = start
    while "$$" not in body.rstrip()[len(body.rstrip()) - 2 :] or (line == start and len(body.rstrip()) < 2):
        line += 1
        if line >= end or state.isEmpty(line):
            return False
        body += "\n" + state.src[state.bMarks[line] : state.eMarks[line]]
    body = body.rstrip()
    if "$$" in body[:-2] or (line + 1 < end and not state.isEmpty(line + 1)):
        return False
    if silent:
        return True
    token = state.push("math_block_kd", "", 0)
    token.content = body[:-2].strip()
    token.map = [start, line + 1]
    state.line = line + 1
    return True


# --- kramdown tables ------------------------------------------------------------------------------------------

_TABLE_LINE = re.compile(r"^(?:\||.*?[^\\\n]\|)")
_TABLE_SEPARATOR = re.compile(r"^([+|: \t-]*?-[+|: \t-]*?)[ \t]*$")
_TABLE_FOOTER = re.compile(r"^[+|: \t]*?=[+|: \t=]*?[ \t]*$")
_TABLE_ALIGN = re.compile(r"[ \t]?(:?)-+(:?)[ \t]?")
_CODE_SPAN = re.compile(r"(`+)(?:.+?)(?<!`)\1(?!`)")


def _cells(row: str, leading_pipe: bool) -> list[str]:
    """A kramdown table row split at its pipes (not inside code spans, not escaped)."""
    cells = [""]
    pos = 0
    while pos < len(row):
        code = _CODE_SPAN.match(row, pos) if row[pos] == "`" else None
        if code:
            cells[-1] += code[0]
            pos = code.end()
        elif row.startswith("\\|", pos):
            cells[-1] += "|"
            pos += 2
        elif row[pos] == "|":
            cells.append("")
            pos += 1
        else:
            cells[-1] += row[pos]
            pos += 1
    if leading_pipe and len(cells) > 1 and not cells[0].strip():
        cells.pop(0)
    if len(cells) > 1 and not cells[-1].strip():
        cells.pop()
    return [cell.strip() for cell in cells]


def _has_pipe(line: str) -> bool:
    return "|" in _CODE_SPAN.sub("", line.replace("\\|", ""))


def _table(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if state.sCount[start] - state.blkIndent >= 4 or not _at_block_boundary(state, start):
        return False
    lines: list[str] = []
    line = start
    while line < end and not state.isEmpty(line):
        text = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]
        if state.sCount[line] < state.blkIndent or not _TABLE_LINE.match(text) or not _has_pipe(text):
            break
        lines.append(text)
        line += 1
    if not lines or (line < end and not state.isEmpty(line) and not _IAL_LINE.match(_line(state, line))):
        return False
    leading_pipe = lines[0].lstrip().startswith("|")
    sections: list[tuple[str, list[list[str]]]] = []
    rows: list[list[str]] = []
    alignment: list[str] = []
    has_header = has_footer = False
    for index, text in enumerate(lines):
        separator = _TABLE_SEPARATOR.match(text)
        if separator and index == 0:
            continue
        if separator and rows:
            if not has_header and not has_footer:
                has_header = True
                sections.append(("thead", rows))
                for left, right in _TABLE_ALIGN.findall(separator[1]):
                    alignment.append(
                        "center" if left and right else "left" if left else "right" if right else "",
                    )
            elif not has_footer:
                sections.append(("tbody", rows))
            rows = []
        elif _TABLE_FOOTER.match(text):
            if rows:
                sections.append(("tbody", rows))
                rows = []
            has_footer = True
        elif not separator:
            rows.append(_cells(text, leading_pipe))
    if rows:
        sections.append(("tfoot" if has_footer else "tbody", rows))
    if not any(kind == "tbody" for kind, _ in sections):
        return False
    if silent:
        return True
    columns = max(len(row) for _, rows_ in sections for row in rows_)
    state.push("table_open", "table", 1).map = [start, line]
    for kind, section_rows in sections:
        state.push(f"{kind}_open", kind, 1)
        cell_tag = "th" if kind == "thead" else "td"
        for row in section_rows:
            state.push("tr_open", "tr", 1)
            for column in range(columns):
                cell = state.push(f"{cell_tag}_open", cell_tag, 1)
                if column < len(alignment) and alignment[column]:
                    cell.attrSet("style", f"text-align: {alignment[column]}")
                inline = state.push("inline", "", 0)
                inline.content = row[column] if column < len(row) else ""
                inline.children = []
                state.push(f"{cell_tag}_close", cell_tag, -1)
            state.push("tr_close", "tr", -1)
        state.push(f"{kind}_close", kind, -1)
    state.push("table_close", "table", -1)
    state.line = line
    return True


# --- setext headings (one line of text) and what ends a paragraph ---------------------------------------------

_SETEXT_UNDERLINE = re.compile(r"^(=+|-+)[ \t]*$")
_HEADER_ID = re.compile(r"[ \t]+\{#([A-Za-z][\w:-]*)\}[ \t]*$")
_LIST_START = re.compile(r"^ {0,3}(?:[+*-]|\d+\.)[ \t]")


def _setext_heading(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    if start + 1 >= end or state.sCount[start] - state.blkIndent >= 4:
        return False
    if not _at_block_boundary(state, start) or state.sCount[start + 1] != state.blkIndent:
        return False
    underline = _SETEXT_UNDERLINE.match(
        state.src[state.bMarks[start + 1] + state.tShift[start + 1] : state.eMarks[start + 1]]
    )
    if underline is None:
        return False
    text = state.src[state.bMarks[start] + state.tShift[start] : state.eMarks[start]].strip()
    if not text:
        return False
    if silent:
        return True
    level = 1 if underline[1][0] == "=" else 2
    tag = f"h{level}"
    state.push("heading_open", tag, 1).map = [start, start + 2]
    inline = state.push("inline", "", 0)
    inline.content = text
    inline.map = [start, start + 1]
    inline.children = []
    state.push("heading_close", tag, -1)
    state.line = start + 2
    return True


def _list_interrupts(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """kramdown's paragraph end: any list item start (``3.`` too) ends a paragraph. Only as a terminator."""
    if not silent or state.sCount[start] - state.blkIndent >= 4:
        return False
    text = state.src[state.bMarks[start] : state.eMarks[start]]
    return bool(_LIST_START.match(text[state.blkIndent :] if state.blkIndent else text))


# --- spans ----------------------------------------------------------------------------------------------------

_KRAMDOWN_ESCAPES = frozenset("\\.*_+`<>()[]{}#!:|\"'$=-~")
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_SPAN_IAL = re.compile(r"\{::(comment|nomarkdown)\}(.*?)\{:/(?:\1)?\}|\{::\w+[^}\n]*/\}|\{:(?!/)[^}\n]*\}", re.DOTALL)
_INLINE_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)


def _escape(state: StateInline, silent: bool) -> bool:
    """A backslash before punctuation kramdown does not escape stays as written (``\\/``, ``\\@``); two
    backslashes at the end of a line are a line break (kramdown's, besides GFM's one backslash)."""
    pos = state.pos
    if state.src[pos] != "\\" or pos + 1 >= state.posMax:
        return False
    char = state.src[pos + 1]
    if state.src.startswith("\\\\\n", pos):
        if not silent:
            state.push("hardbreak", "br", 0)
        state.pos += 3
        while state.pos < state.posMax and state.src[state.pos] in " \t":
            state.pos += 1
        return True
    if char not in _ASCII_PUNCTUATION or char in _KRAMDOWN_ESCAPES:
        return False
    if not silent:
        state.pending += "\\" + char
    state.pos += 2
    return True


def _emphasis(state: StateInline, silent: bool) -> bool:
    """``*`` and ``_`` runs as kramdown reads them: open unless followed by whitespace, close unless preceded
    by it; ``_`` neither inside a word nor closing before a letter or digit. Pairs are balanced as usual."""
    from markdown_it.rules_inline.state_inline import Delimiter

    start = state.pos
    marker = state.src[start]
    if silent or marker not in "_*":
        return False
    pos = start
    while pos < state.posMax and state.src[pos] == marker:
        pos += 1
    length = pos - start
    before = state.src[start - 1] if start > 0 else " "
    after = state.src[pos] if pos < state.posMax else " "
    can_open = not after.isspace()
    can_close = not before.isspace()
    if marker == "_":
        if before.isalnum() and after.isalnum():
            can_open = False
        if after.isalnum():
            can_close = False
    for _ in range(length):
        token = state.push("text", "", 0)
        token.content = marker
        state.delimiters.append(Delimiter(ord(marker), length, len(state.tokens) - 1, -1, can_open, can_close))
    state.pos = pos
    return True


def _span_ial(state: StateInline, silent: bool) -> bool:
    """A span IAL (``[x](y){: .btn}``): its attributes go to the element before it; it shows no text."""
    if not state.src.startswith("{:", state.pos):
        return False
    found = _SPAN_IAL.match(state.src, state.pos)
    if found is None:
        return False
    if not silent and found[1] == "nomarkdown":
        state.push("html_inline", "", 0).content = found[2]
    elif not silent and not found[0].startswith("{::"):
        # Emphasis is paired after tokenising: the element the IAL follows is known then (_span_attributes).
        token = state.push("kd_span_ial", "", 0)
        token.meta = {"attrs": _attributes(found[0][2:-1])[0], "after_text": bool(state.pending)}
    state.pos = found.end()
    return True


def _span_attributes(state: StateCore) -> None:
    """Each span IAL onto the element right before it (kramdown ignores one that follows plain text)."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        if not any(child.type == "kd_span_ial" for child in block.children):
            continue
        children: list[Token] = []
        for child in block.children:
            if child.type != "kd_span_ial":
                children.append(child)
                continue
            target = None if child.meta["after_text"] else _span_target(children)
            if target is not None:
                _apply(target, child.meta["attrs"], [])
        block.children = children


def _span_target(tokens: list[Token]) -> Token | None:
    if not tokens:
        return None
    last = tokens[-1]
    if last.nesting == 0:
        return last if last.type in ("image", "code_inline") else None
    depth = 0
    for token in reversed(tokens):
        depth += token.nesting
        if depth == 0:
            return token
    return None


def _inline_math(state: StateInline, silent: bool) -> bool:
    if not state.src.startswith("$$", state.pos):
        return False
    found = _INLINE_MATH.match(state.src, state.pos)
    if found is None:
        return False
    if not silent:
        token = state.push("math_inline_kd", "", 0)
        token.content = found[1].strip()
    state.pos = found.end()
    return True


_FOOTNOTE_MARKER = re.compile(r"\[\^(\w[\w-]*)\]", re.ASCII)


def _footnote_marker_text(state: StateInline, silent: bool) -> bool:
    """``[^name]`` with no definition is text, read as one piece (no emphasis starts inside it)."""
    if not state.src.startswith("[^", state.pos):
        return False
    found = _FOOTNOTE_MARKER.match(state.src, state.pos)
    if found is None:
        return False
    if not silent:
        state.pending += found[0]
    state.pos = found.end()
    return True


_LINK_URL_MAX = 2048
_PARENS = re.compile(r"\\.|[()]")


def _spaced_link(state: StateInline, silent: bool) -> bool:
    """``[text](url with spaces "title")`` and ``![alt](...)``: kramdown reads the URL up to the balancing
    parenthesis, spaces and all (CommonMark does not take a URL with spaces)."""
    from markdown_it.common.utils import unescapeAll

    image = state.src.startswith("![", state.pos)
    start = state.pos + (1 if image else 0)
    if state.src[start] != "[":
        return False
    label_end = state.md.helpers.parseLinkLabel(state, start, not image)
    if label_end < 0 or not state.src.startswith("(", label_end + 1):
        return False
    # The balancing parenthesis, within a bounded stretch (a post of many `[a](b c` stays linear).
    depth = 0
    pos = -1
    stop = min(state.posMax, label_end + 1 + _LINK_URL_MAX)
    for paren in _PARENS.finditer(state.src, label_end + 1, stop):
        if paren[0][0] == "\\":
            continue
        depth += 1 if paren[0] == "(" else -1
        if depth == 0:
            pos = paren.start()
            break
    if pos < 0:
        return False
    inside = state.src[label_end + 2 : pos].strip()
    titled = re.match(r"""^(.*?)\s+(?:"(.*)"|'(.*)')$""", inside, re.DOTALL)
    url, title = (titled[1], titled[2] if titled[2] is not None else titled[3]) if titled else (inside, None)
    if url.startswith("<") and url.endswith(">"):
        url = url[1:-1]
    if not re.search(r"\s", url):
        return False  # the usual link rule has its reasons not to take it
    if silent:
        state.pos = pos + 1
        return True
    href = state.md.normalizeLink(unescapeAll(url.strip()))
    label = state.src[start + 1 : label_end]
    if image:
        token = state.push("image", "img", 0)
        token.attrs = {"src": href, "alt": ""}
        token.children = []
        state.md.inline.parse(label, state.md, state.env, token.children)
        token.content = label
        if title is not None:
            token.attrSet("title", title)
    else:
        token = state.push("link_open", "a", 1)
        token.attrs = {"href": href}
        if title is not None:
            token.attrSet("title", title)
        old_pos, old_max = state.pos, state.posMax
        state.pos, state.posMax = start + 1, label_end
        state.linkLevel += 1
        state.md.inline.tokenize(state)
        state.linkLevel -= 1
        state.pos, state.posMax = old_pos, old_max
        state.push("link_close", "a", -1)
    state.pos = pos + 1
    return True


# kramdown's HTML_BLOCK_ELEMENTS: in running text their tags are text.
_BLOCK_ELEMENTS = frozenset(
    {
        *("address", "article", "aside", "applet", "body", "blockquote", "dd", "details", "div", "dl"),
        *("fieldset", "figure", "figcaption", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header"),
        *("hgroup", "hr", "html", "head", "iframe", "legend", "menu", "li", "main", "map", "nav", "ol"),
        *("optgroup", "p", "pre", "section", "summary", "table", "tbody", "td", "th", "thead", "tfoot", "tr"),
        "ul",
    }
)
_SPAN_TAG = re.compile(rf"</?([A-Za-z][A-Za-z0-9-]*)(?:{_ATTRIBUTE})*\s*/?>")


_DECLARATION = re.compile(r"<!(?!--)[^>]*>")


def _span_html(state: StateInline, silent: bool) -> bool:
    """A block element's tag inside running text is shown as text, as kramdown does (``宽度为960px的<DIV>``),
    and so are a declaration (``<!DOCTYPE html>``) and ``<<`` (a guillemet)."""
    if state.src[state.pos] != "<":
        return False
    if state.src.startswith("<<", state.pos):  # a guillemet (typography), not a tag: `<<is>>`
        if not silent:
            state.pending += "<<"
        state.pos += 2
        return True
    found = _SPAN_TAG.match(state.src, state.pos) or _DECLARATION.match(state.src, state.pos)
    if found is None or (found.re is _SPAN_TAG and found[1].lower() not in _BLOCK_ELEMENTS):
        return False
    if not silent:
        state.pending += found[0]
    state.pos = found.end()
    return True


_TAG_NAME = re.compile(r"^<(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*?(/?)>$")


def _close_span_html(state: StateCore) -> None:
    """kramdown closes a span element left open at the end of its paragraph, and shows a closing tag that
    closes nothing as text."""
    from markdown_it.token import Token

    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        if not any(child.type == "html_inline" for child in block.children):
            continue
        children: list[Token] = []
        open_tags: list[str] = []
        for child in block.children:
            tag = _TAG_NAME.match(child.content) if child.type == "html_inline" else None
            if tag is None or tag[3] or tag[2].lower() in _VOID_ELEMENTS:
                children.append(child)
                continue
            name = tag[2].lower()
            if not tag[1]:
                open_tags.append(name)
            elif name in open_tags:
                while open_tags and open_tags.pop() != name:
                    pass
            else:
                text = Token("text", "", 0)
                text.content = child.content
                child = text
            children.append(child)
        for name in reversed(open_tags):
            close = Token("html_inline", "", 0)
            close.content = f"</{name}>"
            children.append(close)
        block.children = children


# --- core: typography, abbreviations, heading ids, attribute lists, tables of contents ------------------------

# What kramdown's quote rules see after a text run, per element that follows it (its opening markup and a
# word character, as in `[link`).
_LOOKAHEAD = {
    "em_open": "*x",
    "strong_open": "**x",
    "link_open": "[x",
    "code_inline": "`x",
    "image": "![x",
    "footnote_ref": "[^x",
    "s_open": "~~x",
}


def _typography(state: StateCore) -> None:
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        run: list[Token] = []
        for token in [*block.children, None]:
            if token is not None and token.type in ("text", "softbreak"):
                run.append(token)
                continue
            if run:
                after = "" if token is None else _LOOKAHEAD.get(token.type, token.markup or token.content)
                children.extend(_typeset(run, after))
                run = []
            if token is not None:
                children.append(token)
        block.children = children


def _typeset(run: list[Token], after: str) -> list[Token]:
    from markdown_it.token import Token

    text = "".join("\n" if token.type == "softbreak" else token.content for token in run)
    typeset = smart_typography(text, after)
    if typeset == text and len(run) == 1:
        return run
    tokens: list[Token] = []
    for index, part in enumerate(typeset.split("\n")):
        if index:
            tokens.append(Token("softbreak", "br", 0))
        if part:
            token = Token("text", "", 0)
            token.content = part
            tokens.append(token)
    return tokens


def _abbreviations(state: StateCore) -> None:
    from markdown_it.token import Token

    definitions: dict[str, str] = state.env.get("abbreviations", {})
    if not definitions:
        return
    pattern = re.compile(
        r"(?<!\w)(" + "|".join(re.escape(k) for k in sorted(definitions, key=len, reverse=True)) + r")(?!\w)"
    )
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        for token in block.children:
            if token.type != "text" or not pattern.search(token.content):
                children.append(token)
                continue
            for index, part in enumerate(pattern.split(token.content)):
                if index % 2:
                    title = definitions[part]
                    tag = Token("html_inline", "", 0)
                    tag.content = f'<abbr title="{html.escape(title)}">' if title else "<abbr>"
                    children.append(tag)
                    text = Token("text", "", 0)
                    text.content = part
                    children.append(text)
                    close = Token("html_inline", "", 0)
                    close.content = "</abbr>"
                    children.append(close)
                elif part:
                    text = Token("text", "", 0)
                    text.content = part
                    children.append(text)
        block.children = children


def _block_attributes(state: StateCore) -> None:
    """Each block IAL onto the block just before it (no blank line between) or else the block after it."""
    tokens = state.tokens
    kept: list[Token] = []
    pending: list[Token] = []
    for token in tokens:
        if token.type == "kd_ial":
            meta = token.meta
            target = _previous_block(kept, token.level) if meta["after"] else None
            if target is not None:
                _apply(target, meta["attrs"], meta["refs"])
            else:
                pending.append(token)
            continue
        if pending and token.nesting >= 0 and token.block and token.type != "inline":
            for ial in pending:
                _apply(token, ial.meta["attrs"], ial.meta["refs"])
            pending = []
        kept.append(token)
    state.tokens = kept


def _previous_block(tokens: list[Token], level: int) -> Token | None:
    if not tokens:
        return None
    last = tokens[-1]
    if last.nesting == 0:
        return last if last.block and last.type != "inline" and last.level == level else None
    if last.nesting == -1 and last.level == level:
        depth = 0
        for token in reversed(tokens):
            depth += token.nesting
            if depth == 0:
                return token
    return None


def _raw_text(children: Sequence[Token]) -> str:
    """kramdown's raw text of a heading: its text, code spans and math, no markup."""
    return "".join(
        token.content for token in children if token.type in ("text", "code_inline", "text_special", "math_inline_kd")
    )


def _heading_ids(state: StateCore) -> None:
    seen: dict[str, int] = {}
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline = tokens[index + 1]
        children = inline.children or []
        if children and children[-1].type == "text":
            explicit = _HEADER_ID.search(children[-1].content)
            if explicit:
                children[-1].content = children[-1].content[: explicit.start()]
                token.attrSet("id", explicit[1])
        if token.attrGet("id") is None:
            generated = gfm_header_id(_raw_text(children), seen)
            if generated:  # kramdown writes no empty id (`### ;;` has none)
                token.attrSet("id", generated)


def _table_of_contents(state: StateCore) -> None:
    tokens = state.tokens
    if not any(token.meta and token.meta.get("toc") for token in tokens if token.nesting == 1):
        return
    from markdown_it.token import Token

    renderer = state.md.renderer
    entries: list[tuple[int, str, str]] = []
    for index, token in enumerate(tokens):
        if token.type != "heading_open" or "no_toc" in str(token.attrGet("class") or "").split():
            continue
        if not token.attrGet("id"):
            continue
        children = [
            child
            for child in tokens[index + 1].children or []
            if child.type not in ("link_open", "link_close", "footnote_ref")
        ]
        text = renderer.renderInline(children, state.md.options, state.env)  # type: ignore[attr-defined]
        entries.append((int(token.tag[1]), str(token.attrGet("id")), str(text)))
    result: list[Token] = []
    skip_to = -1
    for index, token in enumerate(tokens):
        if index <= skip_to:
            continue
        if token.nesting == 1 and token.meta and token.meta.get("toc"):
            depth = 0
            for end in range(index, len(tokens)):
                depth += tokens[end].nesting
                if depth == 0:
                    break
            skip_to = end
            toc = Token("html_block", "", 0)
            toc.content = _toc_html(entries, token.tag, str(token.attrGet("id") or "markdown-toc"))
            result.append(toc)
            continue
        result.append(token)
    state.tokens = result


def _toc_html(entries: list[tuple[int, str, str]], tag: str, list_id: str) -> str:
    """kramdown's toc: an entry nests under the entry before it when its heading is of a deeper level."""
    if not entries:
        return ""
    Node = tuple[str, str, list[Any]]
    root: list[Node] = []
    stack: list[tuple[int, Node]] = []
    for level, anchor, text in entries:
        node: Node = (anchor, text, [])
        while stack and stack[-1][0] >= level:
            stack.pop()
        (stack[-1][1][2] if stack else root).append(node)
        stack.append((level, node))

    def items(nodes: list[Node], indent: str) -> str:
        out = []
        for anchor, text, children in nodes:
            link = f'<a href="#{html.escape(anchor)}" id="markdown-toc-{html.escape(anchor)}">{text}</a>'
            nested = (
                f"\n{indent}  <{tag}>\n{items(children, indent + '    ')}{indent}  </{tag}>\n{indent}"
                if children
                else ""
            )
            out.append(f"{indent}<li>{link}{nested}</li>\n")
        return "".join(out)

    return f'<{tag} id="{html.escape(list_id)}">\n{items(root, "  ")}</{tag}>\n'


# --- rendering in kramdown's shapes ---------------------------------------------------------------------------

Render = Callable[..., str]


def _render_fence(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    language = (token.info or "").strip().split(maxsplit=1)[0] if token.info.strip() else ""
    language = language.split("?", 1)[0]
    code = html.escape(token.content, quote=False)
    kind = f"language-{html.escape(language)}" if language else "language-plaintext"
    return (
        f'<div class="{kind} highlighter-rouge"><div class="highlight"><pre class="highlight"><code>{code}'
        "</code></pre></div></div>\n"
    )


def _render_code_block(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return f"<pre><code>{html.escape(tokens[idx].content, quote=False)}</code></pre>\n"


def _render_code_inline(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return f'<code class="language-plaintext highlighter-rouge">{html.escape(tokens[idx].content, quote=False)}</code>'


def _render_math_block(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return f"\\[{html.escape(tokens[idx].content, quote=False)}\\]\n"


def _render_math_inline(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return f"\\({html.escape(tokens[idx].content, quote=False)}\\)"


def _render_ordered_list(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """kramdown numbers every ordered list from 1, whatever its first item's number."""
    token = tokens[idx]
    if token.attrGet("start") is not None:
        token.attrs.pop("start")
    return str(self.renderToken(tokens, idx, options, env))


def _render_del(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return "<del>" if tokens[idx].nesting == 1 else "</del>"


def _render_nothing(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return ""


def _footnote_name(token: Token) -> str:
    return html.escape(str(token.meta.get("label") or token.meta["id"] + 1))


def _render_footnote_ref(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    name = _footnote_name(token)
    ref_id = f"fnref:{name}" + (f":{token.meta['subId']}" if token.meta.get("subId", 0) > 0 else "")
    number = token.meta["id"] + 1
    return (
        f'<sup id="{ref_id}"><a href="#fn:{name}" class="footnote" rel="footnote" role="doc-noteref">{number}</a></sup>'
    )


def _render_footnote_block_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return '<div class="footnotes" role="doc-endnotes">\n  <ol>\n'


def _render_footnote_block_close(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return "  </ol>\n</div>\n"


def _render_footnote_open(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return f'    <li id="fn:{_footnote_name(tokens[idx])}">\n'


def _render_footnote_close(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    return "    </li>\n"


def _render_footnote_anchor(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    name = _footnote_name(token)
    sub = token.meta.get("subId", 0)
    if sub == 0:
        return f'&nbsp;<a href="#fnref:{name}" class="reversefootnote" role="doc-backlink">&#8617;</a>'
    return f' <a href="#fnref:{name}:{sub}" class="reversefootnote" role="doc-backlink">&#8617;<sup>{sub + 1}</sup></a>'


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.deflist import deflist_plugin
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.tasklists import tasklists_plugin

    md = MarkdownIt("commonmark", {"html": True, "typographer": False})
    # kramdown keeps every link target as written (file:, javascript:...): the feed's sanitiser judges them.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    md.enable(["strikethrough"])
    md.use(footnote_plugin, inline=False).use(deflist_plugin).use(tasklists_plugin)

    block = md.block.ruler
    # What ends a paragraph in kramdown (GFM, paragraph_end quirk): not a thematic break, a table or a
    # setext underline; lists, ATX headings, quotes, fences, definition lists, IALs and HTML blocks do.
    block.at("hr", block.__rules__[block.__find__("hr")].fn, {"alt": ["reference", "blockquote", "list"]})
    block.disable(["lheading"])
    block.at("fence", _fence, {"alt": ["paragraph", "reference", "blockquote", "list"]})
    # In kramdown's order: setext headings and math before HTML blocks, tables after lists and definitions.
    block.before("code", "kd_ial", _block_ial, {"alt": ["paragraph", "reference", "blockquote", "list"]})
    block.before("html_block", "kd_setext", _setext_heading)
    block.before("html_block", "kd_math", _math_block)
    block.before("html_block", "kd_html", _html_block, {"alt": ["paragraph", "reference", "blockquote"]})
    html_block = block.__rules__[block.__find__("html_block")]
    block.at("html_block", _not_declaration(html_block.fn), {"alt": html_block.alt})
    heading = block.__rules__[block.__find__("heading")]
    block.at("heading", _flush_left(heading.fn), {"alt": heading.alt})
    lists = block.__rules__[block.__find__("list")]
    block.at("list", _dot_lists_only(lists.fn), {"alt": lists.alt})
    block.before("paragraph", "kd_table", _table)
    block.before("paragraph", "kd_list_start", _list_interrupts, {"alt": ["paragraph"]})

    inline = md.inline.ruler
    inline.before("escape", "kd_escape", _escape)
    inline.at("emphasis", _emphasis)
    inline.before("emphasis", "kd_math_inline", _inline_math)
    inline.before("text", "kd_span_ial", _span_ial)
    inline.after("footnote_ref", "kd_footnote_text", _footnote_marker_text)
    inline.after("kd_footnote_text", "kd_link", _spaced_link)
    inline.before("html_inline", "kd_span_html", _span_html)

    core = md.core.ruler
    core.after("inline", "kd_typography", _typography)
    core.after("kd_typography", "kd_abbreviations", _abbreviations)
    core.after("kd_abbreviations", "kd_span_html_close", _close_span_html)
    core.after("kd_span_html_close", "kd_span_attributes", _span_attributes)
    core.push("kd_block_attributes", _block_attributes)
    core.push("kd_heading_ids", _heading_ids)
    core.push("kd_toc", _table_of_contents)

    renderers: dict[str, Render] = {
        "fence": _render_fence,
        "code_block": _render_code_block,
        "code_inline": _render_code_inline,
        "math_block_kd": _render_math_block,
        "math_inline_kd": _render_math_inline,
        "kd_ial": _render_nothing,
        "kd_span_ial": _render_nothing,
        "ordered_list_open": _render_ordered_list,
        "s_open": _render_del,
        "s_close": _render_del,
        "footnote_ref": _render_footnote_ref,
        "footnote_block_open": _render_footnote_block_open,
        "footnote_block_close": _render_footnote_block_close,
        "footnote_open": _render_footnote_open,
        "footnote_close": _render_footnote_close,
        "footnote_anchor": _render_footnote_anchor,
    }
    for name, function in renderers.items():
        md.add_render_rule(name, function)
    return md
