"""The root of every error postfeed raises, and the stable code each one carries.

Each package that raises errors users see has its own base under `PostfeedError`:
`postfeed.jekyll.errors.JekyllError`, `postfeed.store.errors.StoreError`, `postfeed.pipeline.errors.PipelineError`
and `postfeed_tools.errors.ToolsError` (`postfeed.feeds` renders what it is given and raises none: its ValueErrors
are broken invariants, bugs). Every error class has a `code`: a stable snake_case string users see in
the failure lines of the logs (`postfeed.pipeline.failures`), in rejection records and in reports. It is the
class's name in snake_case (`LeaseBusyError` -> `lease_busy_error`) unless the class sets its own; an error may
carry a more precise code on the instance (the Jekyll reader's: `liquid_syntax`, `config_yaml`...). A class
renamed must set `code` to its old one (tests/unit/test_errors.py pins them). Errors that callers catch as a
built-in (a ValueError, a KeyError) keep that base too.
"""

from __future__ import annotations

import re
from typing import Any

_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """`LeaseBusyError` -> `lease_busy_error` (leading underscores dropped)."""
    return _WORD_START.sub("_", name.lstrip("_")).lower()


class PostfeedError(Exception):
    """Base of every postfeed error; `code` is the stable string users see in logs and reports."""

    code: str = "postfeed_error"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = snake_case(cls.__name__)
