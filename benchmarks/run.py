"""Benchmark the report pipeline against the naive way, side by side, in one run.

    .venv/bin/python benchmarks/run.py          # full run: (a) to (d), every month since 2023-06
    .venv/bin/python benchmarks/run.py --quick  # smoke run: 3 months, 1 repeat, small scaling

(a) cold backfill against a papermill + nbconvert loop, (b) a rebuild with nothing changed,
(c) one new round in the last month against that one report alone, (d) scaling on synthetic
feeds of 1,000 to 100,000 rounds. benchmarks/README.md says what each scenario measures and why
the comparisons are fair. Every ``ee`` command runs with ``--json``: what it built and how long
each step took are read from its summary, never scraped from its messages.

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
SCALES = (1_000, 10_000, 100_000)

TARGET_BACKFILL = 0.4  # (a) ours / naive
TARGET_NO_CHANGE = 1.0  # (b) seconds, "about one second"
NO_CHANGE_TOLERANCE = 1.5  # (b) passes up to this many seconds
TARGET_ONE_ROUND = 1.3  # (c) ours / one report alone

PACKAGES = ("papermill", "nbconvert", "nbclient", "ipykernel", "pandas", "numpy", "pyarrow")


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
    summary: dict | None = None  # the JSON summary of an `ee ... --json` command

    def step(self, name: str) -> dict:
        """The summary of step ``name`` (``fetch``, ``clean``, ``build``) of an ``ee`` command."""
        found = [s for s in (self.summary or {}).get("steps", []) if s["step"] == name]
        if not found:
            raise BenchError(f"{self.label}: no {name!r} step in its --json summary")
        return found[-1]


@dataclass
class Runner:
    """Runs commands with the benchmark's environment, times them and keeps their output."""

    env: dict[str, str]
    cwd: Path
    log_dir: Path
    python: str = sys.executable
    runs: list[Run] = field(default_factory=list)

    def run(self, label: str, argv: list[str], env: dict[str, str] | None = None) -> Run:
        """Run ``argv``; raise :class:`BenchError` (with the output's tail) if it fails."""
        started = time.perf_counter()
        proc = subprocess.run(
            argv, cwd=self.cwd, env={**self.env, **(env or {})}, capture_output=True, text=True
        )
        run = Run(label, argv, time.perf_counter() - started, proc.stdout, proc.stderr)
        self.runs.append(run)
        slug = re.sub(r"[^\w.-]+", "_", label)
        log = self.log_dir / f"{len(self.runs):03d}-{slug}.log"
        log.write_text(
            f"$ {shlex.join(argv)}\n# {run.seconds:.3f} s, exit {proc.returncode}\n"
            f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}\n"
        )
        if proc.returncode != 0:
            try:  # an `ee --json` command says why in its summary
                why = json.loads(proc.stdout)["error"]
            except (ValueError, KeyError, TypeError):
                why = "\n".join((proc.stdout + "\n" + proc.stderr).strip().splitlines()[-30:])
            raise BenchError(
                f"{label}: exit status {proc.returncode} after {run.seconds:.1f} s: {why}\n"
                f"(`{shlex.join(argv)}`; log: {log})"
            )
        return run

    def ee(self, label: str, *args: str, env: dict[str, str] | None = None) -> Run:
        """``ee <args> --json``, its summary parsed (stdout holds only the JSON document)."""
        run = self.run(label, [_bin("ee"), *args, "--json"], env)
        try:
            run.summary = json.loads(run.stdout)
        except json.JSONDecodeError as error:
            raise BenchError(f"{label}: --json printed no JSON ({error})") from None
        return run


def _bin(name: str) -> str:
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise BenchError(f"{path} not found: run the benchmark with the project's .venv/bin/python")
    return str(path)


def _check(ok: bool, run: Run, why: str) -> None:
    if not ok:
        raise BenchError(f"{run.label}: {why}; its summary:\n{json.dumps(run.summary, indent=2)}")


def _pages(site: Path, name: str = "index.html") -> dict[str, int]:
    """mtime (ns) of every published page: the index, each month, the family pages (kept pages
    are copied with their time stamps, so only pages drawn anew count as changed); or of every
    file ``name`` (``inputs.json``: the build stamps)."""
    pages = site.rglob(name)
    pages = [p for p in pages if not p.relative_to(site).parts[0].startswith(".")]
    return {str(p.relative_to(site)): p.stat().st_mtime_ns for p in pages if p.exists()}


