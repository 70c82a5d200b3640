"""Runs: the predictions of one trained model on the evaluation images.

A :class:`Run` holds image keys, top-k class ids (rank 0 is the top-1 prediction), optional
top-k scores and optional full logits, plus :class:`RunMeta` (name, group, strength, seed).
Readers: relabel's Parquet schema (``image``, ``topk_ids`` list<int>, ``topk_scores``
list<float>, optional ``logits`` fixed-size list; metadata under the schema key
``relabel``), any CSV/Parquet/JSON table with an image column and a predicted-class or top-k
column (timm ``inference.py`` output included), ``.npy``/``.npz`` arrays and torch tensor
files (loaded with ``weights_only=True``) with an image-order file. All validation happens
here; class ids are resolved and range-checked by :meth:`LabelSpace.indices`. This module owns
relabel's run Parquet both ways: :func:`run_to_arrow` / :func:`write_run` and the one reader of
that schema, :func:`run_from_arrow`.

Why it is longer than ~600 lines: it is the single place where a run file from a user is
checked, and every reader's checks share the same helpers (list columns, finite scores, image
keys, the label space); splitting the foreign formats (tables, arrays, torch files) into their
own module is the natural next cut, left for after the reader work of issue #12 lands here.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pickle
import re
import weakref
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from relabel import _json, _tables
from relabel._atomic import atomic_path
from relabel.errors import InputError, LabelSpaceError, format_offenders, repeated
from relabel.labelspace import LabelSpace, load_label_space
from relabel.loading.annotations import image_key, val_image_keys

__all__ = [
    "ImageKeys",
    "Run",
    "RunMeta",
    "load_run",
    "read_run_table",
    "run_from_table",
    "run_from_arrays",
    "run_to_arrow",
    "run_from_arrow",
    "write_run",
    "READER_OPTIONS",
    "check_reader_options",
    "check_meta_fields",
]

METADATA_KEY = b"relabel"
DEFAULT_TOPK = 5

#: Image-key arrays already checked (unique text), by ``id``; read-only, so they stay as checked.
_CHECKED_KEYS: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()


def _checked_keys(images: np.ndarray) -> bool:
    """Whether ``images`` is an array of image keys checked before (see :class:`ImageKeys`)."""
    return _CHECKED_KEYS.get(id(images)) is images


class ImageKeys:
    """The image keys of the runs of one image list, checked and held once.

    A sweep's runs list the same images (often in the same order): :func:`load_run` given one
    ``ImageKeys`` compares a file's image column with the last one it checked (Arrow buffers,
    no Python strings) and, when they are equal, gives the run that same read-only key array
    instead of a new one, skipping the text and uniqueness checks it passed already.
    ``pairings`` keeps :func:`relabel.pairing.pair`'s rows for such an array, for the same reason.
    """

    def __init__(self) -> None:
        self._column: pa.ChunkedArray | None = None
        self._images: np.ndarray | None = None
        self.pairings: dict[tuple[int, int], tuple[Any, np.ndarray, np.ndarray, Any]] = {}

    def known(self, column: pa.ChunkedArray) -> np.ndarray | None:
        """The checked key array of an image column equal to ``column``, else ``None``."""
        if self._column is not None and self._column.type == column.type and self._column.equals(column):
            return self._images
        return None

    def known_images(self, images: np.ndarray) -> bool:
        """Whether ``images`` is the key array held here."""
        return images is self._images

    def remember(self, column: pa.ChunkedArray, images: np.ndarray) -> np.ndarray:
        """Hold ``images`` (checked, from ``column``) as the key array of that column; returns it read-only."""
        images = images.view()
        images.flags.writeable = False
        _CHECKED_KEYS[id(images)] = images
        if self._images is not None:
            self.pairings = {}
        self._column, self._images = column, images
        return images

#: Rows of logits reduced to top-k at a time (bounds the temporary float32 copies).
_LOGIT_ROWS_PER_CHUNK = 4096

#: Column names (any case) read as the prediction, in order of preference. ``class_index`` is
#: not here: relabel reserves it for the true class.
_PRED_COLUMNS = ["pred_index", "pred", "prediction", "predicted", "pred_class", "predicted_class", "pred_label",
                 "predicted_label", "preds", "predictions", "y_pred", "class_id", "top5", "top1"]
_SCORE_COLUMNS = ["score", "confidence", "pred_score"]
#: Column names (any case) that name the true class: never read as the prediction. timm's
#: ``inference.py`` writes its predicted classes under ``label`` (``label_0``, …) beside its
#: ``prob``/``logit`` output, so ``label`` is read as the prediction only in that company.
_TRUTH_COLUMNS = ("label", "labels", "target", "targets", "true_label", "true_class", "truth", "gt", "ground_truth",
                  "y_true", "class_index", "original", "original_label", "class", "true")
_TIMM_OUTPUT_COLUMNS = ("prob", "logit")
#: Prediction columns whose integers are class indices by their name, never integer-like class names.
_INDEX_COLUMN = re.compile(r"(topk_ids|pred_index|class_id|index)(_[0-9]+)?", re.IGNORECASE)
#: Columns of the summary timm's ``validate.py`` writes (one row per model, accuracies in percent).
_TIMM_SUMMARY_COLUMNS = {"model", "top1", "top1_err", "top5", "top5_err"}
_TIMM_HINT = ("timm's ImageNet descriptions name two classes 'crane' (134 the bird, 517 the machine): rerun timm's "
              "inference.py with --include-index or --label-type name")

#: The options of :func:`load_run` that say how to read a file, and what each accepts.
READER_OPTIONS: dict[str, str] = {
    "image_column": "a column name",
    "pred_column": "a column name",
    "score_column": "a column name",
    "order": "a file path",
    "canonical_order": "true or false",
    "keep_logits": "true or false",
    "topk": "a positive integer",
}


def check_reader_options(options: Mapping[str, Any], *, where: str) -> dict[str, Any]:
    """Check reader options by name and type (``None`` leaves an option at its default).

    >>> check_reader_options({"topk": 0}, where="runs.yaml, runs[0]")
    Traceback (most recent call last):
    ...
    relabel.errors.InputError: runs.yaml, runs[0]: reader option 'topk' must be a positive integer; found 0
    """
    unknown = sorted(set(options) - set(READER_OPTIONS))
    if unknown:
        raise InputError(f"{where}: unknown reader options {unknown}; expected some of {sorted(READER_OPTIONS)}")
    for key, value in options.items():
        expected = READER_OPTIONS[key]
        if value is None:
            continue
        if expected == "a column name":
            ok = isinstance(value, str) and bool(value)
        elif expected == "a file path":
            ok = isinstance(value, (str, Path)) and bool(str(value))
        elif expected == "true or false":
            ok = isinstance(value, (bool, np.bool_))
        else:
            ok = bool(isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value >= 1)
        if not ok:
            raise InputError(f"{where}: reader option {key!r} must be {expected}; found {value!r}")
    return dict(options)


def check_meta_fields(data: Mapping[str, Any], *, where: str) -> dict[str, Any]:
    """The metadata fields present in ``data`` (``name``, ``group``, ``strength``, ``seed``), checked.

    ``name`` and ``group`` are text (numbers are turned into text), ``strength`` a finite
    number, ``seed`` an integer: ``1.7`` or ``True`` is refused, never truncated. ``None``
    leaves a field out.

    >>> check_meta_fields({"seed": 2.0, "strength": "0.08", "group": 8}, where="m")
    {'seed': 2, 'strength': 0.08, 'group': '8'}
    >>> check_meta_fields({"seed": 1.7}, where="runs.yaml, runs[0]")
    Traceback (most recent call last):
    ...
    relabel.errors.InputError: runs.yaml, runs[0]: 'seed' must be an integer; found 1.7
    """
    out: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        is_bool = isinstance(value, (bool, np.bool_))
        if key in ("name", "group"):
            if is_bool or not isinstance(value, (str, int, float, np.integer, np.floating)) or str(value) == "":
                raise InputError(f"{where}: {key!r} must be non-empty text; found {value!r}")
            out[key] = str(value)
        elif key == "strength":
            try:
                number = float(value) if not is_bool and isinstance(value, (str, int, float, np.number)) else None
            except ValueError:
                number = None
            if number is None or not np.isfinite(number):
                raise InputError(f"{where}: 'strength' must be a finite number; found {value!r}")
            out[key] = number
        elif key == "seed":
            seed = None
            if is_bool:
                seed = None
            elif isinstance(value, (int, np.integer)):
                seed = int(value)
            elif isinstance(value, (float, np.floating)) and float(value).is_integer():
                seed = int(value)
            elif isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
                seed = int(value)
            if seed is None:
                raise InputError(f"{where}: 'seed' must be an integer; found {value!r}")
            out[key] = seed
        else:
            raise InputError(f"{where}: unknown metadata field {key!r}; expected name, group, strength, seed")
    return out


@dataclass(frozen=True)
class RunMeta:
    """Who made a run: its ``name``, recipe ``group``, optional numeric ``strength`` and ``seed``."""

    name: str
    group: str | None = None
    strength: float | None = None
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The metadata as a JSON-serialisable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "run metadata") -> RunMeta:
        """Parse metadata, checking each field (see :func:`check_meta_fields`); ``name`` is required."""
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise InputError(f"{where}: unknown fields {unknown}; expected name, group, strength, seed")
        fields = check_meta_fields(data, where=where)
        if "name" not in fields:
            raise InputError(f"{where}: field 'name' is required")
        return cls(**fields)


@dataclass(frozen=True, eq=False)
class Run:
    """Top-k predictions of one model: ``topk_ids[i, 0]`` is image ``images[i]``'s top-1 class.

    The constructor checks what would otherwise give silently wrong numbers: unique image keys
    (text), integer class ids ``>= 0`` (a 1-D array is one id per image), one row of ids per
    image with no class twice in a row, and scores of the ids' shape. Ids beyond the label
    space are refused when the run is paired (the run does not know its label space).
    ``image_order`` says how the image keys were assigned when the file held none (``"canonical
    order"`` or ``"image-order file PATH"``), else ``None``. Two runs are equal only when they
    are the same object (the fields are arrays).
    """

    meta: RunMeta
    images: np.ndarray
    topk_ids: np.ndarray
    topk_scores: np.ndarray | None = None
    logits: np.ndarray | None = None
    source: str = ""
    image_order: str | None = None

    def __post_init__(self) -> None:
        where = self.source or f"run {getattr(self.meta, 'name', '?')!r}"
        if not isinstance(self.meta, RunMeta):
            raise InputError(f"{where}: meta must be a RunMeta; found {type(self.meta).__name__}")
        images = np.asarray(self.images, dtype=object) if not isinstance(self.images, np.ndarray) else self.images
        if images.ndim != 1:
            raise InputError(f"{where}: image keys must be one-dimensional; found shape {images.shape}")
        if not _checked_keys(images):
            images = _tables.as_text(images)
            twice = pd.Index(images).duplicated()
            if twice.any():
                raise InputError(f"{where}: image keys must be unique; "
                                 f"{format_offenders(pd.unique(images[twice]))} appear more than once")
        ids = np.asarray(self.topk_ids)
        if ids.dtype.kind not in "iu" or ids.ndim not in (1, 2):
            raise InputError(f"{where}: class ids must be an integer array of one row per image; found "
                             f"{ids.dtype} values of shape {ids.shape}")
        ids = ids[:, None] if ids.ndim == 1 else ids
        if len(ids) != len(images) or ids.shape[1] == 0:
            raise InputError(f"{where}: {len(images)} image keys but class ids of shape {ids.shape}; expected "
                             f"({len(images)}, k) with k >= 1")
        negative = (ids < 0).any(axis=1) if ids.dtype.kind == "i" and ids.size and ids.min() < 0 else None
        if negative is not None:
            raise LabelSpaceError(f"{where}: class ids must be >= 0; found {format_offenders(pd.unique(ids[ids < 0]))} "
                                  f"at images {format_offenders(images[negative], total=int(negative.sum()))}")
        if ids.shape[1] > 1:
            again = _repeated_in_row(ids)
            if again.any():
                raise InputError(
                    f"{where}: a row of top-k class ids names one class more than once (each rank must be a "
                    f"different class); at images {format_offenders(images[again], total=int(again.sum()))}"
                )
        scores = self.topk_scores
        if scores is not None:
            scores = np.asarray(scores)
            scores = scores[:, None] if scores.ndim == 1 else scores
            if scores.shape != ids.shape or scores.dtype.kind != "f":
                raise InputError(f"{where}: scores must be floats of the class ids' shape {ids.shape}; found "
                                 f"{scores.dtype} of shape {scores.shape}")
        logits = self.logits
        if logits is not None:
            logits = np.asarray(logits)
            if logits.ndim != 2 or len(logits) != len(images) or logits.dtype.kind != "f":
                raise InputError(f"{where}: logits must be floats of shape ({len(images)}, classes); found "
                                 f"{logits.dtype} of shape {logits.shape}")
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "topk_ids", ids.astype(np.int64, copy=False))
        object.__setattr__(self, "topk_scores", scores)
        object.__setattr__(self, "logits", logits)

    @property
    def n_images(self) -> int:
        """Number of predicted images."""
        return len(self.images)

    @property
    def top1(self) -> np.ndarray:
        """Top-1 predicted class index per image."""
        return self.topk_ids[:, 0]


#: Rows up to this wide are checked for a repeated id by comparing columns pairwise (no sort).
_PAIRWISE_MAX_WIDTH = 8


def _repeated_in_row(ids: np.ndarray) -> np.ndarray:
    """Per row of a 2-D id array: some id appears twice in it."""
    width = ids.shape[1]
    if width > _PAIRWISE_MAX_WIDTH:
        ordered = np.sort(ids, axis=1)
        return (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
    columns = np.ascontiguousarray(ids.T)
    again = np.zeros(len(ids), dtype=bool)
    for a in range(width - 1):
        for b in range(a + 1, width):
            again |= columns[a] == columns[b]
    return again


def _validated(
    meta: RunMeta,
    images: Any,
    ids: np.ndarray,
    scores: np.ndarray | None,
    logits: np.ndarray | None,
    label_space: LabelSpace,
    source: str,
    *,
    image_field: str = "column 'image'",
    ids_field: str = "column 'topk_ids'",
    scores_field: str = "column 'topk_scores'",
    image_order: str | None = None,
    ambiguous_hint: str = "",
    as_indices: bool = False,
) -> Run:
    """Check keys, class ids and scores; the ``*_field`` arguments say where each came from.

    ``as_indices``: integer ids are class indices by the format's definition (relabel's
    ``topk_ids``, arrays, columns named like indices), even in a label space whose names are
    integers.

    ``ids`` holds raw class labels (1-D or 2-D; ints, floats or names), resolved and
    range-checked by :meth:`LabelSpace.indices`. ``scores`` has the shape of the ids (one
    score per predicted id) or one column per class, from which each row's scores at its
    ids are taken.
    """
    where = source or f"run {meta.name!r}"
    checked = _checked_keys(images)
    images = images if checked else _tables.as_text(images)
    if len(images) == 0:
        raise InputError(f"{where}: the run holds no predictions")
    if len(ids) != len(images):
        raise InputError(f"{where}: {len(images)} image keys but {len(ids)} rows of predictions")
    twice = [] if checked else repeated(images)
    if twice:
        raise InputError(
            f"{where}, {image_field}: image keys must be unique; {format_offenders(twice)} appear more than once"
        )
    ids = label_space.indices(ids, where=f"{where}, {ids_field}", owners=images, ambiguous_hint=ambiguous_hint,
                              as_indices=as_indices)
    if ids.ndim == 1:
        ids = ids[:, None]
    if scores is not None:
        scores = _scores_at_ids(np.asarray(scores), ids, len(label_space), images, f"{where}, {scores_field}")
    return Run(meta, images, ids, scores, logits, source, image_order)


def _scores_at_ids(scores: np.ndarray, ids: np.ndarray, k: int, images: np.ndarray, where: str) -> np.ndarray:
    """One float32 score per predicted id: as given, or picked at the ids from one score per class."""
    if scores.ndim == 1:
        scores = scores[:, None]
    if scores.ndim != 2 or len(scores) != len(ids) or scores.shape[1] not in (ids.shape[1], k):
        raise InputError(
            f"{where}: scores have shape {scores.shape} but class ids {ids.shape}; expected one score per class "
            f"id {ids.shape} or one per class ({len(ids)}, {k})"
        )
    _check_finite(scores, images, where, "scores")
    if scores.shape[1] != ids.shape[1]:  # one score per class: each row's scores at its ids
        scores = np.take_along_axis(scores, ids, axis=1)
    return scores.astype(np.float32, copy=False)


def _check_finite(values: np.ndarray, images: np.ndarray, where: str, field: str) -> None:
    finite = np.isfinite(values)
    if not finite.all():
        rows = np.flatnonzero(~finite.reshape(len(values), -1).all(axis=1))
        raise InputError(
            f"{where}: {field} must be finite (no NaN or inf); found at images "
            f"{format_offenders(images[rows], total=len(rows))}"
        )


def run_from_arrays(
    images: Sequence[Any] | np.ndarray,
    values: Any,
    *,
    meta: RunMeta,
    label_space: LabelSpace,
    scores: Any = None,
    keep_logits: bool = False,
    topk: int = DEFAULT_TOPK,
    source: str = "",
    field: str = "",
    images_field: str = "image keys",
    image_order: str | None = None,
) -> Run:
    """A run from an array: (N, K) float logits, (N, k) int top-k ids or (N,) int top-1 ids.

    Logits are reduced to the top-``topk`` ids (at most K) with softmax probabilities as
    scores, and kept only when ``keep_logits`` is set. ``field`` and ``images_field`` say
    where the values and the image keys came from (e.g. ``"array 'logits'"``,
    ``"image-order file order.txt"``) for error messages.
    """
    where = source or f"run {meta.name!r}"
    check_reader_options({"keep_logits": keep_logits, "topk": topk}, where=where)
    if field:
        where = f"{where}, {field}"
    fields: dict[str, Any] = {"image_field": images_field, "ids_field": field or "class ids", "scores_field": "scores",
              "image_order": image_order}
    arr = np.asarray(values)
    images = _tables.as_text(images)
    if arr.dtype.kind == "f":
        if arr.ndim != 2:
            raise InputError(f"{where}: float arrays must be (images, classes) logits; found shape {arr.shape}")
        if arr.shape[1] != len(label_space):
            raise LabelSpaceError(
                f"{where}: logits have {arr.shape[1]} classes but label space {label_space.name!r} has {len(label_space)}"
            )
        if len(arr) != len(images):
            raise InputError(f"{where}: {len(images)} image keys but {len(arr)} rows of logits")
        _check_finite(arr, images, where, "logits")
        ids, probs = _topk_from_logits(arr, topk)
        logits = arr.astype(np.float32, copy=False) if keep_logits else None
        return _validated(meta, images, ids, probs, logits, label_space, source, as_indices=True, **fields)
    if arr.dtype.kind in "iu":
        if arr.ndim not in (1, 2):
            raise InputError(f"{where}: integer arrays must be (images,) or (images, k) class ids; found {arr.shape}")
        return _validated(meta, images, arr, None if scores is None else np.asarray(scores), None,
                          label_space, source, as_indices=True, **fields)
    raise InputError(f"{where}: expected float logits or integer class ids, found dtype {arr.dtype}")


def _topk_from_logits(logits: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k ids (highest first) and their softmax probabilities, without a full sort.

    Works through row chunks in float32, so the temporary copies stay a few MB however many
    images there are (the log-sum-exp subtracts each row's maximum first).
    """
    n, width = logits.shape
    k = min(k, width)
    ids = np.empty((n, k), dtype=np.int64)
    probs = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, _LOGIT_ROWS_PER_CHUNK):
        block = np.asarray(logits[start:start + _LOGIT_ROWS_PER_CHUNK], dtype=np.float32)
        part = np.argpartition(-block, k - 1, axis=1)[:, :k]
        part_values = np.take_along_axis(block, part, axis=1)
        order = np.argsort(-part_values, axis=1, kind="stable")
        top = np.take_along_axis(part_values, order, axis=1)
        row_max = block.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(block - row_max).sum(axis=1, keepdims=True)) + row_max
        ids[start:start + len(block)] = np.take_along_axis(part, order, axis=1)
        probs[start:start + len(block)] = np.exp(top - log_norm)
    return ids, probs


