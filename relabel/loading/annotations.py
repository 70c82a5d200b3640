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

from relabel._json import RepeatedJSONKeys, loads_strict
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


def _is_missing(value: Any) -> bool:
    """Whether a scalar cell is empty (None, NaN, pd.NA); lists and arrays are never missing."""
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        return False
    return bool(pd.isna(value))


def _as_index_array(values: Sequence[Any], label_space: LabelSpace, *, where: str) -> np.ndarray:
    """Class indices from ints, keys or names, range-checked against the label space."""
    arr = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    if len(arr) == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind in "fO":
        missing = np.flatnonzero(pd.isna(arr))
        if len(missing):
            raise InputError(f"{where}: missing class labels at positions {format_offenders(missing.tolist())}")
    if arr.dtype.kind in "iu":
        out = arr.astype(np.int64)
    elif arr.dtype.kind == "f" or all(
        isinstance(v, (int, np.integer, float, np.floating)) and not isinstance(v, (bool, np.bool_)) for v in arr
    ):
        numeric = arr.astype(np.float64)
        bad = ~np.isfinite(numeric) | (numeric != np.round(numeric))
        if bad.any():
            raise InputError(f"{where}: class ids must be integers; {format_offenders(numeric[bad])}")
        out = numeric.astype(np.int64)
    else:
        nested = [v for v in arr if isinstance(v, (list, tuple, dict, np.ndarray))]
        if nested:
            raise InputError(f"{where}: expected class labels, found nested values {format_offenders(nested)}")
        strings = [str(v).strip() for v in arr]
        if all(s.lstrip("-").isdigit() for s in strings):
            out = np.asarray(strings, dtype=np.int64)
        else:
            return label_space.index_of_names(strings, where=f"{where}: ")
    bad = (out < 0) | (out >= len(label_space))
    if bad.any():
        raise InputError(
            f"{where}: class ids must lie in 0..{len(label_space) - 1} (label space {label_space.name!r}); "
            f"{format_offenders(pd.unique(out[bad]).tolist())}"
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
    if indptr is not None and len(indices):
        owner = np.repeat(np.arange(len(images)), np.diff(indptr))
        repeated = pd.Series(owner * len(label_space) + indices).duplicated().to_numpy()
        if repeated.any():
            raise InputError(
                f"{where}: a class appears twice in one multi-label set; images "
                f"{format_offenders(pd.unique(images[owner[repeated]]))}"
            )
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

    Image ``i`` (from 0) is ``ILSVRC2012_val_{i + 1:08d}.JPEG``. ``original`` gives the original
    labels (``image`` and ``original`` columns, joined by file name); without it they come from
    the copy bundled with ``imagenet-x``.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: cannot read ReaL labels: {e}") from None
    return _real_annotations(data, path, original, label_space)


def _real_annotations(
    data: Any, path: Path, original: pd.DataFrame | None, label_space: LabelSpace | None
) -> Annotations:
    if not isinstance(data, list) or not all(isinstance(x, list) for x in data):
        raise InputError(f"{path}: ReaL labels must be a JSON list holding one list of class ids per image")
    label_space = label_space or imagenet_1k()
    images = np.asarray([_REAL_NAME_PATTERN.format(i + 1) for i in range(len(data))], dtype=object)
    if original is None:
        original = _original_table(source_path("imagenet-val-labels"))
    aligned = _aligned_originals(_original_frame(original, "original labels"), images, where=str(path))
    return Annotations.from_lists(images, aligned, data, label_space=label_space, source=str(path))


def read_original_labels(path: str | Path, *, label_space: LabelSpace | None = None) -> pd.DataFrame:
    """Original single labels as a frame with ``image`` (file name) and ``original`` (class index).

    Accepts CSV/TSV with an image column (``image``, ``file_name``, ``filename``, ``path``,
    ``file``) and a label column (``original``, ``label``, ``class``, ``target``), or
    whitespace-separated text lines ``FILE LABEL`` (labels as class indices, keys or unique
    names; ImageNet-1k unless ``label_space`` says otherwise).
    """
    path = Path(path)
    table = _original_table(path)
    labels = _as_index_array(table["original"].to_numpy(), label_space or imagenet_1k(), where=str(path))
    return pd.DataFrame({"image": table["image"], "original": labels})


def _original_table(path: Path) -> pd.DataFrame:
    """An original-labels file as ``image`` (file name) and ``original`` (raw label) columns."""
    if not path.is_file():
        raise InputError(f"original labels file {path} does not exist")
    if path.suffix.lower() in {".csv", ".tsv"}:
        return _original_frame(_read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ","), str(path))
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    rows = [line.split() for line in lines if line.strip()]
    bad = [i + 1 for i, r in enumerate(rows) if len(r) != 2]
    if bad:
        raise InputError(f"{path}: expected lines 'FILE LABEL'; lines {format_offenders(bad)} do not have two fields")
    return _original_frame(pd.DataFrame(rows, columns=["image", "original"]), str(path))


