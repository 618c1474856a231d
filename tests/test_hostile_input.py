"""Hostile values in the feed: names built to make regular expressions backtrack, one round in
several spellings, values out of range (too large, too early, too deep). Each becomes the
README's warning or error naming the round and field, never a traceback or a stall."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest

from analysis import taxonomy
from analysis.data import canonical_round, round_sort_key
from analysis.ingest.clean import clean_rounds
from analysis.ingest.feed import load_rounds
from analysis.ingest.quality import FeedError
from analysis.ingest.revisions import diff_rounds
from analysis.ingest.schemas import validate_tables
from helpers import with_round

TODAY = pd.Timestamp("2023-09-01").date()


def clean(feed, today=TODAY):
    return clean_rounds(load_rounds(json.dumps(feed).encode()), today=today)


def found(result, severity="warning") -> set[tuple[str, str]]:
    q = result.quality[result.quality["severity"] == severity]
    return set(zip(q["round"], q["field"], strict=True))


def tables_pass_their_schemas(result) -> None:
    validate_tables({"draws": result.draws, "pool": result.pool, "quality": result.quality})


# ------------------------------------------------------------------ item 3: linear-time names
# (that the work grows linearly with the name is measured by benchmarks/linearity.py)

#: The shapes that made the old version patterns backtrack (runs a pattern's leading repeat
#: re-reads from every start position), 40,000 characters each, as in the issue.
WORST_CASE_NAMES = {
    "commas": "," * 40_000,
    "spaces then a letter": " " * 40_000 + "x",
    "commas and dashes": ", -–" * 10_000,
    "open parentheses": "( " * 20_000,
    "a parenthesis then spaces": "(" + " " * 40_000 + "x",
    "a year then spaces": "2026" + " " * 40_000 + "x",
    "a year then dashes": "2026 " + "- " * 20_000,
    "version then digits": "version " + "1" * 40_000 + "x",
    "version then spaces": "version 1" + " " * 40_000 + "x",
    "digits": "1" * 40_000,
    "the word version": "version " * 5_000,
    "no-break spaces": "\u00a0" * 40_000 + "x",
    "markup opener then spaces": "<" + " " * 40_000,
}


@pytest.mark.parametrize("name", WORST_CASE_NAMES.values(), ids=WORST_CASE_NAMES.keys())
def test_worst_case_names_classify(name):
    category = taxonomy.classify(name)
    assert category.family == taxonomy.UNCLASSIFIED


def test_a_real_name_behind_40000_commas_still_parses():
    name = "STEM occupations" + "," * 40_000 + " (Version 2)"
    assert taxonomy.split_version(name) == ("STEM occupations", 2, None)
    assert taxonomy.classify(name).family == "stem"


def test_markup_check_on_a_hostile_name_is_linear(small_feed):
    feed = with_round(small_feed, "258", drawName="<" + " " * 40_000 + "x")
    result = clean(feed)
    assert ("258", "drawName") in found(result)


# ------------------------------------------------------------------ item 5: round numbers


@pytest.mark.parametrize(
    ("written", "canonical"),
    [("434", "434"), ("0434", "434"), ("00091a", "91a"), ("91B", "91b"), ("0", "0")],
)
def test_canonical_round_numbers(written, canonical):
    assert canonical_round(written) == canonical


@pytest.mark.parametrize(
    "written", ["٤٣٤", "４３４", "434\n", "91ab", "9" * 10, "91ſ", "K91", "-1", "4 34"]
)
def test_not_round_numbers(written):
    assert canonical_round(written) is None


def test_non_ascii_digits_are_an_error_naming_the_field(small_feed):
    with pytest.raises(FeedError, match=r"drawNumber '٢٥٨' is not a round number \(ASCII"):
        clean(with_round(small_feed, "258", drawNumber="٢٥٨"))


def test_leading_zeros_are_read_as_the_same_round_and_noted(small_feed):
    result = clean(with_round(small_feed, "258", drawNumber="0258"))
    assert "258" in set(result.draws["round"])
    assert ("258", "drawNumber") in found(result, "repaired")
    tables_pass_their_schemas(result)


def test_one_round_in_two_spellings_with_the_same_content_is_kept_once(small_feed):
    feed = copy.deepcopy(small_feed)
    twin = {**next(r for r in feed["rounds"] if r["drawNumber"] == "258"), "drawNumber": "0258"}
    feed["rounds"].append(twin)
    result = clean(feed)
    assert result.draws["round"].tolist().count("258") == 1
    message = result.quality.query("round == '258' and field == 'drawNumber'")["message"]
    assert message.str.contains(
        "appears twice \\(as '258' and '0258'\\) with the same content"
    ).any()


def test_one_round_in_two_spellings_with_different_content_is_an_error(small_feed):
    feed = copy.deepcopy(small_feed)
    twin = {
        **next(r for r in feed["rounds"] if r["drawNumber"] == "258"),
        "drawNumber": "0258",
        "drawCRS": "999",
    }
    feed["rounds"].append(twin)
    with pytest.raises(
        FeedError, match=r"feed round 258: drawNumber '0258' appears twice.*drawCRS"
    ):
        clean(feed)


def test_issue_example_three_spellings(small_feed):
    """'434', '0434' and '٤٣٤' in one feed: never three rounds with different cutoffs."""
    feed = copy.deepcopy(small_feed)
    base = next(r for r in feed["rounds"] if r["drawNumber"] == "258")
    feed["rounds"] += [
        {**base, "drawNumber": "0258", "drawCRS": "470"},
        {**base, "drawNumber": "٢٥٨", "drawCRS": "480"},
    ]
    with pytest.raises(FeedError) as caught:
        clean(feed)
    message = str(caught.value)
    assert "feed round 258: drawNumber '0258' appears twice" in message
    assert "drawNumber '٢٥٨' is not a round number" in message


def test_sort_key_of_anything():
    assert round_sort_key("91a") == (91, "a")
    assert round_sort_key("9" * 5000)[0] == 10**9  # no int() of 5,000 digits


# ------------------------------------------------------------------ item 6: out of range

HUGE = "99,999,999,999,999,999,999,999"


@pytest.mark.parametrize(
    ("fields", "severity", "field", "column"),
    [
        ({"drawSize": HUGE}, "warning", "drawSize", "invitations"),
        ({"drawSize": "9" * 5000}, "warning", "drawSize", "invitations"),
        ({"drawCRS": "9" * 5000}, "warning", "drawCRS", "cutoff"),
        ({"drawDateTime": "July 12, 1600 at 10:00:00 UTC"}, "warning", "drawDateTime", "drawn_at"),
        ({"drawCutOff": "July 12, 3000 at 10:00:00 UTC"}, "warning", "drawCutOff", "tie_break_at"),
        ({"drawCutOff": "1600-07-12T10:00:00"}, "warning", "drawCutOff", "tie_break_at"),
        ({"drawName": "STEM occupations (1600-1)"}, "warning", "drawName", "version_year"),
        ({"drawName": "STEM occupations (Version 0)"}, "warning", "drawName", "version"),
    ],
)
def test_out_of_range_values_are_warnings_that_keep_the_row(
    small_feed, fields, severity, field, column
):
    result = clean(with_round(small_feed, "258", **fields))
    assert ("258", field) in found(result, severity)
    row = result.draws.set_index("round").loc["258"]
    assert pd.isna(row[column])
    tables_pass_their_schemas(result)


@pytest.mark.parametrize("field", ["dd1", "dd18"])
def test_huge_pool_count_skips_that_distribution(small_feed, field):
    result = clean(with_round(small_feed, "258", **{field: HUGE}))
    assert ("258", field) in found(result)
    assert pd.isna(result.draws.set_index("round").loc["258", "distribution_date"])
    tables_pass_their_schemas(result)


@pytest.mark.parametrize("as_on", ["July 1, 1600", "1600-07-01", "July 1, 3000"])
def test_distribution_date_out_of_range_skips_that_distribution(small_feed, as_on):
    result = clean(with_round(small_feed, "258", drawDistributionAsOn=as_on))
    assert ("258", "drawDistributionAsOn") in found(result)
    assert pd.isna(result.draws.set_index("round").loc["258", "distribution_date"])
    tables_pass_their_schemas(result)


def test_draw_date_in_1600_falls_back_to_the_full_date(small_feed):
    result = clean(with_round(small_feed, "258", drawDate="1600-07-12"))
    assert result.draws.set_index("round").loc["258", "date"] == pd.Timestamp("2023-07-12")
    assert ("258", "drawDate") in found(result)


def test_both_dates_in_1600_are_an_error_naming_round_and_field(small_feed):
    feed = with_round(small_feed, "258", drawDate="1600-07-12", drawDateFull="July 12, 1600")
    with pytest.raises(FeedError, match=r"feed round 258: drawDate '1600-07-12' .*before Express"):
        clean(feed)


def test_5000_digit_round_number_is_an_error_with_a_short_message(small_feed):
    with pytest.raises(FeedError) as caught:
        clean(with_round(small_feed, "258", drawNumber="4" * 5000))
    message = str(caught.value)
    assert "drawNumber '4444" in message and "(5,000 characters) is not a round number" in message
    assert len(message) < 500


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"rounds": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "nested too deeply"),
        (b'{"rounds": [{"drawSize": ' + b"9" * 5000 + b"}]}", "number too long"),
    ],
    ids=["nested 200,000 deep", "5,000-digit JSON number"],
)
def test_unreadable_json_is_a_feed_error(content, message):
    with pytest.raises(FeedError, match=message):
        load_rounds(content, "feed.json")


def test_a_value_nested_a_little_is_read_as_text(small_feed):
    nested = json.dumps(small_feed).replace(
        '"Provincial Nominee Program"', "[" * 3 + '"x"' + "]" * 3, 1
    )
    result = clean_rounds(load_rounds(nested.encode()), today=TODAY)
    assert ("260", "drawName") in found(result, "repaired")


@pytest.mark.parametrize("depth", [20, 900, 975])
def test_values_nested_deep_are_refused_naming_round_and_field(small_feed, depth):
    """Valid JSON that every later reader chokes on (issue 17, probe 1b): it never gets stored,
    so it can never block a later run."""
    deep = json.dumps(small_feed).replace(
        '"Provincial Nominee Program"', "[" * depth + '"x"' + "]" * depth, 1
    )
    with pytest.raises(
        FeedError, match=r"feed.json: round '260', field 'drawName' is nested too deeply"
    ):
        load_rounds(deep.encode(), "feed.json")


def test_revisions_match_rounds_however_their_number_is_written():
    old = [{"drawNumber": "0434", "drawName": "General", "drawCRS": "500"}]
    new = [{"drawNumber": "434", "drawName": "General", "drawCRS": "500"}]
    changes = diff_rounds(old, new)
    assert changes[["round", "change", "field"]].values.tolist() == [
        ["434", "changed", "drawNumber"]
    ]
