"""Verdicts: what the reports say about each category, with intervals that allow for
autocorrelation (:func:`category_verdict`, :func:`verdicts`, :func:`verdict_table`).

While all-program rounds are held, a category's rounds are compared with them over the period
both exist; once they have stopped (:func:`comparison_kind`, :func:`overlap_end`), each category
round is paired with the pool estimate of an all-program round of its size. Means come with a
standard error that allows for autocorrelation (:func:`mean_with_autocorrelation`), and a
pool comparison's range also allows for the estimate's own error (:func:`combined_range`); below
:data:`MIN_ROUNDS` rounds there is no number, only "too few rounds to compare".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis import baselines
from analysis.pool.regime import RANGE_COVERAGE
from analysis.stats.compare import rank_check, smallest_rank_p
from analysis.stats.series import (
    check_draws,
    family_label,
    family_rounds,
    mean_with_autocorrelation,
    to_timestamp,
    trend_per_year,
    trend_words,
)
from analysis.taxonomy import ALL_PROGRAM, CATEGORY_START
from analysis.vocabulary import month_label, plural, signed_points, whole_points

#: Below this many rounds (in either group), no test, interval or regression is shown: the
#: verdict is "too few rounds to compare", with n.
MIN_ROUNDS = 5
#: When the latest all-program round is older than this at the as-of date, the two groups no
#: longer overlap and a category's rounds are compared with the pool estimate instead.
OVERLAP_GAP_DAYS = 60
LABELS = ("below", "above", "no clear difference", "too few rounds", "size")
#: The level of a verdict's intervals (its mean gap, its change per year, a difference of
#: means): what share of simulated series like the cutoffs they held the truth in
#: (tests/test_verdicts.py; the README quotes the figures).
LEVEL = 0.95
#: A pool verdict pairs at most this many of the family's latest rounds with the pool estimate,
#: so a month's report costs the same whatever the length of the history.
VERDICT_ROUNDS = 60
KINDS = (ALL_PROGRAM, "pool")


@dataclass(frozen=True)
class Verdict:
    """How one family's cutoffs compare, in numbers and in words (see :func:`category_verdict`).

    ``kind``: ``"all_program"`` (category against all-program rounds over the period both
    exist) or ``"pool"`` (paired, round by round, against the pool estimate of an all-program
    round of the same size, after all-program rounds stopped). ``n``: the family's rounds;
    ``n_effective``: what they are worth once autocorrelation is allowed for. ``estimate``:
    the mean gap (family minus baseline, CRS points) with its ``level`` interval ``low`` to
    ``high`` (``None`` with too few rounds). ``label``: one of :data:`LABELS`; ``words``: the
    label as a reader reads it; ``sentence``: one plain sentence with the numbers.
    ``n_reference``/``n_reference_effective``: the all-program rounds (``all_program`` kind).
    ``since``/``until``: the dates of the rounds compared. ``rank_p``/``rank_smallest_p``:
    the order-only check (``all_program`` kind) and the smallest p its sample sizes allow.
    ``slope``/``slope_low``/``slope_high``: the gap's change per year (``pool`` kind) with its
    ``level`` interval (:func:`trend_per_year`). ``error_low``/``error_high``: how far the pool
    estimate's own error moves the gap (the mean over the rounds of the baseline's range, from
    the regime backtest's misses), already combined into ``low``/``high``
    (:func:`combined_range`, ``pool`` kind: there a ``level`` range, :func:`range_words`).
    ``n_since_start``: the family's rounds since category rounds began (June 2023), whatever
    was compared.
    """

    family: str
    kind: str
    n: int
    n_effective: float | None
    estimate: float | None
    low: float | None
    high: float | None
    level: float
    label: str
    words: str
    sentence: str
    family_label: str = ""
    n_reference: int | None = None
    n_reference_effective: float | None = None
    since: pd.Timestamp | None = None
    until: pd.Timestamp | None = None
    rank_p: float | None = None
    rank_smallest_p: float | None = None
    method: str = ""
    slope: float | None = None
    slope_low: float | None = None
    slope_high: float | None = None
    error_low: float | None = None
    error_high: float | None = None
    n_since_start: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain values for ``summary.json`` (dates as ``YYYY-MM-DD``, numbers rounded).

        >>> v = Verdict("stem", "pool", 2, None, None, None, None, 0.95, "too few rounds",
        ...             "too few rounds to compare (n = 2)", "...")
        >>> v.to_dict()["words"]
        'too few rounds to compare (n = 2)'
        """
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if isinstance(value, pd.Timestamp):
                value = f"{value:%Y-%m-%d}"
            elif isinstance(value, float):
                value = round(value, 4 if key.startswith("rank") else 2)
            out[key] = value
        return out


