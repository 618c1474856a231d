"""The site's data-quality page (``data-quality/index.html``): the latest cleaning run as readers
see it, rendered from the processed tables (draws, pool, revisions, data-quality log) and the
cleaning record (``processed/snapshot.json``) through the site's renderer. It shows what the
cleaning notebook (1.1-clean) shows: the snapshot, the data-quality log, the taxonomy's
classification, the newest rounds, IRCC's revisions and the pool distributions.
"""

from __future__ import annotations

import dataclasses

from analysis.ingest import views
from analysis.ingest.process import CleanRun
from analysis.ingest.retrieve import Snapshot
from analysis.ingest.revisions import category_renames, summarize_revisions
from analysis.publish.content import Section, Table, sections
from analysis.publish.render import render_page, site_nav

TEMPLATE = "data_quality.html.j2"
TITLE = "Data quality: the latest cleaning run"

#: The page's sections, in order (ids are made from these headings; prose in the template).
SECTIONS = (
    "The snapshot and what came out of it",
    "Data-quality log",
    "Rounds by family",
    "The newest rounds, cleaned",
    "What IRCC changed since the previous snapshot",
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


def page_sections(inputs) -> list[Section]:
    """The page's sections, each with its tables."""
    run = cleaning_run(inputs)
    overview = views.snapshot_overview(run).drop(
        index="cleaning skipped (already up to date)", errors="ignore"
    )
    made = sections(SECTIONS)
    tables = (
        [Table(overview, caption="The cleaned snapshot", index=True)],
        [
            Table(views.quality_counts(run.quality), caption="Findings by severity and field"),
            Table(run.quality, caption="Every finding"),
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
            Table(summarize_revisions(run.revisions), caption="Changes per snapshot"),
            Table(category_renames(run.revisions), caption="Renamed categories, every snapshot"),
            Table(
                views.latest_changes(run).head(40),
                caption="Changes in the latest snapshot (first 40)",
            ),
        ],
        [Table(views.pool_overview(run.pool), caption="Published pool distributions per year")],
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
