"""Event shapes at the edge: S3 notifications (as SQS message bodies) -> typed object changes.

Validated with pydantic, leniently: moto's notifications lack the identity fields and the sequencer
that real S3 sends, and keys arrive URL-encoded (`+` for spaces) in both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from postfeed.store.errors import StoreError


class ChangeKind(StrEnum):
    PUT = "put"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class ObjectChange:
    """One S3 object created or removed."""

    bucket: str
    key: str
    kind: ChangeKind
    sequencer: str | None  # normalised for ordering; None when the event carries none
    size: int | None = None
    etag: str | None = None
    # Set by a full rebuild (postfeed.pipeline.reparse): re-ingest under this generation even if unchanged.
    generation: str | None = None


class EventShapeError(StoreError, ValueError):
    """The message is not an S3 event notification we understand."""


class _S3Object(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    key: str
    size: int | None = None
    etag: str | None = Field(default=None, alias="eTag")
    sequencer: str | None = None


class _S3Bucket(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str


class _S3Entity(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    bucket: _S3Bucket
    object: _S3Object


class _S3Record(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    event_name: str = Field(alias="eventName")
    s3: _S3Entity


class _S3Notification(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    records: list[_S3Record] = Field(alias="Records")


SEQUENCER_WIDTH = 32


def normalise_sequencer(raw: str | None) -> str | None:
    """S3 sequencers are hex strings of varying length: AWS says to left-pad the shorter with zeros and
    compare lexicographically. We store them padded (upper case), so string order is event order."""
    if not raw:
        return None
    value = raw.strip().upper()
    if not value or any(ch not in "0123456789ABCDEF" for ch in value):
        return None
    return value.rjust(SEQUENCER_WIDTH, "0")


def changes_from_message(body: str) -> list[ObjectChange]:
    """The object changes in one SQS message body; [] for `s3:TestEvent` (sent when notifications are set up)."""
    try:
        payload = json.loads(body)
    except json.JSONDecodeError as exc:
        raise EventShapeError(f"message body is not JSON: {exc}") from exc
    if isinstance(payload, dict) and payload.get("Event") == "s3:TestEvent":
        return []
    try:
        notification = _S3Notification.model_validate(payload)
    except ValidationError as exc:
        raise EventShapeError(f"not an S3 event notification: {exc.errors()[0]['msg']}") from exc
    changes = []
    for record in notification.records:
        if record.event_name.startswith("ObjectCreated:"):
            kind = ChangeKind.PUT
        elif record.event_name.startswith("ObjectRemoved:"):
            kind = ChangeKind.DELETE
        else:
            continue  # restore, tagging, ACL…: nothing a feed depends on
        obj = record.s3.object
        changes.append(
            ObjectChange(
                bucket=record.s3.bucket.name,
                key=unquote_plus(obj.key),
                kind=kind,
                sequencer=normalise_sequencer(obj.sequencer),
                size=obj.size,
                etag=obj.etag.strip('"') if obj.etag else None,
            )
        )
    return changes
