"""The pool model: the cutoff an all-program round of N invitations would have needed, estimated
from IRCC's published CRS distribution of the candidates in the pool, and its backtest. Layers,
each importing only the ones above it:

- :mod:`analysis.pool.density`: the pool's shape inside IRCC's bins, and the cutoff N reaches;
- :mod:`analysis.pool.replay`: rounds taken out, bounds honoured, newcomers, the replay;
- :mod:`analysis.pool.estimate`: the estimate for a round (``estimate_for_round``);
- :mod:`analysis.pool.backtest`: its accuracy and bounds (``ee backtest``).

The research log (choices, evidence, current figures) is ``docs/pool-model.md``.
"""
