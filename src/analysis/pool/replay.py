"""The pool between distributions: rounds taken out, bounds honoured, newcomers added, and the
replay that carries the pool's fine shape from one published distribution to the next (the
second layer of the pool model; see ``docs/pool-model.md``).

- :func:`take_round`: an all-program round takes everyone above its cutoff; any other round
  takes its invitations proportionally from its cutoff up (who is eligible is unknown).
- :func:`honour_bound`: a restricted round (not all-program, not PNP: :func:`is_bound`) of N
  invitations with cutoff c drew from a subset of the pool, so at least N candidates were at or
  above c; when the modelled density has fewer, candidates are moved up inside c's bin.
- :func:`replay`: from the first published distribution to the last, each distribution's bins
  spread in proportion to what the rounds since the previous one left (growth spread with the
  tail), every bound honoured on the way; the density at a date uses nothing after it.
- :func:`age`: newcomers per day per bin, from the recent net changes the rounds do not explain.

>>> from analysis.pool.examples import example_draws, example_pool
>>> state = replay(example_draws(), example_pool())
>>> [f"{day:%m-%d}" for day in sorted(state.densities)]
['06-27', '07-04']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from analysis.data import frame_digest, in_round_order, require_columns
from analysis.pool.density import (
    DEFAULT_SETTINGS,
    DISTRIBUTION_COLUMNS,
    ELIGIBLE_SHARE,
    MAX_SCORE,
    NOMINEE_FLOOR,
    TAIL_RATE,
    Rows,
    Settings,
    as_density,
    bin_rows,
    bin_shape,
    checked_bins,
    cutoff_from_density,
    density_series,
    pool_rows,
    spread_bins,
)

#: A bound is honoured with this much to spare (relative), so that float sums cannot put the
#: estimate one point below the cutoff.
BOUND_MARGIN = 1e-9

DRAW_COLUMNS = ("round", "date", "invitations", "cutoff", "is_all_program", "distribution_date")


def take_round(
    density: pd.Series | np.ndarray,
    invitations: int,
    cutoff: int | None,
    *,
    all_program: bool,
) -> pd.Series:
    """The fine density after a round took its invitations out of the pool.

    - all-program round: everyone above its cutoff is gone, and at the cutoff as many as the
      invitations left over (the tie-break); without a cutoff, the top ``invitations``.
    - any other round (category, CEC, PNP, ...): it invited every *eligible* candidate at or
      above its cutoff; who is eligible is unknown, so the invitations are taken from every
      score from the cutoff up, in proportion to the candidates there. A cutoff above 600
      (a PNP round) takes from the whole 601-1200 bin, whose inner spread is not modelled.
      Without a cutoff such a round cannot be placed and nothing is taken. When a round takes
      as many as the model holds above its cutoff, everyone there goes: the next estimate then
      lands just below that cutoff, which underestimates when non-eligible candidates stayed
      (the interval allows for it).

    >>> d = np.zeros(1201); d[500:510] = 10.0
    >>> take_round(d, 35, 506, all_program=True).loc[504:509].tolist()
    [10.0, 10.0, 5.0, 0.0, 0.0, 0.0]
    >>> float(take_round(d, 50, 500, all_program=False).sum())
    50.0
    """
    return density_series(take_out(as_density(density), invitations, cutoff, all_program))


def take_out(
    values: np.ndarray, invitations, cutoff, all_program: bool, others: bool = True
) -> np.ndarray:
    """take_round on arrays; ``others=False`` leaves non-all-program rounds out (for tests of
    that rule)."""
    values = values.copy()
    if invitations is None or pd.isna(invitations) or invitations <= 0:
        return values
    if not (all_program or others):
        return values
    if all_program:
        if cutoff is None or pd.isna(cutoff):
            cutoff = cutoff_from_density(values, invitations)
        cutoff = int(cutoff)
        left = max(invitations - values[cutoff + 1 :].sum(), 0.0)
        values[cutoff + 1 :] = 0.0
        values[cutoff] = max(values[cutoff] - left, 0.0)
        return values
    if cutoff is None or pd.isna(cutoff):
        return values
    start = min(int(cutoff), NOMINEE_FLOOR)
    there = values[start:].sum()
    if there > 0:
        values[start:] *= max(1.0 - invitations / there, 0.0)
    return values


def chronological(draws: pd.DataFrame) -> pd.DataFrame:
    """Rounds in the order IRCC drew them (:func:`analysis.data.in_round_order`: by
    date, then by round number on the same day), numbered from 0."""
    return in_round_order(draws).reset_index(drop=True)


def round_tuples(rounds: pd.DataFrame) -> list[tuple[float, float, bool]]:
    """(invitations, cutoff, is_all_program) per round, NaN for missing numbers."""
    return list(
        zip(
            rounds["invitations"].astype("Float64").to_numpy(dtype=float, na_value=np.nan),
            rounds["cutoff"].astype("Float64").to_numpy(dtype=float, na_value=np.nan),
            rounds["is_all_program"].astype(bool).tolist(),
            strict=True,
        )
    )


def is_bound(invitations, cutoff, all_program: bool) -> bool:
    """Whether a round is a lower bound on the all-program cutoff of its size (see
    :func:`honour_bound`): a restricted round (not all-program) with invitations and a cutoff
    below :data:`NOMINEE_FLOOR`. PNP rounds (cutoffs of 601 and more: the nomination's 600 points
    included) are not: they invite the nominees, often more than the published 601-1200 count
    (nominations arrive between the distribution and the round), and say nothing about the
    scores below 601 that every other estimate depends on.

    >>> is_bound(3000, 516, False), is_bound(3000, 516, True), is_bound(800, 745, False)
    (True, False, False)
    """
    return bool(
        not all_program
        and invitations is not None
        and not pd.isna(invitations)
        and invitations > 0
        and cutoff is not None
        and not pd.isna(cutoff)
        and cutoff < NOMINEE_FLOOR
    )


def bin_edges(rows: Rows) -> list[tuple[int, int]]:
    """The ``(low, high)`` of each bin row.

    >>> bin_edges([(0, 500, 9.0), (501, 600, 5.0)])
    [(0, 500), (501, 600)]
    """
    return [(low, high) for low, high, _ in rows]


def _bin_around(edges: list[tuple[int, int]], score: int) -> tuple[int, int]:
    for low, high in edges:
        if low <= score <= high:
            return low, high
    return score, score


def honour_bound_values(
    values: np.ndarray,
    invitations,
    cutoff,
    edges: list[tuple[int, int]],
    settings: Settings = DEFAULT_SETTINGS,
) -> np.ndarray:
    """:func:`honour_bound` on arrays."""
    if not is_bound(invitations, cutoff, False):
        return values
    cutoff = int(cutoff)
    # only the round's own program could be invited: N of the eligible share of those there
    share = float(settings.eligible_share)
    need = float(invitations) / share * (1 + BOUND_MARGIN) - values[cutoff:].sum()
    if need <= 0:
        return values
    low, high = _bin_around(edges, cutoff)
    below = values[low:cutoff].sum()
    if below <= 0:
        return values
    moved = min(need, below)
    values = values.copy()
    values[low:cutoff] *= (below - moved) / below
    values[cutoff : high + 1] += moved * bin_shape(
        cutoff, high, "tail", float(settings.tail_rate), int(settings.tail_start)
    )
    return values


def honour_bound(
    density: pd.Series | np.ndarray,
    invitations: int,
    cutoff: int,
    bins: pd.DataFrame,
    *,
    tail_rate: float = TAIL_RATE,
    eligible_share: float = ELIGIBLE_SHARE,
) -> pd.Series:
    """The fine density, reshaped so that a restricted round's bound holds: at least
    ``invitations`` candidates at or above ``cutoff``.

    A restricted round (CEC, FSW, any category) of N invitations with cutoff c drew from a
    subset of the pool, so the pool held at least N candidates at or above c, and an
    all-program round of N on it needs at least c. Only its own program's candidates could be
    invited, a share of those there (the setting ``eligible_share``,
    :data:`analysis.pool.density.ELIGIBLE_SHARE`), so the pool is taken to have held
    N / share of them; the round then takes its N out in proportion and leaves the others
    (:func:`take_round`). When the modelled density has fewer, the
    smallest change that fits the published counts is made: inside the bin of ``bins`` that
    holds ``cutoff``, candidates are moved from below the cutoff (proportionally) to the
    cutoff and up (spread with the tail's fall, so as low as possible). Bin totals do not
    change, so a bound that the published counts themselves cannot meet (a cutoff at a bin's
    lowest score, or a bin too small) is met as far as possible only.

    >>> d = np.zeros(1201); d[501:601] = 10.0                      # 1,000 in 501-600
    >>> bins = pd.DataFrame({"score_low": [501], "score_high": [600], "candidates": [1000]})
    >>> after = honour_bound(d, 420, 551, bins)     # 500 above 551 before; 420 / 0.6 = 700
    >>> round(float(after[551:].sum())), round(float(after.sum()))
    (700, 1000)
    >>> round(float(honour_bound(d, 600, 551, bins, eligible_share=1.0)[551:].sum()))
    600
    """
    values = as_density(density)
    edges = bin_edges(bin_rows(checked_bins(bins)))
    return density_series(
        honour_bound_values(
            values,
            invitations,
            cutoff,
            edges,
            Settings(tail_rate=tail_rate, eligible_share=eligible_share),
        )
    )


def take_rounds(
    density: np.ndarray,
    rounds: list[tuple],
    others: bool = True,
    edges: list[tuple[int, int]] | None = None,
    settings: Settings = DEFAULT_SETTINGS,
) -> np.ndarray:
    """Take each round out in turn; with ``edges`` (the bins), a restricted round's bound is
    honoured first (:func:`honour_bound`)."""
    for invitations, cutoff, all_program in rounds:
        if edges is not None and not all_program:
            density = honour_bound_values(density, invitations, cutoff, edges, settings)
        density = take_out(density, invitations, cutoff, all_program, others)
    return density


def rounds_between(
    draws: pd.DataFrame,
    distribution_date: pd.Timestamp | str,
    round_id: str | None = None,
    *,
    until: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """Rounds that took candidates out after the pool of ``distribution_date`` was counted and
    before round ``round_id`` (or before the date ``until``), oldest first.

    A distribution dated D is taken to precede every round held on D: every all-program round
    dated on its own distribution's date shows it (its invitations are still in the pool). Two
    PNP rounds of November 2024 (322, 325) break the rule (their day's distribution is already
    without them); they are then taken out twice, which can only empty a 601-1200 bin that
    they had already emptied.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> rounds_between(example_draws(), "2023-07-04", "256")["round"].tolist()
    ['253', '254', '255']
    """
    require_columns(draws, DRAW_COLUMNS, "rounds_between")
    return between_ordered(chronological(draws), distribution_date, round_id, until)


def between_ordered(
    ordered: pd.DataFrame, distribution_date, round_id=None, until=None
) -> pd.DataFrame:
    """:func:`rounds_between` on draws already in :func:`chronological` order."""
    after = ordered["date"] >= pd.Timestamp(distribution_date)
    if round_id is not None:
        position = ordered.index[ordered["round"].astype(str) == str(round_id)]
        if position.empty:
            raise ValueError(f"round {round_id!r} is not in draws")
        before = ordered.index < position[0]
    elif until is not None:
        before = ordered["date"] < pd.Timestamp(until)
    else:
        raise ValueError("rounds_between needs a round_id or an until date")
    return ordered.loc[after & before].reset_index(drop=True)


def snapshot_dates(pool: pd.DataFrame) -> pd.Series:
    """For each published distribution date, the date of the snapshot it really is.

    IRCC sometimes republishes a distribution unchanged under a later date (2022-04-11 repeats
    2022-03-28, 2023-06-28 repeats 2023-06-27, 2025-12-15 repeats 2025-12-14). A pool that
    does not change in any bin from one day to the next is a copy, so such a date maps to the
    earlier one (and rounds held between the two dates are taken out of it).

    >>> pool = pd.DataFrame({"distribution_date": pd.to_datetime(["2023-06-27"] * 2
    ...                                                          + ["2023-06-28"] * 2),
    ...                      "score_low": [0, 501] * 2, "score_high": [500, 600] * 2,
    ...                      "candidates": [10, 5] * 2})
    >>> snapshot_dates(pool).dt.strftime("%m-%d").tolist()
    ['06-27', '06-27']
    """
    require_columns(pool, ["distribution_date", *DISTRIBUTION_COLUMNS], "snapshot_dates", "pool")
    wide = pool.pivot_table(
        index="distribution_date", columns="score_low", values="candidates", aggfunc="sum"
    ).sort_index()
    same = wide.eq(wide.shift(1)).all(axis=1)
    effective = pd.Series(wide.index.where(~same), index=wide.index).ffill()
    return effective.rename("snapshot_date").astype("datetime64[ns]")


def distribution_on(pool: pd.DataFrame, date: pd.Timestamp) -> pd.DataFrame:
    """The rows of ``pool`` published on ``date`` (``ValueError`` when there are none)."""
    rows = pool[pool["distribution_date"] == date]
    if rows.empty:
        raise ValueError(f"no pool distribution dated {date:%Y-%m-%d}")
    return rows


@dataclass(frozen=True)
class Replay:
    """The replayed pool: a fine density per snapshot date, and per snapshot and bin the net
    change the rounds do not explain (published count minus what was left after the rounds
    held since the previous snapshot: newcomers, score changes, departures) over ``days``."""

    densities: dict[pd.Timestamp, np.ndarray] = field(repr=False)
    changes: pd.DataFrame = field(repr=False)
    _inflows: dict = field(default_factory=dict, repr=False, compare=False)
    settings: Settings = DEFAULT_SETTINGS

    def inflow(self, as_of: pd.Timestamp) -> Rows:
        """Net newcomers per day per bin below 601 over the settings' ``inflow_window`` days
        (:data:`analysis.pool.density.INFLOW_WINDOW_DAYS`) up to ``as_of``, as (low, high,
        per_day) rows; empty before the second snapshot. Nominees (601+) come in bursts: their
        rate is scaled by the setting ``nominee_inflow``
        (:data:`analysis.pool.density.NOMINEE_INFLOW`)."""
        as_of = pd.Timestamp(as_of)
        if as_of not in self._inflows:
            window = pd.Timedelta(days=int(self.settings.inflow_window))
            dates = self.changes["date"]
            recent = self.changes[(dates <= as_of) & (dates > as_of - window)]
            rows = []
            if not recent.empty:
                days = recent.drop_duplicates("date")["days"].sum()
                per_bin = recent.groupby(["score_low", "score_high"])["change"].sum() / days
                nominees = self.settings.nominee_inflow
                rows = [
                    (int(low), int(high), float(value) * (1.0 if low < NOMINEE_FLOOR else nominees))
                    for (low, high), value in per_bin.items()
                    if low < NOMINEE_FLOOR or nominees
                ]
            self._inflows[as_of] = rows
        return list(self._inflows[as_of])


def replay(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    *,
    tail_rate: float = TAIL_RATE,
    take_others: bool = True,
    bounds: bool = True,
    settings: Settings | None = None,
) -> Replay:
    """Replay the pool from the first published distribution to the last (see the module
    notes): the fine density at every snapshot date (:func:`snapshot_dates`) and the net change
    per bin between snapshots that the rounds do not explain. ``take_others=False`` leaves
    non-all-program rounds out (to test that rule). Every restricted round's bound is honoured
    before it is taken out (:func:`honour_bound`; ``bounds=False`` does not), so the shape the
    bounds call for is carried forward to later distributions. ``settings`` (default: the
    module's, with ``tail_rate``) chooses the tail.

    The density at a snapshot only uses that distribution, earlier ones and rounds before its
    date, so replaying a longer history gives the same density for an earlier date.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> state = replay(example_draws(), example_pool())
    >>> sorted(state.densities)[0].date(), int(state.changes["days"].iloc[0])
    (datetime.date(2023, 6, 27), 7)
    """
    require_columns(draws, DRAW_COLUMNS, "replay")
    settings = settings or Settings(tail_rate=tail_rate)
    ordered = chronological(draws)
    dates = ordered["date"].to_numpy()
    taken = round_tuples(ordered)
    snapshots = [pd.Timestamp(d) for d in sorted(snapshot_dates(pool).unique())]
    rows = pool_rows(pool[pool["distribution_date"].isin(snapshots)])
    densities: dict[pd.Timestamp, np.ndarray] = {}
    changes = []
    density, previous = None, None
    for date in snapshots:
        if density is not None:
            held = (dates >= previous.to_datetime64()) & (dates < date.to_datetime64())
            density = take_rounds(
                density,
                [taken[i] for i in np.flatnonzero(held)],
                take_others,
                bin_edges(rows[previous]) if bounds and take_others else None,
                settings,
            )
            changes += [
                (date, low, high, count - density[low : high + 1].sum(), (date - previous).days)
                for low, high, count in rows[date]
            ]
        density = spread_bins(rows[date], "tail", settings, density)
        densities[date] = density
        previous = date
    frame = pd.DataFrame(changes, columns=["date", "score_low", "score_high", "change", "days"])
    return Replay(
        densities,
        settings=settings,
        changes=frame.astype(
            {
                "date": "datetime64[ns]",
                "score_low": "int64",
                "score_high": "int64",
                "change": "float64",
                "days": "int64",
            }
        ),
    )


def tables_key(draws: pd.DataFrame, pool: pd.DataFrame) -> tuple[str, str]:
    """The content hashes (:func:`analysis.data.frame_digest`) of the columns of ``draws`` and
    ``pool`` that the pool model reads: the key of its remembered replays, bands and ranges."""
    return (
        frame_digest(draws.loc[:, list(DRAW_COLUMNS)]),
        frame_digest(pool.loc[:, ["distribution_date", *DISTRIBUTION_COLUMNS]]),
    )


def remembered(store: dict, key: tuple, make: Callable[[], Any], keep: int = 8) -> Any:
    """``store[key]``, made by ``make()`` the first time; with more than ``keep`` entries the
    oldest is forgotten.

    >>> store = {}
    >>> remembered(store, (1,), lambda: "made"), remembered(store, (1,), lambda: "again")
    ('made', 'made')
    """
    if key not in store:
        if len(store) >= keep:
            store.pop(next(iter(store)))
        store[key] = make()
    return store[key]


_REPLAYS: dict[tuple, dict[Settings, Replay]] = {}


def cached_replay(
    draws: pd.DataFrame, pool: pd.DataFrame, settings: Settings, bounds: bool = True
) -> Replay:
    """:func:`replay`, remembered for the last few inputs (estimate_for_round is called once
    per round by the baselines; the replay is the same for all of them). The replayed shapes
    depend only on the tail and the eligible share: settings that differ in the newcomers'
    settings alone (``nominee_inflow``, ``inflow_rate``, ``inflow_window``, ``same_pool_days``)
    share one replay, each with its own newcomers."""
    shaped = replace(
        DEFAULT_SETTINGS,
        tail_rate=settings.tail_rate,
        tail_start=settings.tail_start,
        eligible_share=settings.eligible_share,
    )
    replays = remembered(_REPLAYS, (*tables_key(draws, pool), shaped, bool(bounds)), dict)
    if settings not in replays:
        base = next(iter(replays.values()), None)
        replays[settings] = (
            replay(draws, pool, bounds=bounds, settings=settings)
            if base is None
            else replace(base, settings=settings, _inflows={})
        )
    return replays[settings]


def replay_density(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    distribution_date: pd.Timestamp | str,
    *,
    tail_rate: float = TAIL_RATE,
) -> pd.Series:
    """Fine density (candidates per score) of the pool on ``distribution_date``, shaped by
    replaying every earlier distribution and round (see the module notes).

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> density = replay_density(example_draws(), example_pool(), "2023-07-04")
    >>> round(float(density.loc[501:].sum()))       # the published count above 500
    1079
    """
    when = pd.Timestamp(distribution_date)
    snapshot = snapshot_dates(pool).get(when)
    if snapshot is None:
        raise ValueError(f"no pool distribution dated {when:%Y-%m-%d}")
    state = cached_replay(draws, pool, Settings(tail_rate=tail_rate))
    return density_series(state.densities[snapshot].copy())


def age(
    density: np.ndarray,
    inflow: Rows,
    days: float,
    settings: Settings = DEFAULT_SETTINGS,
):
    """The fine density ``days`` later: each bin in ``inflow`` grows by its newcomers per day
    (spread with the tail shape), or shrinks proportionally when the net change is a loss.

    >>> d = np.zeros(1201); d[501:601] = 1.0
    >>> float(age(d, [(501, 600, 10.0)], 3).sum())
    130.0
    """
    values = np.asarray(density, dtype="float64")
    if not inflow or days <= 0:
        return values
    rows = [
        (low, high, max(values[low : high + 1].sum() + per_day * days, 0.0))
        for low, high, per_day in inflow
    ]
    covered = np.zeros(MAX_SCORE + 1, dtype=bool)
    for low, high, _ in rows:
        covered[low : high + 1] = True
    # newcomers spread with their own fall per point (settings.inflow_rate), not the stock's
    newcomers = replace(settings, tail_rate=float(settings.inflow_rate))
    return np.where(covered, spread_bins(rows, "tail", newcomers, values), values)
