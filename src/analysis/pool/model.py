"""The pool model: the cutoff an all-program round of N invitations would have needed, estimated
from IRCC's published CRS distribution of the candidates in the pool.

For N invitations the estimated cutoff is the highest score ``c`` at which the count of
candidates at or above ``c`` reaches N (the score of the N-th best candidate). IRCC publishes
counts per score bin and the bins are uneven: 601-1200 and 501-600 are one bin each, 451-500
and 401-450 come in 10-point bins. How the candidates spread *inside* a bin is the problem;
three answers (``method``), all exact at the bin edges:

- ``"flat"``: every score in a bin holds the same number of candidates.
- ``"tail"``: from :data:`TAIL_START` to 600 the density falls exponentially, by
  :data:`TAIL_RATE` per point (about 40% fewer candidates every 10 points), scaled to each
  bin's published count. Needs only the distribution.
- ``"replay"`` (the default of :func:`estimate_for_round`): the top of the pool is *carved* by
  the rounds. An all-program round with cutoff 546 removes everyone above 546, so two weeks
  later the 501-600 bin holds the candidates just below 546 and two weeks of newcomers, not a
  smooth tail. :func:`replay` therefore replays history from the first published
  distribution (tail shape): at each later distribution it takes out the rounds held since
  the previous one (:func:`take_round`), then spreads each bin's new published count in
  proportion to what is left, adding growth with the tail shape (newcomers) and shrinking a
  bin proportionally when it lost candidates. A distribution's density only uses earlier
  distributions and rounds held before its date: no look-ahead.

Backtest on every all-program round with a published distribution (37 rounds, 2022-08 to
2024-04, snapshot 2026-03-05; :mod:`analysis.pool.backtest`, ``ee backtest``), error =
estimated - actual: replay MAE 1.68 (bias -0.54, worst -6); tail MAE 6.35 (bias +6.2, worst
+29); flat MAE 28.08 (bias +28.0, worst +67: it puts far too many candidates high in 501-600).

Choices, and the evidence for them (the newcomer choices were also compared on the backtest,
as stated, so they are not out-of-sample evidence):

- **Tail rate** 0.05/point, the only number fitted on a grid (0.02-0.10, by MAE); every
  leave-one-out fit picks 0.05 too (LOO MAE 1.68); chosen on rounds before 2024 it is 0.055,
  scoring MAE 3.2 on the 9 rounds of 2024 (0.05 scores 2.4 there).
  :data:`TAIL_START` 451 vs 501 makes no material difference (MAE 1.68 vs 1.73).
- **Rounds between the distribution and the round** are taken out first
  (:func:`rounds_between`, :func:`take_round`). No all-program round had one between (each
  was drawn from its own distribution), so this was tested by estimating each round from the
  *previous* distribution: MAE 35.6 with nothing taken out, 13.1 with the rounds taken out.
  What non-all-program rounds take: every eligible candidate at or above their cutoff,
  eligibility unknown, so proportionally at every score from the cutoff up (601-1200 as a
  whole for cutoffs above 600, i.e. PNP rounds). Predicting each next published distribution
  from the previous one (104 pairs, 2022-2026; ``pool_backtest.next_snapshot_check``), this
  rule beats ignoring those rounds (mean absolute miss in 501-600: 285 vs 406 candidates
  before May 2024, 869 vs 1452 after, when CEC and category rounds carved the top; in 481-500
  about 200 vs 310); in the all-program backtest the two rules are within 0.4 points.
- **Newcomers** (replay only): candidates keep arriving (about 50-120 a day into 501-600).
  From the second day after the distribution, each bin below 601 grows at its average net
  daily change over the previous :data:`INFLOW_WINDOW_DAYS` days (the change the rounds do
  not explain). From the previous distribution this brings the backtest MAE from 13.1 to 9.5
  and the bias from -13 to -9. The first day adds nothing (:data:`SAME_POOL_DAYS`): a
  distribution dated the day before a round is taken as the pool it was drawn from (aging
  that day too: MAE 1.76 instead of 1.68, weak evidence). The nominee bin gets no newcomers:
  provinces nominate in bursts (4,525 nominees waiting on 2023-12-05 after six weeks without
  a PNP round, 56 a day over the following holidays), and projecting them made the misses
  larger, not smaller (MAE 14.5). Windows of 14-84 days give MAE 9.2-9.6; 56 was not tuned.

The interval ``low``-``high`` of a :class:`CutoffEstimate` spans the 5th-95th percentile of
the backtest errors for its method, situation and bin width (:data:`ERROR_BANDS`), clipped to
the bin that must hold the cutoff when nothing happened between the distribution and the
round (the actual cutoff fell inside it for 34 of the 37 rounds with ``replay``).

>>> dist = pd.DataFrame({"score_low": [0, 501, 601], "score_high": [500, 600, 1200],
...                      "candidates": [10000, 1000, 100]})
>>> estimate_cutoff(dist, 600, method="flat").cutoff     # 100 nominees + 500 of 1000 in 501-600
551
>>> estimate_cutoff(dist, 600, method="tail").cutoff     # the tail keeps most of them near 501
514
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from analysis.ingest.clean import round_sort_key
from analysis.ingest.feed import MAX_SCORE  # a fine density covers the scores 0..MAX_SCORE

#: Provincial nominees get +600, so from here up the pool is (almost) only nominees.
NOMINEE_FLOOR = 601
#: From this score to NOMINEE_FLOOR - 1 the density is modelled as an exponential tail.
TAIL_START = 451
#: Fall of the density per CRS point in the tail: density(x + 1) = density(x) * exp(-TAIL_RATE).
#: Chosen on the all-program backtest (pool_backtest.choose_tail_rate; leave-one-out agrees).
TAIL_RATE = 0.05
METHODS = ("flat", "tail", "replay")
#: Bins this wide or narrower are "narrow" for the interval.
NARROW_BIN = 10
#: Newcomers per day are the average net change per bin over this many days of snapshots.
INFLOW_WINDOW_DAYS = 56
#: Days after the distribution date that add no newcomers (see the module notes).
SAME_POOL_DAYS = 1
#: 5th and 95th percentile of backtest errors (estimated - actual) per method, situation and
#: width of the bin the estimate falls in. "direct": the round's own distribution, nothing in
#: between; "adjusted": from the previous distribution, about two weeks earlier, rounds taken
#: out and newcomers added (replay only). Measured by pool_backtest.error_bands on the
#: 2026-03-05 snapshot; a test re-measures them. The interval is cutoff - p95 .. cutoff - p5,
#: clipped to the bin for "direct"; an adjusted estimate gets the union of both bands (most are
#: a few days from their distribution, not two weeks).
ERROR_BANDS = {
    "flat": {
        "direct": {"narrow": (-1, 3), "wide": (12, 62)},
        "adjusted": {"narrow": (-41, -1), "wide": (-38, -6)},
    },
    "tail": {
        "direct": {"narrow": (-1, 3), "wide": (0, 28)},
        "adjusted": {"narrow": (-42, -1), "wide": (-31, -5)},
    },
    "replay": {
        "direct": {"narrow": (-2, 1), "wide": (-5, 3)},
        "adjusted": {"narrow": (-19, 0), "wide": (-36, -2)},
    },
}

DISTRIBUTION_COLUMNS = ("score_low", "score_high", "candidates")
DRAW_COLUMNS = ("round", "date", "invitations", "cutoff", "is_all_program", "distribution_date")

Rows = list[tuple[int, int, float]]


@dataclass(frozen=True)
class CutoffEstimate:
    """An estimated all-program cutoff and where it came from.

    ``cutoff``: the estimated score of the N-th best candidate. ``low``/``high``: the interval
    (see :data:`ERROR_BANDS`). ``at_or_above``: modelled candidates at or above ``cutoff``
    (at least ``invitations`` unless the round is larger than the pool). ``taken_out``:
    candidates removed first by ``rounds_between``; ``added``: newcomers added since the
    distribution. ``note``: what a reader should know (empty when nothing).
    """

    cutoff: int
    low: int
    high: int
    method: str
    invitations: int
    distribution_date: pd.Timestamp | None = None
    at_or_above: float = float("nan")
    taken_out: float = 0.0
    added: float = 0.0
    rounds_between: tuple[str, ...] = ()
    note: str = ""


# --------------------------------------------------------------------------- distributions


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown pool model method {method!r}; choose one of {METHODS}")


def _checked(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Bins sorted by ``by`` (when given) then score, every rule checked."""
    missing = [c for c in DISTRIBUTION_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"pool distribution has no column(s) {missing}; it has {list(frame.columns)}"
        )
    if frame.empty:
        raise ValueError("pool distribution is empty: no bins to estimate from")
    keys = [by, "score_low"] if by else ["score_low"]
    bins = (
        frame.loc[:, [*([by] if by else []), *DISTRIBUTION_COLUMNS]]
        .astype({"score_low": "int64", "score_high": "int64", "candidates": "float64"})
        .sort_values(keys)
        .reset_index(drop=True)
    )
    bad = bins[
        (bins["score_low"] < 0)
        | (bins["score_high"] > MAX_SCORE)
        | (bins["score_low"] > bins["score_high"])
    ]
    if not bad.empty:
        row = bad.iloc[0]
        raise ValueError(
            f"pool bin {row.score_low}-{row.score_high} is not a score range within 0-{MAX_SCORE}"
        )
    if bins["candidates"].isna().any() or (bins["candidates"] < 0).any():
        raise ValueError("pool distribution has a negative or missing number of candidates")
    same = np.ones(len(bins) - 1, dtype=bool)
    if by:
        group = bins[by].to_numpy()
        same = group[1:] == group[:-1]
    overlap = same & (bins["score_low"].to_numpy()[1:] <= bins["score_high"].to_numpy()[:-1])
    if overlap.any():
        i = int(np.flatnonzero(overlap)[0])
        raise ValueError(
            f"pool bins {bins.score_low[i]}-{bins.score_high[i]} and "
            f"{bins.score_low[i + 1]}-{bins.score_high[i + 1]} overlap"
        )
    return bins


