"""Figures, tables and sentences for notebooks, shaped for the published HTML.

One seaborn theme for every chart (:func:`set_theme`), and display helpers that put outputs into
a notebook in the form :mod:`analysis.publish.render` accepts:

- :func:`show` renders a matplotlib figure as a PNG ``<img>`` with alt text (deterministic bytes),
  after :func:`require_labels` checked it has a title and labelled axes, then closes it;
- :func:`show_table` shows a DataFrame as an HTML table with a caption, every cell escaped;
- :func:`show_html` shows a sentence written in the notebook with data values escaped into it.

Their outputs carry the marker :data:`TRUSTED_OUTPUT` in their display metadata: the publisher
accepts HTML outputs only with that marker, so HTML from the feed can never reach a page unescaped.

>>> str(format_html("<p>{name}</p>", name="<b>STEM</b>"))
'<p>&lt;b&gt;STEM&lt;/b&gt;</p>'
"""

from __future__ import annotations

import base64
import io
import re
import struct
from collections.abc import Iterable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from markupsafe import Markup
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from analysis import storage
from analysis.publish.trust import TRUSTED_OUTPUT

#: Resolution of every published PNG (pixels per inch). Fixed so the bytes never depend on rcParams.
DPI = 144
#: CSS pixels per inch: a PNG is shown at ``pixels * CSS_DPI / DPI`` CSS pixels (sharp on HiDPI).
CSS_DPI = 96
#: Tags :func:`show_text` may wrap text in.
TEXT_TAGS = frozenset({"p", "h2", "h3", "h4", "strong", "em", "li"})

_THEME_RC = {
    # Matplotlib's bundled font: the same glyphs (so the same PNG bytes) on every machine.
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "figure.figsize": (8.0, 4.5),
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "ee-draws",
}


def set_theme() -> None:
    """Apply the project's one seaborn theme (white grid, colour-blind palette, fixed font).

    Call once at the top of a notebook, before drawing.

    >>> set_theme()
    >>> plt.rcParams["savefig.dpi"] == DPI
    True
    """
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind", rc=_THEME_RC)


def _as_figure(fig: Any) -> Figure:
    """The matplotlib Figure behind ``fig`` (a Figure, an Axes or a seaborn grid)."""
    if isinstance(fig, SubFigure):
        fig = fig.figure
    if isinstance(fig, Figure):
        return fig
    inner = getattr(fig, "figure", None)
    if isinstance(inner, Figure):
        return inner
    raise TypeError(f"expected a matplotlib Figure (or Axes / seaborn grid), got {type(fig)!r}")


def _text(value: str | None) -> str:
    return (value or "").strip()


def _same_grid_line(ax: Axes, others: list[Axes], along: str) -> list[Axes]:
    """Axes in the same subplot column (``along='x'``) or row (``along='y'``) as ``ax``."""
    spec = ax.get_subplotspec()
    if spec is None:
        return []
    span = spec.colspan if along == "x" else spec.rowspan
    peers = []
    for other in others:
        other_spec = other.get_subplotspec()
        if other is ax or other_spec is None:
            continue
        if other_spec.get_gridspec() is not spec.get_gridspec():
            continue
        other_span = other_spec.colspan if along == "x" else other_spec.rowspan
        if other_span == span:
            peers.append(other)
    return peers


def _axis_labelled(ax: Axes, axes: list[Axes], fig: Figure, along: str) -> bool:
    axis = ax.xaxis if along == "x" else ax.yaxis
    if not axis.get_visible() or not axis.label.get_visible():
        return True  # hidden on purpose (e.g. a marginal plot's count axis)
    label_of = Axes.get_xlabel if along == "x" else Axes.get_ylabel
    figure_label = fig.get_supxlabel() if along == "x" else fig.get_supylabel()
    if _text(label_of(ax)) or _text(figure_label):
        return True
    shared = ax.get_shared_x_axes() if along == "x" else ax.get_shared_y_axes()
    peers = {*shared.get_siblings(ax), *_same_grid_line(ax, axes, along)}
    return any(_text(label_of(peer)) for peer in peers if peer is not ax)


