"""``ee backtest``: every check of the pool model on one snapshot's tables, and what it
reports. The in-sample backtest (:mod:`analysis.pool.backtest`), the forward-chained one
(:mod:`analysis.pool.forward`) and the bounds (:mod:`analysis.pool.bounds`) are run together
(:func:`run_all`, :class:`BacktestRun`); :func:`main_backtest` prints them
(:func:`format_summary`, :func:`accuracy_lines`), writes ``pool_backtest``, ``pool_forward`` and
``pool_bounds`` next to the processed tables and refreshes the figures in ``docs/pool-model.md``
(the model's research log, :func:`write_model_notes`).

:data:`DOCUMENTED_ACCURACY` holds what it measured on the newest shared snapshot, and
:func:`accuracy_sentence` says it in one sentence for the reports.
"""

from __future__ import annotations

import contextlib
import json
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.data import load_draws, load_pool, read_meta
from analysis.pool import density as pool_density
from analysis.pool.backtest import (
    BacktestSummary,
    TailRateChoice,
    backtest,
    choose_tail_rate,
    run_backtest,
    with_distribution,
)
from analysis.pool.bounds import (
    BoundsSummary,
    bounds_table,
    summarize_bounds,
    with_held_out,
)
from analysis.pool.estimate import ErrorRange
from analysis.pool.forward import ForwardBacktest, forward_backtest
from analysis.pool.regime import (
    RegimeBacktest,
    band_label,
    model_regime,
    regime_backtest,
    regime_error_range,
)
from analysis.pool.regime_figures import baseline_days, regime_lines, span
from analysis.storage import write_tables_atomic, write_text_atomic
from analysis.vocabulary import month_label, plural, signed_points

#: What ``ee backtest`` measured on the newest shared snapshot (ee_rounds_2026-03-05.json; a test
#: re-measures it): the figures the README and ``docs/pool-model.md`` quote. The reports do not
#: quote it: their notes are measured on the feed that built them (:func:`measured_accuracy`).
DOCUMENTED_ACCURACY = {
    "snapshot": "ee_rounds_2026-03-05.json",
    "in_sample": {"mae": 1.68, "n": 37, "first": "2022-08", "last": "2024-04"},
    "forward": {"mae": 2.19, "n": 32, "first": "2022-10", "last": "2024-04"},
    "regime": {"mae": 5.57, "bias": -0.61, "n": 96, "covered": 0.79},
    "stopped": "2024-04",
    "bounds": {
        "rows": 90,
        "broken": 0,
        "held_out_broken": 2,
        "held_out_cec": 2,
        "cec": 29,
        "first": "2023-02",
        "last": "2026-03",
    },
}

#: The figures the reports quote, cached next to the processed tables per feed (its sha256)
#: and version of this measure.
ACCURACY_FILE = "pool_accuracy.json"
ACCURACY_VERSION = 4


def _month(stamp) -> str:
    return f"{pd.Timestamp(stamp):%Y-%m}"


