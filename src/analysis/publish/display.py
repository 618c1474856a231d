"""Figures for pages and notebooks: one seaborn theme for every chart (:func:`set_theme`), the
check that a figure has a title and labelled axes (:func:`require_labels`), deterministic PNG
bytes (:func:`png_bytes`), and :func:`figure`, which draws a chart for wide screens and for
phones as one :class:`~analysis.publish.content.Figure`.

For analysts, :func:`show` and :func:`show_table` display a figure or a DataFrame in a notebook
as the site shows them.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import display as ipython_display
from matplotlib.axes import Axes
from matplotlib.figure import Figure as MplFigure
from matplotlib.figure import SubFigure
from matplotlib.text import Text
from PIL import Image as PilImage

from analysis.publish.content import Figure, Image, Table
from analysis.report.charts import NARROW, WIDE

#: Resolution of every published PNG (pixels per inch). Fixed so the bytes never depend on rcParams.
DPI = 144
#: CSS pixels per inch: a PNG is shown at ``pixels * CSS_DPI / DPI`` CSS pixels (sharp on HiDPI).
CSS_DPI = 96

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


def _as_figure(fig: Any) -> MplFigure:
    """The matplotlib Figure behind ``fig`` (a Figure, an Axes or a seaborn grid)."""
    if isinstance(fig, SubFigure):
        fig = fig.figure
    if isinstance(fig, MplFigure):
        return fig
    inner = getattr(fig, "figure", None)
    if isinstance(inner, MplFigure):
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


def _axis_labelled(ax: Axes, axes: list[Axes], fig: MplFigure, along: str) -> bool:
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
    buffer.seek(0)
    palette = (
        PilImage.open(buffer)
        .convert("RGB")
        .quantize(colors=256, method=PilImage.Quantize.MEDIANCUT, dither=PilImage.Dither.NONE)
    )
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def image(png: bytes, points: float | None = None) -> Image:
    """``png`` as an inline :class:`~analysis.publish.content.Image` at its CSS size (sharp on
    HiDPI screens), with its smallest text size in points when known."""
    width, height = PilImage.open(io.BytesIO(png)).size
    return Image(
        src="data:image/png;base64," + base64.b64encode(png).decode("ascii"),
        width=round(width * CSS_DPI / DPI),
        height=round(height * CSS_DPI / DPI),
        points="" if points is None else f"{points:g}",
    )


def smallest_text_points(fig: Any, draw: bool = True) -> float:
    """The size (points) of the smallest visible text in ``fig``: ticks, labels, legend, notes.

    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_title("t", fontsize=14); ax.tick_params(labelsize=7)
    >>> smallest_text_points(fig)
    7.0
    >>> plt.close(fig)
    """
    figure = _as_figure(fig)
    if draw:  # tick labels exist once the figure is drawn (saving it draws it too)
        figure.canvas.draw()
    sizes = [
        float(text.get_fontsize())
        for text in figure.findobj(Text)
        if text.get_visible() and text.get_text().strip() and text.figure is not None
    ]
    return min(sizes) if sizes else 0.0


def figure_pair(wide: Any, narrow: Any, alt: str) -> Figure:
    """A :class:`~analysis.publish.content.Figure`: ``narrow`` on phones, ``wide`` elsewhere
    (and in print), one alt text. Both are checked (:func:`require_labels`); each image
    carries its smallest text size in points so a test can measure it on screen. Closes
    neither figure.

    >>> fig, ax = plt.subplots(figsize=(2, 1))
    >>> _ = ax.set(title="t", xlabel="x (days)", ylabel="y (points)")
    >>> figure_pair(fig, fig, alt="A flat line").wide.src.startswith("data:image/png;base64,")
    True
    >>> plt.close(fig)
    """
    if not _text(alt):
        raise ValueError("alt text is empty: describe what the figure shows for screen readers")
    require_labels(wide)
    require_labels(narrow)
    images = []
    for fig in (wide, narrow):
        png = png_bytes(fig)  # draws the figure: its text sizes are then known
        images.append(image(png, smallest_text_points(fig, draw=False)))
    return Figure(alt=alt, wide=images[0], narrow=images[1])


def figure(draw: Any, *args: Any, **kwargs: Any) -> Figure:
    """Draw a figure twice, for wide screens and for phones, as one
    :class:`~analysis.publish.content.Figure` with the wide figure's alt text.
    ``draw(*args, layout=...)`` returns ``(figure, alt)``: the report's
    :mod:`analysis.report.charts` functions.

    Example (in a notebook)::

        display.figure(charts.cutoffs_over_time, data)
    """
    wide, alt = draw(*args, layout=WIDE, **kwargs)
    narrow, _ = draw(*args, layout=NARROW, **kwargs)
    try:
        return figure_pair(wide, narrow, alt)
    finally:
        plt.close(_as_figure(wide))
        plt.close(_as_figure(narrow))


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
    shown = _as_figure(fig)
    try:
        require_labels(shown)
        made = Figure(alt=alt, wide=image(png_bytes(shown)))
    finally:
        plt.close(shown)
    ipython_display(made)


def show_table(df: pd.DataFrame, caption: str, **options: Any) -> None:
    """Display ``df`` in a notebook as the site shows tables (an escaped
    :class:`~analysis.publish.content.Table` with a caption; ``options`` are its fields).

    Example (in a notebook)::

        display.show_table(rounds, caption="Rounds in March 2026")
    """
    ipython_display(Table(df, caption, **options))
