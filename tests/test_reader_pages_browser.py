"""Where a score stands, the pool over time and the data page in headless Chromium with the
network off, drawn from the newest shared snapshot: at 390 px and 1280 px the page never scrolls
sideways (a wide table scrolls in its own box, its first column in view); on a phone the score
and the candidates at or above it lie within the viewport; axe-core finds nothing serious in
the light and the dark scheme."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.publish import data_page, pool_page, score_page
from browsing import CHROMIUM, open_offline, serious_violations

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"{CHROMIUM} not installed"),
]

WIDTHS = {"phone": (390, 844), "desktop": (1280, 800)}
PAGES = ("score/index.html", "pool/index.html", "data/index.html")


@pytest.fixture(scope="module")
def pages(newest_tables, tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("reader-pages")
    draws, pool = newest_tables.draws, newest_tables.pool
    for folder, html in (
        ("score", score_page.render_score_page(draws, pool)[0]),
        ("pool", pool_page.render_pool_page(draws, pool)[0]),
        (
            "data",
            data_page.render_data_page(
                data_page.rounds_table(draws, draws.iloc[0:0].assign(baseline="")),
                data_page.pool_table(pool),
            ),
        ),
    ):
        (site / folder).mkdir()
        (site / folder / "index.html").write_text(html, encoding="utf-8")
    return site


@pytest.mark.parametrize("width", list(WIDTHS))
def test_no_sideways_scroll_and_the_key_numbers_in_view(pages, browser, width):
    for path in PAGES:
        page, problems = open_offline(
            browser,
            (pages / path).as_uri(),
            viewport=dict(zip(("width", "height"), WIDTHS[width], strict=True)),
        )
        try:
            scroll, inner = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert scroll <= inner, f"{path} at {width}: scrollWidth {scroll} > {inner}"
            if path.startswith("score"):
                # every row's score and its candidates lie within the viewport, without scrolling
                outside = page.evaluate(
                    """(inner) => Array.from(document.querySelectorAll('table.ee-table tbody tr'))
                         .flatMap(tr => Array.from(tr.cells).slice(0, 2))
                         .filter(td => { const b = td.getBoundingClientRect();
                                         return b.left < 0 || b.right > inner; })
                         .map(td => td.textContent)""",
                    inner,
                )
                assert outside == [], f"{path} at {width}: cells outside the viewport {outside}"
                rows = page.locator("table.ee-table tbody tr").count()
                assert rows == len(score_page.SCORES)
        finally:
            page.context.close()
        assert problems == [], (path, problems)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious(pages, browser, scheme):
    for path in PAGES:
        page, _ = open_offline(
            browser,
            (pages / path).as_uri(),
            viewport={"width": 390, "height": 844},
            color_scheme=scheme,
        )
        try:
            page.emulate_media(color_scheme=scheme)
            assert serious_violations(page) == [], (path, scheme)
        finally:
            page.context.close()
