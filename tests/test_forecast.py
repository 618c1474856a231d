"""Tests for analysis.forecast: hand-checkable series, then the newest real snapshot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.forecast import (
    CONSTANT_MODEL,
    MODEL_NAME,
    backtest_all,
    forecast_all,
    forecast_backtest,
    forecast_next_cutoff,
)
from analysis.stats import NOT_ENOUGH

pytestmark = pytest.mark.filterwarnings("error")


def series(family: str, cutoffs: list[int | None], start: str = "2024-01-01", **extra):
    """A draws-like table with one round of ``family`` a month."""
    n = len(cutoffs)
    return pd.DataFrame(
        {
            "round": pd.array([str(i + 1) for i in range(n)], dtype="string"),
            "date": pd.date_range(start, periods=n, freq="MS"),
            "family": pd.array([family] * n, dtype="string"),
            "cutoff": pd.array(cutoffs, dtype="Int64"),
            **extra,
        }
    )


# ------------------------------------------------------------------ forecast_next_cutoff


def test_constant_series_forecasts_the_constant_with_no_width():
    f = forecast_next_cutoff(series("healthcare", [480] * 8), "healthcare")
    assert (f.status, f.n_rounds, f.last_cutoff) == ("ok", 8, 480)
    assert (f.point, f.low, f.high) == (480.0, 480.0, 480.0)
    assert f.model == CONSTANT_MODEL
    assert any("no variation" in note for note in f.notes)


def test_nearly_constant_series_gives_a_narrow_interval_around_it():
    f = forecast_next_cutoff(series("healthcare", [480, 481] * 4), "healthcare")
    assert f.status == "ok" and f.model == MODEL_NAME
    assert f.point == pytest.approx(480.5, abs=0.5)
    assert f.low < f.point < f.high
    assert f.high - f.low < 3


def test_noisy_series_interval_is_ordered_and_wider_at_higher_level():
    cutoffs = [476, 463, 431, 422, 445, 463, 510, 504, 475, 470]
    draws = series("healthcare", cutoffs)
    f80 = forecast_next_cutoff(draws, "healthcare", level=0.8)
    f95 = forecast_next_cutoff(draws, "healthcare", level=0.95)
    assert min(cutoffs) <= f80.point <= max(cutoffs)
    assert f80.low < f80.point < f80.high
    assert f95.low < f80.low and f80.high < f95.high
    assert f80.point == pytest.approx(f95.point)


@pytest.mark.parametrize("n", [0, 1, 3, 5])
def test_too_few_rounds_is_not_enough_data(n):
    draws = pd.concat(
        [series("healthcare", [470] * 8), series("stem", [481, 486, 491, 480, 470][:n])],
        ignore_index=True,
    )
    f = forecast_next_cutoff(draws, "stem")
    assert f.status == NOT_ENOUGH
    assert f.n_rounds == n
    assert f.point is None and f.low is None and f.high is None and f.model is None
    assert f"only {n} round" in f.reason and "at least 6" in f.reason
    assert (f.last_cutoff is None) == (n == 0)


def test_min_rounds_can_be_lowered():
    f = forecast_next_cutoff(series("stem", [481, 486, 491]), "stem", min_rounds=3)
    assert f.status == "ok" and f.low < f.point < f.high


def test_as_of_view_uses_only_earlier_rounds():
    draws = series("healthcare", [470, 480, 490, 500, 510, 520, 530, 900])
    f = forecast_next_cutoff(draws[draws["date"] <= "2024-07-01"], "healthcare")
    assert f.last_date == pd.Timestamp("2024-07-01") and f.last_cutoff == 530
    assert f.point < 600


def test_version_change_and_stale_family_are_noted():
    versions = pd.array([1, 1, 1, 1, 1, 1, 2], dtype="Int64")
    draws = pd.concat(
        [
            series("healthcare", [470, 460, 480, 465, 475, 470, 500], version=versions),
            series("stem", [481, 486, 491, 480, 470, 490], start="2020-01-01"),
        ],
        ignore_index=True,
    )
    notes = forecast_next_cutoff(draws, "healthcare").notes
    assert any("latest version (2) has 1 of the 7" in n for n in notes)
    stale = forecast_next_cutoff(draws, "stem")
    assert stale.status == "ok"
    assert any("may have stopped" in n for n in stale.notes)


def test_window_keeps_the_latest_rounds():
    draws = series("pnp", [900, 900, 700, 710, 690, 705, 700, 695])
    f = forecast_next_cutoff(draws, "pnp", window=6)
    assert f.n_rounds == 6
    assert 680 < f.point < 720


def test_forecast_errors_name_what_is_wrong():
    draws = series("healthcare", [470] * 6)
    with pytest.raises(ValueError, match="level=1.5"):
        forecast_next_cutoff(draws, "healthcare", level=1.5)
    with pytest.raises(ValueError, match="unknown family 'Healthcare'"):
        forecast_next_cutoff(draws, "Healthcare")
    with pytest.raises(ValueError, match="min_rounds"):
        forecast_next_cutoff(draws, "healthcare", min_rounds=1)


def test_forecast_all_one_row_per_family_with_nulls_not_numbers():
    draws = pd.concat(
        [series("healthcare", [470, 460, 480, 465, 475, 470]), series("stem", [481, 486])],
        ignore_index=True,
    )
    table = forecast_all(draws)
    assert table["family"].tolist() == ["stem", "healthcare"]  # taxonomy order
    assert table["status"].tolist() == [NOT_ENOUGH, "ok"]
    assert table["point"].dtype == "Float64" and table["n_rounds"].dtype == "int64"
    stem = table.set_index("family").loc["stem"]
    assert stem["point"] is pd.NA and stem["low"] is pd.NA and stem["n_rounds"] == 2
    assert forecast_all(draws, families=["healthcare"])["family"].tolist() == ["healthcare"]


# ------------------------------------------------------------------ forecast_backtest


def test_backtest_on_a_constant_series_is_perfect():
    table, summary = forecast_backtest(series("healthcare", [480] * 9), "healthcare")
    assert len(table) == 3 and table["origin"].tolist() == [6, 7, 8]
    assert (summary.status, summary.n, summary.mae, summary.coverage, summary.naive_mae) == (
        "ok",
        3,
        0.0,
        1.0,
        0.0,
    )


def test_backtest_by_hand_after_a_jump():
    table, summary = forecast_backtest(series("healthcare", [480] * 6 + [490, 490]), "healthcare")
    first = table.iloc[0]
    # origin 6: trained on six 480s -> forecast 480, zero-width interval; actual 490.
    assert (first["origin"], first["round"], first["point"], first["actual"]) == (6, "7", 480, 490)
    assert first["error"] == 10 and not first["inside"] and first["naive"] == 480
    # naive errors: 10 then 0
    assert summary.naive_mae == 5.0
    assert summary.n == 2 and 0 <= summary.coverage <= 1
    assert table["error"].tolist()[1] == pytest.approx(490 - table["point"].iloc[1])


def test_backtest_with_too_few_rounds_is_not_enough_data():
    table, summary = forecast_backtest(series("stem", [481, 486, 491, 480, 470, 490]), "stem")
    assert table.empty and "inside" in table.columns
    assert summary.status == NOT_ENOUGH and summary.mae is None and summary.coverage is None
    assert "6 rounds" in summary.reason


def test_backtest_all_rows_and_nulls():
    draws = pd.concat(
        [series("healthcare", [480] * 8), series("stem", [481, 486])], ignore_index=True
    )
    table = backtest_all(draws)
    assert table["family"].tolist() == ["stem", "healthcare"]
    assert table["mae"].dtype == "Float64"
    assert table.set_index("family").loc["stem", "mae"] is pd.NA


# ------------------------------------------------------------------ the newest real snapshot


@pytest.fixture(scope="module")
def real_draws(newest_tables) -> pd.DataFrame:
    return newest_tables.draws


def test_real_forecasts(real_draws):
    table = forecast_all(real_draws).set_index("family")
    healthcare = table.loc["healthcare"]
    assert healthcare["status"] == "ok" and healthcare["n_rounds"] == 14
    assert healthcare["last_cutoff"] == 467
    assert healthcare["low"] < healthcare["point"] < healthcare["high"]
    assert 430 < healthcare["point"] < 510
    assert "latest version (3)" in healthcare["notes"]
    assert table.loc["stem", "status"] == NOT_ENOUGH and table.loc["stem", "n_rounds"] == 3
    assert table.loc["stem", "point"] is pd.NA
    assert table.loc["all_program", "n_rounds"] == 178
    assert "may have stopped" in table.loc["all_program", "notes"]
    assert "unclassified" not in table.index


def test_real_backtest_healthcare(real_draws):
    table, summary = forecast_backtest(real_draws, "healthcare")
    assert summary.status == "ok" and summary.n == 8 == len(table)
    assert 0 <= summary.coverage <= 1
    assert summary.naive_mae == pytest.approx(15.25)  # fixed by the data alone
    assert 0 < summary.mae < 25


def test_real_backtest_french(real_draws):
    _table, summary = forecast_backtest(real_draws, "french")
    assert summary.n == 22
    assert 0 <= summary.coverage <= 1
    assert summary.mae > 0 and summary.naive_mae > 0


# ------------------------------------------------------------------ calibration


def _noisy(n: int, seed: int = 3, scale: float = 8.0) -> list[int]:
    import numpy as np

    rng = np.random.default_rng(seed)
    return [int(v) for v in 480 + np.cumsum(rng.normal(0, scale, n)).round()]


def _scores(actual, point, low, high):
    """Each forecast's error in half-widths of the model's interval (half a point at least)."""
    import numpy as np

    return np.abs(actual - point) / np.maximum((high - low) / 2, 0.5)


def test_calibration_uses_the_errors_of_earlier_forecasts_only():
    from analysis.forecast import model as forecast

    cutoffs = _noisy(30)
    table, summary = forecast_backtest(series("cec", cutoffs), "cec")
    scores = _scores(
        table["actual"].to_numpy(),
        table["point"].to_numpy(),
        table["model_low"].to_numpy(),
        table["model_high"].to_numpy(),
    )
    for i in range(len(table)):
        expected = forecast.calibration_scale(scores[max(0, i - 30) : i])
        if expected is None:
            assert not table["calibrated"].iloc[i]
            assert table["low"].iloc[i] == table["model_low"].iloc[i]
        else:
            assert table["scale"].iloc[i] == pytest.approx(expected)
            half = (table["model_high"].iloc[i] - table["model_low"].iloc[i]) / 2
            assert table["high"].iloc[i] - table["point"].iloc[i] == pytest.approx(expected * half)
    assert table["calibrated"].tolist() == [False] * 5 + [True] * (len(table) - 5)
    # a wild future changes nothing before it
    wild = cutoffs[:20] + [c + 200 * (i % 2) for i, c in enumerate(cutoffs[20:])]
    changed, _ = forecast_backtest(series("cec", wild), "cec")
    before = table["origin"] < 20
    pd.testing.assert_frame_equal(changed.loc[before], table.loc[before])
    assert summary.n_calibrated == len(table) - 5
    assert summary.model_coverage == pytest.approx(table["model_inside"].mean())


def test_the_forecast_is_calibrated_like_the_backtest():
    from analysis.forecast import model as forecast

    draws = series("cec", _noisy(25))
    table, _ = forecast_backtest(draws, "cec")
    f = forecast_next_cutoff(draws, "cec")
    # the point forecast is the method that did best on the earlier forecasts, the interval
    # is calibrated on that method's errors
    candidates = {
        "model": table["model_point"].to_numpy(),
        "naive": table["naive"].to_numpy(),
        "blend": (table["model_point"].to_numpy() + table["naive"].to_numpy()) / 2,
    }
    actual = table["actual"].to_numpy()
    assert f.method == forecast.choose_method(
        {m: np.abs(actual - v) for m, v in candidates.items()}
    )
    scores = _scores(
        actual,
        candidates[f.method],
        table["model_low"].to_numpy(),
        table["model_high"].to_numpy(),
    )
    assert f.scale == pytest.approx(forecast.calibration_scale(scores))
    assert f.calibrated_on == len(table)
    own = forecast_next_cutoff(draws, "cec", calibrate=False)
    last = float(draws["cutoff"].iloc[-1])
    expected = {"model": own.point, "naive": last, "blend": (own.point + last) / 2}
    assert f.point == pytest.approx(expected[f.method]) and own.scale is None
    assert f.high - f.point == pytest.approx(f.scale * (own.high - own.point))
    few = forecast_next_cutoff(series("cec", _noisy(9)), "cec")
    assert few.scale is None and any("model's own" in n for n in few.notes)


def test_a_reports_limit_keeps_the_latest_forecasts_exactly(monkeypatch):
    from analysis.forecast import backtest as forecast  # where forecast_backtest finds _predict

    draws = series("pnp", _noisy(60, seed=5))
    full, _ = forecast_backtest(draws, "pnp")
    calls = []
    real_predict = forecast._predict
    monkeypatch.setattr(
        forecast, "_predict", lambda y, level: calls.append(1) or real_predict(y, level)
    )
    limited, summary = forecast_backtest(draws, "pnp", last=10, window=30)
    assert len(calls) == 10 + forecast.CALIBRATION_FORECASTS  # bounded, whatever the history
    assert summary.n == 10 and limited["origin"].tolist() == full["origin"].tail(10).tolist()
    calls.clear()
    same, _ = forecast_backtest(draws, "pnp", last=10)
    pd.testing.assert_frame_equal(same, full.tail(10).reset_index(drop=True))
    with pytest.raises(ValueError, match="last"):
        forecast_backtest(draws, "pnp", last=0)


def test_real_calibrated_coverage_is_near_80_percent(real_draws):
    table = backtest_all(real_draws).set_index("family")
    checked = table.loc[table["calibration_checked"]]
    assert set(checked.index) == {"all_program", "cec", "pnp"}
    for family, row in checked.iterrows():
        assert 0.75 <= row["calibrated_coverage"] <= 0.85, family
        assert row["n_calibrated"] >= 30
    # the model's own intervals were too wide (the issue: 98% for all-program and CEC)
    assert table.loc["all_program", "model_coverage"] > 0.95
    assert table.loc["cec", "model_coverage"] > 0.95
    # families with too few calibrated forecasts are not judged
    assert not table.loc["french", "calibration_checked"]
    assert table.loc["healthcare", "n_calibrated"] == 3
    # the point forecast, chosen on earlier rounds, is no worse than "same as last round" for
    # every family backtested (CEC too: one round of 75 in 2021 no longer lets the model in)
    backtested = table.loc[table["status"] == "ok"]
    assert {"all_program", "pnp", "french", "healthcare", "cec"} <= set(backtested.index)
    for family, row in backtested.iterrows():
        assert row["mae"] <= row["naive_mae"] + 1e-9, family
    # and it still earns its place where the model is better: all-program and PNP beat naive
    assert table.loc["all_program", "mae"] < table.loc["all_program", "naive_mae"]
    assert table.loc["pnp", "mae"] < table.loc["pnp", "naive_mae"]


def test_the_point_forecast_is_the_method_that_won_the_earlier_rounds():
    """Per family the point forecast is the model, the naive "same as last round" or their
    average, whichever had the lowest mean error on the forecasts before it (none of them
    later); the naive one until there are enough earlier forecasts to choose on."""
    from analysis import forecast

    draws = series("pnp", _noisy(40, seed=3))
    table, summary = forecast_backtest(draws, "pnp")
    actual = table["actual"].to_numpy()
    candidates = {
        "model": table["model_point"].to_numpy(),
        "naive": table["naive"].to_numpy(),
        "blend": (table["model_point"].to_numpy() + table["naive"].to_numpy()) / 2,
    }
    errors = {m: np.abs(actual - v) for m, v in candidates.items()}
    for i, row in table.iterrows():
        start = max(0, i - forecast.CALIBRATION_FORECASTS)
        chosen = forecast.choose_method({m: e[start:i] for m, e in errors.items()})
        assert row["method"] == chosen
        assert row["point"] == pytest.approx(candidates[chosen][i])
    assert (table["method"].iloc[: forecast.MIN_CALIBRATION] == "naive").all()
    assert summary.mae == pytest.approx(np.abs(actual - table["point"]).mean())


def test_the_model_must_beat_naive_by_a_margin_not_on_one_wild_round():
    """A lower mean error is not enough: the model (or the blend) must also have been closer
    than naive in more of the earlier forecasts than not, so one wild round cannot hand it the
    next 30 forecasts (CEC's 75 in February 2021); the naive forecast otherwise."""
    from analysis import forecast

    calm = [4.0] * 9
    wild = {
        "model": np.array(calm + [150.0]),
        "blend": np.array([3.5] * 9 + [250.0]),
        "naive": np.array([3.0] * 9 + [380.0]),
    }
    assert np.mean(wild["model"]) < np.mean(wild["naive"])  # lower mean error ...
    assert forecast.choose_method(wild) == "naive"  # ... but naive was closer 9 times of 10
    steady = {
        "model": np.array([2.0, 3.0, 9.0, 2.0, 3.0, 2.0]),
        "blend": np.array([2.5, 3.0, 8.0, 2.5, 3.0, 2.5]),
        "naive": np.array([3.0, 3.0, 7.0, 3.0, 3.0, 3.0]),
    }
    # closer 4 times, farther once, tied once; mean 3.5 vs 3.67 (model) and 3.58 vs 3.67 (blend)
    assert forecast.choose_method(steady) == "model"
    # a tie in mean error is not a win
    even = {m: np.array([3.0, 5.0, 4.0, 4.0, 4.0]) for m in ("model", "blend", "naive")}
    assert forecast.choose_method(even) == "naive"
    # only the latest CALIBRATION_FORECASTS count: old wins do not carry the model forever
    old_wins = {
        "model": np.array([1.0] * 40 + [6.0] * forecast.CALIBRATION_FORECASTS),
        "blend": np.array([2.0] * 40 + [5.5] * forecast.CALIBRATION_FORECASTS),
        "naive": np.array([3.0] * 40 + [5.0] * forecast.CALIBRATION_FORECASTS),
    }
    assert forecast.choose_method(old_wins) == "naive"
