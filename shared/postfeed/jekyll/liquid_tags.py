"""Jekyll's Liquid tags on python-liquid 2.x: `include` (with parameters), `include_relative`, `post_url`, `link`,
`highlight` (with `linenos`), and output statements parsed leniently as Liquid 4's `warn` mode does.

Imported only by `liquid._environment`, so python-liquid loads only when a body holds Liquid.
"""

from __future__ import annotations

import html
import re
from io import StringIO
from typing import TYPE_CHECKING, TextIO

from liquid import Environment
from liquid.ast import BlockNode, Node
from liquid.builtin.expressions import FilteredExpression, tokenize
from liquid.builtin.output import OutputNode
from liquid.exceptions import LiquidError, LiquidSyntaxError
from liquid.parser import get_parser
from liquid.stream import TokenStream
from liquid.stringify import to_liquid_string
from liquid.tag import Tag
from liquid.token import TOKEN_EOF, TOKEN_EXPRESSION, TOKEN_OUTPUT, TOKEN_TAG, Token

from . import errors
from .liquid_state import find_link, find_post_url, include_text, relative_text, render_state, tag_error

if TYPE_CHECKING:
    from liquid.context import RenderContext

# Jekyll's IncludeTag: parameters, a file name holding `{{ }}`, and the characters a file name may use.
_PARAM = r"""([\w-]+)\s*=\s*(?:"([^"\\]*(?:\\.[^"\\]*)*)"|'([^'\\]*(?:\\.[^'\\]*)*)'|([\w.-]+))"""
_PARAMS = re.compile(_PARAM)
_VALID_PARAMS = re.compile(rf"\A\s*(?:{_PARAM}(?=\s|\Z)\s*)*\Z")
_VARIABLE_NAME = re.compile(r"(?P<variable>[^{]*(\{\{\s*[\w\-.]+\s*(\|.*)?\}\}[^\s{}]*)+)(?P<params>.*)", re.DOTALL)
_FILE_NAME = re.compile(r"^[\w/.\-()+~#@]+$")
_BAD_SEQUENCE = re.compile(r"[./]{2,}")
_INTEGER = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d+\.\d+")


def _markup(stream: TokenStream) -> tuple[Token, str]:
    """A tag without a body: its token and the raw text after its name (empty when none). The stream is left
    on the tag's last token, which the parser steps over."""
    token = stream.current
    if stream.peek.kind == TOKEN_EXPRESSION:
        next(stream)
        return token, str(stream.current.value)
    return token, ""


def _render_source(context: RenderContext, source: str) -> str:
    template = context.env.from_string(source, name="(tag)")
    buffer = StringIO()
    template.render_with_context(context, buffer, partial=True)
    return buffer.getvalue()


def _value(context: RenderContext, name: str) -> object:
    """Liquid's `context[name]` for a bare include parameter: a number, true/false/nil, or a variable."""
    if _INTEGER.fullmatch(name):
        return int(name)
    if _FLOAT.fullmatch(name):
        return float(name)
    if name in ("true", "false"):
        return name == "true"
    if name in ("nil", "null"):
        return None
    return context.get([part for part in name.split(".") if part], token=None, default=None)


class IncludeNode(Node):
    """`{% include name param="value" other=variable %}`; the file from `_includes/` (or beside the page)."""

    __slots__ = ("name", "params", "relative")

    def __init__(self, token: Token, name: str, params: str | None, *, relative: bool) -> None:
        super().__init__(token)
        self.name = name
        self.params = params
        self.relative = relative
        self.blank = False

    def _parameters(self, context: RenderContext) -> dict[str, object]:
        found: dict[str, object] = {}
        for key, double, single, variable in _PARAMS.findall(self.params or ""):
            if variable:
                found[key] = _value(context, variable)
            elif double or not single:
                found[key] = double.replace('\\"', '"')
            else:
                found[key] = single.replace("\\'", "'")
        return found

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        state = render_state(context)
        name = self.name
        if _VARIABLE_NAME.match(name):
            name = _render_source(context, name).strip()
        tag = "include_relative" if self.relative else "include"
        if _BAD_SEQUENCE.search(name) or not _FILE_NAME.match(name):
            raise tag_error(errors.LIQUID_SYNTAX, f"{tag}: the file name {name!r} has invalid characters or sequences")
        if self.relative:
            where, text = relative_text(state, name, state.path)
        else:
            where, text = f"_includes/{name}", include_text(state, name)
        if text is None and not state.env.complete:
            state.warnings[f"{{% {tag} {name} %}}"] = None
            return 0
        if text is None:
            raise tag_error(errors.INCLUDE_NOT_FOUND, f"{tag}: could not locate {where}")
        try:
            template = state.templates.get(where)
            if template is None:
                template = context.env.from_string(text, name=where)
                state.templates[where] = template
            namespace = {"include": self._parameters(context)} if self.params is not None else {}
            with context.extend(namespace, template=template):
                template.render_with_context(context, buffer, partial=True)
        except LiquidError as err:
            if getattr(err, "postfeed_include", None) is None:
                err.postfeed_include = name  # type: ignore[attr-defined]
            err.token = self.token  # the line of the post's own tag
            raise
        return 1


