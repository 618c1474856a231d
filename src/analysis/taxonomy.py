"""The category taxonomy: which family and version a round's ``drawName`` belongs to.

IRCC renames categories retroactively (``STEM occupations (2023-1)`` became
``STEM occupations (Version 1)``) and keeps adding new ones, so a name is matched in two steps:

1. the version suffix is parsed off, whatever its style: ``(2023-1)``, ``(Version 2)``,
   ``, 2026-Version 3``, ``2026-Version 2`` ...;
2. the rest is normalized (lower case, punctuation and dashes to spaces) and matched against
   the readable table in ``taxonomy.csv`` (pattern -> family, label, selection). First match wins.

A name that no pattern knows gets family ``unclassified``; it is never dropped.

>>> category = classify("Healthcare and Social Services Occupations, 2026-Version 3")
>>> category.family, category.version, category.version_year
('healthcare', 3, 2026)
>>> classify("STEM occupations (2023-1)").version
1
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd

#: The family of all-program rounds (no category or program restriction): the baseline that
#: category cutoffs are compared against.
ALL_PROGRAM = "all_program"
#: The family of a round type no pattern knows (kept, never dropped; a warning says so).
UNCLASSIFIED = "unclassified"
#: The category families the project's question is about (STEM and healthcare): what the
#: monthly report and every comparison look at unless told otherwise.
FOCUS_FAMILIES = ("stem", "healthcare")
#: How a round selects candidates (the ``selection`` column of ``draws``).
SELECTIONS = ("all-program", "category", "program", "unknown")

#: A family is *active* with a round (with a cutoff) in this many months up to a date.
ACTIVE_MONTHS = 6


def active_families(
    draws: pd.DataFrame,
    as_of=None,
    months: int = ACTIVE_MONTHS,
    always: tuple[str, ...] = FOCUS_FAMILIES,
) -> list[str]:
    """The active families on ``as_of`` (default: the newest round's day), the one definition
    the pages use: ``always`` (STEM and healthcare) first, then every family (not all-program,
    not unclassified) with a round with a cutoff in the ``months`` months up to ``as_of``,
    newest round first.

    >>> draws = pd.DataFrame({"date": pd.to_datetime(["2025-01-02", "2026-02-01", "2026-03-01"]),
    ...                       "family": ["trades", "cec", "pnp"], "cutoff": [436, 520, 700]})
    >>> active_families(draws, "2026-03-05")
    ['stem', 'healthcare', 'pnp', 'cec']
    """
    as_of = pd.Timestamp(draws["date"].max() if as_of is None else as_of)
    since = as_of - pd.DateOffset(months=months)
    recent = draws.loc[
        (draws["date"] > since) & (draws["date"] <= as_of) & draws["cutoff"].notna()
    ].sort_values("date", ascending=False)
    out = list(always)
    for family in recent["family"].astype(str):
        if family not in out and family not in (ALL_PROGRAM, UNCLASSIFIED):
            out.append(family)
    return out


#: Category-based selection began in June 2023 (first category round: 2023-06-28). Comparisons
#: of category and all-program cutoffs start here unless told otherwise.
CATEGORY_START = pd.Timestamp("2023-06-01")

#: Where an unknown or new family is drawn: neutral grey (the ``unclassified`` row of
#: ``family_styles.csv`` when it has one).
NEUTRAL_COLOUR = "#9E9E9E"

_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")

#: Marker codes a family may use (matplotlib's filled markers).
MARKERS = frozenset(["o", "s", "^", "D", "v", "P", "X", "h", "p", "*", "<", ">", "d", "8"])

# Version suffixes as IRCC has written them, tried in order; each yields (year?, number).
# Every pattern starts with a fixed character (a parenthesis, a digit, the word "version") and
# has no two adjacent repeats that can share characters, so a search costs linear time even on
# a hostile name (40,000 commas or spaces); separators before the suffix are stripped after.
# Numbers are short (a version is 1-3 digits, a year 4): longer ones are not a version.
_VERSION_PATTERNS = [
    # "(2023-1)", "(2024-1)"
    re.compile(r"\(\s*(?P<year>\d{4})\s*[-–]\s*(?P<number>\d{1,3})\s*\)$"),
    # "(Version 2)", "(version 2)", "(v2)"
    re.compile(r"\(\s*v(?:ersion)?\.?\s*(?P<number>\d{1,3})\s*\)$", re.IGNORECASE),
    # ", 2026-Version 3", " 2026-Version 2", " 2026 Version 1"
    re.compile(r"(?P<year>\d{4})\s*(?:[-–]\s*)?version\s*(?P<number>\d{1,3})$", re.IGNORECASE),
    # ", Version 4", " - Version 4"
    re.compile(r"\bversion\s*(?P<number>\d{1,3})$", re.IGNORECASE),
]
#: What may separate a name from its version suffix (stripped from the base name).
_SEPARATORS = " \t\n\r\f\v\u00a0,-–"


#: The longest label shown for a name from the feed (figures, tables, messages): longer ones
#: are cut with an ellipsis, so a 100 KB round name cannot make a gigapixel legend.
LABEL_LIMIT = 80


def short_label(text: str, limit: int = LABEL_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut.

    >>> short_label("x" * 100, limit=10)
    'xxxxxxxxx…'
    """
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Category:
    """What a ``drawName`` is: family, label, selection, and version (number and year).
    ``looks_like``: the family a name imitates with look-alike characters (it is then
    ``unclassified``, and its label shows the look-alikes as code points)."""

    family: str
    label: str
    selection: str
    version: int | None = None
    version_year: int | None = None
    looks_like: str | None = None


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    family: str
    label: str
    selection: str


@cache
def rules() -> tuple[_Rule, ...]:
    """The taxonomy table, compiled (read once from ``taxonomy.csv``). Letter case is ignored
    for ASCII letters only: Unicode case folding would read the long s ``ſ`` as ``s``."""
    return tuple(
        _Rule(
            re.compile(row["pattern"], re.IGNORECASE | re.ASCII),
            row["family"],
            row["label"],
            row["selection"],
        )
        for row in _read_csv("taxonomy.csv")
    )


def taxonomy_table() -> pd.DataFrame:
    """The taxonomy as a DataFrame, for reading in a notebook."""
    return pd.DataFrame(
        [(r.pattern.pattern, r.family, r.label, r.selection) for r in rules()],
        columns=["pattern", "family", "label", "selection"],
    )


#: What ``unclassified`` reads as when no round's own name is at hand: readers see IRCC's name
#: of an unknown round type (its ``label``), never a word of ours that hides it.
UNKNOWN_TYPE_LABEL = "Round type not yet in our list"


def family_labels(draws: pd.DataFrame | None = None) -> dict[str, str]:
    """``{family: label}`` for every known family, plus ``unclassified``: with ``draws``, the
    names IRCC gave the unclassified rounds in it (their ``label``), joined with " / ".

    >>> family_labels()["stem"]
    'STEM'
    >>> draws = pd.DataFrame({"family": [UNCLASSIFIED], "label": ["Researchers in AI"]})
    >>> family_labels(draws)[UNCLASSIFIED]
    'Researchers in AI'
    """
    labels = {r.family: r.label for r in rules()}
    labels[UNCLASSIFIED] = UNKNOWN_TYPE_LABEL
    if draws is not None and {"family", "label"} <= set(draws.columns):
        names = draws.loc[draws["family"].eq(UNCLASSIFIED).fillna(False), "label"].dropna()
        names = [short_label(str(n)) for n in dict.fromkeys(names) if str(n).strip()]
        if names:
            labels[UNCLASSIFIED] = short_label(" / ".join(names))
    return labels


def known_families() -> list[str]:
    """Every family the taxonomy names, in the order of ``taxonomy.csv`` (``unclassified`` is not
    one of them)."""
    return list(dict.fromkeys(r.family for r in rules()))


@dataclass(frozen=True)
class FamilyStyle:
    """How figures draw a family: a hex colour and a matplotlib marker."""

    family: str
    colour: str
    marker: str


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("analysis").joinpath(name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines))