def require_labels(fig: Any) -> None:
    """Raise ``ValueError`` unless the figure has a title and every visible axis a label.

    A title is the figure's suptitle or any axes title. An axis counts as labelled when it, an
    axes sharing it, an axes in the same subplot column/row (seaborn's outer labels) or the
    figure's ``supxlabel``/``supylabel`` carries a label; axes switched off and axes/labels hidden
    on purpose are skipped. Units belong in the label text, e.g. ``"CRS cutoff (points)"``.

    >>> fig, ax = plt.subplots()
    >>> _ = ax.set(title="Cutoffs", xlabel="Draw date", ylabel="CRS cutoff (points)")
    >>> require_labels(fig)
    >>> _ = ax.set_ylabel("")
    >>> require_labels(fig)
    Traceback (most recent call last):
    ...
    ValueError: figure 'Cutoffs': axes 1 has no y-axis label (say what is measured, with units)
    >>> plt.close(fig)
    """
    fig = _as_figure(fig)
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    titles = [_text(fig.get_suptitle())] + [
        _text(ax.get_title(loc)) for ax in axes for loc in ("left", "center", "right")
    ]
    name = next((title for title in titles if title), "")
    if not name:
        raise ValueError("figure has no title: set one with ax.set_title(...) or fig.suptitle(...)")
    for number, ax in enumerate(axes, start=1):
        if getattr(ax, "_colorbar", None) is not None:
            if not (_text(ax.get_xlabel()) or _text(ax.get_ylabel())):
                raise ValueError(
                    f"figure {name!r}: colour bar {number} has no label "
                    "(colorbar.set_label('... (units)'))"
                )
            continue
        for along in ("x", "y"):
            if not _axis_labelled(ax, axes, fig, along):
                raise ValueError(
                    f"figure {name!r}: axes {number} has no {along}-axis label "
                    "(say what is measured, with units)"
                )


def png_bytes(fig: Any) -> bytes:
    """The figure as PNG bytes at :data:`DPI`, with no metadata that varies (no software version).

    Cropped to its content (``bbox_inches="tight"``) so labels and outside legends are never cut.
    Stored as a 256-colour palette PNG (Pillow, no dithering): a chart's flat colours and
    anti-aliased text survive, at about a third of the bytes, so a page can carry a figure for
    wide screens and one for phones. The same figure drawn by the same matplotlib gives
    byte-identical PNGs.

    >>> fig, ax = plt.subplots(figsize=(2, 1))
    >>> png_bytes(fig) == png_bytes(fig)
    True
    >>> png_bytes(fig)[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    >>> plt.close(fig)
    """
    buffer = io.BytesIO()
    _as_figure(fig).savefig(
        buffer,
        format="png",
        dpi=DPI,
        metadata={"Software": None},
        facecolor="white",
        bbox_inches="tight",
        pad_inches=0.1,
    )
    from PIL import Image

    buffer.seek(0)
    palette = (
        Image.open(buffer)
        .convert("RGB")
        .quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    )
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels, read from the PNG's IHDR chunk."""
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def image_html(png: bytes, alt: str) -> Markup:
    """An ``<img>`` holding ``png`` inline (base64), with escaped ``alt`` and its CSS size.

    >>> fig, ax = plt.subplots(figsize=(3, 2))
    >>> html = image_html(png_bytes(fig), alt='Cutoffs "STEM" < 500')
    >>> 'alt="Cutoffs &#34;STEM&#34; &lt; 500"' in html, 'width="' in html
    (True, True)
    >>> plt.close(fig)
    """
    if not _text(alt):
        raise ValueError("alt text is empty: describe what the figure shows for screen readers")
    width, height = _png_size(png)
    encoded = base64.b64encode(png).decode("ascii")
    return Markup(
        '<figure class="ee-figure"><img src="data:image/png;base64,{src}" alt="{alt}" '
        'width="{width}" height="{height}"></figure>'
    ).format(
        src=encoded,
        alt=" ".join(alt.split()),
        width=round(width * CSS_DPI / DPI),
        height=round(height * CSS_DPI / DPI),
    )


def figure_html(fig: Any, alt: str) -> Markup:
    """Check labels (:func:`require_labels`), then render ``fig`` as an ``<img>`` with alt text.

    Does not close the figure (:func:`show` does).

    >>> fig, ax = plt.subplots(figsize=(2, 1))
    >>> _ = ax.set(title="t", xlabel="x (days)", ylabel="y (points)")
    >>> figure_html(fig, alt="A flat line").startswith('<figure class="ee-figure"><img src="data:')
    True
    >>> plt.close(fig)
    """
    require_labels(fig)
    return image_html(png_bytes(fig), alt)


