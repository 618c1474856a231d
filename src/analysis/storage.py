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
import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd


class SiteWouldChange(Exception):
    """Raised by a write while :func:`refusing_writes` is in force: the site needs staging."""


_refusing = False


@contextlib.contextmanager
def refusing_writes():
    """Inside this block, :func:`write_bytes_atomic` and :func:`analysis.publish.swap.publish_dir`
    raise :class:`SiteWouldChange` instead of writing: a dry run telling whether the site
    steps would change anything, so a run where nothing changed stages nothing."""
    global _refusing
    previous, _refusing = _refusing, True
    try:
        yield
    finally:
        _refusing = previous


def check_writable(path: Path) -> None:
    """Raise :class:`SiteWouldChange` when writes are refused (see :func:`refusing_writes`)."""
    if _refusing:
        raise SiteWouldChange(str(path))


def write_bytes_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    check_writable(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
        )
    except OSError as exc:
        raise _naming(exc, path) from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise _naming(exc, path) from None
        raise


def _naming(exc: OSError, path: Path) -> OSError:
    """``exc`` with a message that names the file and what to do (a full disk says only "No
    space left on device"); the same class (PermissionError stays one).

    >>> print(_naming(OSError(28, "No space left on device"), Path("/data/m.csv")).strerror)
    could not write /data/m.csv: No space left on device (free some space and run the command again)
    """
    if exc.errno is None or "could not write" in str(exc.strerror):
        return exc
    hint = {
        errno.ENOSPC: " (free some space and run the command again)",
        errno.EDQUOT: " (free some space and run the command again)",
        errno.EROFS: " (the folder is read-only)",
        errno.EACCES: " (no permission to write there)",
    }.get(exc.errno, "")
    return type(exc)(exc.errno, f"could not write {path}: {exc.strerror}{hint}")


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) all at once: readers see the old file or the new one."""
    path = Path(path)
    write_bytes_atomic(path, text.encode("utf-8"))
    return path


def hash_tree(root: Path, entries, suffixes=(".py", ".csv", ".j2", ".css", ".json.gz")) -> str:
    """sha256 over every file under ``root`` named by ``entries`` (files, or folders walked
    recursively), keyed by its path relative to ``root``: which code made a thing.

    A folder contributes every file whose name ends with one of ``suffixes`` at any depth (caches
    such as ``__pycache__`` are left out), so a change in a nested module changes the hash, and
    moving a file changes it too.

    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "sub").mkdir(), (folder / "sub" / "a.py").write_text("x = 1")
    >>> before = hash_tree(folder, ["sub"])
    >>> _ = (folder / "sub" / "a.py").write_text("x = 2")
    >>> hash_tree(folder, ["sub"]) == before
    False
    """
    root = Path(root)
    files: set[Path] = set()
    for entry in entries:
        path = root / entry
        if path.is_dir():
            files.update(
                f
                for f in path.rglob("*")
                if f.is_file() and f.name.endswith(suffixes) and "__pycache__" not in f.parts
            )
        elif path.is_file():
            files.add(path)
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def read_stamp(stamp: Path) -> dict:
    """What a JSON stamp file records (empty when it is missing or unreadable)."""
    try:
        recorded = json.loads(Path(stamp).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def stamp_matches(stamp: Path, fingerprint: str) -> bool:
    """True when the JSON stamp file exists and records ``fingerprint``."""
    return read_stamp(stamp).get("fingerprint") == fingerprint


def write_stamp(stamp: Path, fingerprint: str, **extra) -> None:
    """Record ``fingerprint`` (and ``extra`` facts) of what an output was made from."""
    write_text_atomic(
        Path(stamp),
        json.dumps({"fingerprint": fingerprint, **extra}, indent=2, sort_keys=True) + "\n",
    )


#: Leftover folders carry the id of the process that made them: ``.staging-p1234-x8k2``.
_OWNER = re.compile(r"-p(\d+)-")


def process_alive(pid: int) -> bool:
    """True while a process with this id runs (it may belong to someone else). A zombie (dead,
    not yet reaped by its parent, as orphans of a killed run can stay) is not alive.

    >>> process_alive(os.getpid()), process_alive(2**22 + 12345)
    (True, False)
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # Linux: the state is the field after the command name in parentheses
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def maker_alive(path: Path) -> bool:
    """True while the process whose id ``path``'s name carries (:func:`leftover_prefix`) runs."""
    owner = _OWNER.search(Path(path).name)
    return bool(owner) and process_alive(int(owner[1]))


