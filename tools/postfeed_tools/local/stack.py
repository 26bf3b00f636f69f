"""The stack of `template.yaml`, created on moto (in-process `mock_aws` or an embedded moto server).

Everything comes from the template: bucket settings and notifications, the queue with its redrive
policy, the table with its keys, index and stream, the functions' handlers, environment and event
source mappings (batch sizes, windows, filters). Only names are local."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from postfeed_tools.local.template import Resolver, UnresolvableError, load_template

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


def _application_root() -> Path:
    """Where template.yaml and functions/ are: the checkout this package runs from, else the copies a
    `pip install` put under sys.prefix/share/postfeed (pyproject's data-files)."""
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "template.yaml").is_file():
        return checkout
    return Path(sys.prefix) / "share" / "postfeed"


REPO_ROOT = _application_root()
TEMPLATE = REPO_ROOT / "template.yaml"


@dataclass(frozen=True, slots=True)
class EventSource:
    """An event source mapping of a function, as the template declares it."""

    kind: str  # "SQS" | "DynamoDB" | "ScheduleV2"
    batch_size: int
    window_seconds: int
    filter_patterns: tuple[dict[str, Any], ...] = ()
    max_retries: int = 0
    bisect: bool = False
    queue_url: str = ""  # an SQS source's queue


@dataclass(frozen=True, slots=True)
class LocalFunction:
    logical_id: str
    code_dir: Path
    handler: str  # "app.lambda_handler"
    environment: dict[str, str]
    timeout: int
    source: EventSource  # the first of its events in the template
    memory_mb: int = 128
    other_sources: tuple[EventSource, ...] = ()  # e.g. the feed function's render queue

    def sqs_source(self) -> EventSource | None:
        return next((s for s in (self.source, *self.other_sources) if s.kind == "SQS"), None)


@dataclass
class LocalStack:
    name: str
    region: str
    account: str
    parameters: dict[str, Any]
    posts_bucket: str
    feeds_bucket: str
    table: str
    queue_url: str
    dead_letter_queue_url: str
    failure_queue_url: str
    stream_arn: str
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    # A full rebuild's phase 2 (the feed function's second event source) and its dead-letter queue.
    render_queue_url: str = ""
    render_dead_letter_queue_url: str = ""

    @property
    def ingest(self) -> LocalFunction:
        return next(f for f in self.functions.values() if f.source.kind == "SQS")

    @property
    def build_feeds(self) -> LocalFunction:
        return next(f for f in self.functions.values() if f.source.kind == "DynamoDB")

    @property
    def publish_due(self) -> LocalFunction:
        return next(f for f in self.functions.values() if f.source.kind == "ScheduleV2")


@dataclass(frozen=True, slots=True)
class StackClients:
    s3: S3Client
    sqs: SQSClient
    dynamodb: DynamoDBClient


def parameter_defaults(template: dict[str, Any]) -> dict[str, Any]:
    return {name: spec.get("Default", "") for name, spec in template.get("Parameters", {}).items()}


def template_environment(
    kind: str = "DynamoDB", *, parameters: dict[str, Any] | None = None, template_path: Path = TEMPLATE
) -> dict[str, str]:
    """The environment the template gives its function fed by `kind` events ("SQS", "DynamoDB"…), under the
    parameters' defaults and `parameters`, without a stack: resources' names and attributes are "". Enough
    for what needs no AWS, such as the site settings the template's parameters imply (`postfeed build`)."""
    template = load_template(template_path)
    resolver = Resolver(
        parameters={**parameter_defaults(template), **(parameters or {})},
        refs={},
        attributes={},
        conditions=template.get("Conditions", {}),
    )
    globals_ = template.get("Globals", {}).get("Function", {})
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            function = _function(logical_id, resource.get("Properties", {}), globals_, resolver, template_path.parent)
            if function.source.kind == kind:
                return function.environment
    raise KeyError(f"no function of {template_path} is fed by {kind} events")


