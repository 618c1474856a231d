"""What a page is made of: tables, figures, the answers, the glossary box, paragraphs and lists,
built by the analysis and drawn by the macros of ``templates/macros.html.j2`` (one place for
their HTML). Each object shows itself in a notebook the way it appears on the page
(``_repr_html_``), so the analyst sees the page being built.

Text is kept as text: the macros escape it (autoescape), so HTML from the feed is never markup.
The one Jinja environment of the site (:func:`environment`) lives here, with the templates it
loads, so that a block draws itself and :mod:`analysis.publish.render` draws the pages around it.

>>> import pandas as pd
>>> table = Table(pd.DataFrame({"name": ["<script>x</script>"], "cutoff": [1491]}), "Rounds")
>>> html = table._repr_html_()
>>> "&lt;script&gt;" in html, '<td data-label="cutoff">1,491</td>' in html
(True, True)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from analysis import storage

#: Templates shipped with the package: the page frame, the pages, the macros and the CSS.
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: Largest number of columns whose alignment the stylesheet knows (``.ee-num-N``).
MAX_ALIGNED_COLUMNS = 24
#: A word this long (a hash, a file name) may break anywhere rather than widen its table.
_LONG_WORD = re.compile(r"\S{28,}")
_DATE_TEXT = r"^(\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?|[A-Z][a-z]+ \d{1,2}, \d{4})$"
#: Text that is a number as a page writes it ("4,500", "−56", "13"; a dash for none): such a
#: column is right-aligned like a numeric one.
_NUMBER_TEXT = r"^([−+-]?\d[\d,]*(\.\d+)?|–)$"
#: A narrow figure is shown instead of the wide one on screens up to this width.
NARROW_SCREEN = "(max-width: 40rem)"
#: Tags a :class:`Paragraph` may be.
TEXT_TAGS = frozenset({"p", "h2", "h3", "h4", "strong", "em", "li"})
GLOSSARY_TITLE = "How to read this report"


@functools.cache
def environment() -> jinja2.Environment:
    """The site's Jinja environment: :data:`TEMPLATES_DIR`, autoescape on, a missing value an
    error."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
    )


def block_html(block: Block) -> Markup:
    """One content object (a table, a figure, ...) as HTML, by its macro: what a page shows and
    what a notebook displays (``_repr_html_``)."""
    macros = environment().get_template("macros.html.j2").module
    return Markup(macros.block(block))  # noqa: S704 (rendered with autoescape)


class Block:
    """A piece of a page: ``kind`` names its macro."""

    kind = ""

    def _repr_html_(self) -> str:
        return str(block_html(self))


