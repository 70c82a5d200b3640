"""Annotations: per evaluation image, the original label and an optional multi-label set.

Readers for ImageNet ReaL (``real.json``: one list per validation image in sorted file-name
order), JSON (``{image: [labels]}``), CSV/Parquet tables and HF ``datasets``. Every reader
validates here, at the boundary: duplicate image keys, labels outside the label space, missing
original labels and NaN scores are errors that name the file, the field and the first
offenders. Multi-label sets are stored as CSR arrays (``multilabel_indptr``,
``multilabel_indices``) so that evaluation is vectorised.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relabel.errors import InputError, RelabelWarning, format_offenders
from relabel.labelspace import LabelSpace, imagenet_1k, load_label_space
from relabel.loading.sources import source_path

__all__ = [
    "Annotations",
    "load_annotations",
    "read_real_json",
    "read_original_labels",
    "annotations_from_table",
    "annotations_from_hf",
    "image_key",
]

#: Share of non-empty ReaL sets that contain the original label is about 0.9; far less means
#: that class indices or image orders are mixed up.
SANITY_MIN_ORIGINAL_IN_SET = 0.75

_REAL_NAME_PATTERN = "ILSVRC2012_val_{:08d}.JPEG"


def image_key(path: str) -> str:
    """The pairing key of an image: its file name without folders (``/`` or ``\\``).

    >>> image_key("val/n01440764/ILSVRC2012_val_00000293.JPEG")
    'ILSVRC2012_val_00000293.JPEG'
    """
    return re.split(r"[/\\]", str(path))[-1]


@dataclass(frozen=True)
class Annotations:
    """Original labels and optional multi-label sets of the evaluation images.

    ``images`` holds the keys as given; ``original`` the original class index of each image;
    image ``i``'s multi-label set is ``multilabel_indices[multilabel_indptr[i]:multilabel_indptr[i + 1]]``
    (possibly empty: no class fits, the image is left out of multi-label scores).
    ``multilabel_indptr`` is ``None`` when the source has no multi-labels at all.
    """

    images: np.ndarray
    original: np.ndarray
    label_space: LabelSpace
    multilabel_indptr: np.ndarray | None = None
    multilabel_indices: np.ndarray | None = None
    soft_scores: np.ndarray | None = None
    source: str = ""

    @property
    def n_images(self) -> int:
        """Number of annotated images."""
        return len(self.images)

    @property
    def has_multilabels(self) -> bool:
        """Whether multi-label sets exist (otherwise only original-label metrics are possible)."""
        return self.multilabel_indptr is not None

    def multilabel_sets(self) -> list[list[int]]:
        """Each image's multi-label set as a list of class indices (empty lists when none exist)."""
        if self.multilabel_indptr is None:
            return [[] for _ in range(self.n_images)]
        return [
            self.multilabel_indices[a:b].tolist()
            for a, b in zip(self.multilabel_indptr[:-1], self.multilabel_indptr[1:])
        ]

    def to_frame(self) -> pd.DataFrame:
        """One row per image: ``image``, ``original`` and, when present, ``multilabels``."""
        frame = pd.DataFrame({"image": self.images, "original": self.original})
        if self.has_multilabels:
            frame["multilabels"] = self.multilabel_sets()
        return frame

    @classmethod
    def from_lists(
        cls,
        images: Sequence[str],
        original: Sequence[int],
        multilabels: Sequence[Sequence[int]] | None = None,
        *,
        label_space: LabelSpace,
        soft_scores: Sequence[Sequence[float]] | None = None,
        source: str = "",
    ) -> Annotations:
        """Build validated annotations from Python lists (class indices)."""
        original_arr = _as_index_array(original, label_space, where=f"{source or 'annotations'}, original labels")
        indptr = indices = scores = None
        if multilabels is not None:
            if len(multilabels) != len(images):
                raise InputError(
                    f"{source or 'annotations'}: {len(images)} images but {len(multilabels)} multi-label sets"
                )
            lengths = np.fromiter((len(s) for s in multilabels), dtype=np.int64, count=len(multilabels))
            indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
            flat = [v for s in multilabels for v in s]
            indices = _as_index_array(flat, label_space, where=f"{source or 'annotations'}, multi-labels")
            if soft_scores is not None:
                scores = np.asarray([v for s in soft_scores for v in s], dtype=np.float64)
                if len(scores) != len(indices):
                    raise InputError(f"{source or 'annotations'}: soft scores do not match the multi-label sets")
        return _validated(
            np.asarray([str(i) for i in images], dtype=object),
            original_arr,
            label_space,
            indptr,
            indices,
            scores,
            source,
        )


