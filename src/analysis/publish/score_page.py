"""Where a score stands (``score/index.html``, with ``score/scores.csv``): one row per CRS score
from 350 to 600 in steps of 10, with the candidates in the pool at or above it (newest
published distribution) and, per active family, the last round whose cutoff was at or below it
and how many of the last 12 months' rounds reached it. No script; the table keeps its first
column in view on a phone while the family columns scroll.

The candidates come from :func:`analysis.pool.density.candidates_at_or_above` (exact at the
edges of IRCC's bands, estimated within a band); nothing here re-derives a baseline or verdict.
"""

from __future__ import annotations

import pandas as pd

from analysis.pool.density import candidates_at_or_above
from analysis.publish.content import Section, Table, csv_text
from analysis.publish.render import reader_page
from analysis.taxonomy import ACTIVE_MONTHS, FOCUS_FAMILIES, family_labels
from analysis.taxonomy import active_families as taxonomy_active
from analysis.vocabulary import day_label, month_label

SCORES = range(350, 601, 10)
#: "Reached it lately": rounds in this many months up to the newest round.
RECENT_MONTHS = 12


def active_families(draws: pd.DataFrame) -> list[str]:
    """The active families on the newest round's day (:func:`analysis.taxonomy.active_families`:
    a round in the last 6 months, STEM and healthcare always), in taxonomy order."""
    wanted = set(taxonomy_active(draws))
    return [f for f in family_labels() if f in wanted]


def out_of_range(draws: pd.DataFrame, families: list[str]) -> list[str]:
    """The families among ``families`` none of whose rounds ever had a cutoff at or below the
    top score of the page (the Provincial Nominee Program: a nomination adds 600 points), the
    focus families aside: their columns would say "never" on every row."""
    top = max(SCORES)
    reached = set(draws.loc[draws["cutoff"].notna() & (draws["cutoff"] <= top), "family"])
    return [f for f in families if f not in reached and f not in FOCUS_FAMILIES]


def newest_distribution(pool: pd.DataFrame) -> tuple[pd.Timestamp | None, pd.DataFrame]:
    """(date, rows) of the newest published pool distribution (None and no rows: none)."""
    if pool.empty:
        return None, pool
    newest = pool["distribution_date"].max()
    return newest, pool.loc[pool["distribution_date"] == newest]


def score_table(draws: pd.DataFrame, pool: pd.DataFrame, families: list[str]) -> pd.DataFrame:
    """One row per score of :data:`SCORES` (long, for the download): ``score``, ``candidates``
    (at or above it, newest distribution; empty without one) and per family
    ``<family>_last_round``, ``<family>_last_date`` (latest round with a cutoff at or below the
    score), ``<family>_reached`` and ``<family>_rounds`` (of the last 12 months' rounds with a
    cutoff, how many were at or below the score)."""
    _, distribution = newest_distribution(pool)
    end = draws["date"].max()
    since = end - pd.DateOffset(months=RECENT_MONTHS)
    table = pd.DataFrame({"score": list(SCORES)})
    table["candidates"] = pd.array(
        [
            round(candidates_at_or_above(distribution, s)) if len(distribution) else None
            for s in SCORES
        ],
        dtype="Int64",
    )
    for family in families:
        rounds = draws.loc[(draws["family"] == family) & draws["cutoff"].notna()]
        rounds = rounds.sort_values("date", kind="stable")
        recent = rounds.loc[rounds["date"] > since, "cutoff"].astype(int)
        last_round, last_date, reached = [], [], []
        for score in SCORES:
            below = rounds.loc[rounds["cutoff"] <= score]
            last_round.append(below["round"].iloc[-1] if len(below) else None)
            last_date.append(below["date"].iloc[-1] if len(below) else pd.NaT)
            reached.append(int((recent <= score).sum()))
        table[f"{family}_last_round"] = pd.array(last_round, dtype="string")
        table[f"{family}_last_date"] = pd.to_datetime(pd.Series(last_date, dtype="object"))
        table[f"{family}_reached"] = pd.array(reached, dtype="Int64")
        table[f"{family}_rounds"] = pd.array([len(recent)] * len(table), dtype="Int64")
    return table


def shown_table(table: pd.DataFrame, families: list[str], labels: dict[str, str]) -> pd.DataFrame:
    """The page's table: score, candidates, and one cell per family: the last round that reached
    the score and how many of the recent rounds did ("Mar 2026 · 4 of 13"; "none lately" when
    the family had no round in those months)."""
    shown = pd.DataFrame({"Score": table["score"], "Candidates at or above": table["candidates"]})
    for family in families:
        cells = []
        for date, reached, total in zip(
            table[f"{family}_last_date"],
            table[f"{family}_reached"],
            table[f"{family}_rounds"],
            strict=True,
        ):
            last = "never" if pd.isna(date) else month_label(date, short=True)
            lately = f"{reached} of {total}" if total else "none lately"
            cells.append(f"{last} · {lately}")
        shown[labels.get(family, family)] = pd.Series(cells, dtype="string")
    return shown


def render_score_page(draws: pd.DataFrame, pool: pd.DataFrame) -> tuple[str, str]:
    """(HTML of the page, CSV of the long table)."""
    labels = family_labels(draws)
    active = active_families(draws)
    left_out = out_of_range(draws, active)
    families = [f for f in active if f not in left_out]
    table = score_table(draws, pool, families)
    newest, _ = newest_distribution(pool)
    end = draws["date"].max()
    pool_words = (
        f"the pool distribution IRCC published for {day_label(newest)}"
        if newest is not None
        else "no pool distribution (IRCC has published none)"
    )
    made = [
        Section(
            "scores",
            "Each score, the pool and the rounds",
            [
                Table(
                    shown_table(table, families, labels),
                    caption=f"Candidates at or above each score ({pool_words}); per category, "
                    f"the last round that reached the score and how many of its rounds in the "
                    f"{RECENT_MONTHS} months to {day_label(end)} did",
                    download="scores.csv",
                    full=table,
                    row_ids=table["score"].map(lambda s: f"score-{s}"),
                    note="Each category's cell: the month of its last round that reached the "
                    f"score, then how many of its rounds in the last {RECENT_MONTHS} months did "
                    "(4 of 13; 'none lately': it had no round in those months; the download "
                    "gives each round's number and date). A round reached a score when its "
                    "cutoff was at or below it: a candidate with that score or more would "
                    "have been invited if eligible. "
                    "'never': no round of the category had a cutoff that low. Candidates "
                    "are exact at the edges of IRCC's published bands (e.g. 451, 501) and "
                    "estimated within a band."
                    + (
                        f" Not listed: {', '.join(labels.get(f, f) for f in left_out)} (no "
                        f"round ever had a cutoff of {max(SCORES)} or less)."
                        if left_out
                        else ""
                    ),
                )
            ],
        )
    ]
    html = reader_page(
        "Where a score stands",
        f"For a CRS score, how many candidates stand at or above it, and which categories "
        f"have invited at that score. Listed: "
        f"{' and '.join(labels.get(f, f) for f in FOCUS_FAMILIES)}, and every other category or "
        f"program with a round in the {ACTIVE_MONTHS} months to {day_label(end)}. Eligibility is "
        f"the category's own: a score says nothing "
        f"about whether a candidate qualifies for it.",
        made,
    )
    return html, csv_text(table)
