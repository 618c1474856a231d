"""Issue 17: impossible numbers are kept out of totals and pages (warnings naming round and
field, the value left empty), a round dated after the retrieval day is an error, and a feed
repeating one round thousands of times gives one summarised warning."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest

from analysis.errors import FeedError
from analysis.ingest.clean import clean_rounds
from analysis.ingest.fields import MAX_INVITATIONS
from helpers import FEEDS, with_round

GOOD = json.loads((FEEDS / "small_feed.json").read_text())
TODAY = date(2023, 9, 1)


def cleaned(feed: dict, today: date = TODAY):
    return clean_rounds(json.loads(json.dumps(feed))["rounds"], today=today)


def warned(result, number: str, field: str) -> str:
    q = result.quality
    rows = q[(q["severity"] == "warning") & (q["round"] == number) & (q["field"] == field)]
    return " | ".join(rows["message"])


def value(result, number: str, column: str):
    return result.draws.set_index("round").loc[number, column]


@pytest.mark.parametrize("number", ["255", "91a"], ids=["pool published", "no pool"])
@pytest.mark.parametrize("size", ["99999999999999", "100,001,000", 1e9, "100001000005506"])
def test_invitations_beyond_belief_are_left_empty_with_a_warning(size, number):
    result = cleaned(with_round(GOOD, number, drawSize=size))
    assert str(value(result, number, "invitations")) == "<NA>"
    assert warned(result, number, "drawSize")


def test_the_limit_without_a_pool_is_a_hundred_thousand():
    """Round 91a has no published distribution (all "0")."""
    result = cleaned(with_round(GOOD, "91a", drawSize=f"{MAX_INVITATIONS:,}"))
    assert value(result, "91a", "invitations") == MAX_INVITATIONS
    over = cleaned(with_round(GOOD, "91a", drawSize=f"{MAX_INVITATIONS + 1:,}"))
    assert f"more than {MAX_INVITATIONS:,}" in warned(over, "91a", "drawSize")


def test_invitations_above_the_pool_size_are_left_empty():
    published = next(r for r in GOOD["rounds"] if r.get("dd18", "0") != "0")
    pool = int(published["dd18"].replace(",", ""))
    result = cleaned(with_round(GOOD, published["drawNumber"], drawSize=f"{pool + 1:,}"))
    number = published["drawNumber"]
    assert str(value(result, number, "invitations")) == "<NA>"
    assert "candidates in the pool the round drew from" in warned(result, number, "drawSize")


def test_a_cutoff_of_zero_is_left_empty_with_a_warning():
    result = cleaned(with_round(GOOD, "255", drawCRS="0"))
    assert str(value(result, "255", "cutoff")) == "<NA>"
    assert "below 1" in warned(result, "255", "drawCRS")


def test_a_round_dated_the_day_after_retrieval_is_an_error():
    feed = with_round(
        GOOD,
        "260",
        drawDate="2023-09-02",
        drawDateFull="September 2, 2023",
        drawDateTime="September 2, 2023 at 14:00:00 UTC",
    )
    with pytest.raises(FeedError, match=r"feed round 260: drawDate '2023-09-02' is in the future"):
        cleaned(feed)
    assert len(cleaned(feed, today=date(2023, 9, 2)).draws) == len(GOOD["rounds"])


def test_thousands_of_duplicate_rounds_give_one_summarised_warning():
    feed = copy.deepcopy(GOOD)
    feed["rounds"] = feed["rounds"] + [copy.deepcopy(feed["rounds"][0]) for _ in range(8_000)]
    result = cleaned(feed)
    duplicates = result.quality[result.quality["message"].str.contains("appears twice")]
    assert len(duplicates) == 1
    assert "8,000" not in duplicates["message"].iloc[0]  # the first, and 7,999 more listings
    assert "7,999 more listings" in duplicates["message"].iloc[0]
    assert len(result.draws) == len(GOOD["rounds"])
