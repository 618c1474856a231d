"""Benchmark the report pipeline against the naive way, side by side, in one run.

    .venv/bin/python benchmarks/run.py              # full run (all months since 2023-06)
    .venv/bin/python benchmarks/run.py --quick      # smoke run: 3 months, 1 repeat
    .venv/bin/python benchmarks/run.py --months 8 --jobs 2 --feed path/to/feed.json

Scenarios (see benchmarks/README.md for why each comparison is fair):

(a) cold backfill: ``ee reports --since 2023-06 --jobs N --no-fetch`` into an empty site, against a
    loop of ``papermill`` + ``jupyter nbconvert --to html --no-input`` over the same months, one
    month after another. Target: ratio <= 0.4.
(b) rebuild with nothing changed: ``ee reports --since 2023-06 --no-fetch`` right after (a), and
    ``ee report`` (fetch from the same local feed, clean, newest month: the ``make report`` path).
    Target: about one second; must build nothing.
(c) one new round in the last month: ``ee data`` on a copy of the feed with one extra round
    (timed, not in the ratio), then ``ee reports --since 2023-06 --no-fetch`` (must rebuild only
    the last month) against ``ee report --month <last> --force --no-fetch``. Target: ratio <= 1.3.

Everything runs in subprocesses with ``EE_DATA_DIR`` / ``EE_REPORTS_DIR`` pointing at a temporary
folder (never the project's data/ or reports/). Unless ``--in-place`` is given, the code measured
is a frozen copy of src/, notebooks/, requirements/ and pyproject.toml taken at the start
(``PYTHONPATH`` points at it), so edits made to the working tree during the run cannot change
what is measured or trigger rebuilds. Results: a table on stdout and
``benchmarks/results/bench-<UTC time>.{json,md}`` (plus ``latest.{json,md}``).
Exit status: 0 done (targets may be missed: see the table; ``--strict`` makes a miss exit 3),
1 a command or a check failed, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import calendar
import importlib.metadata
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
RESULTS_DIR = HERE / "results"
NEWEST_SNAPSHOT = "ee_rounds_2026-03-05.json"
SINCE = "2023-06"
KERNEL = "ee-draws"
NOTEBOOK = "notebooks/4.0-monthly-report.ipynb"
COPIED = ("src", "notebooks", "requirements", "pyproject.toml")

TARGET_BACKFILL = 0.4  # (a) ours / naive
TARGET_NO_CHANGE = 1.0  # (b) seconds, "about one second"
NO_CHANGE_TOLERANCE = 1.5  # (b) passes up to this many seconds
TARGET_ONE_ROUND = 1.3  # (c) ours / one report alone

PACKAGES = (
    "papermill",
    "nbconvert",
    "nbclient",
    "nbformat",
    "jupyter_client",
    "ipykernel",
    "pandas",
    "numpy",
    "pyarrow",
    "matplotlib",
    "seaborn",
    "statsmodels",
    "scipy",
)

_BUILT = re.compile(r"\[(\d+)/(\d+)\] (\d{4}-\d{2}) built in ([\d.]+) s")


class BenchError(RuntimeError):
    """A command failed or a check did not hold: the numbers cannot be trusted."""


# ------------------------------------------------------------------ running commands


@dataclass
class Run:
    label: str
    argv: list[str]
    seconds: float
    stdout: str
    stderr: str


@dataclass
class Runner:
    """Runs commands with the benchmark's environment, times them and keeps their output."""

    env: dict[str, str]
    cwd: Path
    log_dir: Path
    runs: list[Run] = field(default_factory=list)

    def run(self, label: str, argv: list[str], env: dict[str, str] | None = None) -> Run:
        """Run ``argv``; raise :class:`BenchError` (with the output's tail) if it fails."""
        started = time.perf_counter()
        proc = subprocess.run(
            argv,
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        run = Run(label, argv, seconds, proc.stdout, proc.stderr)
        self.runs.append(run)
        slug = re.sub(r"[^\w.-]+", "_", label)
        log = self.log_dir / f"{len(self.runs):03d}-{slug}.log"
        log.write_text(
            f"$ {shlex.join(argv)}\n# {seconds:.3f} s, exit {proc.returncode}\n"
            f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}\n"
        )
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + "\n" + proc.stderr).strip().splitlines()[-30:])
            raise BenchError(
                f"{label}: `{shlex.join(argv)}` exited with status {proc.returncode} "
                f"after {seconds:.1f} s (log: {log})\n{tail}"
            )
        return run


