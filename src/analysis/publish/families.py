"""A page per category family (``families/<family>/index.html``): every round since category-based
selection began, its cutoff against each all-program baseline, one figure, the verdict, and the
full table as a CSV beside the page; plus ``families/index.html`` listing them.

Built from the processed tables, not a notebook, and only when they (or the code) changed: the
fingerprint sits in ``families/inputs.json``. Pages are self-contained, script-free, escaped and
deterministic like the months (checked by :func:`analysis.publish.safety.check_page`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.months import day_label, is_month, month_label
from analysis.publish.render import IRCC_ROUNDS_PAGE, render_page
from analysis.storage import write_text_atomic
from analysis.taxonomy import CATEGORY_START, UNCLASSIFIED, family_labels
from analysis.wording import plural

FOLDER = "families"
TEMPLATE = "family.html.j2"
INDEX_TEMPLATE = "families_index.html.j2"
SINCE = f"since {month_label(CATEGORY_START)}"  # "since June 2023": category rounds began then


def families_with_rounds(draws: pd.DataFrame, since=CATEGORY_START) -> list[str]:
    """Every category family (occupation or attribute, not a program) with a round since
    ``since``, in taxonomy order."""
    present = set(
        draws.loc[(draws["date"] >= since) & (draws["selection"] == "category"), "family"]
    )
    return [f for f in family_labels() if f in present and f != UNCLASSIFIED]


def comparisons_for(draws: pd.DataFrame, pool: pd.DataFrame, families: list[str]) -> pd.DataFrame:
    """Every round of ``families`` since category rounds began against the three baselines (long
    form), as the monthly reports show them: the window looks only backwards, so a round's
    baselines here are the ones its month published."""
    from analysis import baselines
    from analysis.report.month import WINDOW_LOOK

    return baselines.compare_with_baselines(
        draws, pool, families=families, since=CATEGORY_START, window_look=WINDOW_LOOK
    )


def family_table(
    draws: pd.DataFrame, comparisons: pd.DataFrame, family: str, months: set[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """(shown table, full table for the download, links to each round's month page)."""
    from analysis import baselines

    mine = comparisons.loc[comparisons["family"] == family]
    wide = baselines.gaps_wide(mine) if len(mine) else pd.DataFrame()
    rounds = draws.set_index("round")
    full = pd.DataFrame(
        {
            "Round": wide["round"].astype("string"),
            "Date": wide["date"].dt.strftime("%Y-%m-%d"),
            "Version": wide["round"].map(rounds["version"]).astype("Int64"),
            "Invitations": wide["invitations"].astype("Int64"),
            "Cutoff": wide["cutoff"].astype("Int64"),
        }
    )
    for kind, name in (
        ("window", "All-program in the 30 days before"),
        ("latest", "Latest all-program"),
        ("pool", "Pool estimate"),
    ):
        if f"baseline_{kind}" in wide:
            full[name] = wide[f"baseline_{kind}"].round(0).astype("Int64")
            full[f"Gap vs {name.lower()}"] = wide[f"gap_{kind}"].round(0).astype("Int64")
    shown_columns = {
        "Round": "Round",
        "Date": "Date",
        "Invitations": "Invitations",
        "Cutoff": "Cutoff",
        "Gap vs all-program in the 30 days before": "Gap: all-program, 30 days before",
        "Gap vs latest all-program": "Gap: latest all-program",
        "Pool estimate": "Pool estimate",
        "Gap vs pool estimate": "Gap: pool estimate",
    }
    shown = full[[c for c in shown_columns if c in full]].rename(columns=shown_columns)
    links = (
        wide["date"].dt.strftime("%Y-%m").map(lambda m: m if m in months else "")
        if len(wide)
        else pd.Series(dtype="string")
    )
    hrefs = pd.Series(
        [
            f"../../{m}/index.html#round-{r.lower()}" if m else ""
            for m, r in zip(links, full["Round"], strict=True)
        ],
        dtype="object",
    )
    return shown, full, hrefs


def render_family(
    draws: pd.DataFrame,
    comparisons: pd.DataFrame,
    family: str,
    label: str,
    months: set[str],
    verdict_text: str | None = None,
) -> tuple[str, str]:
    """(HTML page, CSV text) of one family."""
    import matplotlib

    from analysis.publish import display  # matplotlib and seaborn: only when a page is drawn
    from analysis.report import charts

    matplotlib.use("Agg")
    display.set_theme()
    shown, full, hrefs = family_table(draws, comparisons, family, months)
    rows = draws.loc[(draws["family"] == family) & (draws["date"] >= CATEGORY_START)]
    wide, alt = charts.family_history(draws, comparisons, family, label, CATEGORY_START)
    narrow, _ = charts.family_history(
        draws, comparisons, family, label, CATEGORY_START, layout=charts.NARROW
    )
    try:
        figure = display.figure_pair_html(wide, narrow, alt)
    finally:
        import matplotlib.pyplot as plt

        plt.close(wide)
        plt.close(narrow)
    table = display.table_html(
        shown,
        caption=f"Every {label} round {SINCE} against the all-program baselines (CRS points)",
        download="rounds.csv",
        row_ids=shown["Round"].map(lambda r: f"round-{str(r).lower()}"),
        links={"Round": hrefs},
        note="A negative gap means the round reached lower scores than the baseline; a dash "
        "means that baseline did not exist (no all-program round in the 30 days before, or no "
        "published pool distribution). The download holds every baseline's value too.",
        empty=f"No {label} round {SINCE}.",
    )
    cutoffs = rows["cutoff"].dropna()
    intro = (
        f"{plural(len(rows), f'{label} round')} from "
        f"{month_label(rows['date'].min())} to {month_label(rows['date'].max())}"
        + (
            f", with cutoffs from {int(cutoffs.min())} to {int(cutoffs.max())} CRS points."
            if len(cutoffs)
            else "."
        )
        if len(rows)
        else f"No {label} round {SINCE}."
    )
    html = render_page(
        TEMPLATE,
        title=f"{label}: every round",
        label=label,
        intro=intro,
        verdict=verdict_text,
        figure=figure,
        table=table,
        ircc=IRCC_ROUNDS_PAGE,
    )
    return html, display.csv_text(full)


def render_families_index(entries: list[dict]) -> str:
    return render_page(INDEX_TEMPLATE, families=entries, since=SINCE, ircc=IRCC_ROUNDS_PAGE)


def write_families(site_dir: Path, inputs, fingerprint: str) -> bool:
    """Write every family page and the families index under ``site_dir/families`` unless
    ``families/inputs.json`` already holds ``fingerprint``. Returns True when it wrote."""
    from analysis.storage import stamp_matches, write_stamp

    site_dir = Path(site_dir)
    folder = site_dir / FOLDER
    months = (
        {p.name for p in site_dir.iterdir() if p.is_dir() and is_month(p.name)}
        if site_dir.is_dir()
        else set()
    )
    fingerprint = f"{fingerprint}:{','.join(sorted(months))}"
    if stamp_matches(folder / "inputs.json", fingerprint):
        return False
    from analysis.publish import swap
    from analysis.report.answer import verdict_line
    from analysis.stats.verdict import category_verdict

    draws, pool = inputs.draws, inputs.pool
    families = families_with_rounds(draws)
    comparisons = comparisons_for(draws, pool, families)
    labels = family_labels()
    as_of = draws["date"].max()
    pages, entries = {}, []
    for family in families:
        label = labels.get(family, family)
        verdict = verdict_line(category_verdict(draws, comparisons, family, as_of))
        html, csv = render_family(draws, comparisons, family, label, months, verdict)
        pages[family] = (html, csv)
        rows = draws.loc[(draws["family"] == family) & (draws["date"] >= CATEGORY_START)]
        last = rows.iloc[-1]
        entries.append(
            {
                "href": f"{family}/index.html",
                "label": label,
                "rounds": f"{plural(len(rows), 'round')} {SINCE}",
                "last": day_label(last["date"]),
                "cutoff": "" if pd.isna(last["cutoff"]) else f"{int(last['cutoff'])}",
            }
        )
    index = render_families_index(entries)

    def build(target: Path) -> None:
        for family, (html, csv) in pages.items():
            (target / family).mkdir()
            write_text_atomic(target / family / "index.html", html)
            write_text_atomic(target / family / "rounds.csv", csv)
        write_text_atomic(target / "index.html", index)
        write_stamp(target / "inputs.json", fingerprint)

    swap.publish_dir(build, folder)
    return True
