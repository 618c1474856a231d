"""The answer a reader came for, first: for each report category, the month's cutoff(s), the
comparison that matters for that month, the gap in points and a verdict in words on whether the
gap is real.

- **The comparison that matters.** While all-program rounds were held (to April 2024) a category
  round is compared with the all-program rounds held within the window of days around it; when
  there were none near it (after April 2024) with the cutoff an all-program round of the same size
  would have needed that day, estimated from the pool (an estimate, shown with its interval).
- **The verdict** comes from the statistics: :func:`analysis.stats.category_verdict` (all-program
  rounds against category rounds while both were held; paired gaps against the pool estimate
  after that). Until that function is available, :func:`fallback_verdict` gives the same
  :class:`Verdict` shape from the statistics the package already has (see its docstring for what
  it does and does not allow for).

Every block is plain text; :mod:`analysis.publish.display` escapes it onto the page.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.months import day_label, month_label
from analysis.report.month import MonthData
from analysis.stats import SMALL_SAMPLE
from analysis.taxonomy import ALL_PROGRAM, CATEGORY_START

#: The last month with all-program rounds; after it only the pool estimate is left to compare.
LAST_ALL_PROGRAM_MONTH = pd.Timestamp("2024-04-30")

#: Fewer rounds than this and no verdict is given: the statistics' own threshold, below which
#: their caveats already say "too few rounds to say whether the difference is real".
MIN_ROUNDS = SMALL_SAMPLE

LABELS = ("below", "above", "no clear difference", "too few rounds")


@dataclass(frozen=True)
class Verdict:
    """Is a category's gap to all-program cutoffs real? The shape of
    :func:`analysis.stats.category_verdict`'s answer.

    ``kind``: ``"all_program"`` (category against all-program rounds while both were held) or
    ``"pool"`` (each category round against the pool estimate for its size, after April 2024).
    ``estimate``/``low``/``high``: the gap in CRS points (negative: the category's cutoffs were
    lower) and its interval at ``level``; ``label`` one of :data:`LABELS`; ``words`` the label as
    a reader reads it; ``sentence`` the finding with its numbers and sample size.
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


def _points(value: float) -> str:
    value = round(float(value))
    return f"{abs(value):,} point{'s' if abs(value) != 1 else ''}"


def _signed(value: float) -> str:
    value = round(float(value))
    return f"{'−' if value < 0 else '+' if value > 0 else ''}{abs(value):,}"


def _label_for(n: int, low: float | None, high: float | None) -> str:
    if n < MIN_ROUNDS or low is None or high is None:
        return "too few rounds"
    if high < 0:
        return "below"
    if low > 0:
        return "above"
    return "no clear difference"


_WORDS = {
    "below": "lower than all-program rounds, and the gap is real",
    "above": "higher than all-program rounds, and the gap is real",
    "no clear difference": "no clear difference from all-program rounds",
    "too few rounds": "too few rounds to tell",
}


def _effective_n(values: np.ndarray) -> float:
    """Rounds worth of independent information in an autocorrelated series (lag-1 AR)."""
    n = len(values)
    if n < 4 or np.ptp(values) == 0:
        return float(n)
    r = float(np.corrcoef(values[:-1], values[1:])[0, 1])
    r = min(max(r if math.isfinite(r) else 0.0, 0.0), 0.9)
    return n * (1 - r) / (1 + r)