def _expect(run: Run, text: str, why: str) -> None:
    if text not in run.stdout:
        raise BenchError(
            f"{run.label}: expected {text!r} in its output ({why}); got:\n{run.stdout.strip()}"
        )


def _built_months(run: Run) -> dict[str, float]:
    """``{month: seconds}`` from the ``[i/n] YYYY-MM built in X s`` lines of ``ee reports``."""
    return {m.group(3): float(m.group(4)) for m in _BUILT.finditer(run.stdout)}


def _pages(site: Path) -> dict[str, int]:
    """mtime (ns) of every published page: the index and each ``*/index.html``."""
    pages = [site / "index.html", *site.glob("*/index.html")]
    return {str(p.relative_to(site)): p.stat().st_mtime_ns for p in pages if p.exists()}


def _changed(before: dict[str, int], after: dict[str, int]) -> list[str]:
    return sorted(k for k in after if before.get(k) != after[k])


# ------------------------------------------------------------------ the feed with one more round


def _plain_int(text: str) -> int:
    return int(str(text).replace(",", "").strip())


def add_rounds(feed: dict, count: int, today: date) -> tuple[dict, list[dict]]:
    """A copy of ``feed`` with ``count`` plausible new rounds dated inside its last month.

    The new rounds copy the newest healthcare round's name and programs (else the newest
    Canadian Experience Class round, else the newest round), take the pool distribution of the
    newest round, get the next draw numbers and are placed first in ``rounds``, as IRCC does.

    >>> feed = {"rounds": [{"drawNumber": "7", "drawDate": "2026-03-05",
    ...     "drawDateFull": "March 5, 2026", "drawName": "Healthcare occupations (Version 1)",
    ...     "drawText2": "FSW", "drawSize": "1,000", "drawCRS": "470",
    ...     "drawNumberURL": "<a href='x?q=7'>7</a>"}]}
    >>> new, added = add_rounds(feed, 1, date(2026, 11, 1))
    >>> [(r["drawNumber"], r["drawDate"], r["drawDateFull"]) for r in new["rounds"]]
    [('8', '2026-03-06', 'March 6, 2026'), ('7', '2026-03-05', 'March 5, 2026')]
    >>> added[0]["drawNumberURL"]
    "<a href='x?q=8'>8</a>"
    """
    rounds = feed["rounds"]
    dated = [r for r in rounds if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(r.get("drawDate", "")))]
    if not dated:
        raise BenchError("feed: no round has an ISO drawDate; cannot date a new round")
    newest = max(dated, key=lambda r: r["drawDate"])
    last = date.fromisoformat(newest["drawDate"])
    month_end = last.replace(day=calendar.monthrange(last.year, last.month)[1])

    def find(word: str) -> dict | None:
        return next((r for r in rounds if word in str(r.get("drawName", "")).lower()), None)

    template = find("healthcare") or find("canadian experience class") or newest
    number = max(int(re.match(r"\d+", r["drawNumber"]).group()) for r in rounds)
    old = newest["drawNumber"]
    added = []
    for i in range(1, count + 1):
        day = max(last, min(last + timedelta(days=i), month_end, today))
        cut = day - timedelta(days=60 + i)
        n = str(number + i)
        entry = {
            **newest,
            "drawNumber": n,
            "drawDate": day.isoformat(),
            "drawDateFull": f"{day:%B} {day.day}, {day.year}",
            "drawName": template["drawName"],
            "drawText2": template.get("drawText2", newest.get("drawText2", "")),
            "drawSize": f"{_plain_int(template['drawSize']):,}",
            "drawCRS": str(_plain_int(template["drawCRS"]) - 2 * i),
            "drawDateTime": f"{day:%B} {day.day}, {day.year} at 14:{i % 60:02d}:07 UTC",
            "drawCutOff": f"{cut:%B} {cut.day:02d}, {cut.year} at 09:41:26 UTC",
        }
        for key in ("drawNumberURL", "mitext", "DrawText1"):
            if key in entry:
                entry[key] = (
                    str(entry[key])
                    .replace(f"q={old}'", f"q={n}'")
                    .replace(f">{old}<", f">{n}<")
                    .replace(f"#{old}<", f"#{n}<")
                )
        added.append(entry)
    return {**feed, "rounds": [*reversed(added), *rounds]}, added


# ------------------------------------------------------------------ machine and notebook facts


