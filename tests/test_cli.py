"""The `ee` command as a user runs it: exit codes, messages, and the ingestion notebooks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import FEEDS, with_round


def ee(*args, env_extra=None, cwd=None):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "analysis", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def test_help_lists_the_commands():
    result = ee("--help")
    assert result.returncode == 0
    for command in ("fetch", "clean", "data", "backtest", "report", "reports"):
        assert command in result.stdout


def test_bad_arguments_exit_2():
    assert ee("fetch", "--bogus").returncode == 2


def test_data_without_notebooks(workspace, tmp_path):
    result = ee(
        "data", "--no-notebook", env_extra={"EE_FEED": str(FEEDS / "small_feed.json")}, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "12 rounds" in result.stdout
    assert "feed round 255: drawDateTime" in result.stdout  # repairs are listed
    assert (workspace / "data" / "processed" / "draws.parquet").exists()


def test_bad_feed_exits_1_names_round_and_field_and_keeps_processed(
    workspace, feed_file, small_feed
):
    env = {"EE_FEED": str(FEEDS / "small_feed.json")}
    assert ee("data", "--no-notebook", env_extra=env).returncode == 0
    draws = workspace / "data" / "processed" / "draws.parquet"
    before = draws.read_bytes()
    bad = feed_file(
        with_round(small_feed, "258", drawDate="2031-01-01", drawDateFull="January 1, 2031")
    )
    result = ee("data", "--no-notebook", env_extra={"EE_FEED": str(bad)})
    assert result.returncode == 1
    assert "feed round 258: drawDate '2031-01-01' is in the future" in result.stderr
    assert "Traceback" not in result.stderr
    assert draws.read_bytes() == before


def test_not_json_exits_1_without_storing(workspace, feed_file):
    result = ee("fetch", "--no-notebook", "--source", str(feed_file(b'{"rounds": [')))
    assert result.returncode == 1
    assert "not valid JSON" in result.stderr
    assert not list((workspace / "data" / "raw").glob("ee_rounds_*"))


@pytest.mark.slow
def test_ingestion_notebooks_run_through_papermill(workspace):
    env = {"EE_FEED": str(FEEDS / "small_feed.json")}
    result = ee("data", env_extra=env)
    assert result.returncode == 0, result.stderr
    runs = workspace / "data" / "runs"
    for name in ("1.0-ingest", "1.1-clean"):
        record = json.loads((runs / f"{name}.ipynb").read_text())
        assert not record["metadata"]["papermill"]["exception"]
        assert any(c.get("outputs") for c in record["cells"])
    # a second refresh with a renamed category: the clean notebook shows the rename
    result = ee("data", env_extra={"EE_FEED": str(FEEDS / "small_feed_next.json")})
    assert result.returncode == 0, result.stderr
    record = (runs / "1.1-clean.ipynb").read_text()
    assert "STEM occupations (Version 1)" in record


@pytest.mark.slow
def test_notebook_failure_is_reported_cleanly(workspace, feed_file, small_feed):
    bad = feed_file(with_round(small_feed, "256", drawCRS=None))
    result = ee("data", env_extra={"EE_FEED": str(bad)})
    assert result.returncode == 1
    assert "feed round 256: drawCRS is missing" in result.stderr
    assert "run record:" in result.stderr
    assert not (workspace / "data" / "processed" / "draws.parquet").exists()
