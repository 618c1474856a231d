"""Work that must grow linearly with its input, measured as ratios within one run (moved out of
the test suite, where a ratio of timings fails at random on a busy machine).

    .venv/bin/python benchmarks/linearity.py            # prints a table
    .venv/bin/python benchmarks/linearity.py --strict   # exit 3 when a ratio misses its target

- Classifying a round name built to make regular expressions backtrack (the shapes of the
  hostile-input tests, 40,000 characters), then the same name ten times longer: linear gives a
  ratio near 10, the old quadratic patterns near 100. Target: below 35.
- Cleaning a synthetic feed of 1,000 rounds, then of 10,000 (``benchmarks/synthetic.py``).
  Target: below 30.

Each time is the best of a few repeats (CPU time of this process). Exit status: 0 done
(``--strict``: 3 when a target is missed), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date

from synthetic import synthetic_feed_bytes

from analysis import taxonomy
from analysis.ingest.clean import clean_rounds
from analysis.ingest.feed import load_rounds

#: Names that made the old version patterns backtrack.
NAMES = {
    "commas": "," * 40_000,
    "a year then spaces": "2026" + " " * 40_000 + "x",
    "version then spaces": "version 1" + " " * 40_000 + "x",
}
NAME_TARGET = 35
CLEANING_TARGET = 30
RETRIEVED = date(2026, 3, 5)


def best_time(work, repeat: int) -> float:
    """The shortest CPU time of ``repeat`` runs of ``work()``."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def ratios(repeat: int) -> list[tuple[str, float, float]]:
    """(what, ratio of 10x the input to 1x, target) for each measurement."""
    rows = []
    for shape, name in NAMES.items():
        small = best_time(lambda name=name: taxonomy.classify(name), repeat)
        large = best_time(lambda name=name: taxonomy.classify(name * 10), repeat)
        rows.append((f"classify a name: {shape}", large / small, NAME_TARGET))
    small_feed = load_rounds(synthetic_feed_bytes(1_000, seed=0))
    large_feed = load_rounds(synthetic_feed_bytes(10_000, seed=0))
    small = best_time(lambda: clean_rounds(small_feed, today=RETRIEVED), repeat)
    large = best_time(lambda: clean_rounds(large_feed, today=RETRIEVED), max(1, repeat // 2))
    rows.append(("clean a feed: 1,000 -> 10,000 rounds", large / small, CLEANING_TARGET))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per time (the best counts)")
    parser.add_argument("--strict", action="store_true", help="exit 3 when a target is missed")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    missed = False
    print(f"{'10x the input':<45} {'ratio':>7} {'target':>7}")
    for what, ratio, target in ratios(args.repeat):
        missed |= ratio >= target
        flag = "" if ratio < target else "  MISSED"
        print(f"{what:<45} {ratio:>7.1f} {'< ' + str(target):>7}{flag}")
    return 3 if missed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
