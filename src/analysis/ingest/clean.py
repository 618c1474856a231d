"""From the feed's rounds to tidy tables: ``draws`` (one row per round) and ``pool`` (the CRS
distribution of the candidates in the pool, long form), with a data-quality log.

What is a warning and what is an error is decided per field (see README, "Bad input"):
a round that cannot be identified or placed in time stops the run; a value that does not parse
is nulled, warned about, and the row kept.

>>> rounds = [{"drawNumber": "255", "drawDate": "2023-07-05", "drawDateFull": "July 5, 2023",
...            "drawName": "STEM occupations (2023-1)", "drawSize": "500", "drawCRS": "486"}]
>>> result = clean_rounds(rounds)
>>> row = result.draws.iloc[0]
>>> row["round"], row["family"], int(row["invitations"]), int(row["cutoff"])
('255', 'stem', 500, 486)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pandas as pd

from analysis.data import require_columns
from analysis.ingest import feed as feed_format
from analysis.ingest.feed import MAX_SCORE, MIN_SCORE
from analysis.ingest.parse import (
    invisible_characters,
    parse_count,
    parse_date,
    parse_score,
    parse_timestamp,
    read_round_date,
    shown,
    without_invisible,
)
from analysis.ingest.quality import QualityLog
from analysis.months import EXPRESS_ENTRY_START
from analysis.taxonomy import ALL_PROGRAM, UNCLASSIFIED, Category, classify

#: The leaf bins of the pool distribution: field -> (lowest score, highest score).
LEAF_BINS = {
    "dd1": (601, MAX_SCORE),
    "dd2": (501, 600),
    "dd4": (491, 500),
    "dd5": (481, 490),
    "dd6": (471, 480),
    "dd7": (461, 470),
    "dd8": (451, 460),
    "dd10": (441, 450),
    "dd11": (431, 440),
    "dd12": (421, 430),
    "dd13": (411, 420),
    "dd14": (401, 410),
    "dd15": (351, 400),
    "dd16": (301, 350),
    "dd17": (MIN_SCORE, 300),
}
#: Subtotal fields and the fields they sum.
SUBTOTALS = {
    "dd3": ("dd4", "dd5", "dd6", "dd7", "dd8"),
    "dd9": ("dd10", "dd11", "dd12", "dd13", "dd14"),
    "dd18": ("dd1", "dd2", "dd3", "dd9", "dd15", "dd16", "dd17"),
}
#: Version years beyond this are not read as years (the schema's bound).
LATEST_VERSION_YEAR = 2100
#: Where a round has no published distribution, more invitations than this are not believed
#: (the largest rounds have invited tens of thousands, never a hundred thousand).
MAX_INVITATIONS = 100_000
#: A cutoff below this is not believed: a score of 0 ranks nobody.
MIN_CUTOFF = 1
#: Identical duplicate rounds warned about one by one; beyond this, one warning sums them up.
DUPLICATES_LISTED = 5

DRAW_COLUMNS = [
    "round",
    "date",
    "month",
    "drawn_at",
    "invitations",
    "cutoff",
    "tie_break_at",
    "name",
    "programs",
    "family",
    "label",
    "selection",
    "version",
    "version_year",
    "is_all_program",
    "is_category",
    "distribution_date",
    "removed_since",
]
POOL_COLUMNS = ["distribution_date", "score_low", "score_high", "candidates", "bin", "round"]

#: A round number: ASCII digits (at most 9) and an optional letter (``91a``). re.ASCII keeps
#: ``\d``-like classes and IGNORECASE from accepting other scripts' digits or letters.
_ROUND_NUMBER = re.compile(r"([0-9]{1,9})([a-z]?)", re.IGNORECASE | re.ASCII)
# No two adjacent repeats that can match the same characters: linear time on any text.
_MARKUP = re.compile(r"<\s*(?:/\s*)?[a-z!]|&#?\w+;|\bon\w+\s*=|javascript:", re.IGNORECASE)


@dataclass(frozen=True)
class CleanResult:
    """The tables cleaning makes from one feed: ``draws``, ``pool`` and the ``quality`` log."""

    draws: pd.DataFrame
    pool: pd.DataFrame
    quality: pd.DataFrame


def round_sort_key(number: str) -> tuple[int, str]:
    """``'91a'`` -> ``(91, 'a')``: rounds sort by number, then by letter (anything that is not a
    round number sorts last)."""
    match = _ROUND_NUMBER.fullmatch(number)
    return (int(match[1]), match[2].lower()) if match else (10**9, number)


def canonical_round(number: str) -> str | None:
    """The round number as the tables write it: no leading zeros, a lower-case letter; None when
    ``number`` is not a round number (ASCII digits, at most 9, and an optional letter).

    >>> canonical_round("0434"), canonical_round("91A"), canonical_round("٤٣٤")
    ('434', '91a', None)
    """
    match = _ROUND_NUMBER.fullmatch(number)
    return f"{int(match[1])}{match[2].lower()}" if match else None


def in_round_order(draws: pd.DataFrame) -> pd.DataFrame:
    """Rounds by date, then by round number on the same day (``91a`` before ``91b``): the order
    IRCC drew them in, and the order of the ``draws`` table. The index is kept, so a caller can
    put its results back in the input's order with ``sort_index()``.

    The round number decides between rounds of one day because it is IRCC's own sequence; the
    order rows happen to arrive in is not (the feed lists rounds newest first).

    >>> rounds = pd.DataFrame({"round": ["91b", "92", "91a"],
    ...                        "date": pd.to_datetime(["2018-06-13", "2018-06-25", "2018-06-13"])})
    >>> in_round_order(rounds)["round"].tolist()
    ['91a', '91b', '92']
    """
    require_columns(draws, ["round", "date"], "in_round_order")
    key = draws["round"].astype("string").fillna("").map(round_sort_key)
    return (
        draws.assign(_round_key=key)
        .sort_values(["date", "_round_key"], kind="stable")
        .drop(columns="_round_key")
    )


def _text(value) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _round_date(text: str) -> date:
    """:func:`~analysis.parse.parse_date`, refusing dates before Express Entry began."""
    day = parse_date(text)
    if day < EXPRESS_ENTRY_START:
        raise ValueError(
            f"{shown(text)} is before Express Entry began ({EXPRESS_ENTRY_START.year})"
        )
    return day


class _RoundCleaner:
    """Cleans one round, reporting to the log. Kept small: one method per field group."""

    def __init__(self, raw: dict, log: QualityLog, today: date):
        self.raw, self.log, self.today = raw, log, today
        self.written = _text(raw.get("drawNumber")).strip()
        self.number = canonical_round(self.written) or self.written

    def _field(self, name: str) -> str:
        value = self.raw.get(name)
        if value is not None and not isinstance(value, str):
            self.log.repaired(
                self.number, name, value, "is not text as the feed documents; read as text"
            )
        return _text(value)

    def identity(self) -> bool:
        """Check the required fields and the round number; False (errors logged) if unusable."""
        ok = True
        for name in feed_format.REQUIRED_FIELDS:
            if name not in self.raw:
                self.log.error(self.number or None, name, None, "is missing")
                ok = False
        if self.written and canonical_round(self.written) is None:
            self.log.error(
                None,
                "drawNumber",
                self.written,
                "is not a round number (ASCII digits, at most 9, with an optional letter: 91a)",
            )
            ok = False
        elif not self.written and "drawNumber" in self.raw:
            self.log.error(None, "drawNumber", "", "is empty")
            ok = False
        elif self.written != self.number:
            self.log.repaired(
                self.number, "drawNumber", self.written, f"read as round {self.number}"
            )
        return ok

    def when(self) -> date | None:
        """The round's date from drawDate, cross-checked with drawDateFull (None: error logged)."""
        text, full = self._field("drawDate"), self._field("drawDateFull")
        reading = read_round_date(text, full, _text(self.raw.get("drawDateTime")), self.today)
        day, problem = reading.value, reading.problem
        if day is not None and day < EXPRESS_ENTRY_START:
            day = None
            problem = f"{shown(text)} is before Express Entry began ({EXPRESS_ENTRY_START.year})"
        elif reading.note:
            self.log.warn(self.number, "drawDate", text, reading.note)
        try:
            day_full = _round_date(full)
        except ValueError:
            day_full = None
        if day is None and day_full is None:
            self.log.error(
                self.number, "drawDate", text, f"{problem}, and drawDateFull {full!r} does not help"
            )
            return None
        if day is None:
            self.log.warn(
                self.number, "drawDate", text, f"{problem}; date taken from drawDateFull {full!r}"
            )
            day = day_full
        elif day_full is None:
            self.log.warn(self.number, "drawDateFull", full, "is not a date; drawDate used")
        elif day != day_full:
            self.log.warn(
                self.number,
                "drawDate",
                text,
                f"disagrees with drawDateFull {full!r}; drawDate used",
            )
        if day > self.today:
            self.log.error(
                self.number,
                "drawDate",
                text,
                f"is in the future (the feed was read on {self.today.isoformat()})",
            )
            return None
        return day

    def count(self, name: str, what: str) -> int | None:
        """A positive whole number from field ``name`` (None, with a warning, otherwise)."""
        text = self._field(name)
        try:
            value = parse_count(text)
        except ValueError:
            self.log.warn(self.number, name, text, f"is not a number of {what}; left empty")
            return None
        if value <= 0:
            self.log.warn(
                self.number, name, text, f"is not a positive number of {what}; left empty"
            )
            return None
        return value

    def invitations(self, pool_size: int | None) -> int | None:
        """drawSize: a positive whole number no larger than the pool it was drawn from (the
        round's published distribution), or than :data:`MAX_INVITATIONS` where none is
        published (None, with a warning, otherwise: kept out of totals and pages)."""
        value = self.count("drawSize", "invitations")
        if value is None:
            return None
        limit, what = (
            (pool_size, f"the {pool_size:,} candidates in the pool the round drew from")
            if pool_size
            else (MAX_INVITATIONS, f"{MAX_INVITATIONS:,}, more than any round has invited")
        )
        if value > limit:
            self.log.warn(
                self.number, "drawSize", self._field("drawSize"), f"is more than {what}; left empty"
            )
            return None
        return value

    def cutoff(self) -> int | None:
        """The CRS cutoff (drawCRS) within the score range (None, with a warning, otherwise)."""
        text = self._field("drawCRS")
        try:
            value = parse_score(text)
        except ValueError:
            self.log.warn(self.number, "drawCRS", text, "is not a CRS score; left empty")
            return None
        if not MIN_SCORE <= value <= MAX_SCORE:
            self.log.warn(
                self.number,
                "drawCRS",
                text,
                f"is outside the CRS range {MIN_SCORE}-{MAX_SCORE}; left empty",
            )
            return None
        if value < MIN_CUTOFF:
            self.log.warn(
                self.number,
                "drawCRS",
                text,
                f"is below {MIN_CUTOFF}: no round has invited at a cutoff that low; left empty",
            )
            return None
        return value

    def moment(self, name: str, day: date) -> pd.Timestamp | None:
        """A UTC time from field ``name`` (empty: None; unreadable: None with a warning)."""
        text = self._field(name)
        if not text.strip():
            return None
        try:
            parsed = parse_timestamp(text, reference=day)
        except ValueError as exc:
            self.log.warn(self.number, name, text, f"{exc}; left empty")
            return None
        if not EXPRESS_ENTRY_START <= parsed.value.date() <= self.today:
            self.log.warn(
                self.number,
                name,
                text,
                f"is outside {EXPRESS_ENTRY_START.year} to the day the feed was read "
                f"({self.today.isoformat()}); left empty",
            )
            return None
        for note in parsed.notes:
            self.log.repaired(self.number, name, text, note)
        return parsed.value

    def _visible(self, field: str, text: str) -> str:
        """``text`` without direction, zero-width and control characters (warning naming them):
        they make a name read as another (``"\\u202eMETS"`` shows as STEM) or reach a
        terminal."""
        found = invisible_characters(text)
        if not found:
            return text
        self.log.warn(
            self.number,
            field,
            text,
            f"contains invisible, direction or control characters ({', '.join(found[:6])}); "
            "removed",
        )
        return without_invisible(text)

    def names(self) -> tuple[str, str]:
        """drawName and drawText2 as plain text (markup is warned about, never dropped)."""
        name, programs = self._field("drawName"), self._field("drawText2")
        name, programs = self._visible("drawName", name), self._visible("drawText2", programs)
        for field, value in (("drawName", name), ("drawText2", programs)):
            if _MARKUP.search(value):
                self.log.warn(
                    self.number,
                    field,
                    value,
                    "contains markup; kept as plain text and escaped wherever shown",
                )
        if not name.strip():
            self.log.warn(self.number, "drawName", name, "is empty; round kept as unclassified")
        return name.strip(), programs.strip()

    def distribution(self, day: date) -> tuple[date | None, dict[str, int] | None]:
        """The pool distribution's date and leaf bins, or (None, None) when not published or
        unusable (a warning says why)."""
        present = [f"dd{i}" for i in range(1, 19) if f"dd{i}" in self.raw]
        if not present:
            return None, None
        values: dict[str, int] = {}
        for name in present:
            text = self._field(name)
            try:
                values[name] = parse_count(text)
            except ValueError:
                self.log.warn(
                    self.number,
                    name,
                    text,
                    "is not a number of candidates; this round's distribution is skipped",
                )
                return None, None
        if not any(values.values()):
            return None, None  # all "0": not published, not an empty pool
        missing = [f for f in (*LEAF_BINS, *SUBTOTALS) if f not in values]
        if missing:
            self.log.warn(
                self.number, missing[0], None, "is missing; this round's distribution is skipped"
            )
            return None, None
        for total, parts in SUBTOTALS.items():
            added = sum(values[p] for p in parts)
            if added != values[total]:
                self.log.warn(
                    self.number,
                    total,
                    values[total],
                    f"does not equal the sum of {parts[0]}..{parts[-1]} ({added:,}); "
                    "the detailed bins are used",
                )
        text = self._field("drawDistributionAsOn")
        try:
            as_on = _round_date(text)
            if as_on > self.today:
                raise ValueError(f"{shown(text)} is after the day the feed was read")
        except ValueError as exc:
            self.log.warn(
                self.number,
                "drawDistributionAsOn",
                text,
                f"{exc}; this round's distribution is skipped",
            )
            return None, None
        if as_on > day:
            self.log.warn(
                self.number,
                "drawDistributionAsOn",
                text,
                f"is after the round's date {day.isoformat()}",
            )
        return as_on, {k: values[k] for k in LEAF_BINS}


