"""The report's words, generated from the numbers: the headline paragraph at the top of a month
and the one-line teaser the site index shows.
"""

from __future__ import annotations

import pandas as pd

from analysis.baselines import WINDOW_DAYS
from analysis.ingest.feed import MAX_SCORE
from analysis.report.month_report import MonthData, month_families
from analysis.stats.verdict import comparison_kind
from analysis.vocabulary import (
    count_in_words,
    day_label,
    month_label,
    plural,
    points_phrase,
    shown_gap,
    signed_points,
    whole_points,
)


def _baseline_phrase(row: pd.Series) -> str:
    """How one category round compares with one baseline, in words ("" without a baseline)."""
    kind = row["baseline"]
    value = whole_points(row["baseline_cutoff"])
    if value is None:
        return ""
    gap = points_phrase(shown_gap(row["cutoff"], row["baseline_cutoff"]))
    if kind == "latest":
        return f"{gap} the latest all-program round ({row['detail']}, cutoff {value})"
    if kind == "window":
        n = int(row["n_reference"])
        return (
            f"{gap} the {count_in_words(n, 'all-program round')} in the "
            f"{{days}} days before it (mean cutoff {value})"
        )
    return (
        f"{gap} the {value} an all-program round of the same size would have needed that day "
        f"(estimated from the pool, {whole_points(row['low'])}-{whole_points(row['high'])})"
    )


def latest_all_program(draws: pd.DataFrame) -> pd.Series | None:
    """The newest all-program round with a cutoff in ``draws`` (None when there is none)."""
    rows = draws.loc[draws["is_all_program"] & draws["cutoff"].notna()]
    return None if rows.empty else rows.iloc[-1]


def _family_sentence(data: MonthData, family: str, brief: bool = False) -> str:
    """What a report category did this month. ``brief``: only what the page states nowhere
    else (how its lowest cutoff moved from its previous round); its rounds and gaps are in the
    answer card and the tables."""
    label = data.label(family)
    rounds = data.month_rounds.loc[data.month_rounds["family"] == family]
    earlier = data.draws.loc[(data.draws["family"] == family) & (data.draws["date"] < data.start)]
    if rounds.empty:
        if earlier.empty:
            return f"There has been no {label} round yet."
        last = earlier.iloc[-1]
        return (
            f"There was no {label} round this month; the latest was round {last['round']} on "
            f"{day_label(last['date'])} ({last['invitations']:,} invitations, "
            f"cutoff {last['cutoff']})."
        )
    parts = []
    for row in rounds.itertuples():
        compared = data.comparisons.loc[data.comparisons["round"] == row.round]
        phrases = [
            p.replace("{days}", str(data.params.window_days))
            for p in (_baseline_phrase(r) for _, r in compared.iterrows())
            if p
        ]
        text = (
            f"round {row.round} on {day_label(row.date, year=False)} invited "
            f"{row.invitations:,} at a cutoff of {row.cutoff}"
        )
        if phrases:
            text += ": " + "; ".join(phrases)
        parts.append(text)
    lead = (
        f"{label}: " if len(rounds) == 1 else f"{label}, {count_in_words(len(rounds), 'round')}: "
    )
    sentence = "" if brief else lead + "; ".join(parts) + "."
    if not earlier.empty and rounds["cutoff"].notna().any():
        before = earlier.iloc[-1]
        change = float(rounds["cutoff"].min() - before["cutoff"])
        direction = (
            "the same as"
            if change == 0
            else f"{plural(abs(int(change)), 'point')} "
            f"{'lower than' if change < 0 else 'higher than'}"
        )
        sentence += (
            f" The lowest {label} cutoff this month was {direction} the previous "
            f"{label} round ({before['cutoff']} on {day_label(before['date'])})."
        )
    sentence = sentence.strip()
    return sentence[:1].upper() + sentence[1:]


