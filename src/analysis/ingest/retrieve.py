"""Retrieving IRCC's feed (HTTP with retries and a deadline, or a local copy), and what stands in
when it cannot be read.

- The source is a URL (``http(s)://``), a ``file://`` URL or a local path.
- HTTP retrieval has timeouts, a size cap, and retries with exponential backoff (tenacity) on
  connection errors, timeouts, bodies cut short and 5xx answers; other answers fail at once.
- The content is checked (UTF-8, JSON, a non-empty ``rounds`` list) before anything is stored
  (:mod:`analysis.ingest.snapshots` stores it and keeps the manifest).
- When the source cannot be read, the latest stored snapshot stands in, or on a first run
  offline the snapshot bundled with the package (:func:`retrieve_feed`, :func:`fell_back`).
"""

from __future__ import annotations

import gzip
import io
import logging
import re
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse

import requests
from tenacity import (
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)
from urllib3.exceptions import DecodeError, ProtocolError

from analysis import config
from analysis.errors import FeedError, RetrievalError
from analysis.ingest.feed import load_rounds
from analysis.ingest.snapshots import Snapshot, latest_snapshot, name_time, store_snapshot

log = logging.getLogger(__name__)

USER_AGENT = "ee-draws-analysis (+open analysis of Express Entry rounds; polite monthly fetch)"


class _Retryable(Exception):
    """A failure worth trying again (5xx, connection trouble, a body cut short)."""


def _is_url(source: str) -> bool:
    return urlparse(source).scheme in ("http", "https")


def _local_path(source: str) -> Path:
    return Path(urlparse(source).path if source.startswith("file://") else source).expanduser()


#: A stored copy's name that says when it was retrieved: ``ee_rounds_2026-03-05.json`` (a day,
#: like the bundled snapshots) or ``ee_rounds_20260305T120000Z_<sha>.json`` (a ``raw/`` file).
_STORED_NAME = re.compile(r"ee_rounds_(?:(\d{4}-\d{2}-\d{2})|(\d{8}T\d{6}Z))(?:[_.]|$)")


def stored_at(source: str, now: datetime | None = None) -> datetime:
    """When a local copy of the feed was stored: the retrieval time its name carries
    (:data:`_STORED_NAME`), else the file's modification time; never later than ``now``. A
    local file is a retrieval made when it was stored, never today: a copy kept since March
    does not make March complete.

    >>> stored_at("/copies/ee_rounds_2026-03-05.json").isoformat()
    '2026-03-05T00:00:00+00:00'
    >>> stored_at("raw/ee_rounds_20260805T131700Z_0123456789ab.json").isoformat()
    '2026-08-05T13:17:00+00:00'
    """
    now = now or datetime.now(UTC)
    path = _local_path(source)
    found = _STORED_NAME.search(path.name)
    if found and found[1]:
        moment = datetime.combine(date.fromisoformat(found[1]), datetime.min.time(), tzinfo=UTC)
    elif found:
        moment = name_time(found[2])
    else:
        moment = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return min(moment, now)