def _changed(before: dict[str, int], after: dict[str, int]) -> list[str]:
    return sorted(k for k in after if before.get(k) != after[k])


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


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
    """Cores, CPU, memory, Python, the versions of the packages that do the work, git HEAD."""
    cpuinfo, meminfo = Path("/proc/cpuinfo"), Path("/proc/meminfo")
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text()) if cpuinfo.exists() else None
    memory = re.search(r"MemTotal:\s*(\d+) kB", meminfo.read_text()) if meminfo.exists() else None

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=PROJECT, capture_output=True, text=True).stdout

    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model.group(1).strip() if model else None,
        "memory_gb": round(int(memory.group(1)) / 1024**2, 1) if memory else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "packages": {name: importlib.metadata.version(name) for name in PACKAGES},
        "git_head": git("rev-parse", "--short", "HEAD").strip() or None,
        "git_dirty_files": len(git("status", "--porcelain", "--", *COPIED).splitlines()),
    }


def cell_times(notebooks: list[Path]) -> dict:
    """Per-cell durations recorded by papermill in executed notebooks (mean over notebooks)."""
    per_cell: dict[int, list[float]] = {}
    sources: dict[int, str] = {}
    totals = []
    for path in notebooks:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        timed = [
            (i, c, c.get("metadata", {}).get("papermill", {}).get("duration"))
            for i, c in enumerate(cells)
            if c.get("cell_type") == "code"
        ]
        for i, cell, duration in timed:
            if duration is not None:
                per_cell.setdefault(i, []).append(float(duration))
                sources[i] = ("".join(cell.get("source", "")).strip().splitlines() or [""])[0][:70]
        totals.append(sum(float(d) for _, _, d in timed if d is not None))
    cells = [
        {"cell": i, "source": sources[i], "mean_s": round(statistics.mean(v), 3)}
        for i, v in per_cell.items()
    ]
    return {
        "notebooks": len(totals),
        "mean_cells_total_s": round(statistics.mean(totals), 3) if totals else None,
        "cells": sorted(cells, key=lambda c: -c["mean_s"]),
    }


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
    return [months[i] for i in sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})]


# ------------------------------------------------------------------ the benchmark


@dataclass
class Setup:
    runner: Runner
    code_root: Path
    data_dir: Path
    site: Path
    work: Path
    feed: Path
    since: str
    months: list[str] = field(default_factory=list)
    all_months: list[str] = field(default_factory=list)

    def reports_args(self, jobs: int | None = None) -> list[str]:
        """``ee reports`` over the measured months: the range when it is all of them."""
        chosen = (
            ["--since", self.since]
            if self.months == self.all_months
            else ["--months", ",".join(self.months)]
        )
        return ["reports", *chosen, *(["--jobs", str(jobs)] if jobs else []), "--no-fetch"]


def prepare(args, work: Path) -> Setup:
    """Temporary data and site folders, the (frozen) code and the environment for commands."""
    data_dir, site, logs = work / "data", work / "site", work / "logs"
    for folder in (data_dir, logs):
        folder.mkdir(parents=True)
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
    where = runner.run(
        "which analysis", [runner.python, "-c", "import analysis; print(analysis.__file__)"]
    )
    if not Path(where.stdout.strip()).is_relative_to(code_root / "src"):
        raise BenchError(f"the commands import analysis from {where.stdout}, not {code_root}/src")
    return Setup(runner, code_root, data_dir, site, work, args.feed, args.since)


def code_fingerprint(setup: Setup) -> str:
    code = "from analysis.pipeline.plan import report_code_fingerprint as f; print(f())"
    return setup.runner.run("code fingerprint", [setup.runner.python, "-c", code]).stdout.strip()


def report_months(setup: Setup, since: str) -> list[str]:
    """The months ``ee reports --since`` covers, from the project's own function."""
    code = (
        "import json; from analysis.data import load_inputs; "
        "from analysis.report.month_report import report_months; "
        f"print(json.dumps(report_months(load_inputs().draws, {since!r})))"
    )
    return json.loads(setup.runner.run("months", [setup.runner.python, "-c", code]).stdout)


def say(message: str) -> None:
    print(message, flush=True)


