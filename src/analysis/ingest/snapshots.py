"""Storing every retrieval of IRCC's feed, byte for byte, in ``raw/``, and the manifest of
retrievals.

- A snapshot is stored as ``ee_rounds_<UTC time>_<sha256[:12]>.json`` and made read-only; identical
  content is never stored twice (:func:`store_snapshot`).
- ``manifest.csv`` records every retrieval (:func:`read_manifest`, :func:`manifest_snapshots`,
  :func:`latest_snapshot`); a missing or damaged manifest is rebuilt
  from the files.

>>> snapshot_name(datetime(2026, 3, 5, 14, 0, tzinfo=UTC), "ab" * 32)
'ee_rounds_20260305T140000Z_abababababab.json'
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.errors import FeedError
from analysis.ingest.feed import load_rounds, newest_round
from analysis.storage import write_bytes_atomic

log = logging.getLogger(__name__)

MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = [
    "retrieved_at",
    "source",
    "sha256",
    "file",
    "bytes",
    "rounds",
    "newest_round",
    "newest_date",
    "new_content",
]


@dataclass(frozen=True)
class Snapshot:
    """One stored retrieval, as recorded in the manifest."""

    retrieved_at: str
    source: str
    sha256: str
    file: str
    bytes: int
    rounds: int
    newest_round: str | None
    newest_date: str | None
    new_content: bool

    def path(self, raw: Path | None = None) -> Path:
        """Where the snapshot's bytes are stored (in ``raw``, default ``config.raw_dir()``)."""
        return (raw or config.raw_dir()) / self.file


#: How a snapshot's file name writes its retrieval time (UTC).
NAME_TIME = "%Y%m%dT%H%M%SZ"


def snapshot_name(retrieved_at: datetime, sha256: str) -> str:
    """The file name of a snapshot: retrieval time (UTC) and the first 12 hex digits of its hash."""
    return f"ee_rounds_{retrieved_at.strftime(NAME_TIME)}_{sha256[:12]}.json"


def name_time(stamp: str) -> datetime:
    """The retrieval time written in a snapshot's name (``20260305T140000Z``), in UTC."""
    return datetime.strptime(stamp, NAME_TIME).replace(tzinfo=UTC)


#: Snapshot file names: retrieval time and the first 12 hex digits of the content's sha256.
SNAPSHOT_FILE = re.compile(r"ee_rounds_(\d{8}T\d{6}Z)_([0-9a-f]{12})\.json")
#: What each manifest column must look like (a row that does not is damage).
_MANIFEST_VALUES = {
    "retrieved_at": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z",
    "sha256": r"[0-9a-f]{64}",
    "file": SNAPSHOT_FILE.pattern,
    "bytes": r"[0-9]{1,12}",
    "rounds": r"[0-9]{1,9}",
    "new_content": r"(?i:true|false)",
}
#: The source recorded for a retrieval whose manifest row was lost.
UNKNOWN_SOURCE = "unknown (manifest.csv rebuilt from the file in raw/)"


def _empty_manifest() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in MANIFEST_COLUMNS})