def measure_accuracy(draws: pd.DataFrame, pool: pd.DataFrame) -> dict:
    """The pool model's accuracy on one feed's tables, as the reports quote it: in-sample
    (own distribution), the regime (from 1-3 distributions back, across rounds and days, the
    model's settings; with the share of actual cutoffs its 80% range held) and the bounds (in
    sample and held out). About a second; :func:`measured_accuracy` caches it per feed."""

    own = backtest(draws, pool)
    model = model_regime(draws, pool)
    lagged = model.table
    out: dict = {"version": ACCURACY_VERSION}
    all_program = draws.loc[draws["is_all_program"].astype(bool) & draws["cutoff"].notna()]
    if len(all_program) and len(draws):
        last, newest = all_program["date"].max(), draws["date"].max()
        if (newest - last).days > 60:  # analysis.stats.verdict.OVERLAP_GAP_DAYS
            out["all_program_stopped"] = _month(last)
    if len(own):
        errors = own["error"].astype(float)
        out["in_sample"] = {
            "mae": round(float(errors.abs().mean()), 2),
            "bias": round(float(errors.mean()), 2),
            "n": len(own),
            "first": _month(own["date"].min()),
            "last": _month(own["date"].max()),
        }
    found = regime_error_range(draws, pool)
    if found is not None and len(lagged):
        errors = lagged["error"].astype(float)
        low, high = found
        out["regime"] = {
            "mae": round(float(errors.abs().mean()), 2),
            "bias": round(float(errors.mean()), 2),
            "n": len(lagged),
            "rounds": int(lagged["round"].nunique()),
            "range": [low, high],
            "by_days": [
                {"days": band_label(band), "range": [lo, hi], "level": level}
                for band, (_, lo, hi, level) in enumerate(found.by_days)
            ],
            "correction": found.correction,
            "level": found.level,
            "covered": round(model.summary.within_interval, 3),
            "first": _month(lagged["date"].min()),
            "last": _month(lagged["date"].max()),
        }
    held = bounds_table(draws, pool, own_bound=False)
    table = with_held_out(bounds_table(draws, pool), held)
    if len(table):
        cec = table["family"].eq("cec").fillna(False)
        out["bounds"] = {
            "rows": len(table),
            "broken": int((table["slack"] < 0).sum()),
            "held_out_broken": int((table["held_out_slack"] < 0).sum()),
            "held_out_cec": int((table.loc[cec, "held_out_slack"] < 0).sum()),
            "cec": int(cec.sum()),
            "first": _month(table["date"].min()),
            "last": _month(table["date"].max()),
        }
    return out


def measured_accuracy(folder: Path | None = None) -> dict | None:
    """:func:`measure_accuracy` on the processed tables in ``folder`` (default
    :func:`analysis.config.processed_dir`), read from :data:`ACCURACY_FILE` there when it was
    measured on the same feed (its sha256) and otherwise measured and written there, so it is
    computed once per data change. ``ee backtest`` adds the forward-chained figures to the same
    file. None when there are no processed tables."""
    folder = Path(folder or config.processed_dir())
    meta = read_meta(folder) or {}
    key = str(meta.get("sha256", ""))
    path = folder / ACCURACY_FILE
    cached = None
    if path.is_file():
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            cached = None
    if (
        isinstance(cached, dict)
        and key
        and cached.get("sha256") == key
        and cached.get("version") == ACCURACY_VERSION
    ):
        return cached
    try:
        draws, pool = load_draws(folder), load_pool(folder)
    except FileNotFoundError:
        return None
    measured = {
        **measure_accuracy(draws, pool),
        "sha256": key,
        "snapshot": Path(str(meta.get("file") or meta.get("source") or "")).name,
        "newest": str(meta.get("newest_date", "")),
    }
    if key:
        # a read-only data folder: measured again next time, nothing lost
        with contextlib.suppress(OSError):
            write_text_atomic(path, json.dumps(measured, indent=1, sort_keys=True))
    return measured


def record_forward(run: BacktestRun, folder: Path) -> dict | None:
    """Add the forward-chained figures of ``run`` (own distribution, and the regime's) to the
    feed's :data:`ACCURACY_FILE` (:func:`measured_accuracy`), so the reports quote them too."""
    measured = measured_accuracy(folder)
    if measured is None or not measured.get("sha256"):
        return measured
    fwd = run.forward
    if fwd.summary.n:
        measured["forward"] = {
            "mae": round(fwd.summary.mae, 2),
            "bias": round(fwd.summary.bias, 2),
            "n": fwd.summary.n,
            "first": _month(fwd.table["date"].min()),
            "last": _month(fwd.table["date"].max()),
        }
    if run.regime is not None and run.regime.summary.n:
        s = run.regime.summary
        measured["regime_forward"] = {
            "mae": round(s.mae, 2),
            "bias": round(s.bias, 2),
            "n": s.n,
            "covered": round(s.within_interval, 3),
        }
    write_text_atomic(Path(folder) / ACCURACY_FILE, json.dumps(measured, indent=1, sort_keys=True))
    return measured


