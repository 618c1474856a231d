"""The published site as a publication, without a browser: family colours, the answer block,
plain-language tables, CSV downloads, figures for phones and the family pages (the Atom feed is
tested in test_atom.py)."""

from __future__ import annotations

import io
import itertools
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from markupsafe import Markup
from PIL import Image as PilImage

from analysis import taxonomy
from analysis.ingest.clean import clean_rounds
from analysis.ingest.feed import load_rounds
from analysis.publish import content, display
from analysis.publish.content import Table
from analysis.publish.swap import published_months
from analysis.report import charts, month_report, provenance, tables
from analysis.stats import LABELS, Verdict
from helpers import FEEDS

# ------------------------------------------------------------------ one colour per family


def test_every_family_has_one_fixed_colour_and_marker():
    styles = taxonomy.family_styles()
    assert set(taxonomy.known_families()) | {taxonomy.UNCLASSIFIED} <= set(styles)
    pairs = [(s.colour, s.marker) for s in styles.values()]
    assert len(set(pairs)) == len(pairs)
    assert len({s.colour for s in styles.values()}) == len(styles)
    # new or unknown families: neutral grey, never a colour another family owns
    assert taxonomy.family_style("a_new_family").colour == styles["unclassified"].colour


def test_family_colours_do_not_depend_on_what_else_is_drawn():
    dates = pd.to_datetime(["2024-01-10", "2024-02-10"])
    families = taxonomy.known_families()
    rolling = pd.DataFrame(
        {
            "family": [f for f in families for _ in dates],
            "date": [d for _ in families for d in dates],
            "cutoff_mean": 480.0,
        }
    )

    def colour_of_pnp(drawn):
        fig, _ = charts.rolling_cutoffs(rolling, drawn)
        colours = {line.get_label(): line.get_color() for line in fig.axes[0].get_lines()}
        plt.close(fig)
        return colours[taxonomy.family_labels()["pnp"]]

    alone, crowded = colour_of_pnp(["pnp"]), colour_of_pnp([*families, "pnp"])
    assert alone == crowded == taxonomy.family_styles()["pnp"].colour


def _cvd_distance(a: str, b: str, kind: str) -> float:
    from colorspacious import cspace_convert, deltaE

    def rgb(hex_colour: str) -> np.ndarray:
        return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255

    space = {"name": "sRGB1+CVD", "cvd_type": kind, "severity": 100}
    return float(
        deltaE(cspace_convert(rgb(a), space, "sRGB1"), cspace_convert(rgb(b), space, "sRGB1"))
    )


@pytest.mark.parametrize("kind", ["deuteranomaly", "protanomaly", "tritanomaly"])
def test_family_styles_stay_apart_for_colour_blind_readers(kind):
    """The report's own families (all-program, STEM, healthcare) are far apart in colour for
    every kind of colour blindness; any two families whose colours come close (CAM02-UCS
    distance under 12 after simulation) are told apart by their marker."""
    styles = taxonomy.family_styles()
    core = ["all_program", "stem", "healthcare"]
    for a, b in itertools.combinations(core, 2):
        assert _cvd_distance(styles[a].colour, styles[b].colour, kind) > 25, (a, b)
    for a, b in itertools.combinations([f for f in styles if f != "unclassified"], 2):
        if _cvd_distance(styles[a].colour, styles[b].colour, kind) < 12:
            assert styles[a].marker != styles[b].marker, (a, b, kind)


def test_a_bad_style_row_is_an_error_naming_it(monkeypatch):
    rows = [{"family": "stem", "colour": "blue", "marker": "o"}]
    monkeypatch.setattr(taxonomy, "_read_csv", lambda name: rows)
    taxonomy.family_styles.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"row 1 \(stem\): colour 'blue' is not a hex"):
            taxonomy.family_styles()
    finally:
        taxonomy.family_styles.cache_clear()


def test_unknown_round_types_show_ircc_s_own_name():
    draws = pd.DataFrame(
        {
            "family": ["unclassified", "stem"],
            "name": ["Space pilots, 2026-Version 2", "STEM occupations (Version 1)"],
        }
    )
    assert taxonomy.reader_labels(draws).tolist() == ["Space pilots", "STEM"]


# ------------------------------------------------------------------ the month on the fixture
# (the fixtures `july` and `august` live in conftest.py)


def test_answer_block_gives_cutoff_comparison_gap_and_verdict_briefly(july):
    blocks = {a.family: a for a in month_report.answers(july)}
    stem = blocks["stem"]
    assert stem.text.startswith("One round, cutoff 486 on July 5, 2023 (500 invitations).")
    assert "All-program rounds in the 30 days before had a mean cutoff of" in stem.text
    assert re.search(r"\d+ points lower", stem.text)
    assert stem.verdict is not None and stem.verdict.label in LABELS
    assert stem.verdict_text  # a verdict in words, whatever it is
    assert all(a.words() <= 60 for a in blocks.values())


