"""The `ee` command as a user runs it: exit codes, messages, and the ingestion notebooks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from helpers import FEEDS, with_round


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


def test_the_command_imports_no_heavy_library_before_it_needs_one():
    """The package's own modules are imported at the top of cli and steps; the heavy libraries
    stay out until a step needs them (a no-change `make report` never does)."""
    heavy = ("statsmodels", "matplotlib", "seaborn", "scipy", "nbformat", "papermill", "pandera")
    code = f"import sys, analysis.cli; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


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


# ------------------------------------------------------------------ arguments checked first


def _nothing_done(workspace):
    """No retrieval, no manifest row, no cleaning, no report."""
    return not (workspace / "data").exists() and not (workspace / "reports").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "--month", "2023-07\n"], "spaces or line breaks"),
        (["report", "--month", ""], "is empty"),
        (["report", "--month", " 2023-07 "], "spaces or line breaks"),
        (["report", "--month", "2023-13"], "is not a month"),
        (["report", "--month", "2023-7"], "is not a month"),
        (["report", "--month", "2014-12"], "before Express Entry's first round (2015-01)"),
        (["report", "--month", "2999-01"], "has not begun yet"),
        (["reports", "--since", "2014-06"], "before Express Entry's first round"),
        (["reports", "--since", "2024-01", "--until", "2023-06"], "is after --until 2023-06"),
        (["reports", "--months", "2023-07,2023-13"], "'2023-13' is not a month"),
        (["reports", "--months", ","], "is empty"),
        (["reports", "--months", "2023-07", "--since", "2023-06"], "either --months or --since"),
        (["reports"], "give --since"),
        (["reports", "--since", "2023-06", "--jobs", "0"], "--jobs"),
    ],
)
def test_bad_arguments_exit_2_before_any_work(workspace, args, message):
    result = ee(*args, env_extra={"EE_FEED": str(FEEDS / "small_feed.json")})
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert _nothing_done(workspace)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "EE_FETCH_DEADLINE",
            "1e10",
            "EE_FETCH_DEADLINE='1e10' is not a number of seconds above 0 and at most "
            f"{int(threading.TIMEOUT_MAX):,} (the longest wait this platform allows)",
        ),
        ("EE_FETCH_DEADLINE", "soon", "EE_FETCH_DEADLINE='soon' is not a number of seconds"),
        (
            "EE_SITE_URL",
            "https://me.example/ee\x07/",
            "EE_SITE_URL 'https://me.example/ee\\x07/' has a space or control character at "
            "position 21",
        ),
        ("EE_SITE_URL", "me.example/ee", "EE_SITE_URL 'me.example/ee' must be an http(s) URL"),
        ("EE_MAX_FEED_BYTES", "-1", "EE_MAX_FEED_BYTES='-1' is not a number of bytes above 0"),
    ],
)
def test_bad_settings_exit_2_before_any_work(workspace, name, value, message):
    env = {"EE_FEED": str(FEEDS / "small_feed.json"), name: value}
    result = ee("data", "--no-notebook", env_extra=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"ee data: error: {message}" in result.stderr
    assert "Traceback" not in result.stderr
    assert _nothing_done(workspace)


def test_a_month_outside_the_data_exits_2_before_any_report(workspace):
    env = {"EE_FEED": str(FEEDS / "small_feed.json")}
    assert ee("data", "--no-notebook", env_extra=env).returncode == 0
    processed = sorted(p.name for p in (workspace / "data" / "processed").iterdir())
    for args in (["report", "--month", "2023-09"], ["reports", "--since", "2023-10"]):
        result = ee(*args, "--no-fetch", env_extra=env)
        assert result.returncode == 2, result.stderr
        assert "after the data ends (newest round 2023-08-15" in result.stderr
    for args in (["report", "--month", "2023-04"], ["reports", "--months", "2019-01,2023-07"]):
        result = ee(*args, "--no-fetch", env_extra=env)
        assert result.returncode == 2, result.stderr
        assert "before the data begins (first round 2023-05-24" in result.stderr
    assert not (workspace / "reports").exists()
    assert sorted(p.name for p in (workspace / "data" / "processed").iterdir()) == processed


def test_data_json_times_each_step(workspace):
    result = ee(
        "data", "--no-notebook", "--json", env_extra={"EE_FEED": str(FEEDS / "small_feed.json")}
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)  # stdout holds the JSON document only
    assert summary["command"] == "data" and summary["status"] == "ok"
    assert summary["exit_status"] == 0
    assert [s["step"] for s in summary["steps"]] == ["fetch", "clean"]
    assert all(s["seconds"] >= 0 for s in summary["steps"])
    fetched, cleaned = summary["steps"]
    assert fetched["new_content"] is True and fetched["rounds"] == 12
    assert cleaned["rounds"] == 12 and cleaned["skipped"] is False
    assert "ee clean: 12 rounds" in result.stderr  # the messages went to stderr


def test_json_reports_a_failure_with_its_exit_status(workspace, feed_file, small_feed):
    bad = feed_file(with_round(small_feed, "256", drawCRS=None))
    result = ee("data", "--no-notebook", "--json", env_extra={"EE_FEED": str(bad)})
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert summary["status"] == "error" and summary["exit_status"] == 1
    assert "feed round 256: drawCRS is missing" in summary["error"]
    assert [s["step"] for s in summary["steps"]] == ["fetch"]  # cleaning did not finish


def test_progress_is_plain_lines_when_output_is_not_a_terminal(workspace):
    result = ee("data", "--no-notebook", env_extra={"EE_FEED": str(FEEDS / "small_feed.json")})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("  [0/2] running fetch (elapsed 0:00:") for line in lines)
    assert any(line.startswith("  [2/2] clean done in ") for line in lines)
    assert "\x1b[" not in result.stdout  # no terminal control codes in a log


@pytest.mark.slow
def test_reports_months_json_and_jobs_capped(workspace):
    env = {"EE_FEED": str(FEEDS / "small_feed.json")}
    assert ee("data", "--no-notebook", env_extra=env).returncode == 0
    result = ee(
        "reports", "--months", "2023-08,2023-07", "--jobs", "64", "--no-fetch", "--json",
        env_extra=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "ee reports: warning: --jobs 64 capped at 2" in result.stderr
    summary = json.loads(result.stdout)
    (build,) = summary["steps"]
    assert build["step"] == "build" and build["months"] == ["2023-07", "2023-08"]
    assert sorted(build["built"]) == ["2023-07", "2023-08"]
    assert all(seconds > 0 for seconds in build["built"].values())
    assert build["reasons"] == {"2023-07": "not built yet", "2023-08": "not built yet"}
    assert build["jobs"] == 2
    assert build["months_seconds"] > 0 and build["site_seconds"] >= 0
    again = json.loads(
        ee("reports", "--months", "2023-07", "--no-fetch", "--json", env_extra=env).stdout
    )
    assert again["steps"][0]["built"] == {} and again["steps"][0]["skipped"] == ["2023-07"]


def test_progress_is_live_on_a_terminal(workspace):
    """On a terminal, rich draws the steps done of the total, elapsed time and the current step."""
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "analysis", "data", "--no-notebook"],
        stdout=follower,
        stderr=follower,
        env={**os.environ, "EE_FEED": str(FEEDS / "small_feed.json"), "COLUMNS": "120"},
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=120) == 0
    os.close(leader)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert "running fetch" in screen and "running clean" in screen  # the step in progress
    assert "2/2" in screen and "steps" in screen and "0:00:0" in screen  # done, total, elapsed
    assert "\x1b[" in screen  # drawn live
    assert "[0/2] running fetch" not in screen  # no start lines: the display shows them
