"""The report's tables, each a DataFrame with reader-facing column names: the month's rounds,
the category rounds against each baseline, statistics, forecasts, cadence, tie-break lag,
revisions, data-quality findings and data notes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from analysis import baselines as baseline_helpers
from analysis import trends
from analysis.report.month import BASELINE_NAMES, MonthData, ReportParams
from analysis.taxonomy import ALL_PROGRAM, CATEGORY_START, family_labels, reader_labels
from analysis.wording import shown_gap, whole_points

#: Feed fields as a reader would name them (revisions and data-quality tables).
FIELD_WORDS = {
    "drawNumber": "round number",
    "drawDate": "date",
    "drawDateFull": "date in words",
    "drawName": "round type",
    "drawText2": "programs eligible",
    "drawSize": "invitations",
    "drawCRS": "cutoff",
    "drawDateTime": "time of the round",
    "drawCutOff": "tie-breaking rule",
    "drawDistributionAsOn": "pool distribution date",
    "distribution": "pool distribution",
    "round": "round",
}

CHANGE_WORDS = {
    "added": "added",
    "changed": "changed",
    "renamed": "renamed",
    "removed": "removed",
}


def _field_words(field) -> str:
    if field is None or (not isinstance(field, str) and pd.isna(field)):
        return "the feed as a whole"
    text = str(field)
    if text.startswith("dd") and text[2:].isdigit():
        return f"pool distribution (bin {text[2:]})"
    return FIELD_WORDS.get(text, text)


def round_anchor(round_id) -> str:
    """The ``id`` of a round's row on a page: ``round-254`` (linkable as ``#round-254``).

    >>> round_anchor("91a")
    'round-91a'
    """
    return f"round-{str(round_id).strip().lower()}"


def month_rounds_table(data: MonthData) -> pd.DataFrame:
    """The month's rounds, all families; "In this report" marks the report's categories."""
    rounds = data.month_rounds
    return pd.DataFrame(
        {
            "Round": rounds["round"].astype("string"),
            "Date": rounds["date"].dt.strftime("%Y-%m-%d"),
            "Round type (IRCC's name)": rounds["name"],
            "Family": reader_labels(rounds) if len(rounds) else rounds["family"],
            "Invitations": rounds["invitations"],
            "Cutoff (CRS)": rounds["cutoff"],
            "In this report": np.where(rounds["family"].isin(data.params.categories), "yes", ""),
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


def comparison_summary(data: MonthData) -> pd.DataFrame:
    """The comparison table a page shows: the gaps only (and the pool estimate, the one
    baseline that is not a real round), short headers; the full table is the download."""
    full = comparison_table(data)
    if "Round" not in full or full.empty:
        return full
    window = f"±{data.params.window_days} days"
    shown = {
        "Round": "Round",
        "Date": "Date",
        "Category": "Category",
        "Cutoff": "Cutoff",
        f"Gap vs {window}": f"Gap: all-program within {window}",
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
                "Chance of a gap this big if there were none (Welch)": _p_words(result.welch_p),
                "Same, using only the order of cutoffs": _p_words(result.rank_p),
            }
        )
        caveats.extend(f"{data.label(family)}: {c}" for c in result.caveats)
    return pd.DataFrame(rows), caveats


def _p_words(p) -> str:
    """A p-value as a reader reads it, never in e-notation.

    >>> _p_words(6.3e-06), _p_words(0.0191), _p_words(None)
    ('below 0.1%', '1.9%', 'not available')
    """
    if p is None or pd.isna(p):
        return "not available"
    if p < 0.001:
        return "below 0.1%"
    return f"{p:.1%}" if p < 0.1 else f"{p:.0%}"


def _term_words(term: str, labels) -> str:
    """A regression term in words: ``stem - all_program`` -> ``STEM minus all-program``."""
    text = str(term)
    if "intercept" in text:
        return (
            text.replace("(intercept)", "")
            .replace("all_program level on", "All-program level on")
            .strip()
        )
    if " - " in text:
        left, _, right = text.partition(" - ")
        return f"{labels(left.strip())} minus {labels(right.strip()).lower()}"
    if text.startswith("trend"):
        return "Trend (points per year)"
    return labels(text)


def regression(data: MonthData) -> tuple[pd.DataFrame, list[str]]:
    """Cutoff on family with a time trend and HAC errors, since June 2023, as of the month."""
    from analysis import stats

    result = stats.cutoff_regression(
        data.draws, families=data.params.categories, since=CATEGORY_START
    )
    if result.status != "ok":
        return pd.DataFrame({"Result": [f"{result.status}: {result.reason}"]}), list(result.caveats)
    table = (
        result.table.assign(
            term=lambda t: t["term"].map(lambda x: _term_words(x, data.label)),
            p_value=lambda t: t["p_value"].map(_p_words),
        )
        .rename(
            columns={
                "term": "Term",
                "estimate": "Estimate (points)",
                "ci_low": "95% low",
                "ci_high": "95% high",
                "p_value": "Chance if no difference",
                "n": "Rounds",
            }
        )
        .drop(columns=["std_error"], errors="ignore")
    )
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


#: Months of rounds the tie-break table shows (the month and the ones before it).
TIE_BREAK_MONTHS = 3


def tie_break(data: MonthData) -> pd.DataFrame:
    """Tie-break lag of the target-category and all-program rounds of the month and the
    :data:`TIE_BREAK_MONTHS` - 1 months before it, in days."""
    lag = trends.tie_break_lag(data.draws)
    since = max(data.window_start, data.start - pd.DateOffset(months=TIE_BREAK_MONTHS - 1))
    keep = lag["date"].ge(since) & lag["family"].isin([*data.params.categories, ALL_PROGRAM])
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
    ordered = (
        covered.assign(date=covered["round"].map(dates))
        .sort_values(["snapshot", "date"], ascending=False)
        .head(limit)
    )
    return pd.DataFrame(
        {
            "Seen in the feed of": ordered["snapshot"].map(_snapshot_day).astype("string"),
            "Round": ordered["round"].astype("string"),
            "Round date": ordered["date"].dt.strftime("%Y-%m-%d"),
            "Change": ordered["change"].map(lambda c: CHANGE_WORDS.get(c, c)),
            "What changed": ordered["field"].map(_field_words),
            "Before": ordered["old"].fillna("").astype("string"),
            "After": ordered["new"].fillna("").astype("string"),
        }
    ).reset_index(drop=True)


def _snapshot_day(name) -> str:
    """``ee_rounds_20260305T120000Z_abc.json`` -> ``2026-03-05``; other names as they are."""
    import re

    match = re.search(r"(\d{4})-?(\d{2})-?(\d{2})", str(name))
    return f"{match[1]}-{match[2]}-{match[3]}" if match else str(name)


#: Maintenance hints in findings (for whoever runs the pipeline, not for readers).
_HINT = re.compile(r"\s*[(;:]?\s*(add (a )?(row|pattern)[^.;)]*|run it with[^.;)]*)[).]?", re.I)


def quality_for_month(quality: pd.DataFrame, data: MonthData) -> pd.DataFrame:
    """Data-quality findings about rounds in the report's window (plus feed-level ones)."""
    window_rounds = data.draws.loc[data.draws["date"] >= data.window_start, "round"]
    keep = quality["round"].isin(window_rounds) | quality["round"].isna()
    found = quality.loc[keep]
    return pd.DataFrame(
        {
            "Round": found["round"].fillna("").astype("string"),
            "What": found["field"].map(_field_words),
            "As IRCC published it": found["value"].fillna("").astype("string"),
            "What we did": found["severity"].map(
                {"warning": "kept, value left empty", "repaired": "read with an assumption"}
            ),
            "Finding": found["message"].map(lambda m: _HINT.sub("", str(m)).strip()),
        }
    ).reset_index(drop=True)


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

    source = str(meta.get("source", ""))
    shown_source = (
        source
        if source.startswith(("https://", "http://"))
        else "a stored copy of IRCC's feed (the file named above)"
    )
    labels = family_labels()
    facts = {
        "Feed": "IRCC, Express Entry rounds of invitations (Open Government Licence - Canada)",
        "Snapshot file": str(meta.get("file", "unknown")).rsplit("/", 1)[-1],
        "Retrieved (UTC)": meta.get("retrieved_at", "unknown"),
        "Retrieved from": shown_source,
        "SHA-256 of the snapshot": meta.get("sha256", "unknown"),
        "Rounds in the snapshot": str(meta.get("rounds_clean", "unknown")),
        "Code": f"analysis {__version__}, tables made by cleaning code "
        f"{str(meta.get('code', 'unknown'))[:12]}",
        "Packages": ", ".join(f"{p} {version(p)}" for p in packages),
        "Settings": (
            f"categories: {', '.join(labels.get(c, c) for c in params.categories)}; "
            f"window: {params.window_months} months; nearby all-program rounds: within "
            f"{params.window_days} days; baselines: "
            + ", ".join(BASELINE_NAMES[b].format(days=params.window_days) for b in params.baselines)
        ),
    }
    return pd.DataFrame({"Item": list(facts), "Value": list(facts.values())})
