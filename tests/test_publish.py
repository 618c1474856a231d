"""Publishing layer: figures and content objects, the renderer, page checks, index, atomic
publish.

Fast tests build pages in memory from the content objects the analysis makes; the test marked
``slow`` executes tests/fixtures/notebooks/publish-sample.ipynb (which writes its page) in a real
kernel (python3 of this venv).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import seaborn as sns  # noqa: E402
from markupsafe import Markup  # noqa: E402
from PIL import Image as PilImage  # noqa: E402

from analysis import config  # noqa: E402
from analysis.errors import ReportError  # noqa: E402
from analysis.publish import display as figures  # noqa: E402
from analysis.publish import render, safety, swap  # noqa: E402
from analysis.publish.content import Figure, ItemList, Paragraph, Table  # noqa: E402
from analysis.publish.month_page import MonthPage  # noqa: E402
from analysis.storage import leftover_prefix, write_text_atomic  # noqa: E402
from helpers import SAMPLE_NOTEBOOK as SAMPLE  # noqa: E402
from helpers import execute_notebook  # noqa: E402

XSS_NAME = "<img src=x onerror=alert(1)>"
SUMMARY = {
    "title": "March 2026",
    "rounds": 2,
    "invitations": 3000,
    "as_of": "2026-03-31",
    "to_date": False,
    "snapshot": {"file": "snapshot X", "sha256": "0" * 64},
}


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def labelled_figure(title="Cutoffs by round"):
    fig, ax = plt.subplots(figsize=(4, 2.5))
    ax.plot([1, 2, 3], [491, 502, 488], marker="o")
    ax.set(title=title, xlabel="Round", ylabel="CRS cutoff (points)")
    return fig


def page_of(*blocks, section: str = "the-month-in-detail") -> MonthPage:
    page = MonthPage()
    for block in blocks:
        page.add(section, block)
    return page


def sample_page() -> MonthPage:
    """A month's page with a table and a figure holding markup, a sentence and a list."""
    fig = labelled_figure()
    figure = figures.figure_pair(fig, fig, alt="Cutoffs moved between 488 and 502 points.")
    plt.close(fig)
    page = MonthPage()
    page.add("the-month-in-detail", Paragraph("<script>alert(1)</script> printed as text"))
    page.add(
        "the-month-s-rounds",
        Table(
            pd.DataFrame({"round": ["300", "301"], "name": [XSS_NAME, "STEM & health"]}),
            caption="Rounds <b>this</b> month",
            download="rounds.csv",
        ),
    )
    page.add("figures", figure)
    page.add("how-good-are-the-forecasts", ItemList([f"Lowest: 488 ({XSS_NAME})"], title="Note"))
    return page


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


CODE_FRAGMENTS = ("print(", "show_table(rounds", "show(fig", "figure_pair(", "warnings.warn(",
                  "plt.subplots", "import pandas", 'month = "2026-03"')  # fmt: skip


def visible_text_of_code(html: str) -> list[str]:
    """Code of the sample notebooks that made it onto the page."""
    return [fragment for fragment in CODE_FRAGMENTS if fragment in html]


# ---------------------------------------------------------------------------------------------
# figures.py
# ---------------------------------------------------------------------------------------------


def test_require_labels_accepts_a_titled_labelled_figure():
    fig = labelled_figure()
    figures.require_labels(fig)
    plt.close(fig)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "no title"),
        ({"xlabel": ""}, "no x-axis label"),
        ({"ylabel": "  "}, "no y-axis label"),
    ],
)
def test_require_labels_names_what_is_missing(change, message):
    fig = labelled_figure()
    fig.axes[0].set(**change)
    with pytest.raises(ValueError, match=message):
        figures.require_labels(fig)
    plt.close(fig)