class IncludeTag(Tag):
    name = "include"
    block = False
    relative = False

    def parse(self, stream: TokenStream) -> Node:
        token, markup = _markup(stream)
        markup = markup.strip()
        if not markup:
            raise LiquidSyntaxError(f"{self.name}: which file? ({{% {self.name} file.html %}})", token=token)
        variable = _VARIABLE_NAME.match(markup)
        if variable:
            name, params = variable["variable"].strip(), variable["params"].strip()
        else:
            pieces = markup.split(None, 1)
            name, params = pieces[0], (pieces[1] if len(pieces) > 1 else "")
        if params and not _VALID_PARAMS.match(params):
            raise LiquidSyntaxError(
                f"invalid syntax for {self.name}: {params!r} (valid: {{% {self.name} file.ext param='value' "
                'param2="value" %})',
                token=token,
            )
        return IncludeNode(token, name, params or None, relative=self.relative)


class IncludeRelativeTag(IncludeTag):
    name = "include_relative"
    relative = True


class IncludeCachedTag(IncludeTag):
    """jekyll-include-cache's `include_cached`: the same output as `include` (the cache only saves time)."""

    name = "include_cached"


_GIST = re.compile(r"\A([\S]+|.*(?=/).+)\s?(\S*)\Z")


class GistNode(Node):
    __slots__ = ("file", "gist")

    def __init__(self, token: Token, gist: str, file: str) -> None:
        super().__init__(token)
        self.gist = gist
        self.file = file
        self.blank = False

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        def value(name: str) -> str:
            found = context.get([name], token=None, default=None) if name else None
            return name if found is None else str(found)

        url = f"https://gist.github.com/{value(self.gist)}.js"
        file = value(self.file)
        if file:
            url += f"?file={file}"
        # jekyll-gist also fetches the code into a <noscript>: no network here, so only the script (which feeds drop).
        return buffer.write(f'<script src="{html.escape(url)}"> </script>')


class GistTag(Tag):
    """jekyll-gist (on by default on GitHub Pages): `{% gist user/id [file] %}`."""

    name = "gist"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token, markup = _markup(stream)
        found = _GIST.match(markup.strip())
        if found is None or not markup.strip():
            raise LiquidSyntaxError(
                f"syntax error in tag 'gist' while parsing {markup!r} (valid: gist user/id [file])", token=token
            )
        return GistNode(token, found[1].strip(), found[2].strip())


class PostUrlNode(Node):
    __slots__ = ("post",)

    def __init__(self, token: Token, post: str) -> None:
        super().__init__(token)
        self.post = post
        self.blank = False

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        return buffer.write(find_post_url(render_state(context), self.post))


class PostUrlTag(Tag):
    name = "post_url"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token, markup = _markup(stream)
        return PostUrlNode(token, markup.strip())


class LinkNode(Node):
    __slots__ = ("target",)

    def __init__(self, token: Token, target: str) -> None:
        super().__init__(token)
        self.target = target
        self.blank = False

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        target = _render_source(context, self.target) if "{" in self.target else self.target
        return buffer.write(find_link(render_state(context), target.strip()))


class LinkTag(Tag):
    name = "link"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token, markup = _markup(stream)
        return LinkNode(token, markup.strip())


_HIGHLIGHT = re.compile(r'^([a-zA-Z0-9.+#_-]+)((\s+\w+(=(\w+|"([0-9]+\s)*[0-9]+"))?)*)$')
_EDGE_NEWLINES = re.compile(r"\A[\n\r]+|[\n\r]+\Z")


