"""template.yaml, read as data: least-privilege IAM, nothing public, everything encrypted, TLS only, the feeds
bucket readable by CloudFront (OAC) alone. A change that widens any of it fails here, by name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from postfeed_tools.local.stack import TEMPLATE
from postfeed_tools.local.template import load_template

RESOURCES: dict[str, Any] = load_template(TEMPLATE)["Resources"]

# Wildcards that cannot be narrowed, each with why. Keyed by (logical id, statement Sid).
JUSTIFIED_WILDCARDS = {
    ("BuildFeedsRole", "PublishFeeds"): "the site feed's path comes from _config.yml (feed.path): any key",
    ("BuildFeedsRole", "RemoveReplacedArchivePages"): "archive folders sit beside feeds named by posts",
    ("FeedsBucketPolicy", "AllowCloudFrontRead"): "CloudFront serves every document of the bucket",
    **{
        (role, "SendTraces"): "X-Ray has no resource-level permissions"
        for role in ("IngestPostRole", "PublishDueRole", "BuildFeedsRole")
    },
}


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r.get("Properties", {}) for lid, r in RESOURCES.items() if r["Type"] == kind}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def text(value: Any) -> str:
    """An ARN as written: `!Sub` strings as they are, `!GetAtt X.Arn` as `<X.Arn>`."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return str(sub if isinstance(sub, str) else sub[0])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "<" + ".".join(value["Fn::GetAtt"]) + ">"
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    return str(value)


def statements() -> Iterator[tuple[str, dict[str, Any]]]:
    """(logical id, statement) of every policy document in the template."""
    for lid, resource in RESOURCES.items():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        documents: list[Any] = []
        if kind == "AWS::Serverless::Function":
            documents = as_list(props.get("Policies", []))
        elif kind in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [props["PolicyDocument"]]
        elif kind == "AWS::IAM::Role":
            # a policy under a condition (`!If [Cond, policy, !Ref AWS::NoValue]`) counts as granted
            policies = [p["Fn::If"][1] if "Fn::If" in p else p for p in props.get("Policies", [])]
            documents = [p["PolicyDocument"] for p in policies]
        for document in documents:
            inline = f"{lid}: only inline policy documents (no managed policies or SAM policy templates)"
            assert isinstance(document, dict), inline
            assert "Statement" in document, inline
            for statement in as_list(document["Statement"]):
                yield lid, statement


def allows() -> Iterator[tuple[str, dict[str, Any]]]:
    return ((lid, s) for lid, s in statements() if s["Effect"] == "Allow")


def test_every_statement_is_named() -> None:
    assert [lid for lid, statement in statements() if not statement.get("Sid")] == []


def test_no_wildcard_actions_are_allowed() -> None:
    wild = [(lid, s["Sid"], a) for lid, s in allows() for a in as_list(s["Action"]) if "*" in a]
    assert wild == []


def test_no_resource_wildcard_that_could_be_narrowed() -> None:
    broad = []
    for lid, statement in allows():
        for resource in as_list(statement.get("Resource", "*")):
            arn = text(resource)
            if "*" in arn and (lid, statement["Sid"]) not in JUSTIFIED_WILDCARDS:
                # a key prefix (posts/…*) is narrow; a whole bucket, table or account is not
                whole = arn == "*" or arn.endswith(("}/*", ":::*", ">/*", ":*")) or "/*/" in arn
                if whole:
                    broad.append((lid, statement["Sid"], arn))
    assert broad == []


def test_justified_wildcards_still_exist() -> None:
    # an entry that no longer matches a statement would silently excuse a future one
    named = {(lid, s["Sid"]) for lid, s in allows()}
    assert set(JUSTIFIED_WILDCARDS) <= named


def test_nothing_is_allowed_to_everyone() -> None:
    public = [
        (lid, s["Sid"])
        for lid, s in allows()
        if s.get("Principal") == "*"
        or (isinstance(s.get("Principal"), dict) and "*" in as_list(s["Principal"].get("AWS")))
    ]
    assert public == []


def test_deny_statements_are_only_the_tls_guards() -> None:
    # `s3:*` for `Principal: "*"` is deny-all by design, and only when the request is not over TLS
    for lid, statement in statements():
        if statement["Effect"] != "Deny":
            continue
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, (lid, statement["Sid"])


def test_service_principals_are_pinned_to_their_source() -> None:
    for lid, statement in allows():
        principal = statement.get("Principal")
        if isinstance(principal, dict) and "Service" in principal:
            condition = statement.get("Condition", {})
            keys = {key.lower() for test in condition.values() for key in test}
            assert "aws:sourcearn" in keys, (lid, statement["Sid"], "a service principal without aws:SourceArn")