def test_require_labels_accepts_seaborn_outer_labels_and_checks_colorbars():
    frame = pd.DataFrame(
        {"x": [1, 2, 1, 2, 1, 2, 1, 2], "y": [1, 2, 3, 4, 5, 6, 7, 8], "f": list("aabbccdd")}
    )
    grid = sns.relplot(data=frame, x="x", y="y", col="f", col_wrap=2, kind="line")
    grid.set_axis_labels("Days since draw", "CRS cutoff (points)")
    grid.figure.suptitle("Cutoffs by family")
    figures.require_labels(grid)  # inner axes have no labels of their own: outer ones count
    plt.close(grid.figure)

    fig, ax = plt.subplots()
    image = ax.imshow([[1, 2], [3, 4]])
    ax.set(title="Heat", xlabel="Bin", ylabel="Week")
    bar = fig.colorbar(image)
    with pytest.raises(ValueError, match="colour bar"):
        figures.require_labels(fig)
    bar.set_label("Candidates (count)")
    figures.require_labels(fig)
    plt.close(fig)


def test_png_bytes_are_deterministic_and_carry_no_software_version():
    figures.set_theme()
    first, second = labelled_figure(), labelled_figure()
    png = figures.png_bytes(first)
    assert png == figures.png_bytes(second)  # two separately drawn identical figures
    assert png.startswith(b"\x89PNG")
    assert b"matplotlib" not in png.lower() and b"Software" not in png
    width, height = PilImage.open(io.BytesIO(png)).size
    assert 0.8 < width / (4 * figures.DPI) < 1.25 and 0.8 < height / (2.5 * figures.DPI) < 1.25
    plt.close("all")


def test_figure_escapes_alt_and_requires_it():
    fig = labelled_figure()
    html = figures.figure_pair(fig, fig, alt='Cutoffs "fell" <sharply> & rose')._repr_html_()
    assert 'alt="Cutoffs &#34;fell&#34; &lt;sharply&gt; &amp; rose"' in html
    width, height = PilImage.open(io.BytesIO(figures.png_bytes(fig))).size
    css = f'width="{round(width * 96 / 144)}" height="{round(height * 96 / 144)}"'
    assert css in html  # shown at 96 CSS px per inch: sharp on high-density screens
    with pytest.raises(ValueError, match="alt text is empty"):
        figures.figure_pair(fig, fig, alt="   ")
    with pytest.raises(ValueError, match="alt text is empty"):
        Figure(alt=" ", wide=figures.image(figures.png_bytes(fig)))
    plt.close(fig)


def test_table_html_escapes_headers_cells_and_caption_and_drops_the_index():
    frame = pd.DataFrame({"<th>": [XSS_NAME], "n": [1.25]}, index=["INDEX-LABEL"])
    html = Table(frame, caption="A & <b>B</b>", float_format="{:.1f}")._repr_html_()
    assert "<caption>A &amp; &lt;b&gt;B&lt;/b&gt;</caption>" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    assert "<th>&lt;th&gt;</th>" in html
    assert "INDEX-LABEL" not in html
    assert '<td data-label="n">1.2</td>' in html
    # a header's markup is escaped in the label a phone shows beside each cell, too
    assert 'data-label="&lt;th&gt;"' in html
    with pytest.raises(ValueError, match="caption is empty"):
        Table(frame, caption="")


def test_paragraphs_and_lists_escape_their_text():
    html = Paragraph(f"{XSS_NAME} & 1,234")._repr_html_()
    assert html == "<p>&lt;img src=x onerror=alert(1)&gt; &amp; 1,234</p>"
    listed = ItemList(["", f"<b>{XSS_NAME}</b>"], title="Read <i>with</i> care")._repr_html_()
    assert listed == (
        "<p><strong>Read &lt;i&gt;with&lt;/i&gt; care</strong></p>"
        "<ul><li>&lt;b&gt;&lt;img src=x onerror=alert(1)&gt;&lt;/b&gt;</li></ul>"
    )
    assert ItemList(["", None]).items == [] and ItemList([])._repr_html_() == ""


# ---------------------------------------------------------------------------------------------
# page checks
# ---------------------------------------------------------------------------------------------


