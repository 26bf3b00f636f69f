"""The functions' stdout during a run: what they print (Powertools' JSON log lines and EMF metrics, i.e. what
CloudWatch Logs receives in AWS) goes to a log file, or nowhere, instead of the terminal."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO


class _FunctionOutput(io.TextIOBase):
    """Stands in for sys.stdout while the functions run: what they print (Powertools' JSON log lines and
    EMF metrics, i.e. what CloudWatch Logs receives in AWS) goes to `target`, or nowhere. Powertools keeps
    the stream it first saw, so outside a run this forwards to whatever sys.stdout is at the time."""

    def __init__(self) -> None:
        super().__init__()
        self.target: IO[str] | None = None
        self.active = False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.active:
            if self.target is not None:
                self.target.write(text)
        elif sys.stdout is not self:
            sys.stdout.write(text)
        return len(text)

    def flush(self) -> None:
        if self.active and self.target is not None:
            self.target.flush()


FUNCTION_OUTPUT = _FunctionOutput()


@contextlib.contextmanager
def function_output(log: Path | None) -> Iterator[None]:
    """Send the functions' stdout to the file `log` (None: drop it) for the duration. Not re-entrant: the
    process's sys.stdout is replaced, so print the caller's own lines to a stream saved beforehand."""
    with contextlib.ExitStack() as stack:
        target = stack.enter_context(log.open("a", encoding="utf-8")) if log else None
        FUNCTION_OUTPUT.target, FUNCTION_OUTPUT.active = target, True
        _log_through_function_output()
        stack.enter_context(contextlib.redirect_stdout(FUNCTION_OUTPUT))
        stack.enter_context(warnings.catch_warnings())
        # The feed function adds no metric when a batch touches no feed; Powertools warns then.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        try:
            yield
        finally:
            FUNCTION_OUTPUT.target, FUNCTION_OUTPUT.active = None, False


def _log_through_function_output() -> None:
    """Point the functions' Powertools loggers (services `postfeed-*`) at FUNCTION_OUTPUT: one made before
    any run (a test's pipeline, a bulk load outside a run) keeps the stdout of that moment and would write
    past this run's log. FUNCTION_OUTPUT forwards to the current stdout outside a run, so this is safe."""
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and logger.name.startswith("postfeed"):
            for handler in logger.handlers:
                if type(handler) is logging.StreamHandler and handler.stream is not FUNCTION_OUTPUT:
                    handler.setStream(FUNCTION_OUTPUT)
