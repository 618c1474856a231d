"""Retrieval against a local HTTP server started by the test, and how snapshots are stored."""

from __future__ import annotations

import hashlib
import http.server
import threading
import time
from pathlib import Path

import pytest

from analysis.errors import FeedError, RetrievalError
from analysis.ingest import retrieve, snapshots
from helpers import FEEDS

GOOD = (FEEDS / "small_feed.json").read_bytes()


class Script:
    """What the server answers, request after request: (status, body, options)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = 0


@pytest.fixture
def server():
    script = Script()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            script.requests += 1
            status, body, options = script.answers.pop(0) if script.answers else (200, GOOD, {})
            if options.get("sleep"):
                time.sleep(options["sleep"])
            self.send_response(status)
            length = options.get("length", len(body))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(length))
            self.end_headers()
            try:
                self.wfile.write(body)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            if options.get("close"):
                self.close_connection = True

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    script.url = f"http://127.0.0.1:{httpd.server_address[1]}/ee_rounds_123_en.json"
    yield script
    httpd.shutdown()
    httpd.server_close()


def stored_snapshots(raw: Path) -> list[Path]:
    return sorted(raw.glob("ee_rounds_*.json")) if raw.exists() else []


def test_500_then_success_is_retried_and_stored_once(server, tmp_path):
    server.answers = [(500, b"oops", {}), (200, GOOD, {})]
    snapshot = retrieve.retrieve_feed(server.url, raw=tmp_path, backoff=0.01)
    assert server.requests == 2
    assert snapshot.new_content and snapshot.rounds == 12 and snapshot.newest_round == "260"
    files = stored_snapshots(tmp_path)
    assert len(files) == 1
    assert files[0].read_bytes() == GOOD  # byte for byte
    assert snapshot.sha256 == hashlib.sha256(GOOD).hexdigest()


def test_identical_content_is_not_stored_twice(server, tmp_path):
    first = retrieve.retrieve_feed(server.url, raw=tmp_path)
    second = retrieve.retrieve_feed(server.url, raw=tmp_path)
    assert (first.new_content, second.new_content) == (True, False)
    assert second.file == first.file
    assert len(stored_snapshots(tmp_path)) == 1
    assert len(snapshots.read_manifest(tmp_path)) == 2  # every retrieval is recorded


def test_timeout_gives_up_without_storing(server, tmp_path):
    server.answers = [(200, GOOD, {"sleep": 1.5})] * 2
    with pytest.raises(RetrievalError, match="after 2 attempts.*Timeout") as caught:
        retrieve.retrieve_feed(server.url, raw=tmp_path, timeout=0.3, attempts=2, backoff=0.01)
    assert "EE_FEED" in str(caught.value)
    assert stored_snapshots(tmp_path) == []


def test_body_cut_short_is_retried_and_never_stored(server, tmp_path):
    server.answers = [(200, GOOD[:5000], {"length": len(GOOD), "close": True})] * 3
    with pytest.raises(RetrievalError, match="cut short"):
        retrieve.retrieve_feed(server.url, raw=tmp_path, timeout=2, attempts=3, backoff=0.01)
    assert server.requests == 3
    assert stored_snapshots(tmp_path) == []


def test_invalid_json_is_refused_and_not_stored(server, tmp_path):
    server.answers = [(200, b'{"rounds": [{"drawNumber": "1"', {})]
    with pytest.raises(FeedError, match="not valid JSON"):
        retrieve.retrieve_feed(server.url, raw=tmp_path)
    assert server.requests == 1  # a complete answer that is wrong is not retried
    assert stored_snapshots(tmp_path) == []


def test_an_html_page_is_a_failed_retrieval_naming_the_url(server, tmp_path):
    """A maintenance page served with status 200 (issue 17): not stored, not retried, and (with
    a stored snapshot) the stored one is used; here there is none, so the error names the URL."""
    server.answers = [(200, b"<html>We are updating this page</html>", {})]
    with pytest.raises(RetrievalError, match=f"{server.url} answered with an HTML page"):
        retrieve.retrieve_feed(server.url, raw=tmp_path)
    assert server.requests == 1
    assert stored_snapshots(tmp_path) == []


def test_404_fails_at_once(server, tmp_path):
    server.answers = [(404, b"not found", {})]
    with pytest.raises(RetrievalError, match="404"):
        retrieve.retrieve_feed(server.url, raw=tmp_path)
    assert server.requests == 1


def test_size_cap_from_content_length(server, tmp_path):
    with pytest.raises(FeedError, match="cap"):
        retrieve.retrieve_feed(server.url, raw=tmp_path, max_bytes=1000)
    assert stored_snapshots(tmp_path) == []


def test_unreachable_with_a_cached_snapshot_uses_it(server, tmp_path):
    first = retrieve.retrieve_feed(server.url, raw=tmp_path)
    cached = retrieve.retrieve_feed(
        "http://127.0.0.1:9/feed.json", raw=tmp_path, attempts=1, timeout=1
    )
    assert cached.file == first.file and not cached.new_content


def test_unreachable_without_cache_says_how_to_use_a_local_copy(tmp_path):
    with pytest.raises(RetrievalError) as caught:
        retrieve.retrieve_feed("http://127.0.0.1:9/feed.json", raw=tmp_path, attempts=1, timeout=1)
    message = str(caught.value)
    assert "No snapshot is cached" in message and "EE_FEED=" in message


def test_local_file_source(tmp_path):
    snapshot = retrieve.retrieve_feed(str(FEEDS / "small_feed.json"), raw=tmp_path / "raw")
    assert snapshot.source.endswith("small_feed.json")
    stored = snapshot.path(tmp_path / "raw")
    assert stored.read_bytes() == GOOD
    assert not stored.stat().st_mode & 0o222  # raw snapshots are read-only


def test_local_file_over_the_cap_and_not_utf8(feed_file, tmp_path):
    with pytest.raises(FeedError, match="cap"):
        retrieve.retrieve_feed(str(feed_file(GOOD)), raw=tmp_path / "raw", max_bytes=100)
    with pytest.raises(FeedError, match="not UTF-8"):
        retrieve.retrieve_feed(
            str(feed_file(b'{"rounds": [{"drawName": "caf\xe9"}]}')), raw=tmp_path / "raw"
        )
    assert stored_snapshots(tmp_path / "raw") == []


def test_retrieve_or_latest_shows_the_latest_retrieval_without_retrieving(workspace):
    first = retrieve.retrieve_or_latest(str(FEEDS / "small_feed.json"))
    again = retrieve.retrieve_or_latest("http://127.0.0.1:9/never-asked.json", retrieve_now=False)
    assert again.file == first.file and len(snapshots.read_manifest()) == 1
