"""Where a month's numbers come from and what was done to them, for readers: IRCC's revisions
of rounds it had published, the data-quality findings (with what became of each value) and the
data notes (source, code, settings, the pool estimate's accuracy).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib.metadata import version

import pandas as pd

from analysis import __version__
from analysis.pool.accuracy import accuracy_sentence, measured_accuracy
from analysis.report.month_report import BASELINE_NAMES, MonthData, ReportParams
from analysis.taxonomy import (
    family_labels,
)
from analysis.vocabulary import day_label, plural, source_words

#: Feed fields as a reader would name them (revisions and data-quality tables), and the cleaned
#: column that holds each (what became of a finding's value).
FIELDS = {
    "drawNumber": ("round number", "round"),
    "drawDate": ("date", "date"),
    "drawDateFull": ("date in words", "date"),
    "drawName": ("round type", "name"),
    "drawText2": ("programs eligible", "programs"),
    "drawSize": ("invitations", "invitations"),
    "drawCRS": ("cutoff", "cutoff"),
    "drawDateTime": ("time of the round", "drawn_at"),
    "drawCutOff": ("tie-breaking rule", "tie_break_at"),
    "drawDistributionAsOn": ("pool distribution date", "distribution_date"),
    "distribution": ("pool distribution", None),
    "round": ("round", None),
}

#: Kinds of change in words where the kind's own name would not do.
CHANGE_WORDS = {"removed": "removed from the feed"}


def _field_words(field) -> str:
    if field is None or (not isinstance(field, str) and pd.isna(field)):
        return "the feed as a whole"
    text = str(field)
    if text.startswith("dd") and text[2:].isdigit():
        return f"pool distribution (bin {text[2:]})"
    return FIELDS.get(text, (text,))[0]


def revisions_for_readers(
    revisions: pd.DataFrame, draws: pd.DataFrame, limit: int | None = 60
) -> pd.DataFrame:
    """IRCC's changes to rounds of ``draws`` (for a month: ``data.draws``, its rounds up to the
    month's end) that it had already published, newest snapshot and round first, at most
    ``limit`` rows. A round that is new in a snapshot is a new round,
    not a revision: it is left out."""
    dates = draws.set_index("round")["date"]
    covered = revisions.loc[
        revisions["round"].isin(dates.index) & revisions["change"].ne("added").fillna(True)
    ]
    ordered = covered.assign(date=covered["round"].map(dates)).sort_values(
        ["snapshot", "date"], ascending=False
    )
    if limit is not None:
        ordered = ordered.head(limit)
    return pd.DataFrame(
        {
            "Seen in the feed of": ordered["snapshot"].map(_snapshot_day).astype("string"),
            "Round": ordered["round"].astype("string"),
            "Round date": ordered["date"].dt.strftime("%Y-%m-%d"),
            "Change": ordered["change"].map(lambda c: CHANGE_WORDS.get(c, c)),
            # a change without a field concerns the whole round (removed from the feed)
            "What changed": ordered["field"].map(
                lambda f: "the whole round" if pd.isna(f) else _field_words(f)
            ),
            "Before": ordered["old"].fillna("").astype("string"),
            "After": ordered["new"].fillna("").astype("string"),
        }
    ).reset_index(drop=True)


def revisions_sentence(revisions: pd.DataFrame) -> str:
    """The revisions of :func:`revisions_for_readers` counted in one sentence (the page shows
    this; the rows are the download and the data-quality page).

    >>> rows = pd.DataFrame({"Seen in the feed of": ["2025-07-09", "2025-07-09", "2026-03-05"],
    ...                      "Round": ["291", "289", "291"], "Change": ["renamed"] * 3})
    >>> print(revisions_sentence(rows))  # doctest: +NORMALIZE_WHITESPACE
    IRCC changed 2 of these rounds after publishing them: 3 changes (3 renamed), the latest
    seen in its feed of March 5, 2026.
    >>> revisions_sentence(rows.head(0))
    'IRCC changed none of these rounds after publishing them, in the snapshots we kept.'
    """
    if revisions.empty:
        return "IRCC changed none of these rounds after publishing them, in the snapshots we kept."
    kinds = revisions["Change"].value_counts()
    latest = pd.Timestamp(str(revisions["Seen in the feed of"].max()))
    return (
        f"IRCC changed {revisions['Round'].nunique():,} of these rounds after publishing them: "
        f"{plural(len(revisions), 'change')} ("
        + ", ".join(f"{n:,} {kind}" for kind, n in kinds.items())
        + f"), the latest seen in its feed of {day_label(latest)}."
    )


def _snapshot_day(name) -> str:
    """``ee_rounds_20260305T120000Z_abc.json`` -> ``2026-03-05``; other names as they are."""
    match = re.search(r"(\d{4})-?(\d{2})-?(\d{2})", str(name))
    return f"{match[1]}-{match[2]}-{match[3]}" if match else str(name)


#: Maintenance hints in findings (for whoever runs the pipeline, not for readers).
_HINT = re.compile(r"\s*[(;:]?\s*(add (a )?(row|pattern)[^.;)]*|run it with[^.;)]*)[).]?", re.I)


def _kept_value(value) -> str:
    """A cleaned value as a finding's outcome shows it."""
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            return value.strftime("%Y-%m-%d %H:%M UTC")
        return value.strftime("%Y-%m-%d")
    return str(value)


