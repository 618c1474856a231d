"""The monthly report's content: parameters, the month's data "as of" its end, the headline
paragraph, the tables and ``summary.json``. Figures are in :mod:`analysis.report.charts`.

A month's report is as of the end of that month: :func:`prepare_month` keeps only rounds dated up
to then (and pool distributions published up to then), so later rounds never change it; only
IRCC's revisions of its own rounds do.

>>> params = check_parameters("2023-07", data_end=pd.Timestamp("2026-03-05"))
>>> params.month, params.categories
('2023-07', ('stem', 'healthcare'))
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from analysis import baselines as baseline_helpers
from analysis import trends
from analysis.errors import ParameterError
from analysis.taxonomy import family_labels, known_families

DEFAULT_CATEGORIES = ("stem", "healthcare")
BASELINE_KINDS = baseline_helpers.BASELINES
BASELINE_NAMES = {
    "window": "all-program rounds within {days} days",
    "latest": "the latest all-program round before it",
    "pool": "an all-program round of the same size, estimated from the pool",
}
#: Category-based selection began with the first category rounds in June 2023.
CATEGORY_ERA_START = pd.Timestamp("2023-06-01")
FIRST_MONTH = "2015-01"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


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
    month: str
    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    window_months: int = 12
    baselines: tuple[str, ...] = BASELINE_KINDS
    window_days: int = 30


def check_parameters(
    month,
    categories: Iterable[str] | str | None = DEFAULT_CATEGORIES,
    window_months=12,
    baselines: Iterable[str] | str | None = BASELINE_KINDS,
    window_days=30,
    data_end: pd.Timestamp | None = None,
) -> ReportParams:
    """Validate the report's parameters before any analysis; raise :class:`ParameterError`.

    ``month`` must be text ``YYYY-MM`` (papermill can turn ``2023-07`` into a number: pass it
    quoted), a real month, and not after ``data_end`` (the newest round's date).

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
    match = _MONTH.match(month.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise ParameterError(f"month {month!r} is not a month: write it as YYYY-MM, e.g. '2023-07'")
    month = month.strip()
    if month < FIRST_MONTH:
        raise ParameterError(f"month {month} is before Express Entry's first round (2015-01)")
    if data_end is not None and month > f"{data_end:%Y-%m}":
        raise ParameterError(
            f"month {month} is after the data ends ({data_end:%Y-%m-%d}); "
            f"allowed: {FIRST_MONTH} to {data_end:%Y-%m}"
        )
    if categories is None:
        categories = DEFAULT_CATEGORIES
    categories = _as_list(categories)
    families = known_families()
    unknown = [c for c in categories if c not in families]
    if unknown or not categories:
        allowed = ", ".join(f for f in families if f != "all_program")
        raise ParameterError(
            f"unknown famil{'ies' if len(unknown) > 1 else 'y'} "
            f"{', '.join(map(repr, unknown)) or '(none given)'}; allowed: {allowed}"
        )
    if "all_program" in categories:
        raise ParameterError("all_program is the baseline, not a category to compare")
    baselines = _as_list(baselines)
    baselines = tuple(baselines or BASELINE_KINDS)
    bad = [b for b in baselines if b not in BASELINE_KINDS]
    if bad:
        raise ParameterError(f"unknown baseline(s) {bad}; allowed: {', '.join(BASELINE_KINDS)}")
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

    @property
    def title(self) -> str:
        return f"{self.start:%B %Y}{' (to date)' if self.to_date else ''}"

    def label(self, family: str) -> str:
        return self.labels.get(family, family)


def month_bounds(month: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(f"{month}-01")
    return start, start + pd.offsets.MonthEnd(0)


def is_to_date(month: str, retrieved_at=None) -> bool:
    """True when the feed was read before ``month`` ended (default: now), so the month's report
    is "to date".

    >>> is_to_date("2026-03", "2026-03-05T12:00Z"), is_to_date("2026-02", "2026-03-05")
    (True, False)
    """
    _, end = month_bounds(month)
    retrieved = pd.Timestamp(retrieved_at if retrieved_at is not None else datetime.now(UTC))
    retrieved = retrieved.tz_convert(None) if retrieved.tzinfo else retrieved
    return bool(retrieved.normalize() < end)


def report_months(
    draws: pd.DataFrame, since: str | None = None, until: str | None = None
) -> list[str]:
    """Every month from ``since`` (default: the first category round's month) to ``until``
    (default: the newest round's month), as ``YYYY-MM``, rounds or not."""
    first = since or f"{CATEGORY_ERA_START:%Y-%m}"
    last = until or f"{draws['date'].max():%Y-%m}"
    return [f"{p}" for p in pd.period_range(first, last, freq="M")]


def prepare_month(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    params: ReportParams,
    retrieved_at: pd.Timestamp | None = None,
    estimator=None,
) -> MonthData:
    """Cut the data at the end of the month and compute the baselines of the window's rounds.

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
        labels=family_labels(),
    )


# ------------------------------------------------------------------ words


def _day(stamp) -> str:
    return f"{pd.Timestamp(stamp):%B} {pd.Timestamp(stamp).day}"


def _points(gap: float) -> str:
    gap = float(gap)
    size = f"{abs(gap):.0f}" if float(abs(gap)).is_integer() else f"{abs(gap):.1f}"
    if round(gap, 1) == 0:
        return "level with"
    return f"{size} point{'s' if size != '1' else ''} {'below' if gap < 0 else 'above'}"


def _count(n: int, word: str) -> str:
    words = {0: "no", 1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
    return f"{words.get(n, f'{n:,}')} {word}{'s' if n != 1 else ''}"


def _baseline_phrase(row: pd.Series) -> str:
    kind = row["baseline"]
    value = row["baseline_cutoff"]
    if pd.isna(value):
        return ""
    if kind == "latest":
        return (
            f"{_points(row['gap'])} the latest all-program round ({row['detail']}, "
            f"cutoff {value:.0f})"
        )
    if kind == "window":
        n = int(row["n_reference"])
        return (
            f"{_points(row['gap'])} the {_count(n, 'all-program round')} within "
            f"{{days}} days (mean cutoff {value:.0f})"
        )
    return (
        f"{_points(row['gap'])} the {value:.0f} an all-program round of the same size would "
        f"have needed that day (estimated from the pool, {row['low']:.0f}-{row['high']:.0f})"
    )


def latest_all_program(draws: pd.DataFrame) -> pd.Series | None:
    rows = draws.loc[draws["is_all_program"] & draws["cutoff"].notna()]
    return None if rows.empty else rows.iloc[-1]


def _family_sentence(data: MonthData, family: str) -> str:
    label = data.label(family)
    rounds = data.month_rounds.loc[data.month_rounds["family"] == family]
    earlier = data.draws.loc[(data.draws["family"] == family) & (data.draws["date"] < data.start)]
    if rounds.empty:
        if earlier.empty:
            return f"There has been no {label} round yet."
        last = earlier.iloc[-1]
        return (
            f"There was no {label} round this month; the latest was round {last['round']} on "
            f"{_day(last['date'])}, {last['date']:%Y} ({last['invitations']:,} invitations, "
            f"cutoff {last['cutoff']})."
        )
    parts = []
    for row in rounds.itertuples():
        compared = data.comparisons.loc[data.comparisons["round"] == row.round]
        phrases = [
            p.replace("{days}", str(data.params.window_days))
            for p in (_baseline_phrase(r) for _, r in compared.iterrows())
            if p
        ]
        text = (
            f"round {row.round} on {_day(row.date)} invited {row.invitations:,} at a cutoff "
            f"of {row.cutoff}"
        )
        if phrases:
            text += ": " + "; ".join(phrases)
        parts.append(text)
    lead = f"{label}: " if len(rounds) == 1 else f"{label}, {_count(len(rounds), 'round')}: "
    sentence = lead + "; ".join(parts) + "."
    if not earlier.empty and rounds["cutoff"].notna().any():
        before = earlier.iloc[-1]
        change = float(rounds["cutoff"].min() - before["cutoff"])
        direction = (
            "the same as"
            if change == 0
            else f"{abs(change):.0f} point{'s' if abs(change) != 1 else ''} "
            f"{'lower than' if change < 0 else 'higher than'}"
        )
        sentence += (
            f" The lowest {label} cutoff this month was {direction} the previous "
            f"{label} round ({before['cutoff']} on {_day(before['date'])}, "
            f"{before['date']:%Y})."
        )
    return sentence[0].upper() + sentence[1:]


def _versus_previous_month(data: MonthData) -> str:
    start = data.start - pd.DateOffset(months=1)
    before = data.draws.loc[(data.draws["date"] >= start) & (data.draws["date"] < data.start)]
    now, then = len(data.month_rounds), len(before)
    if now == then:
        change = "As many rounds as"
    else:
        more = "more" if now > then else "fewer"
        change = f"{_count(abs(now - then), 'round').capitalize()} {more} than"
    invitations = int(before["invitations"].sum())
    return f"{change} in {start:%B %Y} ({_count(then, 'round')}, {invitations:,} invitations)."


def headline(data: MonthData) -> str:
    """The report's first paragraph, generated from the numbers: the month's rounds, each target
    category's cutoffs against the all-program baselines, and what changed from before."""
    rounds = data.month_rounds
    period = f"{data.title}" if not data.to_date else f"{data.start:%B %Y} so far"
    if rounds.empty:
        opening = f"IRCC held no Express Entry round in {period}."
    else:
        kinds = rounds.groupby("family", sort=False).size()
        listed = ", ".join(f"{n} {data.label(f)}" for f, n in kinds.items())
        opening = (
            f"In {period} IRCC held {_count(len(rounds), 'round')} "
            f"({listed}) and issued {int(rounds['invitations'].sum()):,} invitations."
        )
    sentences = [opening, _versus_previous_month(data)]
    reference = latest_all_program(data.draws)
    in_month_all = rounds.loc[rounds["is_all_program"]]
    if reference is not None and in_month_all.empty:
        age = (data.end - reference["date"]).days
        if age > 60:
            sentences.append(
                f"There has been no all-program round since {_day(reference['date'])}, "
                f"{reference['date']:%Y} (cutoff {reference['cutoff']}), {age:,} days before the "
                "end of the month, so the fairest comparison is the pool estimate: the cutoff an "
                "all-program round of the same size would have needed."
            )
    elif not in_month_all.empty:
        cutoffs = ", ".join(str(c) for c in in_month_all["cutoff"].dropna())
        sentences.append(f"All-program rounds this month had cutoffs of {cutoffs}.")
    sentences.extend(_family_sentence(data, f) for f in data.params.categories)
    return " ".join(sentences)


_SHORT_BASELINE = {
    "window": "nearby all-program",
    "latest": "last all-program",
    "pool": "pool estimate",
}


def teaser(data: MonthData) -> str:
    """One line for the site index: the month's rounds and each category's lowest cutoff with
    its gaps to the baselines.

    e.g. ``Six rounds, 9,600 invitations. STEM 486 (-11 vs nearby all-program, -25 vs last
    all-program, -12 vs pool estimate); Healthcare 463 (...)``
    """
    rounds = data.month_rounds
    parts = [
        ("Month to date: " if data.to_date else "")
        + f"{_count(len(rounds), 'round').capitalize()}, "
        f"{int(rounds['invitations'].sum()):,} invitations."
    ]
    found = []
    for family in data.params.categories:
        mine = rounds.loc[(rounds["family"] == family) & rounds["cutoff"].notna()]
        if mine.empty:
            found.append(f"No {data.label(family)} round")
            continue
        lowest = mine.loc[mine["cutoff"].idxmin()]
        gaps = data.comparisons.loc[
            (data.comparisons["round"] == lowest["round"]) & data.comparisons["gap"].notna()
        ]
        detail = ", ".join(
            f"{g.gap:+.0f} vs {_SHORT_BASELINE[g.baseline]}" for g in gaps.itertuples()
        )
        found.append(
            f"{data.label(family)} {lowest['cutoff']}" + (f" ({detail})" if detail else "")
        )
    return " ".join([*parts, "; ".join(found) + "."])


# ------------------------------------------------------------------ tables


def month_rounds_table(data: MonthData) -> pd.DataFrame:
    """The month's rounds, all families; ``target`` marks the report's categories."""
    rounds = data.month_rounds
    return pd.DataFrame(
        {
            "Round": rounds["round"],
            "Date": rounds["date"].dt.strftime("%Y-%m-%d"),
            "Round type (as IRCC names it)": rounds["name"],
            "Family": rounds["family"].map(data.label),
            "Invitations": rounds["invitations"],
            "Cutoff (CRS)": rounds["cutoff"],
            "Report category": np.where(rounds["family"].isin(data.params.categories), "yes", ""),
        }
    )


def comparison_table(data: MonthData) -> pd.DataFrame:
    """Every target-category round in the window against each baseline, wide: one row per round."""
    long = data.comparisons
    if long.empty:
        return pd.DataFrame(columns=["Round", "Date", "Category", "Invitations", "Cutoff"])
    wide = baseline_helpers.gaps_wide(long)
    out = pd.DataFrame(
        {
            "Round": wide["round"],
            "Date": wide["date"].dt.strftime("%Y-%m-%d"),
            "Category": wide["family"].map(data.label),
            "Invitations": wide["invitations"],
            "Cutoff": wide["cutoff"],
        }
    )
    names = {
        "window": f"±{data.params.window_days} days",
        "latest": "latest before",
        "pool": "pool estimate",
    }
    for kind in data.params.baselines:
        if f"baseline_{kind}" in wide:
            out[f"All-program: {names[kind]}"] = (
                pd.to_numeric(wide[f"baseline_{kind}"]).round(0).astype("Int64")
            )
            out[f"Gap vs {names[kind]}"] = (
                pd.to_numeric(wide[f"gap_{kind}"]).round(0).astype("Int64")
            )
    return out.reset_index(drop=True)


def baseline_notes(data: MonthData) -> pd.DataFrame:
    """The detail behind each baseline of the month's target rounds (which rounds, which pool)."""
    month = data.comparisons.loc[data.comparisons["date"] >= data.start]
    return pd.DataFrame(
        {
            "Round": month["round"],
            "Category": month["family"].map(data.label),
            "Baseline": month["baseline"].map(
                lambda k: BASELINE_NAMES[k].format(days=data.params.window_days)
            ),
            "How it was found": month["detail"],
        }
    ).reset_index(drop=True)


def statistics(data: MonthData) -> tuple[pd.DataFrame, list[str]]:
    """Category versus all-program cutoffs since June 2023 (as of the month's end): the table and
    the caveats in words."""
    from analysis import stats

    rows, caveats = [], []
    for family in data.params.categories:
        result = stats.compare_cutoffs(data.draws, family, since=CATEGORY_ERA_START)
        rows.append(
            {
                "Category": data.label(family),
                "Rounds (category / all-program)": f"{result.n_family} / {result.n_reference}",
                "Mean cutoff (category)": result.mean_family,
                "Mean cutoff (all-program)": result.mean_reference,
                "Difference": result.difference,
                "95% interval": (
                    f"{result.ci_low:.1f} to {result.ci_high:.1f}"
                    if result.ci_low is not None
                    else "not enough data"
                ),
                "Welch p (n)": (
                    f"{result.welch_p:.3g} (n={result.n_family}+{result.n_reference})"
                    if result.welch_p is not None
                    else "–"
                ),
                "Rank check p": (
                    f"{result.rank_p:.3g} ({result.rank_test})"
                    if result.rank_p is not None
                    else "–"
                ),
            }
        )
        caveats.extend(f"{data.label(family)}: {c}" for c in result.caveats)
    return pd.DataFrame(rows), caveats


def regression(data: MonthData) -> tuple[pd.DataFrame, list[str]]:
    """Cutoff on family with a time trend and HAC errors, since June 2023, as of the month."""
    from analysis import stats

    result = stats.cutoff_regression(
        data.draws, families=data.params.categories, since=CATEGORY_ERA_START
    )
    if result.status != "ok":
        return pd.DataFrame({"Result": [f"{result.status}: {result.reason}"]}), list(result.caveats)
    table = result.table.rename(
        columns={
            "term": "Term",
            "estimate": "Estimate (points)",
            "ci_low": "95% low",
            "ci_high": "95% high",
            "p_value": "p",
            "n": "Rounds",
        }
    ).drop(columns=["std_error"], errors="ignore")
    return table, list(result.caveats)


def forecasts(data: MonthData) -> pd.DataFrame:
    """Next cutoff per target category (80% interval) and how such forecasts did before."""
    from analysis import forecast as forecasting

    rows = []
    for family in data.params.categories:
        forecast = forecasting.forecast_next_cutoff(data.draws, family)
        _, accuracy = forecasting.forecast_backtest(data.draws, family)
        ok = forecast.status == "ok"
        rows.append(
            {
                "Category": data.label(family),
                "Rounds so far": forecast.n_rounds,
                "Last cutoff": forecast.last_cutoff,
                "Next cutoff (forecast)": f"{forecast.point:.0f}" if ok else forecast.status,
                "80% interval": f"{forecast.low:.0f}-{forecast.high:.0f}" if ok else "–",
                "Past forecasts: mean abs. error": (
                    f"{accuracy.mae:.1f} (n={accuracy.n})" if accuracy.status == "ok" else "–"
                ),
                "Past forecasts: share inside interval": (
                    f"{accuracy.coverage:.0%}" if accuracy.status == "ok" else "–"
                ),
                "Notes": "; ".join(forecast.notes) if ok else (forecast.reason or ""),
            }
        )
    return pd.DataFrame(rows)


def cadence(data: MonthData) -> pd.DataFrame:
    """Days between rounds per family (as of the month's end), families active in the window."""
    summary = trends.summarize_round_gaps(data.draws, as_of=data.end)
    active = summary.loc[summary["last_date"] >= data.window_start]
    return (
        pd.DataFrame(
            {
                "Family": active["family"].map(data.label),
                "Rounds so far": active["rounds"],
                "Median days between rounds": active["median_gap_days"],
                "Shortest gap (days)": active["min_gap_days"],
                "Longest gap (days)": active["max_gap_days"],
                "Last round": active["last_round"],
                "Last date": active["last_date"].dt.strftime("%Y-%m-%d"),
                "Days since, at month end": active["days_since_last"],
            }
        )
        .sort_values("Rounds so far", ascending=False)
        .reset_index(drop=True)
    )


def tie_break(data: MonthData) -> pd.DataFrame:
    """Tie-break lag of the window's target-category and all-program rounds, in days."""
    lag = trends.tie_break_lag(data.draws)
    keep = lag["date"].ge(data.window_start) & lag["family"].isin(
        [*data.params.categories, "all_program"]
    )
    rows = lag.loc[keep].sort_values("date", ascending=False)
    return pd.DataFrame(
        {
            "Round": rows["round"],
            "Date": rows["date"].dt.strftime("%Y-%m-%d"),
            "Family": rows["family"].map(data.label),
            "Drawn at (UTC)": rows["drawn_at"].dt.strftime("%Y-%m-%d %H:%M"),
            "Tie-break: profiles submitted before (UTC)": rows["tie_break_at"].dt.strftime(
                "%Y-%m-%d %H:%M"
            ),
            "Lag (days)": rows["lag_days"].round(1),
        }
    ).reset_index(drop=True)


def revisions_for_month(revisions: pd.DataFrame, data: MonthData, limit: int = 60) -> pd.DataFrame:
    """IRCC's changes to rounds this report covers (dated up to the month's end), newest first."""
    dates = data.draws.set_index("round")["date"]
    covered = revisions.loc[revisions["round"].isin(dates.index)]
    return (
        covered.assign(date=covered["round"].map(dates))
        .sort_values(["snapshot", "date"], ascending=False)
        .head(limit)[["snapshot", "round", "date", "change", "field", "old", "new"]]
        .assign(date=lambda d: d["date"].dt.strftime("%Y-%m-%d"))
        .reset_index(drop=True)
    )


def quality_for_month(quality: pd.DataFrame, data: MonthData) -> pd.DataFrame:
    """Data-quality findings about rounds in the report's window (plus feed-level ones)."""
    window_rounds = data.draws.loc[data.draws["date"] >= data.window_start, "round"]
    keep = quality["round"].isin(window_rounds) | quality["round"].isna()
    return quality.loc[keep].reset_index(drop=True)


def data_notes(
    meta: dict,
    params: ReportParams,
    packages: Iterable[str] = (
        "pandas",
        "numpy",
        "statsmodels",
        "scipy",
        "matplotlib",
        "seaborn",
        "papermill",
        "nbconvert",
        "pandera",
    ),
) -> pd.DataFrame:
    """Where the numbers came from: snapshot, retrieval, hash, code and package versions,
    parameters."""
    from importlib.metadata import version

    from analysis import __version__

    facts = {
        "Feed": "IRCC, Express Entry rounds of invitations (Open Government Licence - Canada)",
        "Snapshot file": meta.get("file", "unknown"),
        "Retrieved (UTC)": meta.get("retrieved_at", "unknown"),
        "Retrieved from": meta.get("source", "unknown"),
        "sha256": meta.get("sha256", "unknown"),
        "Rounds in snapshot": str(meta.get("rounds_clean", "unknown")),
        "Code": f"analysis {__version__}, tables made by cleaning code "
        f"{str(meta.get('code', 'unknown'))[:12]}",
        "Packages": ", ".join(f"{p} {version(p)}" for p in packages),
        "Parameters": json.dumps(asdict(params)),
    }
    return pd.DataFrame({"Item": list(facts), "Value": list(facts.values())})


# ------------------------------------------------------------------ summary.json


def _number(value):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return round(float(value), 2)
    return value


def summary(
    data: MonthData,
    headline_text: str,
    forecast_table: pd.DataFrame | None = None,
    meta: dict | None = None,
) -> dict:
    """The month's key figures for anyone who wants the numbers without the page."""
    categories = {}
    for family in data.params.categories:
        rounds = data.month_rounds.loc[data.month_rounds["family"] == family]
        items = []
        for row in rounds.itertuples():
            gaps = data.comparisons.loc[data.comparisons["round"] == row.round]
            items.append(
                {
                    "round": row.round,
                    "date": f"{row.date:%Y-%m-%d}",
                    "invitations": _number(row.invitations),
                    "cutoff": _number(row.cutoff),
                    "baselines": {
                        g.baseline: {
                            "cutoff": _number(g.baseline_cutoff),
                            "gap": _number(g.gap),
                            "low": _number(g.low),
                            "high": _number(g.high),
                            "detail": g.detail,
                        }
                        for g in gaps.itertuples()
                    },
                }
            )
        categories[family] = {
            "label": data.label(family),
            "rounds": items,
            "invitations": int(rounds["invitations"].sum()),
            "lowest_cutoff": _number(rounds["cutoff"].min()) if len(rounds) else None,
        }
    forecasts_out = []
    if forecast_table is not None:
        forecasts_out = [
            {k: _number(v) for k, v in row.items()} for row in forecast_table.to_dict("records")
        ]
    return {
        "month": data.params.month,
        "to_date": data.to_date,
        "as_of": f"{data.end:%Y-%m-%d}",
        "title": data.title,
        "headline": headline_text,
        "teaser": teaser(data),
        "rounds": len(data.month_rounds),
        "invitations": int(data.month_rounds["invitations"].sum()),
        "categories": categories,
        "forecasts": forecasts_out,
        "parameters": asdict(data.params),
        "snapshot": {k: (meta or {}).get(k) for k in ("file", "sha256", "retrieved_at")},
    }


def write_summary(payload: dict, folder) -> None:
    """Write ``summary.json`` (sorted keys, stable bytes) into ``folder``."""
    from pathlib import Path

    from analysis.storage import write_text_atomic

    write_text_atomic(
        Path(folder) / "summary.json",
        json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
    )


# ------------------------------------------------------------------ inputs and display


@dataclass(frozen=True)
class Inputs:
    """The processed tables a report reads, and which snapshot they came from."""

    draws: pd.DataFrame
    pool: pd.DataFrame
    revisions: pd.DataFrame
    quality: pd.DataFrame
    meta: dict

    @property
    def retrieved_at(self) -> pd.Timestamp | None:
        stamp = self.meta.get("retrieved_at")
        return pd.Timestamp(stamp) if stamp else None

    @property
    def data_end(self) -> pd.Timestamp:
        return self.draws["date"].max()


def load_inputs(data_dir=None) -> Inputs:
    """Read the processed tables from ``data_dir`` (default: ``EE_DATA_DIR`` or ``data/``)."""
    from pathlib import Path

    from analysis import config
    from analysis.data import load_table, read_meta

    processed = Path(data_dir) / "processed" if data_dir else config.processed_dir()
    tables = {n: load_table(n, processed) for n in ("draws", "pool", "revisions", "quality")}
    return Inputs(**tables, meta=read_meta(processed) or {})


def show_list(items: Iterable[str], title: str | None = None) -> None:
    """Display sentences (caveats, notes) as an escaped bulleted list."""
    from markupsafe import Markup

    from analysis.publish import display as figures

    items = [i for i in items if i]
    if not items:
        return
    body = Markup("").join(Markup("<li>{}</li>").format(item) for item in items)
    heading = Markup("<p><strong>{}</strong></p>").format(title) if title else Markup("")
    figures.show_html("{heading}<ul>{body}</ul>", heading=heading, body=body)
