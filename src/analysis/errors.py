"""The errors a user of ``ee`` can meet. Each says what went wrong in words (the round and field,
the month, the notebook and its run record); the CLI prints the message and exits 1.

Kept in one light module so that the CLI can catch them without importing the heavy modules
that raise them; import them from here.
"""

from __future__ import annotations

import re
from pathlib import Path

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class FeedError(Exception):
    """The feed cannot be trusted: the message names the round(s) and field(s)."""

    def __init__(self, message: str, findings: list | None = None):
        super().__init__(message)
        self.findings = findings or []


class RetrievalError(Exception):
    """The feed could not be retrieved."""


class NotebookFailed(Exception):
    """A notebook stopped on an error; ``record`` is the executed copy showing where."""

    def __init__(self, notebook: str, ename: str, evalue: str, record: Path | None):
        self.notebook, self.ename, self.evalue, self.record = notebook, ename, evalue, record
        where = f"\n(run record: {record})" if record else ""
        super().__init__(f"{notebook}: {ename}: {_ANSI.sub('', evalue)}{where}")

    def __reduce__(self):  # picklable, so a worker process can report it
        return (type(self), (self.notebook, self.ename, self.evalue, self.record))


class BuildFailed(RuntimeError):
    """One or more months failed; nothing was published."""


class LockRefused(RuntimeError):
    """Another ``ee`` command holds the lock (the message names it), or the lock file cannot be
    used (e.g. a symbolic link planted in its place)."""


class ReportError(ValueError):
    """A notebook or page that must not be published; the message says where and why."""


class ParameterError(ValueError):
    """A report parameter that cannot be used; the message says what is allowed."""


class BadArgument(ValueError):
    """A command-line argument that does not fit the data (e.g. a month after the newest round);
    ``ee`` exits with status 2, as for any bad argument."""


class SettingError(BadArgument):
    """An ``EE_*`` environment variable that cannot be used; the message names it and what is
    allowed (``ee`` exits 2, as for a bad argument)."""


#: What the CLI reports as a clear one-line error (exit status 1) rather than a traceback.
USER_ERRORS = (
    FeedError,
    RetrievalError,
    NotebookFailed,
    BuildFailed,
    LockRefused,
    ValueError,
    OSError,
)
