"""Comparison: per-class change from a reference group of runs to each other group.

Groups are recipes (``rrc-0.08``, ``rrc-0.5``, …), each with one or more seeds. Per class
and group: mean accuracy over seeds, the delta to the reference (group mean minus reference
mean, a fraction; negative = worse), a bootstrap confidence interval over seeds and images
(:func:`relabel.stats.bootstrap_deltas`, both metrics on the same resamples), a p-value and a
Benjamini–Hochberg q-value across classes. On each metric m:

* **affected**: ``delta_m <= -min_drop`` and ``q_value_m <= fdr``;
* **improved**: ``delta_m >= +min_drop`` and ``q_value_m <= fdr`` (the same rule, upwards).

A class that drops under original labels (``affected_original``) gets one of three
:class:`Explanation` states, from the multi-label delta and the paired bootstrap of the
shift ``s = delta_multilabel - delta_original`` on the same resamples:

* ``explained``: the multi-label drop is below the threshold, ``delta_multilabel > -min_drop``,
  and its interval reaches above it, ``ci_high_multilabel > -min_drop``;
* ``partly explained``: not explained, but the drop shrinks significantly: ``s > 0`` and the
  q-value (``fdr_method``) of ``s`` (over the classes that drop under original labels) is at most ``fdr``;
* ``not explained``: otherwise.

**Flows** (where an affected class c's lost images went) are counted under the metric that
decided the class: an image of c is lost when it is wrong on that metric (under
multi-labels: its top-1 is outside its valid set), and its destination is its top-1 class.
For each destination d != c, ``share_delta`` is the rise of the share of c's scored images
lost to d, with an interval and p-value from the same two-level bootstrap (seeds resampled
within groups, c's images within c). d is a *partner* when ``share_delta > 0``,
``share_delta >= min_flow_share`` and its Holm-adjusted p-value over c's candidate
destinations (those that receive at least one of c's lost images in some run) is at most
``flow_alpha``.

**Paired** comparisons (``paired=True``: the groups share seeds, each seed one initialisation
and data order) resample seeds jointly, so the noise a seed brings to both recipes cancels.
**Shrinkage** (``shrink=True``) adds ``delta_shrunk``: with each class's delta d_c and bootstrap
standard error s_c, the normal-normal empirical-Bayes estimate μ + τ²/(τ² + s_c²) (d_c − μ),
with μ the precision-weighted mean delta and τ² = max(0, var(d) − mean(s²)) (method of moments),
so that the largest observed drops among many classes are not overstated.

Runs are taken in a fixed order whatever order they are given in (groups by strength, then
name; runs within a group by seed, then name), so the bootstrap draws, and every number,
do not depend on the order of the input.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from relabel._vocab import Vocabulary
from relabel.errors import ComparisonError, RelabelWarning, format_offenders
from relabel.evaluation import Evaluation
from relabel.labelspace import LabelSpace
from relabel import power
from relabel.progress import progress
from relabel.stats import (
    FDR_METHODS,
    BootstrapResult,
    bootstrap_deltas,
    bootstrap_difference,
    fdr_adjust,
    holm,
    ordered_map,
    split_jobs,
)

__all__ = ["Comparison", "Explanation", "Metric", "compare", "run_order", "shrink_deltas"]


class Metric(Vocabulary, noun="metric", error=ComparisonError):
    """Which labels judge correctness."""

    MULTILABEL = "multilabel"
    ORIGINAL = "original"


class Explanation(Vocabulary, noun="explanation", error=ComparisonError):
    """How much of a class's drop under original labels multi-label scoring removes (module docstring).

    >>> Explanation.from_str("partly explained")
    <Explanation.PARTLY_EXPLAINED: 'partly explained'>
    """

    EXPLAINED = "explained"
    PARTLY_EXPLAINED = "partly explained"
    NOT_EXPLAINED = "not explained"


@dataclass(frozen=True)
class Comparison:
    """Per-class comparison of groups of runs against a reference group.

    Deltas, shares and accuracies are fractions (0.05 = 5 points); "the metric" is
    ``params["metric"]``, the labels that decide which classes are affected.

    Attributes
    ----------
    group_means
        One row per (class, group), reference included: ``class_index``, ``group``,
        ``strength``, ``n_runs``, ``n_images``, ``n_multilabel``, ``acc_original``,
        ``acc_multilabel`` (means over the group's seeds).
    per_class
        One row per (class, non-reference group): ``class_index``, ``class_key``,
        ``class_name``, ``group``, ``n_images``, ``n_multilabel`` and, for each metric ``m`` in
        (``original``, ``multilabel``): ``acc_m_reference``, ``acc_m``, ``delta_m`` (group minus
        reference), ``ci_low_m``, ``ci_high_m``, ``p_value_m``, ``q_value_m`` (``fdr_method`` across the
        classes), ``affected_m`` (``delta_m <= -min_drop`` and ``q_value_m <= fdr``),
        ``improved_m`` (``delta_m >= min_drop`` and ``q_value_m <= fdr``); then ``affected``
        and ``improved`` (on the metric), ``multilabel_explanation`` (an
        :class:`Explanation` value for classes with ``affected_original``, else missing; a
        categorical column), ``explained_by_multilabels`` (``multilabel_explanation ==
        "explained"``), with multi-labels ``multilabel_shift`` (``delta_multilabel -
        delta_original``: how much of the drop multi-label scoring removes),
        ``multilabel_shift_ci_low``, ``multilabel_shift_ci_high``,
        ``multilabel_shift_p_value``, ``multilabel_shift_q_value`` (paired bootstrap, ``fdr_method`` over
        the classes with ``affected_original``; missing for the others), and
        ``n_flow_destinations`` (nullable integer, affected classes only: how many classes
        d != c the share of c's lost images rose for, i.e. how many its losses spread over),
        ``detectable_drop`` (on the metric: the smallest drop this design finds with power 0.8 at
        the FDR, a fraction; :mod:`relabel.power`) and the variance components behind it,
        ``var_disagreement``, ``var_within_reference``, ``var_within_treatment``,
        ``var_seed_reference``, ``var_seed_treatment``; with ``shrink``, ``delta_shrunk``.
    flows
        One row per (affected class c, group, partner d) that passed the flow rule (module
        docstring), at most ``n_flows`` per class: ``class_index``, ``group``,
        ``partner_index`` (int), ``metric`` (the labels the flow is counted under),
        ``rank`` (1 = largest ``share_delta``), ``count_reference``, ``count_treatment``
        (mean over seeds of c's scored images lost to d), ``share_reference``,
        ``share_treatment`` (the same over c's scored images: ``n_images`` under original
        labels, ``n_multilabel`` under multi-labels), ``share_delta`` (treatment minus
        reference), ``share_ci_low``, ``share_ci_high`` (its bootstrap interval at
        ``confidence``), ``share_p_value`` (two-sided, as ``p_value_m``),
        ``share_p_adjusted`` (Holm over c's candidate destinations), ``reverse_share_reference``,
        ``reverse_share_treatment``, ``reverse_share_delta`` (share of d's scored images lost
        to c, same metric; NaN when d has none), ``pair_acc_reference``,
        ``pair_acc_treatment`` (share of c's scored images right on the metric or lost to d).
    summary
        One row per non-reference group: ``group``, ``mean_delta_original``,
        ``mean_delta_multilabel`` (change of the mean class accuracy), ``n_affected`` and
        ``mean_delta_affected`` (how many classes got worse on the metric, and their mean
        delta), ``n_improved`` and ``mean_delta_improved`` (the same for the classes that
        improved), ``n_affected_original``, ``n_explained``, ``n_partly_explained``,
        ``n_not_explained`` (the classes that drop under original labels, by
        ``multilabel_explanation``), ``n_explained_by_multilabels`` (= ``n_explained``) and
        ``median_detectable_drop`` (median over the classes of ``detectable_drop``).
    curves
        With strengths on every group: per (class, group) accuracy along the strength axis,
        and ``best_strength`` per class on the chosen metric. Empty otherwise.
    params
        Everything that produced the result: reference, metric, min_drop, fdr, fdr_method, n_bootstrap,
        confidence, seed, n_flows, flow_alpha, min_flow_share, runs per group (in the order
        they were drawn).
    """

    label_space: LabelSpace
    group_means: pd.DataFrame
    per_class: pd.DataFrame
    flows: pd.DataFrame
    summary: pd.DataFrame
    curves: pd.DataFrame
    best_strength: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def affected(self) -> pd.DataFrame:
        """Rows of ``per_class`` for affected classes, largest drop first."""
        metric = self.params["metric"]
        rows = self.per_class[self.per_class["affected"].astype(bool)]
        return rows.sort_values(f"delta_{metric}", kind="stable")

    @property
    def improved(self) -> pd.DataFrame:
        """Rows of ``per_class`` for improved classes, largest gain first."""
        metric = self.params["metric"]
        if "improved" not in self.per_class:  # results written by an older relabel
            return self.per_class.iloc[0:0]
        rows = self.per_class[self.per_class["improved"].astype(bool)]
        return rows.sort_values(f"delta_{metric}", ascending=False, kind="stable")

    def _summary_row(self, group: str, columns: Sequence[str]) -> pd.Series | None:
        rows = self.summary[self.summary["group"].astype(str) == str(group)]
        if rows.empty or any(c not in rows for c in columns):
            return None  # e.g. results written by an older relabel
        return rows.iloc[0]

    def net_summary(self, group: str) -> str:
        """One line for ``group``: classes worse and better on the metric and their mean change, in points.

        "net on multi-labels: 7 classes worse (mean -41.8 points), 1 better (mean +3.3 points)";
        "" when the summary lacks the counts.
        """
        row = self._summary_row(group, ["n_affected", "n_improved", "mean_delta_affected", "mean_delta_improved"])
        if row is None:
            return ""
        words = "multi-labels" if self.params.get("metric") == "multilabel" else "original labels"
        worse, better = int(row["n_affected"]), int(row["n_improved"])
        text = f"net on {words}: {worse} class{'es' if worse != 1 else ''} worse"
        text += f" (mean {100 * row['mean_delta_affected']:+.1f} points)" if worse else ""
        return text + f", {better} better" + (f" (mean {100 * row['mean_delta_improved']:+.1f} points)" if better else "")

    def power_summary(self, group: str) -> str:
        """What ``group``'s design can see: the median class's detectable drop, and the range over classes.

        "drops smaller than ~6.1 points cannot be told from noise here (median class; 3.2 to 14.0 over
        classes; power 0.8 at FDR 0.05)"; "" when the table lacks ``detectable_drop``.
        """
        if "detectable_drop" not in self.per_class:
            return ""
        drops = self.per_class.loc[self.per_class["group"].astype(str) == str(group), "detectable_drop"].dropna()
        if drops.empty:
            return ""
        low, median, high = (100 * drops.quantile(q) for q in (0.0, 0.5, 1.0))
        spread = f"; {low:.1f} to {high:.1f} over classes" if high - low >= 0.05 else ""
        return (f"drops smaller than ~{median:.1f} points cannot be told from noise here (median class{spread}; "
                f"power {power.POWER:g} at FDR {self.params.get('fdr', 0.05):g}; relabel plan shows what more seeds "
                f"or images would give)")

    def explanation_summary(self, group: str) -> str:
        """How many of ``group``'s drops under original labels multi-labels explain, partly explain or not.

        "9 drop under original labels: 3 explained by multi-labels, 0 partly explained, 6 not
        explained"; "" without multi-labels or when the summary lacks the counts.
        """
        row = self._summary_row(group, ["n_affected_original", "n_explained", "n_partly_explained", "n_not_explained"])
        if row is None or "delta_multilabel" not in self.per_class:
            return ""
        n = int(row["n_affected_original"])
        return (f"{n} {'class drops' if n == 1 else 'classes drop'} under original labels: "
                f"{int(row['n_explained'])} explained by multi-labels, {int(row['n_partly_explained'])} partly "
                f"explained, {int(row['n_not_explained'])} not explained")


def run_order(evaluations: Sequence[Evaluation]) -> list[Evaluation]:
    """The runs in the order :func:`compare` draws them, whatever order they came in.

    Groups by strength (groups without one last), then name; runs within a group by seed
    (runs without one last), then name. Writing and printing runs in this order too keeps
    every output of a command independent of the order of its input.
    """
    by_group: dict[Any, list[Evaluation]] = {}
    for ev in evaluations:
        by_group.setdefault(ev.meta.group, []).append(ev)

    def group_key(group: Any) -> tuple[bool, bool, float, str]:
        strength = _strength(by_group[group])
        return (group is None, math.isnan(strength), 0.0 if math.isnan(strength) else strength, str(group or ""))

    def run_key(ev: Evaluation) -> tuple[bool, int, str]:
        return (ev.meta.seed is None, ev.meta.seed or 0, str(ev.meta.name))

    return [ev for group in sorted(by_group, key=group_key) for ev in sorted(by_group[group], key=run_key)]


def _group_runs(evaluations: Sequence[Evaluation]) -> dict[str, list[Evaluation]]:
    """Runs by group, in :func:`run_order`."""
    missing = [ev.meta.name for ev in evaluations if not ev.meta.group]
    if missing:
        raise ComparisonError(
            f"every run needs a group to be compared; runs without one: {format_offenders(missing)} "
            f"(give --group, a runs manifest, or group metadata in the run file)"
        )
    groups: dict[str, list[Evaluation]] = {}
    for ev in run_order(evaluations):
        groups.setdefault(str(ev.meta.group), []).append(ev)
    return groups


def _strength(evs: Sequence[Evaluation]) -> float:
    """The group's strength when all its runs share one, else NaN."""
    strengths = {ev.meta.strength for ev in evs}
    value = strengths.pop() if len(strengths) == 1 else None
    return float("nan") if value is None else float(value)


def _check_comparable(groups: dict[str, list[Evaluation]], reference: str) -> None:
    if reference not in groups:
        raise ComparisonError(f"reference group {reference!r} does not exist; groups are {sorted(groups)}")
    if len(groups) < 2:
        raise ComparisonError(
            f"a comparison needs at least two groups; all {len(groups[reference])} runs are in group {reference!r}"
        )
    first = groups[reference][0]
    for group, evs in groups.items():
        for ev in evs:
            if ev.label_space.keys != first.label_space.keys:
                raise ComparisonError(
                    f"runs {first.meta.name!r} (group {reference!r}) and {ev.meta.name!r} (group {group!r}) use "
                    f"different label spaces ({len(first.label_space)} vs {len(ev.label_space)} classes, "
                    f"{first.label_space.name!r} vs {ev.label_space.name!r})"
                )
            rows, first_rows = ev.compact.rows, first.compact.rows
            if rows is not first_rows and (len(rows) != len(first_rows) or not np.array_equal(rows, first_rows)):
                only_here = np.setdiff1d(rows, first_rows)
                only_there = np.setdiff1d(first_rows, rows)
                raise ComparisonError(
                    f"runs compared with each other must cover the same images: run {ev.meta.name!r} (group {group!r}) "
                    f"covers {len(rows)} images and run {first.meta.name!r} (group {reference!r}) {len(first_rows)}; "
                    f"{len(only_here)} are only in the first, {len(only_there)} only in the second"
                )
    for group, evs in groups.items():  # then what a group of runs must share: one recipe
        strengths = sorted({ev.meta.strength for ev in evs}, key=lambda v: (v is None, v or 0.0))
        if len(strengths) > 1:  # one group is one recipe: its strength would be lost (NaN), and the curves with it
            raise ComparisonError(
                f"group {group!r}: its runs give different strengths ({', '.join(map(str, strengths))}: "
                f"{', '.join(f'{ev.meta.name}={ev.meta.strength}' for ev in evs[:6])}); a group is one recipe, so "
                f"give its runs one strength, or make each strength its own group"
            )
        seeds = [ev.meta.seed for ev in evs if ev.meta.seed is not None]
        again = sorted({seed for seed in seeds if seeds.count(seed) > 1})
        if again:
            runs = [ev.meta.name for ev in evs if ev.meta.seed in again]
            warnings.warn(
                f"group {group!r}: seeds {format_offenders(again)} are given by more than one run "
                f"({format_offenders(runs)}); each run is counted as its own seed, so check that they are not "
                f"copies of one run",
                RelabelWarning,
                stacklevel=3,
            )


def _check_paired(groups: dict[str, list[Evaluation]], reference: str) -> None:
    """Paired comparisons need the same seeds, each once, in every group (runs are ordered by seed)."""
    def seeds(evs: Sequence[Evaluation]) -> list[Any]:
        return [ev.meta.seed for ev in evs]

    wanted = seeds(groups[reference])
    if any(s is None for s in wanted) or len(set(wanted)) != len(wanted):
        raise ComparisonError(f"paired comparison: the reference group {reference!r} needs one run per seed, each with "
                              f"its seed number; its runs have seeds {wanted}")
    for group, evs in groups.items():
        if sorted(seeds(evs), key=str) != sorted(wanted, key=str):
            raise ComparisonError(f"paired comparison: group {group!r} has seeds {seeds(evs)} and the reference "
                                  f"{reference!r} {wanted}; pairing needs the same seeds in every group (or compare "
                                  f"unpaired)")


def shrink_deltas(delta: np.ndarray, std_error: np.ndarray) -> np.ndarray:
    """Empirical-Bayes (normal-normal) shrinkage of class deltas toward their mean (module docstring)."""
    delta = np.asarray(delta, dtype=np.float64)
    se2 = np.asarray(std_error, dtype=np.float64) ** 2
    known = ~np.isnan(delta) & ~np.isnan(se2)
    out = np.full(len(delta), np.nan)
    if not known.any():
        return out
    weights = 1 / np.maximum(se2[known], 1e-12)
    mean = float(np.sum(weights * delta[known]) / np.sum(weights)) if known.sum() > 1 else float(delta[known][0])
    prior = max(0.0, float(np.var(delta[known], ddof=1) - se2[known].mean())) if known.sum() > 1 else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(prior + se2[known] > 0, prior / (prior + se2[known]), 1.0)
    out[known] = mean + factor * (delta[known] - mean)
    return out


def _correct_matrix(evs: Sequence[Evaluation], column: str) -> np.ndarray:
    """(runs, images): 1.0 right, 0.0 wrong, NaN where the image does not count for the metric."""
    return np.stack([ev.compact.correct(column) for ev in evs])


def _check_settings(min_drop: float, fdr: float, n_bootstrap: int, confidence: float, n_jobs: int | None,
                    n_flows: int, flow_alpha: float, min_flow_share: float) -> None:
    """Every setting in its unit and range; thresholds are fractions, as every delta column is."""
    fractions = {"min_drop": (min_drop, "a fraction: 0.02 = 2 points"),
                 "fdr": (fdr, "a fraction: 0.05 = a 5% false discovery rate"),
                 "flow_alpha": (flow_alpha, "a fraction: 0.05 = a 5% family-wise error per class")}
    for name, (value, unit) in fractions.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
            raise ComparisonError(f"compare: {name} is {unit}, strictly between 0 and 1; got {value!r}")
    if isinstance(min_flow_share, bool) or not isinstance(min_flow_share, (int, float)) or not 0 <= min_flow_share < 1:
        raise ComparisonError(f"compare: min_flow_share is a fraction of a class's images (0.02 = 2 points), "
                              f"at least 0 and below 1; got {min_flow_share!r}")
    if n_bootstrap < 2 or not 0 < confidence < 1 or (n_jobs is not None and n_jobs < 1) or n_flows < 1:
        raise ComparisonError(f"compare: expected n_bootstrap >= 2, 0 < confidence < 1, n_jobs >= 1 (or None) and "
                              f"n_flows >= 1; got n_bootstrap={n_bootstrap}, confidence={confidence}, "
                              f"n_jobs={n_jobs}, n_flows={n_flows}")


def compare(
    evaluations: Sequence[Evaluation],
    *,
    reference: str,
    metric: str | Metric | None = None,
    min_drop: float = 0.05,
    fdr: float = 0.05,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    n_flows: int = 5,
    flow_alpha: float = 0.05,
    min_flow_share: float = 0.0,
    n_jobs: int | None = None,
    paired: bool = False,
    shrink: bool = False,
    fdr_method: str = "bh",
) -> Comparison:
    """Compare every group of runs with the ``reference`` group, class by class.

    Parameters
    ----------
    evaluations
        One :class:`Evaluation` per run; ``meta.group`` says the recipe, ``meta.seed`` the seed.
        Their order does not matter.
    reference
        The group the others are compared to.
    metric
        ``multilabel`` (default when multi-labels exist) or ``original``: the labels that
        decide which classes are affected (and count the flows). Both are always reported.
    min_drop, fdr
        Fractions in (0, 1). A class is affected when its accuracy fell by at least
        ``min_drop`` (0.05 = 5 points) with a q-value at most ``fdr``; improved when it rose
        by as much with the same q-value bound.
    n_bootstrap, confidence, seed
        Bootstrap draws, interval level and seed (results are reproducible).
    n_flows, flow_alpha, min_flow_share
        Partners of an affected class (module docstring): destinations whose share of the
        class's lost images rose with a Holm-adjusted p-value at most ``flow_alpha`` (over
        the class's candidate destinations) and by at least ``min_flow_share`` (a fraction;
        0 = no floor besides the test); at most ``n_flows`` per class, largest rise first.
    n_jobs
        Threads for the bootstrap (default: every CPU this process may use); the results are
        the same for any value.
    paired
        The groups share seeds (seed s of every group had the same initialisation and data
        order): every group must hold the reference's seeds, each once, and the bootstrap
        resamples seeds jointly (:func:`relabel.stats.bootstrap_deltas`), so noise a seed
        brings to both recipes cancels. Never assumed: say so (a manifest's ``paired: true``).
    shrink
        Add ``delta_shrunk`` (empirical-Bayes shrinkage of the metric's deltas toward the
        group's mean delta, module docstring); the affected rule does not use it.
    fdr_method
        ``bh`` (Benjamini–Hochberg: valid for independent or positively dependent classes) or
        ``by`` (Benjamini–Yekutieli: valid under any dependence, less powerful by the factor
        sum_{i<=m} 1/i, about 7.5 for 1000 classes): the q-values of every class, of the
        multi-label shift, and the level of ``detectable_drop``.
    """
    _check_settings(min_drop, fdr, n_bootstrap, confidence, n_jobs, n_flows, flow_alpha, min_flow_share)
    if fdr_method not in FDR_METHODS:
        raise ComparisonError(f"compare: fdr_method is one of {list(FDR_METHODS)} (Benjamini-Hochberg, "
                              f"Benjamini-Yekutieli); got {fdr_method!r}")
    groups = _group_runs(evaluations)
    _check_comparable(groups, reference)
    if paired:
        _check_paired(groups, reference)
    first = groups[reference][0]
    space = first.label_space
    k = len(space)
    has_ml = all(ev.has_multilabels for ev in evaluations)
    chosen = Metric.from_str(metric) if metric is not None else (Metric.MULTILABEL if has_ml else Metric.ORIGINAL)
    notes: list[str] = []
    if chosen is Metric.MULTILABEL and not has_ml:
        raise ComparisonError("metric 'multilabel' needs annotations with multi-label sets; use metric 'original'")
    if not has_ml:
        notes.append("the annotations have no multi-label sets: only original-label metrics; "
                     "multi-label re-scoring was not possible")
    single_seed = sorted(g for g, evs in groups.items() if len(evs) == 1)
    if single_seed:
        notes.append(f"groups with a single run ({', '.join(single_seed)}): intervals cover image sampling only, "
                     f"not seed-to-seed variation")
        warnings.warn(
            f"groups {single_seed} have a single run: confidence intervals cover image sampling only; "
            f"train more seeds for intervals that include seed variation",
            RelabelWarning,
            stacklevel=2,
        )

    true = first.compact.true_index.astype(np.int64)
    metrics = [Metric.ORIGINAL, Metric.MULTILABEL] if has_ml else [Metric.ORIGINAL]
    columns = ["correct_original" if m is Metric.ORIGINAL else "correct_multilabel" for m in metrics]
    group_means = _group_means(groups, space)
    mean_lookup = group_means.set_index(["group", "class_index"])
    accuracy = {(g, m.value): mean_lookup.loc[g][f"acc_{m.value}"].to_numpy() for g in groups for m in metrics}
    ref = np.stack([_correct_matrix(groups[reference], c) for c in columns])
    n_images = np.bincount(true, minlength=k)
    n_multilabel = np.bincount(true[~np.isnan(ref[1, 0])], minlength=k) if has_ml else None
    classes = space.table()
    flow_rule = _FlowRule.of(groups[reference], chosen, n_flows=n_flows, flow_alpha=flow_alpha,
                             min_share=min_flow_share, n_bootstrap=n_bootstrap, confidence=confidence, seed=seed,
                             paired=paired)
    others = [g for g in groups if g != reference]
    outer, inner = split_jobs(n_jobs, len(others))

    def compare_group(group: str) -> tuple[pd.DataFrame, dict[str, list[Any]], dict[tuple[str, int], int]]:
        """One group's per-class frame and its flows: the bootstrap, the variance components of the metric
        (relabel.power), then the flows of its affected classes, on one worker thread."""
        treat = np.stack([_correct_matrix(groups[group], c) for c in columns])
        results = bootstrap_deltas(ref, treat, true, k, n_bootstrap=n_bootstrap, confidence=confidence, seed=seed,
                                   n_jobs=inner, keep_draws=has_ml, paired=paired)
        at = metrics.index(chosen)
        components = power.variance_components(ref[at], treat[at], true, k)
        frame = classes.copy()
        frame.insert(3, "group", group)
        frame["n_images"] = n_images
        for m, result in zip(metrics, results):
            name = m.value
            if m is Metric.MULTILABEL:
                frame["n_multilabel"] = n_multilabel
            frame[f"acc_{name}_reference"] = accuracy[(reference, name)]
            frame[f"acc_{name}"] = accuracy[(group, name)]
            frame[f"delta_{name}"] = result.delta
            frame[f"ci_low_{name}"] = result.ci_low
            frame[f"ci_high_{name}"] = result.ci_high
            frame[f"p_value_{name}"] = result.p_value
            frame[f"q_value_{name}"] = fdr_adjust(result.p_value, fdr_method)
            significant = frame[f"q_value_{name}"] <= fdr
            frame[f"affected_{name}"] = (frame[f"delta_{name}"] <= -min_drop) & significant
            frame[f"improved_{name}"] = (frame[f"delta_{name}"] >= min_drop) & significant
        frame["affected"] = frame[f"affected_{chosen.value}"]
        frame["improved"] = frame[f"improved_{chosen.value}"]
        _add_power(frame, components, ref.shape[1], len(groups[group]), chosen, fdr=fdr, min_drop=min_drop,
                   fdr_method=fdr_method)
        if shrink:
            frame["delta_shrunk"] = shrink_deltas(frame[f"delta_{chosen.value}"].to_numpy(),
                                                  results[metrics.index(chosen)].std_error)
        frame = _explain(frame, results, has_ml, min_drop=min_drop, fdr=fdr, confidence=confidence,
                         fdr_method=fdr_method)
        affected = frame["class_index"].to_numpy()[frame["affected"].to_numpy(dtype=bool)]
        return (frame, *_group_flows(flow_rule, groups[group], group, affected, n_jobs=inner))

    frames = []
    flow_columns: dict[str, list[Any]] = {c: [] for c in _FLOW_COLUMNS}
    destinations: dict[tuple[str, int], int] = {}
    compared = ordered_map(compare_group, others, outer)  # groups on parallel threads, in order
    for frame, group_columns, group_destinations in progress(compared, total=len(others), desc="compare",
                                                             unit="group"):
        frames.append(frame)
        for name, pieces in group_columns.items():
            flow_columns[name].extend(pieces)
        destinations.update(group_destinations)
    per_class = pd.concat(frames, ignore_index=True)
    flows = _flow_table(flow_columns)
    per_class["n_flow_destinations"] = pd.array([destinations.get((g, c)) for g, c in
                                                 zip(per_class["group"], per_class["class_index"])], dtype="Int64")
    curves, best = _curves(group_means, chosen)
    params = {
        "reference": reference, "metric": chosen.value, "min_drop": min_drop, "fdr": fdr, "fdr_method": fdr_method,
        "n_bootstrap": n_bootstrap, "confidence": confidence, "seed": seed, "n_flows": n_flows,
        "flow_alpha": flow_alpha, "min_flow_share": min_flow_share, "paired": paired, "shrink": shrink,
        "runs": {g: [ev.meta.name for ev in evs] for g, evs in groups.items()},
    }
    summary = _summary(per_class, metrics, chosen)
    return Comparison(space, group_means, per_class, flows, summary, curves, best, params, tuple(notes))


def _add_power(frame: pd.DataFrame, components: pd.DataFrame, seeds_reference: int, seeds_treatment: int,
               chosen: Metric, *, fdr: float, min_drop: float, fdr_method: str = "bh") -> None:
    """``detectable_drop`` on the metric for this design, and the variance components behind it (relabel.power)."""
    found = int((frame[f"q_value_{chosen.value}"] <= fdr).sum())
    counts = frame["n_multilabel" if chosen is Metric.MULTILABEL else "n_images"].to_numpy()
    frame["detectable_drop"] = power.detectable_drop(
        components, counts, seeds_reference=seeds_reference, seeds_treatment=seeds_treatment,
        alpha=power.bh_alpha(fdr, int((counts > 0).sum()), found, fdr_method), min_drop=min_drop)
    for column in power.VARIANCE_COLUMNS:
        frame[column] = components[column].to_numpy()


def _explain(frame: pd.DataFrame, results: Sequence[BootstrapResult], has_ml: bool, *, min_drop: float, fdr: float,
             confidence: float, fdr_method: str = "bh") -> pd.DataFrame:
    """``multilabel_explanation`` (and the shift behind it) for the classes that drop under original labels."""
    states = [e.value for e in Explanation]
    drops = np.flatnonzero(frame["affected_original"].to_numpy(dtype=bool))
    state = np.full(len(frame), None, dtype=object)
    if has_ml:
        shift = bootstrap_difference(results[1], results[0], drops, confidence=confidence)
        q = fdr_adjust(shift.p_value, fdr_method)
        delta_ml = frame["delta_multilabel"].to_numpy()[drops]
        high_ml = frame["ci_high_multilabel"].to_numpy()[drops]
        explained = (delta_ml > -min_drop) & (high_ml > -min_drop)
        partly = ~explained & (shift.delta > 0) & (q <= fdr)
        state[drops] = np.where(explained, Explanation.EXPLAINED.value,
                                np.where(partly, Explanation.PARTLY_EXPLAINED.value, Explanation.NOT_EXPLAINED.value))
        for column, values in (("multilabel_shift", shift.delta), ("multilabel_shift_ci_low", shift.ci_low),
                               ("multilabel_shift_ci_high", shift.ci_high),
                               ("multilabel_shift_p_value", shift.p_value), ("multilabel_shift_q_value", q)):
            filled = np.full(len(frame), np.nan)
            filled[drops] = values
            frame[column] = filled
    frame.insert(frame.columns.get_loc("improved") + 1, "multilabel_explanation",
                 pd.Categorical(state, categories=states))
    frame.insert(frame.columns.get_loc("multilabel_explanation") + 1, "explained_by_multilabels",
                 (frame["multilabel_explanation"] == Explanation.EXPLAINED.value).to_numpy())
    return frame


def _summary(per_class: pd.DataFrame, metrics: Sequence[Metric], chosen: Metric) -> pd.DataFrame:
    """Per group: change of the mean class accuracy, classes worse and better, and how drops are explained."""
    codes, order = pd.factorize(per_class["group"], sort=False)
    n_groups = len(order)

    def total(values: Any) -> np.ndarray:
        return np.bincount(codes, weights=np.asarray(values, dtype=np.float64), minlength=n_groups)

    def mean(values: Any) -> np.ndarray:
        values = np.asarray(values, dtype=np.float64)
        present = ~np.isnan(values)
        with np.errstate(invalid="ignore", divide="ignore"):
            return total(np.where(present, values, 0.0)) / total(present)

    summary = pd.DataFrame({"group": list(order)})
    for m in (Metric.ORIGINAL, Metric.MULTILABEL):
        if m in metrics:  # change of the mean class accuracy (classes without images left out, as nanmean)
            summary[f"mean_delta_{m.value}"] = (mean(per_class[f"acc_{m.value}"])
                                                - mean(per_class[f"acc_{m.value}_reference"]))
        else:
            summary[f"mean_delta_{m.value}"] = np.nan
    delta = per_class[f"delta_{chosen.value}"].to_numpy(dtype=np.float64)
    for kind in ("affected", "improved"):
        flagged = per_class[kind].to_numpy(dtype=bool)
        summary[f"n_{kind}"] = total(flagged).astype(np.int64)
        summary[f"mean_delta_{kind}"] = mean(np.where(flagged, delta, np.nan))
    summary["n_affected_original"] = total(per_class["affected_original"].to_numpy(dtype=bool)).astype(np.int64)
    explanation = per_class["multilabel_explanation"]
    for e in Explanation:
        summary[f"n_{e.name.lower()}"] = total((explanation == e.value).to_numpy(dtype=bool)).astype(np.int64)
    summary["n_explained_by_multilabels"] = summary["n_explained"]
    summary["median_detectable_drop"] = (per_class.groupby(codes)["detectable_drop"].median()
                                         .reindex(range(n_groups)).to_numpy())
    return summary


def _group_means(groups: dict[str, list[Evaluation]], space: LabelSpace) -> pd.DataFrame:
    frames = []
    for group, evs in groups.items():
        frame = space.table()[["class_index"]].copy()
        frame["group"] = group
        frame["strength"] = _strength(evs)
        frame["n_runs"] = len(evs)
        frame["n_images"] = evs[0].per_class["n_images"].to_numpy()
        frame["n_multilabel"] = evs[0].per_class["n_multilabel"].to_numpy()
        for column in ("acc_original", "acc_multilabel"):  # NaN (no images) in every run alike: same image set
            frame[column] = np.mean([ev.per_class[column].to_numpy(dtype=np.float64) for ev in evs], axis=0)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


_FLOW_COLUMNS = {
    "class_index": "int64", "group": "str", "partner_index": "int64", "metric": "str", "rank": "int64",
    "count_reference": "float64", "count_treatment": "float64", "share_reference": "float64",
    "share_treatment": "float64", "share_delta": "float64", "share_ci_low": "float64", "share_ci_high": "float64",
    "share_p_value": "float64", "share_p_adjusted": "float64", "reverse_share_reference": "float64",
    "reverse_share_treatment": "float64", "reverse_share_delta": "float64", "pair_acc_reference": "float64",
    "pair_acc_treatment": "float64",
}


@dataclass(frozen=True)
class _Lost:
    """One group's runs under one metric: (runs, images) lost (wrong on the metric, scored) and top-1."""

    lost: np.ndarray
    pred: np.ndarray

    @classmethod
    def of(cls, evs: Sequence[Evaluation], metric: Metric) -> _Lost:
        if metric is Metric.MULTILABEL:
            lost = np.stack([ev.compact.scored & ~ev.compact.correct_multilabel for ev in evs])  # scored and wrong
        else:
            lost = ~np.stack([ev.compact.correct_original for ev in evs])
        pred = np.stack([ev.compact.pred_index for ev in evs]).astype(np.int64)
        return cls(lost, pred)

    def into(self, images: np.ndarray, destinations: np.ndarray) -> np.ndarray:
        """(runs, destinations, images): image lost, and lost to that destination."""
        lost, pred = self.lost[:, images], self.pred[:, images]
        return lost[:, None, :] & (pred[:, None, :] == destinations[None, :, None])


@dataclass(frozen=True)
class _FlowRule:
    """What counting flows against the reference needs, built once per comparison: the reference's lost
    images and top-1s under the metric, each class's scored images, and the flow settings."""

    reference: _Lost
    metric: Metric
    by_class: np.ndarray  # scored images class by class (unscored last)
    bounds: np.ndarray  # class c's scored images are by_class[bounds[c]:bounds[c + 1]]
    n_flows: int
    flow_alpha: float
    min_share: float
    n_bootstrap: int
    confidence: float
    seed: int
    paired: bool

    @classmethod
    def of(cls, reference: Sequence[Evaluation], metric: Metric, *, n_flows: int, flow_alpha: float,
           min_share: float, n_bootstrap: int, confidence: float, seed: int, paired: bool) -> _FlowRule:
        first = reference[0].compact
        true = first.true_index.astype(np.int64)
        k = len(reference[0].label_space)
        scored = first.scored if metric is Metric.MULTILABEL else np.ones(len(true), dtype=bool)
        by_class = np.argsort(np.where(scored, true, k), kind="stable")
        bounds = np.r_[0, np.cumsum(np.bincount(true[scored], minlength=k))]
        return cls(_Lost.of(reference, metric), metric, by_class, bounds, n_flows, flow_alpha, min_share,
                   n_bootstrap, confidence, seed, paired)

    def images_of(self, c: int) -> np.ndarray:
        return self.by_class[self.bounds[c]:self.bounds[c + 1]]


def _group_flows(rule: _FlowRule, evs: Sequence[Evaluation], group: str, affected: np.ndarray, *,
                 n_jobs: int) -> tuple[dict[str, list[Any]], dict[tuple[str, int], int]]:
    """Where each of one group's ``affected`` classes' lost images went, under the rule's metric, with the
    partners judged statistically: the flows rows (column pieces, class by class) and, per (group, affected
    class), the number of destinations whose share rose (``n_flow_destinations``)."""
    columns: dict[str, list[Any]] = {c: [] for c in _FLOW_COLUMNS}
    destinations: dict[tuple[str, int], int] = {}
    if not len(affected):
        return columns, destinations
    ref, metric = rule.reference, rule.metric
    treat = _Lost.of(evs, metric)
    # per class: (c, its images, destinations, indicators of the reference and the group)
    candidates: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for c in affected:
        images = rule.images_of(int(c))
        went = np.unique(np.concatenate([ref.pred[:, images][ref.lost[:, images]],
                                         treat.pred[:, images][treat.lost[:, images]]]))
        went = went[went != c]  # a lost image predicted as its own class (not valid for it) is no flow
        candidates.append((int(c), images, went, ref.into(images, went), treat.into(images, went)))
    n_pseudo = sum(len(went) for _, _, went, _, _ in candidates)
    result = None
    if n_pseudo:
        # one bootstrap "class" per (c, d): the indicator "lost to d" over c's scored images
        pieces = ([x[3] for x in candidates if len(x[2])], [x[4] for x in candidates if len(x[2])])
        stacked = [np.concatenate([into.reshape(into.shape[0], -1) for into in side], axis=1) for side in pieces]
        pseudo = np.concatenate([np.repeat(np.arange(len(went)), len(images))
                                 for _, images, went, _, _ in candidates])
        offsets = np.repeat(np.cumsum([0] + [len(x[2]) for x in candidates])[:-1],
                            [len(x[2]) * len(x[1]) for x in candidates])
        result = bootstrap_deltas(stacked[0][None].astype(np.float64), stacked[1][None].astype(np.float64),
                                  pseudo + offsets, n_pseudo, n_bootstrap=rule.n_bootstrap,
                                  confidence=rule.confidence, seed=rule.seed, n_jobs=n_jobs, paired=rule.paired)[0]
    start = 0
    for c, images, went, into_ref, into_treat in candidates:
        n_c = len(images)
        stop = start + len(went)
        count_ref, count_treat = into_ref.sum(axis=2).mean(axis=0), into_treat.sum(axis=2).mean(axis=0)
        rise = (count_treat - count_ref) / n_c
        destinations[(group, c)] = int((rise > 0).sum())
        if not len(went) or result is None:  # result is None only when no class has a destination
            continue
        p_value, low, high = result.p_value[start:stop], result.ci_low[start:stop], result.ci_high[start:stop]
        start = stop
        adjusted = holm(p_value)
        keep = np.flatnonzero((rise > 0) & (rise >= rule.min_share) & (adjusted <= rule.flow_alpha))
        keep = keep[np.lexsort((went[keep], -rise[keep]))][:rule.n_flows]  # largest rise first; ties: lower index
        partners = went[keep]
        right_ref = (~ref.lost[:, images]).sum(axis=1).mean()
        right_treat = (~treat.lost[:, images]).sum(axis=1).mean()
        reverse = np.array([[_share_lost(x, rule.images_of(int(d)), c) for x in (ref, treat)] for d in partners])
        reverse = reverse.reshape(len(partners), 2)
        rows = {
            "class_index": np.full(len(keep), c), "group": [group] * len(keep), "partner_index": partners,
            "metric": [metric.value] * len(keep), "rank": np.arange(1, len(keep) + 1),
            "count_reference": count_ref[keep], "count_treatment": count_treat[keep],
            "share_reference": count_ref[keep] / n_c, "share_treatment": count_treat[keep] / n_c,
            "share_delta": rise[keep], "share_ci_low": low[keep], "share_ci_high": high[keep],
            "share_p_value": p_value[keep], "share_p_adjusted": adjusted[keep],
            "reverse_share_reference": reverse[:, 0], "reverse_share_treatment": reverse[:, 1],
            "reverse_share_delta": reverse[:, 1] - reverse[:, 0],
            "pair_acc_reference": (right_ref + count_ref[keep]) / n_c,
            "pair_acc_treatment": (right_treat + count_treat[keep]) / n_c,
        }
        for name, values in rows.items():
            columns[name].append(values)
    return columns, destinations


def _flow_table(columns: dict[str, list[Any]]) -> pd.DataFrame:
    """The flows table from per-class pieces of each column, typed even when empty."""
    return pd.DataFrame({name: pd.Series(np.concatenate(parts) if parts else [], dtype=_FLOW_COLUMNS[name])
                         for name, parts in columns.items()})


def _share_lost(runs: _Lost, images: np.ndarray, c: int) -> float:
    """Mean over runs of the share of ``images`` lost to class ``c`` (NaN without images)."""
    if not len(images):
        return float("nan")
    return float((runs.lost[:, images] & (runs.pred[:, images] == c)).mean())


def _curves(group_means: pd.DataFrame, metric: Metric) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accuracy along the strength axis and the best strength per class, when every group has one."""
    if group_means["strength"].isna().any():
        return pd.DataFrame(), pd.DataFrame()
    curves = group_means.sort_values(["class_index", "strength"], kind="stable").reset_index(drop=True)
    column = f"acc_{metric.value}"
    scored = curves.dropna(subset=[column])
    best_rows = scored.loc[scored.groupby("class_index")[column].idxmax()]
    best = best_rows[["class_index", "strength", column]].rename(
        columns={"strength": "best_strength", column: f"best_{column}"}
    ).reset_index(drop=True)
    return curves, best
