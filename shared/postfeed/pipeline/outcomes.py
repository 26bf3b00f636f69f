"""What ingesting one change did (`Outcome`): the ingest of posts (`pipeline.ingest`) and of site files
(`pipeline.sitefiles`) both answer with it, and a full rebuild's batches (`pipeline.reparse`) collect it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    PUBLISHED = "published"
    SKIPPED = "skipped"
    REJECTED = "rejected"
    DELETED = "deleted"
    UNCHANGED = "unchanged"
    STALE = "stale"
    IGNORED = "ignored"
    CONFIG = "config"


@dataclass(frozen=True, slots=True)
class Outcome:
    key: str
    action: Action
    code: str | None = None
    message: str | None = None
