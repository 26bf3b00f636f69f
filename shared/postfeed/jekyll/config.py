"""_config.yml -> Site, with Jekyll's (GitHub Pages') defaults where a setting is absent."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from postfeed.models import Author, FeedSettings, Site

from . import errors
from .errors import ConfigError, PostError
from .frontmatter import load_yaml, ruby_str
from .permalinks import style_to_template


def load_site(config: bytes | str | None = None, **overrides: object) -> Site:
    """Read a Jekyll `_config.yml` (bytes or text; None = all defaults); keyword overrides win.

    Defaults follow GitHub Pages' Jekyll 3.10: permalink `date`, excerpt separator a blank line,
    `future: true` (GitHub Pages' default; plain Jekyll's is false), timezone unset = UTC.
    Raises ConfigError on YAML that is not a mapping or on values of the wrong kind.
    """
    data = _read(config)
    fields: dict[str, Any] = {}
    for key in ("url", "baseurl", "title", "description", "lang"):
        if data.get(key) is not None:
            fields[key] = _text(data[key], key)
    if data.get("author") is not None:
        fields["author"] = author_from(data["author"])
    if data.get("timezone") is not None:
        fields["timezone"] = _text(data["timezone"], "timezone")
    if data.get("permalink") is not None:
        fields["permalink"] = style_to_template(_text(data["permalink"], "permalink"))
    posts = _mapping(_mapping(data.get("collections"), "collections").get("posts"), "collections.posts")
    if posts.get("permalink") is not None:
        # Jekyll uses the collection's permalink as given, and it wins over the site-wide one.
        fields["permalink"] = _text(posts["permalink"], "collections.posts.permalink")
    if "excerpt_separator" in data:
        fields["excerpt_separator"] = ruby_str(data["excerpt_separator"])
    if data.get("future") is not None:
        fields["future"] = _bool(data["future"], "future")
    feed = _mapping(data.get("feed"), "feed")
    feed_fields: dict[str, Any] = {}
    if feed.get("path") is not None:
        feed_fields["path"] = _text(feed["path"], "feed.path")
    if feed.get("posts_limit") is not None:
        feed_fields["posts_limit"] = _int(feed["posts_limit"], "feed.posts_limit")
    if feed.get("excerpt_only") is not None:
        feed_fields["excerpt_only"] = _bool(feed["excerpt_only"], "feed.excerpt_only")
    fields["feed"] = FeedSettings(**feed_fields)
    known = {f.name for f in dataclasses.fields(Site)}
    unknown = set(overrides) - known
    if unknown:
        raise ConfigError(errors.CONFIG_VALUE, f"unknown Site setting(s): {', '.join(sorted(unknown))}")
    fields.update(overrides)
    # Site.permalink always holds a template, so other code never needs the style names.
    fields["permalink"] = style_to_template(str(fields.get("permalink", "date")))
    site = Site(**fields)
    _check_timezone(site.timezone)
    return site


def author_from(value: object) -> Author | None:
    """jekyll-feed's author: a name string, or a mapping with name/email/uri (url accepted for uri)."""
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        name = value.get("name")
        if name is None:
            return None
        email, uri = value.get("email"), value.get("uri", value.get("url"))
        return Author(
            ruby_str(name),
            ruby_str(email) if email is not None else None,
            ruby_str(uri) if uri is not None else None,
        )
    return Author(ruby_str(value))


def _read(config: bytes | str | None) -> dict[str, Any]:
    if config is None:
        return {}
    if isinstance(config, bytes):
        try:
            config = config.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ConfigError(errors.CONFIG_YAML, "_config.yml: not valid UTF-8") from exc
    config = config.replace("\r\n", "\n")
    try:
        data = load_yaml("_config.yml", config)
    except PostError as exc:
        raise ConfigError(errors.CONFIG_YAML, exc.message, exc.line) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(errors.CONFIG_YAML, "_config.yml: not a mapping of settings")
    return {str(k): v for k, v in data.items()}


def _check_timezone(name: str | None) -> None:
    if name is None:
        return
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(errors.CONFIG_VALUE, f"_config.yml: unknown timezone {name!r}") from exc


def _mapping(value: object, key: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(errors.CONFIG_VALUE, f"_config.yml: {key} must be a mapping")
    return value


def _text(value: object, key: str) -> str:
    if isinstance(value, list | dict):
        raise ConfigError(errors.CONFIG_VALUE, f"_config.yml: {key} must be a string")
    return ruby_str(value)


def _bool(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(errors.CONFIG_VALUE, f"_config.yml: {key} must be true or false")
    return value


def _int(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(errors.CONFIG_VALUE, f"_config.yml: {key} must be a whole number")
    return value
