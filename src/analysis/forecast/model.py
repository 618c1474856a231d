"""The forecasting model and its calibration: one-step-ahead ETS(A,N,N) forecasts in round order
(:func:`_predict`), the scale that calibrates their intervals on earlier forecasts' errors
(:func:`calibration_scale`) and the choice among the model, the naive "same as last round" and
their average (:func:`choose_method`); :func:`choose` gives both for one forecast. See
:mod:`analysis.forecast` for why.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

MODEL_NAME = "ETS(A,N,N) simple exponential smoothing, in round order"
#: The interval is calibrated on the errors of at most this many latest past forecasts ...
CALIBRATION_FORECASTS = 30
#: ... and only when there are at least this many (otherwise the model's own interval).
MIN_CALIBRATION = 5
CONSTANT_MODEL = "no variation: every round had the same cutoff"
#: The point forecasts a family's backtest chooses among: the model's, the naive "same as last
#: round", and their average.
METHODS = ("model", "blend", "naive")
METHOD_WORDS = {
    "model": "the model's forecast",
    "naive": "the last round's cutoff (neither the model nor its average with the last cutoff "
    "clearly beat it on this family's earlier rounds)",
    "blend": "the average of the model's forecast and the last round's cutoff (it clearly beat "
    "the last round's cutoff on this family's earlier rounds, and the model did not do better)",
}


@dataclass(frozen=True)
class _Prediction:
    point: float
    low: float
    high: float
    model: str
    converged: bool


def _predict(y: np.ndarray, level: float) -> _Prediction:
    """One-step-ahead forecast and prediction interval from a series in round order."""
    if np.ptp(y) == 0:
        value = float(y[-1])
        return _Prediction(value, value, value, CONSTANT_MODEL, True)
    from statsmodels.tools.sm_exceptions import ConvergenceWarning  # lazy: statsmodels (~1 s)
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel  # lazy: statsmodels (~1 s)

    model = ETSModel(pd.Series(y, dtype="float64"), error="add", trend=None, seasonal=None)
    with warnings.catch_warnings():
        # Convergence is read from mle_retvals below and reported in the notes.
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = model.fit(disp=False)
        frame = fit.get_prediction(start=len(y), end=len(y)).summary_frame(alpha=1 - level)
    converged = bool(fit.mle_retvals.get("converged", True)) if fit.mle_retvals else True
    return _Prediction(
        float(frame["mean"].iloc[0]),
        float(frame["pi_lower"].iloc[0]),
        float(frame["pi_upper"].iloc[0]),
        MODEL_NAME,
        converged,
    )


def _train(y: np.ndarray, origin: int, window: int | None) -> np.ndarray:
    return y[:origin] if window is None else y[max(0, origin - window) : origin]


def choose(
    errors: dict[str, np.ndarray], half: np.ndarray, i: int, level: float, fixed: str | None = None
) -> tuple[str, float | None]:
    """The point forecast's method (:func:`choose_method`, or ``fixed``) and the interval's
    scale (:func:`calibration_scale`) for the forecast at position ``i``, from the forecasts
    before it only: ``errors`` are each method's absolute errors and ``half`` the model's
    interval half-widths, oldest first (half a CRS point at least: cutoffs are whole points)."""
    start = max(0, i - CALIBRATION_FORECASTS)
    method = fixed or choose_method({m: e[start:i] for m, e in errors.items()})
    return method, calibration_scale(errors[method][start:i] / half[start:i], level)


def calibration_scale(scores, level: float = 0.8) -> float | None:
    """The factor that turns the model's interval into a calibrated one: the ``level``
    percentile of past forecasts' :func:`_scores` (``None`` with fewer than
    :data:`MIN_CALIBRATION`). Only the latest :data:`CALIBRATION_FORECASTS` count.

    >>> round(calibration_scale([0.5, 1.0, 2.0, 0.2, 0.4]), 6)   # 80th percentile of five
    1.2
    >>> calibration_scale([1.0, 2.0]) is None
    True
    """
    past = np.asarray(scores, dtype="float64")[-CALIBRATION_FORECASTS:]
    if len(past) < MIN_CALIBRATION:
        return None
    return float(np.quantile(past, level))


def choose_method(errors: dict[str, np.ndarray]) -> str:
    """The point forecast chosen on the family's earlier forecasts: the naive "same as last
    round" unless the model or the blend (:data:`METHODS`) beat it on the latest
    :data:`CALIBRATION_FORECASTS` of ``errors`` (one array of absolute errors per method,
    oldest first) twice over: a lower mean absolute error AND closer than naive in more of
    those forecasts than not (ties, where both were equally far, count for neither). Of the
    methods that pass, the one with the lowest mean absolute error (ties in the order of
    :data:`METHODS`). The naive forecast until there are :data:`MIN_CALIBRATION` earlier
    forecasts. The second condition is the margin: one wild round (CEC's 75 in February 2021)
    can make the model's mean error lower for 30 rounds while naive was closer in most of them.

    >>> choose_method({"model": np.array([9.0] * 6), "naive": np.array([5.0] * 6),
    ...                "blend": np.array([6.0] * 6)})
    'naive'
    >>> choose_method({"model": np.array([4.0] * 6), "naive": np.array([5.0] * 6),
    ...                "blend": np.array([4.5] * 6)})
    'model'
    >>> one_wild = {"model": np.array([9.0] * 5 + [100.0]), "naive": np.array([5.0] * 5 + [300.0]),
    ...             "blend": np.array([7.0] * 5 + [200.0])}
    >>> choose_method(one_wild)   # lower mean error, but naive was closer 5 times of 6
    'naive'
    >>> one = {"model": np.array([1.0]), "naive": np.array([5.0]), "blend": np.array([3.0])}
    >>> choose_method(one)      # too few earlier forecasts to choose on
    'naive'
    """
    if len(errors["naive"]) < MIN_CALIBRATION:
        return "naive"
    recent = {m: np.asarray(errors[m], dtype="float64")[-CALIBRATION_FORECASTS:] for m in METHODS}
    mae = {m: float(np.mean(v)) for m, v in recent.items()}
    naive = recent["naive"]

    def beats_naive(m: str) -> bool:
        closer = int(np.sum(recent[m] < naive - 1e-9))
        farther = int(np.sum(recent[m] > naive + 1e-9))
        return mae[m] < mae["naive"] - 1e-9 and closer > farther

    passed = [m for m in METHODS if m != "naive" and beats_naive(m)]
    if not passed:
        return "naive"
    best = min(mae[m] for m in passed)
    return next(m for m in passed if mae[m] <= best + 1e-9)


def _points(model: np.ndarray, naive: np.ndarray) -> dict[str, np.ndarray]:
    return {"model": model, "naive": naive, "blend": (model + naive) / 2}


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level={level!r} must be between 0 and 1, e.g. 0.8 for 80%")
