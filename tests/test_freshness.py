"""Issue 16, items 5 to 7: fresh months and freshness. When a month is complete (the feed
retrieved after its last day), when a local copy of the feed counts as retrieved (when it was
stored, never today), the latest check of the cleaned content, the "Feed checked" line put into
every page, a retrieval that fell back to a stored snapshot said in the fetch step's details,
and the Atom entries per round and per family."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pandas as pd
import pytest

from analysis.errors import RetrievalError
from analysis.ingest import retrieve, snapshots
from analysis.publish import atom, freshness
from analysis.report.month_report import is_to_date
from helpers import FEEDS

NS = {"a": atom.ATOM}


# ------------------------------------------------------------------ complete or to date


@pytest.mark.parametrize(
    ("retrieved", "to_date"),
    [
        ("2026-03-05T11:00:00Z", True),
        ("2026-03-31T23:59:59Z", True),  # a round can still come on the last day
        ("2026-04-01T00:00:00Z", False),
        ("2026-04-02T08:00:00+00:00", False),
    ],
)
def test_a_month_is_complete_only_once_the_feed_was_retrieved_after_it_ended(retrieved, to_date):
    assert is_to_date("2026-03", retrieved) is to_date


def test_a_local_copy_counts_as_retrieved_when_it_was_stored_never_today(tmp_path):
    named = tmp_path / "ee_rounds_2023-08-20.json"
    named.write_bytes((FEEDS / "small_feed.json").read_bytes())
    stamped = tmp_path / "ee_rounds_20230821T101500Z_0123456789ab.json"
    stamped.write_bytes(named.read_bytes())
    plain = tmp_path / "copy.json"
    plain.write_bytes(named.read_bytes())
    stored = datetime(2023, 8, 25, 9, 30, tzinfo=UTC)
    os.utime(plain, (stored.timestamp(), stored.timestamp()))

    raw = tmp_path / "raw"
    first = retrieve.retrieve_feed(str(named), raw=raw)
    assert first.retrieved_at == "2023-08-20T00:00:00Z"
    assert retrieve.retrieve_feed(str(stamped), raw=raw).retrieved_at == "2023-08-21T10:15:00Z"
    assert retrieve.retrieve_feed(str(plain), raw=raw).retrieved_at == "2023-08-25T09:30:00Z"
    # August stays "to date": the copies were stored before it ended
    assert is_to_date("2023-08", snapshots.latest_snapshot(raw).retrieved_at)
    # a file stamped in the future is not believed beyond now
    assert retrieve.stored_at("ee_rounds_2999-01-01.json") <= datetime.now(UTC)


def test_the_latest_retrieval_of_the_cleaned_content_is_the_feed_check(tmp_path):
    from analysis.data import latest_check

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "manifest.csv").write_text(
        "retrieved_at,sha256\n"
        "2026-03-05T10:00:00Z,aaa\n"
        "2026-03-20T10:00:00Z,bbb\n"
        "2026-04-01T06:00:00Z,aaa\n",
        encoding="utf-8",
    )
    assert latest_check(raw, "aaa") == "2026-04-01T06:00:00Z"  # checked again, unchanged
    assert latest_check(raw, "ccc") is None
    assert latest_check(tmp_path / "nowhere", "aaa") is None


def test_the_fetch_step_says_when_a_stored_snapshot_stood_in(tmp_path, monkeypatch):
    from analysis.pipeline.steps import Run, fetch_step

    monkeypatch.setenv("EE_DATA_DIR", str(tmp_path / "data"))
    feed = tmp_path / "feed.json"
    feed.write_bytes((FEEDS / "small_feed.json").read_bytes())
    run = Run("fetch")
    assert fetch_step(run, str(feed), notebook=False)["fallback"] is None

    def unreachable(*args, **kwargs):
        raise RetrievalError("feed.example: connection refused")

    monkeypatch.setattr(retrieve, "retrieve_bytes", unreachable)
    details = fetch_step(run, "https://feed.example/ee.json", notebook=False)
    assert "connection refused" in details["fallback"]
    assert "latest stored snapshot" in details["fallback"]


# ------------------------------------------------------------------ freshness on every page


def test_every_page_s_frame_is_drawn_again_with_the_freshness_line_escaped(tmp_path):
    """No page is edited as text: the frame of every published page is drawn again through
    base.html.j2 from the parts kept beside it, its content untouched."""
    from analysis.publish.render import parts_path, reframe_site, render_page, write_page

    site = tmp_path / "site"
    (site / "2026-03").mkdir(parents=True)
    (site / ".builds").mkdir()
    page = render_page("base.html.j2", title="A page")
    for path in (site / "index.html", site / "2026-03" / "index.html", site / ".builds" / "x.html"):
        write_page(path, page)
    assert parts_path(site / "index.html").is_file()
    line = freshness.freshness_line("2026-03-05T11:49:49Z", "<402>", pd.Timestamp("2026-03-05"))
    assert line == ("Feed checked March 5, 2026 at 11:49 UTC, newest round <402> on March 5, 2026.")
    changed = reframe_site(site, line)
    assert sorted(p.relative_to(site).as_posix() for p in changed) == [
        "2026-03/index.html",
        "index.html",
    ]
    stamped = (site / "index.html").read_text(encoding="utf-8")
    assert (
        f'<p class="{freshness.CLASS}">Feed checked March 5, 2026 at 11:49 UTC, newest round '
        "&lt;402&gt; on March 5, 2026.</p>" in stamped
    )
    assert (site / ".builds" / "x.html").read_text(encoding="utf-8") == page  # staging untouched
    assert reframe_site(site, line) == []  # already saying it: left alone
    with freshness.feeding(line):
        fresh = render_page("base.html.j2", title="A page")
        assert "newest round &lt;402&gt;" in fresh
    assert stamped == fresh  # drawn again = drawn now with the same line
    assert freshness.current() == ""
    assert not hasattr(freshness, "stamp_site")  # the text edit of published pages is gone


# ------------------------------------------------------------------ news of each round


def _draws() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "round": ["433", "434", "435"],
            "date": pd.to_datetime(["2026-08-05", "2026-08-07", "2026-08-07"]),
            "family": ["stem", "transport", "stem"],
            "label": ["STEM", "Transport", "STEM"],
            "invitations": pd.array([2500, 1000, pd.NA], dtype="Int64"),
            "cutoff": pd.array([481, 440, pd.NA], dtype="Int64"),
            "drawn_at": pd.to_datetime(
                ["2026-08-05T14:00:00Z", "2026-08-07T13:10:00Z", None], utc=True
            ),
        }
    )


def _revisions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "snapshot": [
                "ee_rounds_20260810T091500Z_aaaaaaaaaaaa.json",
                "ee_rounds_20260810T091500Z_aaaaaaaaaaaa.json",
            ],
            "previous": ["ee_rounds_20260807T150000Z_bbbbbbbbbbbb.json"] * 2,
            "round": ["434", "435"],
            "change": ["changed", "added"],
            "field": ["drawCRS", None],
            "old": ["441", None],
            "new": ["440", None],
        }
    )


def test_one_entry_per_round_with_a_stable_id_updated_when_ircc_revises_it():
    news = atom.round_news(_draws(), _revisions(), since="2026-01-01")
    by_round = {n.round: n for n in news}
    assert by_round["434"].title == (
        "Round 434, Transport, August 7, 2026: 1,000 invitations, cutoff 440"
    )
    assert by_round["434"].updated == datetime(2026, 8, 10, 9, 15, tzinfo=UTC)  # revised
    assert by_round["433"].updated == datetime(2026, 8, 5, 14, 0, tzinfo=UTC)  # as drawn
    assert by_round["435"].updated == datetime(2026, 8, 7, tzinfo=UTC)  # new, no time: its day
    xml = atom.render_feed([], "Express Entry draws", rounds=news)
    root = ET.fromstring(xml.encode())
    ids = [e.find("a:id", NS).text for e in root.findall("a:entry", NS)]
    assert sorted(ids) == sorted(f"{atom.TAG_AUTHORITY}:round-{r}" for r in ("433", "434", "435"))
    assert root.find("a:updated", NS).text.startswith("2026-08-10T09:15:00")
    again = atom.round_news(_draws(), _revisions(), since="2026-01-01")
    assert atom.render_feed([], "Express Entry draws", rounds=again) == xml  # same bytes


def test_each_family_gets_its_own_feed_with_one_entry_per_round(tmp_path):
    class Inputs:
        draws = _draws()
        revisions = _revisions()

    site = tmp_path / "site"
    for family in ("stem", "transport"):
        (site / "families" / family).mkdir(parents=True)
        (site / "families" / family / "index.html").write_text("<p>page</p>", encoding="utf-8")
    written = atom.write_family_feeds(site, Inputs(), "https://you.github.io/ee/")
    assert [p.parent.name for p in written] == ["stem", "transport"]
    stem = ET.fromstring((site / "families" / "stem" / atom.FEED_FILE).read_bytes())
    entries = stem.findall("a:entry", NS)
    assert len(entries) == 2  # rounds 433 and 435, not transport's 434
    assert {e.find("a:link", NS).get("href") for e in entries} == {
        "index.html#round-433",
        "index.html#round-435",
    }
    base = stem.get("{http://www.w3.org/XML/1998/namespace}base")
    assert base == "https://you.github.io/ee/families/stem/"
    assert stem.find("a:id", NS).text == base
    before = (site / "families" / "stem" / atom.FEED_FILE).stat().st_mtime_ns
    atom.write_family_feeds(site, Inputs(), "https://you.github.io/ee/")
    assert (site / "families" / "stem" / atom.FEED_FILE).stat().st_mtime_ns == before


def test_a_feed_link_is_the_only_link_element_a_page_may_hold():
    from analysis.publish.safety import unsafe_markup

    feed = '<link rel="alternate" type="application/atom+xml" href="feed.xml" title="STEM">'
    assert unsafe_markup(feed) == []
    assert unsafe_markup('<link rel="stylesheet" href="a.css">')
    assert unsafe_markup('<link rel="alternate" type="text/html" href="x.html">')
