"""Decoded images held for a multi-model pass: the uint8 store the models read, and filling it.

Part of :mod:`relabel.inference`, shared by the pass (:mod:`relabel.inference.checkpoints`) and
the decode cache (:mod:`relabel.inference.cache`), which keeps a store in a file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch

from relabel.errors import RelabelError
from relabel.inference.shards import Shard
from relabel.inference.stages import Batch

__all__ = ["DecodedStore", "fill"]


class DecodedStore:
    """Decoded, resized, cropped uint8 images (``rows`` × 3 × crop × crop) for some shards of a source.

    ``images`` is a tensor on the device, in host memory or over a memory-mapped file; ``errors[i]`` is why image
    row ``i`` could not be read (empty when it was). ``starts`` maps a shard's first image index to its first row.
    """

    def __init__(self, images: torch.Tensor, errors: list[str], shards: Sequence[Shard]) -> None:
        self.images, self.errors = images, errors
        self.starts: dict[int, int] = {}
        row = 0
        for shard in shards:
            self.starts[shard.start] = row
            row += shard.stop - shard.start
        if row != len(images):
            raise RelabelError(f"decoded store: {len(images)} images for shards of {row}")

    def batches(self, shards: list[Shard], batch_size: int) -> Iterator[Batch]:
        """The images of ``shards`` in the batches a single prediction makes (``batch_size``, none across shards)."""
        for shard in shards:
            first = self.starts[shard.start]
            for begin in range(shard.start, shard.stop, batch_size):
                end = min(begin + batch_size, shard.stop)
                rows = slice(first + begin - shard.start, first + end - shard.start)
                yield (self.images[rows], torch.arange(begin, end, dtype=torch.int64), self.errors[rows])


def fill(job: Any, shards: list[Shard], images: torch.Tensor) -> list[str]:
    """Decode the images of ``shards`` with ``job``'s decode route into ``images`` (rows in shard order).

    An unreadable image with ``on_error="fail"`` stops here, with the message a single prediction gives.
    """
    from relabel.progress import progress

    errors: list[str] = []
    row = 0
    batches = job._loader(shards)
    total = sum(s.stop - s.start for s in shards)
    if job.ranks.is_main:
        counted = progress(_counted(batches), desc=f"decode {job.loaded.preprocess.crop_size}px", total=total,
                           unit="img")
    else:
        counted = _counted(batches)
    batch: Batch | None = None
    for item in counted:
        if item is None:
            continue
        batch = item
        decoded, indices, batch_errors = batch
        job._check_errors(indices, batch_errors)
        images[row:row + len(decoded)] = decoded.to(images.device)
        errors += batch_errors
        row += len(decoded)
    return errors


def _counted(batches: Iterator[Batch]) -> Iterator[Batch | None]:
    """Each batch, then one ``None`` per further image, so that a progress bar counts images."""
    for batch in batches:
        yield batch
        for _ in range(len(batch[1]) - 1):
            yield None
