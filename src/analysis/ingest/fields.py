"""One round of the feed, field by field: the round number (written as the tables write it,
:func:`analysis.data.canonical_round`), the date (cross-checked with its words), counts, the
cutoff, times, names (invisible characters and markup) and the pool distribution, each value
checked for plausibility. What does not parse is nulled and warned about
in the data-quality log; a round that cannot be identified or placed in time is an error
(:class:`RoundCleaner`, used by :func:`analysis.ingest.clean.clean_rounds`).
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd

from analysis.data import canonical_round
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
from analysis.vocabulary import EXPRESS_ENTRY_START

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
#: Where a round has no published distribution, more invitations than this are not believed
#: (the largest rounds have invited tens of thousands, never a hundred thousand).
MAX_INVITATIONS = 100_000
#: A cutoff below this is not believed: a score of 0 ranks nobody.
MIN_CUTOFF = 1

# No two adjacent repeats that can match the same characters: linear time on any text.
_MARKUP = re.compile(r"<\s*(?:/\s*)?[a-z!]|&#?\w+;|\bon\w+\s*=|javascript:", re.IGNORECASE)


def as_text(value) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _round_date(text: str) -> date:
    """:func:`~analysis.parse.parse_date`, refusing dates before Express Entry began."""
    day = parse_date(text)
    if day < EXPRESS_ENTRY_START:
        raise ValueError(
            f"{shown(text)} is before Express Entry began ({EXPRESS_ENTRY_START.year})"
        )
    return day


class RoundCleaner:
    """Cleans one round, reporting to the log. Kept small: one method per field group."""

    def __init__(self, raw: dict, log: QualityLog, today: date):
        self.raw, self.log, self.today = raw, log, today
        self.written = as_text(raw.get("drawNumber")).strip()
        self.number = canonical_round(self.written) or self.written

    def warn(self, field: str, value, message: str) -> None:
        """Log a warning about ``field`` of this round (the row is kept)."""
        self.log.warn(self.number, field, value, message)

    def repaired(self, field: str, value, message: str) -> None:
        """Log a repair of ``field`` of this round."""
        self.log.repaired(self.number, field, value, message)

    def _field(self, name: str) -> str:
        value = self.raw.get(name)
        if value is not None and not isinstance(value, str):
            self.repaired(name, value, "is not text as the feed documents; read as text")
        return as_text(value)

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
            self.repaired("drawNumber", self.written, f"read as round {self.number}")
        return ok

    def when(self) -> date | None:
        """The round's date from drawDate, cross-checked with drawDateFull (None: error logged)."""
        text, full = self._field("drawDate"), self._field("drawDateFull")
        reading = read_round_date(text, full, as_text(self.raw.get("drawDateTime")), self.today)
        day, problem = reading.value, reading.problem
        if day is not None and day < EXPRESS_ENTRY_START:
            day = None
            problem = f"{shown(text)} is before Express Entry began ({EXPRESS_ENTRY_START.year})"
        elif reading.note:
            self.warn("drawDate", text, reading.note)
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
            self.warn("drawDate", text, f"{problem}; date taken from drawDateFull {full!r}")
            day = day_full
        elif day_full is None:
            self.warn("drawDateFull", full, "is not a date; drawDate used")
        elif day != day_full:
            self.warn(
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
            self.warn(name, text, f"is not a number of {what}; left empty")
            return None
        if value <= 0:
            self.warn(name, text, f"is not a positive number of {what}; left empty")
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
            self.warn("drawSize", self._field("drawSize"), f"is more than {what}; left empty")
            return None
        return value

    def cutoff(self) -> int | None:
        """The CRS cutoff (drawCRS) within the score range (None, with a warning, otherwise)."""
        text = self._field("drawCRS")
        try:
            value = parse_score(text)
        except ValueError:
            self.warn("drawCRS", text, "is not a CRS score; left empty")
            return None
        if not MIN_SCORE <= value <= MAX_SCORE:
            self.warn(
                "drawCRS",
                text,
                f"is outside the CRS range {MIN_SCORE}-{MAX_SCORE}; left empty",
            )
            return None
        if value < MIN_CUTOFF:
            self.warn(
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
            self.warn(name, text, f"{exc}; left empty")
            return None
        if not EXPRESS_ENTRY_START <= parsed.value.date() <= self.today:
            self.warn(
                name,
                text,
                f"is outside {EXPRESS_ENTRY_START.year} to the day the feed was read "
                f"({self.today.isoformat()}); left empty",
            )
            return None
        for note in parsed.notes:
            self.repaired(name, text, note)
        return parsed.value

    def _visible(self, field: str, text: str) -> str:
        """``text`` without direction, zero-width and control characters (warning naming them):
        they make a name read as another (``"\\u202eMETS"`` shows as STEM) or reach a
        terminal."""
        found = invisible_characters(text)
        if not found:
            return text
        self.warn(
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
                self.warn(
                    field,
                    value,
                    "contains markup; kept as plain text and escaped wherever shown",
                )
        if not name.strip():
            self.warn("drawName", name, "is empty; round kept as unclassified")
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
                self.warn(
                    name,
                    text,
                    "is not a number of candidates; this round's distribution is skipped",
                )
                return None, None
        if not any(values.values()):
            return None, None  # all "0": not published, not an empty pool
        missing = [f for f in (*LEAF_BINS, *SUBTOTALS) if f not in values]
        if missing:
            self.warn(missing[0], None, "is missing; this round's distribution is skipped")
            return None, None
        for total, parts in SUBTOTALS.items():
            added = sum(values[p] for p in parts)
            if added != values[total]:
                self.warn(
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
            self.warn(
                "drawDistributionAsOn",
                text,
                f"{exc}; this round's distribution is skipped",
            )
            return None, None
        if as_on > day:
            self.warn(
                "drawDistributionAsOn",
                text,
                f"is after the round's date {day.isoformat()}",
            )
        return as_on, {k: values[k] for k in LEAF_BINS}
