"""What a run leaves to read back for `report.json`: each post's outcome and each site file's, read from the
table; whether `_config.yml` is in force; what was published, summed up from the exported documents; the
dead-letter queue's depth, and why the functions failed when they cannot even be loaded."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from postfeed_tools.local.export import feed_stem
from postfeed_tools.local.sitefiles import STYLESHEET_NAME

if TYPE_CHECKING:
    from postfeed.pipeline.settings import Settings
    from postfeed_tools.local.pipeline import LocalPipeline

NOT_PROCESSED = "not_processed"
FEED_FORMATS = ("atom", "rss", "json")
PAGE_FORMAT = "html"  # a feed's HTML page (feeds.page): beside its feed, not a feed format


def post_items(pipeline: LocalPipeline) -> dict[str, dict[str, Any]]:
    """Every post item of the table, by key (one paginated Scan, without the entries' content)."""
    from postfeed.store.items import POST_SK
    from postfeed.store.table import from_attributes

    client, found = pipeline.table.client, {}
    pages = client.get_paginator("scan").paginate(
        TableName=pipeline.table.name,
        FilterExpression="sk = :post",
        ProjectionExpression="#k, #s, #r, #e, #sk, #w, #n.#t, #n.#u",
        ExpressionAttributeNames={
            "#k": "key",
            "#s": "state",
            "#r": "rejected",
            "#e": "error",
            "#sk": "skip",
            "#w": "warnings",
            "#n": "entry",
            "#t": "title",
            "#u": "absolute_url",
        },
        ExpressionAttributeValues={":post": {"S": POST_SK}},
    )
    for page in pages:
        for raw in page.get("Items", []):
            item = from_attributes(raw)
            found[item["key"]] = item
    return found


def post_report(key: str, item: dict[str, Any] | None, settings: Settings) -> dict[str, Any]:
    """One post's outcome: published | skipped | error (with code/message, or reason/detail)."""
    if item is None:
        readable = settings.is_post_key(key) or settings.is_draft_key(key) or settings.collection_folder(key)
        if not readable and key != settings.config_key:
            return {
                "key": key,
                "status": "skipped",
                "reason": "outside_posts_prefix",
                "detail": f"{key}: the pipeline only reads posts under {settings.posts_prefix!r} (PostsPrefix)",
            }
        return {
            "key": key,
            "status": "error",
            "code": NOT_PROCESSED,
            "message": f"{key}: no state in the table: its event failed (see the dead-letter queue)",
            "line": None,
        }
    entry: dict[str, Any] = {"key": key}
    state = item.get("state")
    if item.get("rejected") == "1":
        error = item.get("error") or {}
        entry |= {
            "status": "error",
            "code": error.get("code"),
            "message": error.get("message"),
            "line": error.get("line"),
        }
        if state == "published":
            entry["kept_previous"] = True  # an earlier good version stays in the feeds
    elif state == "skipped":
        skip = item.get("skip") or {}
        entry |= {"status": "skipped", "reason": skip.get("reason"), "detail": skip.get("detail")}
    elif state == "published":
        published = item.get("entry") or {}
        entry |= {"status": "published", "title": published.get("title"), "url": published.get("absolute_url")}
        if item.get("warnings"):
            entry["warnings"] = list(item["warnings"])
    else:
        entry["status"] = str(state)
    return entry


def published_report(posts: list[dict[str, Any]], exported: list[dict[str, Any]]) -> dict[str, Any]:
    """report.json's account of what a site published: `totals` (posts by status, feeds, documents, pages,
    other files), then `posts`, `feeds` (feed documents), `pages` (feeds' HTML pages: listed apart) and
    `other_files`, from each post's outcome and each exported file's `feed_summary`."""
    feeds = [doc for doc in exported if doc["format"] in FEED_FORMATS]
    pages = [doc for doc in exported if doc["format"] == PAGE_FORMAT]
    others = [doc["key"] for doc in exported if doc["format"] not in (*FEED_FORMATS, PAGE_FORMAT)]
    statuses = Counter(p["status"] for p in posts)
    totals = {
        "posts": len(posts),
        **{status: statuses.get(status, 0) for status in ("published", "skipped", "error")},
        "feeds": len({feed_stem(f["key"]) for f in feeds if not f.get("archive")}),
        "documents": len(feeds),
        "pages": len(pages),
        "other_files": len(others),
    }
    return {"totals": totals, "posts": posts, "feeds": feeds, "pages": pages, "other_files": others}


def site_file_report(pipeline: LocalPipeline, keys: list[str]) -> list[dict[str, Any]]:
    """How each uploaded site file fared: `stored` (in force), or `error` with its code, message and line
    (`kept_previous` when an earlier good version stays in force), read back from the table."""
    from postfeed.jekyll.sitefiles import include_name
    from postfeed.pipeline.sitefiles import data_sk, include_sk
    from postfeed.store.table import STYLESHEET_SK

    report = []
    for key in keys:
        sk = include_sk(key) if include_name(key) is not None else data_sk(key)
        item = pipeline.table.get_site_item(STYLESHEET_SK if key == STYLESHEET_NAME else sk)
        entry: dict[str, Any] = {"key": key}
        if item is None:
            entry |= {"status": "error", "code": "not_processed", "message": f"{key}: no state in the table"}
        elif item.get("rejected") == "1":
            error = item.get("error") or {}
            entry |= {"status": "error", "code": error.get("code"), "message": error.get("message")}
            entry |= {"line": error.get("line")}
            if item.get("state") == "stored":
                entry["kept_previous"] = True
        else:
            entry["status"] = str(item.get("state"))
        report.append(entry)
    return report


def config_report(pipeline: LocalPipeline, settings: Settings, config: bytes | None, key: str) -> dict[str, Any]:
    """Whether the site's `_config.yml` is in force (the table holds it), and why not if it is not: the error the
    ingest function recorded (code, message, line; `kept_previous` when an earlier good config stays in force)."""
    from postfeed.jekyll import ConfigError

    if config is None:
        return {"key": None, "status": "absent"}
    stored = pipeline.table.get_config()
    if stored and stored.get("rejected") == "1":
        error = stored.get("error") or {}
        report = {"key": key, "status": "error", "code": error.get("code"), "message": error.get("message")}
        return report | {"line": error.get("line")} | ({"kept_previous": True} if stored.get("raw") else {})
    if stored and stored.get("raw") == config:
        return {"key": key, "status": "published"}
    try:
        settings.site(config)
    except ConfigError as exc:
        return {"key": key, "status": "error", "code": exc.code, "message": f"{key}: {exc}"}
    return {"key": key, "status": "error", "code": "not_processed", "message": f"{key}: not in the table"}


def site_notes(settings: Settings, config: bytes | None) -> dict[str, Any]:
    """`{"notes": [...]}`: what the site's settings do to its feeds that is easy to miss (links left relative
    for want of an absolute `url`); `{}` when there is nothing to say or the config cannot be read."""
    from postfeed.feeds.content import relative_links_note
    from postfeed.jekyll import ConfigError

    try:
        site = settings.site(config)
    except ConfigError:
        return {}
    note = relative_links_note(site.url)
    return {"notes": [note]} if note else {}


def diagnose_functions(pipeline: LocalPipeline) -> list[str]:
    """Why the functions failed, when they cannot even be loaded (the usual cause of every event failing:
    the glue, like Lambda, only returns such a batch to the queue)."""
    from postfeed_tools.local.glue import function_environment, load_handler

    problems = []
    for function in pipeline.stack.functions.values():
        try:
            with function_environment({**function.environment, **pipeline.glue.environment}):
                load_handler(function)
        except Exception as exc:
            problems.append(f"{function.logical_id} cannot be loaded: {type(exc).__name__}: {exc}")
    return problems


def queue_depth(pipeline: LocalPipeline, url: str) -> int:
    if not url:
        return 0
    attributes = pipeline.glue.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
        attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
    )
