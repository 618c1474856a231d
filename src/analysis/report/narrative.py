"""The report's words, generated from the numbers: the headline paragraph at the top of a month
and the one-line teaser the site index shows.
"""

from __future__ import annotations

import pandas as pd

from analysis.report.month import MonthData


def _day(stamp) -> str:
    return f"{pd.Timestamp(stamp):%B} {pd.Timestamp(stamp).day}"


def _points(gap: float) -> str:
    gap = float(gap)
    size = f"{abs(gap):.0f}" if float(abs(gap)).is_integer() else f"{abs(gap):.1f}"
    if round(gap, 1) == 0:
        return "level with"
    return f"{size} point{'s' if size != '1' else ''} {'below' if gap < 0 else 'above'}"


def _count(n: int, word: str) -> str:
    words = {0: "no", 1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
    return f"{words.get(n, f'{n:,}')} {word}{'s' if n != 1 else ''}"


def _baseline_phrase(row: pd.Series) -> str:
    kind = row["baseline"]
    value = row["baseline_cutoff"]
    if pd.isna(value):
        return ""
    if kind == "latest":
        return (
            f"{_points(row['gap'])} the latest all-program round ({row['detail']}, "
            f"cutoff {value:.0f})"
        )
    if kind == "window":
        n = int(row["n_reference"])
        return (
            f"{_points(row['gap'])} the {_count(n, 'all-program round')} within "
            f"{{days}} days (mean cutoff {value:.0f})"
        )
    return (
        f"{_points(row['gap'])} the {value:.0f} an all-program round of the same size would "
        f"have needed that day (estimated from the pool, {row['low']:.0f}-{row['high']:.0f})"
    )


def latest_all_program(draws: pd.DataFrame) -> pd.Series | None:
    rows = draws.loc[draws["is_all_program"] & draws["cutoff"].notna()]
    return None if rows.empty else rows.iloc[-1]


def _family_sentence(data: MonthData, family: str) -> str:
    label = data.label(family)
    rounds = data.month_rounds.loc[data.month_rounds["family"] == family]
    earlier = data.draws.loc[(data.draws["family"] == family) & (data.draws["date"] < data.start)]
    if rounds.empty:
        if earlier.empty:
            return f"There has been no {label} round yet."
        last = earlier.iloc[-1]
        return (
            f"There was no {label} round this month; the latest was round {last['round']} on "
            f"{_day(last['date'])}, {last['date']:%Y} ({last['invitations']:,} invitations, "
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
            f"round {row.round} on {_day(row.date)} invited {row.invitations:,} at a cutoff "
            f"of {row.cutoff}"
        )
        if phrases:
            text += ": " + "; ".join(phrases)
        parts.append(text)
    lead = f"{label}: " if len(rounds) == 1 else f"{label}, {_count(len(rounds), 'round')}: "
    sentence = lead + "; ".join(parts) + "."
    if not earlier.empty and rounds["cutoff"].notna().any():
        before = earlier.iloc[-1]
        change = float(rounds["cutoff"].min() - before["cutoff"])
        direction = (
            "the same as"
            if change == 0
            else f"{abs(change):.0f} point{'s' if abs(change) != 1 else ''} "
            f"{'lower than' if change < 0 else 'higher than'}"
        )
        sentence += (
            f" The lowest {label} cutoff this month was {direction} the previous "
            f"{label} round ({before['cutoff']} on {_day(before['date'])}, "
            f"{before['date']:%Y})."
        )
    return sentence[0].upper() + sentence[1:]


def _versus_previous_month(data: MonthData) -> str:
    start = data.start - pd.DateOffset(months=1)
    before = data.draws.loc[(data.draws["date"] >= start) & (data.draws["date"] < data.start)]
    now, then = len(data.month_rounds), len(before)
    if now == then:
        change = "As many rounds as"
    else:
        more = "more" if now > then else "fewer"
        change = f"{_count(abs(now - then), 'round').capitalize()} {more} than"
    invitations = int(before["invitations"].sum())
    return f"{change} in {start:%B %Y} ({_count(then, 'round')}, {invitations:,} invitations)."


def headline(data: MonthData) -> str:
    """The report's first paragraph, generated from the numbers: the month's rounds, each target
    category's cutoffs against the all-program baselines, and what changed from before."""
    rounds = data.month_rounds
    period = f"{data.title}" if not data.to_date else f"{data.start:%B %Y} so far"
    if rounds.empty:
        opening = f"IRCC held no Express Entry round in {period}."
    else:
        kinds = rounds.groupby("family", sort=False).size()
        listed = ", ".join(f"{n} {data.label(f)}" for f, n in kinds.items())
        opening = (
            f"In {period} IRCC held {_count(len(rounds), 'round')} "
            f"({listed}) and issued {int(rounds['invitations'].sum()):,} invitations."
        )
    sentences = [opening, _versus_previous_month(data)]
    reference = latest_all_program(data.draws)
    in_month_all = rounds.loc[rounds["is_all_program"]]
    if reference is not None and in_month_all.empty:
        age = (data.end - reference["date"]).days
        if age > 60:
            sentences.append(
                f"There has been no all-program round since {_day(reference['date'])}, "
                f"{reference['date']:%Y} (cutoff {reference['cutoff']}), {age:,} days before the "
                "end of the month, so the fairest comparison is the pool estimate: the cutoff an "
                "all-program round of the same size would have needed."
            )
    elif not in_month_all.empty:
        cutoffs = ", ".join(str(c) for c in in_month_all["cutoff"].dropna())
        sentences.append(f"All-program rounds this month had cutoffs of {cutoffs}.")
    sentences.extend(_family_sentence(data, f) for f in data.params.categories)
    return " ".join(sentences)


_SHORT_BASELINE = {
    "window": "nearby all-program",
    "latest": "last all-program",
    "pool": "pool estimate",
}


def teaser(data: MonthData) -> str:
    """One line for the site index: the month's rounds and each category's lowest cutoff with
    its gaps to the baselines.

    e.g. ``Six rounds, 9,600 invitations. STEM 486 (-11 vs nearby all-program, -25 vs last
    all-program, -12 vs pool estimate); Healthcare 463 (...)``
    """
    rounds = data.month_rounds
    parts = [
        ("Month to date: " if data.to_date else "")
        + f"{_count(len(rounds), 'round').capitalize()}, "
        f"{int(rounds['invitations'].sum()):,} invitations."
    ]
    found = []
    for family in data.params.categories:
        mine = rounds.loc[(rounds["family"] == family) & rounds["cutoff"].notna()]
        if mine.empty:
            found.append(f"No {data.label(family)} round")
            continue
        lowest = mine.loc[mine["cutoff"].idxmin()]
        gaps = data.comparisons.loc[
            (data.comparisons["round"] == lowest["round"]) & data.comparisons["gap"].notna()
        ]
        detail = ", ".join(
            f"{g.gap:+.0f} vs {_SHORT_BASELINE[g.baseline]}" for g in gaps.itertuples()
        )
        found.append(
            f"{data.label(family)} {lowest['cutoff']}" + (f" ({detail})" if detail else "")
        )
    return " ".join([*parts, "; ".join(found) + "."])
