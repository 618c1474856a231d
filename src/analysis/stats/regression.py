"""Regression with a time trend: OLS of cutoffs on family and one straight-line trend shared
by all groups, ``cutoff ~ C(family, Treatment('all_program')) + years``, with Newey-West (HAC)
standard errors (:func:`cutoff_regression`; lags by :func:`newey_west_lags`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from analysis.stats.compare import (
    SMALL_SAMPLE,
    date_text,
    finite_or_none,
    window_sentence,
)
from analysis.stats.series import (
    NOT_ENOUGH,
    check_draws,
    date_window,
    family_label,
    family_rounds,
    newey_west_lags,
)
from analysis.taxonomy import ALL_PROGRAM, CATEGORY_START, FOCUS_FAMILIES
from analysis.vocabulary import plural

TABLE_COLUMNS = ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value", "n"]
_TABLE_TYPES = {"term": "string", **dict.fromkeys(TABLE_COLUMNS[1:-1], "Float64"), "n": "int64"}


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
    The fit never reaches past ``until``: pass :func:`analysis.stats.verdict.overlap_end` to
    keep it to the period in which both kinds of round were held.

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
    start, end = date_window(since, until)
    groups = {f: family_rounds(draws, f, start, end) for f in [reference, *families]}
    n = {f: len(g) for f, g in groups.items()}
    labels = {f: family_label(draws, f) for f in groups}
    formula = f"cutoff ~ C(family, Treatment('{reference}')) + years"
    common = {"formula": formula, "reference": reference, "since": start, "until": end, "n": n}

    if min_rounds < 2:
        raise ValueError(f"min_rounds={min_rounds!r} must be at least 2")
    dropped = [f for f in families if n[f] < min_rounds]
    kept = [f for f in families if n[f] >= min_rounds]
    caveats = [
        "Rounds available: "
        + ", ".join(f"{labels[f]} {plural(n[f], 'round')}" for f in groups)
        + f" ({sum(n.values())} in all). "
        + window_sentence(start, end)
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
            **common,
            n_total=0,
            maxlags=None,
            table=pd.DataFrame(columns=TABLE_COLUMNS).astype(_TABLE_TYPES),
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

    import statsmodels.formula.api as smf  # lazy: statistics libraries load only when used

    fit = smf.ols(formula, data=data).fit(
        cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True
    )
    table = _tidy(fit, reference, kept, n_used, origin)
    caveats += _regression_caveats(data, reference, kept, n_used, labels, lags)
    return RegressionResult(
        status="ok",
        reason=None,
        **common,
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
        "Intercept": (f"{reference} level on {date_text(origin)} (intercept)", n[reference]),
        **{f"{prefix}{f}]": (f"{f} - {reference}", n[f]) for f in kept},
        "years": ("trend (points per year)", sum(n.values())),
    }
    ci = fit.conf_int(alpha=0.05)
    rows = [
        {
            "term": names[param][0],
            "estimate": finite_or_none(fit.params[param]),
            "std_error": finite_or_none(fit.bse[param]),
            "ci_low": finite_or_none(ci.loc[param, 0]),
            "ci_high": finite_or_none(ci.loc[param, 1]),
            "p_value": finite_or_none(fit.pvalues[param]),
            "n": names[param][1],
        }
        for param in names
    ]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS).astype(_TABLE_TYPES)


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
        f"standard errors would not. With {len(data)} rounds they are themselves approximate: "
        "the intervals, nominally 95%, cover less when neighbouring rounds are much alike "
        "(docs/pool-model.md gives what they covered in simulations), so treat them as rough "
        "ranges.",
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
                f"{labels[reference]} rounds in the window stop on {date_text(ref_dates.max())}; "
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
