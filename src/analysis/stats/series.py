"""Means and trends of short series in round order, with intervals that allow for
autocorrelation (:func:`mean_with_autocorrelation`, :func:`trend_per_year`), and a trend in words
(:func:`trend_words`): the tools the reports' verdicts (:mod:`analysis.stats.verdict`) are built on.

The series come from here too: :func:`family_rounds` selects one family's rounds with a cutoff
inside a window of dates, in round order, after :func:`check_draws` has checked that ``draws``
has what the statistics need (:data:`REQUIRED_COLUMNS`: one row per round with ``date``,
``family`` and ``cutoff``) and that the family exists (:func:`all_families`); :func:`family_label`
gives its readable name. Every tool in :mod:`analysis.stats` starts with them, and a group with
too few rounds gets the status :data:`NOT_ENOUGH` and ``None`` where a number would be.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis import taxonomy
from analysis.data import require_columns
from analysis.taxonomy import UNCLASSIFIED
from analysis.vocabulary import plural, signed_points, whole_points

#: The largest lag-1 autocorrelation an AR(1) standard error is computed with.
AR1_CAP = 0.95

#: Standard errors of the lag-1 autocorrelation added to its bias-corrected estimate before the
#: AR(1) standard error of a mean is computed: over 10-30 rounds the estimate is noisy as well
#: as low, and without this allowance "95%" intervals held the truth 88-90% of the time under a
#: lag-1 autocorrelation of 0.6 (simulated in tests/test_verdicts.py).
AR1_ALLOWANCE = 0.5
#: The same for a trend's slope, whose residuals' autocorrelation is estimated with one
#: parameter fewer to spare: without it "95%" intervals held 84-88% under 0.6. (A t quantile on
#: the effective number of rounds instead gave the same coverage with intervals up to four
#: times as wide in one series out of ten: a few effective rounds leave one or two degrees of
#: freedom.)
TREND_AR1_ALLOWANCE = 1.0


def ar1_inflated(
    se: float, lag1: float, n: int, parameters: int = 1, allowance: float = AR1_ALLOWANCE
) -> float:
    """``se`` (a plain standard error) widened for first-order autocorrelation: by
    ``sqrt((1 + r) / (1 - r))``, with ``r`` the lag-1 autocorrelation ``lag1`` of the series (or
    of a fit's residuals) corrected for its small-sample bias (Kendall's ``(1 + 3 r) / n``, and
    ``(1 + r) / n`` more for each parameter fitted beyond the mean: the residuals of a trend
    understate it further), plus ``allowance`` (:data:`AR1_ALLOWANCE`) of its standard error
    ``sqrt((1 - r^2) / n)``, at most :data:`AR1_CAP`; ``se`` itself when ``r`` is not positive.

    >>> round(ar1_inflated(1.0, 0.5, 20), 2), ar1_inflated(1.0, -0.9, 20)
    (2.44, 1.0)
    """
    corrected = lag1 + (1 + 3 * lag1) / n + (parameters - 1) * (1 + lag1) / n
    corrected = min(corrected, AR1_CAP)
    corrected = min(corrected + allowance * math.sqrt(max(1 - corrected**2, 0.0) / n), AR1_CAP)
    return se * math.sqrt((1 + corrected) / (1 - corrected)) if corrected > 0 else se


def newey_west_lags(n: int) -> int:
    """Newey and West's (1994) rule of thumb for HAC lags: floor(4 * (n/100) ** (2/9)).

    >>> newey_west_lags(37), newey_west_lags(100)
    (3, 4)
    """
    return int(math.floor(4 * (n / 100) ** (2 / 9))) if n > 0 else 0


@dataclass(frozen=True)
class MeanInterval:
    """The mean of a series in round order with an interval that allows for autocorrelation.

    ``se`` is the larger of three standard errors: the plain one (independent rounds), Newey-West
    (HAC, Bartlett kernel, :func:`newey_west_lags`) and the AR(1) one,
    ``s / sqrt(n (1 - r) / (1 + r))`` (:func:`ar1_inflated`) with ``r`` the lag-1
    autocorrelation ``lag1`` after Kendall's small-sample bias correction (``r + (1 + 3 r) / n``)
    plus :data:`AR1_ALLOWANCE` of its standard error (at most :data:`AR1_CAP`), when positive:
    short series understate their autocorrelation and estimate it noisily, so the widest is used.
    ``n_effective`` is the number of independent rounds that would give the same uncertainty,
    ``n (plain se / se)^2`` (at most ``n``); intervals use a t distribution with
    ``n_effective - 1`` degrees of freedom.

    What such 95% intervals cover, measured on simulated AR(1) series whose mean is known
    (tests/test_verdicts.py): 98% with no autocorrelation over 15 rounds, 95% with a lag-1
    autocorrelation of 0.3 over 10 rounds, 90-94% with 0.6 over 15 rounds (400 series: 90%;
    three more runs of 1,000: 92-94%) and 94% with 0.6 over 30 (before the allowance: 97%, 93%,
    88%, 90%; plain intervals: 97%, 89%, 66%, 64%); less for stronger autocorrelation in
    shorter series, so the reports say "allowing for autocorrelation", not that it is removed.
    """

    n: int
    mean: float
    se: float
    n_effective: float
    lag1: float | None


def mean_with_autocorrelation(values) -> MeanInterval:
    """:class:`MeanInterval` of ``values`` (in round order).

    >>> m = mean_with_autocorrelation([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])   # a steady climb
    >>> m.mean, m.n_effective < 6, m.se > 0.76                         # plain se: 0.76
    (3.5, True, True)
    >>> mean_with_autocorrelation([5.0, -5.0] * 4).n_effective         # never more than n
    8.0
    """
    y = np.asarray(values, dtype="float64")
    n = len(y)
    if n < 2:
        raise ValueError(f"a mean with an interval needs at least 2 values, not {n}")
    mean = float(y.mean())
    plain = float(y.std(ddof=1) / math.sqrt(n))
    if plain == 0:
        return MeanInterval(n, mean, 0.0, float(n), None)
    import statsmodels.api as sm

    lags = max(newey_west_lags(n), 1)
    fit = sm.OLS(y, np.ones(n)).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}
    )
    hac = float(fit.bse[0])
    centred = y - mean
    lag1 = float((centred[1:] * centred[:-1]).sum() / (centred**2).sum())
    # short series understate their autocorrelation, and estimate it noisily
    se = max(plain, hac, ar1_inflated(plain, lag1, n))
    n_effective = float(max(1.0, min(n, n * (plain / se) ** 2)))
    return MeanInterval(n, mean, se, n_effective, lag1)


@dataclass(frozen=True)
class Trend:
    """A straight-line change per year of a series, with a ``level`` interval that allows for
    autocorrelation: the OLS slope on years, its standard error the larger of the plain one,
    Newey-West (HAC) and the AR(1) one of the residuals (:func:`ar1_inflated`, allowing for the
    two fitted parameters and with :data:`TREND_AR1_ALLOWANCE`), a t interval on ``n - 2``
    degrees of freedom. What a 95% interval covers on simulated series (tests/test_verdicts.py,
    300 series each): 98% without autocorrelation over 10 rounds, 95% with a lag-1
    autocorrelation of 0.3 over 10, 93% with 0.6 over 15 (three more runs of 1,000: 92-94%) and
    95% with 0.6 over 30 (before the allowance: 97%, 93%, 84%, 88%)."""

    n: int
    slope: float
    low: float
    high: float
    level: float


def trend_per_year(dates, values, level: float = 0.95) -> Trend:
    """:class:`Trend` of ``values`` against ``dates`` (in years).

    >>> days = pd.date_range("2024-06-01", periods=8, freq="91D")
    >>> t = trend_per_year(days, [-70.0, -66, -60, -57, -52, -49, -45, -40])
    >>> round(t.slope), t.low < t.slope < t.high
    (17, True)
    """
    x = (pd.to_datetime(pd.Series(dates)) - pd.Timestamp(min(dates))).dt.days.to_numpy() / 365.25
    y = np.asarray(values, dtype="float64")
    n = len(y)
    if n < 3 or np.ptp(x) == 0:
        raise ValueError(f"a trend needs at least 3 values on different dates, not {n}")
    import statsmodels.api as sm

    design = sm.add_constant(x)
    plain = sm.OLS(y, design).fit()
    lags = max(newey_west_lags(n), 1)
    hac = sm.OLS(y, design).fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True})
    residuals = plain.resid
    se_plain = float(plain.bse[1])
    lag1 = 0.0
    if (residuals**2).sum() > 0:
        lag1 = float((residuals[1:] * residuals[:-1]).sum() / (residuals**2).sum())
    ar1 = ar1_inflated(se_plain, lag1, n, parameters=2, allowance=TREND_AR1_ALLOWANCE)
    se = max(se_plain, float(hac.bse[1]), ar1)
    from scipy import stats as scipy_stats  # lazy: statistics libraries load only when used

    t = scipy_stats.t.ppf(0.5 + level / 2, df=max(n - 2, 1))
    slope = float(plain.params[1])
    return Trend(n, slope, float(slope - t * se), float(slope + t * se), level)


def trend_words(trend: Trend | None, mean: float) -> str:
    """The gap's change per year in words (``mean``: the gap's sign says whether a rise
    narrows it); empty without a trend.

    >>> trend_words(Trend(10, 15.2, 8.0, 22.4, 0.95), -47.0)
    '; the gap has narrowed by about 15 points a year (95% interval +8 to +22)'
    >>> trend_words(Trend(10, -3.0, -9.0, 3.0, 0.95), -47.0)
    '; no clear change over time (−3 points a year, 95% interval −9 to +3)'
    """
    if trend is None:
        return ""
    interval = (
        f"{trend.level:.0%} interval {signed_points(trend.low)} to {signed_points(trend.high)}"
    )
    if trend.low <= 0 <= trend.high:
        return (
            f"; no clear change over time ({signed_points(trend.slope)} points a year, {interval})"
        )
    narrows = (trend.slope > 0) == (mean < 0)
    change = "narrowed" if narrows else "widened"
    points = plural(whole_points(abs(trend.slope)), "point")
    return f"; the gap has {change} by about {points} a year ({interval})"


# ---------------------------------------------------------------- selecting the series

#: The status of a result whose groups have too few rounds to give a number.
NOT_ENOUGH = "not enough data"
#: The columns every tool needs in ``draws``.
REQUIRED_COLUMNS = ("date", "family", "cutoff")


def all_families(draws: pd.DataFrame | None = None) -> list[str]:
    """Family identifiers from the taxonomy (and any others present in ``draws``).

    >>> "stem" in all_families()
    True
    """
    from_taxonomy = taxonomy.known_families()
    present = [] if draws is None else sorted(set(draws["family"].dropna().astype(str)))
    return list(dict.fromkeys([*from_taxonomy, UNCLASSIFIED, *present]))


def check_draws(draws: pd.DataFrame, *families: str) -> None:
    """Raise ``ValueError`` naming what is wrong if ``draws`` lacks a needed column or a family
    name is neither in the taxonomy nor in the data.

    >>> check_draws(pd.DataFrame(columns=["date", "family", "cutoff"]), "stem")
    >>> check_draws(pd.DataFrame(columns=["date", "family", "cutoff"]), "STEM")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown family 'STEM'; known families: all_program, stem, healthcare, ...
    """
    require_columns(draws, REQUIRED_COLUMNS, "stats")
    known = all_families(draws)
    for name in families:
        if name not in known:
            raise ValueError(f"unknown family {name!r}; known families: {', '.join(known)}")


def to_timestamp(value: Any, name: str) -> pd.Timestamp | None:
    """``value`` as a timestamp without a time zone (``None`` stays ``None``); ``ValueError``
    naming the argument ``name`` when it is not a date.

    >>> to_timestamp("2024-04-23", "as_of").date(), to_timestamp(None, "as_of")
    (datetime.date(2024, 4, 23), None)
    >>> to_timestamp("2024-13-01", "as_of")
    Traceback (most recent call last):
    ...
    ValueError: as_of='2024-13-01' is not a date
    """
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}={value!r} is not a date") from error
    if pd.isna(stamp):
        raise ValueError(f"{name}={value!r} is not a date")
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def date_window(since: Any, until: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``since`` and ``until`` as timestamps (:func:`to_timestamp`), either may be ``None``;
    ``ValueError`` when ``until`` comes before ``since``.

    >>> date_window("2024-05-01", "2024-04-01")
    Traceback (most recent call last):
    ...
    ValueError: until (2024-04-01) is before since (2024-05-01)
    """
    start, end = to_timestamp(since, "since"), to_timestamp(until, "until")
    if start is not None and end is not None and end < start:
        raise ValueError(f"until ({end.date()}) is before since ({start.date()})")
    return start, end


