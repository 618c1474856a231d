"""The pool's shape: candidates at each CRS score, spread from IRCC's published bins, and the
cutoff a number of invitations reaches on it. The first layer of the pool model (then
:mod:`analysis.pool.replay`, :mod:`analysis.pool.estimate`, and its checks from
:mod:`analysis.pool.backtest` on); the model's research log is ``docs/pool-model.md``.

For N invitations the estimated cutoff is the highest score ``c`` at which the count of
candidates at or above ``c`` reaches N (the score of the N-th best candidate). IRCC publishes
counts per score bin and the bins are uneven: 601-1200 and 501-600 are one bin each, 451-500
and 401-450 come in 10-point bins. How the candidates spread *inside* a bin is the problem;
every shape here is exact at the bin edges:

- ``"flat"``: every score in a bin holds the same number of candidates.
- ``"tail"``: from :data:`TAIL_START` to 600 the density falls exponentially, by
  :data:`TAIL_RATE` per point (about 40% fewer candidates every 10 points), scaled to each
  bin's published count.
- ``"replay"``: each bin spread in proportion to a *prior* density, the one
  :func:`analysis.pool.replay.replay` carries forward from earlier distributions and rounds.

>>> from analysis.pool.estimate import estimate_cutoff
>>> dist = pd.DataFrame({"score_low": [0, 501, 601], "score_high": [500, 600, 1200],
...                      "candidates": [10000, 1000, 100]})
>>> estimate_cutoff(dist, 600, method="flat").cutoff     # 100 nominees + 500 of 1000 in 501-600
551
>>> estimate_cutoff(dist, 600, method="tail").cutoff     # the tail keeps most of them near 501
514
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from analysis.ingest.feed import MAX_SCORE  # a fine density covers the scores 0..MAX_SCORE

#: Provincial nominees get +600, so from here up the pool is (almost) only nominees.
NOMINEE_FLOOR = 601

#: From this score to NOMINEE_FLOOR - 1 the density is modelled as an exponential tail.
TAIL_START = 451

#: Fall of the density per CRS point in the tail: density(x + 1) = density(x) * exp(-TAIL_RATE).
#: Chosen on the all-program backtest (backtest.choose_tail_rate; leave-one-out agrees).
TAIL_RATE = 0.05

METHODS = ("flat", "tail", "replay")

#: Days after the distribution date that add no newcomers (see the module notes).
SAME_POOL_DAYS = 1

#: Share of the candidates at or above a restricted round's cutoff that the round could invite
#: (its program's or category's own): a round of N shows at least N / share candidates there,
#: and leaves the others in the pool. Chosen by the regime backtest (analysis.pool.regime).
ELIGIBLE_SHARE = 0.6

#: Share of the nominees' measured net arrivals per day (601-1200) that the model adds between
#: a distribution and a round. Nominations come in bursts, so the full rate overshoots; none at
#: all leaves every estimate made across days too low. Chosen by the regime backtest.
NOMINEE_INFLOW = 0.5

#: Fall per CRS point of the newcomers added between a distribution and a round (below 601):
#: they arrive spread more evenly than the pool's stock, which the rounds have carved. Chosen by
#: the regime backtest.
INFLOW_RATE = 0.015

#: Newcomers per day are the average net change per bin over this many days of snapshots before
#: the distribution. The arrivals grew through 2022-24 (about 30 a day into 501-600 in the
#: summer of 2022, 100-150 in early 2024), so a long window lags them. Chosen by the regime
#: backtest.
INFLOW_WINDOW_DAYS = 14


@dataclass(frozen=True)
class Settings:
    """The settings of the model that were chosen by looking at data: the tail's fall per point
    and where it starts, the days after a distribution that add no newcomers, the share of the
    pool above a restricted round's cutoff that it could invite (:data:`ELIGIBLE_SHARE`) and the
    share of the nominees' arrivals added (:data:`NOMINEE_INFLOW`), the fall of the
    newcomers' spread (:data:`INFLOW_RATE`) and the days their rate is measured over
    (:data:`INFLOW_WINDOW_DAYS`). The forward-chained backtest
    (:func:`analysis.pool.forward.forward_backtest`) chooses the first three again for every
    round from earlier rounds only, the regime backtest
    (:func:`analysis.pool.regime.regime_backtest`) the others."""

    tail_rate: float = TAIL_RATE
    tail_start: int = TAIL_START
    same_pool_days: int = SAME_POOL_DAYS
    eligible_share: float = ELIGIBLE_SHARE
    nominee_inflow: float = NOMINEE_INFLOW
    inflow_rate: float = INFLOW_RATE
    inflow_window: int = INFLOW_WINDOW_DAYS


DEFAULT_SETTINGS = Settings()

DISTRIBUTION_COLUMNS = ("score_low", "score_high", "candidates")

Rows = list[tuple[int, int, float]]


def check_method(method: str) -> None:
    """Raise ``ValueError`` naming the methods when ``method`` is not one of :data:`METHODS`."""
    if method not in METHODS:
        raise ValueError(f"unknown pool model method {method!r}; choose one of {METHODS}")


def checked_bins(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
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


def distribution_bins(distribution: pd.DataFrame) -> pd.DataFrame:
    """One distribution's bins, checked and sorted from the lowest scores up."""
    if "distribution_date" in distribution.columns:
        dates = pd.to_datetime(distribution["distribution_date"]).dropna().unique()
        if len(dates) > 1:
            shown = ", ".join(f"{d:%Y-%m-%d}" for d in sorted(dates)[:3])
            raise ValueError(
                f"pool distribution mixes {len(dates)} distribution dates ({shown}...); "
                "pass the rows of one date"
            )
    return checked_bins(distribution)


