"""Atomic publishing: a folder is built beside its target and swapped in with two renames, so a
reader (or a killed run) never sees half a month or half a site.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from analysis.months import is_month


def _swap_in(staging: Path, target: Path) -> None:
    """Put the finished ``staging`` folder at ``target``, retiring the old one (two renames)."""
    if not os.path.lexists(target):
        os.rename(staging, target)
        return
    retired = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
    os.rename(target, retired)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(retired, target)  # put the old site back before reporting the failure
        raise
    shutil.rmtree(retired, ignore_errors=True)


def publish_dir(build: Callable[[Path], None], target: Path) -> Path:
    """Build a folder with ``build(staging)`` and swap it in at ``target``, all or nothing.

    ``staging`` is a fresh empty folder beside ``target`` (same file system, hidden name).
    When ``build`` returns, the old ``target`` is renamed away, ``staging`` renamed in, and the
    old one deleted; ``target`` need not exist yet. If ``build`` raises anything (including
    ``KeyboardInterrupt``), ``target`` is left exactly as it was and ``staging`` is removed.
    ``build`` may read the old ``target`` (e.g. to copy unchanged months): it is untouched
    until the swap. Between the two renames (microseconds) ``target`` does not exist.

    >>> from tempfile import TemporaryDirectory
    >>> with TemporaryDirectory() as d:
    ...     site = publish_dir(lambda tmp: (tmp / "index.html").write_text("v1"), Path(d) / "site")
    ...     (site / "index.html").read_text()
    'v1'
    """
    target = Path(target)
    if os.path.lexists(target) and not target.is_dir():
        raise NotADirectoryError(f"{target} exists and is not a folder: will not replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes 0700; a web server must be able to read the site
        build(staging)
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def publish_month(build: Callable[[Path], None], site_dir: Path, month: str) -> Path:
    """Replace one month's folder ``site_dir/YYYY-MM`` atomically (see :func:`publish_dir`).

    Other months are not touched; refresh the index afterwards.

    >>> from tempfile import TemporaryDirectory
    >>> with TemporaryDirectory() as d:
    ...     publish_month(lambda tmp: (tmp / "index.html").write_text("m"), Path(d), "2026-03").name
    '2026-03'
    """
    if not is_month(month):
        raise ValueError(f"month {month!r} is not 'YYYY-MM'")
    return publish_dir(build, Path(site_dir) / month)