def read_text_table(path: Path, columns: list[str]) -> tuple[pd.DataFrame | None, str]:
    """A CSV file of ours (``manifest.csv``, ``verdicts.csv``) as text, or None and what is
    wrong with it (unreadable, or not these ``columns``)."""
    try:
        table = pd.read_csv(path, dtype="string", keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        return None, f"unreadable ({type(exc).__name__}: {exc})".strip()
    if list(table.columns) != columns:
        return None, f"written with other columns ({list(table.columns)[:12]})"
    return table.astype("string").fillna(""), ""


def _read_manifest_file(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The manifest's readable rows, and what was wrong with the rest."""
    table, problem = read_text_table(path, MANIFEST_COLUMNS)
    if table is None:
        return _empty_manifest(), [problem]
    valid = pd.Series(True, index=table.index)
    for column, pattern in _MANIFEST_VALUES.items():
        valid &= table[column].str.fullmatch(pattern).fillna(False).astype(bool)
    valid &= table["file"].str.slice(27, 39) == table["sha256"].str.slice(0, 12)
    problems = [f"{int((~valid).sum())} damaged row(s) dropped"] if not valid.all() else []
    return table[valid].reset_index(drop=True), problems


def _recovered_row(path: Path) -> dict:
    """A manifest row for a snapshot file whose row was lost, from its name and bytes."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    stamp, prefix = SNAPSHOT_FILE.fullmatch(path.name).groups()
    if digest[:12] != prefix:
        raise FeedError(
            f"{path} does not match the sha256 in its name: raw files must never be modified "
            "(move it away and run `ee fetch` again)"
        )
    try:
        rounds = load_rounds(data, path.name)
    except FeedError as exc:  # stored by an older version that read less strictly
        log.warning(
            "%s cannot be read (%s); listed in manifest.csv, left out of the revision history",
            path,
            str(exc).splitlines()[0],
        )
        rounds = []
    moment = name_time(stamp)
    return asdict(_snapshot(data, rounds, moment, UNKNOWN_SOURCE, path.name, new_content=True))


def _snapshot(
    data: bytes, rounds: list[dict], moment: datetime, source: str, name: str, new_content: bool
) -> Snapshot:
    """The manifest's record of a retrieval of ``data`` (its ``rounds``) at ``moment``."""
    number, day = newest_round(rounds)
    return Snapshot(
        retrieved_at=moment.isoformat().replace("+00:00", "Z"),
        source=source,
        sha256=hashlib.sha256(data).hexdigest(),
        file=name,
        bytes=len(data),
        rounds=len(rounds),
        newest_round=number,
        newest_date=day,
        new_content=new_content,
    )


def read_manifest(raw: Path | None = None) -> pd.DataFrame:
    """Every retrieval so far, oldest first (empty table when there is none).

    ``manifest.csv`` is checked against the snapshot files in ``raw/``: when it is missing,
    truncated or damaged, or a stored snapshot has no row, it is rebuilt (readable rows kept,
    lost rows recovered from the files' names and bytes, with an unknown source), written back
    and reported with a warning naming ``manifest.csv``; no snapshot is ever stored twice and
    the revision history keeps every snapshot.
    """
    raw = raw or config.raw_dir()
    path = raw / MANIFEST
    files = sorted(p for p in raw.glob("ee_rounds_*.json") if SNAPSHOT_FILE.fullmatch(p.name))
    if path.exists():
        table, problems = _read_manifest_file(path)
    else:
        table, problems = _empty_manifest(), (["missing"] if files else [])
    listed = set(table["file"])
    orphans = [f for f in files if f.name not in listed]
    if not problems and not orphans:
        return table
    recovered = pd.DataFrame([_recovered_row(f) for f in orphans], columns=MANIFEST_COLUMNS)
    rebuilt = (
        pd.concat([table, recovered.astype("string")], ignore_index=True)
        .astype("string")
        .sort_values("retrieved_at", kind="stable")
        .reset_index(drop=True)
    )
    # the first retrieval of each content is the one that stored it
    rebuilt["new_content"] = (~rebuilt["sha256"].duplicated()).map({True: "True", False: "False"})
    what = "; ".join(
        [*problems, *([f"{len(orphans)} stored snapshot(s) had no row"] * bool(orphans))]
    )
    try:
        write_bytes_atomic(path, rebuilt.to_csv(index=False).encode("utf-8"))
        outcome = "rebuilt"
    except OSError as exc:
        outcome = f"read as rebuilt (could not write it back: {exc})"
    log.warning(
        "%s was %s; %s from the %d snapshot file(s) in %s: %d row(s) kept, %d recovered from the "
        "files themselves (source unknown)",
        path,
        what,
        outcome,
        len(files),
        raw,
        len(table),
        len(orphans),
    )
    return rebuilt.astype("string")


def _record(row: pd.Series) -> Snapshot:
    values = {
        k: (None if row[k] in ("", None) or pd.isna(row[k]) else row[k]) for k in MANIFEST_COLUMNS
    }
    values["bytes"] = int(values["bytes"])
    values["rounds"] = int(values["rounds"])
    values["new_content"] = str(values["new_content"]).lower() == "true"
    return Snapshot(**values)


def manifest_snapshots(raw: Path | None = None) -> list[Snapshot]:
    """Every retrieval in the manifest (a content retrieved twice: twice), oldest first."""
    return [_record(row) for _, row in read_manifest(raw).iterrows()]


def latest_snapshot(raw: Path | None = None) -> Snapshot | None:
    """The snapshot of the most recent retrieval (its content may be older)."""
    return (manifest_snapshots(raw) or [None])[-1]


def store_snapshot(
    data: bytes, source: str, raw: Path | None = None, retrieved_at: datetime | None = None
) -> Snapshot:
    """Store checked feed bytes in ``raw/`` (unless identical content is there) and record them.

    A snapshot file deleted or changed by hand is restored when the same content is retrieved
    again (with a warning).
    """
    raw = raw or config.raw_dir()
    raw.mkdir(parents=True, exist_ok=True)
    retrieved_at = (retrieved_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    rounds = load_rounds(data, source)
    digest = hashlib.sha256(data).hexdigest()
    manifest = read_manifest(raw)
    known = manifest[manifest["sha256"] == digest]
    if known.empty:
        name = snapshot_name(retrieved_at, digest)
        write_bytes_atomic(raw / name, data, mode=0o444)
    else:
        name = known.iloc[0]["file"]
        stored = raw / name
        if not stored.is_file() or hashlib.sha256(stored.read_bytes()).hexdigest() != digest:
            state = "missing" if not stored.exists() else "changed"
            write_bytes_atomic(stored, data, mode=0o444)
            log.warning(
                "%s was %s; restored from this retrieval of the same content", stored, state
            )
    record = _snapshot(data, rounds, retrieved_at, source, name, new_content=known.empty)
    updated = pd.concat(
        [manifest, pd.DataFrame([asdict(record)]).astype("string")], ignore_index=True
    )
    write_bytes_atomic(raw / MANIFEST, updated.to_csv(index=False).encode("utf-8"))
    return record


def retrieval_state(snapshot: Snapshot, raw: Path | None = None) -> str:
    """What a retrieval brought, in words: new content, the same content as the latest stored
    snapshot, or the content of an earlier snapshot (naming the latest, which it is not).

    ``snapshot`` is the retrieval just recorded (the manifest's last row)."""
    if snapshot.new_content:
        return "new content stored"
    rows = manifest_snapshots(raw)
    before = [
        s for s in rows if (s.retrieved_at, s.sha256) != (snapshot.retrieved_at, snapshot.sha256)
    ]
    if not before or before[-1].sha256 == snapshot.sha256:
        return "same content as the latest stored snapshot"
    latest = before[-1]
    return (
        f"same content as the earlier snapshot {snapshot.file}, not as the latest stored one "
        f"({latest.file}, retrieved {latest.retrieved_at})"
    )
