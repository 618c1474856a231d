"""Trends over the ``draws`` table: rounds and invitations per period, rolling cutoffs, the time
between rounds, the tie-breaking lag and invitations per year.

Every function is pure: it takes ``draws`` (one row per round, as made by
:func:`analysis.ingest.clean.clean_rounds`) and returns a new table. For an "as of" view the caller
filters first (``draws[draws.date <= as_of]``); nothing here looks at today's date.

Cutoffs are nullable: a round without a cutoff still counts as a round (and its invitations
still count), but it is left out of every cutoff statistic.

>>> draws = _example_draws()
>>> summarize_by_period(draws, freq="year")[["period", "family", "rounds", "invitations"]]
   period       family  rounds  invitations
0    2023  all_program       2         5500
1    2023         stem       1          500
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.data import in_round_order, require_columns
from analysis.taxonomy import ALL_PROGRAM

#: Columns every function here needs from ``draws``.
_BASE_COLUMNS = ("round", "date", "invitations", "cutoff")
_FREQS = ("month", "year")


def _as_columns(by: str | Sequence[str] | None) -> list[str]:
    """``"family"`` -> ``["family"]``; ``None`` -> ``[]`` (all rounds together)."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    return list(by)


def summarize_by_period(
    draws: pd.DataFrame,
    freq: str = "month",
    by: str | Sequence[str] | None = ("family",),
) -> pd.DataFrame:
    """Rounds, invitations and min/median/max cutoff per period and group.

    ``freq`` is ``"month"`` (period ``'YYYY-MM'``, a string) or ``"year"`` (period an Int64
    year). ``by`` names the grouping columns, e.g. ``("family",)``, ``("family", "version")``,
    or ``None``/``()`` for all rounds together. Groups with a missing key (``version`` of an
    all-program round) are kept. ``rounds`` counts every round, ``cutoffs`` those with a
    published cutoff (the ones behind the min/median/max).

    >>> draws = _example_draws()
    >>> summarize_by_period(draws, freq="month", by=None)
        period  rounds  invitations  cutoffs  cutoff_min  cutoff_median  cutoff_max
    0  2023-06       1         4800        1         486          486.0         486
    1  2023-07       2         1200        1         486          486.0         486
    """
    if freq not in _FREQS:
        raise ValueError(f"summarize_by_period: freq must be one of {_FREQS}, not {freq!r}")
    keys = _as_columns(by)
    require_columns(draws, [*_BASE_COLUMNS, *keys], "summarize_by_period")
    period = (
        draws["date"].dt.strftime("%Y-%m").astype("string")
        if freq == "month"
        else draws["date"].dt.year.astype("Int64")
    )
    return (
        draws.assign(period=period)
        .groupby(["period", *keys], dropna=False, sort=True, observed=True)
        .agg(
            rounds=("round", "size"),
            invitations=("invitations", "sum"),
            cutoffs=("cutoff", "count"),
            cutoff_min=("cutoff", "min"),
            cutoff_median=("cutoff", "median"),
            cutoff_max=("cutoff", "max"),
        )
        .reset_index()
        .astype(
            {
                "rounds": "Int64",
                "invitations": "Int64",
                "cutoffs": "Int64",
                "cutoff_min": "Int64",
                "cutoff_median": "Float64",
                "cutoff_max": "Int64",
            }
        )
    )


