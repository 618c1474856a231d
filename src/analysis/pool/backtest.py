"""Backtest of the pool model (:mod:`analysis.pool.estimate`) on every actual all-program
round with a published pool distribution, the check of every bound, and ``ee backtest``.

For each such round the model gets a distribution and the round's number of invitations and
estimates the cutoff; error = ``estimated - actual``. With ``lag=0`` it is the round's own
distribution (taken right before it); with ``lag=1`` the one before that, so the rounds held in
between must be taken out and two weeks of newcomers added: the test of that adjustment, since
no all-program round had a round between it and its own distribution. A round's own cutoff
never enters its estimate (``replay`` uses only rounds before the distribution date).

- :func:`backtest` and :func:`run_backtest`: the in-sample figures (settings chosen on the
  same rounds); :func:`forward_backtest`: every setting chosen for each round on earlier
  rounds and bounds only (the honest figure);
- :func:`bounds_table`: every restricted round with a published distribution, the all-program
  cutoff estimated for its size and the slack (``pool_bounds``);
- :func:`main_backtest` (``ee backtest``) prints all of it, writes ``pool_backtest``,
  ``pool_forward`` and ``pool_bounds`` next to the processed tables and refreshes the figures
  in ``docs/pool-model.md`` (the model's research log).

>>> summary = summarize_backtest(pd.DataFrame({"round": ["1", "2"], "error": [2, -4],
...                                            "method": ["replay"] * 2}))
>>> (summary.n, summary.mae, summary.bias)
(2, 3.0, -1.0)
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.data import load_draws, load_pool, read_meta
from analysis.pool import density as pool_density
from analysis.pool import estimate as pool_estimate
from analysis.pool import replay as pool_replay
from analysis.storage import write_tables_atomic

BACKTEST_COLUMNS = [
    "round",
    "date",
    "invitations",
    "actual_cutoff",
    "estimated_cutoff",
    "error",
    "low",
    "high",
    "method",
    "tail_rate",
    "distribution_date",
    "lag",
    "adjusted",
    "newcomers",
    "rounds_between",
    "taken_out",
    "added",
    "bin_width",
]
_DTYPES = {
    "round": "string",
    "date": "datetime64[ns]",
    "invitations": "int64",
    "actual_cutoff": "int64",
    "estimated_cutoff": "int64",
    "error": "int64",
    "low": "int64",
    "high": "int64",
    "method": "string",
    "tail_rate": "float64",
    "distribution_date": "datetime64[ns]",
    "lag": "int64",
    "adjusted": "bool",
    "newcomers": "bool",
    "rounds_between": "int64",
    "taken_out": "float64",
    "added": "float64",
    "bin_width": "int64",
}
#: The rates ``choose_tail_rate`` tries (per CRS point).
TAIL_RATES = tuple(float(r) for r in np.round(np.arange(0.02, 0.1001, 0.005), 3))


#: What ``ee backtest`` measured on the newest shared snapshot (ee_rounds_2026-03-05.json; a test
#: re-measures it): the figures the reports' data notes and the README quote.
DOCUMENTED_ACCURACY = {
    "snapshot": "ee_rounds_2026-03-05.json",
    "in_sample": {"mae": 1.68, "n": 37, "first": "2022-08", "last": "2024-04"},
    "forward": {"mae": 2.09, "n": 32, "first": "2022-10", "last": "2024-04"},
    "bounds": {
        "rows": 90,
        "broken": 0,
        "held_out_broken": 23,
        "first": "2023-02",
        "last": "2026-03",
    },
}


def accuracy_sentence(accuracy: dict | None = None) -> str:
    """The pool model's accuracy in one plain sentence, with n and the years it covers.

    >>> accuracy_sentence().startswith("Estimated all-program cutoffs missed actual ones by")
    True
    """
    a = accuracy or DOCUMENTED_ACCURACY
    ins, fwd, b = a["in_sample"], a["forward"], a["bounds"]
    return (
        f"Estimated all-program cutoffs missed actual ones by {fwd['mae']:.1f} points on average "
        f"over {fwd['n']} all-program rounds ({fwd['first']} to {fwd['last']}) when every "
        f"setting was chosen on earlier rounds only ({ins['mae']:.1f} over {ins['n']} rounds "
        f"with settings chosen on those same rounds). No all-program round has been held since "
        f"April 2024, so no accuracy figure covers later months; there, each of the "
        f"{b['rows']} restricted rounds with a published distribution ({b['first']} to "
        f"{b['last']}) shows the least an all-program round of its size would have needed, and "
        f"the estimates honour all of them ({b['broken']} broken). Measured on the feed "
        f"snapshot {a['snapshot']}."
    )


@dataclass(frozen=True)
class BacktestSummary:
    """Errors of one variant over the backtested rounds (error = estimated - actual)."""

    label: str
    n: int
    mae: float
    bias: float
    rmse: float
    max_abs: int
    within_interval: float  # share of rounds whose actual cutoff lies in low..high
    worst: pd.DataFrame = field(compare=False, repr=False)


def _published(draws: pd.DataFrame, pool: pd.DataFrame) -> pd.Series:
    """Rounds with a cutoff, invitations and their own distribution in ``pool``."""
    published = set(pd.to_datetime(pool["distribution_date"]).unique())
    return (
        draws["cutoff"].notna()
        & draws["invitations"].notna()
        & draws["distribution_date"].isin(published)
    )


def _targets(draws: pd.DataFrame, pool: pd.DataFrame) -> pd.DataFrame:
    """All-program rounds with a cutoff, invitations and their distribution in ``pool``."""
    return draws.loc[draws["is_all_program"] & _published(draws, pool)]


def bound_rounds(draws: pd.DataFrame, pool: pd.DataFrame) -> pd.DataFrame:
    """The restricted rounds that bound the model (:func:`analysis.pool.is_bound`: not
    all-program, not PNP) with a cutoff, invitations and their own distribution in ``pool``,
    oldest first.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> bound_rounds(example_draws(), example_pool())["round"].tolist()
    ['252', '254', '255', '256']
    """
    restricted = draws.loc[~draws["is_all_program"].astype(bool) & _published(draws, pool)]
    keep = [
        pool_replay.is_bound(n, c, False)
        for n, c in zip(restricted["invitations"], restricted["cutoff"], strict=True)
    ]
    return pool_replay.chronological(restricted.loc[keep])


def _estimates(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    targets: pd.DataFrame,
    method: str,
    settings: pool_density.Settings,
    *,
    lag: int = 0,
    adjust: bool = True,
    newcomers: bool = True,
    take_others: bool = True,
    bounds: bool = True,
    own_bound: bool = False,
):
    """(round row, estimate, snapshot, bins) for each of ``targets`` (rows of ``draws``), the
    replay made once. Rounds without a snapshot ``lag`` back are skipped."""
    pool_density.check_method(method)
    bounds = bounds and method == "replay" and take_others
    snapshots = pool_replay.snapshot_dates(pool)
    order = sorted(snapshots.unique())
    state = None
    if method == "replay":
        state = (
            pool_replay.cached_replay(draws, pool, settings, bounds)
            if take_others
            else pool_replay.replay(draws, pool, take_others=False, settings=settings)
        )
    rows = pool_density.pool_rows(pool[pool["distribution_date"].isin(order)])
    ordered = (
        pool_replay.chronological(draws.loc[:, list(pool_replay.DRAW_COLUMNS)]) if adjust else None
    )
    for row in targets.itertuples(index=False):
        position = order.index(snapshots[row.distribution_date]) - lag
        if position < 0:
            continue
        snapshot = pd.Timestamp(order[position])
        bins = pd.DataFrame(rows[snapshot], columns=list(pool_density.DISTRIBUTION_COLUMNS))
        prior = state.densities[snapshot] if state else None
        own = None
        if bounds and own_bound and pool_replay.is_bound(row.invitations, row.cutoff, False):
            own = (float(row.invitations), float(row.cutoff))
        estimate = pool_estimate.estimate_from_density(
            bins,
            pool_density.spread_bins(rows[snapshot], method, settings, prior),
            int(row.invitations),
            method,
            distribution_date=snapshot,
            between=pool_replay.between_ordered(ordered, snapshot, row.round) if adjust else None,
            inflow=state.inflow(snapshot) if state and newcomers else None,
            on=pd.Timestamp(row.date),
            settings=settings,
            take_others=take_others,
            bounds=bounds,
            own=own,
        )
        yield row, estimate, snapshot, bins


def backtest(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    method: str = "replay",
    *,
    tail_rate: float = pool_density.TAIL_RATE,
    lag: int = 0,
    adjust: bool = True,
    newcomers: bool = True,
    take_others: bool = True,
    bounds: bool = True,
    settings: pool_density.Settings | None = None,
) -> pd.DataFrame:
    """One row per all-program round with a published distribution: estimate and error.

    ``lag`` picks the snapshot that many before the round's own; ``adjust`` takes out the rounds
    in between; ``newcomers`` adds them (``replay`` only); ``take_others=False`` leaves
    non-all-program rounds out of both the replay and the adjustment; ``bounds=False`` does not
    honour the restricted rounds' bounds (``replay`` only); ``settings`` (default: the module's,
    with ``tail_rate``) chooses the tail. Rounds without a snapshot ``lag`` back are skipped.
    Columns: :data:`BACKTEST_COLUMNS`.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> table = backtest(example_draws(), example_pool())
    >>> table[["round", "actual_cutoff", "estimated_cutoff", "error"]]
      round  actual_cutoff  estimated_cutoff  error
    0   253            511               515      4
    """
    settings = settings or pool_density.Settings(tail_rate=tail_rate)
    records = []
    found = _estimates(
        draws,
        pool,
        _targets(draws, pool),
        method,
        settings,
        lag=lag,
        adjust=adjust,
        newcomers=newcomers,
        take_others=take_others,
        bounds=bounds,
    )
    for row, estimate, snapshot, bins in found:
        low_bin, high_bin = pool_density.bin_of(bins, estimate.cutoff)
        records.append(
            {
                "round": row.round,
                "date": row.date,
                "invitations": int(row.invitations),
                "actual_cutoff": int(row.cutoff),
                "estimated_cutoff": estimate.cutoff,
                "error": estimate.cutoff - int(row.cutoff),
                "low": estimate.low,
                "high": estimate.high,
                "method": method,
                "tail_rate": np.nan if method == "flat" else settings.tail_rate,
                "distribution_date": snapshot,
                "lag": lag,
                "adjusted": adjust,
                "newcomers": method == "replay" and newcomers,
                "rounds_between": len(estimate.rounds_between),
                "taken_out": estimate.taken_out,
                "added": estimate.added,
                "bin_width": high_bin - low_bin + 1,
            }
        )
    return pd.DataFrame(records, columns=BACKTEST_COLUMNS).astype(_DTYPES)


#: Columns of ``pool_bounds``: one row per restricted round with a published distribution.
BOUNDS_COLUMNS = [
    "round",
    "date",
    "family",
    "invitations",
    "cutoff",
    "estimated_cutoff",
    "low",
    "high",
    "slack",
]
_BOUNDS_DTYPES = {
    "round": "string",
    "date": "datetime64[ns]",
    "family": "string",
    "invitations": "int64",
    "cutoff": "int64",
    "estimated_cutoff": "int64",
    "low": "int64",
    "high": "int64",
    "slack": "int64",
}


def bounds_table(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    *,
    own_bound: bool = True,
    bounds: bool = True,
    settings: pool_density.Settings | None = None,
) -> pd.DataFrame:
    """One row per restricted round with a published distribution (:func:`bound_rounds`): the
    all-program cutoff the model estimates for its size, as the reports use it (``replay``,
    rounds in between taken out, newcomers added), and ``slack`` = estimated_cutoff - cutoff,
    which is never negative when the bound holds. ``own_bound=False`` leaves each round's own
    cutoff out of its estimate (the held-out check: did the shape fitted to the earlier bounds
    already honour this one?); ``bounds=False`` honours none (the model before bounds).
    Columns: :data:`BOUNDS_COLUMNS`.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> table = bounds_table(example_draws(), example_pool())
    >>> table.set_index("round").loc[["254", "255", "256"], "slack"].tolist()
    [12, 26, 47]
    """
    settings = settings or pool_density.DEFAULT_SETTINGS
    found = _estimates(
        draws,
        pool,
        bound_rounds(draws, pool),
        "replay",
        settings,
        bounds=bounds,
        own_bound=own_bound,
    )
    records = [
        {
            "round": row.round,
            "date": row.date,
            "family": row.family if hasattr(row, "family") else pd.NA,
            "invitations": int(row.invitations),
            "cutoff": int(row.cutoff),
            "estimated_cutoff": estimate.cutoff,
            "low": estimate.low,
            "high": estimate.high,
            "slack": estimate.cutoff - int(row.cutoff),
        }
        for row, estimate, _, _ in found
    ]
    return pd.DataFrame(records, columns=BOUNDS_COLUMNS).astype(_BOUNDS_DTYPES)


@dataclass(frozen=True)
class BoundsSummary:
    """How the model meets the restricted rounds' bounds: ``rows`` bounds, ``broken`` of them
    with a negative slack, the ``smallest`` slack; the same before each round's own cutoff is
    used (``held_out_broken``, ``held_out_smallest``, and the mean shortfall below the bound,
    ``held_out_shortfall``), per family in ``by_family``."""

    rows: int
    broken: int
    smallest: int | None
    held_out_broken: int
    held_out_smallest: int | None
    held_out_shortfall: float
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    by_family: pd.DataFrame = field(compare=False, repr=False)


def shortfall(slack: pd.Series) -> float:
    """Mean shortfall below the bounds: how far, on average, estimates fall below the cutoffs
    they must reach (0 for a bound that holds).

    >>> shortfall(pd.Series([3, 0, -2, -4]))
    1.5
    """
    return float((-slack.astype("float64")).clip(lower=0).mean()) if len(slack) else 0.0


def summarize_bounds(table: pd.DataFrame, held_out: pd.DataFrame | None = None) -> BoundsSummary:
    """Rows, broken bounds and the smallest slack of :func:`bounds_table`'s table, and of its
    held-out version (``own_bound=False``) when given.

    >>> t = pd.DataFrame({"round": ["1", "2"], "family": ["cec", "stem"], "slack": [0, 12],
    ...                   "date": pd.to_datetime(["2024-06-01", "2025-01-01"])})
    >>> s = summarize_bounds(t, t.assign(slack=[-2, 12]))
    >>> (s.rows, s.broken, s.smallest, s.held_out_broken, s.held_out_smallest)
    (2, 0, 0, 1, -2)
    """
    held = table if held_out is None else held_out
    by_family = (
        table.assign(held_out=held["slack"].to_numpy())
        .groupby("family", observed=True)
        .agg(
            rows=("slack", "size"),
            broken=("slack", lambda s: int((s < 0).sum())),
            smallest=("slack", "min"),
            median=("slack", "median"),
            held_out_broken=("held_out", lambda s: int((s < 0).sum())),
            held_out_smallest=("held_out", "min"),
        )
        .reset_index()
    )
    empty = table.empty
    return BoundsSummary(
        rows=len(table),
        broken=int((table["slack"] < 0).sum()),
        smallest=None if empty else int(table["slack"].min()),
        held_out_broken=int((held["slack"] < 0).sum()),
        held_out_smallest=None if empty else int(held["slack"].min()),
        held_out_shortfall=round(shortfall(held["slack"]), 3),
        first=None if empty else pd.Timestamp(table["date"].min()),
        last=None if empty else pd.Timestamp(table["date"].max()),
        by_family=by_family,
    )


def summarize_backtest(table: pd.DataFrame, worst: int = 3, label: str = "") -> BacktestSummary:
    """n, mean absolute error, bias (mean error), RMSE, largest miss, share of actual cutoffs
    inside the interval, and the ``worst`` rounds (largest misses, first come first).

    >>> t = pd.DataFrame({"round": ["1", "2", "3"], "error": [1, -3, 0], "method": "flat"})
    >>> s = summarize_backtest(t, worst=1)
    >>> (s.mae, s.max_abs, s.worst["round"].tolist())
    (1.333, 3, ['2'])
    """
    if "error" not in table.columns:
        raise ValueError("summarize_backtest: the table has no 'error' column")
    errors = table["error"].astype("float64")
    if not label and "method" in table.columns:
        label = ", ".join(map(str, table["method"].unique()))
    empty = table.empty
    inside = float("nan")
    if {"low", "high", "actual_cutoff"} <= set(table.columns) and not empty:
        inside = float(table["actual_cutoff"].between(table["low"], table["high"]).mean())
    order = errors.abs().sort_values(ascending=False, kind="stable").index[:worst]
    return BacktestSummary(
        label=label,
        n=int(len(table)),
        mae=float("nan") if empty else round(float(errors.abs().mean()), 3),
        bias=float("nan") if empty else round(float(errors.mean()), 3),
        rmse=float("nan") if empty else round(float(np.sqrt((errors**2).mean())), 3),
        max_abs=0 if empty else int(errors.abs().max()),
        within_interval=round(inside, 3),
        worst=table.loc[order].reset_index(drop=True),
    )


@dataclass(frozen=True)
class TailRateChoice:
    """The chosen tail rate, the MAE at each rate tried, and how it holds up out of sample."""

    rate: float
    loo_mae: float
    split_date: pd.Timestamp
    split_rate: float
    split_mae: float
    by_rate: pd.DataFrame = field(compare=False, repr=False)
    leave_one_out: pd.DataFrame = field(compare=False, repr=False)


def _best(mae: pd.Series) -> float:
    """The rate with the lowest MAE; ties go to the smaller rate."""
    return float(mae.sort_index().idxmin())


def choose_tail_rate(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    rates: Sequence[float] | None = None,
    *,
    method: str = "replay",
    split_date: str = "2024-01-01",
) -> TailRateChoice:
    """Pick the tail rate with the lowest backtest MAE (grid: ``rates``, default
    :data:`TAIL_RATES`), and check the pick out of sample.

    Leave-one-out: each round is scored at the rate best on the *other* rounds. Time split:
    the rate best on rounds before ``split_date``, scored on the rounds from then on.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> choice = choose_tail_rate(example_draws(), example_pool(),
    ...                           rates=[0.03, 0.05])
    >>> choice.rate, len(choice.leave_one_out)
    (0.05, 1)
    """
    rates = TAIL_RATES if rates is None else rates
    tables = {float(rate): backtest(draws, pool, method, tail_rate=rate) for rate in rates}
    first = next(iter(tables.values()))
    errors = pd.DataFrame({rate: t["error"].abs().to_numpy() for rate, t in tables.items()})
    by_rate = pd.DataFrame(
        {
            "tail_rate": list(tables),
            "mae": [float(errors[r].mean()) for r in tables],
            "bias": [float(t["error"].mean()) for t in tables.values()],
        }
    )
    best = _best(errors.mean())
    loo = []
    for i in range(len(first)):
        rate = _best(errors.drop(index=i).mean()) if len(errors) > 1 else best
        loo.append(
            {
                "round": first["round"].iloc[i],
                "tail_rate": rate,
                "error": int(tables[rate]["error"].iloc[i]),
            }
        )
    loo = pd.DataFrame(loo, columns=["round", "tail_rate", "error"])
    split = pd.Timestamp(split_date)
    early = (first["date"] < split).to_numpy()
    split_rate = split_mae = float("nan")
    if early.any() and (~early).any():
        split_rate = _best(errors[early].mean())
        split_mae = float(errors.loc[~early, split_rate].mean())
    return TailRateChoice(
        rate=best,
        loo_mae=float(loo["error"].abs().mean()) if len(loo) else float("nan"),
        split_date=split,
        split_rate=split_rate,
        split_mae=split_mae,
        by_rate=by_rate,
        leave_one_out=loo,
    )


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

    >>> len(settings_grid()), settings_grid([0.05], [451], [1])
    (28, [Settings(tail_rate=0.05, tail_start=451, same_pool_days=1)])
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
    are left out (said in ``skipped``). This is the honest accuracy figure; :func:`backtest`
    with the module's settings is the in-sample one.

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
            "round",
            "date",
            "invitations",
            "actual_cutoff",
            "estimated_cutoff",
            "error",
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


def error_bands(
    draws: pd.DataFrame, pool: pd.DataFrame, methods: Iterable[str] = pool_density.METHODS
) -> dict:
    """The 5th and 95th percentile of backtest errors, rounded outwards, per method, situation
    and bin width: what :data:`analysis.pool.estimate.ERROR_BANDS` holds. "direct" is the
    backtest on each round's own distribution, "adjusted" on the previous one (rounds taken out,
    newcomers added). A class without rounds gets the method's band over all widths.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> bands = error_bands(example_draws(), example_pool(), ["flat"])
    >>> bands["flat"]["direct"]["wide"]         # one round only: 5th = 95th percentile
    (42, 42)
    """
    bands: dict = {}
    for method in methods:
        bands[method] = {}
        for situation, lag in (("direct", 0), ("adjusted", 1)):
            table = backtest(draws, pool, method, lag=lag)
            narrow = table["bin_width"] <= pool_estimate.NARROW_BIN
            bands[method][situation] = {
                width: _percentiles(table.loc[mask, "error"] if mask.any() else table["error"])
                for width, mask in (("narrow", narrow), ("wide", ~narrow))
            }
    return bands


def _percentiles(errors: pd.Series) -> tuple[int, int]:
    if errors.empty:
        return (0, 0)
    low, high = np.percentile(errors.astype(float), [5, 95])
    return int(np.floor(low)), int(np.ceil(high))


def next_snapshot_check(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    *,
    take_others: bool = True,
    from_score: int = 481,
) -> pd.DataFrame:
    """Predict each published distribution from the previous one (rounds in between taken out,
    newcomers added as estimated up to the previous one) and compare bin by bin from
    ``from_score`` up. ``take_others`` compares the two rules for non-all-program rounds.
    Only pairs with at least one round in between are kept. Columns: date, rounds, bin,
    predicted, published, miss (predicted - published).

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> check = next_snapshot_check(example_draws(), example_pool())
    >>> check[["bin", "published"]].head(2).to_dict("list")
    {'bin': ['481-490', '491-500'], 'published': [4719.0, 831.0]}
    """
    state = pool_replay.replay(draws, pool, take_others=take_others)
    snapshots = sorted(state.densities)
    rows = pool_density.pool_rows(pool[pool["distribution_date"].isin(snapshots)])
    records = []
    for previous, date in zip(snapshots, snapshots[1:], strict=False):
        between = pool_replay.rounds_between(draws, previous, until=date)
        if between.empty:
            continue
        density, _, _ = pool_estimate.carry_forward(
            state.densities[previous],
            between,
            previous,
            date,
            state.inflow(previous),
            pool_density.DEFAULT_SETTINGS,
            take_others,
        )
        records += [
            {
                "date": date,
                "rounds": len(between),
                "bin": f"{low}-{high}",
                "predicted": float(density[low : high + 1].sum()),
                "published": float(count),
            }
            for low, high, count in rows[date]
            if low >= from_score
        ]
    table = pd.DataFrame(records, columns=["date", "rounds", "bin", "predicted", "published"])
    return table.assign(miss=table["predicted"] - table["published"]).astype(
        {"date": "datetime64[ns]", "rounds": "int64", "bin": "string"}
    )


#: What run_backtest compares: label -> backtest keyword arguments.
VARIANTS: dict[str, dict] = {
    "replay": {"method": "replay"},
    "tail": {"method": "tail"},
    "flat": {"method": "flat"},
    "replay, previous distribution, all adjustments": {"method": "replay", "lag": 1},
    "replay, previous distribution, rounds taken out only": {
        "method": "replay",
        "lag": 1,
        "newcomers": False,
    },
    "replay, previous distribution, nothing adjusted": {
        "method": "replay",
        "lag": 1,
        "adjust": False,
        "newcomers": False,
    },
}


def run_backtest(
    draws: pd.DataFrame, pool: pd.DataFrame, variants: dict[str, dict] | None = None
) -> tuple[pd.DataFrame, dict[str, BacktestSummary]]:
    """Backtest every variant (default :data:`VARIANTS`); return the long table, with a
    ``variant`` column, and one summary per variant keyed by its label.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> table, summaries = run_backtest(example_draws(), example_pool(),
    ...                                 variants={"flat": {"method": "flat"}})
    >>> summaries["flat"].n, table["variant"].unique().tolist()
    (1, ['flat'])
    """
    tables, summaries = [], {}
    for label, options in (VARIANTS if variants is None else variants).items():
        table = backtest(draws, pool, **options)
        tables.append(table.assign(variant=pd.array([label] * len(table), dtype="string")))
        summaries[label] = summarize_backtest(table, label=label)
    return pd.concat(tables, ignore_index=True), summaries


def write_backtest(table: pd.DataFrame, processed_dir: Path | str) -> tuple[Path, Path]:
    """Write ``pool_backtest.parquet`` and ``pool_backtest.csv`` into ``processed_dir``, both
    staged then renamed into place (:func:`analysis.storage.write_tables_atomic`).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> [p.name for p in write_backtest(pd.DataFrame({"error": [1]}), folder)]
    ['pool_backtest.parquet', 'pool_backtest.csv']
    """
    parquet, csv = write_tables_atomic({"pool_backtest": table}, Path(processed_dir))
    return parquet, csv


def format_summary(
    summaries: dict[str, BacktestSummary] | Iterable[BacktestSummary],
    choice: TailRateChoice | None = None,
) -> str:
    """A short plain-text table of the summaries, one line per variant, for the terminal.

    >>> t = pd.DataFrame({"round": ["7", "8"], "error": [1, -3], "method": "flat"})
    >>> print(format_summary([summarize_backtest(t)]).splitlines()[-1])
    flat       2   2.00  -1.00   2.24     3  8 (-3), 7 (+1)
    """
    items = list(summaries.values()) if isinstance(summaries, dict) else list(summaries)
    width = max([len(s.label) for s in items] + [len("variant")])
    lines = [
        "Pool model backtest: all-program rounds with a published distribution;",
        "error = estimated - actual cutoff, CRS points.",
        f"{'variant':<{width}} {'n':>4} {'MAE':>6} {'bias':>6} {'RMSE':>6} {'max':>5}  worst",
    ]
    for s in items:
        worst = ", ".join(f"{r['round']} ({int(r['error']):+d})" for _, r in s.worst.iterrows())
        lines.append(
            f"{s.label:<{width}} {s.n:>4} {s.mae:>6.2f} {s.bias:>6.2f} {s.rmse:>6.2f} "
            f"{s.max_abs:>5}  {worst or '-'}"
        )
    if choice is not None:
        lines.append(
            f"Tail rate {choice.rate:g}/point (lowest MAE on the grid); leave-one-out MAE "
            f"{choice.loo_mae:.2f}; best on rounds before {choice.split_date:%Y-%m-%d}: "
            f"{choice.split_rate:g}, scoring MAE {choice.split_mae:.2f} on the later rounds."
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class BacktestRun:
    """Everything ``ee backtest`` measures: the variants, the tail-rate check, the forward-chained
    backtest, and the bounds (with each round's own cutoff, held out, and not honoured at all)."""

    table: pd.DataFrame
    summaries: dict[str, BacktestSummary]
    choice: TailRateChoice
    forward: ForwardBacktest
    bounds: pd.DataFrame
    bounds_summary: BoundsSummary
    unbounded: BoundsSummary
    pnp_rounds: int

    @property
    def in_sample(self) -> BacktestSummary:
        return self.summaries["replay"]


def run_all(draws: pd.DataFrame, pool: pd.DataFrame) -> BacktestRun:
    """:func:`run_backtest`, :func:`choose_tail_rate`, :func:`forward_backtest` and the bounds
    (:func:`bounds_table`) on one snapshot's tables."""
    table, summaries = run_backtest(draws, pool)
    bounds = bounds_table(draws, pool)
    held_out = bounds_table(draws, pool, own_bound=False)
    unbounded = bounds_table(draws, pool, bounds=False)
    pnp = draws.loc[
        ~draws["is_all_program"].astype(bool)
        & _published(draws, pool)
        & draws["cutoff"].ge(pool_density.NOMINEE_FLOOR).fillna(False)
    ]
    return BacktestRun(
        table=table,
        summaries=summaries,
        choice=choose_tail_rate(draws, pool),
        forward=forward_backtest(draws, pool),
        bounds=bounds,
        bounds_summary=summarize_bounds(bounds, held_out),
        unbounded=summarize_bounds(unbounded),
        pnp_rounds=len(pnp),
    )


def _span(first, last) -> str:
    return f"{pd.Timestamp(first):%Y-%m} to {pd.Timestamp(last):%Y-%m}"


def _settings_words(settings: pool_density.Settings) -> str:
    return (
        f"tail rate {settings.tail_rate:g}/point from {settings.tail_start}, "
        f"{settings.same_pool_days} day(s) without newcomers"
    )


def accuracy_lines(run: BacktestRun) -> list[str]:
    """The accuracy figures in words: in-sample and forward-chained, with n and years, then the
    bounds. What ``ee backtest`` prints below its table (and ``docs/pool-model.md`` holds)."""
    own = run.table[run.table["variant"] == "replay"]
    fwd = run.forward
    b, u = run.bounds_summary, run.unbounded
    defaults = pool_density.DEFAULT_SETTINGS
    same = "the model's own" if fwd.chosen == defaults else f"not the model's ({defaults})"
    families = ", ".join(
        f"{r.family} {int(r.held_out_broken)}"
        for r in b.by_family.itertuples()
        if r.held_out_broken
    )
    lines = [
        f"In-sample: MAE {run.in_sample.mae:.2f} over n = {run.in_sample.n} all-program rounds "
        f"({_span(own['date'].min(), own['date'].max())}), with settings chosen on those same "
        f"rounds ({_settings_words(defaults)}). IRCC held no all-program round after April "
        "2024, so no accuracy figure covers 2024-05 onwards: the bounds below are the check "
        "there.",
        f"Forward-chained: MAE {fwd.summary.mae:.2f} over n = {fwd.summary.n} rounds "
        f"({_span(fwd.table['date'].min(), fwd.table['date'].max())}), every setting chosen only "
        "on the all-program rounds and bounds dated before the round estimated; the first "
        f"{fwd.skipped} rounds had fewer than {fwd.min_history} before them and are left out. "
        f"All the data choose {_settings_words(fwd.chosen)}: {same}.",
        f"Bounds: {b.rows} restricted rounds with a published distribution "
        f"({_span(b.first, b.last)}); {b.broken} broken, smallest slack {b.smallest}. "
        f"Held out (each round's own cutoff not used): {b.held_out_broken} broken"
        + (f" ({families})" if families else "")
        + f", smallest slack {b.held_out_smallest}, mean shortfall {b.held_out_shortfall:.2f}. "
        f"Not honouring them: {u.broken} broken, smallest slack {u.smallest}.",
        f"Not bounds: {run.pnp_rounds} PNP rounds with a distribution. Their cutoffs include the "
        "nomination's 600 points: they invite the nominees, often more than the distribution's "
        "601-1200 count (nominations arrive before the round), and constrain neither the "
        "scores below 601 nor any estimate a report shows.",
    ]
    return lines


def write_bounds(table: pd.DataFrame, processed_dir: Path | str) -> tuple[Path, Path]:
    """Write ``pool_bounds.parquet`` and ``pool_bounds.csv`` (:data:`BOUNDS_COLUMNS`) into
    ``processed_dir``, staged then renamed into place.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> [p.name for p in write_bounds(pd.DataFrame({"slack": [0]}), folder)]
    ['pool_bounds.parquet', 'pool_bounds.csv']
    """
    parquet, csv = write_tables_atomic({"pool_bounds": table}, Path(processed_dir))
    return parquet, csv


#: The part of ``docs/pool-model.md`` that ``ee backtest`` rewrites.
NOTES_BEGIN = "<!-- ee backtest: begin -->"
NOTES_END = "<!-- ee backtest: end -->"


def model_notes(run: BacktestRun, source: str = "") -> str:
    """The current figures of the pool model as markdown (the generated part of
    ``docs/pool-model.md``): every variant of the backtest, the forward-chained backtest, the
    tail-rate check, the accuracy in words and the bounds per family. ``source`` names the
    snapshot they were measured on."""
    rows = [
        "| variant | n | MAE | bias | RMSE | max | worst |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in [*run.summaries.values(), run.forward.summary]:
        worst = ", ".join(f"{r['round']} ({int(r['error']):+d})" for _, r in s.worst.iterrows())
        rows.append(
            f"| {s.label} | {s.n} | {s.mae:.2f} | {s.bias:+.2f} | {s.rmse:.2f} | {s.max_abs} "
            f"| {worst or '-'} |"
        )
    bounds = [
        "| family | bounds | broken | smallest slack | median slack | held out: broken "
        "| held out: smallest slack |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in run.bounds_summary.by_family.itertuples():
        bounds.append(
            f"| {r.family} | {r.rows} | {r.broken} | {r.smallest} | {r.median:.0f} "
            f"| {r.held_out_broken} | {r.held_out_smallest} |"
        )
    choice = run.choice
    parts = [
        f"Measured by `ee backtest`{f' on {source}' if source else ''}. Error = estimated - "
        "actual cutoff, CRS points; all-program rounds with a published distribution.",
        "",
        *rows,
        "",
        *accuracy_lines(run),
        "",
        f"Tail rate {choice.rate:g}/point has the lowest in-sample MAE on the grid; leave-one-out "
        f"MAE {choice.loo_mae:.2f}; chosen on rounds before {choice.split_date:%Y-%m-%d} it would "
        f"be {choice.split_rate:g}, scoring MAE {choice.split_mae:.2f} on the later rounds.",
        "",
        "Bounds per family (slack = estimated cutoff - the round's cutoff; held out: each "
        "round's own cutoff not used):",
        "",
        *bounds,
    ]
    return "\n".join(parts)


def write_model_notes(run: BacktestRun, path: Path, source: str = "") -> bool:
    """Rewrite the figures between :data:`NOTES_BEGIN` and :data:`NOTES_END` in ``path``
    (``docs/pool-model.md``); the research log around them is left as it is. Returns False (and
    writes nothing) when the file or its markers are missing."""
    from analysis.storage import write_text_atomic  # noqa: PLC0415

    path = Path(path)
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    if NOTES_BEGIN not in text or NOTES_END not in text:
        return False
    head, rest = text.split(NOTES_BEGIN, 1)
    _, tail = rest.split(NOTES_END, 1)
    body = f"{NOTES_BEGIN}\n{model_notes(run, source)}\n{NOTES_END}"
    write_text_atomic(path, head + body + tail)
    return True


def main_backtest() -> int:
    """``ee backtest``: backtest the pool model on the processed tables (in-sample and
    forward-chained), check every bound, write ``pool_backtest``, ``pool_forward`` and
    ``pool_bounds`` (``.parquet``/``.csv``) next to them, print the summary and, when the tables
    are the project's own (not a scratch ``EE_DATA_DIR``), refresh the figures in
    ``docs/pool-model.md``. Returns 0, or 1 when the processed tables are missing."""
    folder = config.processed_dir()
    try:
        draws, pool = load_draws(folder), load_pool(folder)
    except FileNotFoundError as missing:
        print(f"ee backtest: {missing}", file=sys.stderr)
        return 1
    run = run_all(draws, pool)
    written = write_backtest(run.table, folder)
    write_tables_atomic({"pool_forward": run.forward.table}, folder)
    bounds = write_bounds(run.bounds, folder)
    print(format_summary({**run.summaries, "forward": run.forward.summary}, run.choice))
    for line in accuracy_lines(run):
        print(textwrap.fill(line, width=100))
    print(
        f"Wrote {written[0]} and {written[1].name}; pool_forward and {bounds[0].stem} "
        "(.parquet, .csv)."
    )
    meta = read_meta(folder) or {}
    source = Path(str(meta.get("source") or meta.get("file") or "")).name
    if meta.get("sha256"):
        source += f" (sha256 {meta['sha256'][:12]}, newest round {meta.get('newest_date', '?')})"
    notes = config.PROJECT_ROOT / "docs" / "pool-model.md"
    # the research log quotes the project's own data only (not a scratch EE_DATA_DIR)
    own_data = folder.resolve().is_relative_to(config.PROJECT_ROOT.resolve())
    if own_data and write_model_notes(run, notes, source):
        print(f"Refreshed the figures in {notes}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main_backtest())
