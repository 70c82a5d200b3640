"""Inference input: images read, decoded, resized and centre-cropped the way the model was evaluated.

Part of :mod:`relabel.inference` (the step that makes runs). Two routes give the same pixels:

* ``decode="cpu"``: DataLoader workers decode with PIL and resize and crop with torchvision's
  functional transforms (the standard evaluation pipeline); images travel as uint8 CHW;
* ``decode="device"``: workers send the encoded bytes of JPEGs the device can decode
  (:func:`device_decodable`), and :func:`decode_on_device` decodes, resizes and crops whole
  batches there (nvJPEG through ``torchvision.io.decode_jpeg`` on CUDA); every other file is
  decoded by PIL in the worker, as on the first route.

An image that cannot be read comes back as zeros with the reason, so that the job can fail or
skip it as the user asked.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
from torch.utils.data import Dataset

from relabel.inference.data import ImageSource
from relabel.inference.models import Preprocess

__all__ = ["DecodedImages", "EncodedImages", "collate_decoded", "collate_encoded", "decode_on_device",
           "device_decodable"]


_MODES = {"bilinear": "BILINEAR", "bicubic": "BICUBIC", "nearest": "NEAREST"}


def _interpolation(pre: Preprocess) -> Any:
    from torchvision.transforms import InterpolationMode

    return getattr(InterpolationMode, _MODES[pre.interpolation])


class DecodedImages(Dataset):
    """Image ``i`` decoded, resized and centre-cropped by PIL (torchvision's eval pipeline), as uint8 CHW."""

    def __init__(self, source: ImageSource, pre: Preprocess) -> None:
        self.source, self.pre = source, pre

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, str]:
        image, error = _pil_crop(partial(self.source.open_pil, index), self.pre)
        return image, index, error


class EncodedImages(Dataset):
    """Image ``i``'s encoded bytes (1-D uint8) if it is a JPEG the device decodes, else as
    :class:`DecodedImages` gives it.

    JPEGs are decoded later, in batches, on the device; anything else (see :func:`device_decodable`) is decoded,
    resized and cropped here by PIL, so that it gets exactly the pixels ``decode="cpu"`` gives it.
    """

    def __init__(self, source: ImageSource, pre: Preprocess) -> None:
        self.source, self.pre = source, pre

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, str]:
        try:
            data = self.source.read_bytes(index)
        except Exception as e:
            return torch.zeros(3, self.pre.crop_size, self.pre.crop_size, dtype=torch.uint8), index, _reason(e)
        if not data:
            return torch.zeros(3, self.pre.crop_size, self.pre.crop_size, dtype=torch.uint8), index, "empty file"
        if device_decodable(data):
            return torch.frombuffer(bytearray(data), dtype=torch.uint8), index, ""
        image, error = _pil_crop(partial(_open_rgb, data), self.pre)
        return image, index, error


def _pil_crop(open_image: Callable[[], Any], pre: Preprocess) -> tuple[torch.Tensor, str]:
    """The opened image resized and centre-cropped by PIL, as uint8 CHW; or zeros and why it could not be read."""
    from torchvision.transforms import functional as F

    try:
        image = open_image()
        image = F.resize(image, [pre.resize_size], interpolation=_interpolation(pre), antialias=True)
        image = F.center_crop(image, [pre.crop_size])
        return F.pil_to_tensor(image), ""
    except Exception as e:  # PIL raises OSError, SyntaxError, ValueError, DecompressionBombError, …
        return torch.zeros(3, pre.crop_size, pre.crop_size, dtype=torch.uint8), _reason(e)