def machine_info() -> dict:
    """Cores, CPU, memory, Python and the versions of the packages that do the work."""
    info: dict = {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "packages": {},
    }
    with_cpuinfo = Path("/proc/cpuinfo")
    if with_cpuinfo.exists():
        models = re.findall(r"model name\s*:\s*(.+)", with_cpuinfo.read_text())
        info["cpu_model"] = models[0].strip() if models else None
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total = re.search(r"MemTotal:\s*(\d+) kB", meminfo.read_text())
        info["memory_gb"] = round(int(total.group(1)) / 1024**2, 1) if total else None
    for name in PACKAGES:
        try:
            info["packages"][name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            info["packages"][name] = None
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src", "notebooks", "requirements"],
            cwd=PROJECT,
            capture_output=True,
            text=True,
        )
        info["git_head"] = head.stdout.strip() or None
        info["git_dirty_files"] = len(dirty.stdout.splitlines())
    except OSError:
        info["git_head"] = None
    return info


def cell_times(notebooks: list[Path]) -> dict:
    """Per-cell durations recorded by papermill in executed notebooks (mean over notebooks)."""
    per_cell: dict[int, list[float]] = {}
    sources: dict[int, str] = {}
    totals = []
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        total = 0.0
        for i, cell in enumerate(nb.get("cells", [])):
            duration = cell.get("metadata", {}).get("papermill", {}).get("duration")
            if cell.get("cell_type") != "code" or duration is None:
                continue
            per_cell.setdefault(i, []).append(float(duration))
            total += float(duration)
            first = "".join(cell.get("source", "")).strip().splitlines()
            sources[i] = (first[0] if first else "")[:70]
        totals.append(total)
    cells = sorted(
        (
            {"cell": i, "source": sources[i], "mean_s": round(statistics.mean(v), 3)}
            for i, v in per_cell.items()
        ),
        key=lambda c: -c["mean_s"],
    )
    return {
        "notebooks": len(totals),
        "mean_cells_total_s": round(statistics.mean(totals), 3) if totals else None,
        "cells": cells,
    }


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def pick_months(months: list[str], k: int | None) -> list[str]:
    """``k`` evenly spaced months of ``months``, always keeping the first and the last.

    >>> pick_months(["a", "b", "c", "d", "e"], 3)
    ['a', 'c', 'e']
    >>> pick_months(["a", "b", "c"], None)
    ['a', 'b', 'c']
    >>> pick_months(["a", "b", "c"], 1)
    ['c']
    """
    n = len(months)
    if k is None or k >= n:
        return list(months)
    if k <= 1:
        return [months[-1]]
    picked = sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})
    return [months[i] for i in picked]


# ------------------------------------------------------------------ the benchmark


@dataclass
class Setup:
    runner: Runner
    code_root: Path
    data_dir: Path
    site: Path
    work: Path
    feed: Path
    python: str


def _bin(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise BenchError(f"{path} not found: run the benchmark with the project's .venv/bin/python")
    return str(path)


def prepare(args, work: Path) -> Setup:
    """Temporary data and site folders, the (frozen) code and the environment for commands."""
    data_dir, site, logs = work / "data", work / "site", work / "logs"
    for folder in (data_dir, logs):
        folder.mkdir(parents=True)
    for own in (PROJECT / "data", PROJECT / "reports"):
        if data_dir.is_relative_to(own) or site.is_relative_to(own):
            raise BenchError(f"refusing to run inside the project's own {own}")
    code_root = PROJECT
    env = {k: v for k, v in os.environ.items() if not k.startswith("EE_")}
    if not args.in_place:
        code_root = work / "code"
        code_root.mkdir()
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info")
        for name in COPIED:
            source = PROJECT / name
            if source.is_dir():
                shutil.copytree(source, code_root / name, ignore=ignore)
            elif source.exists():
                shutil.copy2(source, code_root / name)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(code_root / "src"), env.get("PYTHONPATH", "")) if p
        )
    env.update(
        EE_DATA_DIR=str(data_dir),
        EE_REPORTS_DIR=str(site),
        EE_FEED=str(args.feed),
        EE_SNAPSHOTS=str(args.feed.parent),
        PYTHONUNBUFFERED="1",
    )
    runner = Runner(env=env, cwd=code_root, log_dir=logs)
    setup = Setup(runner, code_root, data_dir, site, work, args.feed, sys.executable)
    where = runner.run(
        "which analysis",
        [sys.executable, "-c", "import analysis, sys; print(analysis.__file__)"],
    ).stdout.strip()
    if not Path(where).is_relative_to(code_root / "src"):
        raise BenchError(f"the commands import analysis from {where}, not from {code_root}/src")
    return setup


