"""The check every page passes before it is published (README, "Safe to publish"): its
Content-Security-Policy comes first in its ``<head>`` and allows no script and nothing from
another host, and nothing in it could run code or load from another host were the policy
ignored; every image has alt text.

The page is parsed once, as browsers parse it (html5lib, the WHATWG algorithm, scripting on), so
markup hidden in comments ended early, CDATA or raw-text elements is seen as a browser sees it.
Only the elements our templates write are allowed (:data:`ALLOWED_ELEMENTS`). CSS is not
parsed: a ``style`` attribute, or a ``<style>`` whose SHA-256 the policy does not list, is
refused as it stands. Whether the refused payloads really run in a browser is checked on demand
(``python benchmarks/safety_corpus.py``), not in the test suite.

>>> unsafe_markup('<textarea><p title="</textarea><img src=x onerror=alert(1)>"></textarea>')
['<textarea> element: <textarea>', 'img onerror= attribute']
>>> unsafe_markup("<p>&lt;script&gt; is text</p>")
[]
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import html5lib

from analysis.errors import ReportError

#: The elements a page may hold: what the site's templates write, and inert inline SVG.
ALLOWED_ELEMENTS = frozenset({
    "html", "head", "meta", "title", "style", "body", "header", "nav", "main", "footer",
    "section", "aside", "div", "span", "p", "a", "h1", "h2", "h3", "h4", "ul", "ol", "li", "dl",
    "dt", "dd", "strong", "em", "b", "i", "code", "small", "time", "br", "table", "caption",
    "thead", "tbody", "tfoot", "tr", "th", "td", "figure", "figcaption", "picture", "source",
    "img", "svg", "g", "rect", "path", "line", "circle", "ellipse", "polyline", "polygon",
    "text", "tspan", "desc",
})  # fmt: skip

_FETCHING_SCHEMES = {"http", "https", "ftp", "ws", "wss", "file"}
_SCRIPT_SCHEMES = ("javascript:", "vbscript:", "livescript:", "mocha:")
#: Attributes whose value is text for people, never a URL: a "javascript:" there runs nothing.
_TEXT_ATTRIBUTES = {
    "alt", "title", "aria-label", "aria-description", "aria-roledescription", "placeholder",
    "label", "summary", "abbr", "class", "id", "lang", "xml:lang", "dir", "role", "name",
    "content", "datetime", "headers", "scope",
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
_XML_NAMESPACES = {
    "http://www.w3.org/1999/xlink": "xlink",
    "http://www.w3.org/XML/1998/namespace": "xml",
    "http://www.w3.org/2000/xmlns/": "xmlns",
}


def _feed_link(element) -> bool:
    """A ``<link rel="alternate" type="application/atom+xml">`` to a feed on the same site:
    how a page names its Atom feed for feed readers (it loads nothing; any other ``<link>`` is
    refused, and one to another host is an external reference)."""
    return (
        element.tag == "link"
        and (element.get("rel") or "").lower() == "alternate"
        and (element.get("type") or "").lower() == "application/atom+xml"
        and not is_other_host(element.get("href") or "")
    )


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


@lru_cache(maxsize=4)  # a page is checked by several functions in a row
def parse_elements(html: str) -> tuple[Element, ...]:
    """Every element of ``html`` as a browser with scripting on builds it, in document order."""
    document = html5lib.parse(
        html, treebuilder="etree", namespaceHTMLElements=False, scripting=True
    )
    return tuple(
        Element(
            _local(node.tag).lower(),
            tuple((_local(k).lower(), v or "") for k, v in node.attrib.items()),
            "".join(node.itertext()) if _local(node.tag).lower() in _TEXT_OF else "",
        )
        for node in document.iter()
        if isinstance(node.tag, str)
    )


def _found(html: str, finder) -> list[str]:
    """``finder(elements)`` over the page, without repeats."""
    return list(dict.fromkeys(finder(parse_elements(html))))


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


def _inline(url: str | None) -> bool:
    return _squeezed(url or "").startswith("data:")


def _srcset_urls(value: str) -> list[str]:
    return [item.split()[0] for item in value.split(",") if item.strip()]


def _data_is_inert(url: str, tag: str, attribute: str) -> bool:
    media = url[len("data:") :].split(",", 1)[0].split(";", 1)[0].strip()
    if media == "image/svg+xml":
        return (tag, attribute) in _IMAGE_ONLY
    return media in _INERT_DATA


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
    return found


def external_references(html: str) -> list[str]:
    """Everything in ``html`` the browser would fetch from another host when opening it.

    Looks at ``src``/``srcset``/``poster``/``data``-like attributes, ``href`` of elements that
    load it (``<link>``, SVG ``<image>``/``<use>``/``<feImage>``...) and ``<meta
    http-equiv=refresh>``; CSS is refused by :func:`unsafe_markup` unless the policy names it.
    Plain ``<a href>`` hyperlinks are navigation, not loads: see :func:`external_links`.
    ``data:`` URIs and relative URLs are fine.

    >>> external_references('<link rel="stylesheet" href="//cdn.example/x.css">'
    ...                     '<img src="data:image/png;base64,AAAA" alt="ok">')
    ['link href: //cdn.example/x.css']
    """
    return _found(html, _references)


def external_links(html: str) -> list[str]:
    """Hyperlinks (``<a href>``) in ``html`` to other hosts: allowed, but worth listing.

    >>> external_links('<a href="https://www.canada.ca/x">IRCC</a> <a href="../index.html">up</a>')
    ['https://www.canada.ca/x']
    """
    return _found(
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
    styles = re.findall(r"'sha256-([A-Za-z0-9+/]+=*)'", _page_policy(elements) or "")
    for element in elements:
        if element.tag not in ALLOWED_ELEMENTS and not _feed_link(element):
            found.append(f"<{element.tag}> element: {_snippet(element)}")
        if element.tag == "meta" and (element.get("http-equiv") or "").lower() == "refresh":
            found.append(f"meta refresh: {_snippet(element.get('content') or '')}")
        for name, value in element.attrs:
            local = name.split(":")[-1]
            if local.startswith("on") or local in ("srcdoc", "formaction", "style"):
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
        digest = hashlib.sha256(element.text.encode("utf-8")).digest()
        if element.tag == "style" and base64.b64encode(digest).decode() not in styles:
            found.append(f"<style> the policy does not name: {_snippet(element.text)}")
    return found


def unsafe_markup(html: str) -> list[str]:
    """Markup in ``html`` that could run code or send the reader elsewhere unasked, or any
    element our pages do not use (see the module's doc). Escaped text (``&lt;script&gt;``) is
    text, not markup, and is not reported.

    >>> unsafe_markup('<p>&lt;script&gt;</p><img src=x onerror=alert(1) alt="a">')
    ['img onerror= attribute']
    >>> unsafe_markup('<!--><script>alert(1)</script>-->')[0]
    '<script> element: <script>'
    """
    return _found(html, _active)


def images_without_alt(html: str) -> list[str]:
    """``<img>`` elements with no alt text (missing or blank).

    >>> images_without_alt('<img src="a.png" alt="Cutoffs by month"><img src="b.png">')
    ['<img src="b.png">']
    """
    return _found(
        html,
        lambda elements: [
            _snippet(e) for e in elements if e.tag == "img" and not (e.get("alt") or "").strip()
        ],
    )


#: Sources a page's policy may allow: nothing, inline images, and the stylesheet by its hash.
_POLICY_SOURCES = re.compile(r"'none'|'sha256-[A-Za-z0-9+/]+=*'")


def policy_problems(policy: str) -> list[str]:
    """What a Content-Security-Policy allows beyond the site's rule: anything but ``'none'``,
    ``data:`` images and hashed styles, or no ``default-src 'none'``.

    >>> policy_problems("default-src 'none'; img-src data:; style-src 'sha256-AA='")
    []
    >>> policy_problems("default-src 'none'; script-src 'unsafe-inline'")
    ["script-src allows 'unsafe-inline'"]
    """
    directives = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        if name:
            directives[name.lower()] = sources
    problems = [] if directives.get("default-src") == ["'none'"] else ["no default-src 'none'"]
    for name, sources in directives.items():
        for source in sources:
            if not (_POLICY_SOURCES.fullmatch(source) or (name, source) == ("img-src", "data:")):
                problems.append(f"{name} allows {source}")
    return problems


def _page_policy(elements) -> str | None:
    """The page's Content-Security-Policy if it is the first element of its ``<head>``."""
    head = next((i for i, e in enumerate(elements) if e.tag == "head"), None)
    first = elements[head + 1] if head is not None and head + 1 < len(elements) else None
    if (
        first
        and first.tag == "meta"
        and first.get("http-equiv", "").lower() == "content-security-policy"
    ):
        return first.get("content") or ""
    return None


def check_page(html: str) -> None:
    """Raise :class:`ReportError` unless ``html`` is safe and self-contained.

    Guarded: the page's first ``<head>`` element is a Content-Security-Policy allowing no script
    and nothing from other hosts (:func:`policy_problems`). Safe: :func:`unsafe_markup` finds
    nothing. Self-contained: :func:`external_references` finds
    nothing and every ``<img>`` is inline (``data:``). Accessible: every ``<img>`` has alt text,
    the page declares ``lang`` and has a ``<title>``.

    >>> head = '<head><meta http-equiv="Content-Security-Policy" content="default-src \\'none\\'">'
    >>> check_page(f'<!DOCTYPE html><html lang="en">{head}<title>t</title><p>ok</p></html>')
    >>> check_page(f'<html lang="en">{head}<title>t</title><script>x()</script></html>')
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    analysis.errors.ReportError: page refused: script or active markup: <script> element: ...
    """
    elements = parse_elements(html)
    problems = [f"script or active markup: {item}" for item in unsafe_markup(html)]
    problems += [f"loads from another host: {item}" for item in external_references(html)]
    problems += [f"image without alt text: {item}" for item in images_without_alt(html)]
    outside = [_snippet(e) for e in elements if e.tag == "img" and not _inline(e.get("src"))]
    problems += [f"image not inline (not self-contained): {e}" for e in dict.fromkeys(outside)]
    policy = _page_policy(elements)
    if policy is None:
        problems.append("no Content-Security-Policy <meta> first in <head>")
    else:
        problems += [f"Content-Security-Policy: {p}" for p in policy_problems(policy)]
    root = next((e for e in elements if e.tag == "html"), None)
    if root is None or not (root.get("lang") or "").strip():
        problems.append('no <html lang="..."> declaration')
    title = next((e for e in elements if e.tag == "title"), None)
    if title is None or not title.text.strip():
        problems.append("no <title>")
    if problems:
        raise ReportError("page refused: " + "; ".join(problems))
