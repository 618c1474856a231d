"""Two-group comparison: one family's cutoffs against a reference's (all-program rounds by
default) in a window of dates, with a Welch 95% interval, a rank check (Mann-Whitney U) and
plain-English caveats (:func:`compare_cutoffs`, :func:`compare_all`).

The wording and numbers the later modules share live here too: dates and windows in words
(:func:`date_text`, :func:`window_sentence`), numbers that are never NaN
(:func:`finite_or_none`) and the rank check with the smallest p its sample sizes allow
(:func:`rank_check`, :func:`smallest_rank_p`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.stats.series import (
    NOT_ENOUGH,
    check_draws,
    date_window,
    family_label,
    family_rounds,
)
from analysis.taxonomy import ALL_PROGRAM, CATEGORY_START, FOCUS_FAMILIES
from analysis.vocabulary import plural

#: Below this many rounds in a group, the caveats say the sample is too small to judge.
SMALL_SAMPLE = 5


def date_text(stamp: pd.Timestamp | None) -> str:
    """A date as ``YYYY-MM-DD`` in the caveats and tables, ``-`` when there is none.

    >>> date_text(pd.Timestamp("2024-04-23 10:00")), date_text(None)
    ('2024-04-23', '-')
    """
    return "-" if stamp is None else stamp.strftime("%Y-%m-%d")


def _p(p: float | None) -> str:
    """'p = 0.015', 'p < 0.001' or 'p not available'."""
    if p is None:
        return "p not available"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def finite_or_none(x: Any) -> float | None:
    """A float, or None when the value is missing, NaN or infinite.

    >>> finite_or_none(2), finite_or_none(float("nan")), finite_or_none(None)
    (2.0, None, None)
    """
    if x is None:
        return None
    value = float(x)
    return value if math.isfinite(value) else None


_DATES, _FLOATS = "datetime64[ns]", "Float64"
#: The columns of :meth:`CutoffComparison.to_frame`, in order, with their types.
_FRAME_TYPES = {
    **dict.fromkeys(["family", "reference"], "string"),
    **dict.fromkeys(["since", "until"], _DATES),
    **dict.fromkeys(["n_family", "n_reference"], "int64"),
    **dict.fromkeys(["mean_family", "mean_reference", "difference", "ci_low", "ci_high"], _FLOATS),
    "welch_p": _FLOATS,
    "rank_test": "string",
    **dict.fromkeys(["rank_p", "prob_family_lower"], _FLOATS),
    **dict.fromkeys(["family_first", "family_last", "reference_first", "reference_last"], _DATES),
    **dict.fromkeys(["status", "reason"], "string"),
}


@dataclass(frozen=True)
class CutoffComparison:
    """Cutoffs of one family against a reference group of rounds in a window of dates.

    ``difference`` is family minus reference (negative: the family's cutoffs were lower).
    ``prob_family_lower`` is the share of (family round, reference round) pairs in which the
    family's cutoff was the lower one (ties count half). ``caveats`` are plain-English sentences.
    What could not be computed (not enough data) is ``None``.
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
    confidence: float
    difference: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    welch_p: float | None = None
    welch_df: float | None = None
    rank_test: str = "Mann-Whitney U"
    rank_p: float | None = None
    prob_family_lower: float | None = None
    caveats: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One-row table of the comparison (missing numbers are ``<NA>``, never NaN).

        >>> draws = pd.DataFrame({"date": pd.to_datetime(["2023-07-01", "2023-08-01"]),
        ...                       "family": ["all_program", "stem"], "cutoff": [500, 480]})
        >>> compare_cutoffs(draws, "stem").to_frame()[["n_family", "difference", "status"]]
           n_family  difference           status
        0         1        <NA>  not enough data
        """
        row = {column: getattr(self, column) for column in _FRAME_TYPES}
        return pd.DataFrame([row]).astype(_FRAME_TYPES)

    def summary(self) -> str:
        """The comparison in a few plain sentences, caveats included.

        >>> draws = pd.DataFrame({"date": pd.to_datetime(["2023-07-01", "2023-08-01"]),
        ...                       "family": ["all_program", "stem"], "cutoff": [500, 480]})
        >>> print(compare_cutoffs(draws, "stem").summary().splitlines()[0])  # doctest: +ELLIPSIS
        stem vs all_program since 2023-06-01: not enough data (only 1 round of stem ...
        """
        window = f"since {date_text(self.since)}" + (
            f" until {date_text(self.until)}" if self.until is not None else ""
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
    from statsmodels.stats.weightstats import (  # lazy: statistics libraries load only when used
        CompareMeans,
        DescrStatsW,
    )

    compare = CompareMeans(DescrStatsW(a), DescrStatsW(b))
    low, high = compare.tconfint_diff(alpha=1 - confidence, usevar="unequal")
    _t, p, df = compare.ttest_ind(usevar="unequal")
    return {
        "ci_low": finite_or_none(low),
        "ci_high": finite_or_none(high),
        "welch_p": finite_or_none(p),
        "welch_df": finite_or_none(df),
    }


def rank_check(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Mann-Whitney U, two-sided, and the share of pairs where ``a`` is lower (ties half).

    With ties and a small group (under 10 rounds) the p-value comes from a permutation test, as
    scipy recommends (its exact method ignores ties); it is exact when there are at most 20,000
    ways to split the rounds and otherwise uses 20,000 random splits with a fixed seed.
    """
    ties = len(np.unique(np.concatenate([a, b]))) < len(a) + len(b)
    method: Any = "auto"
    from scipy import stats as scipy_stats  # lazy: statistics libraries load only when used

    name = "Mann-Whitney U"
    if ties and min(len(a), len(b)) < 10:
        method = scipy_stats.PermutationMethod(n_resamples=20_000, rng=np.random.default_rng(0))
        name = "Mann-Whitney U, permutation p-value"
    result = scipy_stats.mannwhitneyu(a, b, alternative="two-sided", method=method)
    # U counts pairs where a > b (ties half); the share where a is lower is the complement.
    return {
        "rank_test": name,
        "rank_p": finite_or_none(result.pvalue),
        "prob_family_lower": finite_or_none(1 - result.statistic / (len(a) * len(b))),
    }


def smallest_rank_p(m: int, n: int) -> float:
    """The smallest two-sided p-value a Mann-Whitney check can give with groups of ``m`` and
    ``n`` rounds (no ties): every round of one group beyond every round of the other.

    >>> round(smallest_rank_p(2, 4), 3), round(smallest_rank_p(3, 20), 4)
    (0.133, 0.0011)
    """
    if m < 1 or n < 1:
        return 1.0
    return min(1.0, 2 / math.comb(m + n, m))


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
    start, end = date_window(since, until)
    fam = family_rounds(draws, family, start, end)
    ref = family_rounds(draws, reference, start, end)
    a, b = fam["cutoff"].to_numpy(), ref["cutoff"].to_numpy()
    fam_label, ref_label = family_label(draws, family), family_label(draws, reference)

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
        "confidence": confidence,
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
        caveats = (_sizes_sentence(base), window_sentence(start, end))
        return CutoffComparison(**base, status=NOT_ENOUGH, reason=reason, caveats=caveats)

    base["difference"] = float(a.mean() - b.mean())
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        reason = (
            "every round in both groups had the same cutoff, so there is no spread to build an "
            "interval from"
        )
        caveats = (_sizes_sentence(base), window_sentence(start, end))
        return CutoffComparison(**base, status=NOT_ENOUGH, reason=reason, caveats=caveats)

    base |= _welch(a, b, confidence) | rank_check(a, b)
    caveats = _comparison_caveats(base, fam, ref)
    return CutoffComparison(**base, status="ok", reason=None, caveats=caveats)


def _sizes_sentence(r: dict[str, Any]) -> str:
    def one(label: str, n: int, first: Any, last: Any) -> str:
        if n == 0:
            return f"{label}: no rounds"
        span = date_text(first) if n == 1 else f"{date_text(first)} to {date_text(last)}"
        return f"{label}: {plural(n, 'round')} ({span})"

    return (
        "Rounds compared: "
        + one(r["family_label"], r["n_family"], r["family_first"], r["family_last"])
        + "; "
        + one(r["reference_label"], r["n_reference"], r["reference_first"], r["reference_last"])
        + "."
    )


def window_sentence(start: pd.Timestamp | None, end: pd.Timestamp | None) -> str:
    """The window of dates in one caveat sentence (either end may be open).

    >>> window_sentence(pd.Timestamp("2023-06-01"), None)
    'Window: rounds from 2023-06-01 on.'
    """
    if start is None and end is None:
        return "Window: every round in the data."
    if end is None:
        return f"Window: rounds from {date_text(start)} on."
    if start is None:
        return f"Window: rounds up to {date_text(end)}."
    return f"Window: rounds from {date_text(start)} to {date_text(end)}."


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
            f"The last {ref_label} round in this window was on {date_text(ref_last)}, and "
            f"{after} of the {n} {label} rounds came after it."
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
    caveats = [_sizes_sentence(r), window_sentence(r["since"], r["until"])]
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