def _python(setup: Setup, code: str, label: str) -> str:
    return setup.runner.run(label, [setup.python, "-c", code]).stdout.strip()


def code_fingerprint(setup: Setup) -> str:
    return _python(
        setup,
        "from analysis.pipeline.plan import code_fingerprint; print(code_fingerprint())",
        "code fingerprint",
    )


def say(message: str) -> None:
    print(message, flush=True)


def ours_argv(
    setup: Setup, months: list[str], all_months: list[str], since: str, jobs: int | None
) -> list[str]:
    """``ee reports`` for the whole range; the same orchestrator on a list for a subset.

    ``jobs=None`` leaves ``--jobs`` out (``ee reports`` then uses every core).
    """
    jobs_args = ["--jobs", str(jobs)] if jobs else []
    if months == all_months:
        return [_bin("ee"), "reports", "--since", since, *jobs_args, "--no-fetch"]
    if not jobs:
        jobs_args = ["--jobs", str(os.cpu_count() or 1)]
    return [setup.python, str(HERE / "build_months.py"), ",".join(months), *jobs_args]


def scenario_backfill(setup: Setup, months: list[str], all_months: list[str], args) -> dict:
    """(a) the naive loop, then ours into the empty site."""
    r = setup.runner
    naive_dir = setup.work / "naive"
    say(f"(a) naive loop: papermill + nbconvert, {len(months)} month(s), one after another")
    load_before = os.getloadavg()
    naive = []
    started = time.perf_counter()
    for i, month in enumerate(months, 1):
        folder = naive_dir / month
        folder.mkdir(parents=True)
        record = folder / "report.ipynb"
        run_pm = r.run(
            f"naive papermill {month}",
            [
                _bin("papermill"),
                NOTEBOOK,
                str(record),
                "-k",
                KERNEL,
                "-r",
                "month",
                month,
                "-p",
                "data_dir",
                str(setup.data_dir),
                "-p",
                "output_dir",
                str(folder),
            ],
        )
        run_nc = r.run(
            f"naive nbconvert {month}",
            [_bin("jupyter"), "nbconvert", "--to", "html", "--no-input", str(record)],
        )
        if not (folder / "report.html").exists() or not (folder / "summary.json").exists():
            raise BenchError(f"naive loop {month}: no report.html / summary.json in {folder}")
        naive.append({"month": month, "papermill_s": run_pm.seconds, "nbconvert_s": run_nc.seconds})
        say(
            f"    [{i}/{len(months)}] {month}: papermill {run_pm.seconds:.1f} s, "
            f"nbconvert {run_nc.seconds:.1f} s"
        )
    naive_total = time.perf_counter() - started

    say(f"(a) ours: {len(months)} month(s) with --jobs {args.jobs} into an empty site")
    argv = ours_argv(setup, months, all_months, args.since, args.jobs)
    ours = r.run("(a) ours cold backfill", argv)
    load_after = os.getloadavg()
    _expect(ours, f"building {len(months)} month(s)", "a cold site builds every month")
    missing = [m for m in months if not (setup.site / m / "index.html").exists()]
    if missing:
        raise BenchError(f"(a) ours: no index.html for {', '.join(missing)}")
    built = _built_months(ours)
    say(f"    ours {ours.seconds:.1f} s vs naive {naive_total:.1f} s")
    return {
        "command_ours": shlex.join(argv),
        "command_naive": (
            f"for m in MONTHS: papermill {NOTEBOOK} OUT.ipynb -k {KERNEL} -r month $m "
            "-p data_dir DATA -p output_dir OUT && jupyter nbconvert --to html --no-input OUT.ipynb"
        ),
        "months": months,
        "ours_s": ours.seconds,
        "naive_s": naive_total,
        "ratio": ours.seconds / naive_total,
        "naive_per_month": naive,
        "naive_papermill_mean_s": statistics.mean(n["papermill_s"] for n in naive),
        "naive_nbconvert_mean_s": statistics.mean(n["nbconvert_s"] for n in naive),
        "ours_per_month_s": built,
        "ours_worker_sum_s": sum(built.values()),
        "ours_parallelism": sum(built.values()) / ours.seconds if ours.seconds else None,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "ours_output": ours.stdout,
    }


