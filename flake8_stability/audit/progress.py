"""The progress bar of long runs: on stderr, only when stderr is a terminal, and only once the
run is long (more than MANY_FILES files, or DELAY seconds gone); erased when the run ends, so
the report starts on a clean line. Nothing is written when stderr is piped."""
from __future__ import annotations

import os
import time
from typing import Callable, Optional, TextIO

MANY_FILES = 200
DELAY = 1.0  # seconds
_REDRAW = 0.1  # seconds between two drawings
_WIDTH = 30


class ProgressBar:
    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self.started = clock()
        self.drawn_at: Optional[float] = None

    @classmethod
    def for_stream(cls, stream: TextIO) -> Optional["ProgressBar"]:
        """A bar for `stream` if it is a terminal that can redraw a line, else None."""
        isatty = getattr(stream, "isatty", None)
        if isatty is None or not isatty() or os.environ.get("TERM") == "dumb":
            return None
        return cls(stream)

    def __call__(self, done: int, total: int) -> None:
        """The engine's progress callback: `done` of `total` files analysed."""
        now = self.clock()
        if self.drawn_at is None and total <= MANY_FILES and now - self.started < DELAY:
            return
        if self.drawn_at is not None and done < total and now - self.drawn_at < _REDRAW:
            return
        self.drawn_at = now
        filled = _WIDTH * done // total if total else _WIDTH
        self.stream.write(f"\ranalysing [{'#' * filled}{'.' * (_WIDTH - filled)}] "
                          f"{done}/{total} files")
        self.stream.flush()

    def close(self) -> None:
        """Erase the bar, if it was drawn."""
        if self.drawn_at is not None:
            self.stream.write("\r\033[K")
            self.stream.flush()
