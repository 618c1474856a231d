"""The site's Atom feed (``feed.xml``): one entry per published month, newest first, links
relative to ``xml:base`` or absolute under ``EE_SITE_URL``, feed text escaped, the same bytes for
the same months, and well-formed whatever characters the feed's text holds."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from analysis import config
from analysis.publish import atom

NS = {"a": atom.ATOM}


def entries(teaser: str = "Teaser <b>{m}</b> & more") -> list[dict]:
    return [
        {"month": m, "summary": {"teaser": teaser.format(m=m), "title": m,
                                 "snapshot": {"retrieved_at": "2026-03-05T12:00:00Z"}}}
        for m in ("2026-02", "2026-03", "2025-12")
    ]  # fmt: skip


def test_atom_feed_is_well_formed_with_one_entry_per_month():
    xml = atom.render_feed(entries(), "Express Entry draws")
    root = ET.fromstring(xml)
    got = root.findall("a:entry", NS)
    assert len(got) == 3
    assert [e.find("a:link", NS).get("href") for e in got] == [
        "2026-03/index.html",
        "2026-02/index.html",
        "2025-12/index.html",
    ]
    assert root.get(atom.XML_BASE) == "./"
    assert {(e.find("a:link", NS).get("rel"), e.find("a:link", NS).get("type")) for e in got} == {
        ("alternate", "text/html")
    }
    assert got[0].find("a:summary", NS).text == "Teaser <b>2026-03</b> & more"  # text, escaped
    assert got[0].find("a:id", NS).text.startswith("tag:")
    absolute = ET.fromstring(atom.render_feed(entries(), "D", "https://me.github.io/ee/"))
    assert absolute.find("a:entry/a:id", NS).text == "https://me.github.io/ee/2026-03/index.html"
    assert absolute.get(atom.XML_BASE) == "https://me.github.io/ee/"
    assert atom.render_feed(list(reversed(entries())), "Express Entry draws") == xml


def test_atom_feed_says_when_the_data_were_retrieved_never_when_it_was_built():
    root = ET.fromstring(atom.render_feed(entries(), "Express Entry draws"))
    times = [e.text for e in root.iter(f"{{{atom.ATOM}}}updated")]
    assert times == ["2026-03-05T12:00:00+00:00"] * 4  # the feed and its three entries
    assert root.find("a:generator", NS) is None  # no library version in the bytes


def test_control_characters_in_feed_text_keep_the_atom_feed_well_formed():
    xml = atom.render_feed(entries("cutoff\x1b[31m 475\x00\x07 {m}"), "Express Entry draws")
    summary = ET.fromstring(xml).find("a:entry/a:summary", NS).text
    assert summary == "cutoff\ufffd[31m 475\ufffd\ufffd 2026-03"


def test_site_url_must_be_http(monkeypatch):
    monkeypatch.setenv("EE_SITE_URL", "me.github.io")
    with pytest.raises(ValueError, match="must be an http"):
        config.site_url()
    monkeypatch.setenv("EE_SITE_URL", "https://me.github.io/ee")
    assert config.site_url() == "https://me.github.io/ee/"


@pytest.mark.slow
def test_published_feed_has_one_entry_per_built_month_each_linking_to_its_page(published_site):
    _, site = published_site
    root = ET.fromstring((site / "feed.xml").read_bytes())
    # the months' entries (beside them, one per round: see the next test)
    got = [e for e in root.findall("a:entry", NS) if ":round-" not in e.find("a:id", NS).text]
    assert [e.find("a:link", NS).get("href") for e in got] == [
        "2023-08/index.html",
        "2023-07/index.html",
    ]
    for entry in got:
        assert (site / entry.find("a:link", NS).get("href")).is_file()


@pytest.mark.slow
def test_published_feeds_have_one_entry_per_round_site_wide_and_per_family(published_site):
    """Issue 16, item 7: every round since category rounds began has an entry in feed.xml
    linking to its row on its month's page; each family page links its own feed (rel=alternate),
    which has one entry per round of that family."""
    from analysis.data import load_inputs
    from analysis.taxonomy import CATEGORY_START

    env, site = published_site
    draws = load_inputs(Path(env["EE_DATA_DIR"])).draws
    shown = draws.loc[draws["date"] >= CATEGORY_START]
    root = ET.fromstring((site / "feed.xml").read_bytes())
    rounds = {
        e.find("a:id", NS).text.rsplit(":round-", 1)[1]: e.find("a:link", NS).get("href")
        for e in root.findall("a:entry", NS)
        if ":round-" in e.find("a:id", NS).text
    }
    assert sorted(rounds) == sorted(str(r).lower() for r in shown["round"])
    months = shown.set_index(shown["round"].astype(str).str.lower())["date"].dt.strftime("%Y-%m")
    for number, href in rounds.items():
        if not (site / months[number] / "index.html").is_file():
            assert href == "index.html", number  # its month is not published: the index
            continue
        page, anchor = href.split("#")
        assert page == f"{months[number]}/index.html"
        assert f'id="{anchor}"' in (site / page).read_text(encoding="utf-8"), number
    family_pages = sorted(p.parent for p in (site / "families").glob("*/index.html"))
    assert family_pages
    for folder in family_pages:
        page = (folder / "index.html").read_text(encoding="utf-8")
        assert '<link rel="alternate" type="application/atom+xml" href="feed.xml"' in page
        feed = ET.fromstring((folder / atom.FEED_FILE).read_bytes())
        entries = feed.findall("a:entry", NS)
        mine = shown.loc[shown["family"] == folder.name]
        assert len(entries) == len(mine) > 0, folder.name
        for entry in entries:
            anchor = entry.find("a:link", NS).get("href").split("#")[1]
            assert f'id="{anchor}"' in page
