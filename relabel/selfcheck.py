"""A/A self-check: how often does the comparison rule flag classes between two recipes that cannot differ?

Stage: beside :mod:`relabel.comparison`, on the same evaluations. :func:`self_check` splits the
runs of one group into two pseudo-recipes A and B, many times, and applies
:func:`relabel.compare`'s rule to each split on the chosen metric m:

* a class is **falsely affected** when ``delta_m <= -min_drop`` and ``q_m <= fdr``, **falsely
  improved** when ``delta_m >= min_drop`` and ``q_m <= fdr``, with the same two-level
  bootstrap (:func:`relabel.stats.bootstrap_deltas`, both metrics on the same resamples, as
  ``compare`` draws them), the same ``fdr_method`` and the same ``paired`` setting.

Every class is null in an A/A split, so every flagged class is a false discovery and the
false discovery proportion of a split is 1 whenever it flags one; the share of splits that flag
at least one class (``rate``) is therefore the realised false discovery rate of the rule under
the complete null, and the rule is calibrated when it stays at most ``fdr`` (within the Monte
Carlo error ``sqrt(rate (1 - rate) / n_splits)``). ``mean_false`` is the mean number of flagged
classes per split.

How a split is drawn (``split``):

* ``seeds`` (default with at least 4 runs in the group): the group's s runs are shuffled and
  cut into halves of floor(s/2) and ceil(s/2) runs, on all images. With ``paired`` both halves
  have floor(s/2) runs (one run is left out when s is odd) and run j of A is paired with run j
  of B. This is the design of a real comparison with half the seeds.
* ``images`` (default with 1 to 3 runs: halves of 1 seed would lose the seed level of the
  bootstrap): both pseudo-recipes hold all s runs; each class's images are shuffled and cut
  into two halves of equal size (one image left out when the count is odd), separately for the
  images that multi-labels score and those they do not, and pseudo-image k of A is the k-th
  image of the first half, of B the k-th of the second. Limits: each class has half its
  images, and the two pseudo-recipes are the same models, so the seed noise they share cancels
  instead of adding up as between two recipes; unpaired, the bootstrap still resamples the two
  sides' seeds independently, which overstates the noise, so this check is optimistic about the
  seed level and tests mostly the image level of the rule.

Each split has its own bootstrap seed (``bootstrap_seed`` in :attr:`SelfCheck.splits`), drawn
with the splits from ``seed``: the whole check is reproducible, and a seed split can be redone
with :func:`relabel.compare` on its runs (group A as the reference) with that seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from relabel._vocab import Vocabulary
from relabel.comparison import Metric, run_order
from relabel.errors import ComparisonError, format_offenders
from relabel.evaluation import Evaluation
from relabel.progress import progress
from relabel.stats import FDR_METHOD_NAMES, FDR_METHODS, bootstrap_deltas, fdr_adjust, ordered_map, split_jobs

__all__ = ["SelfCheck", "Split", "self_check"]

#: The columns of :attr:`SelfCheck.splits`, in order.
SPLIT_COLUMNS = ("split", "mode", "runs_a", "runs_b", "n_runs_a", "n_runs_b", "bootstrap_seed", "n_classes",
                 "n_false_affected", "n_false_improved", "n_false", "any_false", "min_q_value")


class Split(Vocabulary, noun="self-check split", error=ComparisonError):
    """How a group's runs become two pseudo-recipes (module docstring)."""

    SEEDS = "seeds"
    IMAGES = "images"