def _numbered(columns: Sequence[Any], prefix: str, where: str) -> list[Any]:
    """Columns ``prefix_0``, ``prefix_1``, … in rank order (timm's ``--results-separate-col``).

    Numbered columns that do not run from 0 without gaps (``index_1, index_2``) are an error,
    never skipped: the reader would otherwise fall through to another column (such as a
    ground-truth ``label``).
    """
    found = []
    for column in columns:
        match = re.fullmatch(re.escape(prefix) + r"_([0-9]+)", str(column), flags=re.IGNORECASE)
        if match:
            found.append((int(match.group(1)), column))
    found.sort(key=lambda pair: pair[0])
    if [rank for rank, _ in found] != list(range(len(found))):
        raise InputError(
            f"{where}: columns {[c for _, c in found]} look like ranked columns {prefix}_0, {prefix}_1, … but do not "
            f"run from {prefix}_0 without gaps or repeats; rename them, or name the columns to read with "
            f"pred_column / score_column"
        )
    return [column for _, column in found]


def _pick(table: pd.DataFrame, candidates: list[str], where: str) -> tuple[str, list[Any]] | None:
    """The first candidate present as numbered columns or as one column: (field description, columns)."""
    for candidate in candidates:
        numbered = _numbered(table.columns, candidate, where)
        if numbered:
            return f"columns {numbered[0]!r}…{numbered[-1]!r}", numbered
        column = _tables.pick_column(table.columns, [candidate], where=where, field=candidate, required=False)
        if column is not None:
            return f"column {column!r}", [column]
    return None