def test_external_references_finds_every_kind_of_remote_load():
    html = """
    <link rel="stylesheet" href="https://cdn.example/a.css">
    <script src="http://cdn.example/require.js"></script>
    <style>@import "https://fonts.example/f.css"; body { background: url('//img.example/b.png') }
    </style>
    <img src="data:image/png;base64,AAAA" alt="inline" srcset="x.png 1x, https://i.ex/y.png 2x">
    <div style="background-image: url(https://img.example/c.png)"></div>
    <meta http-equiv="refresh" content="0; url=https://elsewhere.example/">
    <a href="https://www.canada.ca/">a link, not a load</a>
    <a href="../index.html">relative</a> <img src="figure.png" alt="relative">
    """
    found = safety.external_references(html)
    assert found == [
        "link href: https://cdn.example/a.css",
        "script src: http://cdn.example/require.js",
        "img srcset: https://i.ex/y.png",
        "meta refresh: https://elsewhere.example/",
    ]
    # CSS loads are refused unread: the policy allows no style="" and no <style> it does not name
    active = safety.unsafe_markup(html)
    assert "div style= attribute" in active
    assert any(item.startswith("<style> the policy does not name: @import") for item in active)
    assert safety.external_links(html) == ["https://www.canada.ca/"]
    assert safety.external_references("<p>https://example.org is only text</p>") == []


def test_unsafe_markup_finds_active_markup_but_not_escaped_text():
    html = """
    <p>&lt;script&gt;alert(1)&lt;/script&gt; and onerror=alert(1) as text</p>
    <svg><script>alert(2)</script></svg>
    <img src=x onerror=alert(3) alt="x">
    <a href=" JaVa&#x0A;Script:alert(4)">click</a>
    <iframe srcdoc="<p>x</p>"></iframe>
    """
    found = safety.unsafe_markup(html)
    assert found[0].startswith("<script> element")
    assert "img onerror= attribute" in found
    assert any(item.startswith("a href:") for item in found)
    assert any(item.startswith("<iframe> element") for item in found)
    assert "iframe srcdoc= attribute" in found
    assert safety.unsafe_markup("<p>&lt;script&gt; onclick=1 javascript:x</p>") == []


def test_images_without_alt_counts_missing_and_blank_alt():
    html = '<img src="data:," alt="Cutoffs by month"><img src="data:,"><img src="data:," alt=" ">'
    assert len(safety.images_without_alt(html)) == 2


# ---------------------------------------------------------------------------------------------
# content -> page
# ---------------------------------------------------------------------------------------------


def assert_publishable(html: str) -> None:
    """What every published report page must satisfy (the brief's list)."""
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    head = html[html.index("<head>") + len("<head>") :].lstrip()
    assert head.startswith(
        '<meta http-equiv="Content-Security-Policy" content="'
        f'{render.content_security_policy().replace(chr(39), "&#39;")}">'
    )
    assert re.search(r"<title>[^<]+</title>", html)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "<main" in html and "<nav" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # printed markup shown, escaped
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # table cell from the data, escaped
    assert "<script" not in html.lower()
    assert not re.search(r"<[^>]*\sonerror\s*=", html, re.IGNORECASE)
    assert safety.unsafe_markup(html) == []
    assert safety.external_references(html) == []
    assert not re.search(r"(src|srcset)\s*=\s*[\"']?(https?:)?//", html, re.IGNORECASE)
    assert set(safety.external_links(html)) == {render.IRCC_ROUNDS_PAGE}  # the source's page
    assert "@import" not in html
    assert safety.images_without_alt(html) == []
    assert html.count("<img ") >= 1
    assert "In&nbsp;[" not in html and "Out[" not in html  # no prompts
    assert visible_text_of_code(html) == []  # no code


def test_month_page_has_the_frame_escapes_data_and_is_self_contained(tmp_path):
    page = sample_page()
    html = page.html(SUMMARY)
    assert_publishable(html)
    assert "<title>Express Entry rounds: March 2026</title>" in html
    assert '<a href="../index.html">All monthly reports</a>' in html
    assert (
        "<p>Data: IRCC Express Entry rounds feed, snapshot snapshot X (SHA-256 000000000000)."
        in html
    )
    assert "<caption>Rounds &lt;b&gt;this&lt;/b&gt; month</caption>" in html
    assert "UserWarning" not in html
    written = page.write(tmp_path / "2026-03", SUMMARY, "2026-02", None)
    assert written.read_text() == page.html(SUMMARY, "2026-02", None)
    assert (tmp_path / "2026-03" / "rounds.csv").read_text() == (
        "round,name\n300,<img src=x onerror=alert(1)>\n301,STEM & health\n"
    )


