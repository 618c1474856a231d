"""The estimate: the cutoff an all-program round of N invitations would have needed on a given
day, from the distribution IRCC published for it (the third layer of the pool model; its
accuracy is in :mod:`analysis.pool.accuracy` and ``docs/pool-model.md``).

:func:`estimate_for_round` picks the round's distribution, takes the replayed shape of the pool
on that date (:mod:`analysis.pool.replay`), takes out the rounds held since (honouring each
restricted round's bound, and the round's own when it is one), adds the newcomers of the days
in between and reads off the score the invitations reach. The interval ``low``-``high`` spans
the 5th-95th percentile of the backtest's errors for the method, situation and bin width
(:data:`ERROR_BANDS`), and is never below the round's own bound.

>>> from analysis.pool.examples import example_draws, example_pool
>>> e = estimate_for_round(example_draws(), example_pool(), "254")
>>> e.rounds_between, e.low <= e.cutoff <= e.high
(('253',), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data import require_columns
from analysis.pool.density import (
    DEFAULT_SETTINGS,
    MAX_SCORE,
    NOMINEE_FLOOR,
    TAIL_RATE,
    Rows,
    Settings,
    bin_of,
    bin_rows,
    check_method,
    count_at_or_above,
    cutoff_from_density,
    distribution_bins,
    score_density,
    spread_bins,
)
from analysis.pool.replay import (
    DRAW_COLUMNS,
    age,
    bin_edges,
    cached_replay,
    distribution_on,
    honour_bound_values,
    is_bound,
    round_tuples,
    rounds_between,
    snapshot_dates,
    take_rounds,
)

#: Bins this wide or narrower are "narrow" for the interval.
NARROW_BIN = 10

#: 5th and 95th percentile of backtest errors (estimated - actual) per method, situation and
#: width of the bin the estimate falls in. "direct": the round's own distribution, nothing in
#: between; "adjusted": from the previous distribution, about two weeks earlier, rounds taken
#: out and newcomers added (replay only). Measured by backtest.error_bands on the
#: 2026-03-05 snapshot; a test re-measures them. The reports do not use these: their baselines
#: get the bands measured on the feed at hand (backtest.measured_error_bands) and, across
#: rounds and days, the regime backtest's range (regime.regime_error_range). The interval is
#: cutoff - p95 .. cutoff - p5, clipped to the bin for "direct"; an adjusted estimate gets the
#: union of both bands (most are a few days from their distribution, not two weeks).
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
        "adjusted": {"narrow": (-9, 1), "wide": (-23, 3)},
    },
}


class ErrorRange(tuple):
    """``(low, high)``: the errors (estimated - actual) an estimate's range allows, as
    measured by a backtest, with what that backtest learned to correct: ``correction`` points
    added to every estimate made across rounds or days (the regime backtest's minus median
    error, :func:`analysis.pool.regime.regime_error_range`), and the middle share of the
    corrected errors the range spans (``level``).

    ``by_days``: ``(up to days, low, high, level)`` per band of days from the distribution to
    the round, nearest first (the last up to ``inf``): the range an estimate made that many
    days from its distribution gets (:meth:`for_days`); empty when the backtest did not split
    them.

    >>> r = ErrorRange(-9, 12, correction=3, level=0.95)
    >>> low, high = r
    >>> (low, high, r.correction, r.level)
    (-9, 12, 3, 0.95)
    >>> bands = ((14, -4, 5, 0.9), (float("inf"), -12, 14, 0.95))
    >>> near = ErrorRange(-9, 12, correction=3, by_days=bands)
    >>> tuple(near.for_days(2)), near.for_days(2).level, near.for_days(2).correction
    ((-4, 5), 0.9, 3)
    >>> tuple(near.for_days(40)), tuple(r.for_days(2))
    ((-12, 14), (-9, 12))
    """

    correction: int
    level: float
    by_days: tuple

    def __new__(
        cls,
        low: int,
        high: int,
        *,
        correction: int = 0,
        level: float = float("nan"),
        by_days: tuple = (),
    ):
        self = super().__new__(cls, (int(low), int(high)))
        self.correction = int(correction)
        self.level = float(level)
        self.by_days = tuple(
            (float(upper), int(lo), int(hi), float(lv)) for upper, lo, hi, lv in by_days
        )
        return self

    def __getnewargs_ex__(self):
        return (
            tuple(self),
            {"correction": self.correction, "level": self.level, "by_days": self.by_days},
        )

    def for_days(self, days: float) -> ErrorRange:
        """The range of an estimate made ``days`` from its distribution: that of the first band
        of ``by_days`` reaching them (with the same correction), or this one without bands."""
        for upper, low, high, level in self.by_days:
            if days <= upper:
                return ErrorRange(low, high, correction=self.correction, level=level)
        return self


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


def carry_forward(
    density: np.ndarray,
    between: pd.DataFrame | None,
    start: pd.Timestamp | None,
    on: pd.Timestamp | None,
    inflow: Rows | None,
    settings: Settings,
    others: bool = True,
    edges: list[tuple[int, int]] | None = None,
    own: tuple[float, float] | None = None,
) -> tuple[np.ndarray, float, float]:
    """From the distribution to the round: newcomers until each round in between, that round
    taken out, newcomers until ``on``. With ``edges`` (the bins) every restricted round's bound
    is honoured before it is taken out, and ``own`` (invitations, cutoff: the estimated round's
    own bound, when it is a restricted round) at the end. Returns the density, candidates taken
    out and added."""
    taken_out = added = 0.0
    clock = None if start is None else start + pd.Timedelta(days=settings.same_pool_days)

    def grow(until) -> None:
        nonlocal density, added, clock
        if inflow and clock is not None and until is not None and until > clock:
            before = density.sum()
            density = age(density, inflow, (until - clock).days, settings)
            added += float(density.sum() - before)
            clock = until

    if between is not None and not between.empty:
        for when, item in zip(between["date"].tolist(), round_tuples(between), strict=True):
            grow(pd.Timestamp(when))
            before = density.sum()
            density = take_rounds(density, [item], others, edges, settings)
            taken_out += float(before - density.sum())
    grow(on)
    if edges is not None and own is not None:
        density = honour_bound_values(density, *own, edges, settings)
    return density, taken_out, added


def _interval(
    method: str,
    cutoff: int,
    bin_range: tuple[int, int],
    adjusted: bool,
    error_range: tuple[int, int] | None = None,
    bands: dict | None = None,
):
    low_bin, high_bin = bin_range
    width = "narrow" if high_bin - low_bin + 1 <= NARROW_BIN else "wide"
    bands = bands or ERROR_BANDS[method]
    p5, p95 = bands["direct"][width]
    if adjusted and error_range is not None:  # measured where it is used: the regime backtest
        p5, p95 = error_range
    elif adjusted:
        other = bands["adjusted"][width]
        p5, p95 = min(p5, other[0]), max(p95, other[1])
    low, high = cutoff - p95, cutoff - p5
    if not adjusted:  # the published counts pin the cutoff inside this bin
        low, high = max(low, low_bin), min(high, high_bin)
    return min(low, cutoff), max(high, cutoff)


def estimate_from_density(
    bins: pd.DataFrame,
    density: np.ndarray,
    invitations: int,
    method: str,
    *,
    distribution_date: pd.Timestamp | None = None,
    between: pd.DataFrame | None = None,
    inflow: Rows | None = None,
    on: pd.Timestamp | None = None,
    settings: Settings = DEFAULT_SETTINGS,
    take_others: bool = True,
    bounds: bool = False,
    own: tuple[float, float] | None = None,
    error_range: tuple[int, int] | None = None,
    bands: dict | None = None,
) -> CutoffEstimate:
    """The estimate from a fine density: carried forward to the round (:func:`carry_forward`),
    the cutoff ``invitations`` reach on it, its interval and notes. What
    :func:`estimate_cutoff`, :func:`estimate_for_round` and the backtest share."""
    if invitations is None or pd.isna(invitations) or int(invitations) <= 0:
        raise ValueError(f"invitations must be a positive number, not {invitations!r}")
    invitations = int(invitations)
    edges = bin_edges(bin_rows(bins)) if bounds else None
    density, taken_out, added = carry_forward(
        density, between, distribution_date, on, inflow, settings, take_others, edges, own
    )
    ids = () if between is None else tuple(between["round"].astype(str))
    cutoff = cutoff_from_density(density, invitations)
    at_or_above = count_at_or_above(density, cutoff)
    bin_range = bin_of(bins, cutoff)
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
        adjusted = bool(ids) or added != 0
        correction = getattr(error_range, "correction", 0) if adjusted else 0
        if correction:  # what the regime backtest learned: its median miss, the other way
            cutoff = int(min(max(cutoff + correction, 0), NOMINEE_FLOOR - 1))
            at_or_above = count_at_or_above(density, cutoff)
            bin_range = bin_of(bins, cutoff)
            notes.append(
                f"{correction:+d} points: the median miss of estimates made this way, corrected"
            )
        if adjusted and hasattr(error_range, "for_days") and None not in (on, distribution_date):
            # the misses grow with the days from the distribution: the range of estimates as near
            error_range = error_range.for_days((pd.Timestamp(on) - distribution_date).days)
        low, high = _interval(method, cutoff, bin_range, adjusted, error_range, bands)
    if edges is not None and own is not None and is_bound(*own, False):
        floor = int(own[1])
        if invitations <= own[0] and cutoff >= floor:  # the round's own bound: at least its cutoff
            low, high = max(low, floor), max(high, floor)
            notes.append(f"at least {floor}: a restricted round of this size reached it")
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
    density = score_density(distribution, method=method, tail_rate=tail_rate, prior=prior)
    when = None
    if "distribution_date" in distribution.columns:
        when = pd.Timestamp(distribution["distribution_date"].iloc[0])
    return estimate_from_density(
        distribution_bins(distribution),
        density.to_numpy(),
        invitations,
        method,
        distribution_date=when,
        between=between,
        settings=Settings(tail_rate=tail_rate),
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

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> distribution_for_round(example_draws(), example_pool(), "256").date()
    datetime.date(2023, 7, 4)
    """
    require_columns(draws, DRAW_COLUMNS, "distribution_for_round")
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
    bounds: bool = True,
    own_bound: bool = True,
    settings: Settings | None = None,
    error_range: tuple[int, int] | None = None,
    bands: dict | None = None,
) -> CutoffEstimate:
    """The cutoff an all-program round of the same size as ``round_id`` would have needed.

    Picks the distribution with :func:`distribution_for_round` (or ``distribution_date``),
    takes out the rounds held between it and the round (``adjust=False`` skips that), adds
    newcomers (``replay`` only; ``newcomers=False`` skips that) and estimates with ``method``.
    ``invitations`` overrides the round's own size. Only distributions up to the chosen one
    and rounds before ``round_id`` are used, and the round's own cutoff when it is a restricted
    round: with ``replay``, every restricted round's bound is honoured (:func:`honour_bound`;
    ``bounds=False`` leaves them out, ``own_bound=False`` leaves out only the round's own, to
    check the bound out of sample). ``settings`` (default: the module's, with ``tail_rate``)
    chooses the tail and the newcomers' start. ``error_range`` (errors estimated - actual, e.g.
    :func:`analysis.pool.regime.regime_error_range`) makes the interval of an estimate carried
    across rounds or days ``cutoff - high`` to ``cutoff - low`` instead of :data:`ERROR_BANDS`'
    "adjusted" band, and adds its ``correction`` (an :class:`ErrorRange`) to such an estimate;
    ``bands`` (one method's ``{"direct": ..., "adjusted": ...}``, e.g.
    :func:`analysis.pool.backtest.measured_error_bands`) replaces :data:`ERROR_BANDS` for it.
    Raises ``ValueError`` when the round has no
    invitations or no distribution on or before its date.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> e = estimate_for_round(example_draws(), example_pool(), "254")
    >>> e.rounds_between, e.cutoff < 511     # round 253 took the top 700 first
    (('253',), True)
    """
    check_method(method)
    require_columns(draws, DRAW_COLUMNS, "estimate_for_round")
    settings = settings or Settings(tail_rate=tail_rate)
    row = _round_row(draws, round_id)
    size = row["invitations"] if invitations is None else invitations
    if size is None or pd.isna(size):
        raise ValueError(f"round {round_id}: no number of invitations to estimate a cutoff for")
    when = (
        distribution_for_round(draws, pool, round_id)
        if distribution_date is None
        else pd.Timestamp(distribution_date)
    )
    bins = distribution_bins(distribution_on(pool, when))
    snapshot = snapshot_dates(pool).get(when, when)
    prior, inflow = None, None
    bounds = bounds and method == "replay"
    if method == "replay":
        state = cached_replay(draws, pool, settings, bounds)
        prior = state.densities[snapshot]
        inflow = state.inflow(snapshot) if newcomers else None
    own = None  # the round's own bound, when it is a restricted round
    if bounds and own_bound and is_bound(row["invitations"], row["cutoff"], row["is_all_program"]):
        own = (float(row["invitations"]), float(row["cutoff"]))
    return estimate_from_density(
        bins,
        spread_bins(bin_rows(bins), method, settings, prior),
        int(size),
        method,
        distribution_date=snapshot,
        between=rounds_between(draws, snapshot, str(round_id)) if adjust else None,
        inflow=inflow,
        on=pd.Timestamp(row["date"]),
        settings=settings,
        bounds=bounds,
        own=own,
        error_range=error_range if method == "replay" else None,
        bands=bands,
    )