def _versus_previous_month(data: MonthData) -> str:
    start = data.start - pd.DateOffset(months=1)
    before = data.draws.loc[(data.draws["date"] >= start) & (data.draws["date"] < data.start)]
    now, then = len(data.month_rounds), len(before)
    if now == then:
        change = "As many rounds as"
    else:
        more = "more" if now > then else "fewer"
        change = f"{count_in_words(abs(now - then), 'round').capitalize()} {more} than"
    invitations = int(before["invitations"].sum())
    return (
        f"{change} in {month_label(start)} ({count_in_words(then, 'round')}, "
        f"{invitations:,} invitations)."
    )


def headline(data: MonthData) -> str:
    """The report's first paragraph, generated from the numbers: the month's rounds, each target
    category's cutoffs against the all-program baselines, and what changed from before."""
    rounds = data.month_rounds
    period = f"{data.title}" if not data.to_date else f"{month_label(data.start)} so far"
    if rounds.empty:
        opening = f"IRCC held no Express Entry round in {period}."
    else:
        kinds = rounds.groupby("family", sort=False).size()
        listed = ", ".join(f"{n} {data.label(f)}" for f, n in kinds.items())
        opening = (
            f"In {period} IRCC held {count_in_words(len(rounds), 'round')} "
            f"({listed}) and issued {int(rounds['invitations'].sum()):,} invitations."
        )
    return " ".join([opening, *_detail_sentences(data)])


def detail(data: MonthData) -> str:
    """The "month in detail" paragraph of a month's page: :func:`headline` without what the page
    states elsewhere (the month's rounds and invitations are in its standfirst; a report
    category's rounds and gaps in its answer card and the tables, one without a round this
    month in its answer): how the month compares with the one before, the all-program rounds,
    and how each category's cutoff moved from its previous round."""
    drawn = set(data.month_rounds["family"].astype(str))
    sentences = _detail_sentences(data, skip=set(data.params.categories) - drawn, brief=True)
    return " ".join(s for s in sentences if s)


def _detail_sentences(
    data: MonthData, skip: set[str] = frozenset(), brief: bool = False
) -> list[str]:
    rounds = data.month_rounds
    sentences = [_versus_previous_month(data)]
    reference = latest_all_program(data.draws)
    in_month_all = rounds.loc[rounds["is_all_program"]]
    if reference is not None and in_month_all.empty:
        age = (data.end - reference["date"]).days
        if age > 60:
            sentences.append(
                f"There has been no all-program round since {day_label(reference['date'])} "
                f"(cutoff {reference['cutoff']}), {plural(age, 'day')} before the "
                "end of the month, so the fairest comparison is the pool estimate: the cutoff an "
                "all-program round of the same size would have needed."
            )
    elif not in_month_all.empty:
        cutoffs = ", ".join(str(c) for c in in_month_all["cutoff"].dropna())
        sentences.append(f"All-program rounds this month had cutoffs of {cutoffs}.")
    sentences.extend(
        _family_sentence(data, f, brief) for f in data.params.categories if f not in skip
    )
    return sentences


_SHORT_BASELINE = {
    "window": "recent all-program",
    "latest": "last all-program",
    "pool": "pool estimate",
}


def teaser(data: MonthData, standing: list[dict] | None = None) -> str:
    """One line for the site index and the Atom feed, leading with what the month answers: its
    rounds (each family drawn, its lowest cutoff; for the report's categories the gaps to the
    baselines), then where the report's categories stand (the verdicts of ``standing``, the
    records of :func:`analysis.report.standing.standing_records`).

    e.g. ``Six rounds, 9,600 invitations. STEM 486 (-8 vs recent all-program, -25 vs last
    all-program, -12 vs pool estimate); Canadian Experience Class 508. Cutoffs and gaps in CRS
    points. Where things stand: Healthcare about 56 points below the pool.``
    """
    rounds = data.month_rounds
    parts = [
        ("Month to date: " if data.to_date else "")
        + f"{count_in_words(len(rounds), 'round').capitalize()}, "
        f"{int(rounds['invitations'].sum()):,} invitations."
    ]
    found = []
    for family in month_families(data):
        mine = rounds.loc[(rounds["family"] == family) & rounds["cutoff"].notna()]
        if mine.empty:
            continue
        lowest = mine.loc[mine["cutoff"].idxmin()]
        detail = ""
        if family in data.params.categories:
            gaps = data.comparisons.loc[
                (data.comparisons["round"] == lowest["round"]) & data.comparisons["gap"].notna()
            ]
            detail = ", ".join(
                f"{signed_points(shown_gap(g.cutoff, g.baseline_cutoff))} vs "
                f"{_SHORT_BASELINE[g.baseline]}"
                for g in gaps.itertuples()
            )
        found.append(
            f"{data.label(family)} {lowest['cutoff']}" + (f" ({detail})" if detail else "")
        )
    if found:
        parts.append("; ".join(found) + ". Cutoffs and gaps in CRS points.")
    verdicts = [
        f"{row['Category']} {row['Verdict']}"
        for row in standing or []
        if row.get("family") in data.params.categories and row.get("Verdict", "–") != "–"
    ]
    if verdicts:
        parts.append("Where things stand: " + "; ".join(verdicts) + ".")
    return " ".join(parts)


