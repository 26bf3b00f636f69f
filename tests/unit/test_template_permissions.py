"""The functions' IAM statements for archives, discovery and full rebuilds: exactly what they need."""

from __future__ import annotations

from typing import Any

from postfeed.local.template import load_template
from tests.conftest import REPO

TEMPLATE = load_template(REPO / "template.yaml")


def statements(function: str) -> dict[str, dict[str, Any]]:
    (policy,) = TEMPLATE["Resources"][function]["Properties"]["Policies"]
    return {statement["Sid"]: statement for statement in policy["Statement"]}


def test_the_ingest_function_may_only_send_to_its_own_queue() -> None:
    sends = [s for s in statements("IngestPostFunction").values() if "sqs:SendMessage" in str(s["Action"])]
    assert sends == [
        {
            "Sid": "EnqueueFullRebuildSteps",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": ["IngestQueue", "Arn"]},
        }
    ]
    variables = TEMPLATE["Resources"]["IngestPostFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["INGEST_QUEUE_URL"] == {"Ref": "IngestQueue"}
    # listing the posts bucket (the full rebuild's plan) was already allowed, for HeadObject's 404
    assert statements("IngestPostFunction")["TellMissingFromForbidden"]["Action"] == "s3:ListBucket"


def test_the_feed_function_deletes_only_archive_pages_and_their_items() -> None:
    granted = statements("BuildFeedsFunction")
    assert granted["RemoveReplacedArchivePages"]["Action"] == "s3:DeleteObject"
    assert granted["RemoveReplacedArchivePages"]["Resource"] == {"Fn::Sub": "${FeedsBucket.Arn}/*archive/*"}
    deletes = granted["RemoveArchivePageAndRegistryItems"]
    assert deletes["Action"] == "dynamodb:DeleteItem"
    assert deletes["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["FEED#*", "FEEDS"]}}
    actions = {a for s in granted.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "dynamodb:PutItem" not in actions  # pages, registry and index state are upserted with UpdateItem


def test_the_stack_outputs_the_ingest_queue_for_postfeed_rebuild() -> None:
    assert TEMPLATE["Outputs"]["IngestQueueUrl"]["Value"] == {"Ref": "IngestQueue"}
