"""One run at a time, and no run that can lock the project after it died.

Every command that writes (``ee fetch``, ``ee clean``, ``ee data``, ``ee report``, ``ee reports``)
holds **the data lock**, an exclusive ``flock`` on ``<data>/.ee.lock``, for its whole run:
retrieval, cleaning and publishing never interleave. Publishing also takes **the site lock**
(``<site>/.lock``), always after the data lock, never before (one order, so no deadlock).

A dead holder cannot keep either lock:

- ``flock`` locks belong to open files, and the kernel closes a process's files when it dies,
  whatever killed it (``kill -9`` included);
- worker processes of a parallel build are forked, so they would inherit the open lock files
  and keep the locks after their parent died: :func:`worker_initializer` makes each worker
  drop its copies at once and die with its parent (Linux ``PR_SET_PDEATHSIG``);
- a SIGTERM to the command becomes a ``KeyboardInterrupt``, so it cleans up as Ctrl-C does.

The lock file names its holder (process id, command, start time), so a second command says who
is running instead of waiting blindly.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from analysis.errors import BuildFailed

#: Lock files this process holds: path -> file descriptor (what forked workers must drop).
_HELD: dict[Path, int] = {}
_GUARD = threading.RLock()
_PR_SET_PDEATHSIG = 1


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return f" ({text})" if text else ""


@contextlib.contextmanager
def exclusive(path: Path, what: str, wait: float = 0.0):
    """Hold an exclusive ``flock`` on ``path`` (re-entrant within one process).

    Waits up to ``wait`` seconds for another holder to finish, then raises
    :class:`~analysis.errors.BuildFailed` naming the holder and ``what`` it protects.
    """
    path = Path(path)
    with _GUARD:
        if path in _HELD:  # already ours: an outer step holds it
            yield
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise BuildFailed(
                        f"another `ee` command is working on {what}{_holder(path)}; "
                        "try again when it ends"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        started = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        command = " ".join(["ee", *sys.argv[1:]])[:200]
        os.pwrite(fd, f"pid {os.getpid()}: {command}, since {started}\n".encode(), 0)
        _HELD[path] = fd
    try:
        yield
    finally:
        with _GUARD:
            _HELD.pop(path, None)
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # releases the lock


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def terminate_as_interrupt():
    """While inside, SIGTERM raises ``KeyboardInterrupt`` in the main thread (so ``finally``
    blocks run, staging folders are removed and workers are stopped, as for Ctrl-C)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this process when its parent dies (Linux; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def worker_initializer(parent: int) -> None:
    """Run first in every worker process of a parallel build: die with the parent, give up
    the inherited lock files (the parent's locks end when the parent does), and take SIGTERM
    and Ctrl-C the default way."""
    die_with_parent(parent)
    for fd in list(_HELD.values()):
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, fd)  # this copy of the locked file is gone; the number stays valid
        os.close(devnull)
    _HELD.clear()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
