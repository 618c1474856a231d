"""Faults an impatient user causes: a parallel build killed (SIGKILL, SIGTERM), commands run at
the same time, damaged processed files, leftovers of killed runs, failed runs' records. Each
runs the real `ee` command on the fixture feed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pandas as pd
import psutil
import pytest

from helpers import FEEDS, run_ee, with_round

pytestmark = pytest.mark.slow

#: A killed run must free the project within this many seconds (workers, kernels, locks).
FREED_WITHIN = 20.0


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory) -> Path:
    """A data folder with the fixture feed fetched and cleaned (copied by each test)."""
    root = tmp_path_factory.mktemp("cleaned")
    env = {"EE_DATA_DIR": str(root / "data"), "EE_FEED": str(FEEDS / "small_feed.json")}
    result = run_ee("data", "--no-notebook", env=env)
    assert result.returncode == 0, result.stderr
    return root / "data"


@pytest.fixture
def project(cleaned, tmp_path) -> dict:
    """The environment of one test: its own copy of the cleaned data and an empty site."""
    shutil.copytree(cleaned, tmp_path / "data")
    return {
        "EE_DATA_DIR": str(tmp_path / "data"),
        "EE_REPORTS_DIR": str(tmp_path / "site"),
        "EE_FEED": str(FEEDS / "small_feed.json"),
    }


def start_parallel_build(env: dict) -> tuple[subprocess.Popen, list[int]]:
    """`ee reports` of two months on two workers; returns once the workers are inside their
    notebooks, with the process and the ids of every process under it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "analysis", "reports", "--since", "2023-07", "--until", "2023-08"]
        + ["--jobs", "2", "--no-fetch", "--force"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a kill of the command alone, as `kill PID` does
    )
    assert "building" in process.stdout.readline()
    tree: set[int] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait for both workers and their kernels
        children = psutil.Process(process.pid).children(recursive=True)
        tree |= {c.pid for c in children}
        kernels = [c for c in children if "ipykernel" in " ".join(c.cmdline())]
        if len(kernels) >= 2:
            break
        time.sleep(0.2)
    time.sleep(1.0)  # inside the notebooks
    tree |= {c.pid for c in psutil.Process(process.pid).children(recursive=True)}
    return process, sorted(tree)


def gone(pids: list[int], within: float) -> list[int]:
    """The processes among ``pids`` still running after ``within`` seconds (zombies are gone)."""
    deadline = time.monotonic() + within
    while True:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


# ------------------------------------------------------------------ item 1: killed parallel builds


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_parallel_build_frees_the_site(project, how):
    site = Path(project["EE_REPORTS_DIR"])
    process, tree = start_parallel_build(project)
    assert len(tree) >= 4  # two workers, two kernels
    os.kill(process.pid, how)
    _, err = process.communicate(timeout=60)
    assert process.returncode != 0
    if how == signal.SIGTERM:
        assert "interrupted" in err and "Traceback" not in err
    assert gone(tree, FREED_WITHIN) == [], "workers or kernels outlived the killed command"
    # `ee report` does not wait for a lock: it would stop at once, saying "try again"
    result = run_ee("report", "--month", "2023-08", "--no-fetch", env=project, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "try again" not in result.stderr
    assert (site / "2023-08" / "index.html").is_file()
    assert not list(site.glob(".builds/*")) and not list(site.glob(".*.new-*"))
    sockets = [p.name for p in Path(tempfile.gettempdir()).glob("ee-kernel-p*")]
    assert not [name for name in sockets if any(f"-p{pid}-" in name for pid in tree)]


# ------------------------------------------------------------------ item 8: one lock


def test_commands_at_once_never_lose_a_retrieval(project, tmp_path, small_feed):
    """Four `ee fetch` with different feeds at the same time: every stored snapshot has its
    manifest row (they take turns under the data lock)."""
    feeds = []
    for n in range(4):
        path = tmp_path / f"feed{n}.json"
        feed = with_round(small_feed, "260", drawCRS=str(700 + n))
        path.write_text(json.dumps(feed))
        feeds.append(path)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "analysis", "fetch", "--no-notebook", "--source", str(feed)],
            env={**os.environ, **project},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for feed in feeds
    ]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in processes]
    assert [code for code, _ in results] == [0] * 4, results
    raw = Path(project["EE_DATA_DIR"]) / "raw"
    manifest = pd.read_csv(raw / "manifest.csv", dtype="string")  # as written, not repaired
    stored = {p.name for p in raw.glob("ee_rounds_*.json")}
    assert stored == set(manifest["file"]) and len(stored) == 5  # the fixture + four


def test_a_second_report_names_the_running_one(project):
    process, _ = start_parallel_build(project)
    try:
        result = run_ee("report", "--no-fetch", env=project, timeout=120)
        assert result.returncode == 1
        assert "another `ee` command is working on the data in" in result.stderr
        assert f"pid {process.pid}: ee reports --since 2023-07" in result.stderr
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.communicate(timeout=60)


