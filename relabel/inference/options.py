"""The closed vocabularies of ``relabel predict``: precision, where to decode, unreadable images, interpolation.

Torch-free, so that the command line can offer the same words (``click.Choice``) without
importing torch when it starts.
"""

from __future__ import annotations

from relabel._vocab import Vocabulary
from relabel.errors import InputError

__all__ = ["Precision", "Decode", "OnError", "Interpolation"]


class Precision(Vocabulary, noun="precision", error=InputError):
    """Number format of the forward pass: ``auto`` is bf16 autocast on CUDA (fp16 before compute capability 8.0),
    fp32 on CPU."""

    AUTO = "auto"
    BF16 = "bf16"
    FP16 = "fp16"
    FP32 = "fp32"


class Decode(Vocabulary, noun="decode place", error=InputError):
    """Where images are decoded and resized: in CPU workers (PIL), or in batches on the model's device."""

    CPU = "cpu"
    DEVICE = "device"


class OnError(Vocabulary, noun="on-error choice", error=InputError):
    """What an unreadable image does: stop the run, or be left out with a warning."""

    FAIL = "fail"
    SKIP = "skip"


class Interpolation(Vocabulary, noun="interpolation", error=InputError):
    """Resize interpolations of the evaluation preprocessing."""

    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    NEAREST = "nearest"
