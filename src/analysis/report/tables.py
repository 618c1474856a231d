"""The report's tables, each a DataFrame with reader-facing column names: the month's rounds,
the category rounds against each baseline, statistics (each category's verdict), forecasts
(with the naive forecast's error beside the model's), cadence and tie-break lag. Revisions,
data-quality findings and data notes are in :mod:`analysis.report.provenance`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import baselines as baseline_helpers
from analysis import forecast as forecasting
from analysis import trends
from analysis.data import removal_notes
from analysis.report.month_report import BASELINE_NAMES, MonthData, rounds_counted
from analysis.stats import family_rounds
from analysis.stats.regression import cutoff_regression
from analysis.stats.verdict import MIN_ROUNDS, overlap_end
from analysis.taxonomy import (
    ALL_PROGRAM,
    CATEGORY_START,
    reader_labels,
    short_label,
)
from analysis.vocabulary import month_label, shown_gap, signed_points, whole_points


def round_anchor(round_id) -> str:
    """The ``id`` of a round's row on a page: ``round-254`` (linkable as ``#round-254``).

    >>> round_anchor("91a")
    'round-91a'
    """
    return f"round-{str(round_id).strip().lower()}"


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


def statistics(data: MonthData) -> tuple[pd.DataFrame, list[str]]:
    """Is each category's difference real? One row per category from its verdict
    (:func:`analysis.stats.verdict.category_verdict`, in ``data.verdicts``): what it is compared
    with, over how many rounds and what they are worth once autocorrelation is allowed for, the
    mean gap with its 95% interval, and the verdict in words; then the sentences to read with
    it."""
    rows, notes = [], []
    for family in data.params.categories:
        v = data.verdicts.get(family)
        if v is None:
            continue
        few = v.estimate is None or v.low is None
        against = (
            f"all-program rounds, {month_label(v.since)} to {month_label(v.until)}"
            if v.kind == ALL_PROGRAM and v.until is not None
            else "all-program rounds"
            if v.kind == ALL_PROGRAM
            else "the pool estimate, round by round"
        )
        label = data.label(family)
        rounds = (
            f"{v.n} {label}, {v.n_reference} all-program"
            if v.kind == ALL_PROGRAM
            else f"{v.n} since {month_label(v.since)}"
            if v.since is not None
            else str(v.n)
        )
        worth = "–"
        if not few and v.n_effective is not None:
            worth = f"{whole_points(v.n_effective)}" + (
                f" and {whole_points(v.n_reference_effective)}" if v.kind == ALL_PROGRAM else ""
            )
        interval = "–"
        if not few and v.kind == ALL_PROGRAM:
            interval = f"{v.level:.0%}: {signed_points(v.low)} to {signed_points(v.high)}"
        elif not few:
            interval = f"likely {signed_points(v.low)} to {signed_points(v.high)}"
        verdict = v.words
        if v.label == "too few rounds":
            verdict = f"{v.words}: {rounds_counted(v)}"
        rows.append(
            {
                "Category": label,
                "Compared with": against,
                "Rounds": rounds,
                "Worth about (independent rounds)": worth,
                "Mean gap (points)": "–" if few else signed_points(v.estimate),
                "Interval": interval,
                "Verdict": verdict,
            }
        )
        notes.append(v.sentence)
        if v.rank_p is not None and v.rank_smallest_p is not None:
            notes.append(
                f"{data.label(family)}: a check that uses only the order of the cutoffs "
                "(Mann-Whitney) puts the chance of an ordering this lopsided, if there were no "
                f"difference, at {_p_words(v.rank_p)}; with {v.n} and {v.n_reference} rounds it "
                f"cannot go below {_p_words(v.rank_smallest_p)}, however different the groups."
            )
    notes += [
        "A gap is the category's cutoff minus the baseline's: negative means category rounds "
        "reached lower scores.",
        "While all-program rounds were held (until April 2024) a category is compared with them "
        "over the months both kinds of round happened; after that, each category round is "
        "paired with the pool estimate for an all-program round of the same size, and the "
        "mean of those gaps is the figure. No trend is drawn beyond the rounds observed.",
        "Consecutive rounds are related (a low cutoff tends to follow a low one), so the "
        "interval allows for that: it uses the widest of the plain, the Newey-West and the "
        "first-order autocorrelation standard errors, and 'worth about' says how many "
        "independent rounds the series is worth. In simulations of series like these, such 95% "
        "intervals held the true mean about 9 times in 10.",
        f"With fewer than {MIN_ROUNDS} rounds no interval is given: too few rounds to compare, "
        "unless the order of the cutoffs alone can tell (every category round below every "
        "all-program round: an exact order-only test).",
        "'Clearly below' means the whole interval is below zero; 'consistent with no "
        "difference' means it includes zero. Against the pool estimate no such verdict is "
        "given: a restricted round's cutoff is at most the estimate by construction, so only "
        "the size of the gap, its likely range and its change per year can be told. That range "
        "adds to the mean's 95% interval the estimate's own error (the middle 80% of its misses "
        "when all-program rounds of 2022-24 were estimated the same way, from an earlier "
        "distribution, across rounds and days).",
    ]
    return pd.DataFrame(rows), notes


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
    """Cutoff on family with a time trend and HAC errors, fitted only while both kinds of round
    were held (June 2023 to the last all-program round, as of the month) and only on families
    with at least :data:`analysis.stats.verdict.MIN_ROUNDS` rounds there: never extended past
    the data. The report itself shows the verdicts (:func:`statistics`); this is for analysts."""

    result = cutoff_regression(
        data.draws,
        families=data.params.categories,
        since=CATEGORY_START,
        until=overlap_end(data.draws, data.end),
        min_rounds=MIN_ROUNDS,
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
