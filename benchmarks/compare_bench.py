"""Benchmark the class-by-class comparison at ImageNet scale against a straightforward version.

50,000 images, 1000 classes, 2 groups x 3 seeds (the simulated demo runs on real ReaL labels),
1000 bootstrap draws, both metrics. Measured in one process run:

* relabel: ``compare()`` on the six evaluations (bootstrap over seeds and images on pattern
  counts, BH, affected classes, flows, curves), and the whole path from runs to comparison;
* baseline: a per-class loop that, for each class and metric, builds the per-image deltas
  (treatment seeds' mean minus reference seeds' mean) and calls ``scipy.stats.bootstrap``
  (1000 resamples, percentile), then BH — the way one would write it first. It resamples
  images only, so it does less work than relabel's two-level bootstrap.

Times are medians of ``--repeat`` runs without tracing; peak memory is measured in a separate
run of each step under tracemalloc (numpy allocations included), since tracing slows numpy.

Usage: python benchmarks/compare_bench.py
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from scipy import stats

from relabel import compare, evaluate, load_annotations, pair, simulate_runs


def straightforward(evaluations, reference, n_bootstrap=1000, seed=0):
    """Per-class loops with scipy.stats.bootstrap: delta, CI and p-value per class and metric."""
    groups = {}
    for ev in evaluations:
        groups.setdefault(ev.meta.group, []).append(ev)
    true = evaluations[0].per_image["true_index"].to_numpy()
    out = {}
    for group in [g for g in groups if g != reference]:
        for column in ("correct_original", "correct_multilabel"):
            ref = np.mean([ev.per_image[column].to_numpy() for ev in groups[reference]], axis=0)
            treat = np.mean([ev.per_image[column].to_numpy() for ev in groups[group]], axis=0)
            p_values = []
            for c in range(1000):
                d = (treat - ref)[(true == c) & ~np.isnan(ref)]
                res = stats.bootstrap((d,), np.mean, n_resamples=n_bootstrap, method="percentile",
                                      random_state=seed, vectorized=True)
                se = res.standard_error
                p_values.append(2 * stats.norm.sf(abs(d.mean()) / se) if se > 0 else float(d.mean() == 0))
            out[(group, column)] = stats.false_discovery_control(np.asarray(p_values), method="bh")
    return out


def timed(fn, repeat):
    """(value, median seconds over ``repeat`` untraced runs, peak MiB of one traced run)."""
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        seconds.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return value, float(np.median(seconds)), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    annotations = load_annotations("real")
    simulated = simulate_runs(annotations, seed=0)

    def full_path():
        evs = [evaluate(pair(run, annotations)) for run in simulated.runs]
        return compare(evs, reference="rrc-0.5")

    evaluations = [evaluate(pair(run, annotations)) for run in simulated.runs]
    compare(evaluations, reference="rrc-0.5")  # warm-up (imports, caches)
    comparison, t_compare, m_compare = timed(lambda: compare(evaluations, reference="rrc-0.5"), args.repeat)
    _, t_full, m_full = timed(full_path, args.repeat)
    _, t_base, m_base = timed(lambda: straightforward(evaluations, "rrc-0.5"), 1)
    print("ImageNet scale: 50,000 images, 1000 classes, 2 groups x 3 seeds, 1000 bootstrap draws, both metrics")
    print(f"relabel compare():                 {t_compare:6.2f} s  peak {m_compare:7.1f} MiB  "
          f"({int(comparison.per_class['affected'].sum())} affected classes)")
    print(f"relabel pair + evaluate + compare: {t_full:6.2f} s  peak {m_full:7.1f} MiB")
    print(f"straightforward scipy per class:   {t_base:6.2f} s  peak {m_base:7.1f} MiB")
    print(f"speed-up of compare() over the straightforward version: {t_base / t_compare:.1f}x")


if __name__ == "__main__":
    main()