def leftover_prefix(prefix: str) -> str:
    """``prefix`` with this process's id, for a temporary folder a later run may clean up:
    ``leftover_prefix(".staging-")`` -> ``'.staging-p1234-'``."""
    return f"{prefix}p{os.getpid()}-"


def _age(path: Path) -> float:
    """Seconds since ``path`` last changed (0 when it is gone)."""
    try:
        return time.time() - path.lstat().st_mtime
    except FileNotFoundError:
        return 0.0


def remove_leftovers(folder: Path, pattern: str, unowned_age: float = 0.0) -> list[Path]:
    """Remove the folders (or files) matching ``pattern`` in ``folder`` whose maker is gone:
    the process id in the name (see :func:`leftover_prefix`) no longer runs, or the name has
    none (made before names carried one) and it has not changed for ``unowned_age`` seconds
    (for a folder shared with other runs). Returns what was removed.

    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / ".staging-p999999999-ab").mkdir(); (folder / leftover_prefix(".staging-")).mkdir()
    >>> [p.name for p in remove_leftovers(folder, ".staging-*")]
    ['.staging-p999999999-ab']
    """
    removed = []
    for path in sorted(Path(folder).glob(pattern)) if Path(folder).is_dir() else []:
        if maker_alive(path):
            continue
        if not _OWNER.search(path.name) and unowned_age and _age(path) < unowned_age:
            continue  # no maker named (an older version's?): only once it is old enough
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError:  # a read-only folder: left for a run that can write
                continue
        removed.append(path)
    return removed


#: What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def neutralise_cell(value):
    """A text cell a spreadsheet would run as a formula (it begins with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return and is not a number), prefixed with a single quote as OWASP
    advises; a carriage return inside a cell becomes a line break (pandas would leave it
    unquoted, and readers would split the row there); anything else unchanged.

    >>> print(neutralise_cell('=HYPERLINK("http://evil.example")'), neutralise_cell("-12.5"))
    '=HYPERLINK("http://evil.example") -12.5
    """
    if not isinstance(value, str):
        return value
    risky = value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value)
    if "\r" in value:  # pandas leaves a lone CR unquoted: it would split the row
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "'" + value if risky else value


def neutralise_csv_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that a spreadsheet would run neutralised
    (:func:`neutralise_cell`); numbers, dates and the column names' meaning are left alone.
    The one home of this rule: processed tables and published downloads both use it."""
    text = [
        c
        for c in frame.columns
        if pd.api.types.is_string_dtype(frame[c]) or pd.api.types.is_object_dtype(frame[c])
    ]
    if not text:
        return frame
    return frame.assign(**{c: frame[c].map(neutralise_cell, na_action="ignore") for c in text})


def csv_text(frame: pd.DataFrame, **options) -> str:
    """``frame`` as CSV text (no index) with formula-like cells neutralised
    (:func:`neutralise_csv_cells`); ``options`` go to :meth:`pandas.DataFrame.to_csv`.

    >>> print(csv_text(pd.DataFrame({"name": ["@SUM(1+1)", "STEM"], "gap": [-3, 4]})), end="")
    name,gap
    '@SUM(1+1),-3
    STEM,4
    """
    safe = neutralise_csv_cells(frame)
    safe.columns = [neutralise_cell(str(c)) for c in frame.columns]
    return safe.to_csv(index=False, **options)


def _table_files(
    tables: dict[str, pd.DataFrame],
    extra_files: dict[str, bytes | Callable[[dict[str, str]], bytes]] | None,
) -> dict[str, bytes]:
    """``{file name: bytes}`` of a set of tables (Parquet, and CSV with formula-like text cells
    neutralised by :func:`csv_text`) and its extra files; an extra file given as a function is
    made from ``{file name: sha256}`` of the tables' files."""
    files = {}
    for name, frame in tables.items():
        files[f"{name}.parquet"] = frame.to_parquet(index=False)
        files[f"{name}.csv"] = csv_text(frame).encode(
            "utf-8"
        )  # dates 2023-07-05, times with offset
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    for name, extra in (extra_files or {}).items():
        files[name] = extra(digests) if callable(extra) else extra
    return files


