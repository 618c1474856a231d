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

from analysis.storage import (
    SiteWouldChange,
    check_writable,
    leftover_prefix,
    maker_alive,
    refusing_writes,
)
from analysis.vocabulary import is_month

__all__ = ["SiteWouldChange", "publish_dir", "publish_month", "publish_site", "refusing_writes"]


def _swap_in(staging: Path, target: Path, retired_prefix: str | None = None) -> None:
    """Put the finished ``staging`` folder at ``target``, retiring the old one (two renames)."""
    if not os.path.lexists(target):
        os.rename(staging, target)
        return
    prefix = retired_prefix or f".{target.name}.old-"
    retired = target.with_name(f"{prefix}{secrets.token_hex(4)}")
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
    check_writable(target)
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


def published_months(site: Path) -> set[str]:
    """The months published in ``site`` (``YYYY-MM`` folders holding ``index.html``)."""
    site = Path(site)
    if not site.is_dir():
        return set()
    return {p.name for p in site.iterdir() if is_month(p.name) and (p / "index.html").is_file()}


def _link_tree(source: Path, target: Path, skip: frozenset[str]) -> None:
    """Fill the empty folder ``target`` with hard links to every file under ``source`` (folders
    are made anew, symbolic links copied as links); top-level names in ``skip`` are left out.
    Writers replace files by renaming (never in place), so the published inodes stay as they
    are while ``target`` is changed."""
    shutil.copytree(
        source,
        target,
        symlinks=True,
        ignore=lambda folder, names: skip if Path(folder) == source else (),
        copy_function=os.link,
        dirs_exist_ok=True,
    )


def site_leftovers(site: Path) -> str:
    """The name pattern of the shadow sites and retired sites :func:`publish_site` makes beside
    ``site``."""
    return f".{Path(site).name}.*-p*-*"


def recover_site(site: Path) -> Path | None:
    """After a kill between the two renames of :func:`publish_site` (``site`` missing), put the
    retired old site back (one whose run is gone: a live run is between its renames); returns
    it, or None when there was nothing to do."""
    site = Path(site)
    if os.path.lexists(site):
        return None
    retired = sorted(
        (p for p in site.parent.glob(f".{site.name}.old-p*-*") if not maker_alive(p)),
        key=lambda p: p.stat().st_mtime,
    )
    if not retired:
        return None
    os.rename(retired[-1], site)
    return retired[-1]


def publish_site(build: Callable[[Path], None], site: Path, skip=()) -> Path:
    """Change a whole site at once: a shadow folder beside ``site`` is made of hard links to
    every published file (but the top-level names in ``skip``), ``build(shadow)`` changes it
    (every write replaces a file by a rename, so the published files are never touched), and
    the shadow is swapped in with two renames. If ``build`` raises anything, ``site`` is left
    exactly as it was and the shadow is removed. A lock file in ``site`` is linked too: the
    new site's lock is the same file, still held.

    >>> from tempfile import TemporaryDirectory
    >>> from analysis.storage import write_text_atomic
    >>> with TemporaryDirectory() as d:
    ...     site = Path(d) / "site"; site.mkdir(); _ = (site / "a.html").write_text("old")
    ...     def build(shadow): write_text_atomic(shadow / "a.html", "new")
    ...     _ = publish_site(build, site)
    ...     (site / "a.html").read_text()
    'new'
    """
    site = Path(site)
    if not site.is_dir() or site.is_symlink():
        raise NotADirectoryError(f"{site} is not a folder: will not replace it")
    shadow = Path(tempfile.mkdtemp(prefix=leftover_prefix(f".{site.name}.new-"), dir=site.parent))
    try:
        shadow.chmod(site.stat().st_mode & 0o7777)
        _link_tree(site, shadow, frozenset(skip))
        build(shadow)
        _swap_in(shadow, site, retired_prefix=leftover_prefix(f".{site.name}.old-"))
    except BaseException:
        shutil.rmtree(shadow, ignore_errors=True)
        raise
    return site
