"""The stages of a prediction and the clock that times them: which stage bound the run.

Part of :mod:`relabel.inference`. A prediction's main loop does three things per batch:

* **decode**: wait for the next batch of decoded, resized, cropped uint8 images (from the
  DataLoader workers, from decoding on the device, or from a decoded-image store);
* **copy**: move the batch to the model's device (host-to-device; nothing on the CPU);
* **model**: scale and normalise, the forward pass, softmax and top-k.

:class:`StageClock` sums the seconds of each stage (host wall time; on CUDA the copy and model
stages are timed with CUDA events, so they are device time, not launch time) and the images
scored (an unreadable image left out with ``on_error="skip"`` is not counted). The stage with
the most seconds *bound* the run: it is the one a faster implementation would have to speed
up. Decode time is the time the loop *waited*: decoding that DataLoader workers do while the
model runs costs nothing here, so a run whose workers keep up is bound by the model. A
multi-model pass decodes once before the models run; each model's record adds its share of that
pass (its seconds divided by the models it was decoded for).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch

__all__ = ["STAGES", "Batch", "Feed", "StageClock"]

#: The stages, in the order a batch goes through them.
STAGES = ("decode", "copy", "model")

#: A batch as the model loop takes it: uint8 NCHW images, their source indices, and per image
#: an error text (empty when the image was read).
Batch = tuple[torch.Tensor, torch.Tensor, list[str]]
#: Decoded batches for a list of shards (``Callable[[list[Shard]], Iterator[Batch]]``).
Feed = Callable[[list[Any]], Iterator[Batch]]


class StageClock:
    """Seconds per stage and images counted, for one model's loop over its images."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.images = 0
        self._began: float | None = None
        self.wall = 0.0
        self._events: list[tuple[str, Any, Any]] = []

    def start(self) -> None:
        self._began = time.perf_counter()

    def stop(self) -> None:
        if self._began is not None:
            self.wall += time.perf_counter() - self._began
            self._began = None
        self._collect(wait=True)

    def count(self, n: int) -> None:
        self.images += n

    @contextlib.contextmanager
    def host(self, stage: str) -> Iterator[None]:
        """Time a stage on the host (wall clock)."""
        began = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - began

    @contextlib.contextmanager
    def device(self, stage: str) -> Iterator[None]:
        """Time a stage on the device: CUDA events on CUDA (read later, without waiting), else the wall clock."""
        if not self.cuda:
            with self.host(stage):
                yield
            return
        begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        begin.record()
        try:
            yield
        finally:
            end.record()
            self._events.append((stage, begin, end))

    def _collect(self, wait: bool) -> None:
        while self._events:
            stage, begin, end = self._events[0]
            if wait:
                end.synchronize()
            elif not end.query():
                return
            self.seconds[stage] += begin.elapsed_time(end) / 1000.0
            self._events.pop(0)

    def _elapsed(self) -> float:
        return self.wall + (time.perf_counter() - self._began if self._began is not None else 0.0)

    def status(self) -> str:
        """The progress line's part: images/s so far and the stage that bound the run so far."""
        self._collect(wait=False)
        elapsed = self._elapsed()
        rate = self.images / elapsed if elapsed > 0 else 0.0
        return f"{rate:.1f} img/s, bound: {bound(self.seconds)}"

    def summary(self, shared_decode: tuple[float, int] | None = None) -> dict[str, Any]:
        """The record a run's metadata keeps (``throughput`` in ``relabel.origin``).

        ``shared_decode`` is ``(seconds, models)`` of a decode pass done once for ``models`` models before this
        loop; this loop is charged ``seconds / models`` of it.
        """
        self._collect(wait=True)
        seconds = dict(self.seconds)
        wall = self.wall
        record: dict[str, Any] = {}
        if shared_decode is not None:
            pass_seconds, models = shared_decode
            share = pass_seconds / max(1, models)
            seconds["decode"] += share
            wall += share
            record["decode_pass"] = {"seconds": round(pass_seconds, 6), "models": int(models)}
        record.update({
            "images": int(self.images),
            "seconds": round(wall, 6),
            "images_per_s": round(self.images / wall, 3) if wall > 0 else None,
            "stage_seconds": {k: round(v, 6) for k, v in seconds.items()},
            "bound": bound(seconds),
        })
        return record


def bound(seconds: dict[str, float]) -> str:
    """The stage with the most seconds (the first in :data:`STAGES` order on a tie)."""
    return max(STAGES, key=lambda stage: (seconds.get(stage, 0.0), -STAGES.index(stage)))