def _cell_values(table: pd.DataFrame, columns: list[Any], images: np.ndarray, where: str, what: str) -> np.ndarray:
    """One row of values per image: from numbered columns, a scalar column, or a column of lists."""
    if len(columns) > 1:
        return table[columns].to_numpy(dtype=object)
    column = table[columns[0]]
    if pd.api.types.is_numeric_dtype(column):  # numbers (or bools): one per row, missing ones left to the checks
        return column.to_numpy(dtype=object)[:, None]
    rows = _tables.parse_list_cells(column.tolist(), images, where=where, what=what)
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    _check_lengths(lengths, images, where)
    flat = np.fromiter((v for r in rows for v in r), dtype=object, count=int(lengths.sum()))
    return flat.reshape(len(rows), -1)


def _check_lengths(lengths: np.ndarray, images: np.ndarray, where: str) -> None:
    """Every row must hold the same number (≥ 1) of values; else an error naming the odd images."""
    if len(lengths) == 0:
        return
    empty = np.flatnonzero(lengths == 0)
    if len(empty):
        raise InputError(f"{where}: empty cells at images {format_offenders(images[empty], total=len(empty))}")
    values, counts = np.unique(lengths, return_counts=True)
    common = int(values[np.argmax(counts)])
    bad = np.flatnonzero(lengths != common)
    if len(bad):
        raise InputError(
            f"{where}: every row must hold the same number (≥ 1) of values; most rows hold {common}, "
            f"found lengths {values.tolist()[:5]} at images {format_offenders(images[bad], total=len(bad))}"
        )


