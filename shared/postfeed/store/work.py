"""Work items on the ingest queue (besides S3 event notifications): the steps of a full rebuild.

A work item is a JSON object with `"postfeed": "reparse"`:

* a *plan* step `{"postfeed": "reparse", "generation": G, "start_after": K, "prefixes": [P, …]}` lists the
  next keys after K under the folder P in the posts bucket, enqueues them as batches, and enqueues the next
  plan step if there are more (then the next folder's); the first step (no `prefixes`) chooses the folders;
* a *batch* `{"postfeed": "reparse", "generation": G, "keys": [...], "first": N}` re-ingests those posts.

A full rebuild's second phase sends *render groups* to the render queue (the feed function's second event
source): `{"postfeed": "render", "generation": G, "feeds": [[kind, name, collection], …]}`, each feed rendered
once from what the batches recorded (`postfeed.pipeline.fanout`).

Every step is its own message, so a failed one is retried alone (and lands intact in the dead-letter queue
after the queue's maxReceiveCount); re-running a step is harmless (see `postfeed.pipeline.reparse`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from postfeed.store.errors import StoreError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

WORK_MARK = "postfeed"
SQS_BATCH = 10  # SendMessageBatch entries per call
BATCH_KEYS = 20  # posts per batch message (an SQS batch of 10 is then at most 200 posts per invocation)


class WorkItemError(StoreError, ValueError):
    """The message says it is a postfeed work item but is not a valid one."""


class ReparsePlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    kind: Literal["reparse"] = Field(default="reparse", alias="postfeed")
    generation: str = Field(min_length=1, max_length=64)
    start_after: str = ""
    reason: str = ""
    planned: int = 0  # keys enqueued by the earlier plan steps of this generation (progress)
    batches: int = 0  # batch messages sent by the earlier plan steps (the last step records the total)
    # The folders left to list, the current one first; None: the first step, which chooses them.
    prefixes: list[str] | None = None


class ReparseBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    kind: Literal["reparse"] = Field(default="reparse", alias="postfeed")
    generation: str = Field(min_length=1, max_length=64)
    keys: list[str] = Field(min_length=1, max_length=100)
    first: int = 0  # index of keys[0] among every key of this generation (progress)
    reason: str = ""  # set when the batch is not a full rebuild's (e.g. the posts an authors change re-renders)


WorkItem = ReparsePlan | ReparseBatch


class RenderGroup(BaseModel):
    """Feeds a full rebuild touched, to render once each (phase 2, on the render queue)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    kind: Literal["render"] = Field(default="render", alias="postfeed")
    generation: str = Field(min_length=1, max_length=64)
    feeds: list[tuple[str, str, str]] = Field(min_length=1, max_length=100)  # (kind, name, collection)
    # The first feed's entries from this month on only (the rest of a feed too large for one invocation).
    from_month: str = ""


Message = WorkItem | RenderGroup


def encode(item: Message) -> str:
    return json.dumps(item.model_dump(by_alias=True, exclude_defaults=False), ensure_ascii=False, sort_keys=True)


def work_item_from_message(body: str) -> WorkItem | None:
    """The work item in an SQS message body, or None when the body is not one (an S3 notification)."""
    try:
        payload = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(payload, dict) or WORK_MARK not in payload:
        return None
    try:
        if "keys" in payload:
            return ReparseBatch.model_validate(payload)
        return ReparsePlan.model_validate(payload)
    except ValidationError as exc:
        raise WorkItemError(f"not a valid postfeed work item: {exc.errors()[0]['msg']}") from exc


def render_group_from_message(body: str) -> RenderGroup:
    """The render group in a render queue message; WorkItemError if it is not one."""
    try:
        return RenderGroup.model_validate_json(body)
    except ValidationError as exc:
        raise WorkItemError(f"not a valid render group: {exc.errors()[0]['msg']}") from exc


class WorkQueue:
    """The ingest queue, as the sender of work items. Without a client, the handlers' cached SQS client is
    built on first send (most ingest invocations never send anything)."""

    def __init__(self, url: str, client: SQSClient | None = None) -> None:
        self.url = url
        self._client = client

    @property
    def client(self) -> SQSClient:
        if self._client is None:
            from postfeed.store.clients import sqs_client

            self._client = sqs_client()
        return self._client

    def send(self, item: Message) -> None:
        self.client.send_message(QueueUrl=self.url, MessageBody=encode(item))

    def send_all(self, items: Sequence[Message]) -> None:
        """Send every item (SendMessageBatch, ten at a time); raises if any entry failed."""
        for start in range(0, len(items), SQS_BATCH):
            chunk = items[start : start + SQS_BATCH]
            response = self.client.send_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "MessageBody": encode(item)} for i, item in enumerate(chunk)],
            )
            failed = response.get("Failed") or []
            if failed:
                raise RuntimeError(f"{len(failed)} work items were not enqueued: {failed[0].get('Message')}")
