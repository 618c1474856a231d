"""Tests of analysis.baselines: hand-built draws checked by hand, a fake pool estimator, and the
real feed's July 2023 category rounds."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pandas as pd
import pytest

from analysis import baselines
from helpers import draws_table


def make_draws(rows: list[tuple]) -> pd.DataFrame:
    """(round, date, family, invitations, cutoff[, distribution_date]) rows -> draws."""
    return draws_table(rows, extra=("distribution_date",))


def make_pool(dates: list[str]) -> pd.DataFrame:
    """A pool table with one (made-up) bin per distribution date: enough for the fake estimator."""
    return pd.DataFrame(
        {
            "distribution_date": pd.to_datetime(dates).astype("datetime64[ns]"),
            "score_low": pd.array([451] * len(dates), dtype="int64"),
            "score_high": pd.array([500] * len(dates), dtype="int64"),
            "candidates": pd.array([10_000] * len(dates), dtype="int64"),
            "bin": pd.array(["dd3"] * len(dates), dtype="string"),
            "round": pd.array([str(i) for i in range(len(dates))], dtype="string"),
        }
    )


@dataclass(frozen=True)
class FakeEstimate:
    cutoff: int
    low: float
    high: float
    method: str
    distribution_date: pd.Timestamp | None = None
    note: str = ""


class FakeEstimator:
    """Answers 600 - invitations / 100 (+/- 5) and remembers what it was asked."""

    def __init__(self, fail_for: tuple[str, ...] = ()):
        self.calls: list[tuple[str, dict]] = []
        self.fail_for = fail_for

    def __call__(self, draws, pool, round_id, **options):
        self.calls.append((round_id, options))
        if round_id in self.fail_for:
            raise ValueError("the pool is too thin above 500")
        invitations = int(draws.loc[draws["round"] == round_id, "invitations"].item())
        cutoff = 600 - invitations // 100
        return FakeEstimate(cutoff, cutoff - 5.0, cutoff + 5.0, options.get("method", "fake"))


@pytest.fixture
def draws() -> pd.DataFrame:
    # fmt: off
    #        round date          family        ITAs  cutoff  pool of
    return make_draws([
        ("1", "2023-01-01", "all_program", 3000, 500, None),
        ("2", "2023-01-21", "all_program", 3000, 490, "2023-01-20"),
        ("3", "2023-01-26", "stem",         500, 480, "2023-01-20"),
        ("4", "2023-02-20", "all_program", 3000, 520, "2023-02-19"),
        ("5", "2023-02-25", "all_program", 3000, None, "2023-02-19"),  # no cutoff: no reference
        ("6", "2023-03-27", "cec",         3000, 530, "2023-03-26"),   # program: no reference
        ("7", "2023-07-15", "healthcare",  1500, 450, None),           # nothing within 30 days
        ("8", "2023-07-16", "french",      2000, 400, "2023-07-14"),
    ])
    # fmt: on


# --- window ---------------------------------------------------------------------------------


def test_window_baseline_by_hand(draws):
    window = baselines.window_baseline(draws, days=30).set_index("round")
    assert window.index.tolist() == ["3", "7", "8"]
    stem = window.loc["3"]
    # rounds 1 (25 days before), 2 (5 days before), 4 (25 days after); 5 has no cutoff
    assert stem["n_reference"] == 3
    assert stem["reference_rounds"] == "1, 2, 4"
    assert stem["baseline_cutoff"] == pytest.approx((500 + 490 + 520) / 3)
    assert (stem["baseline_min"], stem["baseline_max"]) == (490, 520)
    assert stem["gap"] == pytest.approx(480 - (500 + 490 + 520) / 3)
    assert stem["detail"] == "3 all-program rounds within 30 days"


def test_window_with_no_all_program_round_is_a_result(draws):
    health = baselines.window_baseline(draws, days=30).set_index("round").loc["7"]
    assert health["n_reference"] == 0
    assert pd.isna(health["baseline_cutoff"]) and pd.isna(health["gap"])
    assert health["detail"] == "no all-program round within 30 days"


def test_window_bounds_are_inclusive(draws):
    # round 3 (Jan 26) is 25 days after round 1 and 25 days before round 4
    assert baselines.window_baseline(draws, days=25).set_index("round").loc["3", "n_reference"] == 3
    narrow = baselines.window_baseline(draws, days=24).set_index("round").loc["3"]
    assert (narrow["n_reference"], narrow["baseline_cutoff"]) == (1, 490.0)
    assert narrow["detail"] == "1 all-program round within 24 days"
    with pytest.raises(ValueError, match="days must be 0 or more"):
        baselines.window_baseline(draws, days=-1)


def test_window_as_of_sees_only_earlier_rounds(draws):
    as_of = draws[draws["date"] <= "2023-01-26"]
    stem = baselines.window_baseline(as_of, days=30).set_index("round").loc["3"]
    assert (stem["n_reference"], stem["baseline_cutoff"]) == (2, 495.0)


# --- latest ---------------------------------------------------------------------------------


def test_latest_baseline_by_hand(draws):
    latest = baselines.latest_baseline(draws).set_index("round")
    stem = latest.loc["3"]
    assert (stem["reference_round"], stem["baseline_cutoff"], stem["age_days"], stem["gap"]) == (
        "2",
        490,
        5,
        -10,
    )
    assert stem["detail"] == "round 2 on 2023-01-21, 5 days earlier"
    # round 5 has no cutoff and round 6 is a program round: round 4 is the latest reference
    health = latest.loc["7"]
    assert (health["reference_round"], health["age_days"], health["gap"]) == ("4", 145, -70)
    assert health["reference_date"] == pd.Timestamp("2023-02-20")


def test_latest_baseline_when_there_is_none():
    draws = make_draws(
        [
            ("1", "2023-01-01", "stem", 500, 480),
            ("2", "2023-01-05", "all_program", 3000, 490),
        ]
    )
    row = baselines.latest_baseline(draws).iloc[0]
    assert pd.isna(row["reference_round"]) and pd.isna(row["baseline_cutoff"])
    assert pd.isna(row["gap"]) and pd.isna(row["age_days"])
    assert row["detail"] == "no all-program round before this one"


def test_latest_baseline_same_day_is_excluded_unless_asked():
    draws = make_draws(
        [
            ("1", "2023-01-01", "all_program", 3000, 500),
            ("2", "2023-01-10", "all_program", 3000, 490),
            ("3", "2023-01-10", "stem", 500, 480),
        ]
    )
    strict = baselines.latest_baseline(draws).iloc[0]
    assert (strict["reference_round"], strict["age_days"]) == ("1", 9)
    same_day = baselines.latest_baseline(draws, include_same_day=True).iloc[0]
    assert (same_day["reference_round"], same_day["age_days"], same_day["gap"]) == ("2", 0, -10)
    assert same_day["detail"] == "round 2 on 2023-01-10, the same day"


def test_latest_baseline_of_no_category_round(draws):
    latest = baselines.latest_baseline(draws, families=["transport"])
    assert latest.empty
    assert "detail" in latest.columns


# --- pool -----------------------------------------------------------------------------------


def test_pool_baseline_with_a_fake_estimator(draws):
    estimator = FakeEstimator()
    pool = make_pool(["2023-01-20", "2023-07-14"])
    table = baselines.pool_baseline(draws, pool, estimator=estimator).set_index("round")
    stem = table.loc["3"]
    estimate = (stem["baseline_cutoff"], stem["low"], stem["high"], stem["gap"])
    assert estimate == (595, 590, 600, -115)
    assert stem["detail"] == "estimated from the pool of 2023-01-20"
    assert pd.isna(stem["reason"])
    assert stem["method"] == "fake"
    french = table.loc["8"]
    assert (french["baseline_cutoff"], french["gap"]) == (580, -180)
    # round 7 has no published distribution: no estimate, a reason, and no call
    health = table.loc["7"]
    assert pd.isna(health["baseline_cutoff"]) and pd.isna(health["gap"])
    assert health["reason"] == "no pool distribution published for this round"
    assert health["detail"] == health["reason"]
    assert [round_id for round_id, _ in estimator.calls] == ["3", "8"]


def test_pool_baseline_reasons(draws):
    estimator = FakeEstimator(fail_for=("8",))
    table = baselines.pool_baseline(draws, make_pool(["2023-07-14"]), estimator=estimator)
    table = table.set_index("round")
    assert table.loc["3", "reason"] == (
        "the pool distribution of 2023-01-20 is not in the pool table"
    )
    assert table.loc["8", "reason"] == (
        "no estimate from the pool of 2023-07-14: the pool is too thin above 500"
    )
    assert table["baseline_cutoff"].isna().all()


def test_pool_baseline_passes_the_method_on(draws):
    estimator = FakeEstimator()
    pool = make_pool(["2023-01-20", "2023-07-14"])
    table = baselines.pool_baseline(
        draws, pool, estimator=estimator, families="stem", method="tail"
    )
    assert estimator.calls == [("3", {"method": "tail"})]
    assert table["method"].tolist() == ["tail"]


def test_pool_baseline_without_the_pool_module(draws, monkeypatch):
    monkeypatch.setitem(sys.modules, "analysis.pool.estimate", None)  # as if it did not exist
    with pytest.raises(ImportError, match="pass estimator="):
        baselines.pool_baseline(draws, make_pool(["2023-01-20"]))
    # rounds that need no estimate do not need the module either
    only_health = baselines.pool_baseline(draws, make_pool(["2023-01-20"]), families="healthcare")
    assert only_health["reason"].tolist() == ["no pool distribution published for this round"]


# --- compare_with_baselines -----------------------------------------------------------------


def test_compare_with_baselines_long_form(draws):
    pool = make_pool(["2023-01-20", "2023-07-14"])
    long = baselines.compare_with_baselines(
        draws, pool, estimator=FakeEstimator(), window_look="both"
    )
    assert long.columns.tolist() == baselines.LONG_COLUMNS
    assert list(zip(long["round"], long["baseline"], strict=True)) == [
        ("3", "window"),
        ("3", "latest"),
        ("3", "pool"),
        ("7", "window"),
        ("7", "latest"),
        ("7", "pool"),
    ]
    assert long["family"].tolist() == ["stem"] * 3 + ["healthcare"] * 3
    assert long["n_reference"].tolist()[:3] == [3, 1, pd.NA]
    stem = long[long["round"] == "3"].set_index("baseline")
    assert stem.loc["window", ["low", "high"]].tolist() == [490.0, 520.0]
    assert stem.loc["latest", "gap"] == -10.0
    assert stem.loc["latest", ["low", "high"]].isna().all()
    assert stem.loc["pool", ["baseline_cutoff", "low", "high", "gap"]].tolist() == [
        595.0,
        590.0,
        600.0,
        -115.0,
    ]
    health = long[long["round"] == "7"].set_index("baseline")
    assert health.loc["window", "n_reference"] == 0
    assert health.loc["latest", "detail"] == "round 4 on 2023-02-20, 145 days earlier"
    assert health.loc["pool", "detail"] == "no pool distribution published for this round"
    dtypes = long.dtypes.astype(str).to_dict()
    assert {k: dtypes[k] for k in ("baseline_cutoff", "gap", "low", "high", "n_reference")} == {
        "baseline_cutoff": "Float64",
        "gap": "Float64",
        "low": "Float64",
        "high": "Float64",
        "n_reference": "Int64",
    }
    assert dtypes["version"] == "Int64" and dtypes["cutoff"] == "Int64"


def test_compare_every_family_or_one_and_without_pool(draws):
    every = baselines.compare_with_baselines(draws, None, families=None)
    assert every["round"].unique().tolist() == ["3", "7", "8"]
    assert set(every["baseline"]) == {"window", "latest"}
    one = baselines.compare_with_baselines(draws, None, families="french", window_days=180)
    assert one.set_index("baseline").loc["window", "n_reference"] == 2  # rounds 2 (176 days) and 4


def test_compare_does_not_change_its_input(draws):
    before = draws.copy()
    baselines.compare_with_baselines(
        draws, make_pool(["2023-01-20"]), families=None, estimator=FakeEstimator()
    )
    pd.testing.assert_frame_equal(draws, before)


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="is_category"):
        baselines.window_baseline(pd.DataFrame({"round": ["1"], "date": [pd.Timestamp(0)]}))


def test_since_and_baselines_choose_what_is_computed(draws):
    long = baselines.compare_with_baselines(
        draws, None, families=None, since="2023-07-01", baselines=("latest",)
    )
    assert long[["round", "baseline"]].values.tolist() == [["7", "latest"], ["8", "latest"]]
    # the earlier all-program rounds still serve as references
    assert long["baseline_cutoff"].tolist() == [520.0, 520.0]
    assert long["detail"].str.startswith("round 4 on 2023-02-20").all()


def test_unknown_baseline_is_refused(draws):
    with pytest.raises(ValueError, match="unknown baseline"):
        baselines.compare_with_baselines(draws, None, baselines=("median",))


# --- the real feed --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(newest_tables):
    return newest_tables


def test_real_july_2023_stem_and_healthcare_against_window_and_latest(real):
    long = baselines.compare_with_baselines(
        real.draws, None, families=("stem", "healthcare"), window_look="both"
    )
    july = long[long["date"].dt.strftime("%Y-%m") == "2023-07"].set_index(["round", "baseline"])
    # round 254, STEM, 2023-07-05: 500 ITAs at 486. All-program rounds within 30 days:
    # 250 (486), 251 (486), 253 (511), 257 (505), 259 (517) -> mean 501
    assert july.loc[("254", "window"), ["invitations", "cutoff"]].tolist() == [500, 486]
    assert july.loc[("254", "window"), ["baseline_cutoff", "gap", "low", "high"]].tolist() == [
        501.0,
        -15.0,
        486.0,
        517.0,
    ]
    assert july.loc[("254", "window"), "n_reference"] == 5
    assert july.loc[("254", "latest"), ["baseline_cutoff", "gap"]].tolist() == [511.0, -25.0]
    assert july.loc[("254", "latest"), "detail"] == "round 253 on 2023-07-04, 1 day earlier"
    # round 255, healthcare, 2023-07-06: 1,500 ITAs at 463
    assert july.loc[("255", "window"), ["invitations", "cutoff"]].tolist() == [1500, 463]
    assert july.loc[("255", "window"), ["baseline_cutoff", "gap"]].tolist() == [501.0, -38.0]
    assert july.loc[("255", "latest"), ["baseline_cutoff", "gap"]].tolist() == [511.0, -48.0]
    assert july.index.get_level_values("round").unique().tolist() == ["254", "255"]


def test_real_category_rounds_after_the_last_all_program_round(real):
    latest = baselines.latest_baseline(real.draws, families="healthcare").set_index("round")
    # the last all-program round was 294 on 2024-04-23; healthcare round 301 came 73 days later
    assert latest.loc["301", "detail"] == "round 294 on 2024-04-23, 73 days earlier"
    window = baselines.window_baseline(real.draws, families="healthcare").set_index("round")
    assert window.loc["301", "n_reference"] == 0


def test_real_pool_baseline_with_a_fake_estimator(real):
    estimator = FakeEstimator()
    table = baselines.pool_baseline(real.draws, real.pool, estimator=estimator, families="stem")
    # every STEM round had a published distribution, so each was estimated
    assert table["reason"].isna().all()
    assert [round_id for round_id, _ in estimator.calls] == ["254", "274", "293"]
    assert table["detail"].tolist()[0] == "estimated from the pool of 2023-07-04"


def test_no_all_program_round_at_all():
    # e.g. an "as of" view of 2025 only: every round still gets a row, with null baselines
    draws = make_draws([("1", "2025-01-01", "stem", 500, 480, "2024-12-30")])
    long = baselines.compare_with_baselines(draws, None)
    assert long["baseline"].tolist() == ["window", "latest"]
    assert long["baseline_cutoff"].isna().all()
    assert long["n_reference"].tolist() == [0, 0]
    assert long["detail"].tolist()[1] == "no all-program round before this one"


def test_pool_detail_names_the_distribution_the_estimate_used(draws):
    def estimator(draws, pool, round_id, **options):
        return FakeEstimate(500, 495.0, 505.0, "fake", pd.Timestamp("2023-01-19"), "copy of 01-19")

    table = baselines.pool_baseline(draws, make_pool(["2023-01-20"]), estimator, families="stem")
    assert table["detail"].tolist() == ["estimated from the pool of 2023-01-19"]
    assert table["note"].tolist() == ["copy of 01-19"]


# --- a window that never changes after publication -------------------------------------------


def test_window_looking_before_only_takes_rounds_up_to_the_day(draws):
    before = baselines.window_baseline(draws, days=30, look="before").set_index("round")
    stem = before.loc["3"]
    # rounds 1 (25 days before) and 2 (5 days before); round 4 (25 days after) is not taken
    assert (stem["n_reference"], stem["reference_rounds"]) == (2, "1, 2")
    assert stem["baseline_cutoff"] == pytest.approx(495.0)
    assert stem["detail"] == "2 all-program rounds in the 30 days before"
    # exactly what an "as of" view on the round's own day sees: later rounds change nothing
    as_of = draws[draws["date"] <= "2023-01-26"]
    same = baselines.window_baseline(as_of, days=30, look="before").set_index("round").loc["3"]
    assert (
        same[["n_reference", "baseline_cutoff", "gap"]].tolist()
        == stem[["n_reference", "baseline_cutoff", "gap"]].tolist()
    )
    with pytest.raises(ValueError, match="look="):
        baselines.window_baseline(draws, look="after")


def test_real_round_254_window_is_the_same_in_july_2023_and_every_later_month(real):
    def window_254(until: str, look: str) -> float:
        as_of = real.draws[real.draws["date"] <= until]
        long = baselines.compare_with_baselines(
            as_of, None, families="stem", baselines=("window",), window_look=look
        )
        return float(long.set_index("round").loc["254", "gap"])

    months = ["2023-07-31", "2023-08-31", "2024-04-30", "2026-03-31"]
    # looking both ways: -11 in the July 2023 report, -15 once August's rounds are in
    assert [round(window_254(m, "both")) for m in months] == [-11, -15, -15, -15]
    # looking back only: 250, 251 and 253 (486, 486, 511), the same whenever it is built
    stable = [window_254(m, "before") for m in months]
    assert stable == [pytest.approx(486 - (486 + 486 + 511) / 3)] * 4
    # the analysts' default is the reports' window: the same -8, not -15
    assert window_254("2026-03-31", baselines.REPORT_WINDOW_LOOK) == stable[-1]
    default = baselines.compare_with_baselines(
        real.draws, None, families="stem", baselines=("window",)
    )
    assert float(default.set_index("round").loc["254", "gap"]) == stable[-1]
    assert round(stable[-1]) == -8


def test_the_analysts_default_window_is_the_reports():
    import inspect

    from analysis.publish import families
    from analysis.report import month_report

    default = inspect.signature(baselines.compare_with_baselines).parameters["window_look"]
    assert default.default == baselines.REPORT_WINDOW_LOOK == "before"
    # the reports and the family pages take that default (no second home of the look)
    for caller in (month_report.prepare_month, families.comparisons_for):
        assert "window_look" not in inspect.getsource(caller)


def test_pool_baseline_can_estimate_only_the_latest_rounds_of_each_family():
    """A family page asks for the latest rounds only: older rounds keep their row, with no
    estimate and the reason, and the latest ones are estimated exactly as without a limit."""
    # fmt: off
    draws = make_draws([
        ("1", "2023-01-21", "all_program", 3000, 490, "2023-01-20"),
        ("2", "2023-01-22", "stem",         500, 480, "2023-01-20"),
        ("3", "2023-01-23", "healthcare",  1500, 470, "2023-01-20"),
        ("4", "2023-01-24", "stem",         700, 475, "2023-01-20"),
        ("5", "2023-01-25", "stem",         900, 470, "2023-01-20"),
    ])
    # fmt: on
    pool = make_pool(["2023-01-20"])
    every = baselines.pool_baseline(draws, pool, estimator=FakeEstimator(), families=None)
    latest = baselines.pool_baseline(
        draws, pool, estimator=FakeEstimator(), families=None, latest_rounds=1
    )
    assert latest["round"].tolist() == every["round"].tolist()
    newest = latest.groupby("family").tail(1).index
    older = latest.index.difference(newest)
    assert latest.loc[older, "round"].tolist() == ["2", "4"]
    pd.testing.assert_frame_equal(latest.loc[newest], every.loc[newest])
    assert latest.loc[older, "baseline_cutoff"].isna().all()
    assert latest.loc[older, "reason"].str.startswith("not estimated").all()
    assert latest.loc[older, "detail"].str.contains("latest 1 rounds").all()
