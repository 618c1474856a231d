"""The monthly report's figures. Each function takes a
:class:`~analysis.report.month_report.MonthData` (and a :class:`Layout`: the wide figure for
desktops and print, the narrow one for phones) and returns ``(figure, alt_text)``; the alt text
states what the figure shows, from the numbers.

Every family is drawn in its own colour and marker from ``family_styles.csv`` (beside the
taxonomy), the same in every figure and every month. Legends sit below the plot, never over the
data; every month of the window is named on the date axis.

Draw both layouts with :func:`analysis.publish.display.figure`::

    display.figure(charts.cutoffs_over_time, data)
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd

from analysis.report.month_report import MonthData
from analysis.taxonomy import ALL_PROGRAM, family_labels, family_style
from analysis.vocabulary import month_label, month_name, plural, signed_points

REFERENCE = ALL_PROGRAM


@dataclass(frozen=True)
class Layout:
    """Size and type of a figure. ``narrow`` figures are drawn for a 390 px phone: shown about
    360 CSS px wide, their smallest text (9 pt) stays above 10 CSS px."""

    name: str
    figsize: tuple[float, float]
    font: float  # the smallest text: ticks, legend (points)
    legend_columns: int


WIDE = Layout("wide", (8.0, 4.5), 10.0, 2)
NARROW = Layout("narrow", (3.8, 4.4), 9.5, 1)


def _rc(layout: Layout) -> dict:
    return {
        "font.size": layout.font,
        "axes.titlesize": layout.font + 2,
        "axes.labelsize": layout.font + 1,
        "xtick.labelsize": layout.font,
        "ytick.labelsize": layout.font,
        "legend.fontsize": layout.font,
    }


def _figure(layout: Layout):
    """A figure and its axes in the layout's size and type sizes (ticks made later too)."""
    with plt.rc_context(_rc(layout)):
        fig, ax = plt.subplots(figsize=layout.figsize)
    ax.tick_params(labelsize=layout.font)
    return fig, ax


def _legend_below(ax, layout: Layout, handles=None, labels=None) -> None:
    """The legend under the plot (never over the data), in the layout's font size."""
    handles, labels = (handles, labels) if handles else ax.get_legend_handles_labels()
    if not handles:
        return
    if layout is NARROW:  # long labels wrap rather than widen a phone's figure
        labels = [textwrap.fill(label, 30) for label in labels]
    ax.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(0.0, -0.2 if layout is WIDE else -0.28),
        ncols=min(layout.legend_columns, len(handles)),
        fontsize=layout.font,
        frameon=False,
        borderaxespad=0.0,
    )


def month_axis(
    ax, start: pd.Timestamp, end: pd.Timestamp, layout: Layout, centre: bool = False
) -> None:
    """A date axis naming every month from ``start`` to ``end`` (every third past two years),
    with the year under January and the first month; ``centre`` puts each name mid-month
    (under a month's bar)."""
    months = pd.period_range(start, end, freq="M")
    step = 1 if len(months) <= 24 else 3
    shift = pd.Timedelta(days=14 if centre else 0)
    ticks = [m.start_time + shift for i, m in enumerate(months) if i % step == 0]
    # the year under the first tick and under the first tick of every new year (with a tick every
    # third month, January may have no tick of its own)
    labels = [
        month_label(t, short=True).replace(" ", "\n")
        if i == 0 or t.year != ticks[i - 1].year
        else month_name(t, short=True)
        for i, t in enumerate(ticks)
    ]
    ax.set_xticks(ticks, labels)
    ax.tick_params(axis="x", labelsize=layout.font)
    if layout is NARROW and len(ticks) > 6:
        for label in ax.get_xticklabels():
            label.set_rotation(90)
    ax.set_xlim(start - pd.Timedelta(days=4), end + pd.Timedelta(days=4))


def _shade_month(ax, data: MonthData) -> None:
    ax.axvspan(data.start, data.end, color="0.88", linewidth=0, zorder=0, label=data.title)


def _title(data: MonthData, what: str, layout: Layout) -> str:
    span = f"{month_label(data.window_start, short=True)} to {month_label(data.end, short=True)}"
    return f"{textwrap.fill(what, 28)},\n{span}" if layout is NARROW else f"{what}, {span}"


