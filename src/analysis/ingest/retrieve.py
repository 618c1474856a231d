"""Retrieving IRCC's feed and keeping every retrieval, byte for byte, in ``raw/``.

- The source is a URL (``http(s)://``), a ``file://`` URL or a local path.
- HTTP retrieval has timeouts, a size cap, and retries with exponential backoff (tenacity) on
  connection errors, timeouts, bodies cut short and 5xx answers; other answers fail at once.
- The content is checked (UTF-8, JSON, a non-empty ``rounds`` list) before anything is stored.
- A snapshot is stored as ``ee_rounds_<UTC time>_<sha256[:12]>.json`` and made read-only; identical
  content is never stored twice. ``manifest.csv`` records every retrieval.

>>> snapshot_name(datetime(2026, 3, 5, 14, 0, tzinfo=UTC), "ab" * 32)
'ee_rounds_20260305T140000Z_abababababab.json'
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import requests
from tenacity import (
    retry,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from analysis import config
from analysis.errors import FeedError, RetrievalError
from analysis.ingest.feed import MAX_FEED_BYTES, load_rounds, newest_round
from analysis.storage import write_bytes_atomic

log = logging.getLogger(__name__)

MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = [
    "retrieved_at",
    "source",
    "sha256",
    "file",
    "bytes",
    "rounds",
    "newest_round",
    "newest_date",
    "new_content",
]
USER_AGENT = "ee-draws-analysis (+open analysis of Express Entry rounds; polite monthly fetch)"


class _Retryable(Exception):
    """A failure worth trying again (5xx, connection trouble, a body cut short)."""


@dataclass(frozen=True)
class Snapshot:
    """One stored retrieval, as recorded in the manifest."""

    retrieved_at: str
    source: str
    sha256: str
    file: str
    bytes: int
    rounds: int
    newest_round: str | None
    newest_date: str | None
    new_content: bool

    def path(self, raw: Path | None = None) -> Path:
        """Where the snapshot's bytes are stored (in ``raw``, default ``config.raw_dir()``)."""
        return (raw or config.raw_dir()) / self.file


def snapshot_name(retrieved_at: datetime, sha256: str) -> str:
    """The file name of a snapshot: retrieval time (UTC) and the first 12 hex digits of its hash."""
    return f"ee_rounds_{retrieved_at.strftime('%Y%m%dT%H%M%SZ')}_{sha256[:12]}.json"


def _is_url(source: str) -> bool:
    return urlparse(source).scheme in ("http", "https")


def _read_local(source: str, max_bytes: int) -> bytes:
    path = Path(urlparse(source).path if source.startswith("file://") else source).expanduser()
    if not path.is_file():
        raise RetrievalError(f"feed file not found: {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise FeedError(f"{path}: {size:,} bytes is over the {max_bytes:,}-byte cap for the feed")
    return path.read_bytes()


def _http_get(url: str, timeout: float, max_bytes: int) -> bytes:
    try:
        with requests.get(
            url,
            stream=True,
            timeout=(min(timeout, 10.0), timeout),
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
            for chunk in response.iter_content(chunk_size=65536):
                body.write(chunk)
                if body.tell() > max_bytes:
                    raise FeedError(
                        f"{url}: more than {max_bytes:,} bytes, over the cap for the feed"
                    )
            data = body.getvalue()
            if declared and declared.isdigit() and len(data) != int(declared):
                raise _Retryable(
                    f"{url}: body cut short ({len(data):,} of {int(declared):,} bytes)"
                )
            return data
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise _Retryable(f"{url}: {type(exc).__name__}: {exc}") from exc
    except requests.exceptions.ChunkedEncodingError as exc:
        raise _Retryable(f"{url}: body cut short ({exc})") from exc


def retrieve_bytes(
    source: str | None = None,
    *,
    timeout: float = 30.0,
    attempts: int = 4,
    backoff: float = 1.0,
    max_bytes: int = MAX_FEED_BYTES,
) -> bytes:
    """The feed's bytes from ``source`` (default :func:`analysis.config.feed_source`), checked.

    Retries ``attempts`` times in all with exponential backoff starting at ``backoff`` seconds.
    Raises :class:`RetrievalError` when it cannot be reached, :class:`FeedError` when what came
    back is not a usable feed.
    """
    source = source or config.feed_source()
    if _is_url(source):
        get_with_retries = retry(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=backoff, max=30),
            before_sleep=lambda state: log.warning(
                "attempt %d failed (%s); retrying", state.attempt_number, state.outcome.exception()
            ),
            reraise=True,
        )(_http_get)
        try:
            data = get_with_retries(source, timeout, max_bytes)
        except _Retryable as exc:
            raise RetrievalError(
                f"could not retrieve the feed after {attempts} attempts: {exc}"
            ) from None
    else:
        data = _read_local(source, max_bytes)
    load_rounds(data, source)  # the content check: raises FeedError
    return data


# ------------------------------------------------------------------ storing


def read_manifest(raw: Path | None = None) -> pd.DataFrame:
    """Every retrieval so far, oldest first (empty table when there is none)."""
    path = (raw or config.raw_dir()) / MANIFEST
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype="string") for c in MANIFEST_COLUMNS})
    return pd.read_csv(path, dtype="string", keep_default_na=False).astype("string")


