"""The checks every page passes before it is published: no script or active markup, nothing
loaded from another host, alt text on every image, and notebook outputs that only
:mod:`analysis.publish.display` made (every value escaped).

A page is read as browsers read it, then refused if anything in it can run code or load from
another host.

Patterns over the page's text, or a lenient parser, are not enough: browsers end a comment at
``<!-->``, read ``<![CDATA[`` as a comment in HTML, end ``<textarea>``, ``<title>``, ``<style>``,
``<xmp>``, ``<noscript>`` (when scripts run) and other raw-text elements inside what looked like
an attribute, and leave ``<img>`` inside ``<select>`` (Chromium since 2025). So the page is parsed
by HTML5 parsers that follow the WHATWG specification, and every element any of them builds is
checked:

- html5lib, twice: as a browser with scripting on (``<noscript>`` content is raw text) and off;
- Lexbor (through selectolax), which follows the current specification (``<select>`` content).

A page passes only when no parse finds anything. Refused: script-running elements (``<script>``,
frames, ``<object>``/``<embed>``, ``<base>``, ``<form>``, SVG ``<set>``/``<animate*>``...),
``<meta http-equiv=refresh>``, any ``on...=`` attribute, ``srcdoc``, and a ``javascript:``,
``vbscript:`` or ``data:`` URL in any attribute that is not plain text (``alt``, ``title``...),
except ``data:`` images (and CSV, JSON or plain-text downloads) that run nothing. CSS (``<style>``
and ``style=""``) is read with tinycss2, so escapes such as ``\\75rl(`` cannot hide a ``url()``.

>>> unsafe_markup('<textarea><p title="</textarea><img src=x onerror=alert(1)>"></textarea>')
['img onerror= attribute']
>>> unsafe_markup("<p>&lt;script&gt; is text</p>")
[]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import html5lib
import tinycss2
from selectolax.lexbor import LexborHTMLParser

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
_SCRIPT_SCHEMES = ("javascript:", "vbscript:", "livescript:", "mocha:")
#: Elements that run code, embed other documents, or change where the page's links point.
_FORBIDDEN_TAGS = (
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form",
    "portal", "fencedframe",
    # SVG animation sets any attribute (an href to javascript:, an event handler) at run time
    "set", "animate", "animatemotion", "animatetransform", "animatecolor", "discard",
    "handler", "listener",
)  # fmt: skip
#: Attributes whose value is text for people, never a URL: a "javascript:" there runs nothing.
_TEXT_ATTRIBUTES = {
    "alt", "title", "aria-label", "aria-description", "aria-roledescription", "placeholder",
    "label", "summary", "abbr", "class", "id", "lang", "xml:lang", "dir", "role", "name",
    "content", "datetime", "headers", "scope", "style",
}  # fmt: skip
#: data: media types that run nothing wherever they are used.
_INERT_DATA = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "text/csv",
               "text/plain", "application/json")  # fmt: skip
#: Where an SVG image inside data: is only an image (no script runs in an <img>).
_IMAGE_ONLY = {("img", "src"), ("img", "srcset"), ("source", "srcset")}
# Attributes whose URL the browser fetches without a click (besides <link href> and CSS).
_FETCH_ATTRIBUTES = ("src", "srcset", "poster", "data", "background", "lowsrc", "imagesrcset",
                     "ping", "manifest", "codebase", "archive", "dynsrc")  # fmt: skip
_HREF_LOADS = ("link", "base", "image", "use", "feimage", "script", "tref", "mpath", "pattern",
               "filter", "lineargradient", "radialgradient", "textpath", "cursor")  # fmt: skip
_CSS_ACTIVE_FUNCTIONS = {"expression", "javascript"}
_CSS_ACTIVE_PROPERTIES = {"behavior", "-moz-binding"}
_XML_NAMESPACES = {
    "http://www.w3.org/1999/xlink": "xlink",
    "http://www.w3.org/XML/1998/namespace": "xml",
    "http://www.w3.org/2000/xmlns/": "xmlns",
}


@dataclass(frozen=True)
class Element:
    """One element as a parser built it: local tag name (lower case), attributes in order
    (namespaced ones as ``xlink:href``), and the text of a ``<style>`` or ``<title>``."""

    tag: str
    attrs: tuple[tuple[str, str], ...]
    text: str = ""

    def get(self, name: str, default: str | None = None) -> str | None:
        return next((v for k, v in self.attrs if k == name), default)

    def __str__(self) -> str:
        shown = "".join(f' {k}="{v}"' for k, v in self.attrs)
        return f"<{self.tag}{shown}>"


#: Elements whose text is kept (CSS to check, a title to find).
_TEXT_OF = ("style", "title")


def _local(name: str) -> str:
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        prefix = _XML_NAMESPACES.get(namespace)
        return f"{prefix}:{local}" if prefix else local
    return name


def _html5lib_elements(html: str, scripting: bool) -> list[Element]:
    document = html5lib.parse(
        html, treebuilder="etree", namespaceHTMLElements=False, scripting=scripting
    )
    return [
        Element(
            _local(node.tag).lower(),
            tuple((_local(k).lower(), v or "") for k, v in node.attrib.items()),
            "".join(node.itertext()) if _local(node.tag).lower() in _TEXT_OF else "",
        )
        for node in document.iter()
        if isinstance(node.tag, str)
    ]


def _lexbor_elements(html: str) -> list[Element]:
    root = LexborHTMLParser(html).root
    if root is None:
        return []
    return [
        Element(
            node.tag.lower(),
            tuple((k.lower(), v or "") for k, v in node.attributes.items()),
            node.text(deep=True) if node.tag.lower() in _TEXT_OF else "",
        )
        for node in root.traverse(include_text=False)
        if node.tag and node.tag[0] not in "-#"
    ]


@lru_cache(maxsize=4)  # a page is checked by several functions in a row
def _parses(html: str) -> tuple[tuple[Element, ...], ...]:
    """The page as browsers build it: html5lib with scripting on and off, and Lexbor. The first
    parse is the one a reader's browser (scripts on) makes."""
    return (
        tuple(_html5lib_elements(html, scripting=True)),
        tuple(_html5lib_elements(html, scripting=False)),
        tuple(_lexbor_elements(html)),
    )


