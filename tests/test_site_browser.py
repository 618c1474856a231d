"""The published site as a reader meets it, in headless Chromium with the network off, on months
built by the real pipeline from the newest shared snapshot: July 2023 (category rounds while
all-program rounds were still held) and February 2026 (after April 2024: no all-program round).

At 390 px and 1280 px: the page never scrolls sideways; at 1280 px no table is wider than its
column; the answer block is on the first screen; figure text is at least 10 CSS px on a phone;
axe-core finds no serious or critical violation, in the light and the dark scheme; every internal
link and anchor resolves; every CSV download parses and matches its table; in print every column
is kept. (The Atom feed of a built site: test_atom.py.)
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from analysis import config
from browsing import CHROMIUM, open_offline, serious_violations
from helpers import run_ee

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"{CHROMIUM} not installed"),
]

SNAPSHOT = "ee_rounds_2026-03-05.json"
MONTHS = ("2023-07", "2026-02")
WIDTHS = {"phone": (390, 844), "desktop": (1280, 800)}


@pytest.fixture(scope="module")
def real_site(tmp_path_factory) -> Path:
    snapshot = config.shared_snapshots_dir() / SNAPSHOT
    if not snapshot.is_file():
        pytest.skip(f"real snapshot {snapshot} is not available (set EE_SNAPSHOTS)")
    root = tmp_path_factory.mktemp("real-site")
    env = {
        "EE_DATA_DIR": str(root / "data"),
        "EE_REPORTS_DIR": str(root / "site"),
        "EE_FEED": str(snapshot),
    }
    for number, month in enumerate(MONTHS):
        args = ["report", "--month", month] + (["--no-fetch"] if number else [])
        result = run_ee(*args, env=env, timeout=900)
        assert result.returncode == 0, result.stdout + result.stderr
    return root / "site"


def _open(browser, url: str, size: tuple[int, int], scheme: str = "light", media: str = "screen"):
    viewport = {"width": size[0], "height": size[1]}
    page, problems = open_offline(browser, url, viewport=viewport, color_scheme=scheme)
    page.emulate_media(color_scheme=scheme, media=media)
    return page, problems


def _pages(site: Path) -> list[str]:
    return [
        *(f"{m}/index.html" for m in MONTHS),
        "index.html",
        "families/index.html",
        "families/stem/index.html",
        "families/healthcare/index.html",
        "data-quality/index.html",
    ]


@pytest.mark.parametrize("width", list(WIDTHS))
def test_no_page_scrolls_sideways_and_tables_fit_on_a_desktop(real_site, browser, width):
    for path in _pages(real_site):
        page, problems = _open(browser, (real_site / path).as_uri(), WIDTHS[width])
        try:
            scroll, inner = page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert scroll <= inner, f"{path} at {width}: scrollWidth {scroll} > {inner}"
            if width == "desktop":
                too_wide = page.evaluate(
                    """() => Array.from(document.querySelectorAll('.ee-table-scroll'))
                         .filter(box => box.scrollWidth > box.clientWidth + 1)
                         .map(box => box.querySelector('caption').textContent)"""
                )
                assert too_wide == [], f"{path}: tables wider than their column: {too_wide}"
            else:
                # a wide table may scroll in its own box: its first column stays in view
                sticky = page.evaluate(
                    """() => Array.from(document.querySelectorAll('table.ee-table td:first-child'))
                         .every(td => getComputedStyle(td).position === 'sticky')"""
                )
                assert sticky, path
        finally:
            page.context.close()
        assert problems == [], (path, problems)


@pytest.mark.parametrize("month", MONTHS)
@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_answer_is_on_the_first_screen(real_site, browser, month, width):
    size = WIDTHS[width]
    page, _ = _open(browser, (real_site / month / "index.html").as_uri(), size)
    try:
        box = page.evaluate(
            """() => { const r = document.querySelector('.ee-answers .ee-answer')
                                          .getBoundingClientRect();
                       return [r.top, r.bottom]; }"""
        )
        first_table = page.evaluate(
            "() => document.querySelector('table').getBoundingClientRect().top"
        )
    finally:
        page.context.close()
    assert box[0] < size[1], f"the answer starts below the first screen ({box[0]} px)"
    if width == "desktop":
        assert box[1] <= size[1], f"the first answer block ends at {box[1]} px"
    assert box[1] < first_table  # before any table


#: The tallest a month may be on a desktop (issue 16: each result stated once; IRCC's revisions
#: counted in a sentence, the data notes a short list, the details in the downloads).
MONTH_HEIGHT = 6000


@pytest.mark.parametrize("month", MONTHS)
def test_a_month_is_at_most_6000_px_tall_on_a_desktop(real_site, browser, month):
    page, _ = _open(browser, (real_site / month / "index.html").as_uri(), WIDTHS["desktop"])
    try:
        height = page.evaluate("document.documentElement.scrollHeight")
        revisions = page.evaluate(
            "() => document.querySelector('#revisions-and-data-quality ~ p.ee-count').textContent"
        )
    finally:
        page.context.close()
    assert height <= MONTH_HEIGHT, f"{month} is {height} px tall at 1280 px"
    assert revisions.startswith("IRCC changed ")  # counted in one line, not listed


#: The cells a reader comes for (issue 16): their column names contain one of these words.
KEY_COLUMNS = ("cutoff", "invitations", "gap", "verdict")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_key_numbers_lie_within_a_phone_screen(real_site, browser, scheme):
    """At 390 px every table is stacked: each cutoff, invitations, gap and verdict cell lies
    inside the viewport (no sideways scrolling to reach it), under its column's name."""
    size = WIDTHS["phone"]
    for path in (*(f"{m}/index.html" for m in MONTHS), "index.html", "families/stem/index.html"):
        page, _ = _open(browser, (real_site / path).as_uri(), size, scheme)
        try:
            cells = page.evaluate(
                """(keys) => Array.from(document.querySelectorAll('table.ee-table td'))
                     .filter(td => keys.some(k => (td.dataset.label || '').toLowerCase()
                                                    .includes(k)))
                     .map(td => { const r = td.getBoundingClientRect();
                                  return [td.dataset.label, td.textContent, r.left, r.right,
                                          getComputedStyle(td, '::before').content]; })""",
                list(KEY_COLUMNS),
            )
        finally:
            page.context.close()
        assert cells, f"{path}: no cutoff, invitations, gap or verdict cell"
        outside = [c for c in cells if c[2] < 0 or c[3] > size[0]]
        assert outside == [], f"{path}: key cells outside the {size[0]} px screen: {outside[:5]}"
        unlabelled = [c for c in cells if c[4] != f'"{c[0]}"']
        assert unlabelled == [], (
            f"{path}: cells shown without their column's name: {unlabelled[:3]}"
        )


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_index_says_where_things_stand_and_what_a_general_round_needs(
    real_site, browser, width
):
    page, _ = _open(browser, (real_site / "index.html").as_uri(), WIDTHS[width])
    try:
        standing_top = page.evaluate(
            "() => document.getElementById('standing').getBoundingClientRect().top"
        )
        families = page.evaluate(
            """() => Array.from(document.querySelectorAll('#standing + .ee-table-wrap tbody tr'))
                 .map(tr => tr.querySelector('td').textContent)"""
        )
        today = page.evaluate(
            """() => Array.from(document.querySelectorAll('#today ~ .ee-table-wrap tbody tr'))
                 .map(tr => Array.from(tr.querySelectorAll('td')).map(td => td.textContent))"""
        )
        figure = page.evaluate("() => document.querySelectorAll('figure.ee-spark polyline').length")
    finally:
        page.context.close()
    assert standing_top < WIDTHS[width][1]  # on the first screen
    assert families[:2] == ["STEM", "Healthcare"] and len(families) > 2
    assert [row[0] for row in today] == [
        "1,000 invitations",
        "3,000 invitations",
        "5,000 invitations",
    ]
    cutoffs = [int(row[1]) for row in today]
    assert cutoffs == sorted(cutoffs, reverse=True)
    assert figure == 3


