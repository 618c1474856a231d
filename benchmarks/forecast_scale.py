"""What a month's forecast table costs as the history grows: the same category with 450 rounds and
with 100,000, in one run, as a ratio (issue 10, item 11).

    .venv/bin/python benchmarks/forecast_scale.py               # 5 repeats, prints a table
    .venv/bin/python benchmarks/forecast_scale.py --long 20000  # another long history

A report forecasts each category's next cutoff and replays the latest forecasts to show how they
did (:func:`analysis.report.tables.forecasts`: ``forecast_backtest(..., last=REPORT_FORECASTS,
window=REPORT_WINDOW)``). Both sides run exactly that on a synthetic family whose cutoffs wander
like real ones (a random walk around 480 with noise, fixed seed), preceded by rounds of other
families so that the draws table itself is that long. CPU time of this process, the two sides
run in turn (the machines are shared). Target: long / short <= 1.5 (the work is
bounded by the report's limits, not by the history). For contrast, the unbounded backtest (every
earlier round replayed) is timed on the short history only; on the long one it would take hours.

Exit status: 0 done (``--strict``: 3 when the target is missed), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

# One BLAS thread: idle BLAS threads spinning on a shared machine would count as CPU time.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402 (after the thread settings)
import pandas as pd  # noqa: E402

from analysis import forecast  # noqa: E402

TARGET = 1.5
FAMILY = "healthcare"


def synthetic_draws(rounds: int, family_rounds: int, seed: int = 7) -> pd.DataFrame:
    """``rounds`` rounds in date order, the last ``family_rounds`` of ``FAMILY`` among them
    (every other one), the rest CEC; cutoffs a random walk around 480."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2015-01-31", periods=rounds, freq="h")  # 100,000 days overflow
    family = np.array(["cec"] * rounds, dtype=object)
    family[-2 * family_rounds :: 2] = FAMILY
    walk = 480 + np.cumsum(rng.normal(0, 3, rounds)) * 0.1 + rng.normal(0, 12, rounds)
    return pd.DataFrame(
        {
            "round": pd.array([str(i + 1) for i in range(rounds)], dtype="string"),
            "date": dates,
            "family": pd.array(family, dtype="string"),
            "cutoff": pd.array(np.clip(walk.round(), 300, 900).astype(int), dtype="Int64"),
        }
    )


def report_forecast(draws: pd.DataFrame) -> None:
    """What the report's forecast table computes for one category."""
    forecast.forecast_next_cutoff(draws, FAMILY, window=forecast.REPORT_WINDOW)
    forecast.forecast_backtest(
        draws, FAMILY, window=forecast.REPORT_WINDOW, last=forecast.REPORT_FORECASTS
    )


def cpu_seconds(work) -> float:
    """CPU time of ``work`` in this process: the machines are shared, and wall time under load
    measures the neighbours as much as the code."""
    start = time.process_time()
    work()
    return time.process_time() - start


def interleaved(works: list, repeats: int) -> list[float]:
    """Median CPU seconds of each of ``works``, run in turn ``repeats`` times (A B A B ...), so
    that a slow moment of the machine hits both sides."""
    times: list[list[float]] = [[] for _ in works]
    for _ in range(repeats):
        for i, work in enumerate(works):
            times[i].append(cpu_seconds(work))
    return [statistics.median(t) for t in times]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=450, help="rounds in the short history")
    parser.add_argument("--long", type=int, default=100_000, help="rounds in the long history")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args(argv)
    if not 200 <= args.short < args.long or args.repeats < 1:
        parser.error("need 200 <= --short < --long and --repeats >= 1")
    short = synthetic_draws(args.short, args.short // 4)
    long = synthetic_draws(args.long, args.long // 4)
    a, b = interleaved(
        [lambda: report_forecast(short), lambda: report_forecast(long)], args.repeats
    )
    unbounded = cpu_seconds(lambda: forecast.forecast_backtest(short, FAMILY))
    ratio = b / a
    print("| scenario | CPU seconds |")
    print("| --- | ---: |")
    for n, seconds in ((args.short, a), (args.long, b)):
        print(f"| report forecast, {n:,} rounds ({n // 4:,} of the family) | {seconds:.2f} |")
    print(f"| unbounded backtest, {args.short:,} rounds (every earlier round) | {unbounded:.2f} |")
    print(
        f"\nlong / short = {ratio:.2f} (target <= {TARGET}); "
        f"medians of {args.repeats}, interleaved."
    )
    return 3 if args.strict and ratio > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
