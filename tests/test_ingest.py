"""End to end: the three shared snapshots read in date order as three monthly refreshes, and the
guarantee that a bad feed leaves the last good processed data untouched."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis import config
from analysis.errors import FeedError
from analysis.ingest import process, retrieve, snapshots
from analysis.ingest.revisions import category_renames
from helpers import FEEDS, REAL_SNAPSHOTS, with_round


@pytest.fixture(scope="module")
def refreshes(snapshots_dir, tmp_path_factory):
    """Fetch and clean each shared snapshot in turn; keep what each refresh produced."""
    data = tmp_path_factory.mktemp("data")
    raw, processed = data / "raw", data / "processed"
    runs = []
    for name in REAL_SNAPSHOTS:
        retrieve.retrieve_feed(str(snapshots_dir / name), raw=raw)
        runs.append(process.clean_latest_snapshot(raw=raw, processed=processed))
    return runs, raw, processed


def test_round_counts(refreshes):
    runs, _, _ = refreshes
    assert [len(r.draws) for r in runs] == [292, 356, 403]
    assert [r.draws["round"].iloc[-1] for r in runs] == ["291", "355", "402"]
    assert {"91a", "91b"} <= set(runs[-1].draws["round"])


def test_renames_detected_between_refreshes(refreshes):
    runs, raw, _ = refreshes
    renames = category_renames(runs[-1].revisions)
    first, second = (
        s.file for s in [s for s in snapshots.manifest_snapshots(raw) if s.new_content][1:]
    )
    to_2025 = renames[renames["snapshot"] == first].set_index("old_name")["new_name"].to_dict()
    assert to_2025["STEM occupations (2023-1)"] == "STEM occupations (Version 1)"
    assert to_2025["Healthcare occupations (2023-1)"] == "Healthcare occupations (Version 1)"
    assert (
        to_2025["French language proficiency (2024-1)"] == "French language proficiency (Version 1)"
    )
    assert renames.loc[renames["snapshot"] == first, "rounds"].sum() == 23
    # 2025-07 -> 2026-03: new rounds, and no category renamed retroactively
    assert renames[renames["snapshot"] == second].empty
    added = runs[-1].revisions.query("change == 'added' and snapshot == @second")
    assert len(added) == 403 - 356


def test_revised_distributions_are_reported(refreshes):
    runs, _, _ = refreshes
    revised = runs[1].revisions.query("change == 'changed' and field == 'dd18'")
    assert set(revised["round"]) >= {"223", "224"}
    assert (revised["new"] == "0").all()  # IRCC withdrew those distributions


def test_facts_from_ircc_announcements(refreshes):
    draws = refreshes[0][-1].draws.set_index("date")

    def one(day, family):
        row = draws.loc[[pd.Timestamp(day)]].query("family == @family")
        assert len(row) == 1
        return int(row["invitations"].iloc[0]), int(row["cutoff"].iloc[0])

    assert one("2023-07-05", "stem") == (500, 486)
    assert one("2023-07-06", "healthcare") == (1500, 463)
    assert one("2023-06-28", "healthcare") == (500, 476)


def test_families_and_versions_on_the_newest_snapshot(refreshes):
    draws = refreshes[0][-1].draws
    assert (draws["family"] == "unclassified").sum() == 0
    healthcare = draws.query("family == 'healthcare'").groupby("version")["round"].size().to_dict()
    assert healthcare == {1: 6, 2: 7, 3: 1}
    assert draws.query("is_all_program")["date"].max() == pd.Timestamp("2024-04-23")


def test_warnings_on_the_newest_snapshot(refreshes):
    quality = refreshes[0][-1].quality
    warnings = quality[quality["severity"] == "warning"]
    assert set(zip(warnings["round"], warnings["field"], strict=True)) == {
        ("357", "drawDateTime"),
        ("247", "dd3"),
    }
    assert (quality["severity"] == "error").sum() == 0


def test_processed_files_and_meta(refreshes):
    _, _, processed = refreshes
    for table in ("draws", "pool", "revisions", "quality"):
        assert (processed / f"{table}.parquet").exists() and (processed / f"{table}.csv").exists()
    meta = json.loads((processed / "snapshot.json").read_text())
    assert meta["rounds_clean"] == 403 and meta["newest_date"] == "2026-03-05"
    assert not list(processed.glob(".staging-*"))
    back = pd.read_parquet(processed / "draws.parquet")
    assert str(back["drawn_at"].dtype) == "datetime64[ns, UTC]"
    assert back["round"].dtype == "string"


def test_clean_is_skipped_when_nothing_changed(refreshes):
    _, raw, processed = refreshes
    again = process.clean_latest_snapshot(raw=raw, processed=processed)
    assert again.skipped and len(again.draws) == 403


# ------------------------------------------------------------------ nothing is lost


def _fingerprint(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(
    ("defect", "message"),
    [
        ({"drawCRS": None}, "drawCRS is missing"),
        ({"drawDate": "2099-01-01", "drawDateFull": "January 1, 2099"}, "in the future"),
        ({"drawNumber": "259"}, "appears twice with different content"),
    ],
)
def test_bad_refresh_leaves_processed_data_untouched(
    workspace, feed_file, small_feed, defect, message
):
    retrieve.retrieve_feed(str(FEEDS / "small_feed.json"))
    process.clean_latest_snapshot()
    before = _fingerprint(config.processed_dir())
    bad = feed_file(with_round(small_feed, "260", **defect), "bad.json")
    snapshot = retrieve.retrieve_feed(str(bad))
    with pytest.raises(FeedError, match=message):
        process.clean_latest_snapshot()
    assert _fingerprint(config.processed_dir()) == before
    assert snapshot.path().exists()  # the raw snapshot is kept, for the record


def test_tampered_raw_snapshot_is_refused(workspace):
    snapshot = retrieve.retrieve_feed(str(FEEDS / "small_feed.json"))
    path = snapshot.path()
    path.chmod(0o644)
    path.write_bytes(path.read_bytes().replace(b'"486"', b'"487"'))
    with pytest.raises(FeedError, match="does not match its sha256"):
        process.clean_latest_snapshot()


def test_no_snapshot_yet(workspace):
    with pytest.raises(FeedError, match="run `ee fetch`"):
        process.clean_latest_snapshot()


def test_the_published_cleaning_tables_speak_to_readers(small_feed):
    """The data-quality page (notebook 1.1-clean) shows family labels, dates without times and
    no local path; analysts' versions keep the codes they filter on."""
    from analysis.ingest import views
    from analysis.ingest.clean import clean_rounds
    from analysis.ingest.feed import load_rounds
    from analysis.vocabulary import source_words

    draws = clean_rounds(
        load_rounds(json.dumps(small_feed).encode()), today=pd.Timestamp("2023-09-01").date()
    ).draws
    assert "all_program" in set(views.rounds_by_family(draws)["family"])  # codes for analysts
    for table in (
        views.rounds_by_family(draws, for_readers=True),
        views.names_by_family(draws, for_readers=True),
    ):
        text = table.to_string()
        assert "All-program" in text and "STEM" in text
        assert "all_program" not in text and "00:00:00" not in text
    rounds = views.rounds_by_family(draws, for_readers=True)
    assert set(rounds["Open to"]) <= {"every program", "one category", "one program"}
    assert rounds["Rounds"].sum() == len(draws)
    assert source_words("/home/me/x/feed.json") == "a stored copy of IRCC's feed (feed.json)"