@pytest.mark.parametrize("month", MONTHS)
def test_figure_text_is_legible_on_a_phone(real_site, browser, month):
    page, _ = _open(browser, (real_site / month / "index.html").as_uri(), WIDTHS["phone"])
    try:
        sizes = page.evaluate(
            """() => Array.from(document.querySelectorAll('figure picture')).map(p => {
                 const img = p.querySelector('img'), source = p.querySelector('source');
                 const points = img.currentSrc === source.srcset
                     ? Number(source.dataset.textPt) : Number(img.dataset.textPt);
                 // PNGs are drawn at 144 px per inch: pt / 72 * 144 image px, then scaled
                 return points / 72 * 144 * img.clientWidth / img.naturalWidth; })"""
        )
        phone_images = page.evaluate(
            """() => Array.from(document.querySelectorAll('figure picture'))
                 .filter(p => p.querySelector('img').currentSrc
                              === p.querySelector('source').srcset).length"""
        )
    finally:
        page.context.close()
    # one figure since issue 16 (the month's cutoffs; its gaps are the comparison table's,
    # invitations and the pool have their own pages)
    assert len(sizes) == 1 and phone_images == 1
    assert min(sizes) >= 10, sizes


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_in_either_colour_scheme(real_site, browser, scheme):
    for path in _pages(real_site):
        for width in WIDTHS.values():
            page, problems = _open(browser, (real_site / path).as_uri(), width, scheme)
            try:
                assert serious_violations(page) == [], (path, width, scheme)
            finally:
                page.context.close()


