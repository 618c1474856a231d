"""The orchestrator behind ``ee report``, ``ee reports`` and ``make report``.

It knows each step's inputs and outputs:

    feed --fetch--> raw/ --clean--> processed/ --4.0-monthly-report--> reports/YYYY-MM/
                                                                   --> reports/index.html
    data/runs/1.1-clean.ipynb ------------------------------------> reports/data-quality/

- **Incremental.** A month is rebuilt only when something it depends on changed: its slice of the
  data (rounds and pool distributions dated up to the month's end, IRCC's revisions of those
  rounds, their data-quality findings), the report notebook, the parameters, the package code
  and the locked package versions. The fingerprint of those inputs is kept in the month's
  ``inputs.json``; nothing changed means nothing is run.
- **Parallel.** Months are independent: they are built in separate processes
  (``--jobs``). Kernels talk over IPC sockets, not TCP ports, so parallel papermill runs cannot
  race for ports.
- **Atomic.** Every month is built into a hidden staging folder inside the site; only when all
  of them have succeeded are they swapped in (one rename each), then the index is rewritten.
  A failing notebook, Ctrl-C or a kill leaves the published site as it was, and the message
  says which month failed and where its run record is (kept in ``data/runs/failed/``).
- **One run at a time** (:mod:`analysis.pipeline.lock`): every step holds the data lock, and
  publishing the site lock after it; workers die with the command, so a killed run never
  leaves a lock behind, and what it left (staging folders, retired months, kernel sockets) is
  removed at the next start.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import shutil
import sys
import time
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.errors import BuildFailed
from analysis.pipeline.lock import exclusive, terminate_as_interrupt, worker_initializer
from analysis.storage import (
    hash_files,
    hash_tree,
    remove_leftovers,
    stamp_matches,
    write_stamp,
    write_text_atomic,
)

SITE_TITLE = "Express Entry rounds of invitations: monthly reports"
REPORT_NOTEBOOK = "4.0-monthly-report"
DATA_QUALITY = "data-quality"
INPUTS_FILE = "inputs.json"
RECORD_FILE = "report.ipynb"
BUILDS = ".builds"
#: The data lock (in the data folder) and the site lock (in the site): taken in that order.
DATA_LOCK = ".ee.lock"
SITE_LOCK = ".lock"
#: Seconds ``ee fetch`` / ``ee clean`` wait for another command to finish (they are short).
STEP_LOCK_WAIT = 120.0
#: The package whose code every report depends on (walked recursively by :func:`code_fingerprint`).
PACKAGE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class MonthPlan:
    month: str
    fingerprint: str
    parameters: dict
    reason: str  # why it is (re)built, or "up to date"

    @property
    def needed(self) -> bool:
        return self.reason != "up to date"


# ------------------------------------------------------------------ fingerprints


def code_fingerprint(package: Path | None = None) -> str:
    """The report's code: every module, table and template of the package (walked recursively,
    so nested modules count), the report notebook, and the locked package versions."""
    package = package or PACKAGE
    extra = [config.notebooks_dir() / f"{REPORT_NOTEBOOK}.ipynb"]
    constraints = config.PROJECT_ROOT / "requirements" / "constraints.txt"
    if constraints.exists():
        extra.append(constraints)
    return hashlib.sha256(
        (hash_tree(package, ["."]) + hash_files(f for f in extra if f.is_file())).encode()
    ).hexdigest()


@dataclass(frozen=True)
class _TableHashes:
    """Row hashes of one table and, per row, the date up to which a month includes it."""

    columns: bytes
    rows: np.ndarray  # uint64 row hashes (pandas.util.hash_pandas_object)
    until: np.ndarray  # datetime64: the row belongs to every month ending on or after it

    def digest(self, end: pd.Timestamp) -> str:
        mask = self.until <= np.datetime64(end)
        return hashlib.sha256(self.rows[mask].tobytes() + self.columns).hexdigest()


def _table_hashes(frame: pd.DataFrame, until: pd.Series) -> _TableHashes:
    rows = pd.util.hash_pandas_object(frame.astype("string"), index=False).to_numpy()
    return _TableHashes(
        ",".join(frame.columns).encode(), rows, until.to_numpy(dtype="datetime64[ns]")
    )


def input_hashes(inputs) -> list[_TableHashes]:
    """Hash every row of the processed tables once; each month then selects its rows by date.

    A month depends on the rounds and distributions dated up to its end, IRCC's revisions of
    those rounds, and the data-quality findings about them (plus findings about no round).
    """
    round_dates = inputs.draws.set_index("round")["date"]
    never = pd.Timestamp.max.normalize()
    revision_dates = inputs.revisions["round"].map(round_dates).fillna(never)
    quality_dates = inputs.quality["round"].map(round_dates)
    quality_dates = quality_dates.mask(inputs.quality["round"].isna(), pd.Timestamp.min).fillna(
        never
    )
    return [
        _table_hashes(inputs.draws, inputs.draws["date"]),
        _table_hashes(inputs.pool, inputs.pool["distribution_date"]),
        _table_hashes(inputs.revisions, revision_dates.astype("datetime64[ns]")),
        _table_hashes(inputs.quality, quality_dates.astype("datetime64[ns]")),
    ]


def month_fingerprint(
    inputs,
    month: str,
    parameters: dict,
    code: str,
    to_date: bool,
    hashes: list[_TableHashes] | None = None,
) -> str:
    """What a month's report depends on, as one sha256 (``hashes``: from :func:`input_hashes`,
    to share the row hashing between months)."""
    from analysis.report.month import month_bounds

    _, end = month_bounds(month)
    tables = hashes if hashes is not None else input_hashes(inputs)
    parts = [
        *(table.digest(end) for table in tables),
        json.dumps(parameters, sort_keys=True),
        code,
        str(to_date),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def plan(
    months: list[str], inputs, site: Path, force: bool = False, parameters: dict | None = None
) -> list[MonthPlan]:
    """For each month: its fingerprint and whether (and why) it must be rebuilt."""
    from analysis.report.month import is_to_date

    code = code_fingerprint()
    hashes = input_hashes(inputs)
    plans = []
    for month in months:
        params = {"month": month, **(parameters or {})}
        fingerprint = month_fingerprint(
            inputs, month, params, code, is_to_date(month, inputs.retrieved_at), hashes
        )
        published = site / month / INPUTS_FILE
        if force:
            reason = "forced"
        elif not (site / month / "index.html").exists() or not published.exists():
            reason = "not built yet"
        elif not stamp_matches(published, fingerprint):
            reason = "inputs changed"
        else:
            reason = "up to date"
        plans.append(MonthPlan(month, fingerprint, params, reason))
    return plans


# ------------------------------------------------------------------ building


def build_month(plan_: MonthPlan, staging: Path, data_dir: str) -> tuple[str, float]:
    """Run the report notebook for one month into ``staging/<month>/`` and export its HTML.

    Runs in a worker process. Returns (month, seconds); failures come back as
    :class:`RuntimeError` with the message (exceptions must survive the trip between processes).
    """
    try:
        return _build_month(plan_, staging, data_dir)
    except Exception as exc:  # noqa: BLE001 (sent back to the parent as text)
        raise RuntimeError(_keep_failed_record(str(exc), plan_.month, staging, data_dir)) from None


def _keep_failed_record(message: str, month: str, staging: Path, data_dir: str) -> str:
    """Copy a failed month's run record out of the staging folder (deleted when the command
    ends) to ``<data>/runs/failed/<month>.ipynb``; the message then points there."""
    record = staging / month / RECORD_FILE
    if not record.is_file():
        return message
    kept = Path(data_dir) / "runs" / "failed" / f"{month}.ipynb"
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(record, kept)
    except OSError:
        return message
    return message.replace(str(record), str(kept)) if str(record) in message else message


def _build_month(plan_: MonthPlan, staging: Path, data_dir: str) -> tuple[str, float]:
    from analysis.pipeline.notebooks import run_notebook
    from analysis.publish import render as publish

    started = time.perf_counter()
    folder = staging / plan_.month
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / RECORD_FILE
    run_notebook(
        REPORT_NOTEBOOK,
        record,
        {**plan_.parameters, "data_dir": data_dir, "output_dir": str(folder)},
    )
    summary = json.loads((folder / "summary.json").read_text())
    html = publish.notebook_to_html(
        record,
        title=f"Express Entry rounds: {summary['title']}",
        index_href="../index.html",
        footer=f"Data: IRCC Express Entry rounds feed, snapshot {summary['snapshot']['file']} "
        f"(sha256 {str(summary['snapshot']['sha256'])[:12]}). Open Government Licence - "
        "Canada.",
    )
    write_text_atomic(folder / "index.html", html)
    write_stamp(folder / INPUTS_FILE, plan_.fingerprint, parameters=plan_.parameters)
    return plan_.month, time.perf_counter() - started


def _build_all(plans: list[MonthPlan], staging: Path, jobs: int, say) -> dict[str, float]:
    data_dir = str(config.data_dir())
    timings: dict[str, float] = {}
    failures: dict[str, str] = {}
    total = len(plans)
    if jobs <= 1 or total == 1:
        for plan_ in plans:
            try:
                month, seconds = build_month(plan_, staging, data_dir)
            except Exception as exc:  # report every failure by month
                failures[plan_.month] = str(exc)
                break
            timings[month] = seconds
            say(f"  [{len(timings)}/{total}] {month} built in {seconds:.1f} s")
    else:
        with (
            ProcessPoolExecutor(
                max_workers=jobs, initializer=worker_initializer, initargs=(os.getpid(),)
            ) as pool,
            _workers_stopped_on_exit(pool),
        ):
            futures = {pool.submit(build_month, p, staging, data_dir): p.month for p in plans}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for future in done:
                    month = futures[future]
                    try:
                        _, seconds = future.result()
                    except Exception as exc:
                        failures[month] = str(exc)
                        continue
                    timings[month] = seconds
                    say(f"  [{len(timings)}/{total}] {month} built in {seconds:.1f} s")
                if failures:
                    for future in pending:
                        future.cancel()
                    wait(pending)
                    break
    if failures:
        details = "\n".join(f"  - {m}: {e}" for m, e in sorted(failures.items()))
        raise BuildFailed(
            f"{len(failures)} month(s) failed; the published site is unchanged:\n{details}"
        )
    return timings


@contextlib.contextmanager
def _workers_stopped_on_exit(pool: ProcessPoolExecutor):
    """On Ctrl-C, SIGTERM or any error, kill the pool's workers instead of waiting for them to
    finish their months (their kernels notice and stop within a second)."""
    try:
        yield
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for child in multiprocessing.active_children():
            child.kill()
        raise


def _publish_months(built: list[str], staging: Path, site: Path) -> None:
    from analysis.publish import render as publish

    for month in built:
        source = staging / month

        def move(target: Path, source: Path = source) -> None:
            for item in source.iterdir():
                os.replace(item, target / item.name)

        publish.publish_month(move, site, month)


def _publish_data_quality(site: Path) -> None:
    """The executed cleaning notebook as the site's data-quality page (when it changed)."""
    from analysis.publish import render as publish

    record = config.runs_dir() / "1.1-clean.ipynb"
    if not record.exists():
        return
    fingerprint = hash_files([record, *publish.TEMPLATES_DIR.glob("*")])
    if stamp_matches(site / DATA_QUALITY / INPUTS_FILE, fingerprint):
        return
    html = publish.notebook_to_html(
        record, title="Data quality: the latest cleaning run", index_href="../index.html"
    )

    def build(folder: Path) -> None:
        write_text_atomic(folder / "index.html", html)
        write_stamp(folder / INPUTS_FILE, fingerprint)

    publish.publish_dir(build, site / DATA_QUALITY)


