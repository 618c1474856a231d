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

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from analysis.stats.rounds import NOT_ENOUGH, all_families, check_draws, family_rounds
from analysis.taxonomy import UNCLASSIFIED
from analysis.wording import plural

MODEL_NAME = "ETS(A,N,N) simple exponential smoothing, in round order"
#: A report's forecast table replays at most this many latest forecasts per family ...
REPORT_FORECASTS = 60
#: ... each fitted on at most this many latest rounds, so a month costs the same whatever the
#: length of the history (no family has had more rounds than this so far).
REPORT_WINDOW = 240
#: The interval is calibrated on the errors of at most this many latest past forecasts ...
CALIBRATION_FORECASTS = 30
#: ... and only when there are at least this many (otherwise the model's own interval).
MIN_CALIBRATION = 5
#: A backtest's coverage says whether the interval is calibrated only over this many
#: calibrated forecasts or more (the share inside an 80% interval over 30 forecasts is known
#: to about +/- 15 points).
MIN_COVERAGE_FORECASTS = 30
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
#: A family whose last round is this many days older than the newest round in the data gets a
#: note that this kind of round may have stopped.
STALE_DAYS = 180


@dataclass(frozen=True)
class Forecast:
    """The next round's cutoff for one family.

    ``point``, ``low`` and ``high`` are ``None`` when ``status`` is ``"not enough data"``
    (``reason`` says why). ``level`` is the coverage the interval aims for (0.8 = 80%).
    """

    family: str
    n_rounds: int
    last_date: pd.Timestamp | None
    last_cutoff: int | None
    point: float | None
    low: float | None
    high: float | None
    level: float
    model: str | None
    status: str
    reason: str | None = None
    notes: tuple[str, ...] = ()
    scale: float | None = None
    calibrated_on: int = 0
    method: str = "model"


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


def _scores(actual: np.ndarray, point: np.ndarray, low: np.ndarray, high: np.ndarray):
    """Each forecast's error in half-widths of the model's interval (half a CRS point at least:
    cutoffs are whole points)."""
    half = np.maximum((high - low) / 2, 0.5)
    return np.abs(actual - point) / half


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


def _series(draws: pd.DataFrame, family: str, window: int | None) -> pd.DataFrame:
    rounds = family_rounds(draws, family)
    if window is not None:
        if window < 2:
            raise ValueError(f"window={window!r} must be at least 2 rounds, or None for all")
        rounds = rounds.tail(window).reset_index(drop=True)
    return rounds


def _notes(rounds: pd.DataFrame, draws: pd.DataFrame, prediction: _Prediction | None) -> list[str]:
    notes = []
    if prediction is not None and prediction.model == CONSTANT_MODEL:
        notes.append(
            f"All {len(rounds)} rounds had a cutoff of {prediction.point:.0f}, so the interval "
            "has no width: the data show no variation, which does not make the future certain."
        )
    if prediction is not None and not prediction.converged:
        notes.append(
            "The model's optimizer did not fully converge; treat the interval with extra care."
        )
    if "version" in rounds.columns and rounds["version"].notna().any():
        versions = rounds["version"].dropna()
        latest = versions.iloc[-1]
        n_latest = int(versions.eq(latest).sum())
        if not versions.eq(latest).all() and n_latest < 6:
            notes.append(
                f"The latest version ({int(latest)}) has {n_latest} of the {len(rounds)} rounds; "
                "earlier versions' rounds are used too, and no separate shift is modelled for "
                "the version change."
            )
    newest = draws["date"].max()
    last = rounds["date"].iloc[-1] if len(rounds) else None
    if last is not None and pd.notna(newest) and (newest - last).days > STALE_DAYS:
        notes.append(
            f"The last round of this kind was on {last:%Y-%m-%d}, {(newest - last).days} days "
            "before the newest round in the data; this kind of round may have stopped."
        )
    return notes