def comparison_kind(draws: pd.DataFrame, as_of: Any) -> tuple[str, pd.Timestamp | None]:
    """Which comparison matters on ``as_of``, and the last all-program round's date: against
    all-program rounds while they still happen (the latest at most :data:`OVERLAP_GAP_DAYS`
    before ``as_of``), against the pool estimate once they have stopped.

    >>> draws = pd.DataFrame({"date": pd.to_datetime(["2023-07-04", "2024-04-23"]),
    ...                       "family": ["all_program"] * 2, "cutoff": [511, 529]})
    >>> comparison_kind(draws, "2023-07-31")[0], comparison_kind(draws, "2026-03-31")[0]
    ('all_program', 'pool')
    """
    end = to_timestamp(as_of, "as_of")
    rounds = family_rounds(draws, ALL_PROGRAM, until=end)
    if rounds.empty:
        return ALL_PROGRAM, None
    last = pd.Timestamp(rounds["date"].max())
    kind = ALL_PROGRAM if (end - last).days <= OVERLAP_GAP_DAYS else "pool"
    return kind, last


def _label_of(low: float, high: float) -> tuple[str, str]:
    if high < 0:
        return "below", "clearly below"
    if low > 0:
        return "above", "clearly above"
    return "no clear difference", "consistent with no difference"


def _interval_words(low: float, high: float, level: float) -> str:
    """``95% interval −45 to −31``: the ends written as every page writes a gap."""
    return f"{level:.0%} interval {signed_points(low)} to {signed_points(high)}"


def range_words(level: float = LEVEL) -> str:
    """What a pool verdict calls the range of its mean gap on every page: ``95% range``."""
    return f"{level:.0%} range"


def combined_range(
    mean: float, half_width: float, error_low: float, error_high: float, level: float = LEVEL
) -> tuple[float, float]:
    """The ``level`` range of a mean gap to the pool estimate: the mean's own interval
    (``mean`` +- ``half_width``, :func:`mean_with_autocorrelation`) combined with how far the
    estimate's own error moves it (``error_low`` .. ``error_high``: the mean over the rounds
    of each baseline's range, ``baseline - high`` .. ``baseline - low``), each end as a sum of
    variances. A baseline's range is made to hold :data:`~analysis.pool.regime.RANGE_COVERAGE`
    of the regime backtest's misses; it is first widened to ``level`` as for a normal error
    (80% to 95%: by 1.96 / 1.28). The misses may lean one way (all the rounds then share
    one, which no number of rounds averages out), so it is added whole; if they do not, the
    rounds' scatter already holds them and the range is wider than needed. A 95% range held the
    true mean gap in 97% of simulated series of 10-20 rounds with the regime backtest's misses
    shared, 97-99.5% with them independent (tests/test_verdicts.py); the two ends added whole
    (before): 97-98% and 98-100%, 14-18% wider. Chosen after seeing those simulations.

    >>> [round(v, 1) for v in combined_range(-59.0, 12.0, -4.0, 4.0)]
    [-72.5, -45.5]
    >>> combined_range(-59.0, 12.0, 0.0, 0.0)      # no error known: the mean's interval
    (-71.0, -47.0)
    """
    from scipy import stats as scipy_stats  # lazy: statistics libraries load only when used

    scale = scipy_stats.norm.ppf(0.5 + level / 2) / scipy_stats.norm.ppf(0.5 + RANGE_COVERAGE / 2)
    low = mean - math.hypot(half_width, scale * min(error_low, 0.0))
    high = mean + math.hypot(half_width, scale * max(error_high, 0.0))
    return float(low), float(high)


def _independent(n_effective: float) -> str:
    """What a series is worth, as the statistics table writes it: the effective sample to one
    decimal (as :class:`Verdict` keeps it), then in whole rounds (:func:`whole_points`)."""
    return f"about {plural(max(1, whole_points(round(n_effective, 1))), 'independent round')}"


