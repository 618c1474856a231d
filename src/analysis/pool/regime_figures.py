"""The regime backtest in figures and words (:mod:`analysis.pool.regime` makes it): its misses
by days from the distribution to the round (:func:`regime_by_days`) beside the days of the
reports' own pool baselines (:func:`baseline_days`), what the misses go with
(:func:`regime_residuals`), and its lines in what ``ee backtest`` prints (:func:`regime_lines`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import pandas as pd

from analysis.pool import density as pool_density
from analysis.pool.backtest import BacktestSummary, summarize_backtest
from analysis.pool.estimate import ErrorRange, distribution_for_round
from analysis.pool.regime import (
    BAND_MIN_ERRORS,
    DAY_BANDS,
    RegimeBacktest,
    band_label,
    band_of,
)
from analysis.vocabulary import signed_points


def regime_by_days(
    table: pd.DataFrame, bands: Sequence[int] = DAY_BANDS
) -> list[tuple[str, BacktestSummary]]:
    """The regime figures of ``table`` (a ``pool_regime`` table) per band of days between the
    distribution and the round: up to ``bands[0]`` days, each next band, and over the last; a
    band without estimates is left out. What the misses are in the situations of the reports'
    baselines (:func:`baseline_days`), which are never as far from their distribution.

    >>> t = pd.DataFrame({"round": ["1", "2", "3"], "error": [1, -2, 9], "days": [7, 20, 60],
    ...                   "low": [0, 0, 0], "high": [9, 9, 9]})
    >>> [(label, s.n, s.mae) for label, s in regime_by_days(t)]
    [('up to 14 days', 1, 1.0), ('15-30 days', 1, 2.0), ('over 30 days', 1, 9.0)]
    """
    found = band_of(table["days"].to_numpy(), bands)
    out = []
    for band in sorted(set(found.tolist())):
        label = band_label(band, bands)
        out.append((label, summarize_backtest(table.loc[found == band], label=f"regime, {label}")))
    return out


def baseline_days(draws: pd.DataFrame, pool: pd.DataFrame) -> pd.Series:
    """Days from its distribution to each restricted round below the nominees' scores (the
    rounds with a pool baseline) held after the last all-program round, indexed by round: the
    distribution IRCC attached to the round when it is in ``pool``, else the latest one dated
    on or before the round (:func:`analysis.pool.estimate.distribution_for_round`). Empty
    when no such round follows an all-program round.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> baseline_days(example_draws(), example_pool()).to_dict()   # after all-program 253
    {'254': 1, '255': 2, '256': 3}
    """
    published = pd.DatetimeIndex(pd.to_datetime(pool["distribution_date"]).unique()).sort_values()
    all_program = draws.loc[draws["is_all_program"].astype(bool), "date"]
    if all_program.empty or published.empty:
        return pd.Series([], dtype="int64", name="days")
    rounds = draws.loc[
        ~draws["is_all_program"].astype(bool)
        & (draws["date"] > all_program.max())
        & draws["cutoff"].lt(pool_density.NOMINEE_FLOOR).fillna(False)
    ]
    days = {}
    for round_id, date in zip(rounds["round"].astype(str), rounds["date"], strict=True):
        with contextlib.suppress(ValueError):  # no distribution on or before it: no baseline
            days[round_id] = (date - distribution_for_round(draws, pool, round_id)).days
    return pd.Series(days, dtype="int64", name="days").rename_axis("round")


#: What the regime misses are set against (:func:`regime_residuals`).
RESIDUAL_FACTORS = (
    "rounds_taken_out",
    "invitations_taken_out",
    "days",
    "lag",
    "invitations",
    "actual_cutoff",
    "date",
)


def regime_residuals(
    table: pd.DataFrame, factors: Sequence[str] = RESIDUAL_FACTORS
) -> pd.DataFrame:
    """What the misses of a ``pool_regime`` table go with: per factor, the rank (Spearman)
    correlation of the error and of its size with it, and the mean error and mean absolute
    error of the estimates at or below the factor's median and above it.

    >>> t = pd.DataFrame({"error": [-1, -2, -8, -9], "days": [7, 14, 40, 60]})
    >>> regime_residuals(t, ["days"]).round(2).to_dict("records")[0]["rho_size"]
    1.0
    """
    errors = table["error"].astype("float64")
    rows = []
    for factor in factors:
        values = table[factor]
        if pd.api.types.is_datetime64_any_dtype(values):
            values = values.map(pd.Timestamp.toordinal)
        values = values.astype("float64")
        high = values > values.median()
        rows.append(
            {
                "factor": factor,
                "rho_error": errors.corr(values, method="spearman"),
                "rho_size": errors.abs().corr(values, method="spearman"),
                "bias_low_half": errors[~high].mean(),
                "bias_high_half": errors[high].mean(),
                "mae_low_half": errors[~high].abs().mean(),
                "mae_high_half": errors[high].abs().mean(),
            }
        )
    return pd.DataFrame(rows)


def span(first, last) -> str:
    return f"{pd.Timestamp(first):%Y-%m} to {pd.Timestamp(last):%Y-%m}"


def regime_lines(
    regime: RegimeBacktest | None,
    days: pd.Series | None = None,
    error_range: ErrorRange | None = None,
) -> list[str]:
    """The regime backtest in words (empty without one): n, MAE, bias and what its ranges
    covered, over all lags, per lag and per band of days from the distribution to the round,
    beside the days of the reports' pool baselines (``days``, :func:`baseline_days`) and the
    range a baseline at their median days gets (``error_range``,
    :func:`analysis.pool.regime.regime_error_range`)."""
    if regime is None or regime.summary.n == 0:
        return []
    per_days = "; ".join(
        f"{label}: n = {v.n}, MAE {v.mae:.2f}, bias {v.bias:+.2f}, range covered "
        f"{v.within_interval:.0%}"
        for label, v in regime_by_days(regime.table)
    )
    reports = (
        f" The reports' pool baselines since all-program rounds stopped ({len(days)} rounds) are "
        f"{int(days.min())}-{int(days.max())} days from their distribution (median "
        f"{days.median():g})."
        if days is not None and len(days)
        else ""
    )
    if error_range is not None and days is not None and len(days):
        near = error_range.for_days(days.median())
        reports += (
            f" A baseline {days.median():g} days from its distribution gets "
            f"{signed_points(near.correction)} points and a range allowing misses of "
            f"{signed_points(near[0])} to "
            f"{signed_points(near[1])} points (at the model's own settings, which the reports "
            f"use: the middle {near.level:.0%} of the corrected misses of its band; all bands "
            f"pooled: {signed_points(error_range[0])} to "
            f"{signed_points(error_range[1])})."
        )
    s, t = regime.summary, regime.table
    per_lag = "; ".join(
        f"{lag} back: n = {v.n}, MAE {v.mae:.2f}, bias {v.bias:+.2f}, range covered "
        f"{v.within_interval:.0%}"
        for lag, v in regime.by_lag.items()
    )
    chosen = regime.chosen
    raw = (t["raw_estimate"] - t["actual_cutoff"]).astype("float64")
    corrections = t["correction"]
    return [
        f"Regime (how 2024-26 baselines are made: from an earlier distribution, the rounds in "
        f"between taken out, newcomers added, the median miss of the earlier estimates "
        f"corrected): MAE {s.mae:.2f}, bias {s.bias:+.2f} over n = "
        f"{s.n} estimates of {t['round'].nunique()} all-program rounds "
        f"({span(t['date'].min(), t['date'].max())}), from 1 to {int(t['lag'].max())} "
        f"distributions back ({int(t['days'].min())}-{int(t['days'].max())} days, up to "
        f"{int(t['invitations_taken_out'].max()):,} invitations taken out first); every setting, "
        f"correction and {RANGE_WORDS} range chosen on earlier rounds only; the ranges covered "
        f"{s.within_interval:.0%} of the actual cutoffs. {per_lag}. Before the correction "
        f"(from {int(corrections.min()):+d} to {int(corrections.max()):+d} points): MAE "
        f"{raw.abs().mean():.2f}, bias {raw.mean():+.2f}. All the data choose an "
        f"eligible share of {chosen.eligible_share:g}, {chosen.nominee_inflow:g} of the "
        f"nominees' arrivals, newcomers falling by {chosen.inflow_rate:g} per point and arriving "
        f"at their rate of the last {chosen.inflow_window} days, a correction of "
        f"{regime.correction:+d} points, and, in this backtest, ranges spanning the middle "
        + ", ".join(
            f"{level:.0%} ({band_label(band)})" for band, level in regime.band_levels.items()
        )
        + " of the corrected misses of estimates as many days from their distribution (all of "
        f"them while a band has fewer than {BAND_MIN_ERRORS} earlier ones).",
        f"Regime by days from the distribution to the round: {per_days}.{reports}",
    ]


#: The range of a regime estimate, in words.
RANGE_WORDS = "80%"
