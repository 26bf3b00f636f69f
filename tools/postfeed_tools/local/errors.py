"""The local stack's one error for the user: something it cannot do (a bad folder, a port taken, a state folder
in use), with a message saying why; the commands print it and exit with status 2."""

from __future__ import annotations

from postfeed_tools.errors import ToolsError


class RunError(ToolsError, RuntimeError):
    """A run that cannot start (bad folder, an output folder we will not clear); the message says why."""
