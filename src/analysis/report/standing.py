"""Where things stand, and what a general round would need today: the first thing the index and
a month's page show.

- :func:`standing` gives one :class:`Standing` per active family
  (:func:`analysis.taxonomy.active_families`: a round in the last 6 months; the focus families
  always): its latest round, the days since,
  the family's verdict (:func:`analysis.stats.verdict.verdicts`: the typical gap to the pool
  estimate, its range and its change per year) and the likely next cutoff
  (:func:`analysis.forecast.forecast_next_cutoff`, 80% range). Nothing is re-derived here.
- :func:`general_rounds` gives the cutoff an all-program round of 1,000, 3,000 and 5,000
  invitations would need on the newest published pool
  (:func:`analysis.pool.estimate.estimate_general_round`, with the range the baselines get), and
  the same at the end of each of the last 12 months.

Every number a reader sees is rounded in :mod:`analysis.vocabulary`; the records written to
``summary.json`` (:func:`standing_records`, :func:`general_rounds`) hold the words and numbers
as the pages show them, so the index shows what the month's page shows.

**Made once per change of what it is made from.** A family's likely next cutoff is fitted on its
own rounds only (exponential smoothing, replayed on its earlier rounds to size the range: most of
a month's build time), and a verdict on the rounds and pool up to the date. Both are kept in
``<data>/cache/standing/`` (:class:`StandingCache`), each under the sha256 of exactly what it is
made from and of the package's code: a month rebuilt without a change to those (it ended since it
was built to date, the report notebook changed) reads them back, and a new round, or IRCC's
revision of a round, refits only the forecast of the family it belongs to.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
from collections import Counter
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import config
from analysis import forecast as forecasting
from analysis.data import frame_digest
from analysis.forecast import Forecast
from analysis.pool.backtest import measured_error_bands
from analysis.pool.estimate import estimate_general_round
from analysis.pool.regime import regime_error_range
from analysis.report.month_report import trend_words
from analysis.stats.verdict import Verdict, comparison_kind, range_words, verdicts
from analysis.storage import hash_tree, write_bytes_atomic
from analysis.taxonomy import ACTIVE_MONTHS, ALL_PROGRAM, active_families, family_labels
from analysis.vocabulary import day_label, month_label, plural, signed_points, whole_points

#: The program whose rounds have been the de facto general rounds since all-program rounds
#: stopped (April 2024): the reference line beside the pool estimate.
REFERENCE_FAMILY = "cec"
#: The general rounds of the "Today" answer (invitations).
GENERAL_SIZES = (1000, 3000, 5000)
#: How many months the "Today" figure looks back.
GENERAL_MONTHS = 12


@dataclass(frozen=True)
class Standing:
    """One family's standing as of a date."""

    family: str
    label: str
    round: str
    date: pd.Timestamp
    invitations: float | None
    cutoff: float | None
    days_since: int
    verdict: Verdict | None
    forecast: Forecast | None
    category: bool = True
    #: True for CEC once all-program rounds stopped (it is then the reference line).
    reference: bool = False


# ------------------------------------------------------------------ made once per change


@functools.cache
def code_fingerprint() -> str:
    """sha256 of the package's code and tables and of the versions of the packages that fit
    (a cached result is never one an older code made)."""
    versions = ",".join(f"{p} {version(p)}" for p in ("pandas", "numpy", "scipy", "statsmodels"))
    return hashlib.sha256(
        (hash_tree(Path(__file__).parents[1], ["."]) + versions).encode()
    ).hexdigest()


