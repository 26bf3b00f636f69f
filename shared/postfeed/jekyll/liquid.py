"""Liquid as Jekyll runs it on GitHub Pages (safe mode, no custom plugins), on python-liquid 2.x.

`render_liquid` runs a post's body (or excerpt) before Markdown, as Jekyll does, with the objects Jekyll gives a
post's render: `site` (the config's keys, `site.data`, `site.posts`, `site.categories`, `site.tags`, `site.time`),
`page` (front matter and the derived fields) and `post` in includes; Jekyll's filters (filters.rb,
url_filters.rb, date_filters.rb) and tags (`include` with parameters, `include_relative`, `post_url`, `link`,
`highlight` with `linenos`, `raw`, `comment`). Liquid 4's tag set: `render`, `echo` and `liquid` do not exist
there, so they are unknown tags here too.

What the site holds besides the post comes from a `RenderEnvironment` (`jekyll.render_environment`: includes by
name, files beside the post, `_data/`, the raw `_config.yml`, the other posts), injected by the caller: pure, no
I/O. Each render reports what it read (`RenderReads`, noted in its `jekyll.liquid_state.RenderState`), so that the
pipeline can re-render a post when one of those changes. The tags are in `jekyll.liquid_tags`, the filters here.

What Jekyll fails the build on (Liquid syntax error, unknown tag, missing include, `post_url`/`link` to no post,
an error while rendering) raises `PostError` with a stable code and the file line. Hostile templates hit limits
(loop iterations, output size, local namespace size, include depth) and raise `liquid_limit`.

python-liquid is imported on the first render only: a body without `{%` or `{{` never reaches this module's
engine (see `has_liquid`).
"""

from __future__ import annotations

import html
import json
import random
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from io import StringIO
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from postfeed.models import RenderReads, Site

from . import converters, errors
from .errors import PostError
from .liquid_state import STATE_KEY, RenderState, render_state, tag_error
from .permalinks import slugify as jekyll_slugify
from .render_environment import NO_SITE_FILES, OtherPost, RenderEnvironment

if TYPE_CHECKING:
    from liquid import Environment
    from liquid.context import RenderContext

__all__ = (
    "LiquidFailure",
    "LiquidPage",
    "close_open_blocks",
    "has_liquid",
    "render_liquid",
    "ruby_time",
)

# Limits on one render (a post's body, its includes and filters). Real posts stay far below them: the largest
# site loops over its posts times their tags; the output of a post is under the post size cap many times over.
LOOP_ITERATION_LIMIT = 1_000_000  # iterations of nested loops (their product), and in all loops of one render
OUTPUT_LIMIT = 8 * 1024 * 1024  # characters written by one render (a capture counts too)
LOCAL_NAMESPACE_LIMIT = 8 * 1024 * 1024  # bytes held by assigned and captured variables
INCLUDE_DEPTH_LIMIT = 30  # nested includes (and other scopes): an include that includes itself stops here
MAX_MARKUP = 20_000  # tags and outputs in one post's text
MAX_PARENTHESES = 200  # parentheses in one tag or output

_MARKERS = ("{%", "{{")


def has_liquid(text: str) -> bool:
    """True when the text holds a Liquid tag or output: only then does the engine run."""
    return any(marker in text for marker in _MARKERS)


@dataclass(frozen=True)
class LiquidPage:
    """What a post's render needs besides its text: the site, `page`, the environment, the build time, and the
    file line of the body's first line (for error lines)."""

    site: Site = field(default_factory=Site)
    page: Mapping[str, object] = field(default_factory=dict)
    env: RenderEnvironment = NO_SITE_FILES
    now: datetime | None = None
    first_line: int = 1


class LiquidFailure(PostError):
    """A render Jekyll would fail the build on, with what it had read until then."""

    def __init__(self, code: str, message: str, line: int | None, reads: RenderReads) -> None:
        super().__init__(code, message, line)
        self.reads = reads


# --- errors ----------------------------------------------------------------------------------------


