"""The answer a reader came for, first: for each report category, the month's cutoff(s), the
comparison that matters for that month, the gap in points and a verdict in words on whether the
gap is real.

- **The comparison that matters.** While all-program rounds were held (to April 2024) a category
  round is compared with the all-program rounds held in the window of days before it; when
  there were none (after April 2024) with the cutoff an all-program round of the same size
  would have needed that day, estimated from the pool (an estimate, shown with its interval).
- **The verdict** comes from the statistics: the month's ``data.verdicts`` (made by
  :func:`analysis.stats.verdict.verdicts` with :func:`analysis.stats.verdict.category_verdict`:
  category against all-program rounds while both were held; paired gaps against the pool
  estimate of every round since then, not only the window's).

Every block is plain text; :mod:`analysis.publish.display` escapes it onto the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from analysis.report.month import MonthData
from analysis.stats.verdict import Verdict, category_verdict
from analysis.taxonomy import ALL_PROGRAM, CATEGORY_START, UNCLASSIFIED
from analysis.vocabulary import (
    day_label,
    month_label,
    plural,
    shown_gap,
    signed_points,
    whole_points,
)


def _points(value: float) -> str:
    """The size of a difference in words: ``12 points``."""
    return plural(abs(whole_points(value)), "point")


def rounds_counted(verdict: Verdict) -> str:
    """The rounds a verdict counts, with what they are: ``3 STEM rounds since June 2023, none
    since April 2024`` (after all-program rounds stopped), ``4 Healthcare rounds since June
    2023`` (while they were held).

    >>> rounds_counted(Verdict("stem", "pool", 0, None, None, None, None, 0.95, "too few rounds",
    ...                        "", "", family_label="STEM", since=pd.Timestamp("2024-04-23"),
    ...                        n_since_start=3))
    '3 STEM rounds since June 2023, none since April 2024'
    """
    label = verdict.family_label or verdict.family
    start = month_label(pd.Timestamp(CATEGORY_START))
    total = verdict.n if verdict.n_since_start is None else verdict.n_since_start
    words = f"{plural(total, f'{label} round')} since {start}"
    if verdict.kind != ALL_PROGRAM and verdict.since is not None:
        words += f", {verdict.n or 'none'} since {month_label(verdict.since)}"
    return words


def verdict_line(verdict: Verdict) -> str:
    """The verdict in a few words with its numbers: what the answer block shows. After
    all-program rounds stopped it is the size of the gap to the pool estimate (never its sign:
    a restricted round's cutoff is a floor of that estimate) and its change per year.

    >>> v = Verdict("stem", ALL_PROGRAM, 5, None, -15.2, -25.1, -5.3, 0.95, "below", "", "")
    >>> verdict_line(v)
    'Yes: lower (on average −15 points since June 2023, 95% interval −25 to −5; 5 rounds).'
    >>> line = verdict_line(Verdict("healthcare", "pool", 10, 5.0, -48, -66, -36, 0.95, "size",
    ...                             "", "", since=pd.Timestamp("2024-05-31"), slope=15.0,
    ...                             slope_low=5.0, slope_high=25.0))
    >>> line.startswith("About 48 points below the pool estimate over 10 rounds since May 2024")
    True
    >>> line.endswith("(typical gap likely −66 to −36); narrowing by about 15 points a year.")
    True

    """
    if verdict.label == "too few rounds" or (verdict.estimate is None and verdict.rank_p is None):
        return f"Too few rounds to tell: {rounds_counted(verdict)}."
    if verdict.label == "size":
        where = "below" if verdict.estimate < 0 else "above"
        since = f" since {month_label(verdict.since)}" if verdict.since is not None else ""
        own = ", with the estimate's own error" if verdict.error_low is not None else ""
        trend = ""
        if verdict.slope is not None:
            if verdict.slope_low <= 0 <= verdict.slope_high:
                trend = "; no clear change over time"
            else:
                narrows = (verdict.slope > 0) == (verdict.estimate < 0)
                trend = (
                    f"; {'narrowing' if narrows else 'widening'} by about "
                    f"{_points(verdict.slope)} a year"
                )
        return (
            f"About {_points(verdict.estimate)} {where} the pool estimate over {verdict.n} "
            f"rounds{since} (typical gap likely {signed_points(verdict.low)} to "
            f"{signed_points(verdict.high)}{own}){trend}."
        )
    if verdict.estimate is None:  # few rounds, judged by their order only
        word = "lower" if verdict.label == "below" else "higher"
        return (
            f"Yes: {word} ({rounds_counted(verdict)}, each compared with every all-program "
            f"round: order-only test, p = {verdict.rank_p:.2g})."
        )
    if verdict.kind == ALL_PROGRAM:
        since = f"since {month_label(verdict.since or CATEGORY_START)}"
    elif verdict.since is not None:
        since = f"against the pool estimate since {month_label(verdict.since)}"
    else:
        since = "against the pool estimate"
    numbers = (
        f"on average {signed_points(verdict.estimate)} points {since}, "
        f"{verdict.level:.0%} interval "
        f"{signed_points(verdict.low)} to {signed_points(verdict.high)}; {verdict.n} rounds"
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
    #: True for a report category without a round that month: its verdict is its standing
    #: answer, shown in its block even where the page's table also holds the verdicts.
    standing: bool = False
    #: True when the family has a page of its own (a category with a round since June 2023;
    #: programs such as CEC and PNP have none).
    linked: bool = True
    #: True for a report category drawn this month while all-program rounds were held: its
    #: block says whether the gap to them is real ("Is the gap real?"), beside the standing
    #: table's verdict in words.
    asks_real: bool = False

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


def _shown_mean(compared: pd.DataFrame) -> float:
    """The mean of the gaps as the tables show them (:func:`analysis.vocabulary.shown_gap`), so a
    single round's gap here is the one in every table."""
    pairs = zip(compared["cutoff"], compared["baseline_cutoff"], strict=True)
    gaps = [shown_gap(c, b) for c, b in pairs]
    return float(pd.Series(gaps, dtype="float64").mean())


def _comparison(data: MonthData, rounds: pd.DataFrame) -> str:
    """The comparison that matters for the month's rounds of one category, in words."""
    compared = data.comparisons.loc[data.comparisons["round"].isin(rounds["round"])]
    window = compared.loc[(compared["baseline"] == "window") & compared["gap"].notna()]
    if len(window):
        gap = _shown_mean(window)
        reference = whole_points(window["baseline_cutoff"].mean())
        return (
            f"All-program rounds in the {data.params.window_days} days before had a mean cutoff of "
            f"{reference}: {_points(gap)} {'lower' if gap < 0 else 'higher'}"
            + (" on average." if len(window) > 1 else ".")
            if whole_points(gap) != 0
            else f"All-program rounds in the {data.params.window_days} days before: level "
            f"({reference})."
        )
    pool = compared.loc[(compared["baseline"] == "pool") & compared["gap"].notna()]
    if len(pool):
        gap = _shown_mean(pool)
        row = pool.iloc[0]
        interval = (
            f", this estimate likely {whole_points(row['low'])}-{whole_points(row['high'])}"
            if pd.notna(row["low"]) and pd.notna(row["high"])
            else ""
        )
        if len(pool) == 1:
            needed = (
                f"about {whole_points(row['baseline_cutoff'])} (estimated from the pool{interval})"
            )
        else:
            needed = (
                f"on average about {whole_points(pool['baseline_cutoff'].mean())} "
                "(estimated from the pool)"
            )
        return (
            f"No all-program round was held; one of the same size would have needed {needed}: "
            f"{_points(gap)} {'lower' if gap < 0 else 'higher'}."
        )
    return "No all-program round or pool estimate to compare with."


def month_families(data: MonthData) -> list[str]:
    """The families a month's page answers for: the report's categories (always), then every
    other family drawn that month (not all-program rounds, not unclassified ones), in order of
    their first round in the month."""
    drawn = data.month_rounds.loc[data.month_rounds["cutoff"].notna()].sort_values("date")
    out = list(data.params.categories)
    for family in drawn["family"].astype(str):
        if family not in out and family not in (ALL_PROGRAM, UNCLASSIFIED):
            out.append(family)
    return out


def answers(
    data: MonthData,
    verdict: Callable[..., Verdict] | None = None,
    known: dict[str, Verdict | None] | None = None,
) -> list[Answer]:
    """One :class:`Answer` per family of :func:`month_families` (the page's first section): the
    month's cutoffs and the comparison that matters, or, for a category without a round that
    month, its latest round; each with the family's standing verdict.

    ``verdict`` (default :func:`analysis.stats.verdict.category_verdict`) judges a report
    category whose verdict the month does not already hold in ``data.verdicts``; ``known``
    holds the verdicts of the other families (e.g. from :func:`analysis.report.standing.standing`).
    """
    judge = verdict or category_verdict
    known = known or {}
    out = []
    categories = data.draws.loc[
        (data.draws["date"] >= CATEGORY_START) & (data.draws["selection"] == "category"), "family"
    ]
    with_page = set(categories.astype(str))
    for family in month_families(data):
        label = data.label(family)
        linked = family in with_page
        category = family in data.params.categories
        # the month's verdict (stats.verdicts: every round since the overlap) unless judged here
        result = data.verdicts.get(family) if verdict is None and category else None
        if result is None and category:
            result = judge(data.draws, data.comparisons, family, data.end)
        elif not category:
            result = known.get(family)
        rounds = data.month_rounds.loc[
            (data.month_rounds["family"] == family) & data.month_rounds["cutoff"].notna()
        ]
        if rounds.empty:
            earlier = data.draws.loc[
                (data.draws["family"] == family) & data.draws["cutoff"].notna()
            ]
            if earlier.empty:
                out.append(
                    Answer(
                        family, label, f"No {label} round has been held yet.", None, linked=False
                    )
                )
                continue
            last = earlier.iloc[-1]
            text = (
                f"No {label} round in {month_label(data.start)}. The latest was round "
                f"{last['round']} on {_day(last['date'])}, cutoff {int(last['cutoff'])}."
            )
            out.append(Answer(family, label, text, result, standing=category, linked=linked))
            continue
        cutoffs = _cutoffs(rounds)
        text = f"{cutoffs[0].upper()}{cutoffs[1:]}."
        if category:
            text += f" {_comparison(data, rounds)}"
        asks_real = category and result is not None and result.kind == ALL_PROGRAM
        out.append(Answer(family, label, text, result, linked=linked, asks_real=asks_real))
    return out
