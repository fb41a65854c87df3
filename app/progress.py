"""A tiny progress display on stderr: a redrawn bar on a terminal, a periodic line otherwise.

No dependency: one line of text is all an import needs, and a pipe or a log file gets a
plain ``label: done/total`` line every ``every`` seconds (and at the end) instead of
carriage returns.
"""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO


class Progress:
    """Call with the count done so far; ``close()`` ends the line."""

    def __init__(
        self, label: str, total: int, stream: TextIO | None = None, every: float = 5.0
    ) -> None:
        self.label, self.total = label, max(total, 0)
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = 0.1 if self.tty else every
        self._shown = -math.inf  # the first call draws, whatever the monotonic clock reads
        self._done = 0

    def __call__(self, done: int) -> None:
        self._done = done
        now = time.monotonic()
        if now - self._shown >= self.every or done >= self.total:
            self._shown = now
            self._draw()

    def _draw(self) -> None:
        done, total = self._done, self.total
        if not self.tty:
            self.stream.write(f"{self.label}: {done}/{total} rows\n")
        else:
            width = 30
            filled = width * done // total if total else width
            percent = 100 * done // total if total else 100
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r{self.label} [{bar}] {done}/{total} rows {percent:3d}%")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
