"""Feed totals and listings that cannot drift (issue 14, item 1): however the stream splits one feed's changes
into batches, each feed's total ends equal to its entries, the registry lists exactly the feeds that have
entries, and the discovery documents are those of that list.

The changes of a history are all ingested before the feeds function hears of any, then the stream is delivered
in batches of every size from one record to all of them: a feed's rebuild then pages memberships whose stream
records come later, and relinks neighbour pages rendered from members announced later (what used to make
index.html say 36 entries for 37, or drop a live feed)."""

from __future__ import annotations

from unittest import mock

from hypothesis import example, given
from hypothesis import strategies as st
from moto import mock_aws

from postfeed.feeds import discovery
from postfeed_tools.local.pipeline import LocalPipeline
from tests.functional.conftest import FEED_BASE_URL, FINEWS_PARAMETERS
from tests.functional.test_discovery import assert_discovery_exact, with_batch_size
from tests.functional.test_pipeline_rules import post
from tests.property.conftest import property_settings
from tests.property.stats import stats_for

SLOTS = ("_posts/2026-10-01-a.md", "_posts/2026-10-02-b.md", "_posts/2026-10-03-c.md", "_posts/2026-10-04-d.md")
# Three months (a page each, or neighbours to relink), one of them twice (two entries on a page).
DATES = (
    "2026-09-10 09:00:00 +0800",
    "2026-10-10 09:00:00 +0800",
    "2026-10-20 09:00:00 +0800",
    "2026-11-10 09:00:00 +0800",
)
# Tags that come and go with the posts (their feeds appear and disappear), in the one category.
TAGS = ("央行公告", "港股", "央行公告 港股", "")

versions = st.builds(
    lambda title, date, tags: post(title=title, date=date, tags=tags, categories="emnews"),
    st.sampled_from(("甲", "乙", "丙")),
    st.sampled_from(DATES),
    st.sampled_from(TAGS),
)
changes = st.tuples(st.sampled_from(SLOTS), st.one_of(versions, versions, st.none()))  # None: a delete


def new_pipeline() -> LocalPipeline:
    return LocalPipeline.create(parameters=FINEWS_PARAMETERS, feed_base_url=FEED_BASE_URL)


def apply(pipeline: LocalPipeline, key: str, body: bytes | None) -> None:
    if body is None:
        pipeline.delete(key)
    else:
        pipeline.upload(key, body)


@property_settings(share=0.06)
@given(
    before=st.lists(st.tuples(st.sampled_from(SLOTS), versions), max_size=3),
    after=st.lists(changes, min_size=2, max_size=5),
)
# A new month's page relinks October's, rendered with an October post whose own record comes next.
@example(
    before=[(SLOTS[0], post(title="甲", date=DATES[1], categories="emnews"))],
    after=[
        (SLOTS[1], post(title="乙", date=DATES[3], categories="emnews")),
        (SLOTS[2], post(title="丙", date=DATES[2], categories="emnews")),
    ],
)
def test_totals_and_lists_are_exact_whatever_batches_split_a_feeds_changes(
    before: list[tuple[str, bytes]], after: list[tuple[str, bytes | None]]
) -> None:
    totals = stats_for("feed totals: one feed's changes split across stream batches of every size")
    totals.examples += 1
    for size in range(1, len(after) + 1):
        # shelves of about two feeds, so the tags' comings and goings move shelves too
        with mock_aws(), mock.patch.object(discovery, "SHELF_SPAN", 2):
            pipeline = new_pipeline()
            # GIVEN a feed built from some posts
            for key, version in before:
                apply(pipeline, key, version)
            pipeline.settle()
            # WHEN more changes are all ingested, then announced to the feeds function `size` records at a time
            with_batch_size(pipeline, size)
            for key, change in after:
                apply(pipeline, key, change)
            while pipeline.glue.pump_queue():
                pass
            pipeline.settle()
            totals.changes += len(after)
            # THEN every total, every listing and every discovery document is exact
            assert pipeline.glue.delivery.stream_failed_batches == 0
            assert_discovery_exact(pipeline)
