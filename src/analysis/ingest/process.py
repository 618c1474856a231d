"""The cleaning step: newest raw snapshot -> validated processed tables, published atomically.

``processed/`` receives ``draws``, ``pool``, ``revisions`` and ``quality`` (each ``.parquet`` and
``.csv``) and ``snapshot.json`` (which snapshot they were made from, and with which code): a new
generation folder, swapped in by one rename of the ``processed`` link
(:func:`analysis.storage.write_tables_generation`). On any error nothing in ``processed/``
changes; a kill at any point leaves a complete set.

>>> from analysis.ingest.process import clean_latest_snapshot  # doctest: +SKIP
>>> run = clean_latest_snapshot()                              # doctest: +SKIP
>>> run.draws.tail(1)                                         # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.data import META_FILE, TABLES, load_table, read_meta, round_sort_key
from analysis.errors import FeedError
from analysis.ingest.clean import clean_rounds
from analysis.ingest.feed import load_rounds
from analysis.ingest.parse import ROUND_DATE_FIELDS, read_round_date
from analysis.ingest.revisions import diff_rounds, empty_revisions, round_key
from analysis.ingest.snapshots import (
    SNAPSHOT_FILE,
    UNKNOWN_SOURCE,
    Snapshot,
    latest_snapshot,
    manifest_snapshots,
    read_text_table,
)
from analysis.storage import hash_tree, write_bytes_atomic, write_tables_generation

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
    return datetime.fromisoformat(snapshot.retrieved_at).astimezone(UTC).date()


# ------------------------------------------------------------------ accepted retrievals

#: The decision cleaning took on each retrieval (``raw/verdicts.csv``): ``accepted``,
#: ``accepted-removals`` (suspect, accepted with ``--accept-removals``) or ``refused``. Only
#: accepted retrievals make the revision history; a refused one is kept in raw/ for the record.
VERDICTS = "verdicts.csv"
VERDICT_COLUMNS = ["retrieved_at", "sha256", "file", "verdict", "reason"]
ACCEPTED = ("accepted", "accepted-removals")
#: How many rounds of the previous accepted feed a new feed may lack before it is refused as
#: suspect (IRCC withdrawing one round happens; a feed cut short or rolled back lacks many).
MAX_QUIET_REMOVALS = 1
#: ``EE_ACCEPT_REMOVALS=1`` (set by ``--accept-removals``): accept a suspect feed.
ACCEPT_REMOVALS_VARIABLE = "EE_ACCEPT_REMOVALS"


def accept_removals_requested() -> bool:
    """True when ``--accept-removals`` was given (``EE_ACCEPT_REMOVALS=1``)."""
    return os.environ.get(ACCEPT_REMOVALS_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def read_verdicts(raw: Path | None = None) -> dict[tuple[str, str], dict]:
    """``{(retrieved_at, sha256): row}`` of ``raw/verdicts.csv`` (empty when there is none; a
    damaged file is read as far as it can be, with a warning naming it)."""
    path = (raw or config.raw_dir()) / VERDICTS
    if not path.exists():
        return {}
    table, problem = read_text_table(path, VERDICT_COLUMNS)
    if table is None:
        log.warning("%s is %s; the decisions are taken again", path, problem)
        return {}
    rows = table.to_dict("records")
    return {
        (r["retrieved_at"], r["sha256"]): r
        for r in rows
        if r["verdict"] in (*ACCEPTED, "refused") and SNAPSHOT_FILE.fullmatch(str(r["file"]))
    }


def _write_verdicts(raw: Path, verdicts: dict[tuple[str, str], dict]) -> None:
    rows = sorted(verdicts.values(), key=lambda r: (r["retrieved_at"], r["sha256"]))
    data = pd.DataFrame(rows, columns=VERDICT_COLUMNS).to_csv(index=False).encode("utf-8")
    try:
        write_bytes_atomic(raw / VERDICTS, data)
    except OSError as exc:
        log.warning("could not record the decisions in %s (%s)", raw / VERDICTS, exc)


def retrievals(raw: Path | None = None) -> list[Snapshot]:
    """Every retrieval in time order: the manifest's rows, and any retrieval ``verdicts.csv``
    remembers that a rebuilt manifest lost (so the history never silently shrinks)."""
    raw = raw or config.raw_dir()
    rows = {(s.retrieved_at, s.sha256): s for s in manifest_snapshots(raw)}
    for key, row in read_verdicts(raw).items():
        if key not in rows and (raw / row["file"]).is_file():
            rows[key] = Snapshot(
                retrieved_at=row["retrieved_at"],
                source=UNKNOWN_SOURCE,
                sha256=row["sha256"],
                file=row["file"],
                bytes=(raw / row["file"]).stat().st_size,
                rounds=0,
                newest_round=None,
                newest_date=None,
                new_content=False,
            )
    # the manifest's order (retrievals in one second keep it), then by time
    return sorted(rows.values(), key=lambda snapshot: snapshot.retrieved_at)


@dataclass(frozen=True)
class Accepted:
    """One accepted retrieval and its rounds."""

    snapshot: Snapshot
    rounds: list[dict]


def _newest_day(rounds: list[dict]) -> date | None:
    days = (read_round_date(*(str(r.get(f) or "") for f in ROUND_DATE_FIELDS)) for r in rounds)
    return max((day.value for day in days if day.value is not None), default=None)


def suspect_problem(previous: Accepted | None, rounds: list[dict], snapshot: Snapshot) -> str:
    """Why a feed looks cut short or rolled back against the previous accepted retrieval
    (empty when it does not): more than :data:`MAX_QUIET_REMOVALS` of its rounds missing, or a
    newest round older than the previous feed's."""
    if previous is None:
        return ""
    before = {round_key(r) for r in previous.rounds}
    missing = sorted(before - {round_key(r) for r in rounds}, key=round_sort_key)
    problems = []
    if len(missing) > MAX_QUIET_REMOVALS:
        listed = ", ".join(missing[:8]) + (", ..." if len(missing) > 8 else "")
        problems.append(
            f"it lacks {len(missing)} of the {len(before)} rounds of the previous accepted feed "
            f"({listed})"
        )
    newest, newest_before = _newest_day(rounds), _newest_day(previous.rounds)
    if newest and newest_before and newest < newest_before:
        problems.append(
            f"it is older than the newest stored snapshot {previous.snapshot.file} (retrieved "
            f"{previous.snapshot.retrieved_at}; newest round {newest_before.isoformat()}, this "
            f"feed's {newest.isoformat()}): a rollback"
        )
    if not problems:
        return ""
    return (
        f"{snapshot.file} (retrieved {snapshot.retrieved_at}) is refused as suspect: "
        + "; and ".join(problems)
    )


