"""Retrieval against servers that trickle, stall and redirect in a loop (local, bounded, and
stopping by themselves), the overall deadline, the snapshot bundled for a first run offline,
and a damaged ``raw/`` (manifest deleted, truncated or garbled; a snapshot deleted by hand)."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analysis import config
from analysis.errors import FeedError, RetrievalError
from analysis.ingest import retrieve, snapshots
from analysis.ingest.process import accepted_history, history_revisions
from helpers import FEEDS, run_ee

GOOD = (FEEDS / "small_feed.json").read_bytes()
NEXT = (FEEDS / "small_feed_next.json").read_bytes()
#: Generous bound on how long a call that should stop at a 1-second deadline may take: the
#: servers below would hold a client for minutes (trickle) or forever (stall) without one.
PROMPT = 15.0


class FaultyServer:
    """A local HTTP server whose answer is chosen by the path: /trickle sends one byte every
    0.2 s, /stall sends nothing, /loop redirects to itself, /gzip answers the fixture feed
    gzipped (Content-Length of the compressed bytes), /badgzip and /baddeflate a corrupt
    compressed body, /html a maintenance page with status 200, /good the feed plainly.
    Every handler gives up after 60 s or when the test ends."""

    def __init__(self):
        self.stop = threading.Event()
        stop = self.stop

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                try:
                    if self.path.startswith("/trickle"):
                        self.send_response(200)
                        self.send_header("Content-Length", str(len(GOOD)))
                        self.end_headers()
                        for byte in GOOD[:300]:  # 60 s at most
                            if stop.wait(0.2):
                                return
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                    elif self.path.startswith("/stall"):
                        stop.wait(60)
                    elif self.path.startswith("/gzip"):
                        body = gzip.compress(GOOD)
                        self.send_response(200)
                        self.send_header("Content-Encoding", "gzip")
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                    elif self.path.startswith(("/badgzip", "/baddeflate", "/html")):
                        kind = self.path.split("/")[1]
                        body = (
                            b"<!DOCTYPE html><html><body>Maintenance</body></html>"
                            if kind == "html"
                            else gzip.compress(GOOD)[:40] + b"\x00garbage" * 50
                        )
                        self.send_response(200)
                        if kind == "html":
                            self.send_header("Content-Type", "text/html; charset=utf-8")
                        else:
                            encoding = "gzip" if kind == "badgzip" else "deflate"
                            self.send_header("Content-Encoding", encoding)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                    elif self.path.startswith("/loop"):
                        self.send_response(302)
                        self.send_header("Location", self.path)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                    else:
                        self.send_response(200)
                        self.send_header("Content-Length", str(len(GOOD)))
                        self.end_headers()
                        self.wfile.write(GOOD)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.base}/{path}/ee_rounds_123_en.json"

    def close(self):
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def faulty():
    server = FaultyServer()
    yield server
    server.close()


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


# ------------------------------------------------------------------ issue 17: decoding, HTML


@pytest.mark.parametrize("path", ["badgzip", "baddeflate", "html"])
def test_a_corrupt_or_html_answer_uses_the_stored_snapshot_naming_the_url(
    faulty, tmp_path, caplog, path
):
    first = retrieve.retrieve_feed(faulty.url("good"), raw=tmp_path)
    with caplog.at_level(logging.WARNING):
        cached = retrieve.retrieve_feed(faulty.url(path), raw=tmp_path, attempts=1)
    assert cached.file == first.file and not cached.new_content
    assert faulty.url(path) in caplog.text and "using the latest stored snapshot" in caplog.text
    expected = "HTML page" if path == "html" else "could not be decoded"
    assert expected in caplog.text


def test_an_invalid_ipv6_url_is_named(tmp_path):
    with pytest.raises(RetrievalError, match=r"'http://\[::1/feed.json' is not a URL"):
        retrieve.retrieve_feed("http://[::1/feed.json", raw=tmp_path)


# ------------------------------------------------------------------ item 4: the deadline


@pytest.mark.parametrize("path", ["trickle", "stall"])
def test_deadline_uses_the_stored_snapshot_with_a_warning(faulty, tmp_path, caplog, path):
    first = retrieve.retrieve_feed(faulty.url("good"), raw=tmp_path)
    with caplog.at_level(logging.WARNING):
        cached, seconds = timed(
            lambda: retrieve.retrieve_feed(faulty.url(path), raw=tmp_path, deadline=1.0, timeout=30)
        )
    assert cached.file == first.file and not cached.new_content
    assert seconds < PROMPT
    assert "1-second deadline (EE_FETCH_DEADLINE)" in caplog.text
    assert "using the latest stored snapshot" in caplog.text


def test_deadline_comes_from_the_environment(faulty, tmp_path, monkeypatch):
    monkeypatch.setenv("EE_FETCH_DEADLINE", "1")
    with pytest.raises(RetrievalError, match="1-second deadline") as caught:
        timed(lambda: retrieve.retrieve_bytes(faulty.url("trickle"), timeout=30))
    assert faulty.url("trickle") in str(caught.value)


def test_a_bad_deadline_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setenv("EE_FETCH_DEADLINE", "-5")
    with pytest.raises(ValueError, match="EE_FETCH_DEADLINE='-5' is not a number of seconds"):
        config.fetch_deadline()


def test_deadline_covers_the_retries(faulty, tmp_path):
    """A stalling server with many attempts left: the deadline still ends it."""
    _, seconds = timed(
        lambda: pytest.raises(
            RetrievalError,
            retrieve.retrieve_bytes,
            faulty.url("stall"),
            timeout=0.5,
            attempts=100,
            backoff=0.1,
            deadline=1.5,
        )
    )
    assert seconds < PROMPT


def test_redirect_loop_names_the_url_and_falls_back(faulty, tmp_path, caplog):
    first = retrieve.retrieve_feed(faulty.url("good"), raw=tmp_path)
    with pytest.raises(RetrievalError) as caught:
        retrieve.retrieve_bytes(faulty.url("loop"))
    assert f"{faulty.url('loop')}: redirected in a loop" in str(caught.value)
    with caplog.at_level(logging.WARNING):
        cached = retrieve.retrieve_feed(faulty.url("loop"), raw=tmp_path)
    assert cached.file == first.file
    assert "redirected in a loop" in caplog.text


def test_a_compressed_answer_is_not_mistaken_for_a_body_cut_short(faulty):
    """Content-Length counts the gzipped bytes; the feed is the bytes after gunzip."""
    assert retrieve.retrieve_bytes(faulty.url("gzip"), attempts=1) == GOOD


# ------------------------------------------------------------------ item 4: first run offline


def test_the_bundled_snapshot_is_the_newest_shared_one(snapshots_dir):
    bundled = retrieve.bundled_snapshot()
    assert bundled is not None and bundled.name == "ee_rounds_2026-03-05.json.gz"
    assert bundled.data == (snapshots_dir / "ee_rounds_2026-03-05.json").read_bytes()
    packaged = Path(retrieve.__file__).parent / "bundled" / bundled.name
    assert packaged.stat().st_size < 60_000  # compressed, as the issue asks
    assert gzip.decompress(packaged.read_bytes()) == bundled.data


def test_first_run_offline_stores_the_bundled_snapshot(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(config, "IRCC_FEED_URL", "http://127.0.0.1:9/ee_rounds_123_en.json")
    with caplog.at_level(logging.WARNING):
        snapshot = retrieve.retrieve_feed(config.IRCC_FEED_URL, raw=tmp_path, attempts=1)
    assert snapshot.new_content and snapshot.retrieved_at == "2026-03-05T00:00:00Z"
    assert snapshot.source.endswith(
        "as retrieved on 2026-03-05 (copy bundled with the package: "
        "analysis/ingest/bundled/ee_rounds_2026-03-05.json.gz)"
    )
    assert snapshot.newest_round == "402" and snapshot.newest_date == "2026-03-05"
    row = snapshots.read_manifest(tmp_path).iloc[0]
    assert row["source"] == snapshot.source and row["file"].startswith("ee_rounds_20260305T")
    stored = snapshot.path(tmp_path).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == snapshot.sha256
    assert "retrieved on 2026-03-05" in caplog.text and "For the live feed, run `ee fetch`" in (
        caplog.text
    )
    # the next run offline uses what is stored now, without storing it again
    again = retrieve.retrieve_feed(config.IRCC_FEED_URL, raw=tmp_path, attempts=1)
    assert again.file == snapshot.file and len(list(tmp_path.glob("ee_rounds_*.json"))) == 1


def test_another_unreachable_source_is_not_replaced_by_the_bundled_copy(tmp_path):
    with pytest.raises(RetrievalError, match="EE_FEED="):
        retrieve.retrieve_feed("http://127.0.0.1:9/mirror.json", raw=tmp_path, attempts=1)
    assert not list(tmp_path.glob("ee_rounds_*"))


@pytest.mark.slow
def test_make_report_on_a_fresh_machine_without_network(tmp_path):
    """`ee report` (what `make report` runs) with no network and nothing stored: the bundled
    snapshot gives the newest month's report. The network is cut with a proxy that refuses."""
    env = {
        "EE_DATA_DIR": str(tmp_path / "data"),
        "EE_REPORTS_DIR": str(tmp_path / "site"),
        "EE_FEED": "",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
        "no_proxy": "",
    }
    result = run_ee("report", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "IRCC's feed as retrieved on 2026-03-05" in result.stderr
    assert (tmp_path / "site" / "2026-03" / "index.html").is_file()
    manifest = snapshots.read_manifest(tmp_path / "data" / "raw")
    assert manifest["source"].str.contains("bundled with the package").all()


# ------------------------------------------------------------------ item 9: damaged raw/


@pytest.fixture
def three_retrievals(tmp_path):
    """raw/ after three retrievals of two contents (GOOD, NEXT, GOOD again), a day apart."""
    raw = tmp_path / "raw"
    for day, content in enumerate((GOOD, NEXT, GOOD), start=1):
        snapshots.store_snapshot(
            content, "fixture", raw, retrieved_at=datetime(2023, 9, day, tzinfo=UTC)
        )
    return raw


def test_deleted_manifest_is_rebuilt_with_a_warning(three_retrievals, caplog):
    raw = three_retrievals
    history = history_revisions(accepted_history(raw))
    (raw / "manifest.csv").unlink()
    with caplog.at_level(logging.WARNING):
        manifest = snapshots.read_manifest(raw)
    assert "manifest.csv was missing" in caplog.text
    assert len(manifest) == 2 and set(manifest["source"]) == {snapshots.UNKNOWN_SOURCE}
    assert (raw / "manifest.csv").exists()  # written back
    assert (
        len(history_revisions(accepted_history(raw))) == len(history) > 0
    )  # no silently shrunk history
    again = retrieve.retrieve_feed(str(FEEDS / "small_feed_next.json"), raw=raw)
    assert not again.new_content
    assert len(list(raw.glob("ee_rounds_*.json"))) == 2  # never a duplicate raw copy


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) - 40],  # cut short in the middle of the last row
        lambda text: text.splitlines()[0] + "\n",  # only the header left
        lambda text: "",  # emptied
        lambda text: "\x00\xff garbage, not a manifest\n1,2\n",
        lambda text: text.replace(",True", ",perhaps", 1),
    ],
    ids=["truncated", "header only", "empty", "garbage", "bad value"],
)
def test_damaged_manifest_is_rebuilt_naming_it(three_retrievals, caplog, damage):
    raw = three_retrievals
    before = snapshots.read_manifest(raw)
    history = history_revisions(accepted_history(raw))
    path = raw / "manifest.csv"
    path.write_text(damage(path.read_text()), encoding="latin-1")
    with caplog.at_level(logging.WARNING):
        after = snapshots.read_manifest(raw)
    assert "manifest.csv was" in caplog.text
    assert set(after["file"]) == set(before["file"])
    assert len(history_revisions(accepted_history(raw))) == len(history)
    assert snapshots.latest_snapshot(raw) is not None