def test_same_content_gives_byte_identical_pages():
    first = sample_page().html(SUMMARY, "2026-02", "2026-04")
    assert sample_page().html(SUMMARY, "2026-02", "2026-04") == first
    assert first.count('<nav class="ee-pager"') == 2  # above and below the content
    assert '<a rel="prev" href="../2026-02/index.html">← February 2026</a>' in first
    assert '<a rel="next" href="../2026-04/index.html">April 2026 →</a>' in first
    assert '<nav class="ee-pager"' not in sample_page().html(SUMMARY)


def test_contents_list_comes_from_the_sections():
    html = sample_page().html(SUMMARY)
    contents = re.search(r'<nav class="ee-contents".*?</nav>', html).group(0)
    targets = re.findall(r'href="#([^"]+)"', contents)
    assert targets[:2] == ["the-month-in-detail", "the-month-s-rounds"]
    for target in targets:
        assert f'<h2 id="{target}">' in html
    with pytest.raises(ValueError, match="no section 'nowhere'"):
        MonthPage().add("nowhere", Paragraph("x"))


def test_downloads_need_plain_csv_names_and_one_table_each():
    frame = pd.DataFrame({"a": [1]})
    for name in ("../x.csv", "x.txt", ".hidden.csv"):
        with pytest.raises(ValueError, match="plain file name ending in .csv"):
            Table(frame, caption="t", download=name)
    page = page_of(Table(frame, "t", download="a.csv"), Table(frame, "u", download="a.csv"))
    with pytest.raises(ValueError, match="two tables offer the same download 'a.csv'"):
        page.downloads()
    empty = page_of(Table(frame.iloc[:0], "t", download="a.csv", empty="None yet."))
    assert empty.downloads() == {}  # no rows: no download offered, no link
    assert "Download this table" not in empty.html(SUMMARY) and "None yet." in empty.html(SUMMARY)


def test_active_markup_is_refused_even_when_passed_as_markup():
    with pytest.raises(ReportError, match="script or active markup"):
        page_of(Paragraph(Markup("<p>ok</p><script>alert(1)</script>"))).html(SUMMARY)
    for markup, message in [
        ("<img src=x onerror=alert(1)>", "onerror"),
        ('<img src="https://example.org/a.png" alt="a">', "loads from another host"),
        ('<img src="chart.png" alt="chart">', "image not inline"),
        ("<a href='javascript:alert(1)'>x</a>", "a href: javascript"),
    ]:
        with pytest.raises(ReportError, match=message):
            page_of(Paragraph(Markup(markup))).html(SUMMARY)


def test_index_href_and_title_are_checked():
    with pytest.raises(ValueError, match="title is empty"):
        render.render_index([], " ", "data-quality/index.html")
    html = render.render_index([], "A <b>title</b>", "data-quality/index.html")
    assert "<title>A &lt;b&gt;title&lt;/b&gt;</title>" in html


def test_real_feed_html_fields_are_shown_escaped():
    snapshot = config.shared_snapshots_dir() / "ee_rounds_2026-03-05.json"
    if not snapshot.is_file():
        pytest.skip(f"real snapshot not available at {snapshot}")
    from analysis.ingest.feed import load_rounds

    rounds = pd.DataFrame(load_rounds(snapshot.read_bytes())).head(25)
    shown = rounds[["drawNumber", "drawName", "mitext", "DrawText1"]]
    assert shown["mitext"].str.contains("<a href=").all()  # the feed really carries markup
    table = Table(shown, caption="Latest rounds, as the feed gives them")
    html = page_of(table).html(SUMMARY)
    assert "&lt;a href=&#39;/content/canadasite" in html
    assert "<a href='/content" not in html and 'href="/content' not in html
    assert html.count("<tr>") == 25
    assert safety.external_references(html) == []


