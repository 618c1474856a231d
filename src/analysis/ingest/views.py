"""Small tables the ingestion notebooks show the analyst: what came in, what changed, what is odd.

>>> import pandas as pd
>>> quality_counts(pd.DataFrame({"severity": ["warning", "warning", "repaired"],
...                              "field": ["drawCRS", "drawCRS", "drawCutOff"]})).values.tolist()
[['repaired', 'drawCutOff', 1], ['warning', 'drawCRS', 2]]
"""

from __future__ import annotations

import pandas as pd

from analysis.ingest.feed import load_rounds
from analysis.ingest.process import (
    VERDICT_COLUMNS,
    CleanRun,
    accepted_history,
    read_snapshot_bytes,
    read_verdicts,
)
from analysis.ingest.revisions import diff_rounds, empty_revisions
from analysis.ingest.snapshots import Snapshot
from analysis.taxonomy import family_labels
from analysis.vocabulary import source_words

SHOWN_RAW_FIELDS = [
    "drawNumber",
    "drawDate",
    "drawName",
    "drawSize",
    "drawCRS",
    "drawDateTime",
    "drawCutOff",
    "drawDistributionAsOn",
]


def snapshot_card(snapshot: Snapshot) -> pd.DataFrame:
    """The manifest entry of one retrieval, as a two-column table."""
    facts = {
        "retrieved at (UTC)": snapshot.retrieved_at,
        "source": snapshot.source,
        "stored as": snapshot.file,
        "new content": "yes" if snapshot.new_content else "no (identical to an earlier retrieval)",
        "size": f"{snapshot.bytes:,} bytes",
        "sha256": snapshot.sha256,
        "rounds": f"{snapshot.rounds:,}",
        "newest round": f"{snapshot.newest_round} on {snapshot.newest_date}",
    }
    return pd.DataFrame({"value": facts}).rename_axis("")


def newest_raw_rounds(snapshot: Snapshot, n: int = 10) -> pd.DataFrame:
    """The first ``n`` rounds of the snapshot (IRCC lists newest first), fields as written."""
    rounds = load_rounds(read_snapshot_bytes(snapshot), snapshot.file)
    return pd.DataFrame(rounds[:n]).reindex(columns=SHOWN_RAW_FIELDS).astype("string")


def changes_since_previous(snapshot: Snapshot) -> pd.DataFrame:
    """Revisions between this retrieval and the accepted one before it (refused feeds are never
    compared with; A -> B -> A shows B's change undone)."""

    history = accepted_history()
    keys = [(a.snapshot.retrieved_at, a.snapshot.sha256) for a in history]
    key = (snapshot.retrieved_at, snapshot.sha256)
    position = keys.index(key) if key in keys else None
    if position is None:  # not accepted (or not decided yet): compare with the newest accepted
        earlier = [a for a in history if a.snapshot.retrieved_at <= snapshot.retrieved_at]
        before = earlier[-1] if earlier else None
    else:
        before = history[position - 1] if position > 0 else None
    if before is None or before.snapshot.sha256 == snapshot.sha256:
        return empty_revisions()
    return diff_rounds(
        before.rounds,
        load_rounds(read_snapshot_bytes(snapshot), snapshot.file),
        snapshot.file,
        before.snapshot.file,
    )


def change_counts(changes: pd.DataFrame) -> pd.DataFrame:
    """Rounds added, changed, renamed and removed."""
    counts = changes.groupby("change", observed=True)["round"].nunique()
    return (
        counts.reindex(["added", "changed", "renamed", "removed"], fill_value=0)
        .rename("rounds")
        .to_frame()
    )


def snapshot_overview(run: CleanRun) -> pd.DataFrame:
    """Which snapshot was cleaned and what came out of it."""
    draws, quality = run.draws, run.quality
    facts = {
        "snapshot file": run.snapshot.file,
        "retrieved at (UTC)": run.snapshot.retrieved_at,
        "source": source_words(run.snapshot.source),
        "sha256": run.snapshot.sha256,
        "rounds": f"{len(draws):,}",
        "first round": f"{draws['round'].iloc[0]} on {draws['date'].iloc[0]:%Y-%m-%d}",
        "newest round": f"{draws['round'].iloc[-1]} on {draws['date'].iloc[-1]:%Y-%m-%d}",
        "pool distributions published": f"{run.pool['distribution_date'].nunique():,}",
        "errors / warnings / repairs": " / ".join(
            str(int(quality["severity"].eq(s).sum())) for s in ("error", "warning", "repaired")
        ),
        "cleaning skipped (already up to date)": "yes" if run.skipped else "no",
    }
    return pd.DataFrame({"value": facts}).rename_axis("")


