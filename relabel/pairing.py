"""Pairing: join a run to the annotations by image key, never by position.

A run key pairs with an annotation when the two keys are equal, or else when their file names
are (``val/n01440764/ILSVRC2012_val_00000293.JPEG`` pairs with
``ILSVRC2012_val_00000293.JPEG``). Paired images are kept in annotation order, so the order
of a run's rows never matters.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from relabel.errors import PairingError, RelabelWarning, format_offenders
from relabel.labelspace import LabelSpace
from relabel.loading.annotations import Annotations, image_key
from relabel.loading.runs import Run, RunMeta

__all__ = ["PairedRun", "pair"]

#: Warn when a run's top-1 accuracy is below this multiple of chance (1 / K).
CHANCE_MULTIPLE = 2.0
_MIN_IMAGES_FOR_CHANCE_CHECK = 1000


@dataclass(frozen=True)
class PairedRun:
    """A run aligned with its annotations: row ``i`` is annotation row ``rows[i]``."""

    meta: RunMeta
    annotations: Annotations
    rows: np.ndarray
    pred_index: np.ndarray
    source: str = ""

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


def _basename_index(keys: np.ndarray) -> pd.Index | None:
    names = pd.Index([image_key(k) for k in keys])
    return names if names.is_unique else None


def pair(run: Run, annotations: Annotations) -> PairedRun:
    """Join ``run`` to ``annotations`` by image key.

    Raises :class:`~relabel.errors.PairingError` for run keys the annotations do not know and
    for two run rows that name the same annotated image. A run may cover only part of the
    annotated images; it is evaluated on what it covers.
    """
    where = run.source or f"run {run.meta.name!r}"
    full_index = pd.Index(annotations.images)
    rows = full_index.get_indexer(run.images)
    missing = rows < 0
    if missing.any():
        by_name = _basename_index(annotations.images)
        if by_name is not None:
            rows[missing] = by_name.get_indexer([image_key(k) for k in run.images[missing]])
            missing = rows < 0
    if missing.any():
        unknown = run.images[missing]
        raise PairingError(
            f"{where}: {len(unknown)} of {run.n_images} image keys are not in the annotations "
            f"({annotations.source or 'annotations'}, {annotations.n_images} images): "
            f"{format_offenders(unknown[:5], total=len(unknown))}"
        )
    counts = np.bincount(rows, minlength=annotations.n_images)
    if (counts > 1).any():
        twice = annotations.images[counts > 1]
        raise PairingError(
            f"{where}: several run rows pair with the same annotated image (keys that differ only in their folders); "
            f"{format_offenders(twice[:5], total=len(twice))}"
        )
    order = np.argsort(rows, kind="stable")
    paired = PairedRun(run.meta, annotations, rows[order], run.top1[order], where)
    _warn_if_chance(paired, where)
    return paired


def _warn_if_chance(paired: PairedRun, where: str) -> None:
    """Near-chance accuracy on many images usually means a class-index or order mix-up."""
    k = len(paired.label_space)
    if paired.n_images < max(_MIN_IMAGES_FOR_CHANCE_CHECK, 10 * k) or k < 10:
        return
    accuracy = float((paired.pred_index == paired.true_index).mean())
    if accuracy < CHANCE_MULTIPLE / k:
        warnings.warn(
            f"{where}: top-1 accuracy {accuracy:.2%} on {paired.n_images} images is at chance level ({1 / k:.2%}); "
            f"check that the run's class indices follow the label space's order "
            f"({paired.label_space.name!r}: sorted WordNet ids for ImageNet) and that image keys are file names",
            RelabelWarning,
            stacklevel=2,
        )
