"""The functions' IAM, read where it takes effect: in the template as the SAM translator (run offline, as
`sam deploy` runs it) turns it into CloudFormation. Each role's actions are listed here exactly, so a
widened or an added permission fails by name; tests/functional/test_faults_access_denied.py checks that
every call the code makes is still allowed."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from postfeed_tools.local.stack import parameter_defaults
from postfeed_tools.local.template import Resolver, load_template
from tests.conftest import REPO

TEMPLATE = load_template(REPO / "template.yaml")
REGION, ACCOUNT = "ap-northeast-1", "123456789012"

# Every action of every role, by statement; SAM's scheduler role (no Sids) by its policies' names.
ROLES: dict[str, dict[str, list[str]]] = {
    "IngestPostRole": {
        "ReceivePostChanges": ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
        "EnqueueFullRebuildSteps": ["sqs:SendMessage"],
        "EnqueueRenderGroups": ["sqs:SendMessage"],
        "ReadPosts": ["s3:GetObject"],
        "ListPostsAndSiteFolders": ["s3:ListBucket"],
        "ReadPostState": ["dynamodb:GetItem"],
        "WritePostState": ["dynamodb:DeleteItem", "dynamodb:PutItem"],
        "ReadPostStateInBatches": ["dynamodb:BatchGetItem"],
        "WriteFullRebuildLedger": ["dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
        "ReadFullRebuildLedger": ["dynamodb:Query"],
        "ReadSiteFiles": ["dynamodb:Query"],
        "FindPostsByDependency": ["dynamodb:Query"],
        "FindPostsByAuthor": ["dynamodb:Query"],
        "WriteLogs": ["logs:CreateLogStream", "logs:PutLogEvents"],
    },
    "PublishDueRole": {
        "FindDuePosts": ["dynamodb:Query"],
        "SendDuePostsToIngest": ["sqs:SendMessage"],
        "ReportFailedChecks": ["sqs:SendMessage"],
        "WriteLogs": ["logs:CreateLogStream", "logs:PutLogEvents"],
    },
    "BuildFeedsRole": {
        "ReadPostStateChanges": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
        "ListTableStreams": ["dynamodb:ListStreams"],
        "ReceiveRenderGroups": ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
        "SendRenderGroupsBack": ["sqs:SendMessage"],
        "ReadEntries": ["dynamodb:BatchGetItem", "dynamodb:Query"],
        "WriteFeedState": ["dynamodb:DeleteItem", "dynamodb:UpdateItem"],
        "PublishFeeds": ["s3:PutObject"],
        "RemoveReplacedArchivePages": ["s3:DeleteObject"],
        "RemoveMergedIndexShelves": ["s3:DeleteObject"],
        "RemoveSiteStylesheet": ["s3:DeleteObject"],
        "ReportFailedBatches": ["sqs:SendMessage"],
        "WriteLogs": ["logs:CreateLogStream", "logs:PutLogEvents"],
    },
    "PublishDueFunctionDueCheckRole": {
        "PublishDueFunctionDueCheckLambdaPolicy": ["lambda:InvokeFunction"],
        "PublishDueFunctionDueCheckSQSPolicy": ["sqs:SendMessage"],
    },
}
FUNCTION_ROLES = {
    "IngestPostFunction": "IngestPostRole",
    "PublishDueFunction": "PublishDueRole",
    "BuildFeedsFunction": "BuildFeedsRole",
}
X_RAY = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
TABLE_WRITES = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
TABLE_WRITES |= {"dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete"}


@cache
def transformed() -> dict[str, Any]:
    """template.yaml through the SAM translator, offline: code locations as `sam package` leaves them, a fake
    region and account, the parameters' defaults. Conditions stay unresolved, as CloudFormation gets them."""
    template = copy.deepcopy(TEMPLATE)
    for resource in template["Resources"].values():
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = f"s3://artifacts/{resource['Properties'][key].rstrip('/')}"
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    result: dict[str, Any] = translator.translate(
        template,
        parameter_values={"AWS::Region": REGION, "AWS::AccountId": ACCOUNT},
        get_managed_policy_map=dict,
    )
    return result


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in transformed()["Resources"].items() if r["Type"] == kind}