def scenario_backfill(setup: Setup, jobs: int) -> dict:
    """(a) the naive loop, then ours into the empty site."""
    r, months = setup.runner, setup.months
    say(f"(a) naive loop: papermill + nbconvert, {len(months)} months, one after another")
    load_before = os.getloadavg()
    naive = []
    started = time.perf_counter()
    for i, month in enumerate(months, 1):
        folder = setup.work / "naive" / month
        folder.mkdir(parents=True)
        record = folder / "report.ipynb"
        papermill = [_bin("papermill"), NOTEBOOK, str(record), "-k", KERNEL, "-r", "month", month]
        papermill += ["-p", "data_dir", str(setup.data_dir), "-p", "output_dir", str(folder)]
        run_pm = r.run(f"naive papermill {month}", papermill)
        nbconvert = [_bin("jupyter"), "nbconvert", "--to", "html", "--no-input", str(record)]
        run_nc = r.run(f"naive nbconvert {month}", nbconvert)
        if not (folder / "report.html").exists() or not (folder / "summary.json").exists():
            raise BenchError(f"naive loop {month}: no report.html / summary.json in {folder}")
        naive.append({"month": month, "papermill_s": run_pm.seconds, "nbconvert_s": run_nc.seconds})
        say(f"    [{i}/{len(months)}] {month}: papermill {run_pm.seconds:.1f} s, "
            f"nbconvert {run_nc.seconds:.1f} s")  # fmt: skip
    naive_total = time.perf_counter() - started

    say(f"(a) ours: {len(months)} months with --jobs {jobs} into an empty site")
    ours = r.ee("(a) ours cold backfill", *setup.reports_args(jobs))
    load_after = os.getloadavg()
    build = ours.step("build")
    built = build["built"]
    _check(sorted(built) == months, ours, "a cold site builds every month")
    say(f"    ours {ours.seconds:.1f} s vs naive {naive_total:.1f} s")
    return {
        "command_ours": f"ee {shlex.join(setup.reports_args(jobs))}",
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
        "ours_parallelism": sum(built.values()) / ours.seconds,
        "ours_months_s": build["months_seconds"],
        "ours_site_s": build["site_seconds"],
        "loadavg_before": load_before,
        "loadavg_after": load_after,
    }


def scenario_no_change(setup: Setup, repeats: int, fingerprint: str) -> dict:
    """(b) ``ee reports`` and ``ee report`` (fetch + clean) with nothing changed."""
    r = setup.runner
    before = _pages(setup.site)
    reports_s, report_s = [], []
    say(f"(b) nothing changed: {repeats} x each")
    for i in range(1, repeats + 1):
        run = r.ee(f"(b) ours no change #{i}", *setup.reports_args())
        if run.step("build")["built"]:
            edited = code_fingerprint(setup) != fingerprint
            why = "the code fingerprint changed: the tree was edited" if edited else "see below"
            _check(False, run, f"expected nothing built ({why})")
        reports_s.append(run.seconds)
        run = r.ee(f"(b) ee report with fetch #{i}", "report")
        _check(not run.step("fetch")["new_content"], run, "the feed did not change")
        _check(run.step("clean")["skipped"], run, "nothing to clean")
        _check(not run.step("build")["built"], run, "the newest month is up to date")
        report_s.append(run.seconds)
        say(f"    #{i}: ee reports {reports_s[-1]:.2f} s, ee report (fetch) {report_s[-1]:.2f} s")
    changed = _changed(before, _pages(setup.site))
    if changed:
        raise BenchError(f"(b) built nothing, yet these pages were rewritten: {changed}")
    return {
        "command_reports": f"ee {shlex.join(setup.reports_args())}",
        "command_report": f"EE_FEED={setup.feed} ee report",
        "reports_s": reports_s,
        "report_fetch_s": report_s,
        "reports_median_s": _median(reports_s),
        "report_fetch_median_s": _median(report_s),
    }


