"""Issue 17, item 7: the processed tables change together or not at all. Cleaning writes a new
generation folder and publishes it with one rename of the ``processed`` link, so a kill or a
full disk at any point leaves one complete set, and readers always read one snapshot's tables."""

from __future__ import annotations

import errno
import json
import os
from datetime import UTC, datetime

import pandas as pd
import pytest

from analysis import storage
from analysis.data import load_draws, read_meta
from analysis.ingest import process, snapshots
from helpers import FEEDS

GOOD = (FEEDS / "small_feed.json").read_bytes()
NEXT = (FEEDS / "small_feed_next.json").read_bytes()


@pytest.fixture
def cleaned_once(tmp_path):
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    snapshots.store_snapshot(GOOD, "fixture", raw, retrieved_at=datetime(2023, 9, 1, tzinfo=UTC))
    process.clean_latest_snapshot(raw=raw, processed=processed)
    snapshots.store_snapshot(NEXT, "fixture", raw, retrieved_at=datetime(2023, 9, 2, tzinfo=UTC))
    return raw, processed


def contents(processed) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(processed.iterdir())}


def generations(tmp_path) -> list[str]:
    return sorted(p.name for p in tmp_path.glob(".processed.gen-*"))


def test_processed_is_one_generation_behind_a_link(cleaned_once, tmp_path):
    _, processed = cleaned_once
    assert processed.is_symlink() and processed.is_dir()
    assert generations(tmp_path) == [os.readlink(processed)]
    assert {"draws.parquet", "draws.csv", "snapshot.json"} <= set(contents(processed))


def test_a_kill_at_the_swap_leaves_the_old_set_whole(cleaned_once, tmp_path, monkeypatch):
    raw, processed = cleaned_once
    before = contents(processed)
    real_replace = os.replace

    def killed(source, target, *args, **kwargs):
        if os.path.basename(str(target)) == "processed":
            raise KeyboardInterrupt  # what SIGTERM/Ctrl-C becomes
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(storage.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        process.clean_latest_snapshot(raw=raw, processed=processed)
    monkeypatch.undo()
    assert contents(processed) == before
    assert len(generations(tmp_path)) == 1 and not list(tmp_path.glob(".processed.link-*"))
    run = process.clean_latest_snapshot(raw=raw, processed=processed)
    assert len(load_draws(processed)) == len(run.draws) == 13
    assert read_meta(processed)["sha256"] == run.snapshot.sha256


def test_a_full_disk_names_the_file_and_changes_nothing(cleaned_once, tmp_path, monkeypatch):
    raw, processed = cleaned_once
    before = contents(processed)

    def full(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage.os, "fsync", full)
    with pytest.raises(OSError, match=r"could not write .*\.processed\.gen-.*draws\.parquet"):
        process.clean_latest_snapshot(raw=raw, processed=processed)
    monkeypatch.undo()
    assert contents(processed) == before
    assert len(generations(tmp_path)) == 1


def test_a_generation_left_by_a_killed_run_is_never_read_and_is_removed(cleaned_once, tmp_path):
    raw, processed = cleaned_once
    dead = 2**22 + 4321
    half = tmp_path / f".processed.gen-p{dead}-abcd1234"
    half.mkdir()
    (half / "draws.parquet").write_bytes(b"half written")
    assert len(load_draws(processed)) == 12  # the link still points to the complete set
    process.clean_latest_snapshot(raw=raw, processed=processed)
    assert not half.exists() and len(generations(tmp_path)) == 1


def test_a_plain_folder_of_an_older_version_is_replaced_and_derived_tables_kept(tmp_path):
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    processed.mkdir()
    derived = pd.DataFrame({"round": ["1"], "slack": [0]})
    storage.write_tables_atomic({"pool_bounds": derived}, processed)
    (processed / "snapshot.json").write_text(json.dumps({"sha256": "old"}))
    snapshots.store_snapshot(GOOD, "fixture", raw, retrieved_at=datetime(2023, 9, 1, tzinfo=UTC))
    process.clean_latest_snapshot(raw=raw, processed=processed)
    assert processed.is_symlink()
    assert (processed / "pool_bounds.parquet").is_file()  # ee backtest's table carried over
    assert read_meta(processed)["sha256"] != "old"
    assert len(generations(tmp_path)) == 1


def test_leftovers_in_a_folder_that_cannot_be_written_are_left_without_an_error(
    tmp_path, monkeypatch
):
    leftover = tmp_path / f".draws.parquet.p{2**22 + 99}-x.tmp"
    leftover.write_bytes(b"half")

    def read_only(self, missing_ok=False):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(type(leftover), "unlink", read_only)
    assert storage.remove_leftovers(tmp_path, ".*.tmp") == []
    monkeypatch.undo()
    assert leftover.exists()
