"""parse_post: one file of a Jekyll site -> the Post Jekyll 3.10 would publish, or why not.

Follows Jekyll's Document#read / read_post_data and PostReader: the file name gives date and slug,
front matter overrides them, folders above `_posts/` become categories, Publisher decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from posixpath import splitext
from typing import Any

from postfeed.models import POSTS, Author, Post, Rejected, RenderReads, Site, Skipped

from . import content, errors, plain_text
from .config import author_from
from .dates import date_from_filename, parse_date
from .errors import PostError
from .frontmatter import YamlTimestamp, decode, ruby_str, split
from .liquid import LiquidFailure, LiquidPage, close_open_blocks, has_liquid, ruby_time
from .permalinks import generate_url, placeholders, post_id, style_to_template, titleize_slug
from .render_environment import NO_SITE_FILES, RenderEnvironment

POST_EXTENSIONS = content.MARKDOWN_EXTENSIONS | content.HTML_EXTENSIONS
POSTS_DIR = "_posts"
DRAFTS_DIR = "_drafts"
DRAFTS = "drafts"
# A collection's default permalink (Jekyll's `/:collection/:path:output_ext`).
COLLECTION_PERMALINK = "/:collection/:path:output_ext"
# Document::DATE_FILENAME_MATCHER, applied to the file name.
_DATED_NAME = re.compile(r"^(\d{2,4}-\d{1,2}-\d{1,2})-(.*)(\.[^.]+)$", re.DOTALL)
_HAS_TIME = re.compile(r"\d:\d")


def is_post_path(path: str) -> bool:
    """True for a file under a `_posts/` folder with a Markdown or .html extension."""
    parts = _parts(path)
    return POSTS_DIR in parts[:-1] and splitext(parts[-1])[1].lower() in POST_EXTENSIONS


def collection_of(path: str, site: Site) -> str | None:
    """The collection a site file belongs to: `posts` under a `_posts/` folder, `drafts` under `_drafts/`, a
    declared collection's name under its `_<name>/` folder at the site root; None for anything else."""
    parts = _parts(path)
    if POSTS_DIR in parts[:-1]:
        return POSTS
    if DRAFTS_DIR in parts[:-1]:
        return DRAFTS
    if len(parts) > 1 and parts[0].startswith("_") and parts[0][1:] in site.collections:
        return parts[0][1:]
    return None


def parse_post(
    path: str,
    body: bytes,
    site: Site,
    *,
    now: datetime | None = None,
    env: RenderEnvironment = NO_SITE_FILES,
) -> Post | Skipped | Rejected:
    """Read one post (or draft, or document of a declared collection) as Jekyll does. Pure: no I/O. Never
    raises for bad input (-> Rejected).

    `env` is what the post's Liquid may read besides the post (`_config.yml`'s keys, includes, `_data/`, the
    other posts); the default holds none of them. What the render read is the result's `reads`."""
    try:
        collection = collection_of(path, site)
        if collection == DRAFTS:
            if not site.show_drafts:
                return Skipped(path, errors.SKIP_DRAFT, f"{path}: a draft, published only with show_drafts: true")
            return _parse(path, body, site, now, env, folder=DRAFTS_DIR)
        if collection is not None and collection != POSTS:
            return _parse_document(path, body, site, collection, now, env)
        return _parse(path, body, site, now, env)
    except LiquidFailure as exc:
        return Rejected(path, exc.code, exc.message, exc.line, reads=exc.reads)
    except PostError as exc:
        return Rejected(path, exc.code, exc.message, exc.line)


def _parse_document(
    path: str, body: bytes, site: Site, collection: str, now: datetime | None, env: RenderEnvironment
) -> Post | Skipped:
    """A document of another collection: read like a post, with the collection's folder and permalink."""
    if not any(c.name == collection for c in site.feed.collections):
        detail = f"{path}: collection {collection!r} has no feed (add it to feed.collections)"
        return Skipped(path, errors.SKIP_NO_COLLECTION_FEED, detail)
    return _parse(path, body, site, now, env, collection=collection)


def _parts(path: str) -> list[str]:
    return [part for part in path.replace("\\", "/").split("/") if part and part != "."]