def parse_elements(html: str) -> tuple[tuple[Element, ...], ...]:
    """Every element of ``html`` in each of the browser-grade parses (see the module's doc)."""
    return _parses(html)


def _union(html: str, finder) -> list[str]:
    """``finder(elements)`` over every parse, in document order of the first, without repeats."""
    found: list[str] = []
    for elements in parse_elements(html):
        found += finder(elements)
    return list(dict.fromkeys(found))


# ------------------------------------------------------------------ URLs and CSS


def _squeezed(value: str) -> str:
    """A URL as browsers read it: ASCII tab and newline removed anywhere, leading controls and
    spaces stripped, backslashes read as slashes, lower case."""
    return re.sub(r"[\t\n\r]", "", value).lstrip("\x00- ").replace("\\", "/").lower()


def is_other_host(url: str) -> bool:
    """True for URLs that point at another host (or the local file system by absolute URL).

    >>> is_other_host("https://example.org/a.png"), is_other_host("/\\\\evil.example/x")
    (True, True)
    >>> is_other_host("../index.html"), is_other_host("data:image/png;base64,AA")
    (False, False)
    """
    url = _squeezed(url)
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme in _FETCHING_SCHEMES or (not parts.scheme and bool(parts.netloc))


def _srcset_urls(value: str) -> list[str]:
    return [item.split()[0] for item in value.split(",") if item.strip()]


def _data_is_inert(url: str, tag: str, attribute: str) -> bool:
    media = url[len("data:") :].split(",", 1)[0].split(";", 1)[0].strip()
    if media == "image/svg+xml":
        return (tag, attribute) in _IMAGE_ONLY
    return media in _INERT_DATA


