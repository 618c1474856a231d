"""How fresh the site is, on every page: "Feed checked <day> at <time> UTC, newest round <n>
on <day>." One line, made here from the processed data (:func:`freshness_line`), shown in the
footer of ``base.html.j2`` (the ``ee-freshness`` paragraph every page has).

The builder feeds it: pages it renders get it through :func:`current` (set by :func:`feeding`
while the site is written), and at the end of each build every published page, the months
written by the report notebook included, has its frame drawn again through ``base.html.j2`` with
the current line (:func:`analysis.publish.render.reframe_site`, from the parts kept beside each
page): a month whose inputs did not change is not rebuilt because the feed was checked again,
and no page is edited as text.
"""

from __future__ import annotations

import contextlib

import pandas as pd

from analysis.report.month_report import checked_words
from analysis.vocabulary import day_label

#: The class of the footer paragraph that carries the line (see ``base.html.j2``).
CLASS = "ee-freshness"

_current: str | None = None


def freshness_line(checked_at, newest_round: object, newest_date) -> str:
    """The line every page shows.

    >>> freshness_line("2026-08-07T14:05:09Z", "434", pd.Timestamp("2026-08-07"))
    'Feed checked August 7, 2026 at 14:05 UTC, newest round 434 on August 7, 2026.'
    """
    newest = f"newest round {newest_round} on {day_label(pd.Timestamp(newest_date))}"
    checked = checked_words(checked_at)
    return f"{checked[0].upper()}{checked[1:]}, {newest}."


def inputs_line(inputs) -> str:
    """:func:`freshness_line` of the processed data: when the feed was last retrieved with this
    content (:attr:`analysis.data.Inputs.retrieved_at`) and its newest round."""
    draws = inputs.draws
    newest = draws.loc[draws["date"] == draws["date"].max()]
    number = newest["round"].astype(str).iloc[-1] if not newest.empty else "unknown"
    return freshness_line(inputs.retrieved_at, number, inputs.data_end)


def current() -> str:
    """The line pages rendered now carry (empty outside :func:`feeding`)."""
    return _current or ""


@contextlib.contextmanager
def feeding(line: str):
    """Pages rendered in this block carry ``line`` in their footer."""
    global _current
    previous, _current = _current, line
    try:
        yield
    finally:
        _current = previous
