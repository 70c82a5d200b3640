"""Inference: a model evaluated on images → a :class:`~relabel.loading.runs.Run`.

Stage: before loading (it makes runs). :func:`predict` returns a Run whose ``images`` are the
source's keys in order (skipped unreadable images left out), ``topk_ids`` the top-k classes
(top-1 first), ``topk_scores`` their softmax probabilities (float32) and, with
``keep_logits``, the full logits (float32, one column per class).

How it is fast: images are decoded and resized in parallel DataLoader workers (PIL, the
standard torchvision eval pipeline) and travel as uint8 in pinned memory; scaling and
normalisation happen on the device; the model runs in ``torch.inference_mode`` with
channels-last memory and bf16 autocast on CUDA; results come back to the host one batch
late, so the device never waits for the host. ``decode="device"`` instead sends the encoded
JPEG bytes and decodes and resizes batches on the device (nvJPEG through
``torchvision.io.decode_jpeg`` on CUDA).

How it resumes: with ``out``, results are written in shards of ``shard_size`` images
(``OUT.shards/shard-00000.parquet``, each written atomically) next to a ``plan.json`` that
records what the shards were made from (the images' keys, sizes, modification and change
times, model parameters, preprocessing, precision, top-k). A rerun with the same plan skips the finished shards; the final file is
assembled and written atomically only when every shard is there, so an interrupted run never
leaves a partial ``OUT``. Under ``torchrun`` each rank takes every ``world``-th shard, and
rank 0 merges them in image order after all ranks are done: the output is the same, row for
row, as a single process's.

How it reports: the batch loop times its stages (waiting for decoded images, the copy to the
device, the model; :mod:`relabel.inference.stages`); the progress line shows images/s and the
stage that bound the run, and the run file's ``relabel.origin`` metadata keeps the record
(``throughput``) next to the model and the plan's hash (``plan_sha256``). Many models over the
same images, decoded once: :mod:`relabel.inference.checkpoints`.

This module is the job (options, device, the batch loop); decoding is
:mod:`relabel.inference.decode`, shards on disk :mod:`relabel.inference.shards`, and the run
file's schema :mod:`relabel.loading.runs` (inference makes runs: it imports nothing of the
later stages).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from relabel._vocab import Vocabulary
from relabel.errors import InputError, LabelSpaceError
from relabel.inference.data import IMAGE_SUFFIXES, ImageSource, image_identities, open_images
from relabel.inference.decode import (
    DecodedImages,
    EncodedImages,
    collate_decoded,
    collate_encoded,
    decode_on_device,
)
from relabel.inference.distributed import Ranks, join
from relabel.inference.stages import Batch, Feed, StageClock
from relabel.inference.models import LoadedModel, Preprocess, load_model
from relabel.inference.options import Decode, OnError, Precision
from relabel.inference.shards import (
    PLAN_VERSION,
    Shard,
    ShardResult,
    ShardWriter,
    assemble,
    finished,
    merge,
    prepare,
    read_run,
    shards_dir,
)
from relabel.labelspace import LabelSpace, load_label_space
from relabel.loading.runs import DEFAULT_TOPK, Run, RunMeta, check_meta_fields
from relabel.progress import progress

__all__ = ["predict", "Precision", "Decode", "OnError", "shards_dir"]


DEFAULT_SHARD_SIZE = 1024


def predict(
    model: str | Path | nn.Module | LoadedModel,
    data: Any,
    *,
    label_space: LabelSpace | str | Path | Sequence[str] | None = None,
    out: str | Path | None = None,
    name: str | None = None,
    group: str | None = None,
    strength: float | None = None,
    seed: int | None = None,
    topk: int = DEFAULT_TOPK,
    keep_logits: bool = False,
    arch: str | None = None,
    weights: str | None = None,
    num_classes: int | None = None,
    preprocess: Preprocess | None = None,
    split: str | None = None,
    image_column: str | None = None,
    key_column: str | None = None,
    device: str | torch.device | None = None,
    precision: Precision | str = "auto",
    batch_size: int | None = None,
    workers: int | None = None,
    decode: Decode | str = "cpu",
    channels_last: bool = True,
    shard_size: int = DEFAULT_SHARD_SIZE,
    on_error: OnError | str = "fail",
    restart: bool = False,
    trust_program: bool = False,
) -> Run:
    """Evaluate ``model`` on the images of ``data`` and return (and with ``out``, write) a run.

    Parameters
    ----------
    model
        A torchvision model name (with ``weights``), a timm model name (if timm is installed),
        a checkpoint file (with ``arch``), a TorchScript or ``.pt2`` file, an ``nn.Module`` or
        a :class:`LoadedModel`; see :func:`relabel.inference.load_model`.
    data
        A folder of images (flat, or an ImageFolder tree), a folder saved with
        ``datasets.save_to_disk``, or an HF ``datasets`` Dataset/DatasetDict; see
        :func:`relabel.inference.open_images` for the image keys.
    label_space
        When given, the model's output size must equal its size; the run's class ids index it.
    out
        The run file (Parquet) to write; shards go to ``OUT.shards/`` meanwhile and are
        removed once ``out`` is written. Required under ``torchrun``.
    name, group, strength, seed
        Run metadata (``name`` defaults to ``out``'s stem, else the model's name).
    topk, keep_logits
        Top-k ids and softmax scores are kept (``topk`` at most the class count); full logits
        only when asked.
    preprocess
        Replaces the model's own preprocessing (torchvision weights' or timm's; else resize
        256, centre crop 224, ImageNet mean and std).
    device, precision
        ``None``/``"auto"`` picks ``cuda`` (this rank's GPU) when available, else ``cpu``.
        ``"auto"`` precision is bf16 autocast on CUDA (fp16 on GPUs older than compute
        capability 8.0, which only emulate bf16) and fp32 on CPU.
    batch_size, workers
        Images per forward pass (default 256 on CUDA, 32 on CPU) and DataLoader decode
        workers (default: the CPU cores per local rank less one, at most 16; 0 decodes in
        the main process).
    decode
        ``"cpu"``: decode and resize in the workers (PIL); ``"device"``: decode and resize
        batches on the model's device (nvJPEG on CUDA; non-JPEG files are decoded on the CPU).
    on_error
        An unreadable or corrupt image stops the run (``"fail"``) or is left out with a
        warning that counts and names them (``"skip"``).
    shard_size, restart
        Images per shard; ``restart`` discards the shards of an earlier, different run
        instead of refusing to mix them.
    trust_program
        Load a TorchScript or ``torch.export`` file, which runs what it holds (see
        :func:`~relabel.inference.load_model`).

    The module is prepared in place: evaluation mode, moved to the device, channels-last (an
    exported program is moved to the device whole, and a module taken from it is run).

    Examples
    --------
    Two one-colour images and a linear model that scores red minus blue (class 0) and blue
    minus red (class 1):

    >>> import tempfile, torch
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> folder = Path(tempfile.mkdtemp())
    >>> for i, colour in enumerate(["red", "blue"]):
    ...     Image.new("RGB", (40, 30), colour).save(folder / f"img{i}.jpg")
    >>> model = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(3, 2))
    >>> with torch.no_grad():
    ...     _ = model[2].weight.copy_(torch.tensor([[1.0, 0.0, -1.0], [-1.0, 0.0, 1.0]]))
    ...     _ = model[2].bias.zero_()
    >>> run = predict(model, folder, preprocess=Preprocess(resize_size=32, crop_size=32), workers=0)
    >>> run.images.tolist(), run.top1.tolist(), run.topk_ids.shape
    (['img0.jpg', 'img1.jpg'], [0, 1], (2, 2))
    """
    settings = _check_options(topk, batch_size, workers, shard_size, precision, decode, on_error, keep_logits,
                              channels_last)
    meta_fields = check_meta_fields({"name": name, "group": group, "strength": strength, "seed": seed},
                                    where="predict")
    space = load_label_space(label_space) if label_space is not None else None
    if out is not None:
        check_out(out, data)
    loaded = load_model(model, arch=arch, weights=weights, num_classes=num_classes, trust_program=trust_program)
    if preprocess is not None:
        loaded = loaded.with_preprocess(preprocess)
    source = open_images(data, split=split, image_column=image_column, key_column=key_column)
    meta = RunMeta(**{"name": Path(out).stem if out is not None else loaded.name, **meta_fields})

    ranks = join(None if device is None else str(device))
    try:
        if ranks.world > 1 and out is None:
            raise InputError("predict under torchrun needs out=: the ranks exchange their shards through files")
        device = _pick_device(device, ranks)
        job = _Job(loaded, source, space, device, settings, ranks)
        return job.run(meta, None if out is None else Path(out), restart)
    finally:
        ranks.close()


def check_out(out: str | Path, data: Any) -> None:
    """Refuse an output path before anything is computed: one of the input images, or a name not ending in .parquet.

    A run is written in relabel's Parquet schema (:func:`relabel.write_run`), so ``out`` must
    end in ``.parquet`` (a ``.csv`` name would hold Parquet); ``out`` inside the image folder
    ``data`` at an image file (or at ``data`` itself) would overwrite an input.
    """
    target = Path(out).resolve()
    if isinstance(data, (str, Path)):
        root = Path(data).resolve()
        image = target.is_file() and target.suffix.lower() in IMAGE_SUFFIXES
        if target == root or (image and target.is_relative_to(root)):
            raise InputError(f"predict: out={str(out)!r} is one of the input images (under {data}); writing the run "
                             f"there would overwrite it")
    if target.suffix.lower() != ".parquet":
        raise InputError(f"predict: out={str(out)!r}: a run is written in relabel's Parquet schema, so its name must "
                         f"end in .parquet (supported: .parquet; relabel evaluate and pandas.read_parquet read it)")


@dataclass(frozen=True)
class _Settings:
    topk: int
    batch_size: int | None
    workers: int | None
    shard_size: int
    precision: str
    decode: str
    on_error: str
    keep_logits: bool = False
    channels_last: bool = True


def _check_options(topk: int, batch_size: int | None, workers: int | None, shard_size: int, precision: str,
                   decode: str, on_error: str, keep_logits: bool, channels_last: bool) -> _Settings:
    def positive(value: Any, what: str, minimum: int = 1) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise InputError(f"predict: {what} must be an integer >= {minimum}; found {value!r}")

    positive(topk, "topk")
    positive(shard_size, "shard_size")
    if batch_size is not None:
        positive(batch_size, "batch_size")
    if workers is not None:
        positive(workers, "workers", 0)
    def word(value: Any, vocabulary: type[Vocabulary], what: str) -> str:
        if value not in vocabulary.choices():
            raise InputError(f"predict: {what} must be one of {vocabulary.choices()}; found {value!r}")
        return str(vocabulary(value).value)  # plain text: it goes into the plan

    return _Settings(int(topk), batch_size, workers, int(shard_size), word(precision, Precision, "precision"),
                     word(decode, Decode, "decode"), word(on_error, OnError, "on_error"), bool(keep_logits),
                     bool(channels_last))


def _resolve_precision(precision: str, device_type: str, capability: tuple[int, int] | None) -> str:
    """``precision`` with ``"auto"`` made concrete: bf16 on GPUs that compute in bf16 (compute capability 8.0 and up:
    A100, H100, …), fp16 on older GPUs, fp32 elsewhere.

    Not ``torch.cuda.is_bf16_supported()``: it also says yes where bf16 is only emulated (V100, T4), where bf16
    autocast is slow or fails.
    """
    if precision != "auto":
        return precision
    if device_type != "cuda":
        return "fp32"
    return "bf16" if capability is not None and tuple(capability) >= (8, 0) else "fp16"


def _pick_device(device: str | torch.device | None, ranks: Ranks) -> torch.device:
    if device is None or str(device) == "auto":
        return torch.device("cuda", ranks.local_rank) if torch.cuda.is_available() else torch.device("cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError as e:
        raise InputError(f"predict: unknown device {str(device)!r} ({e})") from None
    if chosen.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError(f"predict: device {str(device)!r} asked for, but CUDA is not available here")
        if chosen.index is None:
            chosen = torch.device("cuda", ranks.local_rank)
        if chosen.index >= torch.cuda.device_count():
            raise InputError(f"predict: device {str(chosen)!r} asked for, but {torch.cuda.device_count()} CUDA "
                             f"device(s) are visible here")
    return chosen


# ---------------------------------------------------------------- the job


class _Job:
    def __init__(self, loaded: LoadedModel, source: ImageSource, space: LabelSpace | None, device: torch.device,
                 settings: _Settings, ranks: Ranks, feed: Feed | None = None) -> None:
        self.loaded, self.source, self.space, self.device, self.ranks = loaded, source, space, device, ranks
        self.feed = feed
        self.clock = StageClock(device)
        self.cuda = device.type == "cuda"
        if self.cuda:
            # pinned memory and collectives on this rank's GPU, not GPU 0; set before the first collective, as NCCL
            # exchanges objects in the current device's memory and a group the caller set up may not have set it
            torch.cuda.set_device(device)
        capability = torch.cuda.get_device_capability(device) if self.cuda else None
        precision = _resolve_precision(settings.precision, device.type, capability)
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        workers = settings.workers
        if workers is None:
            workers = max(0, min(16, cpus // max(1, ranks.local_world) - 1))
        self.batch_size: int = settings.batch_size or (256 if self.cuda else 32)
        self.workers: int = workers
        self.settings = replace(settings, batch_size=self.batch_size, workers=workers, precision=precision)
        n = len(source)
        size = self.settings.shard_size
        self.shards = [Shard(i, start, min(start + size, n)) for i, start in enumerate(range(0, n, size))]
        self.mine = [s for s in self.shards if s.index % ranks.world == ranks.rank]
        #: decode seconds spent before this job on its behalf (a shared decode pass, see :mod:`.checkpoints`)
        self.extra_decode: tuple[float, int] | None = None
        self._plan: dict[str, Any] | None = None

    # -- the plan of a sharded run

    def plan(self) -> dict[str, Any]:
        """What the shards are made from (computed once: it hashes the model's parameters)."""
        if self._plan is not None:
            return self._plan
        # the images as they are now (keys, sizes, modification and change times): a finished run or shard of
        # files changed since is not this plan's
        images = hashlib.sha256(json.dumps(image_identities(self.source)).encode()).hexdigest()
        self._plan = {
            "version": PLAN_VERSION,
            "n_images": len(self.source),
            "images_sha256": images,
            "shard_size": self.settings.shard_size,
            "model": self.loaded.description,
            "model_sha256": self.loaded.fingerprint(),
            "preprocess": self.loaded.preprocess.to_dict(),
            "precision": self.settings.precision,
            "decode": self.settings.decode,
            "topk": self.settings.topk,
            "keep_logits": self.settings.keep_logits,
        }
        return self._plan

    def plan_id(self) -> str:
        """The hash of :meth:`plan`: what a shard (and a finished run) records it was made under."""
        return hashlib.sha256(json.dumps(self.plan(), sort_keys=True).encode()).hexdigest()

    def run(self, meta: RunMeta, out: Path | None, restart: bool) -> Run:
        if out is None:
            results = list(self._drive(self.mine, sink=None))
            return assemble(meta, results, source=f"predict({self.loaded.name})")
        folder = shards_dir(out)
        plan = self.plan()
        plan_id = self.plan_id()
        error: BaseException | None = None
        if self.ranks.is_main:
            try:
                prepare(folder, plan, restart)
            except Exception as e:
                error = e
        self.ranks.agree(error)

        error = None
        try:
            todo = [s for s in self.mine if not finished(folder / s.file, s, plan_id)]
            done = len(self.mine) - len(todo)
            sink = ShardWriter(folder, plan_id)
            for _ in self._drive(todo, sink=sink, resumed=done):
                pass
        except Exception as e:
            error = e
        try:
            self.ranks.agree(error)
        except Exception:
            if self.ranks.is_main and not any(folder.glob("shard-*.parquet")):
                shutil.rmtree(folder, ignore_errors=True)  # nothing to resume: leave no trace
            raise

        error = None
        run = None
        if self.ranks.is_main:
            try:
                origin = {"model": plan["model"], "model_sha256": plan["model_sha256"], "plan_sha256": plan_id,
                          "throughput": self.clock.summary(self.extra_decode)}
                run = merge(folder, self.shards, plan_id, meta, out, origin=origin)
            except Exception as e:
                error = e
        self.ranks.agree(error)
        if run is None:
            return read_run(out, meta)
        shutil.rmtree(folder, ignore_errors=True)
        return run

    # -- inference

    def _drive(self, shards: list[Shard], *, sink: Callable[[ShardResult], None] | None,
               resumed: int = 0) -> Iterator[ShardResult]:
        """Run the model over ``shards``; yield each shard's result (after ``sink`` wrote it)."""
        total = sum(s.stop - s.start for s in shards)
        if not shards:
            return
        results: list[ShardResult] = []

        def collect(result: ShardResult) -> None:
            if sink is not None:
                sink(result)
            results.append(result)

        counts = self._batches(shards, collect)
        if self.ranks.is_main:
            desc = f"predict {self.loaded.name}" + (f" ({resumed} shards done before)" if resumed else "")
            ticks = progress(_ticks(counts), desc=desc, total=total, unit="img", status=self.clock.status)
        else:
            ticks = _ticks(counts)
        for _ in ticks:
            while results:
                yield results.pop(0)
        yield from results

    def _loader(self, shards: list[Shard]) -> Iterator[Batch]:
        """The images of ``shards`` in batches of ``batch_size`` (none crossing a shard), decoded (uint8 NCHW)."""
        from torch.utils.data import DataLoader, Dataset

        pre = self.loaded.preprocess
        batches = [list(range(b, min(b + self.batch_size, s.stop)))
                   for s in shards for b in range(s.start, s.stop, self.batch_size)]
        on_device = self.settings.decode == "device"
        dataset: Dataset[Any] = EncodedImages(self.source, pre) if on_device else DecodedImages(self.source, pre)
        loader: DataLoader[Any] = DataLoader(
            dataset, batch_sampler=batches, num_workers=self.workers,
            collate_fn=collate_encoded if on_device else collate_decoded,
            pin_memory=self.cuda and not on_device,
            prefetch_factor=4 if self.workers else None,
        )
        for images, indices, errors in loader:
            errors = list(errors)
            if on_device:
                images, decode_errors = decode_on_device(images, self.device, pre)
                errors = [a or b for a, b in zip(errors, decode_errors)]
            yield images, indices, errors

    def _batches(self, shards: list[Shard], emit: Callable[[ShardResult], None]) -> Iterator[int]:
        """Run every batch; yield the number of images each batch held; ``emit`` each finished shard."""
        settings, pre = self.settings, self.loaded.preprocess
        module = _prepare_module(self.loaded, self.device, settings.channels_last)
        mean = torch.tensor(pre.mean, device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(pre.std, device=self.device).view(1, 3, 1, 1)
        autocast_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(settings.precision)
        expected = len(self.space) if self.space is not None else (
            len(self.loaded.categories) if self.loaded.categories else None)
        shard_iter = iter(shards)
        state = _ShardState(next(shard_iter))
        pending: _Pending | None = None
        checked = False
        clock = self.clock
        feed = self.feed(shards) if self.feed is not None else self._loader(shards)
        with torch.inference_mode(), _cudnn_benchmark(self.cuda):
            clock.start()
            while True:
                with clock.host("decode"):  # waiting for decoded images: the decode stage is behind
                    batch = next(feed, None)
                if batch is None:
                    break
                images, indices, errors = batch
                self._check_errors(indices, errors)
                with clock.device("copy"):
                    x = images.to(self.device, non_blocking=True)
                with clock.device("model"):
                    if settings.channels_last:
                        x = x.contiguous(memory_format=torch.channels_last)
                    x = x.float().div_(255).sub_(mean).div_(std)
                    autocast = (torch.autocast(self.device.type, dtype=autocast_dtype) if autocast_dtype is not None
                                else contextlib.nullcontext())
                    with autocast:
                        output = self._forward(module, x)
                    logits = _logits(output, self.loaded.description)
                    if not checked:
                        self._check_classes(logits.shape[1], expected)
                        checked = True
                    logits = logits.float()
                    k = min(settings.topk, logits.shape[1])
                    scores, ids = torch.softmax(logits, dim=1).topk(k, dim=1)
                clock.count(sum(1 for e in errors if not e))  # images scored: unreadable ones are left out
                current = _Pending(indices.tolist(), errors, ids, scores, logits if settings.keep_logits else None,
                                   self.cuda)
                if pending is not None:
                    yield from self._finish(pending, state, shard_iter, emit)
                pending = current
            if pending is not None:
                yield from self._finish(pending, state, shard_iter, emit)
            clock.stop()

    def _finish(self, pending: _Pending, state: _ShardState, shard_iter: Iterator[Shard],
                emit: Callable[[ShardResult], None]) -> Iterator[int]:
        ids, scores, logits = pending.host()
        keys = self.source.keys
        for index, error in zip(pending.indices, pending.errors):
            if error:
                state.skipped.append((str(keys[index]), error))
        state.parts.append((pending.indices, pending.errors, ids, scores, logits))
        state.seen += len(pending.indices)
        yield len(pending.indices)
        shard = state.shard
        if state.seen == shard.stop - shard.start:
            emit(state.result(keys))
            nxt = next(shard_iter, None)
            if nxt is not None:
                state.reset(nxt)

    def _forward(self, module: nn.Module, x: torch.Tensor) -> Any:
        """The model on one batch; its failures become errors that say what to change."""
        try:
            return module(x)
        except torch.cuda.OutOfMemoryError:  # the name all supported torch versions have
            raise InputError(
                f"model {self.loaded.description}: out of memory on a batch of {len(x)} images on {self.device}; "
                f"lower batch_size (CLI: --batch-size)"
            ) from None
        except (RuntimeError, ValueError, AssertionError) as e:
            first = (str(e).strip().splitlines() or [""])[0]
            raise InputError(
                f"model {self.loaded.description} failed on a batch of shape {tuple(x.shape)} "
                f"({type(e).__name__}: {first}); check that the preprocessing (crop {self.loaded.preprocess.crop_size}) "
                f"fits the model, and that an exported model was exported with a dynamic batch dimension"
            ) from e

    def _check_errors(self, indices: torch.Tensor, errors: list[str]) -> None:
        bad = [(int(i), e) for i, e in zip(indices.tolist(), errors) if e]
        if bad and self.settings.on_error == "fail":
            index, error = bad[0]
            more = f" (and {len(bad) - 1} more in this batch)" if len(bad) > 1 else ""
            raise InputError(
                f"{self.source.where(index)}: cannot read the image ({error}){more}; pass on_error='skip' "
                f"(CLI: --on-error skip) to leave unreadable images out of the run"
            )

    def _check_classes(self, width: int, expected: int | None) -> None:
        if expected is not None and width != expected:
            if self.space is not None:
                what = f"label space {self.space.name!r} has {expected}"
            else:
                what = f"its weights declare {expected} categories"
            raise LabelSpaceError(
                f"model {self.loaded.description} outputs {width} classes but {what}; give the label space the "
                f"model was trained on (CLI: --label-space), or build a checkpoint's architecture with "
                f"num_classes={expected} (CLI: --num-classes)"
            )


@contextlib.contextmanager
def _cudnn_benchmark(on: bool) -> Iterator[None]:
    """Let cuDNN pick the fastest convolution algorithms (the batch shape hardly changes), then restore."""
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = before or on
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = before


def _prepare_module(loaded: LoadedModel, device: torch.device, channels_last: bool) -> nn.Module:
    module = _module_on(loaded, device)
    try:
        module.eval()
    except (NotImplementedError, RuntimeError):  # exported programs refuse eval(); they are exported in eval mode
        pass
    module = module.to(device)
    if channels_last:
        try:
            module = module.to(memory_format=torch.channels_last)
        except (TypeError, RuntimeError):  # some scripted modules do not take a memory format
            pass
    return module


def _module_on(loaded: LoadedModel, device: torch.device) -> nn.Module:
    """``loaded``'s module; for an exported program, a module taken from the program moved to ``device``.

    ``.to(device)`` moves parameters and buffers only: an exported graph also holds tensor constants and the
    export-time device of the tensors it creates (``torch.arange(n, device=x.device)`` is recorded as
    ``device=cpu``), and fails on any other device. torch's ``move_to_device_pass`` moves all of it; it works in
    place (``loaded.module``, taken earlier, keeps its own graph and tensors). Where torch lacks the pass, the module
    is returned as it is.
    """
    if loaded.program is None:
        return loaded.module
    try:
        from torch.export.passes import move_to_device_pass
    except ImportError:
        return loaded.module
    return move_to_device_pass(loaded.program, device).module()


def _logits(output: Any, description: str) -> torch.Tensor:
    """The logits in a model's output: a tensor, the first of a tuple, ``logits`` of a dict or object."""
    if isinstance(output, (tuple, list)) and output:
        output = output[0]
    elif isinstance(output, dict):
        output = output.get("logits", next(iter(output.values()), None))
    elif not isinstance(output, torch.Tensor) and hasattr(output, "logits"):
        output = output.logits
    if not isinstance(output, torch.Tensor) or output.ndim != 2:
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        raise InputError(f"model {description}: expected (batch, classes) logits, found {shape}")
    return output


class _Pending:
    """A batch's results on their way to the host (asynchronously on CUDA)."""

    def __init__(self, indices: list[int], errors: list[str], ids: torch.Tensor, scores: torch.Tensor,
                 logits: torch.Tensor | None, cuda: bool) -> None:
        self.indices, self.errors = indices, errors
        tensors = [ids, scores] + ([logits] if logits is not None else [])
        self.tensors = [t.to("cpu", non_blocking=cuda) for t in tensors]
        self.event = None
        if cuda:
            self.event = torch.cuda.Event()
            self.event.record()

    def host(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        if self.event is not None:
            self.event.synchronize()
        ids = self.tensors[0].numpy().astype(np.int64)
        scores = self.tensors[1].numpy().astype(np.float32)
        logits = self.tensors[2].numpy().astype(np.float32) if len(self.tensors) > 2 else None
        return ids, scores, logits


class _ShardState:
    def __init__(self, shard: Shard) -> None:
        self.reset(shard)

    def reset(self, shard: Shard) -> None:
        self.shard = shard
        self.parts: list[Any] = []
        self.skipped: list[tuple[str, str]] = []
        self.seen = 0

    def result(self, keys: np.ndarray) -> ShardResult:
        images, ids, scores, logits = [], [], [], []
        for indices, errors, part_ids, part_scores, part_logits in self.parts:
            keep = np.asarray([not e for e in errors], dtype=bool)
            images.append(keys[np.asarray(indices, dtype=np.int64)[keep]])
            ids.append(part_ids[keep])
            scores.append(part_scores[keep])
            if part_logits is not None:
                logits.append(part_logits[keep])
        return ShardResult(self.shard, np.concatenate(images).astype(object), np.concatenate(ids),
                           np.concatenate(scores), np.concatenate(logits) if logits else None, list(self.skipped))


def _ticks(counts: Iterator[int]) -> Iterator[None]:
    """One item per image, so that the progress bar counts images per second."""
    for n in counts:
        for _ in range(n):
            yield None
