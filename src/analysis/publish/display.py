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
import struct
from collections.abc import Iterable
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from markupsafe import Markup, escape
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

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
    The same figure drawn by the same matplotlib gives byte-identical PNGs.

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
    return buffer.getvalue()


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


def _display(html: Markup, plain: str) -> None:
    """Publish an HTML output (with a plain-text fallback) marked as made by these helpers."""
    from IPython.display import publish_display_data

    publish_display_data(
        data={"text/html": str(html), "text/plain": plain},
        metadata={TRUSTED_OUTPUT: {"escaped": True}},
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


def table_html(
    df: pd.DataFrame,
    caption: str,
    *,
    index: bool = False,
    float_format: str | None = None,
    na_rep: str = "–",
) -> Markup:
    """``df`` as an HTML ``<table>`` with a ``<caption>``; every header and cell is escaped.

    ``index=False`` leaves the row index out (reset it first if it means something).
    ``float_format`` is a format spec such as ``"{:,.1f}"``; missing values show as ``na_rep``.

    >>> df = pd.DataFrame({"name": ["<script>x</script>"], "cutoff": [491]})
    >>> html = table_html(df, caption="Rounds & cutoffs")
    >>> "<caption>Rounds &amp; cutoffs</caption>" in html, "&lt;script&gt;" in html
    (True, True)
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"table_html expects a DataFrame, got {type(df)!r}")
    if not _text(caption):
        raise ValueError("table caption is empty: say what the table shows")
    body = df.to_html(
        index=index,
        escape=True,
        border=0,
        classes="ee-table",
        na_rep=na_rep,
        float_format=float_format.format if float_format else None,
    )
    opening, sep, rest = body.partition(">")
    if not opening.startswith("<table") or not sep:
        raise ValueError(f"unexpected pandas to_html output: {body[:60]!r}")
    table = f"{opening}>\n  <caption>{escape(caption)}</caption>{rest}"
    return Markup('<div class="ee-table-wrap">{}</div>').format(Markup(table))  # noqa: S704


def show_table(
    df: pd.DataFrame,
    caption: str,
    *,
    index: bool = False,
    float_format: str | None = None,
    na_rep: str = "–",
) -> None:
    """Display ``df`` as an escaped HTML table with a caption (see :func:`table_html`).

    Example (in a notebook)::

        display.show_table(summary, caption="Category cutoffs in March 2026 (CRS points)")
    """
    html = table_html(df, caption, index=index, float_format=float_format, na_rep=na_rep)
    _display(html, plain=f"{caption}\n{df.to_string(index=index)}")


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
