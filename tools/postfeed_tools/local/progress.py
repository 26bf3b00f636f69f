"""Progress bars of long uploads (`postfeed run --events`, `serve --posts`, `import`)."""

from __future__ import annotations

import sys
from typing import Any

# A progress bar is drawn when stderr is a terminal, or (as plain periodic lines) for this many posts.
PROGRESS_MIN_POSTS = 1000


class Progress:
    """A tqdm bar on stderr when it is a terminal or the run is long; otherwise nothing."""

    def __init__(self, total: int, *, unit: str, enabled: bool | None = None, desc: str = "") -> None:
        self.bar: Any = None
        if enabled is None:
            enabled = sys.stderr.isatty() or total >= PROGRESS_MIN_POSTS
        if enabled and total:
            from tqdm import tqdm  # type: ignore[import-untyped]  # no types-tqdm pinned

            interactive = sys.stderr.isatty()
            self.bar = tqdm(
                total=total,
                unit=unit,
                desc=desc,
                file=sys.stderr,
                dynamic_ncols=interactive,
                mininterval=0.2 if interactive else 10.0,
                ascii=not interactive,
            )

    def update(self, count: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def note(self, text: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
