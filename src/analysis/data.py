"""Reading the processed tables (for notebooks and reports), and the rules of the cleaned tables
every helper follows: the check of a table's columns (:func:`require_columns`), round numbers as
the tables write them and their order (:func:`canonical_round`, :func:`round_sort_key`,
:func:`in_round_order`), and a table's content hash (:func:`frame_digest`).

>>> from analysis.data import load_draws   # doctest: +SKIP
>>> draws = load_draws()                    # doctest: +SKIP
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from analysis import config
from analysis.errors import FeedError

log = logging.getLogger(__name__)

#: Tables ``ee clean`` makes.
TABLES = ("draws", "pool", "revisions", "quality")
#: Tables made from them by later steps (``ee backtest``).
DERIVED_TABLES = ("pool_backtest", "pool_forward", "pool_bounds", "pool_regime")
#: Which snapshot the processed tables were made from, and with which code.
META_FILE = "snapshot.json"
#: A round number: ASCII digits (at most 9) and an optional letter (``91a``). re.ASCII keeps
#: ``\d``-like classes and IGNORECASE from accepting other scripts' digits or letters.
_ROUND_NUMBER = re.compile(r"([0-9]{1,9})([a-z]?)", re.IGNORECASE | re.ASCII)


def read_meta(processed: Path | None = None) -> dict | None:
    """The processed tables' ``snapshot.json`` (None before the first ``ee clean``, or when it
    is damaged: the tables are then cleaned again)."""
    path = (processed or config.processed_dir()) / META_FILE
    if not path.exists():
        return None
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        log.warning("%s is damaged (%s); the processed tables will be rebuilt", path, exc)
        return None
    return meta if isinstance(meta, dict) else None


def _damaged(path: Path, name: str, problem: str) -> FeedError:
    return FeedError(
        f"{path} is damaged: {problem}. Run `ee clean --force` (or `make data`) to rebuild "
        f"the {name} table from raw/"
    )


def require_columns(
    frame: pd.DataFrame, columns: Iterable[str], what: str, table: str = "draws"
) -> None:
    """Raise ``ValueError`` naming the caller (``what``), the table and the missing columns.

    >>> require_columns(pd.DataFrame(columns=["round", "date"]), ["date", "cutoff"], "trend")
    Traceback (most recent call last):
    ...
    ValueError: trend: draws has no column(s) cutoff; it has round, date
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what}: {table} must be a pandas DataFrame, not {type(frame).__name__}")
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what}: {table} has no column(s) {', '.join(map(str, missing))}; "
            f"it has {', '.join(map(str, frame.columns)) or 'none'}"
        )


def round_sort_key(number: str) -> tuple[int, str]:
    """``'91a'`` -> ``(91, 'a')``: rounds sort by number, then by letter (anything that is not a
    round number sorts last)."""
    match = _ROUND_NUMBER.fullmatch(number)
    return (int(match[1]), match[2].lower()) if match else (10**9, number)


def canonical_round(number: str) -> str | None:
    """The round number as the tables write it: no leading zeros, a lower-case letter; None when
    ``number`` is not a round number (ASCII digits, at most 9, and an optional letter).

    >>> canonical_round("0434"), canonical_round("91A"), canonical_round("٤٣٤")
    ('434', '91a', None)
    """
    match = _ROUND_NUMBER.fullmatch(number)
    return f"{int(match[1])}{match[2].lower()}" if match else None


def in_round_order(draws: pd.DataFrame) -> pd.DataFrame:
    """Rounds by date, then by round number on the same day (``91a`` before ``91b``): the order
    IRCC drew them in, and the order of the ``draws`` table. The index is kept, so a caller can
    put its results back in the input's order with ``sort_index()``.

    The round number decides between rounds of one day because it is IRCC's own sequence; the
    order rows happen to arrive in is not (the feed lists rounds newest first).

    >>> rounds = pd.DataFrame({"round": ["91b", "92", "91a"],
    ...                        "date": pd.to_datetime(["2018-06-13", "2018-06-25", "2018-06-13"])})
    >>> in_round_order(rounds)["round"].tolist()
    ['91a', '91b', '92']
    """
    require_columns(draws, ["round", "date"], "in_round_order")
    key = draws["round"].astype("string").fillna("").map(round_sort_key)
    return (
        draws.assign(_round_key=key)
        .sort_values(["date", "_round_key"], kind="stable")
        .drop(columns="_round_key")
    )


