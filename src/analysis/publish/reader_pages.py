"""The site's pages made from the processed tables alone, beside the months: every round as
data (``data/``), where a score stands (``score/``) and the pool over time (``pool/``).

Each folder is rewritten only when what it is made from changed (the code and the rounds and
pool tables): the fingerprint sits in its ``inputs.json``; nothing changed means nothing is
imported or computed. Each folder is swapped in whole (:func:`analysis.publish.swap.publish_dir`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from analysis.publish import data_page, pool_page, score_page, swap
from analysis.publish.render import write_page
from analysis.storage import stamp_matches, write_stamp, write_text_atomic

STAMP = "inputs.json"


def _score(inputs) -> dict[str, str]:
    html, csv = score_page.render_score_page(inputs.draws, inputs.pool)
    return {"index.html": html, "scores.csv": csv}


def _pool(inputs) -> dict[str, str]:
    html, csv = pool_page.render_pool_page(inputs.draws, inputs.pool)
    return {"index.html": html, pool_page.CSV_NAME: csv}


#: folder -> what writes its files (name -> text).
PAGES: dict[str, Callable[[object], dict[str, str]]] = {
    "data": data_page.prepare_data,
    "score": _score,
    "pool": _pool,
}


def pending(site: Path, fingerprint: str) -> list[str]:
    """The folders of :data:`PAGES` whose published stamp is not ``fingerprint``."""
    return [f for f in PAGES if not stamp_matches(Path(site) / f / STAMP, fingerprint)]


def prepare(inputs, folders: list[str]) -> dict[str, dict[str, str]]:
    """The files of each of ``folders`` (folder -> name -> text). Reads nothing from the site,
    so it can run in another process while the months are built."""
    return {folder: PAGES[folder](inputs) for folder in folders}


def write_reader_pages(
    site: Path, inputs, fingerprint: str, prepared: dict[str, dict[str, str]] | None = None
) -> list[str]:
    """Write the folders of :data:`PAGES` under ``site`` whose stamp differs from
    ``fingerprint``, from ``prepared`` (:func:`prepare`, made for that fingerprint) where it
    has them; returns the folders written."""
    written = []
    for folder in pending(site, fingerprint):
        files = (prepared or {}).get(folder) or PAGES[folder](inputs)

        def build(staging: Path, files: dict[str, str] = files) -> None:
            for name, text in files.items():
                write = write_page if name.endswith(".html") else write_text_atomic
                write(staging / name, text)
            write_stamp(staging / STAMP, fingerprint)

        swap.publish_dir(build, Path(site) / folder)
        written.append(folder)
    return written
