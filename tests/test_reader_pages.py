"""The pages made from the processed tables beside the months (issue 16, items 3, 4 and 11):
every round as data (``data/rounds.csv``, ``rounds.json``, ``pool.csv`` and the page describing
each column), where a score stands (``score/``) and the pool over time (``pool/``)."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from analysis.publish import data_page, pool_page, reader_pages, score_page
from analysis.publish.families import comparisons_for, families_with_rounds, family_table
from analysis.publish.safety import check_page
from helpers import draws_table

# ------------------------------------------------------------------ every round as data


@pytest.fixture(scope="module")
def fixture_files(fixture_tables):
    """The files of data/ made from the fixture feed, with the comparisons they used."""
    draws, pool = fixture_tables.draws, fixture_tables.pool
    comparisons = comparisons_for(draws, pool, families_with_rounds(draws))
    return data_page.data_files(draws, pool, comparisons), comparisons


def test_rounds_csv_holds_every_round_with_every_described_column(fixture_tables, fixture_files):
    files, _ = fixture_files
    draws = fixture_tables.draws
    rounds = pd.read_csv(io.StringIO(files["rounds.csv"]), dtype={"round": str})
    assert list(rounds.columns) == list(data_page.ROUND_COLUMNS)
    assert rounds["round"].tolist() == draws["round"].tolist()
    assert rounds["cutoff"].tolist() == draws["cutoff"].astype(int).tolist()
    assert rounds["invitations"].tolist() == draws["invitations"].astype(int).tolist()
    assert rounds["date"].tolist() == draws["date"].dt.strftime("%Y-%m-%d").tolist()
    assert rounds["label"].tolist() == draws["label"].tolist()
    # every column is described on the page
    page = files["index.html"]
    check_page(page)
    for column in [*data_page.ROUND_COLUMNS, *data_page.POOL_COLUMNS]:
        assert f'<td data-label="Column">{column}</td>' in page, column
    for name in ("rounds.csv", "rounds.json", "pool.csv"):
        assert f'href="{name}"' in page


def test_rounds_json_is_the_same_rows_as_the_csv(fixture_files):
    files, _ = fixture_files
    records = json.loads(files["rounds.json"])
    rounds = pd.read_csv(io.StringIO(files["rounds.csv"]), dtype=str, keep_default_na=False)
    assert len(records) == len(rounds)
    assert [list(r) for r in records] == [list(data_page.ROUND_COLUMNS)] * len(records)
    for record, (_, row) in zip(records, rounds.iterrows(), strict=True):
        for column, value in record.items():
            if value is None:
                assert row[column] == "", (record["round"], column)
            elif isinstance(value, bool):
                assert row[column] == str(value), (record["round"], column)
            else:
                assert row[column] == str(value), (record["round"], column)


def test_rounds_baselines_are_the_family_pages_numbers(fixture_tables, fixture_files):
    """One number, one home: the baselines and gaps of rounds.csv are the family pages'."""
    files, comparisons = fixture_files
    draws = fixture_tables.draws
    rounds = pd.read_csv(io.StringIO(files["rounds.csv"]), dtype={"round": str}).set_index("round")
    checked = 0
    for family in families_with_rounds(draws):
        _, full, _ = family_table(draws, comparisons, family, set())
        for _, row in full.iterrows():
            mine = rounds.loc[row["Round"]]
            for page_column, csv_column in (
                ("Gap vs all-program in the 30 days before", "gap_window"),
                ("Gap vs latest all-program", "gap_latest"),
                ("Pool estimate", "baseline_pool"),
                ("Gap vs pool estimate", "gap_pool"),
            ):
                if page_column not in full:
                    continue
                expected = row[page_column]
                got = mine[csv_column]
                assert (pd.isna(expected) and pd.isna(got)) or int(expected) == int(got)
                checked += 1
    assert checked > 0
    # rounds that are not category rounds carry no baseline
    programs = rounds.loc[~rounds["is_category"]]
    assert programs[["baseline_window", "baseline_latest", "baseline_pool"]].isna().all().all()


def test_pool_csv_holds_every_published_band(fixture_tables, fixture_files):
    files, _ = fixture_files
    pool = pd.read_csv(io.StringIO(files["pool.csv"]))
    assert list(pool.columns) == list(data_page.POOL_COLUMNS)
    assert len(pool) == len(fixture_tables.pool)
    assert pool["candidates"].sum() == fixture_tables.pool["candidates"].sum()


