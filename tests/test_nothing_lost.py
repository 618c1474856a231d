"""Issue 17, the ingest side: nothing lost, whatever the feed does. No stored file can block a
later run; published history is append-only (a feed cut short or rolled back is refused as
suspect, a round IRCC drops is kept and marked); the revision log follows the accepted
retrievals in time order (A -> B -> A logs both changes) and never a refused feed."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from datetime import UTC, datetime

import pandas as pd
import pytest

from analysis.errors import FeedError
from analysis.ingest import process, retrieve, snapshots
from analysis.ingest.feed import load_rounds
from helpers import FEEDS, run_ee, with_round

GOOD = json.loads((FEEDS / "small_feed.json").read_text())
NEXT = json.loads((FEEDS / "small_feed_next.json").read_text())


def day(n: int) -> datetime:
    return datetime(2023, 9, n, 12, tzinfo=UTC)


def store(raw, feed, n: int):
    data = feed if isinstance(feed, bytes) else json.dumps(feed).encode()
    return snapshots.store_snapshot(data, "fixture", raw, retrieved_at=day(n))


def clean(tmp_path, **options):
    return process.clean_latest_snapshot(
        raw=tmp_path / "raw", processed=tmp_path / "processed", **options
    )


def without(feed: dict, *numbers: str) -> dict:
    cut = copy.deepcopy(feed)
    cut["rounds"] = [r for r in cut["rounds"] if r["drawNumber"] not in numbers]
    return cut


def processed_files(tmp_path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((tmp_path / "processed").glob("*"))}


# ------------------------------------------------------------------ no stored file blocks a run


@pytest.mark.parametrize(
    ("field", "text"),
    [("drawName", "STEM\ud800"), ("drawText2", "\udfff"), ("mitext", "a\ud800b")],
)
def test_a_lone_surrogate_is_refused_at_retrieval_naming_round_field_and_file(
    tmp_path, feed_file, field, text
):
    path = feed_file(with_round(GOOD, "258", **{field: text}), "surrogate.json")
    with pytest.raises(FeedError) as refused:
        retrieve.retrieve_feed(str(path), raw=tmp_path / "raw")
    message = str(refused.value)
    assert "surrogate.json" in message and "round '258'" in message and repr(field) in message
    assert not list((tmp_path / "raw").glob("ee_rounds_*.json"))  # nothing stored


def test_a_key_given_twice_with_different_values_is_refused_naming_it(tmp_path, feed_file):
    text = json.dumps(GOOD).replace('"drawCRS": "486"', '"drawCRS": "486", "drawCRS": "1"', 1)
    path = feed_file(text.encode(), "twice.json")
    with pytest.raises(FeedError, match=r"twice.json: round '\w+', field 'drawCRS' is given 2"):
        retrieve.retrieve_feed(str(path), raw=tmp_path / "raw")


def test_a_key_given_twice_with_the_same_value_is_a_warning(caplog):
    text = json.dumps(GOOD).replace('"drawCRS": "486"', '"drawCRS": "486", "drawCRS": "486"', 1)
    with caplog.at_level(logging.WARNING):
        rounds = load_rounds(text.encode(), "same.json")
    assert len(rounds) == len(GOOD["rounds"])
    assert "field 'drawCRS' is given 2 times with the same value" in caplog.text


def _plant_unreadable(raw, n: int) -> str:
    """A snapshot an older version stored (it read less strictly): a lone surrogate inside."""
    data = json.dumps(with_round(GOOD, "258", drawName="STEM\ud800")).encode()
    digest = hashlib.sha256(data).hexdigest()
    name = snapshots.snapshot_name(day(n), digest)
    (raw / name).write_bytes(data)
    manifest = snapshots.read_manifest(raw)
    row = {
        "retrieved_at": day(n).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": "fixture",
        "sha256": digest,
        "file": name,
        "bytes": str(len(data)),
        "rounds": str(len(GOOD["rounds"])),
        "newest_round": "260",
        "newest_date": "2023-08-15",
        "new_content": "True",
    }
    updated = pd.concat([manifest, pd.DataFrame([row]).astype("string")], ignore_index=True)
    (raw / "manifest.csv").write_text(updated.to_csv(index=False))
    return name


@pytest.mark.parametrize("listed", [True, False], ids=["in the manifest", "manifest lost"])
def test_one_unreadable_stored_snapshot_costs_only_its_own_revisions(tmp_path, caplog, listed):
    raw = tmp_path / "raw"
    good = store(raw, GOOD, 1)
    bad = _plant_unreadable(raw, 2)
    if not listed:
        (raw / "manifest.csv").unlink()
    with caplog.at_level(logging.WARNING):
        following = store(raw, NEXT, 3)
        run = clean(tmp_path)
    assert bad in caplog.text and "cannot be read" in caplog.text
    assert len(run.draws) == len(NEXT["rounds"])
    assert set(run.revisions["previous"]) == {good.file}
    assert set(run.revisions["snapshot"]) == {following.file}
    assert ("261", "added") in set(
        zip(run.revisions["round"], run.revisions["change"], strict=True)
    )


# ------------------------------------------------------------------ append-only history


def test_a_feed_cut_to_its_newest_rounds_is_refused_naming_what_is_missing(tmp_path):
    raw = tmp_path / "raw"
    first = store(raw, GOOD, 1)
    clean(tmp_path)
    before = processed_files(tmp_path)
    cut = copy.deepcopy(GOOD)
    cut["rounds"] = cut["rounds"][:4]
    store(raw, cut, 2)
    with pytest.raises(FeedError) as refused:
        clean(tmp_path)
    message = str(refused.value)
    assert "lacks 8 of the 12 rounds" in message and "--accept-removals" in message
    assert processed_files(tmp_path) == before  # nothing else changed
    assert len(list(raw.glob("ee_rounds_*.json"))) == 2  # raw kept
    assert first.file in before["snapshot.json"].decode()


def test_a_rollback_is_refused_naming_the_newer_snapshot(tmp_path):
    raw = tmp_path / "raw"
    store(raw, GOOD, 1)
    newer = store(raw, NEXT, 2)
    clean(tmp_path)
    store(raw, GOOD, 3)
    with pytest.raises(FeedError, match=f"older than the newest stored snapshot {newer.file}"):
        clean(tmp_path)


def test_accept_removals_keeps_the_missing_rounds_marked(tmp_path):
    raw = tmp_path / "raw"
    store(raw, GOOD, 1)
    cut = copy.deepcopy(GOOD)
    cut["rounds"] = cut["rounds"][:4]
    store(raw, cut, 2)
    run = clean(tmp_path, accept_removals=True)
    assert len(run.draws) == len(GOOD["rounds"])  # nothing published disappears
    removed = run.draws[run.draws["removed_since"].notna()]
    assert len(removed) == 8
    assert set(removed["removed_since"].dt.date) == {day(2).date()}
    verdicts = process.read_verdicts(raw)
    assert [v["verdict"] for v in verdicts.values()] == ["accepted", "accepted-removals"]


def test_a_single_round_ircc_drops_is_kept_marked_and_logged_as_removed(tmp_path):
    raw = tmp_path / "raw"
    store(raw, GOOD, 1)
    clean(tmp_path)
    store(raw, without(GOOD, "255"), 2)
    run = clean(tmp_path)
    kept = run.draws.set_index("round").loc["255"]
    assert kept["removed_since"].date() == day(2).date()
    assert run.draws["removed_since"].notna().sum() == 1
    removals = run.revisions[run.revisions["change"] == "removed"]
    assert removals["round"].tolist() == ["255"]
    # it stays kept (and marked since the same day) in later runs
    store(raw, without(NEXT, "255"), 3)
    later = clean(tmp_path)
    assert later.draws.set_index("round").loc["255", "removed_since"].date() == day(2).date()


# ------------------------------------------------------------------ the revision log is exact


def test_a_to_b_to_a_logs_both_changes(tmp_path):
    raw = tmp_path / "raw"
    revised = with_round(GOOD, "258", drawCRS="431")
    store(raw, GOOD, 1)
    clean(tmp_path)
    store(raw, revised, 2)
    clean(tmp_path)
    store(raw, GOOD, 3)
    run = clean(tmp_path)
    changes = run.revisions[run.revisions["field"] == "drawCRS"]
    assert changes[["round", "old", "new"]].values.tolist() == [
        ["258", GOOD["rounds"][2]["drawCRS"], "431"],
        ["258", "431", GOOD["rounds"][2]["drawCRS"]],
    ]
    assert process.history_revisions(process.accepted_history(raw)).equals(run.revisions)


def test_a_refused_feed_never_reaches_the_revision_log(tmp_path):
    raw = tmp_path / "raw"
    store(raw, GOOD, 1)
    clean(tmp_path)
    future = with_round(without(GOOD, "255", "256"), "260", drawDate="2031-01-01")
    store(raw, future, 2)
    with pytest.raises(FeedError):
        clean(tmp_path)
    store(raw, NEXT, 3)
    run = clean(tmp_path)
    assert set(run.revisions["change"]) <= {"added", "changed", "renamed"}
    assert "removed" not in set(run.revisions["change"])
    assert set(run.revisions["previous"]) == {snapshots.manifest_snapshots(raw)[0].file}


def test_a_feed_never_cleaned_is_decided_as_cleaning_would(tmp_path):
    """fetch, fetch, fetch, then one clean: the refused middle feed is still left out."""
    raw = tmp_path / "raw"
    store(raw, GOOD, 1)
    store(raw, with_round(GOOD, "260", drawDate="2031-01-01"), 2)
    store(raw, NEXT, 3)
    run = clean(tmp_path)
    assert "2031-01-01" not in set(run.revisions["new"].dropna())
    assert [v["verdict"] for v in process.read_verdicts(raw).values()] == [
        "accepted",
        "refused",
        "accepted",
    ]


def test_the_fetch_message_names_the_latest_snapshot_after_a_to_b_to_a(tmp_path):
    raw = tmp_path / "raw"
    first = store(raw, GOOD, 1)
    second = store(raw, NEXT, 2)
    again = store(raw, GOOD, 3)
    state = snapshots.retrieval_state(again, raw)
    assert "not as the latest stored one" in state
    assert first.file in state and second.file in state
    same = store(raw, GOOD, 4)
    assert snapshots.retrieval_state(same, raw) == "same content as the latest stored snapshot"
    env = {"EE_DATA_DIR": str(tmp_path), "EE_REPORTS_DIR": str(tmp_path / "reports")}
    fallback = run_ee("fetch", "--no-notebook", "--source", str(tmp_path / "gone.json"), env=env)
    assert fallback.returncode == 0, fallback.stderr
    assert f"nothing new retrieved; the latest stored snapshot is used: {raw / same.file}" in (
        fallback.stdout
    )


def test_ee_clean_refuses_a_cut_feed_and_accepts_it_when_told(tmp_path, feed_file):
    env = {"EE_DATA_DIR": str(tmp_path / "data"), "EE_REPORTS_DIR": str(tmp_path / "reports")}
    cut = copy.deepcopy(GOOD)
    cut["rounds"] = cut["rounds"][:4]
    for feed, name in ((GOOD, "good.json"), (cut, "cut.json")):
        fetched = run_ee("fetch", "--no-notebook", "--source", str(feed_file(feed, name)), env=env)
        assert fetched.returncode == 0, fetched.stderr
    refused = run_ee("clean", "--no-notebook", env=env)
    assert refused.returncode == 1
    assert "lacks 8 of the 12 rounds" in refused.stderr and "Traceback" not in refused.stderr
    accepted = run_ee("clean", "--no-notebook", "--accept-removals", env=env)
    assert accepted.returncode == 0, accepted.stderr
    assert "12 rounds" in accepted.stdout


def test_the_ingest_notebook_compares_with_the_previous_accepted_retrieval(tmp_path, monkeypatch):
    from analysis.ingest import views

    monkeypatch.setenv("EE_DATA_DIR", str(tmp_path))
    raw = tmp_path / "raw"
    revised = with_round(GOOD, "258", drawCRS="431")
    store(raw, GOOD, 1)
    store(raw, with_round(GOOD, "260", drawDate="2031-01-01"), 2)  # refused
    store(raw, revised, 3)
    latest = store(raw, GOOD, 4)
    changes = views.changes_since_previous(latest)
    assert changes[["round", "field", "old", "new"]].values.tolist() == [
        ["258", "drawCRS", "431", GOOD["rounds"][2]["drawCRS"]]
    ]
    decisions = views.retrieval_decisions()
    assert decisions["verdict"].tolist() == ["accepted", "accepted", "refused", "accepted"]
    assert "is in the future" in decisions["reason"].iloc[2]


def test_pages_have_one_sentence_for_a_removed_round(tmp_path):
    from analysis.data import removal_notes

    raw = tmp_path / "raw"
    store(raw, GOOD, 1)
    clean(tmp_path)
    store(raw, without(GOOD, "255"), 2)
    notes = removal_notes(clean(tmp_path).draws)
    assert notes[notes != ""].tolist() == ["no longer in IRCC's feed since 2023-09-02"]
