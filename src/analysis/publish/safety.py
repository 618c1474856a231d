"""The checks every page passes before it is published: no script or active markup, nothing
loaded from another host, alt text on every image, and notebook outputs that only
:mod:`analysis.publish.display` made (every value escaped).

>>> external_references('<img src="https://example.org/x.png" alt="x">')
['img src: https://example.org/x.png']
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from analysis.errors import ReportError
from analysis.publish.trust import TRUSTED_OUTPUT

if TYPE_CHECKING:  # nbformat and nbconvert take ~1 s to import: only when a page is exported
    from nbformat import NotebookNode


#: The alt text nbconvert puts on images that have none: treated as missing.
NBCONVERT_PLACEHOLDER_ALT = "No description has been provided for this image"

#: Cell tags honoured when exporting (as in Jupyter Book / nbconvert conventions).
REMOVE_CELL_TAG = "remove-cell"

REMOVE_OUTPUT_TAG = "remove-output"

# Output types that need scripts to show, or are not shown by our template at all.
_SCRIPT_MIMETYPES = (
    "application/javascript",
    "application/vnd.jupyter.widget-view+json",
    "text/vnd.mermaid",
)

_HTML_MIMETYPES = ("text/html", "text/markdown")

_IMAGE_MIMETYPES = ("image/png", "image/jpeg", "image/svg+xml", "application/pdf")

_FETCHING_SCHEMES = {"http", "https", "ftp", "ws", "wss", "file"}

_SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:text/html")

_FORBIDDEN_TAGS = (
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form",
    "portal",
)  # fmt: skip

# Attributes whose URL the browser fetches without a click (besides <link href> and CSS).
_FETCH_ATTRIBUTES = ("src", "srcset", "poster", "data", "background", "lowsrc", "imagesrcset")

_URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "data", "poster")

_CSS_URL = re.compile(r"""url\(\s*(['"]?)(.*?)\1\s*\)""", re.IGNORECASE | re.DOTALL)

_CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*['"]?([^'")\s;]+)""", re.IGNORECASE)


def _soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, features="html.parser")


def _is_other_host(url: str) -> bool:
    """True for URLs that point at another host (or the local file system by absolute URL)."""
    url = url.strip()
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme.lower() in _FETCHING_SCHEMES or (not parts.scheme and bool(parts.netloc))


def _srcset_urls(value: str) -> list[str]:
    return [item.split()[0] for item in value.split(",") if item.strip()]


def _css_urls(css: str) -> list[str]:
    urls = [match[1] for match in _CSS_URL.findall(css)] + _CSS_IMPORT.findall(css)
    return list(dict.fromkeys(urls))  # @import url(...) matches both patterns


def external_references(html: str) -> list[str]:
    """Everything in ``html`` the browser would fetch from another host when opening it.

    Looks at ``src``/``srcset``/``poster``/``data``-like attributes, ``<link href>``, CSS
    ``@import`` and ``url(...)`` (in ``<style>`` and ``style=""``), ``<meta http-equiv=refresh>``
    and ``<base href>``. Plain ``<a href>`` hyperlinks are navigation, not loads: see
    :func:`external_links`. ``data:`` URIs and relative URLs are fine.

    >>> external_references('<link rel="stylesheet" href="//cdn.example/x.css">'
    ...                     '<style>@import url("https://fonts.example/f.css");</style>'
    ...                     '<img src="data:image/png;base64,AAAA" alt="ok">')
    ['link href: //cdn.example/x.css', 'style @import/url(): https://fonts.example/f.css']
    """
    found: list[str] = []
    soup = _soup(html)
    for tag in soup.find_all(True):
        for attribute in _FETCH_ATTRIBUTES:
            value = tag.get(attribute)
            if value is None:
                continue
            urls = _srcset_urls(value) if attribute.endswith("srcset") else [value]
            found += [f"{tag.name} {attribute}: {url}" for url in urls if _is_other_host(url)]
        if tag.name in ("link", "base", "image", "use", "feimage"):
            for attribute in ("href", "xlink:href"):
                value = tag.get(attribute)
                if value is not None and _is_other_host(value):
                    found.append(f"{tag.name} {attribute}: {value}")
        if tag.name == "meta" and str(tag.get("http-equiv", "")).lower() == "refresh":
            target = str(tag.get("content", "")).partition("url=")[2]
            if _is_other_host(target):
                found.append(f"meta refresh: {target}")
        if tag.get("style"):
            found += [
                f"{tag.name} style url(): {url}"
                for url in _css_urls(tag["style"])
                if _is_other_host(url)
            ]
    for style in soup.find_all("style"):
        found += [
            f"style @import/url(): {url}"
            for url in _css_urls(style.get_text())
            if _is_other_host(url)
        ]
    return found


def external_links(html: str) -> list[str]:
    """Hyperlinks (``<a href>``) in ``html`` to other hosts: allowed, but worth listing.

    >>> external_links('<a href="https://www.canada.ca/x">IRCC</a> <a href="../index.html">up</a>')
    ['https://www.canada.ca/x']
    """
    return [a["href"] for a in _soup(html).find_all("a", href=True) if _is_other_host(a["href"])]


def unsafe_markup(html: str) -> list[str]:
    """Markup in ``html`` that could run code or send the reader elsewhere unasked.

    Reports ``<script>``, frames, ``<object>``/``<embed>``, ``<base>``, ``<form>``, any ``on...=``
    event-handler attribute, ``srcdoc``, and ``javascript:``/``vbscript:``/``data:text/html``
    URLs. Escaped text (``&lt;script&gt;``) is text, not markup, and is not reported.

    >>> unsafe_markup('<p>&lt;script&gt;</p><img src=x onerror=alert(1) alt="a">')
    ['img onerror= attribute']
    """
    found: list[str] = []
    for tag in _soup(html).find_all(True):
        if tag.name in _FORBIDDEN_TAGS:
            found.append(f"<{tag.name}> element: {_snippet(str(tag))}")
        for attribute, value in tag.attrs.items():
            name = attribute.lower()
            if name.startswith("on"):
                found.append(f"{tag.name} {name}= attribute")
            elif name == "srcdoc":
                found.append(f"{tag.name} srcdoc= attribute")
            elif name in _URL_ATTRIBUTES and isinstance(value, str):
                squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
                if squeezed.startswith(_SCRIPT_SCHEMES):
                    found.append(f"{tag.name} {name}: {_snippet(value)}")
    return found


def images_without_alt(html: str) -> list[str]:
    """``<img>`` elements with no alt text (missing, blank, or nbconvert's placeholder).

    >>> images_without_alt('<img src="a.png" alt="Cutoffs by month"><img src="b.png">')
    ['<img src="b.png"/>']
    """
    missing = []
    for img in _soup(html).find_all("img"):
        alt = (img.get("alt") or "").strip()
        if not alt or alt == NBCONVERT_PLACEHOLDER_ALT:
            missing.append(_snippet(str(img)))
    return missing


def check_page(html: str) -> None:
    """Raise :class:`ReportError` unless ``html`` is safe and self-contained.

    Safe: :func:`unsafe_markup` finds nothing. Self-contained: :func:`external_references` finds
    nothing and every ``<img>`` is inline (``data:``). Accessible: every ``<img>`` has alt text,
    the page declares ``lang`` and has a ``<title>``.

    >>> check_page('<!DOCTYPE html><html lang="en"><title>t</title><p>ok</p></html>')
    >>> check_page('<html lang="en"><title>t</title><script>x()</script></html>')
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    analysis.errors.ReportError: page refused: script or active markup: <script> element: ...
    """
    problems = [f"script or active markup: {item}" for item in unsafe_markup(html)]
    problems += [f"loads from another host: {item}" for item in external_references(html)]
    problems += [f"image without alt text: {item}" for item in images_without_alt(html)]
    soup = _soup(html)
    problems += [
        f"image not inline (not self-contained): {_snippet(str(img))}"
        for img in soup.find_all("img")
        if not str(img.get("src", "")).strip().lower().startswith("data:")
    ]
    root = soup.find("html")
    if root is None or not root.get("lang"):
        problems.append('no <html lang="..."> declaration')
    if soup.find("title") is None or not soup.find("title").get_text(strip=True):
        problems.append("no <title>")
    if problems:
        raise ReportError("page refused: " + "; ".join(problems))


def _snippet(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell_name(number: int, cell: NotebookNode) -> str:
    first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
    return f"cell {number} ({_snippet(first_line, 60)!r})"


def check_outputs(nb: NotebookNode) -> None:
    """Raise :class:`ReportError` naming every cell whose outputs must not be published.

    Refused: errors (tracebacks); outputs that need scripts (JavaScript, widgets, mermaid);
    HTML or Markdown outputs not made by :mod:`analysis.publish.display` (a bare DataFrame or
    Styler, ``IPython.display.HTML``...: they may carry unescaped feed text); images without alt
    text (a matplotlib figure left open instead of ``display.show(fig, alt=...)``). Cells tagged
    ``remove-cell`` or ``remove-output`` are not shown, so not checked.

    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("df", outputs=[
    ...     nbformat.v4.new_output("execute_result", data={"text/html": "<table></table>"})])])
    >>> check_outputs(nb)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    analysis.errors.ReportError: notebook refused: cell 1 ('df'): HTML output not made by ...
    """
    problems = []
    for number, cell in enumerate(nb.cells, start=1):
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type != "code" or {REMOVE_CELL_TAG, REMOVE_OUTPUT_TAG} & set(tags):
            continue  # not shown on the page
        for output in cell.get("outputs", []):
            where = _cell_name(number, cell)
            if output.output_type == "error":
                problems.append(f"{where}: raised {output.ename}: {_snippet(output.evalue)}")
                continue
            data = output.get("data", {})
            trusted = TRUSTED_OUTPUT in output.get("metadata", {})
            if any(mime in data for mime in _SCRIPT_MIMETYPES):
                problems.append(f"{where}: output needs JavaScript ({', '.join(data)})")
            elif any(mime in data for mime in _HTML_MIMETYPES) and not trusted:
                problems.append(
                    f"{where}: HTML output not made by analysis.publish.display (show tables with "
                    "display.show_table, sentences with display.show_html / show_text)"
                )
            elif any(mime in data for mime in _IMAGE_MIMETYPES) and not trusted:
                problems.append(
                    f"{where}: image without alt text (a figure left open?): "
                    "use display.show(fig, alt=...)"
                )
    if problems:
        raise ReportError("notebook refused: " + "; ".join(problems))