def cutoffs_over_time(data: MonthData, layout: Layout = WIDE):
    """Cutoffs of the target categories and all-program rounds in the window; after April 2024
    also the pool estimate each category round is compared with (with its interval)."""
    families = [REFERENCE, *data.params.categories]
    shown = data.draws.loc[
        (data.draws["date"] >= data.window_start)
        & data.draws["family"].isin(families)
        & data.draws["cutoff"].notna()
    ]
    fig, ax = _figure(layout)
    _shade_month(ax, data)
    for family in families:
        rows = shown.loc[shown["family"] == family]
        if rows.empty:
            continue
        style = family_style(family)
        ax.plot(
            rows["date"],
            rows["cutoff"].astype(float),
            color=style.colour,
            marker=style.marker,
            linestyle="-" if family == REFERENCE else "none",
            markersize=7 if layout is WIDE else 6,
            linewidth=1.2,
            label=data.label(family),
            zorder=3,
        )
    pool = data.comparisons.loc[
        (data.comparisons["baseline"] == "pool") & data.comparisons["baseline_cutoff"].notna()
    ]
    window = data.comparisons.loc[
        (data.comparisons["baseline"] == "window") & data.comparisons["baseline_cutoff"].notna()
    ]
    pool = pool.loc[~pool["round"].isin(window["round"])]  # where no all-program round was near
    if len(pool):
        estimate = pool["baseline_cutoff"].astype(float)
        ax.errorbar(
            pool["date"],
            estimate,
            yerr=[
                (estimate - pool["low"].astype(float)).clip(lower=0),
                (pool["high"].astype(float) - estimate).clip(lower=0),
            ],
            fmt="o",
            markerfacecolor="white",
            markeredgecolor=family_style(REFERENCE).colour,
            ecolor="0.45",
            elinewidth=1,
            capsize=2,
            markersize=6,
            label="All-program estimate for the same size (pool, with range)",
            zorder=2,
        )
    reference = data.draws.loc[data.draws["is_all_program"] & data.draws["cutoff"].notna()]
    if not reference.empty and reference["date"].max() < data.window_start:
        last = reference.iloc[-1]
        ax.axhline(
            float(last["cutoff"]),
            color=family_style(REFERENCE).colour,
            linestyle=":",
            linewidth=1.2,
            label=f"Last all-program cutoff ({last['cutoff']}, "
            f"{month_label(last['date'], short=True)})",
        )
    ax.set(title=_title(data, "CRS cutoffs", layout), xlabel="Round date")
    ax.set_ylabel("Cutoff (CRS points)")
    month_axis(ax, data.window_start, data.end, layout)
    ax.margins(y=0.08)
    _legend_below(ax, layout)
    parts = []
    for family in families:
        rows = shown.loc[shown["family"] == family]
        if len(rows):
            parts.append(
                f"{data.label(family)}: {plural(len(rows), 'round')}, cutoffs "
                f"{int(rows['cutoff'].min())} to {int(rows['cutoff'].max())}"
            )
        else:
            parts.append(f"{data.label(family)}: no rounds")
    if len(pool):
        parts.append(
            f"pool estimates for the category rounds without a nearby all-program round: "
            f"{pool['baseline_cutoff'].min():.0f} to {pool['baseline_cutoff'].max():.0f}"
        )
    alt = (
        f"Cutoffs by round date from {month_label(data.window_start)} to "
        f"{month_label(data.end)}. " + "; ".join(parts) + "."
    )
    return fig, alt


def gaps(data: MonthData, layout: Layout = WIDE):
    """Each target round's gap (cutoff minus baseline) against every baseline: colour is the
    category, marker shape the baseline."""
    rows = data.comparisons.dropna(subset=["gap"])
    fig, ax = _figure(layout)
    _shade_month(ax, data)
    names = {
        "window": f"all-program, {data.params.window_days} days before",
        "latest": "latest all-program before",
        "pool": "pool estimate",
    }
    if rows.empty:
        ax.text(
            0.5,
            0.5,
            "No category round in the window\nhas a baseline",
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize=layout.font + 1,
        )
        alt = "No target-category round in the window could be compared with a baseline."
    else:
        markers = {"window": "o", "latest": "s", "pool": "D"}
        for (family, kind), group in rows.groupby(["family", "baseline"], sort=False):
            ax.scatter(
                group["date"],
                group["gap"].astype(float),
                marker=markers[kind],
                color=family_style(family).colour,
                s=40 if layout is WIDE else 30,
                alpha=0.9,
                label=f"{data.label(family)} vs {names[kind]}",
                zorder=3,
            )
        ax.axhline(0, color="0.3", linewidth=1)
        ax.margins(y=0.12)
        by_kind = rows.groupby("baseline")["gap"].agg(["mean", "size"])
        alt = (
            "Gaps of category cutoffs below or above all-program baselines, by round date. "
            + "; ".join(
                f"{names[k].capitalize()}: mean gap {signed_points(v['mean'])} points over "
                f"{plural(int(v['size']), 'round')}"
                for k, v in by_kind.iterrows()
            )
            + "."
        )
    ax.set(
        title=_title(data, "Category cutoff minus all-program baseline", layout),
        xlabel="Round date",
        ylabel="Gap (CRS points)\nbelow 0: category lower",
    )
    month_axis(ax, data.window_start, data.end, layout)
    _legend_below(ax, layout)
    return fig, alt


