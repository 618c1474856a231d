"""The pool over time (``pool/index.html``, with ``pool/pool.csv``): the candidates in each of
IRCC's score bands at the last distribution published in each month, their change from the
month before, and the invitations issued in the month; one figure of the bands.

IRCC publishes finer bands inside some of its main ones (451-460 ... 491-500 inside 451-500):
the page adds them up into the main bands (:data:`MAIN_BANDS`), which cover the whole pool.
"""

from __future__ import annotations

import pandas as pd

from analysis.publish.content import Section, Table, csv_text
from analysis.publish.render import reader_page
from analysis.vocabulary import day_label, month_label, plural

CSV_NAME = "pool.csv"
#: The tables show this many latest months (the figure and the download: every month).
SHOWN_MONTHS = 13


#: IRCC's main bands of CRS scores (the processed table keeps the finer bands inside them).
MAIN_BANDS = ((601, 1200), (501, 600), (451, 500), (401, 450), (351, 400), (301, 350), (0, 300))


def main_band(low: int, high: int) -> tuple[int, int]:
    """The main band holding the band ``low``-``high`` (itself when none does).

    >>> main_band(491, 500), main_band(351, 400), main_band(480, 520)
    ((451, 500), (351, 400), (480, 520))
    """
    for band_low, band_high in MAIN_BANDS:
        if band_low <= low and high <= band_high:
            return band_low, band_high
    return low, high


def band_name(low: int, high: int) -> str:
    """``'501-600'``; the top band ``'601+'``; the bottom ``'300 or less'``."""
    if high >= 1200:
        return f"{low}+"
    if low <= 0:
        return f"{high} or less"
    return f"{low}-{high}"


def monthly_bands(draws: pd.DataFrame, pool: pd.DataFrame) -> pd.DataFrame:
    """One row per month with a published distribution (oldest first): ``month``,
    ``distribution_date`` (the month's last), the candidates per main band (highest band
    first), ``total``, each band's and the total's change from the previous row
    (``change <band>``), and ``invitations`` (issued in the month, every round)."""
    if pool.empty:
        return pd.DataFrame(columns=["month", "distribution_date", "total", "invitations"])
    dates = pd.Series(sorted(pool["distribution_date"].unique()))
    last = dates.groupby(dates.dt.to_period("M")).max()
    rows = []
    for period, date in last.items():
        bands = pool.loc[pool["distribution_date"] == date]
        row = {"month": str(period), "distribution_date": pd.Timestamp(date)}
        for low, high, count in zip(
            bands["score_low"], bands["score_high"], bands["candidates"], strict=True
        ):
            name = band_name(*main_band(int(low), int(high)))
            row[name] = row.get(name, 0) + int(count)
        rows.append(row)
    table = pd.DataFrame(rows)
    band_columns = [c for c in table.columns if c not in ("month", "distribution_date")]
    # highest band first, whatever order the months introduced them in
    band_columns.sort(key=_band_low, reverse=True)
    table = table[["month", "distribution_date", *band_columns]]
    for column in band_columns:
        table[column] = table[column].astype("Int64")
    table["total"] = table[band_columns].sum(axis=1, min_count=1).astype("Int64")
    for column in [*band_columns, "total"]:
        table[f"change {column}"] = table[column].diff().astype("Int64")
    invitations = draws.groupby("month")["invitations"].sum(min_count=1)
    table["invitations"] = table["month"].map(invitations).astype("Int64").fillna(0)
    return table


def _band_low(name: str) -> int:
    if name.endswith(" or less"):
        return 0
    return int(name.rstrip("+").split("-")[0])


