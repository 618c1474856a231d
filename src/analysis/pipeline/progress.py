"""How ``ee`` tells its user what it is doing.

Messages are plain lines. Long work (the months of ``ee reports``, the steps of ``ee data``) is
tracked: on a terminal a live display (rich) shows how many are done of how many, the time
elapsed and what is being built right now; when the output is not a terminal (CI, a log file, a
pipe) the same facts come as plain lines, one when an item starts and one when it ends.

>>> import io
>>> out = io.StringIO()
>>> progress = Progress(out, live=False)
>>> with progress.tracking(2, "months") as tracker:
...     tracker.started("2023-07")
...     tracker.finished("2023-07", 12.34)
>>> print(out.getvalue().replace("0:00:00", "0:00:0x"), end="")
  [0/2] building 2023-07 (elapsed 0:00:0x)
  [1/2] 2023-07 built in 12.3 s (elapsed 0:00:0x)
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import (
    Progress as RichProgress,
)


class Progress:
    """Where ``ee`` writes: ``say`` a line; ``tracking`` a batch of items (months, steps).

    ``live`` (default: whether ``stream`` is a terminal) draws rich's live display on ``stream``;
    lines said meanwhile are printed above it.
    """

    def __init__(self, stream: TextIO | None = None, live: bool | None = None):
        self.stream = stream or sys.stdout
        self.console = Console(file=self.stream, highlight=False, soft_wrap=True)
        self.live = self.console.is_terminal if live is None else live
        self._display: RichProgress | None = None

    def say(self, message: str, stream: TextIO | None = None) -> None:
        """Write one line on ``stream`` (default: this one), above the live display when it is
        drawn there."""
        stream = stream or self.stream
        if self._display is not None and stream is self.stream:
            self._display.console.print(message, markup=False)
        else:
            print(message, file=stream, flush=True)

    def warn(self, message: str) -> None:
        """Write a warning line on stderr."""
        self.say(message, sys.stderr)

    @contextlib.contextmanager
    def tracking(
        self, total: int, what: str, doing: str = "building", done: str = "built"
    ) -> Iterator[Tracker]:
        """Track ``total`` items of work (``what``: ``"months"``, ``"steps"``); ``doing`` and
        ``done`` are the words for an item in progress and an item finished."""
        tracker = Tracker(self, total, doing, done)
        if not self.live:
            yield tracker
            return
        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn())
        display = RichProgress(
            *columns,
            MofNCompleteColumn(),
            TextColumn(what),
            TimeElapsedColumn(),
            console=self.console,
        )
        try:
            with display:
                self._display = tracker.display = display
                tracker.task = display.add_task("starting", total=total)
                yield tracker
        finally:
            self._display = None


@dataclass
class Tracker:
    """The items of one batch: which are in progress, how many are done, time elapsed (and the
    live display's task, when there is one)."""

    progress: Progress
    total: int
    doing: str
    done_word: str
    display: RichProgress | None = None
    task: TaskID | None = None
    done: int = 0
    running: list[str] = field(default_factory=list)
    started_at: float = field(default_factory=time.perf_counter)

    def _line(self, text: str) -> str:
        elapsed = timedelta(seconds=int(time.perf_counter() - self.started_at))
        return f"  [{self.done}/{self.total}] {text} (elapsed {elapsed})"

    def _describe(self, advance: int = 0) -> None:
        if self.display is not None:
            idle = "done" if self.done >= self.total else "waiting"
            running = f"{self.doing} {', '.join(self.running)}" if self.running else idle
            # drawn at once, not at the next tick: a step shorter than a tick is still shown
            self.display.update(self.task, description=running, advance=advance, refresh=True)

    def started(self, item: str) -> None:
        """``item`` is being worked on now (again: nothing new)."""
        if item in self.running:
            return
        self.running.append(item)
        if self.display is None:
            self.progress.say(self._line(f"{self.doing} {item}"))
        self._describe()

    def finished(self, item: str, seconds: float) -> None:
        """``item`` is done; it took ``seconds``."""
        if item in self.running:
            self.running.remove(item)
        self.done += 1
        self.progress.say(self._line(f"{item} {self.done_word} in {seconds:.1f} s"))
        self._describe(advance=1)
