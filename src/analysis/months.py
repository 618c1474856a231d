"""Months and days as the project writes them: the one home of month text and date labels.

- A month is text ``YYYY-MM`` (:data:`MONTH_PATTERN`); :func:`parse_month` checks one and says
  what is wrong with it. Nothing is stripped or guessed: ``' 2023-07 '`` and ``'2023-7'`` are
  refused, because a month names a folder of the published site.
- Readers see ``March 2026`` (:func:`month_label`) and ``March 5, 2026`` (:func:`day_label`),
  in English whatever the machine's locale: ``strftime('%B')`` follows the C library's locale,
  so month names are spelled out here instead.
- Express Entry began in January 2015 (:data:`FIRST_MONTH`): no round is older.
- The month rule is :func:`check_month`, the one place the command line, the report's
  parameters and the steps check a month a user asked for.

Only the standard library is imported, so the command line can check a month before it
imports anything heavy.

>>> parse_month("2026-03"), month_label("2026-03"), day_label(date(2023, 7, 5))
('2026-03', 'March 2026', 'July 5, 2023')
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

#: A month as text: four ASCII digits, a dash, 01 to 12 (use ``fullmatch``).
MONTH_PATTERN = re.compile(r"(?P<year>[0-9]{4})-(?P<month>0[1-9]|1[0-2])")

#: Express Entry opened on 1 January 2015 (its first round was drawn on 31 January 2015): no
#: round, distribution, draw time or tie-break time can be earlier.
EXPRESS_ENTRY_START = date(2015, 1, 1)

#: The first month that can have a round.
FIRST_MONTH = f"{EXPRESS_ENTRY_START:%Y-%m}"

#: English month names, January first (not the locale's).
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def is_month(text: object) -> bool:
    """True when ``text`` is a month written ``YYYY-MM`` (and nothing else).

    >>> is_month("2023-07"), is_month("2023-07\\n"), is_month("2023-13"), is_month(202307)
    (True, False, False, False)
    """
    return isinstance(text, str) and MONTH_PATTERN.fullmatch(text) is not None


def parse_month(text: object, what: str = "month") -> str:
    """``text`` if it is a month written ``YYYY-MM``; otherwise ``ValueError`` saying why.

    ``what`` names the value in the message (``--since``, ``month``...).

    >>> parse_month("2023-7")
    Traceback (most recent call last):
    ...
    ValueError: month '2023-7' is not a month: write it as YYYY-MM, e.g. 2023-07
    """
    if is_month(text):
        return text
    if not isinstance(text, str):
        raise ValueError(f"{what} {text!r} must be text written YYYY-MM, e.g. 2023-07")
    if not text.strip():
        raise ValueError(f"{what} is empty: write it as YYYY-MM, e.g. 2023-07")
    if is_month(text.strip()):
        raise ValueError(f"{what} {text!r} has spaces or line breaks around it: write YYYY-MM")
    raise ValueError(f"{what} {text!r} is not a month: write it as YYYY-MM, e.g. 2023-07")


def check_month(
    text: object, what: str = "month", first_round: date | None = None, newest_round=None
) -> str:
    """``text`` if it is a month a report can be asked for; otherwise ``ValueError`` saying why.

    The rule: written ``YYYY-MM`` (:func:`parse_month`), not before :data:`FIRST_MONTH`, not
    after the current month, and, when the data's ``first_round`` and ``newest_round`` dates
    are given, not before the first round's month nor after the newest round's.

    >>> check_month("2023-07", "--month")
    '2023-07'
    >>> check_month("2014-12", "--month")
    Traceback (most recent call last):
    ...
    ValueError: --month 2014-12 is before Express Entry's first round (2015-01)
    >>> check_month("2023-09", "--month", newest_round=date(2023, 8, 15))
    Traceback (most recent call last):
    ...
    ValueError: --month 2023-09: after the data ends (newest round 2023-08-15, in August 2023); choose months up to 2023-08
    """  # noqa: E501
    month = parse_month(text, what)
    if month < FIRST_MONTH:
        raise ValueError(f"{what} {month} is before Express Entry's first round ({FIRST_MONTH})")
    now = f"{datetime.now(UTC):%Y-%m}"
    if month > now:
        raise ValueError(
            f"{what} {month} is after the data ends: it has not begun yet (it is {now} now)"
        )
    if first_round is not None and month < f"{first_round:%Y-%m}":
        raise ValueError(
            f"{what} {month}: before the data begins (first round {first_round:%Y-%m-%d}, in "
            f"{month_label(first_round)}); choose months from {first_round:%Y-%m}"
        )
    if newest_round is not None and month > f"{newest_round:%Y-%m}":
        raise ValueError(
            f"{what} {month}: after the data ends (newest round {newest_round:%Y-%m-%d}, in "
            f"{month_label(newest_round)}); choose months up to {newest_round:%Y-%m}"
        )
    return month


def _year_month(value: object) -> tuple[int, int]:
    if isinstance(value, str):
        match = MONTH_PATTERN.fullmatch(value)
        if match is None:
            raise ValueError(f"month {value!r} is not YYYY-MM")
        return int(match["year"]), int(match["month"])
    try:  # date, datetime, pandas Timestamp and Period all carry year and month
        return int(value.year), int(value.month)
    except AttributeError:
        raise TypeError(f"expected a month ('YYYY-MM') or a date, got {value!r}") from None


def month_name(value: object, short: bool = False) -> str:
    """The English name of a month (``March``; ``Mar`` when ``short``), from ``YYYY-MM`` or a date.

    >>> month_name("2026-03"), month_name(date(2026, 9, 1), short=True)
    ('March', 'Sep')
    """
    name = MONTH_NAMES[_year_month(value)[1] - 1]
    return name[:3] if short else name


def month_label(value: object, short: bool = False) -> str:
    """A month (``'2026-03'``, a date, a Timestamp or a Period) as readers see it.

    >>> month_label("2026-03"), month_label(date(2026, 3, 5), short=True)
    ('March 2026', 'Mar 2026')
    """
    return f"{month_name(value, short)} {_year_month(value)[0]}"


def day_label(value: object, year: bool = True, short: bool = False) -> str:
    """A day (a date or a Timestamp) as readers see it: ``July 5, 2023`` (``July 5`` without
    the year, ``Jul 5, 2023`` when ``short``).

    >>> day_label(date(2023, 7, 5), year=False), day_label(date(2023, 7, 5), short=True)
    ('July 5', 'Jul 5, 2023')
    """
    try:
        name, day = month_name(value, short), value.day
    except AttributeError:
        raise TypeError(f"expected a date, got {value!r}") from None
    return f"{name} {day}, {value.year}" if year else f"{name} {day}"