def _original_frame(table: pd.DataFrame, where: str) -> pd.DataFrame:
    """Check an original-labels table and return its ``image`` (file name) and ``original`` columns."""
    image_col = _pick_column(table, ["image", "file_name", "filename", "path", "file"], where, "image")
    label_col = _pick_column(table, ["original", "label", "class", "target"], where, "label")
    if table[image_col].isna().any():
        rows = np.flatnonzero(table[image_col].isna().to_numpy())
        raise InputError(f"{where}, column {image_col!r}: empty image keys at rows {format_offenders(rows)}")
    images = pd.Series([image_key(p) for p in table[image_col]], dtype=object)
    missing = images[table[label_col].isna().to_numpy()]
    if len(missing):
        raise InputError(f"{where}, column {label_col!r}: missing original labels for {format_offenders(missing)}")
    repeated = images[images.duplicated()].unique()
    if len(repeated):
        raise InputError(
            f"{where}, column {image_col!r}: image keys must be unique; {format_offenders(repeated)} "
            f"appear more than once"
        )
    return pd.DataFrame({"image": images, "original": table[label_col].to_numpy()})


def _aligned_originals(originals: pd.DataFrame, images: np.ndarray, *, where: str) -> np.ndarray:
    """The original label of each image (raw values, joined by file name), or an error naming the uncovered."""
    by_key = pd.Series(originals["original"].to_numpy(), index=originals["image"].to_numpy())
    aligned = by_key.reindex([image_key(i) for i in images])
    missing = images[aligned.isna().to_numpy()]
    if len(missing):
        raise InputError(
            f"{where}: the original labels do not cover every annotated image; missing for {format_offenders(missing)}"
        )
    return aligned.to_numpy(dtype=object)


_IMAGE_COLUMN_NAMES = ("image", "file_name", "filename", "path", "file")


def _read_csv(path: Path, *, sep: str = ",") -> pd.DataFrame:
    """A CSV/TSV table; image-key columns stay text, so a key like ``000123`` keeps its zeros."""
    try:
        return pd.read_csv(path, sep=sep, dtype={name: str for name in _IMAGE_COLUMN_NAMES})
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
    """A multi-label cell: a list, a JSON list string, labels separated by '|', or one label."""
    if isinstance(cell, (list, tuple, np.ndarray)):
        return list(cell)
    if _is_missing(cell):
        return []
    if isinstance(cell, (int, np.integer)):
        return [int(cell)]
    if isinstance(cell, (float, np.floating)):  # a numeric column with empty cells is read as floats
        return [int(cell)] if float(cell).is_integer() else [cell]
    text = str(cell).strip()
    if text.startswith("["):
        parsed = json.loads(text)
        if not isinstance(parsed, list):  # pragma: no cover - a JSON text starting with "[" is a list
            raise ValueError("not a JSON list")
        return parsed
    return [part.strip() for part in text.split("|") if part.strip()]