def _as_index_array(values: Sequence[Any], label_space: LabelSpace, *, where: str) -> np.ndarray:
    """Class indices from ints, keys or names, range-checked against the label space."""
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind in "iu":
        out = arr.astype(np.int64)
    elif arr.dtype.kind == "f" or all(isinstance(v, (int, np.integer, float, np.floating)) for v in arr):
        numeric = arr.astype(np.float64)
        bad = ~np.isfinite(numeric) | (numeric != np.round(numeric))
        if bad.any():
            raise InputError(f"{where}: class ids must be integers; {format_offenders(numeric[bad])}")
        out = numeric.astype(np.int64)
    else:
        strings = [str(v) for v in arr]
        if all(s.lstrip("-").isdigit() for s in strings):
            out = np.asarray(strings, dtype=np.int64)
        else:
            return label_space.index_of_names(strings, where=f"{where}: ")
    bad = (out < 0) | (out >= len(label_space))
    if bad.any():
        raise InputError(
            f"{where}: class ids must lie in 0..{len(label_space) - 1} (label space {label_space.name!r}); "
            f"{format_offenders(np.unique(out[bad]).tolist())}"
        )
    return out


def _validated(
    images: np.ndarray,
    original: np.ndarray,
    label_space: LabelSpace,
    indptr: np.ndarray | None,
    indices: np.ndarray | None,
    scores: np.ndarray | None,
    source: str,
) -> Annotations:
    where = source or "annotations"
    if len(images) == 0:
        raise InputError(f"{where}: no annotated images")
    if len(original) != len(images):
        raise InputError(f"{where}: {len(images)} images but {len(original)} original labels")
    keys = pd.Series(images)
    duplicated = keys[keys.duplicated()].unique()
    if len(duplicated):
        raise InputError(f"{where}: image keys must be unique; {format_offenders(duplicated)} appear more than once")
    if scores is not None and not np.isfinite(scores).all():
        raise InputError(f"{where}: soft scores must be finite; {format_offenders(scores[~np.isfinite(scores)])}")
    annotations = Annotations(images, original, label_space, indptr, indices, scores, source)
    if indptr is not None:
        _check_original_in_sets(annotations)
    return annotations


def _check_original_in_sets(annotations: Annotations) -> None:
    """Warn when far fewer non-empty sets contain the original label than ReaL's ~90%."""
    indptr, indices = annotations.multilabel_indptr, annotations.multilabel_indices
    lengths = np.diff(indptr)
    nonempty = lengths > 0
    if not nonempty.any():
        return
    owner = np.repeat(np.arange(annotations.n_images), lengths)
    hit = np.zeros(annotations.n_images, dtype=bool)
    hit[owner[indices == annotations.original[owner]]] = True
    share = hit[nonempty].mean()
    if share < SANITY_MIN_ORIGINAL_IN_SET:
        warnings.warn(
            f"{annotations.source or 'annotations'}: only {share:.1%} of the {int(nonempty.sum())} non-empty "
            f"multi-label sets contain the image's original label (ReaL: about 90%); class indices or the image "
            f"order of the original labels are probably mixed up",
            RelabelWarning,
            stacklevel=3,
        )


def read_real_json(
    path: str | Path,
    *,
    original: pd.DataFrame | None = None,
    label_space: LabelSpace | None = None,
) -> Annotations:
    """ImageNet ReaL labels: one list per validation image, in sorted file-name order.

    ``original`` gives the original labels (``image``, ``original`` columns, joined by file
    name); without it they come from the copy bundled with ``imagenet-x``.
    """
    path = Path(path)
    label_space = label_space or imagenet_1k()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: cannot read ReaL labels: {e}") from None
    if not isinstance(data, list) or not all(isinstance(x, list) for x in data):
        raise InputError(f"{path}: ReaL labels must be a JSON list holding one list of class ids per image")
    images = np.asarray([_REAL_NAME_PATTERN.format(i + 1) for i in range(len(data))], dtype=object)
    if original is None:
        original = read_original_labels(source_path("imagenet-val-labels"), label_space=label_space)
    by_key = original.set_index("image")["original"]
    aligned = by_key.reindex(images)
    missing = images[aligned.isna().to_numpy()]
    if len(missing):
        raise InputError(
            f"{path}: the original labels do not cover every ReaL image; {format_offenders(missing, total=len(missing))}"
        )
    return Annotations.from_lists(
        images, aligned.to_numpy(dtype=np.int64), data, label_space=label_space, source=str(path)
    )


