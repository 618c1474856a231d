"""Shared fixtures: the project's small fixture feeds, isolated data/report folders, and the shared
real snapshots (read by path; tests that need them skip when they are absent)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from analysis import config

FIXTURES = Path(__file__).parent / "fixtures"
FEEDS = FIXTURES / "feeds"
REAL_SNAPSHOTS = ("ee_rounds_2024-04-06.json", "ee_rounds_2025-07-09.json",
                  "ee_rounds_2026-03-05.json")


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
def snapshots_dir() -> Path:
    folder = config.shared_snapshots_dir()
    missing = [n for n in REAL_SNAPSHOTS if not (folder / n).exists()]
    if missing:
        pytest.skip(f"shared snapshots not found in {folder} (set EE_SNAPSHOTS)")
    return folder


@pytest.fixture(scope="session")
def newest_tables(snapshots_dir):
    """CleanResult of the newest shared snapshot (cleaned once per session)."""
    from analysis.clean import clean_rounds
    from analysis.feed import load_rounds

    data = (snapshots_dir / REAL_SNAPSHOTS[-1]).read_bytes()
    return clean_rounds(load_rounds(data))


def with_round(feed: dict, number: str, **fields) -> dict:
    """A copy of ``feed`` with fields of one round replaced (``None`` deletes the field)."""
    changed = copy.deepcopy(feed)
    for item in changed["rounds"]:
        if item["drawNumber"] == number:
            for key, value in fields.items():
                if value is None:
                    item.pop(key, None)
                else:
                    item[key] = value
            return changed
    raise KeyError(number)
