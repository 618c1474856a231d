"""Category cutoffs against all-program cutoffs: how big is the gap, and how sure can we be?

Two tools, both on the ``draws`` table (one row per round; columns ``date``, ``family``,
``cutoff``, and optionally ``label`` for readable names):

- :func:`compare_cutoffs`: one family against a reference (all-program rounds by default) in a
  window of dates. Difference in mean cutoff with a Welch 95% confidence interval (statsmodels
  ``CompareMeans``, unequal variances), a rank-based check (Mann-Whitney U from scipy), and
  plain-English caveats: sample sizes, small samples, whether the two groups overlap in time,
  and what the interval means.
- :func:`cutoff_regression`: OLS with the statsmodels formula API,
  ``cutoff ~ C(family, Treatment('all_program')) + years``, with Newey-West (HAC) standard errors,
  so several families are compared with all-program rounds after allowing for a shared
  straight-line time trend.

Category-based selection began in June 2023, so the default window starts on 2023-06-01.
All-program rounds stopped in April 2024: comparisons that reach past that date compare
category rounds with all-program rounds from an earlier period, and the caveats say so.

Nothing here presents a missing value as a number: a family with too few rounds gets
``status == "not enough data"`` and ``None`` where a number would be.

The rank check is Mann-Whitney U rather than Brunner-Munzel: Brunner-Munzel's p-value relies on a
t approximation that scipy warns is unreliable below about 10 rounds per group, and STEM has 3.

>>> import pandas as pd
>>> draws = pd.DataFrame({
...     "date": pd.to_datetime(["2023-07-01", "2023-08-01", "2023-09-01", "2023-10-01",
...                             "2023-07-02", "2023-08-02", "2023-09-02", "2023-10-02"]),
...     "family": ["all_program"] * 4 + ["stem"] * 4,
...     "cutoff": [500, 510, 520, 530, 470, 480, 490, 500]})
>>> result = compare_cutoffs(draws, "stem")
>>> result.n_family, result.n_reference, result.difference
(4, 4, -30.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats as scipy_stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from analysis import taxonomy
from analysis.data import require_columns
from analysis.months import month_label
from analysis.taxonomy import ALL_PROGRAM, CATEGORY_START, FOCUS_FAMILIES, UNCLASSIFIED
from analysis.wording import plural, signed_points

#: Below this many rounds in a group, the caveats say the sample is too small to judge.
SMALL_SAMPLE = 5
NOT_ENOUGH = "not enough data"
REQUIRED_COLUMNS = ("date", "family", "cutoff")


# --------------------------------------------------------------------------------------------
# Selecting rounds
# --------------------------------------------------------------------------------------------


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


def _timestamp(value: Any, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}={value!r} is not a date") from error
    if pd.isna(stamp):
        raise ValueError(f"{name}={value!r} is not a date")
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def _window(since: Any, until: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    start, end = _timestamp(since, "since"), _timestamp(until, "until")
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
    start, end = _window(since, until)
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


def _label(draws: pd.DataFrame, family: str) -> str:
    """Readable name of a family (``label`` column when present), e.g. 'STEM'."""
    if "label" in draws.columns:
        labels = draws.loc[draws["family"].eq(family).fillna(False), "label"].dropna()
        if len(labels):
            return str(labels.iloc[-1])
    return family


def _date(stamp: pd.Timestamp | None) -> str:
    return "-" if stamp is None else stamp.strftime("%Y-%m-%d")


def _p(p: float | None) -> str:
    """'p = 0.015', 'p < 0.001' or 'p not available'."""
    if p is None:
        return "p not available"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _finite(x: Any) -> float | None:
    """A float, or None when the value is missing, NaN or infinite."""
    if x is None:
        return None
    value = float(x)
    return value if math.isfinite(value) else None


# --------------------------------------------------------------------------------------------
# Two-group comparison
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CutoffComparison:
    """Cutoffs of one family against a reference group of rounds in a window of dates.

    ``difference`` is family minus reference (negative: the family's cutoffs were lower).
    ``prob_family_lower`` is the share of (family round, reference round) pairs in which the
    family's cutoff was the lower one (ties count half). ``caveats`` are plain-English sentences.
    """

    family: str
    reference: str
    family_label: str
    reference_label: str
    since: pd.Timestamp | None
    until: pd.Timestamp | None
    status: str
    reason: str | None
    n_family: int
    n_reference: int
    family_first: pd.Timestamp | None
    family_last: pd.Timestamp | None
    reference_first: pd.Timestamp | None
    reference_last: pd.Timestamp | None
    mean_family: float | None
    mean_reference: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    welch_p: float | None
    welch_df: float | None
    rank_test: str
    rank_p: float | None
    prob_family_lower: float | None
    caveats: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One-row table of the comparison (missing numbers are ``<NA>``, never NaN).

        >>> draws = pd.DataFrame({"date": pd.to_datetime(["2023-07-01", "2023-08-01"]),
        ...                       "family": ["all_program", "stem"], "cutoff": [500, 480]})
        >>> compare_cutoffs(draws, "stem").to_frame()[["n_family", "difference", "status"]]
           n_family  difference           status
        0         1        <NA>  not enough data
        """
        row = {
            "family": self.family,
            "reference": self.reference,
            "since": self.since,
            "until": self.until,
            "n_family": self.n_family,
            "n_reference": self.n_reference,
            "mean_family": self.mean_family,
            "mean_reference": self.mean_reference,
            "difference": self.difference,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "welch_p": self.welch_p,
            "rank_test": self.rank_test,
            "rank_p": self.rank_p,
            "prob_family_lower": self.prob_family_lower,
            "family_first": self.family_first,
            "family_last": self.family_last,
            "reference_first": self.reference_first,
            "reference_last": self.reference_last,
            "status": self.status,
            "reason": self.reason,
        }
        floats = [
            "mean_family",
            "mean_reference",
            "difference",
            "ci_low",
            "ci_high",
            "welch_p",
            "rank_p",
            "prob_family_lower",
        ]
        dates = [
            "since",
            "until",
            "family_first",
            "family_last",
            "reference_first",
            "reference_last",
        ]
        return pd.DataFrame([row]).astype(
            {
                "family": "string",
                "reference": "string",
                "n_family": "int64",
                "n_reference": "int64",
                "status": "string",
                "reason": "string",
                "rank_test": "string",
                **dict.fromkeys(floats, "Float64"),
                **dict.fromkeys(dates, "datetime64[ns]"),
            }
        )

    def summary(self) -> str:
        """The comparison in a few plain sentences, caveats included.

        >>> draws = pd.DataFrame({"date": pd.to_datetime(["2023-07-01", "2023-08-01"]),
        ...                       "family": ["all_program", "stem"], "cutoff": [500, 480]})
        >>> print(compare_cutoffs(draws, "stem").summary().splitlines()[0])  # doctest: +ELLIPSIS
        stem vs all_program since 2023-06-01: not enough data (only 1 round of stem ...
        """
        window = f"since {_date(self.since)}" + (
            f" until {_date(self.until)}" if self.until is not None else ""
        )
        head = f"{self.family_label} vs {self.reference_label} {window}"
        lines = []
        if self.status != "ok":
            lines.append(f"{head}: {self.status} ({self.reason}).")
        else:
            direction = "lower" if self.difference < 0 else "higher"
            lines.append(
                f"{head}: the average {self.family_label} cutoff was "
                f"{abs(self.difference):.1f} points {direction} "
                f"({self.mean_family:.1f} over {plural(self.n_family, 'round')} vs "
                f"{self.mean_reference:.1f} over {plural(self.n_reference, 'round')})."
            )
        lines.extend(f"- {caveat}" for caveat in self.caveats)
        return "\n".join(lines)


def _welch(a: np.ndarray, b: np.ndarray, confidence: float) -> dict[str, float | None]:
    """Welch difference of means (a - b), interval, p-value and degrees of freedom."""
    compare = CompareMeans(DescrStatsW(a), DescrStatsW(b))
    low, high = compare.tconfint_diff(alpha=1 - confidence, usevar="unequal")
    _t, p, df = compare.ttest_ind(usevar="unequal")
    return {
        "ci_low": _finite(low),
        "ci_high": _finite(high),
        "welch_p": _finite(p),
        "welch_df": _finite(df),
    }


def _rank(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Mann-Whitney U, two-sided, and the share of pairs where ``a`` is lower (ties half).

    With ties and a small group (under 10 rounds) the p-value comes from a permutation test, as
    scipy recommends (its exact method ignores ties); it is exact when there are at most 20,000
    ways to split the rounds and otherwise uses 20,000 random splits with a fixed seed.
    """
    ties = len(np.unique(np.concatenate([a, b]))) < len(a) + len(b)
    method: Any = "auto"
    name = "Mann-Whitney U"
    if ties and min(len(a), len(b)) < 10:
        method = scipy_stats.PermutationMethod(n_resamples=20_000, rng=np.random.default_rng(0))
        name = "Mann-Whitney U, permutation p-value"
    result = scipy_stats.mannwhitneyu(a, b, alternative="two-sided", method=method)
    # U counts pairs where a > b (ties half); the share where a is lower is the complement.
    return {
        "rank_test": name,
        "rank_p": _finite(result.pvalue),
        "prob_family_lower": _finite(1 - result.statistic / (len(a) * len(b))),
    }


def compare_cutoffs(
    draws: pd.DataFrame,
    family: str,
    reference: str = ALL_PROGRAM,
    since: Any = CATEGORY_START,
    until: Any = None,
    confidence: float = 0.95,
) -> CutoffComparison:
    """Compare one family's cutoffs with a reference family's in ``[since, until]``.

    Welch's difference in means (statsmodels ``CompareMeans``, ``usevar='unequal'``) with its
    ``confidence`` interval and p-value, plus a Mann-Whitney U rank check. Each group needs at
    least 2 rounds with a cutoff and some spread in its cutoffs; otherwise the result has
    ``status == "not enough data"``, the reason, and ``None`` for everything it cannot say.

    >>> draws = pd.DataFrame({
    ...     "date": pd.to_datetime(["2023-07-01", "2023-08-01", "2023-09-01",
    ...                             "2023-07-02", "2023-08-02", "2023-09-02"]),
    ...     "family": ["all_program"] * 3 + ["stem"] * 3,
    ...     "cutoff": [500, 510, 520, 480, 490, 500]})
    >>> r = compare_cutoffs(draws, "stem")
    >>> r.difference, r.ci_low < -20 < r.ci_high, r.status
    (-20.0, True, 'ok')
    """
    check_draws(draws, family, reference)
    if family == reference:
        raise ValueError(f"family and reference are both {family!r}; compare two different ones")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence={confidence!r} must be between 0 and 1, e.g. 0.95")
    start, end = _window(since, until)
    fam = family_rounds(draws, family, start, end)
    ref = family_rounds(draws, reference, start, end)
    a, b = fam["cutoff"].to_numpy(), ref["cutoff"].to_numpy()
    fam_label, ref_label = _label(draws, family), _label(draws, reference)

    base: dict[str, Any] = {
        "family": family,
        "reference": reference,
        "family_label": fam_label,
        "reference_label": ref_label,
        "since": start,
        "until": end,
        "n_family": len(a),
        "n_reference": len(b),
        "family_first": fam["date"].min() if len(a) else None,
        "family_last": fam["date"].max() if len(a) else None,
        "reference_first": ref["date"].min() if len(b) else None,
        "reference_last": ref["date"].max() if len(b) else None,
        "mean_family": float(a.mean()) if len(a) else None,
        "mean_reference": float(b.mean()) if len(b) else None,
        "difference": None,
        "ci_low": None,
        "ci_high": None,
        "confidence": confidence,
        "welch_p": None,
        "welch_df": None,
        "rank_test": "Mann-Whitney U",
        "rank_p": None,
        "prob_family_lower": None,
    }

    short = [(label, n) for label, n in ((fam_label, len(a)), (ref_label, len(b))) if n < 2]
    if short:
        reason = (
            "; ".join(
                f"only {plural(n, 'round')} of {label} with a cutoff" if n else f"no {label} rounds"
                for label, n in short
            )
            + " in the window; at least 2 per group are needed"
        )
        caveats = (_sizes_sentence(base), _window_sentence(start, end))
        return CutoffComparison(**base, status=NOT_ENOUGH, reason=reason, caveats=caveats)

    base["difference"] = float(a.mean() - b.mean())
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        reason = (
            "every round in both groups had the same cutoff, so there is no spread to build an "
            "interval from"
        )
        caveats = (_sizes_sentence(base), _window_sentence(start, end))
        return CutoffComparison(**base, status=NOT_ENOUGH, reason=reason, caveats=caveats)

    base |= _welch(a, b, confidence) | _rank(a, b)
    caveats = _comparison_caveats(base, fam, ref)
    return CutoffComparison(**base, status="ok", reason=None, caveats=caveats)


def _sizes_sentence(r: dict[str, Any]) -> str:
    def one(label: str, n: int, first: Any, last: Any) -> str:
        if n == 0:
            return f"{label}: no rounds"
        span = _date(first) if n == 1 else f"{_date(first)} to {_date(last)}"
        return f"{label}: {plural(n, 'round')} ({span})"

    return (
        "Rounds compared: "
        + one(r["family_label"], r["n_family"], r["family_first"], r["family_last"])
        + "; "
        + one(r["reference_label"], r["n_reference"], r["reference_first"], r["reference_last"])
        + "."
    )


def _window_sentence(start: pd.Timestamp | None, end: pd.Timestamp | None) -> str:
    if start is None and end is None:
        return "Window: every round in the data."
    if end is None:
        return f"Window: rounds from {_date(start)} on."
    if start is None:
        return f"Window: rounds up to {_date(end)}."
    return f"Window: rounds from {_date(start)} to {_date(end)}."


def _overlap_sentence(
    label: str, ref_label: str, family_dates: pd.Series, ref_dates: pd.Series
) -> str | None:
    """Say how many of the family's rounds fall outside the reference's span of dates."""
    ref_first, ref_last = ref_dates.min(), ref_dates.max()
    after = int(family_dates.gt(ref_last).sum())
    before = int(family_dates.lt(ref_first).sum())
    n = len(family_dates)
    if not after and not before:
        return None
    parts = []
    if after:
        parts.append(
            f"The last {ref_label} round in this window was on {_date(ref_last)}, and {after} of "
            f"the {n} {label} rounds came after it."
        )
    if before:
        parts.append(f"{before} of the {n} {label} rounds came before the first {ref_label} round.")
    parts.append(
        "The two groups cover different periods, so part of the difference may be change over "
        "time rather than the category itself."
    )
    return " ".join(parts)


def _comparison_caveats(r: dict[str, Any], fam: pd.DataFrame, ref: pd.DataFrame) -> tuple[str, ...]:
    label, ref_label = r["family_label"], r["reference_label"]
    n_f, n_r = r["n_family"], r["n_reference"]
    pct = round(r["confidence"] * 100)
    caveats = [_sizes_sentence(r), _window_sentence(r["since"], r["until"])]
    for group, n in ((label, n_f), (ref_label, n_r)):
        if n < SMALL_SAMPLE:
            caveats.append(
                f"Only {plural(n, 'round')} of {group}: too few rounds to say whether the "
                "difference is real. Treat the numbers as a description of these rounds, not a "
                "settled finding."
            )
    overlap = _overlap_sentence(label, ref_label, fam["date"], ref["date"])
    if overlap:
        caveats.append(overlap)
    if r["ci_low"] is not None and r["ci_high"] is not None:
        excludes = r["ci_low"] > 0 or r["ci_high"] < 0
        caveats.append(
            f"The {pct}% interval for the difference runs from {r['ci_low']:.1f} to "
            f"{r['ci_high']:.1f} points (Welch's method, which does not assume the two groups "
            f"vary equally; {_p(r['welch_p'])} with {n_f} and {n_r} rounds). Intervals made "
            f"this way catch the true difference {pct} times in 100, if rounds behaved like "
            "independent draws from two stable groups; they do not quite (cutoffs drift over "
            "time), so read it as a rough range. "
            + (
                "It does not include zero: a gap this size would be unlikely if the two groups "
                "really had the same average cutoff."
                if excludes
                else "It includes zero: these rounds are consistent with no real difference."
            )
        )
    if r["rank_p"] is not None and r["prob_family_lower"] is not None:
        caveats.append(
            f"A check that uses only the order of the cutoffs ({r['rank_test']}; it does not "
            f"assume bell-shaped scores) gives {_p(r['rank_p'])} with {n_f} and "
            f"{n_r} rounds; in {r['prob_family_lower']:.0%} of pairs of one {label} round and "
            f"one {ref_label} round, the {label} cutoff was the lower."
            + (
                f" With {n_f} and {n_r} rounds this check cannot give a p below "
                f"{smallest_rank_p(n_f, n_r):.2g}, however different the groups are."
                if min(n_f, n_r) < 10
                else ""
            )
        )
    caveats.append(
        "Cutoffs also depend on how many invitations a round issued (bigger rounds reach lower "
        "scores); this comparison does not adjust for round size."
    )
    return tuple(caveats)


def compare_all(
    draws: pd.DataFrame,
    families: tuple[str, ...] | list[str] = FOCUS_FAMILIES,
    reference: str = ALL_PROGRAM,
    since: Any = CATEGORY_START,
    until: Any = None,
) -> pd.DataFrame:
    """:func:`compare_cutoffs` for several families, one row each.

    >>> draws = pd.DataFrame({"date": pd.to_datetime(["2023-07-01", "2023-08-01"]),
    ...                       "family": ["all_program", "stem"], "cutoff": [500, 480]})
    >>> compare_all(draws, ["stem", "healthcare"])["status"].tolist()
    ['not enough data', 'not enough data']
    """
    return pd.concat(
        [compare_cutoffs(draws, f, reference, since, until).to_frame() for f in families],
        ignore_index=True,
    )


# --------------------------------------------------------------------------------------------
# Regression with a time trend
# --------------------------------------------------------------------------------------------

TABLE_COLUMNS = ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value", "n"]


@dataclass(frozen=True)
class RegressionResult:
    """OLS of cutoffs on family and a time trend, with HAC (Newey-West) standard errors.

    ``table`` has one row per term: the reference level at ``since`` (intercept), each family's
    difference from the reference at the same date, and the trend in points per year, with
    95% intervals, p-values and the number of rounds behind each (``n``). ``n`` (the field) counts
    the rounds of every requested group in the window, including a family left out for having
    fewer than 2; ``n_total`` counts the rounds the model was fitted on. ``fit`` is the
    statsmodels results object (``None`` when there was not enough data).
    """

    status: str
    reason: str | None
    formula: str
    reference: str
    since: pd.Timestamp | None
    until: pd.Timestamp | None
    n: dict[str, int]
    n_total: int
    maxlags: int | None
    table: pd.DataFrame
    caveats: tuple[str, ...] = ()
    fit: Any = field(default=None, repr=False, compare=False)

    def summary(self) -> str:
        """The coefficient table and caveats as text.

        >>> draws = pd.DataFrame({"date": pd.to_datetime(["2023-07-01"]),
        ...                       "family": ["all_program"], "cutoff": [500]})
        >>> print(cutoff_regression(draws).summary().splitlines()[0])  # doctest: +ELLIPSIS
        Regression of cutoffs on family and time: not enough data (only 1 round of all_program...).
        """
        head = "Regression of cutoffs on family and time"
        if self.status != "ok":
            lines = [f"{head}: {self.status} ({self.reason})."]
        else:
            lines = [f"{head} ({self.formula}), HAC standard errors with {self.maxlags} lags:"]
            lines.append(self.table.to_string(index=False, float_format=lambda x: f"{x:.3g}"))
        lines.extend(f"- {caveat}" for caveat in self.caveats)
        return "\n".join(lines)


def newey_west_lags(n: int) -> int:
    """Newey and West's (1994) rule of thumb for HAC lags: floor(4 * (n/100) ** (2/9)).

    >>> newey_west_lags(37), newey_west_lags(100)
    (3, 4)
    """
    return int(math.floor(4 * (n / 100) ** (2 / 9))) if n > 0 else 0


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "term": pd.Series(dtype="string"),
            **{c: pd.Series(dtype="Float64") for c in TABLE_COLUMNS[1:-1]},
            "n": pd.Series(dtype="int64"),
        }
    )


def cutoff_regression(
    draws: pd.DataFrame,
    families: tuple[str, ...] | list[str] = FOCUS_FAMILIES,
    since: Any = CATEGORY_START,
    until: Any = None,
    maxlags: int | None = None,
    reference: str = ALL_PROGRAM,
    min_rounds: int = 2,
) -> RegressionResult:
    """Fit ``cutoff ~ C(family, Treatment(reference)) + years`` by OLS on the reference's and
    ``families``' rounds in ``[since, until]``, with HAC (Newey-West) standard errors.

    ``years`` counts years since ``since`` (or since the first round used), so the intercept is
    the reference's fitted cutoff on that date and each family term is that family's average
    distance from the reference's trend line. Rows are in round order, which is the order HAC
    uses for its lags; ``maxlags`` defaults to :func:`newey_west_lags`. The t distribution and
    the small-sample correction are used because the samples are small.

    A family with fewer than ``min_rounds`` rounds (default 2) is left out (and a caveat says
    so); if the reference has fewer or no family is left, the result is ``"not enough data"``.
    The fit never reaches past ``until``: pass :func:`overlap_end` to keep it to the period in
    which both kinds of round were held.

    >>> draws = pd.DataFrame({
    ...     "date": pd.to_datetime(["2023-07-01", "2023-09-01", "2023-11-01", "2024-01-01",
    ...                             "2023-08-01", "2023-10-01", "2023-12-01"]),
    ...     "family": ["all_program"] * 4 + ["stem"] * 3,
    ...     "cutoff": [500, 502, 498, 501, 470, 469, 471]})
    >>> r = cutoff_regression(draws, families=["stem"])
    >>> r.status, r.n
    ('ok', {'all_program': 4, 'stem': 3})
    >>> round(float(r.table.set_index("term").loc["stem - all_program", "estimate"]))
    -30
    """
    families = [f for f in dict.fromkeys(families) if f != reference]
    check_draws(draws, reference, *families)
    start, end = _window(since, until)
    groups = {f: family_rounds(draws, f, start, end) for f in [reference, *families]}
    n = {f: len(g) for f, g in groups.items()}
    labels = {f: _label(draws, f) for f in groups}
    formula = f"cutoff ~ C(family, Treatment('{reference}')) + years"

    if min_rounds < 2:
        raise ValueError(f"min_rounds={min_rounds!r} must be at least 2")
    dropped = [f for f in families if n[f] < min_rounds]
    kept = [f for f in families if n[f] >= min_rounds]
    caveats = [
        "Rounds available: "
        + ", ".join(f"{labels[f]} {plural(n[f], 'round')}" for f in groups)
        + f" ({sum(n.values())} in all). "
        + _window_sentence(start, end)
    ]
    caveats += [
        f"{labels[f]} is left out: {plural(n[f], 'round')} is not enough data to estimate its "
        "difference."
        for f in dropped
    ]
    if n[reference] < min_rounds or not kept:
        reason = (
            f"only {plural(n[reference], 'round')} of {labels[reference]} in the window"
            if n[reference] < min_rounds
            else f"no family has {min_rounds} or more rounds in the window"
        )
        return RegressionResult(
            status=NOT_ENOUGH,
            reason=reason,
            formula=formula,
            reference=reference,
            since=start,
            until=end,
            n=n,
            n_total=0,
            maxlags=None,
            table=_empty_table(),
            caveats=tuple(caveats),
        )

    data = (
        pd.concat([groups[f] for f in [reference, *kept]], ignore_index=True)
        .sort_values(
            [c for c in ("date", "round") if c in groups[reference].columns], kind="stable"
        )
        .reset_index(drop=True)
    )
    origin = start if start is not None else data["date"].min()
    data = data.assign(
        family=data["family"].astype("object"),
        years=(data["date"] - origin).dt.days.astype("float64") / 365.25,
    )[["date", "family", "cutoff", "years"]]
    n_used = {f: n[f] for f in [reference, *kept]}
    n_total = len(data)
    lags = newey_west_lags(n_total) if maxlags is None else int(maxlags)
    if lags < 0:
        raise ValueError(f"maxlags={maxlags!r} must be 0 or more")

    fit = smf.ols(formula, data=data).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True
    )
    table = _tidy(fit, reference, kept, n_used, origin)
    caveats += _regression_caveats(data, reference, kept, n_used, labels, lags)
    return RegressionResult(
        status="ok",
        reason=None,
        formula=formula,
        reference=reference,
        since=start,
        until=end,
        n=n,
        n_total=n_total,
        maxlags=lags,
        table=table,
        caveats=tuple(caveats),
        fit=fit,
    )


def _tidy(
    fit: Any, reference: str, kept: list[str], n: dict[str, int], origin: pd.Timestamp
) -> pd.DataFrame:
    prefix = f"C(family, Treatment('{reference}'))[T."
    names = {
        "Intercept": (f"{reference} level on {_date(origin)} (intercept)", n[reference]),
        "years": ("trend (points per year)", sum(n.values())),
        **{f"{prefix}{f}]": (f"{f} - {reference}", n[f]) for f in kept},
    }
    ci = fit.conf_int(alpha=0.05)
    rows = [
        {
            "term": names[param][0],
            "estimate": _finite(fit.params[param]),
            "std_error": _finite(fit.bse[param]),
            "ci_low": _finite(ci.loc[param, 0]),
            "ci_high": _finite(ci.loc[param, 1]),
            "p_value": _finite(fit.pvalues[param]),
            "n": names[param][1],
        }
        for param in fit.params.index
    ]
    order = {
        key: i for i, key in enumerate(["Intercept", *[f"{prefix}{f}]" for f in kept], "years"])
    }
    rows = [
        r
        for _, r in sorted(
            zip(fit.params.index, rows, strict=True), key=lambda pair: order[pair[0]]
        )
    ]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS).astype(
        {"term": "string", **dict.fromkeys(TABLE_COLUMNS[1:-1], "Float64"), "n": "int64"}
    )


def _regression_caveats(
    data: pd.DataFrame,
    reference: str,
    kept: list[str],
    n: dict[str, int],
    labels: dict[str, str],
    lags: int,
) -> list[str]:
    caveats = [
        f"Standard errors are Newey-West (HAC) with {lags} lag(s): they allow the cutoffs of "
        "neighbouring rounds to be related and their spread to change over time, which ordinary "
        f"standard errors would not. With {len(data)} rounds they are themselves approximate, "
        "so treat the 95% intervals as rough ranges.",
        "The time trend is one straight line shared by all groups; each family's estimate is "
        f"its average distance from the {labels[reference]} line on the same dates, not a "
        "difference between rounds held on the same day.",
    ]
    ref_dates = data.loc[data["family"] == reference, "date"]
    for f in kept:
        dates = data.loc[data["family"] == f, "date"]
        after = int(dates.gt(ref_dates.max()).sum())
        if after:
            caveats.append(
                f"{labels[reference]} rounds in the window stop on {_date(ref_dates.max())}; "
                f"{after} of the {n[f]} {labels[f]} rounds came later, so for those the "
                f"comparison relies on extending the {labels[reference]} trend line beyond its "
                "data, which is an assumption, not an observation."
            )
        if n[f] < SMALL_SAMPLE:
            caveats.append(
                f"Only {plural(n[f], 'round')} of {labels[f]}: too few rounds to say whether its "
                "difference is real."
            )
    caveats.append(
        "Round size is not in the model; bigger rounds reach lower scores, so part of a "
        "family's difference can come from its rounds being bigger or smaller."
    )
    return caveats


# --------------------------------------------------------------------------------------------
# Verdicts: what the reports say, with intervals that allow for autocorrelation
# --------------------------------------------------------------------------------------------

#: Below this many rounds (in either group), no test, interval or regression is shown: the
#: verdict is "too few rounds to compare", with n.
MIN_ROUNDS = 5
#: When the latest all-program round is older than this at the as-of date, the two groups no
#: longer overlap and a category's rounds are compared with the pool estimate instead.
OVERLAP_GAP_DAYS = 60
LABELS = ("below", "above", "no clear difference", "too few rounds")
#: The largest lag-1 autocorrelation an AR(1) standard error is computed with.
AR1_CAP = 0.95
#: A pool verdict pairs at most this many of the family's latest rounds with the pool estimate,
#: so a month's report costs the same whatever the length of the history.
VERDICT_ROUNDS = 60
KINDS = (ALL_PROGRAM, "pool")


@dataclass(frozen=True)
class MeanInterval:
    """The mean of a series in round order with an interval that allows for autocorrelation.

    ``se`` is the larger of three standard errors: the plain one (independent rounds), Newey-West
    (HAC, Bartlett kernel, :func:`newey_west_lags`) and the AR(1) one, ``s / sqrt(n (1 - r) /
    (1 + r))`` with ``r`` the lag-1 autocorrelation ``lag1`` after Kendall's small-sample bias
    correction (``r + (1 + 3 r) / n``, at most :data:`AR1_CAP`), when positive: short series
    understate their autocorrelation, so the widest is used. ``n_effective`` is the number of
    independent rounds that would give the same uncertainty, ``n (plain se / se)^2`` (at most
    ``n``); intervals use a t distribution with ``n_effective - 1`` degrees of freedom.

    What such 95% intervals cover, measured on simulated AR(1) series whose mean is known
    (400 series each, tests/test_verdicts.py): 97% with no autocorrelation over 15 rounds, 93%
    with a lag-1 autocorrelation of 0.3 over 10 rounds, 88% with 0.6 over 15 rounds and 90% with
    0.6 over 30 (plain intervals: 97%, 89%, 66%, 64%); less for stronger autocorrelation in
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
    # short series understate their autocorrelation: Kendall's bias correction, capped
    corrected = min(lag1 + (1 + 3 * lag1) / n, AR1_CAP)
    ar1 = plain * math.sqrt((1 + corrected) / (1 - corrected)) if corrected > 0 else plain
    se = max(plain, hac, ar1)
    n_effective = float(max(1.0, min(n, n * (plain / se) ** 2)))
    return MeanInterval(n, mean, se, n_effective, lag1)


def smallest_rank_p(m: int, n: int) -> float:
    """The smallest two-sided p-value a Mann-Whitney check can give with groups of ``m`` and
    ``n`` rounds (no ties): every round of one group beyond every round of the other.

    >>> round(smallest_rank_p(2, 4), 3), round(smallest_rank_p(3, 20), 4)
    (0.133, 0.0011)
    """
    if m < 1 or n < 1:
        return 1.0
    return min(1.0, 2 / math.comb(m + n, m))


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
    end = _timestamp(as_of, "as_of")
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


def _independent(n_effective: float) -> str:
    return f"about {plural(max(1, round(n_effective)), 'independent round')}"


def _month(stamp: pd.Timestamp) -> str:
    return month_label(stamp)


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
        n_effective=None,
        estimate=None,
        low=None,
        high=None,
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
        "method": "paired gaps to the pool estimate; mean with an autocorrelation-aware interval",
    }
    n = len(rows)
    if n < min_rounds:
        return _few(family, "pool", label, n, level, **extra)
    gaps = rows["gap"].astype("float64").to_numpy()
    mean = mean_with_autocorrelation(gaps)
    t = scipy_stats.t.ppf(0.5 + level / 2, df=max(mean.n_effective - 1, 1))
    low, high = mean.mean - t * mean.se, mean.mean + t * mean.se
    code, words = _label_of(low, high)
    where = "below" if mean.mean < 0 else "above"
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
    sentence = (
        f"{opening}, {label} cutoffs were {abs(mean.mean):.0f} points {where} the pool "
        f"estimate on average ({_interval_words(low, high, level)}, allowing for "
        f"autocorrelation: {_independent(mean.n_effective)}): {words}."
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
        label=code,
        words=words,
        sentence=sentence,
        family_label=label,
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
    se = math.sqrt(fa.se**2 + fb.se**2)
    if se == 0:
        low = high = difference
        df = 1.0
    else:  # Welch-Satterthwaite with the effective sample sizes
        df = se**4 / (fa.se**4 / max(fa.n_effective - 1, 1) + fb.se**4 / max(fb.n_effective - 1, 1))
        t = scipy_stats.t.ppf(0.5 + level / 2, df=df)
        low, high = difference - t * se, difference + t * se
    code, words = _label_of(low, high)
    rank = _rank(a, b)
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


def category_verdict(
    draws: pd.DataFrame,
    comparisons: pd.DataFrame | None,
    family: str,
    as_of: Any,
    *,
    level: float = 0.95,
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
    end = _timestamp(as_of, "as_of")
    chosen, last = comparison_kind(draws, end)
    kind = kind or chosen
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {KINDS}")
    label = _label(draws, family)
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
    return _pool_verdict(
        comparisons, family, label, end, last, level, min_rounds, max_rounds, len(since_last)
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
    from analysis import baselines  # noqa: PLC0415 (baselines is optional for the rest)

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
