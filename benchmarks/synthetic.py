"""Synthetic feeds in IRCC's format, of any size, for the scaling benchmarks and tests.

``synthetic_feed(n_rounds, seed)`` returns a feed object shaped exactly like
``ee_rounds_123_en.json``: every value a string, newest round first, thousands separators, the
HTML anchors, free-form draw and tie-break times, category names in each naming style IRCC has
used, and pool distributions (all ``"0"``, i.e. not published, before mid-2022) whose subtotals
add up. Rounds are spread evenly from Express Entry's first round (2015-01-31) to
:data:`LAST_DAY`, so 100,000 rounds put about 25 on a day; rounds that share a distribution
date share its counts (as IRCC's do), so a clean feed cleans without warnings.

The numbers are made up (a random walk per family) but every value is one the cleaning code
must read; nothing in it is IRCC's data.

>>> feed = synthetic_feed(50, seed=1)
>>> len(feed["rounds"]), feed["rounds"][0]["drawNumber"], feed["rounds"][-1]["drawDate"]
(50, '50', '2015-01-31')
>>> synthetic_feed(50, seed=1) == feed
True

Run it to write a feed file: ``python benchmarks/synthetic.py 100000 > feed.json``.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta

import numpy as np

FIRST_DAY = date(2015, 1, 31)
LAST_DAY = date(2026, 3, 5)
#: Profiles (and so tie-break times) exist from this day on.
PROFILES_FROM = date(2015, 1, 1)
#: Distributions are published from this day on (before it every dd is "0").
DISTRIBUTIONS_FROM = date(2022, 7, 6)

_URL = (
    "/content/canadasite/en/immigration-refugees-citizenship/corporate/mandate/"
    "policies-operational-instructions-agreements/ministerial-instructions/"
    "express-entry-rounds/invitations.html?q={n}"
)
_PROGRAMS = (
    "Federal Skilled Worker Program, Canadian Experience Class and Federal Skilled Trades Program"
)

# (name template, programs, typical cutoff, typical size); {v} is a version suffix by era.
_KINDS = (
    ("No Program Specified", _PROGRAMS, 470, 3500),
    ("Canadian Experience Class", "Canadian Experience Class", 520, 3000),
    ("Provincial Nominee Program", "Provincial Nominee Program", 750, 900),
    ("Federal Skilled Trades", "Federal Skilled Trades", 390, 1000),
    ("STEM occupations{v}", _PROGRAMS, 490, 500),
    ("Healthcare and social services occupations{v}", _PROGRAMS, 460, 2000),
    ("French language proficiency{v}", _PROGRAMS, 400, 2500),
    ("Trade occupations{v}", _PROGRAMS, 430, 1500),
    ("Transport occupations{v}", _PROGRAMS, 430, 1000),
    ("Agriculture and agri-food occupations{v}", _PROGRAMS, 380, 400),
    ("Education occupations{v}", _PROGRAMS, 470, 1000),
)
_CATEGORIES_FROM = date(2023, 6, 1)


def _version_suffix(day: date, number: int) -> str:
    """The version suffix in the style IRCC wrote in that era (all three styles appear)."""
    if day.year <= 2024:
        return f" ({day.year}-1)" if number % 2 else " (Version 1)"
    if day.year == 2025:
        return " (Version 2)"
    return f", {day.year}-Version 3"


def _dates(n_rounds: int) -> list[date]:
    """``n_rounds`` dates spread evenly from :data:`FIRST_DAY` to :data:`LAST_DAY`, oldest first."""
    span = (LAST_DAY - FIRST_DAY).days
    offsets = np.linspace(0, span, n_rounds).astype(int) if n_rounds > 1 else np.array([span])
    return [FIRST_DAY + timedelta(days=int(d)) for d in offsets]


def _distribution(as_on: date, seed: int) -> dict[str, str]:
    """dd1..dd18 for one distribution date: the same counts for every round that shares it."""
    rng = np.random.default_rng([seed, as_on.toordinal()])
    leaves = {
        "dd1": rng.integers(100, 1500),
        "dd2": rng.integers(8000, 16000),
        **{f"dd{i}": rng.integers(3000, 16000) for i in range(4, 9)},
        **{f"dd{i}": rng.integers(8000, 15000) for i in range(10, 15)},
        "dd15": rng.integers(50000, 65000),
        "dd16": rng.integers(18000, 32000),
        "dd17": rng.integers(5000, 9000),
    }
    leaves = {k: int(v) for k, v in leaves.items()}
    dd3 = sum(leaves[f"dd{i}"] for i in range(4, 9))
    dd9 = sum(leaves[f"dd{i}"] for i in range(10, 15))
    dd18 = dd3 + dd9 + sum(leaves[k] for k in ("dd1", "dd2", "dd15", "dd16", "dd17"))
    counts = {**leaves, "dd3": dd3, "dd9": dd9, "dd18": dd18}
    return {f"dd{i}": f"{counts[f'dd{i}']:,}" for i in range(1, 19)}


def _moment(day: date, seconds: int) -> str:
    moment = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
    return f"{moment:%B} {moment.day}, {moment.year} at {moment:%H:%M:%S} UTC"


def synthetic_round(number: int, day: date, rng: np.random.Generator, seed: int) -> dict:
    """One round as IRCC writes it."""
    kinds = _KINDS if day >= _CATEGORIES_FROM else _KINDS[:4]
    name, programs, cutoff, size = kinds[int(rng.integers(len(kinds)))]
    name = name.format(v=_version_suffix(day, number))
    anchor = _URL.format(n=number)
    as_on = day - timedelta(days=int(rng.integers(1, 6)))
    published = as_on >= DISTRIBUTIONS_FROM
    distribution = (
        _distribution(as_on, seed) if published else {f"dd{i}": "0" for i in range(1, 19)}
    )
    tie_break = max(day - timedelta(days=int(rng.integers(5, 120))), PROFILES_FROM)
    return {
        "drawNumber": str(number),
        "drawNumberURL": f"<a href='{anchor}'>{number}</a>",
        "drawDate": day.isoformat(),
        "drawDateFull": f"{day:%B} {day.day}, {day.year}",
        "drawName": name,
        "drawSize": f"{max(1, int(rng.normal(size, size / 5))):,}",
        "drawCRS": str(int(np.clip(rng.normal(cutoff, 25), 250, 1200))),
        "mitext": (
            f"<a href='{anchor}'>Invitations to apply for permanent residence under the "
            f"Express Entry system #{number}</a>"
        ),
        "DrawText1": f"<a href='{anchor}'>See full text of Ministerial Instruction</a>",
        "drawText2": programs,
        "drawDateTime": _moment(day, int(rng.integers(36000, 64000))),
        "drawCutOff": _moment(tie_break, int(rng.integers(0, 86399))),
        "drawDistributionAsOn": f"{as_on:%B} {as_on.day}, {as_on.year}",
        **distribution,
    }


def synthetic_feed(n_rounds: int, seed: int = 0) -> dict:
    """A feed of ``n_rounds`` rounds (numbered 1..n, newest first) in IRCC's format."""
    if n_rounds < 1:
        raise ValueError(f"n_rounds must be at least 1, not {n_rounds}")
    rng = np.random.default_rng(seed)
    rounds = [
        synthetic_round(number, day, rng, seed)
        for number, day in enumerate(_dates(n_rounds), start=1)
    ]
    return {"classes": "wb-tables", "rounds": rounds[::-1]}


def synthetic_feed_bytes(n_rounds: int, seed: int = 0) -> bytes:
    """The feed as the bytes a server would send (UTF-8 JSON)."""
    return json.dumps(synthetic_feed(n_rounds, seed), ensure_ascii=False).encode("utf-8")


if __name__ == "__main__":
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    sys.stdout.buffer.write(synthetic_feed_bytes(int(sys.argv[1]), seed))
