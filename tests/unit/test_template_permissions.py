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


def test_the_feed_function_deletes_only_archive_pages_shelves_and_their_items() -> None:
    granted = statements("BuildFeedsFunction")
    assert granted["RemoveReplacedArchivePages"]["Action"] == "s3:DeleteObject"
    assert granted["RemoveReplacedArchivePages"]["Resource"] == {"Fn::Sub": "${FeedsBucket.Arn}/*archive/*"}
    assert granted["RemoveMergedIndexShelves"]["Action"] == "s3:DeleteObject"
    assert granted["RemoveMergedIndexShelves"]["Resource"] == {"Fn::Sub": "${FeedsBucket.Arn}/index/*"}
    deletes = granted["RemoveArchivePageAndRegistryItems"]
    assert deletes["Action"] == "dynamodb:DeleteItem"
    assert deletes["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["FEED#*", "FEEDS"]}}
    actions = {a for s in granted.values() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "dynamodb:PutItem" not in actions  # pages, registry and index state are upserted with UpdateItem


def test_the_stack_outputs_the_ingest_queue_for_postfeed_rebuild() -> None:
    assert TEMPLATE["Outputs"]["IngestQueueUrl"]["Value"] == {"Ref": "IngestQueue"}


def _notifications(posts_prefix: str) -> list[tuple[str, str]]:
    from postfeed.local.template import Resolver

    resolver = Resolver(
        parameters={"PostsPrefix": posts_prefix},
        refs={},
        attributes={("IngestQueue", "Arn"): "arn:queue"},
        conditions=TEMPLATE["Conditions"],
        pseudo={},
    )
    config = resolver.resolve(TEMPLATE["Resources"]["PostsBucket"]["Properties"]["NotificationConfiguration"])
    return [(c["Event"], c["Filter"]["S3Key"]["Rules"][0]["Value"]) for c in config["QueueConfigurations"]]


def test_the_site_files_reach_the_ingest_function_without_overlapping_notifications() -> None:
    for posts_prefix, extra in (("_posts/", []), ("blog/posts/", ["blog/posts/"])):
        notifications = _notifications(posts_prefix)
        # "_" holds _config.yml, _data/, _drafts/ and every collection's folder (the config names them)
        assert sorted({prefix for _, prefix in notifications}) == sorted(["_", "feed.xslt.xml", *extra])
        for event in ("s3:ObjectCreated:*", "s3:ObjectRemoved:*"):
            prefixes = [prefix for kind, prefix in notifications if kind == event]
            # S3 refuses a configuration where one event's prefixes overlap
            assert not [(a, b) for a in prefixes for b in prefixes if a != b and b.startswith(a)], (posts_prefix, event)


def test_the_ingest_function_reads_only_the_site_files_feeds_depend_on() -> None:
    bucket = "arn:${AWS::Partition}:s3:::${AWS::StackName}-posts-${AWS::AccountId}-${AWS::Region}/"
    reads = statements("IngestPostFunction")["ReadPosts"]
    assert reads["Action"] == "s3:GetObject"
    assert sorted(r["Fn::Sub"].removeprefix(bucket) for r in reads["Resource"]) == sorted(
        ["${PostsPrefix}*", "_config.yml", "feed.xslt.xml", "_*/*"]
    )
    site = statements("IngestPostFunction")["ReadSiteFiles"]
    assert (site["Action"], site["Condition"]) == (
        "dynamodb:Query",
        {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["SITE"]}},
    )
    assert statements("IngestPostFunction")["FindPostsByAuthor"]["Resource"] == {
        "Fn::Sub": "${PostsTable.Arn}/index/authors"
    }


def test_the_feed_function_sees_the_site_stylesheet_and_removes_only_its_copy() -> None:
    event = TEMPLATE["Resources"]["BuildFeedsFunction"]["Properties"]["Events"]["PostStateChanges"]
    (pattern,) = event["Properties"]["FilterCriteria"]["Filters"]
    assert pattern["Pattern"] == '{"dynamodb": {"Keys": {"sk": {"S": ["POST", "XSLT"]}}}}'
    removes = statements("BuildFeedsFunction")["RemoveSiteStylesheet"]
    assert (removes["Action"], removes["Resource"]) == (
        "s3:DeleteObject",
        {"Fn::Sub": "${FeedsBucket.Arn}/feed.xslt.xml"},
    )