def rolling_cutoff(
    draws: pd.DataFrame,
    window: str | int = "90D",
    by: str | Sequence[str] | None = "family",
) -> pd.DataFrame:
    """Rolling mean and median cutoff per group, one row per round.

    ``window`` is a time span on the date (``"90D"``: this round and the group's rounds in the
    90 days before it, i.e. dates in ``(date - 90 days, date]``) or an int number of rounds
    (this round and the group's previous ``window - 1`` rounds). Rounds without a cutoff are
    kept (they get the rolling values of the rounds around them) but are not counted in
    ``n_in_window``, the number of cutoffs behind each value.

    >>> draws = _example_draws()
    >>> rolling_cutoff(draws, window="30D")[["round", "family", "cutoff", "cutoff_mean"]]
      round       family  cutoff  cutoff_mean
    0   250  all_program     486        486.0
    1   253  all_program    <NA>        486.0
    2   254         stem     486        486.0
    """
    keys = _as_columns(by)
    require_columns(draws, [*_BASE_COLUMNS, *keys], "rolling_cutoff")
    if isinstance(window, bool) or not isinstance(window, str | int):
        raise ValueError(
            f"rolling_cutoff: window must be a time span like '90D' or an int number of "
            f"rounds, not {window!r}"
        )
    if isinstance(window, int) and window < 1:
        raise ValueError(f"rolling_cutoff: window of {window} rounds; it must be at least 1")
    if isinstance(window, str):
        try:
            pd.Timedelta(window)
        except ValueError as error:
            raise ValueError(
                f"rolling_cutoff: window {window!r} is not a time span like '90D'"
            ) from error

    def roll(group: pd.DataFrame) -> pd.DataFrame:
        cutoffs = pd.Series(group["cutoff"].to_numpy("float64", na_value=np.nan), group["date"])
        rolling = cutoffs.rolling(window, min_periods=1)
        return group.assign(
            cutoff_mean=rolling.mean().to_numpy(),
            cutoff_median=rolling.median().to_numpy(),
            n_in_window=rolling.count().to_numpy(),
        )

    ordered = in_round_order(draws)
    if ordered.empty:
        groups = []
    elif keys:
        groups = [roll(group) for _, group in ordered.groupby(keys, dropna=False, sort=False)]
    else:
        groups = [roll(ordered)]
    columns = ["round", "date", *keys, "cutoff", "cutoff_mean", "cutoff_median", "n_in_window"]
    rolled = (
        pd.concat(groups)
        if groups
        else ordered.assign(cutoff_mean=np.nan, cutoff_median=np.nan, n_in_window=0)
    )
    return (
        rolled.sort_index()
        .loc[:, columns]
        .astype({"cutoff_mean": "Float64", "cutoff_median": "Float64", "n_in_window": "Int64"})
        .reset_index(drop=True)
    )


def days_between_rounds(
    draws: pd.DataFrame, by: str | Sequence[str] | None = "family"
) -> pd.DataFrame:
    """Per round, the days since the previous round of the same group (null for the first).

    >>> draws = _example_draws()
    >>> days_between_rounds(draws)[["round", "family", "previous_round", "gap_days"]]
      round       family previous_round  gap_days
    0   250  all_program           <NA>      <NA>
    1   253  all_program            250        26
    2   254         stem           <NA>      <NA>
    """
    keys = _as_columns(by)
    require_columns(draws, ["round", "date", *keys], "days_between_rounds")
    ordered = in_round_order(draws)
    grouped = ordered.groupby(keys, dropna=False, sort=False) if keys else None

    def previous(column: str) -> pd.Series:
        return grouped[column].shift(1) if keys else ordered[column].shift(1)

    return (
        ordered.assign(previous_round=previous("round"), previous_date=previous("date"))
        .assign(gap_days=lambda t: (t["date"] - t["previous_date"]).dt.days.astype("Int64"))
        .sort_index()
        .loc[:, ["round", "date", *keys, "previous_round", "previous_date", "gap_days"]]
        .astype({"previous_round": "string"})
        .reset_index(drop=True)
    )