def family_rounds(
    draws: pd.DataFrame, family: str, since: Any = None, until: Any = None
) -> pd.DataFrame:
    """Rounds of one family with a published cutoff, in round order, inside ``[since, until]``
    (both inclusive, either may be ``None``). ``cutoff`` comes back as float64.

    >>> draws = pd.DataFrame({"date": pd.to_datetime(["2023-05-01", "2023-07-01", "2023-08-01"]),
    ...                       "family": ["stem", "stem", "stem"],
    ...                       "cutoff": pd.array([480, 490, None], dtype="Int64")})
    >>> family_rounds(draws, "stem", since="2023-06-01")["cutoff"].tolist()
    [490.0]
    """
    check_draws(draws, family)
    start, end = date_window(since, until)
    dates = draws["date"]
    in_window = draws["family"].eq(family).fillna(False)
    if start is not None:
        in_window &= dates.ge(start).fillna(False)
    if end is not None:
        in_window &= dates.le(end).fillna(False)
    order = [c for c in ("date", "round") if c in draws.columns]
    return (
        draws.loc[in_window.astype(bool)]
        .dropna(subset=["cutoff"])
        .assign(cutoff=lambda d: d["cutoff"].astype("float64"))
        .sort_values(order, kind="stable")
        .reset_index(drop=True)
    )


def family_label(draws: pd.DataFrame, family: str) -> str:
    """Readable name of a family (``label`` column when present), e.g. 'STEM'.

    >>> family_label(pd.DataFrame({"family": ["stem"], "label": ["STEM"]}), "stem")
    'STEM'
    """
    if "label" in draws.columns:
        labels = draws.loc[draws["family"].eq(family).fillna(False), "label"].dropna()
        if len(labels):
            return str(labels.iloc[-1])
    return family
