"""Annotations: per evaluation image, the original label and an optional multi-label set.

Readers for ImageNet ReaL (``real.json``: one list per validation image in sorted file-name
order), JSON (``{image: [labels]}``), CSV/Parquet tables and HF ``datasets``. Every reader
validates here, at the boundary: duplicate image keys, labels outside the label space, missing
original labels and NaN scores are errors that name the file, the field and the first
offenders. Multi-label sets are stored as CSR arrays (``multilabel_indptr``,
``multilabel_indices``) so that evaluation is vectorised.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relabel import _json, _tables
from relabel.errors import InputError, LabelSpaceError, RelabelWarning, format_offenders, repeated
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
    "val_image_keys",
]

#: Share of non-empty ReaL sets that contain the original label is about 0.9; far less means
#: that class indices or image orders are mixed up.
SANITY_MIN_ORIGINAL_IN_SET = 0.75

_ORIGINAL_COLUMNS = ("original", "original_label", "labels_original", "true_label", "target")
_LABELS_COLUMNS = ("labels", "multilabels", "real")
_SCORE_COLUMNS = ("score", "soft_score")


def image_key(path: str) -> str:
    """The pairing key of an image: its file name without folders (``/`` or ``\\``).

    >>> image_key("val/n01440764/ILSVRC2012_val_00000293.JPEG")
    'ILSVRC2012_val_00000293.JPEG'
    """
    return re.split(r"[/\\]", str(path))[-1]


def val_image_keys(n: int) -> np.ndarray:
    """Keys of the first ``n`` ImageNet validation images in sorted file-name order (ReaL's order).

    >>> val_image_keys(2).tolist()
    ['ILSVRC2012_val_00000001.JPEG', 'ILSVRC2012_val_00000002.JPEG']
    """
    return np.asarray([f"ILSVRC2012_val_{i:08d}.JPEG" for i in range(1, n + 1)], dtype=object)


@dataclass(frozen=True, eq=False)
class Annotations:
    """Original labels and optional multi-label sets of the evaluation images.

    ``images`` holds the keys as given; ``original`` the original class index of each image;
    image ``i``'s multi-label set is ``multilabel_indices[multilabel_indptr[i]:multilabel_indptr[i + 1]]``
    (possibly empty: no class fits, the image is left out of multi-label scores).
    ``multilabel_indptr`` is ``None`` when the source has no multi-labels at all;
    ``soft_scores``, when present, holds one score per entry of ``multilabel_indices``.
    Two objects are equal only when they are the same object (the fields are arrays).
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
        if self.multilabel_indptr is None or self.multilabel_indices is None:
            return [[] for _ in range(self.n_images)]
        return [
            self.multilabel_indices[a:b].tolist()
            for a, b in zip(self.multilabel_indptr[:-1], self.multilabel_indptr[1:])
        ]

    @classmethod
    def from_lists(
        cls,
        images: Sequence[str] | np.ndarray,
        original: Sequence[Any] | np.ndarray,
        multilabels: Sequence[Sequence[Any]] | None = None,
        *,
        label_space: LabelSpace,
        soft_scores: Sequence[Sequence[float]] | None = None,
        source: str = "",
    ) -> Annotations:
        """Build validated annotations from Python lists (class indices, keys or names).

        ``soft_scores``, if given, holds one list per image with one score per label of that
        image's multi-label set.
        """
        where = source or "annotations"
        keys = _tables.as_text(images)
        if len(original) != len(keys):
            raise InputError(f"{where}: {len(keys)} images but {len(original)} original labels")
        flat_labels = None if multilabels is None else [v for m in multilabels for v in m]
        original_arr = label_space.indices(original, where=f"{where}, original labels", owners=keys,
                                           evidence=flat_labels)
        indptr = indices = scores = None
        if multilabels is not None:
            if len(multilabels) != len(keys):
                raise InputError(f"{where}: {len(keys)} images but {len(multilabels)} multi-label sets")
            lengths = np.fromiter((len(s) for s in multilabels), dtype=np.int64, count=len(multilabels))
            indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
            owners = np.repeat(keys, lengths)
            indices = label_space.indices(flat_labels, where=f"{where}, multi-labels", owners=owners, evidence=original)
            if soft_scores is not None:
                if len(soft_scores) != len(keys):
                    raise InputError(f"{where}: {len(keys)} images but {len(soft_scores)} lists of soft scores")
                score_lengths = np.fromiter((len(s) for s in soft_scores), dtype=np.int64, count=len(soft_scores))
                differ = np.flatnonzero(score_lengths != lengths)
                if len(differ):
                    raise InputError(
                        f"{where}: each image needs one soft score per label of its multi-label set; the counts "
                        f"differ for images {format_offenders(keys[differ], total=len(differ))}"
                    )
                scores = _soft_scores([v for s in soft_scores for v in s], owners, where=f"{where}, soft scores")
        elif soft_scores is not None:
            raise InputError(f"{where}: soft scores need multi-label sets")
        return _validated(keys, original_arr, label_space, indptr, indices, scores, source)


def _soft_scores(values: Sequence[Any], owners: np.ndarray, *, where: str) -> np.ndarray:
    """Soft scores as float64; values that are not finite numbers are an error naming their images."""
    raw = pd.Series(np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values)
    is_bool = raw.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(dtype=bool)
    scores = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(scores) | is_bool
    if bad.any():
        raise InputError(
            f"{where}: soft scores must be finite numbers; missing or invalid for images "
            f"{format_offenders(pd.unique(owners[bad]))}"
        )
    return scores


def _validated(
    images: np.ndarray,
    original: np.ndarray,
    label_space: LabelSpace,
    indptr: np.ndarray | None,
    indices: np.ndarray | None,
    scores: np.ndarray | None,
    source: str,
) -> Annotations:
    """Check what the readers cannot check row by row: unique image keys, no class twice in a set."""
    where = source or "annotations"
    if len(images) == 0:
        raise InputError(f"{where}: no annotated images")
    twice = repeated(images)
    if twice:
        raise InputError(f"{where}: image keys must be unique; {format_offenders(twice)} appear more than once")
    if indptr is not None and indices is not None and len(indices):
        owner = np.repeat(np.arange(len(images)), np.diff(indptr))
        again = pd.Series(owner * len(label_space) + indices).duplicated().to_numpy()
        if again.any():
            raise InputError(
                f"{where}: a class appears twice in one multi-label set; images "
                f"{format_offenders(pd.unique(images[owner[again]]))}"
            )
    if indptr is not None and indices is not None:
        _check_original_in_sets(original, indptr, indices, where)
    return Annotations(images, original, label_space, indptr, indices, scores, source)


def _check_original_in_sets(original: np.ndarray, indptr: np.ndarray, indices: np.ndarray, where: str) -> None:
    """Warn when far fewer non-empty sets contain the original label than ReaL's ~90%."""
    lengths = np.diff(indptr)
    nonempty = lengths > 0
    if not nonempty.any():
        return
    owner = np.repeat(np.arange(len(original)), lengths)
    hit = np.zeros(len(original), dtype=bool)
    hit[owner[indices == original[owner]]] = True
    share = hit[nonempty].mean()
    if share < SANITY_MIN_ORIGINAL_IN_SET:
        warnings.warn(
            f"{where}: only {share:.1%} of the {int(nonempty.sum())} non-empty "
            f"multi-label sets contain the image's original label (ReaL: about 90%); class indices or the image "
            f"order of the original labels are probably mixed up",
            RelabelWarning,
            stacklevel=3,
        )


# ---------------------------------------------------------------- original labels


def _load_originals(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Original labels, checked, as ``image`` (file name) and ``original`` (raw label) columns.

    ``source`` is a frame, the name ``imagenet-val-labels`` or a file: CSV/TSV with an image
    column and a label column, or text lines ``FILE LABEL``. This is the one place original
    labels are read.
    """
    if isinstance(source, pd.DataFrame):
        return _original_frame(source, "original labels")
    path = source_path("imagenet-val-labels") if str(source) == "imagenet-val-labels" else Path(source)
    if not path.is_file():
        raise InputError(f"original labels file {path} does not exist")
    if path.suffix.lower() in {".csv", ".tsv"}:
        return _original_frame(_tables.read_csv(path), str(path))
    rows = [line.split() for line in _json.read_text(path).splitlines() if line.strip()]
    bad = [i + 1 for i, r in enumerate(rows) if len(r) != 2]
    if bad:
        raise InputError(f"{path}: expected lines 'FILE LABEL'; lines {format_offenders(bad)} do not have two fields")
    return _original_frame(pd.DataFrame(rows, columns=["image", "original"]), str(path))


def _original_frame(table: pd.DataFrame, where: str) -> pd.DataFrame:
    """Check an original-labels table and return its ``image`` (file name) and ``original`` columns."""
    image_col = _tables.pick_column(table.columns, _tables.IMAGE_COLUMNS, where=where, field="image")
    label_col = _tables.pick_column(table.columns, ("original", "label", "class", "target"), where=where,
                                    field="label")
    images = pd.Series([image_key(p) for p in _tables.image_keys(table, image_col, where=where)], dtype=object)
    missing = images[table[label_col].isna().to_numpy()]
    if len(missing):
        raise InputError(f"{where}, column {label_col!r}: missing original labels for {format_offenders(missing)}")
    twice = repeated(images)
    if twice:
        raise InputError(
            f"{where}, column {image_col!r}: image keys must be unique; {format_offenders(twice)} appear more than once"
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


def read_original_labels(path: str | Path, *, label_space: LabelSpace | None = None) -> pd.DataFrame:
    """Original single labels as a frame with ``image`` (file name) and ``original`` (class index).

    Accepts CSV/TSV with an image column (see :data:`relabel._tables.IMAGE_COLUMNS`) and a
    label column (``original``, ``label``, ``class``, ``target``), or whitespace-separated
    text lines ``FILE LABEL`` (labels as class indices, keys or unique names; ImageNet-1k
    unless ``label_space`` says otherwise).
    """
    table = _load_originals(Path(path))
    space = label_space or imagenet_1k()
    labels = space.indices(table["original"].to_numpy(), where=str(path), owners=table["image"].to_numpy())
    return pd.DataFrame({"image": table["image"], "original": labels})


# ---------------------------------------------------------------- ReaL


def read_real_json(
    path: str | Path,
    *,
    original: str | Path | pd.DataFrame | None = None,
    label_space: LabelSpace | None = None,
) -> Annotations:
    """ImageNet ReaL labels: one list per validation image, in sorted file-name order.

    Image ``i`` (from 0) is ``ILSVRC2012_val_{i + 1:08d}.JPEG``. ``original`` gives the original
    labels (a frame with ``image`` and ``original`` columns or a file, joined by file name);
    without it they come from the copy bundled with ``imagenet-x``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"ReaL labels file {path} does not exist")
    return _real_annotations(_json.parse(_json.read_text(path), str(path)), path, original, label_space)


def _real_annotations(
    data: Any, path: Path, original: str | Path | pd.DataFrame | None, label_space: LabelSpace | None
) -> Annotations:
    if not isinstance(data, list) or not all(isinstance(x, list) for x in data):
        raise InputError(f"{path}: ReaL labels must be a JSON list holding one list of class ids per image")
    images = val_image_keys(len(data))
    originals = _load_originals(original if original is not None else "imagenet-val-labels")
    aligned = _aligned_originals(originals, images, where=str(path))
    return Annotations.from_lists(images, aligned, data, label_space=label_space or imagenet_1k(), source=str(path))


# ---------------------------------------------------------------- tables


def annotations_from_table(
    table: pd.DataFrame,
    *,
    label_space: LabelSpace | None = None,
    original_labels: str | Path | pd.DataFrame | None = None,
    image_column: str | None = None,
    original_column: str | None = None,
    labels_column: str | None = None,
    score_column: str | None = None,
    source: str = "table",
    classes_given: bool = False,
) -> Annotations:
    """Annotations from a table in one of two layouts.

    * one row per image: an image column, an ``original`` column and optionally a
      ``labels`` column holding each image's multi-label set (a list, a list as text such
      as ``[1, 2]``, ``['a', 'b']`` or numpy's ``[1 2]``, or ``a|b``; an empty cell is an
      empty set);
    * one row per (image, label): an image column and a ``label`` column, images repeating,
      with the original label in an ``original`` column or in ``original_labels``; an
      optional ``score`` column holds soft scores. A row with an empty ``label`` gives the
      image an empty set.

    A table with only an image column and a ``label`` column, one row per image, holds
    original labels and no multi-labels. ``original_labels`` (a frame with ``image`` and
    ``original`` columns, or a file; joined by file name) supplies the original labels when
    the table has none. Labels are class indices, keys or unique names; without a
    ``label_space`` one is made from the labels themselves: ``0..max`` for integers, else the
    sorted distinct names. Names that look like integers are read as names when the labels
    also hold a name that cannot be an index (see :meth:`LabelSpace.indices`). With
    ``classes_given`` the labels are class indices of ``label_space`` already (no names).
    """
    if len(table.columns) == 0 or len(table) == 0:
        raise InputError(f"{source}: no annotated images (empty table)")
    columns = list(table.columns)

    def pick(candidates: Sequence[str], given: str | None, field: str) -> Any:
        return _tables.pick_column(columns, candidates, given=given, where=source, field=field, required=False)

    image_col = _tables.pick_column(columns, _tables.IMAGE_COLUMNS, given=image_column, where=source, field="image")
    orig_col = pick(_ORIGINAL_COLUMNS, original_column, "original label")
    list_col = pick(_LABELS_COLUMNS, labels_column, "labels")
    row_col = pick(["label"], None, "label") if list_col is None else None
    score_col = pick(_SCORE_COLUMNS, score_column, "score")
    images_all = _tables.image_keys(table, image_col, where=source)

    if list_col is None and row_col is not None and orig_col is None and original_labels is None:
        if repeated(images_all):
            raise InputError(
                f"{source}: several rows per image in column {image_col!r} look like multi-label rows, but there is "
                f"no 'original' column; add one or give the original labels separately"
            )
        orig_col, row_col = row_col, None
    if score_col is not None and row_col is None:
        raise InputError(
            f"{source}: soft scores (column {score_col!r}) need one row per (image, label) with a 'label' column"
        )
    unread = [str(c) for c in columns if c not in {image_col, orig_col, list_col, row_col, score_col}]
    if unread:  # a misspelt column is left out: say so, or e.g. multi-labels silently become original labels only
        warnings.warn(
            f"{source}: columns {format_offenders(unread)} are not read (annotation columns: an image column, "
            f"{' / '.join(_ORIGINAL_COLUMNS)}, {' / '.join(_LABELS_COLUMNS)}, label, {' / '.join(_SCORE_COLUMNS)}); "
            f"rename a misspelt one to one of these",
            RelabelWarning,
            stacklevel=2,
        )

    if orig_col is not None:
        orig_where = f"{source}, column {orig_col!r}"
        orig_all = table[orig_col].to_numpy(dtype=object)
    elif original_labels is not None:
        orig_where = f"{source}, original labels given separately"
        orig_all = _aligned_originals(_load_originals(original_labels), images_all, where=source)
    else:
        raise InputError(f"{source}: no original labels; add an 'original' column or give an original-labels file")

    indptr = scores = owners = None
    flat: list[Any] = []
    labels_where = source
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
        owners = images[codes[present][order]]
        indptr = np.concatenate([[0], np.cumsum(np.bincount(codes[present], minlength=len(images)))]).astype(np.int64)
        if score_col is not None:
            scores = _soft_scores(table[score_col].to_numpy(dtype=object)[present][order], owners,
                                  where=f"{source}, column {score_col!r}")
    else:
        images = images_all
        original_values = orig_all
        if list_col is not None:
            labels_where = f"{source}, column {list_col!r}"
            cells = _tables.parse_list_cells(table[list_col].tolist(), images, where=labels_where, what="labels")
            lengths = np.fromiter((len(c) for c in cells), dtype=np.int64, count=len(cells))
            indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
            flat = [v for c in cells for v in c]
            owners = np.repeat(images, lengths)

    missing = images[pd.isna(original_values)]
    if len(missing):
        raise InputError(f"{orig_where}: missing original labels for {format_offenders(missing)}")
    label_space = label_space or LabelSpace.from_labels([*original_values, *flat],
                                                        name=Path(str(source)).stem or "inferred")
    if classes_given:  # class indices already (HF ClassLabel codes mapped into the label space)
        original = label_space.indices(np.asarray(original_values, dtype=np.int64), where=orig_where, owners=images,
                                       as_indices=True)
        indices = None if indptr is None else label_space.indices(np.asarray(flat, dtype=np.int64),
                                                                   where=labels_where, owners=owners, as_indices=True)
        return _validated(images, original, label_space, indptr, indices, scores, source)
    original = label_space.indices(original_values, where=orig_where, owners=images, evidence=flat)
    indices = label_space.indices(flat, where=labels_where, owners=owners,
                                  evidence=original_values) if indptr is not None else None
    return _validated(images, original, label_space, indptr, indices, scores, source)


def annotations_from_hf(
    dataset: Any,
    *,
    split: str | None = None,
    label_space: LabelSpace | None = None,
    original_labels: str | Path | pd.DataFrame | None = None,
    image_column: str | None = None,
    original_column: str | None = None,
    labels_column: str | None = None,
    source: str = "HF dataset",
) -> Annotations:
    """Annotations from an HF ``datasets`` Dataset/DatasetDict (or a path saved with ``save_to_disk``).

    The image column (see :data:`relabel._tables.IMAGE_COLUMNS`; a text column of keys wins over
    an ``Image`` column) may hold string keys or images whose ``path`` names the file. The
    original label comes from ``original``, ``label``, ``labels_original`` or ``target`` (or
    from ``original_labels``), the multi-label set from ``labels``, ``multilabels`` or
    ``real``. A ``ClassLabel`` feature on either supplies the class names when no label
    space is given; with a label space, its codes are mapped through their names into it
    (``imagefolder`` numbers ImageNet's class folders 0.. whatever classes they hold).
    """
    import datasets as hf

    if isinstance(dataset, (str, Path)):
        source = str(dataset)
        try:
            dataset = hf.load_from_disk(str(dataset))
        except FileNotFoundError as e:
            raise InputError(f"{dataset}: not a dataset saved with save_to_disk ({e})") from None
    dataset, source = _tables.select_split(dataset, split, source, option="split= (CLI: --split)")
    if not isinstance(dataset, hf.Dataset):
        raise InputError(f"{source}: expected an HF datasets Dataset or DatasetDict, got {type(dataset).__name__}")
    features = dataset.features
    names = list(features)
    # text columns only, as relabel predict reads keys: an integer ``id`` column is no file name
    key_columns = [c for c in names if getattr(features[c], "dtype", None) in ("string", "large_string")]
    image_col = image_column or _tables.pick_column(
        key_columns, _tables.IMAGE_COLUMNS, where=source, field="image", required=False
    )
    image_col = _tables.pick_column(names, _tables.IMAGE_COLUMNS, given=image_col, where=source, field="image")
    list_col = _tables.pick_column(names, _LABELS_COLUMNS, given=labels_column, where=source, field="labels",
                                   required=False)
    orig_col = _tables.pick_column([c for c in names if c != list_col], (*_ORIGINAL_COLUMNS, "label"),
                                   given=original_column, where=source, field="original label", required=False)
    class_labels = {column: feature for column, feature in
                    ((orig_col, features.get(orig_col)), (list_col, getattr(features.get(list_col), "feature", None)))
                    if column is not None and isinstance(feature, hf.ClassLabel)}
    if label_space is None and class_labels:
        label_space = LabelSpace.from_names(next(iter(class_labels.values())).names,
                                            name=Path(source).stem or "HF dataset")
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
        keys = list(dataset[image_col])
    table = pd.DataFrame({"image": pd.Series(keys, dtype=object)})
    if orig_col is not None:
        table["original"] = list(dataset[orig_col])
    if list_col is not None:
        table["labels"] = list(dataset[list_col])
    label_columns = [c for c in (orig_col, list_col) if c is not None]
    coded = [c for c in label_columns if c in class_labels]
    # all labels coded: class indices from here on; else the codes become class keys, read like the other labels
    as_indices = bool(coded) and len(coded) == len(label_columns) and original_labels is None
    for column, name in ((orig_col, "original"), (list_col, "labels")):
        if column in class_labels and label_space is not None:
            table[name] = _class_label_indices(table[name], class_labels[column], label_space,
                                               f"{source}, column {column!r}", as_keys=not as_indices)
    return annotations_from_table(
        table, label_space=label_space, original_labels=original_labels, source=source, image_column="image",
        original_column="original" if orig_col else None, labels_column="labels" if list_col else None,
        classes_given=as_indices,
    )


def _class_label_indices(cells: pd.Series, feature: Any, label_space: LabelSpace, where: str, *,
                         as_keys: bool = False) -> pd.Series:
    """HF ``ClassLabel`` codes (or lists of them) → class indices (or keys) of ``label_space``, through their names.

    A code is an index into the feature's own names, not into the label space: ImageNet class
    folders read by ``imagefolder`` are numbered 0.. in folder order, whatever classes they are.
    The names must be classes (keys or names) of the label space; ``-1`` (HF's "no label") and
    codes beyond the names are errors.
    """
    names = list(feature.names)
    try:
        target = label_space.index_of_names(names)
    except LabelSpaceError as e:
        raise LabelSpaceError(
            f"{where}: the ClassLabel names must be classes (keys or names) of label space {label_space.name!r}: "
            f"{str(e).split(': ', 1)[-1]}"
        ) from None

    def mapped(code: Any) -> Any:
        if isinstance(code, (list, tuple, np.ndarray)):
            return [mapped(c) for c in code]
        if code is None or not (0 <= int(code) < len(names)):
            raise InputError(f"{where}: ClassLabel code {code!r} is not one of the feature's {len(names)} classes "
                             f"(-1 is HF's 'no label')")
        index = int(target[int(code)])
        return label_space.keys[index] if as_keys else index

    return cells.map(mapped)


# ---------------------------------------------------------------- files and names


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
    ``.jsonl`` (one row object per line, or one ReaL list), ``.csv``/``.tsv``/``.parquet``
    tables (see :func:`annotations_from_table`), or a folder saved by
    ``datasets.save_to_disk``. ``original_labels`` is a file (CSV/TSV or ``FILE LABEL``
    lines), a frame with ``image`` and ``original`` columns, or the name
    ``imagenet-val-labels``; it is read and checked here even when the annotations carry
    their own original labels.
    """
    space = load_label_space(label_space) if label_space is not None else None
    originals = _load_originals(original_labels) if original_labels is not None else None
    columns: dict[str, Any] = {"image_column": image_column, "original_column": original_column,
                               "labels_column": labels_column}
    if isinstance(source, pd.DataFrame):
        return annotations_from_table(source, label_space=space, original_labels=originals, source="DataFrame",
                                      **columns)
    if not isinstance(source, (str, Path)):
        return annotations_from_hf(source, split=split, label_space=space, original_labels=originals, **columns)
    text = str(source)
    if split is not None and text.lower() in ("real", "imagenet-val-labels"):
        raise InputError(f"annotations {text!r}: split= (CLI: --split) is for HF datasets saved as a DatasetDict")
    if text.lower() == "real":
        return read_real_json(source_path("real"), original=originals, label_space=space)
    if text.lower() == "imagenet-val-labels":
        return annotations_from_table(_load_originals("imagenet-val-labels"), label_space=space or imagenet_1k(),
                                      source=str(source_path("imagenet-val-labels")), image_column="image",
                                      original_column="original")
    path = Path(text)
    if not path.exists():
        raise InputError(f"annotations {text!r}: no such file or folder (or give the name 'real')")
    if path.is_dir():
        return annotations_from_hf(path, split=split, label_space=space, original_labels=originals, **columns)
    if split is not None:
        raise InputError(f"{path}: split= (CLI: --split) is for HF datasets saved as a DatasetDict, not for a file")
    suffix = path.suffix.lower()
    if suffix in {".json", ".jsonl"}:
        return _read_annotation_json(path, space, originals, columns)
    if suffix in {".csv", ".tsv"}:
        table = _tables.read_csv(path, image_column=image_column)
    elif suffix == ".parquet":
        table = _tables.read_parquet(path)
    else:
        raise InputError(
            f"{path}: unknown annotation format {suffix!r}; expected .json, .jsonl, .csv, .tsv, .parquet "
            f"or a dataset folder"
        )
    return annotations_from_table(table, label_space=space, original_labels=originals, source=str(path), **columns)


_IMAGE_FIELDS = {"original", "labels"}


def _read_annotation_json(
    path: Path, space: LabelSpace | None, originals: pd.DataFrame | None, columns: dict[str, Any]
) -> Annotations:
    text = _json.read_text(path)
    if path.suffix.lower() == ".jsonl":
        data: Any = _json.parse_lines(text, str(path))
        if len(data) == 1 and isinstance(data[0], list):
            data = data[0]  # one JSON list under a .jsonl name (imagenet-x's copy of ReaL)
    else:
        data = _json.parse(text, str(path))
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
            unknown = sorted(set(value) - _IMAGE_FIELDS)
            if unknown:
                raise InputError(
                    f"{path}, image {key!r}: unknown fields {unknown}; an image's object holds 'original' and 'labels'"
                )
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
