"""Counting the AWS calls the handlers make, with botocore's event hooks (no patching)."""

from __future__ import annotations

from collections import Counter
from typing import Any


class CallCounter:
    """Counts `service.Operation` for every call the handlers' clients make while installed."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def install(self) -> CallCounter:
        from postfeed.store.clients import reset_clients, session

        reset_clients()  # clients copy their session's hooks when built: build them after registering
        session().events.register("before-call", self._count, unique_id="postfeed-call-counter")
        return self

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    def reset(self) -> Counter[str]:
        """The counts so far, and start again from zero."""
        counts, self.calls = self.calls, Counter()
        return counts

    def __getitem__(self, name: str) -> int:
        return self.calls[name]
