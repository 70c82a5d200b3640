"""Ranks under ``torchrun``: who am I, which device is mine, and agreeing on failure.

:func:`join` uses a process group that is already initialised, or initialises one from the
``torchrun`` environment (``WORLD_SIZE`` > 1; NCCL on CUDA, gloo on CPU) and destroys it again
when :meth:`Ranks.close` is called. Outside ``torchrun`` it is a single rank and every
collective is a no-op.

:meth:`Ranks.agree` is the one collective that error handling needs: every rank says whether
its step failed; if any did, every rank raises (the failing rank its own error, the others an
error that names the failing rank), so no rank is left waiting at a barrier.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from relabel.errors import RelabelError

__all__ = ["Ranks", "join"]


@dataclass
class Ranks:
    """This process's place among the ranks of a job."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1
    created_group: bool = False

    @property
    def is_main(self) -> bool:
        """Rank 0 merges the shards and reports progress and warnings."""
        return self.rank == 0

    def agree(self, error: BaseException | None) -> None:
        """Raise on every rank if ``error`` is set on any rank (after all ranks got here)."""
        if self.world == 1:
            if error is not None:
                raise error
            return
        statuses: list[Any] = [None] * self.world
        dist.all_gather_object(statuses, None if error is None else f"{type(error).__name__}: {error}")
        if error is not None:
            raise error
        failed = [(rank, status) for rank, status in enumerate(statuses) if status is not None]
        if failed:
            rank, status = failed[0]
            raise RelabelError(f"rank {rank} of {self.world} failed: {status}")

    def close(self) -> None:
        """Destroy the process group if :func:`join` created it."""
        if self.created_group and dist.is_initialized():
            dist.destroy_process_group()
            self.created_group = False


def join(device: str | None) -> Ranks:
    """Join the job's process group (or run alone); ``device`` is the requested device, if any."""
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    if dist.is_available() and dist.is_initialized():
        return Ranks(dist.get_rank(), dist.get_world_size(), local_rank, local_world)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Ranks()
    if not dist.is_available():
        raise RelabelError(f"WORLD_SIZE={world} but this PyTorch build has no torch.distributed")
    use_cuda = torch.cuda.is_available() and (device is None or device == "auto" or device.startswith("cuda"))
    if use_cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if use_cuda else "gloo")
    return Ranks(dist.get_rank(), dist.get_world_size(), local_rank, local_world, created_group=True)
