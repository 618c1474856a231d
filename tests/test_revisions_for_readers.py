"""Revisions are IRCC's changes to rounds it had already published (new rounds are counted as new
rounds), and the data-quality page is written for readers: years, dates, words, and outcomes
read from the cleaned table (issue 16, item 10)."""

from __future__ import annotations

import dataclasses

import pandas as pd
from page_text import page_text

from analysis.data import load_inputs
from analysis.ingest.revisions import diff_rounds
from analysis.publish import quality_page
from analysis.report import provenance as tables
from helpers import draws_table

OLD = [
    {"drawNumber": "1", "drawName": "STEM occupations (Version 1)", "drawCRS": "486"},
    {"drawNumber": "3", "drawName": "General", "drawCRS": "500"},
]
NEW = [
    {"drawNumber": "1", "drawName": "STEM occupations (Version 1)", "drawCRS": "481"},
    {"drawNumber": "2", "drawName": "General", "drawCRS": "510"},
]


def _draws():
    return draws_table(
        [
            ("1", "2023-07-05", "stem", 500, 481),
            ("2", "2023-07-11", "all_program", 800, 510),
            ("3", "2023-06-27", "all_program", 4300, 500),
        ]
    )


def test_new_rounds_are_not_revisions():
    revisions = diff_rounds(OLD, NEW, snapshot="ee_rounds_20230801T120000Z_ab.json")
    assert set(revisions["change"]) == {"changed", "added", "removed"}
    shown = tables.revisions_for_readers(revisions, _draws())
    assert shown["Round"].tolist() == ["1", "3"]  # round 2 is new, not a revision
    by_round = shown.set_index("Round")
    assert by_round.loc["1", "What changed"] == "cutoff"
    assert (by_round.loc["1", "Before"], by_round.loc["1", "After"]) == ("486", "481")
    assert by_round.loc["3", "Change"] == "removed from the feed"
    assert by_round.loc["3", "What changed"] == "the whole round"
    assert set(shown["Seen in the feed of"]) == {"2023-08-01"}


def test_finding_outcomes_are_read_from_the_cleaned_rounds():
    draws = draws_table(
        [
            ("1", "2025-07-22", "stem", 500, None),
            ("2", "2021-10-27", "stem", 500, 470),
        ],
        extra=("drawn_at", "tie_break_at"),
    )
    draws.loc[0, "drawn_at"] = pd.Timestamp("2025-07-12 16:27:45", tz="UTC")
    draws.loc[1, "tie_break_at"] = pd.Timestamp("2021-10-07 16:38:21", tz="UTC")
    quality = pd.DataFrame(
        {
            "severity": ["warning", "warning", "repaired", "warning", "warning", "warning"],
            "round": ["1", "1", "2", "2", "2", None],
            "field": ["drawDateTime", "drawCRS", "drawCutOff", "drawName", "dd3", None],
            "value": ["July 12, 2025 at 16:27:45 UTC", "n/a", "October 7 at 16:38:21 UTC",
                      "<b>x</b>", "55867", ""],
            "message": ["is -10 days from the round's date", "is not a CRS score; left empty",
                        "no year: 2021 assumed", "contains markup", "does not add up",
                        "feed-level"],
        }
    )  # fmt: skip
    outcomes = tables.finding_outcomes(quality, draws).tolist()
    assert outcomes == [
        "kept: 2025-07-12 16:27 UTC",  # a warning about a value that was kept says so
        "left empty",
        "read as 2021-10-07 16:38 UTC",
        "kept as text",
        "detailed bands used",
        "round kept",
    ]


def test_the_month_pages_findings_say_what_was_kept(july):
    quality = pd.DataFrame(
        {
            "severity": ["warning"],
            "round": ["258"],
            "field": ["drawName"],
            "value": ["Healthcare <img src=x>"],
            "message": ["contains markup; kept as plain text and escaped wherever shown"],
        }
    )
    assert tables.quality_for_month(quality, july).loc[0, "What we did"] == "kept as text"


def test_data_quality_page_is_written_for_readers(published_site):
    """On the fixture site's tables, with IRCC's later edits as a second copy of the feed:
    years are years, dates are dates, headers are words, new rounds are not revisions."""
    env, _ = published_site
    inputs = load_inputs(env["EE_DATA_DIR"])
    later = diff_rounds(OLD, NEW, snapshot="ee_rounds_20230901T120000Z_cd.json")
    rounds = set(inputs.draws["round"])
    assert {"1", "2", "3"}.isdisjoint(rounds)  # rename the fixture's rounds into these
    numbers = dict(zip(["1", "2", "3"], sorted(rounds)[:3], strict=True))
    later["round"] = later["round"].map(numbers).astype("string")
    inputs = dataclasses.replace(inputs, revisions=later)
    text = page_text(quality_page.render_quality_page(inputs))
    assert " 00:00:00" not in text
    assert "| 2,02" not in text  # years are not thousands
    for snake in ("old_name", "new_name", "smallest_pool", "largest_pool", "| severity |"):
        assert snake not in text
    assert "New rounds" in text and "Rounds revised" in text
    revised = text.split("IRCC's revisions of rounds it had published")[1].split("Renamed")[0]
    assert f"| {numbers['1']} |" in revised and f"| {numbers['3']} |" in revised
    assert f"| {numbers['2']} |" not in revised  # the new round
    assert "removed from the feed" in revised
