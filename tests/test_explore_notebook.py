"""notebooks/2.0-explore.ipynb runs top to bottom in a fresh kernel on the real data.

The processed tables are built in a temporary folder from the shared snapshots, retrieved oldest
first so that the newest one is cleaned and the revisions section has IRCC's real renames to
show. Skips when the shared snapshots are absent.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from helpers import REAL_SNAPSHOTS

NOTEBOOK = Path(__file__).parents[1] / "notebooks" / "2.0-explore.ipynb"


def test_explore_notebook_is_thin_and_parameterized():
    book = json.loads(NOTEBOOK.read_text())
    assert book["metadata"]["kernelspec"]["name"] == "ee-draws"
    code = [c for c in book["cells"] if c["cell_type"] == "code"]
    parameters = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(parameters) == 1
    assert re.search(r"^data_dir = None\b", "".join(parameters[0]["source"]), re.M)
    for cell in code:
        source = "".join(cell["source"])
        assert not re.search(r"^\s*(def|class|lambda) |lambda ", source, re.M), source
        assert cell["outputs"] == [] and cell["execution_count"] is None
    headings = [
        "".join(c["source"]).splitlines()[0]
        for c in book["cells"]
        if c["cell_type"] == "markdown" and "".join(c["source"]).startswith("## ")
    ]
    assert len(headings) == 9
    assert all(h.endswith("?") for h in headings), headings


def _shown(book: dict, code: str) -> str:
    """All text shown by the code cell whose source is ``code`` or else the one cell containing
    it: stdout and the plain and HTML forms of every display."""
    sources = [(c, "".join(c["source"])) for c in book["cells"] if c["cell_type"] == "code"]
    cells = [c for c, source in sources if source.strip() == code] or [
        c for c, source in sources if code in source
    ]
    assert len(cells) == 1, f"{len(cells)} code cells contain {code!r}"
    parts = []
    for output in cells[0]["outputs"]:
        parts.append("".join(output.get("text", "")))
        for kind in ("text/plain", "text/html"):
            parts.append("".join(output.get("data", {}).get(kind, "")))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def executed(snapshots_dir, tmp_path_factory):
    import papermill

    from analysis.ingest.process import clean_latest_snapshot
    from analysis.ingest.retrieve import retrieve_feed
    from analysis.pipeline.notebooks import ensure_kernel

    root = tmp_path_factory.mktemp("explore")
    for name in REAL_SNAPSHOTS:  # oldest first: the newest is cleaned
        retrieve_feed(str(snapshots_dir / name), raw=root / "raw")
    clean_latest_snapshot(raw=root / "raw", processed=root / "processed")
    ensure_kernel()
    output = root / "explore.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(output),
        kernel_name="ee-draws",
        parameters={"data_dir": str(root)},
        progress_bar=False,
    )
    return json.loads(output.read_text())


@pytest.mark.slow
def test_explore_notebook_runs_on_the_newest_snapshot(executed):
    assert not executed["metadata"]["papermill"]["exception"]
    errors = [
        o for c in executed["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"
    ]
    assert errors == []
    figures = [
        o for c in executed["cells"] for o in c.get("outputs", []) if "<img" in str(o.get("data"))
    ]
    assert len(figures) == 2  # sections 3 and 5, each an <img> with alt text
    # 1. rounds per family and the taxonomy
    assert re.search(r"all_program\s+178\b", _shown(executed, "rounds_by_family(draws)"))
    assert r"^health ?care\b" in _shown(executed, "taxonomy_table()")
    # 2. invitations per year: 110,266 in 2023, 98,903 in 2024
    per_year = _shown(executed, "invitations_per_year(draws)")
    assert re.search(r"2023\s+110266\b", per_year)
    assert re.search(r"2024\s+98903\b", per_year)
    # 3. the rolling cutoff figure has its alt text
    assert 'alt="Rolling 90D mean CRS cutoff' in _shown(executed, "rolling_cutoffs(")
    # 5. the worked example of July 2023: the numbers the markdown quotes
    july = _shown(executed, "compare_with_baselines(")
    for row in (
        r"254 +2023-07-05 +stem +STEM +1 +500 +486\b",  # STEM round 254: 500 invitations, 486
        # the window looks back only (the default, as in the reports): 250, 251 and 253
        r"\bwindow +494\.333333 +-8\.333333\b",
        r"\blatest +511\.0 +-25\.0\b",
        r"\bpool +501\.0 +-15\.0\b",  # the model's 498 plus the regime's correction (+3)
    ):
        assert re.search(row, july), row
    estimate = _shown(executed, 'estimate_for_round(draws, pool, "254")')
    assert "cutoff=498" in estimate and "rounds_between=('253',)" in estimate
    # 6. the pool model backtest on all 37 all-program rounds: replay far better than flat
    backtest = _shown(executed, "run_backtest(draws, pool)")
    assert re.search(r"replay +37 +1\.68", backtest)
    assert re.search(r"flat +37 +28\.08", backtest)
    # 7. caveats are printed with the comparisons and the regression
    assert "Only 3 rounds of STEM" in _shown(executed, "compare_cutoffs(")
    regression = _shown(executed, "cutoff_regression(")
    assert "HAC" in regression and "Round size is not in the model" in regression
    # 8. forecasts: STEM has too few rounds, healthcare (14 rounds) gets a number
    forecasts = _shown(executed, "forecast_all(")
    assert "not enough data" in forecasts
    assert re.search(r"healthcare +14 ", forecasts)
    # 9. IRCC's renames between the snapshots, and the quality log
    assert "STEM occupations (2023-1)" in _shown(executed, "category_renames(")
    assert re.search(r"repaired +drawCutOff +2", _shown(executed, "quality_counts("))
    assert "no year: 2021 assumed" in _shown(executed, "inputs.quality")
