"""Where things stand (issue 16, item 1) and a general round today (item 2): built on the
verdicts, forecasts and pool estimates, never re-derived; what the index shows is what the
newest month wrote."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis import forecast as forecasting
from analysis.pool.estimate import estimate_general_round
from analysis.publish import render
from analysis.report import month_report, narrative, standing
from analysis.stats.verdict import verdicts
from analysis.vocabulary import signed_points

XSS = "<img src=x onerror=alert(1)>"


def test_a_month_answers_for_every_family_drawn_and_the_focus_families(august):
    blocks = {a.family: a for a in month_report.answers(august)}
    drawn = set(august.month_rounds.loc[august.month_rounds["cutoff"].notna(), "family"])
    expected = {"stem", "healthcare"} | (drawn - {"all_program", "unclassified"})
    assert set(blocks) == expected
    # the focus families had no round in August 2023: each still gets its standing verdict
    for family in ("stem", "healthcare"):
        assert blocks[family].text.startswith(f"No {august.label(family)} round in August 2023")
        assert blocks[family].verdict is august.verdicts[family]
    assert all(a.words() <= 60 for a in blocks.values())
    # only categories have pages of their own to link to (programs such as PNP do not)
    assert all(a.linked == (a.family not in {"pnp", "cec", "fsw", "fst"}) for a in blocks.values())


def test_active_families_are_the_focus_ones_and_those_drawn_in_six_months():
    draws = pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-06-01", "2025-12-01", "2026-02-01", "2026-03-01"]),
            "family": ["trades", "french", "all_program", "cec"],
            "cutoff": [436, 400, 500, 520],
        }
    )
    assert standing.active_families(draws, "2026-03-05") == ["stem", "healthcare", "cec", "french"]


@pytest.fixture(scope="module")
def newest(newest_tables):
    draws, pool = newest_tables.draws, newest_tables.pool
    return draws, pool, pd.Timestamp(draws["date"].max())


@pytest.mark.slow
def test_standing_rows_come_from_the_verdict_and_forecast_functions(newest):
    draws, pool, as_of = newest
    rows = {r.family: r for r in standing.standing(draws, pool, as_of, ["healthcare", "cec"])}
    health = rows["healthcare"]
    latest = draws.loc[draws["family"] == "healthcare"].sort_values("date").iloc[-1]
    assert (health.round, health.date) == (str(latest["round"]), latest["date"])
    assert health.days_since == (as_of - latest["date"]).days
    expected = verdicts(draws, pool, ["healthcare"], as_of)["healthcare"]
    assert health.verdict.estimate == expected.estimate
    assert health.verdict.low == expected.low and health.verdict.high == expected.high
    record = standing.standing_records([health])[0]
    assert standing.GAP_COLUMN == "Typical gap (95% range)"  # the verdict's level
    assert record[standing.GAP_COLUMN] == (
        f"{signed_points(expected.estimate)} ({signed_points(expected.low)} to "
        f"{signed_points(expected.high)})"
    )
    forecast = forecasting.forecast_next_cutoff(
        draws, "healthcare", window=forecasting.REPORT_WINDOW
    )
    assert record["Next cutoff (80% range)"].startswith(f"{forecast.point:.0f} (")
    # CEC is a program: the reference line, never given a category's verdict
    assert rows["cec"].verdict is None and rows["cec"].reference
    assert standing.standing_records([rows["cec"]])[0]["Verdict"].startswith("the reference")


@pytest.mark.slow
def test_the_standing_table_is_made_once_per_change_of_what_it_is_made_from(newest, tmp_path):
    """Kept under the digest of what each part is made from: the same data reads every part
    back (and says the same); a new round refits only its own family's forecast."""
    draws, pool, as_of = newest
    plain = standing.standing_records(standing.standing(draws, pool, as_of))
    first = standing.StandingCache(tmp_path / "kept")
    assert standing.standing_records(standing.standing(draws, pool, as_of, cache=first)) == plain
    assert first.made["forecast"] == len(plain) and first.read == {}
    again = standing.StandingCache(tmp_path / "kept")
    assert standing.standing_records(standing.standing(draws, pool, as_of, cache=again)) == plain
    assert again.made == {} and again.read["forecast"] == len(plain)
    # the same forecast as on every round (only the family's own rounds count)
    health = standing.family_forecast(draws, "healthcare", again)
    whole = forecasting.forecast_next_cutoff(draws, "healthcare", window=forecasting.REPORT_WINDOW)
    assert (health.point, health.low, health.high) == (whole.point, whole.low, whole.high)
    # a new CEC round the next day: CEC's forecast is made again, the others read back
    cec = draws.loc[draws["family"] == "cec"].sort_values("date").iloc[[-1]]
    new = cec.assign(round="9999", date=as_of + pd.Timedelta(days=1), cutoff=cec["cutoff"] + 3)
    later = pd.concat([draws, new], ignore_index=True)
    after = standing.StandingCache(tmp_path / "kept")
    rows = standing.standing(later, pool, as_of + pd.Timedelta(days=1), cache=after)
    assert after.made["forecast"] == 1 and after.read["forecast"] == len(rows) - 1
    assert next(r for r in rows if r.family == "cec").cutoff == float(new["cutoff"].iloc[0])