def rolling_cutoffs(
    rolling: pd.DataFrame, families, since=None, window: str = "90D", layout: Layout = WIDE
):
    """The rolling mean cutoff (from :func:`analysis.trends.rolling_cutoff`) of ``families`` and
    all-program rounds since ``since``, one line per family."""
    shown_families = [ALL_PROGRAM, *[f for f in families if f != ALL_PROGRAM]]
    shown = rolling.loc[rolling["family"].isin(shown_families) & rolling["cutoff_mean"].notna()]
    if since is not None:
        shown = shown.loc[shown["date"] >= pd.Timestamp(since)]
    labels = family_labels()
    fig, ax = _figure(layout)
    parts = []
    for family in shown_families:
        rows = shown.loc[shown["family"] == family]
        if rows.empty:
            parts.append(f"{labels.get(family, family)}: no rounds")
            continue
        ax.plot(
            rows["date"],
            rows["cutoff_mean"].astype(float),
            marker=family_style(family).marker,
            markersize=4,
            linewidth=1.4,
            color=family_style(family).colour,
            label=labels.get(family, family),
        )
        first, last = rows.iloc[0], rows.iloc[-1]
        parts.append(
            f"{labels.get(family, family)} from {first['cutoff_mean']:.0f} "
            f"({month_label(first['date'], short=True)}) to {last['cutoff_mean']:.0f} "
            f"({month_label(last['date'], short=True)})"
        )
    start = f" since {month_label(pd.Timestamp(since))}" if since is not None else ""
    ax.set(title=f"Rolling {window} mean cutoff{start}", xlabel="Round date")
    ax.set_ylabel("Mean cutoff (CRS points)")
    if len(shown):
        month_axis(ax, shown["date"].min(), shown["date"].max(), layout)
    _legend_below(ax, layout)
    alt = f"Rolling {window} mean CRS cutoff by round date{start}: " + "; ".join(parts) + "."
    return fig, alt


def family_history(
    draws: pd.DataFrame,
    comparisons: pd.DataFrame,
    family: str,
    label: str,
    since: pd.Timestamp,
    layout: Layout = WIDE,
):
    """Every round of one family since ``since``: its cutoffs, the all-program cutoffs and the
    pool estimate for each of its rounds (with its range). The date axis runs to the end of the
    newest round's month, so a new round in that month leaves the other families' figures as
    they were (their pages are then kept, not redrawn)."""
    end = draws["date"].max().to_period("M").end_time.normalize()
    mine = draws.loc[(draws["family"] == family) & (draws["date"] >= since)].dropna(
        subset=["cutoff"]
    )
    reference = draws.loc[draws["is_all_program"] & (draws["date"] >= since)].dropna(
        subset=["cutoff"]
    )
    fig, ax = _figure(layout)
    style, ref_style = family_style(family), family_style(REFERENCE)
    if len(reference):
        ax.plot(
            reference["date"],
            reference["cutoff"].astype(float),
            color=ref_style.colour,
            marker=ref_style.marker,
            markersize=4,
            linewidth=1.2,
            label="All-program rounds",
        )
    pool = comparisons.loc[
        (comparisons["family"] == family)
        & (comparisons["baseline"] == "pool")
        & comparisons["baseline_cutoff"].notna()
    ]
    if len(pool):
        ax.scatter(
            pool["date"],
            pool["baseline_cutoff"].astype(float),
            marker="o",
            facecolors="white",
            edgecolors=ref_style.colour,
            s=30,
            label="All-program estimate for the same size (pool)",
            zorder=2,
        )
    ax.plot(
        mine["date"],
        mine["cutoff"].astype(float),
        color=style.colour,
        marker=style.marker,
        linestyle="none",
        markersize=7 if layout is WIDE else 6,
        label=label,
        zorder=3,
    )
    ax.set(
        title=f"{label} cutoffs,{' ' if layout is WIDE else chr(10)}"
        f"{month_label(since, short=True)} to {month_label(end, short=True)}",
        xlabel="Round date",
        ylabel="Cutoff (CRS points)",
    )
    month_axis(ax, since, end, layout)
    ax.margins(y=0.08)
    _legend_below(ax, layout)
    alt = (
        f"{label} cutoffs by round date from {month_label(since)} to {month_label(end)}: "
        f"{plural(len(mine), 'round')}, "
        + (
            f"cutoffs {int(mine['cutoff'].min())} to {int(mine['cutoff'].max())}"
            if len(mine)
            else "none with a cutoff"
        )
        + f"; all-program rounds: {len(reference)}"
        + (
            f"; pool estimates for the same sizes {pool['baseline_cutoff'].min():.0f} to "
            f"{pool['baseline_cutoff'].max():.0f}."
            if len(pool)
            else "."
        )
    )
    return fig, alt