def _record(row: pd.Series) -> Snapshot:
    values = {
        k: (None if row[k] in ("", None) or pd.isna(row[k]) else row[k]) for k in MANIFEST_COLUMNS
    }
    values["bytes"] = int(values["bytes"])
    values["rounds"] = int(values["rounds"])
    values["new_content"] = str(values["new_content"]).lower() == "true"
    return Snapshot(**values)


def distinct_snapshots(raw: Path | None = None) -> list[Snapshot]:
    """Distinct stored snapshots (first retrieval of each content), oldest first."""
    manifest = read_manifest(raw)
    distinct = manifest.drop_duplicates("sha256", keep="first")
    return [_record(row) for _, row in distinct.iterrows()]


def latest_snapshot(raw: Path | None = None) -> Snapshot | None:
    """The snapshot of the most recent retrieval (its content may be older)."""
    manifest = read_manifest(raw)
    if manifest.empty:
        return None
    return _record(manifest.iloc[-1])


def store_snapshot(
    data: bytes, source: str, raw: Path | None = None, retrieved_at: datetime | None = None
) -> Snapshot:
    """Store checked feed bytes in ``raw/`` (unless identical content is there) and record them."""
    raw = raw or config.raw_dir()
    raw.mkdir(parents=True, exist_ok=True)
    retrieved_at = (retrieved_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    rounds = load_rounds(data, source)
    digest = hashlib.sha256(data).hexdigest()
    manifest = read_manifest(raw)
    known = manifest[manifest["sha256"] == digest]
    if known.empty:
        name = snapshot_name(retrieved_at, digest)
        write_bytes_atomic(raw / name, data, mode=0o444)
    else:
        name = known.iloc[0]["file"]
    number, day = newest_round(rounds)
    record = Snapshot(
        retrieved_at=retrieved_at.isoformat().replace("+00:00", "Z"),
        source=source,
        sha256=digest,
        file=name,
        bytes=len(data),
        rounds=len(rounds),
        newest_round=number,
        newest_date=day,
        new_content=known.empty,
    )
    updated = pd.concat(
        [manifest, pd.DataFrame([asdict(record)]).astype("string")], ignore_index=True
    )
    write_bytes_atomic(raw / MANIFEST, updated.to_csv(index=False).encode("utf-8"))
    return record


def retrieve_or_latest(source: str | None = None, retrieve_now: bool = True) -> Snapshot:
    """:func:`retrieve_feed` now, or (``retrieve_now=False``) the latest stored retrieval: what
    the ingestion notebook shows (``ee fetch`` runs it after retrieving)."""
    return retrieve_feed(source) if retrieve_now else latest_snapshot()


def retrieve_feed(source: str | None = None, raw: Path | None = None, **options) -> Snapshot:
    """Retrieve the feed and store it. The one call behind ``ee fetch``.

    When the source cannot be reached: with a stored snapshot, log a warning and return the
    latest one (``new_content`` False); without any, raise :class:`RetrievalError` that says how
    to point ``EE_FEED`` at a local copy of the feed.
    """
    source = source or config.feed_source()
    try:
        data = retrieve_bytes(source, **options)
    except RetrievalError as exc:
        cached = latest_snapshot(raw)
        if cached is None:
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
        return Snapshot(**{**asdict(cached), "new_content": False})
    return store_snapshot(data, source, raw)
