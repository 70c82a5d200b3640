"""Power: the smallest per-class drop a design can tell from noise, and how it changes with seeds and images.

relabel calls a class affected when its delta is at most ``-min_drop`` and its q-value (BH or
BY, ``fdr_method``) is at most ``fdr``; the p-value is two-sided from z = delta / SE against Student's t with
n - 1 degrees of freedom (n images of the class), with SE the two-level bootstrap's standard error
(:mod:`relabel.stats`; the exact exchange test there can only raise it). For a true drop D the
observed delta is about N(-D, SE²), so the class is found with probability about Φ((D - t) / SE),
where t = max(t₁₋α/₂,ₙ₋₁ · SE, min_drop) is the observed drop it must reach. The **detectable
drop** at power 1 - β is therefore

    D* = max(t₁₋α/₂,ₙ₋₁ · SE, min_drop) + z₁₋β · SE.

The per-test threshold α depends on the FDR method and on how many classes are found. Both
methods are step-up rules on the sorted p-values p₍₁₎ ≤ … ≤ p₍ₘ₎: BH finds the classes of ranks
1..k for the largest k with p₍ₖ₎ ≤ q k / m; BY (Benjamini–Yekutieli) does the same with q
divided by c(m) = Σ_{i=1..m} 1/i, p₍ₖ₎ ≤ q k / (m c(m)) (equivalently, its q-value
c(m) m p₍ₖ₎ / k is at most q). With R classes already found among m, one more is found when its
p-value is at most the threshold of rank R + 1, so the critical p is

    BH:  α = q (R + 1) / m
    BY:  α = q (R + 1) / (m c(m))

with R the classes this comparison found significant on the metric (either direction; under the
method planned for) and m the classes with images on the metric: a conservative choice when
nothing was found (α = q / m, as Bonferroni, for BH; q / (m c(m)) for BY), exact for one more
discovery otherwise. BY's α is c(m) times smaller (c(10) = 2.93, c(1000) = 7.49), so its
t₁₋α/₂,ₙ₋₁ and its detectable drop are larger for the same design.

SE for a design of n images of the class and k_R, k_T seeds per group follows the variance the
two-level bootstrap estimates (images resampled within the class, shared by both groups; seeds
resampled within each group):

    SE²(n, k_R, k_T) = (τ² + W_R / k_R + W_T / k_T) / n + f(k_R) (σ_R² + W_R / n) + f(k_T) (σ_T² + W_T / n)

where f(k) = (k - 1) / k² is the variance of the mean of k seeds drawn with replacement from k,
per unit of their sample variance (0 for one seed: the bootstrap cannot vary a lone seed),

with, per class, estimated from the runs by the method of moments:

* ``W_g`` (``var_within_g``): within-image seed noise of group g, the mean over the class's
  images of the sample variance over g's seeds of the image's correctness (needs 2 seeds);
* ``σ_g²`` (``var_seed_g``): seed-level variance of the class accuracy beyond that noise,
  max(0, var over seeds of the seed's class accuracy - W_g / n);
* ``τ²`` (``var_disagreement``): how much the two recipes' per-image chances of being right
  differ, max(0, var over images of (mean over T's seeds - mean over R's seeds) - W_R/k_R - W_T/k_T);
  it does not shrink with seeds, only with images.

A group with one seed gives no estimate of its seed noise: W_g and σ_g² are taken from the other
group when it has 2 seeds or more, else they are 0 and the figures cover image sampling only (as
the intervals do then).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from relabel.errors import ComparisonError
from relabel.stats import FDR_METHODS, fdr_adjust

__all__ = ["POWER", "VARIANCE_COLUMNS", "bh_alpha", "detectable_drop", "plan", "variance_components"]

POWER = 0.8
"""Power at which the detectable drop is stated."""

VARIANCE_COLUMNS = ("var_disagreement", "var_within_reference", "var_within_treatment", "var_seed_reference",
                    "var_seed_treatment")
"""Per-class variance components (fractions squared) that :func:`detectable_drop` scales to a design."""


def variance_components(reference: np.ndarray, treatment: np.ndarray, class_of_image: np.ndarray,
                        n_classes: int) -> pd.DataFrame:
    """Per class, the components of the module docstring from correctness arrays (runs, images).

    Values are 1.0 right, 0.0 wrong, NaN where the image does not count for the metric; classes
    without a scored image get NaN.
    """
    ref = np.asarray(reference, dtype=np.float64)
    treat = np.asarray(treatment, dtype=np.float64)
    scored = ~np.isnan(ref[0])
    classes = np.asarray(class_of_image, dtype=np.int64)[scored]
    ref, treat = ref[:, scored], treat[:, scored]
    n = np.bincount(classes, minlength=n_classes).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        def class_mean(values: np.ndarray) -> np.ndarray:
            return np.bincount(classes, weights=values, minlength=n_classes) / n

        def within(runs: np.ndarray) -> np.ndarray:
            if runs.shape[0] < 2:
                return np.full(n_classes, np.nan)
            return class_mean(runs.var(axis=0, ddof=1))

        def seed_level(runs: np.ndarray, w: np.ndarray) -> np.ndarray:
            if runs.shape[0] < 2:
                return np.full(n_classes, np.nan)
            per_seed = np.stack([class_mean(run) for run in runs])  # (seeds, classes)
            return np.maximum(0.0, per_seed.var(axis=0, ddof=1) - w / n)

        w_ref, w_treat = within(ref), within(treat)
        # a group with one seed borrows the other's seed noise; with neither, image sampling only
        w_ref, w_treat = _borrow(w_ref, w_treat), _borrow(w_treat, w_ref)
        s_ref = _borrow(seed_level(ref, w_ref), seed_level(treat, w_treat))
        s_treat = _borrow(seed_level(treat, w_treat), seed_level(ref, w_ref))
        d = treat.mean(axis=0) - ref.mean(axis=0)
        d_mean = class_mean(d)
        d_var = (np.bincount(classes, weights=(d - d_mean[classes]) ** 2, minlength=n_classes) / (n - 1))
        tau = np.maximum(0.0, d_var - w_ref / ref.shape[0] - w_treat / treat.shape[0])
    frame = pd.DataFrame(dict(zip(VARIANCE_COLUMNS, (tau, w_ref, w_treat, s_ref, s_treat))))
    frame.loc[n == 0, :] = np.nan
    frame.loc[n == 1, "var_disagreement"] = 0.0
    return frame


def _borrow(own: np.ndarray, other: np.ndarray) -> np.ndarray:
    """``own`` where estimable, else the other group's figure, else 0."""
    return np.where(np.isnan(own), np.where(np.isnan(other), 0.0, other), own)


