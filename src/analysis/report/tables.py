"""The report's tables, each a DataFrame with reader-facing column names: the month's rounds,
the category rounds against each baseline, forecasts (with the naive forecast's error beside
the model's) and cadence. Revisions,
data-quality findings and data notes are in :mod:`analysis.report.provenance`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import baselines as baseline_helpers
from analysis import forecast as forecasting
from analysis import trends
from analysis.data import removal_notes
from analysis.report.month_report import BASELINE_NAMES, MonthData
from analysis.stats import family_rounds
from analysis.taxonomy import (
    reader_labels,
    short_label,
)
from analysis.vocabulary import shown_gap, whole_points


def round_anchor(round_id) -> str:
    """The ``id`` of a round's row on a page: ``round-254`` (linkable as ``#round-254``).

    >>> round_anchor("91a")
    'round-91a'
    """
    return f"round-{str(round_id).strip().lower()}"


def baseline_points(cutoffs, baseline) -> tuple[pd.api.extensions.ExtensionArray, ...]:
    """A baseline in whole points and each cutoff's gap from it, as every table shows them
    (:func:`analysis.vocabulary.whole_points`, :func:`analysis.vocabulary.shown_gap`).

    >>> [a.tolist() for a in baseline_points([486, 480], [498.5, None])]
    [[499, <NA>], [-13, <NA>]]
    """
    values = list(baseline)
    return (
        pd.array([whole_points(b) for b in values], dtype="Int64"),
        pd.array([shown_gap(c, b) for c, b in zip(cutoffs, values, strict=True)], dtype="Int64"),
    )


def month_rounds_table(data: MonthData, full: bool = False) -> pd.DataFrame:
    """The month's rounds, all families; "In this report" marks the report's categories.

    IRCC's name is cut to the label length of cleaning (:func:`analysis.taxonomy.short_label`)
    unless ``full`` (the download keeps the whole text). A "Note" column says of a round IRCC's
    feed no longer lists since when (:func:`analysis.data.removal_notes`); it appears only when
    a round of the month has one.
    """
    rounds = data.month_rounds
    names = rounds["name"] if full else rounds["name"].map(short_label, na_action="ignore")
    table = pd.DataFrame(
        {
            "Round": rounds["round"].astype("string"),
            "Date": rounds["date"].dt.strftime("%Y-%m-%d"),
            "Round type (IRCC's name)": names,
            "Family": reader_labels(rounds) if len(rounds) else rounds["family"],
            "Invitations": rounds["invitations"],
            "Cutoff (CRS)": rounds["cutoff"],
            "In this report": np.where(rounds["family"].isin(data.params.categories), "yes", ""),
        }
    )
    notes = removal_notes(rounds)
    if (notes != "").any():
        table["Note"] = notes.to_numpy()
    return table


def comparison_table(data: MonthData) -> pd.DataFrame:
    """Every target-category round in the window against each baseline, wide: one row per round."""
    long = data.comparisons
    if long.empty:
        return pd.DataFrame(columns=["Round", "Date", "Category", "Invitations", "Cutoff"])
    wide = baseline_helpers.gaps_wide(long)
    out = pd.DataFrame(
        {
            "Round": wide["round"],
            "Date": wide["date"].dt.strftime("%Y-%m-%d"),
            "Category": wide["family"].map(data.label),
            "Invitations": wide["invitations"],
            "Cutoff": wide["cutoff"],
        }
    )
    names = {
        "window": f"{data.params.window_days} days before",
        "latest": "latest before",
        "pool": "pool estimate",
    }
    for kind in data.params.baselines:
        if f"baseline_{kind}" in wide:
            out[f"All-program: {names[kind]}"], out[f"Gap vs {names[kind]}"] = baseline_points(
                wide["cutoff"], wide[f"baseline_{kind}"]
            )
    return out.reset_index(drop=True)


def comparison_summary(data: MonthData) -> pd.DataFrame:
    """The comparison table a page shows: the gaps only (and the pool estimate, the one
    baseline that is not a real round), short headers; the full table is the download."""
    full = comparison_table(data)
    if "Round" not in full or full.empty:
        return full
    window = f"{data.params.window_days} days before"
    shown = {
        "Round": "Round",
        "Date": "Date",
        "Category": "Category",
        "Cutoff": "Cutoff",
        f"Gap vs {window}": f"Gap: all-program, {window}",
        "Gap vs latest before": "Gap: latest all-program",
        "All-program: pool estimate": "Pool estimate",
        "Gap vs pool estimate": "Gap: pool estimate",
    }
    return full[[c for c in shown if c in full]].rename(columns=shown)


def baseline_notes(data: MonthData) -> pd.DataFrame:
    """The detail behind each baseline of the month's target rounds (which rounds, which pool)."""
    month = data.comparisons.loc[data.comparisons["date"] >= data.start]
    return pd.DataFrame(
        {
            "Round": month["round"],
            "Category": month["family"].map(data.label),
            "Baseline": month["baseline"].map(
                lambda k: BASELINE_NAMES[k].format(days=data.params.window_days)
            ),
            "How it was found": month["detail"],
        }
    ).reset_index(drop=True)


