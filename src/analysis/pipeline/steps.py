"""The steps behind the ``ee`` commands: fetch and clean (each recorded by its ingestion notebook
when something changed), then one month or a range of months (:mod:`analysis.pipeline.build`).
"""

from __future__ import annotations

import hashlib
import os
import sys
import time

import pandas as pd

from analysis import config
from analysis.pipeline.build import build_reports, data_lock
from analysis.storage import stamp_matches, write_stamp
from analysis.wording import plural


def _say(message: str) -> None:
    print(message, flush=True)


def _record_path(name: str):
    return config.runs_dir() / f"{name}.ipynb"


def _record_fingerprint(name: str, state: str) -> str:
    """What a run record of notebook ``name`` depends on: the notebook and the data ``state``."""

    notebook = config.notebooks_dir() / f"{name}.ipynb"
    return hashlib.sha256(notebook.read_bytes() + state.encode()).hexdigest()


def _record_is_current(name: str, state: str) -> bool:
    """True when ``runs/<name>.ipynb`` was made by the current notebook for the same ``state``."""

    stamp = config.runs_dir() / f"{name}.json"
    return _record_path(name).exists() and stamp_matches(stamp, _record_fingerprint(name, state))


def _mark_record(name: str, state: str) -> None:

    write_stamp(config.runs_dir() / f"{name}.json", _record_fingerprint(name, state))


#: Seconds ``ee fetch`` / ``ee clean`` wait for another command to finish (they are short).
STEP_LOCK_WAIT = 120.0


def fetch_step(source: str | None = None, notebook: bool = True) -> None:
    """Retrieve and store the feed; record it with notebook 1.0-ingest when something is new."""
    with data_lock(wait=STEP_LOCK_WAIT):
        _fetch_step(source, notebook)


def _fetch_step(source: str | None, notebook: bool) -> None:
    from analysis.ingest.retrieve import retrieve_feed
    from analysis.pipeline.notebooks import run_notebook

    if source:
        os.environ["EE_FEED"] = source
    source = config.feed_source()
    _say(f"ee fetch: retrieving {source}")
    snapshot = retrieve_feed(source)
    record = _record_path("1.0-ingest")
    if notebook and (snapshot.new_content or not _record_is_current("1.0-ingest", snapshot.sha256)):
        run_notebook("1.0-ingest", record, {"source": source, "retrieve_now": False})
        _mark_record("1.0-ingest", snapshot.sha256)
    state = (
        "new content stored"
        if snapshot.new_content
        else "same content as the latest stored snapshot"
    )
    _say(
        f"ee fetch: {snapshot.rounds} rounds, newest {snapshot.newest_round} on "
        f"{snapshot.newest_date}; {state}: {config.raw_dir() / snapshot.file}"
    )


def clean_step(force: bool = False, notebook: bool = True) -> None:
    """Clean the newest snapshot (notebook 1.1-clean) unless processed/ is already up to date
    (and its files are the ones cleaning wrote: damaged ones are rebuilt from raw/, said so)."""
    with data_lock(wait=STEP_LOCK_WAIT):
        _clean_step(force, notebook)


def _clean_step(force: bool, notebook: bool) -> None:
    from analysis.data import load_quality, read_meta
    from analysis.ingest.process import clean_latest_snapshot, damaged_files, processed_is_current
    from analysis.ingest.quality import Finding
    from analysis.pipeline.notebooks import run_notebook

    def state() -> str:
        meta = read_meta() or {}
        return f"{meta.get('sha256')}:{meta.get('code')}"

    damage = damaged_files()
    if damage:
        print(
            "ee clean: warning: the processed tables are damaged ("
            + "; ".join(damage)
            + "); rebuilding them from raw/",
            file=sys.stderr,
            flush=True,
        )

    if (
        not force
        and processed_is_current()
        and (not notebook or _record_is_current("1.1-clean", state()))
    ):
        meta = read_meta()
        _say(
            f"ee clean: processed tables are up to date ({meta['rounds_clean']} rounds from "
            f"{meta['file']})"
        )
        return
    if notebook:
        run_notebook("1.1-clean", _record_path("1.1-clean"), {"force": bool(force)})
        _mark_record("1.1-clean", state())
    else:
        clean_latest_snapshot(force=force)
    meta = read_meta()
    quality = load_quality()
    _say(
        f"ee clean: {meta['rounds_clean']} rounds from {meta['file']} "
        f"(newest {meta['newest_date']})"
        f" -> {config.processed_dir()}"
    )
    for severity, word in (("warning", "warning"), ("repaired", "repair")):
        found = quality[quality["severity"] == severity]
        _say(f"  {plural(len(found), word)}:")
        for row in found.itertuples(index=False):
            _say(f"    - {Finding(*(None if pd.isna(v) else v for v in row))}")


def _refresh_data() -> None:
    fetch_step()
    clean_step()


def report_step(month: str | None = None, force: bool = False, fetch: bool = True) -> int:
    """``ee report``: fetch, clean, build one month (default: the newest) and the index."""
    with data_lock():
        return _report_step(month, force, fetch)


def _report_step(month: str | None, force: bool, fetch: bool) -> int:
    from analysis.data import load_inputs
    from analysis.report.month import check_parameters

    if fetch:
        _refresh_data()
    inputs = load_inputs()
    month = month or f"{inputs.data_end:%Y-%m}"
    check_parameters(month, data_end=inputs.data_end)
    result = build_reports([month], jobs=1, force=force, say=_say, inputs=inputs)
    _say(f"ee report: {result['site'] / month / 'index.html'}")
    return 0


def reports_step(
    since: str, until: str | None = None, jobs: int = 1, force: bool = False, fetch: bool = True
) -> int:
    """``ee reports``: every month from ``since`` to ``until`` (default: the newest)."""
    with data_lock():
        return _reports_step(since, until, jobs, force, fetch)


def _reports_step(since: str, until: str | None, jobs: int, force: bool, fetch: bool) -> int:
    from analysis.data import load_inputs
    from analysis.report.month import check_parameters, report_months

    if fetch:
        _refresh_data()
    inputs = load_inputs()
    for bound in (since, until):
        if bound:
            check_parameters(bound, data_end=inputs.data_end)
    months = report_months(inputs.draws, since, until)
    if not months:
        _say(f"ee reports: no month between {since} and {until}")
        return 1
    started = time.perf_counter()
    result = build_reports(months, jobs=max(1, jobs), force=force, say=_say, inputs=inputs)
    _say(
        f"ee reports: {plural(len(months), 'month')} in {time.perf_counter() - started:.1f} s -> "
        f"{result['site'] / 'index.html'}"
    )
    return 0
