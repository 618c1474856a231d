"""Open analysis of Canada's Express Entry rounds of invitations.

Helpers are grouped in small modules (``analysis.fetch``, ``analysis.clean``, ``analysis.trends``,
``analysis.baselines``, ``analysis.pool``, ``analysis.stats``, ``analysis.forecast`` ...); the
most used functions are importable from the package itself, e.g.
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
    "config": "analysis",
    "load_draws": "analysis.data",
    "load_pool": "analysis.data",
    "load_revisions": "analysis.data",
    "load_quality": "analysis.data",
    "classify": "analysis.taxonomy",
    "clean_rounds": "analysis.clean",
    "load_rounds": "analysis.feed",
    "fetch": "analysis.fetch",
}


def __getattr__(name: str):
    if name == "config":
        return import_module("analysis.config")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
