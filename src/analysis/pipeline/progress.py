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
from collections.abc import Iterator
from datetime import timedelta
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    SpinnerColumn,
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
        self._batch: RichProgress | None = None  # the rich task's display while tracking

    def say(self, message: str, stream: TextIO | None = None) -> None:
        """Write one line on ``stream`` (default: this one), above the live display when it is
        drawn there."""
        stream = stream or self.stream
        if self._batch is not None and self.live and stream is self.stream:
            self._batch.console.print(message, markup=False)
        else:
            print(message, file=stream, flush=True)

    def warn(self, message: str) -> None:
        """Write a warning line on stderr."""
        self.say(message, sys.stderr)

    @contextlib.contextmanager
    def tracking(
        self, total: int, what: str, doing: str = "building", done: str = "built"
    ) -> Iterator[Progress]:
        """Track ``total`` items of work (``what``: ``"months"``, ``"steps"``), one batch at a
        time, with :meth:`started` and :meth:`finished`, on a rich task that counts them and
        times the batch (drawn only when live); ``doing`` and ``done`` are the words for an
        item in progress and an item finished."""
        display = RichProgress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(what),
            TimeElapsedColumn(),
            console=self.console,
            disable=not self.live,
        )
        self._words, self._running = (doing, done), []
        with display:
            self._task = display.add_task("starting", total=total)
            self._batch = display
            try:
                yield self
            finally:
                self._batch = None

    def _line(self, text: str) -> None:
        task = self._batch.tasks[0]
        elapsed = timedelta(seconds=int(task.elapsed or 0))
        self.say(f"  [{int(task.completed)}/{int(task.total)}] {text} (elapsed {elapsed})")

    def _describe(self) -> None:
        idle = "done" if self._batch.tasks[0].finished else "waiting"
        running = f"{self._words[0]} {', '.join(self._running)}" if self._running else idle
        # drawn at once, not at the next tick: a step shorter than a tick is still shown
        self._batch.update(self._task, description=running, refresh=True)

    def started(self, item: str) -> None:
        """``item`` of the batch tracked is being worked on now (again: nothing new)."""
        if item in self._running:
            return
        self._running.append(item)
        if not self.live:
            self._line(f"{self._words[0]} {item}")
        self._describe()

    def finished(self, item: str, seconds: float) -> None:
        """``item`` of the batch tracked is done; it took ``seconds``."""
        self._running.remove(item)  # every caller says an item started before it ends
        self._batch.advance(self._task, 1)
        self._line(f"{item} {self._words[1]} in {seconds:.1f} s")
        self._describe()