def scenario_no_change(setup: Setup, months, all_months, args, fingerprint: str) -> dict:
    """(b) ``ee reports`` and ``ee report`` (fetch + clean) with nothing changed."""
    r = setup.runner
    argv = ours_argv(setup, months, all_months, args.since, None)
    report_argv = [_bin("ee"), "report"]
    before = _pages(setup.site)
    reports_s, report_s = [], []
    say(f"(b) nothing changed: {args.repeats} x each")
    for i in range(args.repeats):
        run = r.run(f"(b) ours no change #{i + 1}", argv)
        if "nothing changed" not in run.stdout:
            now = code_fingerprint(setup)
            hint = (
                " (the code fingerprint changed during the run: the tree was edited; run "
                "without --in-place)"
                if now != fingerprint
                else ""
            )
            raise BenchError(f"(b) expected 'nothing changed'{hint}; got:\n{run.stdout.strip()}")
        reports_s.append(run.seconds)
        run = r.run(f"(b) ee report with fetch #{i + 1}", report_argv)
        _expect(run, "same content as the latest stored snapshot", "the feed did not change")
        _expect(run, "processed tables are up to date", "nothing to clean")
        _expect(run, "nothing changed", "the newest month is up to date")
        report_s.append(run.seconds)
        say(
            f"    #{i + 1}: ee reports {reports_s[-1]:.2f} s, "
            f"ee report (fetch) {report_s[-1]:.2f} s"
        )
    changed = _changed(before, _pages(setup.site))
    if changed:
        raise BenchError(f"(b) built nothing, yet these pages were rewritten: {changed}")
    return {
        "command_reports": shlex.join(argv),
        "command_report": f"EE_FEED={setup.feed} " + shlex.join(report_argv),
        "reports_s": reports_s,
        "report_fetch_s": report_s,
        "reports_median_s": _median(reports_s),
        "report_fetch_median_s": _median(report_s),
    }


def scenario_one_round(setup: Setup, months, all_months, args) -> dict:
    """(c) one more round in the last month: refresh, then ours against one report alone."""
    r = setup.runner
    last = all_months[-1]
    feed = json.loads(setup.feed.read_text(encoding="utf-8"))
    feeds = setup.work / "feeds"
    feeds.mkdir()
    argv = ours_argv(setup, months, all_months, args.since, None)
    alone = [_bin("ee"), "report", "--month", last, "--force", "--no-fetch"]
    cycles = []
    say(f"(c) one new round in {last}: {args.repeats} cycle(s)")
    for i in range(1, args.repeats + 1):
        modified, added = add_rounds(feed, i, datetime.now(UTC).date())
        new = added[-1]
        if new["drawDate"][:7] != last:
            raise BenchError(f"(c) the new round is dated {new['drawDate']}, not in {last}")
        path = feeds / f"ee_rounds_plus{i}.json"
        path.write_text(json.dumps(modified, ensure_ascii=False), encoding="utf-8")
        refresh = r.run(f"(c) ee data, +{i} round(s)", [_bin("ee"), "data"], {"EE_FEED": str(path)})
        _expect(refresh, "new content stored", "the modified feed is new")
        before = _pages(setup.site)
        ours = r.run(f"(c) ours after new round #{i}", argv)
        _expect(ours, "building 1 month(s)", "only the last month depends on the new round")
        built = _built_months(ours)
        changed = _changed(before, _pages(setup.site))
        month_pages = [c.split("/")[0] for c in changed if re.match(r"\d{4}-\d{2}/", c)]
        if list(built) != [last] or month_pages != [last]:
            raise BenchError(
                f"(c) expected only {last} rebuilt; built {list(built)}, pages changed {changed}"
            )
        baseline = r.run(f"(c) one report alone #{i}", alone)
        _expect(baseline, "building 1 month(s) (forced)", "--force rebuilds the month")
        cycles.append(
            {
                "new_round": {k: new[k] for k in ("drawNumber", "drawDate", "drawName", "drawCRS")},
                "refresh_s": refresh.seconds,
                "ours_s": ours.seconds,
                "alone_s": baseline.seconds,
                "ratio": ours.seconds / baseline.seconds,
                "ours_month_s": built[last],
                "alone_month_s": _built_months(baseline).get(last),
                "pages_changed": changed,
            }
        )
        say(
            f"    #{i}: round {new['drawNumber']} on {new['drawDate']} ({new['drawName']}): "
            f"ee data {refresh.seconds:.1f} s; ours {ours.seconds:.1f} s vs alone "
            f"{baseline.seconds:.1f} s; pages changed: {', '.join(changed)}"
        )
    ours_med = _median([c["ours_s"] for c in cycles])
    alone_med = _median([c["alone_s"] for c in cycles])
    return {
        "command_refresh": f"EE_FEED=<modified feed> {_bin('ee')} data",
        "command_ours": shlex.join(argv),
        "command_alone": shlex.join(alone),
        "last_month": last,
        "cycles": cycles,
        "refresh_median_s": _median([c["refresh_s"] for c in cycles]),
        "ours_median_s": ours_med,
        "alone_median_s": alone_med,
        "ratio": ours_med / alone_med,
        # Noise only ever adds time: the ratio of the fastest runs is shown next to the median's.
        "ratio_of_minimums": min(c["ours_s"] for c in cycles) / min(c["alone_s"] for c in cycles),
    }


