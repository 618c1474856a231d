"""Declared schemas of the processed tables, checked with pandera before they are published.

>>> from analysis.ingest.schemas import DRAWS
>>> sorted(DRAWS.columns)[:3]
['cutoff', 'date', 'distribution_date']
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from analysis.errors import FeedError
from analysis.ingest.feed import MAX_SCORE, MIN_SCORE
from analysis.ingest.quality import SEVERITIES
from analysis.taxonomy import ALL_PROGRAM, SELECTIONS, UNCLASSIFIED, known_families

DRAWS = pa.DataFrameSchema(
    {
        "round": pa.Column("string", pa.Check.str_matches(r"^\d+[a-zA-Z]?$"), unique=True),
        "date": pa.Column("datetime64[ns]"),
        "month": pa.Column("string", pa.Check.str_matches(r"^\d{4}-\d{2}$")),
        "drawn_at": pa.Column("datetime64[ns, UTC]", nullable=True),
        "invitations": pa.Column("Int64", pa.Check.gt(0), nullable=True),
        "cutoff": pa.Column("Int64", pa.Check.in_range(MIN_SCORE, MAX_SCORE), nullable=True),
        "tie_break_at": pa.Column("datetime64[ns, UTC]", nullable=True),
        "name": pa.Column("string"),
        "programs": pa.Column("string"),
        "family": pa.Column("string", pa.Check.isin([*known_families(), UNCLASSIFIED])),
        "label": pa.Column("string"),
        "selection": pa.Column("string", pa.Check.isin(list(SELECTIONS))),
        "version": pa.Column("Int64", pa.Check.ge(1), nullable=True),
        "version_year": pa.Column("Int64", pa.Check.in_range(2015, 2100), nullable=True),
        "is_all_program": pa.Column(bool),
        "is_category": pa.Column(bool),
        "distribution_date": pa.Column("datetime64[ns]", nullable=True),
        "removed_since": pa.Column("datetime64[ns]", nullable=True),
    },
    checks=[
        pa.Check(
            lambda d: d["is_all_program"] == d["family"].eq(ALL_PROGRAM),
            name="is_all_program matches family",
        ),
        pa.Check(lambda d: d["date"].is_monotonic_increasing, name="rounds in date order"),
    ],
    strict=True,
    ordered=True,
    name="draws",
)

POOL = pa.DataFrameSchema(
    {
        "distribution_date": pa.Column("datetime64[ns]"),
        "score_low": pa.Column("int64", pa.Check.in_range(MIN_SCORE, MAX_SCORE)),
        "score_high": pa.Column("int64", pa.Check.in_range(MIN_SCORE, MAX_SCORE)),
        "candidates": pa.Column("int64", pa.Check.ge(0)),
        "bin": pa.Column("string"),
        "round": pa.Column("string"),
    },
    checks=[
        pa.Check(lambda d: d["score_low"] <= d["score_high"], name="bins are ordered"),
        pa.Check(
            lambda d: ~d.duplicated(["distribution_date", "bin"]),
            name="one row per bin and distribution date",
        ),
    ],
    strict=True,
    name="pool",
)

REVISIONS = pa.DataFrameSchema(
    {
        "snapshot": pa.Column("string"),
        "previous": pa.Column("string"),
        "round": pa.Column("string"),
        "change": pa.Column("string", pa.Check.isin(["added", "removed", "changed", "renamed"])),
        "field": pa.Column("string", nullable=True),
        "old": pa.Column("string", nullable=True),
        "new": pa.Column("string", nullable=True),
    },
    strict=True,
    name="revisions",
)

QUALITY = pa.DataFrameSchema(
    {
        "severity": pa.Column("string", pa.Check.isin(list(SEVERITIES))),
        "round": pa.Column("string", nullable=True),
        "field": pa.Column("string", nullable=True),
        "value": pa.Column("string", nullable=True),
        "message": pa.Column("string"),
    },
    strict=True,
    name="quality",
)

SCHEMAS = {"draws": DRAWS, "pool": POOL, "revisions": REVISIONS, "quality": QUALITY}


def schema_problems(name: str, frame: pd.DataFrame, limit: int = 10) -> list[str]:
    """Up to ``limit`` failures of ``frame`` against the ``name`` table's schema (none: [])."""
    try:
        SCHEMAS[name].validate(frame, lazy=True)
    except SchemaErrors as exc:
        return [
            f"column {case.column}: failed {case.check} (value {case.failure_case!r})"
            for case in exc.failure_cases.head(limit).itertuples()
        ]
    return []


def validate_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Validate every table against its schema; raise :class:`FeedError` listing the failures."""
    problems = [
        f"  - table {name}, {problem}"
        for name, frame in tables.items()
        for problem in schema_problems(name, frame)
    ]
    if problems:
        raise FeedError(
            "processed tables fail their schemas; nothing was published:\n" + "\n".join(problems)
        )
    return tables
