"""Selecting rounds: which families there are, whether a ``draws`` table has what the
statistics need, one family's rounds with a cutoff inside a window of dates, and a family's
readable name (:func:`family_label`).

Every tool in :mod:`analysis.stats` starts here. ``draws`` has one row per round with ``date``,
``family`` and ``cutoff`` (:data:`REQUIRED_COLUMNS`); a group with too few rounds gets the status
:data:`NOT_ENOUGH` and ``None`` where a number would be.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from analysis import taxonomy
from analysis.data import require_columns
from analysis.taxonomy import UNCLASSIFIED

#: The status of a result whose groups have too few rounds to give a number.
NOT_ENOUGH = "not enough data"
#: The columns every tool needs in ``draws``.
REQUIRED_COLUMNS = ("date", "family", "cutoff")


def all_families(draws: pd.DataFrame | None = None) -> list[str]:
    """Family identifiers from the taxonomy (and any others present in ``draws``).

    >>> "stem" in all_families()
    True
    """
    from_taxonomy = taxonomy.known_families()
    present = [] if draws is None else sorted(set(draws["family"].dropna().astype(str)))
    return list(dict.fromkeys([*from_taxonomy, UNCLASSIFIED, *present]))


def check_draws(draws: pd.DataFrame, *families: str) -> None:
    """Raise ``ValueError`` naming what is wrong if ``draws`` lacks a needed column or a family
    name is neither in the taxonomy nor in the data.

    >>> check_draws(pd.DataFrame(columns=["date", "family", "cutoff"]), "stem")
    >>> check_draws(pd.DataFrame(columns=["date", "family", "cutoff"]), "STEM")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown family 'STEM'; known families: all_program, stem, healthcare, ...
    """
    require_columns(draws, REQUIRED_COLUMNS, "stats")
    known = all_families(draws)
    for name in families:
        if name not in known:
            raise ValueError(f"unknown family {name!r}; known families: {', '.join(known)}")


def to_timestamp(value: Any, name: str) -> pd.Timestamp | None:
    """``value`` as a timestamp without a time zone (``None`` stays ``None``); ``ValueError``
    naming the argument ``name`` when it is not a date.

    >>> to_timestamp("2024-04-23", "as_of").date(), to_timestamp(None, "as_of")
    (datetime.date(2024, 4, 23), None)
    >>> to_timestamp("2024-13-01", "as_of")
    Traceback (most recent call last):
    ...
    ValueError: as_of='2024-13-01' is not a date
    """
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}={value!r} is not a date") from error
    if pd.isna(stamp):
        raise ValueError(f"{name}={value!r} is not a date")
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def date_window(since: Any, until: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``since`` and ``until`` as timestamps (:func:`to_timestamp`), either may be ``None``;
    ``ValueError`` when ``until`` comes before ``since``.

    >>> date_window("2024-05-01", "2024-04-01")
    Traceback (most recent call last):
    ...
    ValueError: until (2024-04-01) is before since (2024-05-01)
    """
    start, end = to_timestamp(since, "since"), to_timestamp(until, "until")
    if start is not None and end is not None and end < start:
        raise ValueError(f"until ({end.date()}) is before since ({start.date()})")
    return start, end


def family_rounds(
    draws: pd.DataFrame, family: str, since: Any = None, until: Any = None
) -> pd.DataFrame:
    """Rounds of one family with a published cutoff, in round order, inside ``[since, until]``
    (both inclusive, either may be ``None``). ``cutoff`` comes back as float64.

    >>> draws = pd.DataFrame({"date": pd.to_datetime(["2023-05-01", "2023-07-01", "2023-08-01"]),
    ...                       "family": ["stem", "stem", "stem"],
    ...                       "cutoff": pd.array([480, 490, None], dtype="Int64")})
    >>> family_rounds(draws, "stem", since="2023-06-01")["cutoff"].tolist()
    [490.0]
    """
    check_draws(draws, family)
    start, end = date_window(since, until)
    dates = draws["date"]
    in_window = draws["family"].eq(family).fillna(False)
    if start is not None:
        in_window &= dates.ge(start).fillna(False)
    if end is not None:
        in_window &= dates.le(end).fillna(False)
    order = [c for c in ("date", "round") if c in draws.columns]
    return (
        draws.loc[in_window.astype(bool)]
        .dropna(subset=["cutoff"])
        .assign(cutoff=lambda d: d["cutoff"].astype("float64"))
        .sort_values(order, kind="stable")
        .reset_index(drop=True)
    )


def family_label(draws: pd.DataFrame, family: str) -> str:
    """Readable name of a family (``label`` column when present), e.g. 'STEM'.

    >>> family_label(pd.DataFrame({"family": ["stem"], "label": ["STEM"]}), "stem")
    'STEM'
    """
    if "label" in draws.columns:
        labels = draws.loc[draws["family"].eq(family).fillna(False), "label"].dropna()
        if len(labels):
            return str(labels.iloc[-1])
    return family