@contextlib.contextmanager
def data_lock(wait: float = 0.0):
    """Hold the data lock (``<data>/.ee.lock``) for a step; SIGTERM acts as Ctrl-C while it is
    held. Staging folders that killed cleaning runs left in ``processed/`` are removed."""
    data = config.data_dir()
    with (
        terminate_as_interrupt(),
        exclusive(data / DATA_LOCK, f"the data in {data}", wait=wait),
    ):
        remove_leftovers(config.processed_dir(), ".staging-*")
        for folder in (config.raw_dir(), config.processed_dir(), config.runs_dir()):
            remove_leftovers(folder, ".*.tmp")  # atomic writes cut short by a kill
        yield


@contextlib.contextmanager
def _site_lock(site: Path):
    """One build of a site at a time (taken after the data lock); what killed builds left in
    the site (staging folders, half-swapped and retired month folders) is removed."""
    site.mkdir(parents=True, exist_ok=True)
    with exclusive(site / SITE_LOCK, f"the site {site}"):
        shutil.rmtree(site / BUILDS, ignore_errors=True)
        for pattern in (".*.new-*", ".*.old-*", ".*.tmp"):
            remove_leftovers(site, pattern)
        yield


def build_reports(
    months: list[str],
    jobs: int = 1,
    force: bool = False,
    parameters: dict | None = None,
    say=print,
    inputs=None,
) -> dict:
    """Build (if needed) and publish the given months, then the index and data-quality page.

    Returns a dict with ``built`` (month -> seconds) and ``skipped`` (months up to date).
    """
    from analysis.publish import render as publish
    from analysis.report.month import load_inputs

    site = config.reports_dir()
    with data_lock(), _site_lock(site):
        inputs = inputs if inputs is not None else load_inputs()
        plans = plan(months, inputs, site, force=force, parameters=parameters)
        todo = [p for p in plans if p.needed]
        skipped = [p.month for p in plans if not p.needed]
        timings: dict[str, float] = {}
        if not todo:
            say(f"ee report: nothing changed; {len(skipped)} month(s) up to date in {site}")
        else:
            say(
                f"ee report: building {len(todo)} month(s) "
                f"({', '.join(sorted({p.reason for p in todo}))}), {len(skipped)} up to date, "
                f"{min(jobs, len(todo))} at a time"
            )
            staging = site / BUILDS / f"{os.getpid()}"
            staging.mkdir(parents=True)
            try:
                timings = _build_all(todo, staging, jobs, say)
                _publish_months(sorted(timings), staging, site)
            finally:
                shutil.rmtree(site / BUILDS, ignore_errors=True)
        _publish_data_quality(site)
        index = publish.render_index(
            publish.read_months(site), SITE_TITLE, f"{DATA_QUALITY}/index.html"
        )
        if not (site / "index.html").exists() or (site / "index.html").read_text() != index:
            write_text_atomic(site / "index.html", index)
    return {"built": timings, "skipped": skipped, "site": site}