# ---------------------------------------------------------------------------------------------
# index page
# ---------------------------------------------------------------------------------------------


def test_render_index_lists_months_newest_first_escaped_with_relative_links():
    months = [
        {"month": "2025-12", "headline": "Year end"},
        {"month": "2026-03", "headline": f"Headline with {XSS_NAME}"},
        {"month": "2026-01", "headline": "January"},
    ]
    html = render.render_index(months, "Express Entry <draws>", "data-quality/index.html")
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert hrefs == [
        "#main",
        "index.html",
        "data-quality/index.html",
        "2026-03/index.html",
        "2026-01/index.html",
        "2025-12/index.html",
        "data-quality/index.html",
    ]
    assert "Headline with &lt;img src=x onerror=alert(1)&gt;" in html
    assert "<title>Express Entry &lt;draws&gt;</title>" in html
    assert '<time datetime="2026-03">March 2026</time>' in html
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    for landmark in ("<main", "<nav", "<h1>", "<h2"):
        assert landmark in html
    assert safety.external_references(html) == [] and "<script" not in html
    assert (
        render.render_index(
            list(reversed(months)), "Express Entry <draws>", "data-quality/index.html"
        )
        == html
    )


def test_render_index_without_months_and_with_bad_input():
    html = render.render_index([], "Draws", "quality.html")
    assert "No monthly report has been published yet." in html
    with pytest.raises(ValueError, match="not 'YYYY-MM'"):
        render.render_index([{"month": "2026-3", "headline": "x"}], "Draws", "q.html")
    with pytest.raises(ValueError, match="headline is missing"):
        render.render_index([{"month": "2026-03"}], "Draws", "q.html")
    with pytest.raises(ValueError, match="more than once: 2026-03"):
        render.render_index([{"month": "2026-03", "headline": "a"}] * 2, "Draws", "q.html")
    for href in ("https://example.org/q.html", "//example.org/q", "/abs/q.html"):
        with pytest.raises(ValueError, match="must be a relative link"):
            render.render_index([], "Draws", href)


def test_read_months_and_write_index(tmp_path):
    for month, headline in [("2026-02", "Feb"), ("2026-03", "Mar")]:
        (tmp_path / month).mkdir()
        (tmp_path / month / "index.html").write_text("<html></html>")
        (tmp_path / month / "summary.json").write_text(json.dumps({"headline": headline}))
    (tmp_path / "2026-04").mkdir()  # no index.html yet: not published
    (tmp_path / "data-quality").mkdir()
    assert render.read_months(tmp_path) == [
        {"month": "2026-03", "headline": "Mar"},
        {"month": "2026-02", "headline": "Feb"},
    ]
    index = render.write_index(tmp_path, "Draws", "data-quality/index.html")
    assert index.read_text().index("2026-03/index.html") < index.read_text().index("2026-02/")
    (tmp_path / "2026-02" / "summary.json").write_text("{}")
    with pytest.raises(ReportError, match="2026-02/summary.json: no 'headline'"):
        render.read_months(tmp_path)


# ---------------------------------------------------------------------------------------------
# atomic publishing
# ---------------------------------------------------------------------------------------------


def write_site(version: str):
    def build(folder: Path) -> None:
        (folder / "index.html").write_text(f"index {version}")
        (folder / "2026-03").mkdir()
        (folder / "2026-03" / "index.html").write_text(f"march {version}")

    return build


def test_publish_site_creates_then_replaces_the_site(tmp_path):
    site = tmp_path / "reports"
    swap.publish_dir(write_site("v1"), site)
    assert tree(site) == {"index.html": b"index v1", "2026-03/index.html": b"march v1"}
    assert oct(site.stat().st_mode & 0o777) == "0o755"
    (site / "stale.html").write_text("from an older build")
    swap.publish_dir(write_site("v2"), site)
    assert tree(site) == {"index.html": b"index v2", "2026-03/index.html": b"march v2"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]  # nothing left beside