REFUSAL_HINT = (
    "The snapshot is kept in raw/; processed data and the published reports are left "
    "unchanged. If IRCC really removed these rounds, run `ee clean --accept-removals` (or "
    "`ee report --accept-removals`): removed rounds are kept, marked as no longer in "
    "IRCC's feed."
)


def _load_stored(snapshot: Snapshot, raw: Path, cache: dict) -> list[dict] | None:
    """The rounds of a stored snapshot, or None (with a warning naming the file) when it cannot
    be read: one unreadable snapshot costs only its own revisions."""
    if snapshot.sha256 not in cache:
        try:
            cache[snapshot.sha256] = load_rounds(read_snapshot_bytes(snapshot, raw), snapshot.file)
        except FeedError as exc:
            log.warning(
                "stored snapshot %s cannot be read (%s); it is left out of the revision history",
                snapshot.path(raw),
                str(exc).splitlines()[0],
            )
            cache[snapshot.sha256] = None
    return cache[snapshot.sha256]


def accepted_history(
    raw: Path | None = None, entries: list[Snapshot] | None = None, cache: dict | None = None
) -> list[Accepted]:
    """The accepted retrievals among ``entries`` (default: every retrieval), in time order.

    A retrieval cleaning has decided on is taken as decided (``verdicts.csv``); any other is
    decided now, as cleaning would (unreadable: left out with a warning; suspect against the
    previous accepted one, or failing cleaning: refused) and the decision recorded."""

    raw = raw or config.raw_dir()
    entries = retrievals(raw) if entries is None else entries
    cache = {} if cache is None else cache
    verdicts, changed = read_verdicts(raw), False
    history: list[Accepted] = []
    decided: dict[tuple[str, str], str] = {}
    for snapshot in entries:
        rounds = _load_stored(snapshot, raw, cache)
        if rounds is None:
            continue
        key = (snapshot.retrieved_at, snapshot.sha256)
        known = verdicts.get(key)
        if known is not None:
            verdict = known["verdict"]
        elif history and history[-1].snapshot.sha256 == snapshot.sha256:
            verdict, reason = "accepted", ""
        else:
            reason = suspect_problem(history[-1] if history else None, rounds, snapshot)
            verdict = "refused" if reason else "accepted"
            if not reason:
                outcome = (snapshot.sha256, "clean")
                if outcome not in decided:
                    try:
                        clean_rounds(rounds, today=_retrieval_day(snapshot))
                        decided[outcome] = ""
                    except FeedError as exc:
                        decided[outcome] = _reason(exc)
                if decided[outcome]:
                    verdict, reason = "refused", f"{snapshot.file}: {decided[outcome]}"
        if known is None:
            verdicts[key] = _verdict_row(snapshot, verdict, reason)
            changed = True
        if verdict in ACCEPTED:
            history.append(Accepted(snapshot, rounds))
    if changed:
        _write_verdicts(raw, verdicts)
    return history


