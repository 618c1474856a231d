"""Tests of analysis.trends: hand-built draws checked by hand, then facts of the real feed."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import trends
from helpers import draws_table

NEWEST_SNAPSHOT = "ee_rounds_2026-03-05.json"
SNAPSHOTS = ["ee_rounds_2024-04-06.json", "ee_rounds_2025-07-09.json", NEWEST_SNAPSHOT]


def make_draws(rows: list[tuple]) -> pd.DataFrame:
    """(round, date, family, invitations, cutoff[, drawn_at, tie_break_at]) rows -> draws."""
    return draws_table(rows, extra=("drawn_at", "tie_break_at"))


@pytest.fixture
def draws() -> pd.DataFrame:
    # fmt: off
    #        round date          family         ITAs  cutoff
    return make_draws([
        ("1", "2023-01-10", "all_program", 1000, 500),
        ("2", "2023-01-20", "stem",         200, 480),
        ("3", "2023-02-05", "all_program", 3000, 490),
        ("4", "2023-02-25", "all_program", 2000, None),   # cutoff not published
        ("5", "2023-03-01", "stem",         300, 470),
        ("6", "2024-01-15", "all_program",  500, 520),
    ])
    # fmt: on


# --- summarize_by_period --------------------------------------------------------------------


def test_summarize_by_month_and_family(draws):
    table = trends.summarize_by_period(draws, freq="month", by=("family",))
    assert table[["period", "family"]].values.tolist() == [
        ["2023-01", "all_program"],
        ["2023-01", "stem"],
        ["2023-02", "all_program"],
        ["2023-03", "stem"],
        ["2024-01", "all_program"],
    ]
    feb = table[table["period"] == "2023-02"].iloc[0]
    # two rounds, both counted, but only the one with a cutoff is behind the statistics
    assert (feb["rounds"], feb["invitations"], feb["cutoffs"]) == (2, 5000, 1)
    assert (feb["cutoff_min"], feb["cutoff_median"], feb["cutoff_max"]) == (490, 490.0, 490)
    assert table["period"].dtype == "string"
    assert table["cutoff_median"].dtype == "Float64"


def test_summarize_by_year_all_rounds_together(draws):
    table = trends.summarize_by_period(draws, freq="year", by=None)
    assert table["period"].tolist() == [2023, 2024]
    assert table["period"].dtype == "Int64"
    row = table.iloc[0]
    assert (row["rounds"], row["invitations"], row["cutoffs"]) == (5, 6500, 4)
    assert (row["cutoff_min"], row["cutoff_median"], row["cutoff_max"]) == (470, 485.0, 500)


def test_summarize_by_family_and_version_keeps_missing_versions(draws):
    table = trends.summarize_by_period(draws, freq="year", by=("family", "version"))
    all_program_2023 = table[(table["period"] == 2023) & (table["family"] == "all_program")]
    assert len(all_program_2023) == 1
    assert all_program_2023["version"].isna().all()
    assert all_program_2023["rounds"].item() == 3
    stem = table[table["family"] == "stem"]
    assert stem["version"].tolist() == [1]
    assert stem["cutoff_median"].item() == 475.0


def test_summarize_rejects_unknown_freq_and_columns(draws):
    with pytest.raises(ValueError, match="freq must be one of"):
        trends.summarize_by_period(draws, freq="week")
    with pytest.raises(ValueError, match="no column"):
        trends.summarize_by_period(draws, by=("programme",))


# --- rolling_cutoff -------------------------------------------------------------------------


def test_rolling_cutoff_over_a_time_window(draws):
    rolled = trends.rolling_cutoff(draws, window="30D", by="family").set_index("round")
    # round 3 (Feb 5): round 1 (Jan 10) is 26 days earlier, inside (Jan 6, Feb 5]
    assert rolled.loc["3", "cutoff_mean"] == 495.0
    assert rolled.loc["3", "n_in_window"] == 2
    # round 4 has no cutoff: it gets the window's value from round 3 (round 1 is out, 46 days)
    assert rolled.loc["4", "cutoff_mean"] == 490.0
    assert rolled.loc["4", "n_in_window"] == 1
    # round 6, a year later, stands alone
    assert rolled.loc["6", "cutoff_median"] == 520.0
    # stem is rolled separately: round 5 sees round 2 (40 days earlier) only in a longer window
    assert rolled.loc["5", "cutoff_mean"] == 470.0
    longer = trends.rolling_cutoff(draws, window="60D").set_index("round")
    assert longer.loc["5", "cutoff_mean"] == 475.0


def test_rolling_cutoff_over_a_number_of_rounds(draws):
    rolled = trends.rolling_cutoff(draws, window=2, by="family").set_index("round")
    assert rolled.loc["3", "cutoff_mean"] == 495.0  # rounds 1 and 3
    assert rolled.loc["4", "cutoff_mean"] == 490.0  # rounds 3 and 4 (no cutoff)
    assert rolled.loc["6", "cutoff_mean"] == 520.0  # rounds 4 (no cutoff) and 6
    assert rolled.index.tolist() == ["1", "2", "3", "4", "5", "6"]  # input order kept


def test_rolling_cutoff_without_groups_and_bad_windows(draws):
    rolled = trends.rolling_cutoff(draws, window=3, by=None).set_index("round")
    assert rolled.loc["3", "cutoff_mean"] == pytest.approx((500 + 480 + 490) / 3)
    with pytest.raises(ValueError, match="not a time span"):
        trends.rolling_cutoff(draws, window="ninety days")
    with pytest.raises(ValueError, match="at least 1"):
        trends.rolling_cutoff(draws, window=0)


def test_rolling_cutoff_of_no_rounds(draws):
    rolled = trends.rolling_cutoff(draws.iloc[0:0], window="90D")
    assert rolled.empty
    assert "cutoff_mean" in rolled.columns


# --- days between rounds --------------------------------------------------------------------


def test_days_between_rounds_of_the_same_family(draws):
    gaps = trends.days_between_rounds(draws).set_index("round")
    assert gaps["gap_days"].isna().tolist() == [True, True, False, False, False, False]
    assert gaps.loc["3", "gap_days"] == 26  # Jan 10 -> Feb 5
    assert gaps.loc["4", "gap_days"] == 20
    assert gaps.loc["5", "gap_days"] == 40  # stem: Jan 20 -> Mar 1
    assert gaps.loc["6", "previous_round"] == "4"
    assert gaps["gap_days"].dtype == "Int64"


def test_summarize_round_gaps(draws):
    summary = trends.summarize_round_gaps(draws, as_of="2024-02-01").set_index("family")
    assert summary.loc["all_program", "rounds"] == 4
    assert summary.loc["all_program", "median_gap_days"] == 26.0  # gaps 26, 20, 324
    assert summary.loc["all_program", "last_round"] == "6"
    assert summary.loc["all_program", "days_since_last"] == 17
    assert summary.loc["stem", "rounds"] == 2
    assert summary.loc["stem", "median_gap_days"] == 40.0
    assert (
        summary.loc["stem", "days_since_last"]
        == (pd.Timestamp("2024-02-01") - pd.Timestamp("2023-03-01")).days
    )


# --- tie-break lag --------------------------------------------------------------------------


def test_tie_break_lag_in_days():
    draws = make_draws(
        [
            ("1", "2023-07-05", "stem", 500, 486, "2023-07-05 14:00", "2023-07-04 02:00"),
            ("2", "2023-07-06", "healthcare", 1500, 463, "2023-07-06 14:00", None),
            ("3", "2023-07-07", "french", 2300, 439, None, "2023-07-01 00:00"),
        ]
    )
    lag = trends.tie_break_lag(draws)
    assert lag["lag_days"].tolist()[0] == 1.5
    assert lag["lag_days"].isna().tolist() == [False, True, True]
    assert lag["lag_days"].dtype == "Float64"


# --- per year and lowest cutoff -------------------------------------------------------------


def test_invitations_per_year(draws):
    per_year = trends.invitations_per_year(draws)
    assert per_year.to_dict() == {2023: 6500, 2024: 500}
    assert per_year.index.name == "year"


def test_lowest_cutoff_in_year(draws):
    assert trends.lowest_cutoff_in_year(draws, 2023)["round"] == "5"
    assert trends.lowest_cutoff_in_year(draws, 2023, up_to="2023-02-28")["round"] == "2"
    with pytest.raises(ValueError, match="no round with a cutoff in 2022"):
        trends.lowest_cutoff_in_year(draws, 2022)


def test_lowest_cutoff_ties_go_to_the_earliest_round():
    draws = make_draws(
        [
            ("1", "2023-01-10", "all_program", 1000, 480),
            ("2", "2023-01-20", "stem", 200, 480),
        ]
    )
    assert trends.lowest_cutoff_in_year(draws, 2023)["round"] == "1"


def test_functions_do_not_change_their_input_and_accept_as_of_views(draws):
    before = draws.copy()
    as_of = draws[draws["date"] <= "2023-02-25"]
    trends.summarize_by_period(as_of)
    trends.rolling_cutoff(as_of)
    trends.summarize_round_gaps(as_of)
    trends.tie_break_lag(as_of)
    assert trends.invitations_per_year(as_of).to_dict() == {2023: 6200}
    pd.testing.assert_frame_equal(draws, before)


# --- the real feed --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_draws(cleaned_snapshot) -> pd.DataFrame:
    return cleaned_snapshot(NEWEST_SNAPSHOT).draws


def the_round(draws: pd.DataFrame, date: str, family: str) -> pd.Series:
    found = draws[(draws["date"] == date) & (draws["family"] == family)]
    assert len(found) == 1, f"expected one {family} round on {date}, found {len(found)}"
    return found.iloc[0]


@pytest.mark.parametrize(
    ("date", "family", "invitations", "cutoff"),
    [
        ("2023-07-05", "stem", 500, 486),
        ("2023-07-06", "healthcare", 1500, 463),
        ("2023-06-28", "healthcare", 500, 476),
    ],
)
def test_real_category_rounds_of_summer_2023(real_draws, date, family, invitations, cutoff):
    row = the_round(real_draws, date, family)
    assert (row["invitations"], row["cutoff"]) == (invitations, cutoff)


def test_real_healthcare_round_of_2023_06_28_was_the_lowest_cutoff_of_2023_so_far(real_draws):
    lowest = trends.lowest_cutoff_in_year(real_draws, 2023, up_to="2023-06-28")
    assert (lowest["round"], lowest["family"], lowest["cutoff"]) == ("252", "healthcare", 476)
    # and the day before, the lowest was still an all-program round's
    before = trends.lowest_cutoff_in_year(real_draws, 2023, up_to="2023-06-27")
    assert (before["family"], before["cutoff"]) == ("all_program", 481)


def test_real_stem_rounds(real_draws):
    stem = real_draws[real_draws["family"] == "stem"]
    assert list(
        zip(
            stem["round"],
            stem["date"].dt.strftime("%Y-%m-%d"),
            stem["invitations"],
            stem["cutoff"],
            strict=True,
        )
    ) == [
        ("254", "2023-07-05", 500, 486),
        ("274", "2023-12-08", 5900, 481),
        ("293", "2024-04-11", 4500, 491),
    ]
    gaps = trends.days_between_rounds(stem)["gap_days"].tolist()
    assert gaps[1:] == [156, 125]


@pytest.mark.parametrize("name", SNAPSHOTS)
def test_real_invitations_per_year(name, cleaned_snapshot):
    # IRCC's year-end reports say 46,538 ITAs in 2022 and 110,266 in 2023. The feed's rounds
    # add up to one more in 2022 (24 rounds: 11 all-program rounds, 35,750; 13 PNP, 10,789),
    # in every snapshot: the difference is between IRCC's two publications, not ours.
    per_year = trends.invitations_per_year(cleaned_snapshot(name).draws)
    assert per_year.loc[2022] == 46_539
    assert per_year.loc[2023] == 110_266


def test_real_2022_invitations_by_family(real_draws):
    table = trends.summarize_by_period(real_draws, freq="year").query("period == 2022")
    assert dict(
        zip(table["family"], zip(table["rounds"], table["invitations"], strict=True), strict=True)
    ) == {"all_program": (11, 35_750), "pnp": (13, 10_789)}