def create_stack(
    clients: StackClients,
    *,
    name: str = "postfeed-local",
    parameters: dict[str, Any] | None = None,
    template_path: Path = TEMPLATE,
    region: str = "us-east-1",
    account: str = "123456789012",
) -> LocalStack:
    """Create every stateful resource of the template and describe its functions."""
    template = load_template(template_path)
    resources: dict[str, Any] = template["Resources"]
    params = {**parameter_defaults(template), **(parameters or {})}
    refs: dict[str, str] = {}
    attributes: dict[tuple[str, str], str] = {}
    resolver = Resolver(
        parameters=params,
        refs=refs,
        attributes=attributes,
        conditions=template.get("Conditions", {}),
        pseudo={"AWS::StackName": name, "AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws"},
    )

    def of_type(kind: str) -> dict[str, dict[str, Any]]:
        return {lid: r.get("Properties", {}) for lid, r in resources.items() if r["Type"] == kind}

    # Queues first (the DLQ before the queue that redrives to it), then the table, then buckets.
    queues = of_type("AWS::SQS::Queue")
    for logical_id in sorted(queues, key=lambda lid: "RedrivePolicy" in queues[lid]):
        _create_queue(clients.sqs, logical_id, queues[logical_id], resolver, refs, attributes, name)
    for logical_id, props in of_type("AWS::DynamoDB::Table").items():
        _create_table(clients.dynamodb, logical_id, props, refs, attributes, name)
    buckets = of_type("AWS::S3::Bucket")
    for logical_id, props in buckets.items():
        bucket = _bucket_name(props, resolver, logical_id, name)
        clients.s3.create_bucket(Bucket=bucket)
        refs[logical_id] = bucket
        attributes[(logical_id, "Arn")] = f"arn:aws:s3:::{bucket}"
        attributes[(logical_id, "RegionalDomainName")] = f"{bucket}.s3.{region}.amazonaws.com"
        _configure_bucket(clients.s3, bucket, props)
    for logical_id, props in buckets.items():  # notifications need the queues' ARNs
        if "NotificationConfiguration" in props:
            _notifications(clients.s3, refs[logical_id], resolver.resolve(props["NotificationConfiguration"]))

    stack = LocalStack(
        name=name,
        region=region,
        account=account,
        parameters=params,
        posts_bucket=refs[_logical_with_notifications(buckets)],
        feeds_bucket=next(refs[lid] for lid, p in buckets.items() if "NotificationConfiguration" not in p),
        table=next(refs[lid] for lid in of_type("AWS::DynamoDB::Table")),
        queue_url="",
        dead_letter_queue_url="",
        failure_queue_url="",
        stream_arn=next(attributes[(lid, "StreamArn")] for lid in of_type("AWS::DynamoDB::Table")),
    )
    globals_ = template.get("Globals", {}).get("Function", {})
    for logical_id, props in of_type("AWS::Serverless::Function").items():
        function = _function(logical_id, props, globals_, resolver, template_path.parent)
        stack.functions[logical_id] = function
        destination = _failure_destination(props, resolver)
        if destination:
            stack.failure_queue_url = destination
    ingest = stack.ingest.source.queue_url
    stack.queue_url, stack.dead_letter_queue_url = ingest, _dead_letter_url(queues, resolver, refs, ingest)
    render = stack.build_feeds.sqs_source()
    if render is not None:
        stack.render_queue_url = render.queue_url
        stack.render_dead_letter_queue_url = _dead_letter_url(queues, resolver, refs, render.queue_url)
    return stack


def _create_queue(
    sqs: SQSClient,
    logical_id: str,
    props: dict[str, Any],
    resolver: Resolver,
    refs: dict[str, str],
    attributes: dict[tuple[str, str], str],
    stack: str,
) -> None:
    queue_attributes: dict[str, str] = {
        k: str(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in props
    }
    if "RedrivePolicy" in props:
        queue_attributes["RedrivePolicy"] = json.dumps(resolver.resolve(props["RedrivePolicy"]))
    url = sqs.create_queue(QueueName=f"{stack}-{logical_id}", Attributes=queue_attributes)["QueueUrl"]  # type: ignore[arg-type]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    refs[logical_id] = url
    attributes[(logical_id, "Arn")] = arn
    attributes[(logical_id, "QueueName")] = f"{stack}-{logical_id}"


def _create_table(
    dynamodb: DynamoDBClient,
    logical_id: str,
    props: dict[str, Any],
    refs: dict[str, str],
    attributes: dict[tuple[str, str], str],
    stack: str,
) -> None:
    table = f"{stack}-{logical_id}"
    kwargs: dict[str, Any] = {
        "TableName": table,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if "StreamSpecification" in props:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    description = dynamodb.create_table(**kwargs)["TableDescription"]
    refs[logical_id] = table
    attributes[(logical_id, "Arn")] = description["TableArn"]
    attributes[(logical_id, "StreamArn")] = description.get("LatestStreamArn", "")


def _bucket_name(props: dict[str, Any], resolver: Resolver, logical_id: str, stack: str) -> str:
    if "BucketName" in props:
        return str(resolver.resolve(props["BucketName"])).lower()
    return f"{stack}-{logical_id}".lower()


def _configure_bucket(s3: S3Client, bucket: str, props: dict[str, Any]) -> None:
    # Versioning is the one setting left out locally: moto sends no event when a delete creates a
    # delete marker (S3 sends ObjectRemoved:DeleteMarkerCreated), and the pipeline never reads versions.
    if "BucketEncryption" in props:
        rules: list[Any] = [
            {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
            for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules})
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=bucket, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )


def _notifications(s3: S3Client, bucket: str, config: dict[str, Any]) -> None:
    """CloudFormation's NotificationConfiguration, in the S3 API's shape."""
    queue_configurations = []
    for entry in config.get("QueueConfigurations", []):
        rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        queue_configurations.append(
            {
                "QueueArn": entry["Queue"],
                "Events": [entry["Event"]],
                "Filter": {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}},
            }
        )
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": queue_configurations},  # type: ignore[typeddict-item]
    )