def _reason(exc: Exception, limit: int = 400) -> str:
    """An error's message on one line, shortened: why a feed was refused."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _verdict_row(snapshot: Snapshot, verdict: str, reason: str) -> dict:
    """A row of ``verdicts.csv`` (:data:`VERDICT_COLUMNS`)."""
    values = (snapshot.retrieved_at, snapshot.sha256, snapshot.file, verdict, reason)
    return dict(zip(VERDICT_COLUMNS, values, strict=True))


def _record_verdict(raw: Path, snapshot: Snapshot, verdict: str, reason: str) -> None:
    verdicts = read_verdicts(raw)
    verdicts[(snapshot.retrieved_at, snapshot.sha256)] = _verdict_row(snapshot, verdict, reason)
    _write_verdicts(raw, verdicts)


def history_revisions(history: list[Accepted]) -> pd.DataFrame:
    """Differences between consecutive accepted retrievals whose content differs (A -> B -> A
    logs both changes)."""
    frames = [
        diff_rounds(before.rounds, after.rounds, after.snapshot.file, before.snapshot.file)
        for before, after in zip(history, history[1:], strict=False)
        if before.snapshot.sha256 != after.snapshot.sha256
    ]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else empty_revisions()


def removed_rounds(history: list[Accepted], rounds: list[dict], day: date) -> dict[str, tuple]:
    """Rounds of the accepted history missing from ``rounds``: ``{round: (its last content,
    the day of the first accepted retrieval without it)}`` (``day`` when that is this one)."""
    last_seen: dict[str, tuple[dict, int]] = {}
    for position, entry in enumerate(history):
        for item in entry.rounds:
            last_seen[round_key(item)] = (item, position)
    current = {round_key(r) for r in rounds}
    removed = {}
    for number, (item, position) in last_seen.items():
        if number in current:
            continue
        after = history[position + 1].snapshot if position + 1 < len(history) else None
        removed[number] = (item, _retrieval_day(after) if after else day)
    return removed


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
    raw: Path | None = None,
    processed: Path | None = None,
    force: bool = False,
    accept_removals: bool | None = None,
) -> CleanRun:
    """Clean the most recently retrieved snapshot into ``processed/``.

    Skips the work (``skipped=True``, tables read back from ``processed/``) when the processed
    tables were already made from the same snapshot by the same code, unless ``force``.
    Raises :class:`FeedError` (nothing published) when the snapshot cannot be trusted, and when
    it is suspect (it lacks more than one round of the previous accepted feed, or is older than
    it) unless ``accept_removals`` (default: whether ``--accept-removals`` was given).
    Rounds IRCC removed are kept in ``draws``, with ``removed_since`` the day of the first
    accepted retrieval without them.
    """
    from analysis.ingest.schemas import validate_tables  # lazy: pandera (~1 s), only to clean

    raw, processed = raw or config.raw_dir(), processed or config.processed_dir()
    if accept_removals is None:
        accept_removals = accept_removals_requested()
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
        return CleanRun(
            snapshot,
            *(load_table(n, processed) for n in TABLES),
            skipped=True,
        )
    latest_key = (snapshot.retrieved_at, snapshot.sha256)
    entries = [e for e in retrievals(raw) if (e.retrieved_at, e.sha256) != latest_key]
    cache: dict = {}
    history = accepted_history(raw, entries, cache)
    rounds = load_rounds(read_snapshot_bytes(snapshot, raw), snapshot.file)
    suspect = suspect_problem(history[-1] if history else None, rounds, snapshot)
    if suspect and not accept_removals:
        _record_verdict(raw, snapshot, "refused", suspect)
        raise FeedError(f"{suspect}.\n{REFUSAL_HINT}")
    today = _retrieval_day(snapshot)
    removed = removed_rounds(history, rounds, today)
    try:
        result = clean_rounds(
            [*rounds, *(item for item, _ in removed.values())],
            today=today,
            removed={number: day for number, (_, day) in removed.items()},
        )
    except FeedError as exc:
        _record_verdict(raw, snapshot, "refused", f"{snapshot.file}: {_reason(exc)}")
        raise
    if suspect:
        log.warning("%s; accepted as asked (--accept-removals)", suspect)
    _record_verdict(raw, snapshot, "accepted-removals" if suspect else "accepted", suspect)
    revisions = history_revisions([*history, Accepted(snapshot, rounds)])
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

    write_tables_generation(tables, processed, {META_FILE: meta})
    return CleanRun(snapshot, result.draws, result.pool, revisions, result.quality)
