"""The hostile catalogue runs the whole pipeline on moto, as the functional tests do."""

from __future__ import annotations

import pytest

from postfeed_tools.local.pipeline import LocalPipeline
from tests.functional.conftest import FEED_BASE_URL, FINEWS_PARAMETERS, aws  # noqa: F401 - `aws` is a fixture


@pytest.fixture
def pipeline(aws: None) -> LocalPipeline:  # noqa: F811 - the fixture above, by name
    return LocalPipeline.create(parameters=FINEWS_PARAMETERS, feed_base_url=FEED_BASE_URL)
