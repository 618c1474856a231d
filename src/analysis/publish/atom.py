"""The site's Atom feeds (written with ``feedgen``), so readers can subscribe:

- ``feed.xml``: one entry per published month and one per round ("Round 434, Transport,
  August 7, 2026: 1,000 invitations, cutoff 440");
- ``families/<family>/feed.xml``: one entry per round of that family (the family page links
  to it with ``rel="alternate"``), for news of one category only.

A round's entry has a stable id (``tag:...:round-434``, the same in every feed and whatever
the host) and is ``updated`` when IRCC revises the round (the retrieval that saw the change),
otherwise when it was drawn, so a feed reader shows a revised round again. Links are absolute
with ``EE_SITE_URL``, else relative under ``xml:base="./"`` (README, "Atom feed").
Deterministic: ``updated`` comes from the data, never the build time, and no generator version
is written, so rebuilding from the same data gives the same bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from feedgen.feed import FeedGenerator
from lxml import etree

from analysis.ingest.snapshots import name_time
from analysis.publish import swap
from analysis.storage import write_text_atomic
from analysis.taxonomy import CATEGORY_START, UNCLASSIFIED, family_labels
from analysis.vocabulary import day_label, is_month, month_label

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


@dataclass(frozen=True)
class RoundNews:
    """One round as a feed entry: its title, stable id, when it was drawn or last revised
    (``updated``), and where it is shown (``href``, relative to the feed)."""

    round: str
    family: str
    title: str
    updated: datetime
    href: str

    @property
    def tag(self) -> str:
        return f"{TAG_AUTHORITY}:round-{self.round.lower()}"


def round_title(number: object, label: str, day, invitations: object, cutoff: object) -> str:
    """A round's news, in one line.

    >>> round_title("434", "Transport", pd.Timestamp("2026-08-07"), 1000, 440)
    'Round 434, Transport, August 7, 2026: 1,000 invitations, cutoff 440'
    >>> round_title("91a", "STEM", pd.Timestamp("2023-07-05"), None, None)
    'Round 91a, STEM, July 5, 2023: invitations not published, no cutoff published'
    """
    invited = (
        "invitations not published" if pd.isna(invitations) else f"{int(invitations):,} invitations"
    )
    score = "no cutoff published" if pd.isna(cutoff) else f"cutoff {int(cutoff)}"
    return f"Round {number}, {label}, {day_label(pd.Timestamp(day))}: {invited}, {score}"


def _revised_at(revisions: pd.DataFrame | None) -> dict[str, datetime]:
    """round -> when a retrieval first saw IRCC's latest change to it (the snapshot's time,
    from its file name); new rounds ("added") are not revisions."""
    if revisions is None or revisions.empty:
        return {}
    changed = revisions.loc[revisions["change"].isin(["changed", "renamed", "removed"])]
    found: dict[str, datetime] = {}
    for number, snapshot in zip(changed["round"], changed["snapshot"], strict=True):
        match = re.search(r"\d{8}T\d{6}Z", str(snapshot))
        if match is None or pd.isna(number):
            continue
        when = name_time(match[0])
        key = str(number)
        found[key] = max(found.get(key, when), when)
    return found


def round_news(
    draws: pd.DataFrame,
    revisions: pd.DataFrame | None = None,
    href=None,
    since=CATEGORY_START,
) -> list[RoundNews]:
    """Every round since ``since`` (default: since category rounds began) as a feed entry.
    ``href(round row)`` gives the entry's link (default: the round's month page)."""
    labels = family_labels(draws)
    revised = _revised_at(revisions)
    rows = draws.loc[draws["date"] >= pd.Timestamp(since)]
    news = []
    for row in rows.itertuples(index=False):
        number = str(row.round)
        drawn = row.drawn_at if not pd.isna(row.drawn_at) else pd.Timestamp(row.date, tz="UTC")
        updated = max(
            pd.Timestamp(drawn).to_pydatetime(),
            revised.get(number, datetime.min.replace(tzinfo=UTC)),
        )
        # an unclassified round goes by IRCC's own name for it
        label = str(row.label) if row.family == UNCLASSIFIED else labels.get(row.family, row.label)
        link = href(row) if href else f"{row.date:%Y-%m}/index.html#round-{number.lower()}"
        news.append(
            RoundNews(
                number,
                str(row.family),
                round_title(number, label, row.date, row.invitations, row.cutoff),
                updated,
                link,
            )
        )
    return news


def render_feed(
    entries: list[dict],
    title: str,
    site_url: str | None = None,
    rounds: list[RoundNews] = (),
    *,
    feed_id: str | None = None,
    subtitle: str = SUBTITLE,
    base: str = "",
) -> str:
    """The Atom document for ``entries`` (``month``, ``summary`` dicts), newest first, and
    ``rounds`` (:func:`round_news`). ``feed_id`` (default: the site's), ``subtitle`` and
    ``base`` (the feed's folder under the site, e.g. ``families/stem/``) serve the family feeds.

    >>> xml = render_feed([{"month": "2026-03", "summary": {"teaser": "Two rounds.",
    ...     "as_of": "2026-03-31", "snapshot": {"retrieved_at": "2026-03-05T12:00:00Z"}}}],
    ...     "Express Entry draws")
    >>> "<entry>" in xml, 'href="2026-03/index.html"' in xml, 'xml:base="./"' in xml
    (True, True, True)
    """
    ordered = sorted(entries, key=lambda e: e["month"], reverse=True)
    news = sorted(rounds, key=lambda r: (r.updated, r.tag), reverse=True)
    feed = FeedGenerator()
    feed.generator("")  # no generator element: its version would change the bytes
    feed.title(title)
    feed.subtitle(subtitle)
    feed.id(feed_id or (f"{site_url}{base}" if site_url else f"{TAG_AUTHORITY}:site"))
    feed.link(href=FEED_FILE, rel="self", type="application/atom+xml")
    feed.link(href="index.html", rel="alternate", type="text/html")
    updated = [_updated(e["summary"]) for e in ordered]
    feed.updated(max([*updated, *(r.updated for r in news)], default=_updated({})))
    feed.author(name="Express Entry draws, an open analysis")
    feed.rights("Data: IRCC, Open Government Licence - Canada")
    items = [(n.title, n.tag, n.href, n.updated, f"{n.title}.") for n in news]
    for entry, when in zip(ordered, updated, strict=True):
        month, summary = entry["month"], entry["summary"]
        if not is_month(month):
            raise ValueError(f"feed entry month {month!r} is not YYYY-MM")
        href = f"{month}/index.html"
        heading = summary.get("title") or month_label(month)
        tag = f"{site_url}{href}" if site_url else f"{TAG_AUTHORITY}:{month}"
        text = summary.get("teaser") or summary.get("headline") or month_label(month)
        items.append((f"Express Entry rounds: {heading}", tag, href, when, str(text)))
    for heading, tag, href, when, text in items:  # the rounds' news, then the months
        item = feed.add_entry(order="append")
        item.title(_NOT_XML.sub("\ufffd", heading))
        item.id(tag)
        item.link(href=href)
        item.updated(when)
        item.summary(_NOT_XML.sub("\ufffd", text), type="text")
    # Two things feedgen 1.0 cannot write: xml:base (no setter) and an entry link's rel and
    # type (it drops them), so they are set on its document.
    root = etree.fromstring(feed.atom_str())
    root.set(XML_BASE, f"{site_url}{base}" if site_url else "./")
    for link in root.iterfind(f"{{{ATOM}}}entry/{{{ATOM}}}link"):
        link.set("rel", "alternate")
        link.set("type", "text/html")
    xml = etree.tostring(root, encoding="unicode", pretty_print=True)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + xml


def _write_if_changed(path: Path, xml: str) -> Path:
    if not path.is_file() or path.read_text(encoding="utf-8") != xml:
        write_text_atomic(path, xml)
    return path


def write_feed(site_dir: Path, title: str, site_url: str | None = None, inputs=None) -> Path:
    """(Re)write ``site_dir/feed.xml`` from the published months' ``summary.json`` and, given
    the processed data ``inputs``, one entry per round (linked to its month's page when that is
    published, else to the index); unchanged bytes are left alone."""
    site_dir = Path(site_dir)
    entries = [
        {"month": m, "summary": json.loads((site_dir / m / "summary.json").read_text("utf-8"))}
        for m in sorted(swap.published_months(site_dir))
    ]
    published = {e["month"] for e in entries}

    def href(row) -> str:
        month = f"{row.date:%Y-%m}"
        anchor = f"#round-{str(row.round).lower()}"
        return f"{month}/index.html{anchor}" if month in published else "index.html"

    rounds = round_news(inputs.draws, inputs.revisions, href) if inputs is not None else []
    xml = render_feed(entries, title, site_url, rounds)
    return _write_if_changed(site_dir / FEED_FILE, xml)


def write_family_feeds(
    site_dir: Path, inputs, site_url: str | None = None, folder: str = "families"
) -> list[Path]:
    """(Re)write ``families/<family>/feed.xml`` for every published family page: one entry per
    round of that family, linked to its row on the family page."""
    families_dir = Path(site_dir) / folder
    labels = family_labels(inputs.draws)
    written = []
    pages = sorted(families_dir.iterdir()) if families_dir.is_dir() else []
    for page in pages:
        if not (page.is_dir() and (page / "index.html").is_file()):
            continue
        family = page.name
        rows = inputs.draws.loc[inputs.draws["family"] == family]
        rounds = round_news(
            rows, inputs.revisions, lambda row: f"index.html#round-{str(row.round).lower()}"
        )
        label = labels.get(family, family)
        xml = render_feed(
            [],
            f"Express Entry rounds: {label}",
            site_url,
            rounds,
            feed_id=f"{site_url}{folder}/{family}/" if site_url else f"{TAG_AUTHORITY}:{family}",
            subtitle=f"Every {label} round of invitations of Canada's Express Entry since "
            f"{month_label(CATEGORY_START)}: invitations and cutoff, in CRS points.",
            base=f"{folder}/{family}/",
        )
        written.append(_write_if_changed(page / FEED_FILE, xml))
    return written