def write_tables_atomic(tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """Write each table as ``<name>.parquet`` and ``<name>.csv`` into ``folder``.

    Everything is first written into a staging folder inside ``folder``; only when all files
    are written are they renamed into place. An exception while staging leaves ``folder``
    as it was; staging folders of runs that were killed are removed the next time. Returns the
    published paths.
    """
    folder.mkdir(parents=True, exist_ok=True)
    remove_leftovers(folder, ".staging-*")
    files = _table_files(tables, None)
    staging = Path(tempfile.mkdtemp(prefix=leftover_prefix(".staging-"), dir=folder))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        for name in files:
            os.replace(staging / name, folder / name)
        return [folder / name for name in files]
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _generation_prefix(folder: Path) -> str:
    return f".{folder.name}.gen-"


def current_generation(folder: Path) -> Path | None:
    """The generation folder ``folder`` points to (None when ``folder`` is a plain folder or
    missing)."""
    folder = Path(folder)
    if not folder.is_symlink():
        return None
    return folder.parent / os.readlink(folder)


def _remove_old_generations(folder: Path) -> None:
    """Remove the generation folders of ``folder`` that it does not point to and whose maker is
    gone or is this process (a run killed before or after its swap, this run's earlier set)."""
    current = current_generation(folder)
    for path in folder.parent.glob(_generation_prefix(folder) + "*"):
        owner = _OWNER.search(path.name)
        other_run = owner and int(owner[1]) != os.getpid() and process_alive(int(owner[1]))
        if not other_run and (current is None or path.name != current.name):
            shutil.rmtree(path, ignore_errors=True)
    remove_leftovers(folder.parent, f".{folder.name}.link-*")


def write_tables_generation(
    tables: dict[str, pd.DataFrame],
    folder: Path,
    extra_files: dict[str, bytes | Callable[[dict[str, str]], bytes]] | None = None,
) -> Path:
    """Publish a set of tables all at once: write them (``<name>.parquet`` and ``.csv``, and
    ``extra_files``: bytes, or a function making them from ``{file name: sha256}`` of the
    tables' files, a record of exactly what was written) into a new generation folder beside
    ``folder``, then make ``folder`` a symbolic link to it with one atomic rename. A reader sees
    the old set or the new one, never a mix; a kill at any point leaves a complete set (the old
    generation until the rename, the new one after). Files of the old generation that this set
    does not replace (tables later steps derived) are carried over. Returns the new generation.

    >>> root = Path(tempfile.mkdtemp())
    >>> _ = write_tables_generation({"t": pd.DataFrame({"a": [1]})}, root / "processed")
    >>> sorted(p.name for p in (root / "processed").iterdir())
    ['t.csv', 't.parquet']
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    _remove_old_generations(folder)
    files = _table_files(tables, extra_files)
    generation = Path(
        tempfile.mkdtemp(prefix=leftover_prefix(_generation_prefix(folder)), dir=folder.parent)
    )
    try:
        for name, data in files.items():
            write_bytes_atomic(generation / name, data)
        if folder.is_dir():
            for kept in folder.iterdir():
                if kept.is_file() and kept.name not in files and not kept.name.startswith("."):
                    shutil.copy2(kept, generation / kept.name)
        os.chmod(generation, 0o755)
    except BaseException:
        shutil.rmtree(generation, ignore_errors=True)
        raise
    previous = current_generation(folder)
    link = folder.parent / f"{leftover_prefix(f'.{folder.name}.link-')}{generation.name[-8:]}"
    aside = None
    try:
        os.symlink(generation.name, link)
        if folder.exists() and not folder.is_symlink():
            # a plain folder made by an older version: moved aside once, then the link
            aside = previous = generation.with_name(generation.name + "-old")
            os.replace(folder, aside)
        os.replace(link, folder)  # the one step that publishes the new set
    except BaseException:
        if aside is not None and not folder.exists() and not folder.is_symlink():
            os.replace(aside, folder)
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        shutil.rmtree(generation, ignore_errors=True)
        raise
    if previous is not None and previous != generation:
        shutil.rmtree(previous, ignore_errors=True)
    return generation
