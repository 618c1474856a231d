"""Reading the feed's bytes: encoding, JSON, and the shape every later step relies on.

>>> rounds = load_rounds(b'{"rounds": [{"drawNumber": "1"}]}')
>>> rounds[0]["drawNumber"]
'1'
"""

from __future__ import annotations

import json

from analysis import config
from analysis.errors import FeedError

#: Fields every round must carry; without one of them the feed's format has changed.
REQUIRED_FIELDS = (
    "drawNumber",
    "drawDate",
    "drawDateFull",
    "drawName",
    "drawSize",
    "drawCRS",
)

#: The range of CRS scores (points): a cutoff or a pool bin outside it is not a score.
MIN_SCORE, MAX_SCORE = 0, 1200

#: Largest feed accepted by default (``EE_MAX_FEED_BYTES`` overrides: see
#: :func:`analysis.config.max_feed_bytes`).
MAX_FEED_BYTES = config.DEFAULT_MAX_FEED_BYTES


def load_rounds(data: bytes, source: str = "feed", max_bytes: int | None = None) -> list[dict]:
    """Decode, parse and shape-check the feed; return its list of rounds.

    Raises :class:`FeedError` when the bytes are over ``max_bytes`` (default
    :func:`analysis.config.max_feed_bytes`), not UTF-8, not JSON, have no ``rounds`` list, an
    empty one, or a round that is not an object.
    """
    max_bytes = max_bytes or config.max_feed_bytes()
    if len(data) > max_bytes:
        raise FeedError(
            f"{source}: {len(data):,} bytes is over the {max_bytes:,}-byte cap for the feed "
            "(EE_MAX_FEED_BYTES)"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedError(
            f"{source}: not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r})"
        ) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (the file looks cut short)" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise FeedError(
            f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}"
        ) from None
    except RecursionError:
        raise FeedError(
            f"{source}: JSON nested too deeply to read (IRCC's feed is three levels deep)"
        ) from None
    except ValueError as exc:  # a number of 4,300+ digits: Python's integer-string limit
        raise FeedError(f"{source}: JSON holds a number too long to read ({exc})") from None
    if not isinstance(document, dict) or "rounds" not in document:
        raise FeedError(f"{source}: JSON has no 'rounds' list: not IRCC's rounds feed")
    rounds = document["rounds"]
    if not isinstance(rounds, list):
        raise FeedError(f"{source}: 'rounds' is a {type(rounds).__name__}, not a list")
    if not rounds:
        raise FeedError(f"{source}: 'rounds' is empty")
    for position, item in enumerate(rounds):
        if not isinstance(item, dict):
            raise FeedError(
                f"{source}: rounds[{position}] is a {type(item).__name__}, not an object"
            )
    return rounds


def newest_round(rounds: list[dict]) -> tuple[str | None, str | None]:
    """(drawNumber, drawDate) of the newest round by date, as written in the feed."""
    dated = [r for r in rounds if isinstance(r.get("drawDate"), str)]
    if not dated:
        return None, None
    newest = max(dated, key=lambda r: (r["drawDate"], str(r.get("drawNumber", ""))))
    return newest.get("drawNumber"), newest.get("drawDate")
