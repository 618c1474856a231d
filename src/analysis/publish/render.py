"""Rendering: executed notebooks to self-contained HTML pages, and the site index.

A published page loads nothing from any other host and runs no script: it opens the same from
``file://``, any static host, or an archive years later. The same executed notebook always gives
byte-identical HTML (no build time, ids, execution counts or tool versions on the page), so a
rebuild that changed nothing changes no bytes.

Safety: text from the feed only ever reaches a page escaped. Plain-text outputs are escaped by
nbconvert; HTML outputs are accepted only when :mod:`analysis.publish.display` made them (they
carry its :data:`~analysis.publish.trust.TRUSTED_OUTPUT` marker and escape every value). Any page
that still contains a ``<script>``, an ``on...=`` handler, a ``javascript:`` URL, a reference to
another host or an image without alt text is refused with :class:`ReportError` (fail loudly, never
publish): see :mod:`analysis.publish.safety`. Pages are put in place by
:mod:`analysis.publish.swap`.

Site layout (all links relative)::

    site_dir/index.html             render_index(...)   months newest first
    site_dir/YYYY-MM/index.html     notebook_to_html(...)
    site_dir/YYYY-MM/summary.json   {"headline": "...", ...}   (read by read_months)
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from analysis.errors import ReportError
from analysis.months import is_month, month_label
from analysis.storage import write_text_atomic

if TYPE_CHECKING:  # nbformat and nbconvert take ~1 s to import: only when a page is exported
    from nbconvert import HTMLExporter
    from nbformat import NotebookNode
from analysis.publish.safety import REMOVE_CELL_TAG, REMOVE_OUTPUT_TAG, check_outputs, check_page

#: Templates shipped with the package: the nbconvert page template, the index page and the CSS.
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

REPORT_TEMPLATE = TEMPLATES_DIR / "report.html.j2"

INDEX_TEMPLATE = "site_index.html.j2"

STYLESHEET = TEMPLATES_DIR / "site.css"


def _prepared(nb: NotebookNode, include_stderr: bool) -> NotebookNode:
    """A copy of ``nb`` holding only what the page shows: no ids, counts, timings or metadata."""
    from nbformat import NotebookNode

    nb = copy.deepcopy(nb)
    nb.metadata = NotebookNode({})
    nb.nbformat_minor = min(nb.nbformat_minor, 4)  # format 4.4: cells without ids
    cells = []
    for cell in nb.cells:
        tags = list(cell.get("metadata", {}).get("tags", []))
        if REMOVE_CELL_TAG in tags:
            continue
        cell.pop("id", None)
        cell.metadata = NotebookNode({"tags": tags} if tags else {})
        if cell.cell_type == "code":
            cell.execution_count = None
            outputs = [] if REMOVE_OUTPUT_TAG in tags else cell.outputs
            cell.outputs = [
                output
                for output in outputs
                if include_stderr
                or not (output.output_type == "stream" and output.name == "stderr")
            ]
            for output in cell.outputs:
                if "execution_count" in output:
                    output.execution_count = None
        cells.append(cell)
    nb.cells = cells
    return nb


def _exporter() -> HTMLExporter:
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="lab",  # cell markup from nbconvert's lab/base.html.j2
        template_file=str(REPORT_TEMPLATE),  # our page frame: no scripts, inlined CSS
        extra_template_basedirs=[],  # never look for templates in the working directory
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
        # embed_images stays off: nbconvert 7.17 then re-parses inline HTML fragments and breaks
        # them ("<b>no</b>" -> "<b></b>no"). Markdown images must be cell attachments (always
        # embedded); check_page refuses any image that is not inline.
    )


#: Links every page of the site carries beside "All monthly reports" (relative to a page one
#: folder down; IRCC's rounds page is the source).
IRCC_ROUNDS_PAGE = (
    "https://www.canada.ca/en/immigration-refugees-citizenship/corporate/mandate/"
    "policies-operational-instructions-agreements/ministerial-instructions/express-entry-rounds.html"
)

SITE_LINKS = (
    ("../families/index.html", "Categories"),
    ("../data-quality/index.html", "Data quality"),
    ("../feed.xml", "Atom feed"),
    (IRCC_ROUNDS_PAGE, "IRCC's rounds page"),
)

_PAGER = re.compile(r"<!--ee:pager-->.*?<!--/ee:pager-->", re.DOTALL)

_CONTENTS_AFTER = "</aside>"


_BARE_H2 = re.compile(r"<h2>(.*?)</h2>", re.DOTALL)


def _heading_ids(html: str) -> str:
    """Give every bare ``<h2>`` (a Markdown heading: nbconvert adds no id when anchor links are
    off) an id made from its text, unique on the page: ``The month's rounds`` ->
    ``the-month-s-rounds``.

    >>> _heading_ids('<h2 id="a">A</h2><h2>Data notes</h2><h2>Data notes</h2>')
    '<h2 id="a">A</h2><h2 id="data-notes">Data notes</h2><h2 id="data-notes-2">Data notes</h2>'
    """
    used = set(re.findall(r'id="([^"]*)"', html))

    def with_id(match: re.Match) -> str:
        text = Markup(match.group(1)).striptags()
        base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
        slug, number = base, 1
        while slug in used:
            number += 1
            slug = f"{base}-{number}"
        used.add(slug)
        return f'<h2 id="{slug}">{match.group(1)}</h2>'

    return _BARE_H2.sub(with_id, html)


def _contents(html: str) -> str:
    """Insert a contents list of the page's ``<h2>`` headings after the "How to read" box
    (or, without one, before the first heading). Deterministic: ids made from the headings'
    text (:func:`_heading_ids`)."""
    from bs4 import BeautifulSoup

    html = _heading_ids(html)
    main = html[html.find("<main") :]
    headings = [
        (h.get("id"), h.get_text(" ", strip=True))
        for h in BeautifulSoup(main, "html.parser").find_all("h2")
        if h.get("id")
        and "ee-visually-hidden" not in (h.get("class") or [])
        and h.get("id") != "how-to-read"
    ]
    if len(headings) < 3:
        return html
    items = Markup("").join(
        Markup('<li><a href="#{}">{}</a></li>').format(anchor, text) for anchor, text in headings
    )
    nav = str(
        Markup(
            '<nav class="ee-contents" aria-labelledby="contents"><h2 id="contents">'
            "Contents</h2><ol>{}</ol></nav>"
        ).format(items)
    )
    at = html.find(_CONTENTS_AFTER)
    if at < 0:
        at = html.find("<h2", html.find("<main"))
        return html if at < 0 else html[:at] + nav + "\n" + html[at:]
    at += len(_CONTENTS_AFTER)
    return html[:at] + "\n" + nav + html[at:]


def notebook_node_to_html(
    nb: NotebookNode,
    title: str,
    *,
    index_href: str | None = "../index.html",
    footer: str | None = None,
    include_stderr: bool = False,
    subtitle: str | None = None,
    links: tuple[tuple[str, str], ...] = (),
    pager: bool = False,
) -> str:
    """Render an executed notebook (in memory) as one self-contained HTML page without code;
    :func:`notebook_to_html` describes the page and the arguments.

    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("## Answer\\nYes.")])
    >>> html = notebook_node_to_html(nb, "March 2026")
    >>> '<html lang="en">' in html, "<title>March 2026</title>" in html, "<script" in html
    (True, True, False)
    """
    if not title.strip():
        raise ValueError("page title is empty")
    if index_href is not None:
        _require_relative(index_href, "index_href")
    check_outputs(nb)
    resources = {
        "ee": {
            "title": title,
            "index_href": index_href,
            "footer": footer,
            "subtitle": subtitle,
            "links": list(links),
            "pager": pager,
        },
        "metadata": {"path": ""},
    }
    html, _ = _exporter().from_notebook_node(_prepared(nb, include_stderr), resources=resources)
    html = _contents(html)
    html = html if html.endswith("\n") else html + "\n"
    check_page(html)
    return html


def downloads(nb: NotebookNode) -> dict[str, str]:
    """``{file name: CSV text}``: the tables an executed notebook offers as downloads (made by
    :func:`analysis.publish.display.show_table` with ``download=``). A name used twice is an
    error: two tables cannot share one file."""
    from analysis.publish.trust import TRUSTED_OUTPUT

    found: dict[str, str] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            download = output.get("metadata", {}).get(TRUSTED_OUTPUT, {}).get("download")
            if not download:
                continue
            name, text = str(download["name"]), str(download["text"])
            if "/" in name or "\\" in name or not name.endswith(".csv") or name.startswith("."):
                raise ReportError(f"download {name!r}: a plain file name ending in .csv expected")
            if name in found:
                raise ReportError(f"two tables offer the same download {name!r}")
            found[name] = text
    return found


def pager_html(months: list[str], month: str) -> str:
    """Previous / next month links of ``month`` among the published ``months``.

    >>> "2023-06/index.html" in pager_html(["2023-06", "2023-07"], "2023-07")
    True
    """
    ordered = sorted(months)
    at = ordered.index(month)
    before = ordered[at - 1] if at > 0 else None
    after = ordered[at + 1] if at + 1 < len(ordered) else None
    parts = []
    if before:
        parts.append(
            Markup('<a rel="prev" href="../{m}/index.html">← {label}</a>').format(
                m=before, label=month_label(before)
            )
        )
    if after:
        parts.append(
            Markup('<a rel="next" href="../{m}/index.html">{label} →</a>').format(
                m=after, label=month_label(after)
            )
        )
    if not parts:
        return ""
    return str(
        Markup('<nav class="ee-pager" aria-label="Previous and next month">{}</nav>').format(
            Markup(" ").join(parts)
        )
    )


def link_months(site_dir: Path) -> list[str]:
    """Fill in every published month's previous/next links (between its ``ee:pager``
    markers). A page whose bytes would not change is left alone; returns the months rewritten.
    """
    site_dir = Path(site_dir)
    months = [m["month"] for m in _month_folders(site_dir)]
    changed = []
    for month in months:
        path = site_dir / month / "index.html"
        html = path.read_text(encoding="utf-8")
        block = f"<!--ee:pager-->{pager_html(months, month)}<!--/ee:pager-->"
        new = _PAGER.sub(lambda _, block=block: block, html)
        if new != html:
            check_page(new)
            write_text_atomic(path, new)
            changed.append(month)
    return changed


def _month_folders(site_dir: Path) -> list[dict[str, str]]:
    """The published month folders (``YYYY-MM`` holding ``index.html``), oldest first."""
    if not site_dir.is_dir():
        return []
    return [
        {"month": folder.name}
        for folder in sorted(site_dir.iterdir())
        if folder.is_dir() and is_month(folder.name) and (folder / "index.html").is_file()
    ]


def notebook_to_html(executed_notebook: Path, title: str, **options) -> str:
    """Render an executed notebook file as one self-contained HTML page without code.

    - No code, no prompts: readers see Markdown cells and outputs. Cells tagged ``remove-cell``
      are dropped, outputs of cells tagged ``remove-output`` are hidden, stderr (warnings) is
      hidden unless ``include_stderr``.
    - Self-contained: one inlined stylesheet, images inline, no scripts, nothing from other hosts.
      (Images in Markdown cells must be cell attachments, which are embedded.)
    - Deterministic: the same notebook gives byte-identical HTML (no build time on the page).
    - ``title`` is the ``<title>`` and the page's ``<h1>`` (so notebooks start at ``##``);
      ``index_href`` is the relative link back to the site index (``None`` for none);
      ``footer`` is an optional line of plain text (e.g. the data snapshot used);
      ``subtitle``, ``links`` and ``pager`` fill the page's header. These keyword ``options``
      are those of :func:`notebook_node_to_html`.

    Raises :class:`ReportError` when an output or the page fails the checks (see
    :func:`check_outputs` and :func:`check_page`).

    >>> import nbformat
    >>> from tempfile import TemporaryDirectory
    >>> with TemporaryDirectory() as d:
    ...     path = Path(d) / "report.ipynb"
    ...     nbformat.write(nbformat.v4.new_notebook(), path)
    ...     "<main" in notebook_to_html(path, "March 2026")
    True
    """
    executed_notebook = Path(executed_notebook)
    import nbformat

    nb = nbformat.read(executed_notebook, as_version=nbformat.NO_CONVERT)
    try:
        return notebook_node_to_html(nb, title, **options)
    except ReportError as error:
        raise ReportError(f"{executed_notebook.name}: {error}") from None


def _require_relative(href: str, what: str) -> None:
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith("/") or not href.strip():
        raise ValueError(
            f"{what} {href!r} must be a relative link (the site must work from file:// and any "
            "static host)"
        )


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_page(template: str, **context) -> str:
    """One of the site's own pages (index, category pages) from ``templates/<template>``.

    Every value is escaped (autoescape; a missing one is an error), the site's stylesheet is
    inlined, and the result passes :func:`check_page` before it is returned.
    """
    html = _render(template, **context)
    check_page(html)
    return html


def _render(template: str, **context) -> str:
    return (
        _environment()
        .get_template(template)
        .render(
            **context,
            css=Markup(STYLESHEET.read_text(encoding="utf-8")),  # noqa: S704 (our own file)
        )
    )


def render_index(
    months: Iterable[Mapping[str, str]],
    site_title: str,
    data_quality_href: str,
    *,
    footer: str | None = None,
    site_links: dict[str, str] | None = None,
) -> str:
    """The site's index page: every month newest first, with its headline and link.

    ``months``: mappings with ``month`` (``'YYYY-MM'``) and ``headline`` (plain text, e.g. from
    the month's ``summary.json``); order does not matter. ``data_quality_href`` is a relative
    link to the data-quality page. All text is escaped; all links are relative.

    >>> html = render_index([{"month": "2026-02", "headline": "Two <b>STEM</b> draws"},
    ...                      {"month": "2026-03", "headline": "No all-program draw"}],
    ...                     "Express Entry draws", "data-quality/index.html")
    >>> html.index("2026-03/index.html") < html.index("2026-02/index.html")
    True
    >>> "Two &lt;b&gt;STEM&lt;/b&gt; draws" in html
    True
    """
    html = _index_html(months, site_title, data_quality_href, footer, site_links)
    check_page(html)
    return html


def _index_html(months, site_title: str, data_quality_href: str, footer, site_links) -> str:
    """:func:`render_index` before the page check (:func:`write_index` checks only a page that
    changed: the one in place passed the check when it was written)."""
    _require_relative(data_quality_href, "data_quality_href")
    if not site_title.strip():
        raise ValueError("site title is empty")
    entries = []
    for position, entry in enumerate(months, start=1):
        month, headline = entry.get("month"), entry.get("headline")
        if not is_month(month):
            raise ValueError(f"months[{position}]: month {month!r} is not 'YYYY-MM'")
        if not isinstance(headline, str) or not headline.strip():
            raise ValueError(f"months[{position}] ({month}): headline is missing or empty")
        entries.append(
            {
                "month": month,
                "label": month_label(month),
                "href": f"{month}/index.html",
                "headline": headline.strip(),
            }
        )
    seen = [entry["month"] for entry in entries]
    duplicates = sorted({month for month in seen if seen.count(month) > 1})
    if duplicates:
        raise ValueError(f"months listed more than once: {', '.join(duplicates)}")
    entries.sort(key=lambda entry: entry["month"], reverse=True)
    return _render(
        INDEX_TEMPLATE,
        months=entries,
        site_title=site_title,
        data_quality_href=data_quality_href,
        site_links=site_links,
        footer=footer,
    )


def read_months(site_dir: Path) -> list[dict[str, str]]:
    """The published months under ``site_dir``, newest first: ``[{"month", "headline"}, ...]``.

    A month is a ``YYYY-MM`` folder holding ``index.html``; its headline is the ``headline``
    string of its ``summary.json``. Raises :class:`ReportError` naming a month whose
    ``summary.json`` is missing or has no headline.

    >>> from tempfile import TemporaryDirectory
    >>> with TemporaryDirectory() as d:
    ...     month = Path(d) / "2026-03"; month.mkdir()
    ...     _ = (month / "index.html").write_text("<html></html>")
    ...     _ = (month / "summary.json").write_text('{"headline": "Two STEM draws"}')
    ...     read_months(Path(d))
    [{'month': '2026-03', 'headline': 'Two STEM draws'}]
    """
    site_dir = Path(site_dir)
    months = []
    for folder in sorted(site_dir.iterdir(), reverse=True) if site_dir.is_dir() else []:
        if not (folder.is_dir() and is_month(folder.name)):
            continue
        if not (folder / "index.html").is_file():
            continue
        summary_path = folder / "summary.json"
        try:
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ReportError(
                f"{summary_path}: cannot read the month's summary ({error})"
            ) from None
        # the index shows the one-line teaser when the month has one, else the headline
        headline = (
            (summary.get("teaser") or summary.get("headline"))
            if isinstance(summary, dict)
            else None
        )
        if not isinstance(headline, str) or not headline.strip():
            raise ReportError(f"{summary_path}: no 'headline' string")
        months.append({"month": folder.name, "headline": headline})
    return months


#: The index's links to the rest of a full site (the builder passes them).
INDEX_LINKS = {
    "families": "families/index.html",
    "feed": "feed.xml",
    "ircc": IRCC_ROUNDS_PAGE,
}


def write_index(
    site_dir: Path,
    site_title: str,
    data_quality_href: str,
    *,
    footer: str | None = None,
    site_links: dict[str, str] | None = None,
) -> Path:
    """(Re)write ``site_dir/index.html`` atomically from the months published under it; an index
    whose bytes would not change is left alone (its time stamp too).

    >>> from tempfile import TemporaryDirectory
    >>> with TemporaryDirectory() as d:
    ...     write_index(Path(d), "Draws", "data-quality/index.html").name
    'index.html'
    """
    html = _index_html(read_months(site_dir), site_title, data_quality_href, footer, site_links)
    path = Path(site_dir) / "index.html"
    if not path.is_file() or path.read_text(encoding="utf-8") != html:
        check_page(html)
        write_text_atomic(path, html)
    return path