def read_original_labels(path: str | Path, *, label_space: LabelSpace | None = None) -> pd.DataFrame:
    """Original single labels as a frame with ``image`` (file name) and ``original`` (class index).

    Accepts CSV with an image column (``image``, ``file_name``, ``filename``, ``path``) and a
    label column (``label``, ``original``, ``class``), or whitespace-separated text lines
    ``FILE LABEL`` (labels as class indices, keys or unique names).
    """
    path = Path(path)
    label_space = label_space or imagenet_1k()
    if not path.is_file():
        raise InputError(f"original labels file {path} does not exist")
    if path.suffix.lower() in {".csv", ".tsv"}:
        table = _read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",")
        image_col = _pick_column(table, ["image", "file_name", "filename", "path", "file"], path, "image")
        label_col = _pick_column(table, ["original", "label", "class", "target"], path, "label")
    else:
        rows = [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        bad = [i + 1 for i, r in enumerate(rows) if len(r) != 2]
        if bad:
            raise InputError(f"{path}: expected lines 'FILE LABEL'; lines {format_offenders(bad)} do not have two fields")
        table = pd.DataFrame(rows, columns=["image", "original"])
        image_col, label_col = "image", "original"
    labels = _as_index_array(table[label_col].to_numpy(), label_space, where=f"{path}, column {label_col!r}")
    return pd.DataFrame({"image": [image_key(p) for p in table[image_col]], "original": labels})


def _read_csv(path: Path, *, sep: str = ",") -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot parse as {'TSV' if sep == chr(9) else 'CSV'}: {e}") from None


def _pick_column(table: pd.DataFrame, candidates: Sequence[str], path: Any, field: str, *, required: bool = True) -> str | None:
    lower = {str(c).lower(): c for c in table.columns}
    for name in candidates:
        if name in lower:
            return lower[name]
    if required:
        raise InputError(
            f"{path}: no {field} column; expected one of {list(candidates)}, found {list(map(str, table.columns))}"
        )
    return None


def _split_label_cell(cell: Any) -> list[Any]:
    """A multi-label cell: a list, a JSON list string, or labels separated by '|'."""
    if isinstance(cell, (list, tuple, np.ndarray)):
        return list(cell)
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return []
    text = str(cell).strip()
    if text.startswith("["):
        return list(json.loads(text))
    return [part.strip() for part in text.split("|") if part.strip()]


def annotations_from_table(
    table: pd.DataFrame,
    *,
    label_space: LabelSpace | None = None,
    original_labels: pd.DataFrame | None = None,
    image_column: str | None = None,
    original_column: str | None = None,
    labels_column: str | None = None,
    score_column: str | None = None,
    source: str = "table",
) -> Annotations:
    """Annotations from a table in one of two layouts.

    * one row per image: an image column, an ``original`` column and optionally a
      ``labels`` column holding each image's multi-label set (a list, a JSON list string or
      ``a|b``);
    * one row per (image, label): an image column and a ``label`` column, images repeating,
      with the original label in an ``original`` column or in ``original_labels``;
      an optional ``score`` column holds soft scores.

    A table with only an image column and a ``label`` column, one row per image, holds
    original labels and no multi-labels. Labels are class indices, keys or unique names;
    without a ``label_space`` one is made from the sorted distinct string labels.
    """
    image_col = image_column or _pick_column(table, ["image", "file_name", "filename", "path", "file"], source, "image")
    orig_col = original_column or _pick_column(
        table, ["original", "original_label", "true_label", "target"], source, "original label", required=False
    )
    list_col = labels_column or _pick_column(table, ["labels", "multilabels", "real"], source, "labels", required=False)
    row_col = _pick_column(table, ["label"], source, "label", required=False) if list_col is None else None
    score_col = score_column or _pick_column(table, ["score", "soft_score"], source, "score", required=False)
    for col in (image_col, orig_col, list_col):
        if col is not None and col not in table.columns:
            raise InputError(f"{source}: no column {col!r}; found {list(map(str, table.columns))}")
    if table[image_col].isna().any():
        rows = np.flatnonzero(table[image_col].isna().to_numpy())
        raise InputError(f"{source}, column {image_col!r}: empty image keys at rows {format_offenders(rows)}")
    images_all = table[image_col].astype(str).to_numpy(dtype=object)

    if list_col is None and row_col is not None and orig_col is None and original_labels is None:
        if pd.Series(images_all).duplicated().any():
            raise InputError(
                f"{source}: several rows per image in column {image_col!r} look like multi-label rows, but there is "
                f"no 'original' column; add one or give the original labels separately"
            )
        orig_col, row_col = row_col, None

    label_space = label_space or _infer_label_space(table, [orig_col, list_col, row_col], source)

    if row_col is not None:
        order = pd.unique(images_all)
        codes = pd.Index(order).get_indexer(images_all)
        labels = _as_index_array(table[row_col].to_numpy(), label_space, where=f"{source}, column {row_col!r}")
        sort = np.argsort(codes, kind="stable")
        counts = np.bincount(codes, minlength=len(order))
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        indices = labels[sort]
        scores = None
        if score_col is not None:
            scores = pd.to_numeric(table[score_col], errors="coerce").to_numpy(dtype=np.float64)[sort]
        images = np.asarray(order, dtype=object)
        if orig_col is not None:
            first = table.groupby(codes, sort=True)[orig_col]
            if (first.nunique() > 1).any():
                bad = order[(first.nunique() > 1).to_numpy()]
                raise InputError(f"{source}, column {orig_col!r}: images with more than one original label: {format_offenders(bad)}")
            original_values = first.first().to_numpy()
        else:
            original_values = None
    else:
        images = images_all
        indptr = indices = scores = None
        if list_col is not None:
            cells = [_split_label_cell(c) for c in table[list_col]]
            lengths = np.fromiter((len(c) for c in cells), dtype=np.int64, count=len(cells))
            indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
            indices = _as_index_array([v for c in cells for v in c], label_space, where=f"{source}, column {list_col!r}")
        original_values = table[orig_col].to_numpy() if orig_col is not None else None

    if original_values is None:
        if original_labels is None:
            raise InputError(
                f"{source}: no original labels; add an 'original' column or give an original-labels file"
            )
        by_key = original_labels.set_index("image")["original"]
        aligned = by_key.reindex([image_key(i) for i in images])
        missing = images[aligned.isna().to_numpy()]
        if len(missing):
            raise InputError(f"{source}: the original labels do not cover these images: {format_offenders(missing)}")
        original = aligned.to_numpy(dtype=np.int64)
    else:
        if pd.isna(original_values).any():
            rows = images[pd.isna(original_values)]
            raise InputError(f"{source}, column {orig_col!r}: missing original labels for {format_offenders(rows)}")
        original = _as_index_array(original_values, label_space, where=f"{source}, column {orig_col!r}")
    return _validated(images, original, label_space, indptr, indices, scores, source)


def _infer_label_space(table: pd.DataFrame, columns: Sequence[str | None], source: str) -> LabelSpace:
    """A label space from the labels themselves: sorted distinct names, or 0..max for ints."""
    values: list[Any] = []
    for col in columns:
        if col is None:
            continue
        for cell in table[col]:
            values.extend(_split_label_cell(cell) if col != columns[0] else [cell])
    values = [v for v in values if not (isinstance(v, float) and np.isnan(v))]
    if values and all(isinstance(v, (int, np.integer)) or (isinstance(v, str) and v.isdigit()) for v in values):
        k = max(int(v) for v in values) + 1
        return LabelSpace.from_names([str(i) for i in range(k)], name=Path(str(source)).stem)
    return LabelSpace.from_names(sorted({str(v) for v in values}), name=Path(str(source)).stem)


def annotations_from_hf(
    dataset: Any,
    *,
    split: str | None = None,
    label_space: LabelSpace | None = None,
    image_column: str | None = None,
    original_column: str | None = None,
    labels_column: str | None = None,
    source: str = "HF dataset",
) -> Annotations:
    """Annotations from an HF ``datasets`` Dataset/DatasetDict (or a path saved with ``save_to_disk``).

    The image column may hold string keys or images whose ``path`` names the file. A
    ``ClassLabel`` feature on the original column supplies the class names when no label
    space is given.
    """
    try:
        import datasets as hf
    except ImportError:  # pragma: no cover - datasets is a core dependency
        raise InputError("reading HF datasets needs the 'datasets' package: pip install datasets") from None
    if isinstance(dataset, (str, Path)):
        source = str(dataset)
        try:
            dataset = hf.load_from_disk(str(dataset))
        except FileNotFoundError as e:
            raise InputError(f"{dataset}: not a dataset saved with save_to_disk ({e})") from None
    if isinstance(dataset, hf.DatasetDict):
        if split is None:
            if len(dataset) != 1:
                raise InputError(f"{source}: several splits {list(dataset)}; choose one with split=")
            split = next(iter(dataset))
        if split not in dataset:
            raise InputError(f"{source}: no split {split!r}; found {list(dataset)}")
        dataset = dataset[split]
    features = dataset.features
    image_col = image_column or next((c for c in ("image_key", "image", "file_name", "path") if c in features), None)
    if image_col is None:
        raise InputError(f"{source}: no image column; expected one of image, file_name, path; found {list(features)}")
    orig_col = original_column or next((c for c in ("original", "label", "labels_original", "target") if c in features and c != labels_column), None)
    if label_space is None and orig_col is not None and isinstance(features[orig_col], hf.ClassLabel):
        label_space = LabelSpace.from_names(features[orig_col].names, name=Path(source).stem)
    column = dataset.cast_column(image_col, hf.Image(decode=False))[image_col] if isinstance(features[image_col], hf.Image) else dataset[image_col]
    keys = [image_key(c["path"]) if isinstance(c, dict) else str(c) for c in column]
    table = pd.DataFrame({"image": keys})
    if orig_col is not None:
        table["original"] = dataset[orig_col]
    list_col = labels_column or next((c for c in ("labels", "multilabels", "real") if c in features), None)
    if list_col is not None:
        table["labels"] = dataset[list_col]
    return annotations_from_table(table, label_space=label_space, source=source,
                                  original_column="original" if orig_col else None,
                                  labels_column="labels" if list_col else None)


def load_annotations(
    source: Any,
    *,
    label_space: LabelSpace | str | Path | None = None,
    original_labels: str | Path | pd.DataFrame | None = None,
    image_column: str | None = None,
    original_column: str | None = None,
    labels_column: str | None = None,
    split: str | None = None,
) -> Annotations:
    """Load annotations by name (``real``), from a file, or from an HF ``datasets`` object.

    Files: ``.json`` (ReaL's list of lists in sorted val order, or ``{image: [labels]}``, or
    ``{image: {"original": …, "labels": […]}}``), ``.csv``/``.tsv``/``.parquet`` tables (see
    :func:`annotations_from_table`), or a folder saved by ``datasets.save_to_disk``.
    ``original_labels`` is a file (see :func:`read_original_labels`), a frame with ``image``
    and ``original`` columns, or the name ``imagenet-val-labels``.
    """
    space = load_label_space(label_space) if label_space is not None else None
    originals = _load_originals(original_labels, space)
    if not isinstance(source, (str, Path)):
        return annotations_from_hf(source, split=split, label_space=space, image_column=image_column,
                                   original_column=original_column, labels_column=labels_column)
    text = str(source)
    if text.lower() == "real":
        return read_real_json(source_path("real"), original=originals, label_space=space)
    path = Path(text)
    if not path.exists():
        raise InputError(f"annotations {text!r}: no such file or folder (or give the name 'real')")
    if path.is_dir():
        return annotations_from_hf(path, split=split, label_space=space, image_column=image_column,
                                   original_column=original_column, labels_column=labels_column)
    suffix = path.suffix.lower()
    if suffix in {".json", ".jsonl"}:
        return _read_annotation_json(path, space, originals)
    if suffix in {".csv", ".tsv"}:
        table = _read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    elif suffix == ".parquet":
        table = _read_parquet_table(path)
    else:
        raise InputError(f"{path}: unknown annotation format {suffix!r}; expected .json, .csv, .tsv, .parquet or a dataset folder")
    return annotations_from_table(
        table, label_space=space, original_labels=originals, image_column=image_column,
        original_column=original_column, labels_column=labels_column, source=str(path),
    )


def _read_parquet_table(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pandas()
    except (pa.ArrowInvalid, OSError) as e:
        raise InputError(f"{path}: cannot read as Parquet: {e}") from None


def _load_originals(original_labels: Any, space: LabelSpace | None) -> pd.DataFrame | None:
    if original_labels is None or isinstance(original_labels, pd.DataFrame):
        return original_labels
    if str(original_labels) == "imagenet-val-labels":
        return read_original_labels(source_path("imagenet-val-labels"), label_space=space)
    return read_original_labels(original_labels, label_space=space)


def _read_annotation_json(path: Path, space: LabelSpace | None, originals: pd.DataFrame | None) -> Annotations:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    if isinstance(data, list):
        return read_real_json(path, original=originals, label_space=space)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a list of lists (ReaL) or an object mapping image keys to labels")
    rows = []
    for key, value in data.items():
        if isinstance(value, dict):
            rows.append({"image": key, "original": value.get("original"), "labels": value.get("labels", [])})
        elif isinstance(value, list):
            rows.append({"image": key, "labels": value})
        else:
            raise InputError(f"{path}, image {key!r}: expected a list of labels or an object, found {value!r}")
    table = pd.DataFrame(rows)
    has_original = "original" in table and table["original"].notna().any()
    return annotations_from_table(
        table, label_space=space, original_labels=originals, source=str(path),
        original_column="original" if has_original else None, labels_column="labels",
    )
