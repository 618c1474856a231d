"""A page per category family (``families/<family>/index.html``): every round since category-based
selection began, its cutoff against each all-program baseline, one figure, the verdict, and the
full table as a CSV beside the page; plus ``families/index.html`` listing them.

Built from the processed tables, not a notebook, and only when they (or the code) changed: the
fingerprint sits in ``families/inputs.json``, with each page's key (:func:`family_key`), so a new
round redraws only the pages it changes. Pages are self-contained, script-free, escaped and
deterministic like the months (checked by :func:`analysis.publish.safety.check_page`).
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import baselines
from analysis.baselines import WINDOW_DAYS
from analysis.data import removal_notes
from analysis.publish import atom, swap
from analysis.publish.content import Table, csv_text
from analysis.publish.render import FEED_LICENCE, render_page, site_nav, write_page
from analysis.publish.swap import published_months
from analysis.report.month_report import verdict_line
from analysis.report.tables import baseline_points
from analysis.stats.verdict import VERDICT_ROUNDS, category_verdict
from analysis.storage import read_stamp, stamp_matches, write_stamp, write_text_atomic
from analysis.taxonomy import CATEGORY_START, UNCLASSIFIED, family_labels
from analysis.vocabulary import day_label, month_label, plural

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
    baselines here are the ones its month published. The pool baseline (one replay of the pool
    per round) is estimated for the latest rounds of each family only, as many as its verdict
    pairs, so a page costs the same whatever the length of the history."""
    return baselines.compare_with_baselines(
        draws,
        pool,
        families=families,
        since=CATEGORY_START,
        pool_rounds=VERDICT_ROUNDS,
    )


