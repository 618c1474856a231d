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
forecast or the average of the two (the blend) beat it on the family's latest
:data:`CALIBRATION_FORECASTS` earlier forecasts by a margin: a lower mean absolute error *and*
closer than naive in more of those forecasts than not (:func:`choose_method`; the naive one
until there are :data:`MIN_CALIBRATION` of them: the model has to earn its place). The second
condition is there for CEC: one CEC round of 75 in February 2021 made the model's mean error
the lower one for the next 30 forecasts although naive was closer in most of them, and the
model then lost after the three-year gap (2021 to 2024); choosing on the mean alone gave CEC
29.6 against naive's 25.0 (n = 51). With the margin, in the rolling backtest on the
2026-03-05 snapshot, against the naive forecast: all-program 11.8 vs 11.9 (n = 172), PNP 32.1
vs 39.7 (94), French 27.9 vs 28.1 (22), healthcare 15.2 vs 15.2 (8), CEC 25.0 vs 25.0 (51:
naive every time). The rule, the window and the naive start were chosen after looking at these
figures, on the same rounds, so they are not an out-of-sample test of the rule itself.

**Calibration.** The model's own interval assumes the model is right; in the rolling backtest on
the 2026-03-05 snapshot its 80% intervals held 98% of all-program cutoffs, 98% of CEC and 85% of
PNP, far from 80%. So each interval, centred on the chosen point forecast, is the model's
half-width widened or narrowed by the errors of the same point forecast on the family's
*earlier* rounds only: over the latest :data:`CALIBRATION_FORECASTS` past forecasts, the score
``|actual - forecast| / half-width of the model's interval``; its 80th percentile (linear
interpolation) multiplies the model's half-width (split-conformal prediction, on scaled errors).
With fewer than :data:`MIN_CALIBRATION` past forecasts the model's own interval is used and the
forecast says so. The backtest measures both: on the 2026-03-05 snapshot the calibrated 80%
intervals held 76% of all-program cutoffs (n = 167), 78% of CEC (n = 46) and 76% of PNP
(n = 89), each calibrated on the chosen forecast's own earlier errors; French (94%, n = 17)
and healthcare (n = 3) have too few calibrated forecasts (:data:`MIN_COVERAGE_FORECASTS`) to
tell. The window of 30 forecasts and the interpolated
percentile were chosen after looking at these coverages.
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