def scenario_one_round(setup: Setup, repeats: int) -> dict:
    """(c) one more round in the last month: refresh, then ours against one report alone."""
    r, last = setup.runner, setup.all_months[-1]
    feed = json.loads(setup.feed.read_text(encoding="utf-8"))
    (setup.work / "feeds").mkdir()
    alone = ["report", "--month", last, "--force", "--no-fetch"]
    cycles = []
    say(f"(c) one new round in {last}: {repeats} cycle(s)")
    for i in range(1, repeats + 1):
        modified, added = add_rounds(feed, i, datetime.now(UTC).date())
        new = added[-1]
        if new["drawDate"][:7] != last:
            raise BenchError(f"(c) the new round is dated {new['drawDate']}, not in {last}")
        path = setup.work / "feeds" / f"ee_rounds_plus{i}.json"
        path.write_text(json.dumps(modified, ensure_ascii=False), encoding="utf-8")
        refresh = r.ee(f"(c) ee data, +{i} round(s)", "data", env={"EE_FEED": str(path)})
        _check(refresh.step("fetch")["new_content"], refresh, "the modified feed is new")
        before, stamps = _pages(setup.site), _pages(setup.site, "inputs.json")
        ours = r.ee(f"(c) ours after new round #{i}", *setup.reports_args())
        built = ours.step("build")["built"]
        changed = _changed(before, _pages(setup.site))
        # a month rebuilt has a new build stamp (every page's frame is drawn again with the new
        # "Feed checked ..." line, so its index.html changes either way)
        restamped = _changed(stamps, _pages(setup.site, "inputs.json"))
        month_pages = [c.split("/")[0] for c in restamped if re.match(r"\d{4}-\d{2}/", c)]
        _check(list(built) == [last] == month_pages, ours, f"only {last} rebuilt ({restamped})")
        # one report as built the first time: without the standing table's parts that ours
        # just kept (a forced rebuild would read them back and cost less than one report)
        shutil.rmtree(setup.data_dir / "cache", ignore_errors=True)
        baseline = r.ee(f"(c) one report alone #{i}", *alone)
        _check(baseline.step("build")["reasons"] == {last: "forced"}, baseline, "--force")
        cycles.append(
            {
                "new_round": {k: new[k] for k in ("drawNumber", "drawDate", "drawName", "drawCRS")},
                "refresh_s": refresh.seconds,
                "ours_s": ours.seconds,
                "alone_s": baseline.seconds,
                "ratio": ours.seconds / baseline.seconds,
                "ours_month_s": built[last],
                "alone_month_s": baseline.step("build")["built"][last],
                "pages_changed": changed,
            }
        )
        say(
            f"    #{i}: round {new['drawNumber']} on {new['drawDate']}: ee data "
            f"{refresh.seconds:.1f} s; ours {ours.seconds:.1f} s vs {baseline.seconds:.1f} s"
        )
    ours_med, alone_med = (_median([c[k] for c in cycles]) for k in ("ours_s", "alone_s"))
    return {
        "command_refresh": "EE_FEED=<modified feed> ee data",
        "command_ours": f"ee {shlex.join(setup.reports_args())}",
        "command_alone": f"ee {shlex.join(alone)}",
        "last_month": last,
        "cycles": cycles,
        "refresh_median_s": _median([c["refresh_s"] for c in cycles]),
        "ours_median_s": ours_med,
        "alone_median_s": alone_med,
        "ratio": ours_med / alone_med,
        # Noise only ever adds time: the ratio of the fastest runs is shown next to the median's.
        "ratio_of_minimums": min(c["ours_s"] for c in cycles) / min(c["alone_s"] for c in cycles),
    }