def _bins(distribution: pd.DataFrame) -> pd.DataFrame:
    """One distribution's bins, checked and sorted from the lowest scores up."""
    if "distribution_date" in distribution.columns:
        dates = pd.to_datetime(distribution["distribution_date"]).dropna().unique()
        if len(dates) > 1:
            shown = ", ".join(f"{d:%Y-%m-%d}" for d in sorted(dates)[:3])
            raise ValueError(
                f"pool distribution mixes {len(dates)} distribution dates ({shown}...); "
                "pass the rows of one date"
            )
    return _checked(distribution)


def _rows(bins: pd.DataFrame) -> Rows:
    return list(
        zip(
            bins["score_low"].tolist(),
            bins["score_high"].tolist(),
            bins["candidates"].tolist(),
            strict=True,
        )
    )


def _pool_rows(pool: pd.DataFrame) -> dict[pd.Timestamp, Rows]:
    """Every distribution's bins as (low, high, candidates) rows, checked in one pass."""
    checked = _checked(pool, by="distribution_date")
    rows: dict[pd.Timestamp, Rows] = {}
    for date, low, high, count in zip(
        checked["distribution_date"].tolist(),
        checked["score_low"].tolist(),
        checked["score_high"].tolist(),
        checked["candidates"].tolist(),
        strict=True,
    ):
        rows.setdefault(pd.Timestamp(date), []).append((low, high, count))
    return rows