def _as_post_error(path: str, text: str, exc: Exception, first_line: int, reads: RenderReads) -> LiquidFailure:
    from liquid.exceptions import (
        BlockNestingError,
        ContextDepthError,
        LiquidSyntaxError,
        LocalNamespaceLimitError,
        LoopIterationLimitError,
        OutputStreamLimitError,
    )

    line: int | None = None
    token = getattr(exc, "token", None)
    if token is not None and getattr(token, "start_index", -1) >= 0 and token.source:
        line = token.source.count("\n", 0, token.start_index) + first_line
    code = getattr(exc, "postfeed_code", None)
    message = exc.args[0] if exc.args else str(exc)
    if code is None:
        limits = LoopIterationLimitError | OutputStreamLimitError | LocalNamespaceLimitError | BlockNestingError
        if isinstance(exc, limits):
            code = errors.LIQUID_LIMIT
        elif isinstance(exc, ContextDepthError):
            code, message = errors.LIQUID_LIMIT, f"includes nest deeper than {INCLUDE_DEPTH_LIMIT} (recursive include?)"
        elif isinstance(exc, LiquidSyntaxError):
            code = errors.LIQUID_UNKNOWN_TAG if str(message).startswith("unexpected tag") else errors.LIQUID_SYNTAX
        else:
            code = errors.LIQUID_ERROR
    where = getattr(exc, "postfeed_include", None)
    if line is None and where is None and code == errors.LIQUID_SYNTAX and (unclosed := _open_blocks(text)):
        name, start = unclosed[-1]
        line = text.count("\n", 0, start) + first_line
        message = f"{{% {name} %}} is never closed ({message})"
    inside = f" (in _includes/{where})" if where else ""
    at = f" on line {line}" if line else ""
    return LiquidFailure(code, f"{path}: Liquid{at}{inside}: {message}", line, reads)


# --- values as Jekyll shows them ------------------------------------------------------------------


class RubyTime(datetime):
    """A datetime that prints as Ruby's Time#to_s (`2020-01-02 03:04:05 +0000`)."""

    def __str__(self) -> str:
        return self.strftime("%Y-%m-%d %H:%M:%S %z") if self.tzinfo else self.strftime("%Y-%m-%d %H:%M:%S")


def ruby_time(moment: datetime) -> RubyTime:
    return RubyTime(
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
        tzinfo=moment.tzinfo,
    )


class _Recorded(Mapping[str, object]):
    """A read-only mapping that notes each key looked up (site.*, site.data.*), one that is absent too: a
    config key or data file added later changes what the post shows."""

    __slots__ = ("_computed", "_note", "_values")

    def __init__(
        self, values: Mapping[str, object], note: Callable[[str], None], computed: frozenset[str] = frozenset()
    ) -> None:
        self._values = values
        self._note = note
        self._computed = computed  # keys not read from a file (site.posts, site.time...): not noted

    def __getitem__(self, key: str) -> object:
        if key not in self._computed:
            self._note(key)
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        for key in self._values:
            if key not in self._computed:
                self._note(key)
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __str__(self) -> str:
        return _inspect(dict(self._values))


class _Lazy(Mapping[str, object]):
    """A mapping whose values are computed on first use (site.posts is built only when a post reads it)."""

    __slots__ = ("_factories", "_values")

    def __init__(self, values: dict[str, object], factories: Mapping[str, Callable[[], object]]) -> None:
        self._values = values
        self._factories = factories

    def __getitem__(self, key: str) -> object:
        if key not in self._values and key in self._factories:
            self._values[key] = self._factories[key]()
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter({**dict.fromkeys(self._values), **dict.fromkeys(self._factories)})

    def __len__(self) -> int:
        return len(set(self._values) | set(self._factories))

    def __str__(self) -> str:
        return _inspect(dict(self._values))


def _post_drop(post: OtherPost) -> dict[str, object]:
    values: dict[str, object] = dict(post.data)
    values.update(
        path=post.path,
        relative_path=post.path,
        url=post.url,
        date=ruby_time(post.date),
        title=post.title,
        slug=post.slug,
        id=post.id,
        categories=list(post.categories),
        tags=list(post.tags),
        collection=post.collection,
        excerpt=post.excerpt,
    )
    return values


