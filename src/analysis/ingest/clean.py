"""From the feed's rounds to tidy tables: ``draws`` (one row per round) and ``pool`` (the CRS
distribution of the candidates in the pool, long form), with a data-quality log.

What is a warning and what is an error is decided per field (see README, "Bad input"):
a round that cannot be identified or placed in time stops the run; a value that does not parse
is nulled, warned about, and the row kept. Each round's fields are read and checked by
:mod:`analysis.ingest.fields`; here, rounds listed twice, category versions, and the tables.

>>> rounds = [{"drawNumber": "255", "drawDate": "2023-07-05", "drawDateFull": "July 5, 2023",
...            "drawName": "STEM occupations (2023-1)", "drawSize": "500", "drawCRS": "486"}]
>>> result = clean_rounds(rounds)
>>> row = result.draws.iloc[0]
>>> row["round"], row["family"], int(row["invitations"]), int(row["cutoff"])
('255', 'stem', 500, 486)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pandas as pd

from analysis.data import canonical_round, in_round_order, round_sort_key
from analysis.ingest.fields import LEAF_BINS, RoundCleaner, as_text
from analysis.ingest.quality import QualityLog
from analysis.taxonomy import ALL_PROGRAM, UNCLASSIFIED, Category, classify
from analysis.vocabulary import EXPRESS_ENTRY_START

#: Version years beyond this are not read as years (the schema's bound).
LATEST_VERSION_YEAR = 2100
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


@dataclass(frozen=True)
class CleanResult:
    """The tables cleaning makes from one feed: ``draws``, ``pool`` and the ``quality`` log."""

    draws: pd.DataFrame
    pool: pd.DataFrame
    quality: pd.DataFrame


def _check_duplicates(rounds: list[dict], log: QualityLog) -> list[dict]:
    """Rounds listed twice (also as ``434`` and ``0434``): kept once when identical apart from
    how the number is written (warning), an error when their content differs."""
    seen: dict[str, dict] = {}
    kept, repeated = [], []
    for raw in rounds:
        written = as_text(raw.get("drawNumber")).strip()
        number = canonical_round(written) or written
        content = {**raw, "drawNumber": number}
        if number in seen:
            first = as_text(seen[number].get("drawNumber")).strip()
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
        cleaner = RoundCleaner(raw, log, today)
        if not cleaner.identity():
            continue
        day = cleaner.when()
        if day is None:
            continue
        name, programs = cleaner.names()
        category = _checked_version(classify(name), cleaner, name)
        if category.looks_like:
            cleaner.warn(
                "drawName",
                name,
                f"looks like a {category.looks_like} round's name but is written with look-alike "
                f"characters; kept as unclassified, labelled {category.label!r}",
            )
        elif category.family == UNCLASSIFIED and name:
            cleaner.warn(
                "drawName",
                name,
                "is a round type the taxonomy does not know; kept as 'unclassified' "
                "(add a pattern to taxonomy.csv)",
            )
        drawn_at = cleaner.moment("drawDateTime", day)
        if drawn_at is not None and abs((drawn_at.date() - day).days) > 1:
            cleaner.warn(
                "drawDateTime",
                cleaner.raw.get("drawDateTime"),
                f"is {(drawn_at.date() - day).days:+d} days from the round's date "
                f"{day.isoformat()}",
            )
        tie_break_at = cleaner.moment("drawCutOff", day)
        if tie_break_at is not None and drawn_at is not None and tie_break_at > drawn_at:
            cleaner.warn(
                "drawCutOff",
                cleaner.raw.get("drawCutOff"),
                "is after the round was drawn",
            )
        as_on, bins = cleaner.distribution(day)
        if bins is not None:
            previous = distributions.get(as_on)
            if previous is not None and previous[1] != bins:
                cleaner.warn(
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


def _checked_version(category: Category, cleaner: RoundCleaner, name: str) -> Category:
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
    cleaner.warn("drawName", name, f"{'; '.join(problems.values())}; left empty")
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
