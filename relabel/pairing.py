"""Pairing: join a run to the annotations by image key, never by position.

A run key pairs with an annotation when the two keys are equal, or else when their file names
are (``val/n01440764/ILSVRC2012_val_00000293.JPEG`` pairs with
``ILSVRC2012_val_00000293.JPEG``). Paired images are kept in annotation order, so the order
of a run's rows never matters.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from relabel.errors import LabelSpaceError, PairingError, RelabelWarning, format_offenders, quoted
from relabel.labelspace import LabelSpace
from relabel.loading.annotations import Annotations, image_key
from relabel.loading.runs import ImageKeys, Run, RunMeta

__all__ = ["PairedRun", "PairedSets", "pair", "paired_sets"]

#: Warn when a run's top-1 accuracy is below this multiple of chance (1 / K).
CHANCE_MULTIPLE = 2.0
_MIN_IMAGES_FOR_CHANCE_CHECK = 1000


@dataclass(frozen=True, eq=False)
class PairedSets:
    """The paired images' multi-label sets, flattened: class ``labels[j]`` is in the set of paired image ``owner[j]``.

    ``scored`` marks the paired images whose set is present and non-empty. The runs of one image
    list share one (see :func:`pair`'s ``keys``), so a sweep forms it once.
    """

    owner: np.ndarray
    labels: np.ndarray
    scored: np.ndarray


def paired_sets(annotations: Annotations, rows: np.ndarray) -> PairedSets:
    """The multi-label sets of annotation rows ``rows`` (empty, and nothing scored, without multi-labels)."""
    n = len(rows)
    indptr, indices = annotations.multilabel_indptr, annotations.multilabel_indices
    if indptr is None or indices is None:
        return PairedSets(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(n, dtype=bool))
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    owner = np.repeat(np.arange(n), lengths)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return PairedSets(owner, indices[np.repeat(starts, lengths) + offsets], lengths > 0)


@dataclass(frozen=True)
class PairedRun:
    """A run aligned with its annotations: row ``i`` is annotation row ``rows[i]``.

    ``sets`` holds the paired images' multi-label sets when they were formed already (shared by
    the runs of one image list); :meth:`multilabel_sets` forms them otherwise.
    """

    meta: RunMeta
    annotations: Annotations
    rows: np.ndarray
    pred_index: np.ndarray
    source: str = ""
    sets: PairedSets | None = None

    def multilabel_sets(self) -> PairedSets:
        """The paired images' multi-label sets (:class:`PairedSets`)."""
        return self.sets if self.sets is not None else paired_sets(self.annotations, self.rows)

    @property
    def label_space(self) -> LabelSpace:
        """The label space shared by the run and the annotations."""
        return self.annotations.label_space

    @property
    def true_index(self) -> np.ndarray:
        """Original label of each paired image."""
        return self.annotations.original[self.rows]

    @property
    def n_images(self) -> int:
        """Number of paired images."""
        return len(self.rows)


#: What counts as a file extension when keys are matched without one (``.JPEG``, ``.png``, ``.webp``).
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{1,4}$")


def _stem(name: str) -> str:
    """A file name without its extension (``ILSVRC2012_val_00000293.JPEG`` → ``ILSVRC2012_val_00000293``)."""
    return _EXTENSION.sub("", name)


class _Lookup:
    """Annotation rows by a derived key (file name, stem); keys several images share are kept apart."""

    def __init__(self, keys: list[str]) -> None:
        rows = pd.Series(np.arange(len(keys)), index=pd.Index(keys, dtype=object))
        shared = rows.index.duplicated(keep=False)
        self.unique = rows[~shared]
        self.shared = rows[shared].groupby(level=0).agg(list) if shared.any() else pd.Series(dtype=object)

    def rows(self, keys: list[str]) -> np.ndarray:
        """The row of each key, ``-1`` where no single image has it."""
        if not len(keys):
            return np.empty(0, dtype=np.int64)
        positions = self.unique.index.get_indexer(keys)
        return np.where(positions >= 0, self.unique.to_numpy()[positions], -1)


