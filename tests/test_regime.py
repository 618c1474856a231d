"""Tests of the regime backtest (analysis.pool.regime): the pool model scored the way the
post-2024 baselines are made (from an earlier distribution, the rounds in between taken out,
newcomers added), every setting and range chosen on earlier rounds only; then the held-out
bounds in the open."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analysis.pool import backtest as pool_backtest
from analysis.pool import bounds as pool_bounds
from analysis.pool import forward as pool_forward
from analysis.pool import regime, regime_figures


@pytest.fixture(scope="module")
def real(newest_tables):
    return newest_tables.draws, newest_tables.pool


@pytest.fixture(scope="module")
def real_scores(real):
    grid = regime.regime_grid()
    return pool_forward.score_settings(*real, grid, regime.REGIME_LAGS, corrected=True)


@pytest.fixture(scope="module")
def real_regime(real, real_scores):
    return regime.regime_backtest(*real, scores=real_scores)


def test_error_range_is_the_middle_of_the_errors_rounded_outwards():
    assert regime.error_range(np.arange(-10, 11)) == (-8, 8)
    assert regime.error_range(np.array([-3.2, -3.2, -3.2])) == (-4, -3)
    low, high = regime.error_range(np.arange(100), coverage=0.5)
    assert (low, high) == (24, 75)


def test_regime_grid_varies_only_what_the_regime_chooses():
    grid = regime.regime_grid()
    assert len(grid) == (
        len(regime.GRID_ELIGIBLE_SHARES)
        * len(regime.GRID_NOMINEE_INFLOWS)
        * len(regime.GRID_INFLOW_RATES)
        * len(regime.GRID_INFLOW_WINDOWS)
    )
    assert {(g.tail_rate, g.tail_start, g.same_pool_days) for g in grid} == {(0.05, 451, 1)}


def test_every_round_is_estimated_from_earlier_distributions_across_rounds(real_regime):
    table = real_regime.table
    assert table.columns.tolist() == regime.REGIME_COLUMNS
    assert set(table["lag"]) == set(regime.REGIME_LAGS)
    assert (table["days"] > 0).all()
    assert (table["rounds_taken_out"] >= 1).all()  # always something in between
    assert (table["error"] == table["estimate"] - table["actual_cutoff"]).all()
    assert (table["low"] <= table["high"]).all()
    # a round further back has more in between
    by_lag = table.groupby("lag")[["days", "invitations_taken_out"]].median()
    assert by_lag["days"].is_monotonic_increasing
    assert by_lag["invitations_taken_out"].is_monotonic_increasing
    assert (table["rounds_before"] >= regime.REGIME_MIN_ROUNDS).all()


def test_the_summary_says_what_the_ranges_covered(real_regime):
    table, summary = real_regime.table, real_regime.summary
    covered = table["actual_cutoff"].between(table["low"], table["high"]).mean()
    assert summary.within_interval == pytest.approx(covered, abs=1e-3)
    assert summary.n == len(table)
    assert summary.mae == pytest.approx(table["error"].abs().mean(), abs=1e-3)
    assert sum(s.n for s in real_regime.by_lag.values()) == summary.n


def test_regime_backtest_never_looks_ahead(real, real_scores, real_regime):
    """Change every error of the newest round: no earlier round's setting, range or estimate
    moves."""
    table = real_regime.table
    newest = table["date"].max()
    changed = tuple(
        t.assign(error=np.where(t["date"] == newest, t["error"] + 500, t["error"]))
        for t in real_scores.tables
    )
    again = regime.regime_backtest(*real, scores=replace(real_scores, tables=changed))
    before = table.loc[table["date"] < newest].reset_index(drop=True)
    after = again.table.loc[again.table["date"] < newest].reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after)


def test_regime_accuracy_on_the_newest_snapshot(real_regime):
    """The figures docs/pool-model.md and the README quote (what ee backtest measured on the
    newest shared snapshot). Of the issue's targets (MAE <= 4, bias within 1.5, ranges covering
    75-85%) the bias and the coverage are met, the MAE is not: said there, with the figures
    before the model change (MAE 9.46, bias -9.46 one distribution back) and before this one
    (MAE 7.29, bias -2.56, covered 68%), and with settings chosen on the raw misses (5.75,
    +0.96, 81%)."""
    from analysis.pool.accuracy import DOCUMENTED_ACCURACY

    s, documented = real_regime.summary, DOCUMENTED_ACCURACY["regime"]
    assert s.n == documented["n"] == 96
    assert s.mae == pytest.approx(documented["mae"], abs=0.01)
    assert s.bias == pytest.approx(documented["bias"], abs=0.01)
    assert s.within_interval == pytest.approx(documented["covered"], abs=0.005)
    one_back = real_regime.by_lag[1]
    assert one_back.mae < 9.46 - 2 and abs(one_back.bias) < 9.46 / 3  # the "before"
    assert s.mae < 7.29 and abs(s.bias) <= 1.5  # the bias target, and better than before
    assert 0.75 <= s.within_interval <= 0.85  # the coverage target


def test_held_out_bounds_mostly_hold_and_every_bound_holds_in_sample(real):
    held_out = pool_bounds.bounds_table(*real, own_bound=False)
    table = pool_bounds.with_held_out(pool_bounds.bounds_table(*real), held_out)
    assert (table["slack"] >= 0).all()
    cec = table.loc[table["family"] == "cec"]
    assert len(cec) == 29
    assert (cec["held_out_slack"] < 0).mean() <= 0.10  # the target
    assert (table["held_out_slack"] <= table["slack"]).all()


def test_every_post_2024_pool_baseline_carries_the_regime_range(real, real_regime):
    """Item 4 of issue 15: a baseline estimated across rounds and days gets the range the regime
    backtest measured (its misses: estimated - actual), not a band from another situation."""
    from analysis import baselines

    draws, pool = real
    found = regime.regime_error_range(draws, pool)
    low_error, high_error = found
    assert low_error < 0 < high_error
    # the raw misses are too low more often and by more than too high: the correction (minus
    # their median) raises every such baseline, and the corrected misses keep the longer tail low
    assert found.correction > 0
    assert abs(low_error) > abs(high_error)
    errors = real_regime.table["error"]
    assert low_error <= errors.median() <= high_error
    long = baselines.compare_with_baselines(
        draws, pool, families=["healthcare"], since="2025-01-01", baselines=("pool",)
    )
    assert len(long) >= 5
    days = regime_figures.baseline_days(draws, pool)
    for row in long.itertuples():
        # the range of estimates made as many days from their distribution (issue 15 follow-up)
        near = found.for_days(days[row.round])
        low_error, high_error = near
        assert near.correction == found.correction
        assert high_error - low_error < found[1] - found[0]  # narrower than all bands pooled
        estimate = int(row.baseline_cutoff)
        assert row.low == max(min(estimate - high_error, estimate), row.cutoff)
        assert row.high == max(estimate - low_error, estimate)


def test_the_regime_range_needs_all_program_rounds_to_be_measured():
    from analysis.pool.examples import example_draws, example_pool

    assert regime.regime_error_range(example_draws(), example_pool()) is None


def test_the_reports_ranges_are_measured_on_the_feed_not_copied(real, monkeypatch):
    """Error bands are computed from the data at hand: the baselines' ranges do not move when the
    documented constant does (it is only the fallback of direct calls)."""
    from analysis import baselines
    from analysis.pool import backtest as pool_backtest
    from analysis.pool import estimate

    draws, pool = real
    measured = pool_backtest.measured_error_bands(draws, pool)
    assert measured == pool_backtest.error_bands(draws, pool, ["replay"])["replay"]

    def pool_rows():
        long = baselines.compare_with_baselines(
            draws, pool, families=["healthcare", "stem"], since="2023-06-01", baselines=("pool",)
        )
        return long[["round", "baseline_cutoff", "low", "high"]].reset_index(drop=True)

    before = pool_rows()
    absurd = {"direct": {"narrow": (-90, 90), "wide": (-90, 90)}}
    absurd["adjusted"] = absurd["direct"]
    monkeypatch.setitem(estimate.ERROR_BANDS, "replay", absurd)
    pd.testing.assert_frame_equal(pool_rows(), before)
    assert ((before["high"] - before["low"]) < 90).all()


# --- the correction and the calibrated range (issue 15, last mile) ---------------------------


@pytest.fixture(scope="module")
def real_model(real):
    return regime.model_regime(*real)


def test_the_correction_and_the_range_come_from_earlier_rounds_only(real, real_model):
    """At the model's settings: each estimate is the model's plus minus the median error of the
    estimates dated before it, and its range spans a level of RANGE_LEVELS."""
    from analysis.pool.density import DEFAULT_SETTINGS

    table = real_model.table
    lagged = pool_backtest.lagged_backtest(*real, DEFAULT_SETTINGS, regime.REGIME_LAGS)
    raw = (table["raw_estimate"] - table["actual_cutoff"]).to_numpy()
    assert (table["error"] == table["estimate"] - table["actual_cutoff"]).all()
    assert (table["estimate"] == table["raw_estimate"] + table["correction"]).all()
    for row in table.itertuples():
        earlier = lagged.loc[lagged["date"] < row.date, "error"].to_numpy()
        assert row.correction == pool_forward.correction_for(earlier)
    assert set(table["range_level"]) <= set(regime.RANGE_LEVELS)
    assert table["correction"].min() > 0  # every correction raises: the raw misses lean low
    corrected = raw + table["correction"].to_numpy()
    assert np.abs(corrected).mean() < np.abs(raw).mean()
    assert abs(corrected.mean()) < abs(raw.mean())
    assert 0.75 <= real_model.summary.within_interval <= 0.85


def test_estimates_across_rounds_get_the_correction_direct_ones_do_not():
    """A baseline made across rounds or days is the model's estimate plus the regime's
    correction, its range around the corrected estimate; one from the round's own distribution
    with nothing in between is left alone. (Before: no correction anywhere.)"""
    from analysis.pool.estimate import ErrorRange, estimate_for_round
    from analysis.pool.examples import example_draws, example_pool

    draws, pool = example_draws(), example_pool()
    found = ErrorRange(-2, 5, correction=3, level=0.9)
    plain = estimate_for_round(draws, pool, "254", own_bound=False)
    fixed = estimate_for_round(draws, pool, "254", own_bound=False, error_range=found)
    as_tuple = estimate_for_round(draws, pool, "254", own_bound=False, error_range=(-2, 5))
    assert plain.rounds_between == ("253",)
    assert fixed.cutoff == plain.cutoff + 3 == as_tuple.cutoff + 3
    assert (fixed.low, fixed.high) == (fixed.cutoff - 5, fixed.cutoff + 2)
    assert "+3 points" in fixed.note
    own = estimate_for_round(draws, pool, "253", adjust=False, newcomers=False)
    own_fixed = estimate_for_round(
        draws, pool, "253", adjust=False, newcomers=False, error_range=found
    )
    assert own.rounds_between == () and own.added == 0
    assert own_fixed.cutoff == own.cutoff


def test_the_newcomers_rate_is_measured_over_the_settings_window():
    """Arrivals that grew: 10 a day for eight weeks, then 50 a day for two. A 14-day window
    sees the new rate, a 56-day one a blend (before: always 56 days)."""
    from dataclasses import replace as with_

    from analysis.pool.density import DEFAULT_SETTINGS
    from analysis.pool.replay import Replay

    dates = pd.to_datetime(["2024-01-14", "2024-01-28", "2024-02-11", "2024-02-25", "2024-03-10"])
    changes = pd.DataFrame(
        {
            "date": dates,
            "score_low": 501,
            "score_high": 600,
            "change": [140.0, 140.0, 140.0, 140.0, 700.0],
            "days": 14,
        }
    )

    def per_day(window):
        state = Replay({}, changes, settings=with_(DEFAULT_SETTINGS, inflow_window=window))
        return state.inflow(dates[-1])[0][2]

    assert per_day(14) == pytest.approx(50.0)
    assert per_day(56) == pytest.approx((140 * 3 + 700) / 56)


def test_replays_differing_only_in_newcomers_are_shared_and_the_same(real):
    from dataclasses import replace as with_

    from analysis.pool import replay as pool_replay
    from analysis.pool.density import DEFAULT_SETTINGS

    draws, pool = real
    other = with_(DEFAULT_SETTINGS, inflow_window=56, nominee_inflow=0.25, inflow_rate=0.05)
    shared = pool_replay.cached_replay(draws, pool, DEFAULT_SETTINGS)
    again = pool_replay.cached_replay(draws, pool, other)
    assert again.densities is shared.densities and again.settings == other
    fresh = pool_replay.replay(draws, pool, settings=other)
    newest = max(fresh.densities)
    np.testing.assert_allclose(again.densities[newest], fresh.densities[newest])
    assert again.inflow(newest) == fresh.inflow(newest)


def test_the_calibrated_level_widens_only_when_earlier_ranges_covered_too_little():
    covered = pd.DataFrame(
        {0.8: [True] * 7 + [False] * 5, 0.9: [True] * 10 + [False] * 2, 0.95: [True] * 12}
    )
    assert regime.calibrated_level(covered) == 0.9
    assert regime.calibrated_level(covered.assign(**{"0.9": True})[[0.8, 0.95]]) == 0.95
    assert regime.calibrated_level(pd.DataFrame({0.8: [True] * 12, 0.9: [True] * 12})) == 0.8
    assert regime.calibrated_level(covered.head(regime.RANGE_CALIBRATION_MIN - 1)) == 0.8
    never = pd.DataFrame({0.8: [False] * 12, 0.95: [False] * 12})
    assert regime.calibrated_level(never) == 0.95


def test_the_residuals_say_where_the_misses_are(real_regime):
    found = regime_figures.regime_residuals(real_regime.table).set_index("factor")
    assert list(found.index) == list(regime_figures.RESIDUAL_FACTORS)
    # misses are larger for estimates made further from the round and for high cutoffs
    assert found.loc["days", "mae_high_half"] > found.loc["days", "mae_low_half"]
    assert found.loc["actual_cutoff", "rho_size"] > 0.2


def test_the_regime_figures_by_days_beside_the_days_of_the_reports_baselines(real, real_regime):
    """The regime misses split by the days between the distribution and the round, and how far
    the reports' own pool baselines are from theirs: the long gaps (over a month, up to 79
    days) that make most of the regime error never occur in the reports (0-8 days)."""
    from analysis.pool.regime_figures import regime_lines

    bands = dict(regime_figures.regime_by_days(real_regime.table))
    assert list(bands) == ["up to 14 days", "15-30 days", "over 30 days"]
    assert sum(s.n for s in bands.values()) == real_regime.summary.n
    assert bands["over 30 days"].mae > 2 * bands["up to 14 days"].mae
    days = regime_figures.baseline_days(*real)
    draws = real[0]
    after = draws.loc[draws["date"] > draws.loc[draws["is_all_program"], "date"].max()]
    assert set(days.index) <= set(after["round"].astype(str))
    assert len(days) >= 50 and (days >= 0).all() and days.max() <= 14
    text = " ".join(regime_lines(real_regime, days))
    assert "up to 14 days: n = " in text and f"({len(days)} rounds)" in text


def test_the_setting_is_chosen_on_the_misses_left_once_corrected():
    """Every estimate gets its setting's median correction, so a setting that misses by a
    steady +5 (corrected to 0) beats one that misses by -1 and +1 (which no correction helps);
    chosen on the raw misses, the second won."""
    grid = tuple(regime.regime_grid([0.6], [0.25, 0.5], [0.015], [14]))
    steady = pd.DataFrame({"error": [5, 5, 5, 6]})
    scattered = pd.DataFrame({"error": [1, -1, 1, -1]})
    scores = pool_forward.SettingScores(
        grid=grid,
        tables=(scattered, steady),
        bound_dates=np.array([], dtype="datetime64[ns]"),
        held_out=pd.DataFrame(
            {0: pd.Series([], dtype="float64"), 1: pd.Series([], dtype="float64")}
        ),
        corrected=True,
    )
    rows = np.ones(4, dtype=bool)
    assert scores.best(rows, np.array([], dtype=bool)) == 1
    assert scattered["error"].abs().mean() < steady["error"].abs().mean()  # the raw choice: 0


# --- the range of estimates as near their distribution (issue 15 follow-up) ------------------


def _near_and_far(n: int = 100) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic all-program rounds a week apart, each estimated once: every other one 4 days
    from its distribution with misses of a point or two, the others 45 days from it with misses
    up to 25 points (the regime's pattern, exaggerated). Returns (draws, backtest rows)."""
    rng = np.random.default_rng(15)
    dates = pd.date_range("2022-01-05", periods=n, freq="7D")
    near = np.arange(n) % 2 == 0
    days = np.where(near, 4, 45)
    errors = np.where(near, rng.integers(-2, 3, n), rng.integers(-25, 26, n))
    rounds = [str(200 + i) for i in range(n)]
    draws = pd.DataFrame(
        {
            "round": rounds,
            "date": dates,
            "invitations": 3000,
            "cutoff": 480,
            "is_all_program": True,
            "distribution_date": dates - pd.to_timedelta(days, unit="D"),
        }
    )
    table = pd.DataFrame(
        {
            "round": rounds,
            "date": dates,
            "distribution_date": draws["distribution_date"],
            "invitations": 3000,
            "actual_cutoff": 480,
            "estimated_cutoff": 480 + errors,
            "error": errors,
            "rounds_between": 0,
            "lag": 1,
        }
    )
    return draws, table


