"""How the project writes months, days, counts and gaps, and the month rule: the one home of
every word and number format a reader sees (the tables, the headline, the index teaser, the
figures' alt text, ``summary.json`` and the messages of ``ee`` all call these).

Months and days:

- A month is text ``YYYY-MM`` (:data:`MONTH_PATTERN`); :func:`parse_month` checks one and says
  what is wrong with it. Nothing is stripped or guessed: ``' 2023-07 '`` and ``'2023-7'`` are
  refused, because a month names a folder of the published site.
- Readers see ``March 2026`` (:func:`month_label`) and ``March 5, 2026`` (:func:`day_label`),
  in English whatever the machine's locale: ``strftime('%B')`` follows the C library's locale,
  so month names are spelled out here instead (:data:`MONTH_NAMES`).
- Express Entry began in January 2015 (:data:`FIRST_MONTH`): no round is older.
- The month rule is :func:`check_month`, the one place the command line, the report's
  parameters and the steps check a month a user asked for.

Counts: :func:`plural` (``1 round``, ``3 rounds``) and :func:`count_in_words` (``two rounds``,
from :data:`NUMBER_WORDS`), for prose.

Gaps: a gap is a category cutoff minus a baseline, in CRS points. CRS scores are whole numbers
but a baseline need not be (the mean of two all-program cutoffs, an estimate), so a gap is shown
as the cutoff minus the baseline rounded to whole points (:func:`whole_points`, halves away from
zero): a reader can check every row of a table by subtraction, and every page writes the same
number for the same gap (:func:`shown_gap`). :func:`signed_points` writes it with its sign
(``−12``), :func:`points_phrase` in words (``12 points below``).

Only the standard library is imported, so the command line can check a month before it
imports anything heavy.

>>> parse_month("2026-03"), month_label("2026-03"), day_label(date(2023, 7, 5))
('2026-03', 'March 2026', 'July 5, 2023')
>>> gap = shown_gap(486, 498.5)
>>> gap, signed_points(gap), points_phrase(gap)
(-13, '−13', '13 points below')
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from numbers import Real

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


#: Counts written as words in prose (larger ones are written in digits).
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six")


def plural(n: int, word: str, plural_form: str | None = None) -> str:
    """``n`` and ``word``, in the plural unless ``n`` is 1 (``plural_form`` when the plural is
    not ``word + 's'``).

    >>> plural(1, "round"), plural(1_500, "round"), plural(2, "family", "families")
    ('1 round', '1,500 rounds', '2 families')
    """
    return f"{n:,} {word if n == 1 else (plural_form or word + 's')}"


def count_in_words(n: int, word: str, plural_form: str | None = None) -> str:
    """Like :func:`plural`, with counts up to six in words (``no rounds``, ``one round``).

    >>> count_in_words(0, "round"), count_in_words(2, "round"), count_in_words(12, "round")
    ('no rounds', 'two rounds', '12 rounds')
    """
    written = NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else f"{n:,}"
    return f"{written} {word if n == 1 else (plural_form or word + 's')}"


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pandas.NA (raises TypeError on bool())
    except TypeError:
        return True


def whole_points(value: object) -> int | None:
    """``value`` rounded to whole CRS points, halves away from zero; None when missing.

    >>> whole_points(498.5), whole_points(-12.5), whole_points(float("nan"))
    (499, -13, None)
    """
    if _missing(value):
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return int(math.copysign(math.floor(abs(number) + 0.5), number))


def shown_gap(cutoff: object, baseline: object) -> int | None:
    """The gap every page shows: ``cutoff`` minus ``baseline`` rounded to whole points.

    >>> shown_gap(486, 511), shown_gap(500, 498.5), shown_gap(486, None)
    (-25, 1, None)
    """
    baseline_points = whole_points(baseline)
    if baseline_points is None or _missing(cutoff):
        return None
    return int(cutoff) - baseline_points


def signed_points(gap: object) -> str:
    """A gap in whole points with its sign, as typeset for readers: ``−12`` (a true minus sign,
    U+2212), ``+3``, ``0``, ``+1,005``; ``–`` when missing.

    >>> signed_points(-12.4), signed_points(3), signed_points(0.2)
    ('−12', '+3', '0')
    """
    points = whole_points(gap)
    if points is None:
        return "–"
    sign = "−" if points < 0 else "+" if points > 0 else ""
    return f"{sign}{abs(points):,}"


def points_phrase(gap: Real) -> str:
    """A gap in words: ``12 points below``, ``1 point above``, ``level with``.

    >>> points_phrase(-12), points_phrase(1.2), points_phrase(0.4)
    ('12 points below', '1 point above', 'level with')
    """
    points = whole_points(gap)
    if points is None:
        raise ValueError("a missing gap has no words: leave the sentence out")
    if points == 0:
        return "level with"
    return f"{plural(abs(points), 'point')} {'below' if points < 0 else 'above'}"


def source_words(source: str) -> str:
    """Where a feed came from, as a published page writes it: a web address as it is; anything
    else (a local file) as a stored copy, since a builder's folders mean nothing to a reader and
    are nobody's business (the manifest keeps the full source).

    >>> source_words("https://www.canada.ca/content/dam/ircc/documents/json/ee_rounds_123_en.json")
    'https://www.canada.ca/content/dam/ircc/documents/json/ee_rounds_123_en.json'
    >>> source_words("/home/me/feeds/ee_rounds_2026-03-05.json")
    "a stored copy of IRCC's feed (ee_rounds_2026-03-05.json)"
    """
    source = str(source).strip()
    if source.startswith(("https://", "http://")):
        return source
    name = source.replace("\\", "/").rsplit("/", 1)[-1]
    return f"a stored copy of IRCC's feed ({name})" if name else "a stored copy of IRCC's feed"