@lru_cache(maxsize=4096)
def _shape(low: int, high: int, method: str, tail_rate: float) -> np.ndarray:
    """Relative density over the scores low..high of one bin (sums to 1): flat, or falling by
    ``tail_rate`` per point between TAIL_START and NOMINEE_FLOOR - 1 and flat elsewhere."""
    scores = np.arange(low, high + 1)
    if method == "flat":
        return np.full(len(scores), 1.0 / len(scores))
    in_tail = np.clip(scores, TAIL_START, NOMINEE_FLOOR - 1)
    weights = np.exp(-tail_rate * (in_tail - in_tail[0]))
    return weights / weights.sum()


def _spread_rows(rows: Rows, method: str, tail_rate: float, prior: np.ndarray | None):
    """Fine density (candidates at each score 0..MAX_SCORE) matching the bin counts: spread
    with the method's shape, or in proportion to ``prior`` (growth spread with the tail)."""
    density = np.zeros(MAX_SCORE + 1)
    shape_of = "flat" if method == "flat" else "tail"
    for low, high, count in rows:
        shape = _shape(low, high, shape_of, float(tail_rate))
        if prior is None:
            density[low : high + 1] = count * shape
            continue
        before = prior[low : high + 1]
        total = before.sum()
        if count >= total:  # growth: newcomers spread like the tail
            density[low : high + 1] = before + (count - total) * shape
        else:  # losses (profiles expired, people left): proportionally
            density[low : high + 1] = before * (count / total)
    return density


def _as_array(density: pd.Series | np.ndarray) -> np.ndarray:
    values = np.asarray(density, dtype="float64")
    if values.shape != (MAX_SCORE + 1,):
        raise ValueError(
            f"a fine density has one value per score 0..{MAX_SCORE}; got shape {values.shape}"
        )
    return values


