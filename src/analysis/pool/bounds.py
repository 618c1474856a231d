"""The restricted rounds' bounds on the pool model: every restricted round (CEC, FSW, FST, any
category; not PNP) with a published distribution is a lower bound, since an all-program round
of its size on the same pool needs at least its cutoff.

- :func:`bound_rounds`: which rounds bound the model;
- :func:`bounds_table`: each one with the all-program cutoff estimated for its size and the
  ``slack`` (estimate minus cutoff, never negative when the bound holds), with each round's own
  cutoff used or held out (``pool_bounds``);
- :func:`summarize_bounds`, :func:`shortfall`: how many bounds are broken, and by how much.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from analysis.pool import density as pool_density
from analysis.pool import replay as pool_replay
from analysis.pool.backtest import estimate_rounds, with_distribution

#: Columns of ``pool_bounds`` and their types: one row per restricted round with a published
#: distribution.
_BOUNDS_DTYPES = {
    "round": "string",
    "date": "datetime64[ns]",
    "family": "string",
    "invitations": "int64",
    "cutoff": "int64",
    "estimated_cutoff": "int64",
    "low": "int64",
    "high": "int64",
    "slack": "int64",
    "held_out_estimate": "Int64",
    "held_out_slack": "Int64",
}
BOUNDS_COLUMNS = list(_BOUNDS_DTYPES)


def bound_rounds(draws: pd.DataFrame, pool: pd.DataFrame) -> pd.DataFrame:
    """The restricted rounds that bound the model (:func:`analysis.pool.is_bound`: not
    all-program, not PNP) with a cutoff, invitations and their own distribution in ``pool``,
    oldest first.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> bound_rounds(example_draws(), example_pool())["round"].tolist()
    ['252', '254', '255', '256']
    """
    restricted = draws.loc[~draws["is_all_program"].astype(bool) & with_distribution(draws, pool)]
    keep = [
        pool_replay.is_bound(n, c, False)
        for n, c in zip(restricted["invitations"], restricted["cutoff"], strict=True)
    ]
    return pool_replay.chronological(restricted.loc[keep])


def bounds_table(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    *,
    own_bound: bool = True,
    bounds: bool = True,
    settings: pool_density.Settings | None = None,
) -> pd.DataFrame:
    """One row per restricted round with a published distribution (:func:`bound_rounds`): the
    all-program cutoff the model estimates for its size, as the reports use it (``replay``,
    rounds in between taken out, newcomers added), and ``slack`` = estimated_cutoff - cutoff,
    which is never negative when the bound holds. ``own_bound=False`` leaves each round's own
    cutoff out of its estimate (the held-out check: did the shape fitted to the earlier bounds
    already honour this one?); ``bounds=False`` honours none (the model before bounds).
    Columns: :data:`BOUNDS_COLUMNS`.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> table = bounds_table(example_draws(), example_pool())
    >>> table.set_index("round").loc[["254", "255", "256"], "slack"].tolist()
    [12, 26, 47]
    """
    settings = settings or pool_density.DEFAULT_SETTINGS
    found = estimate_rounds(
        draws,
        pool,
        bound_rounds(draws, pool),
        "replay",
        settings,
        bounds=bounds,
        own_bound=own_bound,
    )
    records = [
        {
            "round": row.round,
            "date": row.date,
            "family": row.family if hasattr(row, "family") else pd.NA,
            "invitations": int(row.invitations),
            "cutoff": int(row.cutoff),
            "estimated_cutoff": estimate.cutoff,
            "low": estimate.low,
            "high": estimate.high,
            "slack": estimate.cutoff - int(row.cutoff),
            "held_out_estimate": pd.NA,
            "held_out_slack": pd.NA,
        }
        for row, estimate, _, _ in found
    ]
    return pd.DataFrame(records, columns=BOUNDS_COLUMNS).astype(_BOUNDS_DTYPES)


def with_held_out(table: pd.DataFrame, held_out: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``held_out_estimate`` and ``held_out_slack`` from ``held_out`` (the same
    rounds' :func:`bounds_table` with ``own_bound=False``: each estimate made without that
    round's own cutoff or anything after it), matched by round.

    >>> t = pd.DataFrame({"round": ["1"], "estimated_cutoff": [500], "slack": [0]})
    >>> with_held_out(t, t.assign(estimated_cutoff=498, slack=-2))[["held_out_slack"]]
       held_out_slack
    0              -2
    """
    held = held_out.set_index("round")
    return table.assign(
        held_out_estimate=table["round"].map(held["estimated_cutoff"]).astype("Int64"),
        held_out_slack=table["round"].map(held["slack"]).astype("Int64"),
    )


@dataclass(frozen=True)
class BoundsSummary:
    """How the model meets the restricted rounds' bounds: ``rows`` bounds, ``broken`` of them
    with a negative slack, the ``smallest`` slack; the same before each round's own cutoff is
    used (``held_out_broken``, ``held_out_smallest``, and the mean shortfall below the bound,
    ``held_out_shortfall``), per family in ``by_family``."""

    rows: int
    broken: int
    smallest: int | None
    held_out_broken: int
    held_out_smallest: int | None
    held_out_shortfall: float
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    by_family: pd.DataFrame = field(compare=False, repr=False)


def shortfall(slack: pd.Series) -> float:
    """Mean shortfall below the bounds: how far, on average, estimates fall below the cutoffs
    they must reach (0 for a bound that holds).

    >>> shortfall(pd.Series([3, 0, -2, -4]))
    1.5
    """
    return float((-slack.astype("float64")).clip(lower=0).mean()) if len(slack) else 0.0


def summarize_bounds(table: pd.DataFrame, held_out: pd.DataFrame | None = None) -> BoundsSummary:
    """Rows, broken bounds and the smallest slack of :func:`bounds_table`'s table, and of its
    held-out version (``own_bound=False``) when given.

    >>> t = pd.DataFrame({"round": ["1", "2"], "family": ["cec", "stem"], "slack": [0, 12],
    ...                   "date": pd.to_datetime(["2024-06-01", "2025-01-01"])})
    >>> s = summarize_bounds(t, t.assign(slack=[-2, 12]))
    >>> (s.rows, s.broken, s.smallest, s.held_out_broken, s.held_out_smallest)
    (2, 0, 0, 1, -2)
    """
    held = table if held_out is None else held_out
    by_family = (
        table.assign(held_out=held["slack"].to_numpy())
        .groupby("family", observed=True)
        .agg(
            rows=("slack", "size"),
            broken=("slack", lambda s: int((s < 0).sum())),
            smallest=("slack", "min"),
            median=("slack", "median"),
            held_out_broken=("held_out", lambda s: int((s < 0).sum())),
            held_out_smallest=("held_out", "min"),
        )
        .reset_index()
    )
    empty = table.empty
    return BoundsSummary(
        rows=len(table),
        broken=int((table["slack"] < 0).sum()),
        smallest=None if empty else int(table["slack"].min()),
        held_out_broken=int((held["slack"] < 0).sum()),
        held_out_smallest=None if empty else int(held["slack"].min()),
        held_out_shortfall=round(shortfall(held["slack"]), 3),
        first=None if empty else pd.Timestamp(table["date"].min()),
        last=None if empty else pd.Timestamp(table["date"].max()),
        by_family=by_family,
    )
