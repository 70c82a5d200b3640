"""HF ``datasets``: class-conditional augmentation through ``set_transform`` / ``with_transform``.

Stage: export, trainer side. ``Dataset.set_transform(fn)`` calls ``fn`` with a batch (a dict of
columns, each a list) whenever rows are read; :func:`batch_transform` makes that ``fn`` from a
class-conditional transform, so every image goes through its class's pipeline::

    transform = relabel.build_transform("overrides.json", default=pipeline, classes=train.features["label"].names)
    train.set_transform(relabel.trainers.hf.batch_transform(transform))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from relabel.errors import InputError
from relabel.transforms import ClassConditionalTransform

__all__ = ["batch_transform"]


def batch_transform(
    transform: ClassConditionalTransform,
    *,
    image_column: str = "image",
    label_column: str = "label",
    output_column: str | None = None,
) -> Callable[[dict[str, list[Any]]], dict[str, list[Any]]]:
    """A function for ``Dataset.set_transform`` / ``with_transform`` that applies ``transform`` per row.

    Each image of ``image_column`` goes through the pipeline of its row's ``label_column``
    class; the result replaces the image (or goes to ``output_column``, e.g.
    ``"pixel_values"``); every other column is passed through.
    """
    if not isinstance(transform, ClassConditionalTransform):
        raise TypeError(f"batch_transform takes a ClassConditionalTransform (relabel.build_transform(...)), got "
                        f"{type(transform).__name__}")
    target = output_column or image_column

    def apply(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        missing = [c for c in (image_column, label_column) if c not in batch]
        if missing:
            raise InputError(f"the dataset's rows have the columns {list(batch)}, not {missing[0]!r} "
                             f"(pass image_column= and label_column=)")
        out = dict(batch)
        out[target] = [transform(image, target=label) for image, label in zip(batch[image_column], batch[label_column])]
        return out

    return apply