def bands_figure(table: pd.DataFrame, layout=None):
    """Candidates per band over time (one line per band), ``(figure, alt)``."""
    from analysis.report import charts  # lazy: matplotlib loads only when a page is drawn

    layout = layout or charts.WIDE
    bands = [c for c in table.columns if c not in ("month", "distribution_date", "total")]
    bands = [c for c in bands if not c.startswith("change ") and c != "invitations"]
    fig, ax = charts._figure(layout)
    dates = pd.to_datetime(table["distribution_date"])
    for band in bands:
        ax.plot(dates, table[band].astype(float), marker=".", linewidth=1.4, label=band)
    start, end = dates.min(), dates.max()
    ax.set(
        title=f"Candidates per score band,{' ' if layout is charts.WIDE else chr(10)}"
        f"{month_label(start, short=True)} to {month_label(end, short=True)}",
        xlabel="Distribution date (the month's last)",
        ylabel="Candidates in the band",
    )
    ax.yaxis.set_major_formatter("{x:,.0f}")  # a StrMethodFormatter
    charts.month_axis(ax, start, end, layout)
    charts._legend_below(ax, layout)
    newest = table.iloc[-1]
    largest = max(bands, key=lambda b: newest[b] if pd.notna(newest[b]) else -1)
    alt = (
        f"Candidates per CRS score band at the last distribution of each month from "
        f"{month_label(start)} to {month_label(end)} ({plural(len(table), 'month')}). On "
        f"{day_label(end)} the pool held {int(newest['total']):,} candidates; the largest band "
        f"was {largest} with {int(newest[largest]):,}."
    )
    return fig, alt


def _shown(table: pd.DataFrame, change: bool) -> pd.DataFrame:
    """Newest month first: candidates per band (or their change), with month labels."""
    bands = [c for c in table.columns if c not in ("month", "distribution_date", "invitations")]
    bands = [c for c in bands if c.startswith("change ") == change]
    shown = pd.DataFrame({"Month": table["month"].map(lambda m: month_label(m, short=True))})
    for column in bands:
        name = column.removeprefix("change ")
        shown["Total" if name == "total" else name] = table[column]
    if change:
        shown["Invitations in the month"] = table["invitations"]
    return shown.tail(SHOWN_MONTHS).iloc[::-1].reset_index(drop=True)


def render_pool_page(draws: pd.DataFrame, pool: pd.DataFrame) -> tuple[str, str]:
    """(HTML of the page, CSV of the monthly table)."""
    table = monthly_bands(draws, pool)
    blocks_bands = []
    if len(table) > 1:
        from analysis.publish import display  # lazy: matplotlib loads only when a figure is drawn

        display.set_theme()
        blocks_bands.append(display.figure(bands_figure, table))
    blocks_bands.append(
        Table(
            _shown(table, change=False),
            caption="Candidates in the pool per CRS score band, at the last distribution IRCC "
            f"published in each month: the latest {SHOWN_MONTHS} months, newest first",
            download=CSV_NAME,
            full=table,
            note="The download holds every month since the first distribution, with the day of "
            "each month's distribution, the changes and the invitations per month.",
            empty="IRCC has published no pool distribution.",
        )
    )
    made = [
        Section("bands", "Candidates per score band", blocks_bands),
        Section(
            "changes",
            "Change from the month before, and invitations",
            [
                Table(
                    _shown(table, change=True),
                    caption="Change in candidates per band from the previous month's last "
                    "distribution, and the invitations issued in the month (every round): the "
                    f"latest {SHOWN_MONTHS} months, newest first",
                    note="A dash: no earlier month to compare with. Invitations take "
                    "candidates out of the pool; new profiles and score changes bring others in.",
                    empty="IRCC has published no pool distribution.",
                )
            ],
        ),
    ]
    span = (
        f" from {month_label(table['month'].iloc[0])} to {month_label(table['month'].iloc[-1])}"
        if len(table)
        else ""
    )
    html = reader_page(
        "The pool over time",
        f"How many candidates the Express Entry pool held in each band of CRS scores{span}, "
        "as IRCC published it with its rounds, and how that changed from month to month. "
        "A band counts the candidates whose score lies in it.",
        made,
        [CSV_NAME],
    )
    return html, csv_text(table)