def under(value: Any, *, tracing: bool) -> Any:
    """`value` with every Fn::If taken as CloudFormation would with EnableTracing set so (the template's other
    conditions at their defaults), and AWS::NoValue left out."""
    conditions = Resolver(
        parameters={**parameter_defaults(TEMPLATE), "EnableTracing": "true" if tracing else "false"},
        refs={},
        attributes={},
        conditions=TEMPLATE["Conditions"],
    )
    if isinstance(value, list):
        return [v for v in (under(item, tracing=tracing) for item in value) if v != {"Ref": "AWS::NoValue"}]
    if isinstance(value, dict):
        if set(value) == {"Fn::If"}:
            name, when_true, when_false = value["Fn::If"]
            return under(when_true if conditions.condition(name) else when_false, tracing=tracing)
        return {k: under(v, tracing=tracing) for k, v in value.items()}
    return value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(role: str, *, tracing: bool = False) -> dict[str, dict[str, Any]]:
    """A role of the transformed template, statement by Sid (or, for SAM's statements without one, by policy)."""
    policies = under(transformed()["Resources"][role]["Properties"].get("Policies", []), tracing=tracing)
    found: dict[str, dict[str, Any]] = {}
    for policy in policies:
        for statement in as_list(policy["PolicyDocument"]["Statement"]):
            sid = statement.get("Sid", policy["PolicyName"])
            assert sid not in found, (role, sid)
            found[sid] = statement
    return found


def statements(function: str) -> dict[str, dict[str, Any]]:
    """The statements of a function's role, as the template writes them."""
    return role_statements(FUNCTION_ROLES[function])


def actions(statement: dict[str, Any]) -> list[str]:
    return sorted(as_list(statement["Action"]))


# -- the transformed roles -------------------------------------------------------------------------


def test_the_transformed_template_has_exactly_these_roles() -> None:
    assert sorted(resources("AWS::IAM::Role")) == sorted(ROLES)
    assert resources("AWS::IAM::Policy") == {}
    assert resources("AWS::IAM::ManagedPolicy") == {}


@pytest.mark.parametrize("tracing", [False, True])
def test_no_role_holds_a_managed_policy(tracing: bool) -> None:
    for role, resource in resources("AWS::IAM::Role").items():
        props = under(resource["Properties"], tracing=tracing)
        assert props.get("ManagedPolicyArns", []) == [], role