def test_snapshot_deleted_by_hand_is_restored_by_fetching_the_same_bytes(three_retrievals, caplog):
    raw = three_retrievals
    newest = snapshots.latest_snapshot(raw)
    path = newest.path(raw)
    path.unlink()
    with caplog.at_level(logging.WARNING):
        again = retrieve.retrieve_feed(str(FEEDS / "small_feed.json"), raw=raw)
    assert again.file == newest.file and path.read_bytes() == GOOD
    assert "was missing; restored from this retrieval" in caplog.text
    assert not path.stat().st_mode & 0o222


def test_a_changed_snapshot_without_a_row_is_refused_naming_it(three_retrievals):
    raw = three_retrievals
    newest = snapshots.latest_snapshot(raw)
    path = newest.path(raw)
    path.chmod(0o644)
    path.write_bytes(GOOD.replace(b"486", b"999"))
    (raw / "manifest.csv").unlink()
    with pytest.raises(FeedError, match=f"{path.name} does not match the sha256 in its name"):
        snapshots.read_manifest(raw)


# ------------------------------------------------------------------ issue 17: clear messages


def test_a_full_disk_while_storing_names_the_file(tmp_path, monkeypatch):
    import errno

    from analysis import storage

    def full(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage.os, "fsync", full)
    with pytest.raises(OSError, match=r"could not write .*raw.*ee_rounds_.*\.json: No space"):
        retrieve.retrieve_feed(str(FEEDS / "small_feed.json"), raw=tmp_path / "raw")
    monkeypatch.undo()
    assert not list((tmp_path / "raw").glob("*.tmp")) and not list(tmp_path.rglob(".*.tmp"))


def test_a_deadline_beyond_the_platform_is_refused_with_exit_2(tmp_path):
    env = {
        "EE_DATA_DIR": str(tmp_path / "data"),
        "EE_REPORTS_DIR": str(tmp_path / "reports"),
        "EE_FETCH_DEADLINE": "1e10",
    }
    result = run_ee("fetch", "--no-notebook", "--source", "http://127.0.0.1:9/feed.json", env=env)
    assert result.returncode == 2, result.stderr
    assert "EE_FETCH_DEADLINE='1e10'" in result.stderr
    assert "the longest wait this platform allows" in result.stderr
    assert "Traceback" not in result.stderr
