"""The one renderer of the site: every page comes from a Jinja template (autoescape on) that
extends ``templates/base.html.j2``, fed by content objects (:mod:`analysis.publish.content`).

A published page loads nothing from any other host and runs no script, and says so: the first
element of its ``<head>`` is a Content-Security-Policy (:func:`content_security_policy`) that
allows inline images and the one inlined stylesheet (by its hash), nothing else. It opens the same
from ``file://``, any static host, or an archive years later. The same inputs always give
byte-identical HTML (no build time, ids or tool versions on the page). Every page passes
:func:`analysis.publish.safety.check_page` before it is returned.

Site layout (all links relative)::

    site_dir/index.html             render_index(...)   months newest first
    site_dir/YYYY-MM/index.html     analysis.publish.month_page (run by the monthly notebook)
    site_dir/YYYY-MM/summary.json   {"headline": "...", ...}   (read by read_months)

**The frame is drawn by the template, every time.** A page is its own content (the template's
``main`` block, rendered once) inside the frame ``base.html.j2`` draws: head, navigation and the
footer with the "Feed checked ..." line (:mod:`analysis.publish.freshness`). :func:`render_page`
returns a :class:`Page` that knows both parts, and :func:`write_page` keeps them beside the page
(``.index.html.json`` next to ``index.html``), so that at each build :func:`reframe_site` draws
the frame of every published page again through ``base.html.j2`` with the current line (a month
built earlier by the report notebook included), without running anything else again and
without editing any HTML.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup

from analysis.errors import ReportError
from analysis.publish import freshness
from analysis.publish.content import TEMPLATES_DIR, Table, environment
from analysis.publish.safety import check_page
from analysis.report import standing
from analysis.storage import write_text_atomic
from analysis.vocabulary import is_month, month_label

INDEX_TEMPLATE = "site_index.html.j2"

#: The frame alone around a page's content already rendered (``frame.html.j2``).
FRAME_TEMPLATE = "frame.html.j2"

#: What the frame is drawn from, besides the content and the freshness line.
FRAME_KEYS = ("title", "nav", "footer", "feeds")

STYLESHEET = TEMPLATES_DIR / "site.css"

#: IRCC's rounds page: the source every page links to.
IRCC_ROUNDS_PAGE = (
    "https://www.canada.ca/en/immigration-refugees-citizenship/corporate/mandate/"
    "policies-operational-instructions-agreements/ministerial-instructions/express-entry-rounds.html"
)

#: The footer of the pages made from the feed alone.
FEED_LICENCE = "Data: IRCC Express Entry rounds feed, Open Government Licence - Canada."

#: The index's links to the rest of a full site (the builder passes them).
INDEX_LINKS = {
    "families": "families/index.html",
    "feed": "feed.xml",
    "ircc": IRCC_ROUNDS_PAGE,
    "score": "score/index.html",
    "pool": "pool/index.html",
    "data": "data/index.html",
}


@functools.cache
def stylesheet() -> str:
    """The text of the page's one ``<style>`` element (the site's CSS between newlines)."""
    return "\n" + STYLESHEET.read_text(encoding="utf-8") + "\n"


@functools.cache
def content_security_policy() -> str:
    """The policy every page declares: no script, nothing from other hosts, inline images only,
    and the inlined stylesheet only (by its SHA-256).

    >>> content_security_policy().split("; ")[:2]
    ["default-src 'none'", 'img-src data:']
    """
    digest = base64.b64encode(hashlib.sha256(stylesheet().encode("utf-8")).digest()).decode()
    return (
        f"default-src 'none'; img-src data:; style-src 'sha256-{digest}'; base-uri 'none'; "
        "form-action 'none'"
    )


def site_nav(
    root: str, current: str | None = None, *, full: bool = True, hrefs: dict | None = None
) -> list[dict]:
    """The site's links for a page ``root`` folders down (``""``, ``"../"``, ``"../../"``):
    the monthly reports, the categories, the data-quality page, the feed and IRCC's rounds page.
    ``current`` names the page's own entry (``"index"``, ``"families"``); ``full=False`` gives
    only the reports and the data-quality page (a site without the rest); ``hrefs`` gives
    other links for some entries (by name).

    >>> [link["href"] for link in site_nav("../")][:2]
    ['../index.html', '../families/index.html']
    """
    links = [
        ("index", f"{root}index.html", "Monthly reports" if current == "index" else None),
        ("families", f"{root}families/index.html", "Categories"),
        ("data-quality", f"{root}data-quality/index.html", "Data quality"),
        ("feed", f"{root}feed.xml", "Atom feed"),
        ("ircc", IRCC_ROUNDS_PAGE, "IRCC's rounds page"),
    ]
    hrefs = hrefs or {}
    return [
        {
            "href": hrefs.get(name, href),
            "text": text or "All monthly reports",
            "current": name == current,
        }
        for name, href, text in links
        if full or name in ("index", "data-quality")
    ]


def render_page(template: str, *, check: bool = True, **context: Any) -> str:
    """One page of the site from ``templates/<template>`` (which extends ``base.html.j2``).

    Every value is escaped (autoescape; a missing one is an error); ``context`` gives the
    template's values, with ``title``, ``nav`` (:func:`site_nav`) and ``footer`` for the frame.
    The result ends with one newline and passes :func:`check_page` (``check=False``: the caller
    checks it, e.g. only when it differs from a page already published).
    """
    defaults = {"nav": [], "footer": None, "title": "", "feeds": []}
    context = {**defaults, "freshness": freshness.current(), **context}
    page = environment().get_template(template)
    values = page.new_context({**context, **_frame_values()})
    for _ in page.root_render_func(values):  # the whole page once: its imports (macros) run
        pass
    main = "".join(page.blocks["main"](values))
    frame = {key: context[key] for key in FRAME_KEYS}
    if "title" in page.blocks:  # a page that names itself (the index: the site's title)
        frame["title"] = Markup("".join(page.blocks["title"](values))).unescape()  # noqa: S704
    html = Page.of(main, frame, context["freshness"])
    if check:
        check_page(html)
    return html


def reader_page(title: str, dek: str, sections: list, files: Iterable[str] = ()) -> str:
    """A page one folder down (``data/``, ``score/``, ``pool/``) of ``reader_page.html.j2``: a
    title, an opening paragraph, ``files`` offered for download, then ``sections``."""
    return render_page(
        "reader_page.html.j2",
        title=title,
        dek=dek,
        files=list(files),
        sections=sections,
        nav=site_nav("../"),
        footer=FEED_LICENCE,
    )


def _frame_values() -> dict[str, Any]:
    return {
        "csp": content_security_policy(),
        "style": Markup(stylesheet()),  # noqa: S704 (our own file)
        "ircc": IRCC_ROUNDS_PAGE,
    }


class Page(str):
    """A page's HTML that knows its parts: ``main`` (the page's content, HTML rendered with
    autoescape), ``frame`` (title, nav, footer, feeds) and the ``freshness`` line its footer
    says. :func:`write_page` keeps the parts beside the page."""

    main: str
    frame: dict
    freshness: str

    @classmethod
    def of(cls, main: str, frame: Mapping[str, Any], line: str) -> Page:
        """The page ``base.html.j2`` draws around ``main`` with ``frame`` and ``line``."""
        html = (
            environment()
            .get_template(FRAME_TEMPLATE)
            .render(
                **frame,
                main=Markup(main),  # noqa: S704 (rendered with autoescape by render_page)
                freshness=line,
                **_frame_values(),
            )
        )
        page = cls(html.rstrip("\n") + "\n")
        page.main, page.frame, page.freshness = str(main), dict(frame), line
        return page


def parts_path(page: Path) -> Path:
    """Where a page's parts are kept: ``.index.html.json`` beside ``index.html``."""
    return Path(page).with_name(f".{Path(page).name}.json")


