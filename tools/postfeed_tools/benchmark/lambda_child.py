"""Run inside a fresh interpreter by the memory benchmark: load one handler as Lambda does, invoke it
once with an event from a file, print peak RSS (after import, after the invocation) as one JSON line.

    python -I lambda_child.py CODE_DIR LAYER_DIR EVENT_FILE

Only the standard library before the handler loads, so the figures are the handler's own."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import uuid
from typing import Any


class Context:
    """The attributes of Lambda's context object that Powertools reads."""

    def __init__(self, name: str, memory_mb: int) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def peak_mb() -> float:
    """This process's peak RSS in MiB. On Linux, VmHWM: `ru_maxrss` survives fork+exec, so a child
    would report its parent's peak until it grows past it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> None:
    code_dir, layer, event_file = argv
    started_mb = peak_mb()
    sys.path[:0] = [code_dir, layer]  # /var/task, then the layer (/opt/python); run with -I
    began = time.perf_counter()
    import app  # type: ignore[import-not-found]

    imported_mb = peak_mb()
    with open(event_file, encoding="utf-8") as handle:
        event: dict[str, Any] = json.load(handle)
    invoked = time.perf_counter()
    result = app.lambda_handler(event, Context("bench", int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))))
    finished = time.perf_counter()
    print(
        json.dumps(
            {
                "start_mb": round(started_mb, 1),
                "after_import_mb": round(imported_mb, 1),
                "peak_mb": round(peak_mb(), 1),
                "ru_maxrss_mb": round(maxrss_mb(), 1),
                "import_s": round(invoked - began, 3),
                "invoke_s": round(finished - invoked, 3),
                "result": result,
            },
            default=str,
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
