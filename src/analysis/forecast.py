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

The interval does not include the uncertainty in the model's own parameters, so with few rounds
it is likely too narrow; :func:`forecast_backtest` measures how often it actually held.
Round size matters (bigger rounds reach lower scores) but the size of the next round is not
known in advance, so it is not in the model.

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

from analysis.stats import NOT_ENOUGH, all_families, check_draws, family_rounds
from analysis.taxonomy import UNCLASSIFIED
from analysis.wording import plural

MODEL_NAME = "ETS(A,N,N) simple exponential smoothing, in round order"
CONSTANT_MODEL = "no variation: every round had the same cutoff"
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


@dataclass(frozen=True)
class BacktestSummary:
    """How the one-step-ahead forecasts did: ``mae`` (mean absolute error, points),
    ``coverage`` (share of actual cutoffs inside the interval), ``naive_mae`` (error of
    "same as last round"), over ``n`` forecasts."""

    family: str
    n: int
    mae: float | None
    coverage: float | None
    naive_mae: float | None
    level: float
    min_train: int
    status: str
    reason: str | None = None


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
) -> Forecast:
    """Forecast the cutoff of the family's next round, with a ``level`` prediction interval.

    Uses every round of the family with a cutoff (or the latest ``window`` rounds), in round
    order. A family with fewer than ``min_rounds`` rounds gets ``status="not enough data"`` and
    ``None`` for the point and interval. For an "as of" view, pass
    ``draws[draws["date"] <= as_of]``.

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
    return Forecast(
        family=family,
        n_rounds=n,
        last_date=last_date,
        last_cutoff=last_cutoff,
        point=prediction.point,
        low=prediction.low,
        high=prediction.high,
        level=level,
        model=prediction.model,
        status="ok",
        reason=None,
        notes=tuple(_notes(rounds, draws, prediction)),
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
}


def forecast_backtest(
    draws: pd.DataFrame,
    family: str,
    min_train: int = 6,
    level: float = 0.8,
    window: int | None = None,
) -> tuple[pd.DataFrame, BacktestSummary]:
    """Rolling-origin (expanding window) one-step-ahead backtest of :func:`forecast_next_cutoff`.

    For each round after the first ``min_train``, the model is fitted on the rounds before it
    (the latest ``window`` of them, if given) and its forecast is compared with what happened.
    Returns the table (one row per forecast: ``origin`` = number of earlier rounds, the round,
    actual cutoff, forecast, interval, ``error`` = actual - forecast, ``inside``, and the naive
    "same as last round" forecast and its error) and a :class:`BacktestSummary`.

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
    rounds = family_rounds(draws, family)
    y = rounds["cutoff"].to_numpy(dtype="float64")
    names = (
        rounds["round"].astype("string")
        if "round" in rounds.columns
        else pd.Series(range(len(rounds))).astype("string")
    )

    rows = []
    for origin in range(min_train, len(y)):
        train = y[:origin] if window is None else y[max(0, origin - window) : origin]
        p = _predict(train, level)
        rows.append(
            {
                "origin": origin,
                "round": names.iloc[origin],
                "date": rounds["date"].iloc[origin],
                "actual": y[origin],
                "point": p.point,
                "low": p.low,
                "high": p.high,
                "error": y[origin] - p.point,
                "inside": p.low <= y[origin] <= p.high,
                "naive": y[origin - 1],
                "naive_error": y[origin] - y[origin - 1],
            }
        )
    table = pd.DataFrame(rows, columns=list(BACKTEST_DTYPES)).astype(BACKTEST_DTYPES)

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
    summary = BacktestSummary(
        family=family,
        n=len(table),
        mae=float(table["error"].abs().mean()),
        coverage=float(table["inside"].mean()),
        naive_mae=float(table["naive_error"].abs().mean()),
        level=level,
        min_train=min_train,
        status="ok",
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
