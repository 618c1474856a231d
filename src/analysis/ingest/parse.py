"""Parsers for the feed's text values. Every value in the feed is a string, written by hand.

Each parser takes the raw text and returns a Python value, or raises :class:`ValueError` with
a message that says what was wrong (the caller adds round and field). Parsers that had to
repair the text (a missing year, ``AM`` after a 24-hour time) return the repairs as notes so
that cleaning can report them.

>>> parse_count("3,000")
3000
>>> parsed = parse_timestamp("October 25, 2023 at 15:48:39 AM UTC")
>>> parsed.value, parsed.notes
(Timestamp('2023-10-25 15:48:39+0000', tz='UTC'), ("'AM' after a 24-hour time ignored",))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from dateutil import parser as dateutil_parser

from analysis.vocabulary import MONTH_NAMES

#: Month names as IRCC writes them, lower case: the full name, its first three letters, "sept".
MONTHS = {
    **{name.lower(): number for number, name in enumerate(MONTH_NAMES, start=1)},
    **{name[:3].lower(): number for number, name in enumerate(MONTH_NAMES, start=1)},
    "sept": 9,
}

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")


@dataclass(frozen=True)
class Parsed:
    """A parsed value and the repairs that were needed to get it."""

    value: object
    notes: tuple[str, ...] = ()


def _squash(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


# ---------------------------------------------------------------- numbers

# ASCII digits only: ``\d`` alone also accepts Arabic-Indic and other digits, which IRCC never
# writes and ``int()`` would silently read.
_DIGITS = re.compile(r"[0-9]+")
_GROUPED = re.compile(r"[0-9]{1,3}(?:[,. ][0-9]{3})+")
_WHOLE_DECIMAL = re.compile(r"[0-9]+\.0+")
#: More digits than any count the feed can hold (a quadrillion): refused before ``int()``, which
#: would otherwise accept numbers too large for the tables or refuse 4,300+ digits with a
#: message about Python's limits.
MAX_COUNT_DIGITS = 15


#: Characters that change how text reads without being seen: direction controls (embeddings,
#: overrides, isolates, marks), zero-width characters and the byte-order mark, and control
#: characters (C0 and C1, DEL) other than tab and newline.
INVISIBLE = re.compile(
    "[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
    "\u200b-\u200d\u2060\ufeff"
    "\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def invisible_characters(text: str) -> list[str]:
    """The invisible, direction and control characters in ``text``, named (``U+202E``), once
    each, in order.

    >>> invisible_characters("\\u202eMETS\\u200d")
    ['U+202E', 'U+200D']
    """
    return list(dict.fromkeys(f"U+{ord(c):04X}" for c in INVISIBLE.findall(text)))


def without_invisible(text: str) -> str:
    """``text`` without :data:`INVISIBLE` characters (what a reader would have seen, minus the
    tricks).

    >>> without_invisible("ST\\u200bEM\\x1b[31m")
    'STEM[31m'
    """
    return INVISIBLE.sub("", text)


def visible(text: str) -> str:
    """``text`` safe for a terminal or a log line: anything not printable (escape sequences,
    direction controls) written as Python escapes.

    >>> print(visible("\\x1b[31m91"))
    \\x1b[31m91
    """
    text = str(text)
    return text if text.isprintable() else repr(text)[1:-1]


def shown(text: str, limit: int = 120) -> str:
    """``text`` quoted for a message, shortened when it is long (a 20 MB value stays a line).

    Characters that are not printable are written as escapes once (:func:`visible`), so a
    value the quality log already made visible is not escaped twice.

    >>> shown("1" * 5000, limit=20)
    "'11111111111111111111'… (5,000 characters)"
    >>> print(shown("\\x1b[31m260"), shown(visible("\\x1b[31m260")))
    '\\x1b[31m260' '\\x1b[31m260'
    """
    text = str(text)
    if len(text) <= limit:
        return _quoted(visible(text))
    return f"{_quoted(visible(text[:limit]))}… ({len(text):,} characters)"


def _quoted(text: str) -> str:
    """``text`` in single quotes (double quotes when it holds a single quote), as repr writes
    printable text, without doubling backslashes."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return repr(text)


def parse_count(text: str) -> int:
    """A whole number written with or without thousands separators.

    Accepts ``3000``, ``3,000``, ``3 000`` (also with a no-break space) and ``3.000``; ASCII
    digits only, at most :data:`MAX_COUNT_DIGITS` of them.

    >>> parse_count("1 500")
    1500
    >>> parse_count("99,999,999,999,999,999,999,999")
    Traceback (most recent call last):
    ...
    ValueError: '99,999,999,999,999,999,999,999' is too large (more than 15 digits)
    """
    value = _squash(str(text))
    digits = None
    if _DIGITS.fullmatch(value):
        digits = value
    elif _GROUPED.fullmatch(value) and len(set(re.findall(r"[,. ]", value))) == 1:
        digits = re.sub(r"[,. ]", "", value)
    elif _WHOLE_DECIMAL.fullmatch(value):
        digits = value.split(".")[0]
    if digits is None:
        raise ValueError(f"{shown(text)} is not a whole number")
    if len(digits.lstrip("0")) > MAX_COUNT_DIGITS:
        raise ValueError(f"{shown(text)} is too large (more than {MAX_COUNT_DIGITS} digits)")
    return int(digits)


def parse_score(text: str) -> int:
    """A CRS score: a whole number, optionally followed by the word ``points``.

    >>> parse_score(" 486 ")
    486
    """
    value = re.sub(r"\s*points?$", "", _squash(str(text)), flags=re.IGNORECASE)
    return parse_count(value)


# ---------------------------------------------------------------- dates

_ISO_DATE = re.compile(r"(?<!\d)(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)")
_WORD_DATE = re.compile(
    r"(?P<month>[A-Za-z]{3,9})\.?\s*(?P<day>\d{1,2})(?:st|nd|rd|th)?(?!\d|:)"
    r"(?:\s*[,.]?\s*(?P<year>\d{4})(?!:))?"
)
_DAY_FIRST_DATE = re.compile(
    r"(?<![\d:])(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?P<month>[A-Za-z]{3,9})\.?,?\s+(?P<year>\d{4})"
)
_TIME = re.compile(
    r"(?<![\d-])(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?(?:\.\d+)?"
    r"(?:\s*(?P<ampm>[AaPp])\.?\s*[Mm]\.?(?![a-z]))?"
)
_OTHER_ZONE = re.compile(r"\b(EST|EDT|ET|PST|PDT|CST|CDT|MST|MDT)\b")


def _month_number(word: str) -> int | None:
    return MONTHS.get(word.lower().rstrip("."))


def _find_date(text: str) -> tuple[int | None, int, int, str] | None:
    """(year or None, month, day, style) of the first date written in ``text``."""
    iso = _ISO_DATE.search(text)
    if iso:
        return int(iso["y"]), int(iso["m"]), int(iso["d"]), "iso"
    for match in _WORD_DATE.finditer(text):
        month = _month_number(match["month"])
        if month:
            year = int(match["year"]) if match["year"] else None
            return year, month, int(match["day"]), "words"
    match = _DAY_FIRST_DATE.search(text)
    if match and _month_number(match["month"]):
        return int(match["year"]), _month_number(match["month"]), int(match["day"]), "words"
    return None


def parse_date(text: str) -> date:
    """A calendar date: ``2023-07-05``, ``2023/07/05``, ``July 5, 2023``, ``July 05 2023``,
    ``5 July 2023``, ``Jul. 5, 2023``; as a last resort whatever :mod:`dateutil` reads
    unambiguously with a year.

    >>> parse_date("April 12, 2023")
    datetime.date(2023, 4, 12)
    """
    value = _squash(str(text))
    if not value:
        raise ValueError("is empty")
    found = _find_date(value)
    if found and found[0] is not None:
        year, month, day, _ = found
        try:
            return date(year, month, day)
        except ValueError as exc:
            raise ValueError(f"{shown(text)} is not a valid date ({exc})") from None
    if found:
        raise ValueError(f"{shown(text)} has no year")
    if not re.search(r"\d{4}", value):
        raise ValueError(f"{shown(text)} is not a date")
    try:
        return dateutil_parser.parse(value, dayfirst=False, yearfirst=True).date()
    except (ValueError, OverflowError):
        raise ValueError(f"{shown(text)} is not a date") from None


def parse_timestamp(text: str, reference: date | None = None) -> Parsed:
    """A moment written in free-form English, as a UTC :class:`pandas.Timestamp`.

    Handles what IRCC has written: ``March 26, 2024 at 15:59:36 UTC``,
    ``July 06, 2023 14:25:05 UTC``,
    ``April 26,2023 ...``, ``March 01, 2023, at ...``, ``August 30. 2023 at ...``,
    ``May 31, 2024 at12:48:30 UTC``, ``January 23, 2025 at 2025-01-23 15:30:04 UTC``,
    ``15:48:39 AM`` (AM/PM after a 24-hour time: ignored, noted), ``October 7 at 16:38:21 UTC``
    (no year: taken from ``reference`` so that the moment is not after it, noted), no time zone
    (UTC assumed: IRCC publishes UTC). A time zone other than UTC is refused rather than guessed.

    >>> parse_timestamp("October 7 at 16:38:21 UTC", reference=date(2021, 1, 5)).value
    Timestamp('2020-10-07 16:38:21+0000', tz='UTC')
    """
    value = _squash(str(text))
    if not value:
        raise ValueError("is empty")
    notes: list[str] = []
    if _OTHER_ZONE.search(value):
        raise ValueError(f"{shown(text)} is not in UTC ({_OTHER_ZONE.search(value).group(0)})")
    found = _find_date(value)
    time_match = _TIME.search(value)
    if not found or not time_match:
        # ISO 8601 and other machine formats.
        try:
            stamp = pd.Timestamp(dateutil_parser.isoparse(value))
        except (ValueError, OverflowError):
            raise ValueError(f"{shown(text)} is not a date and time") from None
        return Parsed(stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC"))
    year, month, day, _ = found
    hour, minute = int(time_match["h"]), int(time_match["m"])
    second = int(time_match["s"] or 0)
    ampm = (time_match["ampm"] or "").upper()
    if ampm:
        if hour > 12 or hour == 0:
            notes.append(f"'{ampm}M' after a 24-hour time ignored")
        elif ampm == "P" and hour < 12:
            hour += 12
        elif ampm == "A" and hour == 12:
            hour = 0
    if year is None:
        if reference is None:
            raise ValueError(f"{shown(text)} has no year")
        year = reference.year
        try:
            candidate = datetime(year, month, day)
        except ValueError as exc:
            raise ValueError(f"{shown(text)} is not a valid date ({exc})") from None
        if candidate.date() > reference:
            year -= 1
        notes.append(f"no year: {year} assumed (the latest not after {reference.isoformat()})")
    try:
        moment = datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise ValueError(f"{shown(text)} is not a valid date and time ({exc})") from None
    return Parsed(pd.Timestamp(moment, tz="UTC"), tuple(notes))


# ---------------------------------------------------------------- a round's date

_NUMERIC_DATE = re.compile(r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4})$")
ORDERS = ("month-day", "day-month")


def date_readings(text: str) -> dict[str, date]:
    """The dates a numeric date without the year first can mean, by order of day and month
    (``month-day`` and/or ``day-month``, the valid ones); empty for any other text.

    >>> date_readings("11-01-2023")
    {'month-day': datetime.date(2023, 11, 1), 'day-month': datetime.date(2023, 1, 11)}
    >>> date_readings("25/01/2023"), date_readings("2023-01-25")
    ({'day-month': datetime.date(2023, 1, 25)}, {})
    """
    match = _NUMERIC_DATE.match(_squash(str(text)))
    if not match:
        return {}
    a, b, year = int(match["a"]), int(match["b"]), int(match["y"])
    readings = {}
    for order, (month, day) in zip(ORDERS, ((a, b), (b, a)), strict=True):
        try:
            readings[order] = date(year, month, day)
        except ValueError:
            continue
    if len(readings) == 2 and len(set(readings.values())) == 1:  # '05-05-2023': one date
        readings = {"month-day": readings["month-day"]}
    return readings


#: The fields of a round :func:`read_round_date` reads, in the order it takes them.
ROUND_DATE_FIELDS = ("drawDate", "drawDateFull", "drawDateTime")


@dataclass(frozen=True)
class RoundDate:
    """A round's ``drawDate`` read with the help of ``drawDateFull`` and ``drawDateTime``.

    ``value``: the date (``None`` when ``drawDate`` cannot be read); ``order``: how it was
    written (``iso``, ``words``, ``month-day``, ``day-month``, or ``other``); ``note``: why a
    numeric date was read in its order, or that the order could not be told (``None`` when
    nothing needs saying); ``problem``: why it could not be read.
    """

    value: date | None
    order: str | None = None
    note: str | None = None
    problem: str | None = None


def _witness_dates(full: str, date_time: str) -> tuple[date | None, date | None]:
    try:
        day_full = parse_date(full)
    except ValueError:
        day_full = None
    try:
        day_time = parse_timestamp(date_time).value.date() if str(date_time).strip() else None
    except ValueError:
        day_time = None
    return day_full, day_time


def read_round_date(
    draw_date: str, full: str = "", date_time: str = "", latest: date | None = None
) -> RoundDate:
    """``drawDate`` as a date. A numeric date without the year first (``'11-01-2023'``) can be
    month-day or day-month: it is read in the order on which ``drawDateFull`` and
    ``drawDateTime`` agree (either alone when the other says nothing); when they do not settle
    it, the only order that is not after ``latest`` (the day the feed was read), else
    month-day, with a note. Every other style is :func:`parse_date`'s.

    >>> r = read_round_date("11-01-2023", "January 11, 2023", "January 11, 2023 at 14:46 UTC")
    >>> r.value, r.order
    (datetime.date(2023, 1, 11), 'day-month')
    >>> read_round_date("2023-01-11").order
    'iso'
    """
    text = _squash(str(draw_date))
    readings = date_readings(text)
    if not readings:
        try:
            value = parse_date(text)
        except ValueError as exc:
            return RoundDate(None, problem=str(exc))
        found = _find_date(text)
        return RoundDate(value, found[3] if found else "other")
    if len(readings) == 1:
        order, value = next(iter(readings.items()))
        return RoundDate(value, order)
    day_full, day_time = _witness_dates(full, date_time)
    witnesses = {d for d in (day_full, day_time) if d is not None}
    if len(witnesses) == 1:
        (target,) = witnesses
        for order, value in readings.items():
            if value == target:
                said = " and ".join(
                    name
                    for name, day in (("drawDateFull", day_full), ("drawDateTime", day_time))
                    if day is not None
                )
                return RoundDate(
                    value,
                    order,
                    note=f"is written {order}-year; read as {value.isoformat()}, the order on "
                    f"which {said} agree" + ("" if " and " in said else "s"),
                )
    either = (
        f"could be {readings['month-day'].isoformat()} or {readings['day-month'].isoformat()}; "
        "drawDateFull and drawDateTime do not settle it"
    )
    possible = {o: v for o, v in readings.items() if latest is None or v <= latest}
    if len(possible) == 1:
        order, value = next(iter(possible.items()))
        return RoundDate(
            value, order, note=f"{either}, and only {order} is not after the day the feed was read"
        )
    return RoundDate(readings["month-day"], "month-day", note=f"{either}: read month-day")