def finding_outcomes(quality: pd.DataFrame, draws: pd.DataFrame) -> pd.Series:
    """What became of each finding's value, read from the cleaned rounds (never assumed from
    its severity): "kept: 2025-07-12 16:27 UTC", "read as 2021-06-22 20:19 UTC", "left
    empty", "kept as text" (names and programs), "detailed bands used" (pool bands), or, for a
    finding about no round or a field with no column, what its severity means.
    """
    rounds = draws.set_index("round") if len(draws) else pd.DataFrame()
    outcomes = []
    for severity, round_, field in zip(
        quality["severity"], quality["round"], quality["field"], strict=True
    ):
        field = None if pd.isna(field) else str(field)
        column = FIELDS.get(field or "", (None, None))[1]
        known = not pd.isna(round_) and round_ in rounds.index
        if field and field.startswith("dd") and field[2:].isdigit():
            outcomes.append("detailed bands used" if severity == "warning" else "read")
        elif severity == "error":
            outcomes.append("the run stopped; nothing published")
        elif column in ("name", "programs") and known:
            outcomes.append("kept as text")
        elif column and known:
            value = rounds.loc[round_, column]
            if pd.isna(value):
                outcomes.append("left empty")
            elif severity == "repaired":
                outcomes.append(f"read as {_kept_value(value)}")
            else:
                outcomes.append(f"kept: {_kept_value(value)}")
        else:
            outcomes.append("round kept" if severity == "warning" else "read with an assumption")
    return pd.Series(outcomes, index=quality.index, dtype="string")


def quality_for_month(quality: pd.DataFrame, data: MonthData) -> pd.DataFrame:
    """Data-quality findings about rounds in the report's window (plus feed-level ones)."""
    window_rounds = data.draws.loc[data.draws["date"] >= data.window_start, "round"]
    keep = quality["round"].isin(window_rounds) | quality["round"].isna()
    return findings_for_readers(quality.loc[keep], data.draws)


def findings_for_readers(quality: pd.DataFrame, draws: pd.DataFrame) -> pd.DataFrame:
    """Data-quality findings in words: the round, the field, the value as IRCC published it,
    what became of it (:func:`finding_outcomes`) and the finding (without maintenance hints)."""
    return pd.DataFrame(
        {
            "Round": quality["round"].fillna("").astype("string"),
            "What": quality["field"].map(_field_words),
            "As IRCC published it": quality["value"].fillna("").astype("string"),
            "What we did": finding_outcomes(quality, draws),
            "Finding": quality["message"].map(lambda m: _HINT.sub("", str(m)).strip()),
        }
    ).reset_index(drop=True)


def _accuracy_note() -> str:
    """The pool model's accuracy as measured on the feed that built the report (cached next to
    its processed tables: :func:`analysis.pool.accuracy.measured_accuracy`), never a figure
    copied from another snapshot."""
    measured = measured_accuracy()
    if not measured:
        return "Not measured: the processed tables this report was made from were not found."
    return accuracy_sentence(measured) or "Too few rounds in this feed to measure it."


def data_notes(
    meta: dict,
    params: ReportParams,
    packages: Iterable[str] = (
        "pandas",
        "numpy",
        "statsmodels",
        "scipy",
        "matplotlib",
        "seaborn",
        "papermill",
        "jinja2",
        "pandera",
    ),
) -> pd.DataFrame:
    """Where the numbers came from: snapshot, retrieval, hash, code and package versions,
    parameters."""
    shown_source = source_words(str(meta.get("source", "")))
    labels = family_labels()
    facts = {
        "Feed": "IRCC, Express Entry rounds of invitations (Open Government Licence - Canada)",
        "Snapshot file": str(meta.get("file", "unknown")).rsplit("/", 1)[-1],
        "Retrieved (UTC)": meta.get("retrieved_at", "unknown"),
        "Retrieved from": shown_source,
        "SHA-256 of the snapshot": meta.get("sha256", "unknown"),
        "Rounds in the snapshot": str(meta.get("rounds_clean", "unknown")),
        "Code": f"analysis {__version__}, tables made by cleaning code "
        f"{str(meta.get('code', 'unknown'))[:12]}",
        "Packages": ", ".join(f"{p} {version(p)}" for p in packages),
        "Settings": (
            f"categories: {', '.join(labels.get(c, c) for c in params.categories)}; "
            f"window: {params.window_months} months; recent all-program rounds: the "
            f"{params.window_days} days before a round; baselines: "
            + ", ".join(BASELINE_NAMES[b].format(days=params.window_days) for b in params.baselines)
        ),
        "Pool estimate: accuracy": _accuracy_note(),
        "Baselines": "The window baseline takes the all-program rounds in the "
        f"{params.window_days} days before a category round, never after it, so a baseline "
        "once published is the same in every later report, summary.json and the index.",
        "Invitations": "Totals of invitations are sums of the rounds' sizes (the invitations "
        "IRCC announced for each round, added up), not counts of people.",
    }
    return pd.DataFrame({"Item": list(facts), "Value": list(facts.values())})


#: The data notes a month's page lists (the snapshot is in every page's footer, what a total
#: of invitations is in "How to read this report"; the rest, package versions and settings
#: included, is in the download).
NOTES_SHOWN = {
    "Pool estimate: accuracy": "How accurate the pool estimate is",
    "Code": "Code",
}


def data_notes_list(notes: pd.DataFrame, shown: dict[str, str] = NOTES_SHOWN) -> list[str]:
    """The items of :func:`data_notes` a month's page lists, as sentences ("Item: value").

    >>> data_notes_list(pd.DataFrame({"Item": ["Code", "Packages"], "Value": ["analysis 1", "x"]}))
    ['Code: analysis 1']
    """
    values = notes.set_index("Item")["Value"]
    return [f"{words}: {values[item]}" for item, words in shown.items() if item in values.index]
