"""Property tests of the whole pipeline on moto: hypothesis profiles, the AWS environment, the run's totals.

Profiles (`POSTFEED_PROPERTY_PROFILE`, default `ci`): `ci` runs a fixed, derandomized set of examples sized
for CI (a few minutes on 2 cores); `long` explores anew each run (`make property-long`). They apply to the
tests of this folder only: other hypothesis tests keep their own settings."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, settings

from postfeed_tools.local.pipeline import LOCAL_AWS_ENVIRONMENT
from tests.property import stats

_COMMON = {
    "deadline": None,  # an example drives the whole pipeline: seconds, not milliseconds
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
# No shrinking in CI: an example takes seconds, and a derandomized failure is reproducible as printed.
_CI_PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
settings.register_profile(
    "ci",
    max_examples=150,
    derandomize=True,
    database=None,
    phases=_CI_PHASES,
    **_COMMON,  # type: ignore[arg-type]
)
settings.register_profile("long", max_examples=1000, **_COMMON)  # type: ignore[arg-type]
PROFILE = os.environ.get("POSTFEED_PROPERTY_PROFILE", "ci")


def property_settings(share: float = 1.0) -> settings:
    """The profile's settings with `share` of its examples (the slower properties run fewer)."""
    base = settings.get_profile(PROFILE)
    return settings(base, max_examples=max(1, round(base.max_examples * share)))


@pytest.fixture(scope="session", autouse=True)
def property_totals() -> Iterator[None]:
    """At the end of the session: write out/property-stats.json and print the totals (shown with -s)."""
    yield
    merged = stats.write()
    if merged:
        print("\n" + stats.summary_line(merged), file=sys.stderr)


@pytest.fixture(scope="module", autouse=True)
def aws_environment() -> Iterator[None]:
    """Fake credentials and one region for every example's own `mock_aws()`."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        for key, value in {**LOCAL_AWS_ENVIRONMENT, "POWERTOOLS_METRICS_DISABLED": "true"}.items():
            monkeypatch.setenv(key, value)
        yield
