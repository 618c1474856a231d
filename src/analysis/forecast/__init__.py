"""The next cutoff per family, with an 80% prediction interval, and a backtest of how well that
works.

Model: simple exponential smoothing with additive errors, ETS(A,N,N), fitted by maximum
likelihood with statsmodels ``ETSModel``; its prediction interval is analytic. It is a local-level
model: the level moves a little (or a lot) at every round, so the forecast is a weighted average
of past cutoffs, recent rounds weighing more. It suits short series with no reliable trend or
season, which is what each family is.

Rounds are irregular in time (two rounds in a week, then none for months), so the model works in
*round order*: it forecasts the next round of that family, whenever it comes, not a date, and the
gap in time before it does not widen the interval.

Category versions (e.g. healthcare Version 1 -> 2 -> 3) change the eligible occupations and may
shift the level. No separate shift is modelled: the newest versions have too few rounds to
estimate one (healthcare Version 3 has 1 round in the 2026-03-05 snapshot), and the local level
already moves with the latest rounds. We checked the alternative on healthcare's rounds in that
snapshot: a local-level model (statsmodels ``UnobservedComponents``) with and without a step for
each version gave the same one-step-ahead mean absolute error (15.3 points over 8 forecasts), and
with the steps its 80% intervals held fewer of the actual cutoffs (6 of 8 instead of 7 of 8).
When the latest version has few rounds the forecast's ``notes`` say so.

**The point forecast** is, per family, the naive "same as last round" unless the model's
forecast or the average of the two (the blend) beat it by a margin on the family's latest
:data:`CALIBRATION_FORECASTS` earlier forecasts (:func:`choose_method`, which says why the
margin). **Calibration.** The model's own 80% intervals held 98% of all-program and CEC cutoffs
in the rolling backtest, far from 80%; so each interval, centred on the chosen point, is the
model's half-width scaled by the 80th percentile (interpolated) of the same forecast's scaled
errors on the family's *earlier* rounds only (:func:`calibration_scale`: split-conformal
prediction), or the model's own with fewer than :data:`MIN_CALIBRATION` of them. The rule, the
window of 30 forecasts and the percentile were chosen after looking at the backtest, on the
same rounds, so they are not an out-of-sample test of the rule itself; the README ("The monthly
report", Forecasts) gives the backtest's errors and coverages against the naive forecast.
Round size matters (bigger rounds reach lower scores) but the size of the next round is not
known in advance, so it is not in the model.

**Cost.** A report needs the forecast and the accuracy of the latest forecasts only:
``forecast_backtest(..., last=60)`` replays the latest 60 forecasts (and the 30 before them, to
calibrate them exactly as the full backtest would), and ``window`` bounds each fit, so a month
costs the same with 450 rounds or 100,000.

Warnings: statsmodels' ``ConvergenceWarning`` is silenced inside the fit only, because whether
the optimizer converged is read from the fit and reported in the forecast's ``notes`` instead
of printed. A family whose rounds all had the same cutoff is not fitted at all (the likelihood
is degenerate there and numpy warns about log(0)); its forecast is that cutoff, with a note.

>>> import pandas as pd
>>> draws = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=8, freq="MS"),
...                       "family": ["stem"] * 8, "cutoff": [480] * 8})
>>> f = forecast_next_cutoff(draws, "stem")
>>> f.status, f.point, f.low, f.high
('ok', 480.0, 480.0, 480.0)
"""

from __future__ import annotations

from analysis.forecast.backtest import (
    BACKTEST_DTYPES,
    MIN_COVERAGE_FORECASTS,
    REPORT_FORECASTS,
    REPORT_WINDOW,
    BacktestSummary,
    backtest_all,
    forecast_backtest,
)
from analysis.forecast.model import (
    CALIBRATION_FORECASTS,
    CONSTANT_MODEL,
    METHOD_WORDS,
    METHODS,
    MIN_CALIBRATION,
    MODEL_NAME,
    calibration_scale,
    choose_method,
)
from analysis.forecast.next_round import (
    FORECAST_DTYPES,
    STALE_DAYS,
    Forecast,
    forecast_all,
    forecast_frame,
    forecast_next_cutoff,
)

__all__ = [
    # model
    "CALIBRATION_FORECASTS",
    "CONSTANT_MODEL",
    "METHOD_WORDS",
    "METHODS",
    "MIN_CALIBRATION",
    "MODEL_NAME",
    "calibration_scale",
    "choose_method",
    # next_round
    "FORECAST_DTYPES",
    "STALE_DAYS",
    "Forecast",
    "forecast_all",
    "forecast_frame",
    "forecast_next_cutoff",
    # backtest
    "BACKTEST_DTYPES",
    "MIN_COVERAGE_FORECASTS",
    "REPORT_FORECASTS",
    "REPORT_WINDOW",
    "BacktestSummary",
    "backtest_all",
    "forecast_backtest",
]
