"""Inference: models evaluated on image folders or HF datasets → runs (``relabel predict``).

This package imports torch; ``import relabel`` does not import it until ``relabel.predict``
(or anything else from here) is asked for.
"""

from relabel.inference.data import IMAGE_SUFFIXES, ImageSource, open_images
from relabel.inference.models import IMAGENET_MEAN, IMAGENET_STD, LoadedModel, Preprocess, load_model
from relabel.inference.prediction import predict, shards_dir

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "IMAGE_SUFFIXES",
    "ImageSource",
    "LoadedModel",
    "Preprocess",
    "load_model",
    "open_images",
    "predict",
    "shards_dir",
]