def _open_rgb(data: bytes) -> Any:
    """Encoded bytes decoded by PIL, in RGB (as :meth:`ImageSource.open_pil` decodes a file)."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


#: Frame types (SOFn markers) decoded on the device: baseline, extended and progressive Huffman-coded JPEG.
_DEVICE_FRAMES = (0xC0, 0xC1, 0xC2)
#: Markers without a length field.
_STANDALONE = frozenset([0x01, *range(0xD0, 0xD8)])


def device_decodable(data: bytes) -> bool:
    """Whether ``data`` is a JPEG that ``decode_jpeg`` decodes on the device: 8-bit, Huffman-coded, grey or YCbCr.

    Everything else is left to PIL, which reads it as ``decode="cpu"`` does: PNG, BMP, TIFF, GIF, WebP, CMYK and
    YCCK JPEGs (torchvision leaves them out of its nvJPEG tests), JPEGs coded in RGB (Adobe transform 0),
    arithmetic-coded, lossless or 12-bit JPEGs, and files whose header cannot be read.
    """
    if data[:2] != b"\xff\xd8":
        return False
    i, adobe_rgb = 2, False
    while i + 3 < len(data):
        if data[i] != 0xFF:
            return False
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
        elif marker in _STANDALONE:
            i += 2
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # the frame header: SOFn
            if i + 9 >= len(data):
                return False
            components = data[i + 9]
            return (marker in _DEVICE_FRAMES and data[i + 4] == 8 and components in (1, 3)
                    and not (components == 3 and adobe_rgb))
        elif marker in (0xD9, 0xDA):  # end of image, or a scan before any frame header
            return False
        else:
            if marker == 0xEE and data[i + 4:i + 9] == b"Adobe" and i + 15 < len(data):
                adobe_rgb = data[i + 15] == 0  # colour transform 0: RGB or CMYK, not YCbCr or YCCK
            i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    return False


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def collate_decoded(items: list[tuple[torch.Tensor, int, str]]) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """A batch of :class:`DecodedImages` items: stacked images, their indices, their errors."""
    images, indices, errors = zip(*items)
    return torch.stack(images), torch.tensor(indices, dtype=torch.int64), list(errors)


def collate_encoded(items: list[tuple[torch.Tensor, int, str]]) -> tuple[list[torch.Tensor], torch.Tensor, list[str]]:
    """A batch of :class:`EncodedImages` items: the list of byte tensors and images, indices, errors."""
    data, indices, errors = zip(*items)
    return list(data), torch.tensor(indices, dtype=torch.int64), list(errors)


def decode_on_device(data: list[torch.Tensor], device: torch.device,
                     pre: Preprocess) -> tuple[torch.Tensor, list[str]]:
    """Decode a batch of encoded JPEGs on ``device``, then resize and crop them there.

    ``data`` holds encoded JPEGs (1-D) and images the workers already decoded, resized and cropped (3-D). The JPEGs
    are decoded together with ``torchvision.io.decode_jpeg`` (nvJPEG on CUDA); when the batch call fails, each is
    decoded alone, and one the device decoder refuses is decoded by PIL. Images of the same size are resized
    together.
    """

    with warnings.catch_warnings():  # torchvision 0.29 deprecates its decoders in favour of TorchCodec
        warnings.simplefilter("ignore", DeprecationWarning)
        return _decode_and_resize(data, device, pre)


def _decode_and_resize(data: list[torch.Tensor], device: torch.device,
                       pre: Preprocess) -> tuple[torch.Tensor, list[str]]:
    from torchvision.io import ImageReadMode, decode_jpeg
    from torchvision.transforms import functional as F

    size = pre.crop_size
    out = torch.zeros(len(data), 3, size, size, dtype=torch.uint8, device=device)
    errors = [""] * len(data)
    ready = [i for i, d in enumerate(data) if d.ndim == 3]
    if ready:
        out[ready] = torch.stack([data[i] for i in ready]).to(device)
    jpegs = [i for i, d in enumerate(data) if d.ndim == 1]
    decoded: dict[int, torch.Tensor] = {}
    if jpegs:
        try:
            decoded = dict(zip(jpegs, decode_jpeg([data[i] for i in jpegs], mode=ImageReadMode.RGB, device=device)))
        except RuntimeError:  # one bad file fails the whole batch
            for i in jpegs:
                try:
                    decoded[i] = decode_jpeg(data[i], mode=ImageReadMode.RGB, device=device)
                except RuntimeError:  # PIL reads it as decode="cpu" does, or names the problem
                    image, errors[i] = _pil_crop(partial(_open_rgb, data[i].numpy().tobytes()), pre)
                    out[i] = image.to(device)
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, image in decoded.items():
        by_shape.setdefault(tuple(image.shape[-2:]), []).append(i)
    for rows in by_shape.values():
        group = torch.stack([decoded[i] for i in rows])
        group = F.resize(group, [pre.resize_size], interpolation=_interpolation(pre), antialias=True)
        out[rows] = F.center_crop(group, [size])
    return out, errors