def test_a_month_without_a_category_round_says_so_and_points_to_the_latest(august):
    blocks = {a.family: a for a in month_report.answers(august)}
    assert blocks["stem"].text.startswith("No STEM round in August 2023. The latest was round")
    # a focus category without a round gets its standing answer (issue 16), not only "no round"
    assert blocks["stem"].verdict is august.verdicts["stem"]


def test_answer_uses_the_verdict_function_it_is_given(july):
    def verdict(draws, comparisons, family, as_of):
        return Verdict(family, "all_program", 9, 6.0, -12.0, -20.0, -4.0, 0.95,
                              "below", "lower", "Nine rounds.")  # fmt: skip

    blocks = month_report.answers(july, verdict=verdict)
    assert blocks[0].verdict_text.startswith("Yes: lower (on average −12 points since June 2023")


def test_tables_speak_plain_language(july):
    rounds = tables.month_rounds_table(july)
    assert "In this report" in rounds and "Report category" not in rounds
    for frame in (tables.comparison_table(july), tables.forecasts(july), tables.cadence(july)):
        text = Markup(Table(frame, caption="Statistics")._repr_html_()).striptags()
        assert not re.search(r"\d[eE][-+]\d", text), text  # no e-notation
        assert "all_program" not in text and "<NA>" not in text and "nan" not in text.lower()
    notes = provenance.data_notes(
        {"source": "/home/me/feeds/x.json", "file": "/tmp/x.json"}, july.params
    )
    shown = " ".join(notes["Value"])
    assert "/home/me" not in shown and "/tmp" not in shown
    assert "{" not in shown  # no JSON


def test_quality_findings_hold_no_maintenance_hints(july):
    quality = pd.DataFrame(
        {
            "severity": ["warning"],
            "round": ["254"],
            "field": ["drawName"],
            "value": ["Space pilots"],
            "message": ["round type not in the taxonomy (add a pattern to taxonomy.csv)"],
        }
    )
    shown = provenance.quality_for_month(quality, july)
    assert shown.loc[0, "What"] == "round type"
    assert "taxonomy.csv" not in shown.loc[0, "Finding"] and "add a" not in shown.loc[0, "Finding"]


# ------------------------------------------------------------------ tables and downloads


def test_numbers_get_thousands_separators_and_the_right_alignment_class():
    frame = pd.DataFrame(
        {"Round": ["254"], "Invitations": [1500], "Gap": pd.array([None], dtype="Int64")}
    )
    html = Table(frame, caption="Rounds", row_ids=pd.Series(["round-254"]))._repr_html_()
    assert '<td data-label="Invitations">1,500</td>' in html and '<tr id="round-254">' in html
    assert "ee-num-2 ee-num-3" in html and "ee-num-1" not in html
    assert "<NA>" not in html and "nan" not in html


def test_an_empty_table_is_a_sentence():
    html = Table(
        pd.DataFrame({"Round": []}), caption="Revisions", empty="No revisions by IRCC."
    )._repr_html_()
    assert "<table" not in html and "No revisions by IRCC." in html


def test_downloads_come_from_the_tables_and_names_are_checked():
    rounds = Table(pd.DataFrame({"a": [1], "b": [2]}), "Rounds", download="rounds.csv")
    assert content.downloads([rounds]) == {"rounds.csv": "a,b\n1,2\n"}
    with pytest.raises(ValueError, match="same download 'rounds.csv'"):
        content.downloads([rounds, rounds])
    with pytest.raises(ValueError, match="plain file name"):
        Table(pd.DataFrame({"a": [1]}), "Rounds", download="../x.csv")


def test_csv_text_keeps_plain_numbers():
    frame = pd.DataFrame({"Round": ["254"], "Invitations": [1500], "Gap": [None]})
    assert pd.read_csv(io.StringIO(content.csv_text(frame)), dtype=str).fillna(
        ""
    ).values.tolist() == [["254", "1500", ""]]


# ------------------------------------------------------------------ figures


@pytest.mark.parametrize(
    "draw",
    [charts.cutoffs_over_time, charts.gaps],
)
def test_narrow_figures_keep_text_legible_on_a_phone(july, draw):
    """Shown about 358 CSS px wide on a 390 px phone, the narrow figure's smallest text stays
    at or above 10 CSS px; legends sit outside the plot area."""
    fig, _ = draw(july, layout=charts.NARROW)
    try:
        points = display.smallest_text_points(fig)
        png = display.png_bytes(fig)
        width = PilImage.open(io.BytesIO(png)).size[0] * display.CSS_DPI / display.DPI
        shown = min(width, 358)
        assert points * display.DPI / 72 * (shown / (width * display.DPI / display.CSS_DPI)) >= 10
        for ax in fig.axes:
            legend = ax.get_legend()
            if legend is not None:
                renderer = fig.canvas.get_renderer()
                box = legend.get_window_extent(renderer)
                assert box.y1 <= ax.get_window_extent(renderer).y0 + 1  # below the axes
    finally:
        plt.close(fig)