def detectable_drop(components: pd.DataFrame, n_images: np.ndarray | pd.Series | float, *, seeds_reference: int,
                    seeds_treatment: int, alpha: float, min_drop: float, power: float = POWER) -> np.ndarray:
    """Per row of ``components``, the drop (a fraction) found with probability ``power`` (module docstring).

    ``alpha`` is the per-test two-sided level (see :func:`bh_alpha`); NaN where the class has no images.
    """
    from scipy import stats

    if seeds_reference < 1 or seeds_treatment < 1:
        raise ComparisonError(f"detectable_drop: seeds per group must be at least 1; got "
                              f"{seeds_reference} and {seeds_treatment}")
    n = np.asarray(n_images, dtype=np.float64)
    c = {name: components[name].to_numpy(dtype=np.float64) for name in VARIANCE_COLUMNS}
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = ((c["var_disagreement"] + c["var_within_reference"] / seeds_reference
                     + c["var_within_treatment"] / seeds_treatment) / n
                    + _resampled(seeds_reference) * (c["var_seed_reference"] + c["var_within_reference"] / n)
                    + _resampled(seeds_treatment) * (c["var_seed_treatment"] + c["var_within_treatment"] / n))
        se = np.sqrt(variance)
        critical = stats.t.isf(alpha / 2, np.maximum(n - 1, 1))  # the test's reference: Student's t, n - 1 df
        out = np.maximum(critical * se, min_drop) + stats.norm.ppf(power) * se
    return np.where(n > 0, out, np.nan)