def baselines_sentence(notes: pd.DataFrame) -> str:
    """What the download of :func:`baseline_notes` holds, in one sentence (the month in detail
    states each baseline's value).

    >>> print(baselines_sentence(pd.DataFrame({"Round": ["398", "398", "398"]})))
    ... # doctest: +NORMALIZE_WHITESPACE
    How each baseline of this month's category round was found (which all-program rounds, how
    old the latest one was, which pool distribution) is in the download.
    >>> baselines_sentence(pd.DataFrame({"Round": []}))
    'No category round this month, so no baseline to explain.'
    """
    if notes.empty:
        return "No category round this month, so no baseline to explain."
    rounds = notes["Round"].nunique()
    which = "category round" if rounds == 1 else f"{rounds} category rounds"
    return (
        f"How each baseline of this month's {which} was found (which all-program rounds, how "
        "old the latest one was, which pool distribution) is in the download."
    )


def forecasts(data: MonthData) -> pd.DataFrame:
    """Next cutoff per target category (80% interval) and how such forecasts did on the
    category's latest rounds (at most :data:`analysis.forecast.REPORT_FORECASTS` of them),
    beside the naive "same as last round" forecast, each with its number of forecasts."""
    rows = []
    for family in data.params.categories:
        forecast = forecasting.forecast_next_cutoff(
            data.draws, family, window=forecasting.REPORT_WINDOW
        )
        _, accuracy = forecasting.forecast_backtest(
            data.draws,
            family,
            window=forecasting.REPORT_WINDOW,
            last=forecasting.REPORT_FORECASTS,
        )
        ok = forecast.status == "ok"
        checked = accuracy.status == "ok"
        inside = "–"
        if checked and accuracy.n_calibrated:
            inside = f"{accuracy.calibrated_coverage:.0%} of {accuracy.n_calibrated}"
        errors = "–"
        if checked:
            errors = f"{accuracy.mae:.1f} / {accuracy.naive_mae:.1f} ({accuracy.n})"
        rows.append(
            {
                "Category": data.label(family),
                "Rounds so far": len(family_rounds(data.draws, family)),
                "Last cutoff": forecast.last_cutoff,
                "Next cutoff (80% interval)": (
                    f"{forecast.point:.0f} ({forecast.low:.0f}-{forecast.high:.0f})"
                    if ok
                    else forecast.status
                ),
                "Past forecasts' mean error: forecast / same as last round (n)": errors,
                "Inside the 80% interval": inside,
                "Notes": "; ".join(forecast.notes) if ok else (forecast.reason or ""),
            }
        )
    return pd.DataFrame(rows)


def cadence(data: MonthData) -> pd.DataFrame:
    """Days between rounds per family (as of the month's end), families active in the window."""
    summary = trends.summarize_round_gaps(data.draws, as_of=data.end)
    active = summary.loc[summary["last_date"] >= data.window_start]
    return (
        pd.DataFrame(
            {
                "Family": active["family"].map(data.label),
                "Rounds so far": active["rounds"],
                "Median days between rounds": active["median_gap_days"],
                "Shortest gap (days)": active["min_gap_days"],
                "Longest gap (days)": active["max_gap_days"],
                "Last round": active["last_round"],
                "Last date": active["last_date"].dt.strftime("%Y-%m-%d"),
                "Days since, at month end": active["days_since_last"],
            }
        )
        .sort_values("Rounds so far", ascending=False)
        .reset_index(drop=True)
    )
