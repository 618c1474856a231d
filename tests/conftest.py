"""Shared fixtures: the hand-written fixture feed, isolated data/report folders, the shared real
snapshots (read by path; tests that need them skip when they are absent) cleaned once per
session, and a site built by the real pipeline. Plain helpers live in ``helpers.py``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from analysis import config
from helpers import FEEDS, REAL_SNAPSHOTS, markup_feed, run_ee


@pytest.fixture
def small_feed() -> dict:
    """The hand-written fixture feed as a Python object (a fresh copy per test)."""
    return json.loads((FEEDS / "small_feed.json").read_text())


@pytest.fixture
def feed_file(tmp_path):
    """Write a feed object (or raw bytes) to a file and return its path."""

    def write(content, name: str = "feed.json") -> Path:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
        return path

    return write


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    """Isolated EE_DATA_DIR and EE_REPORTS_DIR for one test."""
    data, reports = tmp_path / "data", tmp_path / "reports"
    monkeypatch.setenv("EE_DATA_DIR", str(data))
    monkeypatch.setenv("EE_REPORTS_DIR", str(reports))
    monkeypatch.delenv("EE_FEED", raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def fixture_tables():
    """The fixture feed cleaned as on 2023-09-01 (a CleanResult), once per session."""
    from analysis.ingest.clean import clean_rounds
    from analysis.ingest.feed import load_rounds

    feed = load_rounds((FEEDS / "small_feed.json").read_bytes())
    return clean_rounds(feed, today=date(2023, 9, 1))


def _fixture_month(tables, name: str):
    from analysis.report import month_report

    params = month_report.check_parameters(name, data_end=tables.draws["date"].max())
    return month_report.prepare_month(tables.draws, tables.pool, params, retrieved_at="2023-09-01")


@pytest.fixture(scope="session")
def july(fixture_tables):
    """July 2023 of the fixture feed, prepared as its report prepares it (STEM and healthcare)."""
    return _fixture_month(fixture_tables, "2023-07")


@pytest.fixture(scope="session")
def august(fixture_tables):
    """August 2023 of the fixture feed (neither STEM nor healthcare rounds)."""
    return _fixture_month(fixture_tables, "2023-08")


@pytest.fixture(scope="session")
def snapshots_dir() -> Path:
    folder = config.shared_snapshots_dir()
    missing = [n for n in REAL_SNAPSHOTS if not (folder / n).exists()]
    if missing:
        pytest.skip(f"shared snapshots not found in {folder} (set EE_SNAPSHOTS)")
    return folder


@pytest.fixture(scope="session")
def cleaned_snapshot():
    """``cleaned_snapshot(name)``: the CleanResult of one shared snapshot, cleaned once per
    session; skips the test when the snapshot is absent."""
    from analysis.ingest.clean import clean_rounds
    from analysis.ingest.feed import load_rounds

    cleaned = {}

    def clean(name: str):
        if name not in cleaned:
            path = config.shared_snapshots_dir() / name
            if not path.is_file():
                pytest.skip(f"real snapshot {path} is not available (set EE_SNAPSHOTS)")
            cleaned[name] = clean_rounds(load_rounds(path.read_bytes()))
        return cleaned[name]

    return clean


@pytest.fixture(scope="session")
def newest_tables(cleaned_snapshot):
    """CleanResult of the newest shared snapshot (cleaned once per session)."""
    return cleaned_snapshot(REAL_SNAPSHOTS[-1])


@pytest.fixture(scope="session")
def published_site(tmp_path_factory):
    """A site built by the real pipeline from the fixture feed (with markup in it): the reports
    of 2023-07 (STEM and healthcare rounds) and 2023-08 (neither), the index and the
    data-quality page. Returns (env, site folder)."""
    root = tmp_path_factory.mktemp("pipeline")
    feed = root / "feed.json"
    feed.write_text(json.dumps(markup_feed(json.loads((FEEDS / "small_feed.json").read_text()))))
    env = {
        "EE_DATA_DIR": str(root / "data"),
        "EE_REPORTS_DIR": str(root / "site"),
        "EE_FEED": str(feed),
    }
    result = run_ee("reports", "--since", "2023-07", "--jobs", "2", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return env, root / "site"


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's, see ``browsing.CHROMIUM``) for one test module, closed before
    the next starts (Playwright's sync API allows one at a time, and nothing else in the session
    shares its event loop); skips the test when Chromium, Playwright or axe-playwright-python is
    not installed."""
    from browsing import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    pytest.importorskip(
        "axe_playwright_python.sync_playwright", reason="axe-playwright-python not installed"
    )
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