def test_each_function_runs_under_its_own_role() -> None:
    functions = resources("AWS::Lambda::Function")
    assert {lid: f["Properties"]["Role"] for lid, f in functions.items()} == {
        function: {"Fn::GetAtt": [role, "Arn"]} for function, role in FUNCTION_ROLES.items()
    }
    for function, role in FUNCTION_ROLES.items():
        trust = transformed()["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust == [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ], function
        assert "Policies" not in TEMPLATE["Resources"][function]["Properties"], function  # nothing for SAM to add


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_holds_exactly_these_actions_with_tracing_off(role: str) -> None:
    assert {sid: actions(s) for sid, s in role_statements(role).items()} == ROLES[role]
    assert all(s["Effect"] == "Allow" for s in role_statements(role).values())


@pytest.mark.parametrize("role", sorted(FUNCTION_ROLES.values()))
def test_x_ray_only_when_tracing_is_on(role: str) -> None:
    traced = role_statements(role, tracing=True)
    assert {sid: actions(s) for sid, s in traced.items()} == ROLES[role] | {"SendTraces": X_RAY}
    # X-Ray has no resource-level permissions: the one statement whose resource is "*"
    assert traced["SendTraces"]["Resource"] == "*"
    assert not [sid for sid, s in role_statements(role).items() if "xray" in str(s["Action"])]


@pytest.mark.parametrize("tracing", [False, True])
def test_no_statement_applies_to_every_resource_but_x_ray(tracing: bool) -> None:
    broad = [
        (role, sid)
        for role in ROLES
        for sid, s in role_statements(role, tracing=tracing).items()
        if "*" in as_list(s["Resource"]) and sid != "SendTraces"
    ]
    assert broad == []


def test_event_sources_are_read_on_this_stack_queue_and_stream_only() -> None:
    ingest = statements("IngestPostFunction")["ReceivePostChanges"]
    assert ingest["Resource"] == {"Fn::GetAtt": ["IngestQueue", "Arn"]}
    feeds = statements("BuildFeedsFunction")
    assert feeds["ReadPostStateChanges"]["Resource"] == {"Fn::GetAtt": ["PostsTable", "StreamArn"]}
    assert feeds["ListTableStreams"]["Resource"] == {"Fn::Sub": "${PostsTable.Arn}/stream/*"}
    assert feeds["ReportFailedBatches"]["Resource"] == {"Fn::GetAtt": ["FeedFailureQueue", "Arn"]}
    # the mappings SAM generates read exactly those (a function may have more than one)
    mappings = [r["Properties"] for r in resources("AWS::Lambda::EventSourceMapping").values()]
    sources = {(m["FunctionName"]["Ref"], str(m["EventSourceArn"])) for m in mappings}
    assert ("IngestPostFunction", str(ingest["Resource"])) in sources
    assert ("BuildFeedsFunction", str(feeds["ReadPostStateChanges"]["Resource"])) in sources
    assert feeds["ReceiveRenderGroups"]["Resource"] == {"Fn::GetAtt": ["RenderQueue", "Arn"]}
    assert ("BuildFeedsFunction", str(feeds["ReceiveRenderGroups"]["Resource"])) in sources
    (stream,) = [m for m in mappings if m["EventSourceArn"] == feeds["ReadPostStateChanges"]["Resource"]]
    assert stream["DestinationConfig"]["OnFailure"]["Destination"] == feeds["ReportFailedBatches"]["Resource"]


def test_the_scheduler_may_only_invoke_the_scheduled_function_and_fill_its_dead_letter_queue() -> None:
    granted = role_statements("PublishDueFunctionDueCheckRole")
    assert granted["PublishDueFunctionDueCheckLambdaPolicy"]["Resource"] == {
        "Fn::GetAtt": ["PublishDueFunction", "Arn"]
    }
    assert granted["PublishDueFunctionDueCheckSQSPolicy"]["Resource"] == {
        "Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]
    }
    trust = transformed()["Resources"]["PublishDueFunctionDueCheckRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": ["scheduler.amazonaws.com"]}]


def test_table_writes_are_limited_to_each_function_partitions() -> None:
    # ingest: a post's items (POST#<key>), its memberships (FEED#<feed>), what it read (DEP#<dependency>), site
    # files (SITE), never FEEDS;
    # feeds: leases, pages (FEED#<feed>) and the registry, shelves and index state (FEEDS), never a post
    expected = {
        "IngestPostRole": {
            "WritePostState": ["POST#*", "FEED#*", "DEP#*", "SITE"],
            "WriteFullRebuildLedger": ["REBUILD#*"],
        },
        "PublishDueRole": {},
        "BuildFeedsRole": {"WriteFeedState": ["FEED#*", "FEEDS"]},
    }
    for role, partitions in expected.items():
        writes = {sid: s for sid, s in role_statements(role).items() if TABLE_WRITES & set(as_list(s["Action"]))}
        assert {
            sid: s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] for sid, s in writes.items()
        } == partitions, role
        assert all(set(s["Condition"]) == {"ForAllValues:StringLike"} for s in writes.values()), role
        assert all(s["Resource"] == {"Fn::GetAtt": ["PostsTable", "Arn"]} for s in writes.values()), role