def _check_duplicates(rounds: list[dict], log: QualityLog) -> list[dict]:
    """Rounds listed twice (also as ``434`` and ``0434``): kept once when identical apart from
    how the number is written (warning), an error when their content differs."""
    seen: dict[str, dict] = {}
    kept, repeated = [], []
    for raw in rounds:
        written = _text(raw.get("drawNumber")).strip()
        number = canonical_round(written) or written
        content = {**raw, "drawNumber": number}
        if number in seen:
            first = _text(seen[number].get("drawNumber")).strip()
            spelled = f" (as {first!r} and {written!r})" if first != written else ""
            before = {**seen[number], "drawNumber": number}
            if before == content:
                repeated.append((number, written, spelled))
            else:
                differing = sorted(
                    k for k in set(content) | set(before) if content.get(k) != before.get(k)
                )
                log.error(
                    number,
                    "drawNumber",
                    written,
                    f"appears twice{spelled} with different content ({', '.join(differing[:5])})",
                )
            continue
        seen[number] = raw
        kept.append(raw)
    if len(repeated) <= DUPLICATES_LISTED:
        for number, written, spelled in repeated:
            log.warn(
                number,
                "drawNumber",
                written,
                f"appears twice{spelled} with the same content; kept once",
            )
    else:
        number, written, spelled = repeated[0]
        others = sorted({n for n, _, _ in repeated[1:]}, key=round_sort_key)
        listed = ", ".join(others[:10]) + (", ..." if len(others) > 10 else "")
        log.warn(
            number,
            "drawNumber",
            written,
            f"appears twice{spelled} with the same content, and so do {len(repeated) - 1:,} more "
            f"listings ({listed}); each round kept once",
        )
    return kept


