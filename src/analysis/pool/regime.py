"""The regime backtest: the pool model validated the way the reports use it after April 2024.

A 2024-26 baseline is estimated from a distribution published before one or more restricted
rounds took candidates out, plus the newcomers of the days in between. So each all-program
round of 2022-24 with a published distribution is estimated the same way here: from the
distribution one, two and three before its own (``lag``), with the rounds in between taken out
and newcomers added, and scored against its actual cutoff.

Forward-chained: for each round, the settings that only the regime exercises (the share of the
pool above a restricted round's cutoff that it could invite, and the share of the nominees'
arrivals added: :data:`GRID_ELIGIBLE_SHARES`, :data:`GRID_NOMINEE_INFLOWS`) are chosen on the
rounds and held-out bounds dated before it, and its range is the middle
:data:`RANGE_COVERAGE` of the errors of those earlier rounds (with the chosen setting). The
range is then checked: the share of actual cutoffs it covered.

- :func:`score_regime`: every setting's errors at every lag and held-out slack on every bound;
- :func:`regime_backtest`: the chained estimates (``pool_regime``) and their summary;
- :func:`regime_errors`: the errors a baseline's honest range is made of.

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
from analysis.pool.backtest import BacktestSummary, backtest, summarize_backtest
from analysis.pool.bounds import bounds_table
from analysis.pool.replay import DRAW_COLUMNS, between_ordered, chronological, fingerprint

#: Distributions this many before the round's own: the situations a post-2024 baseline is in.
REGIME_LAGS = (1, 2, 3)
#: What the regime backtest chooses from (on earlier rounds only).
GRID_ELIGIBLE_SHARES = (0.6, 1.0)
GRID_NOMINEE_INFLOWS = (0.25, 0.5)
GRID_INFLOW_RATES = (0.05, 0.015, 0.0)
#: The range of an estimate covers this middle share of the earlier errors.
RANGE_COVERAGE = 0.8
#: A round is estimated only when this many all-program rounds came before it.
REGIME_MIN_ROUNDS = 5

REGIME_COLUMNS = [
    "round",
    "date",
    "invitations",
    "actual_cutoff",
    "estimate",
    "low",
    "high",
    "error",
    "rounds_taken_out",
    "invitations_taken_out",
    "days",
    "lag",
    "eligible_share",
    "nominee_inflow",
    "inflow_rate",
    "rounds_before",
]
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
    "rounds_before": "int64",
}


def regime_grid(
    shares: Sequence[float] | None = None,
    inflows: Sequence[float] | None = None,
    rates: Sequence[float] | None = None,
) -> list[pool_density.Settings]:
    """The settings the regime backtest chooses from: the model's own with every eligible
    share, nominee inflow and newcomers' fall per point of the grid.

    >>> [(s.eligible_share, s.nominee_inflow) for s in regime_grid([0.6], [0.0, 0.5], [0.0])]
    [(0.6, 0.0), (0.6, 0.5)]
    """
    shares = GRID_ELIGIBLE_SHARES if shares is None else shares
    inflows = GRID_NOMINEE_INFLOWS if inflows is None else inflows
    rates = GRID_INFLOW_RATES if rates is None else rates
    base = pool_density.DEFAULT_SETTINGS
    return [
        replace(base, eligible_share=float(s), nominee_inflow=float(i), inflow_rate=float(r))
        for s in shares
        for i in inflows
        for r in rates
    ]


@dataclass(frozen=True)
class RegimeScores:
    """Per setting: the backtest rows of every lag (``tables``, one per setting, each with the
    rounds in the same order) and the held-out slack of every bound (``held_out``: bounds x
    settings), with the bounds' dates."""

    grid: tuple[pool_density.Settings, ...]
    tables: tuple[pd.DataFrame, ...] = field(repr=False)
    bound_dates: np.ndarray = field(repr=False)
    held_out: pd.DataFrame = field(repr=False)

    def best(self, rows: np.ndarray, bounds: np.ndarray) -> int:
        """The index of the setting with the lowest mean absolute error on ``rows`` plus mean
        shortfall below the ``bounds`` (ties to the first)."""
        loss = []
        for i, table in enumerate(self.tables):
            mae = float(table.loc[rows, "error"].abs().mean()) if rows.any() else 0.0
            short = (
                float((-self.held_out.loc[bounds, i]).clip(lower=0).mean()) if bounds.any() else 0.0
            )
            loss.append(mae + short)
        loss = np.asarray(loss)
        return int(np.flatnonzero(loss == loss.min())[0])