class StandingCache:
    """Results kept under the sha256 of what they are made from (and of the code), one file
    each in ``folder``; None (or a folder that cannot be written, e.g. a read-only data copy)
    keeps nothing. A file that cannot be read back is a miss, made again. At most
    :attr:`keep` files are kept (the oldest go)."""

    keep = 4000

    def __init__(self, folder: Path | str | None) -> None:
        self.folder = None if folder is None else Path(folder)
        #: kind -> how many results were made and how many read back (for the tests and notes)
        self.made: Counter[str] = Counter()
        self.read: Counter[str] = Counter()

    def get(self, kind: str, parts: tuple, make):
        """The result of ``make()`` for ``parts`` (strings), read back when it was kept."""
        key = hashlib.sha256("\0".join((code_fingerprint(), kind, *parts)).encode()).hexdigest()
        path = None if self.folder is None else self.folder / f"{kind}-{key}.pickle"
        if path is not None and path.is_file():
            try:
                result = pickle.loads(path.read_bytes())  # noqa: S301 (written by make() below)
            except Exception:  # noqa: BLE001 (a damaged or outdated file: made again)
                pass
            else:
                self.read[kind] += 1
                return result
        result = make()
        self.made[kind] += 1
        if path is not None:
            self._write(path, result)
        return result

    def _write(self, path: Path, result) -> None:
        try:
            write_bytes_atomic(path, pickle.dumps(result))
            kept = sorted(path.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
            for old in kept[: max(0, len(kept) - self.keep)]:
                old.unlink(missing_ok=True)
        except OSError:  # a read-only data folder: nothing kept
            pass


def cache_folder(data_dir: Path | str | None = None) -> Path:
    """Where the standing table's parts are kept: ``<data>/cache/standing``."""
    return Path(data_dir or config.data_dir()) / "cache" / "standing"


def family_forecast(drawn: pd.DataFrame, family: str, cache: StandingCache | None = None):
    """:func:`analysis.forecast.forecast_next_cutoff` of ``family`` on its own rounds of
    ``drawn`` (the point and its 80% range depend on nothing else), kept in ``cache``."""
    rounds = drawn.loc[drawn["family"] == family]
    cache = cache or StandingCache(None)
    return cache.get(
        "forecast",
        (family, frame_digest(rounds)),
        lambda: forecasting.forecast_next_cutoff(rounds, family, window=forecasting.REPORT_WINDOW),
    )


def standing(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    as_of: Any,
    families: list[str] | None = None,
    known: dict[str, Verdict] | None = None,
    estimator: Any = None,
    cache: StandingCache | None = None,
) -> list[Standing]:
    """One :class:`Standing` per family (default :func:`active_families`) that has had a round
    by ``as_of``. ``known``: verdicts already made as of ``as_of`` (a month's ``data.verdicts``),
    used as they are; the others come from :func:`analysis.stats.verdict.verdicts` (``estimator``
    as there). ``draws`` and ``pool`` should already be cut at ``as_of``. ``cache``: where the
    forecasts and verdicts are kept (see the module's notes; None keeps nothing)."""
    cache = cache or StandingCache(None)
    as_of = pd.Timestamp(as_of)
    names = active_families(draws, as_of) if families is None else list(families)
    drawn = draws.loc[(draws["date"] <= as_of) & draws["cutoff"].notna()]
    names = [f for f in names if (drawn["family"] == f).any()]
    known = dict(known or {})
    categories = set(drawn.loc[drawn["is_category"].astype(bool), "family"].astype(str))
    # programs (CEC, PNP) are not compared with the pool estimate: no verdict for them
    missing = [f for f in names if f not in known and f in categories]
    if missing:
        made_from = (f"{as_of:%Y-%m-%d}", frame_digest(draws, pool), repr(estimator))
        for family in missing:
            known[family] = cache.get(
                "verdict",
                (family, *made_from),
                lambda family=family: verdicts(draws, pool, [family], as_of, estimator)[family],
            )
    labels = family_labels(draws)
    after_all_program = comparison_kind(draws, as_of)[0] != ALL_PROGRAM
    out = []
    for family in names:
        last = drawn.loc[drawn["family"] == family].sort_values("date").iloc[-1]
        forecast = family_forecast(drawn, family, cache)
        out.append(
            Standing(
                family=family,
                label=labels.get(family, family),
                round=str(last["round"]),
                date=pd.Timestamp(last["date"]),
                invitations=None if pd.isna(last["invitations"]) else float(last["invitations"]),
                cutoff=float(last["cutoff"]),
                days_since=int((as_of.normalize() - pd.Timestamp(last["date"])).days),
                verdict=known.get(family),
                forecast=forecast if forecast.status == "ok" else None,
                category=family in categories,
                reference=after_all_program and family == REFERENCE_FAMILY,
            )
        )
    return out


def gap_words(verdict: Verdict | None) -> str:
    """The typical gap with its range: ``−48 (−66 to −36)``; a dash when there is none.

    >>> from analysis.stats.verdict import Verdict
    >>> gap_words(Verdict("stem", "pool", 9, 5.0, -48.2, -66.0, -35.6, 0.95, "size", "", ""))
    '−48 (−66 to −36)'
    """
    if verdict is None or verdict.estimate is None:
        return "–"
    return (
        f"{signed_points(verdict.estimate)} ({signed_points(verdict.low)} to "
        f"{signed_points(verdict.high)})"
    )


def verdict_words(verdict: Verdict | None) -> str:
    """The verdict in a few words: what the table's verdict column says."""
    if verdict is None:
        return "–"
    if verdict.label == "too few rounds" or verdict.estimate is None and verdict.rank_p is None:
        return "too few rounds to tell"
    if verdict.label == "size":
        where = "below" if verdict.estimate < 0 else "above"
        return f"about {plural(abs(whole_points(verdict.estimate)), 'point')} {where} the pool"
    return {
        "below": "clearly lower than all-program rounds",
        "above": "clearly higher than all-program rounds",
    }.get(verdict.label, "no clear difference")


def program_words(row: Standing) -> str:
    """The verdict cell of a program's row (its rounds are not compared with the pool)."""
    if row.reference:
        return "the reference: de facto general rounds"
    return "a program, not compared"


def next_words(forecast: Forecast | None) -> str:
    """The likely next cutoff with its 80% range: ``452 (440-465)``."""
    if forecast is None or forecast.point is None:
        return "–"
    return (
        f"{whole_points(forecast.point)} "
        f"({whole_points(forecast.low)}-{whole_points(forecast.high)})"
    )


#: The column of a family's typical gap with its range (the verdict's level, :func:`range_words`).
GAP_COLUMN = f"Typical gap ({range_words()})"
#: The columns of the standing table, in order (the phone layout keeps the first five).
STANDING_COLUMNS = (
    "Category",
    "Latest round",
    "Cutoff",
    "Invitations",
    "Verdict",
    "Days since",
    GAP_COLUMN,
    "Gap over time",
    "Next cutoff (80% range)",
)


def standing_records(rows: list[Standing]) -> list[dict[str, str]]:
    """The table's rows as text, in :data:`STANDING_COLUMNS` order (for the page and the
    index's ``summary.json``)."""
    out = []
    for row in rows:
        label = f"{row.label} (reference)" if row.reference else row.label
        out.append(
            {
                "family": row.family,
                "Category": label,
                "Latest round": day_label(row.date),
                "Cutoff": f"{whole_points(row.cutoff)}",
                "Invitations": "–" if row.invitations is None else f"{int(row.invitations):,}",
                "Verdict": verdict_words(row.verdict) if row.category else program_words(row),
                "Days since": f"{row.days_since:,}",
                GAP_COLUMN: gap_words(row.verdict),
                "Gap over time": trend_words(row.verdict),
                "Next cutoff (80% range)": next_words(row.forecast),
            }
        )
    return out


def standing_table(records: list[dict[str, str]]) -> pd.DataFrame:
    """The standing records as the page's table (one row per family)."""
    return pd.DataFrame(records, columns=["family", *STANDING_COLUMNS]).drop(columns="family")


def standing_note(as_of: Any, rows: list[Standing]) -> str:
    """What the standing table compares, in plain words (under the table)."""
    reference = next((r for r in rows if r.reference), None)
    cec = (
        f" {reference.label} rounds have been the de facto general rounds since all-program "
        "rounds stopped: their row is the reference line beside the pool estimate."
        if reference is not None
        else ""
    )
    return (
        f"As of {day_label(pd.Timestamp(as_of))}. Every category with a round in the last "
        f"{ACTIVE_MONTHS} months, STEM and healthcare always. The gap is a category's cutoff "
        "minus the cutoff a round open to every program, of the same size, would have needed that "
        "day (estimated from IRCC's published scores of the pool), averaged over its rounds; a "
        f"negative gap means lower scores were invited. The {range_words()} allows for the "
        "estimate's own error and for rounds being related; the next cutoff's range held 80% of "
        f"the past forecasts' outcomes.{cec}"
    )


# ------------------------------------------------------------------ a general round today


def general_rounds(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    sizes: tuple[int, ...] = GENERAL_SIZES,
    months: int = GENERAL_MONTHS,
    cache: StandingCache | None = None,
) -> dict[str, Any] | None:
    """The cutoff an all-program round of each of ``sizes`` would need on the newest published
    pool (carried to the newest round: rounds since the distribution taken out, newcomers
    added), with its range (the regime backtest's, as the baselines get), and the same on the
    newest distribution of each of the last ``months`` months (on its own day). None without a
    pool distribution. Plain values, rounded once here, for ``summary.json``. ``cache``: where
    it is kept (made again only when the rounds or the pool change)."""
    if cache is not None:
        return cache.get(
            "general",
            (frame_digest(draws, pool), repr(sizes), f"{months}"),
            lambda: general_rounds(draws, pool, sizes, months),
        )

    if pool is None or pool.empty or draws.empty:
        return None
    error_range = regime_error_range(draws, pool)
    bands = measured_error_bands(draws, pool)
    newest = pd.Timestamp(pool["distribution_date"].max())
    on = max(newest, pd.Timestamp(draws["date"].max()))
    today = []
    for size in sizes:
        e = estimate_general_round(draws, pool, size, error_range=error_range, bands=bands)
        today.append(
            {
                "invitations": size,
                "cutoff": e.cutoff,
                "low": e.low,
                "high": e.high,
                "note": e.note,
            }  # fmt: skip
        )
    dates = pd.Series(pd.DatetimeIndex(pool["distribution_date"].dropna().unique()))
    dates = dates.loc[dates > newest - pd.DateOffset(months=months)]
    monthly = dates.groupby(dates.dt.to_period("M")).max().sort_values()
    history = []
    for when in monthly:
        row = {"date": f"{when:%Y-%m-%d}"}
        for size in sizes:
            row[f"{size}"] = estimate_general_round(
                draws,
                pool,
                size,
                distribution_date=when,
                on=when,
                error_range=error_range,
                bands=bands,
            ).cutoff
        history.append(row)
    return {
        "pool_date": f"{newest:%Y-%m-%d}",
        "on": f"{on:%Y-%m-%d}",
        "today": today,
        "history": history,
    }


def general_table(general: dict[str, Any]) -> pd.DataFrame:
    """The "Today" table: one row per round size."""
    return pd.DataFrame(
        [
            {
                "A general round of": f"{row['invitations']:,} invitations",
                "Would need about": f"{row['cutoff']}",
                "Likely range": f"{row['low']}-{row['high']}",
            }
            for row in general["today"]
        ]
    )


def general_caption(general: dict[str, Any]) -> str:
    """The "Today" table's caption, with the pool's date."""
    return f"A general round on the pool of {day_label(pd.Timestamp(general['pool_date']))}"


def general_sentence(general: dict[str, Any]) -> str:
    """What the "Today" table is, in one sentence."""
    pool_day = day_label(pd.Timestamp(general["pool_date"]))
    on_day = day_label(pd.Timestamp(general["on"]))
    return (
        "The cutoff a round open to every program would need, estimated from the newest pool "
        f"IRCC published (scores of {pool_day}), with the rounds held since taken out and "
        f"newcomers added up to {on_day}. The likely range is how far such estimates missed "
        "real all-program rounds."
    )


#: The figure's drawing box (SVG user units) and margins.
_WIDTH, _HEIGHT, _LEFT, _RIGHT, _TOP, _BOTTOM = 320, 140, 34, 8, 8, 22


def general_chart(general: dict[str, Any]) -> dict[str, Any] | None:
    """The small figure of how the general round's cutoff moved: one line per size over the
    last months, as coordinates for an inline SVG (no script, no image file), with its axis
    labels and an alt text. None with fewer than two months."""
    history = general.get("history") or []
    if len(history) < 2:
        return None
    sizes = [row["invitations"] for row in general["today"]]
    values = [row[f"{s}"] for row in history for s in sizes if row.get(f"{s}") is not None]
    low, high = min(values) - 5, max(values) + 5
    span_x = _WIDTH - _LEFT - _RIGHT
    span_y = _HEIGHT - _TOP - _BOTTOM

    def x(i: int) -> float:
        return round(_LEFT + span_x * i / (len(history) - 1), 1)

    def y(v: float) -> float:
        return round(_TOP + span_y * (high - v) / (high - low), 1)

    lines = []
    for number, size in enumerate(sizes, start=1):
        points = " ".join(
            f"{x(i)},{y(row[f'{size}'])}" for i, row in enumerate(history) if f"{size}" in row
        )
        last = history[-1][f"{size}"]
        lines.append(
            {
                "size": f"{size:,}",
                "points": points,
                "n": number,
                "label_y": y(last),
                "last": last,
            }  # fmt: skip
        )
    first, final = pd.Timestamp(history[0]["date"]), pd.Timestamp(history[-1]["date"])
    alt = "; ".join(
        f"{line['size']} invitations: {history[0][size]} in {month_label(first)}, "
        f"{line['last']} in {month_label(final)}"
        for line, size in zip(lines, [f"{s}" for s in sizes], strict=True)
    )
    return {
        "width": _WIDTH,
        "height": _HEIGHT,
        "lines": lines,
        "ticks": [{"y": y(v), "text": f"{v}"} for v in (round(high - 5), round(low + 5))],
        "left": _LEFT,
        "bottom": _HEIGHT - 6,
        "first": month_label(first),
        "last": month_label(final),
        "right": _WIDTH - _RIGHT,
        "alt": f"Cutoff a general round would need, newest pool of each month: {alt}.",
    }