def test_the_date_axis_names_every_month_of_the_window(july):
    fig, _ = charts.gaps(july)
    try:
        fig.canvas.draw()
        labels = [t.get_text().split("\n")[0] for t in fig.axes[0].get_xticklabels()]
        assert labels[0] == "Aug" and labels[-1] == "Jul" and len(labels) == 12
        assert "Jun" in labels  # the month before July 2023 is named
    finally:
        plt.close(fig)


def test_a_long_date_axis_names_every_year(july):
    fig, ax = plt.subplots()
    try:
        charts.month_axis(ax, pd.Timestamp("2023-06-01"), pd.Timestamp("2026-03-31"), charts.WIDE)
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert len(labels) < 34  # a tick every third month
        years = [label.split("\n")[1] for label in labels if "\n" in label]
        assert years == ["2023", "2024", "2025", "2026"], labels
    finally:
        plt.close(fig)


def test_the_pair_of_figures_is_one_picture_with_text_sizes():
    wide, ax = plt.subplots()
    ax.set(title="t", xlabel="x (days)", ylabel="y (points)")
    narrow, ax2 = plt.subplots(figsize=(3, 3))
    ax2.set(title="t", xlabel="x (days)", ylabel="y (points)")
    html = display.figure_pair(wide, narrow, alt="A flat line of cutoffs")._repr_html_()
    plt.close(wide)
    plt.close(narrow)
    assert html.count("<picture>") == 1 and html.count("<img") == 1
    assert '<source media="(max-width: 40rem)"' in html and html.count("data-text-pt=") == 2


# ------------------------------------------------------------------ family pages (real data)


def test_family_page_lists_every_round_against_each_baseline(cleaned_snapshot):
    from analysis.publish import families

    draws = cleaned_snapshot("ee_rounds_2026-03-05.json").draws
    pool = cleaned_snapshot("ee_rounds_2026-03-05.json").pool
    names = families.families_with_rounds(draws)
    assert names[:2] == ["stem", "healthcare"] and "pnp" not in names
    comparisons = families.comparisons_for(draws, pool, ["healthcare"])
    html, csv = families.render_family(
        draws, comparisons, "healthcare", "Healthcare", {"2026-02"}, "Yes: lower."
    )
    rounds = draws.loc[(draws["family"] == "healthcare") & (draws["date"] >= "2023-06-01")]
    assert html.count('<tr id="round-') == len(rounds)
    assert 'href="../../2026-02/index.html#round-398"' in html
    table = pd.read_csv(io.StringIO(csv), dtype={"Round": str})
    assert len(table) == len(rounds) and "Gap vs pool estimate" in table


@pytest.mark.slow
def test_a_new_round_redraws_only_its_family_page_and_matches_a_full_rebuild(
    tmp_path, cleaned_snapshot
):
    """Family pages are incremental: a new healthcare round redraws the healthcare page (and the
    families index) only, and the site is byte for byte what a build from scratch writes."""
    import copy
    import json
    from types import SimpleNamespace

    from analysis import config
    from analysis.publish import families

    name = "ee_rounds_2026-03-05.json"
    before = cleaned_snapshot(name)
    feed_json = json.loads((config.shared_snapshots_dir() / name).read_bytes())
    template = next(r for r in feed_json["rounds"] if "healthcare" in r["drawName"].lower())
    new = copy.deepcopy(template)
    new.update(
        drawNumber="403",
        drawDate="2026-03-06",
        drawDateFull="March 6, 2026",
        drawDateTime="March 6, 2026 at 14:00:00 UTC",
        drawCRS=str(int(template["drawCRS"]) - 7),
    )
    feed_json["rounds"].insert(0, new)
    after = clean_rounds(load_rounds(json.dumps(feed_json).encode()))

    def inputs(result):
        return SimpleNamespace(draws=result.draws, pool=result.pool)

    incremental, fresh = tmp_path / "incremental", tmp_path / "fresh"
    for site in (incremental, fresh):
        for folder in ("2026-02", "2026-03"):
            (site / folder).mkdir(parents=True)
    assert families.write_families(incremental, inputs(before), "data-1", code="code")
    assert not families.write_families(incremental, inputs(before), "data-1", code="code")

    months = published_months(incremental)
    full, previous = families.families_stamp(incremental, "data-2", months)
    assert set(previous) == set(families.families_with_rounds(before.draws))
    prepared = families.prepare_families(inputs(after), months, full, "code", previous)
    # only the page whose key changed is drawn anew
    assert [f for f, page in prepared.pages.items() if page is not None] == ["healthcare"]
    families.publish_families(incremental, prepared)
    assert families.write_families(fresh, inputs(after), "data-2", code="code")

    def files(site):
        root = site / families.FOLDER
        return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    assert files(incremental) == files(fresh)
    healthcare = (incremental / "families" / "healthcare" / "index.html").read_text()
    assert 'id="round-403"' in healthcare