def run_from_table(
    table: pd.DataFrame,
    *,
    meta: RunMeta,
    label_space: LabelSpace,
    image_column: str | None = None,
    pred_column: str | None = None,
    score_column: str | None = None,
    source: str = "",
) -> Run:
    """A run from a table with an image column and predicted classes.

    The image column is ``image_column`` or the first of
    :data:`relabel._tables.IMAGE_COLUMNS`. Predictions are found, in this order:
    ``pred_column`` if given (a class per row or a list per row); ``topk_ids``; a column
    named ``pred_index``, ``pred``, ``prediction``, ``predicted``, ``pred_class`` or
    ``top1`` (and the others of ``_PRED_COLUMNS``); timm's ``index_0, index_1, …`` or
    ``index``; timm's ``label_0, …`` or ``label`` (class names, keys, descriptions, or
    ``--label-type detailed`` text) only beside timm's ``prob``/``logit`` output. A column
    that names the true class (``label`` without timm's output, ``target``, ``class_index``,
    …) is never the prediction. Numbered columns must run ``_0, _1, …`` without gaps. Scores likewise from
    ``score_column``, ``topk_scores``, ``prob_*``/``prob``, ``logit_*``/``logit``,
    ``score``, ``confidence`` or ``pred_score``: one score per predicted id, or one per
    class (then each row's scores at its predicted ids are kept).
    """
    where = source or f"run {meta.name!r}"
    found_columns = list(map(str, table.columns))
    twice = repeated(c.lower() for c in found_columns)
    if twice:
        raise InputError(f"{where}: column names must be unique (any case); {format_offenders(twice)} appear "
                         f"more than once")
    lower = {c.lower() for c in found_columns}
    image_col = _tables.pick_column(table.columns, _tables.IMAGE_COLUMNS, given=image_column, where=where,
                                    field="image", required=False)
    if image_col is None and {"top1", "top5"} <= lower and lower & {"model", "top1_err", "param_count"}:
        raise InputError(
            f"{where}: this is a summary of accuracies such as timm's validate.py writes (columns {found_columns}: "
            f"one row per model), not predictions per image; run timm's inference.py (with --include-index) to get "
            f"a class per image"
        )
    image_col = _tables.pick_column(table.columns, _tables.IMAGE_COLUMNS, given=image_column, where=where,
                                    field="image")
    if len(table) == 0:
        raise InputError(f"{where}: the run holds no predictions (the table has no rows)")
    images = _tables.image_keys(table, image_col, where=where)

    timm_output = _pick(table, list(_TIMM_OUTPUT_COLUMNS), where) is not None
    candidates = [pred_column] if pred_column else ["topk_ids", *_PRED_COLUMNS, "index",
                                                    *(["label"] if timm_output else [])]
    found = _pick(table, candidates, where)
    if found is None:
        if pred_column is not None:
            raise InputError(f"{where}: no prediction column {pred_column!r}; found {found_columns}")
        truth = [c for c in found_columns if c.lower() in _TRUTH_COLUMNS or re.fullmatch(r"label_[0-9]+", c, re.I)]
        if truth:
            raise InputError(
                f"{where}: no prediction column; {truth} name the true class (ground truth), which is never read "
                f"as the prediction. Expected topk_ids, one of {_PRED_COLUMNS} or timm's index/label columns beside "
                f"its prob or logit output; name the prediction column with pred_column (CLI: --pred-column); "
                f"found {found_columns}"
            )
        if timm_output:
            raise InputError(
                f"{where}: holds scores (columns {found_columns}) but no class ids: timm's inference.py writes only "
                f"its prob/logit output when it cannot name the model's classes (a model not trained on ImageNet); "
                f"rerun it with --include-index"
            )
        raise InputError(
            f"{where}: no prediction column; expected topk_ids, one of {_PRED_COLUMNS} or timm's index/label "
            f"columns (or name it with pred_column), found {found_columns}"
        )
    ids_field, columns = found
    ids = _cell_values(table, columns, images, f"{where}, {ids_field}", "class ids")
    timm_labels = not pred_column and str(columns[0]).lower().startswith("label")
    if timm_labels and label_space.lemmas is not None:
        ids = _timm_descriptions(ids, label_space)

    score_found = _pick(table, [score_column] if score_column else ["topk_scores", "prob", "logit", *_SCORE_COLUMNS],
                        where)
    if score_found is None and score_column is not None:
        raise InputError(f"{where}: no score column {score_column!r}; found {found_columns}")
    scores = None
    scores_field = "scores"
    if score_found is not None:
        scores_field, score_columns = score_found
        scores = _floats(_cell_values(table, score_columns, images, f"{where}, {scores_field}", "scores"),
                         images, f"{where}, {scores_field}")
    return _validated(meta, images, ids, scores, None, label_space, source,
                      image_field=f"column {image_col!r}", ids_field=ids_field, scores_field=scores_field,
                      ambiguous_hint=f"; {_TIMM_HINT}" if timm_labels else "",
                      as_indices=not pred_column and _INDEX_COLUMN.fullmatch(str(columns[0])) is not None)