def _logical_with_notifications(buckets: dict[str, dict[str, Any]]) -> str:
    return next(lid for lid, props in buckets.items() if "NotificationConfiguration" in props)


def _dead_letter_url(queues: dict[str, dict[str, Any]], resolver: Resolver, refs: dict[str, str], url: str) -> str:
    """The dead-letter queue of the queue at `url` (its redrive policy's target)."""
    logical_id = next(lid for lid in queues if refs.get(lid) == url)
    arn = resolver.resolve(queues[logical_id]["RedrivePolicy"])["deadLetterTargetArn"]
    return next(refs[lid] for lid in queues if resolver.attributes.get((lid, "Arn")) == arn)


def _function(
    logical_id: str, props: dict[str, Any], globals_: dict[str, Any], resolver: Resolver, root: Path
) -> LocalFunction:
    variables = {
        **globals_.get("Environment", {}).get("Variables", {}),
        **props.get("Environment", {}).get("Variables", {}),
    }
    environment = {}
    for key, value in variables.items():
        try:
            environment[key] = str(resolver.resolve(value))
        except UnresolvableError:
            environment[key] = ""  # e.g. the CloudFront domain: the local stack sets its own base URL
    source, *others = (_event_source(event, resolver) for event in props["Events"].values())
    return LocalFunction(
        logical_id=logical_id,
        code_dir=root / props["CodeUri"],
        handler=props["Handler"],
        environment=environment,
        timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
        memory_mb=int(props.get("MemorySize", globals_.get("MemorySize", 128))),
        source=source,
        other_sources=tuple(others),
    )


def _event_source(event: dict[str, Any], resolver: Resolver) -> EventSource:
    event_props = event["Properties"]
    patterns = tuple(json.loads(f["Pattern"]) for f in event_props.get("FilterCriteria", {}).get("Filters", []))
    queue_url = ""
    if event["Type"] == "SQS":
        try:
            arn = resolver.resolve(event_props["Queue"])
        except UnresolvableError:  # no stack (template_environment): names are ""
            arn = None
        arns = {value: lid for (lid, attr), value in resolver.attributes.items() if attr == "Arn"}
        queue_url = resolver.refs[arns[arn]] if arn in arns else ""
    return EventSource(
        kind=event["Type"],
        batch_size=int(event_props.get("BatchSize", 10 if event["Type"] == "SQS" else 100)),
        window_seconds=int(event_props.get("MaximumBatchingWindowInSeconds", 0)),
        filter_patterns=patterns,
        max_retries=int(event_props.get("MaximumRetryAttempts", 0)),
        bisect=bool(event_props.get("BisectBatchOnFunctionError", False)),
        queue_url=queue_url,
    )


def _failure_destination(props: dict[str, Any], resolver: Resolver) -> str | None:
    for event in props.get("Events", {}).values():
        destination = event.get("Properties", {}).get("DestinationConfig", {}).get("OnFailure", {})
        if destination.get("Type") == "SQS":
            arn = resolver.resolve(destination["Destination"])
            return next(
                resolver.refs[lid]
                for (lid, attr), value in resolver.attributes.items()
                if attr == "Arn" and value == arn
            )
    return None