def fallback_verdict(
    draws: pd.DataFrame,
    comparisons: pd.DataFrame,
    family: str,
    as_of: pd.Timestamp,
    level: float = 0.95,
) -> Verdict:
    """A :class:`Verdict` from the statistics the package has, until
    :func:`analysis.stats.category_verdict` is there.

    - In the overlap (``as_of`` up to April 2024): :func:`analysis.stats.compare_cutoffs`, the
      category's mean cutoff minus the all-program mean since June 2023, Welch 95% interval.
    - After it: the mean of the paired gaps (category cutoff minus the pool estimate for the
      same size) of the category's rounds in ``comparisons`` dated after April 2024, with a
      t interval on the effective number of rounds (lag-1 autocorrelation). The interval allows
      for the spread of the gaps, not for the error of the pool estimates themselves.
    """
    from scipy import stats as scipy_stats

    from analysis import stats

    as_of = pd.Timestamp(as_of)
    if as_of <= LAST_ALL_PROGRAM_MONTH:
        result = stats.compare_cutoffs(draws, family, since=CATEGORY_START, until=as_of)
        n = result.n_family
        low, high = result.ci_low, result.ci_high
        label = _label_for(min(n, result.n_reference), low, high)
        label_name = result.family_label
        if label == "too few rounds":
            sentence = (
                f"Too few rounds to tell: {n} {label_name} and {result.n_reference} all-program "
                f"rounds since June 2023."
            )
        else:
            sentence = (
                f"Since June 2023, {label_name} cutoffs averaged "
                f"{_points(result.difference)} {'below' if result.difference < 0 else 'above'} "
                f"all-program cutoffs (95% interval {_signed(low)} to {_signed(high)} points; "
                f"{n} {label_name} and {result.n_reference} all-program rounds)."
            )
        return Verdict(
            family, ALL_PROGRAM, n, None, result.difference, low, high, level, label,
            _WORDS[label], sentence,
        )  # fmt: skip
    mine = comparisons.loc[
        (comparisons["family"] == family)
        & (comparisons["baseline"] == "pool")
        & (comparisons["date"] > LAST_ALL_PROGRAM_MONTH)
        & (comparisons["date"] <= as_of)
    ].dropna(subset=["gap"])
    gaps = mine.sort_values("date")["gap"].astype(float).to_numpy()
    n = len(gaps)
    estimate = float(gaps.mean()) if n else None
    n_eff = _effective_n(gaps) if n else None
    low = high = None
    if n >= MIN_ROUNDS and n_eff and n_eff > 1 and np.ptp(gaps) > 0:
        spread = float(gaps.std(ddof=1)) / math.sqrt(n_eff)
        t = float(scipy_stats.t.ppf(0.5 + level / 2, df=max(n_eff - 1, 1)))
        low, high = estimate - t * spread, estimate + t * spread
    label = _label_for(n, low, high)
    name = str(mine["label"].iloc[0]) if n else family
    if label == "too few rounds":
        sentence = (
            f"Too few rounds to tell: {n} with a pool estimate since May 2024 in the report's "
            "window."
        )
    else:
        sentence = (
            f"Over {n} rounds since May 2024, {name} cutoffs were on average "
            f"{_points(estimate)} {'below' if estimate < 0 else 'above'} the pool estimate "
            f"(95% interval {_signed(low)} to {_signed(high)} points)."
        )
    return Verdict(
        family, "pool", n, n_eff, estimate, low, high, level, label, _WORDS[label], sentence
    )


def verdict_function() -> Callable[..., Verdict]:
    """:func:`analysis.stats.category_verdict` when the package has it, else the fallback."""
    from analysis import stats

    return getattr(stats, "category_verdict", fallback_verdict)


def verdict_line(verdict: Verdict) -> str:
    """The verdict in a few words with its numbers: what the answer block shows.

    >>> v = Verdict("stem", ALL_PROGRAM, 5, None, -15.2, -25.1, -5.3, 0.95, "below", "", "")
    >>> verdict_line(v)
    'Yes: lower (on average −15 points since June 2023, 95% interval −25 to −5; 5 rounds).'
    """
    if verdict.label == "too few rounds" or verdict.estimate is None:
        return f"Too few rounds to tell ({verdict.n} so far)."
    since = (
        "since June 2023"
        if verdict.kind == ALL_PROGRAM
        else "against the pool estimate since May 2024"
    )
    numbers = (
        f"on average {_signed(verdict.estimate)} points {since}, {verdict.level:.0%} interval "
        f"{_signed(verdict.low)} to {_signed(verdict.high)}; {verdict.n} rounds"
    )
    if verdict.label == "below":
        return f"Yes: lower ({numbers})."
    if verdict.label == "above":
        return f"Yes: higher ({numbers})."
    return f"Not clearly: the interval includes no gap ({numbers})."