# ------------------------------------------------------------------ item 9: damaged processed/


def test_deleted_processed_table_is_rebuilt_by_ee_clean_with_a_warning(project):
    processed = Path(project["EE_DATA_DIR"]) / "processed"
    (processed / "draws.parquet").unlink()
    result = run_ee("clean", "--no-notebook", env=project)
    assert result.returncode == 0, result.stderr
    assert "draws.parquet is missing" in result.stderr and "rebuilding them from raw/" in (
        result.stderr
    )
    assert (processed / "draws.parquet").is_file()
    again = run_ee("clean", "--no-notebook", env=project)
    assert "up to date" in again.stdout and "damaged" not in again.stderr


def test_swapped_quality_table_is_rebuilt_before_a_report(project):
    """The issue's case: quality.parquet replaced by the pool table was published as the
    data-quality findings. Now `ee report` sees the file is not what cleaning wrote."""
    processed = Path(project["EE_DATA_DIR"]) / "processed"
    shutil.copyfile(processed / "pool.parquet", processed / "quality.parquet")
    result = run_ee("report", "--month", "2023-07", env=project, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "quality.parquet is not the file `ee clean` wrote" in result.stderr
    quality = pd.read_parquet(processed / "quality.parquet")
    assert list(quality.columns) == ["severity", "round", "field", "value", "message"]


def test_swapped_table_without_cleaning_is_refused_naming_file_and_command(project):
    processed = Path(project["EE_DATA_DIR"]) / "processed"
    shutil.copyfile(processed / "pool.parquet", processed / "quality.parquet")
    result = run_ee("report", "--month", "2023-07", "--no-fetch", env=project, timeout=300)
    assert result.returncode == 1
    assert "quality.parquet is damaged: it fails the quality schema" in result.stderr
    assert "`ee clean --force`" in result.stderr and "Traceback" not in result.stderr


def test_corrupt_snapshot_json_is_rebuilt(project):
    processed = Path(project["EE_DATA_DIR"]) / "processed"
    (processed / "snapshot.json").write_text('{"sha256": "ab')
    result = run_ee("clean", "--no-notebook", env=project)
    assert result.returncode == 0, result.stderr
    assert "snapshot.json is damaged" in result.stderr
    assert json.loads((processed / "snapshot.json").read_text())["files"]


def test_deleted_manifest_then_report_keeps_every_snapshot(project):
    raw = Path(project["EE_DATA_DIR"]) / "raw"
    (raw / "manifest.csv").unlink()
    env = {**project, "EE_FEED": str(FEEDS / "small_feed_next.json")}
    result = run_ee("data", "--no-notebook", env=env)
    assert result.returncode == 0, result.stderr
    assert "manifest.csv was missing" in result.stderr
    assert len(list(raw.glob("ee_rounds_*.json"))) == 2
    revisions = pd.read_parquet(Path(project["EE_DATA_DIR"]) / "processed" / "revisions.parquet")
    assert not revisions.empty


# ------------------------------------------------------------------ item 10: leftovers, records


def test_leftovers_of_killed_runs_are_removed_at_the_next_start(project):
    data, site = Path(project["EE_DATA_DIR"]), Path(project["EE_REPORTS_DIR"])
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    leftovers = [
        data / "processed" / f".staging-p{dead}-ab12",
        data / "processed" / ".staging-old_style",
        site / ".2023-07.old-1a2b3c4d",
        site / ".2023-07.new-zz9",
        site / ".builds" / "4242",
        Path(tempfile.gettempdir()) / f"ee-kernel-p{dead}-x1",
    ]
    for folder in leftovers:
        folder.mkdir(parents=True)
        (folder / "blob").write_bytes(b"x" * 1024)
    alive = Path(tempfile.gettempdir()) / f"ee-kernel-p{os.getpid()}-mine"
    alive.mkdir()
    try:
        result = run_ee("report", "--month", "2023-08", "--no-fetch", env=project, timeout=300)
        assert result.returncode == 0, result.stderr
        assert [p for p in leftovers if p.exists()] == []
        assert alive.exists()  # a running process's sockets are left alone
    finally:
        shutil.rmtree(alive, ignore_errors=True)


def test_failed_month_points_to_a_run_record_that_still_exists(project, tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    book = nbformat.read(Path(__file__).parents[1] / "notebooks" / "4.0-monthly-report.ipynb", 4)
    book.cells.insert(5, nbformat.v4.new_code_cell("raise RuntimeError('figure 2 broke')"))
    nbformat.write(book, notebooks / "4.0-monthly-report.ipynb")
    env = {**project, "EE_NOTEBOOKS_DIR": str(notebooks)}
    result = run_ee("report", "--month", "2023-07", "--no-fetch", env=env, timeout=300)
    assert result.returncode == 1
    record = Path(result.stderr.split("run record: ")[1].split(")")[0])
    assert record == Path(project["EE_DATA_DIR"]) / "runs" / "failed" / "2023-07.ipynb"
    assert record.is_file() and "figure 2 broke" in record.read_text()
