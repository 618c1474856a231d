"""What a reader gets from a published page, as plain text to compare across builds: the visible
text one block per line (headings, paragraphs, list items, table rows with their cells between
``|``), each figure's alt text, each link's target, and a hash of every inline image's bytes.

Run as a script to (re)write the golden files of a site::

    python tests/page_text.py SITE_DIR tests/fixtures/pages
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys
from pathlib import Path

import html5lib

#: Elements that start a new line of text.
BLOCKS = {
    "p", "h1", "h2", "h3", "h4", "li", "dt", "dd", "tr", "caption", "figure", "nav", "header",
    "footer", "main", "section", "aside", "div", "ol", "ul", "dl", "table", "thead", "tbody",
}  # fmt: skip
SKIPPED = {"head", "style", "script"}

#: Text that differs between two builds of the same feed: when it was retrieved, the hashes and
#: file names that carry that time, and the versions of the packages installed.
VOLATILE = (
    (re.compile(r"ee_rounds_\w+\.json"), "<snapshot>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?"), "<time>"),
    (re.compile(r"\b[0-9a-f]{12,64}\b"), "<hash>"),
    (re.compile(r"(?<=[A-Za-z0-9]) \d+\.\d+\.\d+\b"), " <version>"),  # package versions
    # when the feed was checked (the footer of every page; a month in progress)
    (re.compile(r"([Ff]eed checked) [A-Z][a-z]+ \d{1,2}, \d{4} at \d{2}:\d{2} UTC"), r"\1 <time>"),
)


def _lines(node, out: list[str]) -> None:
    tag = node.tag if isinstance(node.tag, str) else None
    if tag in SKIPPED:
        return
    if tag in BLOCKS:
        out.append("\n")
    if tag in ("td", "th"):
        out.append(" | ")
    if tag == "img":
        out.append(f" [image: {node.get('alt')}] ")
    if tag == "a" and node.get("href"):
        out.append(f" [link {node.get('href')}] ")
    if node.text and tag is not None:
        out.append(node.text)
    for child in node:
        _lines(child, out)
        if child.tail:
            out.append(child.tail)
    if tag in BLOCKS:
        out.append("\n")


def page_text(html: str) -> str:
    """The page as text a reader sees (see the module's doc), volatile parts replaced."""
    document = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
    out: list[str] = [f"title: {''.join(document.find('head/title').itertext())}\n"]
    _lines(document.find("body"), out)
    text = "\n".join(" ".join(line.split()) for line in "".join(out).splitlines() if line.strip())
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    for element in document.iter():
        for attribute in ("src", "srcset"):
            value = element.get(attribute) if isinstance(element.tag, str) else None
            if value and value.startswith("data:image/png;base64,"):
                digest = hashlib.sha256(base64.b64decode(value.split(",", 1)[1])).hexdigest()
                text += f"\n{element.tag} {attribute}: png sha256 {digest}"
    return text + "\n"


def golden_name(page: Path, site: Path) -> str:
    """``2023-07/index.html`` -> ``2023-07.txt``; ``index.html`` -> ``index.txt``."""
    relative = page.relative_to(site).with_suffix("")
    return "-".join(p for p in relative.parts if p != "index") or "index"


def site_pages(site: Path) -> list[Path]:
    return sorted(
        p
        for p in site.rglob("index.html")
        if not any(part.startswith(".") for part in p.relative_to(site).parts)
    )


if __name__ == "__main__":
    site, target = Path(sys.argv[1]), Path(sys.argv[2])
    target.mkdir(parents=True, exist_ok=True)
    for page in site_pages(site):
        (target / f"{golden_name(page, site)}.txt").write_text(
            page_text(page.read_text(encoding="utf-8")), encoding="utf-8"
        )
