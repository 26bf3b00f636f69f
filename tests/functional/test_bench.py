"""`postfeed bench` at tiny sizes: the JSON's shape and the facts that do not depend on timing (calls
per upload independent of N, writes per touched feed bounded by stream batches). No timing assertions:
the machine is shared and the figures are noisy by nature."""

from __future__ import annotations

import json
from typing import Any

import pytest

from postfeed_tools.benchmark import BenchOptions, run_benchmarks
from postfeed_tools.benchmark.burst import burst_posts, run_burst
from postfeed_tools.benchmark.capacity import item_size, value_size
from postfeed_tools.benchmark.harness import (
    bench_pipeline,
    generated_posts,
    published_by_date,
    seed_published,
    upload_config,
)
from postfeed_tools.benchmark.incremental import measure_incremental
from postfeed_tools.benchmark.report import format_report
from postfeed_tools.cli import main

TINY = BenchOptions(
    sizes=(3, 15),
    uploads=2,
    burst_uploads=24,
    burst_categories=4,
    burst_what_if=(),
    bulk_posts=12,
    scaling_preload=60,
    scaling_uploads=2,
    scaling_feeds=(70, 400),
    cold_runs=1,
    core_runs=1,
    memory_entries=3,
)
REQUIRED = {
    "incremental": ("calls_equal", "time_ratio"),
    "burst": ("writes_per_touched_feed_format",),
    "cold_start": ("max_ratio_to_boto3",),
    "memory": ("max_peak_mb",),
    "core": ("posts_per_s",),
    "bulk": ("posts_per_s", "wall_s", "peak_mb"),
    "build": ("posts_per_s", "wall_s", "peak_mb"),
    "feeds_scaling": ("calls_equal", "bytes_ratio"),
    "cost": ("usd_per_1000_posts",),
}


@pytest.fixture(scope="module")
def tiny_result() -> dict[str, Any]:
    return run_benchmarks(TINY)


def test_json_carries_every_required_figure(tiny_result: dict[str, Any]) -> None:
    # GIVEN every measurement at tiny sizes, WHEN serialised, THEN each required figure is there, typed
    result = json.loads(json.dumps(tiny_result))
    for section, keys in REQUIRED.items():
        for key in keys:
            assert key in result[section], f"{section}.{key} missing"
    assert isinstance(result["incremental"]["calls_equal"], bool)
    for section, key in (
        ("incremental", "time_ratio"),
        ("burst", "writes_per_touched_feed_format"),
        ("cold_start", "max_ratio_to_boto3"),
        ("memory", "max_peak_mb"),
        ("core", "posts_per_s"),
        ("cost", "usd_per_1000_posts"),
    ):
        assert isinstance(result[section][key], int | float), f"{section}.{key}"
        assert result[section][key] > 0, f"{section}.{key}"
    assert {row["figure"] for row in result["targets"]} >= {"incremental.time_ratio", "memory.max_peak_mb"}
    assert result["cost"]["prices_as_of"]
    assert result["bulk"]["feeds"] > 0
    # `postfeed run` and `postfeed build` of one site publish the same feeds
    assert result["build"]["feeds"] == result["bulk"]["feeds"]
    assert result["build"]["published"] == result["bulk"]["published"] > 0


def test_calls_per_upload_do_not_depend_on_size(tiny_result: dict[str, Any]) -> None:
    incremental = tiny_result["incremental"]
    assert incremental["calls_equal"] is True
    assert isinstance(incremental["units_equal"], bool)  # reads grow with a feed's entries, up to its limit
    small, large = incremental["by_size"]
    assert small["calls_per_upload"] == large["calls_per_upload"]
    assert small["calls_per_upload"]["dynamodb.TransactWriteItems"] == 1
    assert small["invocations"] == {"BuildFeedsFunction": 2, "IngestPostFunction": 2}


