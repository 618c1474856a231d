"""Backtest of the pool model (:mod:`analysis.pool.model`) on every actual all-program round with a
published pool distribution, and the ``ee backtest`` command.

For each such round the model gets a distribution and the round's number of invitations and
estimates the cutoff; error = ``estimated - actual``. With ``lag=0`` it is the round's own
distribution (taken right before it); with ``lag=1`` the one before that, so the rounds held in
between must be taken out and two weeks of newcomers added: the test of that adjustment, since
no all-program round had a round between it and its own distribution. A round's own cutoff
never enters its estimate (``replay`` uses only rounds before the distribution date).

Figures on the 2026-03-05 snapshot (37 rounds, August 2022 - April 2024):

====================================  =====  ======  ===  ==========================
variant                               MAE    bias    max  worst 3
====================================  =====  ======  ===  ==========================
replay (own distribution)             1.68   -0.54   6    294 -6, 280 -5, 228 -4
tail                                  6.35   +6.19   29   281 +29, 292 +28, 286 +23
flat                                  28.08  +28.03  67   290 +67, 294 +62, 286 +61
replay, previous distr., all          9.46   -9.46   58   272 -58, 263 -34, 292 -28
replay, previous distr., rounds only  13.13  -13.13  69   272 -69, 263 -46, 259 -33
replay, previous distr., nothing      35.57  +24.97  483  275 +483, 253 +355, 280 +177
====================================  =====  ======  ===  ==========================

("previous distr.": the one before the round's own; "all": rounds taken out and newcomers
added; "rounds only": rounds taken out; "nothing": neither.)

Tail rate: 0.05 is best on the grid, leave-one-out MAE 1.68; chosen on the rounds of 2022-2023
it would be 0.055, scoring MAE 3.22 on the 9 rounds of 2024. On the 2024-04-06 snapshot, which
still carries distributions for rounds 226-227 (July 2022, the first all-program rounds after
18 months), replay scores MAE 2.16 with one large miss (226: -19): an uncarved pool is flatter
at the top than the tail the replay starts from.

Print them with ``ee backtest`` (or ``python -m analysis.pool.backtest``) after ``ee clean``.

>>> summary = summarize_backtest(pd.DataFrame({"round": ["1", "2"], "error": [2, -4],
...                                            "method": ["replay"] * 2}))
>>> (summary.n, summary.mae, summary.bias)
(2, 3.0, -1.0)
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.data import load_draws, load_pool
from analysis.pool import model as pool_model
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


def _targets(draws: pd.DataFrame, pool: pd.DataFrame) -> pd.DataFrame:
    """All-program rounds with a cutoff, invitations and their distribution in ``pool``."""
    published = set(pd.to_datetime(pool["distribution_date"]).unique())
    return draws.loc[
        draws["is_all_program"]
        & draws["cutoff"].notna()
        & draws["invitations"].notna()
        & draws["distribution_date"].isin(published)
    ]


def backtest(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    method: str = "replay",
    *,
    tail_rate: float = pool_model.TAIL_RATE,
    lag: int = 0,
    adjust: bool = True,
    newcomers: bool = True,
    take_others: bool = True,
    bounds: bool = True,
    settings: pool_model.Settings | None = None,
) -> pd.DataFrame:
    """One row per all-program round with a published distribution: estimate and error.

    ``lag`` picks the snapshot that many before the round's own; ``adjust`` takes out the rounds
    in between; ``newcomers`` adds them (``replay`` only); ``take_others=False`` leaves
    non-all-program rounds out of both the replay and the adjustment; ``bounds=False`` does not
    honour the restricted rounds' bounds (``replay`` only); ``settings`` (default: the module's,
    with ``tail_rate``) chooses the tail. Rounds without a snapshot ``lag`` back are skipped.
    Columns: :data:`BACKTEST_COLUMNS`.

    >>> table = backtest(pool_model._example_draws(), pool_model._example_pool())
    >>> table[["round", "actual_cutoff", "estimated_cutoff", "error"]]
      round  actual_cutoff  estimated_cutoff  error
    0   253            511               515      4
    """
    pool_model._check_method(method)
    settings = settings or pool_model.Settings(tail_rate=tail_rate)
    bounds = bounds and method == "replay" and take_others
    snapshots = pool_model.snapshot_dates(pool)
    order = sorted(snapshots.unique())
    state = None
    if method == "replay":
        state = (
            pool_model._cached_replay(draws, pool, settings, bounds)
            if take_others
            else pool_model.replay(draws, pool, take_others=False, settings=settings)
        )
    rows = pool_model._pool_rows(pool[pool["distribution_date"].isin(order)])
    records = []
    for row in _targets(draws, pool).itertuples(index=False):
        position = order.index(snapshots[row.distribution_date]) - lag
        if position < 0:
            continue
        snapshot = pd.Timestamp(order[position])
        bins = pd.DataFrame(rows[snapshot], columns=list(pool_model.DISTRIBUTION_COLUMNS))
        prior = state.densities[snapshot] if state else None
        estimate = pool_model._estimate(
            bins,
            pool_model._spread_rows(rows[snapshot], method, settings, prior),
            int(row.invitations),
            method,
            distribution_date=snapshot,
            between=pool_model.rounds_between(draws, snapshot, row.round) if adjust else None,
            inflow=state.inflow(snapshot) if state and newcomers else None,
            on=pd.Timestamp(row.date),
            settings=settings,
            take_others=take_others,
            bounds=bounds,
        )
        low_bin, high_bin = pool_model._bin_of(bins, estimate.cutoff)
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
                "newcomers": bool(state) and newcomers,
                "rounds_between": len(estimate.rounds_between),
                "taken_out": estimate.taken_out,
                "added": estimate.added,
                "bin_width": high_bin - low_bin + 1,
            }
        )
    return pd.DataFrame(records, columns=BACKTEST_COLUMNS).astype(_DTYPES)


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

    >>> choice = choose_tail_rate(pool_model._example_draws(), pool_model._example_pool(),
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


def error_bands(
    draws: pd.DataFrame, pool: pd.DataFrame, methods: Iterable[str] = pool_model.METHODS
) -> dict:
    """The 5th and 95th percentile of backtest errors, rounded outwards, per method, situation
    and bin width: what :data:`analysis.pool.model.ERROR_BANDS` holds. "direct" is the backtest on
    each round's own distribution, "adjusted" on the previous one (rounds taken out, newcomers
    added). A class without rounds gets the method's band over all widths.

    >>> bands = error_bands(pool_model._example_draws(), pool_model._example_pool(), ["flat"])
    >>> bands["flat"]["direct"]["wide"]         # one round only: 5th = 95th percentile
    (42, 42)
    """
    bands: dict = {}
    for method in methods:
        bands[method] = {}
        for situation, lag in (("direct", 0), ("adjusted", 1)):
            table = backtest(draws, pool, method, lag=lag)
            narrow = table["bin_width"] <= pool_model.NARROW_BIN
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

    >>> check = next_snapshot_check(pool_model._example_draws(), pool_model._example_pool())
    >>> check[["bin", "published"]].head(2).to_dict("list")
    {'bin': ['481-490', '491-500'], 'published': [4719.0, 831.0]}
    """
    state = pool_model.replay(draws, pool, take_others=take_others)
    snapshots = sorted(state.densities)
    rows = pool_model._pool_rows(pool[pool["distribution_date"].isin(snapshots)])
    records = []
    for previous, date in zip(snapshots, snapshots[1:], strict=False):
        between = pool_model.rounds_between(draws, previous, until=date)
        if between.empty:
            continue
        density, _, _ = pool_model._forward(
            state.densities[previous],
            between,
            previous,
            date,
            state.inflow(previous),
            pool_model.DEFAULT_SETTINGS,
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

    >>> table, summaries = run_backtest(pool_model._example_draws(), pool_model._example_pool(),
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


def main_backtest() -> int:
    """``ee backtest``: backtest the pool model on the processed tables, write
    ``pool_backtest.parquet``/``.csv`` next to them and print the summary. Returns 0, or 1 when
    the processed tables are missing."""
    folder = config.processed_dir()
    try:
        draws, pool = load_draws(folder), load_pool(folder)
    except FileNotFoundError as missing:
        print(f"ee backtest: {missing}", file=sys.stderr)
        return 1
    table, summaries = run_backtest(draws, pool)
    choice = choose_tail_rate(draws, pool)
    written = write_backtest(table, folder)
    print(format_summary(summaries, choice))
    print(f"Wrote {written[0]} and {written[1].name}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main_backtest())