def startup_floor(setup: Setup, repeats: int) -> dict:
    """Reference points for (b): the interpreter, and the imports any report command needs."""
    r = setup.runner
    probes = {
        "python -c pass": [setup.python, "-c", "pass"],
        "import pandas + pyarrow": [setup.python, "-c", "import pandas, pyarrow.parquet"],
        "import analysis.pipeline.build + report": [
            setup.python,
            "-c",
            "import analysis.cli, analysis.pipeline.build, analysis.report.month, "
            "analysis.publish.render",
        ],
    }
    return {
        name: _median([r.run(f"floor {name}", argv).seconds for _ in range(repeats)])
        for name, argv in probes.items()
    }


# ------------------------------------------------------------------ the table


def table_rows(result: dict) -> list[dict]:
    a, b, c = result["backfill"], result["no_change"], result["one_round"]
    n = len(a["months"])
    return [
        {
            "scenario": f"(a) cold backfill, {n} months, --jobs {result['jobs']}",
            "ours_s": a["ours_s"],
            "baseline_s": a["naive_s"],
            "baseline": "papermill + nbconvert loop",
            "ratio": a["ratio"],
            "target": f"ratio <= {TARGET_BACKFILL}",
            "pass": a["ratio"] <= TARGET_BACKFILL,
        },
        {
            "scenario": "(b) nothing changed: ee reports --no-fetch",
            "ours_s": b["reports_median_s"],
            "baseline_s": None,
            "baseline": "-",
            "ratio": None,
            "target": f"~{TARGET_NO_CHANGE:g} s (<= {NO_CHANGE_TOLERANCE:g} s)",
            "pass": b["reports_median_s"] <= NO_CHANGE_TOLERANCE,
        },
        {
            "scenario": "(b) nothing changed: ee report (fetch+clean)",
            "ours_s": b["report_fetch_median_s"],
            "baseline_s": None,
            "baseline": "-",
            "ratio": None,
            "target": f"~{TARGET_NO_CHANGE:g} s (<= {NO_CHANGE_TOLERANCE:g} s)",
            "pass": b["report_fetch_median_s"] <= NO_CHANGE_TOLERANCE,
        },
        {
            "scenario": f"(c) one new round in {c['last_month']}: ee reports",
            "ours_s": c["ours_median_s"],
            "baseline_s": c["alone_median_s"],
            "baseline": "ee report --month LAST --force",
            "ratio": c["ratio"],
            "target": f"ratio <= {TARGET_ONE_ROUND}",
            "pass": c["ratio"] <= TARGET_ONE_ROUND,
        },
        {
            "scenario": "(c) data refresh: ee data (not in ratio)",
            "ours_s": c["refresh_median_s"],
            "baseline_s": None,
            "baseline": "-",
            "ratio": None,
            "target": "reported only",
            "pass": None,
        },
    ]


