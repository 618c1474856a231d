"""The forward-chained backtest of the pool model, the honest accuracy figure: for each
all-program round, every setting (tail rate, tail start, days without newcomers) is chosen on
the all-program rounds and restricted rounds' bounds dated before it only, then the round is
estimated with it.

- :func:`settings_grid`: the settings to choose from;
- :func:`score_settings`: every setting's error on every all-program round and held-out slack
  on every bound (:class:`SettingScores`, which picks the best setting on any earlier subset);
- :func:`forward_backtest`: the chained estimates and their summary (``pool_forward``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.pool import density as pool_density
from analysis.pool.backtest import (
    BACKTEST_COLUMNS,
    BacktestSummary,
    backtest,
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
    rates: Sequence[float] | None = None,
    starts: Sequence[int] | None = None,
    same_pool_days: Sequence[int] | None = None,
) -> list[pool_density.Settings]:
    """Every combination of the settings to choose from (defaults: :data:`GRID_TAIL_RATES`,
    :data:`GRID_TAIL_STARTS`, :data:`GRID_SAME_POOL_DAYS`).

    >>> grid = settings_grid([0.05], [451], [1])
    >>> len(settings_grid()), (grid[0].tail_rate, grid[0].tail_start, grid[0].same_pool_days)
    (28, (0.05, 451, 1))
    """
    rates = GRID_TAIL_RATES if rates is None else rates
    starts = GRID_TAIL_STARTS if starts is None else starts
    same_pool_days = GRID_SAME_POOL_DAYS if same_pool_days is None else same_pool_days
    return [
        pool_density.Settings(float(r), int(t), int(d))
        for r in rates
        for t in starts
        for d in same_pool_days
    ]


@dataclass(frozen=True)
class SettingScores:
    """Per setting of a grid: the error on every all-program round (``errors``: rounds x
    settings) and the held-out slack of every bound (``held_out``: bounds x settings, each
    bound estimated without its own cutoff), with the rounds' and bounds' dates. A round's
    figure uses only rounds before it, so any subset of earlier rounds can choose a setting."""

    grid: tuple[pool_density.Settings, ...]
    rounds: pd.DataFrame
    errors: pd.DataFrame
    bounds: pd.DataFrame
    held_out: pd.DataFrame

    def loss(self, rounds_mask: np.ndarray, bounds_mask: np.ndarray) -> pd.Series:
        """Per setting: mean absolute error on the chosen all-program rounds plus the mean
        shortfall of the chosen bounds (each CRS point below a cutoff that the estimate must
        reach counts like a point of error)."""
        mae = self.errors.loc[rounds_mask].abs().mean()
        short = (-self.held_out.loc[bounds_mask]).clip(lower=0).mean()
        return mae.add(short.fillna(0.0), fill_value=0.0)

    def best(self, rounds_mask: np.ndarray, bounds_mask: np.ndarray) -> pool_density.Settings:
        """The setting with the lowest :meth:`loss`; ties go to the first in the grid."""
        loss = self.loss(rounds_mask, bounds_mask).to_numpy()
        return self.grid[int(np.flatnonzero(loss == loss.min())[0])]


def score_settings(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    grid: Sequence[pool_density.Settings] | None = None,
) -> SettingScores:
    """Backtest every setting of ``grid`` (default :func:`settings_grid`) on the all-program
    rounds, and check each against the held-out bounds.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> scores = score_settings(example_draws(), example_pool(),
    ...                         settings_grid([0.05], [451], [1]))
    >>> scores.errors.shape, scores.held_out.shape
    ((1, 1), (4, 1))
    """
    grid = tuple(settings_grid() if grid is None else grid)
    tables = [backtest(draws, pool, settings=g) for g in grid]
    held = [bounds_table(draws, pool, own_bound=False, settings=g) for g in grid]
    names = list(range(len(grid)))
    first, first_held = tables[0], held[0]
    return SettingScores(
        grid=grid,
        rounds=first[["round", "date", "invitations", "actual_cutoff"]].reset_index(drop=True),
        errors=pd.DataFrame({i: t["error"].to_numpy() for i, t in zip(names, tables, strict=True)}),
        bounds=first_held[["round", "date", "family", "cutoff"]].reset_index(drop=True),
        held_out=pd.DataFrame(
            {i: t["slack"].to_numpy() for i, t in zip(names, held, strict=True)},
            index=first_held.index,
        ),
    )


@dataclass(frozen=True)
class ForwardBacktest:
    """The forward-chained backtest: each all-program round estimated with the setting that
    did best (:meth:`SettingScores.loss`) on the all-program rounds and bounds dated before it.
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
    dates = scores.rounds["date"].to_numpy()
    bound_dates = scores.bounds["date"].to_numpy()
    records = []
    for i, row in scores.rounds.iterrows():
        earlier = dates < dates[i]
        if earlier.sum() < min_history or not earlier.any():
            continue
        before = bound_dates < dates[i]
        chosen = scores.best(earlier, before)
        error = int(scores.errors.loc[i, scores.grid.index(chosen)])
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
    everything = np.ones(len(scores.rounds), dtype=bool)
    return ForwardBacktest(
        table=table,
        summary=summarize_backtest(table, label="replay, forward-chained"),
        chosen=scores.best(everything, np.ones(len(scores.bounds), dtype=bool)),
        min_history=min_history,
        skipped=len(scores.rounds) - len(table),
    )
