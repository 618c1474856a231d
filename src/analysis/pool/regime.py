"""The regime backtest: the pool model validated the way the reports use it after April 2024.

A 2024-26 baseline is estimated from a distribution published before one or more restricted
rounds took candidates out, plus the newcomers of the days in between. So each all-program
round of 2022-24 with a published distribution is estimated the same way here: from the
distribution one, two and three before its own (``lag``), with the rounds in between taken out
and newcomers added, and scored against its actual cutoff.

Forward-chained: for each round, on the rounds and held-out bounds dated before it only, the
settings that only the regime exercises are chosen (the share of the pool above a restricted
round's cutoff that it could invite, the share of the nominees' arrivals added, the newcomers'
fall per point and the window their rate is measured over: :func:`regime_grid`), a correction
is learned (minus the median of the earlier errors, :func:`correction_for`) and added to the
estimate, and its range spans the middle share of the earlier corrected errors of its band of
days from the distribution (:data:`DAY_BANDS`) that earlier ranges of that band needed to cover
:data:`RANGE_COVERAGE` (:func:`band_level`). The range is then
checked: the share of actual cutoffs it covered.

- :func:`regime_backtest`: the chained estimates (``pool_regime``) and their summary;
- :func:`model_regime`, :func:`regime_error_range`: the same at the model's settings, and the
  correction and range every baseline made across rounds and days gets (what the errors go
  with, their figures by days and their words: :mod:`analysis.pool.regime_figures`).

>>> from analysis.pool.examples import example_draws, example_pool
>>> result = regime_backtest(example_draws(), example_pool(), min_history=0)
>>> result.summary.n, list(result.table.columns[:5])
(0, ['round', 'date', 'invitations', 'actual_cutoff', 'estimate'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analysis.pool import density as pool_density
from analysis.pool.backtest import BacktestSummary, lagged_backtest, summarize_backtest
from analysis.pool.estimate import ErrorRange
from analysis.pool.forward import SettingScores, correction_for, score_settings
from analysis.pool.replay import (
    DRAW_COLUMNS,
    between_ordered,
    chronological,
    remembered,
    tables_key,
)

#: Distributions this many before the round's own: the situations a post-2024 baseline is in.
REGIME_LAGS = (1, 2, 3)
#: What the regime backtest chooses from (on earlier rounds only).
GRID_ELIGIBLE_SHARES = (0.6,)
GRID_NOMINEE_INFLOWS = (0.25, 0.5)
GRID_INFLOW_RATES = (0.05, 0.015, 0.0)
GRID_INFLOW_WINDOWS = (14, 56)
#: The range of an estimate is meant to cover this share of actual cutoffs.
RANGE_COVERAGE = 0.8
#: The middle shares of the earlier errors a range can span: the narrowest whose ranges covered
#: at least RANGE_COVERAGE of the earlier rounds is used (see :func:`regime_backtest`).
RANGE_LEVELS = (0.8, 0.85, 0.9, 0.95)
#: Before this many earlier estimates have a range of their own, a range spans the middle
#: RANGE_COVERAGE of the earlier errors.
RANGE_CALIBRATION_MIN = 10
#: A round is estimated only when this many all-program rounds came before it.
REGIME_MIN_ROUNDS = 5
#: The days from the distribution to the round that the regime's figures and ranges are split
#: by (:func:`analysis.pool.regime_figures.regime_by_days`, :func:`band_of`): two weeks (the
#: all-program rounds' rhythm) and a month.
DAY_BANDS = (14, 30)
#: A band of days from the distribution to the round (:data:`DAY_BANDS`) gets a range made of
#: its own errors once this many earlier estimates fell in it; before that, its range is made of
#: all the earlier errors (pooled). Twenty: the fewest errors of which the middle share at the
#: widest level (95%) leaves one out; with fewer, that range is the band's two most extreme
#: misses or between them, not a share of its misses.
BAND_MIN_ERRORS = round(1 / (1 - max(RANGE_LEVELS)))

#: Columns of ``pool_regime`` and their types.
_DTYPES = {
    "round": "string",
    "date": "datetime64[ns]",
    "invitations": "int64",
    "actual_cutoff": "int64",
    "estimate": "int64",
    "low": "Int64",
    "high": "Int64",
    "error": "int64",
    "rounds_taken_out": "int64",
    "invitations_taken_out": "int64",
    "days": "int64",
    "lag": "int64",
    "eligible_share": "float64",
    "nominee_inflow": "float64",
    "inflow_rate": "float64",
    "inflow_window": "int64",
    "rounds_before": "int64",
    "raw_estimate": "int64",
    "correction": "int64",
    "range_level": "float64",
}
REGIME_COLUMNS = list(_DTYPES)


def regime_grid(
    shares: Sequence[float] = GRID_ELIGIBLE_SHARES,
    inflows: Sequence[float] = GRID_NOMINEE_INFLOWS,
    rates: Sequence[float] = GRID_INFLOW_RATES,
    windows: Sequence[int] = GRID_INFLOW_WINDOWS,
) -> list[pool_density.Settings]:
    """The settings the regime backtest chooses from: the model's own with every eligible
    share, nominee inflow, newcomers' fall per point and window of their rate of the grid.

    >>> grid = regime_grid([0.6], [0.0, 0.5], [0.0], [14])
    >>> [(s.eligible_share, s.nominee_inflow, s.inflow_window) for s in grid]
    [(0.6, 0.0, 14), (0.6, 0.5, 14)]
    """
    base = pool_density.DEFAULT_SETTINGS
    return [
        replace(
            base,
            eligible_share=float(s),
            nominee_inflow=float(i),
            inflow_rate=float(r),
            inflow_window=int(w),
        )
        for s in shares
        for i in inflows
        for r in rates
        for w in windows
    ]


def error_range(errors: np.ndarray, coverage: float = RANGE_COVERAGE) -> tuple[int, int]:
    """The middle ``coverage`` of ``errors`` (estimated - actual), rounded outwards: an estimate
    ``e`` then gets the range ``e - high .. e - low``.

    >>> error_range(np.arange(-10, 11))
    (-8, 8)
    """
    tail = (1 - coverage) / 2 * 100
    low, high = np.percentile(np.asarray(errors, dtype="float64"), [tail, 100 - tail])
    return int(np.floor(low)), int(np.ceil(high))


def calibrated_level(covered: pd.DataFrame, coverage: float = RANGE_COVERAGE) -> float:
    """The narrowest of :data:`RANGE_LEVELS` (the columns of ``covered``: one row per earlier
    estimate, whether the range made at that level from the estimates before it held the
    actual cutoff) whose ranges covered at least ``coverage``; the widest when none did, and
    ``coverage`` itself with fewer than :data:`RANGE_CALIBRATION_MIN` earlier ranges.

    >>> covered = pd.DataFrame({0.8: [True] * 6 + [False] * 4, 0.9: [True] * 9 + [False]})
    >>> calibrated_level(covered), calibrated_level(covered.head(5))
    (0.9, 0.8)
    """
    if len(covered) < RANGE_CALIBRATION_MIN:
        return float(coverage)
    shares = covered.mean()
    enough = [float(level) for level in covered.columns if shares[level] >= coverage]
    return enough[0] if enough else float(covered.columns[-1])


@dataclass(frozen=True)
class RegimeBacktest:
    """The regime backtest: ``table`` (:data:`REGIME_COLUMNS`, one row per round and lag),
    ``summary`` over all of it, ``by_lag`` (one summary per lag), ``chosen`` (the setting all
    the data choose), how many rounds had too little before them (``skipped``), and what all
    the data give a later estimate: its ``correction`` (points added) and ``range_level`` (the
    middle share of the corrected errors its range spans)."""

    table: pd.DataFrame
    summary: BacktestSummary
    by_lag: dict[int, BacktestSummary]
    chosen: pool_density.Settings
    min_history: int
    skipped: int
    correction: int = 0
    range_level: float = RANGE_COVERAGE
    band_levels: dict[int, float] = field(default_factory=dict)


def band_of(days, bands: Sequence[int] = DAY_BANDS) -> np.ndarray | int:
    """The band of :data:`DAY_BANDS` that ``days`` (from the distribution to the round) fall
    in: 0 up to ``bands[0]`` days, 1 up to ``bands[1]``, ... ``len(bands)`` over the last.

    >>> band_of(2), band_of(14), band_of(15), band_of(31), band_of(np.array([0, 30])).tolist()
    (0, 0, 1, 2, [0, 1])
    """
    found = np.searchsorted(np.asarray(bands), days, side="left")
    return int(found) if np.ndim(found) == 0 else found


def band_label(band: int, bands: Sequence[int] = DAY_BANDS) -> str:
    """The words for ``band`` (:func:`band_of`).

    >>> [band_label(b) for b in range(3)]
    ['up to 14 days', '15-30 days', 'over 30 days']
    """
    if band == 0:
        return f"up to {int(bands[0])} days"
    if band >= len(bands):
        return f"over {int(bands[-1])} days"
    return f"{int(bands[band - 1]) + 1}-{int(bands[band])} days"


def band_errors(errors: np.ndarray, bands_of: np.ndarray, band: int) -> np.ndarray:
    """The errors a range for ``band`` is made of: those of the same band (``bands_of``, one
    per error) when there are at least :data:`BAND_MIN_ERRORS`, else all of them (pooled).

    >>> errors, bands = np.arange(25.0), np.array([0] * 20 + [1] * 5)
    >>> len(band_errors(errors, bands, 0)), len(band_errors(errors, bands, 1))
    (20, 25)
    """
    same = np.asarray(bands_of) == band
    return errors[same] if same.sum() >= BAND_MIN_ERRORS else errors


def band_level(history: pd.DataFrame, band: int, coverage: float = RANGE_COVERAGE) -> float:
    """:func:`calibrated_level` on the earlier ranges of ``band`` (``history``: one row per
    earlier estimate, a ``band`` column and one covered column per level), or on all of them
    (pooled) while the band has fewer than :data:`RANGE_CALIBRATION_MIN`."""
    levels = [c for c in history.columns if c != "band"]
    same = history.loc[history["band"] == band, levels]
    if len(same) < RANGE_CALIBRATION_MIN:
        same = history.loc[:, levels]
    return calibrated_level(same, coverage)


def regime_backtest(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    grid: Sequence[pool_density.Settings] | None = None,
    *,
    lags: Sequence[int] = REGIME_LAGS,
    min_history: int = REGIME_MIN_ROUNDS,
    coverage: float = RANGE_COVERAGE,
    scores: SettingScores | None = None,
) -> RegimeBacktest:
    """Forward-chained regime backtest (see the module notes): each all-program round with a
    published distribution estimated from the distribution ``lags`` before its own, and for
    each, on the rounds and bounds dated before it only:

    - the setting (lowest mean absolute error once corrected, plus shortfall below the held-out
      bounds: :meth:`analysis.pool.forward.SettingScores.best`);
    - the correction: minus the median error of the earlier estimates with that setting
      (:func:`correction_for`), added to the model's estimate (``raw_estimate``);
    - the range: the middle ``range_level`` of the earlier errors once corrected of the same
      band of days from the distribution to the round (:data:`DAY_BANDS`, :func:`band_errors`:
      the misses grow with the days, and the reports' baselines are days from theirs, not
      weeks; all the earlier errors while the band has fewer than :data:`BAND_MIN_ERRORS`),
      where the level is the narrowest of :data:`RANGE_LEVELS` whose ranges covered at least
      ``coverage`` of the earlier estimates of that band (:func:`band_level`; the misses grew
      through 2023-24, so the middle 80% of earlier misses covers less than 80% of later ones).

    Rounds with fewer than ``min_history`` earlier all-program rounds are left out
    (``skipped``)."""
    if scores is None:
        grid = regime_grid() if grid is None else grid
        scores = score_settings(draws, pool, grid, lags, corrected=True)
    first = scores.tables[0] if scores.tables else pd.DataFrame(columns=["date", "round"])
    dates = first["date"].to_numpy()
    bands = (
        band_of((first["date"] - first["distribution_date"]).dt.days.to_numpy())
        if len(first)
        else np.array([], dtype="int64")
    )
    ordered = chronological(draws.loc[:, list(DRAW_COLUMNS)])
    records, covered, covered_dates = [], [], []
    skipped = set()
    for i, row in first.iterrows():
        earlier = dates < dates[i]
        rounds_before = len(set(first.loc[earlier, "round"]))
        if rounds_before < max(min_history, 1):
            skipped.add(row["round"])
            continue
        bounds = scores.bound_dates < dates[i]
        chosen = scores.best(earlier, bounds)
        table = scores.tables[chosen]
        earlier_errors = table.loc[earlier, "error"].to_numpy(dtype="float64")
        correction = correction_for(earlier_errors)
        own = table.loc[i]
        raw = int(own["estimated_cutoff"])
        estimate = raw + correction
        error = int(own["error"]) + correction
        band = int(bands[i])
        made_of = band_errors(earlier_errors + correction, bands[earlier], band)
        ranges = {level: error_range(made_of, level) for level in RANGE_LEVELS}
        before = np.asarray(covered_dates, dtype="datetime64[ns]") < dates[i]
        history = pd.DataFrame(covered, columns=["band", *RANGE_LEVELS]).loc[before]
        level = band_level(history, band, coverage)
        low_error, high_error = ranges[level] if level in ranges else error_range(made_of, level)
        covered.append({"band": band, **{lv: lo <= error <= hi for lv, (lo, hi) in ranges.items()}})
        covered_dates.append(dates[i])
        between = between_ordered(ordered, own["distribution_date"], own["round"])
        setting = scores.grid[chosen]
        records.append(
            {
                "round": own["round"],
                "date": own["date"],
                "invitations": int(own["invitations"]),
                "actual_cutoff": int(own["actual_cutoff"]),
                "estimate": estimate,
                "low": estimate - high_error,
                "high": estimate - low_error,
                "error": error,
                "rounds_taken_out": int(own["rounds_between"]),
                "invitations_taken_out": int(between["invitations"].fillna(0).sum()),
                "days": int((own["date"] - own["distribution_date"]).days),
                "lag": int(own["lag"]),
                "eligible_share": setting.eligible_share,
                "nominee_inflow": setting.nominee_inflow,
                "inflow_rate": setting.inflow_rate,
                "inflow_window": setting.inflow_window,
                "rounds_before": rounds_before,
                "raw_estimate": raw,
                "correction": correction,
                "range_level": level,
            }
        )
    table = pd.DataFrame(records, columns=REGIME_COLUMNS).astype(_DTYPES)
    everything = np.ones(len(first), dtype=bool)
    all_bounds = np.ones(len(scores.bound_dates), dtype=bool)
    best = scores.best(everything, all_bounds) if scores.grid else None
    all_errors = (
        scores.tables[best]["error"].to_numpy(dtype="float64") if best is not None else np.array([])
    )
    return RegimeBacktest(
        table=table,
        summary=summarize_backtest(
            table, label="replay, regime (previous distributions, forward-chained)"
        ),
        by_lag={
            int(lag): summarize_backtest(part, label=f"regime, {int(lag)} distribution(s) back")
            for lag, part in table.groupby("lag")
        },
        chosen=scores.grid[best] if best is not None else None,
        min_history=min_history,
        skipped=len(skipped),
        correction=correction_for(all_errors),
        range_level=calibrated_level(pd.DataFrame(covered, columns=list(RANGE_LEVELS)), coverage),
        band_levels={
            band: band_level(pd.DataFrame(covered, columns=["band", *RANGE_LEVELS]), band, coverage)
            for band in range(len(DAY_BANDS) + 1)
        },
    )


_RANGES: dict[tuple, ErrorRange | None] = {}


def _single(table: pd.DataFrame) -> SettingScores:
    """Scores of one setting, the model's own, without bounds: nothing to choose."""
    return SettingScores(
        grid=(pool_density.DEFAULT_SETTINGS,),
        tables=(table,),
        bound_dates=np.array([], dtype="datetime64[ns]"),
        held_out=pd.DataFrame({0: pd.Series([], dtype="float64")}),
        corrected=True,
    )


