"""Calibration by simulation: on null data the comparison rule's realised FDR stays at most q.

Two recipes drawn from one per-image error process (each image has a chance of being right,
drawn once per replicate from Beta(4, 1); every run of either recipe gets it right with that
chance, independently), unequal classes (five of 1,000 images, fifteen of 30), 1, 2 and 3 seeds
per recipe. Every class is null, so the false discovery proportion of a replicate is 1 when it
flags any class: the realised FDR is the share of replicates that flag one. The rule is
compare()'s (relabel.stats.bootstrap_deltas on the same arrays, the q-values of fdr_adjust,
``|delta| >= min_drop`` and ``q <= fdr``; tests/test_selfcheck.py checks the same path against
compare() itself), with a tiny ``min_drop`` so that the FDR control alone decides.

Monte Carlo bound: with N replicates the share of a rule whose true rate is q has standard
error sqrt(q (1 - q) / N); the test accepts a share at most q + 3 sqrt(q (1 - q) / N)
(q = 0.1, N = 150: 0.173), which a calibrated rule exceeds with probability about 0.0013.
The same bound rejects the unadjusted rule (each class tested at level q, no multiplicity
correction), whose realised FDR on these twenty classes is 0.3 to 0.9: the test can fail.
n_bootstrap = 200: the p-value is the larger of the normal approximation z = delta / SE (200 draws
give the SE within about 5%, relative standard error 1 / sqrt(2 (B - 1))) and the exact image-level
exchange test. With one seed a side the normal approximation alone is anti-conservative in the tail
BH needs (its realised FDR here was 0.19 at q = 0.1, above the bound); the exchange test, exact
McNemar there, brings it to 0.02 (`test_one_seed_needs_the_exchange_test` keeps the first figure
honest).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from scipy import stats

from relabel.stats import bootstrap_deltas, fdr_adjust

SIZES = np.array([1000] * 5 + [30] * 15)
TRUE = np.repeat(np.arange(len(SIZES)), SIZES)
Q = 0.1
N_REPLICATES = 150
BOUND = Q + 3 * math.sqrt(Q * (1 - Q) / N_REPLICATES)


@functools.cache
def _null_rates(n_seeds: int) -> dict[str, float]:
    """Realised FDR of the BH rule, the BY rule, the unadjusted rule, and BH on the normal approximation
    alone (``bh_normal``, without the exchange test), on the same null replicates."""
    rng = np.random.default_rng([15, n_seeds])
    hits = {"bh": 0, "by": 0, "unadjusted": 0, "bh_normal": 0}
    for r in range(N_REPLICATES):
        chance = rng.beta(4, 1, size=len(TRUE))
        ref = (rng.random((1, n_seeds, len(TRUE))) < chance).astype(np.float64)
        treat = (rng.random((1, n_seeds, len(TRUE))) < chance).astype(np.float64)
        result = bootstrap_deltas(ref, treat, TRUE, len(SIZES), n_bootstrap=200, seed=r, n_jobs=1)[0]
        large = np.abs(result.delta) >= 0.001
        normal = 2 * stats.norm.sf(np.abs(result.delta) / result.std_error)
        for name, q in (("bh", fdr_adjust(result.p_value, "bh")), ("by", fdr_adjust(result.p_value, "by")),
                        ("unadjusted", result.p_value), ("bh_normal", fdr_adjust(normal, "bh"))):
            hits[name] += bool((large & (q <= Q)).any())
    return {name: n / N_REPLICATES for name, n in hits.items()}


@pytest.mark.parametrize("n_seeds", [1, 2, 3])
@pytest.mark.parametrize("method", ["bh", "by"])
def test_realised_fdr_on_null_data_stays_at_most_q(n_seeds, method):
    rates = _null_rates(n_seeds)
    assert rates[method] <= BOUND, rates


@pytest.mark.parametrize("n_seeds", [1, 2, 3])
def test_the_bound_rejects_an_unadjusted_rule_and_by_is_never_looser(n_seeds):
    rates = _null_rates(n_seeds)
    assert rates["unadjusted"] > BOUND, rates  # an anti-conservative rule fails the bound the others pass
    assert rates["by"] <= rates["bh"], rates  # BY's q-values are BH's times sum 1/i: never more discoveries


def test_one_seed_needs_the_exchange_test():
    """One seed a side, BH on the normal approximation alone exceeds the bound the reported p-value keeps."""
    rates = _null_rates(1)
    assert rates["bh_normal"] > BOUND >= rates["bh"], rates
