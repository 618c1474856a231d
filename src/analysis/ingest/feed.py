"""Reading the feed's bytes: encoding, JSON, and the shape every later step relies on.

>>> rounds = load_rounds(b'{"rounds": [{"drawNumber": "1"}]}')
>>> rounds[0]["drawNumber"]
'1'
"""

from __future__ import annotations

import json
import logging
import re

from analysis import config
from analysis.errors import FeedError
from analysis.ingest.parse import visible

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

#: How deep a value may be nested in the feed (IRCC's is three levels: document, ``rounds``, a
#: round of text values). Anything deeper is refused at retrieval: a value nested ~975 levels
#: deep is valid JSON that every later reader (pandas, Parquet, notebooks) chokes on.
MAX_DEPTH = 8

#: A lone UTF-16 surrogate (``"\ud800"`` in JSON): valid JSON, but no UTF-8 file can hold it.
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

log = logging.getLogger(__name__)


def _round_of(item) -> str:
    number = item.get("drawNumber") if isinstance(item, dict) else None
    return f"round {number!r}" if isinstance(number, str) and len(number) < 40 else "a round"


class _Pairs:
    """``object_pairs_hook`` that keeps JSON objects as dicts and notes keys given twice."""

    def __init__(self):
        self.repeated: list[tuple[dict, str, list]] = []

    def __call__(self, pairs):
        result = dict(pairs)
        if len(result) != len(pairs):  # rare: find which keys, and their values
            seen: dict[str, list] = {}
            for key, value in pairs:
                seen.setdefault(key, []).append(value)
            self.repeated.extend((result, k, v) for k, v in seen.items() if len(v) > 1)
        return result


def _check_repeated_keys(source: str, pairs: _Pairs) -> None:
    """Refuse a key given twice with different values (which one did IRCC mean?); the same value
    twice is a warning."""
    for item, key, values in pairs.repeated:
        where = f"{source}: {_round_of(item)}, field {key!r}"
        if any(v != values[0] for v in values[1:]):
            shown_values = ", ".join(repr(v)[:60] for v in values[:3])
            raise FeedError(
                f"{where} is given {len(values)} times with different values ({shown_values}): "
                "the feed is ambiguous, nothing stored"
            )
        log.warning("%s is given %d times with the same value; read once", where, len(values))


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"(?:\s*:)?|[\[\]{}]')


def _deep_place(text: str) -> str:
    """Where JSON too deep for Python's parser first goes deeper than :data:`MAX_DEPTH`: the
    round (its ``drawNumber`` when seen before) and the field. Only on that error path."""
    depth, key, field, number = 0, None, None, None
    for token in _TOKEN.finditer(text):
        value = token.group()
        if value in "[{":
            depth += 1
            if depth == 3:
                number = None
            if depth > MAX_DEPTH:
                break
        elif value in "]}":
            depth -= 1
        elif value.endswith(":"):
            key = value.rstrip(": \t\r\n")
            if depth == 3:
                field = key
        elif depth == 3 and key == '"drawNumber"':
            number = value
    if field is None:
        return "feed"
    where = f"round {number[:40]}" if number else "a round"
    return f"{where.replace(chr(34), chr(39))}, field {field.replace(chr(34), chr(39))}"


def _check_values(
    source: str, document: dict, rounds: list, escaped_surrogate: bool = True
) -> None:
    """Refuse what later readers cannot hold: lone surrogates in any text, values nested deeper
    than :data:`MAX_DEPTH`. The message names the round and the field."""
    flat = all(
        type(value) is str or (key == "rounds" and value is rounds)
        for key, value in document.items()
    ) and all(type(value) is str for item in rounds for value in item.values())
    if flat and not escaped_surrogate:
        return  # IRCC's shape (three levels of text), and no surrogate escape in the text
    stack: list[tuple[object, int, str, str]] = [(document, 1, "feed", "")]
    round_names = {id(item): _round_of(item) for item in rounds}
    while stack:
        value, depth, where, field = stack.pop()
        if depth > MAX_DEPTH:
            raise FeedError(
                f"{source}: {where}, field {field!r} is nested too deeply (more than "
                f"{MAX_DEPTH} levels; IRCC's feed is three): not IRCC's rounds feed"
            )
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise FeedError(
                    f"{source}: {where}, field {field!r} holds a lone surrogate "
                    f"(U+{ord(_SURROGATE.search(value)[0]):04X}), not a character: the text "
                    "cannot be stored as UTF-8"
                )
            continue
        if isinstance(value, dict):
            items = value.items()
        elif isinstance(value, list):
            items = ((field, v) for v in value)
        else:
            continue
        inner = round_names.get(id(value), where)
        for key, child in items:
            if isinstance(key, str) and _SURROGATE.search(key):
                raise FeedError(
                    f"{source}: {inner} has a field name with a lone surrogate "
                    f"({key.encode('utf-8', 'backslashreplace').decode()[:60]})"
                )
            named = inner != where or (depth == 1 and key != "rounds")
            stack.append((child, depth + 1, inner, key if named else field))


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
    pairs = _Pairs()
    try:
        document = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        hint = " (the file looks cut short)" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise FeedError(
            f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}"
        ) from None
    except RecursionError:
        raise FeedError(
            f"{source}: {_deep_place(text)} is nested too deeply to read (IRCC's feed is "
            "three levels deep)"
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
    # text decoded from UTF-8 holds a surrogate only through a JSON escape (\ud800)
    _check_values(source, document, rounds, bool(_SURROGATE_ESCAPE.search(text)))
    _check_repeated_keys(source, pairs)
    return rounds


def newest_round(rounds: list[dict]) -> tuple[str | None, str | None]:
    """(drawNumber, drawDate) of the newest round by date, as written in the feed."""
    dated = [r for r in rounds if isinstance(r.get("drawDate"), str)]
    if not dated:
        return None, None
    newest = max(dated, key=lambda r: (r["drawDate"], str(r.get("drawNumber", ""))))
    number = newest.get("drawNumber")
    # recorded in manifest.csv and printed by `ee fetch`: escape sequences written visibly
    return (None if number is None else visible(str(number))[:60]), visible(newest["drawDate"])[:60]