@pytest.mark.parametrize("bucket", sorted(of_type("AWS::S3::Bucket")))
def test_buckets_are_encrypted_private_and_without_acls(bucket: str) -> None:
    props = of_type("AWS::S3::Bucket")[bucket]
    rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(r["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms") for r in rules)
    block = props["PublicAccessBlockConfiguration"]
    assert all(
        block[k] is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    )
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]  # ACLs off
    assert "AccessControl" not in props
    assert "WebsiteConfiguration" not in props


def test_nothing_sets_an_acl() -> None:
    def walk(value: Any, path: str) -> Iterator[str]:
        if isinstance(value, dict):
            for key, child in value.items():
                if key in ("AccessControl", "AccessControlPolicy", "AccessControlTranslation"):
                    yield f"{path}.{key}"
                yield from walk(child, f"{path}.{key}")
        elif isinstance(value, list):
            for index, child in enumerate(value):
                yield from walk(child, f"{path}[{index}]")

    assert list(walk(RESOURCES, "Resources")) == []


def test_posts_bucket_is_versioned() -> None:
    posts = next(p for p in of_type("AWS::S3::Bucket").values() if "NotificationConfiguration" in p)
    assert posts["VersioningConfiguration"]["Status"] == "Enabled"


@pytest.mark.parametrize("bucket", sorted(of_type("AWS::S3::Bucket")))
def test_every_bucket_accepts_tls_only(bucket: str) -> None:
    policies = [p for p in of_type("AWS::S3::BucketPolicy").values() if p["Bucket"] == {"Ref": bucket}]
    assert len(policies) == 1, f"{bucket}: one bucket policy expected"
    deny = [
        s
        for s in as_list(policies[0]["PolicyDocument"]["Statement"])
        if s["Effect"] == "Deny"
        and s.get("Principal") == "*"
        and as_list(s["Action"]) == ["s3:*"]
        and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(deny) == 1
    covered = {text(r) for r in as_list(deny[0]["Resource"])}
    assert covered == {f"<{bucket}.Arn>", f"${{{bucket}.Arn}}/*"}  # the bucket and every object


def test_feeds_bucket_is_readable_by_cloudfront_through_oac_only() -> None:
    (policy,) = [p for p in of_type("AWS::S3::BucketPolicy").values() if p["Bucket"] == {"Ref": "FeedsBucket"}]
    allowed = [s for s in as_list(policy["PolicyDocument"]["Statement"]) if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allowed] == [{"Service": "cloudfront.amazonaws.com"}]
    (read,) = allowed
    assert as_list(read["Action"]) == ["s3:GetObject"]
    source = text(read["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert source.endswith(":distribution/${FeedsDistribution}")  # this stack's distribution, no other
    (distribution,) = of_type("AWS::CloudFront::Distribution").values()
    (origin,) = distribution["DistributionConfig"]["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["FeedsOriginAccessControl", "Id"]}
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == ""  # no legacy OAI beside OAC
    oac = of_type("AWS::CloudFront::OriginAccessControl")["FeedsOriginAccessControl"]["OriginAccessControlConfig"]
    assert (oac["SigningBehavior"], oac["SigningProtocol"]) == ("always", "sigv4")
    assert distribution["DistributionConfig"]["DefaultCacheBehavior"]["ViewerProtocolPolicy"] in (
        "redirect-to-https",
        "https-only",
    )


@pytest.mark.parametrize("queue", sorted(of_type("AWS::SQS::Queue")))
def test_queues_are_encrypted(queue: str) -> None:
    props = of_type("AWS::SQS::Queue")[queue]
    assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props


def test_table_is_encrypted_and_recoverable() -> None:
    for table, props in of_type("AWS::DynamoDB::Table").items():
        assert props["SSESpecification"]["SSEEnabled"] is True, table
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, table


def test_no_function_is_invocable_from_outside() -> None:
    for lid, props in of_type("AWS::Serverless::Function").items():
        assert "FunctionUrlConfig" not in props, lid
        # Triggers only: a queue, the table's stream, a schedule (EventBridge Scheduler invokes through a role
        # SAM scopes to this function). No resource policy lets anything else invoke.
        assert all(e["Type"] in ("SQS", "DynamoDB", "ScheduleV2") for e in props["Events"].values()), lid
    assert of_type("AWS::Lambda::Permission") == {}
    assert of_type("AWS::Lambda::Url") == {}
