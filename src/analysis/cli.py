"""The ``ee`` command (also ``python -m analysis``).

    ee fetch [--source URL_OR_PATH]   retrieve the feed into data/raw (notebook 1.0-ingest)
    ee clean [--force]                clean the newest snapshot into data/processed (1.1-clean)
    ee data                           fetch, then clean
    ee backtest                       backtest the pool model against all-program rounds
    ee report [--month YYYY-MM]       build one month's report (default: the newest) and the index
    ee reports --since YYYY-MM ...    build every month in a range, in parallel

Exit status: 0 on success, 1 when the run cannot be trusted (the message says why and names
the round and field), 2 on bad command-line arguments.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import UTC, datetime

from analysis.errors import USER_ERRORS


def _say(message: str) -> None:
    print(message, flush=True)


def cmd_fetch(args) -> int:
    from analysis.pipeline.steps import fetch_step

    fetch_step(args.source, notebook=not args.no_notebook)
    return 0


def cmd_clean(args) -> int:
    from analysis.pipeline.steps import clean_step

    clean_step(args.force, notebook=not args.no_notebook)
    return 0


def cmd_data(args) -> int:
    from analysis.pipeline.steps import clean_step, fetch_step

    fetch_step(args.source, notebook=not args.no_notebook)
    clean_step(args.force, notebook=not args.no_notebook)
    return 0


def cmd_backtest(args) -> int:
    from analysis.pool.backtest import main_backtest

    return main_backtest()


def cmd_report(args) -> int:
    from analysis.pipeline.steps import report_step

    return report_step(month=args.month, force=args.force, fetch=not args.no_fetch)


def cmd_reports(args) -> int:
    from analysis.pipeline.steps import reports_step

    return reports_step(
        since=args.since,
        until=args.until,
        jobs=args.jobs,
        force=args.force,
        fetch=not args.no_fetch,
    )


_SOURCE = ("--source", {"help": "URL or local file (default: EE_FEED or IRCC's URL)"})
_NO_NOTEBOOK = ("--no-notebook", {"action": "store_true", "help": "run the helpers directly"})
_FORCE = ("--force", {"action": "store_true", "help": "redo the work even if nothing changed"})
_NO_FETCH = ("--no-fetch", {"action": "store_true", "help": "use the processed data as it is"})

#: command -> (function, help, options)
COMMANDS = {
    "fetch": (
        cmd_fetch,
        "retrieve the feed into raw/ (notebook 1.0-ingest)",
        [_SOURCE, _NO_NOTEBOOK],
    ),
    "clean": (
        cmd_clean,
        "clean the newest snapshot into processed/ (notebook 1.1-clean)",
        [_FORCE, _NO_NOTEBOOK],
    ),
    "data": (cmd_data, "fetch, then clean", [_SOURCE, _FORCE, _NO_NOTEBOOK]),
    "backtest": (cmd_backtest, "backtest the pool model on all-program rounds", []),
    "report": (
        cmd_report,
        "fetch, clean, build one month's report and the index",
        [
            ("--month", {"help": "YYYY-MM (default: the month of the newest round)"}),
            _FORCE,
            _NO_FETCH,
        ],
    ),
    "reports": (
        cmd_reports,
        "the same for every month in a range, in parallel",
        [
            ("--since", {"required": True, "help": "first month, YYYY-MM"}),
            ("--until", {"help": "last month, YYYY-MM (default: the newest)"}),
            ("--jobs", {"type": int, "default": os.cpu_count() or 1, "help": "parallel processes"}),
            _FORCE,
            _NO_FETCH,
        ],
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ee", description="Express Entry draws analysis.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (func, help_text, options) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text)
        for flag, settings in options:
            command.add_argument(flag, **settings)
        command.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )

    started = time.perf_counter()
    try:
        status = args.func(args)
    except USER_ERRORS as exc:
        print(f"ee {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"ee {args.command}: interrupted; published data and reports are unchanged",
            file=sys.stderr,
        )
        return 130
    if args.verbose:
        _say(
            f"ee {args.command}: done in {time.perf_counter() - started:.1f} s "
            f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
