"""The synthetic feed generator used by the scaling benchmark: IRCC's format, clean without a
warning. (That cleaning grows linearly with the number of rounds is measured by
benchmarks/linearity.py: a ratio of timings is not a test.)"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

from analysis.ingest.clean import clean_rounds
from analysis.ingest.feed import load_rounds
from analysis.ingest.schemas import validate_tables

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from synthetic import LAST_DAY, synthetic_feed, synthetic_feed_bytes  # noqa: E402

RETRIEVED = date(2026, 3, 5)


def test_every_value_is_a_string_and_rounds_are_newest_first():
    feed = synthetic_feed(300, seed=3)
    rounds = feed["rounds"]
    assert all(isinstance(v, str) for r in rounds for v in r.values())
    assert [int(r["drawNumber"]) for r in rounds] == list(range(300, 0, -1))
    assert rounds[0]["drawDate"] == LAST_DAY.isoformat()
    assert synthetic_feed(300, seed=4) != feed  # the seed matters


def test_it_cleans_without_a_finding_and_passes_the_schemas():
    result = clean_rounds(load_rounds(synthetic_feed_bytes(2000, seed=1)), today=RETRIEVED)
    assert result.quality.empty, result.quality.head().to_string()
    assert len(result.draws) == 2000
    assert result.draws["family"].nunique() >= 10
    assert result.draws["distribution_date"].notna().any() and not result.pool.empty
    validate_tables({"draws": result.draws, "pool": result.pool, "quality": result.quality})


def test_no_rounds_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        synthetic_feed(0)
