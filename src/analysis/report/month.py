"""A month's report as of its end: the parameters (checked before any analysis), the month's
bounds, and the slice of the data the report shows, with the baselines of the window's rounds.
Words are in :mod:`analysis.report.narrative`, tables in :mod:`analysis.report.tables` and
:mod:`analysis.report.provenance`, figures in :mod:`analysis.report.charts` and ``summary.json`` in
:mod:`analysis.report.summary`.

A month's report is as of the end of that month: :func:`prepare_month` keeps only rounds dated up
to then (and pool distributions published up to then), so later rounds never change it; only
IRCC's revisions of its own rounds do.

>>> params = check_parameters("2023-07", data_end=pd.Timestamp("2026-03-05"))
>>> params.month, params.categories
('2023-07', ('stem', 'healthcare'))"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from analysis import baselines as baseline_helpers
from analysis.baselines import BASELINES
from analysis.errors import ParameterError
from analysis.stats.verdict import Verdict, verdicts
from analysis.taxonomy import (
    ALL_PROGRAM,
    CATEGORY_START,
    FOCUS_FAMILIES,
    family_labels,
    known_families,
)
from analysis.vocabulary import check_month, day_label, month_label, plural

#: The window baseline of a report looks only backwards, so a baseline once published never
#: changes (later rounds cannot enter it): see :func:`analysis.baselines.window_baseline`.
WINDOW_LOOK = "before"
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
        import ast

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
    window_days: int = 30


def check_parameters(
    month,
    categories: Iterable[str] | str | None = FOCUS_FAMILIES,
    window_months=12,
    baselines: Iterable[str] | str | None = BASELINES,
    window_days=30,
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
    window baseline looking only backwards: :data:`WINDOW_LOOK`) and each category's verdict.

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
        window_look=WINDOW_LOOK,
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