def _site_object(state: RenderState) -> Mapping[str, object]:
    site = state.site
    config = {**site.config, **state.env.config()}
    for key, value in (("url", site.url), ("baseurl", site.baseurl)):
        config[key] = value  # the settings in force (a deployment may override the file's)
    config.setdefault("title", site.title)
    config.setdefault("description", site.description)
    if site.timezone:
        config.setdefault("timezone", site.timezone)

    def posts() -> list[dict[str, object]]:
        state.all_posts = True
        ordered = sorted((p for p in state.posts() if p.collection == "posts"), key=lambda p: p.date, reverse=True)
        return [_post_drop(p) for p in ordered]

    def grouped(attribute: str) -> Callable[[], dict[str, list[dict[str, object]]]]:
        def build() -> dict[str, list[dict[str, object]]]:
            groups: dict[str, list[dict[str, object]]] = {}
            for post in posts():
                for name in post[attribute]:  # type: ignore[attr-defined]
                    groups.setdefault(str(name), []).append(post)
            return groups

        return build

    def data() -> Mapping[str, object]:
        values = state.env.data()
        return _Recorded(values, state.data.add)

    computed: dict[str, Callable[[], object]] = {
        "posts": posts,
        "categories": grouped("categories"),
        "tags": grouped("tags"),
        "data": data,
    }
    values: dict[str, object] = {
        **config,
        "time": ruby_time(site.time or state.now),
        "pages": [],
        "html_pages": [],
        "static_files": [],
        "html_files": [],
        "documents": [],
        "related_posts": [],
        "collections": [],
    }
    derived = frozenset(values) - frozenset(config)
    return _Recorded(_Lazy(values, computed), state.config.add, derived | frozenset(computed))


# --- the engine ------------------------------------------------------------------------------------


# GitHub Pages' whitelisted plugins that add Liquid tags a post may use once the site lists them (`plugins:`, or
# the older `gems:`). jekyll-gist is on by default there, so `{% gist %}` is always known.
PLUGIN_TAGS = {"jekyll-include-cache": ("include_cached",)}


def _plugins(site: Site) -> frozenset[str]:
    named: set[str] = set()
    for key in ("plugins", "gems"):
        value = site.config.get(key)
        if isinstance(value, list):
            named.update(str(item) for item in value)
    return frozenset(named & set(PLUGIN_TAGS))


@lru_cache(maxsize=8)
def _environment(plugins: frozenset[str] = frozenset()) -> Environment:
    from liquid import Environment, Mode

    class JekyllEnvironment(Environment):
        loop_iteration_limit = LOOP_ITERATION_LIMIT
        output_stream_limit = OUTPUT_LIMIT
        local_namespace_limit = LOCAL_NAMESPACE_LIMIT
        context_depth_limit = INCLUDE_DEPTH_LIMIT

    # Jekyll's defaults: strict_filters false (an unknown filter leaves its input), strict_variables false.
    env = JekyllEnvironment(tolerance=Mode.STRICT, strict_filters=False)
    env.template_class = _template_class()
    for name in ("render", "echo", "liquid", "#", "doc"):  # not in Liquid 4, so unknown to Jekyll
        env.tags.pop(name, None)
    from . import liquid_tags

    liquid_tags.register(env, {tag for plugin in plugins for tag in PLUGIN_TAGS[plugin]})
    for name, function in _filters().items():
        env.add_filter(name, function)
    return env


def _template_class() -> Any:
    from liquid.context import RenderContext
    from liquid.exceptions import LoopIterationLimitError
    from liquid.template import BoundTemplate

    class CountingContext(RenderContext):
        """Counts every loop's iterations in the whole render, besides the nested loops' product."""

        def raise_for_loop_limit(self, length: int = 1) -> None:
            super().raise_for_loop_limit(length)
            state = self.globals.get(STATE_KEY)
            if isinstance(state, RenderState):
                state.iterations += length
                if state.iterations > LOOP_ITERATION_LIMIT:
                    raise LoopIterationLimitError("loop iteration limit reached", token=None)

    class Template(BoundTemplate):
        context_class = CountingContext

    return Template


def render_liquid(path: str, text: str, page: LiquidPage | None = None) -> tuple[str, RenderReads, tuple[str, ...]]:
    """Run the Liquid in `text` (a post's body or excerpt) as Jekyll does; the output, what it read, warnings.

    `page.page` holds the front matter and Jekyll's derived fields (url, date, id, ...). Raises LiquidFailure
    (a PostError with the file line, counting from `page.first_line`) where Jekyll would fail the build."""
    from liquid.exceptions import LiquidError

    page = page or LiquidPage()
    state = RenderState(path=path, site=page.site, env=page.env, now=page.now or datetime.now(UTC))
    problem = _markup_problem(text)
    if problem is not None:
        code, what, start = problem
        line = text.count("\n", 0, start) + page.first_line
        raise LiquidFailure(code, f"{path}: Liquid on line {line}: {what}", line, state.reads())
    try:
        template = _environment(_plugins(page.site)).from_string(text, name=path)
        output = template.render({STATE_KEY: state, "site": _site_object(state), "page": dict(page.page)})
    except LiquidError as exc:
        raise _as_post_error(path, text, exc, page.first_line, state.reads()) from None
    except RecursionError:
        message = f"{path}: Liquid nests too deeply to render"
        raise LiquidFailure(errors.LIQUID_LIMIT, message, None, state.reads()) from None
    warnings: tuple[str, ...] = ()
    if state.warnings:
        warnings = (
            f"{path}: the site's files are not known here, so these rendered empty: {', '.join(state.warnings)}",
        )
        # `[ref]: {% post_url x %}` lost its target: keep it a (dead) definition, not visible text.
        output = _EMPTY_DEFINITION.sub(r"\1 <>", output)
    return output, state.reads(), warnings


