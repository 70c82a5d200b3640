"""Inference: models evaluated on image folders or HF datasets → runs (``relabel predict``).

The first step of the data flow: it makes :class:`~relabel.loading.runs.Run` objects and
imports nothing of the later stages. :mod:`~relabel.inference.prediction` is the job,
:mod:`~relabel.inference.decode` reading and decoding images, :mod:`~relabel.inference.shards`
the shards on disk, :mod:`~relabel.inference.models` loading models,
:mod:`~relabel.inference.checkpoints` many models in one pass (decode once),
:mod:`~relabel.inference.cache` the decoded-image cache folder, :mod:`~relabel.inference.stages`
the stage clock (what bound a run), and :mod:`~relabel.inference.options` the closed
vocabularies of the settings.

Most of this package imports torch; ``import relabel`` (and ``relabel.inference.options``)
does not import it until ``relabel.predict`` or a name below is asked for.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from relabel.inference.checkpoints import ModelSpec, Predictions, predict_models, read_models
    from relabel.inference.data import IMAGE_SUFFIXES, ImageSource, open_images
    from relabel.inference.models import IMAGENET_MEAN, IMAGENET_STD, LoadedModel, Preprocess, load_model
    from relabel.inference.prediction import predict
    from relabel.inference.shards import shards_dir

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "IMAGE_SUFFIXES",
    "ImageSource",
    "LoadedModel",
    "ModelSpec",
    "Predictions",
    "Preprocess",
    "load_model",
    "open_images",
    "predict",
    "predict_models",
    "read_models",
    "shards_dir",
]

_WHERE = {
    "IMAGE_SUFFIXES": "data", "ImageSource": "data", "open_images": "data",
    "IMAGENET_MEAN": "models", "IMAGENET_STD": "models", "LoadedModel": "models", "Preprocess": "models",
    "load_model": "models", "predict": "prediction", "shards_dir": "shards",
    "ModelSpec": "checkpoints", "Predictions": "checkpoints", "predict_models": "checkpoints",
    "read_models": "checkpoints",
}


def __getattr__(name: str) -> Any:
    """The names above, imported (with torch) when first asked for."""
    if name in _WHERE:
        return getattr(import_module(f"relabel.inference.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'relabel.inference' has no attribute {name!r}")