def _rows_without_extension(run_names: list[str], names: list[str]) -> np.ndarray:
    """Rows of the one annotated image whose name equals each run name once an extension is dropped.

    Only where one of the two names has no extension: ``x`` pairs with ``x.JPEG`` and ``x.JPEG``
    with ``x``, but ``x.png`` never with ``x.jpg``; ``-1`` where no single image fits.
    """
    by_stem: dict[str, list[int]] = {}
    bare: dict[str, list[int]] = {}
    for row, name in enumerate(names):
        stem = _stem(name)
        by_stem.setdefault(stem, []).append(row)
        if stem == name:
            bare.setdefault(name, []).append(row)
    out = np.full(len(run_names), -1, dtype=np.int64)
    for i, name in enumerate(run_names):
        stem = _stem(name)
        candidates = by_stem.get(name, []) if stem == name else bare.get(stem, [])
        if len(candidates) == 1:
            out[i] = candidates[0]
    return out


def pair(run: Run, annotations: Annotations, *, allow_chance: bool = False, keys: ImageKeys | None = None) -> PairedRun:
    """Join ``run`` to ``annotations`` by image key.

    A run key pairs with the annotated image of the same key; else with the one image of the
    same file name (``val/n01440764/x.JPEG`` with ``x.JPEG``); else, when one of the two names
    has no extension, with the one image of the same name without it (``ILSVRC2012_val_00000293``
    with ``ILSVRC2012_val_00000293.JPEG``). A file name several annotated images share pairs
    only by its full key; a run key that would need it is an error naming both images.

    Raises :class:`~relabel.errors.PairingError` for run keys the annotations do not know
    (naming near misses, such as another extension), for two run rows that name the same
    annotated image and, when the run's rows were keyed by position (``--canonical-order``
    or an order file), for top-1 accuracy at chance level unless ``allow_chance``. Class ids
    beyond the label space are a :class:`~relabel.errors.LabelSpaceError`. A run may cover only
    part of the annotated images; it is evaluated on what it covers.

    ``keys`` (the :class:`~relabel.loading.runs.ImageKeys` the run was loaded with) keeps the
    pairing of a shared key array, so the runs of one image list are paired once: their
    paired ``rows`` are then one array.
    """
    where = run.source or f"run {run.meta.name!r}"
    space = annotations.label_space
    _check_ids(run, space, where)
    memo = (id(run.images), id(annotations))
    kept = keys.pairings.get(memo) if keys is not None else None
    sets = None
    if kept is not None and kept[0] is annotations:
        _, rows, order, sets = kept
    else:
        rows, order = _paired_rows(run, annotations, where)
        if keys is not None and keys.known_images(run.images):
            rows.flags.writeable = False  # one array for every run of this image list
            sets = paired_sets(annotations, rows)
            keys.pairings[memo] = (annotations, rows, order, sets)
    paired = PairedRun(run.meta, annotations, rows, run.top1[order], where, sets)
    _check_chance(paired, where, run.image_order, allow_chance)
    return paired


