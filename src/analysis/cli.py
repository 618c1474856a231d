"""The ``ee`` command (also ``python -m analysis``), on click: README, "The ``ee`` command", lists
the commands and their options (``--json`` prints what each step did, and how long it took).

Arguments and ``EE_*`` settings are checked before any work: a month follows the month rule
(:func:`analysis.vocabulary.check_month`), ``--since`` not after ``--until``, ``--jobs`` at least 1,
settings as :func:`analysis.config.check_settings` says. What only the data can tell (a month
after the newest round) is checked as soon as the data is read, before any report is built.

Exit status: 0 on success, 1 when the run cannot be trusted (the message says why and names
the round and field), 2 on bad command-line arguments or settings, 130 when interrupted.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime

import click

from analysis import config
from analysis.errors import USER_ERRORS, BadArgument
from analysis.ingest.process import ACCEPT_REMOVALS_VARIABLE
from analysis.pipeline.progress import Progress
from analysis.pipeline.steps import (
    Run,
    clean_step,
    data_steps,
    fetch_step,
    report_step,
    reports_step,
)
from analysis.pool.accuracy import main_backtest
from analysis.vocabulary import check_month

#: Exit status for bad command-line arguments (as click and argparse use).
BAD_ARGUMENTS = 2
#: Exit status when the run cannot be trusted.
FAILED = 1
#: Exit status after Ctrl-C (128 + SIGINT).
INTERRUPTED = 130


def _month(text: str, what: str) -> str:
    """``text`` if it follows the month rule (:func:`analysis.vocabulary.check_month`)."""
    try:
        return check_month(text, what)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def _month_option(ctx: click.Context, param: click.Parameter, value: str | None):
    """A month (``--since``, ``--until``), or the sorted months of ``--months a,b``."""
    if value is None or param.name != "months":
        return None if value is None else _month(value, f"--{param.name}")
    if not value.replace(",", ""):
        raise click.BadParameter("is empty: list months as YYYY-MM,YYYY-MM")
    return sorted({_month(part, "--months") for part in value.split(",")})


def _execute(command: str, as_json: bool, work: Callable) -> int:
    """Run ``work(run)`` as ``ee <command>``: exit status, error messages, ``--json`` summary."""
    run = Run(command, Progress(sys.stderr if as_json else sys.stdout))
    status, error = 0, None
    try:
        config.check_settings()
        work(run)
    except USER_ERRORS as exc:  # BadArgument among them: a ValueError
        status = BAD_ARGUMENTS if isinstance(exc, BadArgument) else FAILED
        error = str(exc)
        click.echo(f"ee {command}: error: {exc}", err=True)
    except KeyboardInterrupt:
        status, error = INTERRUPTED, "interrupted"
        click.echo(f"ee {command}: interrupted; published data and reports are unchanged", err=True)
    if as_json:
        summary = run.summary("ok" if status == 0 else "error", error)
        click.echo(json.dumps({**summary, "exit_status": status}, indent=2))
    if logging.getLogger().isEnabledFor(logging.INFO):
        run.say(
            f"ee {command}: done in {run.summary()['seconds']:.1f} s "
            f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
        )
    return status


_source = click.option(
    "--source", metavar="URL_OR_FILE", help="URL or local file (default: EE_FEED or IRCC's URL)"
)
_no_notebook = click.option(
    "--no-notebook", is_flag=True, help="run the helpers directly (no run record)"
)
_force = click.option("--force", is_flag=True, help="redo the work even if nothing changed")
_no_fetch = click.option("--no-fetch", is_flag=True, help="use the processed data as it is")


def _set_accept_removals(ctx, param, value: bool) -> None:
    """``--accept-removals`` reaches cleaning (also in its notebook) as EE_ACCEPT_REMOVALS."""

    if value:
        os.environ[ACCEPT_REMOVALS_VARIABLE] = "1"
    else:
        os.environ.pop(ACCEPT_REMOVALS_VARIABLE, None)


_accept_removals = click.option(
    "--accept-removals",
    is_flag=True,
    expose_value=False,
    callback=_set_accept_removals,
    help="accept a feed that lacks rounds published before, or is older (they stay, marked)",
)
_as_json = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="print what was done and how long each step took as JSON on stdout",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="log more")
def ee(verbose: bool) -> None:
    """Express Entry draws analysis."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@ee.command()
@_source
@_no_notebook
def fetch(source: str | None, no_notebook: bool) -> int:
    """Retrieve the feed into raw/ (notebook 1.0-ingest)."""
    return _execute("fetch", False, lambda run: fetch_step(run, source, not no_notebook))


@ee.command()
@_force
@_no_notebook
@_accept_removals
def clean(force: bool, no_notebook: bool) -> int:
    """Clean the newest snapshot into processed/ (notebook 1.1-clean)."""
    return _execute("clean", False, lambda run: clean_step(run, force, not no_notebook))


@ee.command()
@_source
@_force
@_no_notebook
@_accept_removals
@_as_json
def data(source: str | None, force: bool, no_notebook: bool, as_json: bool) -> int:
    """Fetch, then clean."""
    return _execute("data", as_json, lambda run: data_steps(run, source, force, not no_notebook))


@ee.command()
def backtest() -> int:
    """Backtest the pool model on all-program rounds."""
    statuses: list[int] = []
    failed = _execute("backtest", False, lambda run: statuses.append(main_backtest()))
    return failed or statuses[0]


@ee.command()
@click.option(
    "--month",
    metavar="YYYY-MM",
    callback=_month_option,
    help="the month (default: the month of the newest round)",
)
@_force
@_no_fetch
@_accept_removals
@_as_json
def report(month: str | None, force: bool, no_fetch: bool, as_json: bool) -> int:
    """Fetch, clean, build one month's report (and every stale published month) and the index."""
    return _execute(
        "report", as_json, lambda run: report_step(run, month, force, fetch=not no_fetch)
    )


@ee.command()
@click.option("--since", metavar="YYYY-MM", callback=_month_option, help="first month")
@click.option(
    "--until", metavar="YYYY-MM", callback=_month_option, help="last month (default: the newest)"
)
@click.option(
    "--months",
    metavar="YYYY-MM,...",
    callback=_month_option,
    help="these months only (instead of --since/--until)",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default="the number of CPUs",
    help="months built at the same time (at most one per month and per CPU)",
)
@_force
@_no_fetch
@_accept_removals
@_as_json
def reports(
    since: str | None,
    until: str | None,
    months: list[str] | None,
    jobs: int,
    force: bool,
    no_fetch: bool,
    as_json: bool,
) -> int:
    """The same for every month in a range (or the months listed), in parallel."""
    if months is not None and (since or until):
        raise click.UsageError("give either --months or --since/--until, not both")
    if months is None and since is None:
        raise click.UsageError("give --since YYYY-MM (and optionally --until), or --months")
    if since and until and since > until:
        raise click.BadParameter(f"--since {since} is after --until {until}", param_hint="--since")
    return _execute(
        "reports",
        as_json,
        lambda run: reports_step(run, since, until, months, jobs, force, fetch=not no_fetch),
    )


def main(argv: list[str] | None = None) -> int:
    """Run ``ee`` with ``argv`` (default: the command line); return the exit status."""
    try:
        status = ee.main(args=argv, prog_name="ee", standalone_mode=False)
    except click.exceptions.Exit as done:  # --help
        return done.exit_code
    except click.ClickException as error:  # bad arguments: usage and message on stderr
        error.show()
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("ee: interrupted", err=True)
        return INTERRUPTED
    return status if isinstance(status, int) else 0
