from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from postfeed.pipeline.tracing import traced
from tests.conftest import REPO


def handler(event: dict[str, Any], context: Any) -> str:
    return "done"


def test_tracing_off_leaves_the_handler_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTFEED_TRACING", raising=False)
    assert traced(handler, "svc") is handler


def test_tracing_on_wraps_the_handler_with_powertools_tracer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTFEED_TRACING", "true")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon here
    wrapped = traced(handler, "svc")
    assert wrapped is not handler
    assert wrapped({}, None) == "done"


def test_importing_a_handler_does_not_load_the_xray_sdk() -> None:
    code = (
        "import sys; sys.path[:0] = ['functions/ingest_post', 'shared']; import app; "
        "print('aws_xray_sdk' in sys.modules, 'boto3' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