def _month(stamp: pd.Timestamp) -> str:
    return month_label(stamp)


#: The fields of a verdict that gives no mean gap (too few rounds, or the order-only test).
NO_ESTIMATE = {"n_effective": None, "estimate": None, "low": None, "high": None}


def _few(family: str, kind: str, label: str, n: int, level: float, **extra) -> Verdict:
    words = f"too few rounds to compare (n = {n})"
    against = "all-program rounds" if kind == ALL_PROGRAM else "the pool estimate"
    since = extra.get("since")
    if kind == "pool" and since is not None:
        against += f" (rounds since {_month(since)}, when all-program rounds stopped)"
    return Verdict(
        family=family,
        kind=kind,
        n=n,
        **NO_ESTIMATE,
        level=level,
        label="too few rounds",
        words=words,
        sentence=f"{label} against {against}: {words}.",
        family_label=label,
        **extra,
    )


def _pool_verdict(
    comparisons: pd.DataFrame,
    family: str,
    label: str,
    end: pd.Timestamp,
    last_all_program: pd.Timestamp | None,
    level: float,
    min_rounds: int,
    max_rounds: int | None = VERDICT_ROUNDS,
    available: int | None = None,
    n_since_start: int | None = None,
) -> Verdict:
    needed = {"round", "date", "family", "baseline", "gap"}
    missing = needed - set(comparisons.columns)
    if missing:
        raise ValueError(
            f"comparisons has no column(s) {sorted(missing)}; pass the long table of "
            "baselines.compare_with_baselines"
        )
    rows = comparisons.loc[
        comparisons["family"].eq(family).fillna(False)
        & comparisons["baseline"].eq("pool").fillna(False)
        & comparisons["gap"].notna()
        & comparisons["date"].le(end)
    ]
    if last_all_program is not None:
        rows = rows.loc[rows["date"] > last_all_program]
    rows = rows.drop_duplicates("round").sort_values("date", kind="stable")
    if max_rounds is not None and len(rows) > max_rounds:
        rows = rows.tail(max_rounds)
    # every round since all-program rounds stopped, or only some (the table or the limit)?
    every_round = available is None or len(rows) >= available
    since = last_all_program
    extra = {
        "since": since,
        "until": rows["date"].max() if len(rows) else None,
        "method": "paired gaps to the pool estimate: the mean gap's size, with an interval "
        "allowing for autocorrelation and the estimate's own error, and its change per year",
        "n_since_start": n_since_start,
    }
    n = len(rows)
    if n < min_rounds:
        return _few(family, "pool", label, n, level, **extra)
    gaps = rows["gap"].astype("float64").to_numpy()
    mean = mean_with_autocorrelation(gaps)
    from scipy import stats as scipy_stats  # lazy: statistics libraries load only when used

    t = scipy_stats.t.ppf(0.5 + level / 2, df=max(mean.n_effective - 1, 1))
    error_low = error_high = 0.0
    known = {"baseline_cutoff", "low", "high"} <= set(rows.columns) and bool(
        rows[["low", "high"]].notna().all(axis=None)
    )
    if known:
        baseline = rows["baseline_cutoff"].astype("float64")
        error_low = float((baseline - rows["high"].astype("float64")).mean())
        error_high = float((baseline - rows["low"].astype("float64")).mean())
    low, high = combined_range(mean.mean, t * mean.se, error_low, error_high, level)
    trend = trend_per_year(rows["date"], gaps, level) if rows["date"].nunique() >= 3 else None
    where = "below" if mean.mean < 0 else "above"
    size = whole_points(abs(mean.mean))
    if every_round:
        opening = f"Over {n} rounds" + (f" since {_month(since)}" if since is not None else "")
    else:
        first, final = rows["date"].min(), rows["date"].max()
        opening = (
            f"Over {n} of the {available} rounds since {_month(since)} "
            f"({_month(first)} to {_month(final)})"
            if since is not None
            else f"Over {n} rounds ({_month(first)} to {_month(final)})"
        )
    allowing = (
        f"allowing for the estimate's own error and for autocorrelation: "
        f"{_independent(mean.n_effective)}"
        if known
        else f"allowing for autocorrelation: {_independent(mean.n_effective)}; not for the "
        "estimate's own error, which these baselines do not give"
    )
    sentence = (
        f"{opening}, {label} cutoffs have been about {size} points {where} what an all-program "
        f"round of the same size would have needed ({range_words(level)} {signed_points(low)} "
        f"to {signed_points(high)}, {allowing}){trend_words(trend, mean.mean)}."
    )
    return Verdict(
        family=family,
        kind="pool",
        n=n,
        n_effective=round(mean.n_effective, 1),
        estimate=mean.mean,
        low=float(low),
        high=float(high),
        level=level,
        label="size",
        words=f"about {plural(size, 'point')} {where}",
        sentence=sentence,
        family_label=label,
        slope=None if trend is None else trend.slope,
        slope_low=None if trend is None else trend.low,
        slope_high=None if trend is None else trend.high,
        error_low=error_low if known else None,
        error_high=error_high if known else None,
        **extra,
    )