def test_a_month_page_has_a_contents_list_after_the_how_to_read_box():
    from analysis.publish.month_page import MonthPage
    from analysis.report import narrative

    page = MonthPage()
    page.add(
        "answer", content.Glossary([("Gap", "Category cutoff minus baseline, in CRS points.")])
    )
    for section in ("the-month-in-detail", "the-month-s-rounds", "data-notes"):
        page.add(section, content.Paragraph("Text."))
    html = page.html(
        {"title": "March 2026", "as_of": "2026-03-31", "snapshot": {"file": "f", "sha256": "0"}}
    )
    nav = html[html.index('<nav class="ee-contents"') :]
    nav = nav[: nav.index("</nav>")]
    assert html.index("</aside>") < html.index('<nav class="ee-contents"')
    targets = re.findall(r'href="#([^"]+)"', nav)
    assert targets[0] == "the-month-in-detail" and targets[1] == "the-month-s-rounds"
    assert targets[-1] == "data-notes"
    for target in targets:
        assert f'<h2 id="{target}">' in html
    assert "how-to-read" not in targets
    # the box's facts are as of the month: a 2023 page does not know rounds stopped in 2024
    draws = pd.DataFrame(
        {
            "date": pd.to_datetime(["2023-07-11", "2024-04-23"]),
            "family": ["all_program"] * 2,
            "cutoff": [505, 529],
        }
    )
    july = dict(narrative.glossary(draws, pd.Timestamp("2023-07-31")))
    march = dict(narrative.glossary(draws, pd.Timestamp("2026-03-31")))
    assert "2024" not in july["All-program round"] + july["Baselines"]
    assert "since April 23, 2024" in march["All-program round"]


# ------------------------------------------------------------------ the pages say the same


@pytest.mark.slow
def test_every_page_says_what_the_golden_text_says(published_site):
    """What a reader gets from each page of the fixture site (text, table cells, links, alt
    texts, the figures' PNG bytes) against ``tests/fixtures/pages``: written by the publisher
    before the one-renderer move (nbconvert pages); the deliberate changes since are in their
    git history. Regenerate with ``python tests/page_text.py SITE tests/fixtures/pages`` only
    for a change meant to be seen."""
    from page_text import golden_name, page_text, site_pages

    _, site = published_site
    golden = FEEDS.parent / "pages"
    pages = site_pages(site)
    assert sorted(golden_name(p, site) for p in pages) == sorted(
        p.stem for p in golden.glob("*.txt")
    )
    for page in pages:
        expected = (golden / f"{golden_name(page, site)}.txt").read_text(encoding="utf-8")
        assert page_text(page.read_text(encoding="utf-8")) == expected, page


@pytest.mark.slow
def test_a_month_appearing_beside_a_published_one_rebuilds_only_that_neighbour(
    published_site, monkeypatch, tmp_path
):
    """Previous/next links are rendered with a page: a new month is part of its neighbour's
    inputs, so planning it also plans the month it will stand beside, and nothing else."""
    import shutil

    from analysis.data import load_inputs
    from analysis.pipeline import plan

    env, published = published_site
    # a copy as the fixture built it (other tests of the session rebuild the shared site)
    site = tmp_path / "site"
    shutil.copytree(published, site, symlinks=True)
    data = tmp_path / "data"
    shutil.copytree(env["EE_DATA_DIR"], data, symlinks=True)
    env = {**env, "EE_DATA_DIR": str(data), "EE_REPORTS_DIR": str(site)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    inputs = load_inputs()
    assert [p.reason for p in plan.plan_months(["2023-07", "2023-08"], inputs, site)] == [
        "up to date",
        "up to date",
    ]
    plans = plan.plan_months(["2023-09"], inputs, site)
    assert [(p.month, p.reason) for p in plans] == [
        ("2023-09", "not built yet"),
        ("2023-08", "a neighbouring month changed"),
    ]
    assert plans[1].neighbours == ("2023-07", "2023-09")
    assert plans[1].notebook_parameters["next_month"] == "2023-09"
