"""At-least-once, out-of-order delivery: shuffled and duplicated S3 events end in the same table and
feeds as the final objects processed once, in order."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT, LocalPipeline
from tests.functional.conftest import FEED_BASE_URL, FINEWS_PARAMETERS
from tests.functional.test_pipeline_rules import post
from tests.support import Change, apply, assert_same_outcome, final_objects, redeliver, snapshot, take_messages

A, B, C = "_posts/2026-11-25-a.md", "_posts/2026-11-26-b.md", "_posts/2026-11-27-c.md"
CHANGES = [
    Change(A, post(title="甲", categories="emnews", tags="港股")),
    Change(B, post(title="乙", categories="cailianshe", tags="港股", date="2026-11-26 10:00:00 +0800")),
    Change(A, post(title="甲（更新）", categories="cailianshe", tags="A股")),
    Change(C, post(title="丙", categories="emnews", tags="港股", date="2026-11-27 08:00:00")),
    Change(B, None),
    Change(C, post(title="丙", categories="emnews", tags="港股 A股", date="2026-11-27 08:00:00")),
    Change(B, post(title="乙（重发）", categories="emnews", tags="港股", date="2026-11-26 10:00:00 +0800")),
    Change(A, post(title='坏"标题', categories="emnews")),  # rejected, then fixed below
    Change(C, None),
    Change(A, post(title="甲（修正）", categories="emnews", tags="港股")),
    Change(C, post(title="丙（恢复）", categories="yangxingwangzhan", tags="央行公告")),
]


def run_final_objects_once() -> dict[str, Any]:
    with mock_aws():
        pipeline = LocalPipeline.create(parameters=FINEWS_PARAMETERS, feed_base_url=FEED_BASE_URL)
        for key, body in final_objects(CHANGES).items():
            pipeline.upload(key, body)
            pipeline.settle()
        return snapshot(pipeline)


@pytest.fixture(scope="module")
def in_order() -> Iterator[dict[str, Any]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        for key, value in {**LOCAL_AWS_ENVIRONMENT, "POWERTOOLS_METRICS_DISABLED": "true"}.items():
            monkeypatch.setenv(key, value)
        yield run_final_objects_once()


@pytest.mark.parametrize("seed", range(4))
def test_shuffled_duplicated_events_reach_the_in_order_state(in_order: dict[str, Any], seed: int) -> None:
    with mock_aws():
        pipeline = LocalPipeline.create(parameters=FINEWS_PARAMETERS, feed_base_url=FEED_BASE_URL)
        # GIVEN every change made in S3 before any event is delivered
        for change in CHANGES:
            apply(pipeline, change)
        bodies = take_messages(pipeline)
        # WHEN the events arrive shuffled, with duplicates, and in random batch sizes
        duplicates = redeliver(pipeline, bodies, random.Random(seed))
        assert duplicates > 0
        pipeline.settle()
        # THEN the table and every feed are those of the final objects processed once, in order
        assert_same_outcome(snapshot(pipeline), in_order)


def test_interleaved_delivery_between_changes_reaches_the_in_order_state(in_order: dict[str, Any]) -> None:
    rng = random.Random(99)
    with mock_aws():
        pipeline = LocalPipeline.create(parameters=FINEWS_PARAMETERS, feed_base_url=FEED_BASE_URL)
        pending: list[str] = []
        for change in CHANGES:
            apply(pipeline, change)
            pending += take_messages(pipeline)
            # deliver a random part of what is pending, late and out of order
            rng.shuffle(pending)
            cut = rng.randrange(len(pending) + 1)
            now, pending = pending[:cut], pending[cut:]
            redeliver(pipeline, now, rng, duplicate=0.3)
            pipeline.settle()
        redeliver(pipeline, pending, rng)
        pipeline.settle()
        assert_same_outcome(snapshot(pipeline), in_order)


def test_one_change_at_a_time_in_order_reaches_the_same_state(in_order: dict[str, Any]) -> None:
    with mock_aws():
        pipeline = LocalPipeline.create(parameters=FINEWS_PARAMETERS, feed_base_url=FEED_BASE_URL)
        for change in CHANGES:
            apply(pipeline, change)
            pipeline.settle()
        assert_same_outcome(snapshot(pipeline), in_order)