@cache
def family_styles() -> dict[str, FamilyStyle]:
    """``{family: FamilyStyle}`` from ``family_styles.csv`` (beside ``taxonomy.csv``), checked:
    a bad colour or marker, or a family listed twice, is an error naming the row.

    >>> family_styles()["stem"]
    FamilyStyle(family='stem', colour='#0072B2', marker='^')
    """
    styles: dict[str, FamilyStyle] = {}
    for number, row in enumerate(_read_csv("family_styles.csv"), start=1):
        family, colour, marker = (
            (row.get(k) or "").strip() for k in ("family", "colour", "marker")
        )
        where = f"family_styles.csv row {number} ({family or 'no family'})"
        if not family:
            raise ValueError(f"{where}: the family is empty")
        if family in styles:
            raise ValueError(f"{where}: {family!r} is listed twice")
        if not _COLOUR.match(colour):
            raise ValueError(f"{where}: colour {colour!r} is not a hex colour like #0072B2")
        if marker not in MARKERS:
            raise ValueError(
                f"{where}: marker {marker!r} is not one of {' '.join(sorted(MARKERS))}"
            )
        styles[family] = FamilyStyle(family, colour.upper(), marker)
    return styles


def family_style(family: str) -> FamilyStyle:
    """The colour and marker of ``family``; a family without a row (new, unknown) is neutral grey.

    >>> family_style("healthcare").colour, family_style("a_new_family").colour
    ('#D55E00', '#9E9E9E')
    """
    styles = family_styles()
    if family in styles:
        return styles[family]
    neutral = styles.get(UNCLASSIFIED)
    return FamilyStyle(family, neutral.colour if neutral else NEUTRAL_COLOUR, "o")


