"""A month's report, from its parameters to the answer a reader came for.

- **The parameters** (:func:`check_parameters`) are checked before any analysis.
- **As of the month's end**: :func:`prepare_month` keeps only rounds dated up to the end of the
  month (and pool distributions published up to then), so later rounds never change a month's
  report; only IRCC's revisions of its own rounds do. It computes the baselines of the window's
  rounds and each category's verdict (:class:`MonthData`).
- **The answer first** (:func:`answers`): for each report category, the month's cutoff(s), the
  comparison that matters for that month, the gap in points and a verdict in words on whether
  the gap is real. While all-program rounds were held (to April 2024) a category round is
  compared with the all-program rounds held in the window of days before it; when there were
  none (after April 2024) with the cutoff an all-program round of the same size would have
  needed that day, estimated from the pool (an estimate, shown with its interval). The verdict
  comes from the statistics: the month's ``data.verdicts`` (made by
  :func:`analysis.stats.verdict.verdicts` with :func:`analysis.stats.verdict.category_verdict`:
  category against all-program rounds while both were held; paired gaps against the pool
  estimate of every round since then, not only the window's). Every block is plain text; the
  page renderer (:mod:`analysis.publish.render`) escapes it onto the page.

Words are in :mod:`analysis.report.narrative`, tables in :mod:`analysis.report.tables` and
:mod:`analysis.report.provenance`, figures in :mod:`analysis.report.charts` and ``summary.json`` in
:mod:`analysis.report.summary`.

>>> params = check_parameters("2023-07", data_end=pd.Timestamp("2026-03-05"))
>>> params.month, params.categories
('2023-07', ('stem', 'healthcare'))
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from analysis import baselines as baseline_helpers
from analysis.baselines import BASELINES, WINDOW_DAYS
from analysis.errors import ParameterError
from analysis.stats.verdict import Verdict, category_verdict, range_words, verdicts
from analysis.taxonomy import (
    ALL_PROGRAM,
    CATEGORY_START,
    FOCUS_FAMILIES,
    UNCLASSIFIED,
    family_labels,
    known_families,
)
from analysis.vocabulary import (
    check_month,
    count_in_words,
    day_label,
    month_label,
    plural,
    shown_gap,
    signed_points,
    whole_points,
)

#: How each baseline is named in the report's notes (``{days}``: the window's length).
BASELINE_NAMES = {
    "window": "all-program rounds in the {days} days before it",
    "latest": "the latest all-program round before it",
    "pool": "an all-program round of the same size, estimated from the pool",
}


def _as_list(value) -> list[str]:
    """A list parameter as papermill may deliver it: a list, ``"stem,healthcare"`` or the text
    of a list (``-p categories "['stem']"`` passes a string)."""
    if value is None or not isinstance(value, str):
        return list(value or [])
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise ParameterError(f"{value!r} is not a list of names") from None
        return [str(v).strip() for v in parsed]
    return [v.strip() for v in text.split(",") if v.strip()]


@dataclass(frozen=True)
class ReportParams:
    """A report's checked parameters (see :func:`check_parameters`)."""

    month: str
    categories: tuple[str, ...] = FOCUS_FAMILIES
    window_months: int = 12
    baselines: tuple[str, ...] = BASELINES
    window_days: int = WINDOW_DAYS