def accuracy_sentence(accuracy: dict | None = None) -> str:
    """The pool model's accuracy in plain sentences, with n and the years each figure covers,
    as measured on the feed given (``accuracy``: :func:`measured_accuracy`'s dict; default
    :data:`DOCUMENTED_ACCURACY`). Figures missing from ``accuracy`` are left out.

    >>> accuracy_sentence().startswith("Estimated all-program cutoffs missed actual ones by")
    True
    """
    a = accuracy or DOCUMENTED_ACCURACY
    parts = []
    ins, fwd = a.get("in_sample"), a.get("forward")
    if ins:
        parts.append(
            f"Estimated all-program cutoffs missed actual ones by {ins['mae']:.1f} points on "
            f"average over {plural(ins['n'], 'all-program round')} ({ins['first']} to "
            f"{ins['last']}) "
            "estimated from the distribution published with them, with settings chosen on "
            "those same rounds"
            + (
                f"; {fwd['mae']:.1f} over {fwd['n']} rounds ({fwd['first']} to {fwd['last']}) "
                "when every setting was chosen on earlier rounds only."
                if fwd
                else "."
            )
        )
    regime = a.get("regime")
    if regime:
        if "by_days" in regime:  # measured on a feed (measure_accuracy), not documented
            ranges = "; ".join(
                f"{signed_points(b['range'][0])} to {signed_points(b['range'][1])} points "
                f"{b['days']}"
                for b in regime["by_days"]
            )
            covered = (
                "; each such estimate is corrected by the median miss of the earlier ones "
                f"({signed_points(regime['correction'])} points) and shown with a range allowing "
                "the misses of estimates made as many days from their distribution "
                f"({ranges} from it), which held {regime['covered']:.0%} of the actual cutoffs "
                "when each range was made from earlier rounds only."
            )
        else:
            covered = f"; the ranges held {regime['covered']:.0%} of the actual cutoffs."
        parts.append(
            "Estimated the way every estimate made across rounds and days is (from an earlier "
            "distribution, with the rounds in between taken out and newcomers added) and "
            + (
                "with the model's settings"
                if "range" in regime
                else "with every setting, correction and range chosen on earlier rounds only"
            )
            + f", they missed by {regime['mae']:.1f} points on average, "
            f"{abs(regime['bias']):.1f} too "
            f"{'low' if regime['bias'] < 0 else 'high'} ({regime['n']} estimates)" + covered
        )
    b = a.get("bounds")
    if b:
        stopped = a.get("all_program_stopped") or a.get("stopped")
        stopped = month_label(pd.Timestamp(stopped)) if stopped else None
        opening = (
            f"No all-program round has been held since {stopped}, so no accuracy figure covers "
            "later months; there, each"
            if stopped
            else "Each"
        )
        cec = (
            f" ({b['held_out_cec']} of the {b['cec']} Canadian Experience Class rounds fall short)"
            if b.get("cec")
            else ""
        )
        parts.append(
            f"{opening} of the {b['rows']} restricted rounds with a published distribution "
            f"({b['first']} to {b['last']}) shows the least an all-program round of its size "
            f"would have needed: the estimates honour {b['rows'] - b['broken']} of them, and "
            f"{b['rows'] - b['held_out_broken']} when each round's own cutoff is not used{cec}."
        )
    if a.get("sha256"):
        parts.append(
            f"Measured on the feed that built this report (newest round {a.get('newest', '?')}, "
            f"SHA-256 {a['sha256'][:12]})."
        )
    elif a.get("snapshot"):
        parts.append(f"Measured on the feed snapshot {a['snapshot']}.")
    return " ".join(parts)