@pytest.mark.parametrize("error", [RuntimeError("build failed"), KeyboardInterrupt()])
def test_failed_build_leaves_the_published_site_exactly_as_it_was(tmp_path, error):
    site = tmp_path / "reports"
    swap.publish_dir(write_site("v1"), site)
    before = tree(site)

    def failing_build(folder: Path) -> None:
        write_site("v2")(folder)  # half-written new site...
        assert (site / "index.html").read_text() == "index v1"  # ...old one still served
        raise error

    with pytest.raises(type(error)):
        swap.publish_dir(failing_build, site)
    assert tree(site) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]


def test_failed_first_build_leaves_nothing(tmp_path):
    def failing_build(folder: Path) -> None:
        (folder / "index.html").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        swap.publish_dir(failing_build, tmp_path / "reports")
    assert list(tmp_path.iterdir()) == []


def test_failed_swap_puts_the_old_site_back(tmp_path, monkeypatch):
    site = tmp_path / "reports"
    swap.publish_dir(write_site("v1"), site)
    before = tree(site)
    real_rename = os.rename

    def rename(source, destination):
        if ".new-" in str(source):  # the second rename of the swap
            raise KeyboardInterrupt
        return real_rename(source, destination)

    monkeypatch.setattr(swap.os, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        swap.publish_dir(write_site("v2"), site)
    assert tree(site) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]


def test_publish_month_replaces_only_that_month(tmp_path):
    site = tmp_path / "reports"
    swap.publish_dir(write_site("v1"), site)
    (site / "2026-02").mkdir()
    (site / "2026-02" / "index.html").write_text("february")

    def build(folder: Path) -> None:
        (folder / "index.html").write_text("march v2")

    swap.publish_month(build, site, "2026-03")
    assert tree(site) == {
        "index.html": b"index v1",
        "2026-02/index.html": b"february",
        "2026-03/index.html": b"march v2",
    }
    with pytest.raises(RuntimeError):
        swap.publish_month(lambda folder: (_ for _ in ()).throw(RuntimeError), site, "2026-03")
    assert (site / "2026-03" / "index.html").read_text() == "march v2"
    assert sorted(p.name for p in site.iterdir()) == ["2026-02", "2026-03", "index.html"]
    with pytest.raises(ValueError, match="not 'YYYY-MM'"):
        swap.publish_month(build, site, "../x")


def test_publish_refuses_to_replace_a_file(tmp_path):
    target = tmp_path / "reports"
    target.write_text("not a folder")
    with pytest.raises(NotADirectoryError):
        swap.publish_dir(write_site("v1"), target)
    assert target.read_text() == "not a folder"


def a_published_site(tmp_path: Path) -> Path:
    site = tmp_path / "reports"
    swap.publish_dir(write_site("v1"), site)
    (site / "feed.xml").write_text("feed v1")
    (site / ".lock").write_text("holder")
    return site


def change_everything(shadow: Path) -> None:
    """A build writing as the site's writers do: every file replaced by a rename."""
    write_text_atomic(shadow / "2026-03" / "index.html", "march v2")
    write_text_atomic(shadow / "feed.xml", "feed v2")
    write_text_atomic(shadow / "index.html", "index v2")


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failure_while_staging_the_site_leaves_every_published_file_as_it_was(tmp_path, error):
    site = a_published_site(tmp_path)
    before = tree(site)
    inodes = {p: p.stat().st_ino for p in site.rglob("*") if p.is_file()}

    def failing(shadow: Path) -> None:
        change_everything(shadow)
        assert (shadow / "2026-03" / "index.html").read_text() == "march v2"
        assert (site / "2026-03" / "index.html").read_text() == "march v1"  # still served
        raise error

    with pytest.raises(type(error)):
        swap.publish_site(failing, site)
    assert tree(site) == before
    assert {p: p.stat().st_ino for p in site.rglob("*") if p.is_file()} == inodes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]  # no shadow left


