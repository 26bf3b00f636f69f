from __future__ import annotations

import feedparser

from postfeed_tools.local.pipeline import LocalPipeline
from tests.conftest import SEED_KEY


def test_seed_upload_publishes_site_category_and_tag_feeds(pipeline: LocalPipeline, seed_bytes: bytes) -> None:
    # GIVEN the seed post uploaded to the posts bucket
    pipeline.upload(SEED_KEY, seed_bytes)
    # WHEN every event has gone through the handlers
    pipeline.settle()
    # THEN the site, category and tag feeds exist in three formats, with the post in each
    keys = pipeline.feed_keys()
    for stem in ("feed", "feed/nanchangribao", "feed/by_tag/南昌日报新闻"):
        for ext in (".xml", ".rss", ".json"):
            assert f"{stem}{ext}" in keys
    parsed = feedparser.parse(pipeline.feed("feed/nanchangribao.xml"))
    assert parsed.bozo == 0
    (entry,) = parsed.entries
    assert entry.link == "https://finews.withounder.com/nanchangribao/2022/03/11/202203112305364917.html"
    assert entry.title.startswith("携手共奋进")
    obj = pipeline.feed_object("feed/nanchangribao.rss")
    # served as XML so a browser shows it through feed.xsl (FeedContentTypes=browser, the default)
    assert obj["content_type"] == "application/xml; charset=utf-8"
    assert obj["cache_control"]