def clean_rounds(
    rounds: list[dict], today: date | None = None, removed: dict[str, date] | None = None
) -> CleanResult:
    """Clean the feed's rounds. Raises :class:`~analysis.errors.FeedError` on errors.

    ``today`` is the day the feed was retrieved (dates after it are refused); default: now, UTC.
    ``removed``: rounds kept from earlier feeds that IRCC's feed no longer lists, with the day
    since when (the ``removed_since`` column: published history is append-only).
    """
    removed = removed or {}
    today = today or datetime.now(UTC).date()
    log = QualityLog()
    rounds = _check_duplicates(rounds, log)
    rows, distributions = [], {}
    for raw in rounds:
        cleaner = _RoundCleaner(raw, log, today)
        if not cleaner.identity():
            continue
        day = cleaner.when()
        if day is None:
            continue
        name, programs = cleaner.names()
        category = _checked_version(classify(name), cleaner, name)
        if category.looks_like:
            log.warn(
                cleaner.number,
                "drawName",
                name,
                f"looks like a {category.looks_like} round's name but is written with look-alike "
                f"characters; kept as unclassified, labelled {category.label!r}",
            )
        elif category.family == UNCLASSIFIED and name:
            log.warn(
                cleaner.number,
                "drawName",
                name,
                "is a round type the taxonomy does not know; kept as 'unclassified' "
                "(add a pattern to taxonomy.csv)",
            )
        drawn_at = cleaner.moment("drawDateTime", day)
        if drawn_at is not None and abs((drawn_at.date() - day).days) > 1:
            log.warn(
                cleaner.number,
                "drawDateTime",
                cleaner.raw.get("drawDateTime"),
                f"is {(drawn_at.date() - day).days:+d} days from the round's date "
                f"{day.isoformat()}",
            )
        tie_break_at = cleaner.moment("drawCutOff", day)
        if tie_break_at is not None and drawn_at is not None and tie_break_at > drawn_at:
            log.warn(
                cleaner.number,
                "drawCutOff",
                cleaner.raw.get("drawCutOff"),
                "is after the round was drawn",
            )
        as_on, bins = cleaner.distribution(day)
        if bins is not None:
            previous = distributions.get(as_on)
            if previous is not None and previous[1] != bins:
                log.warn(
                    cleaner.number,
                    "drawDistributionAsOn",
                    as_on.isoformat(),
                    f"same distribution date as round {previous[0]} but different counts; "
                    f"round {previous[0]}'s are kept",
                )
            elif previous is None:
                distributions[as_on] = (cleaner.number, bins)
        rows.append(
            {
                "round": cleaner.number,
                "date": day,
                "drawn_at": drawn_at,
                "invitations": cleaner.invitations(sum(bins.values()) if bins else None),
                "cutoff": cleaner.cutoff(),
                "tie_break_at": tie_break_at,
                "name": name,
                "programs": programs,
                "family": category.family,
                "label": category.label,
                "selection": category.selection,
                "version": category.version,
                "version_year": category.version_year,
                "distribution_date": as_on,
                "removed_since": removed.get(cleaner.number),
            }
        )
    log.raise_if_errors()
    return CleanResult(_draws_frame(rows), _pool_frame(distributions), log.to_frame())


