"""The monthly report's figures. Each function takes a :class:`~analysis.report.month.MonthData` and
returns ``(figure, alt_text)``; the alt text states what the figure shows, from the numbers.

Show them with :func:`analysis.publish.display.show` (which checks titles and axis labels)::

    display.show(*charts.cutoffs_over_time(data))
"""

from __future__ import annotations

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from analysis.months import day_label, month_label
from analysis.report.month import MonthData
from analysis.taxonomy import ALL_PROGRAM, family_labels
from analysis.wording import plural, signed_points


def family_colours(families) -> dict[str, tuple]:
    """One colour per family from the colour-blind palette, all-program always dark grey."""
    palette = sns.color_palette("colorblind", 10)
    ordered = [f for f in dict.fromkeys(families) if f != ALL_PROGRAM]
    colours = {f: palette[i % len(palette)] for i, f in enumerate(ordered)}
    colours[ALL_PROGRAM] = (0.25, 0.25, 0.25)
    return colours


def _timeline(ax, title: str, ylabel: str) -> None:
    """Finish a figure whose x axis is the round date: title, labels with units, legend."""
    ax.set(title=title, xlabel="Round date", ylabel=ylabel)
    _date_axis(ax)
    ax.legend(loc="best", fontsize="small", frameon=False)


def _date_axis(ax) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def cutoffs_over_time(data: MonthData):
    """Cutoffs of the target categories and all-program rounds in the window."""
    families = [ALL_PROGRAM, *data.params.categories]
    shown = data.draws.loc[
        (data.draws["date"] >= data.window_start)
        & data.draws["family"].isin(families)
        & data.draws["cutoff"].notna()
    ]
    colours = family_colours(families)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for family in families:
        rows = shown.loc[shown["family"] == family]
        if rows.empty:
            continue
        style = dict(
            marker="o",
            linestyle="-" if family == ALL_PROGRAM else "none",
            markersize=6,
            linewidth=1.2,
        )
        ax.plot(
            rows["date"],
            rows["cutoff"].astype(float),
            color=colours[family],
            label=data.label(family),
            **style,
        )
    reference = data.draws.loc[data.draws["is_all_program"] & data.draws["cutoff"].notna()]
    if not reference.empty and reference["date"].max() < data.window_start:
        last = reference.iloc[-1]
        ax.axhline(
            float(last["cutoff"]),
            color=colours[ALL_PROGRAM],
            linestyle=":",
            linewidth=1.2,
            label=f"Last all-program cutoff ({last['cutoff']}, {last['date']:%Y-%m-%d})",
        )
    ax.axvspan(data.start, data.end, color="0.85", alpha=0.5, linewidth=0, label=data.title)
    _timeline(
        ax, f"CRS cutoffs, {month_label(data.window_start)} to {data.title}", "Cutoff (CRS points)"
    )
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
    alt = (
        f"Cutoffs by round date from {month_label(data.window_start)} to "
        f"{month_label(data.end)}. " + "; ".join(parts) + "."
    )
    return fig, alt


def invitations_by_month(data: MonthData):
    """Invitations per month in the window, stacked by family."""
    window = data.draws.loc[data.draws["date"] >= data.window_start]
    months = [f"{p}" for p in pd.period_range(data.window_start, data.end, freq="M")]
    table = (
        window.groupby(["month", "family"], observed=True)["invitations"]
        .sum()
        .unstack(fill_value=0)
        .reindex(months, fill_value=0)
    )
    order = table.sum().sort_values(ascending=False).index.tolist()
    colours = family_colours([*data.params.categories, *order])
    fig, ax = plt.subplots(figsize=(8, 4.5))
    bottom = pd.Series(0.0, index=table.index)
    for family in order:
        values = table[family].astype(float)
        ax.bar(
            range(len(table)),
            values,
            bottom=bottom,
            color=colours[family],
            label=data.label(family),
            width=0.8,
        )
        bottom = bottom + values
    ax.set_xticks(range(len(table)))
    ax.set_xticklabels(
        [
            month_label(m, short=True).replace(" ", "\n") if i % 2 == 0 or len(table) < 8 else ""
            for i, m in enumerate(table.index)
        ],
        fontsize="small",
    )
    ax.set(
        title=f"Invitations per month, {month_label(data.window_start)} to {data.title}",
        xlabel="Month",
        ylabel="Invitations issued",
    )
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.legend(loc="upper left", fontsize="x-small", frameon=False, ncols=2)
    totals = table.sum(axis=1)
    busiest = totals.idxmax() if totals.any() else None
    alt = (
        f"Stacked bars of invitations per month by family. {data.title}: "
        f"{int(totals.iloc[-1]):,} invitations. "
        + (
            f"Busiest month in the window: {month_label(busiest)} with {int(totals.max()):,}. "
            if busiest
            else ""
        )
        + "Largest families over the window: "
        + ", ".join(f"{data.label(f)} {int(table[f].sum()):,}" for f in order[:4])
        + "."
    )
    return fig, alt