def family_table(
    draws: pd.DataFrame, comparisons: pd.DataFrame, family: str, months: set[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """(shown table, full table for the download, links to each round's month page)."""
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
        ("window", f"All-program in the {WINDOW_DAYS} days before"),
        ("latest", "Latest all-program"),
        ("pool", "Pool estimate"),
    ):
        if f"baseline_{kind}" in wide:
            full[name], full[f"Gap vs {name.lower()}"] = baseline_points(
                wide["cutoff"], wide[f"baseline_{kind}"]
            )
    shown_columns = {
        "Round": "Round",
        "Date": "Date",
        "Invitations": "Invitations",
        "Cutoff": "Cutoff",
        f"Gap vs all-program in the {WINDOW_DAYS} days before": (
            f"Gap: all-program, {WINDOW_DAYS} days before"
        ),
        "Gap vs latest all-program": "Gap: latest all-program",
        "Pool estimate": "Pool estimate",
        "Gap vs pool estimate": "Gap: pool estimate",
    }
    # a round IRCC's feed no longer lists says since when (the sentence's one home)
    notes = wide["round"].map(removal_notes(draws).set_axis(draws["round"])) if len(wide) else None
    if notes is not None and (notes.fillna("") != "").any():
        full["Note"] = notes.fillna("").astype("string").to_numpy()
        shown_columns["Note"] = "Note"
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


def _not_estimated(comparisons: pd.DataFrame, family: str) -> str:
    """The sentence for a family whose oldest rounds have no pool estimate (beyond the limit of
    :func:`comparisons_for`), else nothing."""
    rows = comparisons.loc[
        (comparisons["family"] == family) & (comparisons["baseline"] == "pool"), "detail"
    ]
    if not rows.fillna("").str.startswith("not estimated").any():
        return ""
    return f" Pool estimates cover the latest {VERDICT_ROUNDS} rounds."


def render_family(
    draws: pd.DataFrame,
    comparisons: pd.DataFrame,
    family: str,
    label: str,
    months: set[str],
    verdict_text: str | None = None,
) -> tuple[str, str]:
    """(HTML page, CSV text) of one family."""
    from analysis.publish import display  # lazy: matplotlib, seaborn: only to draw a page
    from analysis.report import charts  # lazy: matplotlib loads only when a page is drawn

    display.set_theme()
    shown, full, hrefs = family_table(draws, comparisons, family, months)
    rows = draws.loc[(draws["family"] == family) & (draws["date"] >= CATEGORY_START)]
    figure = display.figure(
        charts.family_history, draws, comparisons, family, label, CATEGORY_START
    )
    table = Table(
        shown,
        caption=f"Every {label} round {SINCE} against the all-program baselines (CRS points)",
        download="rounds.csv",
        row_ids=shown["Round"].map(lambda r: f"round-{str(r).lower()}"),
        links={"Round": hrefs},
        note="A negative gap means the round reached lower scores than the baseline; a dash "
        f"means that baseline did not exist (no all-program round in the {WINDOW_DAYS} days "
        "before, or no published pool distribution). The download holds every baseline's "
        "value too." + _not_estimated(comparisons, family),
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
        nav=site_nav("../../", hrefs={"families": "../index.html"}),
        footer=f"{FEED_LICENCE} Gaps in CRS points; a round links to its month's report.",
        label=label,
        intro=intro,
        verdict=verdict_text,
        figure=figure,
        table=table,
        window_days=WINDOW_DAYS,
        feeds=[{"href": atom.FEED_FILE, "title": f"{label} rounds of invitations"}],
    )
    return html, csv_text(full)


def render_families_index(entries: list[dict]) -> str:
    return render_page(
        INDEX_TEMPLATE,
        families=entries,
        since=SINCE,
        nav=site_nav("../", "families", hrefs={"families": "index.html"}),
        footer=FEED_LICENCE,
    )


@dataclass
class FamilyPages:
    """The family pages of one build, ready to publish (:func:`publish_families`).

    ``pages``: family -> (HTML, CSV), or None where the published page is still right (its key
    is unchanged) and is kept as it is; ``keys``: family -> what its page was made from.
    """

    fingerprint: str
    keys: dict[str, str]
    pages: dict[str, tuple[str, str] | None]
    index: str


def family_key(
    draws: pd.DataFrame, comparisons: pd.DataFrame, family: str, label: str, months, verdict, code
) -> str:
    """What one family's page is made from, hashed: its table and links, the all-program rounds
    and the date range its figure draws, its verdict and label, and the code. Two builds with
    the same key write the same bytes, so a page whose key is unchanged is kept."""
    _, full, hrefs = family_table(draws, comparisons, family, months)
    reference = draws.loc[draws["is_all_program"] & (draws["date"] >= CATEGORY_START)]
    parts = [
        code,
        family,
        label,
        verdict or "",
        full.to_csv(index=False),
        "|".join(hrefs),
        reference[["date", "cutoff"]].to_csv(index=False),
        month_label(draws["date"].max(), short=True),  # the figure's title ends with it
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def families_stamp(site_dir: Path, fingerprint: str, months) -> tuple[str, dict[str, str]] | None:
    """None when the published family pages were made from ``fingerprint`` (code and data) and
    ``months``; otherwise (the full fingerprint to record, the keys of the published pages whose
    files are all there)."""
    folder = Path(site_dir) / FOLDER
    full = f"{fingerprint}:{','.join(sorted(months))}"
    stamp = folder / "inputs.json"
    if stamp_matches(stamp, full):
        return None
    keys = read_stamp(stamp).get("pages", {})
    kept = {
        family: key
        for family, key in keys.items()
        if isinstance(key, str)
        and all((folder / family / name).is_file() for name in ("index.html", "rounds.csv"))
    }
    return full, kept


def prepare_families(
    inputs, months, fingerprint: str, code: str, previous: dict[str, str]
) -> FamilyPages:
    """Compute every family's comparisons, verdict and key; draw the pages whose key is not in
    ``previous`` (family -> key of the published page) and the families index.

    Reads nothing from the site, so it can run in another process while months are built."""
    draws, pool = inputs.draws, inputs.pool
    months = set(months)
    families = families_with_rounds(draws)
    comparisons = comparisons_for(draws, pool, families)
    labels = family_labels()
    as_of = draws["date"].max()
    keys, pages, entries = {}, {}, []
    for family in families:
        label = labels.get(family, family)
        verdict = verdict_line(category_verdict(draws, comparisons, family, as_of))
        keys[family] = family_key(draws, comparisons, family, label, months, verdict, code)
        pages[family] = (
            None
            if previous.get(family) == keys[family]
            else render_family(draws, comparisons, family, label, months, verdict)
        )
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
    return FamilyPages(fingerprint, keys, pages, render_families_index(entries))


def publish_families(site_dir: Path, prepared: FamilyPages) -> None:
    """Swap ``site_dir/families`` for the prepared pages in one move; pages that were not drawn
    anew are copied from the published folder."""
    folder = Path(site_dir) / FOLDER

    def build(target: Path) -> None:
        for family, page in prepared.pages.items():
            (target / family).mkdir()
            if page is None:
                for name in ("index.html", ".index.html.json", "rounds.csv"):
                    if (folder / family / name).is_file():
                        shutil.copy2(folder / family / name, target / family / name)
            else:
                html, csv = page
                write_page(target / family / "index.html", html)
                write_text_atomic(target / family / "rounds.csv", csv)
        write_page(target / "index.html", prepared.index)
        write_stamp(target / "inputs.json", prepared.fingerprint, pages=prepared.keys)

    swap.publish_dir(build, folder)


def write_families(site_dir: Path, inputs, fingerprint: str, code: str = "") -> bool:
    """Write the family pages and the families index under ``site_dir/families`` unless they
    were made from ``fingerprint`` (code and data) and the same months; only pages whose key
    changed are drawn again. Returns True when it wrote."""
    months = published_months(site_dir)
    pending = families_stamp(site_dir, fingerprint, months)
    if pending is None:
        return False
    full, previous = pending
    publish_families(site_dir, prepare_families(inputs, months, full, code, previous))
    return True
