"""Open analysis of Canada's Express Entry rounds of invitations.

Subpackages follow the layers data moves through: :mod:`analysis.ingest` (feed -> raw ->
processed), :mod:`analysis.pool` (the pool model), :mod:`analysis.report` (a month's content),
:mod:`analysis.publish` (safe, self-contained pages) and :mod:`analysis.pipeline` (the
orchestrator). What analysts call sits at the top: :mod:`analysis.trends`,
:mod:`analysis.baselines`, :mod:`analysis.stats`, :mod:`analysis.forecast`, :mod:`analysis.data`.
The most used functions are importable from the package itself, e.g.
``from analysis import load_draws, estimate_cutoff``.
"""

from __future__ import annotations

import sys
from importlib import import_module

# jsonschema (imported by nbformat and papermill) loads rfc3987_syntax when it is installed, only
# to check "iri" string formats that notebooks never use; compiling its grammars costs about a
# second in every process. Declining that optional import keeps `ee` quick.
sys.modules.setdefault("rfc3987_syntax", None)

__version__ = "0.1.0"

# name -> module: imported on first use so that `import analysis` stays fast.
_EXPORTS = {
    **dict.fromkeys(["load_draws", "load_pool", "load_quality"], "analysis.data"),
    **dict.fromkeys(["classify", "taxonomy_table"], "analysis.taxonomy"),
    "clean_rounds": "analysis.ingest.clean",
    "load_rounds": "analysis.ingest.feed",
    **dict.fromkeys(
        [
            "summarize_by_period",
            "rolling_cutoff",
            "days_between_rounds",
            "summarize_round_gaps",
            "tie_break_lag",
            "summarize_tie_break_lag",
            "invitations_per_year",
            "lowest_cutoff_in_year",
        ],
        "analysis.trends",
    ),
    **dict.fromkeys(
        [
            "window_baseline",
            "latest_baseline",
            "pool_baseline",
            "compare_with_baselines",
            "gaps_wide",
        ],
        "analysis.baselines",
    ),
    **dict.fromkeys(["estimate_cutoff", "estimate_for_round"], "analysis.pool.estimate"),
    "candidates_at_or_above": "analysis.pool.density",
    **dict.fromkeys(["backtest", "summarize_backtest", "run_backtest"], "analysis.pool.backtest"),
    "compare_cutoffs": "analysis.stats.compare",
    "cutoff_regression": "analysis.stats.regression",
    **dict.fromkeys(["category_verdict", "verdicts"], "analysis.stats.verdict"),
    **dict.fromkeys(
        ["forecast_next_cutoff", "forecast_all", "forecast_backtest", "backtest_all"],
        "analysis.forecast",
    ),
}


def __getattr__(name: str):
    if name in ("config", "ingest", "pool", "report", "publish", "pipeline"):
        return import_module(f"analysis.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
