"""Deployment settings (from the functions' environment) and the site settings they imply."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from postfeed.models import Author, Site

MIB = 1024 * 1024
# Top-level folders Jekyll never reads documents from: never a collection's documents, so never routed as
# one (their events are ignored; a full rebuild does not list them).
NOT_COLLECTIONS = frozenset({"_data", "_drafts", "_includes", "_layouts", "_plugins", "_posts", "_sass", "_site"})


@dataclass(frozen=True, slots=True)
class Settings:
    posts_bucket: str
    feeds_bucket: str
    table_name: str
    posts_prefix: str = "_posts/"
    config_key: str = "_config.yml"
    drafts_prefix: str = "_drafts/"
    stylesheet_key: str = "feed.xslt.xml"
    max_post_bytes: int = MIB
    # `_data/` files and `feed.xslt.xml` are kept in the table: well under DynamoDB's 400 KB item.
    max_site_file_bytes: int = 256 * 1024
    cache_control: str = "public, max-age=300"
    lease_seconds: float = 90.0
    # Template parameters, as `_config.yml` keys: the defaults under the bucket's own `_config.yml`. Left out
    # of the hash (a mapping has none; equality still compares it), so Settings keys the site caches.
    site_defaults: Mapping[str, Any] = field(default_factory=dict, hash=False)
    feed_base_url: str | None = None
    websub_hub: str | None = None
    # WebSub notifications: seconds per request, attempts per document, seconds for all of an invocation.
    websub_timeout: float = 3.0
    websub_attempts: int = 3
    websub_budget: float = 10.0
    # The ingest queue, for the work items of a full rebuild (the ingest function sends them to itself).
    ingest_queue_url: str | None = None
    # The render queue: a full rebuild's second phase, the feeds it touched in groups (postfeed.pipeline.fanout).
    render_queue_url: str | None = None
    # Atom and RSS served as application/xml so browsers apply feed.xsl ("browser"), or as
    # application/atom+xml and application/rss+xml ("registered"); see store.bucket.
    feed_content_types: str = "browser"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults: dict[str, Any] = {}
        for variable, key in (
            ("SITE_URL", "url"),
            ("SITE_BASEURL", "baseurl"),
            ("SITE_TITLE", "title"),
            ("SITE_DESCRIPTION", "description"),
            ("SITE_TIMEZONE", "timezone"),
            ("SITE_LANG", "lang"),
            ("SITE_PERMALINK", "permalink"),
        ):
            if env.get(variable):
                defaults[key] = env[variable]
        if env.get("POSTS_LIMIT"):
            defaults["feed"] = {"posts_limit": int(env["POSTS_LIMIT"])}
        return cls(
            posts_bucket=env["POSTS_BUCKET"],
            feeds_bucket=env["FEEDS_BUCKET"],
            table_name=env["POSTS_TABLE"],
            posts_prefix=env.get("POSTS_PREFIX", "_posts/"),
            config_key=env.get("CONFIG_KEY", "_config.yml"),
            max_post_bytes=int(env.get("MAX_POST_BYTES", MIB)),
            cache_control=env.get("FEED_CACHE_CONTROL", "public, max-age=300"),
            lease_seconds=float(env.get("FEED_LEASE_SECONDS", 90)),
            site_defaults=defaults,
            feed_base_url=env.get("FEED_BASE_URL") or None,
            websub_hub=env.get("WEBSUB_HUB") or None,
            websub_timeout=float(env.get("WEBSUB_TIMEOUT_SECONDS") or 3.0),
            websub_attempts=int(env.get("WEBSUB_ATTEMPTS") or 3),
            websub_budget=float(env.get("WEBSUB_BUDGET_SECONDS") or 10.0),
            ingest_queue_url=env.get("INGEST_QUEUE_URL") or None,
            render_queue_url=env.get("RENDER_QUEUE_URL") or None,
            feed_content_types=env.get("FEED_CONTENT_TYPES") or "browser",
        )

    def is_post_key(self, key: str) -> bool:
        """Keys the pipeline reads as posts: under the posts prefix, a file (not a folder marker)."""
        return key.startswith(self.posts_prefix) and not key.endswith("/")

    def is_data_key(self, key: str) -> bool:
        """A `_data/` file Jekyll reads into `site.data` (`.yml`, `.yaml`, `.json`, `.csv`, `.tsv`)."""
        from postfeed.jekyll.sitefiles import data_name

        return data_name(key) is not None

    def is_include_key(self, key: str) -> bool:
        """A file under `_includes/` (what `{% include name %}` reads), not a folder marker."""
        from postfeed.jekyll.sitefiles import include_name

        return include_name(key) is not None

    def is_draft_key(self, key: str) -> bool:
        return key.startswith(self.drafts_prefix) and not key.endswith("/")

    def collection_folder(self, key: str) -> str | None:
        """`name` for a file under a top-level `_<name>/` folder that may be a collection's (whether the site
        declares it is the config's to say); None for any other key."""
        folder, slash, rest = key.partition("/")
        if not slash or not rest or rest.endswith("/") or len(folder) < 2 or not folder.startswith("_"):
            return None
        return None if folder in NOT_COLLECTIONS else folder[1:]

    def site(
        self, config_yaml: bytes | None, *, authors: Mapping[str, Author] | None = None, xslt: bool = False
    ) -> Site:
        """Site settings: the bucket's `_config.yml` wins, template parameters fill what it leaves out;
        `authors` is `site.data.authors`, `xslt` whether the site has its own `feed.xslt.xml`.

        Raises `postfeed.jekyll.ConfigError` when the config cannot be read."""
        site = _parsed_site(config_yaml or b"", json.dumps(dict(self.site_defaults), sort_keys=True, default=str))
        feed = dataclasses.replace(
            site.feed,
            base_url=self.feed_base_url or site.feed.base_url,
            hub=self.websub_hub or site.feed.hub,
            xslt=xslt,
        )
        return dataclasses.replace(site, feed=feed, authors=dict(authors or {}))


@functools.lru_cache(maxsize=8)
def _parsed_site(config_yaml: bytes, defaults: str) -> Site:
    """The site of one config version, parsed once per process (a batch reads many posts under one config).

    Raises `postfeed.jekyll.ConfigError` when the config cannot be read (a file nested past any reasonable
    depth included: the reader's own limits turn it into a recorded error, never a RecursionError)."""
    from postfeed.jekyll import load_site

    return load_site(config_yaml or None, defaults=json.loads(defaults))
