"""Nothing lost under permanent failure either: events that fail on every receive during an outage land in
the DLQ intact, later events go through meanwhile, and once the outage is over `redrive` brings the DLQ's
messages back; the pipeline then ends where the final objects processed once, in order, end."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from postfeed_tools.deployed.redrive import redrive
from postfeed_tools.local.faults import FaultInjector, FaultKind, FaultRule
from tests.property.conftest import property_settings
from tests.property.scenarios import Courier, assert_reference_reached, histories, queue_bodies
from tests.property.stats import stats_for
from tests.property.test_delivery import new_pipeline, reference
from tests.support import apply, final_objects

# Calls only the ingest function makes: an outage of one of them fails uploads, edits or deletes.
INGEST_OPERATIONS = ("s3.GetObject", "s3.HeadObject", "dynamodb.TransactWriteItems")


@property_settings(share=0.4)
@given(data=st.data())
def test_dead_letters_redriven_after_an_outage_reach_the_in_order_state(data: st.DataObject) -> None:
    totals = stats_for("dead letters: outage, DLQ, redrive")
    totals.examples += 1
    changes = data.draw(histories(max_changes=7), label="history")
    operation = data.draw(st.sampled_from(INGEST_OPERATIONS), label="outage of")
    kind = data.draw(st.sampled_from(list(FaultKind)), label="outage kind")
    during = data.draw(st.sampled_from((0.5, 1.0)), label="share delivered during the outage")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    expected = reference(final_objects(changes))
    with mock_aws():
        pipeline = new_pipeline()
        courier = Courier(pipeline, random.Random(seed))
        for change in changes:
            apply(pipeline, change)
        courier.take()
        # GIVEN an outage of one call while part of the events are delivered: they fail every receive
        outage = FaultInjector([FaultRule(operation, rate=1.0, kinds=(kind,))], seed=seed, backoff_scale=0)
        with outage:
            courier.deliver(share=during, duplicate=0.3)
            while pipeline.glue.pump_queue():
                pass
        pipeline.settle()
        # AND the rest delivered once it is over
        courier.deliver(share=1.0, duplicate=0.3)
        pipeline.settle()
        dead = queue_bodies(pipeline, pipeline.stack.dead_letter_queue_url)
        totals.dead_lettered += len(dead)
        totals.faults.update(outage.injected)
        totals.changes += len(changes)
        totals.events += courier.events
        totals.deliveries += courier.deliveries
        totals.duplicated += courier.duplicated
        totals.reordered += courier.reordered
        totals.sqs_redeliveries += pipeline.glue.delivery.sqs_failures
        # (Not every failed event ends there: one that a newer event of its key made stale meanwhile succeeds
        # on its next receive, and a lost answer to a write is no failure. tests/functional/test_redrive.py
        # pins down the landing itself.)
        # WHEN the dead letters are redriven
        moved = redrive(
            pipeline.glue.sqs,
            dlq_url=pipeline.stack.dead_letter_queue_url,
            queue_url=pipeline.stack.queue_url,
        )
        totals.redriven += moved.moved
        pipeline.settle()
        # THEN nothing is left over and the state is the reference's
        assert_reference_reached(pipeline, expected, totals)
