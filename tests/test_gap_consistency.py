"""One number, one home (issue 15): every gap of a round and baseline reads the same on every
month page, every family page, every CSV download and every summary.json, because each is
rounded in one place (analysis.vocabulary). Built with the real pipeline (`ee fetch`, `ee clean`,
`ee reports`) on the newest shared snapshot, read by path; skipped when it is absent."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers import REAL_SNAPSHOTS, run_ee

#: Column names of each source for the three baselines.
MONTH_CSV = {
    "window": "Gap vs 30 days before",
    "latest": "Gap vs latest before",
    "pool": "Gap vs pool estimate",
}
FAMILY_CSV = {
    "window": "Gap vs all-program in the 30 days before",
    "latest": "Gap vs latest all-program",
    "pool": "Gap vs pool estimate",
}
PAGE_TABLE = {
    "window": "Gap: all-program, 30 days before",
    "latest": "Gap: latest all-program",
    "pool": "Gap: pool estimate",
}


class _Tables(HTMLParser):
    """Every <table> of a page as rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _number(text) -> int | None:
    """A gap as a page or a CSV writes it ('−62', '-62', '1,005', '–' or empty for none)."""
    if text is None:
        return None
    text = str(text).strip().replace("−", "-").replace(",", "")
    if text in ("", "–", "-", "nan", "None", "<NA>"):
        return None
    value = float(text)
    assert value == int(value), f"a shown gap is in whole points, not {text!r}"
    return int(value)


def _csv_rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def _page_rows(path: Path) -> list[dict]:
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    rows = []
    for table in parser.tables:
        if not table or "Round" not in table[0] or PAGE_TABLE["pool"] not in table[0]:
            continue
        header = table[0]
        rows += [dict(zip(header, row, strict=False)) for row in table[1:]]
    return rows


@pytest.fixture(scope="module")
def site(tmp_path_factory, snapshots_dir):
    newest = snapshots_dir / REAL_SNAPSHOTS[-1]
    if not newest.is_file():
        pytest.skip(f"{newest} is not here")
    root = tmp_path_factory.mktemp("gaps")
    env = {"EE_DATA_DIR": str(root / "data"), "EE_REPORTS_DIR": str(root / "site")}
    for step in (
        ("fetch", "--no-notebook", "--source", str(newest)),
        ("clean", "--no-notebook"),
        ("reports", "--since", "2025-10", "--jobs", "2", "--no-fetch"),
    ):
        result = run_ee(*step, env=env, timeout=1200)
        assert result.returncode == 0, result.stdout + result.stderr
    return root / "site"


@pytest.mark.slow
def test_every_gap_reads_the_same_everywhere(site):
    seen: dict[tuple[str, str], set] = defaultdict(set)
    where: dict[tuple[str, str], list[str]] = defaultdict(list)

    def note(round_id, kind, value, source):
        seen[(str(round_id), kind)].add(_number(value))
        where[(str(round_id), kind)].append(source)

    months = sorted(p for p in site.iterdir() if p.is_dir() and p.name[:2] == "20")
    assert len(months) == 6
    for month in months:
        summary = json.loads((month / "summary.json").read_text(encoding="utf-8"))
        for category in summary["categories"].values():
            for item in category["rounds"]:
                for kind, baseline in item["baselines"].items():
                    note(item["round"], kind, baseline["gap"], f"{month.name}/summary.json")
        for row in _csv_rows(month / "comparisons.csv"):
            for kind, column in MONTH_CSV.items():
                note(row["Round"], kind, row[column], f"{month.name}/comparisons.csv")
        for row in _page_rows(month / "index.html"):
            for kind, column in PAGE_TABLE.items():
                note(row["Round"], kind, row[column], f"{month.name}/index.html")
    families = sorted(p for p in (site / "families").iterdir() if (p / "rounds.csv").is_file())
    assert {"stem", "healthcare"} <= {p.name for p in families}
    for family in families:
        for row in _csv_rows(family / "rounds.csv"):
            for kind, column in FAMILY_CSV.items():
                note(row["Round"], kind, row[column], f"families/{family.name}/rounds.csv")
        for row in _page_rows(family / "index.html"):
            for kind, column in PAGE_TABLE.items():
                note(row["Round"], kind, row[column], f"families/{family.name}/index.html")
    different = {key: values for key, values in seen.items() if len(values) > 1}
    assert not different, {key: (values, where[key]) for key, values in different.items()}
    # the check saw the same gaps in many places: month and family pages, CSVs and summaries
    healthcare = [key for key in seen if any("families/healthcare" in w for w in where[key])]
    assert len(healthcare) >= 30
    multi = [key for key in seen if len({w.split("/")[0] for w in where[key]}) >= 3]
    assert len(multi) >= 10
    pool_gaps = [v for (r, kind), values in seen.items() if kind == "pool" for v in values]
    assert any(v is not None for v in pool_gaps)
