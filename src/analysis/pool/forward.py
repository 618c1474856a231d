"""The forward-chained backtest of the pool model, the honest accuracy figure: for each
all-program round, every setting (tail rate, tail start, days without newcomers) is chosen on
the all-program rounds and restricted rounds' bounds dated before it only, then the round is
estimated with it.

- :func:`settings_grid`: the settings to choose from;
- :func:`score_settings`: every setting's error on every all-program round (at any lag) and
  held-out slack on every bound (:class:`SettingScores`, which picks the best setting on any
  earlier subset; the regime backtest's choice too);
- :func:`forward_backtest`: the chained estimates and their summary (``pool_forward``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.pool import density as pool_density
from analysis.pool.backtest import (
    BACKTEST_COLUMNS,
    BacktestSummary,
    lagged_backtest,
    summarize_backtest,
)
from analysis.pool.bounds import bounds_table

#: What the forward-chained backtest chooses from: every combination of these tail rates, tail
#: starts and days without newcomers (:class:`analysis.pool.Settings`).
GRID_TAIL_RATES = tuple(float(r) for r in np.round(np.arange(0.035, 0.0651, 0.005), 3))
GRID_TAIL_STARTS = (451, 501)
GRID_SAME_POOL_DAYS = (0, 1)
#: A round is estimated forward-chained only when this many all-program rounds came before it
#: (earlier ones have nothing to choose settings on and are left out, not given a default).
FORWARD_MIN_ROUNDS = 5


def settings_grid(
    rates: Sequence[float] = GRID_TAIL_RATES,
    starts: Sequence[int] = GRID_TAIL_STARTS,
    same_pool_days: Sequence[int] = GRID_SAME_POOL_DAYS,
) -> list[pool_density.Settings]:
    """Every combination of the settings to choose from (defaults: :data:`GRID_TAIL_RATES`,
    :data:`GRID_TAIL_STARTS`, :data:`GRID_SAME_POOL_DAYS`).

    >>> grid = settings_grid([0.05], [451], [1])
    >>> len(settings_grid()), (grid[0].tail_rate, grid[0].tail_start, grid[0].same_pool_days)
    (28, (0.05, 451, 1))
    """
    return [
        pool_density.Settings(float(r), int(t), int(d))
        for r in rates
        for t in starts
        for d in same_pool_days
    ]


def correction_for(errors: np.ndarray) -> int:
    """The correction learned from earlier errors (estimated - actual): minus their median,
    rounded half up to whole points; 0 without errors. What every estimate made across rounds
    and days gets added (:func:`analysis.pool.regime.regime_backtest`,
    :func:`analysis.pool.regime.regime_error_range`).

    >>> correction_for(np.array([-5, -3, -3, 4])), correction_for(np.array([]))
    (3, 0)
    """
    errors = np.asarray(errors, dtype="float64")
    if not errors.size:
        return 0
    return -int(np.floor(np.median(errors) + 0.5))


@dataclass(frozen=True)
class SettingScores:
    """Per setting of a grid: its backtest rows (``tables``, one per setting, each with the
    rounds in the same order) and the held-out slack of every bound (``held_out``: bounds x
    settings, each bound estimated without its own cutoff), with the bounds' dates. A round's
    figure uses only rounds before it, so any subset of earlier rounds can choose a setting.
    ``corrected``: a setting is judged on its errors once corrected (:func:`correction_for`),
    as the regime backtest corrects every estimate chosen with it."""

    grid: tuple[pool_density.Settings, ...]
    tables: tuple[pd.DataFrame, ...] = field(repr=False)
    bound_dates: np.ndarray = field(repr=False)
    held_out: pd.DataFrame = field(repr=False)
    corrected: bool = False

    def best(self, rows: np.ndarray, bounds: np.ndarray) -> int:
        """The index of the setting with the lowest mean absolute error on ``rows`` (once
        corrected when ``corrected``: so the choice is on the spread the correction leaves, not
        on a bias it removes) plus the mean shortfall below the ``bounds`` (each CRS point below
        a cutoff that the estimate must reach counts like a point of error); ties go to the
        first in the grid."""
        loss = []
        for i, table in enumerate(self.tables):
            errors = table.loc[rows, "error"].to_numpy(dtype="float64")
            if self.corrected:
                errors = errors + correction_for(errors)
            mae = float(np.abs(errors).mean()) if rows.any() else 0.0
            short = (
                float((-self.held_out.loc[bounds, i]).clip(lower=0).mean()) if bounds.any() else 0.0
            )
            loss.append(mae + short)
        loss = np.asarray(loss)
        return int(np.flatnonzero(loss == loss.min())[0])


def score_settings(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    grid: Sequence[pool_density.Settings] | None = None,
    lags: Sequence[int] = (0,),
    *,
    corrected: bool = False,
) -> SettingScores:
    """Backtest every setting of ``grid`` (default :func:`settings_grid`) at every lag
    (:func:`analysis.pool.backtest.lagged_backtest`) and check each against the held-out
    bounds.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> scores = score_settings(example_draws(), example_pool(),
    ...                         settings_grid([0.05], [451], [1]))
    >>> len(scores.tables[0]), scores.held_out.shape
    (1, (4, 1))
    """
    grid = tuple(settings_grid() if grid is None else grid)
    tables = tuple(lagged_backtest(draws, pool, g, lags) for g in grid)
    held = [bounds_table(draws, pool, own_bound=False, settings=g) for g in grid]
    return SettingScores(
        grid=grid,
        tables=tables,
        bound_dates=held[0]["date"].to_numpy() if held else np.array([], dtype="datetime64[ns]"),
        held_out=pd.DataFrame({i: t["slack"].to_numpy() for i, t in enumerate(held)}),
        corrected=corrected,
    )


@dataclass(frozen=True)
class ForwardBacktest:
    """The forward-chained backtest: each all-program round estimated with the setting that
    did best (:meth:`SettingScores.best`) on the all-program rounds and bounds dated before it.
    ``table``: one row per round (its chosen setting, the number of earlier rounds and bounds
    it was chosen on, the error); ``summary``; ``chosen``: the setting all the data choose (the
    in-sample choice, for comparison with the module's)."""

    table: pd.DataFrame
    summary: BacktestSummary
    chosen: pool_density.Settings
    min_history: int
    skipped: int


def forward_backtest(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    grid: Sequence[pool_density.Settings] | None = None,
    *,
    min_history: int = FORWARD_MIN_ROUNDS,
    scores: SettingScores | None = None,
) -> ForwardBacktest:
    """Forward-chained backtest of the pool model on every all-program round with a published
    distribution: for each round, every setting (tail rate, tail start, days without newcomers)
    is chosen only on the rounds and bounds dated before it, then the round is estimated with
    it. Rounds with fewer than ``min_history`` (and at least one) earlier all-program rounds
    are left out (said in ``skipped``). This is the honest accuracy figure;
    :func:`analysis.pool.backtest.backtest` with the model's settings is the in-sample one.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> result = forward_backtest(example_draws(), example_pool(),
    ...                           settings_grid([0.05], [451], [1]), min_history=0)
    >>> result.summary.n, result.skipped      # one all-program round: nothing before it
    (0, 1)
    """
    scores = scores or score_settings(draws, pool, grid)
    rounds = scores.tables[0]
    dates = rounds["date"].to_numpy()
    records = []
    for i, row in rounds.iterrows():
        earlier = dates < dates[i]
        if earlier.sum() < min_history or not earlier.any():
            continue
        before = scores.bound_dates < dates[i]
        index = scores.best(earlier, before)
        chosen = scores.grid[index]
        error = int(scores.tables[index].loc[i, "error"])
        records.append(
            {
                "round": row["round"],
                "date": row["date"],
                "invitations": int(row["invitations"]),
                "actual_cutoff": int(row["actual_cutoff"]),
                "estimated_cutoff": int(row["actual_cutoff"]) + error,
                "error": error,
                "tail_rate": chosen.tail_rate,
                "tail_start": chosen.tail_start,
                "same_pool_days": chosen.same_pool_days,
                "rounds_before": int(earlier.sum()),
                "bounds_before": int(before.sum()),
                "method": "replay, forward-chained",
            }
        )
    table = pd.DataFrame(
        records,
        columns=[
            *BACKTEST_COLUMNS[:6],  # round, date, invitations, actual, estimated, error
            "tail_rate",
            "tail_start",
            "same_pool_days",
            "rounds_before",
            "bounds_before",
            "method",
        ],
    ).astype({"round": "string", "date": "datetime64[ns]", "method": "string"})
    everything = np.ones(len(rounds), dtype=bool)
    return ForwardBacktest(
        table=table,
        summary=summarize_backtest(table, label="replay, forward-chained"),
        chosen=scores.grid[scores.best(everything, np.ones(len(scores.bound_dates), dtype=bool))],
        min_history=min_history,
        skipped=len(rounds) - len(table),
    )
