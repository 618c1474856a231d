"""Which months need building: the fingerprint of everything a month's report depends on (its
slice of the data, IRCC's revisions of its rounds, their data-quality findings, the notebook, the
parameters, the package's code and the locked package versions), compared with the one recorded
in the published month's ``inputs.json``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.pool.accuracy import measured_accuracy
from analysis.publish.month_page import neighbours
from analysis.publish.swap import published_months
from analysis.report.month_report import is_to_date, month_bounds
from analysis.storage import hash_tree, read_stamp, stamp_matches

REPORT_NOTEBOOK = "4.0-monthly-report"

INPUTS_FILE = "inputs.json"

#: The package whose code every report depends on (walked recursively by
#: :func:`report_code_fingerprint`).
PACKAGE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class MonthPlan:
    """One month to publish: its inputs' fingerprint, its notebook parameters, the months its
    page links to as previous and next (``neighbours``), and why it is (re)built (``reason``),
    or ``"up to date"``."""

    month: str
    fingerprint: str
    parameters: dict
    reason: str  # why it is (re)built, or "up to date"
    neighbours: tuple[str | None, str | None] = (None, None)

    @property
    def needed(self) -> bool:
        """True when the month must be (re)built."""
        return self.reason != "up to date"

    @property
    def notebook_parameters(self) -> dict:
        """The report notebook's parameters: the month's, and the months it links to."""
        previous_month, next_month = self.neighbours
        return {**self.parameters, "previous_month": previous_month, "next_month": next_month}


def report_code_fingerprint(package: Path | None = None) -> str:
    """The report's code: every module, table and template of the package (walked recursively,
    so nested modules count), the report notebook, and the locked package versions."""
    digest = hashlib.sha256(hash_tree(package or PACKAGE, ["."]).encode())
    notebook = config.notebooks_dir() / f"{REPORT_NOTEBOOK}.ipynb"
    for path in (notebook, config.PROJECT_ROOT / "requirements" / "constraints.txt"):
        digest.update(path.name.encode() + (path.read_bytes() if path.is_file() else b""))
    return digest.hexdigest()


@dataclass(frozen=True)
class _TableHashes:
    """Row hashes of one table and, per row, the date up to which a month includes it."""

    columns: bytes
    rows: np.ndarray  # uint64 row hashes (pandas.util.hash_pandas_object)
    until: np.ndarray  # datetime64: the row belongs to every month ending on or after it

    def digest(self, end: pd.Timestamp) -> str:
        """sha256 of the rows that belong to a month ending on ``end``."""
        mask = self.until <= np.datetime64(end)
        return hashlib.sha256(self.rows[mask].tobytes() + self.columns).hexdigest()


def _table_hashes(frame: pd.DataFrame, until: pd.Series) -> _TableHashes:
    rows = pd.util.hash_pandas_object(frame.astype("string"), index=False).to_numpy()
    return _TableHashes(
        ",".join(frame.columns).encode(), rows, until.to_numpy(dtype="datetime64[ns]")
    )


def input_hashes(inputs) -> list[_TableHashes]:
    """Hash every row of the processed tables once; each month then selects its rows by date.

    A month depends on the rounds and distributions dated up to its end, IRCC's revisions of
    those rounds, and the data-quality findings about them (plus findings about no round).
    """
    round_dates = inputs.draws.set_index("round")["date"]
    never = pd.Timestamp.max.normalize()
    revision_dates = inputs.revisions["round"].map(round_dates).fillna(never)
    quality_dates = inputs.quality["round"].map(round_dates)
    quality_dates = quality_dates.mask(inputs.quality["round"].isna(), pd.Timestamp.min).fillna(
        never
    )
    return [
        _table_hashes(inputs.draws, inputs.draws["date"]),
        _table_hashes(inputs.pool, inputs.pool["distribution_date"]),
        _table_hashes(inputs.revisions, revision_dates.astype("datetime64[ns]")),
        _table_hashes(inputs.quality, quality_dates.astype("datetime64[ns]")),
    ]


def plan_months(
    months: list[str], inputs, site: Path, force: bool = False, parameters: dict | None = None
) -> list[MonthPlan]:
    """For each month: its fingerprint and whether (and why) it must be rebuilt; then every
    other published month that must be rebuilt too, with the parameters it was built with:
    when its previous/next month changes (a month appears beside it), or when its inputs
    changed (IRCC revised one of its rounds, the month ended since it was built "to date", the
    code changed, or the pool model's accuracy every month's notes quote: ``ee backtest`` adds
    its forward-chained figures). So any build leaves no published month stale, not only the
    months named."""
    code = report_code_fingerprint()
    hashes = input_hashes(inputs)
    # measured here once (and kept, per feed) rather than by the first month that quotes it
    accuracy = json.dumps(measured_accuracy(), sort_keys=True, default=str)
    site_months = published_months(site) | set(months)

    def planned(month: str, parameters: dict | None) -> tuple[MonthPlan, Path]:
        """The month's plan: its fingerprint is one sha256 of its rows of the tables, its
        parameters, the code, whether it is complete (or as of which check it is to date) and
        its neighbours (so a month is rebuilt when a neighbour appears)."""
        params = {"month": month, **(parameters or {})}
        near = neighbours(site_months, month)
        # a month in progress says when the feed was checked: a new check rebuilds it (only it)
        checked = inputs.retrieved_at
        status = f"to date, checked {checked}" if is_to_date(month, checked) else "complete"
        parts = [
            *(table.digest(month_bounds(month)[1]) for table in hashes),
            json.dumps(params, sort_keys=True),
            code,
            accuracy,
            status,
            json.dumps(list(near)),
        ]
        fingerprint = hashlib.sha256("\n".join(parts).encode()).hexdigest()
        return MonthPlan(month, fingerprint, params, "", near), site / month / INPUTS_FILE

    plans = []
    for month in months:
        plan_, published = planned(month, parameters)
        if force:
            reason = "forced"
        elif not (site / month / "index.html").exists() or not published.exists():
            reason = "not built yet"
        elif not stamp_matches(published, plan_.fingerprint):
            reason = "inputs changed"
        else:
            reason = "up to date"
        plans.append(replace(plan_, reason=reason))
    for month in sorted(published_months(site) - set(months)):
        stamp = site / month / INPUTS_FILE
        recorded = read_stamp(stamp)
        plan_, _ = planned(month, recorded.get("parameters"))
        if recorded.get("neighbours") != list(plan_.neighbours):
            plans.append(replace(plan_, reason="a neighbouring month changed"))
        elif not stamp_matches(stamp, plan_.fingerprint):
            plans.append(replace(plan_, reason="inputs changed"))
    return plans
