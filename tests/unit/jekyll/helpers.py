"""Builders for hostile and ordinary posts, made in the tests themselves."""

from __future__ import annotations

from datetime import UTC, datetime

from postfeed.jekyll import load_site, parse_post
from postfeed.models import Post, Rejected, Site, Skipped

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SHANGHAI = load_site(timezone="Asia/Shanghai", url="https://example.com")


def post_bytes(front_matter: str, body: str = "Hello.\n") -> bytes:
    return f"---\n{front_matter}---\n{body}".encode()


def parse(
    front_matter: str = "title: T\n",
    body: str = "Hello.\n",
    *,
    path: str = "_posts/2024-01-02-hello-world.md",
    site: Site = SHANGHAI,
) -> Post | Skipped | Rejected:
    return parse_post(path, post_bytes(front_matter, body), site, now=NOW)


def published(front_matter: str = "title: T\n", body: str = "Hello.\n", **kwargs: object) -> Post:
    result = parse(front_matter, body, **kwargs)  # type: ignore[arg-type]
    assert isinstance(result, Post), result
    return result


def rejected(body: bytes, path: str = "_posts/2024-01-02-x.md", site: Site = SHANGHAI) -> Rejected:
    result = parse_post(path, body, site, now=NOW)
    assert isinstance(result, Rejected), result
    assert path in result.message
    return result
