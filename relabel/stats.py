"""Statistics for comparing groups of runs: a stratified two-level bootstrap and BH control.

Numpy/scipy only, no relabel types. The bootstrap resamples seeds within each group and
images within each class. Resampling images is done exactly on counts: a class's images
are summarised by their correctness pattern across the runs (one bit per run), and a resample
of ``n_c`` images is a multinomial draw over the class's pattern counts, made as a chain of
binomials vectorised over classes and draws. No image is resampled one by one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["BootstrapResult", "bootstrap_delta", "benjamini_hochberg"]


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
    """Delta of per-class accuracy (treatment seeds' mean minus reference seeds' mean), with a CI.

    Parameters
    ----------
    correct_reference, correct_treatment
        Boolean arrays (runs, images): whether each run got each image right. Both groups
        scored the same images in the same order.
    class_of_image
        Class index of each image (only images that count for the metric).
    n_bootstrap, confidence, seed
        Number of draws, interval level and the seed of the draws.

    Returns
    -------
    BootstrapResult
        ``delta`` (observed), ``ci_low``/``ci_high`` (percentile interval of the resampled
        deltas), ``std_error`` (their standard deviation) and a two-sided ``p_value`` for
        delta = 0 from the normal approximation z = delta / std_error (bootstrap p-values
        from 1000 draws cannot go below 0.001, too coarse for BH over 1000 classes). NaN for
        classes without images.
    """
    ref = np.asarray(correct_reference, dtype=bool)
    treat = np.asarray(correct_treatment, dtype=bool)
    s_ref, s_treat = len(ref), len(treat)
    bits = np.concatenate([ref, treat]).T  # (images, runs)
    weights = 1 << np.arange(bits.shape[1], dtype=np.int64)
    pattern = bits.astype(np.int64) @ weights
    keys, counts = np.unique(class_of_image.astype(np.int64) * (1 << bits.shape[1]) + pattern, return_counts=True)
    key_class = keys >> bits.shape[1]
    key_pattern = keys & ((1 << bits.shape[1]) - 1)
    unique_patterns, pattern_slot = np.unique(key_pattern, return_inverse=True)
    pattern_bits = ((unique_patterns[:, None] >> np.arange(bits.shape[1])) & 1).astype(np.float64)

    n_images = np.bincount(class_of_image, minlength=n_classes)
    # pad each class's (pattern, count) list to the longest one
    order = np.argsort(key_class, kind="stable")
    per_class = np.bincount(key_class, minlength=n_classes)
    width = int(per_class.max()) if len(per_class) else 0
    starts = np.cumsum(per_class) - per_class
    position = np.arange(len(keys)) - np.repeat(starts, per_class)
    slot_pattern = np.zeros((n_classes, width), dtype=np.int64)
    slot_count = np.zeros((n_classes, width), dtype=np.int64)
    slot_pattern[key_class[order], position] = pattern_slot[order]
    slot_count[key_class[order], position] = counts[order]

    def pattern_values(w_ref: np.ndarray, w_treat: np.ndarray) -> np.ndarray:
        return pattern_bits[:, s_ref:] @ w_treat.T - pattern_bits[:, :s_ref] @ w_ref.T  # (patterns, draws)

    with np.errstate(invalid="ignore", divide="ignore"):
        safe_n = np.maximum(n_images, 1)
        observed_values = pattern_values(np.full((1, s_ref), 1 / s_ref), np.full((1, s_treat), 1 / s_treat))[:, 0]
        delta = (slot_count * observed_values[slot_pattern]).sum(axis=1) / safe_n

        rng = np.random.default_rng(seed)
        w_ref = rng.multinomial(s_ref, np.full(s_ref, 1 / s_ref), size=n_bootstrap) / s_ref
        w_treat = rng.multinomial(s_treat, np.full(s_treat, 1 / s_treat), size=n_bootstrap) / s_treat
        values = pattern_values(w_ref, w_treat).T  # (draws, patterns)

        # classes ordered by their number of patterns, most first: the classes that still draw
        # at slot j are then a leading block of rows, sliced without copies
        by_width = np.argsort(-per_class, kind="stable")
        width_sorted = per_class[by_width]
        counts_sorted = slot_count[by_width]
        patterns_sorted = slot_pattern[by_width]
        values_t = np.ascontiguousarray(values.T)  # (patterns, draws)
        sums = np.zeros((n_classes, n_bootstrap))
        remaining = np.repeat(n_images[by_width][:, None], n_bootstrap, axis=1)
        mass_left = n_images[by_width].astype(np.float64)
        for j in range(width):
            rows = int(np.searchsorted(-width_sorted, -(j + 1), side="right"))  # classes with > j patterns
            more = int(np.searchsorted(-width_sorted, -(j + 2), side="right"))  # ... and a pattern after j
            count_j = counts_sorted[:more, j]
            p = np.clip(count_j / np.maximum(mass_left[:more], 1), 0.0, 1.0)
            taken = np.empty((rows, n_bootstrap), dtype=np.int64)
            taken[:more] = rng.binomial(remaining[:more], p[:, None])
            taken[more:] = remaining[more:rows]  # a class's last pattern takes what is left
            sums[:rows] += taken * values_t[patterns_sorted[:rows, j]]
            remaining[:rows] -= taken
            mass_left[:more] -= count_j
        draws = np.empty((n_bootstrap, n_classes))
        draws[:, by_width] = sums.T
        draws /= safe_n

        alpha = (1 - confidence) / 2
        ci_low, ci_high = np.quantile(draws, [alpha, 1 - alpha], axis=0)
        std_error = draws.std(axis=0, ddof=1)
        z = np.where(std_error > 0, np.abs(delta) / np.where(std_error > 0, std_error, 1), np.where(delta != 0, np.inf, 0))
        p_value = 2 * stats.norm.sf(z)
    empty = n_images == 0
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
