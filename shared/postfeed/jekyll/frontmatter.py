"""Bytes -> (front matter mapping, body text), as Jekyll's Document#read_content splits them.

Safety first: size caps, UTF-8 only, NUL/binary refused, YAML read with SafeLoader plus a guard against
alias bombs. Every refusal is a PostError with a stable code (see errors.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from . import errors
from .errors import JekyllError, PostError

MAX_POST_BYTES = 10 * 1024 * 1024
MAX_FRONT_MATTER_BYTES = 64 * 1024
# Nodes the front matter may expand to once aliases are followed; real front matter has a few dozen.
MAX_EXPANDED_NODES = 100_000

_BOM = "\ufeff"
# Jekyll's Document::YAML_FRONT_MATTER_REGEXP, unchanged from 3.x to 4.3.
_FRONT_MATTER = re.compile(r"\A(---\s*\n.*?\n?)^((---|\.\.\.)\s*$\n?)", re.MULTILINE | re.DOTALL)
_BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF")
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
# Psych's (Ruby YAML) timestamp forms: unlike PyYAML it takes unpadded dates and `+0800` offsets.
_PSYCH_TIMESTAMP = re.compile(
    r"^(?:\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)"
    r"|-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?)$"
)


class YamlTimestamp(str):
    """An unquoted YAML timestamp, kept as its text: Psych reads it as UTC when it has no offset."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class SplitPost:
    """A post's text split the way Jekyll splits it."""

    data: dict[str, Any]
    body: str
    has_front_matter: bool
    warnings: tuple[str, ...]


_SURROGATE = re.compile("[\ud800-\udfff]")


class _Loader(yaml.SafeLoader):
    """SafeLoader with Psych's timestamp rule; timestamps stay text so dates.py applies Ruby's rules."""


def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> YamlTimestamp:
    return YamlTimestamp(loader.construct_scalar(node))  # type: ignore[arg-type]


# A copy without PyYAML's timestamp rule (add_implicit_resolver copies the dict before adding to it).
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_TIMESTAMP_TAG, _PSYCH_TIMESTAMP, list("-0123456789"))
_Loader.add_constructor(_TIMESTAMP_TAG, _construct_timestamp)


def decode(path: str, body: bytes) -> str:
    """UTF-8 (BOM optional) -> text with LF line endings; refuses what no editor writes."""
    if len(body) > MAX_POST_BYTES:
        raise PostError(errors.POST_TOO_LARGE, f"{path}: {len(body)} bytes, over the {MAX_POST_BYTES}-byte limit")
    if _looks_binary(body):
        raise PostError(errors.BINARY, f"{path}: binary data (an image or archive?), not a text post")
    return text_of(path, body)