def gaps(data: MonthData):
    """Each target round's gap (cutoff minus baseline) against every baseline."""
    rows = data.comparisons.dropna(subset=["gap"])
    fig, ax = plt.subplots(figsize=(8, 4.5))
    if rows.empty:
        ax.text(
            0.5,
            0.5,
            "No category round in the window has a baseline",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        alt = "No target-category round in the window could be compared with a baseline."
    else:
        markers = {"window": "o", "latest": "s", "pool": "D"}
        names = {
            "window": f"All-program within ±{data.params.window_days} days",
            "latest": "Latest all-program before",
            "pool": "Pool estimate",
        }
        colours = family_colours(data.params.categories)
        for (family, kind), group in rows.groupby(["family", "baseline"], sort=False):
            ax.scatter(
                group["date"],
                group["gap"].astype(float),
                marker=markers[kind],
                color=colours[family],
                s=36,
                alpha=0.85,
                label=f"{data.label(family)} vs {names[kind].lower()}",
            )
        ax.axhline(0, color="0.3", linewidth=1)
        ax.legend(loc="best", fontsize="x-small", frameon=False)
        _date_axis(ax)
        by_kind = rows.groupby("baseline")["gap"].agg(["mean", "size"])
        alt = (
            "Gaps of category cutoffs below or above all-program baselines, by round date. "
            + "; ".join(
                f"{names[k]}: mean gap {signed_points(v['mean'])} points over "
                f"{plural(int(v['size']), 'round')}"
                for k, v in by_kind.iterrows()
            )
            + "."
        )
    ax.set(
        title=f"Category cutoff minus all-program baseline, to {data.title}",
        xlabel="Round date",
        ylabel="Gap (CRS points; below 0 = lower)",
    )
    return fig, alt


def pool_distribution(data: MonthData):
    """The newest pool distribution as of the month, as candidates per CRS point, with the
    month's cutoffs marked."""
    if data.pool.empty:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        ax.text(
            0.5,
            0.5,
            "IRCC had not published a pool distribution yet",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set(
            title="Pool distribution", xlabel="CRS score (points)", ylabel="Candidates per point"
        )
        return fig, "IRCC had not published a CRS distribution of the pool by this month."
    day = data.pool["distribution_date"].max()
    bins = data.pool.loc[
        (data.pool["distribution_date"] == day) & (data.pool["score_low"] > 300)
    ].sort_values("score_low")
    width = (bins["score_high"] - bins["score_low"] + 1).astype(float)
    density = bins["candidates"] / width
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.bar(bins["score_low"], density, width=width, align="edge", color="0.7", edgecolor="white")
    cut = data.month_rounds.dropna(subset=["cutoff"])
    cut = cut.loc[cut["family"].isin([*data.params.categories, ALL_PROGRAM])]
    colours = family_colours([*data.params.categories, ALL_PROGRAM])
    for row in cut.itertuples():
        ax.axvline(
            float(row.cutoff),
            color=colours[row.family],
            linewidth=1.6,
            label=f"{data.label(row.family)} {row.round}: {row.cutoff}",
        )
    ax.set_xlim(300, 700)
    ax.set(
        title=f"CRS scores in the pool on {day:%Y-%m-%d}",
        xlabel="CRS score (points)",
        ylabel="Candidates per point",
    )
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    if len(cut):
        ax.legend(loc="upper right", fontsize="x-small", frameon=False)
    total = int(data.pool.loc[data.pool["distribution_date"] == day, "candidates"].sum())
    above = int(bins.loc[bins["score_low"] >= 451, "candidates"].sum())
    marks = ", ".join(f"{data.label(r.family)} {r.cutoff}" for r in cut.itertuples())
    alt = (
        f"Bars of candidates per CRS point in the pool on {day_label(day)} "
        f"({total:,} candidates; {above:,} scored 451 or more). "
        + (
            f"This month's cutoffs marked: {marks}."
            if marks
            else "No report-category or all-program round this month to mark."
        )
    )
    return fig, alt


def rolling_cutoffs(rolling: pd.DataFrame, families, since=None, window: str = "90D"):
    """The rolling mean cutoff (from :func:`analysis.trends.rolling_cutoff`) of ``families`` and
    all-program rounds since ``since``, one line per family."""
    shown_families = [ALL_PROGRAM, *[f for f in families if f != ALL_PROGRAM]]
    shown = rolling.loc[rolling["family"].isin(shown_families) & rolling["cutoff_mean"].notna()]
    if since is not None:
        shown = shown.loc[shown["date"] >= pd.Timestamp(since)]
    colours = family_colours(shown_families)
    labels = family_labels()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    parts = []
    for family in shown_families:
        rows = shown.loc[shown["family"] == family]
        if rows.empty:
            parts.append(f"{labels.get(family, family)}: no rounds")
            continue
        ax.plot(
            rows["date"],
            rows["cutoff_mean"].astype(float),
            marker="o",
            markersize=4,
            linewidth=1.4,
            color=colours[family],
            label=labels.get(family, family),
        )
        first, last = rows.iloc[0], rows.iloc[-1]
        parts.append(
            f"{labels.get(family, family)} from {first['cutoff_mean']:.0f} "
            f"({month_label(first['date'], short=True)}) to {last['cutoff_mean']:.0f} "
            f"({month_label(last['date'], short=True)})"
        )
    start = f" since {month_label(pd.Timestamp(since))}" if since is not None else ""
    _timeline(ax, f"Rolling {window} mean cutoff{start}", "Mean cutoff (CRS points)")
    alt = f"Rolling {window} mean CRS cutoff by round date{start}: " + "; ".join(parts) + "."
    return fig, alt