def test_every_internal_link_and_anchor_resolves(real_site, browser):
    checked = 0
    ids: dict[Path, set[str]] = {}

    def ids_of(path: Path) -> set[str]:
        if path not in ids:
            ids[path] = set(re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf-8")))
        return ids[path]

    for path in [
        *_pages(real_site),
        *(
            f"families/{f.name}/index.html"
            for f in (real_site / "families").iterdir()
            if f.is_dir()
        ),
    ]:
        page_file = real_site / path
        page, _ = _open(browser, page_file.as_uri(), WIDTHS["desktop"])
        try:
            hrefs = page.evaluate(
                "() => Array.from(document.querySelectorAll('a[href]'), a => a.href)"
            )
        finally:
            page.context.close()
        for href in hrefs:
            parts = urlsplit(href)
            if parts.scheme != "file":
                assert parts.scheme == "https", href  # the only other links: IRCC's pages
                continue
            target = Path(unquote(parts.path))
            assert target.is_file(), f"{path}: link to a missing file {href}"
            if parts.fragment:
                assert unquote(parts.fragment) in ids_of(target), f"{path}: no anchor {href}"
            checked += 1
    assert checked > 100


def _table_cells(page, link_href: str) -> list[list[str]]:
    return page.evaluate(
        """href => { const link = Array.from(document.querySelectorAll('.ee-download a'))
                       .find(a => a.getAttribute('href') === href);
                     const table = link.closest('.ee-table-wrap').querySelector('table');
                     return Array.from(table.tBodies[0].rows,
                                       r => Array.from(r.cells, c => c.textContent.trim())); }""",
        link_href,
    )


def _normal(value: str) -> str:
    value = value.strip().replace("\u2212", "-")
    if value in ("–", ""):
        return ""
    plain = value.replace(",", "")
    try:
        number = float(plain)
    except ValueError:
        return value
    return f"{number:.1f}"


def test_every_csv_download_parses_and_matches_its_table(real_site, browser):
    downloads = 0
    for path in _pages(real_site):
        page_file = real_site / path
        page, _ = _open(browser, page_file.as_uri(), WIDTHS["desktop"])
        try:
            links = page.evaluate(
                "() => Array.from(document.querySelectorAll('.ee-download a'),"
                " a => a.getAttribute('href'))"
            )
            for href in links:
                rows = list(csv.reader(io.StringIO((page_file.parent / href).read_text())))
                header, body = rows[0], rows[1:]
                shown = _table_cells(page, href)
                assert len(body) == len(shown), (path, href)
                for csv_row, shown_row in zip(body, shown, strict=True):
                    assert len(csv_row) == len(header)
                    assert _normal(csv_row[0]) == _normal(shown_row[0]), (path, href)
                    have = {_normal(v) for v in csv_row}
                    missing = [v for v in shown_row if _normal(v) not in have]
                    assert missing == [], (path, href, shown_row, csv_row)
                downloads += 1
            # tables offered as a download only, counted in a sentence (revisions, data notes)
            counted = page.evaluate(
                "() => Array.from(document.querySelectorAll('p.ee-count a'),"
                " a => a.getAttribute('href'))"
            )
            for href in counted:
                rows = list(csv.reader(io.StringIO((page_file.parent / href).read_text())))
                assert len(rows) >= 2 and {len(r) for r in rows} == {len(rows[0])}, (path, href)
                downloads += 1
        finally:
            page.context.close()
    assert downloads >= 10


def test_print_keeps_every_column(real_site, browser):
    page, _ = _open(
        browser, (real_site / "2026-02" / "index.html").as_uri(), (794, 1123), media="print"
    )
    try:
        hidden = page.evaluate(
            """() => Array.from(document.querySelectorAll('table th, table td'))
                 .filter(c => getComputedStyle(c).display === 'none'
                              || c.getBoundingClientRect().right > window.innerWidth).length"""
        )
        scrolling = page.evaluate(
            """() => Array.from(document.querySelectorAll('.ee-table-scroll'))
                 .filter(b => getComputedStyle(b).overflowX !== 'visible').length"""
        )
    finally:
        page.context.close()
    assert hidden == 0 and scrolling == 0


def test_months_link_to_their_neighbours(real_site):
    july = (real_site / "2023-07" / "index.html").read_text()
    february = (real_site / "2026-02" / "index.html").read_text()
    assert 'rel="next" href="../2026-02/index.html"' in july
    assert 'rel="prev" href="../2023-07/index.html"' in february
    assert 'href="#round-' not in july or 'id="round-254"' in july
    assert 'id="round-254"' in july  # every round row can be linked
