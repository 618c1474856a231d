"""Parsers, on every variant seen in the real feed and the reasonable ones beside them."""

from datetime import date

import pandas as pd
import pytest

from analysis.ingest.parse import parse_count, parse_date, parse_score, parse_timestamp


def utc(text):
    return pd.Timestamp(text, tz="UTC")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3000", 3000),
        ("3,000", 3000),
        ("1 500", 1500),
        ("1\u00a0500", 1500),
        ("10.342", 10342),
        (" 250 ", 250),
        ("211,962", 211962),
        ("1,234,567", 1234567),
        ("0", 0),
        ("500.0", 500),
    ],
)
def test_counts(text, expected):
    assert parse_count(text) == expected


@pytest.mark.parametrize(
    "text", ["n/a", "", "3,00", "1,500.5", "-5", "1,500 3", "about 500", "1,5,00"]
)
def test_counts_refuse(text):
    with pytest.raises(ValueError):
        parse_count(text)


def test_score_allows_points_word():
    assert parse_score("486 points") == 486
    with pytest.raises(ValueError):
        parse_score("486+")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-07-05", date(2023, 7, 5)),
        ("2023/07/05", date(2023, 7, 5)),
        ("April 12, 2023", date(2023, 4, 12)),
        ("July 05 2023", date(2023, 7, 5)),
        ("July 5,2023", date(2023, 7, 5)),
        ("August 30. 2023", date(2023, 8, 30)),
        ("5 July 2023", date(2023, 7, 5)),
        ("Jul. 5, 2023", date(2023, 7, 5)),
        ("Sept 5, 2023", date(2023, 9, 5)),
        (" March 1, 2026 ", date(2026, 3, 1)),
    ],
)
def test_dates(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "July 5", "2023-02-30", "Smarch 5, 2023"])
def test_dates_refuse(text):
    with pytest.raises(ValueError):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected", "noted"),
    [
        ("March 26, 2024 at 15:59:36 UTC", "2024-03-26 15:59:36", False),
        ("October 25, 2023 at 15:48:39 AM UTC", "2023-10-25 15:48:39", True),
        ("June 22, 2021 at 20:19:59 PM UTC", "2021-06-22 20:19:59", True),
        ("July 06, 2023 14:25:05 UTC", "2023-07-06 14:25:05", False),
        ("April 26,2023 18:10:04 UTC", "2023-04-26 18:10:04", False),
        ("March 01, 2023, at 17:24:39 UTC", "2023-03-01 17:24:39", False),
        ("February 02 2022 at 14:16:27 UTC", "2022-02-02 14:16:27", False),
        (" July 13, 2016 at 13:56:45 UTC", "2016-07-13 13:56:45", False),
        ("March 27, 2015 at 23:59:47", "2015-03-27 23:59:47", False),
        ("January 23, 2025 at 2025-01-23 15:30:04 UTC", "2025-01-23 15:30:04", False),
        ("May 31, 2024 at12:48:30 UTC", "2024-05-31 12:48:30", False),
        ("August 30. 2023 at 17:30:21 UTC", "2023-08-30 17:30:21", False),
        ("July 04, 2023 at 19:36:18 UTC ", "2023-07-04 19:36:18", False),
        ("October 18, 2025 at  7:18:52 UTC", "2025-10-18 07:18:52", False),
        ("May 19,2022 06:48:41 UTC", "2022-05-19 06:48:41", False),
        ("March 3, 2024 at 2:15:00 PM UTC", "2024-03-03 14:15:00", False),
        ("March 3, 2024 at 12:15:00 AM UTC", "2024-03-03 00:15:00", False),
        ("2024-03-03T14:15:00Z", "2024-03-03 14:15:00", False),
        ("2024-03-03 14:15", "2024-03-03 14:15:00", False),
    ],
)
def test_timestamps(text, expected, noted):
    parsed = parse_timestamp(text, reference=date(2030, 1, 1))
    assert parsed.value == utc(expected)
    assert bool(parsed.notes) is noted


def test_missing_year_takes_the_latest_year_not_after_the_round():
    parsed = parse_timestamp("October 7 at 16:38:21 UTC", reference=date(2021, 10, 27))
    assert parsed.value == utc("2021-10-07 16:38:21")
    assert "no year" in parsed.notes[0]
    across_new_year = parse_timestamp("December 28 at 10:00:00 UTC", reference=date(2022, 1, 5))
    assert across_new_year.value == utc("2021-12-28 10:00:00")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "next Tuesday",
        "October 7 at 16:38:21 EST",
        "July 32, 2023 at 10:00:00",
        "July 3, 2023 at 25:61:00 UTC",
    ],
)
def test_timestamps_refuse(text):
    with pytest.raises(ValueError):
        parse_timestamp(text, reference=date(2023, 7, 5))


def test_missing_year_without_reference_is_refused():
    with pytest.raises(ValueError, match="no year"):
        parse_timestamp("October 7 at 16:38:21 UTC")


# ------------------------------------------------------------------ a round's date, either order


def test_date_readings_lists_the_valid_orders():
    from datetime import date

    from analysis.ingest.parse import date_readings

    assert date_readings("12-04-2023") == {
        "month-day": date(2023, 12, 4),
        "day-month": date(2023, 4, 12),
    }
    assert date_readings("13.04.2023") == {"day-month": date(2023, 4, 13)}
    assert date_readings("04/13/2023") == {"month-day": date(2023, 4, 13)}
    assert date_readings("05-05-2023") == {"month-day": date(2023, 5, 5)}  # one date either way
    assert date_readings("2023-04-12") == {} and date_readings("April 12, 2023") == {}
    assert date_readings("13-13-2023") == {}


@pytest.mark.parametrize(
    ("text", "full", "moment", "expected", "order"),
    [
        (
            "11-01-2023",
            "January 11, 2023",
            "January 11, 2023 at 14:46:07 UTC",
            "2023-01-11",
            "day-month",
        ),
        (
            "01-11-2023",
            "January 11, 2023",
            "January 11, 2023 at 14:46:07 UTC",
            "2023-01-11",
            "month-day",
        ),
        ("12-04-2023", "April 12, 2023", "", "2023-04-12", "day-month"),  # the full date alone
        ("12-04-2023", "", "April 12, 2023 at 15:05 UTC", "2023-04-12", "day-month"),
        ("2023-04-12", "", "", "2023-04-12", "iso"),
        ("April 12, 2023", "", "", "2023-04-12", "words"),
    ],
)
def test_read_round_date_follows_its_witnesses(text, full, moment, expected, order):
    from analysis.ingest.parse import read_round_date

    reading = read_round_date(text, full, moment)
    assert (reading.value.isoformat(), reading.order) == (expected, order)


def test_read_round_date_when_witnesses_disagree_or_fail():
    from datetime import date

    from analysis.ingest.parse import read_round_date

    split = read_round_date("12-04-2023", "April 12, 2023", "December 4, 2023 at 15:05 UTC")
    assert split.value == date(2023, 12, 4) and "do not settle it" in split.note
    late = read_round_date("12-04-2023", "", "", latest=date(2023, 6, 1))
    assert late.value == date(2023, 4, 12) and "only day-month" in late.note
    bad = read_round_date("soon")
    assert bad.value is None and "not a date" in bad.problem