_EMPTY_DEFINITION = re.compile(r"^( {0,3}\[[^\]]+\]:)[ \t]*$", re.MULTILINE)


_OPEN_BLOCK = re.compile(r"{%-?\s*(\w+)")
_VERBATIM = re.compile(r"{%-?\s*(end)?(raw|doc)\s*-?%}")


_MARKUP = re.compile(r"{{(.*?)}}|{%(.*?)%}", re.DOTALL)


def _markup_problem(text: str) -> tuple[str, str, int] | None:
    """What makes python-liquid slow on a hostile post, found first in linear passes: the error code, the
    message and where. An output, tag or raw block never closed (Liquid 4 fails on each too; python-liquid's
    lexer would rescan the rest of the text from every such opening); more tags and outputs than
    MAX_MARKUP (each costs ~0.1 ms: 1.4 million in a 10 MiB post would take minutes); an expression with
    more than MAX_PARENTHESES parentheses (python-liquid parses them in quadratic time)."""
    unterminated = _unterminated(text)
    if unterminated is not None:
        return (errors.LIQUID_SYNTAX, *unterminated)
    if text.count("{{") + text.count("{%") > MAX_MARKUP:
        return errors.LIQUID_LIMIT, f"more than {MAX_MARKUP:,} Liquid tags and outputs", 0
    for found in _MARKUP.finditer(text):
        if found.group(0).count("(") > MAX_PARENTHESES:
            return errors.LIQUID_LIMIT, f"an expression with more than {MAX_PARENTHESES} parentheses", found.start()
    return None


def _unterminated(text: str) -> tuple[str, int] | None:
    """An output, tag or raw block never closed, and where."""
    opened = ""
    start = 0
    for found in _VERBATIM.finditer(text):
        if not opened and not found[1]:
            opened, start = found[2], found.start()
        elif opened and found[1] and found[2] == opened:
            opened = ""
    if opened:
        return f"{{% {opened} %}} is never closed", start
    last_output = text.rfind("{{")
    if last_output > text.rfind("}}"):
        return "'{{' is not closed by '}}'", last_output
    last_tag = text.rfind("{%")
    if last_tag > text.rfind("%}"):
        return "'{%' is not closed by '%}'", last_tag
    return None


_BLOCK_TAGS = frozenset({"if", "unless", "case", "for", "tablerow", "capture", "comment", "highlight", "raw"})


def _open_blocks(text: str) -> list[tuple[str, int]]:
    """Block tags the text opens and never closes, outermost first, with where each starts."""
    stack: list[tuple[str, int]] = []
    verbatim = ""  # inside raw or comment: tags there are text
    for found in _OPEN_BLOCK.finditer(text):
        name = found[1]
        if verbatim:
            if name == "end" + verbatim:
                verbatim = ""
                stack.pop()
            continue
        if name in _BLOCK_TAGS:
            stack.append((name, found.start()))
            verbatim = name if name in ("raw", "comment") else ""
        elif name.startswith("end") and stack and stack[-1][0] == name[3:]:
            stack.pop()
    return stack


def close_open_blocks(excerpt: str) -> str:
    """Jekyll's Excerpt: block tags the excerpt opens but the cut leaves unclosed get their end tags."""
    if not has_liquid(excerpt):
        return excerpt
    return excerpt + "".join(f"\n{{% end{name} %}}" for name, _ in reversed(_open_blocks(excerpt)))


# --- filters ---------------------------------------------------------------------------------------


