"""Tests for analysis.stats: hand-checkable fixtures, then the newest real snapshot."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.stats import (
    NOT_ENOUGH,
    compare_all,
    compare_cutoffs,
    cutoff_regression,
    family_rounds,
    newey_west_lags,
)

pytestmark = pytest.mark.filterwarnings("error")


def make_draws(rows: list[tuple[str, str, int | None]], **extra) -> pd.DataFrame:
    """(date, family, cutoff) rows -> a draws-like table with the cleaned dtypes."""
    frame = pd.DataFrame(rows, columns=["date", "family", "cutoff"])
    return frame.assign(
        date=pd.to_datetime(frame["date"]),
        family=frame["family"].astype("string"),
        cutoff=frame["cutoff"].astype("Int64"),
        **extra,
    )


@pytest.fixture
def two_groups() -> pd.DataFrame:
    # all-program mean 515, STEM mean 485: difference -30. Both variances 166.67, n = 4 each.
    return make_draws(
        [
            ("2023-07-01", "all_program", 500),
            ("2023-07-02", "stem", 470),
            ("2023-08-01", "all_program", 510),
            ("2023-08-02", "stem", 480),
            ("2023-09-01", "all_program", 520),
            ("2023-09-02", "stem", 490),
            ("2023-10-01", "all_program", 530),
            ("2023-10-02", "stem", 500),
        ]
    )


# ------------------------------------------------------------------ compare_cutoffs, by hand


def test_welch_difference_and_interval_by_hand(two_groups):
    r = compare_cutoffs(two_groups, "stem")
    assert (r.status, r.n_family, r.n_reference) == ("ok", 4, 4)
    assert (r.mean_family, r.mean_reference, r.difference) == (485.0, 515.0, -30.0)
    # se = sqrt(166.67/4 + 166.67/4) = 9.1287; Welch df = 6; t(0.975, 6) = 2.446912
    half_width = 2.446912 * math.sqrt(2 * (500 / 3) / 4)
    assert r.ci_low == pytest.approx(-30 - half_width, abs=1e-3)
    assert r.ci_high == pytest.approx(-30 + half_width, abs=1e-3)
    assert r.welch_df == pytest.approx(6.0)
    assert r.ci_low < -30 < r.ci_high


def test_rank_check_share_of_pairs_by_hand(two_groups):
    # STEM lower in 15 of 16 pairs and tied in 1 (500 vs 500): (15 + 0.5) / 16.
    r = compare_cutoffs(two_groups, "stem")
    assert r.prob_family_lower == pytest.approx(15.5 / 16)
    assert 0 < r.rank_p < 0.2
    assert r.rank_test.startswith("Mann-Whitney")


def test_known_shift_lies_inside_the_interval():
    pattern = [3, -5, 8, 0, -2, 6, -7, 1, 4, -4]
    rows = [
        (f"2023-{6 + i // 5:02d}-{1 + i % 5 * 5:02d}", "all_program", 520 + e)
        for i, e in enumerate(pattern)
    ]
    rows += [
        (f"2023-{6 + i // 5:02d}-{2 + i % 5 * 5:02d}", "healthcare", 475 + e)
        for i, e in enumerate(reversed(pattern))
    ]
    r = compare_cutoffs(make_draws(rows), "healthcare")
    assert r.difference == pytest.approx(-45.0)
    assert r.ci_low < -45 < r.ci_high
    assert r.ci_high < 0
    assert not any("too few rounds" in c for c in r.caveats)  # 10 rounds each


def test_small_family_is_flagged_and_sample_sizes_stated(two_groups):
    r = compare_cutoffs(two_groups, "stem")
    assert any("too few rounds to say whether the difference is real" in c for c in r.caveats)
    assert any("STEM" in c or "stem: 4 rounds" in c for c in r.caveats)
    assert "stem: 4 rounds" in r.caveats[0] and "all_program: 4 rounds" in r.caveats[0]


def test_every_p_value_has_its_sample_sizes_next_to_it(two_groups):
    r = compare_cutoffs(two_groups, "stem")
    with_p = [c for c in r.caveats if "p = " in c or "p < " in c]
    assert len(with_p) == 2  # Welch and Mann-Whitney
    assert all("with 4 and 4 rounds" in c for c in with_p)
    frame = r.to_frame()
    assert {"welch_p", "rank_p", "n_family", "n_reference"} <= set(frame.columns)


def test_interval_meaning_is_explained(two_groups):
    r = compare_cutoffs(two_groups, "stem")
    text = " ".join(r.caveats)
    assert "95 times in 100" in text
    assert "does not include zero" in text or "includes zero" in text


def test_family_rounds_after_the_reference_ends_are_flagged(two_groups):
    later = make_draws([("2025-05-02", "stem", 510), ("2025-06-04", "stem", 504)])
    r = compare_cutoffs(pd.concat([two_groups, later], ignore_index=True), "stem")
    overlap = [c for c in r.caveats if "different periods" in c]
    assert len(overlap) == 1
    # the 2023-10-02 STEM round is a day after the last all-program round, plus the two 2025 ones
    assert "2023-10-01" in overlap[0] and "3 of the 6" in overlap[0]


def test_window_since_until_filters_rounds(two_groups):
    r = compare_cutoffs(two_groups, "stem", since="2023-08-01", until="2023-09-30")
    assert (r.n_family, r.n_reference) == (2, 2)
    assert r.difference == pytest.approx(-30.0)
    assert compare_cutoffs(two_groups, "stem", since="2023-06-01").n_family == 4


@pytest.mark.parametrize("n_stem", [0, 1])
def test_zero_or_one_round_says_not_enough_data(two_groups, n_stem):
    draws = pd.concat(
        [two_groups.query("family != 'stem'"), two_groups.query("family == 'stem'").head(n_stem)],
        ignore_index=True,
    )
    r = compare_cutoffs(draws, "stem")
    assert r.status == NOT_ENOUGH
    assert r.n_family == n_stem
    assert r.difference is None and r.ci_low is None and r.welch_p is None and r.rank_p is None
    assert "at least 2" in r.reason
    row = r.to_frame().iloc[0]
    assert pd.isna(row["difference"]) and pd.isna(row["ci_low"])
    assert r.to_frame()["difference"].dtype == "Float64"
    assert "not enough data" in r.summary()


def test_family_absent_from_the_data_is_not_an_error(two_groups):
    r = compare_cutoffs(two_groups, "healthcare")
    assert r.status == NOT_ENOUGH and r.n_family == 0 and r.mean_family is None
    assert "no healthcare rounds" in r.reason


def test_missing_cutoffs_are_not_counted(two_groups):
    extra = make_draws([("2023-11-01", "stem", None)])
    r = compare_cutoffs(pd.concat([two_groups, extra], ignore_index=True), "stem")
    assert r.n_family == 4


def test_no_spread_in_either_group_gives_no_interval():
    draws = make_draws(
        [
            ("2023-07-01", "all_program", 500),
            ("2023-08-01", "all_program", 500),
            ("2023-07-02", "stem", 480),
            ("2023-08-02", "stem", 480),
        ]
    )
    r = compare_cutoffs(draws, "stem")
    assert r.status == NOT_ENOUGH and r.difference == -20.0 and r.ci_low is None
    assert "same cutoff" in r.reason


def test_to_frame_is_one_row_and_summary_reads(two_groups):
    r = compare_cutoffs(two_groups, "stem")
    frame = r.to_frame()
    assert len(frame) == 1
    assert frame.loc[0, "difference"] == -30.0
    assert frame["n_family"].dtype == "int64"
    text = r.summary()
    assert text.startswith("stem vs all_program since 2023-06-01: the average stem cutoff was 30.0")
    assert "4 rounds" in text


def test_labels_are_used_when_present(two_groups):
    labelled = two_groups.assign(
        label=two_groups["family"].map({"stem": "STEM", "all_program": "All-program"})
    )
    assert compare_cutoffs(labelled, "stem").summary().startswith("STEM vs All-program")


def test_compare_all_one_row_per_family(two_groups):
    table = compare_all(two_groups, ["stem", "healthcare"])
    assert table["family"].tolist() == ["stem", "healthcare"]
    assert table["status"].tolist() == ["ok", NOT_ENOUGH]


def test_errors_name_what_is_wrong(two_groups):
    with pytest.raises(ValueError, match="unknown family 'STEM'"):
        compare_cutoffs(two_groups, "STEM")
    with pytest.raises(ValueError, match="has no column"):
        compare_cutoffs(two_groups.drop(columns="cutoff"), "stem")
    with pytest.raises(ValueError, match="before since"):
        compare_cutoffs(two_groups, "stem", since="2024-01-01", until="2023-01-01")
    with pytest.raises(ValueError, match="both 'stem'"):
        compare_cutoffs(two_groups, "stem", reference="stem")
    with pytest.raises(ValueError, match="not a date"):
        compare_cutoffs(two_groups, "stem", since="soon")


def test_family_rounds_orders_and_filters():
    draws = make_draws(
        [("2023-08-01", "stem", 490), ("2023-05-01", "stem", 480), ("2023-07-01", "stem", None)]
    )
    rounds = family_rounds(draws, "stem", since="2023-01-01")
    assert rounds["cutoff"].tolist() == [480.0, 490.0]
    assert rounds["cutoff"].dtype == "float64"


# ------------------------------------------------------------------ cutoff_regression, by hand


@pytest.fixture
def trend_draws() -> pd.DataFrame:
    # all-program: 500 + 12 points per year; STEM: 30 points below the same line; small noise.
    start = pd.Timestamp("2023-06-01")
    noise = [1, -1, 2, -2, 0, 1, -1, 0]
    rows = []
    for i, e in enumerate(noise):
        day = start + pd.Timedelta(days=45 * i + 10)
        years = (day - start).days / 365.25
        rows.append((day, "all_program", round(500 + 12 * years) + e))
        if i % 2:
            stem_day = day + pd.Timedelta(days=3)
            stem_years = (stem_day - start).days / 365.25
            rows.append((stem_day, "stem", round(470 + 12 * stem_years) - e))
    return make_draws(rows)


def test_regression_recovers_known_difference_and_trend(trend_draws):
    r = cutoff_regression(trend_draws, families=["stem"])
    assert r.status == "ok"
    assert r.n == {"all_program": 8, "stem": 4} and r.n_total == 12
    table = r.table.set_index("term")
    stem = table.loc["stem - all_program"]
    assert stem["estimate"] == pytest.approx(-30, abs=2)
    assert stem["ci_low"] < -30 < stem["ci_high"]
    assert stem["n"] == 4
    trend = table.loc["trend (points per year)"]
    assert trend["estimate"] == pytest.approx(12, abs=3)
    assert trend["n"] == 12
    assert table.loc["all_program level on 2023-06-01 (intercept)", "n"] == 8


def test_regression_table_shape_and_caveats(trend_draws):
    r = cutoff_regression(trend_draws, families=["stem"])
    assert list(r.table.columns) == [
        "term",
        "estimate",
        "std_error",
        "ci_low",
        "ci_high",
        "p_value",
        "n",
    ]
    assert r.table["term"].tolist()[0].endswith("(intercept)")
    assert r.table["term"].tolist()[-1] == "trend (points per year)"
    assert r.maxlags == newey_west_lags(12)
    assert r.fit.cov_type == "HAC"
    text = " ".join(r.caveats)
    assert "Newey-West (HAC)" in text and "12 rounds" in text
    assert "too few rounds" in text  # STEM has 4
    assert "HAC standard errors" in r.summary()


def test_regression_leaves_out_a_family_with_one_round(trend_draws):
    extra = make_draws([("2023-09-01", "healthcare", 470)])
    r = cutoff_regression(pd.concat([trend_draws, extra], ignore_index=True))
    assert r.status == "ok"
    assert r.n["healthcare"] == 1 and r.n_total == 12
    assert not r.table["term"].str.contains("healthcare").any()
    assert any("healthcare is left out" in c for c in r.caveats)


def test_regression_not_enough_data():
    draws = make_draws([("2023-07-01", "all_program", 500), ("2023-07-02", "stem", 480)])
    r = cutoff_regression(draws)
    assert r.status == NOT_ENOUGH and r.fit is None and r.table.empty and r.n_total == 0
    assert list(r.table.columns)[0] == "term"
    assert "not enough data" in r.summary()


def test_newey_west_lags():
    assert [newey_west_lags(n) for n in (0, 10, 37, 100, 200)] == [0, 2, 3, 4, 4]


# ------------------------------------------------------------------ the newest real snapshot


@pytest.fixture(scope="module")
def real_draws(newest_tables) -> pd.DataFrame:
    return newest_tables.draws


def test_real_stem_vs_all_program(real_draws):
    r = compare_cutoffs(real_draws, "stem")
    assert (r.status, r.n_family, r.n_reference) == ("ok", 3, 20)
    assert r.difference == pytest.approx(-37.25)
    assert -55 < r.ci_low < r.ci_high < -20
    assert any("too few rounds" in c for c in r.caveats)
    assert r.prob_family_lower == pytest.approx(0.95)


def test_real_healthcare_vs_all_program(real_draws):
    r = compare_cutoffs(real_draws, "healthcare")
    assert (r.status, r.n_family, r.n_reference) == ("ok", 14, 20)
    assert r.difference == pytest.approx(-56.39, abs=0.01)
    assert -80 < r.ci_low < r.ci_high < -35
    assert r.reference_last == pd.Timestamp("2024-04-23")
    assert any("10 of the 14" in c for c in r.caveats)


def test_real_regression(real_draws):
    r = cutoff_regression(real_draws)
    assert r.status == "ok"
    assert r.n == {"all_program": 20, "stem": 3, "healthcare": 14} and r.n_total == 37
    table = r.table.set_index("term")
    assert -45 < table.loc["stem - all_program", "estimate"] < -30
    assert -85 < table.loc["healthcare - all_program", "estimate"] < -65
    assert table.loc["healthcare - all_program", "ci_high"] < 0
    assert table.loc["trend (points per year)", "estimate"] > 0
    assert r.maxlags == 3


def test_real_single_round_category_is_not_enough_data(real_draws):
    r = compare_cutoffs(real_draws, "physicians")
    assert r.status == NOT_ENOUGH and r.n_family == 1 and r.difference is None
