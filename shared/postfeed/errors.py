"""The root of every error postfeed raises, and the stable code each one carries.

Each package has its own base under `PostfeedError` (`postfeed.jekyll.errors.JekyllError`,
`postfeed.feeds.errors.FeedsError`, `postfeed.store.errors.StoreError`, `postfeed.pipeline.errors.PipelineError`,
`postfeed_tools.errors.ToolsError`), and each error class its own `code`: a stable snake_case string that users
see in the failure lines of the logs (`postfeed.pipeline.failures`), in rejection records and in reports.
An error may carry a more precise code of its own (the Jekyll reader's: `liquid_syntax`, `config_yaml`...),
set on the instance. Errors that callers catch as a built-in (a ValueError, a KeyError) keep that base too.
"""

from __future__ import annotations


class PostfeedError(Exception):
    """Base of every postfeed error; `code` is the stable string users see in logs and reports."""

    code: str = "postfeed_error"
