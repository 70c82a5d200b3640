"""Evaluation: per-class accuracy of one run under original and multi-label scoring.

Definitions (DESIGN.md), per class c:

* ``acc_original[c]`` = among images whose original label is c, the share with top-1 == c;
* ``acc_multilabel[c]`` = among images whose original label is c and whose multi-label set is
  non-empty, the share with top-1 in that set;
* ``n[c, d]`` (``confusion``) = images of original class c predicted as d;
* ``pair_accuracy(c, d)`` = share of c's images predicted as c or d.

Counts start with ``n_``; accuracies are fractions in [0, 1], NaN for a class without images.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from relabel.labelspace import LabelSpace
from relabel.loading.runs import RunMeta
from relabel.pairing import PairedRun

__all__ = ["Evaluation", "evaluate", "evaluation_table", "multilabel_gaps", "overall_table", "pair_accuracy"]


@dataclass(frozen=True)
class Evaluation:
    """Per-class and overall accuracy of one run.

    Attributes
    ----------
    per_class
        One row per class: ``class_index``, ``class_key``, ``class_name``, ``n_images``
        (images of that original class), ``n_correct_original``, ``acc_original``,
        ``n_multilabel`` (those with a non-empty multi-label set), ``n_correct_multilabel``,
        ``acc_multilabel``.
    confusion
        Sparse counts: ``true_index``, ``pred_index``, ``count`` (only non-zero cells).
    per_image
        One row per paired image: ``row`` (annotation row), ``true_index``, ``pred_index``,
        ``correct_original`` (bool), ``correct_multilabel`` (1.0/0.0, NaN when the set is
        empty or multi-labels are absent).
    overall
        ``n_images``, ``n_annotated``, ``n_multilabel``, ``acc_original`` (top-1),
        ``acc_multilabel`` (ReaL accuracy: top-1 in the set, over images with a non-empty set).
    """

    meta: RunMeta
    label_space: LabelSpace
    per_class: pd.DataFrame
    confusion: pd.DataFrame
    per_image: pd.DataFrame
    overall: dict[str, Any]
    has_multilabels: bool
    params: dict[str, Any] = field(default_factory=dict)


def _multilabel_correct(paired: PairedRun) -> np.ndarray:
    """1.0 where top-1 lies in the image's multi-label set, 0.0 where not, NaN where the set is empty."""
    annotations = paired.annotations
    n = paired.n_images
    indptr, indices = annotations.multilabel_indptr, annotations.multilabel_indices
    if indptr is None or indices is None:  # no multi-label sets
        return np.full(n, np.nan)
    starts = indptr[paired.rows]
    lengths = indptr[paired.rows + 1] - starts
    owner = np.repeat(np.arange(n), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    labels = indices[np.repeat(starts, lengths) + offsets]
    hit = np.zeros(n, dtype=bool)
    hit[owner[labels == paired.pred_index[owner]]] = True
    out = hit.astype(np.float64)
    out[lengths == 0] = np.nan
    return out


def evaluate(paired: PairedRun) -> Evaluation:
    """Per-class accuracies, sparse confusion counts and overall accuracy of a paired run.

    Examples
    --------
    >>> from relabel import Annotations, LabelSpace, Run, RunMeta, pair
    >>> import numpy as np
    >>> space = LabelSpace.from_names(["laptop", "notebook", "desk"])
    >>> ann = Annotations.from_lists(["a", "b", "c", "d"], [0, 0, 1, 2],
    ...                              [[0, 1], [0], [1], []], label_space=space)
    >>> run = Run(RunMeta("r"), np.array(["a", "b", "c", "d"], dtype=object), np.array([[1], [0], [1], [0]]))
    >>> ev = evaluate(pair(run, ann))
    >>> ev.per_class["acc_original"].tolist(), ev.per_class["acc_multilabel"].tolist()[:2]
    ([0.5, 1.0, 0.0], [1.0, 1.0])
    """
    space = paired.label_space
    k = len(space)
    true = paired.true_index
    pred = paired.pred_index
    correct = pred == true
    correct_ml = _multilabel_correct(paired)
    has_ml = paired.annotations.has_multilabels

    n_images = np.bincount(true, minlength=k)
    n_correct = np.bincount(true, weights=correct, minlength=k).astype(np.int64)
    scored = ~np.isnan(correct_ml)
    n_ml = np.bincount(true[scored], minlength=k)
    n_correct_ml = np.bincount(true[scored], weights=correct_ml[scored], minlength=k).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc_original = np.where(n_images > 0, n_correct / np.maximum(n_images, 1), np.nan)
        acc_ml = np.where(n_ml > 0, n_correct_ml / np.maximum(n_ml, 1), np.nan)

    per_class = space.table()
    per_class["n_images"] = n_images
    per_class["n_correct_original"] = n_correct
    per_class["acc_original"] = acc_original
    per_class["n_multilabel"] = n_ml
    per_class["n_correct_multilabel"] = n_correct_ml
    per_class["acc_multilabel"] = acc_ml

    cells, counts = np.unique(true.astype(np.int64) * k + pred, return_counts=True)
    confusion = pd.DataFrame({"true_index": cells // k, "pred_index": cells % k, "count": counts})
    per_image = pd.DataFrame(
        {
            "row": paired.rows,
            "true_index": true,
            "pred_index": pred,
            "correct_original": correct,
            "correct_multilabel": correct_ml,
        }
    )
    n_scored = int(scored.sum())
    overall = {
        "n_images": int(paired.n_images),
        "n_annotated": int(paired.annotations.n_images),
        "n_multilabel": n_scored,
        "acc_original": float(correct.mean()),
        "acc_multilabel": float(correct_ml[scored].mean()) if n_scored else float("nan"),
    }
    return Evaluation(paired.meta, space, per_class, confusion, per_image, overall, has_ml,
                      params={"source": paired.source})


def pair_accuracy(evaluation: Evaluation, c: Any, d: Any) -> np.ndarray | float:
    """Share of class ``c``'s images predicted as ``c`` or ``d`` (arrays of pairs allowed).

    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> ev = SimpleNamespace(
    ...     per_class=pd.DataFrame({"n_images": [4, 2]}),
    ...     confusion=pd.DataFrame({"true_index": [0, 0, 1], "pred_index": [0, 1, 1], "count": [2, 1, 2]}))
    >>> float(pair_accuracy(ev, 0, 1))
    0.75
    """
    c_arr = np.atleast_1d(np.asarray(c, dtype=np.int64))
    d_arr = np.atleast_1d(np.asarray(d, dtype=np.int64))
    k = len(evaluation.per_class)
    conf = evaluation.confusion
    lookup = pd.Series(conf["count"].to_numpy(), index=conf["true_index"].to_numpy() * k + conf["pred_index"].to_numpy())
    same = lookup.reindex(c_arr * k + c_arr).fillna(0).to_numpy()
    other = np.where(c_arr == d_arr, 0, lookup.reindex(c_arr * k + d_arr).fillna(0).to_numpy())
    n = evaluation.per_class["n_images"].to_numpy()[c_arr]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(n > 0, (same + other) / np.maximum(n, 1), np.nan)
    return out if np.ndim(c) or np.ndim(d) else float(out[0])


def evaluation_table(evaluations: Sequence[Evaluation]) -> pd.DataFrame:
    """Per-class rows of several runs stacked, led by the run's ``run``, ``group``, ``strength``, ``seed``."""
    frames = []
    for ev in evaluations:
        frame = ev.per_class.copy()
        frame.insert(0, "run", ev.meta.name)
        frame.insert(1, "group", ev.meta.group)
        frame.insert(2, "strength", ev.meta.strength)
        frame.insert(3, "seed", ev.meta.seed)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


OVERALL_COLUMNS = ("run", "group", "strength", "seed", "n_images", "n_annotated", "n_multilabel", "acc_original",
                   "acc_multilabel")
"""The columns of :func:`overall_table`, in order."""


def overall_table(evaluations: Sequence[Evaluation]) -> pd.DataFrame:
    """One row per run: ``run``, ``group``, ``strength``, ``seed`` and its ``overall`` values.

    ``n_images`` (images the run covers), ``n_annotated``, ``n_multilabel``, ``acc_original``
    (top-1) and ``acc_multilabel`` (top-1 in the multi-label set): what ``overall.parquet``
    holds and a report's run table shows.
    """
    rows = [{"run": ev.meta.name, "group": ev.meta.group, "strength": ev.meta.strength, "seed": ev.meta.seed,
             **ev.overall} for ev in evaluations]
    return pd.DataFrame(rows, columns=list(dict.fromkeys([*OVERALL_COLUMNS, *(k for row in rows for k in row)])))


def multilabel_gaps(evaluations: Sequence[Evaluation]) -> pd.DataFrame:
    """Per class, accuracies averaged over runs and ``gap`` = ``acc_multilabel`` − ``acc_original``.

    Sorted by the size of the gap, largest first; classes without a multi-label score are left out.
    A large positive gap marks a class whose "errors" are mostly other valid labels.
    """
    table = evaluation_table(evaluations)
    mean = table.groupby(["class_index", "class_key", "class_name"], as_index=False).agg(
        n_images=("n_images", "max"), acc_original=("acc_original", "mean"), acc_multilabel=("acc_multilabel", "mean")
    )
    mean["gap"] = mean["acc_multilabel"] - mean["acc_original"]
    mean = mean.dropna(subset=["gap"])
    return mean.reindex(mean["gap"].abs().sort_values(ascending=False, kind="stable").index).reset_index(drop=True)
