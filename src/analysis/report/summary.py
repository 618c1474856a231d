"""``summary.json``: a month's key figures (rounds, cutoffs, gaps per baseline, forecasts) for
anyone who wants the numbers without the page; the site index reads its teaser.

Each gap is written as the pages write it (:func:`analysis.vocabulary.shown_gap`: the cutoff minus
the baseline rounded to whole points); the baseline itself keeps two decimals. The window
baseline looks only backwards (``window_look``), so a round's gaps are the same in every later
month's summary. ``invitations`` are sums of the rounds' sizes (``invitations_are``).
Each category's ``verdict`` is :meth:`analysis.stats.verdict.Verdict.to_dict`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.baselines import REPORT_WINDOW_LOOK
from analysis.report.month_report import MonthData
from analysis.report.narrative import teaser
from analysis.storage import write_text_atomic
from analysis.vocabulary import shown_gap

#: What the invitation totals are: added up from the rounds, not a count of people.
INVITATIONS_ARE = "the sum of the rounds' sizes (invitations issued per round, added up)"


def _number(value):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return round(float(value), 2)
    return value


def month_summary(
    data: MonthData,
    headline_text: str,
    forecast_table: pd.DataFrame | None = None,
    meta: dict | None = None,
    standing: list[dict] | None = None,
) -> dict:
    """The month's key figures for anyone who wants the numbers without the page (``standing``:
    the records of where things stand, which the teaser's verdicts come from)."""
    categories = {}
    for family in data.params.categories:
        rounds = data.month_rounds.loc[data.month_rounds["family"] == family]
        items = []
        for row in rounds.itertuples():
            gaps = data.comparisons.loc[data.comparisons["round"] == row.round]
            items.append(
                {
                    "round": row.round,
                    "date": f"{row.date:%Y-%m-%d}",
                    "invitations": _number(row.invitations),
                    "cutoff": _number(row.cutoff),
                    "baselines": {
                        g.baseline: {
                            "cutoff": _number(g.baseline_cutoff),
                            "gap": shown_gap(row.cutoff, g.baseline_cutoff),
                            "low": _number(g.low),
                            "high": _number(g.high),
                            "detail": g.detail,
                        }
                        for g in gaps.itertuples()
                    },
                }
            )
        categories[family] = {
            "label": data.label(family),
            "rounds": items,
            "invitations": int(rounds["invitations"].sum()),
            "lowest_cutoff": _number(rounds["cutoff"].min()) if len(rounds) else None,
            "verdict": data.verdicts[family].to_dict() if family in data.verdicts else None,
        }
    forecasts_out = []
    if forecast_table is not None:
        forecasts_out = [
            {k: _number(v) for k, v in row.items()} for row in forecast_table.to_dict("records")
        ]
    return {
        "month": data.params.month,
        "to_date": data.to_date,
        "as_of": f"{data.as_of:%Y-%m-%d}",
        "to_date_note": data.to_date_note,
        "title": data.title,
        "headline": headline_text,
        "teaser": teaser(data, standing),
        "rounds": len(data.month_rounds),
        "invitations": int(data.month_rounds["invitations"].sum()),
        "invitations_are": INVITATIONS_ARE,
        "window_look": REPORT_WINDOW_LOOK,
        "categories": categories,
        "forecasts": forecasts_out,
        "parameters": asdict(data.params),
        "snapshot": {k: (meta or {}).get(k) for k in ("file", "sha256", "retrieved_at")},
    }


def write_summary(payload: dict, folder) -> None:
    """Write ``summary.json`` (sorted keys, stable bytes) into ``folder``."""
    write_text_atomic(
        Path(folder) / "summary.json",
        json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
    )