def _paired_rows(run: Run, annotations: Annotations, where: str) -> tuple[np.ndarray, np.ndarray]:
    """The annotation row of each run row, sorted, and the order of the run's rows that sorts them."""
    full_index = pd.Index(annotations.images)
    rows = full_index.get_indexer(run.images)
    missing = rows < 0
    ambiguous = np.zeros(len(rows), dtype=bool)
    if missing.any():
        names = [image_key(k) for k in annotations.images]
        by_name = _Lookup(names)
        run_names = [image_key(k) for k in run.images[missing]]
        found = by_name.rows(run_names)
        ambiguous[np.flatnonzero(missing)] = [n in by_name.shared.index for n in run_names]
        rows[missing] = found
        missing = rows < 0
        if missing.any():
            rows[missing] = _rows_without_extension([image_key(k) for k in run.images[missing]], names)
            missing = rows < 0
    ambiguous &= missing
    if ambiguous.any():
        shared = by_name.shared
        examples = [f"{quoted(k)} (file name shared by {format_offenders(annotations.images[shared[image_key(k)]])})"
                    for k in run.images[ambiguous][:3]]
        raise PairingError(
            f"{where}: {int(ambiguous.sum())} run keys pair only by a file name that several annotated images share, "
            f"so which image they mean is unknown: {'; '.join(examples)}; give run keys with the folders the "
            f"annotations use"
        )
    if missing.any():
        unknown = run.images[missing]
        raise PairingError(
            f"{where}: {len(unknown)} of {run.n_images} image keys are not in the annotations "
            f"({annotations.source or 'annotations'}, {annotations.n_images} images): "
            f"{format_offenders(unknown[:5], total=len(unknown))}{_near_misses(unknown[:5], annotations.images)}"
        )
    counts = np.bincount(rows, minlength=annotations.n_images)
    if (counts > 1).any():
        twice = annotations.images[counts > 1]
        raise PairingError(
            f"{where}: several run rows pair with the same annotated image (keys that differ only in their folders "
            f"or extensions); {format_offenders(twice[:5], total=len(twice))}"
        )
    order = np.argsort(rows, kind="stable")
    return rows[order], order


def _check_ids(run: Run, space: LabelSpace, where: str) -> None:
    """Class ids (and logits) must fit the label space the run is paired in."""
    k = len(space)
    if run.topk_ids.size and run.topk_ids.max() >= k:
        outside = (run.topk_ids >= k).any(axis=1)
        raise LabelSpaceError(
            f"{where}: class ids must lie in 0..{k - 1} (label space {space.name!r}); found "
            f"{format_offenders(pd.unique(run.topk_ids[run.topk_ids >= k]))} at images "
            f"{format_offenders(run.images[outside], total=int(outside.sum()))}"
        )
    if run.logits is not None and run.logits.shape[1] != k:
        raise LabelSpaceError(f"{where}: logits have {run.logits.shape[1]} classes but label space {space.name!r} "
                              f"has {k}")


def _near_misses(unknown: np.ndarray, images: np.ndarray) -> str:
    """Annotated images whose names differ from the unknown keys only in the extension (or its case)."""
    stems = pd.Series(images, index=[_stem(image_key(i)).lower() for i in images])
    hints = []
    for key in unknown:
        stem = _stem(image_key(key)).lower()
        if stem in stems.index:
            near = stems.loc[[stem]].tolist()
            hints.append(f"{quoted(key)} is close to {', '.join(quoted(n) for n in near[:2])}")
    if not hints:
        return ""
    return f"; near misses (the file extensions differ): {'; '.join(hints)}"


def _check_chance(paired: PairedRun, where: str, image_order: str | None, allow_chance: bool) -> None:
    """Near-chance accuracy on many images usually means a class-index or order mix-up.

    When the rows were keyed by position (a stated order), it is an error unless
    ``allow_chance``; otherwise a warning.
    """
    k = len(paired.label_space)
    if paired.n_images < max(_MIN_IMAGES_FOR_CHANCE_CHECK, 10 * k) or k < 10:
        return
    accuracy = float((paired.pred_index == paired.true_index).mean())
    if accuracy >= CHANCE_MULTIPLE / k:
        return
    found = f"{where}: top-1 accuracy {accuracy:.2%} on {paired.n_images} images is at chance level ({1 / k:.2%})"
    if image_order is not None and not allow_chance:
        raise PairingError(
            f"{found}. The rows were given image keys by position ({image_order}), so they most likely do not "
            f"follow that order: ImageFolder and most data loaders list images by class folder first, then file "
            f"name, while the canonical order is the sorted file names. Give the keys in the loader's order "
            f"(--order FILE) or save them with the predictions; if the model really is at chance, pass "
            f"--allow-chance (Python: allow_chance=True)"
        )
    warnings.warn(
        f"{found}; check that the run's class indices follow the label space's order "
        f"({paired.label_space.name!r}: sorted WordNet ids for ImageNet) and that image keys are file names",
        RelabelWarning,
        stacklevel=3,
    )