def reader_labels(draws: pd.DataFrame) -> pd.Series:
    """What a reader sees as each round's family: the taxonomy label, or for a round type the
    taxonomy does not know, IRCC's own name without its version suffix (never "unclassified").

    >>> draws = pd.DataFrame({"family": ["stem", "unclassified"],
    ...                       "name": ["STEM occupations (Version 1)", "Space pilots (Version 2)"]})
    >>> reader_labels(draws).tolist()
    ['STEM', 'Space pilots']
    """
    labels = family_labels()
    if "label" in draws.columns:  # cleaning's label: cut to length, look-alikes made visible
        own_names = draws["label"].astype("string").map(short_label, na_action="ignore")
    else:
        own_names = (
            draws["name"].astype("string").map(lambda n: short_label(split_version(str(n))[0]))
        )
    known = draws["family"].map(labels).fillna(draws["family"]).astype("string")
    return known.where(draws["family"] != UNCLASSIFIED, own_names).rename("family_label")


def split_version(name: str) -> tuple[str, int | None, int | None]:
    """Split ``drawName`` into (base name, version number, version year).

    >>> split_version("French-Language proficiency 2026-Version 2")
    ('French-Language proficiency', 2, 2026)
    >>> split_version("Canadian Experience Class")
    ('Canadian Experience Class', None, None)
    """
    text = name.strip()
    for pattern in _VERSION_PATTERNS:
        match = pattern.search(text)
        if match:
            groups = match.groupdict()
            year = groups.get("year")
            return (
                text[: match.start()].strip(_SEPARATORS),
                int(groups["number"]),
                int(year) if year else None,
            )
    return text, None, None


def normalize_name(base: str) -> str:
    """Lower case; dashes, punctuation and repeated spaces folded to single spaces."""
    return re.sub(r"[^\w]+", " ", base.lower()).strip()


def classify(name: str) -> Category:
    """Family, label, selection and version of a ``drawName``. A name no pattern knows gets
    family ``unclassified`` and, as its label, IRCC's own name without the version suffix.

    >>> classify("Researchers in artificial intelligence, 2027-Version 1").label
    'Researchers in artificial intelligence'
    """
    base, version, year = split_version(name)
    key = normalize_name(base)
    family = _match(key)
    if family is not None:
        return Category(family.family, family.label, family.selection, version, year)
    imitated = _match(normalize_name(skeleton(base))) if not key.isascii() else None
    if imitated is not None:
        return Category(
            UNCLASSIFIED, short_label(code_points(base)), "unknown", version, year, imitated.family
        )
    return Category(UNCLASSIFIED, short_label(base) or UNKNOWN_TYPE_LABEL, "unknown", version, year)


def _match(key: str) -> _Rule | None:
    return next((rule for rule in rules() if rule.pattern.search(key)), None)


def skeleton(text: str) -> str:
    """What ``text`` looks like (after Unicode TR39's confusable skeletons): compatibility
    forms folded (NFKC: ``ſ`` -> ``s``) and each character that imitates a Latin one replaced by
    it (the ``confusable_homoglyphs`` data of Unicode's confusables.txt).

    >>> skeleton("ST\\u0395M"), skeleton("\\u017fTEM")
    ('STEM', 'sTEM')
    """
    from confusable_homoglyphs import confusables  # noqa: PLC0415 (only for non-ASCII names)

    folded = unicodedata.normalize("NFKC", text)
    if folded.isascii():
        return folded
    out = []
    for character in folded:
        found = (
            confusables.is_confusable(character, preferred_aliases=["latin"])
            if not character.isascii()
            else False
        )
        latin = [h["c"] for h in found[0]["homoglyphs"] if h["c"].isascii()] if found else []
        out.append(latin[0] if latin else character)
    return "".join(out)


def code_points(text: str) -> str:
    """``text`` with every character outside ASCII written as its code point, so that a
    look-alike can never pass for the letter it imitates.

    >>> code_points("ST\\u0395M")
    'ST[U+0395]M'
    """
    return "".join(c if c.isascii() else f"[U+{ord(c):04X}]" for c in text)
