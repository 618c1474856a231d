"""Build an explicit list of months with the project's orchestrator.

``ee reports`` only takes a range (``--since``/``--until``). When the benchmark measures a subset
of months (``run.py --months K``), it needs the same code path for K evenly spaced months: this
script calls :func:`analysis.pipeline.build.build_reports`, which is exactly what ``ee reports``
calls after turning its range into a list of months.

    EE_DATA_DIR=... EE_REPORTS_DIR=... python benchmarks/build_months.py 2023-06,2024-11 --jobs 2
"""

from __future__ import annotations

import argparse
import sys
import time


def _say(message: str) -> None:
    print(message, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Build the months named on the command line; print what ``ee reports`` prints."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("months", help="comma-separated YYYY-MM list")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)

    from analysis.errors import BuildFailed
    from analysis.pipeline.build import build_reports

    months = [m.strip() for m in args.months.split(",") if m.strip()]
    started = time.perf_counter()
    try:
        result = build_reports(months, jobs=max(1, args.jobs), force=args.force, say=_say)
    except BuildFailed as exc:
        print(f"build_months: error: {exc}", file=sys.stderr)
        return 1
    _say(
        f"ee reports: {len(months)} month(s) in {time.perf_counter() - started:.1f} s -> "
        f"{result['site'] / 'index.html'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
