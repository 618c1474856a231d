"""The pool model: the cutoff an all-program round of N invitations would have needed, estimated
from IRCC's published CRS distribution of the candidates in the pool, and its backtest.
"""