def _parse(
    path: str,
    body: bytes,
    site: Site,
    now: datetime | None,
    env: RenderEnvironment,
    *,
    collection: str = POSTS,
    folder: str | None = None,
) -> Post | Skipped:
    """A post (or, with `folder`, a draft, read as a post), or a document of another `collection`."""
    parts = _parts(path)
    folder = folder or (POSTS_DIR if collection == POSTS else "_" + collection)
    # Drafts and other collections' documents need no date in their name (Jekyll: DraftReader, Collection).
    undated_ok = folder != POSTS_DIR
    if folder not in parts[:-1]:
        return Skipped(path, errors.SKIP_NOT_IN_POSTS, f"{path}: not under a {POSTS_DIR}/ folder")
    posts_at = len(parts) - 1 - parts[::-1].index(folder)
    name = parts[-1]
    if any(p.startswith((".", "_", "#")) or p.endswith("~") for p in parts[posts_at + 1 :]):
        return Skipped(path, errors.SKIP_HIDDEN, f"{path}: Jekyll ignores names starting with . _ # or ending ~")
    if splitext(name)[1].lower() not in POST_EXTENSIONS:
        return Skipped(path, errors.SKIP_EXTENSION, f"{path}: not a Markdown or .html file")
    dated = _DATED_NAME.match(name)
    if dated is None and not undated_ok:
        return Skipped(path, errors.SKIP_NAME_LACKS_DATE, f"{path}: name does not start with YYYY-MM-DD-")
    if dated is not None:
        name_date, name_slug, ext = dated.groups()
    else:
        name_date, (name_slug, ext) = None, splitext(name)
    name_slug = name_slug.rstrip(".")  # Jekyll: slugs shouldn't end with a period

    text = decode(path, body)
    post = split(path, text)
    data = _with_defaults(post.data, "/".join(parts), collection, site)
    tz = site.tz
    if name_date is None and "date" not in data:
        kind = "draft" if folder == DRAFTS_DIR else f"{collection} document"
        detail = f"{path}: a {kind} needs a dated name (YYYY-MM-DD-title) or a date in front matter"
        return Skipped(path, errors.SKIP_UNDATED_DOCUMENT, detail)
    date = _date(path, data, name_date or "", tz)
    title = _title(data, name_slug)
    slug = ruby_str(data["slug"]) if data.get("slug") not in (None, False, "") else name_slug
    categories = _categories(parts[:posts_at] if collection == POSTS else [], data)
    tags = _tags(data)

    output_ext = ".html"
    permalink = data.get("permalink")
    if permalink not in (None, False, ""):
        template = ruby_str(permalink)
    elif collection == POSTS:
        template = style_to_template(site.permalink)
    else:
        template = style_to_template(site.collections.get(collection) or COLLECTION_PERMALINK)
    values = placeholders(
        date=date,
        slug=slug,
        basename=splitext(name)[0],
        categories=categories,
        output_ext=output_ext,
        relative_path="/" + splitext("/".join(parts[posts_at + 1 :]))[0],
    )
    values["collection"] = collection
    url = generate_url(path, template, values)

    # Publisher#publish? runs after the whole document is read: a bad date fails even an unpublished post.
    if "published" in data and data["published"] in (None, False):
        return Skipped(path, errors.SKIP_UNPUBLISHED, f"{path}: front matter published: {data['published']}")
    build_time = now or site.time or datetime.now(UTC)
    if not site.future and int(date.timestamp()) > int(build_time.timestamp()):
        detail = f"{path}: dated {date.isoformat()}, after {build_time.isoformat()}"
        return Skipped(path, errors.SKIP_FUTURE, detail, due=date)

    # The objects a post's Liquid sees (built only when the body holds Liquid; the excerpt is part of it).
    page = (
        None
        if not has_liquid(post.body)
        else LiquidPage(
            site=site,
            page={
                **data,
                "title": title,
                "date": ruby_time(date),
                "slug": slug,
                "url": url,
                "id": post_id(url, slug),
                "categories": list(categories),
                "tags": list(tags),
                "path": "/".join(parts),
                "relative_path": "/".join(parts),
                "collection": collection,
                "ext": ext,
                "name": name,
                "draft": folder == DRAFTS_DIR,
                "content": post.body,
            },
            env=env,
            now=build_time,
            first_line=text.count("\n", 0, len(text) - len(post.body)) + 1,
        )
    )
    rendered = content.render(path, post.body, ext, page)
    excerpt_html, excerpt_warnings, excerpt_reads = _excerpt(path, data, post.body, ext, site, page)
    updated, updated_warnings = _updated(path, data, tz)
    return Post(
        path=path,
        title=title,
        date=date,
        slug=slug,
        url=url,
        absolute_url=site.root_url + url,
        id=post_id(url, slug),
        categories=categories,
        tags=tags,
        content_html=rendered.html,
        excerpt_html=excerpt_html,
        excerpt_text=plain_text.html_to_text(excerpt_html),
        author=_author(data),
        updated=updated,
        warnings=tuple(dict.fromkeys((*post.warnings, *rendered.warnings, *excerpt_warnings, *updated_warnings))),
        image=_image(data),
        lang=_optional_text(data.get("lang")),
        description=_optional_text(data.get("description")),
        excerpt_only=_excerpt_only(data),
        collection=collection,
        reads=rendered.reads.merged(excerpt_reads) if excerpt_reads else rendered.reads,
    )


def _with_defaults(data: dict[str, Any], path: str, collection: str, site: Site) -> dict[str, Any]:
    """Front matter over the site's `defaults:` whose scope holds this file (Jekyll's FrontmatterDefaults):
    a scope applies when its `path` is empty or a prefix of the file's path and its `type` is unset or the
    collection; the more specific scope (longer path, then a type) wins, front matter wins over all."""
    matching = [
        (len(prefix.strip("/")), kind is not None, values)
        for prefix, kind, values in site.defaults
        if _path_in_scope(path, prefix) and kind in (None, collection, collection.rstrip("s"))
    ]
    merged: dict[str, Any] = {}
    for _, _, values in sorted(matching, key=lambda rule: (rule[0], rule[1])):
        merged = _deep_merge(merged, dict(values))
    return _deep_merge(merged, data) if merged else data