def test_burst_writes_each_touched_feed_at_most_twice(tiny_result: dict[str, Any]) -> None:
    burst = tiny_result["burst"]
    assert burst["uploads"] == 24
    assert burst["feeds_touched"] >= 1 + 4  # the site feed and every category
    assert burst["documents_written"] >= 3 * burst["feeds_touched"]
    assert burst["writes_per_touched_feed_format"] <= 2
    # the stream's records, all available at once, went in full batches of the template's BatchSize
    assert sum(burst["stream_batches"]) == burst["stream_records"]
    assert all(size == burst["stream_batch_size"] for size in burst["stream_batches"][:-1])


def test_handlers_fit_lambda_memory(tiny_result: dict[str, Any]) -> None:
    memory = tiny_result["memory"]
    for name in ("ingest_post", "build_feeds"):
        handler = memory["handlers"][name]
        assert handler["result"] == {"batchItemFailures": []}
        assert 0 < handler["after_import_mb"] <= handler["peak_mb"]
    assert memory["handlers"]["build_feeds"]["site_feed_entries"] == 3


def test_report_table_names_every_section(tiny_result: dict[str, Any]) -> None:
    table = format_report(tiny_result)
    for heading in ("1. Incremental", "2. Burst", "3. Cold start", "4. Memory", "5. Core", "6. Bulk", "7. Cost"):
        assert heading in table


def test_stream_batches_bound_the_writes_per_feed() -> None:
    # GIVEN 12 posts in one category, all available at once
    config, posts = burst_posts(12, 1)
    # WHEN the stream is read in batches of 5, THEN in full batches, each feed written at most once a batch
    small = run_burst(posts, config, stream_batch_size=5)
    assert small["stream_batches"] == [5, 5, 2]
    assert 1 <= small["max_writes_per_feed_format"] <= 3
    # AND in one batch of 12, each touched feed once per format
    whole = run_burst(posts, config, stream_batch_size=12)
    assert whole["stream_batches"] == [12]
    assert whole["max_writes_per_feed_format"] == 1
    assert whole["documents_written"] == 3 * whole["feeds_touched"]
    assert whole["page_documents_written"] == whole["feeds_touched"]  # each feed's HTML page, once


def test_seeding_reaches_the_state_the_pipeline_publishes() -> None:
    # GIVEN the same posts, once through the pipeline and once seeded (table writes + one rebuild per feed)
    site = generated_posts(14)
    posts = published_by_date(site.posts, site.config)
    documents = []
    for seed in (False, True):
        with bench_pipeline() as pipeline:
            upload_config(pipeline, site.config)
            if seed:
                seed_published(pipeline, posts)
            else:
                for key, body, _ in posts:
                    pipeline.upload(key, body)
                pipeline.settle()
            documents.append({key: pipeline.feed(key) for key in pipeline.feed_keys()})
    # THEN the feeds bucket holds the same documents, byte for byte
    assert documents[0] == documents[1]


def test_incremental_profile_splits_time_by_owner() -> None:
    result = measure_incremental((2, 4), 1, profile=True)
    assert set(result["profile"]) == {"n=2", "n=4"}
    owners = result["profile"]["n=4"]["seconds_by_owner"]
    assert set(owners) == {"moto", "sdk", "glue", "ours", "other"}
    assert owners["moto"] > 0
    assert owners["ours"] > 0


def test_item_sizes_follow_dynamodb_rules() -> None:
    assert value_size({"S": "abc"}) == 3
    assert value_size({"S": "央"}) == 3
    assert value_size({"B": b"\x00" * 10}) == 10
    assert value_size({"BOOL": True}) == 1
    assert value_size({"M": {"a": {"S": "xy"}}}) == 3 + 1 + 2 + 1
    assert item_size({"pk": {"S": "POST#a"}, "n": {"N": "12"}}) == 2 + 6 + 1 + 2


def test_command_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--json", "--only", "core", "--quick"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) >= {"machine", "core", "targets"}
    assert "incremental" not in printed