def test_a_kept_part_that_cannot_be_read_or_written_is_made_again(tmp_path):
    kept = standing.StandingCache(tmp_path / "kept")
    assert kept.get("x", ("a",), lambda: 1) == 1
    for path in (tmp_path / "kept").glob("*.pickle"):
        path.write_bytes(b"not a pickle")
    assert kept.get("x", ("a",), lambda: 2) == 2 and kept.made["x"] == 2
    (tmp_path / "file").write_text("")
    nowhere = standing.StandingCache(tmp_path / "file" / "kept")  # a path through a file
    assert nowhere.get("x", ("a",), lambda: 3) == 3 and nowhere.get("x", ("a",), lambda: 4) == 4


@pytest.mark.slow
def test_a_general_round_today_is_the_pool_estimate_on_the_newest_distribution(newest):
    draws, pool, _ = newest
    general = standing.general_rounds(draws, pool)
    newest_pool = pool["distribution_date"].max()
    assert general["pool_date"] == f"{newest_pool:%Y-%m-%d}"
    cutoffs = [row["cutoff"] for row in general["today"]]
    assert [row["invitations"] for row in general["today"]] == list(standing.GENERAL_SIZES)
    assert cutoffs == sorted(cutoffs, reverse=True)  # more invitations reach lower scores
    assert all(row["low"] <= row["cutoff"] <= row["high"] for row in general["today"])
    from analysis.pool.regime import regime_error_range

    # as every baseline made across rounds and days: with the regime backtest's correction
    found = regime_error_range(draws, pool)
    direct = estimate_general_round(draws, pool, 3000, error_range=found)
    assert general["today"][1]["cutoff"] == direct.cutoff
    assert direct.cutoff == estimate_general_round(draws, pool, 3000).cutoff + found.correction
    history = [pd.Timestamp(row["date"]) for row in general["history"]]
    assert history == sorted(history) and len({d.to_period("M") for d in history}) == len(history)
    assert history[-1] == newest_pool and history[0] > newest_pool - pd.DateOffset(months=12)
    chart = standing.general_chart(general)
    assert len(chart["lines"]) == 3 and "1,000 invitations" in chart["alt"]


