"""Demonstrations that run relabel end to end on real data (``relabel demo ...``).

:mod:`relabel.demos.closed_loop` — detect → recommend → retrain → verify on scikit-learn's digits.
"""
