"""Every error code the Jekyll reader can report, and the exceptions that carry them.

Codes are stable strings: they end up in `Rejected.code`, in logs and in the CLI's JSON output.
"""

from __future__ import annotations

from typing import Final

from postfeed.errors import PostfeedError

# --- bytes -------------------------------------------------------------------------------------
POST_TOO_LARGE: Final = "post_too_large"
"""The whole file is over the parser's size cap (MAX_POST_BYTES)."""
INVALID_UTF8: Final = "invalid_utf8"
"""The bytes are not valid UTF-8 (with or without a BOM)."""
NUL_BYTE: Final = "nul_byte"
"""The text holds a NUL byte: a text editor never writes one."""
BINARY: Final = "binary"
"""The text is mostly control characters: an image or archive renamed to .md."""

# --- front matter ------------------------------------------------------------------------------
FRONT_MATTER_TOO_LARGE: Final = "front_matter_too_large"
"""The YAML front matter is over its size cap (MAX_FRONT_MATTER_BYTES)."""
YAML_SYNTAX: Final = "yaml_syntax"
"""The front matter is not valid YAML; `Rejected.line` is the file line of the problem."""
YAML_ALIAS_BOMB: Final = "yaml_alias_bomb"
"""Aliases expand the front matter past the node cap (billion laughs), or refer to themselves."""
YAML_TOO_COMPLEX: Final = "yaml_too_complex"
"""The front matter nests deeper than the parser's recursion allows."""
YAML_UNSUPPORTED_TAG: Final = "yaml_unsupported_tag"
"""The front matter uses an explicit tag (e.g. !!python/object) that safe loading refuses."""
FRONT_MATTER_NOT_MAPPING: Final = "front_matter_not_mapping"
"""The front matter is valid YAML but a list or a scalar, not key: value pairs."""

# --- fields ------------------------------------------------------------------------------------
INVALID_DATE: Final = "invalid_date"
"""The `date` (front matter or file name) is one Ruby's Time.parse cannot read: Jekyll stops the build."""
INVALID_PERMALINK: Final = "invalid_permalink"
"""The permalink template names a placeholder Jekyll does not know: Jekyll stops the build."""

# --- Liquid (Jekyll fails the build on each) ----------------------------------------------------
LIQUID_SYNTAX: Final = "liquid_syntax"
"""A Liquid tag or output Jekyll cannot parse (unclosed block, bad tag arguments); `line` is the file line."""
LIQUID_UNKNOWN_TAG: Final = "liquid_unknown_tag"
"""A `{% tag %}` that neither Liquid nor Jekyll (safe mode, no plugins) defines."""
INCLUDE_NOT_FOUND: Final = "include_not_found"
"""`{% include x %}` names no file in `_includes/` (or `include_relative` none beside the post)."""
POST_URL_NOT_FOUND: Final = "post_url_not_found"
"""`{% post_url name %}` names no post of the site (or is not `YYYY-MM-DD-title`)."""
LINK_NOT_FOUND: Final = "link_not_found"
"""`{% link path %}` names no document of the site."""
LIQUID_LIMIT: Final = "liquid_limit"
"""Rendering the Liquid went past a limit: loop iterations, output size, variables' size, include depth."""
LIQUID_ERROR: Final = "liquid_error"
"""An error while rendering the Liquid (a filter given a value it refuses, a bad date, ...)."""

ALL_CODES: Final[tuple[str, ...]] = (
    POST_TOO_LARGE,
    INVALID_UTF8,
    NUL_BYTE,
    BINARY,
    FRONT_MATTER_TOO_LARGE,
    YAML_SYNTAX,
    YAML_ALIAS_BOMB,
    YAML_TOO_COMPLEX,
    YAML_UNSUPPORTED_TAG,
    FRONT_MATTER_NOT_MAPPING,
    INVALID_DATE,
    INVALID_PERMALINK,
    LIQUID_SYNTAX,
    LIQUID_UNKNOWN_TAG,
    INCLUDE_NOT_FOUND,
    POST_URL_NOT_FOUND,
    LINK_NOT_FOUND,
    LIQUID_LIMIT,
    LIQUID_ERROR,
)

# --- skip reasons (Skipped.reason): not errors, Jekyll simply does not publish these -------------
SKIP_NOT_IN_POSTS: Final = "not_in_posts_folder"
"""The path is not under a `_posts/` folder."""
SKIP_EXTENSION: Final = "unsupported_extension"
"""The extension is neither Markdown nor .html."""
SKIP_NAME_LACKS_DATE: Final = "name_lacks_date"
"""The file name does not start with YYYY-MM-DD- (Jekyll never reads it)."""
SKIP_HIDDEN: Final = "hidden_name"
"""The file name starts with `.`, `_` or `#`, or ends with `~` (Jekyll's EntryFilter ignores it)."""
SKIP_UNPUBLISHED: Final = "unpublished"
"""Front matter `published: false` (or a null `published:`)."""
SKIP_FUTURE: Final = "future"
"""Dated after the build time while the site has `future: false`."""
SKIP_DRAFT: Final = "draft"
"""A file under `_drafts/` while the site has no `show_drafts: true` (Jekyll publishes drafts only with it)."""
SKIP_NO_COLLECTION_FEED: Final = "no_collection_feed"
"""A document of a collection that `feed.collections` does not name: no feed shows it."""
SKIP_UNDATED_DOCUMENT: Final = "undated_document"
"""A collection document with neither a dated name nor a front matter date (Jekyll would date it at build time)."""

# --- config ------------------------------------------------------------------------------------
CONFIG_YAML: Final = "config_yaml"
"""_config.yml is not valid YAML, or not a mapping."""
CONFIG_VALUE: Final = "config_value"
"""A _config.yml setting has a value of the wrong kind (e.g. an unknown timezone)."""


class JekyllError(PostfeedError):
    """Base of the reader's errors; carries a stable `code` and a `message` for people."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line


class PostError(JekyllError):
    """A post cannot be read; parse_post turns it into a `Rejected`."""


class ConfigError(JekyllError):
    """_config.yml (or an override) cannot be used; load_site raises it."""