def _all_program_verdict(
    draws: pd.DataFrame,
    family: str,
    label: str,
    end: pd.Timestamp,
    level: float,
    min_rounds: int,
) -> Verdict:
    fam = family_rounds(draws, family, CATEGORY_START, end)
    ref = family_rounds(draws, ALL_PROGRAM, CATEGORY_START, end)
    if len(ref) and (end - ref["date"].max()).days > OVERLAP_GAP_DAYS:
        # all-program rounds stopped: only up to the month of the last one (both kinds exist)
        fam = fam.loc[fam["date"] <= ref["date"].max() + pd.offsets.MonthEnd(0)]
    if len(fam):
        ref = ref.loc[ref["date"] >= min(fam["date"].min(), pd.Timestamp(CATEGORY_START))]
    extra = {
        "n_reference": len(ref),
        "since": pd.Timestamp(CATEGORY_START),
        "until": max([*fam["date"], *ref["date"]]) if len(fam) or len(ref) else None,
        "method": "difference of means over the overlap; autocorrelation-aware standard errors",
    }
    n, m = len(fam), len(ref)
    extra["n_since_start"] = n
    if 2 <= n < min_rounds and m >= 2 and smallest_rank_p(n, m) < 1 - level:
        exact = _exact_rank_verdict(fam, ref, family, label, level, extra)
        if exact is not None:
            return exact
    if n < min_rounds or m < min_rounds:
        few = _few(family, ALL_PROGRAM, label, min(n, m) if m < min_rounds else n, level, **extra)
        if m < min_rounds <= n:
            return Verdict(
                **{
                    **few.__dict__,
                    "words": f"too few all-program rounds to compare (n = {m})",
                    "sentence": f"{label} against all-program rounds: too few all-program "
                    f"rounds to compare (n = {m}).",
                }
            )
        return few
    a, b = fam["cutoff"].to_numpy(), ref["cutoff"].to_numpy()
    fa, fb = mean_with_autocorrelation(a), mean_with_autocorrelation(b)
    difference = fa.mean - fb.mean
    from scipy import stats as scipy_stats  # lazy: statistics libraries load only when used

    se = math.sqrt(fa.se**2 + fb.se**2)
    if se == 0:
        low = high = difference
        df = 1.0
    else:  # Welch-Satterthwaite with the effective sample sizes
        df = se**4 / (fa.se**4 / max(fa.n_effective - 1, 1) + fb.se**4 / max(fb.n_effective - 1, 1))
        t = scipy_stats.t.ppf(0.5 + level / 2, df=df)
        low, high = difference - t * se, difference + t * se
    code, words = _label_of(low, high)
    rank = rank_check(a, b)
    where = "below" if difference < 0 else "above"
    sentence = (
        f"From {_month(pd.Timestamp(CATEGORY_START))} to {_month(extra['until'])}, {n} "
        f"{label} rounds had cutoffs {abs(difference):.0f} points {where} the {m} all-program "
        f"rounds on average ({_interval_words(low, high, level)}, allowing for "
        f"autocorrelation: {_independent(fa.n_effective)} and "
        f"{_independent(fb.n_effective).removeprefix('about ')}): {words}."
    )
    return Verdict(
        family=family,
        kind=ALL_PROGRAM,
        n=n,
        n_effective=round(fa.n_effective, 1),
        estimate=float(difference),
        low=float(low),
        high=float(high),
        level=level,
        label=code,
        words=words,
        sentence=sentence,
        family_label=label,
        n_reference_effective=round(fb.n_effective, 1),
        rank_p=rank["rank_p"],
        rank_smallest_p=smallest_rank_p(n, m),
        **extra,
    )