def _css_tokens(css: str, declarations: bool) -> list:
    parse = tinycss2.parse_blocks_contents if declarations else tinycss2.parse_stylesheet
    return parse(css, skip_comments=True, skip_whitespace=True)


def _walk_css(tokens, urls: list[str], imports: list[str], active: list[str]) -> None:
    for token in tokens or []:
        kind = token.type
        if kind == "url" or kind == "string" and is_other_host(token.value):
            urls.append(token.value)
        elif kind == "function" and token.lower_name in _CSS_ACTIVE_FUNCTIONS:
            active.append(f"{token.lower_name}()")
        elif kind == "ident" and token.lower_value in _CSS_ACTIVE_PROPERTIES:
            active.append(token.lower_value)
        elif kind == "declaration" and token.lower_name in _CSS_ACTIVE_PROPERTIES:
            active.append(token.lower_name)
        if kind == "at-rule" and token.lower_at_keyword == "import":
            _walk_css(token.prelude, imports, imports, active)
            _walk_css(token.content, urls, imports, active)
            continue
        for part in ("prelude", "content", "arguments", "value"):
            nested = getattr(token, part, None)
            if isinstance(nested, list):
                _walk_css(nested, urls, imports, active)


def css_urls(css: str, declarations: bool = False) -> list[str]:
    """Every URL ``css`` makes the browser load (``url()`` however it is escaped, ``@import``,
    URLs in ``image-set()``...), ``url()`` ones first, then ``@import``.

    >>> css_urls('@import "https://f.example/f.css"; p { background: \\\\75rl(//i.example/b.png) }')
    ['//i.example/b.png', 'https://f.example/f.css']
    """
    urls: list[str] = []
    imports: list[str] = []
    _walk_css(_css_tokens(css, declarations), urls, imports, [])
    return list(dict.fromkeys([*urls, *imports]))


def css_active(css: str, declarations: bool = False) -> list[str]:
    """CSS that runs code in some browser (``expression()``, ``behavior``, ``-moz-binding``)."""
    active: list[str] = []
    _walk_css(_css_tokens(css, declarations), [], [], active)
    return list(dict.fromkeys(active))


# ------------------------------------------------------------------ the checks


def _references(elements) -> list[str]:
    found: list[str] = []
    for element in elements:
        for attribute in _FETCH_ATTRIBUTES:
            value = element.get(attribute)
            if value is None:
                continue
            urls = _srcset_urls(value) if attribute.endswith("srcset") else [value]
            found += [f"{element.tag} {attribute}: {u}" for u in urls if is_other_host(u)]
        if element.tag in _HREF_LOADS:
            for attribute in ("href", "xlink:href"):
                value = element.get(attribute)
                if value is not None and is_other_host(value):
                    found.append(f"{element.tag} {attribute}: {value}")
        if element.tag == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
            target = re.split(r"url\s*=", element.get("content") or "", flags=re.I)[1:]
            target = target[0].strip().strip("'\"") if target else ""
            if is_other_host(target):
                found.append(f"meta refresh: {target}")
        if element.get("style"):
            found += [
                f"{element.tag} style url(): {url}"
                for url in css_urls(element.get("style"), declarations=True)
                if is_other_host(url)
            ]
    for element in elements:
        if element.tag == "style":
            found += [
                f"style @import/url(): {url}"
                for url in css_urls(element.text)
                if is_other_host(url)
            ]
    return found