# ------------------------------------------------------------------ report steps (CLI entry points)


def _say(message: str) -> None:
    print(message, flush=True)


# ------------------------------------------------------------------ ingestion steps


def _record_path(name: str):
    return config.runs_dir() / f"{name}.ipynb"


def _record_fingerprint(name: str, state: str) -> str:
    """What a run record of notebook ``name`` depends on: the notebook and the data ``state``."""
    import hashlib

    notebook = config.notebooks_dir() / f"{name}.ipynb"
    return hashlib.sha256(notebook.read_bytes() + state.encode()).hexdigest()


def _record_is_current(name: str, state: str) -> bool:
    """True when ``runs/<name>.ipynb`` was made by the current notebook for the same ``state``."""
    from analysis.storage import stamp_matches

    stamp = config.runs_dir() / f"{name}.json"
    return _record_path(name).exists() and stamp_matches(stamp, _record_fingerprint(name, state))


def _mark_record(name: str, state: str) -> None:
    from analysis.storage import write_stamp

    write_stamp(config.runs_dir() / f"{name}.json", _record_fingerprint(name, state))


def fetch_step(source: str | None = None, notebook: bool = True) -> None:
    """Retrieve and store the feed; record it with notebook 1.0-ingest when something is new."""
    with data_lock(wait=STEP_LOCK_WAIT):
        _fetch_step(source, notebook)