@dataclass(frozen=True)
class SelfCheck:
    """The A/A self-check of one group (module docstring).

    Attributes
    ----------
    splits
        One row per split: ``split`` (0, 1, …), ``mode`` (``seeds`` or ``images``),
        ``runs_a``, ``runs_b`` (the run names of each pseudo-recipe, joined by ``;``),
        ``n_runs_a``, ``n_runs_b``, ``bootstrap_seed`` (the seed of its bootstrap),
        ``n_classes`` (classes with a p-value on the metric), ``n_false_affected``,
        ``n_false_improved``, ``n_false`` (their sum), ``any_false`` (``n_false > 0``) and
        ``min_q_value`` (the smallest q-value of the split, how close it came to flagging).
    params
        ``group``, ``split``, ``n_splits``, ``metric``, ``min_drop``, ``fdr``, ``fdr_method``,
        ``paired``, ``n_bootstrap``, ``confidence``, ``seed``, ``runs`` (the group's runs).
    """

    splits: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Share of splits that flag at least one class: the realised FDR under the complete null."""
        return float(self.splits["any_false"].mean()) if len(self.splits) else float("nan")

    @property
    def rate_error(self) -> float:
        """Monte Carlo standard error of :attr:`rate`, ``sqrt(rate (1 - rate) / n_splits)``."""
        n = len(self.splits)
        return math.sqrt(self.rate * (1 - self.rate) / n) if n else float("nan")

    @property
    def mean_false(self) -> float:
        """Mean number of falsely affected or improved classes per split."""
        return float(self.splits["n_false"].mean()) if len(self.splits) else float("nan")

    @property
    def calibrated(self) -> bool:
        """``rate`` is at most ``fdr`` within two Monte Carlo standard errors (binomial, at least 1 / n_splits)."""
        n = len(self.splits)
        bound = 2 * math.sqrt(self.params["fdr"] * (1 - self.params["fdr"]) / n) if n else 0.0
        return bool(self.rate <= self.params["fdr"] + max(bound, 1 / max(n, 1)))

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready values (the ``self_check`` key of relabel.summary/1)."""
        p = self.params
        return {"group": p["group"], "split": p["split"], "n_splits": int(len(self.splits)), "metric": p["metric"],
                "min_drop": p["min_drop"], "fdr": p["fdr"], "fdr_method": p["fdr_method"], "paired": p["paired"],
                "n_bootstrap": p["n_bootstrap"], "seed": p["seed"], "rate": self.rate,
                "rate_error": self.rate_error, "mean_false": self.mean_false,
                "n_false_affected": int(self.splits["n_false_affected"].sum()),
                "n_false_improved": int(self.splits["n_false_improved"].sum()), "calibrated": self.calibrated}

    def summary_line(self) -> str:
        """One line: how often the rule flagged classes between pseudo-recipes that cannot differ, against ``fdr``."""
        p = self.params
        n = len(self.splits)
        sizes = sorted({(int(a), int(b)) for a, b in zip(self.splits["n_runs_a"], self.splits["n_runs_b"])})
        design = ", ".join(f"{a} vs {b} runs" for a, b in sizes)
        how = "halves of its seeds" if p["split"] == Split.SEEDS.value else "halves of each class's images"
        verdict = ("within" if self.calibrated else "ABOVE") + f" --fdr {p['fdr']:g}"
        text = (f"self-check (A/A): {int(self.splits['any_false'].sum())} of {n} splits of group {p['group']!r} "
                f"({how}, {design}) flagged a class that cannot differ: realised FDR {100 * self.rate:.1f}% "
                f"± {100 * self.rate_error:.1f}%, {verdict} ({FDR_METHOD_NAMES[p['fdr_method']]}); "
                f"{self.mean_false:.2f} false classes per split")
        if not self.calibrated:
            text += "; the intervals are too narrow for this design (try --fdr-method by or more seeds)"
            if p["split"] == Split.SEEDS.value:
                text += (", or the group's runs are not one recipe (self_check.csv lists the runs on each side of "
                         "the flagged splits)")
        return text