def _display(html: Markup, plain: str, csv: dict[str, str] | None = None) -> None:
    """Publish an HTML output (with a plain-text fallback) marked as made by these helpers;
    ``csv`` (``{"name", "text"}``) is a download the publisher writes beside the page."""
    from IPython.display import publish_display_data

    marker: dict[str, Any] = {"escaped": True}
    if csv is not None:
        marker["download"] = csv
    publish_display_data(
        data={"text/html": str(html), "text/plain": plain},
        metadata={TRUSTED_OUTPUT: marker},
    )


def show(fig: Any, alt: str) -> None:
    """Display ``fig`` in the notebook as a PNG with alt text, then close it.

    ``alt`` says what the figure shows (the finding, not "a chart"); it is required. Raises
    ``ValueError`` when the figure has no title or an unlabelled axis, or ``alt`` is empty.
    Closing the figure stops the inline backend from showing it a second time without alt text.

    Example (in a notebook)::

        fig, ax = plt.subplots()
        ax.plot(draws.date, draws.cutoff)
        ax.set(title="All-program cutoffs", xlabel="Draw date", ylabel="CRS cutoff (points)")
        display.show(fig, alt="All-program cutoffs fell from 500 to 470 during 2023.")
    """
    figure = _as_figure(fig)
    try:
        html = figure_html(figure, alt)
    finally:
        plt.close(figure)
    _display(html, plain=f"[figure: {' '.join(alt.split())}]")


#: Largest number of columns whose alignment the stylesheet knows (``.ee-num-N``).
MAX_ALIGNED_COLUMNS = 24