def _checked_version(category: Category, cleaner: _RoundCleaner, name: str) -> Category:
    """The category with a version number below 1 or a version year outside 2015-2100 left
    out (warning): such a suffix is not a version IRCC can have published."""
    problems = {}
    if category.version is not None and category.version < 1:
        problems["version"] = f"version {category.version} is not a version number"
    year = category.version_year
    if year is not None and not EXPRESS_ENTRY_START.year <= year <= LATEST_VERSION_YEAR:
        problems["version_year"] = (
            f"version year {year} is outside {EXPRESS_ENTRY_START.year}-{LATEST_VERSION_YEAR}"
        )
    if not problems:
        return category
    cleaner.log.warn(
        cleaner.number, "drawName", name, f"{'; '.join(problems.values())}; left empty"
    )
    return replace(category, **dict.fromkeys(problems))


def _draws_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows,
        columns=[c for c in DRAW_COLUMNS if c not in ("month", "is_all_program", "is_category")],
    )
    return (
        frame.assign(
            round=frame["round"].astype("string"),
            date=pd.to_datetime(frame["date"]).astype("datetime64[ns]"),
            drawn_at=pd.to_datetime(frame["drawn_at"], utc=True).astype("datetime64[ns, UTC]"),
            tie_break_at=pd.to_datetime(frame["tie_break_at"], utc=True).astype(
                "datetime64[ns, UTC]"
            ),
            distribution_date=pd.to_datetime(frame["distribution_date"]).astype("datetime64[ns]"),
            removed_since=pd.to_datetime(frame["removed_since"]).astype("datetime64[ns]"),
            invitations=frame["invitations"].astype("Int64"),
            cutoff=frame["cutoff"].astype("Int64"),
            version=frame["version"].astype("Int64"),
            version_year=frame["version_year"].astype("Int64"),
            **{
                c: frame[c].astype("string")
                for c in ("name", "programs", "family", "label", "selection")
            },
        )
        .assign(
            month=lambda d: d["date"].dt.strftime("%Y-%m").astype("string"),
            is_all_program=lambda d: d["family"].eq(ALL_PROGRAM).astype(bool),
            is_category=lambda d: d["selection"].eq("category").astype(bool),
        )
        .pipe(in_round_order)
        .reset_index(drop=True)[DRAW_COLUMNS]
    )


def _pool_frame(distributions: dict) -> pd.DataFrame:
    rows = [
        {
            "distribution_date": as_on,
            "score_low": LEAF_BINS[b][0],
            "score_high": LEAF_BINS[b][1],
            "candidates": count,
            "bin": b,
            "round": number,
        }
        for as_on, (number, bins) in distributions.items()
        for b, count in bins.items()
    ]
    frame = pd.DataFrame(rows, columns=POOL_COLUMNS)
    return (
        frame.assign(
            distribution_date=pd.to_datetime(frame["distribution_date"]).astype("datetime64[ns]"),
            score_low=frame["score_low"].astype("int64"),
            score_high=frame["score_high"].astype("int64"),
            candidates=frame["candidates"].astype("int64"),
            bin=frame["bin"].astype("string"),
            round=frame["round"].astype("string"),
        )
        .sort_values(["distribution_date", "score_low"], ascending=[True, False])
        .reset_index(drop=True)
    )
