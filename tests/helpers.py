"""What the tests share besides fixtures: the fixture feeds' paths, hand-built tables in the
exact shape cleaning makes them, edited copies of a feed, a notebook executor and the `ee`
command in a subprocess. Import from here (``from helpers import FEEDS``); fixtures live in
``conftest.py``."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
FEEDS = FIXTURES / "feeds"
REAL_SNAPSHOTS = (
    "ee_rounds_2024-04-06.json",
    "ee_rounds_2025-07-09.json",
    "ee_rounds_2026-03-05.json",
)
#: A small report-like notebook for the publishing tests.
SAMPLE_NOTEBOOK = FIXTURES / "notebooks" / "publish-sample.ipynb"

# ------------------------------------------------------------------ hand-built draws tables

FAMILY_LABELS = {
    "all_program": "All-program",
    "stem": "STEM",
    "healthcare": "Healthcare",
    "french": "French-language proficiency",
    "cec": "Canadian Experience Class",
}
SELECTIONS = {"all_program": "all-program", "cec": "program"}


def draws_table(rows: list[tuple], extra: tuple[str, ...] = ()):
    """A draws table with the exact columns and dtypes of ``clean_rounds``' ``draws``.

    Each row: (round, date, family, invitations, cutoff, *values of ``extra``), where ``extra``
    names some of ``drawn_at``, ``tie_break_at`` (UTC strings), ``distribution_date`` and
    ``removed_since``.
    Category rounds get version 1; everything else is derived.
    """
    width = 5 + len(extra)
    padded = [row + (None,) * (width - len(row)) for row in rows]
    columns = [list(column) for column in zip(*padded, strict=True)] or [[]] * width
    number, date, family, invitations, cutoff = columns[:5]
    n = len(rows)
    given = dict(zip(extra, columns[5:], strict=True))
    selection = [SELECTIONS.get(f, "category") for f in family]
    is_category = [s == "category" for s in selection]
    dates = pd.to_datetime(date)
    return pd.DataFrame(
        {
            "round": pd.array(number, dtype="string"),
            "date": dates.astype("datetime64[ns]"),
            "month": pd.array(dates.strftime("%Y-%m"), dtype="string"),
            "drawn_at": pd.to_datetime(given.get("drawn_at", [None] * n), utc=True).astype(
                "datetime64[ns, UTC]"
            ),
            "invitations": pd.array(invitations, dtype="Int64"),
            "cutoff": pd.array(cutoff, dtype="Int64"),
            "tie_break_at": pd.to_datetime(given.get("tie_break_at", [None] * n), utc=True).astype(
                "datetime64[ns, UTC]"
            ),
            "name": pd.array([FAMILY_LABELS[f] for f in family], dtype="string"),
            "programs": pd.array([""] * n, dtype="string"),
            "family": pd.array(family, dtype="string"),
            "label": pd.array([FAMILY_LABELS[f] for f in family], dtype="string"),
            "selection": pd.array(selection, dtype="string"),
            "version": pd.array([1 if c else None for c in is_category], dtype="Int64"),
            "version_year": pd.array([None] * n, dtype="Int64"),
            "is_all_program": [f == "all_program" for f in family],
            "is_category": is_category,
            "distribution_date": pd.to_datetime(given.get("distribution_date", [None] * n)).astype(
                "datetime64[ns]"
            ),
            "removed_since": pd.to_datetime(given.get("removed_since", [None] * n)).astype(
                "datetime64[ns]"
            ),
        }
    )


def with_round(feed: dict, number: str, **fields) -> dict:
    """A copy of ``feed`` with fields of one round replaced (``None`` deletes the field)."""
    changed = copy.deepcopy(feed)
    for item in changed["rounds"]:
        if item["drawNumber"] == number:
            for key, value in fields.items():
                if value is None:
                    item.pop(key, None)
                else:
                    item[key] = value
            return changed
    raise KeyError(number)


# ------------------------------------------------------------------ executing a notebook


def execute_notebook(notebook: Path, workdir: Path) -> Path:
    """Run ``notebook`` in a fresh kernel (nbclient) inside ``workdir``; return the executed copy.
    Skips the test when no ``python3`` kernel is registered."""
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    if "python3" not in KernelSpecManager().find_kernel_specs():
        pytest.skip("no 'python3' Jupyter kernel registered")
    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(workdir)}}
    ).execute()
    out = workdir / "executed.ipynb"
    nbformat.write(nb, out)
    return out


# ------------------------------------------------------------------ a published site


def markup_feed(feed: dict) -> dict:
    """The fixture feed with markup where IRCC's free text could carry it."""
    feed = with_round(
        feed, "258", drawName="Healthcare occupations <img src=x onerror=alert(1)> (Version 1)"
    )
    return with_round(feed, "257", drawText2="<script>alert('feed')</script>All programs")


def run_ee(*args, env: dict, timeout: int = 600):
    """Run the `ee` command in a subprocess with extra environment variables."""
    return subprocess.run(
        [sys.executable, "-m", "analysis", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=timeout,
    )
