"""Backtest of the pool model (:mod:`analysis.pool.estimate`) on every actual all-program
round with a published pool distribution: the in-sample scores, the tail rate's choice, the error
bands and the check of the next distribution.

For each such round the model gets a distribution and the round's number of invitations and
estimates the cutoff; error = ``estimated - actual``. With ``lag=0`` it is the round's own
distribution (taken right before it); with ``lag=1`` the one before that, so the rounds held in
between must be taken out and two weeks of newcomers added: the test of that adjustment, since
no all-program round had a round between it and its own distribution. A round's own cutoff
never enters its estimate (``replay`` uses only rounds before the distribution date).

- :func:`backtest` and :func:`run_backtest`: the in-sample figures (settings chosen on the
  same rounds); :func:`choose_tail_rate`, :func:`error_bands`, :func:`next_snapshot_check`:
  the evidence behind the model's tail rate, intervals and adjustment;
- :func:`estimate_rounds`: the estimates for any rounds, the replay made once (also what
  :mod:`analysis.pool.bounds` scores the restricted rounds with).

The restricted rounds' bounds are in :mod:`analysis.pool.bounds`, the forward-chained backtest
(the honest figure) in :mod:`analysis.pool.forward`, and ``ee backtest`` with its report in
:mod:`analysis.pool.accuracy`.

>>> summary = summarize_backtest(pd.DataFrame({"round": ["1", "2"], "error": [2, -4],
...                                            "method": ["replay"] * 2}))
>>> (summary.n, summary.mae, summary.bias)
(2, 3.0, -1.0)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.pool import density as pool_density
from analysis.pool import estimate as pool_estimate
from analysis.pool import replay as pool_replay

#: Columns of a backtest table (``pool_backtest``) and their types.
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
BACKTEST_COLUMNS = list(_DTYPES)
#: The rates ``choose_tail_rate`` tries (per CRS point).
TAIL_RATES = tuple(float(r) for r in np.round(np.arange(0.02, 0.1001, 0.005), 3))


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


def with_distribution(draws: pd.DataFrame, pool: pd.DataFrame) -> pd.Series:
    """Which rounds of ``draws`` have a cutoff, invitations and their own distribution in
    ``pool`` (a boolean Series on ``draws``' index): the rounds the model can be scored on.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> draws = example_draws()
    >>> draws.loc[with_distribution(draws, example_pool()), "round"].tolist()
    ['252', '253', '254', '255', '256']
    """
    published = set(pd.to_datetime(pool["distribution_date"]).unique())
    return (
        draws["cutoff"].notna()
        & draws["invitations"].notna()
        & draws["distribution_date"].isin(published)
    )


def _targets(draws: pd.DataFrame, pool: pd.DataFrame) -> pd.DataFrame:
    """All-program rounds with a cutoff, invitations and their distribution in ``pool``."""
    return draws.loc[draws["is_all_program"] & with_distribution(draws, pool)]


def estimate_rounds(
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
    replay made once. Rounds without a snapshot ``lag`` back are skipped. The options are
    :func:`backtest`'s; ``own_bound`` lets a restricted round's own cutoff bound its estimate
    (:func:`analysis.pool.bounds.bounds_table`).

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> draws = example_draws()
    >>> targets = draws.loc[draws["round"].isin(["253", "254"])]
    >>> found = estimate_rounds(draws, example_pool(), targets, "replay",
    ...                         pool_density.DEFAULT_SETTINGS)
    >>> [(row.round, estimate.cutoff) for row, estimate, _, _ in found]
    [('253', 515), ('254', 498)]
    """
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
    found = estimate_rounds(
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


def lagged_backtest(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    settings: pool_density.Settings,
    lags: Sequence[int],
) -> pd.DataFrame:
    """:func:`backtest` with ``settings`` at each of ``lags``, one table in date order (lag
    order on a day)."""
    tables = [backtest(draws, pool, settings=settings, lag=lag) for lag in lags]
    table = pd.concat(tables, ignore_index=True)
    return table.sort_values(["date", "lag"], kind="stable").reset_index(drop=True)


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
    rates: Sequence[float] = TAIL_RATES,
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


_BANDS: dict[tuple, dict | None] = {}


def measured_error_bands(
    draws: pd.DataFrame, pool: pd.DataFrame, method: str = "replay", min_rounds: int = 5
) -> dict | None:
    """:func:`error_bands` of one method on the data at hand (``{"direct": ..., "adjusted":
    ...}``), None with fewer than ``min_rounds`` all-program rounds to measure them on.
    Remembered for the last few inputs (a report asks once per round).

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> measured_error_bands(example_draws(), example_pool()) is None   # one all-program round
    True
    """

    def measure() -> dict | None:
        enough = len(_targets(draws, pool)) >= min_rounds
        return error_bands(draws, pool, [method])[method] if enough else None

    key = (*pool_replay.tables_key(draws, pool), method, min_rounds)
    return pool_replay.remembered(_BANDS, key, measure)


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
