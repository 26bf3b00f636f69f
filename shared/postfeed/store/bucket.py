"""S3 adapters: reading posts (size-capped, never loading an oversized object) and publishing feeds
(only documents whose bytes changed)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from postfeed.store.errors import StoreError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ObjectTooLargeError(StoreError, ValueError):
    """The object is larger than we accept; nothing of it was read."""

    def __init__(self, key: str, size: int, limit: int) -> None:
        super().__init__(f"{key} is {size:,} bytes; posts are limited to {limit:,} bytes")
        self.size = size
        self.limit = limit


@dataclass(frozen=True, slots=True)
class PostObject:
    key: str
    body: bytes
    etag: str


class PostsBucket:
    def __init__(self, name: str, client: S3Client) -> None:
        self.name = name
        self.client = client

    def read(self, key: str, *, limit: int) -> PostObject | None:
        """The object's current bytes, or None if it no longer exists. An object over `limit` bytes
        raises ObjectTooLargeError after reading at most `limit + 1` bytes of it."""
        try:
            # A ranged GET tells the full size (ContentRange) without transferring more than the cap.
            response = self.client.get_object(Bucket=self.name, Key=key, Range=f"bytes=0-{limit}")
        except self.client.exceptions.NoSuchKey:
            return None
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":  # empty object
                return PostObject(
                    key,
                    b"",
                    exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("etag", "").strip('"'),
                )
            raise
        size = _total_size(response.get("ContentRange"), response["ContentLength"])
        if size > limit:
            response["Body"].close()
            raise ObjectTooLargeError(key, size, limit)
        return PostObject(key, response["Body"].read(), response.get("ETag", "").strip('"'))

    def list_keys(self, prefix: str, *, start_after: str = "", limit: int = 1000) -> tuple[list[str], bool]:
        """Up to `limit` keys under `prefix` after `start_after`, in key order; and whether there are more."""
        keys: list[str] = []
        token: str | None = None
        while len(keys) < limit:
            kwargs: dict[str, Any] = {"Bucket": self.name, "Prefix": prefix, "MaxKeys": min(1000, limit - len(keys))}
            if token:
                kwargs["ContinuationToken"] = token
            elif start_after:
                kwargs["StartAfter"] = start_after
            response = self.client.list_objects_v2(**kwargs)
            keys += [obj["Key"] for obj in response.get("Contents", [])]
            token = response.get("NextContinuationToken")
            if not response.get("IsTruncated") or not token:
                return keys, False
        return keys, True

    def list_folders(self, prefix: str) -> list[str]:
        """The folders (`<prefix>…/`) directly under `prefix`, in key order: their objects are not listed."""
        folders: list[str] = []
        kwargs: dict[str, Any] = {"Bucket": self.name, "Prefix": prefix, "Delimiter": "/"}
        while True:
            response = self.client.list_objects_v2(**kwargs)
            folders += [entry["Prefix"] for entry in response.get("CommonPrefixes", [])]
            token = response.get("NextContinuationToken")
            if not response.get("IsTruncated") or not token:
                return folders
            kwargs["ContinuationToken"] = token

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.name, Key=key)
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


def _total_size(content_range: str | None, length: int) -> int:
    # "bytes 0-1048576/20971520" -> 20971520
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        if total.isdigit():
            return int(total)
    return length


# Browsers show application/atom+xml and application/rss+xml as plain text (Chromium) or download them,
# and apply a document's XSLT stylesheet only to generic XML: served as application/xml (as GitHub Pages
# serves jekyll-feed's feed.xml), a feed reads as a page in a browser and is still a feed to every reader.
BROWSER_CONTENT_TYPES = {
    "application/atom+xml": "application/xml",
    "application/rss+xml": "application/xml",
}


def served_content_type(media_type: str, *, browser: bool) -> str:
    """The Content-Type a document is stored (and served) with: its media type, or for Atom and RSS with
    `browser`, application/xml with the same parameters."""
    kind, sep, parameters = media_type.partition(";")
    if not browser or kind.strip() not in BROWSER_CONTENT_TYPES:
        return media_type
    return BROWSER_CONTENT_TYPES[kind.strip()] + sep + parameters


@dataclass(slots=True)
class Published:
    """What `FeedsBucket.put_changed` did: every document's hash, and which it wrote or left alone."""

    hashes: dict[str, str] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


class FeedsBucket:
    def __init__(self, name: str, client: S3Client, *, cache_control: str, browser_types: bool = True) -> None:
        self.name = name
        self.client = client
        self.cache_control = cache_control
        self.browser_types = browser_types

    def put(self, key: str, body: bytes, media_type: str) -> None:
        self.client.put_object(
            Bucket=self.name,
            Key=key,
            Body=body,
            ContentType=served_content_type(media_type, browser=self.browser_types),
            CacheControl=self.cache_control,
        )

    def put_changed(self, documents: Iterable[tuple[str, bytes, str]], published: Mapping[str, str]) -> Published:
        """Put each (key, body, media type) whose SHA-256 differs from `published[key]` (the hashes recorded
        when the documents were last put): an unchanged document costs no PutObject."""
        result = Published()
        for key, body, media_type in documents:
            digest = hashlib.sha256(body).hexdigest()
            result.hashes[key] = digest
            if published.get(key) == digest:
                result.unchanged.append(key)
                continue
            self.put(key, body, media_type)
            result.written.append(key)
        return result

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def delete(self, key: str) -> None:
        """Remove a document (an archive page the paging replaced); deleting a missing key is no error."""
        self.client.delete_object(Bucket=self.name, Key=key)
