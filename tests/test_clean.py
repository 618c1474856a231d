"""Cleaning the fixture feed, and every kind of bad input with its expected outcome."""

import json

import pandas as pd
import pytest

from analysis.errors import FeedError
from analysis.ingest.clean import clean_rounds
from analysis.ingest.feed import load_rounds
from analysis.ingest.schemas import validate_tables
from helpers import FEEDS, with_round

TODAY = pd.Timestamp("2023-09-01").date()


def clean(feed, today=TODAY):
    return clean_rounds(load_rounds(json.dumps(feed).encode()), today=today)


def findings(result, severity="warning"):
    q = result.quality
    return q[q["severity"] == severity]


def test_fixture_feed_gives_one_row_per_round(small_feed):
    result = clean(small_feed)
    draws = result.draws
    assert len(draws) == 12
    assert draws["round"].tolist()[:2] == ["91a", "91b"]
    assert draws["date"].is_monotonic_increasing
    stem = draws.set_index("round").loc["255"]
    assert (stem["family"], stem["invitations"], stem["cutoff"]) == ("stem", 500, 486)
    assert stem["drawn_at"] == pd.Timestamp("2023-07-05 15:48:39", tz="UTC")
    assert draws.set_index("round").loc["253", "version"] == 3
    assert draws["is_all_program"].sum() == 3
    validate_tables({"draws": draws, "pool": result.pool, "quality": result.quality})


def test_repairs_are_reported_not_silent(small_feed):
    repaired = findings(clean(small_feed), "repaired")
    assert set(zip(repaired["round"], repaired["field"], strict=True)) == {
        ("255", "drawDateTime"),
        ("253", "drawCutOff"),
    }


def test_unpublished_distribution_is_not_zero_candidates(small_feed):
    result = clean(small_feed)
    draws = result.draws.set_index("round")
    assert pd.isna(draws.loc["91a", "distribution_date"])
    assert pd.Timestamp("2023-05-22") not in set(result.pool["distribution_date"])
    one = result.pool[result.pool["distribution_date"] == pd.Timestamp("2023-07-10")]
    assert len(one) == 15
    assert one["candidates"].sum() == sum(
        int(v * 1.0)
        for v in [
            512,
            9876,
            3102,
            6011,
            14523,
            13876,
            11650,
            10532,
            11003,
            8760,
            9911,
            10420,
            60111,
            30440,
            5310,
        ]
    )


def test_empty_tie_break_is_null_without_warning(small_feed):
    result = clean(small_feed)
    assert pd.isna(result.draws.set_index("round").loc["251", "tie_break_at"])
    assert result.quality[result.quality["round"] == "251"].empty


# ------------------------------------------------------------------ bad input: errors


def test_missing_field_is_an_error_naming_round_and_field(small_feed):
    with pytest.raises(FeedError, match=r"feed round 256: drawCRS is missing"):
        clean(with_round(small_feed, "256", drawCRS=None))


def test_same_round_twice_with_different_content_is_an_error(small_feed):
    twin = dict(small_feed["rounds"][3], drawCRS="999")
    small_feed["rounds"].append(twin)
    with pytest.raises(
        FeedError,
        match=r"feed round 257: drawNumber '257' appears twice with "
        r"different content \(drawCRS\)",
    ):
        clean(small_feed)


def test_same_round_twice_identical_is_a_warning(small_feed):
    small_feed["rounds"].append(dict(small_feed["rounds"][3]))
    result = clean(small_feed)
    assert len(result.draws) == 12
    assert "appears twice with the same content" in findings(result)["message"].iloc[0]


def test_round_dated_in_the_future_is_an_error(small_feed):
    feed = with_round(small_feed, "260", drawDate="2023-12-15", drawDateFull="December 15, 2023")
    with pytest.raises(FeedError, match=r"feed round 260: drawDate '2023-12-15' is in the future"):
        clean(feed)


def test_unreadable_date_with_unreadable_full_date_is_an_error(small_feed):
    feed = with_round(small_feed, "258", drawDate="soon", drawDateFull="later")
    with pytest.raises(FeedError, match="feed round 258: drawDate 'soon'"):
        clean(feed)


def test_bad_round_number_is_an_error(small_feed):
    with pytest.raises(FeedError, match="is not a round number"):
        clean(with_round(small_feed, "258", drawNumber="#258"))