def _timm_descriptions(ids: np.ndarray, label_space: LabelSpace) -> np.ndarray:
    """timm's ``--label-type detailed`` labels ("tench, Tinca tinca: freshwater dace-like …") cut to the description.

    Only when every label is a known description followed by ``": "`` and more text; others
    are left to the label space's own checks.
    """
    if ids.dtype != object or not all(isinstance(v, str) and ": " in v for v in ids.reshape(-1)):
        return ids
    heads = np.asarray([v.split(": ", 1)[0] for v in ids.reshape(-1)], dtype=object)
    lookup, _ = label_space._name_lookup()
    if not all(h in lookup for h in heads):
        return ids
    return heads.reshape(ids.shape)


def _floats(raw: np.ndarray, images: np.ndarray, where: str) -> np.ndarray:
    """Scores as float64; missing cells become NaN (refused later as not finite), text is refused here."""
    try:
        return raw.astype(np.float64)
    except (TypeError, ValueError):
        number = np.vectorize(_is_number, otypes=[bool])(raw)
        rows = np.flatnonzero(~number.all(axis=1))
        raise InputError(
            f"{where}: scores must be numbers; found {format_offenders({repr(v): v for v in raw[~number]}.values())} "
            f"at images "
            f"{format_offenders(images[rows], total=len(rows))}"
        ) from None


def _is_number(value: Any) -> bool:
    """Whether a score cell converts to a number (text such as ``"high"`` or a list does not)."""
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def run_to_arrow(run: Run) -> pa.Table:
    """The run in relabel's Parquet schema, metadata included."""
    columns: dict[str, Any] = {
        "image": pa.array(run.images.astype(str), pa.string()),
        "topk_ids": pa.FixedSizeListArray.from_arrays(pa.array(run.topk_ids.reshape(-1), pa.int32()), run.topk_ids.shape[1]),
    }
    if run.topk_scores is not None:
        columns["topk_scores"] = pa.FixedSizeListArray.from_arrays(
            pa.array(run.topk_scores.reshape(-1).astype(np.float32), pa.float32()), run.topk_scores.shape[1]
        )
    if run.logits is not None:
        columns["logits"] = pa.FixedSizeListArray.from_arrays(
            pa.array(run.logits.reshape(-1).astype(np.float32), pa.float32()), run.logits.shape[1]
        )
    table = pa.table(columns)
    return table.replace_schema_metadata({METADATA_KEY: json.dumps(run.meta.to_dict()).encode()})


ORIGIN_KEY = b"relabel.origin"
"""Schema metadata key of what made a run (``relabel predict`` records its model there); not read back into the run."""


def write_run(run: Run, path: str | Path, *, origin: Mapping[str, Any] | None = None) -> Path:
    """Write a run in relabel's Parquet schema (:func:`run_to_arrow`), atomically; :func:`load_run` reads it back.

    ``origin`` (JSON-serialisable: ``relabel predict`` gives its model's description and hash)
    is stored under the schema metadata key :data:`ORIGIN_KEY`, for a results folder's
    provenance to name.
    """
    import pyarrow.parquet as pq

    table = run_to_arrow(run)
    if origin is not None:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               ORIGIN_KEY: json.dumps(dict(origin)).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return Path(path)


def run_from_arrow(
    table: pa.Table,
    *,
    meta: RunMeta,
    label_space: LabelSpace | None = None,
    trusted: bool = False,
    keep_logits: bool = True,
    source: str = "",
) -> Run:
    """A run from a table in relabel's own schema (``image``, ``topk_ids``, ``topk_scores``, ``logits``).

    The one reader of the schema :func:`run_to_arrow` writes. A table from a user's file
    (``trusted=False``, what :func:`load_run` reads) is checked against ``label_space`` column
    by column: keys, list widths, nulls, class-id range, finite logits. ``trusted=True`` is for
    a table relabel wrote itself within one job (inference shards and their merge): it is read
    as it is, without a label space.
    """
    where = source or "run table"
    if not trusted:
        if label_space is None:
            raise InputError(f"{where}: reading a run table needs the label space its class ids index")
        return _run_from_relabel_arrow(table, meta, label_space, where, keep_logits)

    def matrix(name: str, dtype: Any) -> np.ndarray | None:
        if name not in table.column_names or (name == "logits" and not keep_logits):
            return None
        column = table[name].combine_chunks()
        width = column.type.list_size
        return column.flatten().to_numpy(zero_copy_only=False).astype(dtype).reshape(len(column), width)

    images = np.asarray(table["image"].to_pylist(), dtype=object)
    ids = matrix("topk_ids", np.int64)
    if ids is None:
        raise InputError(f"{where}: a run table needs a 'topk_ids' column; found {table.column_names}")
    return Run(meta, images, ids, matrix("topk_scores", np.float32), matrix("logits", np.float32), source=source)


