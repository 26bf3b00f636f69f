"""Nothing lost, nothing let in twice: any history of S3 changes, delivered late, duplicated, out of order, in
random batches and through injected AWS faults (retried by botocore, redelivered by SQS and the stream),
ends exactly where the final objects processed once, in order, without faults, end."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from postfeed_tools.local.faults import FaultInjector
from postfeed_tools.local.pipeline import LocalPipeline
from tests.functional.conftest import FEED_BASE_URL, FINEWS_PARAMETERS
from tests.property.conftest import property_settings
from tests.property.scenarios import Courier, assert_reference_reached, fault_rules, histories
from tests.property.stats import stats_for
from tests.support import apply, final_objects, snapshot

# Reference states by final objects (each computed once, in a fresh mock_aws of its own).
REFERENCES: dict[tuple[tuple[str, bytes], ...], dict[str, Any]] = {}


def new_pipeline() -> LocalPipeline:
    return LocalPipeline.create(parameters=FINEWS_PARAMETERS, feed_base_url=FEED_BASE_URL)


def reference(final: dict[str, bytes]) -> dict[str, Any]:
    """The state of the final objects, each event delivered once, in S3's order, without faults."""
    key = tuple(final.items())
    if key not in REFERENCES:
        with mock_aws():
            pipeline = new_pipeline()
            for name, body in final.items():
                pipeline.upload(name, body)
            pipeline.settle()
            REFERENCES[key] = snapshot(pipeline)
    return REFERENCES[key]


@pytest.mark.parametrize("faults", ["without faults", "with transient faults"])
@property_settings(share=0.5)
@given(data=st.data())
def test_any_delivery_of_any_history_reaches_the_in_order_state(faults: str, data: st.DataObject) -> None:
    totals = stats_for(f"delivery: late, duplicated, reordered, batched; {faults}")
    totals.examples += 1
    changes = data.draw(histories(), label="history")
    rules = data.draw(fault_rules(), label="faults") if faults == "with transient faults" else []
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    duplicate = data.draw(st.sampled_from((0.0, 0.3, 0.7)), label="duplicate rate")
    expected = reference(final_objects(changes))
    with mock_aws():
        pipeline = new_pipeline()
        courier = Courier(pipeline, random.Random(seed))
        courier.take()  # the s3:TestEvent sent when the notifications were set up
        injector = FaultInjector(rules, seed=seed, backoff_scale=0).install()
        try:
            # GIVEN the changes made in S3, their events held back, delivered in parts, or processed at once
            for change in changes:
                apply(pipeline, change)
                courier.take()
                step = data.draw(st.sampled_from(("hold", "send", "pump", "settle")), label="then")
                if step == "hold":
                    continue
                courier.deliver(share=data.draw(st.sampled_from((0.5, 1.0)), label="share"), duplicate=duplicate)
                if step == "pump":
                    courier.pump(rounds=data.draw(st.integers(1, 3), label="ingest rounds"))
                elif step == "settle":
                    pipeline.settle()
            # WHEN everything left is delivered (duplicated, shuffled) and the pipeline settles
            courier.deliver(share=1.0, duplicate=duplicate)
            pipeline.settle()
        finally:
            injector.uninstall()
            totals.changes += len(changes)
            totals.events += courier.events
            totals.deliveries += courier.deliveries
            totals.duplicated += courier.duplicated
            totals.reordered += courier.reordered
            totals.faults.update(injector.injected)
            totals.sqs_redeliveries += pipeline.glue.delivery.sqs_failures
        # THEN no post is lost or shown twice, nothing is left over, and the state is the reference's
        assert_reference_reached(pipeline, expected, totals)
