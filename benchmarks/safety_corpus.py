"""On-demand check that the safety corpus is real: every payload the page check refuses for
running script or loading from another host does so in headless Chromium with the check and the
policy off. Not part of the test suite (no change to our code can fail it); run it when the
corpus grows or Chromium changes:

    .venv/bin/python benchmarks/safety_corpus.py

Needs Chromium at /usr/bin/chromium and Playwright. Exits 1 naming every payload that did not
act as its list says.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from test_safety_corpus import LOADS, RUNS, page  # noqa: E402

from browsing import CHROMIUM, CHROMIUM_ARGS  # noqa: E402


def effects_in_chromium(browser, html: str, folder: Path) -> set[str]:
    """Open ``html`` from file:// and report what happened: ``ran`` (a dialog opened) and
    ``loaded <url>`` (a request to another host, aborted)."""
    path = folder / "page.html"
    path.write_text(html, encoding="utf-8")
    context = browser.new_context()
    effects: set[str] = set()
    try:
        tab = context.new_page()
        tab.on("dialog", lambda dialog: (effects.add("ran"), dialog.dismiss()))

        def route(request_route):
            url = request_route.request.url
            if url.startswith(("file:", "data:", "about:")):
                request_route.continue_()
            else:
                effects.add(f"loaded {url}")
                request_route.abort()

        tab.route("**/*", route)
        tab.goto(path.as_uri(), wait_until="load", timeout=10_000)
        tab.wait_for_timeout(500)
        if tab.locator("#go").count():
            tab.locator("#go").first.click(timeout=2_000, force=True)
            tab.wait_for_timeout(500)
    finally:
        context.close()
    return effects


def main() -> int:
    from playwright.sync_api import sync_playwright

    failures = []
    with (
        tempfile.TemporaryDirectory() as folder,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        for name, payload in RUNS.items():
            if "ran" not in effects_in_chromium(browser, page(payload, policy=False), Path(folder)):
                failures.append(f"does not run: {name}")
        for name, payload in LOADS.items():
            effects = effects_in_chromium(browser, page(payload, policy=False), Path(folder))
            if not any(e.startswith("loaded https://evil.example/") for e in effects):
                failures.append(f"does not load: {name}")
        browser.close()
    total = len(RUNS) + len(LOADS)
    print(f"{total - len(failures)} of {total} payloads act in Chromium with the check off")
    for failure in failures:
        print(f"  - {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
