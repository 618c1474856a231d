"""Writing files so that a reader never sees half of one.

Every file the project writes goes to a temporary name in the same folder and is then renamed
into place (``os.replace`` is atomic on one filesystem). A set of tables is staged completely
before the first one replaces its predecessor.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_bytes_atomic(folder / "a.txt", b"hello")
>>> (folder / "a.txt").read_bytes()
b'hello'
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd


def write_bytes_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def _write_table(frame: pd.DataFrame, folder: Path, name: str) -> list[Path]:
    parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
    frame.to_parquet(parquet, index=False)
    frame.to_csv(csv, index=False, date_format="%Y-%m-%dT%H:%M:%S%z")
    return [parquet, csv]


def write_tables_atomic(
    tables: dict[str, pd.DataFrame], folder: Path, extra_files: dict[str, bytes] | None = None
) -> list[Path]:
    """Write each table as ``<name>.parquet`` and ``<name>.csv`` into ``folder``.

    Everything is first written into a staging folder inside ``folder``; only when all files
    are written are they renamed into place. An exception while staging leaves ``folder``
    as it was. Returns the published paths.
    """
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
    try:
        staged: list[Path] = []
        for name, frame in tables.items():
            staged += _write_table(frame, staging, name)
        for name, data in (extra_files or {}).items():
            (staging / name).write_bytes(data)
            staged.append(staging / name)
        published = []
        for path in staged:
            target = folder / path.name
            os.replace(path, target)
            published.append(target)
        return published
    finally:
        shutil.rmtree(staging, ignore_errors=True)