def test_every_error_is_listed_not_only_the_first(small_feed):
    feed = with_round(with_round(small_feed, "258", drawSize=None), "259", drawCRS=None)
    with pytest.raises(FeedError) as caught:
        clean(feed)
    assert [(f.round, f.field) for f in caught.value.findings] == [
        ("259", "drawCRS"),
        ("258", "drawSize"),
    ]


# ------------------------------------------------------------------ bad input: warnings


def test_non_numeric_draw_size_keeps_the_row(small_feed):
    result = clean(with_round(small_feed, "258", drawSize="n/a"))
    row = result.draws.set_index("round").loc["258"]
    assert pd.isna(row["invitations"]) and row["cutoff"] == 476
    warning = findings(result).iloc[0]
    assert (warning["round"], warning["field"], warning["value"]) == ("258", "drawSize", "n/a")
    assert "is not a number of invitations" in warning["message"]


def test_cutoff_above_1200_is_left_empty_and_flagged(small_feed):
    result = clean(with_round(small_feed, "257", drawCRS="4860"))
    assert pd.isna(result.draws.set_index("round").loc["257", "cutoff"])
    assert "outside the CRS range 0-1200" in findings(result)["message"].iloc[0]


def test_markup_in_a_name_is_kept_as_text_and_flagged(small_feed):
    name = "<script>alert('x')</script>STEM occupations (Version 1)"
    result = clean(with_round(small_feed, "255", drawName=name))
    row = result.draws.set_index("round").loc["255"]
    assert row["name"] == name
    messages = findings(result)
    assert ((messages["field"] == "drawName") & messages["message"].str.contains("markup")).any()


def test_unknown_category_is_kept_unclassified_and_listed(small_feed):
    result = clean(with_round(small_feed, "259", drawName="Researchers (Version 1)"))
    assert result.draws.set_index("round").loc["259", "family"] == "unclassified"
    assert findings(result)["message"].str.contains("taxonomy does not know").any()


def test_disagreeing_full_date_is_a_warning(small_feed):
    result = clean(with_round(small_feed, "258", drawDateFull="July 13, 2023"))
    assert result.draws.set_index("round").loc["258", "date"] == pd.Timestamp("2023-07-12")
    assert findings(result)["message"].str.contains("disagrees with drawDateFull").any()


def test_unreadable_iso_date_falls_back_to_the_full_date(small_feed):
    result = clean(with_round(small_feed, "258", drawDate="12/07/2023x"))
    assert result.draws.set_index("round").loc["258", "date"] == pd.Timestamp("2023-07-12")


def test_subtotal_mismatch_is_a_warning_naming_the_field(small_feed):
    result = clean(with_round(small_feed, "258", dd3="1"))
    warning = findings(result).iloc[0]
    assert (warning["round"], warning["field"]) == ("258", "dd3")


def test_unparseable_times_are_warnings(small_feed):
    result = clean(with_round(small_feed, "258", drawDateTime="soon", drawCutOff="13:00"))
    assert set(findings(result)["field"]) == {"drawDateTime", "drawCutOff"}


# ------------------------------------------------------------------ feeds that are not feeds


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html>Maintenance</html>", "not valid JSON"),
        (b'{"classes": "wb-tables", "rounds": [{"drawNumber": "1"', "cut short"),
        (b'{"classes": "wb-tables"}', "no 'rounds' list"),
        (b'{"rounds": []}', "'rounds' is empty"),
        (b'{"rounds": {"a": 1}}', "not a list"),
        (b'{"rounds": ["x"]}', "rounds\\[0\\] is a str"),
        ('{"rounds": [{"drawName": "caf\u00e9"}]}'.encode("latin-1"), "not UTF-8"),
    ],
)
def test_not_a_feed(content, message):
    with pytest.raises(FeedError, match=message):
        load_rounds(content)


def test_over_the_size_cap():
    with pytest.raises(FeedError, match="over the"):
        load_rounds(b" " * 30 * 1024 * 1024)


def test_fixture_next_refresh_is_valid():
    rounds = load_rounds((FEEDS / "small_feed_next.json").read_bytes())
    assert len(clean_rounds(rounds, today=TODAY).draws) == 13
