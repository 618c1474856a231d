"""What changed between two snapshots of the feed: new rounds, revised fields, removed rounds,
renamed categories.

>>> old = [{"drawNumber": "1", "drawName": "STEM occupations (2023-1)", "drawCRS": "486"}]
>>> new = [{"drawNumber": "1", "drawName": "STEM occupations (Version 1)", "drawCRS": "486"},
...        {"drawNumber": "2", "drawName": "General", "drawCRS": "500"}]
>>> diff_rounds(old, new)[["round", "change", "field"]].values.tolist()
[['1', 'renamed', 'drawName'], ['2', 'added', <NA>]]
"""

from __future__ import annotations

import pandas as pd

from analysis.data import canonical_round, round_sort_key
from analysis.ingest.parse import (
    ROUND_DATE_FIELDS,
    parse_date,
    parse_timestamp,
    read_round_date,
    visible,
)

REVISION_COLUMNS = ["snapshot", "previous", "round", "change", "field", "old", "new"]


def round_key(item: dict) -> str:
    """A feed round's number as the tables write it (``0434`` is round ``434``), or as written
    when it is not a round number."""
    written = str(item.get("drawNumber", "")).strip()
    return canonical_round(written) or written


def _by_number(rounds: list[dict]) -> dict[str, dict]:
    """Rounds by :func:`round_key` (the first listing of a number)."""
    keyed: dict[str, dict] = {}
    for item in rounds:
        keyed.setdefault(round_key(item), item)
    return keyed


#: Fields holding a date or a moment: compared by what they mean, not how they are written.
DATE_FIELDS = ("drawDate", "drawDateFull", "drawDateTime", "drawDistributionAsOn", "drawCutOff")


def _meaning(field: str, item: dict):
    """What a date field of one round says (a date or a UTC moment), or ``None`` when it cannot
    be read (then the text is compared)."""
    text = str(item.get(field) or "")
    if not text.strip():
        return None
    try:
        if field in ("drawDateFull", "drawDistributionAsOn"):
            return parse_date(text)
        day = read_round_date(*(str(item.get(f) or "") for f in ROUND_DATE_FIELDS)).value
        return day if field == "drawDate" else parse_timestamp(text, reference=day).value
    except ValueError:
        return None


def same_meaning(field: str, old: dict, new: dict) -> bool:
    """Whether a date field changed only in how it is written (``'11-01-2023'`` read day-month
    with its round's ``drawDateFull``, then ``'2023-01-11'``): not a revision.

    >>> old = {"drawDate": "11-01-2023", "drawDateFull": "January 11, 2023"}
    >>> same_meaning("drawDate", old, {**old, "drawDate": "2023-01-11"})
    True
    >>> same_meaning("drawDate", old, {**old, "drawDate": "2023-01-12"})
    False
    """
    if field not in DATE_FIELDS:
        return False
    before, after = _meaning(field, old), _meaning(field, new)
    return before is not None and before == after


def diff_rounds(
    old: list[dict], new: list[dict], snapshot: str = "new", previous: str = "old"
) -> pd.DataFrame:
    """Every difference between two lists of rounds, one row per round and field.

    ``change`` is ``added`` / ``removed`` (whole rounds), ``renamed`` (``drawName`` changed) or
    ``changed`` (any other field, with old and new value). A date written another way but
    meaning the same (:func:`same_meaning`) is not a change.
    """
    before, after = _by_number(old), _by_number(new)
    rows = []
    for number in sorted(set(before) | set(after), key=round_sort_key):
        if number not in before:
            rows.append((number, "added", None, None, after[number].get("drawName")))
        elif number not in after:
            rows.append((number, "removed", None, before[number].get("drawName"), None))
        else:
            a, b = before[number], after[number]
            for field in sorted(set(a) | set(b), key=lambda f: (f != "drawName", f)):
                if a.get(field) != b.get(field) and not same_meaning(field, a, b):
                    change = "renamed" if field == "drawName" else "changed"
                    rows.append((number, change, field, a.get(field), b.get(field)))
    # values as IRCC wrote them, but direction and control characters written as escapes:
    # the log is shown on pages, in CSVs and on terminals
    rows = [(*row[:3], *(None if v is None else visible(str(v)) for v in row[3:])) for row in rows]
    frame = pd.DataFrame(rows, columns=REVISION_COLUMNS[2:])
    return frame.assign(snapshot=snapshot, previous=previous)[REVISION_COLUMNS].astype(
        {c: "string" for c in REVISION_COLUMNS}
    )


def empty_revisions() -> pd.DataFrame:
    """A ``revisions`` table with no rows (the columns and dtypes of :func:`diff_rounds`)."""
    return pd.DataFrame({c: pd.Series(dtype="string") for c in REVISION_COLUMNS})


def category_renames(revisions: pd.DataFrame) -> pd.DataFrame:
    """Renamed categories: one row per (old name, new name) with the number of rounds renamed.

    >>> old = [{"drawNumber": n, "drawName": "A (2023-1)"} for n in ("1", "2")]
    >>> new = [{"drawNumber": n, "drawName": "A (Version 1)"} for n in ("1", "2")]
    >>> category_renames(diff_rounds(old, new)).values.tolist()
    [['new', 'A (2023-1)', 'A (Version 1)', 2]]
    """
    return (
        revisions.query("change == 'renamed'")
        .groupby(["snapshot", "old", "new"], as_index=False, observed=True)
        .agg(rounds=("round", "size"))
        .rename(columns={"old": "old_name", "new": "new_name"})
        .sort_values(["snapshot", "rounds"], ascending=[True, False], kind="stable")
        .reset_index(drop=True)
    )


def summarize_revisions(revisions: pd.DataFrame) -> pd.DataFrame:
    """Counts of each kind of change per snapshot."""
    return (
        revisions.groupby(["snapshot", "change"], observed=True)["round"]
        .nunique()
        .unstack(fill_value=0)
        .reindex(columns=["added", "changed", "renamed", "removed"], fill_value=0)
        .reset_index()
    )
