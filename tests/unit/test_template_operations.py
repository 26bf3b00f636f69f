"""template.yaml, read as data: someone is told when the pipeline breaks, logs are kept for a set time, nothing
is lost on a stack delete, and the feeds are served with security headers. Each alarm is found from what it
watches (every dead-letter queue, every function, every stream consumer), so a queue or a function added
without its alarm fails here. docs/operations.md describes each alarm and parameter."""

from __future__ import annotations

import re
from typing import Any

import pytest

from postfeed_tools.local.template import load_template
from tests.conftest import REPO

TEMPLATE = load_template(REPO / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
OPERATIONS_DOC = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
TOPIC = [{"Ref": "AlarmTopic"}]


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r.get("Properties", {}) for lid, r in RESOURCES.items() if r["Type"] == kind}


FUNCTIONS = of_type("AWS::Serverless::Function")
ALARMS = of_type("AWS::CloudWatch::Alarm")


def arn_of(value: Any) -> str | None:
    """The logical id behind `!GetAtt X.Arn`."""
    if isinstance(value, dict) and "Fn::GetAtt" in value and value["Fn::GetAtt"][1] == "Arn":
        return str(value["Fn::GetAtt"][0])
    return None


def dead_letter_queues() -> set[str]:
    """Every queue that holds failed work: a redrive target, an event source's on-failure destination, a
    function's or a schedule's dead-letter queue."""
    found = set()
    for props in of_type("AWS::SQS::Queue").values():
        found.add(arn_of(props.get("RedrivePolicy", {}).get("deadLetterTargetArn")))
    for props in FUNCTIONS.values():
        found.add(arn_of(props.get("DeadLetterQueue", {}).get("TargetArn")))
        for event in props["Events"].values():
            event_props = event["Properties"]
            found.add(arn_of(event_props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")))
            found.add(arn_of(event_props.get("DeadLetterConfig", {}).get("Arn")))
    return {lid for lid in found if lid is not None}


def alarms_on(namespace: str, metric: str, dimension: str, value: Any) -> list[dict[str, Any]]:
    return [
        a
        for a in ALARMS.values()
        if (a["Namespace"], a["MetricName"]) == (namespace, metric)
        and a["Dimensions"] == [{"Name": dimension, "Value": value}]
    ]


def test_every_dead_letter_queue_is_found() -> None:
    assert dead_letter_queues() == {
        "IngestDeadLetterQueue",
        "FeedFailureQueue",
        "ScheduleDeadLetterQueue",
        "RenderDeadLetterQueue",
    }


@pytest.mark.parametrize("queue", sorted(dead_letter_queues()))
def test_a_message_in_any_dead_letter_queue_raises_an_alarm(queue: str) -> None:
    (alarm,) = alarms_on(
        "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", {"Fn::GetAtt": [queue, "QueueName"]}
    )
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["Statistic"] == "Maximum"


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_error_and_throttle_raises_an_alarm(function: str, metric: str) -> None:
    (alarm,) = alarms_on("AWS/Lambda", metric, "FunctionName", {"Ref": function})
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == ("Sum", "GreaterThanThreshold", 0)


def test_the_stream_falling_behind_raises_an_alarm() -> None:
    consumers = [lid for lid, p in FUNCTIONS.items() if any(e["Type"] == "DynamoDB" for e in p["Events"].values())]
    assert consumers == ["BuildFeedsFunction"]
    (alarm,) = alarms_on("AWS/Lambda", "IteratorAge", "FunctionName", {"Ref": "BuildFeedsFunction"})
    assert alarm["Threshold"] == {"Ref": "IteratorAgeAlarmMilliseconds"}
    assert (alarm["Statistic"], alarm["ComparisonOperator"]) == ("Maximum", "GreaterThanThreshold")


def test_a_rejected_post_raises_an_alarm_on_the_metric_the_ingest_function_emits() -> None:
    service = FUNCTIONS["IngestPostFunction"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    # Powertools Metrics adds the service as a dimension named "service"; the namespace is the handler's
    handler = (REPO / "functions" / "ingest_post" / "app.py").read_text(encoding="utf-8")
    assert f'Metrics(namespace="postfeed", service="{service}")' in handler
    # its batch policy, which the handler wires to those metrics, counts rejections under the alarm's name
    assert "IngestBatches(logger=logger, count=count)" in handler
    policy = (REPO / "shared" / "postfeed" / "pipeline" / "ingest_batches.py").read_text(encoding="utf-8")
    assert '"PostsRejected"' in policy
    (alarm,) = alarms_on("postfeed", "PostsRejected", "service", service)
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == ("Sum", "GreaterThanThreshold", 0)


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_notifies_the_topic_when_it_fires_and_when_it_clears(alarm: str) -> None:
    props = ALARMS[alarm]
    assert props["AlarmActions"] == TOPIC
    assert props["OKActions"] == TOPIC
    assert props["TreatMissingData"] == "notBreaching"  # no data (an idle stack) is not an alarm
    assert alarm in OPERATIONS_DOC  # what triggers it and what to do


def test_the_topic_mails_the_address_given_only_when_one_is_given() -> None:
    assert of_type("AWS::SNS::Topic").keys() == {"AlarmTopic"}
    (subscription,) = [r for r in RESOURCES.values() if r["Type"] == "AWS::SNS::Subscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert TEMPLATE["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert subscription["Properties"] == {"TopicArn": TOPIC[0], "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}
    assert TEMPLATE["Parameters"]["AlarmEmail"]["Default"] == ""
    pattern = TEMPLATE["Parameters"]["AlarmEmail"]["AllowedPattern"]
    assert [v for v in ("", "ops@example.com", "not an address") if re.fullmatch(pattern, v)] == ["", "ops@example.com"]
    assert TEMPLATE["Outputs"]["AlarmTopicArn"]["Value"] == TOPIC[0]


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_logs_to_a_declared_group_with_retention(function: str) -> None:
    name = FUNCTIONS[function]["FunctionName"]
    groups = [
        p
        for p in of_type("AWS::Logs::LogGroup").values()
        if p["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/{name['Fn::Sub']}"}
    ]
    assert len(groups) == 1, function
    assert groups[0]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    retention = TEMPLATE["Parameters"]["LogRetentionDays"]
    assert retention["Default"] in retention["AllowedValues"]


def test_no_log_group_is_left_without_a_function() -> None:
    assert len(of_type("AWS::Logs::LogGroup")) == len(FUNCTIONS)


@pytest.mark.parametrize("resource", ["PostsTable", "PostsBucket"])
def test_a_stack_delete_or_replacement_keeps_the_posts_and_their_state(resource: str) -> None:
    assert RESOURCES[resource]["DeletionPolicy"] == "Retain"
    assert RESOURCES[resource]["UpdateReplacePolicy"] == "Retain"


def test_old_versions_of_posts_expire() -> None:
    posts = of_type("AWS::S3::Bucket")["PostsBucket"]
    assert posts["VersioningConfiguration"]["Status"] == "Enabled"
    (rule,) = posts["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": {"Ref": "NoncurrentVersionDays"}}
    assert "ExpirationInDays" not in rule  # current posts never expire


def test_the_feeds_are_served_with_security_headers_and_cors() -> None:
    (policy,) = of_type("AWS::CloudFront::ResponseHeadersPolicy").values()
    config = policy["ResponseHeadersPolicyConfig"]
    security = config["SecurityHeadersConfig"]
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert security["StrictTransportSecurity"]["Override"] is True
    assert security["ContentTypeOptions"] == {"Override": True}  # nosniff
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    cors = config["CorsConfig"]
    assert cors["AccessControlAllowOrigins"]["Items"] == ["*"]  # feeds are public: readers fetch them from anywhere
    assert cors["AccessControlAllowMethods"]["Items"] == ["GET", "HEAD"]
    assert cors["AccessControlAllowCredentials"] is False
    (distribution,) = of_type("AWS::CloudFront::Distribution").values()
    behaviour = distribution["DistributionConfig"]["DefaultCacheBehavior"]
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "FeedsResponseHeaders"}


def test_access_logs_are_optional() -> None:
    (distribution,) = of_type("AWS::CloudFront::Distribution").values()
    condition, logging, otherwise = distribution["DistributionConfig"]["Logging"]["Fn::If"]
    assert (condition, otherwise) == ("HasCloudFrontLogs", {"Ref": "AWS::NoValue"})
    assert logging["Bucket"] == {"Fn::Sub": "${CloudFrontLogBucket}.s3.amazonaws.com"}
    assert TEMPLATE["Parameters"]["CloudFrontLogBucket"]["Default"] == ""


def test_the_queue_caps_how_many_ingests_run_at_once() -> None:
    (event,) = FUNCTIONS["IngestPostFunction"]["Events"].values()
    assert event["Properties"]["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "IngestMaxConcurrency"}}
    cap = TEMPLATE["Parameters"]["IngestMaxConcurrency"]
    assert 2 <= cap["MinValue"] <= cap["Default"] <= cap["MaxValue"] <= 1000  # what SQS event sources accept


def test_the_scheduled_check_is_retried_and_then_dead_lettered() -> None:
    props = FUNCTIONS["PublishDueFunction"]
    (event,) = props["Events"].values()
    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["RetryPolicy"]["MaximumRetryAttempts"] > 0
    queue = {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}
    assert event["Properties"]["DeadLetterConfig"] == {"Arn": queue}  # Scheduler could not invoke
    assert props["DeadLetterQueue"] == {"Type": "SQS", "TargetArn": queue}  # the function failed every attempt
    assert props["EventInvokeConfig"]["MaximumRetryAttempts"] >= 1


def test_every_checkov_skip_has_its_reason_in_the_template_and_in_the_docs() -> None:
    skips = [
        (lid, skip)
        for lid, resource in RESOURCES.items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    assert [(lid, s["id"]) for lid, s in skips if len(s.get("comment", "")) < 20] == []
    assert sorted({s["id"] for _, s in skips if s["id"] not in OPERATIONS_DOC}) == []


def test_every_parameter_is_described_in_the_operations_doc() -> None:
    assert sorted(name for name in TEMPLATE["Parameters"] if f"`{name}`" not in OPERATIONS_DOC) == []