def test_feed_text_in_the_data_is_neutralised_for_spreadsheets():
    draws = draws_table([("1", "2023-07-05", "stem", 500, 486)])
    draws["name"] = pd.array(['=HYPERLINK("http://x")'], dtype="string")
    pool = pd.DataFrame(
        {
            c: pd.Series(dtype=t)
            for c, t in [
                ("distribution_date", "datetime64[ns]"),
                ("score_low", "int64"),
                ("score_high", "int64"),
                ("candidates", "int64"),
                ("bin", "string"),
                ("round", "string"),
            ]
        }
    )
    empty = pd.DataFrame(columns=["round", "baseline"])
    files = data_page.data_files(draws, pool, empty)
    assert "'=HYPERLINK" in files["rounds.csv"]
    assert json.loads(files["rounds.json"])[0]["name"] == '=HYPERLINK("http://x")'


# ------------------------------------------------------------------ where a score stands


def _draws():
    return draws_table(
        [
            ("1", "2025-02-01", "all_program", 1000, 530),
            ("2", "2025-03-10", "stem", 500, 500),
            ("3", "2025-08-20", "healthcare", 800, 470),
            ("4", "2025-09-01", "french", 1000, 420),
            ("5", "2026-01-15", "stem", 500, 480),
            ("6", "2026-02-20", "healthcare", 800, 455),
            ("7", "2026-03-01", "cec", 3000, 515),
        ]
    )


def _pool(date="2026-02-25"):
    bands = [(601, 1200, 100), (501, 600, 900), (451, 500, 4000), (401, 450, 5000),
             (351, 400, 6000), (0, 350, 10000)]  # fmt: skip
    return pd.DataFrame(
        {
            "distribution_date": pd.to_datetime([date] * len(bands)),
            "score_low": [b[0] for b in bands],
            "score_high": [b[1] for b in bands],
            "candidates": [b[2] for b in bands],
            "bin": pd.array([f"dd{i}" for i in range(len(bands))], dtype="string"),
            "round": pd.array(["6"] * len(bands), dtype="string"),
        }
    )


def test_active_families_are_recent_ones_and_the_focus_families():
    # french's round (2025-09-01) is more than 6 months before the newest round (2026-03-01);
    # the all-program round is older still; stem and healthcare are always listed
    assert score_page.active_families(_draws()) == ["stem", "healthcare", "cec"]


def test_score_table_counts_rounds_that_reached_each_score():
    draws = _draws()
    table = score_page.score_table(draws, _pool(), ["stem", "healthcare", "cec"]).set_index("score")
    assert list(table.index) == list(score_page.SCORES)
    # stem: cutoffs 500 (2025-03-10) and 480 (2026-01-15), both within 12 months of 2026-03-01
    assert table.loc[470, "stem_last_date"] is pd.NaT or pd.isna(table.loc[470, "stem_last_date"])
    assert table.loc[480, "stem_last_round"] == "5"
    assert (table.loc[480, "stem_reached"], table.loc[480, "stem_rounds"]) == (1, 2)
    assert table.loc[500, "stem_last_round"] == "5"  # the latest of the two that reached 500
    assert table.loc[500, "stem_reached"] == 2
    # healthcare: 470 (2025-08-20) and 455 (2026-02-20)
    assert table.loc[460, "healthcare_last_date"] == pd.Timestamp("2026-02-20")
    assert table.loc[460, "healthcare_reached"] == 1
    assert pd.isna(table.loc[450, "healthcare_last_round"])
    # candidates at or above: exact at band edges, never rising with the score
    assert table.loc[600, "candidates"] >= 100
    assert table["candidates"].is_monotonic_decreasing
    assert table.loc[350, "candidates"] <= 100 + 900 + 4000 + 5000 + 6000 + 10000


def test_score_page_is_safe_and_readable(tmp_path):
    draws = _draws()
    draws["label"] = draws["label"].astype(object)
    html, csv = score_page.render_score_page(draws, _pool())
    check_page(html)
    assert 'id="score-450"' in html
    assert "Feb 2026 · 1 of 2" in html  # healthcare at 460: its Feb 2026 round, 1 of its 2
    assert "never" in html
    long = pd.read_csv(io.StringIO(csv))
    assert long["score"].tolist() == list(score_page.SCORES)


def test_families_that_never_reach_the_page_s_scores_are_named_not_drawn():
    draws = _draws()
    pnp = draws_table([("8", "2026-03-02", "cec", 500, 740)])  # a program round over 600
    pnp["family"] = pd.array(["pnp"], dtype="string")
    pnp["label"] = pd.array(["Provincial Nominee Program"], dtype="string")
    both = pd.concat([draws, pnp], ignore_index=True)
    assert "pnp" in score_page.active_families(both)
    assert score_page.out_of_range(both, score_page.active_families(both)) == ["pnp"]
    html, csv = score_page.render_score_page(both, _pool())
    assert "Not listed: Provincial Nominee Program" in html
    assert "pnp_last_round" not in csv


