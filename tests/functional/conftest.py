"""Functional tests: the real handlers on moto, through the template's stack and the event glue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT, LocalPipeline

FINEWS_PARAMETERS = {
    "SiteUrl": "https://finews.withounder.com",
    "SiteTitle": "金融消息",
    "Timezone": "Asia/Shanghai",
    "Lang": "zh-CN",
}
FEED_BASE_URL = "https://feeds.example.com"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in LOCAL_AWS_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    with mock_aws():
        yield


@pytest.fixture
def pipeline(aws: None) -> LocalPipeline:
    return LocalPipeline.create(parameters=FINEWS_PARAMETERS, feed_base_url=FEED_BASE_URL)
