"""A month's report page, built by the monthly notebook (``notebooks/4.0-monthly-report.ipynb``)
cell by cell and written by its last cell through the site's renderer:

    page = MonthPage()
    page.add("answer", content.Answers(...))               # each cell adds and shows one part
    page.add("the-month-s-rounds", content.Table(...))
    page.write(output_dir, key_figures, previous_month, next_month)   # index.html + CSVs

The sections, their order and their headings are :data:`SECTIONS`; their prose is in
``templates/month.html.j2``. Previous/next links are inputs of the page (the months the site
will hold beside it), so no page is edited after it is written.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.publish import render
from analysis.publish.content import Block, Section, downloads, sections
from analysis.report.month_report import ReportParams
from analysis.storage import write_text_atomic
from analysis.vocabulary import count_in_words, day_label, month_label

TEMPLATE = "month.html.j2"

#: What comes before the contents list: the answers and the "How to read" box.
OPENING = "answer"

#: The page's sections after the opening, in order (their ids are made from these headings).
SECTIONS = (
    "The month in detail",
    "The month's rounds",
    "Category cutoffs against all-program baselines",
    "Figures",
    "How good are the forecasts?",
    "How often rounds come",
    "Revisions and data quality",
    "Data notes",
)


class MonthPage:
    """The month's content, section by section (:meth:`add`), and the page made from it."""

    def __init__(self) -> None:
        self.opening: list[Block] = []
        self.sections: list[Section] = sections(SECTIONS)

    @property
    def section_ids(self) -> list[str]:
        return [s.id for s in self.sections]

    def add(self, section: str, block: Block) -> Block:
        """Add ``block`` to ``section`` (:data:`OPENING` or a section id) and return it, so a
        notebook cell shows what it added."""
        if section == OPENING:
            self.opening.append(block)
        elif section in self.section_ids:
            self.sections[self.section_ids.index(section)].blocks.append(block)
        else:
            raise ValueError(
                f"no section {section!r} on a month's page: {OPENING!r} or one of "
                f"{', '.join(self.section_ids)}"
            )
        return block

    def blocks(self) -> list[Block]:
        return [*self.opening, *(b for s in self.sections for b in s.blocks)]

    def downloads(self) -> dict[str, str]:
        """``{file name: CSV text}``: the tables the page offers as downloads."""
        return downloads(self.blocks())

    def html(
        self,
        summary: dict,
        previous_month: str | None = None,
        next_month: str | None = None,
        window_days: int = ReportParams.window_days,
        window_months: int = ReportParams.window_months,
    ) -> str:
        """The page: title, standfirst and footer from the month's ``summary`` (see
        :func:`analysis.report.summary.month_summary`), previous/next links to the given months."""
        snapshot = summary["snapshot"]
        return render.render_page(
            TEMPLATE,
            title=f"Express Entry rounds: {summary['title']}",
            subtitle=subtitle(summary),
            nav=render.site_nav("../"),
            footer=f"Data: IRCC Express Entry rounds feed, snapshot "
            f"{str(snapshot['file']).rsplit('/', 1)[-1]} "
            f"(SHA-256 {str(snapshot['sha256'])[:12]}). Open Government Licence - Canada.",
            pager=pager(previous_month, next_month),
            opening=self.opening,
            sections=self.sections,
            section={s.id: s for s in self.sections},
            window_days=window_days,
            window_months=window_months,
        )

    def write(
        self,
        output_dir: str | Path,
        summary: dict,
        previous_month: str | None = None,
        next_month: str | None = None,
        **options,
    ) -> Path:
        """Write ``index.html`` and the downloads into ``output_dir``; returns the page's path.
        ``options``: the window of :meth:`html`."""
        folder = Path(output_dir)
        html = self.html(summary, previous_month, next_month, **options)
        for name, text in self.downloads().items():
            write_text_atomic(folder / name, text)
        render.write_page(folder / "index.html", html)  # its frame is drawn again at each build
        return folder / "index.html"


def pager(previous_month: str | None, next_month: str | None) -> list[dict]:
    """The previous / next month links of a month's page.

    >>> [link["href"] for link in pager("2023-06", None)]
    ['../2023-06/index.html']
    """
    return [
        {"rel": rel, "href": f"../{month}/index.html", "text": month_label(month)}
        for rel, month in (("prev", previous_month), ("next", next_month))
        if month
    ]


def neighbours(months, month: str) -> tuple[str | None, str | None]:
    """The months before and after ``month`` among ``months`` (the site's, with ``month``).

    >>> neighbours({"2023-06", "2023-08", "2024-01"}, "2023-08")
    ('2023-06', '2024-01')
    """
    ordered = sorted({*months, month})
    at = ordered.index(month)
    return (
        ordered[at - 1] if at > 0 else None,
        ordered[at + 1] if at + 1 < len(ordered) else None,
    )


def subtitle(summary: dict) -> str:
    """The standfirst under a month's title: the month in one sentence, then what the page
    answers and as of when.

    >>> subtitle({"title": "July 2023", "rounds": 5, "invitations": 7300, "as_of": "2023-07-31",
    ...           "to_date": False})  # doctest: +NORMALIZE_WHITESPACE
    'In July 2023 IRCC held five rounds and issued 7,300 invitations. Below, how the cutoffs of
    its category rounds compared with rounds open to every program (in CRS points), using
    rounds up to July 31, 2023.'
    """
    rounds, invitations = int(summary.get("rounds", 0)), int(summary.get("invitations", 0))
    month = str(summary.get("title", "")).replace(" (to date)", "")
    when = f"{month} so far" if summary.get("to_date") else month
    as_of = pd.Timestamp(summary.get("as_of"))
    opening = (
        f"In {when} IRCC held {count_in_words(rounds, 'round')} and issued {invitations:,} "
        "invitations."
        if rounds
        else f"IRCC held no Express Entry round in {when}."
    )
    covered = summary.get("to_date_note") or f"using rounds up to {day_label(as_of)}"
    return (
        f"{opening} Below, how the cutoffs of its category rounds compared with rounds open to "
        f"every program (in CRS points), {covered}."
    )