def test_score_page_without_a_pool_distribution_says_so():
    empty = _pool().iloc[0:0]
    html, _ = score_page.render_score_page(_draws(), empty)
    assert "no pool distribution" in html


# ------------------------------------------------------------------ the pool over time


def test_monthly_bands_add_fine_bands_into_main_ones_and_count_invitations():
    fine = pd.DataFrame(
        {
            "distribution_date": pd.to_datetime(["2026-01-10"] * 3 + ["2026-01-25"] * 3
                                                + ["2026-02-20"] * 3),
            "score_low": [491, 451, 0] * 3,
            "score_high": [500, 490, 450] * 3,
            "candidates": [10, 20, 70, 11, 22, 70, 15, 20, 60],
            "bin": pd.array(["a", "b", "c"] * 3, dtype="string"),
            "round": pd.array(["1"] * 9, dtype="string"),
        }
    )  # fmt: skip
    draws = draws_table(
        [("1", "2026-01-12", "cec", 1000, 500), ("2", "2026-01-27", "stem", 500, 480)]
    )
    table = pool_page.monthly_bands(draws, fine).set_index("month")
    # January's last distribution (the 25th), its two fine bands added into 451-500
    assert table.loc["2026-01", "distribution_date"] == pd.Timestamp("2026-01-25")
    assert table.loc["2026-01", "451-500"] == 33
    assert table.loc["2026-02", "451-500"] == 35
    assert table.loc["2026-02", "change 451-500"] == 2
    assert table.loc["2026-02", "change total"] == 95 - 103
    assert pd.isna(table.loc["2026-01", "change total"])
    assert table.loc["2026-01", "invitations"] == 1500
    assert table.loc["2026-02", "invitations"] == 0


def test_pool_page_on_the_newest_snapshot(newest_tables):
    """The pool page of the newest shared snapshot: a figure, the latest months, the CSV of
    every month, and bands that add up to each distribution's whole pool."""
    html, csv = pool_page.render_pool_page(newest_tables.draws, newest_tables.pool)
    check_page(html)
    assert "<img" in html and 'href="pool.csv"' in html
    table = pd.read_csv(io.StringIO(csv))
    totals = newest_tables.pool.groupby("distribution_date")["candidates"].sum()
    for _, row in table.iterrows():
        assert row["total"] == totals[pd.Timestamp(row["distribution_date"])]
    assert table["month"].is_unique


# ------------------------------------------------------------------ in the published site


def test_published_site_has_the_reader_pages_linked_from_index_and_families(published_site):
    _, site = published_site
    for folder, files in (
        ("data", ("index.html", "rounds.csv", "rounds.json", "pool.csv")),
        ("score", ("index.html", "scores.csv")),
        ("pool", ("index.html", "pool.csv")),
    ):
        for name in files:
            assert (site / folder / name).is_file(), f"{folder}/{name}"
        check_page((site / folder / "index.html").read_text(encoding="utf-8"))
    index = (site / "index.html").read_text(encoding="utf-8")
    for href in ("score/index.html", "pool/index.html", "data/index.html"):
        assert f'href="{href}"' in index
    family_pages = list((site / "families").glob("*/index.html"))
    assert family_pages
    for page in family_pages:
        assert 'href="../../score/index.html"' in page.read_text(encoding="utf-8")
    # markup in the feed's text is kept as text in the data and never reaches the pages as markup
    rounds = json.loads((site / "data" / "rounds.json").read_text(encoding="utf-8"))
    assert any("<img src=x" in (r["name"] or "") for r in rounds)
    assert "<img src=x" not in (site / "score" / "index.html").read_text(encoding="utf-8")


def test_reader_pages_are_kept_when_nothing_changed(published_site, monkeypatch):
    """Written again only when the fingerprint changes (nothing is computed otherwise)."""
    _, site = published_site
    stamp = json.loads((site / "data" / reader_pages.STAMP).read_text())["fingerprint"]
    before = {f: (site / f / "index.html").stat().st_mtime_ns for f in reader_pages.PAGES}

    def fail(inputs):
        raise AssertionError("nothing changed: no page should be made")

    for folder in list(reader_pages.PAGES):
        monkeypatch.setitem(reader_pages.PAGES, folder, fail)
    assert reader_pages.write_reader_pages(site, None, stamp) == []
    after = {f: (site / f / "index.html").stat().st_mtime_ns for f in reader_pages.PAGES}
    assert before == after
    assert reader_pages.pending(site, "another fingerprint") == list(reader_pages.PAGES)