def _list_column_to_array(column: pa.ChunkedArray, images: np.ndarray, where: str, *, ids: bool) -> np.ndarray:
    """A (fixed-size) list column as a 2-D array (raw class ids, or float32 values).

    Refuses null rows or values, ragged rows and, for ids, values that are not numbers.
    """
    column = column.combine_chunks()
    if column.null_count:
        rows = np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))
        raise InputError(f"{where}: rows must not be null; found at images {format_offenders(images[rows], total=len(rows))}")
    if pa.types.is_fixed_size_list(column.type):
        width = column.type.list_size
        lengths = np.full(len(column), width, dtype=np.int64)
    elif pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        lengths = column.value_lengths().to_numpy(zero_copy_only=False).astype(np.int64)
        width = int(lengths[0]) if len(lengths) else 0
    else:
        raise InputError(f"{where}: expected a list column, found type {column.type}")
    _check_lengths(lengths, images, where)
    flat = column.flatten()
    if pa.types.is_nested(flat.type):
        raise InputError(f"{where}: expected one list of {'class ids' if ids else 'numbers'} per image; found lists "
                         f"nested in lists (type {column.type})")
    if flat.null_count:
        rows = np.unique(np.repeat(np.arange(len(column)), lengths)[flat.is_null().to_numpy(zero_copy_only=False)])
        raise InputError(f"{where}: values must not be null; found at images {format_offenders(images[rows], total=len(rows))}")
    if ids and not (pa.types.is_integer(flat.type) or pa.types.is_floating(flat.type)):
        raise InputError(f"{where}: class ids must be integers; found type {flat.type}, values "
                         f"{format_offenders(pd.unique(np.asarray(flat.slice(0, 1000).to_pylist(), dtype=object)))}")
    if not ids and not (pa.types.is_integer(flat.type) or pa.types.is_floating(flat.type)):
        raise InputError(f"{where}: values must be numbers; found type {flat.type}")
    values = flat.to_numpy(zero_copy_only=False)
    return (values if ids else values.astype(np.float32)).reshape(len(column), width)


def _schema_meta(table: pa.Table, path: Path) -> dict[str, Any]:
    """The run metadata stored under the schema key ``relabel`` (empty when there is none)."""
    metadata = (table.schema.metadata or {}).get(METADATA_KEY)
    if not metadata:
        return {}
    where = f"{path}, schema metadata 'relabel'"
    try:
        meta = _json.parse(metadata.decode("utf-8"), where)
    except (UnicodeDecodeError, InputError):
        meta = None
    if not isinstance(meta, dict):
        raise InputError(
            f"{path}: schema metadata key 'relabel' must hold a JSON object with name, group, strength, seed "
            f"(keys unique); found {metadata[:80]!r}"
        )
    return meta


def _run_from_relabel_arrow(arrow: pa.Table, meta: RunMeta, label_space: LabelSpace, where: str,
                            keep_logits: bool, keys: ImageKeys | None = None) -> Run:
    """A run from a table in relabel's own schema (``image``, ``topk_ids``, ``topk_scores``, ``logits``).

    With ``keys``, an image column equal to the last one checked there reuses its key array.
    """
    if "image" not in arrow.column_names:
        raise InputError(f"{where}: relabel run files need an 'image' column; found {arrow.column_names}")
    if arrow["image"].null_count:
        rows = np.flatnonzero(arrow["image"].is_null().to_numpy(zero_copy_only=False))
        raise InputError(f"{where}, column 'image': empty image keys at rows {format_offenders(rows)}")
    known = keys.known(arrow["image"]) if keys is not None else None
    images = known if known is not None else _tables.as_text(arrow["image"].to_numpy(zero_copy_only=False))
    ids = _list_column_to_array(arrow["topk_ids"], images, f"{where}, column 'topk_ids'", ids=True)
    scores = None
    if "topk_scores" in arrow.column_names:
        scores = _list_column_to_array(arrow["topk_scores"], images, f"{where}, column 'topk_scores'", ids=False)
    logits = None
    if "logits" in arrow.column_names and keep_logits:
        logits = _list_column_to_array(arrow["logits"], images, f"{where}, column 'logits'", ids=False)
        if logits.shape[1] != len(label_space):
            raise LabelSpaceError(
                f"{where}, column 'logits': {logits.shape[1]} classes but label space "
                f"{label_space.name!r} has {len(label_space)}"
            )
        _check_finite(logits, images, f"{where}, column 'logits'", "logits")
    run = _validated(meta, images, ids, scores, logits, label_space, where, as_indices=True)
    if keys is not None and known is None:
        object.__setattr__(run, "images", keys.remember(arrow["image"], run.images))
    return run


def _read_json_table(path: Path, *, image_column: str | None, pred_column: str | None) -> pd.DataFrame:
    """Records (a list or JSON lines), pandas' ``split`` / ``columns`` / ``index`` orients.

    timm saves ``--results-format json`` as ``{filename: {column: value}}`` (orient ``index``);
    it is told from pandas' default orient ``columns`` (``{column: {row: value}}``) by where
    the prediction columns appear. Its keys land in ``image_column`` (default ``image``).
    Keys repeated within an object are an error, as are columns or rows of unequal length.
    """
    where = str(path)
    text = _json.read_text(path)
    if path.suffix.lower() == ".jsonl":
        data: Any = _json.parse_lines(text, where)
    else:
        data = _json.parse_value_or_lines(text, where)
    if isinstance(data, list):
        odd = [i for i, r in enumerate(data) if not isinstance(r, dict)]
        if odd:
            raise InputError(f"{where}: expected a list of records (JSON objects); records {format_offenders(odd)} "
                             f"are not objects")
        return pd.DataFrame.from_records(data)
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a list of records or an object of columns, found {type(data).__name__}")
    if {"columns", "data"} <= set(data):
        columns, rows = data["columns"], data["data"]
        if not isinstance(columns, list) or not isinstance(rows, list):
            raise InputError(f"{where}: a 'split' table needs lists under 'columns' and 'data'")
        odd = [i for i, r in enumerate(rows) if not isinstance(r, list) or len(r) != len(columns)]
        if odd:
            raise InputError(f"{where}: every row under 'data' must hold {len(columns)} values (one per column); "
                             f"rows {format_offenders(odd)} do not")
        return pd.DataFrame(rows, columns=columns)
    if data and all(isinstance(v, dict) for v in data.values()):
        inner = {str(k) for v in data.values() for k in v}
        outer_has_image = (image_column in data) if image_column else (
            _tables.pick_column(list(data), _tables.IMAGE_COLUMNS, where=where, field="image", required=False)
            is not None
        )
        if not outer_has_image and _names_predictions(inner, pred_column):
            table = pd.DataFrame.from_records(list(data.values()))
            table.insert(0, image_column or "image", list(data))
            return table
        rows_of = {column: list(values) for column, values in data.items()}
        first = next(iter(rows_of.values()))
        odd = [column for column, keys in rows_of.items() if keys != first]
        if odd:
            raise InputError(f"{where}: every column must hold the same rows in the same order; columns "
                             f"{format_offenders(odd)} differ from {next(iter(rows_of))!r}")
        return pd.DataFrame({column: list(values.values()) for column, values in data.items()})
    if all(isinstance(v, list) for v in data.values()):
        lengths = {column: len(values) for column, values in data.items()}
        if len(set(lengths.values())) > 1:
            raise InputError(f"{where}: every column must hold the same number of rows; found {lengths}")
        return pd.DataFrame(data)
    return pd.DataFrame.from_records([data])