@dataclass(frozen=True)
class Answer:
    """One category's answer block: a heading, at most about 50 words, the verdict."""

    family: str
    heading: str
    text: str
    verdict: Verdict | None

    @property
    def verdict_text(self) -> str | None:
        return None if self.verdict is None else verdict_line(self.verdict)

    @property
    def verdict_label(self) -> str:
        return "none" if self.verdict is None else self.verdict.label

    def words(self) -> int:
        """How many words the block shows (the answer must stay short)."""
        return len(f"{self.heading} {self.text} {self.verdict_text or ''}".split())


def _day(stamp) -> str:
    return day_label(pd.Timestamp(stamp))


def _cutoffs(rounds: pd.DataFrame) -> str:
    values = [f"{int(c)}" for c in rounds["cutoff"].dropna()]
    if len(values) == 1:
        row = rounds.iloc[0]
        return (
            f"one round, cutoff {values[0]} on {_day(row['date'])} "
            f"({int(row['invitations']):,} invitations)"
            if pd.notna(row["invitations"])
            else f"one round, cutoff {values[0]} on {_day(row['date'])}"
        )
    words = {2: "two", 3: "three", 4: "four", 5: "five"}
    count = words.get(len(rounds), f"{len(rounds)}")
    return f"{count} rounds, cutoffs {', '.join(values[:-1])} and {values[-1]}"


def _comparison(data: MonthData, rounds: pd.DataFrame) -> str:
    """The comparison that matters for the month's rounds of one category, in words."""
    compared = data.comparisons.loc[data.comparisons["round"].isin(rounds["round"])]
    window = compared.loc[(compared["baseline"] == "window") & compared["gap"].notna()]
    if len(window):
        gap = float(window["gap"].mean())
        reference = float(window["baseline_cutoff"].mean())
        return (
            f"All-program rounds within {data.params.window_days} days had a mean cutoff of "
            f"{reference:.0f}: {_points(gap)} {'lower' if gap < 0 else 'higher'}"
            + (" on average." if len(window) > 1 else ".")
            if round(gap) != 0
            else f"All-program rounds within {data.params.window_days} days: level "
            f"({reference:.0f})."
        )
    pool = compared.loc[(compared["baseline"] == "pool") & compared["gap"].notna()]
    if len(pool):
        gap = float(pool["gap"].mean())
        row = pool.iloc[0]
        interval = (
            f", likely {row['low']:.0f}-{row['high']:.0f}"
            if pd.notna(row["low"]) and pd.notna(row["high"])
            else ""
        )
        if len(pool) == 1:
            needed = f"about {row['baseline_cutoff']:.0f} (estimated from the pool{interval})"
        else:
            needed = (
                f"on average about {pool['baseline_cutoff'].mean():.0f} (estimated from the pool)"
            )
        return (
            f"No all-program round was held; one of the same size would have needed {needed}: "
            f"{_points(gap)} {'lower' if gap < 0 else 'higher'}."
        )
    return "No all-program round or pool estimate to compare with."


def answers(data: MonthData, verdict: Callable[..., Verdict] | None = None) -> list[Answer]:
    """One :class:`Answer` per report category of the month (the page's first section)."""
    judge = verdict or verdict_function()
    out = []
    for family in data.params.categories:
        label = data.label(family)
        rounds = data.month_rounds.loc[
            (data.month_rounds["family"] == family) & data.month_rounds["cutoff"].notna()
        ]
        if rounds.empty:
            earlier = data.draws.loc[
                (data.draws["family"] == family) & data.draws["cutoff"].notna()
            ]
            if earlier.empty:
                text = f"No {label} round has been held yet."
            else:
                last = earlier.iloc[-1]
                text = (
                    f"No {label} round in {month_label(data.start)}. The latest was round "
                    f"{last['round']} on {_day(last['date'])}, cutoff {int(last['cutoff'])}."
                )
            out.append(Answer(family, label, text, None))
            continue
        result = judge(data.draws, data.comparisons, family, data.end)
        cutoffs = _cutoffs(rounds)
        text = f"{cutoffs[0].upper()}{cutoffs[1:]}. {_comparison(data, rounds)}"
        out.append(Answer(family, label, text, result))
    return out
