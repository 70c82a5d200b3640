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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relabel.errors import InputError, format_offenders, repeated
from relabel.labelspace import LabelSpace
from relabel.loading import check_unique_names
from relabel.loading.annotations import Annotations
from relabel.loading.manifest import RunSpec
from relabel.loading.runs import ImageKeys, RunMeta, load_run, read_run_table
from relabel.pairing import PairedRun, pair
from relabel.progress import progress

__all__ = ["Evaluation", "PerImage", "class_id_dtype", "evaluate", "evaluate_runs", "evaluation_table", "multilabel_gaps",
           "overall_table", "pair_accuracy"]


def class_id_dtype(n_classes: int) -> np.dtype:
    """The smallest unsigned integer type that holds every class id ``0 .. n_classes - 1``.

    >>> [class_id_dtype(n).name for n in (256, 257, 65_536, 65_537)]
    ['uint8', 'uint16', 'uint16', 'uint32']
    """
    for dtype in (np.uint8, np.uint16, np.uint32):
        if n_classes - 1 <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.uint64)


@dataclass(frozen=True, eq=False)
class PerImage:
    """One run's per-image results, held compactly; :meth:`frame` gives the documented table.

    ``rows`` (annotation rows, int64) is one read-only array shared by the runs of one image
    list (see :class:`~relabel.loading.runs.ImageKeys`); class ids are in the smallest unsigned
    type that fits the label space (:func:`class_id_dtype`); correctness is boolean, with
    ``scored`` marking the images whose multi-label set is present and non-empty.
    """

    rows: np.ndarray
    true_index: np.ndarray
    pred_index: np.ndarray
    correct_original: np.ndarray
    correct_multilabel: np.ndarray
    scored: np.ndarray

    def correct(self, column: str) -> np.ndarray:
        """``correct_original`` or ``correct_multilabel`` as float64: 1.0 right, 0.0 wrong, NaN not scored."""
        if column == "correct_original":
            return self.correct_original.astype(np.float64)
        if column != "correct_multilabel":
            raise ValueError(f"unknown per-image column {column!r}")
        return np.where(self.scored, self.correct_multilabel.astype(np.float64), np.nan)

    def frame(self) -> pd.DataFrame:
        """``row``, ``true_index``, ``pred_index`` (int64), ``correct_original`` (bool), ``correct_multilabel``."""
        return pd.DataFrame(
            {
                "row": self.rows.astype(np.int64),
                "true_index": self.true_index.astype(np.int64),
                "pred_index": self.pred_index.astype(np.int64),
                "correct_original": self.correct_original.copy(),
                "correct_multilabel": self.correct("correct_multilabel"),
            }
        )

    @property
    def own_nbytes(self) -> int:
        """Bytes this run holds alone (everything but the shared ``rows``)."""
        return sum(a.nbytes for a in (self.true_index, self.pred_index, self.correct_original,
                                      self.correct_multilabel, self.scored))

    @property
    def shared_nbytes(self) -> int:
        """Bytes of ``rows``, shared by the runs of one image list."""
        return int(self.rows.nbytes)


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
    compact
        The per-image results (:class:`PerImage`), what a comparison reads; a sweep holds
        thousands of them, so they are kept small.
    overall
        ``n_images``, ``n_annotated``, ``n_multilabel``, ``acc_original`` (top-1),
        ``acc_multilabel`` (ReaL accuracy: top-1 in the set, over images with a non-empty set).
    """

    meta: RunMeta
    label_space: LabelSpace
    per_class: pd.DataFrame
    confusion: pd.DataFrame
    compact: PerImage
    overall: dict[str, Any]
    has_multilabels: bool
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def per_image(self) -> pd.DataFrame:
        """One row per paired image: ``row`` (annotation row), ``true_index``, ``pred_index``,
        ``correct_original`` (bool), ``correct_multilabel`` (1.0/0.0, NaN when the set is empty
        or multi-labels are absent); built from :attr:`compact` on each access."""
        return self.compact.frame()


def _multilabel_correct(paired: PairedRun) -> tuple[np.ndarray, np.ndarray]:
    """Per image: top-1 lies in its multi-label set, and the set is present and non-empty (scored)."""
    sets = paired.multilabel_sets()
    hit = np.zeros(paired.n_images, dtype=bool)
    hit[sets.owner[sets.labels == paired.pred_index[sets.owner]]] = True
    return hit, sets.scored


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
    hit_ml, scored = _multilabel_correct(paired)
    has_ml = paired.annotations.has_multilabels

    n_images = np.bincount(true, minlength=k)
    n_correct = np.bincount(true, weights=correct, minlength=k).astype(np.int64)
    n_ml = np.bincount(true[scored], minlength=k)
    n_correct_ml = np.bincount(true[scored], weights=hit_ml[scored], minlength=k).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc_original = np.where(n_images > 0, n_correct / np.maximum(n_images, 1), np.nan)
        acc_ml = np.where(n_ml > 0, n_correct_ml / np.maximum(n_ml, 1), np.nan)

    classes = space.table()
    per_class = pd.DataFrame({  # one constructor: a sweep builds thousands of these
        **{name: classes[name] for name in classes.columns},
        "n_images": n_images, "n_correct_original": n_correct, "acc_original": acc_original,
        "n_multilabel": n_ml, "n_correct_multilabel": n_correct_ml, "acc_multilabel": acc_ml,
    })

    cells, counts = np.unique(true.astype(np.int64) * k + pred, return_counts=True)
    confusion = pd.DataFrame({"true_index": cells // k, "pred_index": cells % k, "count": counts})
    ids = class_id_dtype(k)
    compact = PerImage(paired.rows, true.astype(ids), pred.astype(ids), correct, hit_ml, scored)
    n_scored = int(scored.sum())
    overall = {
        "n_images": int(paired.n_images),
        "n_annotated": int(paired.annotations.n_images),
        "n_multilabel": n_scored,
        "acc_original": float(correct.mean()),
        "acc_multilabel": float(hit_ml[scored].mean()) if n_scored else float("nan"),
    }
    return Evaluation(paired.meta, space, per_class, confusion, compact, overall, has_ml,
                      params={"source": paired.source})


def evaluate_runs(specs: Sequence[RunSpec | str | Path], annotations: Annotations, *,
                  allow_chance: bool = False) -> list[Evaluation]:
    """Load, pair and evaluate runs one at a time, keeping only their evaluations (what ``relabel evaluate`` does).

    A sweep's runs are never all in memory: each is read, reduced to its :class:`Evaluation`
    and released, and the runs of one image list share one key array and one pairing
    (:class:`~relabel.loading.runs.ImageKeys`). Each result equals ``evaluate(pair(load_run(…),
    annotations))``; run names must be unique, as for :func:`~relabel.loading.load_runs`.
    """
    checked = [spec if isinstance(spec, RunSpec) else RunSpec(Path(spec)) for spec in specs]
    files = [str(Path(spec.path).resolve()) for spec in checked]
    twice = repeated(files)
    if twice:  # one run counted as two seeds would narrow every interval
        names = [spec.name or Path(spec.path).stem for spec, f in zip(checked, files) if f in twice]
        raise InputError(f"each run must be its own file (one listed twice would count as two seeds); given more "
                         f"than once: {format_offenders(twice)}, as the runs {', '.join(map(repr, names[:6]))}")
    keys = ImageKeys()
    evaluations = []
    with ThreadPoolExecutor(1) as reader:  # reads the next Parquet file while this run is checked and evaluated
        ahead = reader.submit(read_run_table, checked[0].path) if checked else None
        for i, spec in enumerate(progress(checked, desc="evaluate", unit="run")):
            table = ahead.result() if ahead is not None else None
            ahead = reader.submit(read_run_table, checked[i + 1].path) if i + 1 < len(checked) else None
            run = load_run(spec.path, label_space=annotations.label_space, name=spec.name, group=spec.group,
                           strength=spec.strength, seed=spec.seed, keys=keys, table=table, **spec.options)
            del table
            evaluations.append(evaluate(pair(run, annotations, allow_chance=allow_chance, keys=keys)))
            del run
    check_unique_names(checked, [ev.meta.name for ev in evaluations])
    return evaluations


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


#: The run columns that lead :func:`evaluation_table`, each with the RunMeta field it holds.
_META_COLUMNS = {"run": "name", "group": "group", "strength": "strength", "seed": "seed"}


def evaluation_table(evaluations: Sequence[Evaluation]) -> pd.DataFrame:
    """Per-class rows of several runs stacked, led by the run's ``run``, ``group``, ``strength``, ``seed``.

    The table is what inserting each run's four values into a copy of its ``per_class`` and
    stacking the copies gives (:func:`_stacked_by_insert`, used as it is where the fast way
    could differ); for a sweep's runs, whose per-class tables share their columns and whose
    values are each of one type, the run columns are built once for all rows (a 1,000-run
    table in 0.2-0.4 s rather than the 1.9-2.6 s of 4,000 inserts).
    """
    frames = [ev.per_class for ev in evaluations]
    if not frames or any(not frames[0].columns.equals(frame.columns) for frame in frames) \
            or any(name in frames[0].columns for name in _META_COLUMNS):
        return _stacked_by_insert(evaluations)
    lengths = np.array([len(frame) for frame in frames])
    columns = []
    for field_name in _META_COLUMNS.values():
        column = _repeated([getattr(ev.meta, field_name) for ev in evaluations], lengths)
        if column is None:
            return _stacked_by_insert(evaluations)
        columns.append(column)
    table = pd.concat(frames, ignore_index=True)
    for position, (name, column) in enumerate(zip(_META_COLUMNS, columns)):
        table.insert(position, name, column)
    return table


def _repeated(values: list[Any], lengths: np.ndarray) -> Any:
    """Each run's value repeated over its rows, in the dtype inserting it would give; ``None`` unless the
    values are all ``str``, all ``float`` or all ``int`` within int64 (inserts of mixed types stack otherwise)."""
    kinds = {type(value) for value in values}
    if len(kinds) != 1 or not kinds <= {str, float, int}:
        return None
    if int in kinds and not all(-2**63 <= value < 2**63 for value in values):
        return None
    probe = pd.DataFrame(index=range(1))
    probe.insert(0, "value", values[0])
    dtype = probe.dtypes.iloc[0]
    if isinstance(dtype, np.dtype):
        return np.repeat(np.array(values, dtype=dtype), lengths)
    return pd.array(values, dtype=dtype).take(np.repeat(np.arange(len(values)), lengths))


def _stacked_by_insert(evaluations: Sequence[Evaluation]) -> pd.DataFrame:
    """:func:`evaluation_table` the plain way: each run's values inserted into a copy of its rows, stacked."""
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