def _filters() -> dict[str, Callable[..., Any]]:
    from liquid.filter import with_context

    def relative_url(value: object, *, context: RenderContext) -> object:
        return _relative_url(render_state(context), value)

    def absolute_url(value: object, *, context: RenderContext) -> object:
        state = render_state(context)
        if value is None:
            return None
        text = _url_of(value)
        if _is_absolute(text):
            return text
        state.config.add("url")
        relative = _relative_url(state, text)
        if not state.site.url:
            return relative
        return _normalize_url(state.site.url + str(relative))

    def markdownify(value: object) -> str:
        return converters.markdownify(_to_s(value))

    def where_exp(value: object, variable: str, expression: str, *, context: RenderContext) -> object:
        items = _items(value)
        if items is None:
            return value
        return [item for item in items if _condition(context, variable, expression, item)]

    def find_exp(value: object, variable: str, expression: str, *, context: RenderContext) -> object:
        items = _items(value)
        if items is None:
            return value
        return next((item for item in items if _condition(context, variable, expression, item)), None)

    def group_by_exp(value: object, variable: str, expression: str, *, context: RenderContext) -> object:
        items = _items(value)
        if items is None:
            return value
        groups: dict[str, list[object]] = {}
        for item in items:
            groups.setdefault(_evaluate(context, variable, expression, item), []).append(item)
        return [{"name": name, "items": members, "size": len(members)} for name, members in groups.items()]

    return {
        "relative_url": with_context(relative_url),
        "absolute_url": with_context(absolute_url),
        "strip_index": strip_index,
        "date_to_xmlschema": date_to_xmlschema,
        "date_to_rfc822": date_to_rfc822,
        "date_to_string": date_to_string,
        "date_to_long_string": date_to_long_string,
        "xml_escape": xml_escape,
        "cgi_escape": cgi_escape,
        "uri_escape": uri_escape,
        "markdownify": markdownify,
        "smartify": smartify,
        "sassify": _to_s,
        "scssify": _to_s,
        "slugify": slugify,
        "jsonify": jsonify,
        "where": where,
        "where_exp": with_context(where_exp),
        "find": find,
        "find_exp": with_context(find_exp),
        "group_by": group_by,
        "group_by_exp": with_context(group_by_exp),
        "sort": sort,
        "number_of_words": number_of_words,
        "array_to_sentence_string": array_to_sentence_string,
        "normalize_whitespace": normalize_whitespace,
        "to_integer": to_integer,
        "inspect": inspect,
        "sample": sample,
        "pop": pop,
        "push": push,
        "shift": shift,
        "unshift": unshift,
    }


def _to_s(value: object) -> str:
    """Ruby's to_s as Liquid shows it: nil is empty, true/false in lower case."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return str(value)


def _url_of(value: object) -> str:
    if isinstance(value, Mapping) and "url" in value:
        return _to_s(value["url"])
    return _to_s(value)


def _is_absolute(url: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url) is not None


_URL_SAFE = "!$&'()*+,;=:@/?#[]%~-._"


def _normalize_url(url: str) -> str:
    """Addressable's normalize as far as a reader sees it: characters a URL cannot hold are percent-encoded."""
    return quote(url, safe=_URL_SAFE)


def _relative_url(state: RenderState, value: object) -> object:
    if value is None:
        return None
    text = _url_of(value)
    if _is_absolute(text):
        return text
    state.config.add("baseurl")
    parts = (state.site.baseurl.removesuffix("/"), text)
    return _normalize_url("".join(part if not part or part.startswith("/") else "/" + part for part in parts))


def strip_index(value: object) -> object:
    if not isinstance(value, str) or not value:
        return value
    return re.sub(r"/index\.html?$", "/", value)


