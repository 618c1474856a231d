"""The site's data-quality page (``data-quality/index.html``): the latest cleaning run as readers
see it, rendered from the processed tables (draws, pool, revisions, data-quality log) and the
cleaning record (``processed/snapshot.json``) through the site's renderer. It shows what the
cleaning notebook (1.1-clean) shows: the snapshot, the data-quality log, the taxonomy's
classification, the newest rounds, IRCC's revisions and the pool distributions, written for
readers: dates as dates, years as years, column names in words, and for each finding what
became of the value, read from the cleaned table. New rounds are counted as new rounds, not
listed as revisions.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from analysis.ingest import views
from analysis.ingest.process import CleanRun
from analysis.ingest.revisions import category_renames, summarize_revisions
from analysis.ingest.snapshots import Snapshot
from analysis.publish.content import Section, Table, sections
from analysis.publish.render import render_page, site_nav
from analysis.report.provenance import (
    _field_words,
    _snapshot_day,
    findings_for_readers,
    revisions_for_readers,
)

TEMPLATE = "data_quality.html.j2"
TITLE = "Data quality: the latest cleaning run"

#: The page's sections, in order (ids are made from these headings; prose in the template).
SECTIONS = (
    "The snapshot and what came out of it",
    "Data-quality log",
    "Rounds by family",
    "The newest rounds, cleaned",
    "What IRCC changed in rounds it had published",
    "Pool distributions",
)


def cleaning_run(inputs) -> CleanRun:
    """The latest cleaning run as recorded in the processed tables and ``snapshot.json``."""
    meta = inputs.meta
    fields = {f.name for f in dataclasses.fields(Snapshot)}
    missing = sorted(fields - set(meta))
    if missing:
        raise ValueError(f"processed/snapshot.json: no {', '.join(missing)} (clean again)")
    snapshot = Snapshot(**{name: meta[name] for name in fields})
    return CleanRun(snapshot, inputs.draws, inputs.pool, inputs.revisions, inputs.quality)


#: What each severity means, for readers.
SEVERITY_WORDS = {
    "error": "Error (the run stopped)",
    "warning": "Warning (round kept)",
    "repaired": "Repaired (read with an assumption)",
}
#: Revisions listed on the page (the newest first; the month pages list their own).
REVISIONS_SHOWN = 40


def findings_by_kind(quality: pd.DataFrame) -> pd.DataFrame:
    """Findings per severity and field, in words."""
    counts = views.quality_counts(quality)
    return pd.DataFrame(
        {
            "Severity": counts["severity"].map(lambda s: SEVERITY_WORDS.get(s, s)),
            "What": counts["field"].map(_field_words),
            "Findings": counts["findings"],
        }
    )


def changes_per_snapshot(revisions: pd.DataFrame) -> pd.DataFrame:
    """Per stored copy of the feed: new rounds, and rounds IRCC revised, renamed or removed."""
    summary = summarize_revisions(revisions)
    return pd.DataFrame(
        {
            "Feed of": summary["snapshot"].map(_snapshot_day).astype("string"),
            "New rounds": summary["added"],
            "Rounds revised": summary["changed"],
            "Rounds renamed": summary["renamed"],
            "Rounds removed": summary["removed"],
        }
    )


def renames_for_readers(revisions: pd.DataFrame) -> pd.DataFrame:
    renames = category_renames(revisions)
    return pd.DataFrame(
        {
            "Feed of": renames["snapshot"].map(_snapshot_day).astype("string"),
            "Old name": renames["old_name"],
            "New name": renames["new_name"],
            "Rounds": renames["rounds"],
        }
    )


def pool_years(pool: pd.DataFrame) -> pd.DataFrame:
    """Distributions published per year: years as years, dates as dates, names in words."""
    overview = views.pool_overview(pool)
    return pd.DataFrame(
        {
            "Year": overview["year"].astype(str),
            "Distributions": overview["distributions"],
            "First": overview["first"].dt.strftime("%Y-%m-%d"),
            "Last": overview["last"].dt.strftime("%Y-%m-%d"),
            "Smallest pool": overview["smallest_pool"],
            "Largest pool": overview["largest_pool"],
        }
    )


def page_sections(inputs) -> list[Section]:
    """The page's sections, each with its tables."""
    run = cleaning_run(inputs)
    overview = (
        views.snapshot_overview(run)
        .drop(index="cleaning skipped (already up to date)", errors="ignore")
        .rename(columns={"value": "Value"})
    )
    # renames are summed up in their own table below
    revised = revisions_for_readers(
        run.revisions.loc[run.revisions["change"] != "renamed"], run.draws, limit=None
    )
    made = sections(SECTIONS)
    tables = (
        [Table(overview, caption="The cleaned snapshot", index=True)],
        [
            Table(findings_by_kind(run.quality), caption="Findings by severity and field"),
            Table(
                findings_for_readers(run.quality, run.draws),
                caption="Every finding",
                empty="no finding: every value was read as published.",
            ),
        ],
        [
            Table(views.rounds_by_family(run.draws, for_readers=True), caption="Rounds by family"),
            Table(
                views.names_by_family(run.draws, for_readers=True),
                caption="Every round type name, classified",
            ),
        ],
        [
            Table(
                views.newest_clean_rounds(run.draws),
                caption="The newest rounds, cleaned (the whole table: processed/draws)",
            )
        ],
        [
            Table(
                changes_per_snapshot(run.revisions),
                caption="New and revised rounds in each copy of the feed we kept",
                empty="only one copy of the feed so far: nothing to compare.",
            ),
            Table(
                revised.head(REVISIONS_SHOWN),
                caption="IRCC's revisions of rounds it had published, renames aside (newest first"
                + (
                    f", the latest {REVISIONS_SHOWN} of {len(revised)}"
                    if len(revised) > REVISIONS_SHOWN
                    else ""
                )
                + ")",
                empty="IRCC revised no round it had published, in the copies of the feed we kept.",
            ),
            Table(
                renames_for_readers(run.revisions),
                caption="Renamed categories (how many rounds each new name replaced)",
                empty="no category was renamed.",
            ),
        ],
        [Table(pool_years(run.pool), caption="Published pool distributions per year")],
    )
    for section, blocks in zip(made, tables, strict=True):
        section.blocks.extend(blocks)
    return made


def render_quality_page(inputs) -> str:
    """The data-quality page's HTML."""
    made = page_sections(inputs)
    return render_page(
        TEMPLATE,
        title=TITLE,
        nav=site_nav("../"),
        sections=made,
        section={s.id: s for s in made},
    )