@dataclass(frozen=True)
class BacktestRun:
    """Everything ``ee backtest`` measures: the variants, the tail-rate check, the forward-chained
    backtest, and the bounds (with each round's own cutoff, held out, and not honoured at all)."""

    table: pd.DataFrame
    summaries: dict[str, BacktestSummary]
    choice: TailRateChoice
    forward: ForwardBacktest
    bounds: pd.DataFrame
    bounds_summary: BoundsSummary
    unbounded: BoundsSummary
    pnp_rounds: int
    regime: RegimeBacktest | None = None
    baseline_days: pd.Series | None = None
    error_range: ErrorRange | None = None

    @property
    def in_sample(self) -> BacktestSummary:
        return self.summaries["replay"]


def run_all(draws: pd.DataFrame, pool: pd.DataFrame) -> BacktestRun:
    """:func:`analysis.pool.backtest.run_backtest`, :func:`analysis.pool.backtest.choose_tail_rate`,
    :func:`analysis.pool.forward.forward_backtest` and the bounds
    (:func:`analysis.pool.bounds.bounds_table`) on one snapshot's tables."""
    table, summaries = run_backtest(draws, pool)
    held_out = bounds_table(draws, pool, own_bound=False)
    bounds = with_held_out(bounds_table(draws, pool), held_out)
    unbounded = bounds_table(draws, pool, bounds=False)
    pnp = draws.loc[
        ~draws["is_all_program"].astype(bool)
        & with_distribution(draws, pool)
        & draws["cutoff"].ge(pool_density.NOMINEE_FLOOR).fillna(False)
    ]
    return BacktestRun(
        table=table,
        summaries=summaries,
        choice=choose_tail_rate(draws, pool),
        forward=forward_backtest(draws, pool),
        bounds=bounds,
        bounds_summary=summarize_bounds(bounds, held_out),
        unbounded=summarize_bounds(unbounded),
        pnp_rounds=len(pnp),
        regime=regime_backtest(draws, pool),
        baseline_days=baseline_days(draws, pool),
        error_range=regime_error_range(draws, pool),
    )


def format_summary(
    summaries: dict[str, BacktestSummary] | Iterable[BacktestSummary],
    choice: TailRateChoice | None = None,
) -> str:
    """A short plain-text table of the summaries, one line per variant, for the terminal.

    >>> from analysis.pool.backtest import summarize_backtest
    >>> t = pd.DataFrame({"round": ["7", "8"], "error": [1, -3], "method": "flat"})
    >>> print(format_summary([summarize_backtest(t)]).splitlines()[-1])
    flat       2   2.00  -1.00   2.24     3  8 (-3), 7 (+1)
    """
    items = list(summaries.values()) if isinstance(summaries, dict) else list(summaries)
    width = max([len(s.label) for s in items] + [len("variant")])
    lines = [
        "Pool model backtest: all-program rounds with a published distribution;",
        "error = estimated - actual cutoff, CRS points.",
        f"{'variant':<{width}} {'n':>4} {'MAE':>6} {'bias':>6} {'RMSE':>6} {'max':>5}  worst",
    ]
    for s in items:
        worst = ", ".join(f"{r['round']} ({int(r['error']):+d})" for _, r in s.worst.iterrows())
        lines.append(
            f"{s.label:<{width}} {s.n:>4} {s.mae:>6.2f} {s.bias:>6.2f} {s.rmse:>6.2f} "
            f"{s.max_abs:>5}  {worst or '-'}"
        )
    if choice is not None:
        lines.append(
            f"Tail rate {choice.rate:g}/point (lowest MAE on the grid); leave-one-out MAE "
            f"{choice.loo_mae:.2f}; best on rounds before {choice.split_date:%Y-%m-%d}: "
            f"{choice.split_rate:g}, scoring MAE {choice.split_mae:.2f} on the later rounds."
        )
    return "\n".join(lines)