def check_parameters(
    month,
    categories: Iterable[str] | str | None = FOCUS_FAMILIES,
    window_months=ReportParams.window_months,
    baselines: Iterable[str] | str | None = BASELINES,
    window_days=WINDOW_DAYS,
    data_end: pd.Timestamp | None = None,
) -> ReportParams:
    """Validate the report's parameters before any analysis; raise :class:`ParameterError`.

    ``month`` must be text ``YYYY-MM`` (papermill can turn ``2023-07`` into a number: pass it
    quoted) and follow the month rule (:func:`analysis.vocabulary.check_month`), with ``data_end``
    (the newest round's date) as the data's end.

    >>> check_parameters("2023-13")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    analysis.errors.ParameterError: month '2023-13' is not a month: write it as YYYY-MM, ...
    """
    if not isinstance(month, str):
        raise ParameterError(
            f"month {month!r} must be text 'YYYY-MM' (quote it: -p month "
            "'\"2023-07\"' or -r month 2023-07)"
        )
    try:
        month = check_month(month, "month", newest_round=data_end)
    except ValueError as error:
        raise ParameterError(str(error)) from None
    if categories is None:
        categories = FOCUS_FAMILIES
    categories = _as_list(categories)
    families = known_families()
    unknown = [c for c in categories if c not in families]
    allowed = ", ".join(f for f in families if f != ALL_PROGRAM)
    if not categories:
        raise ParameterError(f"no category given; allowed: {allowed}")
    if unknown:
        raise ParameterError(
            f"{plural(len(unknown), 'unknown family', 'unknown families')}: "
            f"{', '.join(map(repr, unknown))}; allowed: {allowed}"
        )
    if ALL_PROGRAM in categories:
        raise ParameterError(f"{ALL_PROGRAM} is the baseline, not a category to compare")
    baselines = _as_list(baselines)
    baselines = tuple(baselines or BASELINES)
    bad = [b for b in baselines if b not in BASELINES]
    if bad:
        raise ParameterError(f"unknown baseline(s) {bad}; allowed: {', '.join(BASELINES)}")
    for name, value, low, high in (
        ("window_months", window_months, 1, 120),
        ("window_days", window_days, 1, 365),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ParameterError(f"{name} {value!r} must be a whole number from {low} to {high}")
    return ReportParams(
        month, tuple(dict.fromkeys(categories)), window_months, baselines, window_days
    )


@dataclass(frozen=True)
class MonthData:
    """Everything the report shows, as of the end of the month."""

    params: ReportParams
    start: pd.Timestamp
    end: pd.Timestamp
    to_date: bool
    draws: pd.DataFrame
    pool: pd.DataFrame
    month_rounds: pd.DataFrame
    window_start: pd.Timestamp
    comparisons: pd.DataFrame
    labels: dict[str, str] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    #: when the feed was last retrieved with these data (None: not known)
    retrieved_at: pd.Timestamp | None = None

    @property
    def title(self) -> str:
        """``July 2023``, or ``March 2026 (to date)`` while the month is in progress."""
        return f"{month_label(self.start)}{' (to date)' if self.to_date else ''}"

    @property
    def as_of(self) -> pd.Timestamp:
        """The last day the report's data cover: the month's end, or, while the month is in
        progress, the newest round's day (not the month's end: later days are not known)."""
        if self.to_date and not self.draws.empty:
            return min(self.end, self.draws["date"].max())
        return self.end

    @property
    def to_date_note(self) -> str | None:
        """What a month in progress covers: ``to date: rounds up to round 402 on March 5,
        2026, feed checked March 5, 2026 at 11:00 UTC`` (None for a complete month)."""
        if not self.to_date:
            return None
        newest = self.draws.loc[self.draws["date"] == self.draws["date"].max()]
        rounds = (
            f"rounds up to round {newest['round'].iloc[-1]} on {day_label(newest['date'].iloc[-1])}"
            if not newest.empty
            else "no round yet"
        )
        return f"to date: {rounds}, {checked_words(self.retrieved_at)}"

    def label(self, family: str) -> str:
        """What readers call ``family`` (``STEM``); the identifier itself when unknown."""
        return self.labels.get(family, family)


def checked_words(checked_at) -> str:
    """When the feed was checked, in words (the one home of that wording).

    >>> checked_words("2026-08-07T14:05:09Z"), checked_words(None)
    ('feed checked August 7, 2026 at 14:05 UTC', 'feed check time unknown')
    """
    if checked_at is None or pd.isna(checked_at):
        return "feed check time unknown"
    moment = pd.Timestamp(checked_at)
    moment = moment.tz_convert("UTC") if moment.tzinfo else moment
    return f"feed checked {day_label(moment)} at {moment:%H:%M} UTC"


def month_bounds(month: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and the last day of ``month`` (``YYYY-MM``).

    >>> month_bounds("2024-02")
    (Timestamp('2024-02-01 00:00:00'), Timestamp('2024-02-29 00:00:00'))
    """
    start = pd.Timestamp(f"{month}-01")
    return start, start + pd.offsets.MonthEnd(0)


def is_to_date(month: str, retrieved_at=None) -> bool:
    """True when the feed was read before ``month`` ended (default: now), so the month's report
    is "to date": a month is complete only once the feed was retrieved after its last day (in
    UTC), since a round can still come on that day.

    >>> is_to_date("2026-03", "2026-03-05T12:00Z"), is_to_date("2026-02", "2026-03-05")
    (True, False)
    >>> is_to_date("2026-03", "2026-03-31T23:59Z"), is_to_date("2026-03", "2026-04-01T00:00Z")
    (True, False)
    """
    _, end = month_bounds(month)
    retrieved = pd.Timestamp(retrieved_at if retrieved_at is not None else datetime.now(UTC))
    retrieved = retrieved.tz_convert(None) if retrieved.tzinfo else retrieved
    return bool(retrieved < end + pd.Timedelta(days=1))


def report_months(
    draws: pd.DataFrame, since: str | None = None, until: str | None = None
) -> list[str]:
    """Every month from ``since`` (default: the first category round's month) to ``until``
    (default: the newest round's month), as ``YYYY-MM``, rounds or not."""
    first = since or f"{CATEGORY_START:%Y-%m}"
    last = until or f"{draws['date'].max():%Y-%m}"
    return [f"{p}" for p in pd.period_range(first, last, freq="M")]


def prepare_month(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    params: ReportParams,
    retrieved_at: pd.Timestamp | None = None,
    estimator=None,
) -> MonthData:
    """Cut the data at the end of the month, compute the baselines of the window's rounds (the
    window baseline looking only backwards: :data:`analysis.baselines.REPORT_WINDOW_LOOK`, so
    a baseline once published never changes) and each category's verdict.

    ``retrieved_at`` (when the feed was read) decides whether the month is still in progress
    ("to date"); default: now.
    """

    start, end = month_bounds(params.month)
    as_of = draws.loc[draws["date"] <= end].reset_index(drop=True)
    as_of_pool = pool.loc[pool["distribution_date"] <= end].reset_index(drop=True)
    window_start = start - pd.DateOffset(months=params.window_months - 1)
    comparisons = baseline_helpers.compare_with_baselines(
        as_of,
        as_of_pool,
        families=params.categories,
        window_days=params.window_days,
        estimator=estimator,
        since=window_start,
        baselines=params.baselines,
    )
    return MonthData(
        params=params,
        start=start,
        end=end,
        to_date=is_to_date(params.month, retrieved_at),
        draws=as_of,
        pool=as_of_pool,
        month_rounds=as_of.loc[as_of["date"] >= start].reset_index(drop=True),
        window_start=window_start,
        comparisons=comparisons.reset_index(drop=True),
        labels=family_labels(as_of),
        verdicts=verdicts(as_of, as_of_pool, params.categories, end, estimator),
        retrieved_at=None if retrieved_at is None else pd.Timestamp(retrieved_at),
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


def trend_words(verdict: Verdict | None, over_time: str = "") -> str:
    """The gap's change per year in a few words (pool comparisons only): the standing table's
    "Gap over time" and the end of :func:`verdict_line` (which adds ``over_time`` to "no clear
    change"); "–" without a change per year.

    >>> v = Verdict("h", "pool", 9, 5.0, -48, -66, -36, 0.95, "size", "", "", slope=15.0,
    ...             slope_low=5.0, slope_high=25.0)
    >>> trend_words(v)
    'narrowing by about 15 points a year'
    """
    if verdict is None or verdict.slope is None or verdict.estimate is None:
        return "–"
    if verdict.slope_low <= 0 <= verdict.slope_high:
        return f"no clear change{over_time}"
    narrows = (verdict.slope > 0) == (verdict.estimate < 0)
    return f"{'narrowing' if narrows else 'widening'} by about {_points(verdict.slope)} a year"


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
    >>> line.endswith("(typical gap: 95% range −66 to −36); narrowing by about 15 points a year.")
    True

    """
    if verdict.label == "too few rounds" or (verdict.estimate is None and verdict.rank_p is None):
        return f"Too few rounds to tell: {rounds_counted(verdict)}."
    if verdict.label == "size":
        where = "below" if verdict.estimate < 0 else "above"
        since = f" since {month_label(verdict.since)}" if verdict.since is not None else ""
        own = ", with the estimate's own error" if verdict.error_low is not None else ""
        trend = "" if verdict.slope is None else f"; {trend_words(verdict, ' over time')}"
        return (
            f"About {_points(verdict.estimate)} {where} the pool estimate over {verdict.n} "
            f"rounds{since} (typical gap: {range_words(verdict.level)} "
            f"{signed_points(verdict.low)} to "
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


def _cutoffs(rounds: pd.DataFrame) -> str:
    values = [f"{int(c)}" for c in rounds["cutoff"].dropna()]
    if len(values) == 1:
        row = rounds.iloc[0]
        size = f" ({int(row['invitations']):,} invitations)" if pd.notna(row["invitations"]) else ""
        return f"one round, cutoff {values[0]} on {day_label(row['date'])}{size}"
    return (
        f"{count_in_words(len(rounds), 'round')}, cutoffs {', '.join(values[:-1])} and {values[-1]}"
    )


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
                f"{last['round']} on {day_label(last['date'])}, cutoff {int(last['cutoff'])}."
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
