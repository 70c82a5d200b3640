"""Thumbnails of the report's example images: small JPEGs embedded in the page as ``data:`` URIs.

Stage beside :mod:`relabel.report` (which opens no file): :func:`add_thumbnails` reads each
example image of a :class:`~relabel.report.Report` (:attr:`Report.examples`, at most 12 a card)
from an image folder, resizes it with Pillow to fit ``size`` × ``size`` pixels (aspect kept,
Lanczos), and encodes it as a JPEG of ``quality``. An image key is a path relative to the folder;
a key that leaves the folder (``..``, an absolute path, a link pointing out) is refused, a key
with no file is skipped (the card lists it as text).

Bound: a 96-pixel JPEG at quality 70 is 2-8 KB (about 11 KB as base64 at worst, noise), so 20
affected classes with 12 images each add at most about 2.6 MB to the page; the stated limit,
tested, is a page of at most 5 MB for 20 affected classes with thumbnails.
"""

from __future__ import annotations

import base64
import io
from dataclasses import replace
from pathlib import Path

from relabel.errors import InputError
from relabel.report.content import Report

__all__ = ["add_thumbnails", "thumbnail"]


def thumbnail(path: str | Path, *, size: int = 96, quality: int = 70) -> str:
    """The image at ``path`` as a ``data:image/jpeg;base64,…`` URI of at most ``size`` pixels a side."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale
            small = image.convert("RGB")
            small.thumbnail((size, size), Image.Resampling.LANCZOS)
    except (OSError, UnidentifiedImageError, ValueError) as err:
        raise InputError(f"image {path}: cannot be read as an image ({err})") from None
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=quality, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _inside(root: Path, key: str) -> Path | None:
    """``root/key`` when it is a file inside ``root``; ``None`` when there is no such file."""
    relative = Path(key)
    if relative.is_absolute() or ".." in relative.parts:
        raise InputError(f"--images {root}: image key {key!r} leaves the image folder (absolute or '..')")
    path = root / relative
    if not path.is_file():
        return None
    if not path.resolve().is_relative_to(root.resolve()):
        raise InputError(f"--images {root}: image key {key!r} is a link to {path.resolve()}, outside the image folder")
    return path


def add_thumbnails(report: Report, root: str | Path, *, size: int = 96, quality: int = 70) -> Report:
    """``report`` with a thumbnail of every example image found under the folder ``root``.

    Keys of :attr:`Report.examples` are paths relative to ``root``; one without a file is left
    out (the page lists the key). Raises :class:`~relabel.errors.InputError` for a folder that
    is not there, a key that leaves it, or a file that is not an image (naming the file).
    """
    folder = Path(root)
    if not folder.is_dir():
        raise InputError(f"--images {folder}: not a folder")
    thumbnails = dict(report.thumbnails)
    for examples in report.examples.values():
        for key in examples.keys():
            if key in thumbnails:
                continue
            path = _inside(folder, key)
            if path is not None:
                thumbnails[key] = thumbnail(path, size=size, quality=quality)
    return replace(report, thumbnails=thumbnails)
