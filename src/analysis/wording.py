"""How counts and gaps are written, in one place: the tables, the headline, the index teaser,
the figures' alt text, ``summary.json`` and the messages of ``ee`` all call these.

Counts: :func:`plural` (``1 round``, ``3 rounds``) and :func:`count_in_words` (``two rounds``),
for prose.

Gaps: a gap is a category cutoff minus a baseline, in CRS points. CRS scores are whole numbers
but a baseline need not be (the mean of two all-program cutoffs, an estimate), so a gap is shown
as the cutoff minus the baseline rounded to whole points (:func:`whole_points`, halves away from
zero): a reader can check every row of a table by subtraction, and every page writes the same
number for the same gap (:func:`shown_gap`). :func:`signed_points` writes it with its sign
(``−12``), :func:`points_phrase` in words (``12 points below``).

>>> gap = shown_gap(486, 498.5)
>>> gap, signed_points(gap), points_phrase(gap)
(-13, '−13', '13 points below')
"""

from __future__ import annotations

import math
from numbers import Real

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