def _read_local(source: str, max_bytes: int) -> bytes:
    path = _local_path(source)
    if not path.is_file():
        raise RetrievalError(f"feed file not found: {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise FeedError(f"{path}: {size:,} bytes is over the {max_bytes:,}-byte cap for the feed")
    return path.read_bytes()


class _Deadline:
    """When a retrieval must be over. The caller stops waiting at that moment; the worker
    thread sees ``cancelled`` (or the time) between reads and stops too."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.cancelled = threading.Event()

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def check(self, url: str) -> None:
        if self.cancelled.is_set() or self.remaining() <= 0:
            raise RetrievalError(self.message(url))

    def message(self, url: str) -> str:
        return (
            f"{url}: no complete answer within the {self.seconds:g}-second deadline "
            "(EE_FETCH_DEADLINE)"
        )


def _http_get(url: str, timeout: float, max_bytes: int, deadline: _Deadline) -> bytes:
    deadline.check(url)
    read_timeout = max(0.1, min(timeout, deadline.remaining()))
    try:
        with requests.get(
            url,
            stream=True,
            timeout=(min(read_timeout, 10.0), read_timeout),
            headers={"User-Agent": USER_AGENT},
        ) as response:
            if response.status_code >= 500:
                raise _Retryable(f"{url} answered {response.status_code} {response.reason}")
            if response.status_code != 200:
                raise RetrievalError(f"{url} answered {response.status_code} {response.reason}")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FeedError(
                    f"{url}: {int(declared):,} bytes is over the "
                    f"{max_bytes:,}-byte cap for the feed"
                )
            body = io.BytesIO()
            # read1: whatever has arrived, so that a server trickling bytes cannot hold a read
            # past the deadline (read(n) would wait for all n bytes).
            while chunk := response.raw.read1(65536, decode_content=True):
                body.write(chunk)
                if body.tell() > max_bytes:
                    raise FeedError(
                        f"{url}: more than {max_bytes:,} bytes, over the cap for the feed"
                    )
                deadline.check(url)
            data = body.getvalue()
            received = response.raw.tell()  # bytes as sent (before gzip is undone)
            if declared and declared.isdigit() and received != int(declared):
                raise _Retryable(f"{url}: body cut short ({received:,} of {int(declared):,} bytes)")
            _refuse_html(url, response.headers.get("Content-Type", ""), data)
            return data
    except requests.TooManyRedirects as exc:
        last = exc.response.url if exc.response is not None else url
        raise RetrievalError(
            f"{url}: redirected in a loop (more than {requests.models.DEFAULT_REDIRECT_LIMIT} "
            f"redirects, the last to {last})"
        ) from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise _Retryable(f"{url}: {type(exc).__name__}: {exc}") from exc
    except (requests.exceptions.ChunkedEncodingError, ProtocolError) as exc:
        raise _Retryable(f"{url}: body cut short ({exc})") from exc
    except (DecodeError, requests.exceptions.ContentDecodingError) as exc:
        raise RetrievalError(
            f"{url}: the compressed answer could not be decoded (corrupt gzip or deflate: "
            f"{type(exc).__name__}: {str(exc)[:200]})"
        ) from None
    except requests.RequestException as exc:  # a URL requests cannot use, and the like
        raise RetrievalError(f"{url}: {type(exc).__name__}: {exc}") from None


def _refuse_html(url: str, content_type: str, data: bytes) -> None:
    """An HTML page where the JSON feed should be (a maintenance or error page served with
    status 200) is a failed retrieval, not a broken feed: the stored snapshot is used."""
    start = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if "html" in content_type.lower() or start.startswith((b"<!doctype", b"<html", b"<")):
        raise RetrievalError(
            f"{url} answered with an HTML page (Content-Type: {content_type or 'none'}), not "
            "the JSON feed (a maintenance or error page?)"
        )


def _retrying_get(url, timeout, attempts, backoff, max_bytes, deadline: _Deadline) -> bytes:
    get_with_retries = retry(
        retry=retry_if_exception_type(_Retryable),
        stop=stop_after_attempt(attempts) | stop_after_delay(deadline.seconds),
        wait=wait_exponential(multiplier=backoff, max=30),
        before_sleep=lambda state: log.warning(
            "attempt %d failed (%s); retrying", state.attempt_number, state.outcome.exception()
        ),
        sleep=lambda seconds: deadline.cancelled.wait(min(seconds, max(deadline.remaining(), 0))),
        reraise=True,
    )(_http_get)
    try:
        return get_with_retries(url, timeout, max_bytes, deadline)
    except _Retryable as exc:
        if deadline.remaining() <= 0 or deadline.cancelled.is_set():
            raise RetrievalError(f"{deadline.message(url)}; the last attempt: {exc}") from None
        raise RetrievalError(
            f"could not retrieve the feed after {attempts} attempts: {exc}"
        ) from None


def _within(deadline: _Deadline, url: str, work) -> bytes:
    """``work()`` in a daemon thread; its result, or :class:`RetrievalError` at the deadline
    (the thread is told to stop and left to end on its own)."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["data"] = work()
        except BaseException as exc:  # noqa: BLE001 (handed to the waiting thread)
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="ee-fetch", daemon=True)
    worker.start()
    worker.join(max(deadline.remaining(), 0))
    if worker.is_alive():
        deadline.cancelled.set()
        raise RetrievalError(deadline.message(url))
    if "error" in outcome:
        raise outcome["error"]
    return outcome["data"]


def retrieve_bytes(
    source: str | None = None,
    *,
    timeout: float = 30.0,
    attempts: int = 4,
    backoff: float = 1.0,
    max_bytes: int | None = None,
    deadline: float | None = None,
) -> bytes:
    """The feed's bytes from ``source`` (default :func:`analysis.config.feed_source`), checked.

    Retries ``attempts`` times in all with exponential backoff starting at ``backoff`` seconds,
    each read waiting at most ``timeout`` seconds, and the whole retrieval at most ``deadline``
    seconds (default :func:`analysis.config.fetch_deadline`, ``EE_FETCH_DEADLINE``): a server
    that trickles, stalls or redirects in a loop cannot hold a run. Raises
    :class:`RetrievalError` when it cannot be reached in time, :class:`FeedError` when what came
    back is not a usable feed.
    """
    source = source or config.feed_source()
    max_bytes = max_bytes or config.max_feed_bytes()
    try:
        is_url = _is_url(source)
    except ValueError as exc:  # "Invalid IPv6 URL" and the like, from urllib
        raise RetrievalError(f"{source!r} is not a URL that can be read: {exc}") from None
    if is_url:
        limit = _Deadline(deadline if deadline is not None else config.fetch_deadline())
        data = _within(
            limit,
            source,
            lambda: _retrying_get(source, timeout, attempts, backoff, max_bytes, limit),
        )
    else:
        data = _read_local(source, max_bytes)
    load_rounds(data, source, max_bytes)  # the content check: raises FeedError
    return data


#: Snapshots this process handed back because the source could not be read: (retrieved_at,
#: sha256) -> why (see :func:`fell_back`).
_FELL_BACK: dict[tuple[str, str], str] = {}