def _exact_rank_verdict(
    fam: pd.DataFrame, ref: pd.DataFrame, family: str, label: str, level: float, extra: dict
) -> Verdict | None:
    """Too few rounds for a mean with an interval, but perhaps enough for their order: the
    order-only test (Mann-Whitney U, exact or by permutation: :func:`rank_check`) of the
    family's cutoffs against the all-program rounds'. A verdict when its p-value is below
    ``1 - level`` (4 rounds each below all 20 all-program rounds: p = 0.0002), else None."""
    a, b = fam["cutoff"].to_numpy(dtype=float), ref["cutoff"].to_numpy(dtype=float)
    rank = rank_check(a, b)
    p = rank["rank_p"]
    if p is None or p >= 1 - level:
        return None
    n, m = len(a), len(b)
    lower = rank["prob_family_lower"]
    code = "below" if lower > 0.5 else "above"
    if lower in (0.0, 1.0):
        order = (
            f"each of the {n} {label} rounds had a cutoff {code} every one of the {m} "
            "all-program rounds"
        )
    else:
        share = lower if code == "below" else 1 - lower
        order = (
            f"the {n} {label} rounds' cutoffs were {code} the {m} all-program rounds' in "
            f"{share:.0%} of pairs"
        )
    sentence = (
        f"From {_month(pd.Timestamp(CATEGORY_START))} to {_month(extra['until'])}, {order} "
        f"(order-only test, exact: p = {p:.2g}; too few rounds for a mean with an interval, "
        "and the test takes the rounds as exchangeable): "
        f"clearly {code}."
    )
    return Verdict(
        family=family,
        kind=ALL_PROGRAM,
        n=n,
        **NO_ESTIMATE,
        level=level,
        label=code,
        words=f"clearly {code} (order-only test, p = {p:.2g})",
        sentence=sentence,
        family_label=label,
        rank_p=p,
        rank_smallest_p=smallest_rank_p(n, m),
        **{**extra, "method": "order-only test (Mann-Whitney U, exact) of the overlap's cutoffs"},
    )


def category_verdict(
    draws: pd.DataFrame,
    comparisons: pd.DataFrame | None,
    family: str,
    as_of: Any,
    *,
    level: float = LEVEL,
    min_rounds: int = MIN_ROUNDS,
    kind: str | None = None,
    max_rounds: int | None = VERDICT_ROUNDS,
) -> Verdict:
    """How ``family``'s cutoffs compare as of ``as_of``, the comparison chosen by the date
    (:func:`comparison_kind`, or ``kind``):

    - ``"all_program"``: while all-program rounds still happen, the family's rounds against
      them over the period both exist (from June 2023, up to the last all-program round and
      ``as_of``): the difference of means, each mean's standard error allowing for
      autocorrelation (:func:`mean_with_autocorrelation`), a Welch-Satterthwaite t interval on
      the effective sample sizes, and the order-only check with its smallest possible p;
    - ``"pool"``: after they stopped, the family's rounds since the last all-program round,
      paired round by round with the pool estimate of an all-program round of the same size
      (``comparisons``: the long table of :func:`analysis.baselines.compare_with_baselines`,
      covering those rounds): the mean gap with an autocorrelation-aware interval, over the
      latest ``max_rounds`` of them at most (:data:`VERDICT_ROUNDS`; ``None``: all).

    Fewer than ``min_rounds`` rounds (in either group): no number at all, the verdict is "too
    few rounds to compare (n = ...)". Rounds after ``as_of`` are never used.

    >>> draws = pd.DataFrame({"date": pd.to_datetime(["2023-07-04", "2023-07-05"]),
    ...                       "family": ["all_program", "stem"], "cutoff": [511, 486]})
    >>> category_verdict(draws, None, "stem", "2023-07-31").sentence
    'stem against all-program rounds: too few rounds to compare (n = 1).'
    """
    check_draws(draws, family)
    if family == ALL_PROGRAM:
        raise ValueError(f"{ALL_PROGRAM} is the baseline; pass a category family")
    if not 0 < level < 1:
        raise ValueError(f"level={level!r} must be between 0 and 1, e.g. 0.95")
    if min_rounds < 2:
        raise ValueError(f"min_rounds={min_rounds!r} must be at least 2")
    end = to_timestamp(as_of, "as_of")
    chosen, last = comparison_kind(draws, end)
    kind = kind or chosen
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {KINDS}")
    label = family_label(draws, family)
    if kind == ALL_PROGRAM:
        return _all_program_verdict(draws, family, label, end, level, min_rounds)
    if comparisons is None:
        raise ValueError(
            "a pool verdict needs comparisons (baselines.compare_with_baselines(...)) covering "
            f"the {family} rounds since the last all-program round"
        )
    since_last = family_rounds(draws, family, until=end)
    if last is not None:
        since_last = since_last.loc[since_last["date"] > last]
    started = family_rounds(draws, family, CATEGORY_START, end)
    return _pool_verdict(
        comparisons,
        family,
        label,
        end,
        last,
        level,
        min_rounds,
        max_rounds,
        len(since_last),
        n_since_start=len(started),
    )