def _lagged(draws, pool, settings, lags) -> pd.DataFrame:
    tables = [backtest(draws, pool, settings=settings, lag=lag) for lag in lags]
    table = pd.concat(tables, ignore_index=True)
    return table.sort_values(["date", "lag"], kind="stable").reset_index(drop=True)


def score_regime(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    grid: Sequence[pool_density.Settings] | None = None,
    lags: Sequence[int] = REGIME_LAGS,
) -> RegimeScores:
    """Backtest every setting of ``grid`` (default :func:`regime_grid`) at every lag, and its
    held-out slack on every bound."""
    grid = tuple(regime_grid() if grid is None else grid)
    tables = tuple(_lagged(draws, pool, g, lags) for g in grid)
    held = [bounds_table(draws, pool, own_bound=False, settings=g) for g in grid]
    dates = held[0]["date"].to_numpy() if held else np.array([], dtype="datetime64[ns]")
    return RegimeScores(
        grid=grid,
        tables=tables,
        bound_dates=dates,
        held_out=pd.DataFrame({i: t["slack"].to_numpy() for i, t in enumerate(held)}),
    )


def error_range(errors: np.ndarray, coverage: float = RANGE_COVERAGE) -> tuple[int, int]:
    """The middle ``coverage`` of ``errors`` (estimated - actual), rounded outwards: an estimate
    ``e`` then gets the range ``e - high .. e - low``.

    >>> error_range(np.arange(-10, 11))
    (-8, 8)
    """
    tail = (1 - coverage) / 2 * 100
    low, high = np.percentile(np.asarray(errors, dtype="float64"), [tail, 100 - tail])
    return int(np.floor(low)), int(np.ceil(high))


@dataclass(frozen=True)
class RegimeBacktest:
    """The regime backtest: ``table`` (:data:`REGIME_COLUMNS`, one row per round and lag),
    ``summary`` over all of it, ``by_lag`` (one summary per lag), ``chosen`` (the setting all
    the data choose) and how many rounds had too little before them (``skipped``)."""

    table: pd.DataFrame
    summary: BacktestSummary
    by_lag: dict[int, BacktestSummary]
    chosen: pool_density.Settings
    min_history: int
    skipped: int


