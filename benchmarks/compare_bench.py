"""Benchmark the class-by-class comparison at ImageNet scale against a straightforward version.

50,000 images, 1000 classes, 2 groups x 3 seeds (the simulated demo runs on real ReaL labels),
1000 bootstrap draws, both metrics. Measured in one process run:

* relabel: ``compare()`` on the six evaluations (two-level bootstrap on the varying images,
  BH, affected classes, flows, curves), and the whole path from runs to comparison;
* baseline: the same comparison written the way one would first write it, end to end: pandas
  for the per-class means, then for each class and metric a call to ``scipy.stats.bootstrap``
  with three independent samples (the class's images, the reference seeds, the treatment
  seeds), so that it is the same two-level percentile bootstrap; the same normal-approximation
  p-value, BH, affected classes, and flows of the affected classes from the confusion counts
  with pandas. The script checks that both give the same affected classes and intervals of the
  same width within Monte Carlo noise, and reports how much of the baseline is scipy itself;
* for context, a leaner loop that does less (numpy masks, images resampled with the seeds
  averaged first, no seed level, no flows), the reference of earlier versions of this script.

Times are medians of ``--repeat`` runs without tracing (the baseline runs once); peak memory is
measured in a separate run of each step under tracemalloc (numpy allocations included), since
tracing slows numpy. relabel draws its resamples on a thread pool of all the CPUs it may use;
``--jobs 1`` times it on one thread.

The cost of the A/A self-check (``relabel.self_check``, ``relabel evaluate --self-check``) is
measured on the same scale: 100 splits of the reference group, with 6 seeds (halves of the
seeds, 3 vs 3 runs) and with 3 seeds (halves of each class's images), at the self-check's 200
bootstrap draws per split (``--self-check-bootstrap``) and at the comparison's 1000, each
against one ``compare()`` of the same runs in the same process (goal: < 10 s for 100 splits on
2 cores). ``--self-check-only`` measures only that.

Usage: python benchmarks/compare_bench.py [--repeat 5] [--jobs 1] [--self-check-only]
"""

from __future__ import annotations

import argparse
import inspect
import time
import tracemalloc

import numpy as np
import pandas as pd
from scipy import stats

from relabel import compare, evaluate, load_annotations, pair, self_check, simulate_runs

_RNG_KEYWORD = "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"


def straightforward(evaluations, reference, n_bootstrap=1000, seed=0, min_drop=0.05, fdr=0.05):
    """The comparison with pandas and a per-class loop over scipy.stats.bootstrap (two levels)."""
    runs = pd.concat([ev.per_image.assign(group=ev.meta.group, seed=ev.meta.seed) for ev in evaluations])
    means = runs.groupby(["group", "true_index"])[["correct_original", "correct_multilabel"]].mean()
    treatment = next(ev.meta.group for ev in evaluations if ev.meta.group != reference)
    wide = runs.pivot_table(index=["true_index", "row"], columns=["group", "seed"],
                            values=["correct_original", "correct_multilabel"])
    rows = []
    in_scipy = 0.0  # seconds inside scipy.stats.bootstrap, to show what the loop costs besides
    for c, images in wide.groupby(level="true_index"):
        row = {"class_index": c}
        for metric in ("original", "multilabel"):
            scored = images[f"correct_{metric}"].dropna()
            ref = scored[reference].to_numpy().T  # (seeds, images)
            treat = scored[treatment].to_numpy().T

            def delta(image, ref_seed, treat_seed, axis=-1, ref=ref, treat=treat):
                picked_treat = treat[treat_seed[..., :, None], image[..., None, :]]
                picked_ref = ref[ref_seed[..., :, None], image[..., None, :]]
                return picked_treat.mean(axis=(-2, -1)) - picked_ref.mean(axis=(-2, -1))

            observed = treat.mean() - ref.mean()
            start = time.perf_counter()
            result = stats.bootstrap((np.arange(ref.shape[1]), np.arange(len(ref)), np.arange(len(treat))), delta,
                                     n_resamples=n_bootstrap, method="percentile", vectorized=True,
                                     **{_RNG_KEYWORD: np.random.default_rng(seed)})
            in_scipy += time.perf_counter() - start
            se = result.standard_error
            row[f"delta_{metric}"] = observed
            row[f"ci_width_{metric}"] = result.confidence_interval.high - result.confidence_interval.low
            row[f"std_error_{metric}"] = se
            row[f"p_value_{metric}"] = 2 * stats.norm.sf(abs(observed) / se) if se > 0 else float(observed == 0)
        rows.append(row)
    per_class = pd.DataFrame(rows)
    per_class["acc_reference"] = means.loc[reference]["correct_multilabel"].to_numpy()
    per_class["acc_treatment"] = means.loc[treatment]["correct_multilabel"].to_numpy()
    for metric in ("original", "multilabel"):
        q = stats.false_discovery_control(per_class[f"p_value_{metric}"], method="bh")
        per_class[f"affected_{metric}"] = (per_class[f"delta_{metric}"] <= -min_drop) & (q <= fdr)
    confusion = {
        group: pd.concat([ev.confusion for ev in evaluations if ev.meta.group == group])
        .groupby(["true_index", "pred_index"])["count"].sum()
        for group in (reference, treatment)
    }
    flows = []
    for c in per_class.loc[per_class["affected_multilabel"], "class_index"]:
        went = pd.concat([confusion[reference].loc[c].rename("ref"), confusion[treatment].loc[c].rename("treat")],
                         axis=1).fillna(0).drop(index=c, errors="ignore")
        rise = (went["treat"] - went["ref"]).sort_values(ascending=False).head(5)
        flows.extend((c, d, share) for d, share in rise.items())
    return per_class, pd.DataFrame(flows, columns=["class_index", "partner_index", "rise"]), in_scipy