def _resampled(k: int) -> float:
    """Variance of the mean of k seeds resampled with replacement, per unit of their sample variance."""
    return (k - 1) / k**2


def bh_alpha(fdr: float, n_tests: int, n_found: int, method: str = "bh") -> float:
    """Per-test level at which the step-up rule finds one more class when ``n_found`` of ``n_tests`` are found.

    ``q (R + 1) / m`` for ``method="bh"``; ``method="by"`` (Benjamini–Yekutieli) divides it by
    ``c(m) = sum_{i=1..m} 1/i`` (module docstring).
    """
    level = fdr * (min(n_found, n_tests - 1) + 1) / max(n_tests, 1)
    return level / float(np.sum(1.0 / np.arange(1, n_tests + 1))) if method == "by" and n_tests > 1 else level


def plan(per_class: pd.DataFrame, *, seeds: Sequence[int], images: Sequence[int] | None = None, fdr: float,
         min_drop: float, metric: str, power: float = POWER, fdr_method: str = "bh",
         comparison_fdr_method: str | None = None) -> pd.DataFrame:
    """Detectable drop of every class of a comparison's ``per_class`` table for other designs.

    One row per (group, class, seeds, images): ``seeds`` per group (both groups alike) and
    ``images`` of the class (default: the class's own count). The level is the comparison's
    own (:func:`bh_alpha` under ``fdr_method``, with m the classes with images on the metric and
    R those it found significant per group).

    ``comparison_fdr_method`` is the method the table's q-values were adjusted with (default:
    ``fdr_method``); when it differs, R is counted on the table's p-values re-adjusted with
    ``fdr_method`` (:func:`relabel.stats.fdr_adjust`), as a comparison computed with it would.
    """
    recorded = fdr_method if comparison_fdr_method is None else comparison_fdr_method
    for name, method in (("fdr_method", fdr_method), ("comparison_fdr_method", recorded)):
        if method not in FDR_METHODS:
            raise ComparisonError(f"plan: {name} is one of {list(FDR_METHODS)}; got {method!r}")
    readjust = fdr_method != recorded
    significance = f"p_value_{metric}" if readjust else f"q_value_{metric}"
    missing = [c for c in (*VARIANCE_COLUMNS, "n_images", significance) if c not in per_class]
    if missing:
        raise ComparisonError(f"plan: the per-class table lacks {', '.join(missing)}; it was written by a relabel "
                              f"without power figures: run relabel evaluate again")
    if not seeds or any(k < 1 for k in seeds) or (images is not None and any(n < 1 for n in images)):
        raise ComparisonError(f"plan: seeds and images must be positive; got seeds={list(seeds)}, "
                              f"images={None if images is None else list(images)}")
    count_column = "n_multilabel" if metric == "multilabel" and "n_multilabel" in per_class else "n_images"
    rows = []
    for group, frame in per_class.groupby("group", sort=False, observed=True):
        q_value = (fdr_adjust(frame[significance].to_numpy(dtype=np.float64), fdr_method) if readjust
                   else frame[significance].to_numpy(dtype=np.float64))
        found = int((q_value <= fdr).sum())
        tested = int((frame[count_column].to_numpy(dtype=np.float64) > 0).sum())
        alpha = bh_alpha(fdr, tested, found, fdr_method)
        for k in seeds:
            for n in (images if images is not None else [None]):
                counts = frame[count_column].to_numpy(dtype=np.float64) if n is None else np.full(len(frame), float(n))
                drop = detectable_drop(frame, counts, seeds_reference=k, seeds_treatment=k, alpha=alpha,
                                       min_drop=min_drop, power=power)
                rows.append(pd.DataFrame({
                    "group": group, "class_index": frame["class_index"].to_numpy(),
                    "class_name": frame["class_name"].to_numpy(), "seeds": k, "images": counts.astype(np.int64),
                    "detectable_drop": drop}))
    return pd.concat(rows, ignore_index=True)