def test_a_range_is_made_of_the_misses_of_estimates_as_near_their_distribution():
    """Near estimates miss by a point or two, far ones by up to 25: once a band has
    BAND_MIN_ERRORS earlier estimates, a near estimate's range is made of the near misses only
    (a few points wide) and still covers 75-85% or more of them; the pooled rule (every earlier
    miss) gave every near estimate a range as wide as the far ones'. Before that count, the
    band falls back to the pooled misses."""
    draws, table = _near_and_far()
    result = regime.regime_backtest(draws, pd.DataFrame(), scores=regime._single(table))
    t = result.table
    width = t["high"] - t["low"]
    near = t["days"].le(regime.DAY_BANDS[0])
    near_in = table["date"].sub(table["distribution_date"]).dt.days.le(regime.DAY_BANDS[0])
    earlier_near = (near_in.cumsum() - near_in).set_axis(table["round"])
    seen = t["round"].map(earlier_near).astype(int)  # earlier near estimates, skipped ones too
    own = near & (seen >= regime.BAND_MIN_ERRORS)
    fallback = near & (seen < regime.BAND_MIN_ERRORS) & (t["rounds_before"] >= 20)
    assert own.sum() >= 20 and fallback.any()
    assert (width[own] <= 6).all()  # the near misses' range: a few points
    assert (width[fallback] >= 20).all()  # pooled while the band has too few of its own
    assert (width[~near & (t["rounds_before"] >= 40)] >= 30).all()  # far ones stay wide
    covered = ((t["low"] <= t["actual_cutoff"]) & (t["actual_cutoff"] <= t["high"]))[own]
    assert covered.mean() >= 0.75
    by_days = dict(regime_figures.regime_by_days(t))
    assert by_days["up to 14 days"].within_interval >= 0.75
    assert by_days["over 30 days"].within_interval >= 0.7
    assert set(result.band_levels) == {0, 1, 2}
