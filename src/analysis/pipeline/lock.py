"""One run at a time, and no run that can lock the project after it died.

Every command that writes holds **the data lock** (``<data>/.ee.lock``) for its whole run, so
retrieval, cleaning and publishing never interleave; publishing also takes **the site lock**
(``<site>/.lock``), always after the data lock (one order, so no deadlock). The locks are
:mod:`filelock`'s ``flock`` locks: the kernel drops them when their holder dies (``kill -9``
too), filelock closes a forked child's copies and opens with ``O_NOFOLLOW``, and one lock object
per path (``is_singleton``) lets one command's steps re-enter the lock its command holds (a
forked worker gets its own, not its parent's hold). Kept here, as no library does it: the
holder's name in the lock file (pid, command, start) for a command that must wait, a clear
refusal of a lock planted as a symbolic link, workers that die with their parent
(:func:`worker_initializer`), and SIGTERM cleaning up as Ctrl-C does
(:func:`terminate_as_interrupt`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from analysis.errors import LockRefused

_PR_SET_PDEATHSIG = 1


def _write_holder(fd: int) -> None:
    """Name this command in the lock file it just locked (read by a command that must wait)."""
    started = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    command = " ".join(["ee", *sys.argv[1:]])[:200]
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()}: {command}, since {started}\n".encode(), 0)


def _holder(path: Path) -> str:
    """`` (pid ...: ee ..., since ...)``: who holds the lock at ``path``, as it wrote there."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, encoding="utf-8", errors="replace") as file:
            text = file.read(400).strip()
    except OSError:
        text = ""
    return f" ({text})" if text else ""


def _refuse_link(path: Path) -> None:
    if path.is_symlink():
        raise LockRefused(
            f"{path} is a symbolic link (to {os.readlink(path)}), not a lock file: a lock must "
            "not follow links; remove the link and run the command again"
        )


@contextlib.contextmanager
def exclusive(path: Path, what: str, wait: float = 0.0):
    """Hold an exclusive lock on ``path`` (re-entrant within one process).

    Waits up to ``wait`` seconds for another holder to finish, then raises
    :class:`~analysis.errors.LockRefused` naming the holder and ``what`` it protects.
    """
    path = Path(path)
    _refuse_link(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, thread_local=False, is_singleton=True, on_acquired=_write_holder)
    try:
        lock.acquire(timeout=wait, poll_interval=0.2)  # at once when this process holds it
    except Timeout:
        raise LockRefused(
            f"another `ee` command is working on {what}{_holder(path)}; try again when it ends"
        ) from None
    except OSError as error:  # e.g. a link planted between the check and the open
        _refuse_link(path)
        raise LockRefused(f"cannot lock {path}: {error.strerror or error}") from None
    try:
        yield
    finally:
        lock.release()


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def terminate_as_interrupt():
    """While inside, SIGTERM raises ``KeyboardInterrupt`` in the main thread (so ``finally``
    blocks run, staging folders are removed and workers are stopped, as for Ctrl-C). Every
    caller (an ``ee`` command's step) runs in the main thread, where signals are handled."""
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def worker_initializer(parent: int) -> None:
    """Run first in every worker process of a parallel build: ask the kernel to kill it when
    its parent dies (Linux; the parent keeps its locks: ``filelock`` closed the inherited
    descriptors at fork), and take SIGTERM and Ctrl-C the default way."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