def write_page(path: Path, html: str) -> Path:
    """Write a page (atomically) and, for a :class:`Page`, its parts beside it (a page with no
    parts, e.g. from an older build, leaves none: it is drawn again when its inputs change)."""
    path = Path(path)
    write_text_atomic(path, html)
    if isinstance(html, Page):
        parts = {"main": html.main, "frame": html.frame, "freshness": html.freshness}
        write_text_atomic(parts_path(path), json.dumps(parts, ensure_ascii=False))
    else:
        parts_path(path).unlink(missing_ok=True)
    return path


def reframe_site(site: Path, line: str) -> list[Path]:
    """Draw the frame of every published page of ``site`` again through ``base.html.j2`` so its
    footer says ``line`` (from the parts :func:`write_page` kept; hidden folders, i.e. staging,
    are skipped); pages already saying it are left alone. Returns the pages rewritten."""
    site = Path(site)
    changed = []
    for kept in sorted(site.rglob(".*.html.json")):
        if any(part.startswith(".") for part in kept.relative_to(site).parts[:-1]):
            continue
        page = kept.with_name(kept.name[1:].removesuffix(".json"))
        try:
            parts = json.loads(kept.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if parts.get("freshness") == line or not page.is_file():
            continue
        write_page(page, Page.of(parts["main"], parts["frame"], line))
        changed.append(page)
    return changed


def require_relative(href: str, what: str) -> None:
    """Raise ``ValueError`` unless ``href`` is a relative link."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith("/") or not href.strip():
        raise ValueError(
            f"{what} {href!r} must be a relative link (the site must work from file:// and any "
            "static host)"
        )


def render_index(
    months: Iterable[Mapping[str, str]],
    site_title: str,
    data_quality_href: str,
    *,
    footer: str | None = None,
    site_links: dict[str, str] | None = None,
    check: bool = True,
    front: Mapping[str, Any] | None = None,
) -> str:
    """The site's index page: where things stand and a general round today (``front``: see
    :func:`read_front`), then every month newest first, with its headline and link.

    ``months``: mappings with ``month`` (``'YYYY-MM'``) and ``headline`` (plain text, e.g. from
    the month's ``summary.json``); order does not matter. ``data_quality_href`` is a relative
    link to the data-quality page. All text is escaped; all links are relative. ``check``: see
    :func:`render_page`.

    >>> html = render_index([{"month": "2026-02", "headline": "Two <b>STEM</b> draws"},
    ...                      {"month": "2026-03", "headline": "No all-program draw"}],
    ...                     "Express Entry draws", "data-quality/index.html")
    >>> html.index("2026-03/index.html") < html.index("2026-02/index.html")
    True
    >>> "Two &lt;b&gt;STEM&lt;/b&gt; draws" in html
    True
    """
    require_relative(data_quality_href, "data_quality_href")
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
    nav = site_nav("", "index", full=bool(site_links), hrefs={"data-quality": data_quality_href})
    return render_page(
        INDEX_TEMPLATE,
        check=check,
        months=entries,
        site_title=site_title,
        data_quality_href=data_quality_href,
        site_links=site_links,
        footer=footer,
        nav=nav,
        feeds=[{"href": site_links["feed"], "title": site_title}]
        if site_links and "feed" in site_links
        else [],
        front=front_view(front),
    )


def front_view(front: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What the index's first screen draws from the newest month's summary (:func:`read_front`):
    the standing table and the general round's table and figure, as content objects."""
    if not front or not front.get("standing"):
        return None
    month = front["month"]
    view: dict[str, Any] = {
        "month": month,
        "href": f"{month}/index.html",
        "standing": Table(
            standing.standing_table(list(front["standing"])),
            caption="Each active category: latest round, verdict, likely next cutoff",
            note=front.get("standing_note"),
            download=None,
        ),
        "general": None,
        "chart": None,
    }
    general = front.get("general")
    if general:
        view["general"] = Table(
            standing.general_table(general),
            caption=standing.general_caption(general),
            note=standing.general_sentence(general),
        )
        view["chart"] = standing.general_chart(general)
    return view


def read_front(site_dir: Path) -> dict[str, Any] | None:
    """The newest published month's ``standing`` and ``general`` (its ``summary.json``), with
    ``month``: what the index shows first. None when no month has them."""
    newest = next(iter(read_months(site_dir)), None)
    if newest is None:
        return None
    summary = json.loads((Path(site_dir) / newest["month"] / "summary.json").read_text("utf-8"))
    return {"month": newest["month"], **summary} if summary.get("standing") else None


def read_months(site_dir: Path) -> list[dict[str, str]]:
    """The published months under ``site_dir``, newest first: ``[{"month", "headline"}, ...]``.

    A month is a ``YYYY-MM`` folder holding ``index.html``; its headline is the one-line
    ``teaser`` of its ``summary.json`` when it has one, else the ``headline``. Raises
    :class:`ReportError` naming a month whose ``summary.json`` is missing or has neither.

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
        headline = (
            (summary.get("teaser") or summary.get("headline"))
            if isinstance(summary, dict)
            else None
        )
        if not isinstance(headline, str) or not headline.strip():
            raise ReportError(f"{summary_path}: no 'headline' string")
        months.append({"month": folder.name, "headline": headline})
    return months


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
    html = render_index(
        read_months(site_dir),
        site_title,
        data_quality_href,
        footer=footer,
        site_links=site_links,
        check=False,
        front=read_front(site_dir),
    )
    path = Path(site_dir) / "index.html"
    if not path.is_file() or path.read_text(encoding="utf-8") != html:
        check_page(html)  # the page in place passed the check when it was written
        write_page(path, html)
    return path