def _as_series(density: np.ndarray) -> pd.Series:
    return pd.Series(density, index=pd.RangeIndex(MAX_SCORE + 1, name="score"), name="candidates")


def score_density(
    distribution: pd.DataFrame,
    *,
    method: str = "tail",
    tail_rate: float = TAIL_RATE,
    prior: pd.Series | np.ndarray | None = None,
) -> pd.Series:
    """Candidates at each integer CRS score (0..1200), spread from one distribution's bins.

    ``method`` ``"flat"`` or ``"tail"`` (see the module notes). With ``prior`` (a fine density,
    e.g. from :func:`replay_density`) each bin's count is spread in proportion to it instead;
    that is ``method="replay"``, which requires a prior.

    >>> dist = pd.DataFrame({"score_low": [0, 10], "score_high": [9, 19],
    ...                      "candidates": [100, 20]})
    >>> score_density(dist, method="flat").loc[8:11].tolist()
    [10.0, 10.0, 2.0, 2.0]
    """
    _check_method(method)
    if method == "replay" and prior is None:
        raise ValueError(
            "method='replay' needs prior=replay_density(draws, pool, date); "
            "or call estimate_for_round"
        )
    fine = None if prior is None else _as_array(prior)
    return _as_series(_spread_rows(_rows(_bins(distribution)), method, tail_rate, fine))


def candidates_at_or_above(
    distribution: pd.DataFrame,
    score: float,
    *,
    method: str = "tail",
    tail_rate: float = TAIL_RATE,
    prior: pd.Series | np.ndarray | None = None,
) -> float:
    """Modelled number of candidates with a CRS score of ``score`` or more.

    Exact at bin edges whatever the method; between them it depends on the shape in the bin.

    >>> dist = pd.DataFrame({"score_low": [0, 501, 601], "score_high": [500, 600, 1200],
    ...                      "candidates": [10000, 1000, 100]})
    >>> [round(candidates_at_or_above(dist, s, method="flat"), 6) for s in (501, 551, 601)]
    [1100.0, 600.0, 100.0]
    """
    density = score_density(distribution, method=method, tail_rate=tail_rate, prior=prior)
    return _at_or_above(density.to_numpy(), score)


def _at_or_above(density: np.ndarray, score: float) -> float:
    start = int(np.ceil(score))
    if start <= 0:
        return float(density.sum())
    return float(density[start:].sum()) if start <= MAX_SCORE else 0.0


def cutoff_from_density(density: pd.Series | np.ndarray, invitations: float) -> int:
    """Highest score at which the candidates at or above it number ``invitations`` or more
    (0 when the pool is smaller than the round).

    >>> cutoff_from_density(np.r_[np.zeros(500), np.full(701, 10.0)], 25)
    1198
    """
    survival = np.cumsum(_as_array(density)[::-1])[::-1]
    reached = np.flatnonzero(survival >= invitations * (1 - 1e-12))
    return int(reached.max()) if reached.size else 0


# --------------------------------------------------------------------------- rounds


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
    return _as_series(_take(_as_array(density), invitations, cutoff, all_program))