def images_only(evaluations, reference, n_bootstrap=1000, seed=0):
    """A leaner loop that does less: numpy masks, images resampled, seeds averaged, no flows."""
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
            for c in range(len(evaluations[0].label_space)):
                d = (treat - ref)[(true == c) & ~np.isnan(ref)]
                res = stats.bootstrap((d,), np.mean, n_resamples=n_bootstrap, method="percentile",
                                      vectorized=True, **{_RNG_KEYWORD: np.random.default_rng(seed)})
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
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=None, help="relabel's bootstrap threads (default: all CPUs)")
    parser.add_argument("--self-check-only", action="store_true", help="Measure only the A/A self-check.")
    args = parser.parse_args()
    annotations = load_annotations("real")
    if args.self_check_only:
        self_check_cost(annotations, args)
        return
    simulated = simulate_runs(annotations, seed=0)

    def full_path():
        evs = [evaluate(pair(run, annotations)) for run in simulated.runs]
        return compare(evs, reference="rrc-0.5", n_jobs=args.jobs)

    evaluations = [evaluate(pair(run, annotations)) for run in simulated.runs]
    compare(evaluations, reference="rrc-0.5", n_jobs=args.jobs)  # warm-up (imports, caches)
    comparison, t_compare, m_compare = timed(
        lambda: compare(evaluations, reference="rrc-0.5", n_jobs=args.jobs), args.repeat)
    _, t_full, m_full = timed(full_path, args.repeat)
    (baseline, _, t_scipy), t_base, m_base = timed(lambda: straightforward(evaluations, "rrc-0.5"), 1)
    _, t_lean, m_lean = timed(lambda: images_only(evaluations, "rrc-0.5"), 1)

    ours = comparison.per_class.set_index("class_index")
    same_affected = set(ours.index[ours["affected"]]) == set(baseline.loc[baseline["affected_multilabel"], "class_index"])
    width = (ours["ci_high_multilabel"] - ours["ci_low_multilabel"]).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        width_ratio = np.nanmedian(width / baseline["ci_width_multilabel"].to_numpy())
    print("ImageNet scale: 50,000 images, 1000 classes, 2 groups x 3 seeds, 1000 bootstrap draws, both metrics")
    print(f"relabel compare():                 {t_compare:6.2f} s  peak {m_compare:7.1f} MiB  "
          f"({int(comparison.per_class['affected'].sum())} affected classes)")
    print(f"relabel pair + evaluate + compare: {t_full:6.2f} s  peak {m_full:7.1f} MiB")
    print(f"straightforward pandas + scipy:    {t_base:6.2f} s  peak {m_base:7.1f} MiB  "
          f"({int(baseline['affected_multilabel'].sum())} affected classes)")
    print(f"  of which inside scipy.stats.bootstrap: {t_scipy:6.2f} s")
    print(f"same affected classes: {same_affected}; median ratio of relabel's to scipy's 95% interval widths "
          f"(multi-label): {width_ratio:.3f}")
    print(f"leaner scipy loop, images only:    {t_lean:6.2f} s  peak {m_lean:7.1f} MiB  (less work: no seed level)")
    print(f"speed-up of compare() over the straightforward version: {t_base / t_compare:.1f}x "
          f"(over its scipy.stats.bootstrap calls alone: {t_scipy / t_compare:.1f}x; "
          f"over the leaner images-only loop: {t_lean / t_compare:.1f}x)")
    self_check_cost(annotations, args)


def self_check_cost(annotations, args) -> None:
    """100 A/A splits of the reference group, against one compare() of the same runs (module docstring)."""
    import warnings

    from relabel import RelabelWarning

    print("A/A self-check at ImageNet scale: 100 splits of group rrc-0.5 (50,000 images, 1000 classes)")
    for n_seeds in (6, 3):
        evaluations = [evaluate(pair(run, annotations)) for run in simulate_runs(annotations, seed=0,
                                                                                 n_seeds=n_seeds).runs]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RelabelWarning)
            compare(evaluations, reference="rrc-0.5", n_jobs=args.jobs)  # warm-up
            start = time.perf_counter()
            compare(evaluations, reference="rrc-0.5", n_jobs=args.jobs)
            t_compare = time.perf_counter() - start
            for draws in (200, 1000):
                start = time.perf_counter()
                check = self_check(evaluations, group="rrc-0.5", n_splits=100, n_bootstrap=draws, n_jobs=args.jobs)
                t_check = time.perf_counter() - start
                print(f"  {n_seeds} seeds ({check.params['split']} halves), {draws:4d} draws a split: "
                      f"{t_check:6.2f} s = {t_check / t_compare:5.1f} x one compare() ({t_compare:.2f} s, 1000 draws); "
                      f"realised FDR {100 * check.rate:.1f}% ± {100 * check.rate_error:.1f}% at FDR 0.05")


if __name__ == "__main__":
    main()
