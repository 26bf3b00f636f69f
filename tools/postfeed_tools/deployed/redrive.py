"""Moving dead letters back: messages of the ingest DLQ return to the ingest queue, body for body.

Each message is sent to the queue first and deleted from the DLQ only once the send succeeded, so a failure
midway leaves it in the DLQ (visible again after `visibility_timeout`) and never loses it; the worst case,
a delete failing after its send, leaves one copy in each, which the ingest handles as the duplicate it is
(S3 events are applied at most once per key and sequencer). A dry run receives the messages and gives them
back at once, untouched.

Where the messages go: the queue named, or else the one queue whose redrive policy targets the DLQ
(`ListDeadLetterSourceQueues`). Where they come from: the DLQ named, or the stack's
`IngestDeadLetterQueueUrl` output."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from postfeed.store.events import EventShapeError, changes_from_message
from postfeed_tools.errors import ToolsError

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

DLQ_OUTPUT = "IngestDeadLetterQueueUrl"


class RedriveError(ToolsError, RuntimeError):
    """The queues cannot be found or told apart; nothing was moved."""


@dataclass(slots=True)
class RedriveResult:
    dlq_url: str
    queue_url: str
    dry_run: bool
    moved: int = 0  # messages sent to the queue (and deleted from the DLQ); in a dry run, that would be
    keys: list[str] = field(default_factory=list)  # S3 keys named in their events, in order, once each
    not_events: int = 0  # bodies that are not S3 event notifications (moved as they are)
    delete_failures: int = 0  # sent, but still in the DLQ as well: processed twice, harmlessly

    def as_dict(self) -> dict[str, Any]:
        return {
            "dlq_url": self.dlq_url,
            "queue_url": self.queue_url,
            "dry_run": self.dry_run,
            "moved": self.moved,
            "keys": self.keys,
            "not_events": self.not_events,
            "delete_failures": self.delete_failures,
        }


def dlq_url_of_stack(cloudformation: Any, stack: str) -> str:
    """The ingest DLQ's URL from the stack's outputs (`cloudformation`: a boto3 CloudFormation client)."""
    from postfeed_tools.deployed.outputs import StackOutputError, stack_output

    try:
        return stack_output(cloudformation, stack, DLQ_OUTPUT)
    except StackOutputError as exc:
        raise RedriveError(str(exc)) from exc


def source_queue_of(sqs: SQSClient, dlq_url: str) -> str:
    """The one queue whose redrive policy sends its dead letters to `dlq_url`."""
    sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url).get("queueUrls", [])
    if len(sources) != 1:
        found = ", ".join(sources) or "none"
        raise RedriveError(f"{dlq_url} is the dead-letter queue of {found}: name the queue with --queue-url")
    return sources[0]


def redrive(
    sqs: SQSClient,
    *,
    dlq_url: str,
    queue_url: str,
    max_messages: int | None = None,
    dry_run: bool = False,
    visibility_timeout: int = 60,
) -> RedriveResult:
    """Move up to `max_messages` (all when None) from the DLQ to the queue, bodies byte for byte."""
    result = RedriveResult(dlq_url=dlq_url, queue_url=queue_url, dry_run=dry_run)
    seen: set[str] = set()
    held: list[str] = []  # receipt handles a dry run gives back at the end
    keys: dict[str, None] = {}
    try:
        while max_messages is None or result.moved < max_messages:
            wanted = 10 if max_messages is None else min(10, max_messages - result.moved)
            messages = sqs.receive_message(
                QueueUrl=dlq_url,
                MaxNumberOfMessages=wanted,
                VisibilityTimeout=visibility_timeout,
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            fresh = [m for m in messages if m["MessageId"] not in seen]
            if not fresh:
                held += [m["ReceiptHandle"] for m in messages]
                break
            for message in fresh:
                seen.add(message["MessageId"])
                body = message["Body"]
                try:
                    keys.update(dict.fromkeys(change.key for change in changes_from_message(body)))
                except EventShapeError:
                    result.not_events += 1
                if dry_run:
                    held.append(message["ReceiptHandle"])
                else:
                    _move(sqs, message, queue_url, dlq_url, result)
                result.moved += 1
    finally:
        for receipt in held:  # a dry run leaves every message as it found it
            sqs.change_message_visibility(QueueUrl=dlq_url, ReceiptHandle=receipt, VisibilityTimeout=0)
        result.keys = list(keys)
    return result


def _move(sqs: SQSClient, message: Any, queue_url: str, dlq_url: str, result: RedriveResult) -> None:
    send: dict[str, Any] = {"QueueUrl": queue_url, "MessageBody": message["Body"]}
    if message.get("MessageAttributes"):
        send["MessageAttributes"] = message["MessageAttributes"]
    sqs.send_message(**send)  # raises: the message stays in the DLQ
    try:
        sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
    except sqs.exceptions.ClientError:
        result.delete_failures += 1