def _split_label_cells(cells: Sequence[Any], images: np.ndarray, *, where: str) -> list[list[Any]]:
    out = []
    for image, cell in zip(images, cells):
        try:
            out.append(_split_label_cell(cell))
        except ValueError as e:
            raise InputError(
                f"{where}, image {image!r}: cannot read the labels {cell!r} "
                f"(expected a list, a JSON list such as [1, 2], or labels separated by '|'): {e}"
            ) from None
    return out


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
      ``labels`` column holding each image's multi-label set (a list, a JSON list string such
      as ``[1, 2]``, or ``a|b``; an empty cell is an empty set);
    * one row per (image, label): an image column and a ``label`` column, images repeating,
      with the original label in an ``original`` column or in ``original_labels``; an
      optional ``score`` column holds soft scores. A row with an empty ``label`` gives the
      image an empty set.

    A table with only an image column and a ``label`` column, one row per image, holds
    original labels and no multi-labels. ``original_labels`` (``image`` and ``original``
    columns, joined by file name) supplies the original labels when the table has none.
    Labels are class indices, keys or unique names; without a ``label_space`` one is made
    from the labels themselves: ``0..max`` for integers, else the sorted distinct names.
    """
    if len(table.columns) == 0 or len(table) == 0:
        raise InputError(f"{source}: no annotated images (empty table)")
    image_col = image_column or _pick_column(table, ["image", "file_name", "filename", "path", "file"], source, "image")
    orig_col = original_column or _pick_column(
        table, ["original", "original_label", "true_label", "target"], source, "original label", required=False
    )
    list_col = labels_column or _pick_column(table, ["labels", "multilabels", "real"], source, "labels", required=False)
    row_col = _pick_column(table, ["label"], source, "label", required=False) if list_col is None else None
    score_col = score_column or _pick_column(table, ["score", "soft_score"], source, "score", required=False)
    for col in (image_col, orig_col, list_col, score_col):
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
    if score_col is not None and row_col is None:
        raise InputError(
            f"{source}: soft scores (column {score_col!r}) need one row per (image, label) with a 'label' column"
        )

    if orig_col is not None:
        orig_where = f"{source}, column {orig_col!r}"
        orig_all = table[orig_col].to_numpy(dtype=object)
    elif original_labels is not None:
        orig_where = f"{source}, original labels given separately"
        orig_all = _aligned_originals(_original_frame(original_labels, "original labels"), images_all, where=source)
    else:
        raise InputError(f"{source}: no original labels; add an 'original' column or give an original-labels file")

    indptr = scores = None
    flat: list[Any] = []
    if row_col is not None:
        labels_where = f"{source}, column {row_col!r}"
        images = np.asarray(pd.unique(images_all), dtype=object)
        codes = pd.Index(images).get_indexer(images_all)
        per_image = pd.Series(orig_all).groupby(codes, sort=True)
        conflicting = images[(per_image.nunique() > 1).to_numpy()]
        if len(conflicting):
            raise InputError(f"{orig_where}: images with more than one original label: {format_offenders(conflicting)}")
        original_values = per_image.first().to_numpy()
        label_values = table[row_col].to_numpy(dtype=object)
        present = ~pd.isna(label_values)
        order = np.argsort(codes[present], kind="stable")
        flat = label_values[present][order].tolist()
        indptr = np.concatenate([[0], np.cumsum(np.bincount(codes[present], minlength=len(images)))]).astype(np.int64)
        if score_col is not None:
            raw_scores = pd.to_numeric(table[score_col], errors="coerce").to_numpy(dtype=np.float64)[present]
            bad = ~np.isfinite(raw_scores)
            if bad.any():
                raise InputError(
                    f"{source}, column {score_col!r}: soft scores must be finite numbers; missing or invalid for "
                    f"images {format_offenders(images[codes[present][bad]])}"
                )
            scores = raw_scores[order]
    else:
        labels_where = f"{source}, column {list_col!r}"
        images = images_all
        original_values = orig_all
        if list_col is not None:
            cells = _split_label_cells(table[list_col].tolist(), images, where=f"{source}, column {list_col!r}")
            indptr = np.concatenate([[0], np.cumsum([len(c) for c in cells])]).astype(np.int64)
            flat = [v for c in cells for v in c]

    missing = images[pd.isna(original_values)]
    if len(missing):
        raise InputError(f"{orig_where}: missing original labels for {format_offenders(missing)}")
    label_space = label_space or _infer_label_space([*original_values, *flat], source)
    original = _as_index_array(original_values, label_space, where=orig_where)
    indices = _as_index_array(flat, label_space, where=labels_where) if indptr is not None else None
    return _validated(images, original, label_space, indptr, indices, scores, source)


def _infer_label_space(values: Sequence[Any], source: str) -> LabelSpace:
    """A label space from the labels themselves: ``0..max`` for integers, else sorted distinct names."""
    plain = [int(v) if isinstance(v, (float, np.floating)) and float(v).is_integer() else v for v in values]
    name = Path(str(source)).stem or "inferred"
    if plain and all(
        (isinstance(v, (int, np.integer)) and v >= 0) or (isinstance(v, str) and v.strip().isdigit()) for v in plain
    ):
        k = max(int(v) for v in plain) + 1
        return LabelSpace.from_names([str(i) for i in range(k)], name=name)
    return LabelSpace.from_names(sorted({str(v).strip() for v in plain}), name=name)


def annotations_from_hf(
    dataset: Any,
    *,
    split: str | None = None,
    label_space: LabelSpace | None = None,
    original_labels: pd.DataFrame | None = None,
    image_column: str | None = None,
    original_column: str | None = None,
    labels_column: str | None = None,
    source: str = "HF dataset",
) -> Annotations:
    """Annotations from an HF ``datasets`` Dataset/DatasetDict (or a path saved with ``save_to_disk``).

    The image column (``image_key``, ``image``, ``file_name``, ``path``) may hold string keys or
    images whose ``path`` names the file. The original label comes from ``original``,
    ``label``, ``labels_original`` or ``target`` (or from ``original_labels``), the
    multi-label set from ``labels``, ``multilabels`` or ``real``. A ``ClassLabel`` feature on
    either supplies the class names when no label space is given.
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
        dataset, source = dataset[split], f"{source} (split {split!r})"
    if not isinstance(dataset, hf.Dataset):
        raise InputError(f"{source}: expected an HF datasets Dataset or DatasetDict, got {type(dataset).__name__}")
    features = dataset.features
    image_col = image_column or next((c for c in ("image_key", "image", "file_name", "path") if c in features), None)
    if image_col is None or image_col not in features:
        raise InputError(
            f"{source}: no image column; expected one of image_key, image, file_name, path; found {list(features)}"
        )
    list_col = labels_column or next((c for c in ("labels", "multilabels", "real") if c in features), None)
    orig_col = original_column or next(
        (c for c in ("original", "label", "labels_original", "target") if c in features and c != list_col), None
    )
    for col in (orig_col, list_col):
        if col is not None and col not in features:
            raise InputError(f"{source}: no column {col!r}; found {list(features)}")
    if label_space is None:
        class_label = next(
            (f for f in (features.get(orig_col), getattr(features.get(list_col), "feature", None))
             if isinstance(f, hf.ClassLabel)),
            None,
        )
        if class_label is not None:
            label_space = LabelSpace.from_names(class_label.names, name=Path(source).stem or "HF dataset")
    if isinstance(features[image_col], hf.Image):
        cells = list(dataset.cast_column(image_col, hf.Image(decode=False))[image_col])
        no_path = [i for i, c in enumerate(cells) if not c.get("path")]
        if no_path:
            raise InputError(
                f"{source}, column {image_col!r}: images without a file name at rows {format_offenders(no_path)}; "
                f"give a column of image keys with image_column="
            )
        keys = [image_key(c["path"]) for c in cells]
    else:
        keys = [str(c) for c in dataset[image_col]]
    table = pd.DataFrame({"image": keys})
    if orig_col is not None:
        table["original"] = list(dataset[orig_col])
    if list_col is not None:
        table["labels"] = list(dataset[list_col])
    return annotations_from_table(
        table, label_space=label_space, original_labels=original_labels, source=source, image_column="image",
        original_column="original" if orig_col else None, labels_column="labels" if list_col else None,
    )


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
    """Load annotations by name, from a file, a DataFrame or an HF ``datasets`` object.

    Names: ``real`` (ImageNet ReaL with the original val labels) and ``imagenet-val-labels``
    (original labels only). Files: ``.json`` (ReaL's list of lists in sorted val order, a list
    of row objects, ``{image: [labels]}`` or ``{image: {"original": …, "labels": […]}}``),
    ``.jsonl`` (one row object per line), ``.csv``/``.tsv``/``.parquet`` tables (see
    :func:`annotations_from_table`), or a folder saved by ``datasets.save_to_disk``.
    ``original_labels`` is a file (see :func:`read_original_labels`), a frame with ``image``
    and ``original`` columns, or the name ``imagenet-val-labels``.
    """
    space = load_label_space(label_space) if label_space is not None else None
    originals = _load_originals(original_labels)
    columns = {"image_column": image_column, "original_column": original_column, "labels_column": labels_column}
    if isinstance(source, pd.DataFrame):
        return annotations_from_table(source, label_space=space, original_labels=originals, source="DataFrame",
                                      **columns)
    if not isinstance(source, (str, Path)):
        return annotations_from_hf(source, split=split, label_space=space, original_labels=originals, **columns)
    text = str(source)
    if text.lower() == "real":
        return read_real_json(source_path("real"), original=originals, label_space=space)
    if text.lower() == "imagenet-val-labels":
        path = source_path("imagenet-val-labels")
        return annotations_from_table(_original_table(path), label_space=space or imagenet_1k(), source=str(path),
                                      image_column="image", original_column="original")
    path = Path(text)
    if not path.exists():
        raise InputError(f"annotations {text!r}: no such file or folder (or give the name 'real')")
    if path.is_dir():
        return annotations_from_hf(path, split=split, label_space=space, original_labels=originals, **columns)
    suffix = path.suffix.lower()
    if suffix in {".json", ".jsonl"}:
        return _read_annotation_json(path, space, originals, columns)
    if suffix in {".csv", ".tsv"}:
        table = _read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    elif suffix == ".parquet":
        table = _read_parquet_table(path)
    else:
        raise InputError(
            f"{path}: unknown annotation format {suffix!r}; expected .json, .jsonl, .csv, .tsv, .parquet "
            f"or a dataset folder"
        )
    return annotations_from_table(table, label_space=space, original_labels=originals, source=str(path), **columns)