def scenario_scaling(setup: Setup, sizes: tuple[int, ...]) -> dict:
    """(d) synthetic feeds of growing size: the cleaning step and one month's report each."""
    sys.path.insert(0, str(HERE))
    from synthetic import synthetic_feed_bytes

    r, rows, failed = setup.runner, [], {}
    say(f"(d) scaling: {', '.join(f'{n:,}' for n in sizes)} synthetic rounds")
    for n in sizes:
        folder = setup.work / f"scale-{n}"
        folder.mkdir()
        feed = folder / "feed.json"
        feed.write_bytes(synthetic_feed_bytes(n))
        env = {
            "EE_FEED": str(feed),
            "EE_DATA_DIR": str(folder / "data"),
            "EE_REPORTS_DIR": str(folder / "site"),
            "EE_MAX_FEED_BYTES": str(max(feed.stat().st_size * 2, 20 * 1024 * 1024)),
        }
        try:  # a size that fails is reported, and the larger ones are still tried
            data = r.ee(f"(d) ee data, {n} rounds", "data", "--no-notebook", env=env)
            _check(data.step("clean")["rounds"] == n, data, f"all {n:,} rounds cleaned")
            report = r.ee(f"(d) ee report, {n} rounds", "report", "--no-fetch", env=env)
        except BenchError as error:
            failed[n] = str(error).splitlines()[0]
            say(f"    {n:>7,} rounds: failed: {failed[n]}")
            continue
        finally:
            shutil.rmtree(folder / "data", ignore_errors=True)
        ((month, seconds),) = report.step("build")["built"].items()
        rows.append(
            {
                "rounds": n,
                "feed_mb": round(feed.stat().st_size / 1024**2, 1),
                "clean_s": data.step("clean")["seconds"],
                "data_s": data.seconds,
                "month": month,
                "report_month_s": seconds,
                "report_s": report.seconds,
            }
        )
        say(f"    {n:>7,} rounds ({rows[-1]['feed_mb']} MB): clean {rows[-1]['clean_s']:.1f} s; "
            f"report of {month} {seconds:.1f} s")  # fmt: skip
        shutil.rmtree(folder)
    for row in rows:
        row["clean_growth"] = row["clean_s"] / rows[0]["clean_s"]
        row["report_growth"] = row["report_month_s"] / rows[0]["report_month_s"]
    return {"sizes": list(sizes), "rows": rows, "failed": failed}


def startup_floor(setup: Setup, repeats: int) -> dict:
    """Reference points for (b): the interpreter, and the imports any report command needs."""
    python = setup.runner.python
    probes = {
        "python -c pass": [python, "-c", "pass"],
        "import pandas + pyarrow": [python, "-c", "import pandas, pyarrow.parquet"],
        "import analysis.cli + pipeline": [
            python,
            "-c",
            "import analysis.cli, analysis.pipeline.steps, analysis.report.month_report, "
            "analysis.publish.render",
        ],
    }
    return {
        name: _median([setup.runner.run(f"floor {name}", argv).seconds for _ in range(repeats)])
        for name, argv in probes.items()
    }


# ------------------------------------------------------------------ the results


def table_rows(result: dict) -> list[dict]:
    a, b, c = result["backfill"], result["no_change"], result["one_round"]

    def row(scenario, ours, baseline=None, what="-", ratio=None, target="reported only", ok=None):
        return {
            "scenario": scenario,
            "ours_s": ours,
            "baseline_s": baseline,
            "baseline": what,
            "ratio": ratio,
            "target": target,
            "pass": ok,
        }

    no_change = f"~{TARGET_NO_CHANGE:g} s (<= {NO_CHANGE_TOLERANCE:g} s)"
    rows = [
        row(f"(a) cold backfill, {len(a['months'])} months, --jobs {result['jobs']}",
            a["ours_s"], a["naive_s"], "papermill + nbconvert loop", a["ratio"],
            f"ratio <= {TARGET_BACKFILL}", a["ratio"] <= TARGET_BACKFILL),
        row("(b) nothing changed: ee reports --no-fetch", b["reports_median_s"],
            target=no_change, ok=b["reports_median_s"] <= NO_CHANGE_TOLERANCE),
        row("(b) nothing changed: ee report (fetch+clean)", b["report_fetch_median_s"],
            target=no_change, ok=b["report_fetch_median_s"] <= NO_CHANGE_TOLERANCE),
        row(f"(c) one new round in {c['last_month']}: ee reports", c["ours_median_s"],
            c["alone_median_s"], "ee report --month LAST --force", c["ratio"],
            f"ratio <= {TARGET_ONE_ROUND}", c["ratio"] <= TARGET_ONE_ROUND),
        row("(c) data refresh: ee data (not in ratio)", c["refresh_median_s"]),
    ]  # fmt: skip
    scaling = result["scaling"]
    for n, error in scaling["failed"].items():
        rows.append(row(f"(d) {n:,} synthetic rounds", None, target=f"failed: {error}"))
    first = scaling["rows"][0] if scaling["rows"] else None
    for s in scaling["rows"]:
        reference = s is not first
        for what, key, growth in (
            ("clean", "clean_s", "clean_growth"),
            (f"report of {s['month']},", "report_month_s", "report_growth"),
        ):
            rows.append(row(
                f"(d) {what} {s['rounds']:,} synthetic rounds", s[key],
                first[key] if reference else None,
                f"the same, {first['rounds']:,} rounds" if reference else "-",
                s[growth] if reference else None,
                f"growth (x{s['rounds'] / first['rounds']:g} rounds)" if reference else "reference",
            ))  # fmt: skip
    return rows


