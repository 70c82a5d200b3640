"""Statistics for comparing groups of runs: a stratified two-level bootstrap and BH control.

Numpy/scipy only, no relabel types. The bootstrap resamples seeds within each group and
images within each class, and scores every metric (original, multi-label) on the same
resample. Resampling images is exact on counts: an image is summarised by its correctness
pattern across runs and metrics, and a resample of a class's images is a multinomial draw
over the class's pattern counts, made as a chain of binomials vectorised over classes and
draws. No image is resampled one by one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["BootstrapResult", "bootstrap_delta", "bootstrap_deltas", "benjamini_hochberg"]


@dataclass(frozen=True)
class BootstrapResult:
    """Per class: observed ``delta``, percentile interval, bootstrap standard error and p-value."""

    delta: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    std_error: np.ndarray
    p_value: np.ndarray


def bootstrap_delta(
    correct_reference: np.ndarray,
    correct_treatment: np.ndarray,
    class_of_image: np.ndarray,
    n_classes: int,
    *,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> BootstrapResult:
    """One metric: boolean arrays (runs, images) of correctness; see :func:`bootstrap_deltas`."""
    ref = np.asarray(correct_reference, dtype=np.float64)[None]
    treat = np.asarray(correct_treatment, dtype=np.float64)[None]
    return bootstrap_deltas(ref, treat, class_of_image, n_classes, n_bootstrap=n_bootstrap,
                            confidence=confidence, seed=seed)[0]


def bootstrap_deltas(
    correct_reference: np.ndarray,
    correct_treatment: np.ndarray,
    class_of_image: np.ndarray,
    n_classes: int,
    *,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[BootstrapResult, ...]:
    """Per metric and class: treatment seeds' mean accuracy minus reference seeds' mean, with a CI.

    Parameters
    ----------
    correct_reference, correct_treatment
        Arrays (metrics, runs, images) holding 1.0 (right), 0.0 (wrong) or NaN (the image
        does not count for that metric, e.g. an empty multi-label set). Both groups scored
        the same images in the same order; whether an image counts is the same in every run.
    class_of_image
        Class index of each image.
    n_bootstrap, confidence, seed
        Number of draws, interval level and the seed of the draws.

    Returns
    -------
    tuple of BootstrapResult, one per metric
        ``delta`` (observed), ``ci_low``/``ci_high`` (percentile interval of the resampled
        deltas), ``std_error`` (their standard deviation) and a two-sided ``p_value`` for
        delta = 0 from the normal approximation z = delta / std_error (bootstrap p-values
        from 1000 draws cannot go below 0.001, too coarse for BH over 1000 classes). NaN for
        classes without scored images. Images are resampled within strata (class × which
        metrics count them), so each metric's denominator stays fixed.
    """
    ref = np.asarray(correct_reference, dtype=np.float64)
    treat = np.asarray(correct_treatment, dtype=np.float64)
    n_metrics, s_ref, n = ref.shape
    s_treat = treat.shape[1]
    runs = s_ref + s_treat
    classes = np.asarray(class_of_image, dtype=np.int64)

    scored = ~np.isnan(ref[:, 0, :])  # (metrics, images)
    stratum = classes << n_metrics
    for m in range(n_metrics):
        stratum |= scored[m].astype(np.int64) << m
    n_strata = n_classes << n_metrics
    bits = np.concatenate([ref, treat], axis=1) == 1.0  # (metrics, runs, images)
    right = bits.sum(axis=1)
    # right (or wrong) in every run of a metric: adds 0 to that metric's delta whatever the weights
    varying_image = ((right > 0) & (right < runs)).any(axis=0)

    # the distinct patterns of the varying images and their counts per stratum
    flat = bits[:, :, varying_image].reshape(n_metrics * runs, -1).T
    packed = np.packbits(flat, axis=1)
    patterns, pattern_of_image = np.unique(packed, axis=0, return_inverse=True)
    pattern_bits = (  # (metrics, patterns, runs)
        np.unpackbits(patterns, axis=1, count=n_metrics * runs).reshape(-1, n_metrics, runs).transpose(1, 0, 2)
    ).astype(np.float64)
    keys, counts = np.unique(stratum[varying_image] * len(patterns) + pattern_of_image.ravel(), return_counts=True)
    key_stratum, key_pattern = np.divmod(keys, len(patterns))

    def pattern_values(w_ref: np.ndarray, w_treat: np.ndarray) -> np.ndarray:
        """(metrics, patterns, draws): each pattern's weighted treatment minus reference accuracy."""
        return pattern_bits[:, :, s_ref:] @ w_treat.T - pattern_bits[:, :, :s_ref] @ w_ref.T

    n_stratum = np.bincount(stratum, minlength=n_strata)
    n_varying = np.bincount(key_stratum, weights=counts, minlength=n_strata).astype(np.int64)
    per_stratum = np.bincount(key_stratum, minlength=n_strata)
    width = int(per_stratum.max()) if len(keys) else 0
    # strata by their number of varying patterns, most first: the strata still drawing at
    # slot j are a leading block of rows (sliced without copies); within a stratum, patterns
    # by count, largest first
    by_width = np.argsort(-per_stratum, kind="stable")
    rank = np.empty(n_strata, dtype=np.int64)
    rank[by_width] = np.arange(n_strata)
    order = np.lexsort((-counts, rank[key_stratum]))
    row = rank[key_stratum[order]]
    width_sorted = per_stratum[by_width]
    position = np.arange(len(order)) - (np.cumsum(width_sorted) - width_sorted)[row]
    slot_pattern = np.zeros((n_strata, width), dtype=np.int64)
    slot_count = np.zeros((n_strata, width), dtype=np.int64)
    slot_pattern[row, position] = key_pattern[order]
    slot_count[row, position] = counts[order]

    rng = np.random.default_rng(seed)
    w_ref = rng.multinomial(s_ref, np.full(s_ref, 1 / s_ref), size=n_bootstrap) / s_ref
    w_treat = rng.multinomial(s_treat, np.full(s_treat, 1 / s_treat), size=n_bootstrap) / s_treat
    observed = pattern_values(np.full((1, s_ref), 1 / s_ref), np.full((1, s_treat), 1 / s_treat))[:, :, 0]
    values = pattern_values(w_ref, w_treat)  # (metrics, patterns, draws)

    active = int(np.count_nonzero(width_sorted))
    n_sorted = n_stratum[by_width[:active]]
    mass_left = n_varying[by_width[:active]].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        # how many of a stratum's resampled images are varying ones, then how they split
        remaining = rng.binomial(n_sorted[:, None], (mass_left / np.maximum(n_sorted, 1))[:, None],
                                 size=(active, n_bootstrap))
    sums = np.zeros((n_metrics, active, n_bootstrap))
    for j in range(width):
        rows = int(np.searchsorted(-width_sorted, -(j + 1), side="right"))  # strata with > j patterns
        more = int(np.searchsorted(-width_sorted, -(j + 2), side="right"))  # ... and a pattern after j
        count_j = slot_count[:more, j]
        taken = np.empty((rows, n_bootstrap), dtype=np.int64)
        taken[:more] = rng.binomial(remaining[:more], np.clip(count_j / np.maximum(mass_left[:more], 1), 0, 1)[:, None])
        taken[more:] = remaining[more:rows]  # a stratum's last pattern takes what is left
        sums[:, :rows] += taken * values[:, slot_pattern[:rows, j]]
        remaining[:rows] -= taken
        mass_left[:more] -= count_j

    results = []
    stratum_class = np.arange(n_strata) >> n_metrics
    for m in range(n_metrics):
        counts_m = (np.arange(n_strata) >> m) & 1  # strata whose images count for metric m
        n_scored = np.bincount(stratum_class, weights=n_stratum * counts_m, minlength=n_classes)
        safe = np.maximum(n_scored, 1)
        delta = np.bincount(stratum_class[key_stratum], weights=counts * observed[m, key_pattern],
                            minlength=n_classes) / safe
        per_class_sums = np.zeros((n_classes, n_bootstrap))
        for code in range(1 << n_metrics):  # a class has one stratum per code: its rows are distinct
            rows = np.flatnonzero((by_width[:active] & ((1 << n_metrics) - 1)) == code)
            per_class_sums[stratum_class[by_width[rows]]] += sums[m, rows]
        draws = (per_class_sums / safe[:, None]).T
        results.append(_summarise(delta, draws, n_scored == 0, confidence))
    return tuple(results)


def _summarise(delta: np.ndarray, draws: np.ndarray, empty: np.ndarray, confidence: float) -> BootstrapResult:
    """Percentile interval, standard error and normal-approximation p-value of resampled deltas."""
    alpha = (1 - confidence) / 2
    ci_low, ci_high = np.quantile(draws, [alpha, 1 - alpha], axis=0)
    std_error = draws.std(axis=0, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(std_error > 0, np.abs(delta) / np.where(std_error > 0, std_error, 1),
                     np.where(delta != 0, np.inf, 0))
    p_value = 2 * stats.norm.sf(z)
    for arr in (delta, ci_low, ci_high, std_error, p_value):
        arr[empty] = np.nan
    return BootstrapResult(delta, ci_low, ci_high, std_error, p_value)


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN entries stay NaN and do not count."""
    p = np.asarray(p_values, dtype=np.float64)
    q = np.full_like(p, np.nan)
    valid = ~np.isnan(p)
    if valid.any():
        q[valid] = stats.false_discovery_control(p[valid], method="bh")
    return q
