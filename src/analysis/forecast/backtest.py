"""How well the forecasts did: a rolling-origin one-step-ahead backtest of a family
(:func:`forecast_backtest`) and of every family (:func:`backtest_all`), beside the naive "same as
last round" forecast.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from analysis.forecast.model import (
    CALIBRATION_FORECASTS,
    CONSTANT_MODEL,
    _check_level,
    _points,
    _predict,
    _train,
    choose,
)
from analysis.forecast.next_round import _default_families
from analysis.stats import NOT_ENOUGH, check_draws, family_rounds
from analysis.vocabulary import plural

#: A report's forecast table replays at most this many latest forecasts per family ...
REPORT_FORECASTS = 60
#: ... each fitted on at most this many latest rounds, so a month costs the same whatever the
#: length of the history (no family has had more rounds than this so far).
REPORT_WINDOW = 240
#: A backtest's coverage says whether the interval is calibrated only over this many
#: calibrated forecasts or more (the share inside an 80% interval over 30 forecasts is known
#: to about +/- 15 points).
MIN_COVERAGE_FORECASTS = 30


@dataclass(frozen=True)
class BacktestSummary:
    """How the one-step-ahead forecasts did: ``mae`` (mean absolute error, points),
    ``coverage`` (share of actual cutoffs inside the interval as forecast: calibrated when
    there were enough earlier forecasts), ``naive_mae`` (error of "same as last round"), over
    ``n`` forecasts; ``calibrated_coverage`` over the ``n_calibrated`` calibrated ones and
    ``model_coverage`` with the model's own (uncalibrated) interval over all ``n``.
    ``calibration_checked``: whether there were enough calibrated forecasts
    (:data:`MIN_COVERAGE_FORECASTS`) to judge the calibration."""

    family: str
    n: int
    mae: float | None
    coverage: float | None
    naive_mae: float | None
    level: float
    min_train: int
    status: str
    reason: str | None = None
    n_calibrated: int = 0
    calibrated_coverage: float | None = None
    model_coverage: float | None = None
    calibration_checked: bool = False


BACKTEST_DTYPES = {
    "origin": "int64",
    "round": "string",
    "date": "datetime64[ns]",
    "actual": "float64",
    "point": "float64",
    "low": "float64",
    "high": "float64",
    "error": "float64",
    "inside": "bool",
    "naive": "float64",
    "naive_error": "float64",
    "model_low": "float64",
    "model_high": "float64",
    "model_inside": "bool",
    "scale": "float64",
    "calibrated": "bool",
    "method": "string",
    "model_point": "float64",
}


def forecast_backtest(
    draws: pd.DataFrame,
    family: str,
    min_train: int = 6,
    level: float = 0.8,
    window: int | None = None,
    last: int | None = None,
    calibrate: bool = True,
) -> tuple[pd.DataFrame, BacktestSummary]:
    """Rolling-origin (expanding window) one-step-ahead backtest of :func:`forecast_next_cutoff`.

    For each round after the first ``min_train``, the model is fitted on the rounds before it
    (the latest ``window`` of them, if given) and its forecast is compared with what happened.
    The interval is calibrated as :func:`forecast_next_cutoff` does it, on the errors of the
    forecasts *before* it only (``calibrate=False``: the model's own). ``last`` keeps the latest
    ``last`` forecasts only (a report's limit: it replays those and the
    :data:`CALIBRATION_FORECASTS` before them, so each is calibrated exactly as in the full
    backtest, whatever the length of the history).

    Returns the table (one row per forecast: ``origin`` = number of earlier rounds, the round,
    actual cutoff, forecast, interval, ``error`` = actual - forecast, ``inside``, and the naive
    "same as last round" forecast and its error; ``model_low``/``model_high``/``model_inside``
    for the model's own interval, ``scale`` and ``calibrated``) and a :class:`BacktestSummary`.

    >>> draws = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=8, freq="MS"),
    ...                       "family": ["stem"] * 8, "cutoff": [480] * 8})
    >>> table, summary = forecast_backtest(draws, "stem")
    >>> len(table), summary.mae, summary.coverage, summary.naive_mae
    (2, 0.0, 1.0, 0.0)
    """
    check_draws(draws, family)
    _check_level(level)
    if min_train < 2:
        raise ValueError(f"min_train={min_train!r} must be at least 2")
    if window is not None and window < 2:
        raise ValueError(f"window={window!r} must be at least 2 rounds, or None for all")
    if last is not None and last < 1:
        raise ValueError(f"last={last!r} must be at least 1 forecast, or None for all")
    rounds = family_rounds(draws, family)
    y = rounds["cutoff"].to_numpy(dtype="float64")
    names = (
        rounds["round"].astype("string")
        if "round" in rounds.columns
        else pd.Series(range(len(rounds))).astype("string")
    )
    first = min_train
    if last is not None:
        first = max(min_train, len(y) - last - CALIBRATION_FORECASTS)
    origins = list(range(first, len(y)))
    predictions = [_predict(_train(y, origin, window), level) for origin in origins]
    model_point = np.array([p.point for p in predictions])
    model_low = np.array([p.low for p in predictions])
    model_high = np.array([p.high for p in predictions])
    actual = y[origins]
    naive = y[[o - 1 for o in origins]]
    candidates = _points(model_point, naive)
    errors = {m: np.abs(actual - v) for m, v in candidates.items()}
    half_model = np.maximum((model_high - model_low) / 2, 0.5)
    methods, point, scale = [], np.empty(len(origins)), np.full(len(origins), np.nan)
    for i in range(len(origins)):
        # the point forecast and the interval's scale, chosen on the forecasts before it only
        constant = predictions[i].model == CONSTANT_MODEL
        fixed = "model" if constant or not calibrate else None
        method, k = choose(errors, half_model, i, level, fixed)
        methods.append(method)
        point[i] = candidates[method][i]
        if calibrate:
            scale[i] = np.nan if k is None else k
    half = (model_high - model_low) / 2
    calibrated = ~np.isnan(scale)
    low = np.where(calibrated, point - np.nan_to_num(scale) * half, model_low)
    high = np.where(calibrated, point + np.nan_to_num(scale) * half, model_high)
    table = pd.DataFrame(
        {
            "origin": origins,
            "round": names.iloc[origins].to_numpy() if origins else [],
            "date": rounds["date"].iloc[origins].to_numpy() if origins else [],
            "actual": actual,
            "point": point,
            "low": low,
            "high": high,
            "error": actual - point,
            "inside": (low <= actual) & (actual <= high),
            "naive": naive,
            "naive_error": actual - naive,
            "model_low": model_low,
            "model_high": model_high,
            "model_inside": (model_low <= actual) & (actual <= model_high),
            "scale": scale,
            "calibrated": calibrated,
            "method": methods,
            "model_point": model_point,
        },
        columns=list(BACKTEST_DTYPES),
    ).astype(BACKTEST_DTYPES)
    if last is not None:
        table = table.tail(last).reset_index(drop=True)

    if table.empty:
        summary = BacktestSummary(
            family=family,
            n=0,
            mae=None,
            coverage=None,
            naive_mae=None,
            level=level,
            min_train=min_train,
            status=NOT_ENOUGH,
            reason=f"{plural(len(y), 'round')} with a cutoff; a backtest "
            f"needs more than {min_train}",
        )
        return table, summary
    done = table.loc[table["calibrated"]]
    summary = BacktestSummary(
        family=family,
        n=len(table),
        mae=float(table["error"].abs().mean()),
        coverage=float(table["inside"].mean()),
        naive_mae=float(table["naive_error"].abs().mean()),
        level=level,
        min_train=min_train,
        status="ok",
        n_calibrated=len(done),
        calibrated_coverage=float(done["inside"].mean()) if len(done) else None,
        model_coverage=float(table["model_inside"].mean()),
        calibration_checked=len(done) >= MIN_COVERAGE_FORECASTS,
    )
    return table, summary


def backtest_all(
    draws: pd.DataFrame,
    families: list[str] | tuple[str, ...] | None = None,
    min_train: int = 6,
    level: float = 0.8,
    window: int | None = None,
) -> pd.DataFrame:
    """:func:`forecast_backtest` summaries for each family (default: every family in
    ``draws`` except ``unclassified``), one row each.

    >>> draws = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=8, freq="MS"),
    ...                       "family": ["stem"] * 8, "cutoff": [480] * 8})
    >>> backtest_all(draws)[["family", "n", "mae", "coverage"]]
      family  n  mae  coverage
    0   stem  2  0.0       1.0
    """
    check_draws(draws)
    names = _default_families(draws) if families is None else list(families)
    rows = [asdict(forecast_backtest(draws, f, min_train, level, window)[1]) for f in names]
    return pd.DataFrame(rows, columns=list(BacktestSummary.__dataclass_fields__)).astype(
        {
            "family": "string",
            "n": "int64",
            "mae": "Float64",
            "coverage": "Float64",
            "naive_mae": "Float64",
            "level": "float64",
            "min_train": "int64",
            "status": "string",
            "reason": "string",
            "n_calibrated": "int64",
            "calibrated_coverage": "Float64",
            "model_coverage": "Float64",
            "calibration_checked": "bool",
        }
    )