def regime_backtest(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    grid: Sequence[pool_density.Settings] | None = None,
    *,
    lags: Sequence[int] = REGIME_LAGS,
    min_history: int = REGIME_MIN_ROUNDS,
    coverage: float = RANGE_COVERAGE,
    scores: RegimeScores | None = None,
) -> RegimeBacktest:
    """Forward-chained regime backtest (see the module notes): each all-program round with a
    published distribution estimated from the distribution ``lags`` before its own, the setting
    chosen and the range measured on the rounds and bounds dated before it only. Rounds with
    fewer than ``min_history`` earlier all-program rounds are left out (``skipped``)."""
    scores = scores or score_regime(draws, pool, grid, lags)
    first = scores.tables[0] if scores.tables else pd.DataFrame(columns=["date", "round"])
    dates = first["date"].to_numpy()
    ordered = pool_replay_chronological(draws)
    records = []
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
        low_error, high_error = error_range(table.loc[earlier, "error"].to_numpy(), coverage)
        own = table.loc[i]
        estimate = int(own["estimated_cutoff"])
        taken = _taken_out(ordered, own["distribution_date"], own["round"])
        records.append(
            {
                "round": own["round"],
                "date": own["date"],
                "invitations": int(own["invitations"]),
                "actual_cutoff": int(own["actual_cutoff"]),
                "estimate": estimate,
                "low": estimate - high_error,
                "high": estimate - low_error,
                "error": int(own["error"]),
                "rounds_taken_out": int(own["rounds_between"]),
                "invitations_taken_out": taken,
                "days": int((own["date"] - own["distribution_date"]).days),
                "lag": int(own["lag"]),
                "eligible_share": scores.grid[chosen].eligible_share,
                "nominee_inflow": scores.grid[chosen].nominee_inflow,
                "inflow_rate": scores.grid[chosen].inflow_rate,
                "rounds_before": rounds_before,
            }
        )
    table = pd.DataFrame(records, columns=REGIME_COLUMNS).astype(_DTYPES)
    everything = np.ones(len(first), dtype=bool)
    all_bounds = np.ones(len(scores.bound_dates), dtype=bool)
    return RegimeBacktest(
        table=table,
        summary=summarize_regime(table, "replay, regime (previous distributions, forward-chained)"),
        by_lag={
            int(lag): summarize_regime(part, f"regime, {int(lag)} distribution(s) back")
            for lag, part in table.groupby("lag")
        },
        chosen=scores.grid[scores.best(everything, all_bounds)] if scores.grid else None,
        min_history=min_history,
        skipped=len(skipped),
    )


def summarize_regime(table: pd.DataFrame, label: str) -> BacktestSummary:
    """:func:`analysis.pool.backtest.summarize_backtest` of a regime table (its ``within_interval``
    is the share of actual cutoffs inside ``low``..``high``)."""
    return summarize_backtest(table, label=label)


def pool_replay_chronological(draws: pd.DataFrame) -> pd.DataFrame:

    return chronological(draws.loc[:, list(DRAW_COLUMNS)])


def _taken_out(ordered: pd.DataFrame, distribution_date, round_id) -> int:

    between = between_ordered(ordered, distribution_date, round_id)
    return int(between["invitations"].fillna(0).sum())


_RANGES: dict[tuple, tuple[int, int] | None] = {}


def regime_error_range(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    *,
    coverage: float = RANGE_COVERAGE,
    lags: Sequence[int] = REGIME_LAGS,
) -> tuple[int, int] | None:
    """The middle ``coverage`` of the regime errors (estimated - actual) at the model's own
    settings, over every all-program round of ``draws`` estimated from 1-3 distributions back:
    what the range of a baseline estimated across rounds and days is made of (None when fewer
    than :data:`REGIME_MIN_ROUNDS` all-program rounds can be scored). Remembered for the last
    few inputs (a month's report asks once per round).

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> regime_error_range(example_draws(), example_pool()) is None   # one all-program round
    True
    """

    key = (
        fingerprint(draws.loc[:, list(DRAW_COLUMNS)]),
        fingerprint(pool.loc[:, ["distribution_date", "score_low", "score_high", "candidates"]]),
        float(coverage),
        tuple(lags),
    )
    if key not in _RANGES:
        if len(_RANGES) >= 8:
            _RANGES.pop(next(iter(_RANGES)))
        table = _lagged(draws, pool, pool_density.DEFAULT_SETTINGS, lags)
        enough = table["round"].nunique() >= REGIME_MIN_ROUNDS
        _RANGES[key] = error_range(regime_errors(table), coverage) if enough else None
    return _RANGES[key]


def regime_errors(table: pd.DataFrame) -> np.ndarray:
    """The errors (estimated - actual) of a ``pool_regime`` table: what a post-2024 baseline's
    honest range is made of (:func:`error_range`)."""
    return table["error"].astype("float64").to_numpy()