def quality_counts(quality: pd.DataFrame) -> pd.DataFrame:
    """Findings per severity and field."""
    return (
        quality.groupby(["severity", "field"], observed=True, dropna=False)
        .size()
        .rename("findings")
        .reset_index()
    )


def rounds_by_family(draws: pd.DataFrame, for_readers: bool = False) -> pd.DataFrame:
    """Rounds per family: how many, first and last date, invitations (the sum of the round
    sizes). ``for_readers``: the published page's version, with the families' labels, dates
    as ``YYYY-MM-DD`` and column names in words (analysts keep the codes to filter on)."""
    table = (
        draws.groupby(["selection", "family"], observed=True)
        .agg(
            rounds=("round", "size"),
            first=("date", "min"),
            last=("date", "max"),
            invitations=("invitations", "sum"),
        )
        .sort_values("last", ascending=False)
        .reset_index()
    )
    if not for_readers:
        return table
    labels = family_labels(draws)
    return pd.DataFrame(
        {
            "Family": table["family"].map(lambda f: labels.get(f, f)),
            "Open to": table["selection"].map(_SELECTION_WORDS).fillna(table["selection"]),
            "Rounds": table["rounds"],
            "First round": table["first"].dt.strftime("%Y-%m-%d"),
            "Latest round": table["last"].dt.strftime("%Y-%m-%d"),
            "Invitations (sum of round sizes)": table["invitations"],
        }
    )


#: What each kind of selection means to a reader.
_SELECTION_WORDS = {
    "all-program": "every program",
    "category": "one category",
    "program": "one program",
    "unknown": "not known",
}


def names_by_family(draws: pd.DataFrame, for_readers: bool = False) -> pd.DataFrame:
    """Every ``drawName`` seen, with the family and version it was classified as
    (``for_readers``: labels, dates as ``YYYY-MM-DD`` and column names in words)."""
    table = (
        draws.groupby(["family", "name"], observed=True, dropna=False)
        .agg(version=("version", "first"), rounds=("round", "size"), last=("date", "max"))
        .reset_index()
        .sort_values(["family", "last"])
        .reset_index(drop=True)
    )
    if not for_readers:
        return table
    labels = family_labels(draws)
    return pd.DataFrame(
        {
            "Round type (IRCC's name)": table["name"],
            "Family": table["family"].map(lambda f: labels.get(f, f)),
            "Version": table["version"],
            "Rounds": table["rounds"],
            "Latest round": table["last"].dt.strftime("%Y-%m-%d"),
        }
    )


def latest_changes(run: CleanRun) -> pd.DataFrame:
    """The revisions between the cleaned snapshot and the one before it."""
    return run.revisions.loc[run.revisions["snapshot"] == run.snapshot.file].reset_index(drop=True)


def pool_overview(pool: pd.DataFrame) -> pd.DataFrame:
    """Distributions published per year: how many, first and last date, pool size range."""
    totals = pool.groupby("distribution_date")["candidates"].sum()
    return (
        totals.rename("candidates")
        .reset_index()
        .assign(year=lambda d: d["distribution_date"].dt.year)
        .groupby("year")
        .agg(
            distributions=("distribution_date", "size"),
            first=("distribution_date", "min"),
            last=("distribution_date", "max"),
            smallest_pool=("candidates", "min"),
            largest_pool=("candidates", "max"),
        )
        .reset_index()
    )


def newest_clean_rounds(draws: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` newest cleaned rounds, newest first, in the columns a reader checks (the whole
    table is ``processed/draws``): number, date, family, version, invitations, cutoff, tie-break
    and pool distribution dates."""
    newest = draws.sort_values("date", kind="stable").tail(n).iloc[::-1]
    return pd.DataFrame(
        {
            "Round": newest["round"].astype("string"),
            "Date": newest["date"].dt.strftime("%Y-%m-%d"),
            "Family": newest["label"],
            "Version": newest["version"],
            "Invitations": newest["invitations"],
            "Cutoff": newest["cutoff"],
            "Tie-break (UTC)": newest["tie_break_at"].dt.strftime("%Y-%m-%d %H:%M"),
            "Pool distribution of": newest["distribution_date"].dt.strftime("%Y-%m-%d"),
        }
    ).reset_index(drop=True)


def retrieval_decisions(raw=None) -> pd.DataFrame:
    """Cleaning's decision on every retrieval (``raw/verdicts.csv``), newest first: accepted,
    accepted with removals (``--accept-removals``) or refused, and why."""

    rows = sorted(read_verdicts(raw).values(), key=lambda r: r["retrieved_at"], reverse=True)
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS).drop(columns="sha256").astype("string")