def test_listing_the_posts_bucket_is_limited_to_the_prefixes_a_full_rebuild_lists() -> None:
    listing = statements("IngestPostFunction")["ListPostsAndSiteFolders"]
    assert listing["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:s3:::${AWS::StackName}-posts-${AWS::AccountId}-${AWS::Region}"
    }
    # the posts prefix; "_" (the folder listing), _data/ and the collections' folders
    assert listing["Condition"] == {"StringLikeIfExists": {"s3:prefix": [{"Fn::Sub": "${PostsPrefix}*"}, "_*"]}}
    others = [sid for role in ROLES for sid, s in role_statements(role).items() if "s3:ListBucket" in actions(s)]
    assert others == ["ListPostsAndSiteFolders"]


def test_each_function_writes_logs_only_to_its_own_log_group() -> None:
    template = TEMPLATE["Resources"]
    for function, role in FUNCTION_ROLES.items():
        logs = [s for s in role_statements(role).values() if any(a.startswith("logs:") for a in actions(s))]
        assert len(logs) == 1, function
        (group,) = [lid for lid, r in template.items() if logs[0]["Resource"] == {"Fn::GetAtt": [lid, "Arn"]}]
        assert template[group]["Type"] == "AWS::Logs::LogGroup"
        name = template[function]["Properties"]["FunctionName"]["Fn::Sub"]
        assert template[group]["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/{name}"}, function
        assert "logs:CreateLogGroup" not in actions(logs[0])  # the stack creates it, with its retention


# -- what the template grants, statement by statement ----------------------------------------------


def test_the_ingest_function_may_only_send_to_its_own_queue() -> None:
    sends = [s for s in statements("IngestPostFunction").values() if "sqs:SendMessage" in str(s["Action"])]
    assert sends == [
        {
            "Sid": "EnqueueFullRebuildSteps",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": ["IngestQueue", "Arn"]},
        },
        {  # a full rebuild's phase 2
            "Sid": "EnqueueRenderGroups",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": {"Fn::GetAtt": ["RenderQueue", "Arn"]},
        },
    ]
    variables = TEMPLATE["Resources"]["IngestPostFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["INGEST_QUEUE_URL"] == {"Ref": "IngestQueue"}
    assert variables["RENDER_QUEUE_URL"] == {"Ref": "RenderQueue"}


def test_the_feed_function_deletes_only_archive_pages_shelves_and_their_items() -> None:
    granted = statements("BuildFeedsFunction")
    assert granted["RemoveReplacedArchivePages"]["Action"] == "s3:DeleteObject"
    assert granted["RemoveReplacedArchivePages"]["Resource"] == {"Fn::Sub": "${FeedsBucket.Arn}/*archive/*"}
    assert granted["RemoveMergedIndexShelves"]["Action"] == "s3:DeleteObject"
    assert granted["RemoveMergedIndexShelves"]["Resource"] == {"Fn::Sub": "${FeedsBucket.Arn}/index/*"}
    writes = granted["WriteFeedState"]
    assert writes["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["FEED#*", "FEEDS"]}}
    every = {a for s in granted.values() for a in as_list(s["Action"])}
    assert "dynamodb:PutItem" not in every  # pages, registry and index state are upserted with UpdateItem


def test_the_stack_outputs_the_ingest_queue_for_postfeed_rebuild() -> None:
    assert TEMPLATE["Outputs"]["IngestQueueUrl"]["Value"] == {"Ref": "IngestQueue"}


def _notifications(posts_prefix: str) -> list[tuple[str, str]]:
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
    # "_*/*": the files in top-level "_" folders (_data/, _includes/, _drafts/, the collections'), no deeper rule
    assert sorted(r["Fn::Sub"].removeprefix(bucket) for r in reads["Resource"]) == sorted(
        ["${PostsPrefix}*", "_config.yml", "feed.xslt.xml", "_*/*"]
    )
    site = statements("IngestPostFunction")["ReadSiteFiles"]
    assert (site["Action"], site["Condition"]) == (
        "dynamodb:Query",
        {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["SITE"]}},
    )
    depends = statements("IngestPostFunction")["FindPostsByDependency"]
    assert (depends["Action"], depends["Resource"], depends["Condition"]) == (
        "dynamodb:Query",
        {"Fn::GetAtt": ["PostsTable", "Arn"]},
        {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["DEP#*"]}},
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
