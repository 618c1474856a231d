"""What a category-based round's cutoff is compared against: three baselines made of
all-program rounds (see the README, "The monthly report").

- **window**: the all-program rounds within ``days`` of the category round: how many, their
  mean, min and max cutoff. ``look="both"`` (the default of :func:`window_baseline`) takes
  rounds before *and* after it, among the rounds the caller passed in, so a round's window
  baseline changes when later rounds arrive (round 254, STEM, 2023-07-05: -11 as of July 2023,
  -15 once the August rounds are in). ``look="before"`` takes only the rounds up to the
  category round's day, so the value never changes after it is published: what the monthly
  reports use, and the default of :func:`compare_with_baselines` (:data:`REPORT_WINDOW_LOOK`),
  so an analyst's gap is the one the reports show.
- **latest**: the latest all-program round dated strictly before the category round, with its
  age in days. Strictly before by default because a same-day all-program round is not "what
  came before" and is already covered by the window baseline; ``include_same_day=True``
  changes that. (No day in the feed so far has both kinds.)
- **pool**: the cutoff an all-program round of the same size would have needed that day,
  estimated from the published CRS distribution of the pool, with its range (low, high): for an
  estimate made across rounds or days (every one after April 2024), the misses of the regime
  backtest (:func:`analysis.pool.regime.regime_error_range`: all-program rounds of 2022-24
  estimated the same way), so the range says how far off such an estimate has been; such an
  estimate also gets that backtest's correction (minus its median miss: they were too low).

Every gap is ``cutoff - baseline_cutoff``: negative means the category round reached lower
than the all-program baseline. Only all-program rounds with a cutoff serve as references. A
category round with no reference is a result (``n_reference`` 0, null baseline), not an error.

All functions work on whatever ``draws`` they are given: for an "as of" view the caller
filters (``draws[draws.date <= as_of]``), which also removes later all-program rounds from
the window.

>>> draws = _example_draws()
>>> latest_baseline(draws)[["round", "reference_round", "age_days", "gap"]]
  round reference_round  age_days  gap
0   254             253         1  -25
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from analysis.data import require_columns
from analysis.pool.backtest import measured_error_bands
from analysis.pool.regime import regime_error_range
from analysis.taxonomy import ALL_PROGRAM, FOCUS_FAMILIES
from analysis.vocabulary import plural

#: What every baseline table repeats about the category round.
ROUND_COLUMNS = ["round", "date", "family", "label", "version", "invitations", "cutoff"]
#: Columns of :func:`compare_with_baselines`, in order.
LONG_COLUMNS = [
    *ROUND_COLUMNS,
    "baseline",
    "baseline_cutoff",
    "gap",
    "low",
    "high",
    "detail",
    "n_reference",
]
BASELINES = ("window", "latest", "pool")
#: Which all-program rounds the window baseline takes: before and after the round, or only up
#: to its day (stable once published).
WINDOW_LOOKS = ("both", "before")
#: Days the window baseline reaches from the category round (the reports' window too).
WINDOW_DAYS = 30
#: The window the reports use, and so the default of :func:`compare_with_baselines`: only the
#: rounds up to the category round's day, so a gap once published never changes.
REPORT_WINDOW_LOOK = "before"

#: ``estimator(draws, pool, round_id, **options)`` -> object with ``cutoff``, ``low``,
#: ``high`` and ``method`` (e.g. :class:`analysis.pool.estimate.CutoffEstimate`). It raises
#: ``ValueError`` when it cannot estimate a round; that round then gets a reason, not a number.
Estimator = Callable[..., Any]

_NEEDED = [*ROUND_COLUMNS, "is_all_program", "is_category"]


def _families(families: str | Iterable[str] | None) -> list[str] | None:
    if families is None:
        return None
    return [families] if isinstance(families, str) else list(families)


def category_rounds(
    draws: pd.DataFrame, families: str | Iterable[str] | None = None, since=None
) -> pd.DataFrame:
    """The category-based rounds (``is_category``), optionally of some families and dated on or
    after ``since``, in date order. The other rounds of ``draws`` still serve as references.

    >>> category_rounds(_example_draws())["round"].tolist()
    ['254']
    """
    require_columns(draws, _NEEDED, "category_rounds")
    wanted = _families(families)
    keep = draws["is_category"].astype(bool)
    if wanted is not None:
        keep = keep & draws["family"].isin(wanted)
    if since is not None:
        keep = keep & (draws["date"] >= pd.Timestamp(since))
    return draws[keep].sort_values("date", kind="stable").reset_index(drop=True)


def reference_rounds(draws: pd.DataFrame) -> pd.DataFrame:
    """The all-program rounds that have a cutoff: ``reference_round``, ``reference_date``,
    ``reference_cutoff``, in date order.

    >>> reference_rounds(_example_draws())["reference_round"].tolist()
    ['250', '253']
    """
    require_columns(draws, _NEEDED, "reference_rounds")
    return (
        draws[draws["is_all_program"].astype(bool) & draws["cutoff"].notna()]
        .sort_values("date", kind="stable")
        .loc[:, ["round", "date", "cutoff"]]
        .rename(
            columns={
                "round": "reference_round",
                "date": "reference_date",
                "cutoff": "reference_cutoff",
            }
        )
        .reset_index(drop=True)
    )


def window_baseline(
    draws: pd.DataFrame,
    days: int = WINDOW_DAYS,
    families: str | Iterable[str] | None = None,
    since=None,
    look: str = "both",
) -> pd.DataFrame:
    """Per category round: the all-program rounds within +/- ``days`` (inclusive) of its date,
    or with ``look="before"`` only those from ``days`` before it up to its own day (a value
    that later rounds cannot change).

    Columns: the round's own (``ROUND_COLUMNS``), ``n_reference``, ``reference_rounds``
    (``'250, 253'``), ``baseline_cutoff`` (their mean), ``baseline_min``, ``baseline_max``,
    ``gap`` (cutoff - mean) and a readable ``detail``.

    >>> window = window_baseline(_example_draws(), days=30)
    >>> window[["round", "n_reference", "baseline_cutoff", "gap"]]
      round  n_reference  baseline_cutoff   gap
    0   254            2            498.5 -12.5
    >>> window.loc[0, "detail"]
    '2 all-program rounds within 30 days'
    >>> window_baseline(_example_draws(), look="before").loc[0, "detail"]
    '2 all-program rounds in the 30 days before'
    """
    if days < 0:
        raise ValueError(f"window_baseline: days must be 0 or more, not {days}")
    if look not in WINDOW_LOOKS:
        raise ValueError(f"window_baseline: look={look!r}; choose one of {WINDOW_LOOKS}")
    targets = category_rounds(draws, families, since).loc[:, ROUND_COLUMNS]
    after = pd.Timedelta(days=days if look == "both" else 0)
    matches = (
        targets.loc[:, ["date"]]
        .reset_index(names="_target")
        .merge(reference_rounds(draws), how="cross")
        .loc[
            lambda t: (
                (t["reference_date"] >= t["date"] - pd.Timedelta(days=days))
                & (t["reference_date"] <= t["date"] + after)
            )
        ]
    )
    span = f"within {days} days" if look == "both" else f"in the {days} days before"
    stats = matches.groupby("_target").agg(
        n_reference=("reference_cutoff", "size"),
        reference_rounds=("reference_round", lambda rounds: ", ".join(rounds)),
        baseline_cutoff=("reference_cutoff", "mean"),
        baseline_min=("reference_cutoff", "min"),
        baseline_max=("reference_cutoff", "max"),
    )
    return (
        targets.join(stats)
        .assign(
            n_reference=lambda t: t["n_reference"].fillna(0).astype("Int64"),
            reference_rounds=lambda t: t["reference_rounds"].astype("string"),
            baseline_cutoff=lambda t: t["baseline_cutoff"].astype("Float64"),
            baseline_min=lambda t: t["baseline_min"].astype("Int64"),
            baseline_max=lambda t: t["baseline_max"].astype("Int64"),
        )
        .assign(
            gap=lambda t: t["cutoff"].astype("Float64") - t["baseline_cutoff"],
            detail=lambda t: pd.array(
                [
                    f"{plural(int(n), 'all-program round')} {span}"
                    if n
                    else f"no all-program round {span}"
                    for n in t["n_reference"]
                ],
                dtype="string",
            ),
        )
    )


def latest_baseline(
    draws: pd.DataFrame,
    include_same_day: bool = False,
    families: str | Iterable[str] | None = None,
    since=None,
) -> pd.DataFrame:
    """Per category round: the latest all-program round dated before it (or on the same day
    with ``include_same_day=True``; among same-day rounds the last one in feed order).

    Columns: the round's own, ``reference_round``, ``reference_date``, ``baseline_cutoff``,
    ``age_days`` (days between the two), ``gap`` and ``detail``
    (``'round 253 on 2023-07-04, 1 day earlier'``). Null when there is none.

    >>> latest = latest_baseline(_example_draws())
    >>> latest[["round", "reference_round", "baseline_cutoff", "gap"]]
      round reference_round  baseline_cutoff  gap
    0   254             253              511  -25
    >>> latest.loc[0, "detail"]
    'round 253 on 2023-07-04, 1 day earlier'
    """
    targets = category_rounds(draws, families, since).loc[:, ROUND_COLUMNS]
    references = reference_rounds(draws)
    if targets.empty:
        matched = targets.assign(
            reference_round=pd.NA, reference_date=pd.NaT, reference_cutoff=pd.NA
        )
    else:
        matched = (
            pd.merge_asof(
                targets.reset_index(names="_target"),
                references.assign(date=references["reference_date"]),
                on="date",
                direction="backward",
                allow_exact_matches=include_same_day,
            )
            .set_index("_target")
            .rename_axis(None)
        )

    def describe(row) -> str:
        if pd.isna(row.reference_round):
            when = "on or before" if include_same_day else "before"
            return f"no all-program round {when} this one"
        age = int(row.age_days)
        ago = "the same day" if age == 0 else f"{plural(age, 'day')} earlier"
        return f"round {row.reference_round} on {row.reference_date:%Y-%m-%d}, {ago}"

    return (
        matched.loc[:, [*ROUND_COLUMNS, "reference_round", "reference_date", "reference_cutoff"]]
        .rename(columns={"reference_cutoff": "baseline_cutoff"})
        .astype(
            {
                "reference_round": "string",
                "reference_date": "datetime64[ns]",
                "baseline_cutoff": "Int64",
            }
        )
        .assign(
            age_days=lambda t: (t["date"] - t["reference_date"]).dt.days.astype("Int64"),
            gap=lambda t: (t["cutoff"] - t["baseline_cutoff"]).astype("Int64"),
        )
        .assign(
            detail=lambda t: pd.array([describe(row) for row in t.itertuples()], dtype="string")
        )
    )


def _default_estimator() -> Estimator:
    try:
        from analysis.pool.estimate import estimate_for_round  # lazy: optional (estimator=...)
    except ImportError as error:
        raise ImportError(
            "pool_baseline needs analysis.pool.estimate.estimate_for_round; pass estimator=... "
            "(or pool=None to compare_with_baselines) until that module exists"
        ) from error

    def with_honest_range(draws, pool, round_id, **options):
        """The estimate with the range the regime backtest measured (estimates from an earlier
        distribution, across rounds and days: how every post-2024 baseline is made)."""
        if options.get("method", "replay") == "replay":
            options.setdefault("error_range", regime_error_range(draws, pool))
            options.setdefault("bands", measured_error_bands(draws, pool))
        return estimate_for_round(draws, pool, round_id, **options)

    return with_honest_range


def pool_baseline(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    estimator: Estimator | None = None,
    families: str | Iterable[str] | None = None,
    method: str | None = None,
    since=None,
    latest_rounds: int | None = None,
) -> pd.DataFrame:
    """Per category round: the cutoff an all-program round of the same size would have needed
    that day, estimated from the pool distribution by ``estimator`` (default
    :func:`analysis.pool.estimate.estimate_for_round`, imported when needed; ``method`` is passed on
    to it when given).

    Columns: the round's own, ``distribution_date``, ``baseline_cutoff``, ``low``, ``high``,
    ``method``, ``gap``, ``detail`` (``'estimated from the pool of 2023-07-04'``: the
    distribution the estimate says it used, else the round's own), ``note`` (the estimate's
    ``note`` when it has one) and ``reason`` (why there is no estimate: the round has no
    published distribution of its own, that distribution is not in ``pool``, or the
    estimator's ``ValueError`` message, or the round is older than the ``latest_rounds`` latest
    of its family, which alone are estimated when it is given; null when there is an estimate).

    >>> from types import SimpleNamespace
    >>> def flat_500(draws, pool, round_id, **options):
    ...     return SimpleNamespace(cutoff=500, low=495, high=505, method="flat")
    >>> pool = pd.DataFrame({"distribution_date": pd.to_datetime(["2023-07-04"])})
    >>> estimated = pool_baseline(_example_draws(), pool, estimator=flat_500)
    >>> estimated[["round", "baseline_cutoff", "low", "high", "gap"]]
      round  baseline_cutoff    low   high  gap
    0   254              500  495.0  505.0  -14
    >>> estimated.loc[0, "detail"]
    'estimated from the pool of 2023-07-04'
    """
    require_columns(draws, [*_NEEDED, "distribution_date"], "pool_baseline")
    require_columns(pool, ["distribution_date"], "pool_baseline", table="pool")
    targets = category_rounds(draws, families, since).loc[:, [*ROUND_COLUMNS, "distribution_date"]]
    # newest first within each family: 0 for the latest round
    recency = targets.groupby("family", sort=False).cumcount(ascending=False)
    too_old = (
        recency >= latest_rounds if latest_rounds is not None else pd.Series(False, targets.index)
    )
    published = set(pd.to_datetime(pool["distribution_date"]).dropna().unique())
    options = {} if method is None else {"method": method}
    estimate = None  # resolved lazily: rounds without a distribution never need it

    def one(row) -> dict:
        nonlocal estimate
        if too_old[row.Index]:
            return {"reason": f"not estimated: older than the latest {latest_rounds} rounds"}
        if pd.isna(row.distribution_date):
            return {"reason": "no pool distribution published for this round"}
        when = f"{row.distribution_date:%Y-%m-%d}"
        if row.distribution_date not in published:
            return {"reason": f"the pool distribution of {when} is not in the pool table"}
        estimate = estimate or (estimator if estimator is not None else _default_estimator())
        try:
            result = estimate(draws, pool, row.round, **options)
        except ValueError as error:
            return {"reason": f"no estimate from the pool of {when}: {error}"}
        used = getattr(result, "distribution_date", None)
        used = when if used is None or pd.isna(used) else f"{pd.Timestamp(used):%Y-%m-%d}"
        return {
            "baseline_cutoff": result.cutoff,
            "low": result.low,
            "high": result.high,
            "method": result.method,
            "detail": f"estimated from the pool of {used}",
            "note": getattr(result, "note", "") or pd.NA,
        }

    found = pd.DataFrame(
        [one(row) for row in targets.itertuples()],
        index=targets.index,
        columns=["baseline_cutoff", "low", "high", "method", "detail", "note", "reason"],
    )
    return (
        targets.join(found)
        .astype(
            {
                "baseline_cutoff": "Int64",
                "low": "Float64",
                "high": "Float64",
                "method": "string",
                "note": "string",
                "reason": "string",
            }
        )
        .assign(
            gap=lambda t: (t["cutoff"] - t["baseline_cutoff"]).astype("Int64"),
            detail=lambda t: t["detail"].astype("string").fillna(t["reason"]),
        )
        .loc[
            :,
            [
                *ROUND_COLUMNS,
                "distribution_date",
                "baseline_cutoff",
                "low",
                "high",
                "method",
                "gap",
                "detail",
                "note",
                "reason",
            ],
        ]
    )


def compare_with_baselines(
    draws: pd.DataFrame,
    pool: pd.DataFrame | None,
    families: str | Iterable[str] | None = FOCUS_FAMILIES,
    window_days: int = WINDOW_DAYS,
    estimator: Estimator | None = None,
    include_same_day: bool = False,
    since=None,
    baselines: Iterable[str] = BASELINES,
    window_look: str = REPORT_WINDOW_LOOK,
    pool_rounds: int | None = None,
) -> pd.DataFrame:
    """All three baselines for each category round, in long form: one row per (round, baseline).

    ``families=None`` takes every category family; ``since`` compares only the category rounds
    dated on or after it (earlier rounds still serve as references and pool history).
    ``baselines`` chooses which of ``window``, ``latest`` and ``pool`` to compute;
    ``pool=None`` leaves out the pool baseline. ``window_look`` is the window's ``look``
    (:func:`window_baseline`): by default :data:`REPORT_WINDOW_LOOK`, the reports' ``"before"``,
    so an analyst's gaps are the reports' (``"both"`` also takes the rounds after it).
    ``pool_rounds`` estimates the pool baseline for only that many latest rounds of each family
    (:func:`pool_baseline`).
    Per baseline, ``baseline_cutoff``, ``low``/``high`` and ``n_reference`` mean:

    - window: the mean cutoff of the all-program rounds within ``window_days``; their min and
      max; how many there were;
    - latest: the latest earlier all-program round's cutoff; no interval; 1 (or 0 if none);
    - pool: the estimate and its interval; ``n_reference`` null (no rounds are used).

    >>> long = compare_with_baselines(_example_draws(), pool=None)
    >>> long[["round", "baseline", "baseline_cutoff", "gap", "low", "high", "n_reference"]]
      round baseline  baseline_cutoff   gap    low   high  n_reference
    0   254   window            498.5 -12.5  486.0  511.0            2
    1   254   latest            511.0 -25.0   <NA>   <NA>            1
    """
    wanted = set(baselines)
    unknown = wanted - set(BASELINES)
    if unknown:
        raise ValueError(f"unknown baseline(s) {sorted(unknown)}; known: {', '.join(BASELINES)}")
    parts = []
    if "window" in wanted:
        parts.append(
            window_baseline(
                draws, days=window_days, families=families, since=since, look=window_look
            ).assign(
                baseline="window", low=lambda t: t["baseline_min"], high=lambda t: t["baseline_max"]
            )
        )
    if "latest" in wanted:
        parts.append(
            latest_baseline(
                draws, include_same_day=include_same_day, families=families, since=since
            ).assign(
                baseline="latest",
                low=pd.NA,
                high=pd.NA,
                n_reference=lambda t: t["reference_round"].notna().astype("Int64"),
            )
        )
    if "pool" in wanted and pool is not None:
        parts.append(
            pool_baseline(
                draws,
                pool,
                estimator=estimator,
                families=families,
                since=since,
                latest_rounds=pool_rounds,
            ).assign(baseline="pool", n_reference=pd.NA)
        )
    order = {name: i for i, name in enumerate(BASELINES)}
    return (
        pd.concat(
            [
                part.reset_index(names="_target")
                .loc[:, ["_target", *LONG_COLUMNS]]
                .astype(
                    {
                        "baseline_cutoff": "Float64",
                        "gap": "Float64",
                        "low": "Float64",
                        "high": "Float64",
                        "n_reference": "Int64",
                        "baseline": "string",
                        "detail": "string",
                    }
                )
                for part in parts
            ],
            ignore_index=True,
        )
        .assign(_order=lambda t: t["baseline"].map(order))
        .sort_values(["_target", "_order"], kind="stable")
        .drop(columns=["_target", "_order"])
        .reset_index(drop=True)
    )


def gaps_wide(long: pd.DataFrame) -> pd.DataFrame:
    """:func:`compare_with_baselines`' long table, one row per category round: its date, family,
    invitations and cutoff, then ``baseline_<kind>`` and ``gap_<kind>`` for each baseline
    present, newest round first.

    >>> wide = gaps_wide(compare_with_baselines(_example_draws(), pool=None))
    >>> wide[["round", "cutoff", "baseline_window", "gap_window", "baseline_latest", "gap_latest"]]
      round  cutoff  baseline_window  gap_window  baseline_latest  gap_latest
    0   254     486            498.5       -12.5            511.0       -25.0
    """
    rounds = long.drop_duplicates("round").set_index("round")[
        ["date", "family", "invitations", "cutoff"]
    ]
    kinds = [k for k in BASELINES if k in set(long["baseline"])]
    values = long.pivot(index="round", columns="baseline", values=["baseline_cutoff", "gap"])
    columns = [(what, kind) for kind in kinds for what in ("baseline_cutoff", "gap")]
    values = values.reindex(columns=columns).astype("Float64")
    values.columns = [
        f"{'baseline' if what == 'baseline_cutoff' else 'gap'}_{kind}" for what, kind in columns
    ]
    return (
        rounds.join(values)
        .reset_index()
        .sort_values("date", ascending=False, kind="stable")
        .reset_index(drop=True)
    )


def _example_draws() -> pd.DataFrame:
    """Real rounds of June-July 2023 for the docstring examples (three columns trimmed)."""
    return pd.DataFrame(
        {
            "round": pd.array(["250", "253", "254"], dtype="string"),
            "date": pd.to_datetime(["2023-06-08", "2023-07-04", "2023-07-05"]),
            "family": pd.array([ALL_PROGRAM, ALL_PROGRAM, "stem"], dtype="string"),
            "label": pd.array(["All-program", "All-program", "STEM"], dtype="string"),
            "version": pd.array([None, None, 1], dtype="Int64"),
            "invitations": pd.array([4800, 700, 500], dtype="Int64"),
            "cutoff": pd.array([486, 511, 486], dtype="Int64"),
            "is_all_program": [True, True, False],
            "is_category": [False, False, True],
            "distribution_date": pd.to_datetime(["2023-06-08", "2023-07-04", "2023-07-04"]),
        }
    )