def _is_number_column(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _is_number_text_column(column: pd.Series) -> bool:
    """Numbers already written as text (a table of words and numbers made for the page, such as
    "Where things stand"): right-aligned, never reformatted.

    >>> _is_number_text_column(pd.Series(["4,500", "–", "264"]))
    True
    >>> _is_number_text_column(pd.Series(["–", "–"])), _is_number_text_column(pd.Series(["91a"]))
    (False, False)
    """
    if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
        return False
    values = column.dropna().astype(str)
    return bool(values.str.match(_NUMBER_TEXT).all()) and bool((values != "–").any())


def _is_date_column(column: pd.Series) -> bool:
    """Dates (or ``YYYY-MM-DD[ HH:MM]`` text): kept on one line."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
        return False
    values = column.dropna().astype(str)
    values = values[values != ""]
    return bool(len(values)) and bool(values.str.match(_DATE_TEXT).all())


def cell_text(value: Any, number: bool, float_format: str | None, na_rep: str) -> str:
    """One cell as text: integers with thousands separators, floats by ``float_format`` (or
    with separators and no trailing noise), missing values as ``na_rep``.

    >>> [cell_text(value, True, None, "–") for value in (1500, 2.5, None)]
    ['1,500', '2.50', '–']
    """
    if value is None or (
        not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)
    ):
        return na_rep
    if number and isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{int(value):,}"
    if number and isinstance(value, (float, np.floating)):
        if float_format:
            return float_format.format(value)
        return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"
    return str(value)


def csv_text(df: pd.DataFrame) -> str:
    """``df`` as CSV text (UTF-8, plain numbers, ISO dates, empty cells for missing values):
    what a page offers as the download of a table, with formula-like text cells neutralised
    (:func:`analysis.storage.csv_text`).

    >>> print(csv_text(pd.DataFrame({"Round": ["254"], "Invitations": [1500]})), end="")
    Round,Invitations
    254,1500
    """
    return storage.csv_text(df, lineterminator="\n", date_format="%Y-%m-%d")


@dataclass(eq=False)
class Table(Block):
    """A DataFrame shown as a table with a caption, shaped for readers (FT / Datawrapper habits):
    numbers right-aligned with thousands separators, the first column kept in view while a wide
    table scrolls inside its own box, dates never wrapped.

    - ``index=True`` shows the row index as the first column.
    - ``float_format`` is a format spec such as ``"{:,.1f}"``; missing values show as ``na_rep``.
    - ``download``: a file name (``rounds.csv``): the page links it under the table and the page
      writer puts the CSV of ``full`` (default: the table itself) beside the page.
    - ``row_ids``: one ``id`` per row (e.g. ``round-254``) so a row can be linked.
    - ``links``: ``{column: hrefs}``: relative links for that column's cells (empty: none).
    - ``note``: a sentence under the table; ``empty``: the sentence shown instead of a table with
      no rows (default: "nothing to show.").
    """

    frame: pd.DataFrame
    caption: str
    index: bool = False
    float_format: str | None = None
    na_rep: str = "–"
    download: str | None = None
    full: pd.DataFrame | None = None
    row_ids: pd.Series | None = None
    links: dict[str, pd.Series] | None = None
    note: str | None = None
    empty: str | None = None
    kind = "table"

    def __post_init__(self) -> None:
        if not isinstance(self.frame, pd.DataFrame):
            raise TypeError(f"a table needs a DataFrame, got {type(self.frame)!r}")
        if not (self.caption or "").strip():
            raise ValueError("table caption is empty: say what the table shows")
        name = self.download
        if name is not None and (
            "/" in name or "\\" in name or not name.endswith(".csv") or name.startswith(".")
        ):
            raise ValueError(f"download {name!r} must be a plain file name ending in .csv")

    @property
    def shown(self) -> pd.DataFrame:
        return self.frame.reset_index() if self.index else self.frame

    def csv(self) -> str | None:
        """The download's text, or None (no download, or no rows to offer)."""
        if not self.download or self.frame.empty:
            return None
        return csv_text(self.full if self.full is not None else self.frame)

    def view(self) -> dict:
        """What the ``table`` macro draws: header, rows of cells (text, link, wrap), classes,
        or the ``empty`` sentence."""
        frame = self.shown
        if frame.empty or len(frame.columns) == 0:
            return {"empty": self.empty or "nothing to show."}
        numbers = [_is_number_column(frame[c]) for c in frame.columns]
        aligned = [
            f"ee-num-{position}"
            for position, column in enumerate(frame.columns, start=1)
            if position <= MAX_ALIGNED_COLUMNS
            # numbers written as text, except in the first column (the row's name: a round)
            and (numbers[position - 1] or position > 1 and _is_number_text_column(frame[column]))
        ]
        dated = [
            f"ee-date-{position}"
            for position, column in enumerate(frame.columns, start=1)
            if position <= MAX_ALIGNED_COLUMNS and _is_date_column(frame[column])
        ]
        links = {
            column: pd.Series(hrefs).reset_index(drop=True)
            for column, hrefs in (self.links or {}).items()
        }
        ids = None if self.row_ids is None else pd.Series(self.row_ids).reset_index(drop=True)
        rows = []
        for position, values in enumerate(frame.itertuples(index=False, name=None)):
            cells = []
            for column, value, number in zip(frame.columns, values, numbers, strict=True):
                text = cell_text(value, number, self.float_format, self.na_rep)
                href = links[column].iloc[position] if column in links else None
                cells.append(
                    {
                        "text": text,
                        "href": href if isinstance(href, str) and href else None,
                        "wrap": not number and bool(_LONG_WORD.search(text)),
                    }
                )
            row_id = None if ids is None else ids.iloc[position]
            rows.append(
                {"id": row_id if isinstance(row_id, str) and row_id else None, "cells": cells}
            )
        return {
            "empty": None,
            "classes": " ".join(["dataframe", "ee-table", *aligned, *dated]),
            "header": [str(c) for c in frame.columns],
            "rows": rows,
            "download": self.download,
        }

    def __repr__(self) -> str:
        return f"{self.caption}\n{self.frame.to_string(index=self.index)}"


@dataclass(frozen=True)
class Image:
    """One PNG, inline: its ``data:`` URL, its size in CSS pixels, and its smallest text size in
    points (``""`` when not measured)."""

    src: str
    width: int
    height: int
    points: str = ""


@dataclass(eq=False)
class Figure(Block):
    """A figure with its alt text: ``wide`` for wide screens and print, ``narrow`` (or None) for
    screens up to :data:`NARROW_SCREEN`. Made by :func:`analysis.publish.display.figure`."""

    alt: str
    wide: Image
    narrow: Image | None = None
    media: str = NARROW_SCREEN
    kind = "figure"

    def __post_init__(self) -> None:
        if not (self.alt or "").strip():
            raise ValueError("alt text is empty: describe what the figure shows for screen readers")
        self.alt = " ".join(self.alt.split())

    def __repr__(self) -> str:
        return f"[figure: {self.alt}]"


@dataclass(eq=False)
class Answers(Block):
    """The answer-first section: one block per category (``heading``, ``text``,
    ``verdict_text`` or None, ``verdict_label``, ``family``; see
    :func:`analysis.report.month_report.answers`). ``family_href`` (e.g.
    ``"../families/{family}/index.html"``) links each block to the category's history."""

    items: list
    family_href: str | None = None
    #: False when the page states each verdict elsewhere (a month's "Where things stand" table).
    show_verdicts: bool = True
    kind = "answers"

    def __post_init__(self) -> None:
        self.items = list(self.items)


@dataclass(eq=False)
class Glossary(Block):
    """A box of (term, definition) pairs, e.g. :func:`analysis.report.narrative.how_to_read`."""

    terms: list[tuple[str, str]]
    title: str = GLOSSARY_TITLE
    kind = "glossary"

    def __post_init__(self) -> None:
        self.terms = [tuple(term) for term in self.terms]


@dataclass(eq=False)
class Paragraph(Block):
    """Plain text as one element: a paragraph (``tag="p"``), a heading or a list item."""

    text: str
    tag: str = "p"
    kind = "paragraph"

    def __post_init__(self) -> None:
        if self.tag not in TEXT_TAGS:
            raise ValueError(f"paragraph tag {self.tag!r} is not one of {sorted(TEXT_TAGS)}")


@dataclass(eq=False)
class ItemList(Block):
    """Sentences (caveats, notes) as a bulleted list under an optional bold title; empty
    sentences are dropped, and a list with none shows nothing."""

    items: list[str]
    title: str | None = None
    kind = "list"

    def __post_init__(self) -> None:
        self.items = [item for item in self.items if item]


@dataclass(eq=False)
class Download(Block):
    """A table offered as a download only, with one sentence saying what it holds (e.g. "IRCC
    changed 32 of these rounds after publishing them ..."): for tables a reader of the page
    needs counted, not listed. ``download`` is the file name, ``frame`` its rows; the sentence
    is shown, and the link only when there are rows to offer."""

    text: str
    frame: pd.DataFrame
    download: str
    link_text: str = "Download them all (CSV)"
    kind = "download"

    def __post_init__(self) -> None:
        if not (self.text or "").strip():
            raise ValueError("a download needs a sentence saying what it holds")
        Table(self.frame, self.text, download=self.download)  # the same checks of the name

    def csv(self) -> str | None:
        return None if self.frame.empty else csv_text(self.frame)

    def __repr__(self) -> str:
        return f"{self.text} [{self.download}: {len(self.frame)} rows]"


@dataclass
class Section:
    """A part of a page: a heading (``id`` for links and the contents list) and its blocks."""

    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)


def slug(text: str) -> str:
    """A heading's id: ``"The month's rounds"`` -> ``"the-month-s-rounds"``.

    >>> slug("What next? Forecasts")
    'what-next-forecasts'
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def sections(titles: Iterable[str]) -> list[Section]:
    """Empty sections with ids made from their titles (unique on the page)."""
    made: list[Section] = []
    for title in titles:
        base = identifier = slug(title)
        number = 1
        while any(s.id == identifier for s in made):
            number += 1
            identifier = f"{base}-{number}"
        made.append(Section(identifier, title))
    return made


def downloads(blocks: Iterable[Block]) -> dict[str, str]:
    """``{file name: CSV text}`` of the tables among ``blocks`` that offer one; a name used
    twice is an error (two tables cannot share one file)."""
    found: dict[str, str] = {}
    for block in blocks:
        text = block.csv() if isinstance(block, (Table, Download)) else None
        if text is None:
            continue
        if block.download in found:
            raise ValueError(f"two tables offer the same download {block.download!r}")
        found[block.download] = text
    return found
