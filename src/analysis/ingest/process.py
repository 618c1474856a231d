"""The cleaning step: newest raw snapshot -> validated processed tables, published atomically.

``processed/`` receives ``draws``, ``pool``, ``revisions`` and ``quality`` (each ``.parquet`` and
``.csv``) and ``snapshot.json`` (which snapshot they were made from, and with which code).
On any error nothing in ``processed/`` changes.

>>> from analysis.ingest.process import clean_latest_snapshot  # doctest: +SKIP
>>> run = clean_latest_snapshot()                              # doctest: +SKIP
>>> run.draws.tail(1)                                         # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.data import META_FILE, read_meta
from analysis.errors import FeedError
from analysis.ingest.clean import clean_rounds
from analysis.ingest.feed import load_rounds
from analysis.ingest.retrieve import Snapshot, distinct_snapshots, latest_snapshot
from analysis.ingest.revisions import diff_rounds, empty_revisions
from analysis.storage import hash_tree, write_tables_atomic

log = logging.getLogger(__name__)

#: Modules (files, or folders walked recursively) whose code shapes the processed tables, relative
#: to the package; a change to one of them re-runs cleaning.
CLEANING_CODE = ("ingest", "taxonomy.py", "taxonomy.csv", "storage.py")


@dataclass(frozen=True)
class CleanRun:
    """One run of the cleaning step: the snapshot cleaned, its tables, and whether the work was
    skipped because ``processed/`` was already current."""

    snapshot: Snapshot
    draws: pd.DataFrame
    pool: pd.DataFrame
    revisions: pd.DataFrame
    quality: pd.DataFrame
    skipped: bool = False


def cleaning_code_fingerprint(
    entries: tuple[str, ...] = CLEANING_CODE, package: Path | None = None
) -> str:
    """sha256 over the source of the given package files and folders (which code made the
    tables); folders count at every depth."""
    return hash_tree(package or Path(__file__).resolve().parents[1], entries)


def read_snapshot_bytes(snapshot: Snapshot, raw: Path | None = None) -> bytes:
    """The stored bytes of a snapshot, checked against the manifest's sha256."""
    path = snapshot.path(raw)
    if not path.exists():
        raise FeedError(
            f"snapshot {path} is listed in the manifest but missing from raw/: retrieve the same "
            "feed again (`ee fetch`) to restore it"
        )
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != snapshot.sha256:
        raise FeedError(
            f"snapshot {path} does not match its sha256 in the manifest: "
            "raw files must never be modified"
        )
    return data


def _retrieval_day(snapshot: Snapshot) -> date:
    return (
        datetime.fromisoformat(snapshot.retrieved_at.replace("Z", "+00:00")).astimezone(UTC).date()
    )


def revision_history(raw: Path | None = None, until_sha256: str | None = None) -> pd.DataFrame:
    """Differences between every pair of consecutive distinct snapshots (up to ``until_sha256``)."""
    history = distinct_snapshots(raw)
    if until_sha256:
        position = next(i for i, s in enumerate(history) if s.sha256 == until_sha256)
        history = history[: position + 1]
    frames = []
    previous_rounds = None
    for snapshot, before in zip(history, [None, *history[:-1]], strict=False):
        rounds = load_rounds(read_snapshot_bytes(snapshot, raw), snapshot.file)
        if before is not None:
            frames.append(diff_rounds(previous_rounds, rounds, snapshot.file, before.file))
        previous_rounds = rounds
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else empty_revisions()


def damaged_files(processed: Path | None = None, meta: dict | None = None) -> list[str]:
    """What is wrong with the files ``ee clean`` wrote in ``processed/``: each one listed in
    ``snapshot.json`` must be there with the sha256 recorded when it was written (a deleted,
    truncated or swapped table is caught here, before anyone reads it)."""
    processed = processed or config.processed_dir()
    meta = meta if meta is not None else read_meta(processed)
    if not meta:
        return []
    recorded = meta.get("files")
    if not isinstance(recorded, dict) or not recorded:
        return [f"{processed / META_FILE} does not record the files it describes"]
    problems = []
    for name, digest in sorted(recorded.items()):
        path = processed / name
        if not path.is_file():
            problems.append(f"{path} is missing")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"{path} is not the file `ee clean` wrote (changed or damaged)")
    return problems


def processed_is_current(raw: Path | None = None, processed: Path | None = None) -> bool:
    """True when ``processed/`` was made from the latest snapshot by the current cleaning code
    and its files are the ones that cleaning wrote."""
    snapshot, meta = latest_snapshot(raw), read_meta(processed)
    return bool(
        snapshot
        and meta
        and meta.get("sha256") == snapshot.sha256
        and meta.get("code") == cleaning_code_fingerprint()
        and not damaged_files(processed, meta)
    )


def clean_latest_snapshot(
    raw: Path | None = None, processed: Path | None = None, force: bool = False
) -> CleanRun:
    """Clean the most recently retrieved snapshot into ``processed/``.

    Skips the work (``skipped=True``, tables read back from ``processed/``) when the processed
    tables were already made from the same snapshot by the same code, unless ``force``.
    Raises :class:`FeedError` (nothing published) when the snapshot cannot be trusted.
    """
    from analysis.ingest.schemas import validate_tables  # pandera: only when cleaning

    raw, processed = raw or config.raw_dir(), processed or config.processed_dir()
    snapshot = latest_snapshot(raw)
    if snapshot is None:
        raise FeedError(f"no snapshot in {raw}: run `ee fetch` (or `make data`) first")
    fingerprint = cleaning_code_fingerprint()
    damage = damaged_files(processed)
    if damage:
        log.warning(
            "processed tables damaged (%s); rebuilding them from raw/ (%s)",
            "; ".join(damage),
            snapshot.file,
        )
    if not force and processed_is_current(raw, processed):
        from analysis.data import load_table  # noqa: PLC0415 (avoid an import cycle)

        return CleanRun(
            snapshot,
            *(load_table(n, processed) for n in ("draws", "pool", "revisions", "quality")),
            skipped=True,
        )
    data = read_snapshot_bytes(snapshot, raw)
    result = clean_rounds(load_rounds(data, snapshot.file), today=_retrieval_day(snapshot))
    revisions = revision_history(raw, until_sha256=snapshot.sha256)
    tables = validate_tables(
        {
            "draws": result.draws,
            "pool": result.pool,
            "revisions": revisions,
            "quality": result.quality,
        }
    )
    cleaned_at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")

    def meta(files: dict[str, str]) -> bytes:
        """snapshot.json: the snapshot, the code, and the sha256 of every file written."""
        return json.dumps(
            {
                **asdict(snapshot),
                "code": fingerprint,
                "cleaned_at": cleaned_at,
                "rounds_clean": len(result.draws),
                "newest_date": str(result.draws["date"].max().date()),
                "warnings": int(result.quality["severity"].eq("warning").sum()),
                "files": files,
            },
            indent=2,
        ).encode("utf-8")

    write_tables_atomic(tables, processed, {META_FILE: meta})
    return CleanRun(snapshot, result.draws, result.pool, revisions, result.quality)