class HighlightNode(Node):
    __slots__ = ("block", "lang", "linenos")

    def __init__(self, token: Token, lang: str, block: BlockNode, *, linenos: bool) -> None:
        super().__init__(token)
        self.lang = lang
        self.block = block
        self.linenos = linenos
        self.blank = False

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        inner = context.get_buffer(buffer)
        self.block.render(context, inner)
        code = html.escape(_EDGE_NEWLINES.sub("", inner.getvalue()), quote=False)
        if self.linenos:
            lines = code.split("\n")
            numbers = "".join(f"{n}\n" for n in range(1, len(lines) + 1))
            code = (
                '<table class="rouge-table"><tbody><tr><td class="gutter gl"><pre class="lineno">'
                f'{numbers}</pre></td><td class="code"><pre>{code}\n</pre></td></tr></tbody></table>'
            )
        attributes = f'class="language-{self.lang.replace("+", "-")}" data-lang="{self.lang}"'
        return buffer.write(f'<figure class="highlight"><pre><code {attributes}>{code}</code></pre></figure>')


class HighlightTag(Tag):
    name = "highlight"
    end = "endhighlight"

    def parse(self, stream: TokenStream) -> Node:
        token = stream.eat(TOKEN_TAG)
        markup = str(next(stream).value).strip() if stream.current.kind == TOKEN_EXPRESSION else ""
        found = _HIGHLIGHT.match(markup)
        if found is None:
            raise LiquidSyntaxError(
                f"syntax error in tag 'highlight' while parsing {markup!r} (valid: highlight <lang> [linenos])",
                token=token,
            )
        options = found[2].split()
        linenos = any(option == "linenos" or option.startswith("linenos=") for option in options)
        block = get_parser(self.env).parse_block(stream, frozenset((self.end, TOKEN_EOF)))
        stream.expect(TOKEN_TAG, value=self.end)
        return HighlightNode(token, found[1].lower(), block, linenos=linenos)


# Liquid 4's lax Variable: the first quoted fragment names what to show.
_QUOTED_FRAGMENT = re.compile(r"""\A\s*("[^"]*"|'[^']*'|(?:[^\s,|'"]|"[^"]*"|'[^']*')+)""")
_LOOKUP_PART = re.compile(r"\[[^\]]+\]|[\w-]+\??")


class LaxOutputNode(Node):
    """What Liquid 4 shows for an output it cannot parse strictly: the first fragment's value (or nothing)."""

    __slots__ = ("fragment",)

    def __init__(self, token: Token, fragment: str) -> None:
        super().__init__(token)
        self.fragment = fragment
        self.blank = False

    def render_to_output(self, context: RenderContext, buffer: TextIO) -> int:
        fragment = self.fragment
        if fragment[:1] in "\"'" and len(fragment) >= 2:
            return buffer.write(fragment[1:-1])
        if _INTEGER.fullmatch(fragment) or _FLOAT.fullmatch(fragment):
            return buffer.write(fragment)
        parts = [part.strip("[]\"'") for part in _LOOKUP_PART.findall(fragment)]
        if not parts:
            return 0
        value = context.get(list(parts), token=None, default=None)
        return buffer.write(to_liquid_string(value, context.autoescape))


class LaxOutput(Tag):
    """`{{ … }}` parsed strictly, else leniently (Jekyll's default `error_mode: warn`): JSX's `{{ a: 1 }}` in a
    post shows what Jekyll shows, not an error."""

    name = TOKEN_OUTPUT
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token = stream.eat(TOKEN_OUTPUT)
        expression = stream.expect(TOKEN_EXPRESSION)
        try:
            return OutputNode(
                token, FilteredExpression.parse(self.env, TokenStream(tokenize(expression.value, expression)))
            )
        except LiquidSyntaxError:
            found = _QUOTED_FRAGMENT.match(expression.value)
            return LaxOutputNode(token, found[1] if found else "")


def register(env: Environment, plugin_tags: set[str]) -> None:
    """Jekyll's tags (and lenient output) in `env`, with those of the plugins named in `plugin_tags`."""
    for tag in (IncludeTag, IncludeRelativeTag, PostUrlTag, LinkTag, HighlightTag, GistTag, LaxOutput):
        env.add_tag(tag)
    if "include_cached" in plugin_tags:
        env.add_tag(IncludeCachedTag)