def verdict_table(verdicts: list[Verdict]) -> pd.DataFrame:
    """Verdicts as a table, one row each (missing numbers are ``<NA>``).

    >>> draws = pd.DataFrame({"date": pd.to_datetime(["2023-07-04", "2023-07-05"]),
    ...                       "family": ["all_program", "stem"], "cutoff": [511, 486]})
    >>> verdict_table([category_verdict(draws, None, "stem", "2023-07-31")])["label"].tolist()
    ['too few rounds']
    """
    columns = list(Verdict.__dataclass_fields__)
    frame = pd.DataFrame([v.__dict__ for v in verdicts], columns=columns)
    floats = ["n_effective", "estimate", "low", "high", "n_reference_effective", "rank_p"]
    return frame.astype(
        {
            **dict.fromkeys(floats + ["rank_smallest_p"], "Float64"),
            "n": "int64",
            "n_reference": "Int64",
            "since": "datetime64[ns]",
            "until": "datetime64[ns]",
            **dict.fromkeys(
                ["family", "kind", "label", "words", "sentence", "family_label", "method"],
                "string",
            ),
        }
    )


def overlap_end(draws: pd.DataFrame, as_of: Any = None) -> pd.Timestamp | None:
    """The date of the last all-program round (up to ``as_of``): where comparisons with
    all-program rounds, and any trend fitted on them, must stop.

    >>> draws = pd.DataFrame({"date": pd.to_datetime(["2023-07-04", "2024-04-23"]),
    ...                       "family": [ALL_PROGRAM] * 2, "cutoff": [511, 529]})
    >>> overlap_end(draws).date()
    datetime.date(2024, 4, 23)
    """
    rounds = family_rounds(draws, ALL_PROGRAM, until=as_of)
    return None if rounds.empty else pd.Timestamp(rounds["date"].max())


def verdicts(
    draws: pd.DataFrame,
    pool: pd.DataFrame | None,
    families: Any,
    as_of: Any,
    estimator: Any = None,
) -> dict[str, Verdict]:
    """Each family's :func:`category_verdict` as of ``as_of``. For the pool comparison the pool
    estimates of every round since the last all-program round are made here
    (:func:`analysis.baselines.compare_with_baselines`; ``estimator`` as there). ``draws`` and
    ``pool`` should already be cut at ``as_of``.
    """

    families = [families] if isinstance(families, str) else list(families)
    kind, last = comparison_kind(draws, as_of)
    if kind == ALL_PROGRAM:
        return {f: category_verdict(draws, None, f, as_of) for f in families}
    if pool is None:
        raise ValueError("verdicts after all-program rounds stopped need the pool table")
    out = {}
    for family in families:
        # only the rounds the verdict pairs: since the last all-program round, the latest
        # VERDICT_ROUNDS of them (a report's cost does not grow with the history)
        rounds = family_rounds(draws, family, until=as_of)
        if last is not None:
            rounds = rounds.loc[rounds["date"] > last]
        since = rounds["date"].tail(VERDICT_ROUNDS).min() if len(rounds) else None
        comparisons = baselines.compare_with_baselines(
            draws,
            pool,
            families=[family],
            estimator=estimator,
            since=since if since is not None and pd.notna(since) else as_of,
            baselines=("pool",),
        )
        out[family] = category_verdict(draws, comparisons, family, as_of)
    return out