def estimate_general_round(
    draws: pd.DataFrame,
    pool: pd.DataFrame,
    invitations: int,
    *,
    distribution_date: pd.Timestamp | str | None = None,
    on: pd.Timestamp | str | None = None,
    settings: Settings | None = None,
    error_range: tuple[int, int] | None = None,
    bands: dict | None = None,
) -> CutoffEstimate:
    """The cutoff an all-program round of ``invitations`` would need on the day ``on``, from the
    distribution of ``distribution_date`` (default: the newest in ``pool``) carried forward as
    :func:`estimate_for_round` carries it (replay, every round held from the distribution's day
    up to and including ``on`` taken out with its bound honoured, newcomers added). ``on``
    defaults to the newest round or distribution, whichever is later: "a general round today".
    ``error_range``/``bands`` as for :func:`estimate_for_round`.

    >>> from analysis.pool.examples import example_draws, example_pool
    >>> e = estimate_general_round(example_draws(), example_pool(), 500)
    >>> e.low <= e.cutoff <= e.high, e.invitations
    (True, 500)
    """
    require_columns(draws, DRAW_COLUMNS, "estimate_general_round")
    settings = settings or DEFAULT_SETTINGS
    published = pd.DatetimeIndex(pool["distribution_date"].dropna().unique())
    if published.empty:
        raise ValueError("no pool distribution to estimate a general round from")
    when = published.max() if distribution_date is None else pd.Timestamp(distribution_date)
    if on is None:
        on = max(when, pd.Timestamp(draws["date"].max()))
    on = pd.Timestamp(on)
    bins = distribution_bins(distribution_on(pool, when))
    snapshot = snapshot_dates(pool).get(when, when)
    state = cached_replay(draws, pool, settings, True)
    between = rounds_between(draws, snapshot, until=on + pd.Timedelta(days=1))
    return estimate_from_density(
        bins,
        spread_bins(bin_rows(bins), "replay", settings, state.densities[snapshot]),
        int(invitations),
        "replay",
        distribution_date=snapshot,
        between=between if len(between) else None,
        inflow=state.inflow(snapshot),
        on=on,
        settings=settings,
        bounds=True,
        error_range=error_range,
        bands=bands,
    )