def _settings_words(settings: pool_density.Settings) -> str:
    return (
        f"tail rate {settings.tail_rate:g}/point from {settings.tail_start}, "
        f"{settings.same_pool_days} day(s) without newcomers"
    )


def accuracy_lines(run: BacktestRun) -> list[str]:
    """The accuracy figures in words: in-sample and forward-chained, with n and years, then the
    bounds. What ``ee backtest`` prints below its table (and ``docs/pool-model.md`` holds)."""
    own = run.table[run.table["variant"] == "replay"]
    fwd = run.forward
    b, u = run.bounds_summary, run.unbounded
    defaults = pool_density.DEFAULT_SETTINGS
    same = "the model's own" if fwd.chosen == defaults else f"not the model's ({defaults})"
    families = ", ".join(
        f"{r.family} {int(r.held_out_broken)}"
        for r in b.by_family.itertuples()
        if r.held_out_broken
    )
    lines = [
        f"In-sample: MAE {run.in_sample.mae:.2f} over n = {run.in_sample.n} all-program rounds "
        f"({span(own['date'].min(), own['date'].max())}), with settings chosen on those same "
        f"rounds ({_settings_words(defaults)}). IRCC held no all-program round after April "
        "2024, so no accuracy figure covers 2024-05 onwards: the bounds below are the check "
        "there.",
        f"Forward-chained: MAE {fwd.summary.mae:.2f} over n = {fwd.summary.n} rounds "
        f"({span(fwd.table['date'].min(), fwd.table['date'].max())}), every setting chosen only "
        "on the all-program rounds and bounds dated before the round estimated; the first "
        f"{fwd.skipped} rounds had fewer than {fwd.min_history} before them and are left out. "
        f"All the data choose {_settings_words(fwd.chosen)}: {same}.",
        *regime_lines(run.regime, run.baseline_days, run.error_range),
        f"Bounds: {b.rows} restricted rounds with a published distribution "
        f"({span(b.first, b.last)}); {b.broken} broken, smallest slack {b.smallest}. "
        f"Held out (each round's own cutoff not used): {b.held_out_broken} broken"
        + (f" ({families})" if families else "")
        + f", smallest slack {b.held_out_smallest}, mean shortfall {b.held_out_shortfall:.2f}. "
        f"Not honouring them: {u.broken} broken, smallest slack {u.smallest}.",
        f"Not bounds: {run.pnp_rounds} PNP rounds with a distribution. Their cutoffs include the "
        "nomination's 600 points: they invite the nominees, often more than the distribution's "
        "601-1200 count (nominations arrive before the round), and constrain neither the "
        "scores below 601 nor any estimate a report shows.",
    ]
    return lines


#: The part of ``docs/pool-model.md`` that ``ee backtest`` rewrites.
NOTES_BEGIN = "<!-- ee backtest: begin -->"
NOTES_END = "<!-- ee backtest: end -->"