def _fetch_step(source: str | None, notebook: bool) -> None:
    from analysis.ingest import retrieve as fetch
    from analysis.pipeline.notebooks import run_notebook

    if source:
        os.environ["EE_FEED"] = source
    source = config.feed_source()
    _say(f"ee fetch: retrieving {source}")
    snapshot = fetch.fetch(source)
    record = _record_path("1.0-ingest")
    if notebook and (snapshot.new_content or not _record_is_current("1.0-ingest", snapshot.sha256)):
        run_notebook("1.0-ingest", record, {"source": source, "fetch_now": False})
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
    from analysis.data import load_quality
    from analysis.ingest import process as ingest
    from analysis.ingest.quality import Finding
    from analysis.pipeline.notebooks import run_notebook

    def state() -> str:
        meta = ingest.read_meta() or {}
        return f"{meta.get('sha256')}:{meta.get('code')}"

    damage = ingest.damaged_files()
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
        and ingest.is_up_to_date()
        and (not notebook or _record_is_current("1.1-clean", state()))
    ):
        meta = ingest.read_meta()
        _say(
            f"ee clean: processed tables are up to date ({meta['rounds_clean']} rounds from "
            f"{meta['file']})"
        )
        return
    if notebook:
        run_notebook("1.1-clean", _record_path("1.1-clean"), {"force": bool(force)})
        _mark_record("1.1-clean", state())
    else:
        ingest.clean(force=force)
    meta = ingest.read_meta()
    quality = load_quality()
    _say(
        f"ee clean: {meta['rounds_clean']} rounds from {meta['file']} "
        f"(newest {meta['newest_date']})"
        f" -> {config.processed_dir()}"
    )
    for severity in ("warning", "repaired"):
        found = quality[quality["severity"] == severity]
        _say(f"  {len(found)} {severity}{'s' if severity == 'warning' else ''}:")
        for row in found.itertuples(index=False):
            _say(f"    - {Finding(*(None if pd.isna(v) else v for v in row))}")


