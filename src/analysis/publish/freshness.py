"""How fresh the site is, on every page: "Feed checked <day> at <time> UTC, newest round <n>
on <day>." One line, made here from the processed data (:func:`freshness_line`), shown in the
footer of ``base.html.j2`` (the ``ee-freshness`` paragraph every page has).

The builder feeds it: pages it renders itself get it through :func:`current` (set by
:func:`feeding` while the site is written), and every published page, including the months
written by the report notebook, gets the current line with :func:`stamp_site` at the end of each
build. Only the footer is rewritten: a month whose inputs did not change is not rebuilt because
the feed was checked again.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pandas as pd
from markupsafe import escape

from analysis.months import day_label
from analysis.report.month import checked_words
from analysis.storage import write_text_atomic

#: The class of the footer paragraph that carries the line (see ``base.html.j2``).
CLASS = "ee-freshness"

_SLOT = re.compile(rf'(<p class="{CLASS}">)(.*?)(</p>)', re.S)

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


def stamp_page(html: str, line: str) -> str:
    """``html`` with its freshness paragraph saying ``line`` (escaped)."""
    return _SLOT.sub(lambda m: f"{m[1]}{escape(line)}{m[3]}", html, count=1)


def _tail(page: Path, size: int = 16384) -> bytes:
    """The last ``size`` bytes of ``page`` (a month page is mostly its inline figures)."""
    with open(page, "rb") as handle:
        handle.seek(max(0, handle.seek(0, 2) - size))
        return handle.read()


def stamp_site(site: Path, line: str) -> list[Path]:
    """Put ``line`` in the footer of every published page of ``site`` (hidden folders, i.e.
    staging, are skipped); pages already saying it are left alone. Returns the pages changed."""
    changed = []
    wanted = f'<p class="{CLASS}">{escape(line)}</p>'.encode()
    for page in sorted(Path(site).rglob("*.html")):
        if any(part.startswith(".") for part in page.relative_to(site).parts):
            continue
        if wanted in _tail(page):  # the footer is at the end: most pages say it already
            continue
        html = page.read_text(encoding="utf-8")
        stamped = stamp_page(html, line)
        if stamped != html:
            write_text_atomic(page, stamped)
            changed.append(page)
    return changed