def summarize_round_gaps(
    draws: pd.DataFrame,
    by: str | Sequence[str] | None = "family",
    as_of: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Per group: rounds, median/min/max days between rounds, the last round and its age.

    ``days_since_last`` counts from ``as_of`` (default: the newest date in ``draws``, so it
    says how long each group has been quiet relative to the newest round of any kind).

    >>> draws = _example_draws()
    >>> summarize_round_gaps(draws)[["family", "rounds", "median_gap_days", "last_round",
    ...                              "days_since_last"]]
            family  rounds  median_gap_days last_round  days_since_last
    0  all_program       2             26.0        253                1
    1         stem       1             <NA>        254                0
    """
    keys = _as_columns(by)
    gaps = in_round_order(days_between_rounds(draws, by=keys))
    reference = pd.Timestamp(as_of) if as_of is not None else gaps["date"].max()
    summary = (
        gaps.groupby(keys, dropna=False, sort=True)
        if keys
        else gaps.assign(_all=True).groupby("_all")
    ).agg(
        rounds=("round", "size"),
        median_gap_days=("gap_days", "median"),
        min_gap_days=("gap_days", "min"),
        max_gap_days=("gap_days", "max"),
        last_round=("round", "last"),
        last_date=("date", "max"),
    )
    return (
        summary.reset_index(drop=not keys)
        .assign(days_since_last=lambda t: (reference - t["last_date"]).dt.days)
        .astype(
            {
                "rounds": "Int64",
                "median_gap_days": "Float64",
                "min_gap_days": "Int64",
                "max_gap_days": "Int64",
                "last_round": "string",
                "days_since_last": "Int64",
            }
        )
    )


def tie_break_lag(draws: pd.DataFrame) -> pd.DataFrame:
    """Per round, ``drawn_at - tie_break_at`` in days (float; null where either is missing).

    The tie-breaking time is when the last invited candidate with the cutoff score submitted
    their profile, so the lag is how long that candidate had waited in the pool.

    >>> draws = _example_draws()
    >>> tie_break_lag(draws)[["round", "lag_days"]]
      round  lag_days
    0   250      <NA>
    1   253      <NA>
    2   254       2.5
    """
    require_columns(draws, ["round", "date", "drawn_at", "tie_break_at"], "tie_break_lag")
    seconds = (draws["drawn_at"] - draws["tie_break_at"]).dt.total_seconds()
    return (
        draws.loc[:, [c for c in ("round", "date", "family") if c in draws.columns]]
        .assign(
            drawn_at=draws["drawn_at"],
            tie_break_at=draws["tie_break_at"],
            lag_days=(seconds / 86_400).astype("Float64"),
        )
        .reset_index(drop=True)
    )


def summarize_tie_break_lag(
    draws: pd.DataFrame, by: str | Sequence[str] | None = "family", since=None
) -> pd.DataFrame:
    """Tie-break lag (days) per group, for rounds dated on or after ``since``: rounds with a
    lag, and its median, min and max.

    >>> summarize_tie_break_lag(_example_draws())[["family", "rounds", "median_days"]]
      family  rounds  median_days
    0   stem       1          2.5
    """
    keys = _as_columns(by)
    lags = tie_break_lag(draws)
    if since is not None:
        lags = lags.loc[lags["date"] >= pd.Timestamp(since)]
    lags = lags.dropna(subset=["lag_days"]).assign(lag_days=lambda d: d["lag_days"].astype(float))
    grouped = lags.groupby(keys, sort=True) if keys else lags.assign(_all=True).groupby("_all")
    summary = grouped["lag_days"].agg(
        rounds="size", median_days="median", min_days="min", max_days="max"
    )
    return summary.reset_index(drop=not keys)


def invitations_per_year(draws: pd.DataFrame) -> pd.Series:
    """Invitations issued per calendar year (of the round's date), every round counted: the sum
    of the rounds' sizes as IRCC announced them, not a count of people (a candidate invited twice
    counts twice; invitations declined or never used still count).

    For a breakdown by family use ``summarize_by_period(draws, freq="year")``.

    >>> invitations_per_year(_example_draws())
    year
    2023    6000
    Name: invitations, dtype: Int64
    """
    return (
        summarize_by_period(draws, freq="year", by=None)
        .set_index("period")["invitations"]
        .rename_axis("year")
    )


def lowest_cutoff_in_year(
    draws: pd.DataFrame, year: int, up_to: str | pd.Timestamp | None = None
) -> pd.Series:
    """The round with the lowest cutoff among all rounds of ``year`` dated on or before
    ``up_to`` (default: the whole year). Ties go to the earliest round.

    >>> row = lowest_cutoff_in_year(_example_draws(), 2023, up_to="2023-07-04")
    >>> row["round"], int(row["cutoff"])
    ('250', 486)
    """
    require_columns(draws, _BASE_COLUMNS, "lowest_cutoff_in_year")
    in_year = draws["date"].dt.year == year
    if up_to is not None:
        in_year = in_year & (draws["date"] <= pd.Timestamp(up_to))
    candidates = in_round_order(draws[in_year & draws["cutoff"].notna()])
    if candidates.empty:
        until = f" up to {pd.Timestamp(up_to).date()}" if up_to is not None else ""
        raise ValueError(f"lowest_cutoff_in_year: no round with a cutoff in {year}{until}")
    return candidates.loc[candidates["cutoff"].astype("int64").idxmin()]


def _example_draws() -> pd.DataFrame:
    """Three rounds for the docstring examples (real 2023 rounds, one cutoff blanked)."""
    return pd.DataFrame(
        {
            "round": pd.array(["250", "253", "254"], dtype="string"),
            "date": pd.to_datetime(["2023-06-08", "2023-07-04", "2023-07-05"]),
            "drawn_at": pd.to_datetime([None, None, "2023-07-05 12:00"], utc=True),
            "invitations": pd.array([4800, 700, 500], dtype="Int64"),
            "cutoff": pd.array([486, None, 486], dtype="Int64"),
            "tie_break_at": pd.to_datetime([None, None, "2023-07-03 00:00"], utc=True),
            "family": pd.array([ALL_PROGRAM, ALL_PROGRAM, "stem"], dtype="string"),
        }
    )
