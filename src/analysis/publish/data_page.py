"""Every round as data (``data/``): ``rounds.csv`` and ``rounds.json`` (every round, cleaned,
with its family, label and the baselines the family pages show), ``pool.csv`` (every published
pool distribution) and ``data/index.html``, a page describing each column.

The descriptions live here, once (:data:`ROUND_COLUMNS`, :data:`POOL_COLUMNS`): the files are
written in that order and a test checks that every column is described. The baselines come
from :func:`analysis.publish.families.comparisons_for` (the numbers of the family pages), in
whole points with the gaps from :mod:`analysis.vocabulary` (the rounding home).
"""

from __future__ import annotations

import json

import pandas as pd

from analysis import baselines
from analysis.baselines import WINDOW_DAYS
from analysis.pool.regime import RANGE_COVERAGE
from analysis.publish.content import Section, Table, csv_text
from analysis.publish.families import comparisons_for, families_with_rounds
from analysis.publish.render import reader_page
from analysis.report.tables import baseline_points
from analysis.taxonomy import CATEGORY_START
from analysis.vocabulary import month_label, whole_points

#: Since when category rounds are compared (the family pages' start).
_SINCE = month_label(CATEGORY_START)


#: rounds.csv / rounds.json: column -> (type, meaning). The files hold these columns, in order.
ROUND_COLUMNS: dict[str, tuple[str, str]] = {
    "round": ("text", "IRCC's round number (a letter follows it when IRCC split a number)."),
    "date": ("date", "The day of the round (YYYY-MM-DD)."),
    "month": ("text", "The round's month (YYYY-MM): the monthly report that shows it."),
    "drawn_at": ("date and time, UTC", "When IRCC says the round was held, where it says."),
    "invitations": ("whole number", "Invitations to apply issued in the round."),
    "cutoff": (
        "whole number",
        "CRS score of the lowest-ranked candidate invited (empty when IRCC gave none).",
    ),
    "tie_break_at": (
        "date and time, UTC",
        "The tie-breaking rule: among candidates at the cutoff, those who entered the pool "
        "before this moment were invited.",
    ),
    "name": ("text", "The round type exactly as IRCC's feed names it."),
    "programs": ("text", "The programs IRCC lists as eligible for the round."),
    "family": (
        "text",
        "The project's code for the round's kind (all_program, cec, stem, healthcare, ...): "
        "every version of one category shares it.",
    ),
    "label": ("text", "The family in words, as the pages show it."),
    "selection": (
        "text",
        "all-program (open to every program), program (one program, e.g. CEC or PNP) or "
        "category (an occupation or attribute).",
    ),
    "version": ("whole number", "The category's version as IRCC numbers it (empty if none)."),
    "version_year": ("whole number", "The year of that version, where IRCC gives one."),
    "is_all_program": ("true/false", "The round was open to every program."),
    "is_category": ("true/false", "The round was a category-based selection."),
    "distribution_date": (
        "date",
        "The day of the pool distribution IRCC published with the round (see pool.csv).",
    ),
    "removed_since": (
        "date",
        "First snapshot of the feed that no longer lists the round (empty: still listed).",
    ),
    "baseline_window": (
        "whole number",
        f"Category rounds since {_SINCE}: the mean cutoff of the all-program rounds held in "
        f"the {WINDOW_DAYS} days before the round (empty: there were none).",
    ),
    "gap_window": ("whole number", "cutoff minus baseline_window (negative: lower scores)."),
    "baseline_latest": (
        "whole number",
        f"Category rounds since {_SINCE}: the cutoff of the latest all-program round before it.",
    ),
    "gap_latest": ("whole number", "cutoff minus baseline_latest."),
    "baseline_pool": (
        "whole number",
        f"Category rounds since {_SINCE}: the cutoff an all-program round of the same size "
        "would have needed, estimated from the pool distribution published before it (empty "
        "where not estimated: the family pages estimate each family's latest rounds only).",
    ),
    "pool_low": (
        "whole number",
        "Low end of the pool estimate's range: the estimate moved by the errors such estimates "
        f"made on earlier all-program rounds, as widely as {RANGE_COVERAGE:.0%} coverage needed.",
    ),
    "pool_high": ("whole number", "High end of that range."),
    "gap_pool": ("whole number", "cutoff minus baseline_pool."),
}

#: pool.csv: column -> (type, meaning).
POOL_COLUMNS: dict[str, tuple[str, str]] = {
    "distribution_date": ("date", "The day IRCC's distribution of the pool describes."),
    "score_low": ("whole number", "Lowest CRS score of the band."),
    "score_high": ("whole number", "Highest CRS score of the band."),
    "candidates": ("whole number", "Candidates in the pool with a score in the band."),
    "bin": ("text", "The band as IRCC writes it."),
    "round": ("text", "The round whose publication carried this distribution."),
}

_DATE_COLUMNS = ("date", "distribution_date", "removed_since")
_MOMENT_COLUMNS = ("drawn_at", "tie_break_at")


