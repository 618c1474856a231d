"""Issue 17's remaining probes: a round IRCC dropped is marked on its month and family pages, a
100 KB round name is cut on the month page (kept whole in the download), the published run record
carries no local paths, EE_REPORTS_DIR naming a file is a clear setting error, and a read-only
data folder does not block `ee report --no-fetch` (the data lock goes elsewhere)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from analysis import config
from analysis.data import removal_notes
from analysis.pipeline import build
from analysis.publish import families
from analysis.report import month_report, tables
from analysis.taxonomy import LABEL_LIMIT
from helpers import FEEDS, run_ee

HUGE = "Canadian Experience Class " + "x" * 100_000


def _july(draws: pd.DataFrame, pool: pd.DataFrame):
    params = month_report.check_parameters("2023-07", data_end=draws["date"].max())
    return month_report.prepare_month(draws, pool, params, retrieved_at="2023-09-01")


def _marked(fixture_tables) -> tuple[pd.DataFrame, str, str]:
    """The fixture's draws with one July category round dropped by IRCC on 2023-08-20 and
    another July round renamed to a 100 KB name: (draws, dropped round, renamed round)."""
    draws = fixture_tables.draws.copy()
    july = draws.loc[draws["date"].dt.strftime("%Y-%m") == "2023-07"]
    dropped = july.loc[july["selection"] == "category", "round"].iloc[0]
    renamed = july.loc[july["round"] != dropped, "round"].iloc[0]
    draws["removed_since"] = pd.to_datetime(draws["round"].map({dropped: "2023-08-20"})).astype(
        "datetime64[ns]"
    )
    draws.loc[draws["round"] == renamed, "name"] = HUGE
    return draws, dropped, renamed


def test_a_dropped_round_is_marked_on_its_month_and_family_rows(fixture_tables):
    draws, dropped, _ = _marked(fixture_tables)
    sentence = "no longer in IRCC's feed since 2023-08-20"
    assert removal_notes(draws).loc[draws["round"] == dropped].tolist() == [sentence]

    rounds = tables.month_rounds_table(_july(draws, fixture_tables.pool)).set_index("Round")
    assert rounds.loc[dropped, "Note"] == sentence
    assert set(rounds.drop(index=dropped)["Note"]) == {""}

    family = draws.loc[draws["round"] == dropped, "family"].iloc[0]
    comparisons = families.comparisons_for(draws, fixture_tables.pool, [family])
    shown, full, _ = families.family_table(draws, comparisons, family, {"2023-07"})
    for table in (shown, full):
        notes = table.set_index("Round")["Note"]
        assert notes.loc[dropped] == sentence
        assert set(notes.drop(index=dropped)) <= {""}


def test_a_month_without_a_dropped_round_has_no_note_column(july):
    assert "Note" not in tables.month_rounds_table(july)


def test_a_100_kb_round_name_is_cut_on_the_month_page_and_kept_in_the_download(fixture_tables):
    draws, _, renamed = _marked(fixture_tables)
    data = _july(draws, fixture_tables.pool)
    shown = tables.month_rounds_table(data).set_index("Round")["Round type (IRCC's name)"]
    assert len(shown.loc[renamed]) == LABEL_LIMIT
    assert shown.loc[renamed].startswith("Canadian Experience Class xxx")
    assert shown.loc[renamed].endswith("…")
    assert shown.str.len().max() <= LABEL_LIMIT
    full = tables.month_rounds_table(data, full=True).set_index("Round")
    assert full.loc[renamed, "Round type (IRCC's name)"] == HUGE


# ------------------------------------------------------------------ the published run record


def test_public_record_replaces_local_paths_everywhere(tmp_path):
    data, folder = tmp_path / "data", tmp_path / "site" / ".builds" / "x" / "2023-07"
    folder.mkdir(parents=True)
    book = nbformat.v4.new_notebook()
    book.cells.append(nbformat.v4.new_code_cell(f'data_dir = "{data}"\noutput_dir = "{folder}"\n'))
    book.metadata["papermill"] = {
        "input_path": str(config.PROJECT_ROOT / "notebooks" / "4.0-monthly-report.ipynb"),
        "output_path": str(folder / "report.ipynb"),
        "parameters": {"data_dir": str(data), "output_dir": str(folder), "month": "2023-07"},
    }
    record = folder / "report.ipynb"
    nbformat.write(book, record)
    build.public_record(record, {str(folder): ".", str(data): "<data>"})
    text = record.read_text()
    assert str(tmp_path) not in text and str(config.PROJECT_ROOT) not in text
    kept = nbformat.read(record, 4)
    assert kept.metadata["papermill"]["parameters"] == {
        "data_dir": "<data>",
        "output_dir": ".",
        "month": "2023-07",
    }
    assert (
        kept.metadata["papermill"]["input_path"] == "<project>/notebooks/4.0-monthly-report.ipynb"
    )
    assert kept.cells[0].source == 'data_dir = "<data>"\noutput_dir = "."\n'


@pytest.mark.slow
def test_the_published_record_carries_no_local_path(published_site):
    env, site = published_site
    for record in sorted(site.glob("20??-??/report.ipynb")):
        text = record.read_text()
        for place in (env["EE_DATA_DIR"], str(site), str(config.PROJECT_ROOT)):
            assert place not in text, (record, place)
        parameters = nbformat.read(record, 4).metadata["papermill"]["parameters"]
        assert parameters["data_dir"] == "<data>"
        assert parameters["output_dir"] == "."


# ------------------------------------------------------------------ folder settings


@pytest.mark.parametrize("inside", [False, True])
def test_ee_reports_dir_naming_a_file_exits_2_naming_it(workspace, inside):
    blocker = workspace / "reports.txt"
    blocker.write_text("not a folder")
    target = blocker / "site" if inside else blocker
    env = {"EE_FEED": str(FEEDS / "small_feed.json"), "EE_REPORTS_DIR": str(target)}
    result = run_ee("report", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    where = "is a file" if not inside else f"has a file in its path: {blocker}"
    assert f"ee report: error: EE_REPORTS_DIR {target} {where}, not a folder" in result.stderr
    assert "set EE_REPORTS_DIR to a folder" in result.stderr
    assert "File exists" not in result.stderr and "Traceback" not in result.stderr
    assert blocker.read_text() == "not a folder"
    assert not (workspace / "data").exists()


# ------------------------------------------------------------------ a read-only data folder


def test_the_data_lock_of_a_read_only_data_folder_is_taken_outside_it(workspace, monkeypatch):
    data = workspace / "data"
    data.mkdir()
    assert build.data_lock_path(data, build.data_writable(data)) == data / build.DATA_LOCK
    real_access = os.access
    monkeypatch.setattr(
        build.os,
        "access",
        lambda path, mode, **kw: False if Path(path) == data else real_access(path, mode, **kw),
    )
    assert not build.data_writable(data)
    elsewhere = build.data_lock_path(data, False)
    assert elsewhere.parent != data and data not in elsewhere.parents
    assert elsewhere == build.data_lock_path(data, False)  # one lock for one data folder
    assert elsewhere != build.data_lock_path(workspace / "other", False)
    with build.data_lock():
        assert elsewhere.exists()
        assert not (data / build.DATA_LOCK).exists()


@pytest.mark.slow
def test_ee_report_no_fetch_runs_on_a_data_folder_it_cannot_write(workspace, monkeypatch):
    """The data lock file cannot be created in a read-only data folder: the report still runs
    (root ignores chmod, so the folder is made read-only for the check of writability)."""
    from analysis.pipeline import steps

    env = {"EE_FEED": str(FEEDS / "small_feed.json")}
    assert run_ee("data", "--no-notebook", env=env).returncode == 0
    from analysis.pool.accuracy import measured_accuracy

    measured_accuracy()  # the cache an earlier report left (it is not written when it cannot be)
    data = workspace / "data"
    planted = data / build.DATA_LOCK
    planted.unlink(missing_ok=True)
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    real_access = os.access
    monkeypatch.setattr(
        build.os,
        "access",
        lambda path, mode, **kw: False if Path(path) == data else real_access(path, mode, **kw),
    )
    planted.mkdir()  # anything opening <data>/.ee.lock now fails, as in a read-only folder
    try:
        run = steps.Run("report")
        steps.report_step(run, fetch=False)
    finally:
        planted.rmdir()
    assert (workspace / "reports" / "2023-08" / "index.html").is_file()
    after = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    assert after == before  # nothing written in the data folder


def test_the_accuracy_cache_is_skipped_where_it_cannot_be_written(workspace, monkeypatch):
    from analysis.pool import accuracy
    from analysis.storage import write_text_atomic

    assert (
        run_ee("data", "--no-notebook", env={"EE_FEED": str(FEEDS / "small_feed.json")}).returncode
        == 0
    )

    def refuse(path, text):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(accuracy, "write_text_atomic", refuse)  # where accuracy writes
    measured = accuracy.measured_accuracy()
    assert not (config.processed_dir() / accuracy.ACCURACY_FILE).exists()
    monkeypatch.setattr(accuracy, "write_text_atomic", write_text_atomic)
    assert accuracy.measured_accuracy() == measured  # measured again, the same figures
    assert (config.processed_dir() / accuracy.ACCURACY_FILE).is_file()
