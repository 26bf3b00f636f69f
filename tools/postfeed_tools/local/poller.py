"""`postfeed serve`'s poller: a thread delivering the queue and the stream through the real handlers every
`interval` seconds, and running the scheduled function (future-dated posts that are due) now and then."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from postfeed_tools.local.pipeline import LocalPipeline

POLL_SECONDS = 0.5
SCHEDULE_SECONDS = 60.0  # how often `serve` runs the scheduled function (future-dated posts that are due)


class Poller(threading.Thread):
    """Delivers the queue and the stream through the handlers every `interval` seconds, and runs the
    scheduled function every `schedule_interval` seconds, until stopped."""

    def __init__(
        self,
        pipeline: LocalPipeline,
        *,
        interval: float = POLL_SECONDS,
        schedule_interval: float = SCHEDULE_SECONDS,
        console: IO[str],
        on_idle: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(name="postfeed-poller", daemon=True)
        self.pipeline = pipeline
        self.interval = interval
        self.schedule_interval = schedule_interval
        self.next_schedule = 0.0  # monotonic time of the next scheduled run (the first round runs it)
        self.console = console
        self.on_idle = on_idle  # called (lock held) after each round that ends with nothing left to deliver
        self.stopping = threading.Event()
        self.wake = threading.Event()  # ends the wait between rounds early
        self.lock = threading.Lock()  # held while the glue runs: callers can settle in step with it
        self.rounds = 0
        self.idle_rounds = 0  # the number of the last round that ended idle (rounds count from 1)
        self.round_done = threading.Condition()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.settle_once()
            self.wake.wait(self.interval)
            self.wake.clear()

    def settle_once(self) -> None:
        with self.lock:
            idle = False
            try:
                if time.monotonic() >= self.next_schedule:
                    self.next_schedule = time.monotonic() + self.schedule_interval
                    self.pipeline.glue.run_schedule()
                self.pipeline.settle()
                idle = True
                if self.on_idle is not None:
                    self.on_idle()
            except Exception as exc:  # a local server hiccup must not end the poller
                self._say(f"poller: {type(exc).__name__}: {exc}")
            with self.round_done:
                self.rounds += 1
                if idle:
                    self.idle_rounds = self.rounds
                self.round_done.notify_all()

    def drain(self, timeout: float, cancel: threading.Event) -> bool:
        """Wait until a round that starts after this call ends idle: every event already queued (each upload
        acknowledged before the gate shut) has then been delivered. False on `timeout` or `cancel`."""
        with self.lock, self.round_done:  # no round is running: the next one starts after this point
            wanted = self.rounds + 1
        self.wake.set()
        deadline = time.monotonic() + timeout
        with self.round_done:
            while self.idle_rounds < wanted:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or cancel.is_set() or not self.is_alive():
                    return False
                self.round_done.wait(min(remaining, 0.2))
        return True

    def stop(self, timeout: float = 30.0) -> None:
        self.stopping.set()
        self.wake.set()
        self.join(timeout)

    def _say(self, line: str) -> None:
        self.console.write(f"{time.strftime('%H:%M:%S')}  {line}\n")
        self.console.flush()