def _fmt(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render_markdown(result: dict, rows: list[dict]) -> str:
    """The results as a markdown page: table, machine, breakdown, commands."""
    m, a, b, c = result["machine"], result["backfill"], result["no_change"], result["one_round"]
    verdict = {None: "-", True: "PASS", False: "FAIL"}
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
        *(
            f"| {r['scenario']} | {_fmt(r['ours_s'])} | {r['baseline']} | "
            f"{_fmt(r['baseline_s'])} | {_fmt(r['ratio'])} | {r['target']} | "
            f"{verdict[r['pass']]} |"
            for r in rows
        ),
        "",
        "## Machine",
        "",
        f"- {m['cpu_count']} cores ({m['cpu_model']}), {m['memory_gb']} GB, {m['platform']}, "
        f"Python {m['python']}; {', '.join(f'{k} {v}' for k, v in m['packages'].items())}",
        f"- git {m['git_head']} ({m['git_dirty_files']} changed files in the measured code)",
        f"- load average before (a): {', '.join(f'{x:.2f}' for x in a['loadavg_before'])}; "
        f"after (a): {', '.join(f'{x:.2f}' for x in a['loadavg_after'])}",
        "",
        "## Breakdown",
        "",
        f"- (a) naive per month: papermill {a['naive_papermill_mean_s']:.2f} s + nbconvert "
        f"{a['naive_nbconvert_mean_s']:.2f} s (mean); papermill's cells take "
        f"{_fmt(result['cells_naive']['mean_cells_total_s'])} s of that.",
        f"- (a) ours: worker time {a['ours_worker_sum_s']:.1f} s in {a['ours_s']:.1f} s wall "
        f"(parallelism {a['ours_parallelism']:.2f}); mean per month "
        f"{a['ours_worker_sum_s'] / len(a['ours_per_month_s']):.2f} s; cells "
        f"{_fmt(result['cells_ours']['mean_cells_total_s'])} s of that; the months "
        f"{a['ours_months_s']:.1f} s, then the site (data quality, family pages, feed, index) "
        f"{a['ours_site_s']:.1f} s.",
        f"- (b) ee reports runs: {', '.join(f'{x:.2f}' for x in b['reports_s'])} s; ee report "
        f"(fetch) runs: {', '.join(f'{x:.2f}' for x in b['report_fetch_s'])} s.",
        "- startup floor: "
        + "; ".join(f"{k} {v:.2f} s" for k, v in result["startup_floor"].items()),
        *(
            f"- (c) round {cyc['new_round']['drawNumber']} on {cyc['new_round']['drawDate']}: "
            f"ee data {cyc['refresh_s']:.2f} s; ours {cyc['ours_s']:.2f} s (month "
            f"{cyc['ours_month_s']:.2f} s) vs alone {cyc['alone_s']:.2f} s (month "
            f"{cyc['alone_month_s']:.2f} s); pages changed: {', '.join(cyc['pages_changed'])}"
            for cyc in c["cycles"]
        ),
        f"- (c) ratio of medians {c['ratio']:.2f} (the table); ratio of the fastest runs "
        f"{c['ratio_of_minimums']:.2f}",
        *(
            f"- (d) {s['rounds']:,} rounds ({s['feed_mb']} MB feed): clean {s['clean_s']:.2f} s "
            f"(x{s['clean_growth']:.1f}), ee data {s['data_s']:.2f} s; report of {s['month']} "
            f"{s['report_month_s']:.2f} s (x{s['report_growth']:.1f}), ee report "
            f"{s['report_s']:.2f} s"
            for s in result["scaling"]["rows"]
        ),
        "",
        "Slowest cells (mean s over ours' executed notebooks; cell index as executed):",
        "",
        *(
            f"- cell {cell['cell']}: {cell['mean_s']:.2f} s `{cell['source']}`"
            for cell in result["cells_ours"]["cells"][:8]
        ),
        "",
        "## Commands",
        "",
        f"- (a) ours: `{a['command_ours']}`",
        f"- (a) naive: `{a['command_naive']}`",
        f"- (b): `{b['command_reports']}` and `{b['command_report']}`",
        f"- (c): `{c['command_refresh']}`, then `{c['command_ours']}` against "
        f"`{c['command_alone']}`",
        "- (d): `EE_FEED=<synthetic feed> ee data --no-notebook`, then `ee report --no-fetch`",
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
        "--months", type=int, help="measure (a) on K evenly spaced months (default: all)"
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="for ee reports")
    parser.add_argument("--repeats", type=int, default=3, help="of (b), cycles of (c) (default 3)")
    parser.add_argument("--since", default=SINCE, help=f"first month (default {SINCE})")
    parser.add_argument(
        "--scales",
        default=",".join(map(str, SCALES)),
        help="sizes of the synthetic feeds of (d), comma-separated (default 1000,10000,100000)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="3 months, 1 repeat, (d) on 1000 and 3000 rounds"
    )
    parser.add_argument("--in-place", action="store_true", help="measure the live tree, not a copy")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--strict", action="store_true", help="exit 3 when a target is missed")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where results go")
    args = parser.parse_args(argv)
    if args.quick:
        args.months, args.repeats, args.scales = args.months or 3, 1, "1000,3000"
    args.feed = args.feed.expanduser().resolve()
    if not args.feed.is_file():
        parser.error(f"--feed {args.feed} does not exist (set EE_SNAPSHOTS or pass --feed)")
    try:
        args.scales = tuple(int(n) for n in args.scales.split(","))
    except ValueError:
        parser.error(f"--scales {args.scales!r} is not a list of numbers of rounds")
    if min(args.jobs, args.repeats, *args.scales, args.months or 1) < 1:
        parser.error("--jobs, --repeats, --months and --scales must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every scenario, print the table and write the results."""
    args = parse_args(argv)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="ee-bench-"))
    ok = False
    try:
        machine = machine_info()  # before anything runs: the code measured is this HEAD's
        setup = prepare(args, work)
        say(f"benchmark: work folder {work}; feed {args.feed}; code "
            f"{'in place' if args.in_place else 'frozen copy'}; jobs {args.jobs}")  # fmt: skip
        fingerprint = code_fingerprint(setup)
        say("setup: ee data (fetch + clean the feed into the temporary data folder)")
        setup_run = setup.runner.ee("setup ee data", "data")
        setup.all_months = report_months(setup, args.since)
        setup.months = pick_months(setup.all_months, args.months)
        say(f"    {setup_run.seconds:.1f} s; {len(setup.all_months)} months since {args.since}; "
            f"measuring {len(setup.months)}: {', '.join(setup.months)}")  # fmt: skip
        backfill = scenario_backfill(setup, args.jobs)
        no_change = scenario_no_change(setup, args.repeats, fingerprint)
        one_round = scenario_one_round(setup, args.repeats)
        scaling = scenario_scaling(setup, args.scales)
        floor = startup_floor(setup, args.repeats)
        result = {
            "started": f"{started:%Y-%m-%dT%H:%M:%SZ}",
            "argv": sys.argv,
            "feed": str(args.feed),
            "jobs": args.jobs,
            "repeats": args.repeats,
            "frozen": not args.in_place,
            "since": args.since,
            "all_months": setup.all_months,
            "machine": machine,
            "code_fingerprint": fingerprint,
            "code_changed_during_run": code_fingerprint(setup) != fingerprint,
            "setup_s": setup_run.seconds,
            "backfill": backfill,
            "no_change": no_change,
            "one_round": one_round,
            "scaling": scaling,
            "startup_floor": floor,
            "cells_naive": cell_times(sorted((work / "naive").glob("*/report.ipynb"))),
            "cells_ours": cell_times([setup.site / m / "report.ipynb" for m in setup.months]),
            "total_s": time.perf_counter() - t0,
        }
        rows = result["table"] = table_rows(result)
        markdown = render_markdown(result, rows)
        args.results.mkdir(parents=True, exist_ok=True)
        stamp = f"{started:%Y%m%dT%H%M%SZ}"
        for name in (f"bench-{stamp}", "latest"):
            (args.results / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
            (args.results / f"{name}.md").write_text(markdown)
        say("\n" + markdown.split("## Commands")[0].split("\n", 4)[4].strip())
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