def _fmt(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _verdict(ok) -> str:
    return "-" if ok is None else ("PASS" if ok else "FAIL")


def render_table(rows: list[dict]) -> str:
    """A fixed-width text table of the scenarios."""
    head = ("scenario", "ours (s)", "baseline (s)", "ratio", "target", "result")
    body = [
        (
            r["scenario"],
            _fmt(r["ours_s"]),
            _fmt(r["baseline_s"]),
            _fmt(r["ratio"]),
            r["target"],
            _verdict(r["pass"]),
        )
        for r in rows
    ]
    widths = [max(len(str(x[i])) for x in (head, *body)) for i in range(len(head))]
    line = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    out = [line.format(*head), line.format(*("-" * w for w in widths))]
    return "\n".join(out + [line.format(*b) for b in body])


def render_markdown(result: dict, rows: list[dict]) -> str:
    """The results as a markdown page: table, machine, breakdown, commands."""
    m, a, b, c = result["machine"], result["backfill"], result["no_change"], result["one_round"]
    lines = [
        f"# Benchmark {result['started']}",
        "",
        f"Feed: `{result['feed']}`; months {a['months'][0]} to {a['months'][-1]} "
        f"({len(a['months'])} of {len(result['all_months'])}); jobs {result['jobs']}; "
        f"repeats {result['repeats']}; code {'frozen copy' if result['frozen'] else 'in place'}"
        f"; total {result['total_s']:.0f} s.",
        "",
        "| scenario | ours (s) | baseline | baseline (s) | ratio | target | result |",
        "| --- | ---: | --- | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['scenario']} | {_fmt(r['ours_s'])} | {r['baseline']} | "
            f"{_fmt(r['baseline_s'])} | {_fmt(r['ratio'])} | {r['target']} | "
            f"{_verdict(r['pass'])} |"
        )
    pk = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    lines += [
        "",
        "## Machine",
        "",
        f"- {m['cpu_count']} cores ({m.get('cpu_model')}), {m.get('memory_gb')} GB, "
        f"{m['platform']}, Python {m['python']}",
        f"- {pk}",
        f"- git {m.get('git_head')} ({m.get('git_dirty_files')} changed files in src/notebooks)",
        f"- load average before (a): {', '.join(f'{x:.2f}' for x in a['loadavg_before'])}; "
        f"after (a): {', '.join(f'{x:.2f}' for x in a['loadavg_after'])}",
        "",
        "## Breakdown",
        "",
        f"- (a) naive per month: papermill {a['naive_papermill_mean_s']:.2f} s + nbconvert "
        f"{a['naive_nbconvert_mean_s']:.2f} s (mean); papermill's cells take "
        f"{_fmt(result['cells_naive']['mean_cells_total_s'])} s of that.",
        f"- (a) ours: {len(a['ours_per_month_s'])} months, worker time "
        f"{a['ours_worker_sum_s']:.1f} s in {a['ours_s']:.1f} s wall (parallelism "
        f"{_fmt(a['ours_parallelism'])}); mean per month "
        f"{a['ours_worker_sum_s'] / max(1, len(a['ours_per_month_s'])):.2f} s; cells "
        f"{_fmt(result['cells_ours']['mean_cells_total_s'])} s of that.",
        f"- (b) ee reports runs: {', '.join(f'{x:.2f}' for x in b['reports_s'])} s; ee report "
        f"(fetch) runs: {', '.join(f'{x:.2f}' for x in b['report_fetch_s'])} s.",
        "- startup floor: "
        + "; ".join(f"{k} {v:.2f} s" for k, v in result["startup_floor"].items()),
    ]
    for cyc in c["cycles"]:
        lines.append(
            f"- (c) round {cyc['new_round']['drawNumber']} on {cyc['new_round']['drawDate']}: "
            f"ee data {cyc['refresh_s']:.2f} s; ours {cyc['ours_s']:.2f} s (month "
            f"{cyc['ours_month_s']:.2f} s) vs alone {cyc['alone_s']:.2f} s (month "
            f"{_fmt(cyc['alone_month_s'])} s); ratio {cyc['ratio']:.2f}; pages changed: "
            f"{', '.join(cyc['pages_changed'])}"
        )
    lines.append(
        f"- (c) ratio of medians {c['ratio']:.2f} (the table); ratio of the fastest runs "
        f"{c['ratio_of_minimums']:.2f}"
    )
    lines += [
        "",
        "Slowest cells (mean s over ours' executed notebooks; cell index as executed):",
        "",
    ]
    for cell in result["cells_ours"]["cells"][:8]:
        lines.append(f"- cell {cell['cell']}: {cell['mean_s']:.2f} s `{cell['source']}`")
    lines += [
        "",
        "## Commands",
        "",
        f"- (a) ours: `{a['command_ours']}`",
        f"- (a) naive: `{a['command_naive']}`",
        f"- (b): `{b['command_reports']}` and `{b['command_report']}`",
        f"- (c): `{c['command_refresh']}`, then `{c['command_ours']}` against "
        f"`{c['command_alone']}`",
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------ main


def parse_args(argv: list[str] | None):
    from analysis import config

    parser = argparse.ArgumentParser(
        description="Benchmark ee reports against the naive papermill loop, side by side."
    )
    parser.add_argument(
        "--feed",
        type=Path,
        default=config.shared_snapshots_dir() / NEWEST_SNAPSHOT,
        help=f"feed file (default: the shared {NEWEST_SNAPSHOT})",
    )
    parser.add_argument(
        "--months",
        type=int,
        help="measure (a) on K evenly spaced months, first and last included (default: all)",
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="for ee reports")
    parser.add_argument(
        "--repeats", type=int, default=3, help="repeats of (b) and cycles of (c) (default 3)"
    )
    parser.add_argument("--since", default=SINCE, help=f"first month (default {SINCE})")
    parser.add_argument("--quick", action="store_true", help="smoke run: --months 3 --repeats 1")
    parser.add_argument(
        "--in-place", action="store_true", help="measure the live tree instead of a frozen copy"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--strict", action="store_true", help="exit 3 when a target is missed")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where results go")
    args = parser.parse_args(argv)
    if args.quick:
        args.months = args.months or 3
        args.repeats = 1
    args.feed = args.feed.expanduser().resolve()
    if not args.feed.is_file():
        parser.error(f"--feed {args.feed} does not exist (set EE_SNAPSHOTS or pass --feed)")
    if args.months is not None and args.months < 1:
        parser.error("--months must be at least 1")
    if args.jobs < 1 or args.repeats < 1:
        parser.error("--jobs and --repeats must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every scenario, print the table and write the results."""
    args = parse_args(argv)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="ee-bench-"))
    ok = False
    try:
        setup = prepare(args, work)
        say(
            f"benchmark: work folder {work}; feed {args.feed}; code "
            f"{'in place' if args.in_place else 'frozen copy'}; jobs {args.jobs}"
        )
        fingerprint = code_fingerprint(setup)
        say("setup: ee data (fetch + clean the feed into the temporary data folder)")
        setup_run = setup.runner.run("setup ee data", [_bin("ee"), "data"])
        all_months = json.loads(
            _python(
                setup,
                "import json; from analysis.data import load_inputs; "
                "from analysis.report.month import report_months; "
                f"print(json.dumps(report_months(load_inputs().draws, {args.since!r})))",
                "months",
            )
        )
        months = pick_months(all_months, args.months)
        say(
            f"    {setup_run.seconds:.1f} s; {len(all_months)} months since {args.since}; "
            f"measuring {len(months)}: {', '.join(months)}"
        )
        backfill = scenario_backfill(setup, months, all_months, args)
        no_change = scenario_no_change(setup, months, all_months, args, fingerprint)
        one_round = scenario_one_round(setup, months, all_months, args)
        floor = startup_floor(setup, args.repeats)
        end_fingerprint = code_fingerprint(setup)
        result = {
            "started": f"{started:%Y-%m-%dT%H:%M:%SZ}",
            "argv": sys.argv,
            "feed": str(args.feed),
            "jobs": args.jobs,
            "repeats": args.repeats,
            "frozen": not args.in_place,
            "since": args.since,
            "all_months": all_months,
            "machine": machine_info(),
            "code_fingerprint": fingerprint,
            "code_changed_during_run": end_fingerprint != fingerprint,
            "setup_s": setup_run.seconds,
            "backfill": backfill,
            "no_change": no_change,
            "one_round": one_round,
            "startup_floor": floor,
            "cells_naive": cell_times(sorted((work / "naive").glob("*/report.ipynb"))),
            "cells_ours": cell_times([setup.site / m / "report.ipynb" for m in months]),
            "total_s": time.perf_counter() - t0,
        }
        rows = table_rows(result)
        result["table"] = rows
        markdown = render_markdown(result, rows)
        args.results.mkdir(parents=True, exist_ok=True)
        stamp = f"{started:%Y%m%dT%H%M%SZ}"
        for name in (f"bench-{stamp}", "latest"):
            (args.results / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
            (args.results / f"{name}.md").write_text(markdown)
        say("")
        say(render_table(rows))
        say("")
        say(markdown.split("## Breakdown", 1)[1].split("## Commands")[0].strip())
        say(f"\nresults: {args.results / f'bench-{stamp}.md'} (and .json)")
        ok = True
        missed = [r for r in rows if r["pass"] is False]
        return 3 if (args.strict and missed) else 0
    except BenchError as exc:
        print(f"benchmark: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("benchmark: interrupted", file=sys.stderr)
        return 130
    finally:
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"benchmark: kept {work} (logs in {work / 'logs'})", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
