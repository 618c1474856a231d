"""What the browser tests share: where Chromium is, how it is started, opening a page with the
network off, and axe-core's verdict. The ``browser`` fixture itself is in ``conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERIOUS = {"serious", "critical"}


def open_offline(browser, url: str, **context_options):
    """Open ``url`` with the network off; return (page, problems list filled by listeners).
    ``context_options`` (``viewport``, ``color_scheme``, ...) are Playwright's: a page opened
    at its final size loads the images meant for that size, with no swap left to wait for."""
    context = browser.new_context(**context_options)
    problems: list[str] = []

    def route(route_request):
        request_url = route_request.request.url
        if request_url.startswith(("file:", "data:")):
            route_request.continue_()
        else:
            problems.append(f"blocked request: {request_url}")
            route_request.abort()

    context.route("**/*", route)
    context.set_offline(True)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "requestfailed",
        lambda request: problems.append(f"failed request: {request.url} {request.failure}"),
    )
    response = page.goto(url, wait_until="load")
    assert response is None or response.ok, f"{url} did not load"
    return page, problems


def decoded_images(page) -> list[dict]:
    """Every image of the page: its alt text and whether it was decoded."""
    return page.evaluate(
        "() => Array.from(document.images,"
        " i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0}))"
    )


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} -> "
        + "; ".join(node["html"][:80] for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in SERIOUS
    ]