def bin_rows(bins: pd.DataFrame) -> Rows:
    """The bins as ``(low, high, candidates)`` rows, lowest first.

    >>> bin_rows(distribution_bins(pd.DataFrame({"score_low": [501, 0], "score_high": [600, 500],
    ...                                            "candidates": [5, 9]})))
    [(0, 500, 9.0), (501, 600, 5.0)]
    """
    return list(
        zip(
            bins["score_low"].tolist(),
            bins["score_high"].tolist(),
            bins["candidates"].tolist(),
            strict=True,
        )
    )


def pool_rows(pool: pd.DataFrame) -> dict[pd.Timestamp, Rows]:
    """Every distribution's bins as (low, high, candidates) rows, checked in one pass."""
    checked = checked_bins(pool, by="distribution_date")
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
def bin_shape(
    low: int, high: int, method: str, tail_rate: float, tail_start: int = TAIL_START
) -> np.ndarray:
    """Relative density over the scores low..high of one bin (sums to 1): flat, or falling by
    ``tail_rate`` per point between ``tail_start`` and NOMINEE_FLOOR - 1 and flat elsewhere."""
    scores = np.arange(low, high + 1)
    if method == "flat":
        return np.full(len(scores), 1.0 / len(scores))
    in_tail = np.clip(scores, tail_start, NOMINEE_FLOOR - 1)
    weights = np.exp(-tail_rate * (in_tail - in_tail[0]))
    return weights / weights.sum()


def spread_bins(rows: Rows, method: str, settings: Settings, prior: np.ndarray | None):
    """Fine density (candidates at each score 0..MAX_SCORE) matching the bin counts: spread
    with the method's shape, or in proportion to ``prior`` (growth spread with the tail)."""
    density = np.zeros(MAX_SCORE + 1)
    shape_of = "flat" if method == "flat" else "tail"
    for low, high, count in rows:
        shape = bin_shape(low, high, shape_of, float(settings.tail_rate), int(settings.tail_start))
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


def as_density(density: pd.Series | np.ndarray) -> np.ndarray:
    """A fine density as a float array of one value per score 0..MAX_SCORE (checked)."""
    values = np.asarray(density, dtype="float64")
    if values.shape != (MAX_SCORE + 1,):
        raise ValueError(
            f"a fine density has one value per score 0..{MAX_SCORE}; got shape {values.shape}"
        )
    return values


def density_series(density: np.ndarray) -> pd.Series:
    """A fine density as a Series indexed by score."""
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
    check_method(method)
    if method == "replay" and prior is None:
        raise ValueError(
            "method='replay' needs prior=replay_density(draws, pool, date); "
            "or call estimate_for_round"
        )
    fine = None if prior is None else as_density(prior)
    return density_series(
        spread_bins(
            bin_rows(distribution_bins(distribution)), method, Settings(tail_rate=tail_rate), fine
        )
    )


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
    return count_at_or_above(density.to_numpy(), score)


def count_at_or_above(density: np.ndarray, score: float) -> float:
    """Candidates at or above ``score`` on a fine density (scores are whole points: 485.5
    counts from 486).

    >>> count_at_or_above(np.ones(1201), 1190.5), count_at_or_above(np.ones(1201), 1300)
    (10.0, 0.0)
    """
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
    survival = np.cumsum(as_density(density)[::-1])[::-1]
    reached = np.flatnonzero(survival >= invitations * (1 - 1e-12))
    return int(reached.max()) if reached.size else 0


def bin_of(bins: pd.DataFrame, score: int) -> tuple[int, int]:
    """The published bin that holds ``score`` (or the gap between two bins).

    >>> bins = pd.DataFrame({"score_low": [451, 501], "score_high": [460, 600]})
    >>> bin_of(bins, 530), bin_of(bins, 470)
    ((501, 600), (461, 500))
    """
    hit = bins[(bins["score_low"] <= score) & (bins["score_high"] >= score)]
    if not hit.empty:
        return int(hit["score_low"].iloc[0]), int(hit["score_high"].iloc[0])
    below = bins.loc[bins["score_high"] < score, "score_high"]  # a gap between bins
    above = bins.loc[bins["score_low"] > score, "score_low"]
    return (
        int(below.max()) + 1 if len(below) else 0,
        int(above.min()) - 1 if len(above) else MAX_SCORE,
    )