def _dates_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as ``YYYY-MM-DD`` and moments as ``YYYY-MM-DDTHH:MM:SSZ`` text (empty: missing)."""
    out = frame.copy()
    for column in out.columns:
        if column in _DATE_COLUMNS:
            out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d").astype("string")
        elif column in _MOMENT_COLUMNS:
            out[column] = (
                pd.to_datetime(out[column], utc=True)
                .dt.strftime("%Y-%m-%dT%H:%M:%SZ")
                .astype("string")
            )
    return out


def rounds_table(draws: pd.DataFrame, comparisons: pd.DataFrame) -> pd.DataFrame:
    """Every round (oldest first) with the columns of :data:`ROUND_COLUMNS`; ``comparisons`` is
    the long table of :func:`analysis.baselines.compare_with_baselines` (may be empty)."""
    table = draws.copy()
    wide, pool = pd.DataFrame(), pd.DataFrame()
    if len(comparisons):
        wide = baselines.gaps_wide(comparisons).set_index("round")
        pool = comparisons.loc[comparisons["baseline"] == "pool"].set_index("round")
    nothing = pd.Series(None, index=table.index, dtype="object")
    for kind in ("window", "latest", "pool"):
        column = f"baseline_{kind}"
        values = table["round"].map(wide[column]) if column in wide else nothing
        table[column], table[f"gap_{kind}"] = baseline_points(table["cutoff"], values)
    for end in ("low", "high"):
        values = table["round"].map(pool[end]) if end in pool else nothing
        table[f"pool_{end}"] = pd.array([whole_points(v) for v in values], dtype="Int64")
    missing = [c for c in ROUND_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"the draws table has no {', '.join(missing)} column")
    return table[list(ROUND_COLUMNS)].reset_index(drop=True)


def pool_table(pool: pd.DataFrame) -> pd.DataFrame:
    """Every published distribution (oldest first, lowest band first), :data:`POOL_COLUMNS`."""
    return pool.sort_values(["distribution_date", "score_low"], kind="stable")[
        list(POOL_COLUMNS)
    ].reset_index(drop=True)


def rounds_json(rounds: pd.DataFrame) -> str:
    """``rounds`` as a JSON list of objects (dates as text, missing values as null)."""

    def plain(value):  # numpy and pandas scalars as Python's
        return None if pd.isna(value) else value.item() if hasattr(value, "item") else value

    rows = _dates_as_text(rounds).astype(object).to_dict(orient="records")
    records = [{key: plain(value) for key, value in row.items()} for row in rows]
    return json.dumps(records, ensure_ascii=False, indent=1) + "\n"


def _columns_frame(columns: dict[str, tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(name, kind, meaning) for name, (kind, meaning) in columns.items()],
        columns=["Column", "Type", "Meaning"],
    )


def render_data_page(rounds: pd.DataFrame, pool: pd.DataFrame) -> str:
    """``data/index.html``: the three files and a table describing each column."""
    dates = pool["distribution_date"]
    made = [
        Section(
            "rounds",
            "rounds.csv and rounds.json: every round",
            [
                Table(
                    _columns_frame(ROUND_COLUMNS),
                    caption=f"The columns of rounds.csv ({len(rounds):,} rounds, from "
                    f"{rounds['date'].min():%Y-%m-%d} to {rounds['date'].max():%Y-%m-%d}); "
                    "rounds.json holds the same rows as a list of objects",
                ),
            ],
        ),
        Section(
            "pool",
            "pool.csv: every pool distribution",
            [
                Table(
                    _columns_frame(POOL_COLUMNS),
                    caption=f"The columns of pool.csv ({dates.nunique():,} distributions"
                    + (
                        f", from {dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d})"
                        if len(dates)
                        else ")"
                    ),
                ),
            ],
        ),
    ]
    return reader_page(
        "Every round as data",
        "Download every round of IRCC's Express Entry feed, cleaned: "
        "rounds.csv and rounds.json (the same rows), and pool.csv (the distribution of CRS "
        "scores in the pool each time IRCC published one). Empty cells (null in JSON) mean the "
        "value does not exist or IRCC did not give it. Baselines and gaps are in CRS points, "
        f"for category rounds since {_SINCE}, as the category pages show them.",
        made,
        ["rounds.csv", "rounds.json", "pool.csv"],
    )


def data_files(
    draws: pd.DataFrame, pool: pd.DataFrame, comparisons: pd.DataFrame
) -> dict[str, str]:
    """File name -> text of everything under ``data/``."""
    rounds = rounds_table(draws, comparisons)
    pools = pool_table(pool)
    return {
        "rounds.csv": csv_text(_dates_as_text(rounds)),
        "rounds.json": rounds_json(rounds),
        "pool.csv": csv_text(_dates_as_text(pools)),
        "index.html": render_data_page(rounds, pools),
    }


def prepare_data(inputs) -> dict[str, str]:
    """The files of ``data/`` from the processed tables (the family pages' comparisons)."""
    draws, pool = inputs.draws, inputs.pool
    comparisons = comparisons_for(draws, pool, families_with_rounds(draws))
    return data_files(draws, pool, comparisons)