def frame_digest(*frames: pd.DataFrame | None) -> str:
    """sha256 of the frames' columns and rows: the key of a result made from them (the standing
    table's kept parts, the pool model's remembered replays)."""
    digest = hashlib.sha256()
    for frame in frames:
        if frame is None:
            digest.update(b"none")
            continue
        digest.update("|".join(map(str, frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def load_table(name: str, processed: Path | None = None) -> pd.DataFrame:
    """A processed table by name, checked: either its bytes are the ones ``ee clean`` wrote
    (their sha256 is in ``snapshot.json``; the tables were validated before they were written),
    or it is checked against its schema (:mod:`analysis.ingest.schemas`). A clear error names
    the file and the command that makes it when it is missing, unreadable or not what its
    schema says."""
    if name not in (*TABLES, *DERIVED_TABLES):
        raise ValueError(f"unknown table {name!r}; known: {', '.join((*TABLES, *DERIVED_TABLES))}")
    processed = processed or config.processed_dir()
    path = processed / f"{name}.parquet"
    if not path.exists():
        command = "`ee backtest`" if name in DERIVED_TABLES else "`ee clean` (or `make data`)"
        raise FileNotFoundError(f"{path} does not exist: run {command} first")
    data = path.read_bytes()
    try:
        # Read from a buffer Arrow owns, not a Python object: Arrow may drop its reader on one
        # of its own threads, and one that needs Python while the process exits aborts it
        # ("terminate called without an active exception", apache/arrow#34314).
        buffer = pa.allocate_buffer(len(data))
        pa.FixedSizeBufferWriter(buffer).write(data)
        frame = pd.read_parquet(
            pa.BufferReader(buffer), use_threads=False, to_pandas_kwargs={"use_threads": False}
        )
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise _damaged(path, name, f"not a readable Parquet file ({exc})") from None
    written = ((read_meta(processed) or {}).get("files") or {}).get(path.name)
    if written == hashlib.sha256(data).hexdigest():
        return frame  # validated when cleaning wrote it, unchanged since
    from analysis.ingest.schemas import SCHEMAS, schema_problems  # lazy: pandera (~1 s)

    if name in SCHEMAS:
        problems = schema_problems(name, frame)
        if problems:
            raise _damaged(path, name, f"it fails the {name} schema ({'; '.join(problems[:3])})")
    return frame


def load_draws(processed: Path | None = None) -> pd.DataFrame:
    """One row per round (see README, "Processed tables")."""
    return load_table("draws", processed)


def load_pool(processed: Path | None = None) -> pd.DataFrame:
    """The CRS distribution of the pool, long form."""
    return load_table("pool", processed)


def load_quality(processed: Path | None = None) -> pd.DataFrame:
    """The data-quality findings of the latest cleaning: severity, round, field, value, message."""
    return load_table("quality", processed)


def removal_notes(draws: pd.DataFrame) -> pd.Series:
    """What a page says of each round IRCC's feed no longer lists (``removed_since``): "no
    longer in IRCC's feed since <date>"; empty for every other round. The one home of that
    sentence.

    >>> draws = pd.DataFrame({"removed_since": pd.to_datetime([None, "2026-03-05"])})
    >>> removal_notes(draws).tolist()
    ['', "no longer in IRCC's feed since 2026-03-05"]
    """
    if "removed_since" not in draws.columns:
        return pd.Series("", index=draws.index, dtype="string")
    since = pd.to_datetime(draws["removed_since"])
    notes = "no longer in IRCC's feed since " + since.dt.strftime("%Y-%m-%d")
    return notes.fillna("").astype("string").rename("removed")


@dataclass(frozen=True)
class Inputs:
    """The processed tables a report reads, and which snapshot they came from."""

    draws: pd.DataFrame
    pool: pd.DataFrame
    revisions: pd.DataFrame
    quality: pd.DataFrame
    meta: dict
    #: The latest retrieval that brought the cleaned content (``raw/manifest.csv``): later than
    #: ``meta["retrieved_at"]`` when the feed was checked again and had not changed.
    checked_at: str | None = None

    @property
    def retrieved_at(self) -> pd.Timestamp | None:
        """When the feed was last retrieved with the cleaned content: the latest retrieval of
        it, else when the cleaned snapshot was retrieved (None if the tables do not say). A
        month is complete once this is after its end
        (:func:`analysis.report.month_report.is_to_date`).
        """
        stamps = [s for s in (self.meta.get("retrieved_at"), self.checked_at) if s]
        return max(pd.Timestamp(s) for s in stamps) if stamps else None

    @property
    def data_end(self) -> pd.Timestamp:
        """The date of the newest round."""
        return self.draws["date"].max()


def load_inputs(data_dir=None) -> Inputs:
    """Read the processed tables from ``data_dir`` (default: ``EE_DATA_DIR`` or ``data/``)."""
    processed = Path(data_dir) / "processed" if data_dir else config.processed_dir()
    tables = {n: load_table(n, processed) for n in TABLES}
    meta = read_meta(processed) or {}
    raw = Path(data_dir) / "raw" if data_dir else config.raw_dir()
    return Inputs(**tables, meta=meta, checked_at=latest_check(raw, meta.get("sha256")))


def latest_check(raw: Path, sha256: str | None) -> str | None:
    """When the feed was last retrieved with content ``sha256`` (``raw/manifest.csv``), as
    ISO text; None when the manifest does not list it. A retrieval that failed and fell back
    to a stored snapshot is not in the manifest, so it never counts as a check."""
    try:
        with open(Path(raw) / "manifest.csv", encoding="utf-8", newline="") as handle:
            rows = [r for r in csv.DictReader(handle) if sha256 and r.get("sha256") == sha256]
    except OSError:
        return None
    return max((r["retrieved_at"] for r in rows if r.get("retrieved_at")), default=None)