def model_regime(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    *,
    coverage: float = RANGE_COVERAGE,
    lags: Sequence[int] = REGIME_LAGS,
) -> RegimeBacktest:
    """The regime backtest at the model's own settings (nothing chosen; the correction and the
    range forward-chained as in :func:`regime_backtest`): how the baselines the reports show
    are made, scored."""
    table = lagged_backtest(draws, pool, pool_density.DEFAULT_SETTINGS, lags)
    return regime_backtest(draws, pool, scores=_single(table), coverage=coverage, lags=lags)


def regime_error_range(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    *,
    coverage: float = RANGE_COVERAGE,
    lags: Sequence[int] = REGIME_LAGS,
) -> ErrorRange | None:
    """What a baseline estimated across rounds and days gets from the regime backtest at the
    model's settings, over every all-program round of ``draws`` estimated from 1-3
    distributions back: its ``correction`` (minus the median error, :func:`correction_for`)
    and, per band of days from the distribution to the round (``by_days``, read by
    :meth:`analysis.pool.estimate.ErrorRange.for_days`: what the reports' baselines get), the
    middle share of the corrected errors of that band (:func:`band_errors`: all of them while
    the band has fewer than :data:`BAND_MIN_ERRORS`) at the level the forward-chained ranges of
    that band needed to cover ``coverage`` (:func:`band_level`); as ``(low, high)`` the same
    over all the errors (an estimate whose days are not known). None when
    fewer than :data:`REGIME_MIN_ROUNDS` all-program rounds can be scored. Remembered for the
    last few inputs (a month's report asks once per round).

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> regime_error_range(example_draws(), example_pool()) is None   # one all-program round
    True
    """

    def measure() -> ErrorRange | None:
        table = lagged_backtest(draws, pool, pool_density.DEFAULT_SETTINGS, lags)
        if table["round"].nunique() < REGIME_MIN_ROUNDS:
            return None
        model = regime_backtest(draws, pool, scores=_single(table), coverage=coverage)
        errors = table["error"].to_numpy(dtype="float64") + model.correction
        bands = band_of((table["date"] - table["distribution_date"]).dt.days.to_numpy())
        by_days = []
        for band in range(len(DAY_BANDS) + 1):
            level = model.band_levels.get(band, model.range_level)
            low, high = error_range(band_errors(errors, bands, band), level)
            upper = DAY_BANDS[band] if band < len(DAY_BANDS) else float("inf")
            by_days.append((upper, low, high, level))
        return ErrorRange(
            *error_range(errors, model.range_level),
            correction=model.correction,
            level=model.range_level,
            by_days=tuple(by_days),
        )

    key = (*tables_key(draws, pool), float(coverage), tuple(lags))
    return remembered(_RANGES, key, measure)
