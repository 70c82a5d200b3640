"""Comparison: per-class change from a reference group of runs to each other group.

Groups are recipes (``rrc-0.08``, ``rrc-0.5``, …), each with one or more seeds. Per class
and group: mean accuracy over seeds, the delta to the reference (group mean minus reference
mean, a fraction; negative = worse), a bootstrap confidence interval over seeds and images
(:func:`relabel.stats.bootstrap_deltas`, both metrics on the same resamples), a p-value and a Benjamini–Hochberg q-value across
classes. A class is **affected** when ``delta <= -min_drop`` and ``q_value <= fdr`` on the
chosen metric; it is **explained by multi-labels** when it is affected under original labels
but not under multi-labels.
"""

from __future__ import annotations

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
from relabel.progress import progress
from relabel.stats import benjamini_hochberg, bootstrap_deltas

__all__ = ["Comparison", "Metric", "compare"]


class Metric(Vocabulary, noun="metric", error=ComparisonError):
    """Which labels judge correctness."""

    MULTILABEL = "multilabel"
    ORIGINAL = "original"


@dataclass(frozen=True)
class Comparison:
    """Per-class comparison of groups of runs against a reference group.

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
        reference), ``ci_low_m``, ``ci_high_m``, ``p_value_m``, ``q_value_m``, ``affected_m``;
        then ``affected`` (on the chosen metric) and ``explained_by_multilabels``.
    flows
        For each affected class c and partner d whose share of c's predictions rose:
        ``class_index``, ``group``, ``partner_index``, ``count_reference``, ``count_treatment``
        (mean over seeds of n[c, d]), ``share_reference``, ``share_treatment``, ``share_delta``
        (share of c's images predicted as d), ``reverse_share_reference``,
        ``reverse_share_treatment``, ``reverse_share_delta`` (the same for d's images predicted
        as c), ``pair_acc_reference``, ``pair_acc_treatment`` (share of c's images
        predicted as c or d), ``rank`` (1 = largest rise).
    summary
        One row per non-reference group: ``group``, ``mean_delta_original``,
        ``mean_delta_multilabel`` (change of the mean class accuracy), ``n_affected`` (on the
        chosen metric), ``n_affected_original``, ``n_explained_by_multilabels``.
    curves
        With strengths on every group: per (class, group) accuracy along the strength axis,
        and ``best_strength`` per class on the chosen metric. Empty otherwise.
    params
        Everything that produced the result: reference, metric, min_drop, fdr, n_bootstrap,
        confidence, seed, runs per group.
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
        rows = self.per_class[self.per_class["affected"]]
        return rows.sort_values(f"delta_{metric}", kind="stable")


def _group_runs(evaluations: Sequence[Evaluation]) -> dict[str, list[Evaluation]]:
    missing = [ev.meta.name for ev in evaluations if not ev.meta.group]
    if missing:
        raise ComparisonError(
            f"every run needs a group to be compared; runs without one: {format_offenders(missing)} "
            f"(give --group, a runs manifest, or group metadata in the run file)"
        )
    groups: dict[str, list[Evaluation]] = {}
    for ev in evaluations:
        groups.setdefault(str(ev.meta.group), []).append(ev)
    return groups


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
            rows, first_rows = ev.per_image["row"].to_numpy(), first.per_image["row"].to_numpy()
            if len(rows) != len(first_rows) or not np.array_equal(rows, first_rows):
                only_here = np.setdiff1d(rows, first_rows)
                only_there = np.setdiff1d(first_rows, rows)
                raise ComparisonError(
                    f"runs compared with each other must cover the same images: run {ev.meta.name!r} (group {group!r}) "
                    f"covers {len(rows)} images and run {first.meta.name!r} (group {reference!r}) {len(first_rows)}; "
                    f"{len(only_here)} are only in the first, {len(only_there)} only in the second"
                )


def _correct_matrix(evs: Sequence[Evaluation], column: str) -> np.ndarray:
    """(runs, images): 1.0 right, 0.0 wrong, NaN where the image does not count for the metric."""
    return np.stack([ev.per_image[column].to_numpy(dtype=np.float64) for ev in evs])


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
    min_flow_share: float = 0.02,
    n_jobs: int | None = None,
) -> Comparison:
    """Compare every group of runs with the ``reference`` group, class by class.

    Parameters
    ----------
    evaluations
        One :class:`Evaluation` per run; ``meta.group`` says the recipe, ``meta.seed`` the seed.
    reference
        The group the others are compared to.
    metric
        ``multilabel`` (default when multi-labels exist) or ``original``: the labels that
        decide which classes are affected. Both are always reported.
    min_drop, fdr
        A class is affected when its accuracy fell by at least ``min_drop`` (a fraction: 0.05
        = 5 points) and its q-value is at most ``fdr``.
    n_bootstrap, confidence, seed
        Bootstrap draws, interval level and seed (results are reproducible).
    n_flows, min_flow_share
        At most ``n_flows`` partners per affected class in ``flows``, each of whose share of the
        class's images rose by at least ``min_flow_share`` (0.02: one image in 50 on average
        over seeds), so that single stray predictions are not reported as flows.
    n_jobs
        Threads for the bootstrap (default: every CPU this process may use); the results are
        the same for any value.
    """
    if n_bootstrap < 2 or not 0 < confidence < 1 or (n_jobs is not None and n_jobs < 1):
        raise ComparisonError(f"compare: expected n_bootstrap >= 2, 0 < confidence < 1 and n_jobs >= 1 (or None); "
                              f"got n_bootstrap={n_bootstrap}, confidence={confidence}, n_jobs={n_jobs}")
    groups = _group_runs(evaluations)
    _check_comparable(groups, reference)
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

    true = first.per_image["true_index"].to_numpy()
    metrics = [Metric.ORIGINAL, Metric.MULTILABEL] if has_ml else [Metric.ORIGINAL]
    group_means = _group_means(groups, space)
    mean_lookup = group_means.set_index(["group", "class_index"])
    frames = []
    others = [g for g in groups if g != reference]
    for group in progress(others, desc="compare", unit="group"):
        frame = space.table()
        frame.insert(3, "group", group)
        frame["n_images"] = np.bincount(true, minlength=k)
        columns = ["correct_original" if m is Metric.ORIGINAL else "correct_multilabel" for m in metrics]
        ref = np.stack([_correct_matrix(groups[reference], c) for c in columns])
        treat = np.stack([_correct_matrix(groups[group], c) for c in columns])
        results = bootstrap_deltas(ref, treat, true, k, n_bootstrap=n_bootstrap, confidence=confidence, seed=seed,
                                   n_jobs=n_jobs)
        for m, result in zip(metrics, results):
            name = m.value
            if m is Metric.MULTILABEL:
                frame["n_multilabel"] = np.bincount(true[~np.isnan(ref[1, 0])], minlength=k)
            frame[f"acc_{name}_reference"] = mean_lookup.loc[reference][f"acc_{name}"].to_numpy()
            frame[f"acc_{name}"] = mean_lookup.loc[group][f"acc_{name}"].to_numpy()
            frame[f"delta_{name}"] = result.delta
            frame[f"ci_low_{name}"] = result.ci_low
            frame[f"ci_high_{name}"] = result.ci_high
            frame[f"p_value_{name}"] = result.p_value
            frame[f"q_value_{name}"] = benjamini_hochberg(result.p_value)
            frame[f"affected_{name}"] = (frame[f"delta_{name}"] <= -min_drop) & (frame[f"q_value_{name}"] <= fdr)
        frame["affected"] = frame[f"affected_{chosen.value}"]
        frame["explained_by_multilabels"] = (
            frame["affected_original"] & ~frame["affected_multilabel"] if has_ml else False
        )
        frames.append(frame)
    per_class = pd.concat(frames, ignore_index=True)
    flows = _flows(per_class, groups, reference, n_flows, min_flow_share)
    curves, best = _curves(group_means, chosen)
    params = {
        "reference": reference, "metric": chosen.value, "min_drop": min_drop, "fdr": fdr,
        "n_bootstrap": n_bootstrap, "confidence": confidence, "seed": seed, "min_flow_share": min_flow_share,
        "runs": {g: [ev.meta.name for ev in evs] for g, evs in groups.items()},
    }
    summary = _summary(per_class, metrics)
    return Comparison(space, group_means, per_class, flows, summary, curves, best, params, tuple(notes))


def _summary(per_class: pd.DataFrame, metrics: Sequence[Metric]) -> pd.DataFrame:
    """Per group: change of the mean class accuracy and the counts of affected and explained classes."""
    grouped = per_class.groupby("group", sort=False)
    summary = pd.DataFrame({"group": list(grouped.groups)})
    for m in (Metric.ORIGINAL, Metric.MULTILABEL):
        if m in metrics:
            means = grouped[[f"acc_{m.value}", f"acc_{m.value}_reference"]].mean()
            summary[f"mean_delta_{m.value}"] = (means.iloc[:, 0] - means.iloc[:, 1]).to_numpy()
        else:
            summary[f"mean_delta_{m.value}"] = np.nan
    summary["n_affected"] = grouped["affected"].sum().to_numpy()
    summary["n_affected_original"] = grouped["affected_original"].sum().to_numpy()
    summary["n_explained_by_multilabels"] = grouped["explained_by_multilabels"].sum().to_numpy()
    return summary


def _group_means(groups: dict[str, list[Evaluation]], space: LabelSpace) -> pd.DataFrame:
    frames = []
    for group, evs in groups.items():
        frame = space.table()[["class_index"]].copy()
        frame["group"] = group
        strengths = {ev.meta.strength for ev in evs}
        frame["strength"] = strengths.pop() if len(strengths) == 1 else np.nan
        frame["n_runs"] = len(evs)
        frame["n_images"] = evs[0].per_class["n_images"].to_numpy()
        frame["n_multilabel"] = evs[0].per_class["n_multilabel"].to_numpy()
        for column in ("acc_original", "acc_multilabel"):  # NaN (no images) in every run alike: same image set
            frame[column] = np.mean([ev.per_class[column].to_numpy(dtype=np.float64) for ev in evs], axis=0)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _confusion_slices(evs: Sequence[Evaluation], classes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean over runs of n[c, d] for c in ``classes`` (rows, all d) and of n[d, c] (all d, columns).

    Only the affected classes' rows and columns are built, so a large label space costs no k × k matrix.
    """
    position = np.full(k, -1)
    position[classes] = np.arange(len(classes))
    rows = np.zeros((len(classes), k))
    columns = np.zeros((k, len(classes)))
    for ev in evs:
        true = ev.confusion["true_index"].to_numpy()
        pred = ev.confusion["pred_index"].to_numpy()
        count = ev.confusion["count"].to_numpy(dtype=np.float64)
        row, column = position[true], position[pred]
        from_affected, into_affected = row >= 0, column >= 0
        np.add.at(rows, (row[from_affected], pred[from_affected]), count[from_affected])
        np.add.at(columns, (true[into_affected], column[into_affected]), count[into_affected])
    return rows / len(evs), columns / len(evs)