def external_references(html: str) -> list[str]:
    """Everything in ``html`` the browser would fetch from another host when opening it.

    Looks at ``src``/``srcset``/``poster``/``data``-like attributes, ``href`` of elements that
    load it (``<link>``, SVG ``<image>``/``<use>``/``<feImage>``...), CSS ``@import`` and
    ``url()`` (in ``<style>`` and ``style=""``), and ``<meta http-equiv=refresh>``. Plain
    ``<a href>`` hyperlinks are navigation, not loads: see :func:`external_links`. ``data:``
    URIs and relative URLs are fine.

    >>> external_references('<link rel="stylesheet" href="//cdn.example/x.css">'
    ...                     '<style>@import url("https://fonts.example/f.css");</style>'
    ...                     '<img src="data:image/png;base64,AAAA" alt="ok">')
    ['link href: //cdn.example/x.css', 'style @import/url(): https://fonts.example/f.css']
    """
    return _union(html, _references)


def external_links(html: str) -> list[str]:
    """Hyperlinks (``<a href>``) in ``html`` to other hosts: allowed, but worth listing.

    >>> external_links('<a href="https://www.canada.ca/x">IRCC</a> <a href="../index.html">up</a>')
    ['https://www.canada.ca/x']
    """
    return _union(
        html,
        lambda elements: [
            e.get("href") for e in elements if e.tag == "a" and is_other_host(e.get("href") or "")
        ],
    )


def _snippet(text: str, limit: int = 100) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _active(elements) -> list[str]:
    found: list[str] = []
    for element in elements:
        if element.tag in _FORBIDDEN_TAGS:
            found.append(f"<{element.tag}> element: {_snippet(element)}")
        if element.tag == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
            found.append(f"meta refresh: {_snippet(element.get('content') or '')}")
        for name, value in element.attrs:
            local = name.split(":")[-1]
            if local.startswith("on") or local in ("srcdoc", "formaction"):
                found.append(f"{element.tag} {name}= attribute")
            elif name in _TEXT_ATTRIBUTES:
                continue
            else:
                url = _squeezed(value)
                script = url.startswith(_SCRIPT_SCHEMES) or re.search(
                    r"(^|[;,\s])(java|vb)script:", url
                )
                data = url.startswith("data:") and not _data_is_inert(url, element.tag, local)
                if script or data:
                    found.append(f"{element.tag} {name}: {_snippet(value)}")
        if element.get("style"):
            found += [f"{element.tag} style: {a}" for a in css_active(element.get("style"), True)]
        if element.tag == "style":
            found += [f"style: {a}" for a in css_active(element.text)]
    return found


def unsafe_markup(html: str) -> list[str]:
    """Markup in ``html`` that could run code or send the reader elsewhere unasked, in any of
    the browser-grade parses (see the module's doc). Escaped text (``&lt;script&gt;``) is
    text, not markup, and is not reported.

    >>> unsafe_markup('<p>&lt;script&gt;</p><img src=x onerror=alert(1) alt="a">')
    ['img onerror= attribute']
    >>> unsafe_markup('<!--><script>alert(1)</script>-->')[0]
    '<script> element: <script>'
    """
    return _union(html, _active)


def images_without_alt(html: str) -> list[str]:
    """``<img>`` elements with no alt text (missing, blank, or nbconvert's placeholder).

    >>> images_without_alt('<img src="a.png" alt="Cutoffs by month"><img src="b.png">')
    ['<img src="b.png">']
    """
    return _union(
        html,
        lambda elements: [
            _snippet(e)
            for e in elements
            if e.tag == "img" and (e.get("alt") or "").strip() in ("", NBCONVERT_PLACEHOLDER_ALT)
        ],
    )


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
    problems += _union(
        html,
        lambda elements: [
            f"image not inline (not self-contained): {_snippet(e)}"
            for e in elements
            if e.tag == "img" and not _squeezed(e.get("src") or "").startswith("data:")
        ],
    )
    browser = parse_elements(html)[0]
    root = next((e for e in browser if e.tag == "html"), None)
    if root is None or not (root.get("lang") or "").strip():
        problems.append('no <html lang="..."> declaration')
    title = next((e for e in browser if e.tag == "title"), None)
    if title is None or not title.text.strip():
        problems.append("no <title>")
    if problems:
        raise ReportError("page refused: " + "; ".join(problems))


# ------------------------------------------------------------------ notebook outputs


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
