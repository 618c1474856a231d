"""Building and publishing months: the orchestrator behind ``ee report``, ``ee reports`` and
``make report``.

    feed --fetch--> raw/ --clean--> processed/ --4.0-monthly-report--> reports/YYYY-MM/
                                              --render------------> reports/data-quality/,
                                                                    families/, feeds, index

Incremental (:func:`analysis.pipeline.plan.plan_months`: whatever months a command names, every
other published month whose inputs changed is rebuilt too), parallel (``--jobs``), atomic
(:func:`_publish_all`) and one run at a time (:mod:`analysis.pipeline.lock`): README, "The
monthly report", says what each promises. What killed runs left (staging folders, retired
months, kernel sockets) is removed at the next start.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from analysis import config
from analysis.data import load_inputs
from analysis.errors import BuildFailed
from analysis.pipeline.lock import exclusive, terminate_as_interrupt, worker_initializer
from analysis.pipeline.notebooks import run_notebook
from analysis.pipeline.plan import (
    INPUTS_FILE,
    REPORT_NOTEBOOK,
    MonthPlan,
    input_hashes,
    plan_months,
    report_code_fingerprint,
)
from analysis.pipeline.progress import Progress
from analysis.publish import atom, families, freshness, quality_page, reader_pages, render, swap
from analysis.report.standing import cache_folder as standing_cache
from analysis.storage import (
    check_writable,
    remove_leftovers,
    stamp_matches,
    write_stamp,
    write_text_atomic,
)
from analysis.vocabulary import plural

SITE_TITLE = "Express Entry rounds of invitations: monthly reports"

DATA_QUALITY = "data-quality"

RECORD_FILE = "report.ipynb"

BUILDS = ".builds"

#: The data lock (in the data folder) and the site lock (in the site): taken in that order.
DATA_LOCK = ".ee.lock"

SITE_LOCK = ".lock"


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
    return message.replace(str(record), str(kept))


def public_record(record: Path, places: dict[str, str]) -> None:
    """Rewrite a published run record without this machine's paths: each of ``places`` (the
    month's build folder, the data folder), then the project folder and the home folder, is
    replaced by its stand-in (``.``, ``<data>``, ``<project>``, ``~``) in every text of the
    notebook (parameters cell, papermill metadata, outputs)."""
    places = {
        **places,
        str(config.PROJECT_ROOT): "<project>",
        str(Path.home()): "~",
    }
    order = sorted((p for p in places if p and p != "/"), key=len, reverse=True)

    def scrub(value):
        if isinstance(value, str):
            for place in order:
                value = value.replace(place, places[place])
            return value
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        return value

    notebook = json.loads(record.read_text(encoding="utf-8"))
    write_text_atomic(record, json.dumps(scrub(notebook), indent=1, ensure_ascii=False) + "\n")


def _build_month(plan_: MonthPlan, staging: Path, data_dir: str) -> tuple[str, float]:
    started = time.perf_counter()
    folder = staging / plan_.month
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / RECORD_FILE
    # the standing table's parts are kept between builds, unless the data folder is read-only
    kept = standing_cache(Path(data_dir))
    run_notebook(
        REPORT_NOTEBOOK,
        record,
        {
            **plan_.notebook_parameters,
            "data_dir": data_dir,
            "output_dir": str(folder),
            "cache_dir": str(kept) if data_writable(Path(data_dir)) else None,
        },
        reuse=True,
    )
    for name in ("index.html", "summary.json"):
        if not (folder / name).is_file():
            raise BuildFailed(f"{plan_.month}: the report notebook wrote no {name} ({record})")
    public_record(record, {str(folder): ".", data_dir: "<data>"})
    write_stamp(
        folder / INPUTS_FILE,
        plan_.fingerprint,
        parameters=plan_.parameters,
        neighbours=list(plan_.neighbours),
    )
    return plan_.month, time.perf_counter() - started


def _build_all(
    plans: list[MonthPlan], staging: Path, jobs: int, progress: Progress
) -> dict[str, float]:
    """Build every planned month into ``staging`` (``jobs`` at a time); month -> seconds.

    Stops at the first failure (months still queued are cancelled) and raises
    :class:`BuildFailed` naming every month that failed.
    """
    data_dir = str(config.data_dir())
    timings: dict[str, float] = {}
    failures: dict[str, str] = {}
    with progress.tracking(len(plans), "months") as tracker:

        def collect(month: str, result: Callable[[], tuple[str, float]]) -> None:
            tracker.started(month)  # nothing new when it is already shown as started
            try:
                _, seconds = result()
            except Exception as exc:  # report every failure by month
                failures[month] = str(exc)
                return
            timings[month] = seconds
            tracker.finished(month, seconds)

        if jobs <= 1 or len(plans) == 1:
            for plan_ in plans:
                if not failures:
                    collect(plan_.month, lambda p=plan_: build_month(p, staging, data_dir))
        else:
            with _worker_pool(jobs) as pool:
                futures = {pool.submit(build_month, p, staging, data_dir): p.month for p in plans}
                pending = set(futures)
                while pending and not failures:
                    # Workers take months in the order submitted: the first `jobs` months not
                    # done are the ones being built.
                    for future in [f for f in futures if not f.done()][:jobs]:
                        tracker.started(futures[future])
                    done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in sorted(done, key=list(futures).index):
                        collect(futures[future], future.result)
                for future in pending:
                    future.cancel()
                wait(pending)
    if failures:
        details = "\n".join(f"  - {m}: {e}" for m, e in sorted(failures.items()))
        raise BuildFailed(
            f"{plural(len(failures), 'month')} failed; the published site is unchanged:\n{details}"
        )
    return timings


@contextlib.contextmanager
def _worker_pool(workers: int):
    """A pool of ``workers`` processes that die with this one (:func:`worker_initializer`); on
    Ctrl-C, SIGTERM or any error they are killed instead of being waited for to finish their
    months (their kernels notice and stop within a second)."""
    with ProcessPoolExecutor(
        max_workers=workers, initializer=worker_initializer, initargs=(os.getpid(),)
    ) as pool:
        try:
            yield pool
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            for child in multiprocessing.active_children():
                child.kill()
            raise


def _publish_months(built: list[str], staging: Path, site: Path) -> None:
    for month in built:
        source = staging / month

        def move(target: Path, source: Path = source) -> None:
            for item in source.iterdir():
                os.replace(item, target / item.name)

        swap.publish_month(move, site, month)


def _publish_data_quality(site: Path, inputs, code: str) -> None:
    """The site's data-quality page, from the processed tables (when they or the ``code``
    changed)."""
    fingerprint = hashlib.sha256((code + json.dumps(inputs.meta, sort_keys=True)).encode())
    if stamp_matches(site / DATA_QUALITY / INPUTS_FILE, fingerprint.hexdigest()):
        return
    check_writable(site)  # a dry run stops here, before the page is drawn
    html = quality_page.render_quality_page(inputs)

    def build(folder: Path) -> None:
        render.write_page(folder / "index.html", html)
        write_stamp(folder / INPUTS_FILE, fingerprint.hexdigest())

    swap.publish_dir(build, site / DATA_QUALITY)


def _site_fingerprint(inputs, code: str) -> str:
    """What the family and reader pages are made from: the ``code`` and the rounds and pool
    tables."""
    hashes = input_hashes(inputs)
    return "|".join([code, *(table.digest(inputs.data_end) for table in hashes[:2])])


def _publish_site(site: Path, inputs, code: str, drawn=(None, None)) -> None:
    """Every round as data (``data/``), where a score stands (``score/``), the pool over time
    (``pool/``), and what links the months into a site: previous/next links, the category
    family pages, the Atom feeds and the index. Each is rewritten only when its bytes (or, for
    the reader and family pages, their inputs) change. ``drawn``: the futures of the family
    and reader pages drawn in another process while the months were built, used when drawn
    for the months now published."""
    fingerprint = _site_fingerprint(inputs, code)
    family_pages, reader = drawn
    if reader_pages.pending(site, fingerprint):
        check_writable(site)  # a dry run stops here, before the pages are drawn
    prepared = reader.result() if reader is not None else None
    reader_pages.write_reader_pages(site, inputs, fingerprint, prepared)
    pending = families.families_stamp(site, fingerprint, swap.published_months(site))
    if pending is not None:
        check_writable(site)
        prepared = family_pages.result() if family_pages is not None else None
        if prepared is not None and prepared.fingerprint == pending[0]:
            families.publish_families(site, prepared)
        else:
            families.write_families(site, inputs, fingerprint, code)
    atom.write_feed(site, SITE_TITLE, config.site_url(), inputs)
    atom.write_family_feeds(site, inputs, config.site_url(), families.FOLDER)
    render.write_index(
        site, SITE_TITLE, f"{DATA_QUALITY}/index.html", site_links=render.INDEX_LINKS
    )


def _draw_site_pages(executor: ProcessPoolExecutor, site: Path, inputs, code: str, months):
    """Start drawing, in ``executor`` (another process, while the months are built), the family
    pages for ``months`` and the reader pages that will need it: their futures (for
    :func:`_publish_site`), None for those that need nothing."""
    fingerprint = _site_fingerprint(inputs, code)
    pending = families.families_stamp(site, fingerprint, months)
    folders = reader_pages.pending(site, fingerprint)
    return (
        executor.submit(families.prepare_families, inputs, months, pending[0], code, pending[1])
        if pending
        else None,
        executor.submit(reader_pages.prepare, inputs, folders) if folders else None,
    )


def _publish_all(change, site: Path, months_built: bool) -> None:
    """Publish the months just built and everything linking them (data-quality page, reader
    pages, family pages, feeds, index, footers) in one step: ``change(folder)`` runs in a shadow
    of the site made of hard links (:func:`analysis.publish.swap.publish_site`), swapped in
    whole, so a failure or a kill at any point leaves the old site or the new one, never a mix.
    When no month was built, ``change`` first runs as a dry run that may not write: if it
    would change nothing, nothing is staged."""
    if not months_built:
        try:
            with swap.refusing_writes():
                change(site)
            return
        except swap.SiteWouldChange:
            pass
    swap.publish_site(change, site, skip=(BUILDS,))


@contextlib.contextmanager
def data_lock(wait: float = 0.0):
    """Hold the data lock (``<data>/.ee.lock``) for a step; SIGTERM acts as Ctrl-C while it is
    held. What killed runs left in the data folder (staging folders, half-written files) is
    removed."""
    data = config.data_dir()
    writable = data_writable(data)
    with (
        terminate_as_interrupt(),
        exclusive(data_lock_path(data, writable), f"the data in {data}", wait=wait),
    ):
        if writable:
            remove_leftovers(config.processed_dir(), ".staging-*")
            for folder in (
                config.raw_dir(),
                config.processed_dir(),
                config.runs_dir(),
                standing_cache(data),
            ):
                remove_leftovers(folder, ".*.tmp")  # atomic writes cut short by a kill
        yield


def data_writable(data: Path) -> bool:
    """False when the data folder exists and this user cannot write in it (a read-only copy,
    which ``ee report --no-fetch`` only reads); a missing folder is created by the step."""
    return not data.is_dir() or os.access(data, os.W_OK)


def data_lock_path(data: Path, writable: bool = True) -> Path:
    """Where the data lock lives: ``<data>/.ee.lock``, or, for a data folder this user cannot
    write in, ``ee-data-<hash of its path>.lock`` in the temporary folder (so two commands on
    the same read-only data still take one lock, and reading it needs no write there)."""
    if writable:
        return data / DATA_LOCK
    digest = hashlib.sha256(str(data).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"ee-data-{digest}.lock"


@contextlib.contextmanager
def _site_lock(site: Path):
    """One build of a site at a time (taken after the data lock); what killed builds left in
    the site (staging folders, half-swapped and retired month folders) is removed."""
    swap.recover_site(site)  # a run killed between the two renames of the site's swap
    site.mkdir(parents=True, exist_ok=True)
    with exclusive(site / SITE_LOCK, f"the site {site}"):
        shutil.rmtree(site / BUILDS, ignore_errors=True)
        for pattern in (".*.new-*", ".*.old-*", ".*.tmp"):
            remove_leftovers(site, pattern)
        remove_leftovers(site.parent, swap.site_leftovers(site))  # shadows, retired sites
        yield


def build_reports(
    months: list[str],
    jobs: int = 1,
    force: bool = False,
    parameters: dict | None = None,
    progress: Progress | None = None,
    inputs=None,
) -> dict:
    """Build (if needed) and publish the given months, then the index and data-quality page.

    Returns, ready for ``--json``: ``months`` (as asked), ``built`` (month -> seconds),
    ``skipped`` (months up to date), ``reasons`` (month -> why it was built), ``jobs``
    (processes used), ``months_seconds`` (building the months), ``site_seconds`` (staging the
    months with the data-quality, reader and family pages, feeds and index in a shadow of the
    site and swapping it in) and ``site``.
    """
    progress = progress or Progress()
    site = config.reports_dir()
    with data_lock(), _site_lock(site):
        inputs = inputs if inputs is not None else load_inputs()
        code = report_code_fingerprint()
        plans = plan_months(months, inputs, site, force=force, parameters=parameters)
        todo = [p for p in plans if p.needed]
        skipped = [p.month for p in plans if not p.needed]
        # With more than one job, the family pages are drawn in another process while the
        # months build (on a worker the months leave idle, or beside them in a backfill).
        beside = jobs > 1 and bool(todo)
        jobs = max(1, min(jobs, len(todo)))
        timings: dict[str, float] = {}
        started = time.perf_counter()
        drawn = (None, None)
        staging = site / BUILDS / f"{os.getpid()}"
        with contextlib.ExitStack() as stack:
            if not todo:
                progress.say(
                    f"ee report: nothing changed; {plural(len(skipped), 'month')} up to date "
                    f"in {site}"
                )
            else:
                progress.say(
                    f"ee report: building {plural(len(todo), 'month')} "
                    f"({', '.join(sorted({p.reason for p in todo}))}), {len(skipped)} up to "
                    f"date, {jobs} at a time"
                )
                if beside:
                    helper = stack.enter_context(_worker_pool(1))
                    months_after = swap.published_months(site) | {p.month for p in todo}
                    drawn = _draw_site_pages(helper, site, inputs, code, months_after)
                staging.mkdir(parents=True)
                stack.callback(shutil.rmtree, site / BUILDS, ignore_errors=True)
                timings = _build_all(todo, staging, jobs, progress)
            months_done = time.perf_counter()
            line = freshness.inputs_line(inputs)

            def change(folder: Path) -> None:
                """Everything the run publishes, done in ``folder`` (the site or its shadow)."""
                _publish_months(sorted(timings), staging, folder)
                with freshness.feeding(line):
                    _publish_data_quality(folder, inputs, code)
                    _publish_site(folder, inputs, code, drawn)
                # Every page says when the feed was checked, the months built before included:
                # base.html.j2 draws each page's frame again from the parts kept beside it.
                render.reframe_site(folder, line)

            _publish_all(change, site, bool(timings))
    return {
        "months": months,
        "built": {m: round(s, 3) for m, s in sorted(timings.items())},
        "skipped": skipped,
        "reasons": {p.month: p.reason for p in todo},
        "jobs": jobs if todo else 0,
        "months_seconds": round(months_done - started, 3),
        "site_seconds": round(time.perf_counter() - months_done, 3),
        "site": str(site),
    }
