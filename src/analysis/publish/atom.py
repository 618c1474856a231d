"""The site's Atom feed (``feed.xml``, written with ``feedgen``): one entry per published month,
so readers can subscribe.

Links. Atom (RFC 4287) wants absolute IRIs, and a page's address is only known where it is
hosted: set ``EE_SITE_URL`` (e.g. ``https://you.github.io/ee-draws/``) and every link and id is
absolute. Without it the feed still works: ``xml:base="./"`` plus relative links
(``2026-03/index.html``), which a feed reader resolves against the address it fetched
``feed.xml`` from; ids are then ``tag:`` URIs that do not depend on the host.

Deterministic: an entry's ``updated`` is when the month's data were retrieved (from its
``summary.json``), never the build time, and no generator version is written, so rebuilding the
same months gives the same bytes.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from feedgen.feed import FeedGenerator
from lxml import etree

from analysis.months import is_month, month_label
from analysis.storage import write_text_atomic

ATOM = "http://www.w3.org/2005/Atom"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
FEED_FILE = "feed.xml"
TAG_AUTHORITY = "tag:ee-draws.example,2023"
#: What XML 1.0 cannot carry (C0 controls but tab and line breaks, lone surrogates, U+FFFE/F):
#: feed text holding one is shown with U+FFFD instead of making the feed ill-formed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
SUBTITLE = (
    "Monthly reports on Canada's Express Entry rounds of invitations: category cutoffs "
    "against all-program rounds, in CRS points."
)


def _updated(summary: dict) -> datetime:
    """The month's snapshot retrieval time (or, without one, the start of its last day)."""
    retrieved = str((summary.get("snapshot") or {}).get("retrieved_at") or "").strip()
    text = retrieved or str(summary.get("as_of") or "1970-01-01")
    moment = datetime.fromisoformat(text if "T" in text else f"{text}T00:00:00+00:00")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def render_feed(entries: list[dict], title: str, site_url: str | None = None) -> str:
    """The Atom document for ``entries`` (``month``, ``summary`` dicts), newest first.

    >>> xml = render_feed([{"month": "2026-03", "summary": {"teaser": "Two rounds.",
    ...     "as_of": "2026-03-31", "snapshot": {"retrieved_at": "2026-03-05T12:00:00Z"}}}],
    ...     "Express Entry draws")
    >>> "<entry>" in xml, 'href="2026-03/index.html"' in xml, 'xml:base="./"' in xml
    (True, True, True)
    """
    ordered = sorted(entries, key=lambda e: e["month"], reverse=True)
    feed = FeedGenerator()
    feed.generator("")  # no generator element: its version would change the bytes
    feed.title(title)
    feed.subtitle(SUBTITLE)
    feed.id(site_url or f"{TAG_AUTHORITY}:site")
    feed.link(href=FEED_FILE, rel="self", type="application/atom+xml")
    feed.link(href="index.html", rel="alternate", type="text/html")
    updated = [_updated(e["summary"]) for e in ordered]
    feed.updated(max(updated, default=_updated({})))
    feed.author(name="Express Entry draws, an open analysis")
    feed.rights("Data: IRCC, Open Government Licence - Canada")
    for entry, when in zip(ordered, updated, strict=True):
        month, summary = entry["month"], entry["summary"]
        if not is_month(month):
            raise ValueError(f"feed entry month {month!r} is not YYYY-MM")
        href = f"{month}/index.html"
        item = feed.add_entry(order="append")
        heading = summary.get("title") or month_label(month)
        item.title(_NOT_XML.sub("\ufffd", f"Express Entry rounds: {heading}"))
        item.id(f"{site_url}{href}" if site_url else f"{TAG_AUTHORITY}:{month}")
        item.link(href=href)
        item.updated(when)
        text = summary.get("teaser") or summary.get("headline") or month_label(month)
        item.summary(_NOT_XML.sub("\ufffd", str(text)), type="text")
    # Two things feedgen 1.0 cannot write: xml:base (no setter) and an entry link's rel and
    # type (it drops them), so they are set on its document.
    root = etree.fromstring(feed.atom_str())
    root.set(XML_BASE, site_url or "./")
    for link in root.iterfind(f"{{{ATOM}}}entry/{{{ATOM}}}link"):
        link.set("rel", "alternate")
        link.set("type", "text/html")
    xml = etree.tostring(root, encoding="unicode", pretty_print=True)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + xml


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
