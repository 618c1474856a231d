"""The pool model: the cutoff an all-program round of N invitations would have needed, estimated
from IRCC's published CRS distribution of the candidates in the pool, and its backtest. Layers,
each importing only the ones above it:

- :mod:`analysis.pool.density`: the pool's shape inside IRCC's bins, and the cutoff N reaches;
- :mod:`analysis.pool.replay`: rounds taken out, bounds honoured, newcomers, the replay;
- :mod:`analysis.pool.estimate`: the estimate for a round (``estimate_for_round``);
- :mod:`analysis.pool.backtest`: its backtest on the all-program rounds (in-sample, the tail
  rate's choice, the error bands);
- :mod:`analysis.pool.bounds`: the restricted rounds' bounds and how the model meets them;
- :mod:`analysis.pool.forward`: the forward-chained backtest (settings chosen on earlier rounds,
  the way :mod:`analysis.pool.regime` chooses its own);
- :mod:`analysis.pool.accuracy`: ``ee backtest`` (all of the above, printed and written) and
  the documented accuracy.

The research log (choices, evidence, current figures) is ``docs/pool-model.md``.
"""