def _time(value: object) -> datetime | None:
    """Jekyll's `time(input)`: a date, a time, or a string Ruby's Time.parse reads (else an error)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        from .dates import parse_date

        try:
            return parse_date(value, UTC, what="date")
        except PostError as exc:
            raise tag_error(errors.LIQUID_ERROR, f"invalid date {value!r}") from exc
    return None


def _date_filter(render: Callable[[datetime], str]) -> Callable[..., object]:
    def apply(value: object, *_args: object) -> object:
        if value is None or value == "":
            return value
        moment = _time(value)
        return value if moment is None else render(moment)

    return apply


def _xmlschema(moment: datetime) -> str:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    offset = moment.strftime("%z")
    return text + (offset[:3] + ":" + offset[3:] if offset else "+00:00")


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _stringify_date(moment: datetime, month: str, kind: object, style: object) -> str:
    if kind == "ordinal":
        if style == "US":
            return f"{moment.strftime(month)} {_ordinal(moment.day)}, {moment.year}"
        return f"{_ordinal(moment.day)} {moment.strftime(month)} {moment.year}"
    return moment.strftime(f"%d {month} %Y")


def date_to_xmlschema(value: object) -> object:
    return _date_filter(_xmlschema)(value)


def date_to_rfc822(value: object) -> object:
    return _date_filter(lambda moment: moment.strftime("%a, %d %b %Y %H:%M:%S ") + (moment.strftime("%z") or "+0000"))(
        value
    )


def date_to_string(value: object, kind: object = None, style: object = None) -> object:
    return _date_filter(lambda moment: _stringify_date(moment, "%b", kind, style))(value)


def date_to_long_string(value: object, kind: object = None, style: object = None) -> object:
    return _date_filter(lambda moment: _stringify_date(moment, "%B", kind, style))(value)


def xml_escape(value: object) -> str:
    """CGI.escapeHTML: & < > " and ' as entities; nil is empty."""
    return html.escape(_to_s(value), quote=True).replace("&#x27;", "&#39;")


def cgi_escape(value: object) -> str:
    """CGI.escape: form encoding (space as +)."""
    return quote_plus(_to_s(value), safe="*")


def uri_escape(value: object) -> str:
    """Addressable's normalize_component: characters a URI cannot hold, percent-encoded; reserved kept."""
    return quote(_to_s(value), safe="!#$&'()*+,/:;=?@[]~%")


def smartify(value: object) -> str:
    return converters.smartify(_to_s(value))


def slugify(value: object, mode: object = None) -> object:
    """Utils.slugify in every mode: raw, default, pretty, ascii, latin; another mode only downcases."""
    if value is None:
        return None
    text = _to_s(value)
    chosen = "default" if mode is None else _to_s(mode)
    if chosen not in ("raw", "default", "pretty", "ascii", "latin"):
        return text.lower()
    if chosen == "latin":
        text = "".join(
            "?" if ord(ch) > 127 else ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
        )
        chosen = "default"
    return jekyll_slugify(text, chosen)


def _json_ready(value: object, depth: int = 0) -> object:
    if depth > 100:
        raise tag_error(errors.LIQUID_LIMIT, "jsonify: the value nests too deeply")
    if isinstance(value, Mapping):
        return {_to_s(k): _json_ready(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v, depth + 1) for v in value]
    if isinstance(value, datetime | date):
        return str(ruby_time(value) if isinstance(value, datetime) else value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return _to_s(value)


def jsonify(value: object) -> str:
    return json.dumps(_json_ready(value), ensure_ascii=False, separators=(",", ":"))


def _items(value: object) -> list[object] | None:
    """Jekyll's filters take a hash's values, an array as is; anything else is returned unchanged."""
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, list | tuple):
        return list(value)
    return None


def _property(item: object, name: object) -> object:
    """Jekyll's item_property: a hash's key (or a drop's), nested with dots."""
    for part in _to_s(name).split("."):
        if isinstance(item, Mapping):
            item = item.get(part)
        else:
            return None
    return item


def where(value: object, name: object, target: object) -> object:
    items = _items(value)
    if items is None or name is None or _to_s(name) == "":
        return value
    wanted = _to_s(target)
    found = []
    for item in items:
        got = _property(item, name)
        values = got if isinstance(got, list | tuple) else [got]
        if wanted in (_to_s(v) for v in values) or (target in ("", None) and got in ("", None)):
            found.append(item)
    return found


def find(value: object, name: object, target: object) -> object:
    found = where(value, name, target)
    return found[0] if isinstance(found, list) and found else None


def group_by(value: object, name: object) -> object:
    items = _items(value)
    if items is None:
        return value
    groups: dict[str, list[object]] = {}
    for item in items:
        groups.setdefault(_to_s(_property(item, name)), []).append(item)
    return [{"name": key, "items": members, "size": len(members)} for key, members in groups.items()]


def _sort_key(value: object) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (1, str(value))
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, datetime):
        return (2, value.timestamp())
    return (1, _to_s(value))


