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
from analysis.taxonomy import ALL_PROGRAM, CATEGORY_START, FOCUS_FAMILIES, UNCLASSIFIED
from analysis.wording import plural

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
) -> RegressionResult:
    """Fit ``cutoff ~ C(family, Treatment(reference)) + years`` by OLS on the reference's and
    ``families``' rounds in ``[since, until]``, with HAC (Newey-West) standard errors.

    ``years`` counts years since ``since`` (or since the first round used), so the intercept is
    the reference's fitted cutoff on that date and each family term is that family's average
    distance from the reference's trend line. Rows are in round order, which is the order HAC
    uses for its lags; ``maxlags`` defaults to :func:`newey_west_lags`. The t distribution and
    the small-sample correction are used because the samples are small.

    A family with fewer than 2 rounds is left out (and a caveat says so); if the reference
    has fewer than 2 rounds or no family is left, the result is ``"not enough data"``.

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

    dropped = [f for f in families if n[f] < 2]
    kept = [f for f in families if n[f] >= 2]
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
    if n[reference] < 2 or not kept:
        reason = (
            f"only {plural(n[reference], 'round')} of {labels[reference]} in the window"
            if n[reference] < 2
            else "no family has 2 or more rounds in the window"
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
