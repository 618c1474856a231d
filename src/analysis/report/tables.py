"""The report's tables, each a DataFrame with reader-facing column names: the month's rounds,
the category rounds against each baseline, statistics, forecasts, cadence, tie-break lag,
revisions, data-quality findings and data notes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict

import numpy as np
import pandas as pd

from analysis import baselines as baseline_helpers
from analysis import trends
from analysis.report.month import BASELINE_NAMES, MonthData, ReportParams
from analysis.taxonomy import ALL_PROGRAM, CATEGORY_START
from analysis.wording import shown_gap, whole_points


def month_rounds_table(data: MonthData) -> pd.DataFrame:
    """The month's rounds, all families; ``target`` marks the report's categories."""
    rounds = data.month_rounds
    return pd.DataFrame(
        {
            "Round": rounds["round"],
            "Date": rounds["date"].dt.strftime("%Y-%m-%d"),
            "Round type (as IRCC names it)": rounds["name"],
            "Family": rounds["family"].map(data.label),
            "Invitations": rounds["invitations"],
            "Cutoff (CRS)": rounds["cutoff"],
            "Report category": np.where(rounds["family"].isin(data.params.categories), "yes", ""),
        }
    )


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
        "window": f"±{data.params.window_days} days",
        "latest": "latest before",
        "pool": "pool estimate",
    }
    for kind in data.params.baselines:
        if f"baseline_{kind}" in wide:
            baseline = wide[f"baseline_{kind}"]
            out[f"All-program: {names[kind]}"] = pd.array(
                [whole_points(b) for b in baseline], dtype="Int64"
            )
            out[f"Gap vs {names[kind]}"] = pd.array(
                [shown_gap(c, b) for c, b in zip(wide["cutoff"], baseline, strict=True)],
                dtype="Int64",
            )
    return out.reset_index(drop=True)


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


def statistics(data: MonthData) -> tuple[pd.DataFrame, list[str]]:
    """Category versus all-program cutoffs since June 2023 (as of the month's end): the table and
    the caveats in words."""
    from analysis import stats

    rows, caveats = [], []
    for family in data.params.categories:
        result = stats.compare_cutoffs(data.draws, family, since=CATEGORY_START)
        rows.append(
            {
                "Category": data.label(family),
                "Rounds (category / all-program)": f"{result.n_family} / {result.n_reference}",
                "Mean cutoff (category)": result.mean_family,
                "Mean cutoff (all-program)": result.mean_reference,
                "Difference": result.difference,
                "95% interval": (
                    f"{result.ci_low:.1f} to {result.ci_high:.1f}"
                    if result.ci_low is not None
                    else "not enough data"
                ),
                "Welch p (n)": (
                    f"{result.welch_p:.3g} (n={result.n_family}+{result.n_reference})"
                    if result.welch_p is not None
                    else "–"
                ),
                "Rank check p": (
                    f"{result.rank_p:.3g} ({result.rank_test})"
                    if result.rank_p is not None
                    else "–"
                ),
            }
        )
        caveats.extend(f"{data.label(family)}: {c}" for c in result.caveats)
    return pd.DataFrame(rows), caveats


def regression(data: MonthData) -> tuple[pd.DataFrame, list[str]]:
    """Cutoff on family with a time trend and HAC errors, since June 2023, as of the month."""
    from analysis import stats

    result = stats.cutoff_regression(
        data.draws, families=data.params.categories, since=CATEGORY_START
    )
    if result.status != "ok":
        return pd.DataFrame({"Result": [f"{result.status}: {result.reason}"]}), list(result.caveats)
    table = result.table.rename(
        columns={
            "term": "Term",
            "estimate": "Estimate (points)",
            "ci_low": "95% low",
            "ci_high": "95% high",
            "p_value": "p",
            "n": "Rounds",
        }
    ).drop(columns=["std_error"], errors="ignore")
    return table, list(result.caveats)


def forecasts(data: MonthData) -> pd.DataFrame:
    """Next cutoff per target category (80% interval) and how such forecasts did before."""
    from analysis import forecast as forecasting

    rows = []
    for family in data.params.categories:
        forecast = forecasting.forecast_next_cutoff(data.draws, family)
        _, accuracy = forecasting.forecast_backtest(data.draws, family)
        ok = forecast.status == "ok"
        rows.append(
            {
                "Category": data.label(family),
                "Rounds so far": forecast.n_rounds,
                "Last cutoff": forecast.last_cutoff,
                "Next cutoff (forecast)": f"{forecast.point:.0f}" if ok else forecast.status,
                "80% interval": f"{forecast.low:.0f}-{forecast.high:.0f}" if ok else "–",
                "Past forecasts: mean abs. error": (
                    f"{accuracy.mae:.1f} (n={accuracy.n})" if accuracy.status == "ok" else "–"
                ),
                "Past forecasts: share inside interval": (
                    f"{accuracy.coverage:.0%}" if accuracy.status == "ok" else "–"
                ),
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


def tie_break(data: MonthData) -> pd.DataFrame:
    """Tie-break lag of the window's target-category and all-program rounds, in days."""
    lag = trends.tie_break_lag(data.draws)
    keep = lag["date"].ge(data.window_start) & lag["family"].isin(
        [*data.params.categories, ALL_PROGRAM]
    )
    rows = lag.loc[keep].sort_values("date", ascending=False)
    return pd.DataFrame(
        {
            "Round": rows["round"],
            "Date": rows["date"].dt.strftime("%Y-%m-%d"),
            "Family": rows["family"].map(data.label),
            "Drawn at (UTC)": rows["drawn_at"].dt.strftime("%Y-%m-%d %H:%M"),
            "Tie-break: profiles submitted before (UTC)": rows["tie_break_at"].dt.strftime(
                "%Y-%m-%d %H:%M"
            ),
            "Lag (days)": rows["lag_days"].round(1),
        }
    ).reset_index(drop=True)


def revisions_for_month(revisions: pd.DataFrame, data: MonthData, limit: int = 60) -> pd.DataFrame:
    """IRCC's changes to rounds this report covers (dated up to the month's end), newest first."""
    dates = data.draws.set_index("round")["date"]
    covered = revisions.loc[revisions["round"].isin(dates.index)]
    return (
        covered.assign(date=covered["round"].map(dates))
        .sort_values(["snapshot", "date"], ascending=False)
        .head(limit)[["snapshot", "round", "date", "change", "field", "old", "new"]]
        .assign(date=lambda d: d["date"].dt.strftime("%Y-%m-%d"))
        .reset_index(drop=True)
    )


def quality_for_month(quality: pd.DataFrame, data: MonthData) -> pd.DataFrame:
    """Data-quality findings about rounds in the report's window (plus feed-level ones)."""
    window_rounds = data.draws.loc[data.draws["date"] >= data.window_start, "round"]
    keep = quality["round"].isin(window_rounds) | quality["round"].isna()
    return quality.loc[keep].reset_index(drop=True)


def data_notes(
    meta: dict,
    params: ReportParams,
    packages: Iterable[str] = (
        "pandas",
        "numpy",
        "statsmodels",
        "scipy",
        "matplotlib",
        "seaborn",
        "papermill",
        "nbconvert",
        "pandera",
    ),
) -> pd.DataFrame:
    """Where the numbers came from: snapshot, retrieval, hash, code and package versions,
    parameters."""
    from importlib.metadata import version

    from analysis import __version__

    facts = {
        "Feed": "IRCC, Express Entry rounds of invitations (Open Government Licence - Canada)",
        "Snapshot file": meta.get("file", "unknown"),
        "Retrieved (UTC)": meta.get("retrieved_at", "unknown"),
        "Retrieved from": meta.get("source", "unknown"),
        "sha256": meta.get("sha256", "unknown"),
        "Rounds in snapshot": str(meta.get("rounds_clean", "unknown")),
        "Code": f"analysis {__version__}, tables made by cleaning code "
        f"{str(meta.get('code', 'unknown'))[:12]}",
        "Packages": ", ".join(f"{p} {version(p)}" for p in packages),
        "Parameters": json.dumps(asdict(params)),
    }
    return pd.DataFrame({"Item": list(facts), "Value": list(facts.values())})