def _take(
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


def _require_draws(draws: pd.DataFrame, what: str) -> None:
    missing = [c for c in DRAW_COLUMNS if c not in draws.columns]
    if missing:
        raise ValueError(f"{what}: draws has no column(s) {missing}")


def _chronological(draws: pd.DataFrame) -> pd.DataFrame:
    """Rounds by date, then by round number on the same day ('91a' before '91b')."""
    return (
        draws.assign(_key=draws["round"].astype("string").map(round_sort_key))
        .sort_values(["date", "_key"], kind="stable")
        .drop(columns="_key")
        .reset_index(drop=True)
    )


def _round_tuples(rounds: pd.DataFrame) -> list[tuple[float, float, bool]]:
    """(invitations, cutoff, is_all_program) per round, NaN for missing numbers."""
    return list(
        zip(
            rounds["invitations"].astype("Float64").to_numpy(dtype=float, na_value=np.nan),
            rounds["cutoff"].astype("Float64").to_numpy(dtype=float, na_value=np.nan),
            rounds["is_all_program"].astype(bool).tolist(),
            strict=True,
        )
    )


def _take_all(density: np.ndarray, rounds: list[tuple], others: bool = True) -> np.ndarray:
    for invitations, cutoff, all_program in rounds:
        density = _take(density, invitations, cutoff, all_program, others)
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

    >>> rounds_between(_example_draws(), "2023-07-04", "256")["round"].tolist()
    ['253', '254', '255']
    """
    _require_draws(draws, "rounds_between")
    ordered = _chronological(draws)
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


# --------------------------------------------------------------------------- replay


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
    missing = [c for c in ("distribution_date", *DISTRIBUTION_COLUMNS) if c not in pool.columns]
    if missing:
        raise ValueError(f"pool has no column(s) {missing}")
    wide = pool.pivot_table(
        index="distribution_date", columns="score_low", values="candidates", aggfunc="sum"
    ).sort_index()
    same = wide.eq(wide.shift(1)).all(axis=1)
    effective = pd.Series(wide.index.where(~same), index=wide.index).ffill()
    return effective.rename("snapshot_date").astype("datetime64[ns]")


def _distribution(pool: pd.DataFrame, date: pd.Timestamp) -> pd.DataFrame:
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

    def inflow(self, as_of: pd.Timestamp, window_days: int | None = None) -> Rows:
        """Net newcomers per day per bin below 601 over the ``window_days`` (default
        :data:`INFLOW_WINDOW_DAYS`) up to ``as_of``, as (low, high, per_day) rows; empty
        before the second snapshot. Nominees (601+) are left out: they come in bursts."""
        window = pd.Timedelta(days=INFLOW_WINDOW_DAYS if window_days is None else window_days)
        recent = self.changes[
            (self.changes["date"] <= as_of) & (self.changes["date"] > as_of - window)
        ]
        if recent.empty:
            return []
        days = recent.drop_duplicates("date")["days"].sum()
        per_bin = recent.groupby(["score_low", "score_high"])["change"].sum() / days
        return [
            (int(low), int(high), float(value))
            for (low, high), value in per_bin.items()
            if low < NOMINEE_FLOOR
        ]


def replay(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    *,
    tail_rate: float = TAIL_RATE,
    take_others: bool = True,
) -> Replay:
    """Replay the pool from the first published distribution to the last (see the module
    notes): the fine density at every snapshot date (:func:`snapshot_dates`) and the net change
    per bin between snapshots that the rounds do not explain. ``take_others=False`` leaves
    non-all-program rounds out (to test that rule).

    The density at a snapshot only uses that distribution, earlier ones and rounds before its
    date, so replaying a longer history gives the same density for an earlier date.

    >>> state = replay(_example_draws(), _example_pool())
    >>> sorted(state.densities)[0].date(), int(state.changes["days"].iloc[0])
    (datetime.date(2023, 6, 27), 7)
    """
    _require_draws(draws, "replay")
    ordered = _chronological(draws)
    dates = ordered["date"].to_numpy()
    taken = _round_tuples(ordered)
    snapshots = [pd.Timestamp(d) for d in sorted(snapshot_dates(pool).unique())]
    rows = _pool_rows(pool[pool["distribution_date"].isin(snapshots)])
    densities: dict[pd.Timestamp, np.ndarray] = {}
    changes = []
    density, previous = None, None
    for date in snapshots:
        if density is not None:
            held = (dates >= previous.to_datetime64()) & (dates < date.to_datetime64())
            density = _take_all(density, [taken[i] for i in np.flatnonzero(held)], take_others)
            changes += [
                (date, low, high, count - density[low : high + 1].sum(), (date - previous).days)
                for low, high, count in rows[date]
            ]
        density = _spread_rows(rows[date], "tail", tail_rate, density)
        densities[date] = density
        previous = date
    frame = pd.DataFrame(changes, columns=["date", "score_low", "score_high", "change", "days"])
    return Replay(
        densities,
        frame.astype(
            {
                "date": "datetime64[ns]",
                "score_low": "int64",
                "score_high": "int64",
                "change": "float64",
                "days": "int64",
            }
        ),
    )


def _fingerprint(frame: pd.DataFrame) -> tuple:
    return (frame.shape, int(pd.util.hash_pandas_object(frame, index=False).sum()))


_REPLAYS: dict[tuple, Replay] = {}


def _cached_replay(draws: pd.DataFrame, pool: pd.DataFrame, tail_rate: float) -> Replay:
    """:func:`replay`, remembered for the last few inputs (estimate_for_round is called once
    per round by the baselines; the replay is the same for all of them)."""
    key = (
        _fingerprint(draws.loc[:, list(DRAW_COLUMNS)]),
        _fingerprint(pool.loc[:, ["distribution_date", *DISTRIBUTION_COLUMNS]]),
        float(tail_rate),
    )
    if key not in _REPLAYS:
        if len(_REPLAYS) >= 4:
            _REPLAYS.pop(next(iter(_REPLAYS)))
        _REPLAYS[key] = replay(draws, pool, tail_rate=tail_rate)
    return _REPLAYS[key]


def replay_density(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    distribution_date: pd.Timestamp | str,
    *,
    tail_rate: float = TAIL_RATE,
) -> pd.Series:
    """Fine density (candidates per score) of the pool on ``distribution_date``, shaped by
    replaying every earlier distribution and round (see the module notes).

    >>> density = replay_density(_example_draws(), _example_pool(), "2023-07-04")
    >>> round(float(density.loc[501:].sum()))       # the published count above 500
    1079
    """
    when = pd.Timestamp(distribution_date)
    snapshot = snapshot_dates(pool).get(when)
    if snapshot is None:
        raise ValueError(f"no pool distribution dated {when:%Y-%m-%d}")
    return _as_series(_cached_replay(draws, pool, tail_rate).densities[snapshot].copy())


def age(density: np.ndarray, inflow: Rows, days: float, tail_rate: float = TAIL_RATE):
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
    return np.where(covered, _spread_rows(rows, "tail", tail_rate, values), values)


# --------------------------------------------------------------------------- estimates


def _bin_of(bins: pd.DataFrame, score: int) -> tuple[int, int]:
    hit = bins[(bins["score_low"] <= score) & (bins["score_high"] >= score)]
    if not hit.empty:
        return int(hit["score_low"].iloc[0]), int(hit["score_high"].iloc[0])
    below = bins.loc[bins["score_high"] < score, "score_high"]  # a gap between bins
    above = bins.loc[bins["score_low"] > score, "score_low"]
    return (
        int(below.max()) + 1 if len(below) else 0,
        int(above.min()) - 1 if len(above) else MAX_SCORE,
    )


def _forward(
    density: np.ndarray,
    between: pd.DataFrame | None,
    start: pd.Timestamp | None,
    on: pd.Timestamp | None,
    inflow: Rows | None,
    tail_rate: float,
    others: bool = True,
) -> tuple[np.ndarray, float, float]:
    """From the distribution to the round: newcomers until each round in between, that round
    taken out, newcomers until ``on``. Returns the density, candidates taken out and added."""
    taken_out = added = 0.0
    clock = None if start is None else start + pd.Timedelta(days=SAME_POOL_DAYS)

    def grow(until) -> None:
        nonlocal density, added, clock
        if inflow and clock is not None and until is not None and until > clock:
            before = density.sum()
            density = age(density, inflow, (until - clock).days, tail_rate)
            added += float(density.sum() - before)
            clock = until

    if between is not None and not between.empty:
        for when, item in zip(between["date"].tolist(), _round_tuples(between), strict=True):
            grow(pd.Timestamp(when))
            before = density.sum()
            density = _take_all(density, [item], others)
            taken_out += float(before - density.sum())
    grow(on)
    return density, taken_out, added


def _interval(method: str, cutoff: int, bin_range: tuple[int, int], adjusted: bool):
    low_bin, high_bin = bin_range
    width = "narrow" if high_bin - low_bin + 1 <= NARROW_BIN else "wide"
    p5, p95 = ERROR_BANDS[method]["direct"][width]
    if adjusted:
        other = ERROR_BANDS[method]["adjusted"][width]
        p5, p95 = min(p5, other[0]), max(p95, other[1])
    low, high = cutoff - p95, cutoff - p5
    if not adjusted:  # the published counts pin the cutoff inside this bin
        low, high = max(low, low_bin), min(high, high_bin)
    return min(low, cutoff), max(high, cutoff)


def _estimate(
    bins: pd.DataFrame,
    density: np.ndarray,
    invitations: int,
    method: str,
    *,
    distribution_date: pd.Timestamp | None = None,
    between: pd.DataFrame | None = None,
    inflow: Rows | None = None,
    on: pd.Timestamp | None = None,
    tail_rate: float = TAIL_RATE,
    take_others: bool = True,
) -> CutoffEstimate:
    if invitations is None or pd.isna(invitations) or int(invitations) <= 0:
        raise ValueError(f"invitations must be a positive number, not {invitations!r}")
    invitations = int(invitations)
    density, taken_out, added = _forward(
        density, between, distribution_date, on, inflow, tail_rate, take_others
    )
    ids = () if between is None else tuple(between["round"].astype(str))
    cutoff = cutoff_from_density(density, invitations)
    at_or_above = _at_or_above(density, cutoff)
    bin_range = _bin_of(bins, cutoff)
    notes = []
    if at_or_above < invitations * (1 - 1e-12):
        notes.append(
            f"the round ({invitations:,} invitations) is larger than the pool "
            f"({at_or_above:,.0f} candidates): everyone would be invited"
        )
        low, high = 0, cutoff
    elif bin_range[0] >= NOMINEE_FLOOR:
        notes.append(
            "fewer invitations than provincial nominees in the pool: the cutoff is a "
            f"nominee's score, somewhere in {bin_range[0]}-{bin_range[1]}"
        )
        low, high = bin_range
    else:
        low, high = _interval(method, cutoff, bin_range, adjusted=bool(ids) or added != 0)
    if ids:
        notes.append(f"{taken_out:,.0f} candidates taken out first by round(s) {', '.join(ids)}")
    if added:
        notes.append(f"{added:+,.0f} newcomers since the distribution")
    return CutoffEstimate(
        cutoff=int(cutoff),
        low=int(max(low, 0)),
        high=int(min(high, MAX_SCORE)),
        method=method,
        invitations=invitations,
        distribution_date=distribution_date,
        at_or_above=at_or_above,
        taken_out=taken_out,
        added=added,
        rounds_between=ids,
        note="; ".join(notes),
    )


def estimate_cutoff(
    distribution: pd.DataFrame,
    invitations: int,
    *,
    method: str = "tail",
    tail_rate: float = TAIL_RATE,
    prior: pd.Series | np.ndarray | None = None,
    between: pd.DataFrame | None = None,
) -> CutoffEstimate:
    """Estimated cutoff of an all-program round of ``invitations`` from one distribution.

    ``method``: ``"flat"``, ``"tail"``, or ``"replay"`` with ``prior=replay_density(...)``
    (:func:`estimate_for_round` does that, and adds newcomers). ``between``: rounds held after
    the distribution was counted (:func:`rounds_between`), taken out first (:func:`take_round`).

    >>> dist = pd.DataFrame({"score_low": [481, 491, 501], "score_high": [490, 500, 600],
    ...                      "candidates": [1000, 500, 200]})
    >>> e = estimate_cutoff(dist, 1200, method="flat")
    >>> (e.cutoff, e.low, e.high)        # 200 + 500 above 491, then 500 of 1000 in 481-490
    (486, 483, 487)
    """
    _check_method(method)
    if method == "replay" and prior is None:
        raise ValueError(
            "method='replay' needs prior=replay_density(draws, pool, date); "
            "or call estimate_for_round"
        )
    bins = _bins(distribution)
    fine = None if prior is None else _as_array(prior)
    when = None
    if "distribution_date" in distribution.columns:
        when = pd.Timestamp(distribution["distribution_date"].iloc[0])
    return _estimate(
        bins,
        _spread_rows(_rows(bins), method, tail_rate, fine),
        invitations,
        method,
        distribution_date=when,
        between=between,
        tail_rate=tail_rate,
    )


def _round_row(draws: pd.DataFrame, round_id: str) -> pd.Series:
    row = draws[draws["round"].astype(str) == str(round_id)]
    if row.empty:
        raise ValueError(f"round {round_id!r} is not in draws")
    return row.iloc[0]


def distribution_for_round(draws: pd.DataFrame, pool: pd.DataFrame, round_id: str) -> pd.Timestamp:
    """The distribution date used for a round: the one IRCC attached to it when that is in
    ``pool``, otherwise the latest one dated on or before the round.

    The attached one wins over a later one of the same day: a distribution dated on a round's
    day can already be without that round (round 322, PNP, 2024-11-12).

    >>> distribution_for_round(_example_draws(), _example_pool(), "256").date()
    datetime.date(2023, 7, 4)
    """
    _require_draws(draws, "distribution_for_round")
    row = _round_row(draws, round_id)
    published = pd.DatetimeIndex(pool["distribution_date"].unique()).sort_values()
    own = row["distribution_date"]
    if pd.notna(own) and own in published:
        return pd.Timestamp(own)
    earlier = published[published <= row["date"]]
    if earlier.empty:
        raise ValueError(
            f"round {round_id} ({row['date']:%Y-%m-%d}): no pool distribution published on or "
            "before that date"
        )
    return pd.Timestamp(earlier.max())


def estimate_for_round(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    round_id: str,
    method: str = "replay",
    *,
    tail_rate: float = TAIL_RATE,
    adjust: bool = True,
    newcomers: bool = True,
    distribution_date: pd.Timestamp | str | None = None,
    invitations: int | None = None,
) -> CutoffEstimate:
    """The cutoff an all-program round of the same size as ``round_id`` would have needed.

    Picks the distribution with :func:`distribution_for_round` (or ``distribution_date``),
    takes out the rounds held between it and the round (``adjust=False`` skips that), adds
    newcomers (``replay`` only; ``newcomers=False`` skips that) and estimates with ``method``.
    ``invitations`` overrides the round's own size. Only distributions up to the chosen one
    and rounds before ``round_id`` are used. Raises ``ValueError`` when the round has no
    invitations or no distribution on or before its date.

    >>> e = estimate_for_round(_example_draws(), _example_pool(), "254")
    >>> e.rounds_between, e.cutoff < 511     # round 253 took the top 700 first
    (('253',), True)
    """
    _check_method(method)
    _require_draws(draws, "estimate_for_round")
    row = _round_row(draws, round_id)
    size = row["invitations"] if invitations is None else invitations
    if size is None or pd.isna(size):
        raise ValueError(f"round {round_id}: no number of invitations to estimate a cutoff for")
    when = (
        distribution_for_round(draws, pool, round_id)
        if distribution_date is None
        else pd.Timestamp(distribution_date)
    )
    bins = _bins(_distribution(pool, when))
    snapshot = snapshot_dates(pool).get(when, when)
    prior, inflow = None, None
    if method == "replay":
        state = _cached_replay(draws, pool, tail_rate)
        prior = state.densities[snapshot]
        inflow = state.inflow(snapshot) if newcomers else None
    return _estimate(
        bins,
        _spread_rows(_rows(bins), method, tail_rate, prior),
        int(size),
        method,
        distribution_date=snapshot,
        between=rounds_between(draws, snapshot, str(round_id)) if adjust else None,
        inflow=inflow,
        on=pd.Timestamp(row["date"]),
        tail_rate=tail_rate,
    )


# --------------------------------------------------------------------------- examples


def _example_draws() -> pd.DataFrame:
    """Five rounds of June-July 2023 (real numbers) for the doctests."""
    return pd.DataFrame(
        {
            "round": pd.array(["252", "253", "254", "255", "256"], dtype="string"),
            "date": pd.to_datetime(
                ["2023-06-28", "2023-07-04", "2023-07-05", "2023-07-06", "2023-07-07"]
            ),
            "invitations": pd.array([500, 700, 500, 1500, 2300], dtype="Int64"),
            "cutoff": pd.array([476, 511, 486, 463, 439], dtype="Int64"),
            "is_all_program": [False, True, False, False, False],
            "distribution_date": pd.to_datetime(
                ["2023-06-27", "2023-07-04", "2023-07-04", "2023-07-04", "2023-07-04"]
            ),
        }
    )


def _example_pool() -> pd.DataFrame:
    """The distributions of 2023-06-27 and 2023-07-04 (real numbers) for the doctests."""
    lows = [601, 501, 491, 481, 471, 461, 451, 441, 431, 421, 411, 401, 351, 301, 0]
    highs = [1200, 600, 500, 490, 480, 470, 460, 450, 440, 430, 420, 410, 400, 350, 300]
    # fmt: off
    counts = {
        "2023-06-27": [1254, 1258, 1040, 4856, 20980, 16226, 12889, 11893, 12404, 10077,
                       10978, 11917, 64936, 33866, 5429],
        "2023-07-04": [353, 726, 831, 4719, 20475, 16023, 12684, 11740, 12309, 10008, 10873,
                       11743, 63679, 33051, 5315],
    }
    # fmt: on
    return pd.concat(
        pd.DataFrame(
            {
                "distribution_date": pd.Timestamp(day),
                "score_low": lows,
                "score_high": highs,
                "candidates": values,
            }
        )
        for day, values in counts.items()
    ).astype({"score_low": "int64", "score_high": "int64", "candidates": "int64"})


__all__ = [
    "CutoffEstimate",
    "ERROR_BANDS",
    "METHODS",
    "Replay",
    "TAIL_RATE",
    "age",
    "candidates_at_or_above",
    "cutoff_from_density",
    "distribution_for_round",
    "estimate_cutoff",
    "estimate_for_round",
    "replay",
    "replay_density",
    "rounds_between",
    "score_density",
    "snapshot_dates",
    "take_round",
]