def self_check(
    evaluations: Sequence[Evaluation],
    *,
    group: str,
    n_splits: int = 100,
    split: str | Split | None = None,
    metric: str | Metric | None = None,
    min_drop: float = 0.05,
    fdr: float = 0.05,
    fdr_method: str = "bh",
    paired: bool = False,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    n_jobs: int | None = None,
) -> SelfCheck:
    """Split ``group``'s runs into two pseudo-recipes ``n_splits`` times and count what the rule flags.

    Parameters
    ----------
    evaluations
        The runs, as for :func:`relabel.compare` (other groups' runs are ignored).
    group
        The group whose runs are split (usually the comparison's reference).
    n_splits
        How many random splits.
    split
        ``seeds`` or ``images`` (module docstring); default ``seeds`` with at least 4 runs in
        the group, else ``images``.
    metric, min_drop, fdr, fdr_method, paired, n_bootstrap, confidence, n_jobs
        The comparison's settings, with the same meaning and defaults as :func:`relabel.compare`.
    seed
        Seed of the splits and of their bootstrap seeds.
    """
    if isinstance(n_splits, bool) or not isinstance(n_splits, int) or n_splits < 1:
        raise ComparisonError(f"self-check: n_splits is a number of splits, at least 1; got {n_splits!r}")
    for name, value in (("min_drop", min_drop), ("fdr", fdr)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
            raise ComparisonError(f"self-check: {name} is a fraction strictly between 0 and 1; got {value!r}")
    if fdr_method not in FDR_METHODS:
        raise ComparisonError(f"self-check: fdr_method is one of {list(FDR_METHODS)}; got {fdr_method!r}")
    if n_bootstrap < 2:
        raise ComparisonError(f"self-check: n_bootstrap is at least 2; got {n_bootstrap!r}")
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1):
        raise ComparisonError(f"self-check: n_jobs is a number of threads, at least 1 (or None: all CPUs); got "
                              f"{n_jobs!r}")
    runs = [ev for ev in run_order(evaluations) if ev.meta.group is not None and str(ev.meta.group) == str(group)]
    if not runs:
        known = sorted({str(ev.meta.group) for ev in evaluations if ev.meta.group is not None})
        raise ComparisonError(f"self-check: group {group!r} has no runs; groups are {known}")
    s = len(runs)
    mode = Split.from_str(split) if split is not None else (Split.SEEDS if s >= 4 else Split.IMAGES)
    if mode is Split.SEEDS and s < (4 if paired else 2):
        raise ComparisonError(
            f"self-check: group {group!r} has {s} run{'s' if s != 1 else ''} "
            f"({format_offenders([ev.meta.name for ev in runs])}); splitting seeds needs at least "
            f"{4 if paired else 2}{' (paired: two pairs)' if paired else ''}: use split 'images' or train more seeds")
    has_ml = all(ev.has_multilabels for ev in runs)
    chosen = Metric.from_str(metric) if metric is not None else (Metric.MULTILABEL if has_ml else Metric.ORIGINAL)
    if chosen is Metric.MULTILABEL and not has_ml:
        raise ComparisonError("self-check: metric 'multilabel' needs annotations with multi-label sets; "
                              "use metric 'original'")
    columns = ["correct_original"] + (["correct_multilabel"] if has_ml else [])
    correct = np.stack([np.stack([ev.compact.correct(c) for ev in runs]) for c in columns])  # (metrics, runs, images)
    true = runs[0].compact.true_index.astype(np.int64)
    k = len(runs[0].label_space)
    m = 1 if chosen is Metric.MULTILABEL else 0
    names = [str(ev.meta.name) for ev in runs]

    rng = np.random.default_rng(np.random.SeedSequence(seed))
    halves = _image_halves(true, correct, k)
    if mode is Split.IMAGES and not len(halves[0]):
        raise ComparisonError(
            f"self-check: group {group!r} has {s} run{'s' if s != 1 else ''} and no class with two images to "
            f"split into halves, so no A/A split is possible (give at least two seeds per group, or images per "
            f"class)")
    # (bootstrap seed, runs of A, runs of B, images of A and B): drawn in order from one stream, so the check
    # does not depend on n_jobs
    designs: list[_Design] = []
    for _ in range(n_splits):
        boot_seed = int(rng.integers(2**31))
        if mode is Split.SEEDS:
            order = rng.permutation(s)
            cut = s // 2
            # paired: run j of A with run j of B, in the shuffled order (one run left out when s is odd)
            a, b = (order[:cut], order[cut:2 * cut]) if paired else (np.sort(order[:cut]), np.sort(order[cut:]))
            designs.append((boot_seed, a, b, None))
        else:
            designs.append((boot_seed, None, None, _draw_halves(true, halves, rng)))
    outer, inner = split_jobs(n_jobs, n_splits)  # splits on parallel threads, each bootstrap on the rest

    def one_split(design: _Design) -> tuple[Any, ...]:
        boot_seed, a, b, images = design
        if images is None:
            assert a is not None and b is not None
            ref, treat, classes = correct[:, a], correct[:, b], true
            runs_a, runs_b = ";".join(names[j] for j in a), ";".join(names[j] for j in b)
        else:
            first, second = images
            ref, treat, classes = correct[:, :, first], correct[:, :, second], true[first]
            runs_a = runs_b = ";".join(names)
        result = bootstrap_deltas(ref, treat, classes, k, n_bootstrap=n_bootstrap, confidence=confidence,
                                  seed=boot_seed, n_jobs=inner, paired=paired)[m]
        q = fdr_adjust(result.p_value, fdr_method)
        with np.errstate(invalid="ignore"):
            significant = q <= fdr
            n_affected = int(((result.delta <= -min_drop) & significant).sum())
            n_improved = int(((result.delta >= min_drop) & significant).sum())
        tested = ~np.isnan(result.p_value)
        return (mode.value, runs_a, runs_b, ref.shape[1], treat.shape[1], boot_seed, int(tested.sum()),
                n_affected, n_improved, n_affected + n_improved, n_affected + n_improved > 0,
                float(np.nanmin(q)) if tested.any() else float("nan"))

    rows = [(i, *row) for i, row in enumerate(progress(ordered_map(one_split, designs, outer), total=n_splits,
                                                       desc="self-check", unit="split"))]
    splits = pd.DataFrame(rows, columns=list(SPLIT_COLUMNS))
    params = {"group": str(group), "split": mode.value, "n_splits": n_splits, "metric": chosen.value,
              "min_drop": min_drop, "fdr": fdr, "fdr_method": fdr_method, "paired": paired,
              "n_bootstrap": n_bootstrap, "confidence": confidence, "seed": seed, "runs": names}
    return SelfCheck(splits, params)