def sort(value: object, name: object = None, nils: object = "first") -> object:
    if value is None:
        raise tag_error(errors.LIQUID_ERROR, "cannot sort a null object")
    items = _items(value)
    if items is None:
        return value
    if name is None:
        return sorted(items, key=_sort_key)
    if nils not in ("first", "last"):
        raise tag_error(errors.LIQUID_ERROR, f'sort: nils must be "first" or "last", not {nils!r}')
    present = [item for item in items if _property(item, name) is not None]
    absent = [item for item in items if _property(item, name) is None]
    ordered = sorted(present, key=lambda item: _sort_key(_property(item, name)))
    return absent + ordered if nils == "first" else ordered + absent


# Ruby's \p{Han}, \p{Katakana}, \p{Hiragana} and \p{Hangul} (the blocks posts use).
_CJK = (
    "\u1100-\u11ff\u2e80-\u2fdf\u3040-\u30ff\u3131-\u318f\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
)
_CJK_CHAR = re.compile(f"[{_CJK}]")
_NON_CJK_WORD = re.compile(rf"[^{_CJK}\s]+")


def number_of_words(value: object, mode: object = None) -> int:
    text = _to_s(value)
    if mode == "cjk" or (mode == "auto" and _CJK_CHAR.search(text)):
        return len(_CJK_CHAR.findall(text)) + len(_NON_CJK_WORD.findall(text))
    return len(text.split())


def array_to_sentence_string(value: object, connector: object = "and") -> object:
    items = _items(value)
    if items is None:
        return value
    words = [_to_s(item) for item in items]
    joiner = _to_s(connector)
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    if len(words) == 2:
        return f"{words[0]} {joiner} {words[1]}"
    return f"{', '.join(words[:-1])}, {joiner} {words[-1]}"


def normalize_whitespace(value: object) -> str:
    return re.sub(r"\s+", " ", _to_s(value)).strip()


def to_integer(value: object) -> object:
    if isinstance(value, bool):
        return 1 if value else 0
    try:
        return int(float(value)) if isinstance(value, str | int | float) else value
    except ValueError as exc:
        raise tag_error(errors.LIQUID_ERROR, f"invalid value for to_integer: {value!r}") from exc


def _inspect(value: object) -> str:
    """Ruby's inspect, near enough: strings quoted, hashes with =>, nil."""
    if value is None:
        return "nil"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_inspect(k)}=>{_inspect(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_inspect(v) for v in value) + "]"
    return str(value)


def inspect(value: object) -> str:
    return xml_escape(_inspect(value))


_SAMPLE = random.Random(0)  # not for secrets: a reproducible pick


def sample(value: object, count: object = 1) -> object:
    items = _items(value)
    if items is None:
        return value
    number = int(count) if isinstance(count, int | str) and str(count).isdigit() else 1
    if number == 1:
        return _SAMPLE.choice(items) if items else None
    return _SAMPLE.sample(items, min(number, len(items)))


def _count(value: object) -> int:
    try:
        return max(int(value), 0) if isinstance(value, int | float | str) else 1
    except ValueError:
        return 1


def pop(value: object, count: object = 1) -> object:
    items = _items(value) if isinstance(value, list | tuple) else None
    if items is None:
        return value
    number = _count(count)
    return items[: len(items) - number] if number else items


def push(value: object, item: object) -> object:
    items = _items(value) if isinstance(value, list | tuple) else None
    return value if items is None else [*items, item]


def shift(value: object, count: object = 1) -> object:
    items = _items(value) if isinstance(value, list | tuple) else None
    return value if items is None else items[_count(count) :]


def unshift(value: object, item: object) -> object:
    items = _items(value) if isinstance(value, list | tuple) else None
    return value if items is None else [item, *items]


def _expression(context: RenderContext, source: str) -> Any:
    state = render_state(context)
    template = state.templates.get(source)
    if template is None:
        template = context.env.from_string(source, name="(expression)")
        state.templates[source] = template
    return template


def _evaluate(context: RenderContext, variable: str, expression: str, item: object) -> str:
    template = _expression(context, "{{ " + expression + " }}")
    buffer = StringIO()
    with context.extend({variable: item}):
        template.render_with_context(context, buffer, partial=True)
    return buffer.getvalue()


def _condition(context: RenderContext, variable: str, expression: str, item: object) -> bool:
    template = _expression(context, "{% if " + expression + " %}true{% endif %}")
    buffer = StringIO()
    with context.extend({variable: item}):
        template.render_with_context(context, buffer, partial=True)
    return buffer.getvalue() == "true"