def _is_number_column(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


#: A word this long (a hash, a file name) may break anywhere rather than widen its table.
_LONG_WORD = re.compile(r"\S{28,}")

_DATE_TEXT = r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?$"


def _is_date_column(column: pd.Series) -> bool:
    """Dates (or ``YYYY-MM-DD[ HH:MM]`` text): kept on one line."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return True
    if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
        return False
    values = column.dropna().astype(str)
    values = values[values != ""]
    return bool(len(values)) and bool(values.str.match(_DATE_TEXT).all())


def _cell_text(value: Any, number: bool, float_format: str | None, na_rep: str) -> str:
    """One cell as text: integers with thousands separators, floats by ``float_format`` (or
    with separators and no trailing noise), missing values as ``na_rep``."""
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
    what a page offers as the download of a table.

    >>> print(csv_text(pd.DataFrame({"Round": ["254"], "Invitations": [1500]})), end="")
    Round,Invitations
    254,1500
    """
    return storage.csv_text(df, lineterminator="\n", date_format="%Y-%m-%d")


#: A narrow figure is shown instead of the wide one on screens up to this width.
NARROW_SCREEN = "(max-width: 40rem)"


def smallest_text_points(fig: Any, draw: bool = True) -> float:
    """The size (points) of the smallest visible text in ``fig``: ticks, labels, legend, notes.

    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_title("t", fontsize=14); ax.tick_params(labelsize=7)
    >>> smallest_text_points(fig)
    7.0
    >>> plt.close(fig)
    """
    from matplotlib.text import Text

    figure = _as_figure(fig)
    if draw:  # tick labels exist once the figure is drawn (saving it draws it too)
        figure.canvas.draw()
    sizes = [
        float(text.get_fontsize())
        for text in figure.findobj(Text)
        if text.get_visible() and text.get_text().strip() and text.figure is not None
    ]
    return min(sizes) if sizes else 0.0


def figure_pair_html(wide: Any, narrow: Any, alt: str) -> Markup:
    """A ``<picture>``: ``narrow`` on screens up to :data:`NARROW_SCREEN`, ``wide`` elsewhere
    (and in print), one alt text. Both are checked (:func:`require_labels`); each image carries
    its smallest text size in points (``data-text-pt``) so a test can measure it on screen.
    """
    if not _text(alt):
        raise ValueError("alt text is empty: describe what the figure shows for screen readers")
    require_labels(wide)
    require_labels(narrow)
    pngs = {}
    for name, fig in (("wide", wide), ("narrow", narrow)):
        png = png_bytes(fig)
        points = smallest_text_points(fig, draw=False)
        width, height = _png_size(png)
        pngs[name] = {
            "src": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
            "width": round(width * CSS_DPI / DPI),
            "height": round(height * CSS_DPI / DPI),
            "points": f"{points:g}",
        }
    return Markup(
        '<figure class="ee-figure"><picture>'
        '<source media="{media}" srcset="{n[src]}" width="{n[width]}" height="{n[height]}" '
        'data-text-pt="{n[points]}">'
        '<img src="{w[src]}" alt="{alt}" width="{w[width]}" height="{w[height]}" '
        'data-text-pt="{w[points]}"></picture></figure>'
    ).format(media=NARROW_SCREEN, n=pngs["narrow"], w=pngs["wide"], alt=" ".join(alt.split()))


def show_figure(draw: Any, *args: Any, **kwargs: Any) -> None:
    """Draw a figure twice, for wide screens and for phones, and display it as one
    ``<picture>`` with the wide figure's alt text. ``draw(*args, layout=...)`` returns
    ``(figure, alt)``: the report's :mod:`analysis.report.charts` functions.

    Example (in a notebook)::

        display.show_figure(charts.cutoffs_over_time, data)
    """
    from analysis.report.charts import NARROW, WIDE

    wide, alt = draw(*args, layout=WIDE, **kwargs)
    narrow, _ = draw(*args, layout=NARROW, **kwargs)
    try:
        html = figure_pair_html(wide, narrow, alt)
    finally:
        plt.close(_as_figure(wide))
        plt.close(_as_figure(narrow))
    _display(html, plain=f"[figure: {' '.join(alt.split())}]")


def table_html(
    df: pd.DataFrame,
    caption: str,
    *,
    index: bool = False,
    float_format: str | None = None,
    na_rep: str = "–",
    download: str | None = None,
    row_ids: pd.Series | None = None,
    links: dict[str, pd.Series] | None = None,
    note: str | None = None,
    empty: str | None = None,
) -> Markup:
    """``df`` as an HTML ``<table>`` with a ``<caption>``; every header and cell is escaped.

    Shaped for readers (FT / Datawrapper habits): numbers right-aligned with thousands
    separators (``1500`` -> ``1,500``), the first column kept in view while a wide table scrolls
    inside its own box (which says so on a narrow screen), text never wraps inside dates.

    - ``index=False`` leaves the row index out (reset it first if it means something).
    - ``float_format`` is a format spec such as ``"{:,.1f}"``; missing values show as ``na_rep``.
    - ``download``: a file name (``rounds.csv``): the page links it under the table, and
      :func:`show_table` hands the table's CSV to the publisher, which writes it beside the page.
    - ``row_ids``: one ``id`` per row (e.g. ``round-254``) so a row can be linked.
    - ``links``: ``{column: hrefs}``: relative links for that column's cells (empty: none).
    - ``note``: a sentence under the table (what a dash means, where the rest is).
    - ``empty``: the sentence shown instead of a table with no rows (default: "Nothing to show.").

    >>> df = pd.DataFrame({"name": ["<script>x</script>"], "cutoff": [491]})
    >>> html = table_html(df, caption="Rounds & cutoffs")
    >>> "<caption>Rounds &amp; cutoffs</caption>" in html, "&lt;script&gt;" in html
    (True, True)
    >>> "<td>1,500</td>" in table_html(pd.DataFrame({"n": [1500]}), caption="Invitations")
    True
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"table_html expects a DataFrame, got {type(df)!r}")
    if not _text(caption):
        raise ValueError("table caption is empty: say what the table shows")
    frame = df.reset_index() if index else df
    if frame.empty and empty is not None or len(frame.columns) == 0:
        return Markup(
            '<div class="ee-table-wrap ee-empty"><p><strong>{}</strong>: {}</p></div>'
        ).format(caption, empty or "nothing to show.")
    if frame.empty:
        return Markup(
            '<div class="ee-table-wrap ee-empty"><p><strong>{}</strong>: {}</p></div>'
        ).format(caption, "nothing to show.")
    numbers = [_is_number_column(frame[c]) for c in frame.columns]
    aligned = [
        f"ee-num-{position}"
        for position, number in enumerate(numbers, start=1)
        if number and position <= MAX_ALIGNED_COLUMNS
    ]
    dated = [
        f"ee-date-{position}"
        for position, column in enumerate(frame.columns, start=1)
        if position <= MAX_ALIGNED_COLUMNS and _is_date_column(frame[column])
    ]
    classes = " ".join(["dataframe", "ee-table", *aligned, *dated])
    links = {
        column: pd.Series(hrefs).reset_index(drop=True) for column, hrefs in (links or {}).items()
    }
    ids = None if row_ids is None else pd.Series(row_ids).reset_index(drop=True)
    header = Markup("").join(Markup("<th>{}</th>").format(str(c)) for c in frame.columns)
    rows = []
    for position, values in enumerate(frame.itertuples(index=False, name=None)):
        cells = []
        for column, value, number in zip(frame.columns, values, numbers, strict=True):
            text = _cell_text(value, number, float_format, na_rep)
            href = links[column].iloc[position] if column in links else None
            if isinstance(href, str) and href:
                cells.append(Markup('<td><a href="{}">{}</a></td>').format(href, text))
            elif not number and _LONG_WORD.search(text):
                cells.append(Markup('<td class="ee-break">{}</td>').format(text))
            else:
                cells.append(Markup("<td>{}</td>").format(text))
        row_id = None if ids is None else ids.iloc[position]
        opening = (
            Markup('<tr id="{}">').format(row_id)
            if isinstance(row_id, str) and row_id
            else Markup("<tr>")
        )
        rows.append(opening + Markup("").join(cells) + Markup("</tr>"))
    below = []
    if note:
        below.append(Markup('<p class="ee-table-note">{}</p>').format(note))
    if download:
        below.append(
            Markup(
                '<p class="ee-download"><a href="{href}" download>Download this table (CSV)</a></p>'
            ).format(href=download)
        )
    table = Markup(
        '<div class="ee-table-wrap"><div class="ee-table-scroll" tabindex="0" role="region" '
        'aria-label="{caption} (table; scrolls sideways)">'
        '<table border="0" class="{classes}">\n  <caption>{caption}</caption>\n'
        '  <thead>\n    <tr class="ee-head">{header}</tr>\n  </thead>\n'
        "  <tbody>\n{rows}\n  </tbody>\n</table>"
        '</div><p class="ee-scroll-cue" aria-hidden="true">Scroll the table sideways for more '
        "columns.</p>{below}</div>"
    ).format(
        caption=caption,
        classes=classes,
        header=header,
        rows=Markup("\n").join(Markup("    ") + row for row in rows),
        below=Markup("").join(below),
    )
    return table


def show_table(
    df: pd.DataFrame,
    caption: str,
    *,
    index: bool = False,
    float_format: str | None = None,
    na_rep: str = "–",
    download: str | None = None,
    full: pd.DataFrame | None = None,
    row_ids: pd.Series | None = None,
    links: dict[str, pd.Series] | None = None,
    note: str | None = None,
    empty: str | None = None,
) -> None:
    """Display ``df`` as an escaped HTML table with a caption (see :func:`table_html`).

    With ``download="name.csv"`` the output also carries the CSV of ``full`` (default: ``df``;
    give the complete table when the page shows fewer columns) in its metadata; the publisher
    writes it beside the page (:func:`analysis.publish.render.downloads`).

    Example (in a notebook)::

        display.show_table(rounds, caption="Rounds in March 2026", download="rounds.csv")
    """
    html = table_html(
        df,
        caption,
        index=index,
        float_format=float_format,
        na_rep=na_rep,
        download=download if download and not df.empty else None,
        row_ids=row_ids,
        links=links,
        note=note,
        empty=empty,
    )
    csv = None
    if download and not df.empty:
        if "/" in download or "\\" in download or not download.endswith(".csv"):
            raise ValueError(f"download {download!r} must be a plain file name ending in .csv")
        csv = {"name": download, "text": csv_text(full if full is not None else df)}
    _display(html, plain=f"{caption}\n{df.to_string(index=index)}", csv=csv)


def format_html(template: str, /, **values: Any) -> Markup:
    """Fill a trusted HTML ``template`` (written in the notebook) with escaped ``values``.

    Uses :meth:`markupsafe.Markup.format`: every value is HTML-escaped unless it is already
    :class:`~markupsafe.Markup` (e.g. from :func:`table_html`).

    >>> str(format_html("<p>{label} cutoff: <strong>{cutoff:,}</strong></p>",
    ...                 label="<i>STEM</i>", cutoff=1491))
    '<p>&lt;i&gt;STEM&lt;/i&gt; cutoff: <strong>1,491</strong></p>'
    """
    return Markup(template).format(**values)  # noqa: S704


def show_html(template: str, /, **values: Any) -> None:
    """Display :func:`format_html` of ``template`` and ``values`` (values escaped).

    Example (in a notebook)::

        display.show_html("<p>The lowest cutoff was <strong>{c}</strong> ({label}).</p>",
                          c=row.cutoff, label=row.label)
    """
    html = format_html(template, **values)
    _display(html, plain=_plain(html))


def show_text(text: str, tag: str = "p") -> None:
    """Display plain ``text`` (escaped) as one HTML element: a paragraph, heading or list item.

    Example (in a notebook)::

        display.show_text(headline, tag="h2")
    """
    if tag not in TEXT_TAGS:
        raise ValueError(f"show_text: tag {tag!r} is not one of {sorted(TEXT_TAGS)}")
    html = Markup("<{tag}>{text}</{tag}>").format(tag=Markup(tag), text=text)  # noqa: S704
    _display(html, plain=text)


def answers_html(answers: Iterable[Any], family_href: str | None = None) -> Markup:
    """The answer-first section: one block per category (``heading``, ``text``,
    ``verdict_text`` or ``None``, ``verdict_label``, ``family``), every value escaped.
    ``family_href`` (e.g. ``"../families/{family}/index.html"``) links each block to the
    category's history.
    """
    blocks = []
    for item in answers:
        verdict = (
            Markup('<p class="ee-verdict"><strong>Is the gap real?</strong> {}</p>').format(
                item.verdict_text
            )
            if item.verdict_text
            else Markup("")
        )
        more = (
            Markup('<p class="ee-more"><a href="{href}">Every {label} round</a></p>').format(
                href=family_href.format(family=item.family), label=item.heading
            )
            if family_href
            else Markup("")
        )
        blocks.append(
            Markup(
                '<div class="ee-answer ee-verdict-{slug}"><h3>{heading}</h3><p>{text}</p>'
                "{verdict}{more}</div>"
            ).format(
                slug=str(item.verdict_label).replace(" ", "-"),
                heading=item.heading,
                text=item.text,
                verdict=verdict,
                more=more,
            )
        )
    return Markup(
        '<section class="ee-answers" aria-labelledby="the-answer">'
        '<h2 id="the-answer" class="ee-visually-hidden">The answer</h2>{}</section>'
    ).format(Markup("").join(blocks))


def show_answers(answers: Iterable[Any], family_href: str | None = None) -> None:
    """Display :func:`answers_html` (the report's first section)."""
    items = list(answers)
    html = answers_html(items, family_href)
    _display(html, plain=_plain(html))


GLOSSARY_TITLE = "How to read this report"


def glossary_html(terms: Iterable[tuple[str, str]], title: str = GLOSSARY_TITLE) -> Markup:
    """A box of (term, definition) pairs (e.g. :func:`analysis.report.narrative.how_to_read`),
    every value escaped; the contents list of the page comes after it.

    >>> print(glossary_html([("Gap", "Cutoff minus <b>.")]))  # doctest: +NORMALIZE_WHITESPACE
    <aside class="ee-howto" aria-labelledby="how-to-read"><h2 id="how-to-read">How to read this
    report</h2><dl><dt>Gap</dt><dd>Cutoff minus &lt;b&gt;.</dd></dl></aside>
    """
    items = Markup("").join(
        Markup("<dt>{}</dt><dd>{}</dd>").format(term, text) for term, text in terms
    )
    return Markup(
        '<aside class="ee-howto" aria-labelledby="how-to-read"><h2 id="how-to-read">{}</h2>'
        "<dl>{}</dl></aside>"
    ).format(title, items)


def show_glossary(terms: Iterable[tuple[str, str]], title: str = GLOSSARY_TITLE) -> None:
    """Display :func:`glossary_html`."""
    html = glossary_html(terms, title)
    _display(html, plain=_plain(html))


def _plain(html: Markup) -> str:
    return Markup(html).striptags()


def show_list(items: Iterable[str], title: str | None = None) -> None:
    """Display sentences (caveats, notes) as an escaped bulleted list."""
    items = [i for i in items if i]
    if not items:
        return
    body = Markup("").join(Markup("<li>{}</li>").format(item) for item in items)
    heading = Markup("<p><strong>{}</strong></p>").format(title) if title else Markup("")
    show_html("{heading}<ul>{body}</ul>", heading=heading, body=body)
