"""Published pages in a real browser, offline: no errors, no requests, images decoded, axe clean.

Builds a small site with the publishing functions (the fixture notebook, executed in the venv's
python3 kernel, writes a month's page), opens it from file:// in headless Chromium (Debian's
/usr/bin/chromium) with every non-file request aborted and recorded, and runs axe-core (bundled
by axe-playwright-python).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pytest

from analysis.publish import content, families, quality_page, render, swap
from browsing import CHROMIUM, decoded_images, open_offline, serious_violations
from helpers import SAMPLE_NOTEBOOK as SAMPLE
from helpers import execute_notebook

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.is_file(), reason=f"{CHROMIUM} not installed (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """index + two months + a data-quality page + the category list, published with
    publish_dir."""
    work = tmp_path_factory.mktemp("work")
    executed = execute_notebook(SAMPLE, work)
    sections = content.sections(quality_page.SECTIONS)
    sections[0].blocks.append(
        content.Table(
            pd.DataFrame({"Check": ["Every subtotal of the pool distribution adds up."]}),
            caption="Checks",
        )
    )
    quality = render.render_page(
        quality_page.TEMPLATE,
        title="Data quality",
        nav=render.site_nav("../"),
        sections=sections,
        section={s.id: s for s in sections},
    )

    def build(folder: Path) -> None:
        for month, headline in [("2026-02", "Two STEM draws"), ("2026-03", "No all-program draw")]:
            shutil.copytree(work / "page", folder / month)
            (folder / month / "summary.json").write_text(json.dumps({"headline": headline}))
            shutil.copy(executed, folder / month / "report.ipynb")
        (folder / "data-quality").mkdir()
        (folder / "data-quality" / "index.html").write_text(quality, encoding="utf-8")
        (folder / "families").mkdir()
        (folder / "families" / "index.html").write_text(families.render_families_index([]))
        (folder / "feed.xml").write_text("<feed/>")
        index = render.render_index(
            render.read_months(folder), "Express Entry draws", "data-quality/index.html"
        )
        (folder / "index.html").write_text(index, encoding="utf-8")

    return swap.publish_dir(build, tmp_path_factory.mktemp("published") / "site")


@pytest.mark.parametrize(
    "page_path", ["index.html", "2026-03/index.html", "data-quality/index.html"]
)
def test_page_is_clean_offline(site, browser, page_path):
    page, problems = open_offline(browser, (site / page_path).as_uri())
    try:
        images = decoded_images(page)
        assert all(image["ok"] for image in images), images
        assert all(image["alt"].strip() for image in images), images
        if page_path.startswith("2026-03"):
            assert len(images) == 1
        assert page.evaluate("() => document.scripts.length") == 0
        assert page.evaluate("() => document.documentElement.lang") == "en"
        assert page.title()
        assert page.locator("main").count() == 1 and page.locator("h1").count() == 1
        assert serious_violations(page) == []
        assert problems == []
    finally:
        page.context.close()


def test_every_relative_link_resolves_to_a_published_file(site, browser):
    page, problems = open_offline(browser, (site / "index.html").as_uri())
    try:
        targets = page.evaluate("() => Array.from(document.links, a => a.href)")
        page.goto((site / "2026-03" / "index.html").as_uri())
        targets += page.evaluate("() => Array.from(document.links, a => a.href)")
    finally:
        page.context.close()
    files = {urlsplit(target).path for target in targets if target.startswith("file:")}
    assert {site / "2026-03/index.html", site / "2026-02/index.html", site / "index.html"} <= {
        Path(path) for path in files
    }
    assert [path for path in files if not Path(path).is_file()] == []
    assert {target for target in targets if not target.startswith("file:")} <= {
        render.IRCC_ROUNDS_PAGE  # the source's page: a link, never a load
    }
    assert problems == []


def test_month_page_shows_escaped_markup_as_text(site, browser):
    page, problems = open_offline(browser, (site / "2026-03" / "index.html").as_uri())
    try:
        text = page.locator("main").inner_text()
        assert "<script>alert(1)</script>" in text  # visible as text, never run
        assert "<img src=x onerror=alert(1)>" in text
        assert page.locator("main table caption").inner_text() == "Rounds in <b>2026-03</b>"
        assert page.evaluate("() => document.querySelectorAll('[onerror]').length") == 0
    finally:
        page.context.close()
    assert problems == []


def test_the_checks_catch_a_bad_page(tmp_path, browser):
    """The harness is not vacuous: a page breaking the rules is caught on every count."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!DOCTYPE html><html><head><title>bad</title></head><body>"
        '<img src="https://example.invalid/chart.png">'
        '<p style="color:#bbb;background:#fff">low contrast</p>'
        "<script>console.error('boom')</script></body></html>"
    )
    page, problems = open_offline(browser, bad.as_uri())
    try:
        violations = serious_violations(page)
        broken = page.evaluate(
            "() => Array.from(document.images).filter(i => !i.naturalWidth).length"
        )
    finally:
        page.context.close()
    assert any(item.startswith("blocked request: https://example.invalid/") for item in problems)
    assert "console error: boom" in problems
    assert broken == 1
    assert {violation.split(" ")[0] for violation in violations} >= {"image-alt", "color-contrast"}


# ------------------------------------------------------------------ the real pipeline's pages


@pytest.mark.slow
@pytest.mark.parametrize(
    "page_path",
    ["index.html", "2023-07/index.html", "2023-08/index.html", "data-quality/index.html"],
)
def test_published_report_is_clean_offline(published_site, browser, page_path):
    """The site `ee reports` publishes from a fixture feed with markup in it."""
    _, site = published_site
    page, problems = open_offline(browser, (site / page_path).as_uri())
    try:
        images = decoded_images(page)
        assert all(image["ok"] for image in images), images
        assert all(len(image["alt"].strip()) > 20 for image in images), images
        if page_path.startswith("20"):
            assert len(images) == 1  # the month's cutoffs (one figure since issue 16)
            text = page.locator("main").inner_text()
            assert "IRCC held" in text.split("\n", 3)[1] or "IRCC held" in text[:400]
        assert page.evaluate("() => document.scripts.length") == 0
        assert page.evaluate("() => document.querySelectorAll('[onerror]').length") == 0
        assert serious_violations(page) == []
        assert problems == []
    finally:
        page.context.close()


@pytest.mark.slow
def test_feed_markup_shows_as_text_in_the_report(published_site, browser):
    _, site = published_site
    page, problems = open_offline(browser, (site / "2023-07" / "index.html").as_uri())
    try:
        assert (
            "Healthcare occupations <img src=x onerror=alert(1)> (Version 1)"
            in page.locator("main").inner_text()
        )
    finally:
        page.context.close()
    assert problems == []