def test_a_staged_site_is_published_whole_and_keeps_its_lock_file(tmp_path):
    site = a_published_site(tmp_path)
    lock = (site / ".lock").stat().st_ino
    swap.publish_site(change_everything, site, skip=(".builds",))
    assert tree(site) == {
        ".lock": b"holder",
        "2026-03/index.html": b"march v2",
        "feed.xml": b"feed v2",
        "index.html": b"index v2",
    }
    assert (site / ".lock").stat().st_ino == lock  # the held lock is the new site's lock
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]  # old site removed


def test_a_site_killed_between_its_two_renames_gets_the_old_site_back(tmp_path, monkeypatch):
    site = a_published_site(tmp_path)
    before = tree(site)

    def killed_swap(staging: Path, target: Path, retired_prefix: str) -> None:
        # the first rename (named as by a run that is gone since)...
        os.rename(target, target.with_name(".reports.old-p999999999-dead"))
        raise SystemExit("killed")  # ...and the process dies before the second

    monkeypatch.setattr(swap, "_swap_in", killed_swap)
    with pytest.raises(SystemExit):
        swap.publish_site(change_everything, site)
    assert not site.exists()
    monkeypatch.undo()
    assert swap.recover_site(site) is not None
    assert tree(site) == before
    assert swap.recover_site(site) is None  # nothing to do once the site is there


def test_a_dry_run_refuses_every_write_and_writes_nothing(tmp_path):
    site = a_published_site(tmp_path)
    before = tree(site)
    with swap.refusing_writes(), pytest.raises(swap.SiteWouldChange):
        write_text_atomic(site / "index.html", "index v2")
    with swap.refusing_writes(), pytest.raises(swap.SiteWouldChange):
        swap.publish_dir(write_site("v2"), site / "2026-03")
    assert tree(site) == before
    assert sorted(p.name for p in site.iterdir()) == [".lock", "2026-03", "feed.xml", "index.html"]
    write_text_atomic(site / "index.html", "index v2")  # outside the block writes work again
    assert (site / "index.html").read_text() == "index v2"


def test_write_atomic_replaces_whole_file(tmp_path):
    path = write_text_atomic(tmp_path / "a" / "index.html", "new")
    assert path.read_text() == "new" and os.listdir(path.parent) == ["index.html"]


# ---------------------------------------------------------------------------------------------
# end to end in a real kernel
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_executed_fixture_notebook_publishes_safely_and_reproducibly(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    execute_notebook(SAMPLE, tmp_path / "a")
    html = (tmp_path / "a" / "page" / "index.html").read_text()
    assert_publishable(html)
    assert "<caption>Rounds in &lt;b&gt;2026-03&lt;/b&gt;</caption>" in html
    assert "(&lt;script&gt;alert(2)&lt;/script&gt;)" in html
    assert "hidden output" not in html and "a warning readers should not see" not in html
    # A second, independent execution of the same notebook gives the same bytes.
    execute_notebook(SAMPLE, tmp_path / "b")
    assert tree(tmp_path / "b" / "page") == tree(tmp_path / "a" / "page")


def test_the_next_run_removes_shadows_and_retired_sites_a_killed_run_left_beside_the_site(tmp_path):
    from analysis.pipeline import build

    site = a_published_site(tmp_path)
    before = tree(site)
    for name in (".reports.new-p999999999-ab", ".reports.old-p999999999-cd"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.html").write_text("left by a killed run")
    mine = tmp_path / leftover_prefix(".reports.new-")  # a live run's shadow stays
    mine.mkdir()
    with build._site_lock(site):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == [mine.name, "reports"]
    assert {k: v for k, v in tree(site).items() if k != ".lock"} == {
        k: v for k, v in before.items() if k != ".lock"
    }


def test_the_next_run_puts_back_a_site_killed_between_its_two_renames(tmp_path):
    from analysis.pipeline import build

    site = a_published_site(tmp_path)
    before = tree(site)
    shadow = tmp_path / ".reports.new-p999999999-ab"
    shutil.copytree(site, shadow)
    os.rename(site, tmp_path / ".reports.old-p999999999-cd")
    with build._site_lock(site):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]
    assert {k: v for k, v in tree(site).items() if k != ".lock"} == {
        k: v for k, v in before.items() if k != ".lock"
    }
