"""Cost: what ingesting 1,000 posts costs in AWS, from the measured call counts, request units and
handler durations, at us-east-1 list prices (on-demand, no free tier).

Per post ingested:
- Lambda: one request per invocation (ingest, feeds), GB-seconds at each function's MemorySize. Durations
  are those measured here (handler wall time in-process, moto standing in for AWS latency); the bound
  also scales them by Lambda's CPU share at that memory (1,769 MB buys one vCPU), as if all were CPU.
- DynamoDB on-demand: RRU and WRU from `CapacityMeter`. Streams read by Lambda are free.
- S3: the post's own PUT, the feed documents' PUTs, the ingest's GET (HEAD for deletes).
- SQS: the S3 notification (SendMessage), and per ingest invocation one ReceiveMessage and one
  DeleteMessageBatch. Idle long polling by the event source mapping is per month, not per post.
Not included: CloudWatch Logs ingestion, X-Ray traces (when enabled), CloudFront, storage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REGION = "us-east-1"
PRICES_AS_OF = "2025-06-01 (AWS public list prices; DynamoDB on-demand after its 2024-11-01 reduction)"
PRICES: dict[str, float] = {
    "lambda_request": 0.20 / 1_000_000,
    "lambda_gb_second_arm64": 0.0000133334,
    "dynamodb_wru": 0.625 / 1_000_000,
    "dynamodb_rru": 0.125 / 1_000_000,
    "s3_put": 0.005 / 1_000,  # PUT, COPY, POST, LIST
    "s3_get": 0.0004 / 1_000,  # GET, SELECT and all other requests (HEAD)
    "sqs_request": 0.40 / 1_000_000,  # standard queue, per 64 KB chunk
}
VCPU_MB = 1769


def per_post_usage(
    *,
    posts: int,
    calls: Mapping[str, float],
    units: Mapping[str, float],
    invocations: Mapping[str, int],
    seconds: Mapping[str, float],
    memory_mb: Mapping[str, int],
) -> dict[str, float]:
    """Billable quantities per post ingested, from totals over `posts` posts (`seconds` and `memory_mb`
    by function)."""
    ingest_invocations = sum(n for name, n in invocations.items() if "Ingest" in name)
    gb_seconds = {name: spent * memory_mb[name] / 1024 for name, spent in seconds.items()}
    cpu_bound = sum(gb * max(1.0, VCPU_MB / memory_mb[name]) for name, gb in gb_seconds.items())
    return {
        "lambda_requests": sum(invocations.values()) / posts,
        "lambda_gb_seconds": sum(gb_seconds.values()) / posts,
        "lambda_gb_seconds_cpu_bound": cpu_bound / posts,
        "dynamodb_rru": units.get("RRU", 0) / posts,
        "dynamodb_wru": units.get("WRU", 0) / posts,
        "s3_put": 1 + calls.get("s3.PutObject", 0) / posts,  # the post itself, then the feed documents
        "s3_get": (calls.get("s3.GetObject", 0) + calls.get("s3.HeadObject", 0)) / posts,
        "sqs_requests": 1 + 2 * ingest_invocations / posts,
    }


def usd_per_1000(usage: Mapping[str, float], *, cpu_bound: bool = False) -> dict[str, float]:
    price = PRICES
    gb_seconds = usage["lambda_gb_seconds_cpu_bound" if cpu_bound else "lambda_gb_seconds"]
    parts = {
        "lambda_requests": usage["lambda_requests"] * price["lambda_request"],
        "lambda_duration": gb_seconds * price["lambda_gb_second_arm64"],
        "dynamodb": usage["dynamodb_rru"] * price["dynamodb_rru"] + usage["dynamodb_wru"] * price["dynamodb_wru"],
        "s3": usage["s3_put"] * price["s3_put"] + usage["s3_get"] * price["s3_get"],
        "sqs": usage["sqs_requests"] * price["sqs_request"],
    }
    parts = {name: value * 1000 for name, value in parts.items()}
    return {**{name: round(value, 6) for name, value in parts.items()}, "total": round(sum(parts.values()), 6)}


def cost_report(scenarios: Mapping[str, Mapping[str, Any]], *, memory_mb: Mapping[str, int]) -> dict[str, Any]:
    """Each scenario (totals over its posts) priced per 1,000 posts; the headline is the one-at-a-time
    scenario (every upload settles alone: the steady state of a bot) with CPU-bound durations."""
    report: dict[str, Any] = {
        "region": REGION,
        "prices_as_of": PRICES_AS_OF,
        "prices_usd": PRICES,
        "memory_mb": dict(memory_mb),
        "scenarios": {},
    }
    for name, totals in scenarios.items():
        usage = per_post_usage(memory_mb=memory_mb, **totals)
        report["scenarios"][name] = {
            "posts": totals["posts"],
            "per_post": {k: round(v, 4) for k, v in usage.items()},
            "usd_per_1000_posts": usd_per_1000(usage),
            "usd_per_1000_posts_cpu_bound": usd_per_1000(usage, cpu_bound=True),
        }
    headline = report["scenarios"].get("one_at_a_time") or next(iter(report["scenarios"].values()))
    report["usd_per_1000_posts"] = headline["usd_per_1000_posts_cpu_bound"]["total"]
    report["basis"] = "one upload at a time (each settles alone), durations scaled to Lambda's CPU share"
    return report
