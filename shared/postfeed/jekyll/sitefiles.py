"""Site files besides posts that the feeds depend on, read as Jekyll 3.10 reads them: `_data/` files
(`site.data`; jekyll-feed looks an author named by key up in `site.data.authors`) and the site's own
`feed.xslt.xml` (jekyll-feed links it from every feed when the site has one).

Pure: bytes in, values out, or a SiteFileError with a stable code, a message naming the file and, when
known, its line. Never raises anything else for bad input.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from posixpath import splitext

from postfeed.models import Author

from . import errors
from .errors import JekyllError, PostError
from .frontmatter import MAX_EXPANDED_NODES, load_yaml, ruby_str, text_of

__all__ = (
    "AUTHORS",
    "DATA_DIR",
    "DATA_EXTENSIONS",
    "INCLUDES_DIR",
    "STYLESHEET",
    "SiteFileError",
    "authors_of",
    "check_stylesheet",
    "data_name",
    "data_precedence",
    "include_name",
    "read_data",
    "read_include",
)

DATA_DIR = "_data/"
INCLUDES_DIR = "_includes/"
# Jekyll's DataReader globs `*.{yaml,yml,json,csv,tsv}` (lower case) in this order, and a later file of the
# same name replaces an earlier one in `site.data`: `authors.json` wins over `authors.yml`.
DATA_EXTENSIONS = (".yaml", ".yml", ".json", ".csv", ".tsv")
AUTHORS = "authors"  # the one `site.data` entry jekyll-feed reads
STYLESHEET = "feed.xslt.xml"

# Codes of their own (the reader's shared ones, such as yaml_syntax, are in errors.py).
INVALID_DATA = "data_invalid"
"""A `.json`, `.csv` or `.tsv` data file that its format cannot read (Jekyll stops the build)."""
AUTHORS_NOT_MAPPING = "authors_not_mapping"
"""`_data/authors.*` holds a list or a scalar: jekyll-feed could not look any author up by key."""
STYLESHEET_INVALID = "stylesheet_invalid"
"""`feed.xslt.xml` is not well-formed XML: no browser could apply it."""
CODES = (INVALID_DATA, AUTHORS_NOT_MAPPING, STYLESHEET_INVALID)


class SiteFileError(JekyllError):
    """A site file that cannot be used; the pipeline records it and keeps the file's last good version."""


def data_name(path: str) -> str | None:
    """The `site.data` name of a data file (`_data/authors.yml` -> `authors`, `_data/team/a.json` ->
    `team.a`), or None for a key Jekyll does not read as data (another extension, a dot file or folder)."""
    if not path.startswith(DATA_DIR) or path.endswith("/"):
        return None
    parts = path[len(DATA_DIR) :].split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    stem, extension = splitext(parts[-1])
    if extension not in DATA_EXTENSIONS or not stem:
        return None
    return ".".join([*parts[:-1], stem])


def include_name(path: str) -> str | None:
    """The `{% include <name> %}` name of a key under `_includes/` (`_includes/figure.html` -> `figure.html`),
    or None for another key, a folder marker, or a dot file or folder (Jekyll does not read those)."""
    if not path.startswith(INCLUDES_DIR) or path.endswith("/"):
        return None
    parts = path[len(INCLUDES_DIR) :].split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        return None
    return "/".join(parts)


def read_include(path: str, body: bytes) -> str:
    """An include's text (UTF-8, LF line endings). Raises SiteFileError for bytes Jekyll could not read."""
    return text_of(path, body, SiteFileError)


def data_precedence(path: str) -> int:
    """Among files of one data name, the highest wins (Jekyll reads them in DATA_EXTENSIONS order)."""
    return DATA_EXTENSIONS.index(splitext(path)[1])


def read_data(path: str, body: bytes) -> object:
    """The value of a data file: YAML (`.yml`, `.yaml`), JSON, or CSV/TSV rows (a list of header -> cell).

    Raises SiteFileError for bytes or syntax Jekyll could not read, and for nesting or alias expansion past
    what the reader allows (a 20,000-deep document is an error, never a crash)."""
    text = text_of(path, body, SiteFileError)
    extension = splitext(path)[1]
    if extension == ".json":
        return _json(path, text)
    if extension in (".csv", ".tsv"):
        return _rows(path, text, "\t" if extension == ".tsv" else ",")
    try:
        return load_yaml(path, text)
    except PostError as exc:
        raise SiteFileError(exc.code, _data_message(path, exc), exc.line) from exc


def authors_of(path: str, value: object) -> dict[str, Author]:
    """`site.data.authors` as jekyll-feed uses it: key -> Author.

    jekyll-feed does `site.data.authors[post_author] | default: post_author`, then `.name | default: …`:
    an entry that is a mapping gives name (else its key), email and uri; a scalar is the name itself; an
    empty or false entry finds nothing, as if the key were not there."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        kind = "list" if isinstance(value, list) else "single value"
        raise SiteFileError(
            AUTHORS_NOT_MAPPING,
            f"{path}: a {kind}, not a mapping of author keys to authors (key: {{name, email, uri}}), "
            "so no author could be looked up in it",
            1,
        )
    authors: dict[str, Author] = {}
    for raw_key, entry in value.items():
        key = ruby_str(raw_key)
        if isinstance(entry, Mapping):
            authors[key] = Author(
                _text(entry.get("name")) or key, _text(entry.get("email")), _text(entry.get("uri", entry.get("url")))
            )
        elif entry is not None and entry is not False and not isinstance(entry, list):
            authors[key] = Author(ruby_str(entry))
    return authors


def check_stylesheet(path: str, body: bytes) -> None:
    """Raise SiteFileError unless the bytes are well-formed XML (entities never expanded, nothing fetched)."""
    from lxml import etree  # type: ignore[import-untyped]  # no lxml-stubs pinned

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
        where = f" on line {line}" if line else ""
        raise SiteFileError(STYLESHEET_INVALID, f"{path}: not well-formed XML{where}: {exc.msg}", line) from exc


def _data_message(path: str, exc: PostError) -> str:
    # The YAML reader words its limits for front matter; say the same of a data file.
    if exc.code == errors.YAML_TOO_COMPLEX:
        return f"{path}: nests too deeply to be read"
    if exc.code == errors.YAML_ALIAS_BOMB:
        return f"{path}: aliases expand past {MAX_EXPANDED_NODES:,} values, or an alias contains itself"
    return exc.message


def _json(path: str, text: str) -> object:
    # Jekyll reads JSON with its YAML reader; JSON is YAML, but PyYAML refuses the tabs JSON may indent with.
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SiteFileError(INVALID_DATA, f"{path}: JSON error on line {exc.lineno}: {exc.msg}", exc.lineno) from exc
    except RecursionError as exc:
        raise SiteFileError(errors.YAML_TOO_COMPLEX, f"{path}: nests too deeply to be read") from exc


def _rows(path: str, text: str, delimiter: str) -> list[dict[str, str | None]]:
    """Ruby's `CSV.read(headers: true).map(&:to_hash)`: one mapping per row, a missing cell nil."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        line = reader.line_num or None
        raise SiteFileError(INVALID_DATA, f"{path}: CSV error on line {line}: {exc}", line) from exc
    if not rows:
        return []
    header, *cells = rows
    return [{name: (row[i] if i < len(row) else None) for i, name in enumerate(header)} for row in cells]


def _text(value: object) -> str | None:
    if value is None or isinstance(value, list | Mapping):
        return None
    text = ruby_str(value)
    return text if text.strip() else None