def fell_back(snapshot: Snapshot) -> str | None:
    """Why ``snapshot`` was handed back instead of a retrieval (the source could not be read,
    so a stored or bundled snapshot stands in), or None when it was retrieved now. The
    publishing workflow fails on it, after publishing what it can, so an owner hears of it."""
    return _FELL_BACK.get((snapshot.retrieved_at, snapshot.sha256))


# ------------------------------------------------------------------ the bundled snapshot

#: Bundled snapshots: ``ee_rounds_<day retrieved>.json.gz`` in ``analysis/ingest/bundled``.
BUNDLED_FILE = re.compile(r"ee_rounds_(\d{4}-\d{2}-\d{2})\.json\.gz")


@dataclass(frozen=True)
class Bundled:
    """A real snapshot of IRCC's feed shipped with the package, for a first run offline."""

    name: str
    retrieved_on: date
    data: bytes

    @property
    def source(self) -> str:
        return (
            f"{config.IRCC_FEED_URL} as retrieved on {self.retrieved_on.isoformat()} "
            f"(copy bundled with the package: analysis/ingest/bundled/{self.name})"
        )


def bundled_snapshot() -> Bundled | None:
    """The newest snapshot bundled with the package (None if the package has none)."""
    folder = resources.files("analysis.ingest").joinpath("bundled")
    if not folder.is_dir():
        return None
    names = sorted(item.name for item in folder.iterdir() if BUNDLED_FILE.fullmatch(item.name))
    if not names:
        return None
    name = names[-1]
    day = date.fromisoformat(BUNDLED_FILE.fullmatch(name)[1])
    return Bundled(name, day, gzip.decompress(folder.joinpath(name).read_bytes()))


def _store_bundled(reason: Exception, raw: Path | None) -> Snapshot | None:
    """First run offline: store the bundled snapshot as a retrieval on its own day, and warn."""
    bundled = bundled_snapshot()
    if bundled is None:
        return None
    retrieved = datetime.combine(bundled.retrieved_on, datetime.min.time(), tzinfo=UTC)
    record = store_snapshot(bundled.data, bundled.source, raw, retrieved_at=retrieved)
    log.warning(
        "%s\nNothing is stored in %s yet, so the snapshot bundled with the package is used: "
        "IRCC's feed as retrieved on %s (%d rounds, the newest %s on %s). Reports show the "
        "rounds up to that day. For the live feed, run `ee fetch` (or `make report`) again "
        "when %s can be reached, or point EE_FEED at a copy of the feed.",
        reason,
        raw or config.raw_dir(),
        bundled.retrieved_on.isoformat(),
        record.rounds,
        record.newest_round,
        record.newest_date,
        config.IRCC_FEED_URL,
    )
    return record


def retrieve_or_latest(source: str | None = None, retrieve_now: bool = True) -> Snapshot:
    """:func:`retrieve_feed` now, or (``retrieve_now=False``) the latest stored retrieval: what
    the ingestion notebook shows (``ee fetch`` runs it after retrieving)."""
    return retrieve_feed(source) if retrieve_now else latest_snapshot()


def retrieve_feed(source: str | None = None, raw: Path | None = None, **options) -> Snapshot:
    """Retrieve the feed and store it. The one call behind ``ee fetch``.

    When the source cannot be reached (or not within the deadline): with a stored snapshot,
    log a warning and return the latest one (``new_content`` False). Without any, IRCC's URL
    (the default source) falls back to the snapshot of IRCC's feed bundled with the package
    (stored in ``raw/`` with its true source and day, and a warning naming that day); any other
    source raises :class:`RetrievalError` that says how to point ``EE_FEED`` at a copy of the
    feed.
    """
    source = source or config.feed_source()
    try:
        data = retrieve_bytes(source, **options)
    except RetrievalError as exc:
        cached = latest_snapshot(raw)
        if cached is None:
            bundled = _store_bundled(exc, raw) if source == config.IRCC_FEED_URL else None
            if bundled is not None:
                _FELL_BACK[(bundled.retrieved_at, bundled.sha256)] = (
                    f"{exc}; the bundled snapshot retrieved on {bundled.retrieved_at} is used"
                )
                return bundled
            raise RetrievalError(
                f"{exc}\nNo snapshot is cached in {raw or config.raw_dir()} either. "
                "Point EE_FEED at a local copy of the feed, e.g.\n"
                "  EE_FEED=/path/to/ee_rounds_123_en.json make data"
            ) from None
        log.warning(
            "%s; using the latest stored snapshot %s (retrieved %s)",
            exc,
            cached.file,
            cached.retrieved_at,
        )
        _FELL_BACK[(cached.retrieved_at, cached.sha256)] = (
            f"{exc}; the latest stored snapshot {cached.file} (retrieved {cached.retrieved_at}) "
            "is used"
        )
        return Snapshot(**{**asdict(cached), "new_content": False})
    when = None if _is_url(source) else stored_at(source)
    return store_snapshot(data, source, raw, retrieved_at=when)
