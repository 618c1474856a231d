"""The site's Atom feed (``feed.xml``): one entry per published month, so readers can subscribe.

Links. Atom (RFC 4287) wants absolute IRIs, and a page's address is only known where it is
hosted: set ``EE_SITE_URL`` (e.g. ``https://you.github.io/ee-draws/``) and every link and id is
absolute. Without it the feed still works: ``xml:base="./"`` plus relative links
(``2026-03/index.html``), which a feed reader resolves against the address it fetched
``feed.xml`` from; ids are then ``tag:`` URIs that do not depend on the host.

Deterministic: an entry's ``updated`` is when the month's data were retrieved (from its
``summary.json``), never the build time, so rebuilding the same months gives the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

from analysis.months import is_month, month_label
from analysis.storage import write_text_atomic

ATOM = "http://www.w3.org/2005/Atom"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
FEED_FILE = "feed.xml"
TAG_AUTHORITY = "tag:ee-draws.example,2023"


def _updated(summary: dict) -> str:
    """An RFC 3339 time: the month's snapshot retrieval time (or its end)."""
    retrieved = str((summary.get("snapshot") or {}).get("retrieved_at") or "").strip()
    if retrieved:
        return retrieved.replace("+00:00", "Z") if "T" in retrieved else f"{retrieved}T00:00:00Z"
    return f"{summary.get('as_of', '1970-01-01')}T00:00:00Z"


def render_feed(entries: list[dict], title: str, site_url: str | None = None) -> str:
    """The Atom document for ``entries`` (``month``, ``summary`` dicts), newest first.

    >>> xml = render_feed([{"month": "2026-03", "summary": {"teaser": "Two rounds.",
    ...     "as_of": "2026-03-31", "snapshot": {"retrieved_at": "2026-03-05T12:00:00Z"}}}],
    ...     "Express Entry draws")
    >>> "<entry>" in xml, 'href="2026-03/index.html"' in xml, 'xml:base="./"' in xml
    (True, True, True)
    """
    ET.register_namespace("", ATOM)
    ordered = sorted(entries, key=lambda e: e["month"], reverse=True)
    feed = ET.Element(f"{{{ATOM}}}feed")
    base = site_url or "./"
    feed.set(XML_BASE, base)

    def sub(parent, tag, text=None, **attributes):
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
        if text is not None:
            element.text = text
        return element

    sub(feed, "title", title)
    sub(
        feed,
        "subtitle",
        "Monthly reports on Canada's Express Entry rounds of invitations: category cutoffs "
        "against all-program rounds, in CRS points.",
    )
    sub(feed, "id", site_url or f"{TAG_AUTHORITY}:site")
    sub(feed, "link", rel="self", href=FEED_FILE, type="application/atom+xml")
    sub(feed, "link", rel="alternate", href="index.html", type="text/html")
    sub(
        feed,
        "updated",
        max((_updated(e["summary"]) for e in ordered), default="1970-01-01T00:00:00Z"),
    )
    author = sub(feed, "author")
    sub(author, "name", "Express Entry draws, an open analysis")
    sub(feed, "rights", "Data: IRCC, Open Government Licence - Canada")
    for entry in ordered:
        month, summary = entry["month"], entry["summary"]
        if not is_month(month):
            raise ValueError(f"feed entry month {month!r} is not YYYY-MM")
        href = f"{month}/index.html"
        item = sub(feed, "entry")
        sub(item, "title", f"Express Entry rounds: {summary.get('title') or month_label(month)}")
        sub(item, "id", f"{site_url}{href}" if site_url else f"{TAG_AUTHORITY}:{month}")
        sub(item, "link", rel="alternate", href=href, type="text/html")
        sub(item, "updated", _updated(summary))
        text = str(summary.get("teaser") or summary.get("headline") or month_label(month))
        sub(item, "summary", text, type="text")
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def write_feed(site_dir: Path, title: str, site_url: str | None = None) -> Path:
    """(Re)write ``site_dir/feed.xml`` from the published months' ``summary.json``; unchanged
    bytes are left alone."""
    site_dir = Path(site_dir)
    entries = []
    for folder in sorted(site_dir.iterdir()) if site_dir.is_dir() else []:
        if folder.is_dir() and is_month(folder.name) and (folder / "index.html").is_file():
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
            entries.append({"month": folder.name, "summary": summary})
    xml = render_feed(entries, title, site_url)
    path = site_dir / FEED_FILE
    if not path.is_file() or path.read_text(encoding="utf-8") != xml:
        write_text_atomic(path, xml)
    return path