def how_to_read(data: MonthData) -> list[tuple[str, str]]:
    """The "How to read this report" box of a month (:func:`glossary` as of its end)."""
    return glossary(data.draws, data.end, data.params.window_days)


def glossary(draws: pd.DataFrame, end, window_days: int = WINDOW_DAYS) -> list[tuple[str, str]]:
    """(term, definition) pairs in plain words, with the facts as of ``end``: a July 2023 report
    does not know that all-program rounds stopped in April 2024.

    >>> draws = pd.DataFrame({"date": pd.to_datetime(["2023-07-04", "2024-04-23"]),
    ...                       "family": ["all_program"] * 2, "cutoff": [511, 529]})
    >>> july_2023 = dict(glossary(draws, pd.Timestamp("2023-07-31")))
    >>> july_2023["All-program round"].split("restriction. ")[1]
    'The latest by the end of July 2023 was on July 4, 2023.'
    >>> march_2026 = dict(glossary(draws, pd.Timestamp("2026-03-31")))
    >>> march_2026["All-program round"].split("restriction. ")[1]
    'None has been held since April 23, 2024.'
    >>> march_2026["Baselines"].split("(an estimate, ")[1], "moves" in july_2023["Baselines"]
    ('shown with its range; since April 2024 the only one that moves).', False)
    """
    kind, last = comparison_kind(draws, end)
    all_program = "A round open to every Express Entry program with no restriction."
    if last is None:
        all_program += f" None had been held by the end of {month_label(end)}."
    elif kind == "pool":
        all_program += f" None has been held since {day_label(last)}."
    else:
        all_program += f" The latest by the end of {month_label(end)} was on {day_label(last)}."
    moves = (
        f"; since {month_label(last)} the only one that moves"
        if kind == "pool" and last is not None
        else ""
    )
    return [
        (
            "CRS",
            f"The Comprehensive Ranking System: points (up to {MAX_SCORE:,}) that IRCC gives each "
            "candidate in the Express Entry pool for age, education, language, work experience "
            "and more.",
        ),
        (
            "Round and invitation",
            "In a round of invitations IRCC invites the highest-ranked candidates to apply for "
            "permanent residence. The cutoff is the score of the lowest-ranked candidate invited. "
            "Totals of invitations add up the rounds' sizes, not people.",
        ),
        ("All-program round", all_program),
        (
            "Category and family",
            "A category round invites only candidates in an occupation or with an attribute "
            "(STEM, healthcare, French). A family groups a category's versions, or one program "
            "(Canadian Experience Class, Provincial Nominee Program).",
        ),
        (
            "Baselines",
            f"A category cutoff is compared with three: the all-program rounds held in the "
            f"{window_days} days before it (never after, so a published baseline never changes); "
            "the latest all-program round before it; and the cutoff an all-program round of the "
            "same size would have needed that day, estimated from IRCC's published scores of the "
            f"pool (an estimate, shown with its range{moves}).",
        ),
        (
            "Gap",
            "Category cutoff minus baseline, in CRS points. A negative gap means the category "
            "round invited candidates with lower scores.",
        ),
    ]