def _flows(per_class: pd.DataFrame, groups: dict[str, list[Evaluation]], reference: str, n_flows: int,
           min_share: float) -> pd.DataFrame:
    """Where each affected class's lost predictions went, and the reverse flow."""
    columns = ["class_index", "group", "partner_index", "count_reference", "count_treatment", "share_reference",
               "share_treatment", "share_delta", "reverse_share_reference", "reverse_share_treatment",
               "reverse_share_delta", "pair_acc_reference", "pair_acc_treatment", "rank"]
    affected = per_class[per_class["affected"]]
    if affected.empty:
        return pd.DataFrame(columns=columns)
    n_images = groups[reference][0].per_class["n_images"].to_numpy()  # one row per class, in class order
    k = len(n_images)
    frames = []
    for group, sub in affected.groupby("group", sort=False):
        classes = sub["class_index"].to_numpy()
        ref_rows, ref_columns = _confusion_slices(groups[reference], classes, k)
        treat_rows, treat_columns = _confusion_slices(groups[group], classes, k)
        for i, c in enumerate(classes):
            n_c = n_images[c]
            rise = (treat_rows[i] - ref_rows[i]) / n_c
            rise[c] = -np.inf  # staying in c is not a flow
            order = np.argsort(-rise, kind="stable")  # ties: lower partner index first
            partners = order[(rise[order] >= min_share) & ((treat_rows[i, order] > 0) | (ref_rows[i, order] > 0))]
            partners = partners[:n_flows]
            with np.errstate(invalid="ignore", divide="ignore"):
                reverse_ref = np.where(n_images[partners] > 0, ref_columns[partners, i] / n_images[partners], np.nan)
                reverse_treat = np.where(n_images[partners] > 0, treat_columns[partners, i] / n_images[partners],
                                         np.nan)
            frames.append(pd.DataFrame({
                "class_index": int(c), "group": group, "partner_index": partners,
                "count_reference": ref_rows[i, partners], "count_treatment": treat_rows[i, partners],
                "share_reference": ref_rows[i, partners] / n_c, "share_treatment": treat_rows[i, partners] / n_c,
                "share_delta": rise[partners], "reverse_share_reference": reverse_ref,
                "reverse_share_treatment": reverse_treat, "reverse_share_delta": reverse_treat - reverse_ref,
                "pair_acc_reference": (ref_rows[i, c] + ref_rows[i, partners]) / n_c,
                "pair_acc_treatment": (treat_rows[i, c] + treat_rows[i, partners]) / n_c,
                "rank": np.arange(1, len(partners) + 1),
            }, columns=columns))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


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
