"""Data-quality findings: what cleaning repaired, warned about, or refused.

Three severities:

- ``error``: the run cannot be trusted; cleaning stops, raises :class:`FeedError` and leaves the
  previous processed tables untouched;
- ``warning``: the row is kept, the value is null or taken from a fallback, and the log says so;
- ``repaired``: the value was read, but only after a documented assumption (a missing year, say).

Every finding names the round and the field.

>>> log = QualityLog()
>>> log.warn("312", "drawSize", "n/a", "is not a number of invitations")
>>> print(log.findings[0])
feed round 312: drawSize 'n/a' is not a number of invitations
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pandas as pd

from analysis.errors import FeedError
from analysis.ingest.parse import shown, visible
from analysis.vocabulary import plural

SEVERITIES = ("error", "warning", "repaired")

QUALITY_COLUMNS = ["severity", "round", "field", "value", "message"]


@dataclass(frozen=True)
class Finding:
    """One data-quality finding; ``str()`` names the round and the field."""

    severity: str
    round: str | None
    field: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = f"feed round {visible(self.round)}" if self.round is not None else "feed"
        what = f": {self.field}" if self.field else ":"
        value = f" {shown(self.value)}" if self.value is not None else ""
        return f"{where}{what}{value} {self.message}"


@dataclass
class QualityLog:
    """Collects findings while a snapshot is cleaned."""

    findings: list[Finding] = field(default_factory=list)

    def add(self, severity: str, round_: str | None, field_: str | None, value, message: str):
        """Record a finding of ``severity`` about ``field_`` of round ``round_``."""
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity {severity!r}")
        # direction, zero-width and control characters written as escapes: the log is shown
        # on pages, in CSVs and on terminals
        shown = None if value is None else visible(str(value))
        self.findings.append(Finding(severity, round_, field_, shown, message))

    def error(self, round_, field_, value, message):
        """Record that the run cannot be trusted (see :meth:`raise_if_errors`)."""
        self.add("error", round_, field_, value, message)

    def warn(self, round_, field_, value, message):
        """Record a value left empty or taken from a fallback; the row is kept."""
        self.add("warning", round_, field_, value, message)

    def repaired(self, round_, field_, value, message):
        """Record a value read only after a documented assumption."""
        self.add("repaired", round_, field_, value, message)

    @property
    def errors(self) -> list[Finding]:
        """The findings of severity ``error``."""
        return [f for f in self.findings if f.severity == "error"]

    def raise_if_errors(self) -> None:
        """Raise :class:`FeedError` listing the errors (the first 20), if there are any."""
        errors = self.errors
        if errors:
            shown = "\n".join(f"  - {e}" for e in errors[:20])
            more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
            raise FeedError(
                f"the feed cannot be trusted ({plural(len(errors), 'error')}); processed data left "
                f"unchanged:\n{shown}{more}",
                errors,
            )

    def to_frame(self) -> pd.DataFrame:
        """The findings as the ``quality`` table (every column text)."""
        rows = [asdict(f) for f in self.findings]
        return pd.DataFrame(rows, columns=QUALITY_COLUMNS).astype("string")