def model_notes(run: BacktestRun, source: str = "") -> str:
    """The current figures of the pool model as markdown (the generated part of
    ``docs/pool-model.md``): every variant of the backtest, the forward-chained backtest, the
    tail-rate check, the accuracy in words and the bounds per family. ``source`` names the
    snapshot they were measured on."""
    rows = [
        "| variant | n | MAE | bias | RMSE | max | worst |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    regime = [] if run.regime is None else [run.regime.summary, *run.regime.by_lag.values()]
    for s in [*run.summaries.values(), run.forward.summary, *regime]:
        worst = ", ".join(f"{r['round']} ({int(r['error']):+d})" for _, r in s.worst.iterrows())
        rows.append(
            f"| {s.label} | {s.n} | {s.mae:.2f} | {s.bias:+.2f} | {s.rmse:.2f} | {s.max_abs} "
            f"| {worst or '-'} |"
        )
    bounds = [
        "| family | bounds | broken | smallest slack | median slack | held out: broken "
        "| held out: smallest slack |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in run.bounds_summary.by_family.itertuples():
        bounds.append(
            f"| {r.family} | {r.rows} | {r.broken} | {r.smallest} | {r.median:.0f} "
            f"| {r.held_out_broken} | {r.held_out_smallest} |"
        )
    choice = run.choice
    parts = [
        f"Measured by `ee backtest`{f' on {source}' if source else ''}. Error = estimated - "
        "actual cutoff, CRS points; all-program rounds with a published distribution.",
        "",
        *rows,
        "",
        *accuracy_lines(run),
        "",
        f"Tail rate {choice.rate:g}/point has the lowest in-sample MAE on the grid; leave-one-out "
        f"MAE {choice.loo_mae:.2f}; chosen on rounds before {choice.split_date:%Y-%m-%d} it would "
        f"be {choice.split_rate:g}, scoring MAE {choice.split_mae:.2f} on the later rounds.",
        "",
        "Bounds per family (slack = estimated cutoff - the round's cutoff; held out: each "
        "round's own cutoff not used):",
        "",
        *bounds,
    ]
    return "\n".join(parts)


def write_model_notes(run: BacktestRun, path: Path, source: str = "") -> bool:
    """Rewrite the figures between :data:`NOTES_BEGIN` and :data:`NOTES_END` in ``path``
    (``docs/pool-model.md``); the research log around them is left as it is. Returns False (and
    writes nothing) when the file or its markers are missing."""

    path = Path(path)
    if not path.is_file():
        return False
    text = path.read_text(encoding="utf-8")
    if NOTES_BEGIN not in text or NOTES_END not in text:
        return False
    head, rest = text.split(NOTES_BEGIN, 1)
    _, tail = rest.split(NOTES_END, 1)
    body = f"{NOTES_BEGIN}\n{model_notes(run, source)}\n{NOTES_END}"
    write_text_atomic(path, head + body + tail)
    return True


def main_backtest() -> int:
    """``ee backtest``: backtest the pool model on the processed tables (in-sample and
    forward-chained), check every bound, write ``pool_backtest``, ``pool_forward`` and
    ``pool_bounds`` (``.parquet``/``.csv``) next to them, print the summary and, when the tables
    are the project's own (not a scratch ``EE_DATA_DIR``), refresh the figures in
    ``docs/pool-model.md``. Returns 0, or 1 when the processed tables are missing."""
    folder = config.processed_dir()
    try:
        draws, pool = load_draws(folder), load_pool(folder)
    except FileNotFoundError as missing:
        print(f"ee backtest: {missing}", file=sys.stderr)
        return 1
    run = run_all(draws, pool)
    tables = {"pool_backtest": run.table, "pool_forward": run.forward.table}
    if run.regime is not None:
        tables["pool_regime"] = run.regime.table
    written = write_tables_atomic({**tables, "pool_bounds": run.bounds}, folder)
    regime = {} if run.regime is None else {"regime": run.regime.summary, **run.regime.by_lag}
    print(format_summary({**run.summaries, "forward": run.forward.summary, **regime}, run.choice))
    for line in accuracy_lines(run):
        print(textwrap.fill(line, width=100))
    print(
        f"Wrote {written[0]} and {written[1].name}; pool_forward, pool_regime and pool_bounds "
        "(.parquet, .csv)."
    )
    record_forward(run, folder)
    meta = read_meta(folder) or {}
    source = Path(str(meta.get("source") or meta.get("file") or "")).name
    if meta.get("sha256"):
        source += f" (sha256 {meta['sha256'][:12]}, newest round {meta.get('newest_date', '?')})"
    notes = config.PROJECT_ROOT / "docs" / "pool-model.md"
    # the research log quotes the project's own data only (not a scratch EE_DATA_DIR)
    own_data = folder.resolve().is_relative_to(config.PROJECT_ROOT.resolve())
    if own_data and write_model_notes(run, notes, source):
        print(f"Refreshed the figures in {notes}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main_backtest())