def forecast_next_cutoff(
    draws: pd.DataFrame,
    family: str,
    level: float = 0.8,
    min_rounds: int = 6,
    window: int | None = None,
    calibrate: bool = True,
) -> Forecast:
    """Forecast the cutoff of the family's next round, with a ``level`` prediction interval.

    Uses every round of the family with a cutoff (or the latest ``window`` rounds for each
    fit), in round order. The interval is the model's, scaled by :func:`calibration_scale` of
    the latest past forecasts' errors (``scale``, ``calibrated_on`` forecasts; see the module
    notes; ``calibrate=False`` keeps the model's own). A family with fewer than ``min_rounds``
    rounds gets ``status="not enough data"`` and ``None`` for the point and interval. For an
    "as of" view, pass ``draws[draws["date"] <= as_of]``.

    >>> draws = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=3, freq="MS"),
    ...                       "family": ["stem"] * 3, "cutoff": [481, 486, 491]})
    >>> f = forecast_next_cutoff(draws, "stem")
    >>> f.status, f.point, f.reason
    ('not enough data', None, 'only 3 rounds with a cutoff; at least 6 are needed')
    """
    check_draws(draws, family)
    _check_level(level)
    if min_rounds < 2:
        raise ValueError(f"min_rounds={min_rounds!r} must be at least 2")
    rounds = _series(draws, family, window)
    n = len(rounds)
    last_date = rounds["date"].iloc[-1] if n else None
    last_cutoff = int(rounds["cutoff"].iloc[-1]) if n else None
    if n < min_rounds:
        return Forecast(
            family=family,
            n_rounds=n,
            last_date=last_date,
            last_cutoff=last_cutoff,
            point=None,
            low=None,
            high=None,
            level=level,
            model=None,
            status=NOT_ENOUGH,
            reason=f"only {plural(n, 'round')} with a cutoff; at least {min_rounds} are needed",
            notes=tuple(_notes(rounds, draws, None)),
        )
    prediction = _predict(rounds["cutoff"].to_numpy(dtype="float64"), level)
    low, high, scale, past = prediction.low, prediction.high, None, 0
    notes = _notes(rounds, draws, prediction)
    point, method = prediction.point, "model"
    if calibrate and prediction.model != CONSTANT_MODEL:
        # the same forecast on the family's latest earlier rounds, each fitted as it would have
        # been then (every round before it, or the latest ``window``)
        y = family_rounds(draws, family)["cutoff"].to_numpy(dtype="float64")
        origins = list(range(max(min_rounds, len(y) - CALIBRATION_FORECASTS), len(y)))
        earlier = [_predict(_train(y, o, window), level) for o in origins]
        past = len(earlier)
        actual = y[origins]
        candidates = _points(np.array([e.point for e in earlier]), y[[o - 1 for o in origins]])
        method = choose_method({m: np.abs(actual - v) for m, v in candidates.items()})
        point = _points(np.array([prediction.point]), np.array([y[-1]]))[method][0]
        scale = calibration_scale(
            _scores(
                actual,
                candidates[method],
                np.array([e.low for e in earlier]),
                np.array([e.high for e in earlier]),
            ),
            level,
        )
        if method != "model":
            notes.append(f"The point forecast is {METHOD_WORDS[method]}.")
        if scale is None:
            notes.append(
                f"The interval is the model's own: only {plural(past, 'earlier forecast')} "
                "of this kind to calibrate it on (at least "
                f"{MIN_CALIBRATION} are needed)."
            )
        else:
            half = (prediction.high - prediction.low) / 2
            low, high = point - scale * half, point + scale * half
    return Forecast(
        family=family,
        n_rounds=n,
        last_date=last_date,
        last_cutoff=last_cutoff,
        point=float(point),
        low=low,
        high=high,
        level=level,
        model=prediction.model,
        status="ok",
        reason=None,
        notes=tuple(notes),
        scale=scale,
        calibrated_on=past if scale is not None else 0,
        method=method,
    )


def _default_families(draws: pd.DataFrame) -> list[str]:
    """Families present in ``draws``, in taxonomy order, without ``unclassified`` (a mix of
    unrelated round types, not a series)."""
    present = set(draws["family"].dropna().astype(str))
    return [f for f in all_families(draws) if f in present and f != UNCLASSIFIED]


FORECAST_DTYPES = {
    "family": "string",
    "n_rounds": "int64",
    "last_date": "datetime64[ns]",
    "last_cutoff": "Int64",
    "point": "Float64",
    "low": "Float64",
    "high": "Float64",
    "level": "float64",
    "model": "string",
    "status": "string",
    "reason": "string",
    "notes": "string",
    "scale": "Float64",
    "calibrated_on": "int64",
    "method": "string",
}


def forecast_all(
    draws: pd.DataFrame,
    families: list[str] | tuple[str, ...] | None = None,
    level: float = 0.8,
    min_rounds: int = 6,
    window: int | None = None,
) -> pd.DataFrame:
    """:func:`forecast_next_cutoff` for each family (default: every family in ``draws`` except
    ``unclassified``), one row each; notes are joined with spaces.

    >>> draws = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=4, freq="MS"),
    ...                       "family": ["stem", "stem", "healthcare", "healthcare"],
    ...                       "cutoff": [481, 486, 470, 460]})
    >>> forecast_all(draws)[["family", "n_rounds", "status"]]
           family  n_rounds           status
    0        stem         2  not enough data
    1  healthcare         2  not enough data
    """
    check_draws(draws)
    names = _default_families(draws) if families is None else list(families)
    frames = [
        forecast_frame(forecast_next_cutoff(draws, f, level, min_rounds, window)) for f in names
    ]
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=list(FORECAST_DTYPES)).astype(FORECAST_DTYPES)
    )


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
        start = max(0, i - CALIBRATION_FORECASTS)
        constant = predictions[i].model == CONSTANT_MODEL
        method = (
            "model"
            if constant or not calibrate
            else choose_method({m: e[start:i] for m, e in errors.items()})
        )
        methods.append(method)
        point[i] = candidates[method][i]
        if calibrate:
            k = calibration_scale(errors[method][start:i] / half_model[start:i], level)
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
            "naive": y[[o - 1 for o in origins]],
            "naive_error": actual - y[[o - 1 for o in origins]],
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


def forecast_frame(forecast: Forecast) -> pd.DataFrame:
    """One forecast as a one-row table (as in :func:`forecast_all`).

    >>> draws = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=6, freq="MS"),
    ...                       "family": ["stem"] * 6, "cutoff": [480] * 6})
    >>> forecast_frame(forecast_next_cutoff(draws, "stem"))["point"].tolist()
    [480.0]
    """
    frame = pd.DataFrame([asdict(forecast)], columns=list(FORECAST_DTYPES))
    return frame.assign(notes=frame["notes"].map(" ".join)).astype(FORECAST_DTYPES)
