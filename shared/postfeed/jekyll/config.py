"""_config.yml -> Site, with Jekyll's (GitHub Pages') defaults where a setting is absent."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from postfeed.models import DEFAULT_TAGS_PATH, POSTS, Author, CollectionFeed, FeedSettings, Site, TagFeeds

from . import errors
from .errors import ConfigError, PostError
from .frontmatter import load_yaml, ruby_str
from .permalinks import style_to_template


def load_site(
    config: bytes | str | None = None, *, defaults: Mapping[str, Any] | None = None, **overrides: object
) -> Site:
    """Read a Jekyll `_config.yml` (bytes or text; None = all defaults); `defaults` fill the settings it leaves
    out (a mapping such as `feed:` key by key); keyword overrides (Site fields) win over both.

    Defaults follow GitHub Pages' Jekyll 3.10: permalink `date`, excerpt separator a blank line,
    `future: true` (GitHub Pages' default; plain Jekyll's is false), timezone unset = UTC.
    Raises ConfigError on YAML that is not a mapping or on values of the wrong kind.
    """
    data = _read(config)
    for key, value in (defaults or {}).items():  # settings the file leaves out (a mapping: key by key)
        if isinstance(value, Mapping):
            data[key] = {**value, **(data.get(key) or {})} if isinstance(data.get(key) or {}, Mapping) else data[key]
        else:
            data.setdefault(key, value)
    fields: dict[str, Any] = {}
    for key in ("url", "baseurl", "title", "name", "description"):
        if data.get(key) is not None:
            fields[key] = _text(data[key], key)
    if data.get("lang") not in (None, False, ""):
        fields["lang"] = _text(data["lang"], "lang")
    if data.get("defaults") is not None:
        fields["defaults"] = _defaults(data["defaults"])
    if data.get("author") is not None:
        fields["author"] = author_from(data["author"])
    if data.get("timezone") is not None:
        fields["timezone"] = _text(data["timezone"], "timezone")
    if data.get("permalink") is not None:
        fields["permalink"] = style_to_template(_text(data["permalink"], "permalink"))
    declared = data.get("collections")
    if isinstance(declared, list):  # Jekyll accepts a list of names
        declared = {ruby_str(name): {} for name in declared}
    declared = _mapping(declared, "collections")
    posts = _mapping(declared.get("posts"), "collections.posts")
    others: dict[str, str | None] = {}
    for name, meta in declared.items():
        options = _mapping(meta, f"collections.{name}")
        if str(name) != POSTS:
            link = options.get("permalink")
            others[ruby_str(name)] = _text(link, f"collections.{name}.permalink") if link is not None else None
    fields["collections"] = others
    if posts.get("permalink") is not None:
        # Jekyll uses the collection's permalink as given, and it wins over the site-wide one.
        fields["permalink"] = _text(posts["permalink"], "collections.posts.permalink")
    if "excerpt_separator" in data:
        fields["excerpt_separator"] = ruby_str(data["excerpt_separator"])
    if data.get("future") is not None:
        fields["future"] = _bool(data["future"], "future")
    if data.get("show_drafts") is not None:
        fields["show_drafts"] = _bool(data["show_drafts"], "show_drafts")
    fields["feed"] = _feed_settings(_mapping(data.get("feed"), "feed"))
    fields["config"] = data
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


def _feed_settings(feed: Mapping[str, Any]) -> FeedSettings:
    """jekyll-feed's `feed:` block; `feed.collections.posts` configures the posts' feeds like the top level."""
    fields: dict[str, Any] = {}
    collections = _collections(feed.get("collections"))
    posts = next((c for c in collections if c.name == POSTS), None)
    path = feed.get("path") if feed.get("path") is not None else (posts.path if posts else None)
    if path is not None:
        fields["path"] = _text(path, "feed.path")
    if feed.get("posts_limit") is not None:
        fields["posts_limit"] = _int(feed["posts_limit"], "feed.posts_limit")
    if feed.get("excerpt_only") is not None:
        fields["excerpt_only"] = _bool(feed["excerpt_only"], "feed.excerpt_only")
    if feed.get("categories") is not None:
        fields["categories"] = _names(feed["categories"], "feed.categories")
    elif posts is not None and posts.categories is not None:
        fields["categories"] = posts.categories
    if "tags" in feed and feed["tags"] is not None:
        fields["tags"] = _tag_feeds(feed["tags"])
    for key in ("icon", "logo"):
        if feed.get(key) not in (None, False, ""):
            fields[key] = _text(feed[key], f"feed.{key}")
    fields["collections"] = tuple(c for c in collections if c.name != POSTS)
    return FeedSettings(**fields)


def _names(value: object, key: str) -> tuple[str, ...]:
    """A list of names (a lone string is one name), as strings."""
    if isinstance(value, str | int | float):
        return (ruby_str(value),)
    if not isinstance(value, list) or any(isinstance(item, list | dict) for item in value):
        raise ConfigError(errors.CONFIG_VALUE, f"_config.yml: {key} must be a list of names")
    return tuple(dict.fromkeys(ruby_str(item) for item in value if item is not None))


def _tag_feeds(value: object) -> TagFeeds:
    """`feed.tags`: true/false, or a mapping with `only`, `except` and `path` (jekyll-feed's generator)."""
    if isinstance(value, bool):
        return TagFeeds(enabled=value, explicit=True)
    tags = _mapping(value, "feed.tags")
    only = _names(tags["only"], "feed.tags.only") if tags.get("only") is not None else None
    exclude = _names(tags["except"], "feed.tags.except") if tags.get("except") is not None else ()
    path = tag_folder(_text(tags["path"], "feed.tags.path")) if tags.get("path") is not None else DEFAULT_TAGS_PATH
    return TagFeeds(enabled=True, explicit=True, only=only, exclude=exclude, path=path)


def tag_folder(path: str) -> str:
    """`feed.tags.path` as a bucket folder, cleaned as Jekyll's `sanitized_path` keeps a path inside the site:
    no leading `/`, no empty, `.` or `..` segment (`../../x/` is `x/`), one trailing `/`."""
    segments = [segment for segment in path.strip().split("/") if segment not in ("", ".", "..")]
    if not segments or any(not c.isprintable() or c in "\\~" for c in path):
        raise ConfigError(
            errors.CONFIG_VALUE,
            f"_config.yml: feed.tags.path {path!r} must name a folder, e.g. feed/by_tag/",
        )
    return "/".join(segments) + "/"


def _collections(value: object) -> tuple[CollectionFeed, ...]:
    """`feed.collections`: a list of names, or a mapping of name to `path` and `categories`."""
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(CollectionFeed(name) for name in _names(value, "feed.collections"))
    found: list[CollectionFeed] = []
    for name, meta in _mapping(value, "feed.collections").items():
        key = f"feed.collections.{name}"
        options = _mapping(meta, key)
        path = _text(options["path"], f"{key}.path") if options.get("path") is not None else None
        categories = options.get("categories")
        found.append(
            CollectionFeed(
                ruby_str(name),
                path=path,
                categories=_names(categories, f"{key}.categories") if categories is not None else None,
            )
        )
    return tuple(found)


def _defaults(value: object) -> tuple[tuple[str, str | None, Mapping[str, object]], ...]:
    """Jekyll's front matter `defaults`: each a scope (`path` prefix, `type`) and the `values` it sets."""
    if not isinstance(value, list):
        raise ConfigError(errors.CONFIG_VALUE, "_config.yml: defaults must be a list of {scope, values}")
    found = []
    for index, item in enumerate(value):
        rule = _mapping(item, f"defaults[{index}]")
        scope = _mapping(rule.get("scope"), f"defaults[{index}].scope")
        values = _mapping(rule.get("values"), f"defaults[{index}].values")
        kind = scope.get("type")
        found.append((ruby_str(scope.get("path") or ""), ruby_str(kind) if kind else None, dict(values)))
    return tuple(found)


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
