"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1) documents of a :class:`Channel`.

The pydantic models follow the spec's field names and order; serialisation is deterministic
(field order as declared, ``None`` left out, UTF-8 without ``\\u`` escapes for non-ASCII).
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict

from postfeed.feeds.atom_rss import rfc3339
from postfeed.feeds.channel import Channel, Entry, Person, language_tag
from postfeed.feeds.paths import FeedFormat

__all__ = ("JSONFEED_VERSION", "JsonAuthor", "JsonFeed", "JsonHub", "JsonItem", "render_json")

JSONFEED_VERSION = "https://jsonfeed.org/version/1.1"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JsonAuthor(_Model):
    name: str
    url: str | None = None


class JsonHub(_Model):
    type: str
    url: str


class JsonItem(_Model):
    id: str
    url: str
    title: str
    content_html: str | None = None
    content_text: str | None = None
    summary: str | None = None
    image: str | None = None
    date_published: str
    date_modified: str
    authors: list[JsonAuthor]
    tags: list[str] | None = None
    language: str | None = None


class JsonFeed(_Model):
    version: Literal["https://jsonfeed.org/version/1.1"] = "https://jsonfeed.org/version/1.1"
    title: str
    home_page_url: str
    feed_url: str
    description: str | None = None
    icon: str | None = None
    favicon: str | None = None
    authors: list[JsonAuthor]
    language: str | None = None
    hubs: list[JsonHub] | None = None
    items: list[JsonItem]


def _author(person: Person) -> JsonAuthor:
    url = person.uri or (f"mailto:{person.email}" if person.email else None)
    return JsonAuthor(name=person.name, url=url)


def _item(entry: Entry) -> JsonItem:
    # An item needs content_html or content_text: with excerpts only, the summary is the content.
    return JsonItem(
        id=entry.id,
        url=entry.link,
        title=entry.title,
        content_html=entry.content_html,
        content_text=entry.summary if entry.content_html is None else None,
        summary=entry.summary or None,
        image=entry.image,
        date_published=rfc3339(entry.published),
        date_modified=rfc3339(entry.updated),
        authors=[_author(entry.author)],
        tags=list(entry.terms) or None,
        language=language_tag(entry.language),
    )


def build_json_feed(channel: Channel) -> JsonFeed:
    return JsonFeed(
        title=channel.title,
        home_page_url=channel.home_url,
        feed_url=channel.urls[FeedFormat.JSON],
        description=channel.subtitle,
        icon=channel.logo,
        favicon=channel.icon,
        authors=[_author(channel.author)],
        language=language_tag(channel.language),
        hubs=[JsonHub(type="WebSub", url=channel.hub)] if channel.hub else None,
        items=[_item(entry) for entry in channel.entries],
    )


def render_json(channel: Channel) -> bytes:
    """The JSON Feed 1.1 document, UTF-8, indented, with a final newline."""
    data = build_json_feed(channel).model_dump(mode="json", exclude_none=True)
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