_Design = tuple[int, np.ndarray | None, np.ndarray | None, tuple[np.ndarray, np.ndarray] | None]


def _image_halves(true: np.ndarray, correct: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The images of each stratum (class × scored by every metric or not), strata of at least two images.

    Returns the images sorted by stratum and the start of each stratum in that order (strata
    with fewer than two images left out).
    """
    scored = ~np.isnan(correct[:, 0, :])  # (metrics, images): the same in every run
    stratum = true << correct.shape[0]
    for m in range(correct.shape[0]):
        stratum |= scored[m].astype(np.int64) << m
    order = np.argsort(stratum, kind="stable")
    counts = np.bincount(stratum, minlength=k << correct.shape[0])
    keep = np.repeat(counts >= 2, counts)  # images of strata that can be halved, in stratum order
    kept = order[keep]
    kept_counts = counts[counts >= 2]
    return kept, np.r_[0, np.cumsum(kept_counts)]


def _draw_halves(true: np.ndarray, halves: tuple[np.ndarray, np.ndarray], rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray]:
    """One image split: per stratum a random order, first floor(n/2) to A and the next floor(n/2) to B."""
    images, bounds = halves
    sizes = np.diff(bounds)
    stratum_of = np.repeat(np.arange(len(sizes)), sizes)
    # a random order within each stratum: sort by (stratum, a uniform 32-bit word), one exact integer key
    words = rng.integers(0, 2**32, size=len(images), dtype=np.uint64).astype(np.int64)
    shuffled = images[np.argsort((stratum_of.astype(np.int64) << 32) | words, kind="stable")]
    position = np.arange(len(images)) - np.repeat(bounds[:-1], sizes)
    half = np.repeat(sizes // 2, sizes)
    return shuffled[position < half], shuffled[(position >= half) & (position < 2 * half)]