def _refresh_data() -> None:
    fetch_step()
    clean_step()


def main_report(month: str | None = None, force: bool = False, fetch: bool = True) -> int:
    """``ee report``: fetch, clean, build one month (default: the newest) and the index."""
    with data_lock():
        return _main_report(month, force, fetch)


def _main_report(month: str | None, force: bool, fetch: bool) -> int:
    from analysis.report.month import check_parameters, load_inputs

    if fetch:
        _refresh_data()
    inputs = load_inputs()
    month = month or f"{inputs.data_end:%Y-%m}"
    check_parameters(month, data_end=inputs.data_end)
    result = build_reports([month], jobs=1, force=force, say=_say, inputs=inputs)
    _say(f"ee report: {result['site'] / month / 'index.html'}")
    return 0


def main_reports(
    since: str, until: str | None = None, jobs: int = 1, force: bool = False, fetch: bool = True
) -> int:
    """``ee reports``: every month from ``since`` to ``until`` (default: the newest)."""
    with data_lock():
        return _main_reports(since, until, jobs, force, fetch)


def _main_reports(since: str, until: str | None, jobs: int, force: bool, fetch: bool) -> int:
    from analysis.report.month import check_parameters, load_inputs, report_months

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
        f"ee reports: {len(months)} month(s) in {time.perf_counter() - started:.1f} s -> "
        f"{result['site'] / 'index.html'}"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main_report())
