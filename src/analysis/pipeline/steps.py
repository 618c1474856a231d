"""The steps behind the ``ee`` commands: fetch and clean (each recorded by its ingestion notebook
when something changed), then one month or several (:mod:`analysis.pipeline.build`).

Every command runs as a :class:`Run`: it says what it does through a
:class:`~analysis.pipeline.progress.Progress` and keeps, step by step, what each step did and how
long it took (``ee ... --json`` prints that).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.data import load_inputs, load_quality, read_meta
from analysis.errors import BadArgument
from analysis.ingest.process import clean_latest_snapshot, damaged_files, processed_is_current
from analysis.ingest.quality import Finding
from analysis.ingest.retrieve import fell_back, retrieve_feed
from analysis.ingest.snapshots import retrieval_state
from analysis.pipeline.build import build_reports, data_lock
from analysis.pipeline.notebooks import run_notebook
from analysis.pipeline.progress import Progress
from analysis.report.month_report import report_months
from analysis.storage import stamp_matches, write_stamp
from analysis.vocabulary import check_month, plural


@dataclass
class Run:
    """One ``ee`` command as it runs: where it reports, and what each of its steps did."""

    command: str
    progress: Progress = field(default_factory=Progress)
    steps: list[dict] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def say(self, message: str) -> None:
        """Tell the user (a line of output)."""
        self.progress.say(message)

    def warn(self, message: str) -> None:
        """Tell the user something they should know about their arguments (on stderr)."""
        self.progress.warn(f"ee {self.command}: warning: {message}")

    def step(self, name: str, work: Callable[[], dict]) -> dict:
        """Run ``work`` as the step ``name``; keep what it returns and how long it took."""
        began = time.perf_counter()
        details = work()
        seconds = round(time.perf_counter() - began, 3)
        self.steps.append({"step": name, "seconds": seconds, **details})
        return details

    def summary(self, status: str = "ok", error: str | None = None) -> dict:
        """What the command did, as JSON-ready data: its steps with their timings."""
        return {
            "command": self.command,
            "status": status,
            "error": error,
            "seconds": round(time.perf_counter() - self.started, 3),
            "steps": self.steps,
        }


def _record_path(name: str):
    return config.runs_dir() / f"{name}.ipynb"


def _record_stamp(name: str, state: str) -> tuple[Path, str]:
    """Where ``runs/<name>.ipynb``'s stamp is, and what it must record: the notebook and the
    data ``state`` it was run for."""
    notebook = config.notebooks_dir() / f"{name}.ipynb"
    fingerprint = hashlib.sha256(notebook.read_bytes() + state.encode()).hexdigest()
    return config.runs_dir() / f"{name}.json", fingerprint


def _record_is_current(name: str, state: str) -> bool:
    """True when ``runs/<name>.ipynb`` was made by the current notebook for the same ``state``."""
    return _record_path(name).exists() and stamp_matches(*_record_stamp(name, state))


#: Seconds ``ee fetch`` / ``ee clean`` wait for another command to finish (they are short);
#: ``ee report`` and ``ee reports`` do not wait (they say who is running instead). Each step
#: holds the data lock (:func:`analysis.pipeline.build.data_lock`, a context manager used as a
#: decorator): one command at a time changes ``data/`` and the site.
STEP_LOCK_WAIT = 120.0


@data_lock(wait=STEP_LOCK_WAIT)
def fetch_step(run: Run, source: str | None = None, notebook: bool = True) -> dict:
    """Retrieve and store the feed; record it with notebook 1.0-ingest when something is new."""
    if source:
        os.environ["EE_FEED"] = source
    source = config.feed_source()
    run.say(f"ee fetch: retrieving {source}")
    snapshot = retrieve_feed(source)
    record = _record_path("1.0-ingest")
    recorded = notebook and (
        snapshot.new_content or not _record_is_current("1.0-ingest", snapshot.sha256)
    )
    if recorded:
        run_notebook("1.0-ingest", record, {"source": source, "retrieve_now": False})
        write_stamp(*_record_stamp("1.0-ingest", snapshot.sha256))
    fallback = fell_back(snapshot)  # why a stored snapshot stands in (None: the feed was read now)
    if fallback and not snapshot.new_content:
        state = "nothing new retrieved; the latest stored snapshot is used"
    else:
        state = retrieval_state(snapshot)
    run.say(
        f"ee fetch: {snapshot.rounds} rounds, newest {snapshot.newest_round} on "
        f"{snapshot.newest_date}; {state}: {config.raw_dir() / snapshot.file}"
    )
    return {
        "source": source,
        "snapshot": snapshot.file,
        "sha256": snapshot.sha256,
        "rounds": snapshot.rounds,
        "newest_round": snapshot.newest_round,
        "newest_date": snapshot.newest_date,
        "new_content": snapshot.new_content,
        "run_record": str(record) if recorded else None,
        "fallback": fallback,
    }


@data_lock(wait=STEP_LOCK_WAIT)
def clean_step(run: Run, force: bool = False, notebook: bool = True) -> dict:
    """Clean the newest snapshot (notebook 1.1-clean) unless processed/ is already up to date
    (and its files are the ones cleaning wrote: damaged ones are rebuilt from raw/, said so)."""

    def state() -> str:
        meta = read_meta() or {}
        return f"{meta.get('sha256')}:{meta.get('code')}"

    damage = damaged_files()
    if damage:
        run.warn(
            f"the processed tables are damaged ({'; '.join(damage)}); rebuilding them from raw/"
        )
    skipped = (
        not force
        and processed_is_current()
        and (not notebook or _record_is_current("1.1-clean", state()))
    )
    if skipped:
        meta = read_meta()
        run.say(
            f"ee clean: processed tables are up to date ({meta['rounds_clean']} rounds from "
            f"{meta['file']})"
        )
    elif notebook:
        run_notebook("1.1-clean", _record_path("1.1-clean"), {"force": bool(force)})
        write_stamp(*_record_stamp("1.1-clean", state()))
    else:
        clean_latest_snapshot(force=force)
    meta = read_meta()
    quality = load_quality()
    counts = {s: int(quality["severity"].eq(s).sum()) for s in ("warning", "repaired")}
    if not skipped:
        run.say(
            f"ee clean: {meta['rounds_clean']} rounds from {meta['file']} "
            f"(newest {meta['newest_date']}) -> {config.processed_dir()}"
        )
        for severity, word in (("warning", "warning"), ("repaired", "repair")):
            found = quality[quality["severity"] == severity]
            run.say(f"  {plural(len(found), word)}:")
            for row in found.itertuples(index=False):
                run.say(f"    - {Finding(*(None if pd.isna(v) else v for v in row))}")
    return {
        "skipped": skipped,
        "snapshot": meta["file"],
        "rounds": meta["rounds_clean"],
        "newest_date": meta["newest_date"],
        "warnings": counts["warning"],
        "repairs": counts["repaired"],
        "run_record": str(_record_path("1.1-clean")) if notebook and not skipped else None,
    }


def data_steps(
    run: Run, source: str | None = None, force: bool = False, notebook: bool = True
) -> None:
    """``ee data`` (and the first half of ``ee report``): fetch, then clean, with progress."""
    steps = (
        ("fetch", lambda: fetch_step(run, source, notebook=notebook)),
        ("clean", lambda: clean_step(run, force, notebook=notebook)),
    )
    with run.progress.tracking(len(steps), "steps", doing="running", done="done") as tracker:
        for name, work in steps:
            tracker.started(name)
            run.step(name, work)
            tracker.finished(name, run.steps[-1]["seconds"])


def _months_in_data(wanted: dict[str, str], inputs) -> None:
    """Raise :class:`BadArgument` for a month (``{month: the option that named it}``) the data
    cannot report on: before its first round or after its newest."""
    first, newest = inputs.draws["date"].min(), inputs.data_end
    for month, what in wanted.items():
        try:
            check_month(month, what, first_round=first, newest_round=newest)
        except ValueError as error:
            raise BadArgument(str(error)) from None


def _build(run: Run, months: list[str], jobs: int, force: bool, inputs) -> dict:
    return run.step(
        "build",
        lambda: build_reports(months, jobs=jobs, force=force, progress=run.progress, inputs=inputs),
    )


@data_lock()
def report_step(
    run: Run, month: str | None = None, force: bool = False, fetch: bool = True
) -> None:
    """``ee report``: fetch, clean, build one month (default: the newest), every other published
    month whose inputs changed (:func:`analysis.pipeline.plan.plan_months`), and the index."""
    if fetch:
        data_steps(run)
    inputs = load_inputs()
    month = month or f"{inputs.data_end:%Y-%m}"
    _months_in_data({month: "--month"}, inputs)
    # One month: with a second CPU, the family pages are drawn beside it (build_reports).
    result = _build(run, [month], jobs=min(2, os.cpu_count() or 1), force=force, inputs=inputs)
    run.say(f"ee report: {os.path.join(result['site'], month, 'index.html')}")


@data_lock()
def reports_step(
    run: Run,
    since: str | None = None,
    until: str | None = None,
    months: list[str] | None = None,
    jobs: int = 1,
    force: bool = False,
    fetch: bool = True,
) -> None:
    """``ee reports``: the given ``months``, or every month from ``since`` to ``until`` (default:
    the newest); ``jobs`` at a time, at most one per month and per CPU."""
    if fetch:
        data_steps(run)
    inputs = load_inputs()
    if months is None:
        _months_in_data({m: f"--{w}" for w, m in (("since", since), ("until", until)) if m}, inputs)
        months = report_months(inputs.draws, since, until)
    else:
        _months_in_data(dict.fromkeys(months, "--months"), inputs)
    cpus = os.cpu_count() or 1
    capped = max(1, min(jobs, len(months), cpus))
    if capped < jobs:
        limit = "the number of months" if capped == len(months) else f"{plural(cpus, 'CPU')}"
        run.warn(f"--jobs {jobs} capped at {capped} ({limit})")
    started = time.perf_counter()
    result = _build(run, months, jobs=capped, force=force, inputs=inputs)
    run.say(
        f"ee reports: {plural(len(months), 'month')} in {time.perf_counter() - started:.1f} s -> "
        f"{os.path.join(result['site'], 'index.html')}"
    )