def _path_in_scope(path: str, prefix: str) -> bool:
    prefix = prefix.strip().strip("/")
    return prefix in ("", ".") or path == prefix or path.startswith(prefix + "/")


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _optional_text(value: object) -> str | None:
    if value is None or value is False or isinstance(value, list | dict):
        return None
    text = ruby_str(value)
    return text if text.strip() else None


def _image(data: dict[str, Any]) -> str | None:
    """jekyll-feed's `post.image.path | default: post.image`."""
    value = data.get("image")
    if isinstance(value, dict):
        value = value.get("path")
    return _optional_text(value)


def _excerpt_only(data: dict[str, Any]) -> bool | None:
    """Front matter `feed: {excerpt_only: true}`. jekyll-feed reads `post.feed.excerpt_only | default: site's`,
    and Liquid's `default` replaces false too: only a true value decides, a false one leaves the site's."""
    feed = data.get("feed")
    if not isinstance(feed, dict) or feed.get("excerpt_only") in (None, False, ""):
        return None
    return True


def _date(path: str, data: dict[str, Any], name_date: str, tz: tzinfo) -> datetime:
    if "date" not in data:
        return date_from_filename(name_date, tz)
    value = data["date"]
    text = ruby_str(value)
    # Psych reads an unquoted date-time without offset as UTC; a bare unquoted date is local midnight.
    assume_utc = isinstance(value, YamlTimestamp) and bool(_HAS_TIME.search(text))
    try:
        return parse_date(text, tz, assume_utc=assume_utc, what="front matter date")
    except PostError as exc:
        raise PostError(exc.code, f"{path}: {exc.message}") from exc


def _title(data: dict[str, Any], slug: str) -> str:
    value = data.get("title")
    if value is None or value is False:  # Ruby's `||=`: only nil and false fall back, "" stays
        return titleize_slug(slug)
    return ruby_str(value)


def _names(values: Iterable[object]) -> list[str]:
    """Items as strings, nested lists flattened, nils and empty names dropped."""
    out: list[str] = []
    for value in values:
        if isinstance(value, list):
            out += _names(value)
        elif value is not None and ruby_str(value) != "":
            out.append(ruby_str(value))
    return out


def _plural(value: object) -> list[object]:
    """Utils.value_from_plural_key: a string splits on whitespace, a list is taken item by item."""
    if isinstance(value, str):
        return list(value.split())
    if isinstance(value, list):
        return list(value)
    return [] if value is None else [value]


def _categories(folders: list[str], data: dict[str, Any]) -> tuple[str, ...]:
    """Folders above _posts, then `categories`, then `category` (one name); order kept, no repeats."""
    names = list(folders) + _names(_plural(data.get("categories")))
    single = data.get("category")
    if single is not None and single is not False:
        names += _names(single if isinstance(single, list) else [single])
    return tuple(dict.fromkeys(names))


def _tags(data: dict[str, Any]) -> tuple[str, ...]:
    """`tag` (one name) if given, else `tags` (split like categories)."""
    single = data.get("tag")
    if single is not None and single is not False:
        names = _names(single if isinstance(single, list) else [single])
    else:
        names = _names(_plural(data.get("tags")))
    return tuple(dict.fromkeys(names))


def _excerpt(
    path: str, data: dict[str, Any], body: str, ext: str, site: Site, page: LiquidPage | None
) -> tuple[str, tuple[str, ...], RenderReads]:
    given = data.get("excerpt")
    if given is not None and given is not False:
        return ruby_str(given), (), RenderReads()  # used as written, like Jekyll: not rendered
    separator = data.get("excerpt_separator")
    separator = ruby_str(separator) if separator not in (None, False) else site.excerpt_separator
    if separator == "":
        return "", (), RenderReads()
    # Jekyll's Excerpt closes the block tags the cut left open before rendering it.
    rendered = content.render(path, close_open_blocks(content.extract_excerpt(body, separator)), ext, page)
    return rendered.html, rendered.warnings, rendered.reads


def _updated(path: str, data: dict[str, Any], tz: tzinfo) -> tuple[datetime | None, tuple[str, ...]]:
    value = data.get("last_modified_at", data.get("updated"))
    if value is None or value == "":
        return None, ()
    text = ruby_str(value)
    assume_utc = isinstance(value, YamlTimestamp) and bool(_HAS_TIME.search(text))
    try:
        return parse_date(text, tz, assume_utc=assume_utc, what="last_modified_at"), ()
    except PostError as exc:
        return None, (f"{path}: {exc.message}; ignored",)


def _author(data: dict[str, Any]) -> Author | None:
    value = data.get("author")
    if value is None:
        authors = data.get("authors")
        value = authors[0] if isinstance(authors, list) and authors else None
    if isinstance(value, list):
        value = value[0] if value else None
    return author_from(value)