def _read_parquet_table(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pandas()
    except (pa.ArrowInvalid, OSError) as e:
        raise InputError(f"{path}: cannot read as Parquet: {e}") from None


def _load_originals(original_labels: Any) -> pd.DataFrame | None:
    """Original labels as given: ``None``, a frame, the name ``imagenet-val-labels`` or a file (raw labels)."""
    if original_labels is None or isinstance(original_labels, pd.DataFrame):
        return original_labels
    if str(original_labels) == "imagenet-val-labels":
        return _original_table(source_path("imagenet-val-labels"))
    return _original_table(Path(original_labels))


def _parse_json(text: str, path: Path, where: str = "") -> Any:
    try:
        return loads_strict(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}{where}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except RepeatedJSONKeys as e:
        raise InputError(
            f"{path}{where}: keys must be unique within a JSON object (image keys, or an image's fields); "
            f"{format_offenders(e.keys)} appear more than once"
        ) from None


def _read_annotation_json(
    path: Path, space: LabelSpace | None, originals: pd.DataFrame | None, columns: dict[str, str | None]
) -> Annotations:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    if path.suffix.lower() == ".jsonl":
        try:
            data = json.loads(text)  # a JSON list under a .jsonl name (the imagenet-x copy of ReaL)
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, list):
            lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
            data = [_parse_json(line, path, f", line {n}") for n, line in lines]
    else:
        data = _parse_json(text, path)
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        table = pd.DataFrame(data)
        return annotations_from_table(table, label_space=space, original_labels=originals, source=str(path), **columns)
    if isinstance(data, list):
        return _real_annotations(data, path, originals, space)
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a list of lists (ReaL), a list of row objects, or an object mapping "
                         f"image keys to labels")
    if not data:
        raise InputError(f"{path}: no annotated images (empty JSON object)")
    rows = []
    for key, value in data.items():
        if isinstance(value, dict):
            rows.append({"image": key, "original": value.get("original"), "labels": value.get("labels", [])})
        elif isinstance(value, list):
            rows.append({"image": key, "labels": value})
        else:
            raise InputError(f"{path}, image {key!r}: expected a list of labels or an object, found {value!r}")
    table = pd.DataFrame(rows)
    has_original = "original" in table
    return annotations_from_table(
        table, label_space=space, original_labels=None if has_original else originals, source=str(path),
        image_column="image", original_column="original" if has_original else None, labels_column="labels",
    )
