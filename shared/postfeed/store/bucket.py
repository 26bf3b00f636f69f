"""S3 adapters: reading posts (size-capped, never loading an oversized object) and publishing feeds
(only documents whose bytes changed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class ObjectTooLargeError(ValueError):
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


class FeedsBucket:
    def __init__(self, name: str, client: S3Client, *, cache_control: str) -> None:
        self.name = name
        self.client = client
        self.cache_control = cache_control

    def put(self, key: str, body: bytes, media_type: str) -> None:
        self.client.put_object(
            Bucket=self.name,
            Key=key,
            Body=body,
            ContentType=media_type,
            CacheControl=self.cache_control,
        )

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def delete(self, key: str) -> None:
        """Remove a document (an archive page the paging replaced); deleting a missing key is no error."""
        self.client.delete_object(Bucket=self.name, Key=key)