def _names_predictions(columns: set[str], pred_column: str | None) -> bool:
    """Whether some of ``columns`` would be read as predictions."""
    wanted = [pred_column] if pred_column else ["topk_ids", *_PRED_COLUMNS, "index", "label"]
    return any(
        c.lower() == w.lower() or re.fullmatch(re.escape(w) + r"_[0-9]+", c, flags=re.IGNORECASE)
        for c in columns for w in wanted
    )


def _read_order(path: str | Path, n: int, where: str) -> np.ndarray:
    """Image keys from an order file: one key or path per line, or a JSON list of them (``.json``)."""
    order_path = Path(path)
    if not order_path.is_file():
        raise InputError(f"{where}: image-order file {order_path} does not exist")
    text = _json.read_text(order_path)
    if order_path.suffix.lower() == ".json" or text.lstrip().startswith("["):
        keys = _json.parse(text, str(order_path))
        if not isinstance(keys, list) or not all(isinstance(k, str) and k.strip() for k in keys):
            raise InputError(f"{order_path}: a JSON image-order file must be a list of image keys or paths (text)")
        keys = [k.strip() for k in keys]
    else:
        keys = [line.strip() for line in text.splitlines() if line.strip()]
    if len(keys) != n:
        raise InputError(f"{where}: the image-order file {order_path} lists {len(keys)} images but the array has {n} rows")
    return np.asarray([image_key(k) for k in keys], dtype=object)


#: What numpy and torch raise on a file they cannot read (torch.load raises KeyError on some garbage).
_ARRAY_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, RuntimeError, zipfile.BadZipFile)


def _checked_npy(f: Any, size: int, where: str) -> None:
    """Check an ``.npy`` header against the bytes that follow it, before anything is allocated.

    A header may claim any shape (10^10 rows in a 100-byte file); numpy would allocate for it.
    """
    try:
        version = np.lib.format.read_magic(f)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = reader(f)
    except Exception as e:  # numpy parses the header as a Python literal: any failure means it is not one
        raise InputError(f"{where}: not an .npy array ({type(e).__name__}: {str(e)[:200]})") from None
    if dtype.hasobject:
        raise InputError(f"{where}: holds Python objects (dtype {dtype}); relabel reads arrays without unpickling, "
                         f"so save numbers or fixed-width text")
    expected = math.prod(shape) * dtype.itemsize
    found = size - f.tell()
    if expected != found:
        raise InputError(
            f"{where}: the header declares an array of shape {shape} ({expected} bytes of data) but the file holds "
            f"{found} bytes after it; the file is truncated or its header is wrong"
        )


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            with path.open("rb") as f:
                _checked_npy(f, path.stat().st_size, str(path))
                f.seek(0)
                return {"values": np.load(f, allow_pickle=False)}
        if suffix == ".npz":
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    with archive.open(info) as member:
                        _checked_npy(member, info.file_size, f"{path}, array {info.filename.removesuffix('.npy')!r}")
            with np.load(path, allow_pickle=False) as npz:
                return {k: npz[k] for k in npz.files}
        import torch

        if path.read_bytes()[:4] == b"PK\x03\x04" and not zipfile.is_zipfile(path):
            raise InputError(f"{path}: not a complete torch file: the zip archive torch.save writes is truncated or "
                             f"damaged (its table of contents is missing)")
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except InputError:
        raise
    except pickle.UnpicklingError as e:  # weights_only=True met something other than tensors and containers
        lines = [line.strip() for line in str(e).splitlines() if line.strip()]
        detail = next((line for line in lines if "GLOBAL" in line or "global" in line), "")
        if not detail:
            reason = next((line for line in lines if "Unsupported" in line or "load key" in line), type(e).__name__)
            raise InputError(f"{path}: not a file torch.save wrote (damaged, truncated or another format; "
                             f"{reason[:200]})") from None
        raise InputError(
            f"{path}: cannot load: the file holds objects other than tensors, dicts, lists and strings ({detail}); "
            f"relabel loads torch files with weights_only=True and never runs pickled code, so save plain "
            f"tensors, e.g. torch.save({{'logits': logits, 'images': keys}}, path)"
        ) from None
    except _ARRAY_READ_ERRORS as e:
        what = "not a file torch.save wrote" if suffix in (".pt", ".pth") else "cannot load arrays"
        raise InputError(f"{path}: {what} (damaged, truncated or another format; {type(e).__name__}: "
                         f"{str(e)[:200]})") from None
    import torch

    def to_numpy(t: torch.Tensor) -> np.ndarray:
        t = t.detach().cpu()
        return (t.float() if t.dtype in (torch.float16, torch.bfloat16) else t).numpy()

    if isinstance(obj, torch.Tensor):
        return {"values": to_numpy(obj)}
    if not isinstance(obj, dict):
        raise InputError(f"{path}: expected a tensor or a dict of tensors, found {type(obj).__name__}")
    out, odd = {}, {}
    for k, v in obj.items():
        if isinstance(v, torch.Tensor):
            out[str(k)] = to_numpy(v)
        elif isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v):
            out[str(k)] = np.asarray(v, dtype=object)
        else:
            odd[str(k)] = type(v).__name__
    if odd:
        raise InputError(
            f"{path}: expected a dict of tensors and lists of image keys (strings); entries "
            f"{format_offenders(list(odd))} hold other values ({', '.join(sorted(set(odd.values())))})"
        )
    return out