def text_of(path: str, body: bytes, error: type[JekyllError] = PostError) -> str:
    """UTF-8 (BOM optional) -> text with LF line endings; invalid UTF-8 or a NUL byte raise `error` with the line."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        raise error(errors.INVALID_UTF8, f"{path}: not valid UTF-8 at byte {exc.start} (line {line})", line) from exc
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise error(errors.NUL_BYTE, f"{path}: NUL byte on line {line}", line)
    text = text.removeprefix(_BOM)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _looks_binary(body: bytes) -> bool:
    if body.startswith(_BINARY_MAGIC):
        return True
    head = body[:8192]
    if not head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls / len(head) > 0.3


def split(path: str, text: str) -> SplitPost:
    """Front matter only when the text starts with `---` (after a BOM); else the whole text is content."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        warnings = []
        if text.startswith("---"):
            warnings.append(f"{path}: starts with --- but has no closing --- line: read as content only")
        elif text.lstrip().startswith("---"):
            warnings.append(
                f"{path}: front matter ignored: the file does not start with --- (blank line or spaces "
                "before it), so Jekyll reads it all as content"
            )
        return SplitPost({}, text, False, tuple(warnings))
    yaml_text = match[1]
    size = len(yaml_text.encode("utf-8"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise PostError(
            errors.FRONT_MATTER_TOO_LARGE,
            f"{path}: front matter is {size} bytes, over the {MAX_FRONT_MATTER_BYTES}-byte limit",
        )
    data = load_yaml(path, yaml_text)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PostError(
            errors.FRONT_MATTER_NOT_MAPPING,
            f"{path}: front matter is a {_kind(data)}, not a mapping of key: value pairs",
            1,
        )
    return SplitPost({str(k): v for k, v in data.items()}, text[match.end() :], True, ())


def load_yaml(path: str, yaml_text: str, first_line: int = 1) -> Any:
    """Safe-load one YAML document; line numbers in messages count from `first_line`."""
    try:
        loader = _Loader(yaml_text)
    except yaml.reader.ReaderError as exc:  # a control character YAML does not allow
        line = yaml_text.count("\n", 0, exc.position) + first_line
        raise PostError(
            errors.YAML_SYNTAX, f"{path}: YAML error on line {line}: character #x{exc.character:04x} not allowed", line
        ) from exc
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(path, node, first_line)
        return loader.construct_document(node)
    except yaml.constructor.ConstructorError as exc:
        line = _line(exc, first_line)
        raise PostError(errors.YAML_UNSUPPORTED_TAG, f"{path}: line {line}: {_problem(exc)}", line) from exc
    except yaml.MarkedYAMLError as exc:
        line = _line(exc, first_line)
        raise PostError(errors.YAML_SYNTAX, f"{path}: YAML error on line {line}: {_problem(exc)}", line) from exc
    except yaml.YAMLError as exc:
        raise PostError(errors.YAML_SYNTAX, f"{path}: YAML error: {exc}") from exc
    except RecursionError as exc:
        raise PostError(errors.YAML_TOO_COMPLEX, f"{path}: front matter nests too deeply") from exc
    finally:
        loader.dispose()


def _check_nodes(path: str, root: yaml.Node, first_line: int) -> None:
    """Count nodes as if every alias were copied out, refusing cycles and billion-laughs expansions, and
    refuse scalars with a lone surrogate (a `\\ud800` escape: no character, and no UTF-8 to write it in)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise PostError(errors.YAML_ALIAS_BOMB, f"{path}: front matter has an alias that contains itself")
        active.add(key)
        total = 1
        children: list[yaml.Node] = []
        if isinstance(node, yaml.ScalarNode):
            _check_scalar(path, node, first_line)
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        for child in children:
            total += size(child)
            if total > MAX_EXPANDED_NODES:
                raise PostError(
                    errors.YAML_ALIAS_BOMB,
                    f"{path}: front matter aliases expand past {MAX_EXPANDED_NODES} nodes (alias bomb)",
                )
        active.discard(key)
        sizes[key] = total
        return total

    size(root)


def _check_scalar(path: str, node: yaml.ScalarNode, first_line: int) -> None:
    surrogate = _SURROGATE.search(node.value)
    if surrogate:
        line = node.start_mark.line + first_line
        raise PostError(
            errors.YAML_SYNTAX,
            f"{path}: YAML error on line {line}: the escape \\u{ord(surrogate[0]):04x} is half of a UTF-16 surrogate "
            "pair, not a character; write the character itself (or \\U and its full code point)",
            line,
        )


def _line(exc: yaml.MarkedYAMLError, first_line: int) -> int:
    mark = exc.problem_mark or exc.context_mark
    return (mark.line if mark else 0) + first_line


def _problem(exc: yaml.MarkedYAMLError) -> str:
    return " ".join(part for part in (exc.context, exc.problem) if part) or str(exc)


def _kind(value: object) -> str:
    return "list" if isinstance(value, list) else f"scalar ({type(value).__name__})"


def ruby_str(value: object) -> str:
    """Ruby's to_s for YAML scalars (true/false lowercase, nil empty): front matter values as Liquid prints them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