def test_the_index_shows_the_newest_months_standing_escaped(tmp_path):
    records = [
        {
            "family": "stem",
            "Category": f"STEM {XSS}",
            "Latest round": "April 11, 2024",
            "Cutoff": "491",
            "Invitations": "4,500",
            "Verdict": "too few rounds to tell",
            "Days since": "693",
            "Typical gap (95% range)": "–",
            "Gap over time": "–",
            "Next cutoff (80% range)": "–",
        }
    ]
    general = {
        "pool_date": "2026-03-01",
        "on": "2026-03-05",
        "today": [
            {"invitations": n, "cutoff": c, "low": c - 1, "high": c + 15, "note": ""}
            for n, c in ((1000, 534), (3000, 509), (5000, 506))
        ],
        "history": [
            {"date": "2026-02-15", "1000": 554, "3000": 529, "5000": 518},
            {"date": "2026-03-01", "1000": 549, "3000": 524, "5000": 513},
        ],
    }
    for month, summary in (
        ("2026-02", {"headline": "Older", "standing": records[:0]}),
        ("2026-03", {"headline": "Newest", "standing": records, "general": general}),
    ):
        folder = tmp_path / month
        folder.mkdir()
        (folder / "index.html").write_text("<html></html>")
        (folder / "summary.json").write_text(json.dumps(summary))
    html = render.write_index(tmp_path, "Draws", "data-quality/index.html").read_text()
    assert html.index('id="standing"') < html.index('id="today"') < html.index('id="months"')
    assert "STEM &lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    assert '<td data-label="Would need about">509</td>' in html
    assert "<polyline" in html and 'href="2026-03/index.html"' in html


# ------------------------------------------------------------------ issue 16, small reader fixes


def test_a_july_2023_card_says_whether_the_gap_is_real(july):
    """A report category drawn while all-program rounds were held keeps its "Is the gap real?"
    line, even on a page whose standing table states each verdict."""
    from markupsafe import escape

    from analysis.publish.content import Answers

    blocks = {a.family: a for a in month_report.answers(july)}
    assert blocks["stem"].asks_real and blocks["healthcare"].asks_real
    html = Answers(list(blocks.values()), show_verdicts=False)._repr_html_()
    assert html.count("Is the gap real?") == 2
    assert str(escape(blocks["stem"].verdict_text)) in html


def test_the_teaser_leads_with_the_months_rounds_and_where_things_stand(august):
    records = [
        {"family": "stem", "Category": "STEM", "Verdict": "too few rounds to tell"},
        {"family": "healthcare", "Category": "Healthcare", "Verdict": "about 56 points below"},
        {"family": "cec", "Category": "CEC (reference)", "Verdict": "the reference"},
    ]
    text = narrative.teaser(august, records)
    assert "No STEM round" not in text and "No Healthcare round" not in text
    drawn = august.month_rounds.loc[august.month_rounds["cutoff"].notna()]
    first = drawn.sort_values("date").iloc[0]
    assert f"{august.label(first['family'])} " in text.split("Where things stand")[0]
    assert text.endswith(
        "Where things stand: STEM too few rounds to tell; Healthcare about 56 points below."
    )


def test_the_standing_tables_numbers_are_right_aligned_and_ranges_say_what_they_are():
    from analysis.publish.content import Table
    from analysis.stats.verdict import Verdict

    verdict = Verdict("healthcare", "pool", 9, 5.0, -48.2, -66.0, -35.6, 0.95, "size", "", "")
    row = standing.Standing(
        "healthcare", "Healthcare", "398", pd.Timestamp("2026-02-20"), 4000.0, 467.0, 13,
        verdict, None,
    )  # fmt: skip
    view = Table(standing.standing_table(standing.standing_records([row])), "Standing").view()
    columns = list(standing.STANDING_COLUMNS)
    for name in ("Cutoff", "Invitations", "Days since"):
        assert f"ee-num-{columns.index(name) + 1}" in view["classes"], name
    assert "ee-num-1 " not in view["classes"] + " "  # the category names the row
    assert "typical gap: 95% range −66 to −36" in month_report.verdict_line(verdict)


def test_active_families_are_defined_once_for_the_standing_table_and_the_score_page():
    from analysis import taxonomy
    from analysis.publish import score_page

    draws = pd.DataFrame(
        {
            "date": pd.to_datetime(["2025-06-01", "2025-12-01", "2026-02-01", "2026-03-01"]),
            "family": ["trades", "french", "all_program", "cec"],
            "cutoff": [436, 400, 500, 520],
        }
    )
    assert standing.active_families is taxonomy.active_families
    assert set(score_page.active_families(draws)) == set(taxonomy.active_families(draws))