_SUFFIXES = (".parquet", ".csv", ".tsv", ".json", ".jsonl", ".npy", ".npz", ".pt", ".pth")


def read_run_table(path: str | Path) -> pa.Table | None:
    """A Parquet run file's content for :func:`load_run`'s ``table``; ``None`` for any other file or any failure.

    Only reads (Arrow decodes without holding the GIL, so a thread can read the next run of a
    sweep); every check stays in :func:`load_run`, which reads the file itself when given
    ``None`` and then reports what is wrong with it.
    """
    path = Path(path)
    if path.suffix.lower() != ".parquet" or not path.is_file():
        return None
    try:
        return _tables.read_arrow(path)
    except (InputError, OSError, pa.ArrowException):
        return None


def load_run(
    path: str | Path,
    *,
    label_space: LabelSpace | str | Path | Sequence[str],
    name: str | None = None,
    group: str | None = None,
    strength: float | None = None,
    seed: int | None = None,
    image_column: str | None = None,
    pred_column: str | None = None,
    score_column: str | None = None,
    order: str | Path | None = None,
    canonical_order: bool = False,
    keep_logits: bool = False,
    topk: int = DEFAULT_TOPK,
    keys: ImageKeys | None = None,
    table: pa.Table | None = None,
) -> Run:
    """Load one run from a file; metadata given here overrides what the file says.

    Parameters
    ----------
    path
        ``.parquet`` (relabel's schema or any table), ``.csv``/``.tsv``, ``.json``/``.jsonl``,
        ``.npy``/``.npz``, ``.pt``/``.pth``.
    label_space
        A :class:`LabelSpace`, or anything :func:`~relabel.labelspace.load_label_space` reads
        (``"imagenet-1k"``, a class-list file, a list of names).
    order, canonical_order
        For arrays without image keys: a file with one key or path per line (or a JSON list
        of them), or the statement
        that rows follow the sorted ImageNet validation file names. Position is never assumed.
    keep_logits, topk
        Full logits are reduced to the top-``topk`` ids (``topk`` ≥ 1, at most the number of
        classes) and softmax scores unless kept.
    keys
        Shared by the runs of a sweep (:class:`ImageKeys`): a relabel Parquet file whose image
        column equals the previous one's gets that run's checked key array (held once).
    table
        The Parquet file's content read already (:func:`read_run_table`, e.g. in a thread while
        the previous run is checked); it is checked exactly as the file would be.
    """
    path = Path(path)
    where = str(path)
    if path.is_dir():
        raise InputError(f"run file {path} is a folder; expected a file ({', '.join(_SUFFIXES)})")
    if not path.is_file():
        raise InputError(f"run file {path} does not exist")
    label_space = load_label_space(label_space)
    check_reader_options(
        {"image_column": image_column, "pred_column": pred_column, "score_column": score_column, "order": order,
         "canonical_order": canonical_order, "keep_logits": keep_logits, "topk": topk},
        where=where,
    )
    suffix = path.suffix.lower()
    if suffix not in _SUFFIXES:
        raise InputError(f"{path}: unknown run format {suffix!r}; expected {', '.join(_SUFFIXES[:-1])} or {_SUFFIXES[-1]}")
    arrow = None if suffix != ".parquet" else table if table is not None else _tables.read_arrow(path)
    given = {"name": name, "group": group, "strength": strength, "seed": seed}
    file_meta = _schema_meta(arrow, path) if arrow is not None else {}
    meta = RunMeta.from_dict(
        {"name": path.stem, **file_meta, **{k: v for k, v in given.items() if v is not None}},
        where=f"{path}, run metadata",
    )
    if arrow is not None and "topk_ids" in arrow.column_names and pred_column is None:
        return _run_from_relabel_arrow(arrow, meta, label_space, where, keep_logits, keys)
    if arrow is not None:
        table = _tables.frame_from_arrow(arrow, where=where)
    elif suffix in {".csv", ".tsv"}:
        table = _tables.read_csv(path, image_column=image_column)
    elif suffix in {".json", ".jsonl"}:
        table = _read_json_table(path, image_column=image_column, pred_column=pred_column)
    else:
        return _run_from_array_file(_read_arrays(path), path, meta, label_space, order, canonical_order,
                                    keep_logits, topk)
    return run_from_table(
        table, meta=meta, label_space=label_space, image_column=image_column,
        pred_column=pred_column, score_column=score_column, source=where,
    )


def _run_from_array_file(
    arrays: dict[str, np.ndarray],
    path: Path,
    meta: RunMeta,
    label_space: LabelSpace,
    order: str | Path | None,
    canonical_order: bool,
    keep_logits: bool,
    topk: int,
) -> Run:
    where = str(path)
    value_key: str | None = next(
        (k for k in ("logits", "topk_ids", "ids", "preds", "predictions", "values") if k in arrays), None)
    if value_key is None:
        numeric = [k for k, v in arrays.items() if v.dtype.kind in "fiu"]
        if len(numeric) != 1:
            raise InputError(
                f"{where}: cannot tell which array holds the predictions; name it 'logits' or 'topk_ids' (found {sorted(arrays)})"
            )
        value_key = numeric[0]
    values = arrays[value_key]
    if values.ndim == 0:
        raise InputError(f"{where}, array {value_key!r}: expected one row per image, found a single value")
    n = len(values)
    image_key_name = next((k for k in ("images", "image", "keys") if k in arrays), None)
    image_order = None
    if image_key_name is not None:
        images = arrays[image_key_name]
        images_field = f"array {image_key_name!r}"
    elif order is not None:
        images = _read_order(order, n, where)
        images_field = image_order = f"image-order file {order}"
    elif canonical_order:
        if n != 50_000:
            raise InputError(
                f"{where}: the canonical ImageNet validation order has 50000 images, but the array has {n} rows; "
                f"give an image-order file instead"
            )
        images = val_image_keys(n)
        images_field = image_order = "canonical order"
    else:
        raise InputError(
            f"{where}: arrays carry no image keys; give an image-order file with --order FILE (one key or path per "
            f"line, or a JSON list; Python: order=), or state that rows follow the sorted ImageNet validation file "
            f"names with --canonical-order (Python: canonical_order=True)"
        )
    return run_from_arrays(images, values, meta=meta, label_space=label_space, scores=arrays.get("topk_scores"),
                           keep_logits=keep_logits, topk=topk, source=where,
                           field="" if value_key == "values" else f"array {value_key!r}", images_field=images_field,
                           image_order=image_order)
