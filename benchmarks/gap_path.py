"""How many source files one published gap passes through (issue 18, item 7: at most 15).

Builds one month's answer block the way the monthly notebook does (``check_parameters`` ->
``prepare_month`` -> ``answers`` -> the ``Answers`` block rendered by the page renderer)
from draws and pool already cleaned from a feed, with a profiler on, and lists every file of
``src/analysis`` whose functions ran between the loaded draws and the rendered answer card.
Loading and cleaning the feed happen before the profiler starts; modules are imported before it
too, and the body of a module or class run by an import is not counted (only functions).

What it does not count: the orchestrator around a month (``ee report``: plan, worker processes,
papermill, the page check and the site swap), which the issue's figure of 33 files included.

    .venv/bin/python benchmarks/gap_path.py                  # newest month, newest snapshot
    .venv/bin/python benchmarks/gap_path.py --month 2023-07  # a month with all-program rounds
    .venv/bin/python benchmarks/gap_path.py --feed tests/fixtures/feeds/small_feed.json
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from pathlib import Path

import analysis
from analysis import config
from analysis.ingest.clean import clean_rounds
from analysis.ingest.feed import load_rounds
from analysis.publish.content import Answers, block_html
from analysis.report.month_report import answers, check_parameters, prepare_month

SRC = Path(analysis.__file__).resolve().parent
TARGET = 15


def files_on_the_gap_path(feed: Path, month: str | None) -> tuple[str, dict[str, list[str]], str]:
    """(month, {src/analysis file: the functions of it that ran}, the rendered answer card)."""
    data = feed.read_bytes()
    cleaned = clean_rounds(load_rounds(data, feed.name))
    draws, pool = cleaned.draws, cleaned.pool
    month = month or f"{draws['date'].max():%Y-%m}"
    seen: dict[str, set[str]] = {}

    def profile(frame, event, _arg) -> None:
        # functions only: a module's or a class's body (run by an import) is not counted
        if event == "call" and frame.f_code.co_flags & inspect.CO_NEWLOCALS:
            name = frame.f_code.co_filename
            if name.startswith(str(SRC)):
                where = str(Path(name).resolve().relative_to(SRC.parent.parent))
                seen.setdefault(where, set()).add(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        params = check_parameters(month, data_end=draws["date"].max())
        month_data = prepare_month(draws, pool, params, retrieved_at=draws["date"].max())
        card = str(block_html(Answers(answers(month_data))))
    finally:
        sys.setprofile(None)
    return month, {name: sorted(seen[name]) for name in sorted(seen)}, card


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--feed",
        type=Path,
        default=config.shared_snapshots_dir() / "ee_rounds_2026-03-05.json",
        help="a feed in IRCC's format (default: the newest shared snapshot)",
    )
    parser.add_argument("--month", help="YYYY-MM (default: the feed's newest month)")
    parser.add_argument("--functions", action="store_true", help="list the functions that ran")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    month, files, card = files_on_the_gap_path(args.feed, args.month)
    if args.json:
        print(json.dumps({"feed": str(args.feed), "month": month, "files": files}, indent=1))
    else:
        print(f"{args.feed.name}, {month}: {len(files)} files (target <= {TARGET})")
        for name, functions in files.items():
            print(f"  {name}" + (f": {', '.join(functions)}" if args.functions else ""))
    return 0 if "<" in card else 1


if __name__ == "__main__":
    raise SystemExit(main())
