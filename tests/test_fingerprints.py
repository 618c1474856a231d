"""The code fingerprints that decide rebuilds see every module of the package, at any depth:
otherwise moving code into subpackages would silently stop code changes from rebuilding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import analysis
from analysis.ingest import process
from analysis.pipeline import plan

PACKAGE = Path(analysis.__file__).resolve().parent


@pytest.fixture
def package_copy(tmp_path) -> Path:
    copy = tmp_path / "analysis"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    nested = copy / "layer" / "deeper"
    nested.mkdir(parents=True)
    (copy / "layer" / "__init__.py").write_text("")
    (nested / "__init__.py").write_text("")
    (nested / "module.py").write_text("ANSWER = 1\n")
    return copy


def test_report_code_fingerprint_sees_nested_modules(package_copy):
    before = plan.report_code_fingerprint(package_copy)
    assert plan.report_code_fingerprint(package_copy) == before  # stable
    (package_copy / "layer" / "deeper" / "module.py").write_text("ANSWER = 2\n")
    assert plan.report_code_fingerprint(package_copy) != before


def test_report_code_fingerprint_sees_a_moved_module(package_copy):
    before = plan.report_code_fingerprint(package_copy)
    module = package_copy / "layer" / "deeper" / "module.py"
    module.rename(package_copy / "layer" / "module.py")  # same bytes, another place
    assert plan.report_code_fingerprint(package_copy) != before


def test_report_code_fingerprint_ignores_caches(package_copy):
    before = plan.report_code_fingerprint(package_copy)
    cache = package_copy / "layer" / "__pycache__"
    cache.mkdir()
    (cache / "module.cpython-311.pyc").write_bytes(b"\0compiled")
    assert plan.report_code_fingerprint(package_copy) == before


def test_cleaning_code_fingerprint_walks_folders(package_copy):
    entries = (*process.CLEANING_CODE, "layer")
    before = process.cleaning_code_fingerprint(entries, package_copy)
    (package_copy / "layer" / "deeper" / "module.py").write_text("ANSWER = 3\n")
    assert process.cleaning_code_fingerprint(entries, package_copy) != before


def test_cleaning_code_names_only_existing_modules():
    for entry in process.CLEANING_CODE:
        assert (PACKAGE / entry).exists(), f"CLEANING_CODE names {entry}, which does not exist"


def _deepest_module(package: Path) -> Path:
    return max(
        (p for p in package.rglob("*.py") if "__pycache__" not in p.parts),
        key=lambda p: (len(p.relative_to(package).parts), str(p)),
    )


@pytest.mark.slow
def test_a_change_in_a_nested_module_rebuilds_published_months(
    published_site, tmp_path, monkeypatch
):
    env, site = published_site
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from analysis.data import load_inputs

    inputs = load_inputs()
    months = ["2023-07", "2023-08"]
    copy = tmp_path / "analysis"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(plan, "PACKAGE", copy)
    assert [p.reason for p in plan.plan_months(months, inputs, site)] == ["up to date"] * 2

    module = _deepest_module(copy)
    assert len(module.relative_to(copy).parts) >= 2, "the package has no nested module"
    module.write_text(module.read_text() + "\n# a change deep in the package\n")
    assert [p.reason for p in plan.plan_months(months, inputs, site)] == ["inputs changed"] * 2


def test_report_code_fingerprint_sees_the_report_notebook(package_copy, tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    notebook = notebooks / f"{plan.REPORT_NOTEBOOK}.ipynb"
    shutil.copy(plan.config.PROJECT_ROOT / "notebooks" / notebook.name, notebook)
    monkeypatch.setenv("EE_NOTEBOOKS_DIR", str(notebooks))
    before = plan.report_code_fingerprint(package_copy)
    notebook.write_text(notebook.read_text().replace('"cells": [', '"cells": [ ', 1))
    assert plan.report_code_fingerprint(package_copy) != before


@pytest.mark.slow
def test_new_accuracy_figures_rebuild_published_months(published_site, monkeypatch):
    """Every month's notes quote the pool model's accuracy as of its feed; ``ee backtest`` adds
    its forward-chained figures to that record later, and the months must then be rebuilt
    (before, they kept the older note until something else changed)."""
    env, site = published_site
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    from analysis.data import load_inputs
    from analysis.pool.accuracy import ACCURACY_FILE, measured_accuracy

    inputs = load_inputs()
    months = ["2023-07", "2023-08"]
    assert [p.reason for p in plan.plan_months(months, inputs, site)] == ["up to date"] * 2
    record = plan.config.processed_dir() / ACCURACY_FILE
    kept = record.read_bytes()
    try:
        measured = measured_accuracy()
        record.write_text(json.dumps({**measured, "forward": {"n": 32, "mae": 2.19}}))
        assert [p.reason for p in plan.plan_months(months, inputs, site)] == ["inputs changed"] * 2
    finally:
        record.write_bytes(kept)
    assert [p.reason for p in plan.plan_months(months, inputs, site)] == ["up to date"] * 2
