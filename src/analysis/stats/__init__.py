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

The package, one module per job (every public name is importable from ``analysis.stats``):
:mod:`analysis.stats.series` (selecting a family's rounds, and the means and trends of
such series with intervals that allow for autocorrelation), :mod:`analysis.stats.compare`
(two-group comparison), :mod:`analysis.stats.regression` (regression with a time trend) and
:mod:`analysis.stats.verdict` (the reports' verdicts, :func:`category_verdict`), each importing
only the ones before it.

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

from analysis.stats.compare import (
    SMALL_SAMPLE,
    CutoffComparison,
    compare_all,
    compare_cutoffs,
    smallest_rank_p,
)
from analysis.stats.regression import (
    TABLE_COLUMNS,
    RegressionResult,
    cutoff_regression,
)
from analysis.stats.series import (
    AR1_CAP,
    NOT_ENOUGH,
    REQUIRED_COLUMNS,
    MeanInterval,
    Trend,
    all_families,
    check_draws,
    family_rounds,
    mean_with_autocorrelation,
    newey_west_lags,
    trend_per_year,
    trend_words,
)
from analysis.stats.verdict import (
    KINDS,
    LABELS,
    MIN_ROUNDS,
    OVERLAP_GAP_DAYS,
    VERDICT_ROUNDS,
    Verdict,
    category_verdict,
    comparison_kind,
    overlap_end,
    verdict_table,
    verdicts,
)

__all__ = [
    # rounds
    "NOT_ENOUGH",
    "REQUIRED_COLUMNS",
    "all_families",
    "check_draws",
    "family_rounds",
    # compare
    "SMALL_SAMPLE",
    "CutoffComparison",
    "compare_all",
    "compare_cutoffs",
    "smallest_rank_p",
    # regression
    "TABLE_COLUMNS",
    "RegressionResult",
    "cutoff_regression",
    # series
    "AR1_CAP",
    "MeanInterval",
    "Trend",
    "mean_with_autocorrelation",
    "newey_west_lags",
    "trend_per_year",
    "trend_words",
    # verdict
    "KINDS",
    "LABELS",
    "MIN_ROUNDS",
    "OVERLAP_GAP_DAYS",
    "VERDICT_ROUNDS",
    "Verdict",
    "category_verdict",
    "comparison_kind",
    "overlap_end",
    "verdict_table",
    "verdicts",
]
