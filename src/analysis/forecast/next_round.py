"""The next cutoff of a family (:func:`forecast_next_cutoff`), of every family
(:func:`forecast_all`), and one forecast as a table row (:func:`forecast_frame`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from analysis.forecast.model import (
    CALIBRATION_FORECASTS,
    CONSTANT_MODEL,
    METHOD_WORDS,
    MIN_CALIBRATION,
    _check_level,
    _points,
    _predict,
    _Prediction,
    _train,
    choose,
)
from analysis.stats import NOT_ENOUGH, all_families, check_draws, family_rounds
from analysis.taxonomy import UNCLASSIFIED
from analysis.vocabulary import plural

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
        half = np.maximum(np.array([(e.high - e.low) / 2 for e in earlier]), 0.5)
        errors = {m: np.abs(actual - v) for m, v in candidates.items()}
        method, scale = choose(errors, half, past, level)
        point = _points(np.array([prediction.point]), np.array([y[-1]]))[method][0]
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
    return forecast_frame(
        *(forecast_next_cutoff(draws, f, level, min_rounds, window) for f in names)
    )


def forecast_frame(*forecasts: Forecast) -> pd.DataFrame:
    """Forecasts as a table, one row each (as in :func:`forecast_all`).

    >>> draws = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=6, freq="MS"),
    ...                       "family": ["stem"] * 6, "cutoff": [480] * 6})
    >>> forecast_frame(forecast_next_cutoff(draws, "stem"))["point"].tolist()
    [480.0]
    """
    frame = pd.DataFrame([asdict(f) for f in forecasts], columns=list(FORECAST_DTYPES))
    return frame.assign(notes=frame["notes"].map(" ".join)).astype(FORECAST_DTYPES)
