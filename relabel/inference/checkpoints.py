"""Many models, one pass: decode the images once per preprocessing, run every model over them.

Part of :mod:`relabel.inference`. :func:`predict_models` takes :class:`ModelSpec` entries (from a
models manifest, :func:`read_models`, or built by hand) and writes one run per model into
``out_dir`` (``NAME.parquet``), each the same, row for row and bit for bit, as what
:func:`~relabel.inference.predict` writes for that model alone with the same settings: the
models are grouped by preprocessing (resize, crop, interpolation; normalisation happens with
the model), the group's images are decoded, resized and cropped once (the same code and the
same batches as a single prediction) into a :class:`DecodedStore` of uint8 images, and
every model of the group runs its usual loop over the store instead of over a DataLoader.

Where the store lives: with ``cache``, in a memory-mapped file in the cache folder (see
:mod:`relabel.inference.cache`), which later commands reuse; else on the CUDA device when it
fits in half its free memory, else in host memory when it fits in half the memory available,
else in a memory-mapped file in a temporary folder beside ``out_dir`` (removed afterwards).

Resuming: each model's run resumes as a single prediction does (its finished shards are kept); a
model whose run file already records this plan (``plan_sha256`` in its ``relabel.origin``) is
skipped; only the images that some model still needs are decoded (all of them with a cache, so
that the cache is whole). A model that cannot be loaded or fails on its images is reported by
name and the others still run (``fail_fast=True`` stops at the first failure instead).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import time
from functools import partial
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from relabel import _json
from relabel.errors import InputError, RelabelError, format_offenders, repeated
from relabel.inference.data import open_images
from relabel.inference.models import LoadedModel, Preprocess, load_model
from relabel.inference.shards import Shard, finished, shards_dir
from relabel.inference.store import DecodedStore, fill
from relabel.loading.runs import ORIGIN_KEY, RunMeta, check_meta_fields

__all__ = ["ModelSpec", "Predictions", "read_models", "predict_models", "recorded_origin", "recorded_plan"]

#: Fields of a models manifest entry.
MODEL_FIELDS = ("model", "name", "group", "strength", "seed", "arch", "weights", "num_classes")


@dataclass(frozen=True)
class ModelSpec:
    """One model to predict with: what :func:`~relabel.inference.load_model` takes, and the run's metadata.

    ``model`` is a name, a file, an ``nn.Module`` or a :class:`LoadedModel`; ``name`` (the run's name and
    file stem) defaults to a file's stem or the model's name.
    """

    model: Any
    name: str | None = None
    group: str | None = None
    strength: float | None = None
    seed: int | None = None
    arch: str | None = None
    weights: str | None = None
    num_classes: int | None = None

    def run_name(self) -> str:
        if self.name is not None:
            return self.name
        if isinstance(self.model, (str, Path)):
            text = str(self.model)
            return Path(text).stem if Path(text).suffix else text.replace("/", "-")
        if isinstance(self.model, LoadedModel):
            return self.model.name
        return type(self.model).__name__


@dataclass(frozen=True)
class Predictions:
    """What :func:`predict_models` did: the runs written, the models skipped as finished, and the failures.

    ``runs`` maps a run name to its run file; ``finished`` lists the runs that were already complete (their
    files record this plan) and were not recomputed; ``failed`` maps a run name to why it failed;
    ``throughput`` maps a run name to its stage record (see :mod:`relabel.inference.stages`).
    """

    runs: dict[str, Path]
    finished: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)
    throughput: dict[str, dict[str, Any]] = field(default_factory=dict)


# ---------------------------------------------------------------- the manifest


def read_models(path: str | Path) -> tuple[ModelSpec, ...]:
    """Parse a models manifest: CSV with a header row, or JSON (a list of entries, or ``{"models": [...]}``).

    Fields: ``model`` (required: a name or a checkpoint file, relative to the manifest's folder when such a file
    is there), ``name``, ``group``, ``strength``, ``seed``, ``arch``, ``weights``, ``num_classes``. Unknown fields
    and repeated names are errors that name the manifest and the entry; empty CSV cells are left out.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"models manifest {path} does not exist")
    text = _json.read_text(path)
    entries: list[tuple[str, Any]]
    if path.suffix.lower() == ".json":
        data = _json.parse(text, str(path))
        if isinstance(data, dict) and set(data) == {"models"}:
            data = data["models"]
        if not isinstance(data, list) or not data:
            raise InputError(f"{path}: expected a non-empty list of models, or {{\"models\": [...]}}")
        entries = [(f"{path}, models[{i}]", entry) for i, entry in enumerate(data)]
    elif path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        if not rows:
            raise InputError(f"{path}: expected a header row and one row per model")
        entries = [(f"{path}, line {i + 2}", {k: v for k, v in row.items() if v not in ("", None)})
                   for i, row in enumerate(rows)]
    else:
        raise InputError(f"models manifest {path}: expected a .csv or .json file")
    specs = tuple(_model_spec(entry, path, where) for where, entry in entries)
    names = repeated([s.run_name() for s in specs])
    if names:
        raise InputError(f"{path}: run names must be unique; {format_offenders(names)} appear more than once "
                         f"(give each entry its own 'name')")
    return specs


def _model_spec(entry: Any, manifest: Path, where: str) -> ModelSpec:
    if not isinstance(entry, dict):
        raise InputError(f"{where}: expected a mapping with a 'model' field; found {entry!r}")
    unknown = sorted(set(map(str, entry)) - set(MODEL_FIELDS))
    if None in entry:  # a CSV row with more cells than the header
        raise InputError(f"{where}: more cells than the header has columns")
    if unknown:
        raise InputError(f"{where}: unknown fields {unknown}; allowed: {', '.join(MODEL_FIELDS)}")
    model = entry.get("model")
    if model is None:
        raise InputError(f"{where}: no 'model' field; give each entry the model name or checkpoint file")
    if not isinstance(model, str) or not model:
        raise InputError(f"{where}: 'model' must be a model name or a checkpoint file; found {model!r}")
    candidate = manifest.parent / model
    if not Path(model).is_absolute() and candidate.exists():
        model = str(candidate)
    meta = check_meta_fields({k: entry[k] for k in ("name", "group", "strength", "seed") if k in entry}, where=where)
    text: dict[str, str] = {}
    for key in ("arch", "weights"):
        if key in entry:
            if not isinstance(entry[key], str) or not entry[key]:
                raise InputError(f"{where}: {key!r} must be a name; found {entry[key]!r}")
            text[key] = entry[key]
    num_classes = None
    if "num_classes" in entry:
        value = entry["num_classes"]
        try:
            num_classes = int(value) if not isinstance(value, bool) and str(value).strip().isdigit() else None
        except ValueError:
            num_classes = None
        if num_classes is None or num_classes < 1:
            raise InputError(f"{where}: 'num_classes' must be a positive integer; found {value!r}")
    return ModelSpec(model, meta.get("name"), meta.get("group"), meta.get("strength"), meta.get("seed"),
                     text.get("arch"), text.get("weights"), num_classes)


def recorded_origin(out: Path) -> dict[str, Any] | None:
    """What a run file written by relabel predict records of its making (``relabel.origin``: the model, its hash,
    the plan's hash and the ``throughput`` record), if it is such a file."""
    import pyarrow.parquet as pq

    if not out.is_file():
        return None
    try:
        origin = json.loads((pq.read_schema(out).metadata or {}).get(ORIGIN_KEY, b"null"))
    except Exception:  # not relabel's Parquet: no record
        return None
    return origin if isinstance(origin, dict) else None


def recorded_plan(out: Path) -> str | None:
    """The plan hash a run file written by relabel predict records (``plan_sha256`` in its origin), if any."""
    plan = (recorded_origin(out) or {}).get("plan_sha256")
    return plan if isinstance(plan, str) else None


# ---------------------------------------------------------------- decoded images


def storage(n_bytes: int, device: torch.device) -> str:
    """Where a store of ``n_bytes`` goes without a cache folder: ``"device"``, ``"host"`` or ``"disk"``."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        if n_bytes <= free // 2:
            return "device"
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        available = 0
    return "host" if n_bytes <= available // 2 else "disk"


# ---------------------------------------------------------------- the job


def predict_models(
    models: Sequence[ModelSpec | Any],
    data: Any,
    *,
    out_dir: str | Path,
    cache: str | Path | None = None,
    fail_fast: bool = False,
    label_space: Any = None,
    preprocess_changes: dict[str, Any] | None = None,
    topk: int = 5,
    keep_logits: bool = False,
    split: str | None = None,
    image_column: str | None = None,
    key_column: str | None = None,
    device: str | torch.device | None = None,
    precision: str = "auto",
    batch_size: int | None = None,
    workers: int | None = None,
    decode: str = "cpu",
    channels_last: bool = True,
    shard_size: int = 1024,
    on_error: str = "fail",
    restart: bool = False,
    trust_program: bool = False,
) -> Predictions:
    """Predict with every model in ``models`` over ``data``, decoding the images once per preprocessing.

    Writes ``out_dir/NAME.parquet`` per model (see the module docstring); the other settings are those of
    :func:`~relabel.inference.predict`, shared by all models; ``preprocess_changes`` changes every model's own
    preprocessing (``resize_size``, ``crop_size``, ``interpolation``, ``mean``, ``std``; ``None`` keeps one).
    ``cache`` is a folder of decoded images reused across commands (:mod:`relabel.inference.cache`). Raises
    :class:`ModelsFailed` naming the failed models after the others are written (``fail_fast``: the first
    failure's own error, at once).
    """
    from relabel.inference.cache import DecodeCache
    from relabel.inference.distributed import join
    from relabel.inference.prediction import _check_options, _Job, _pick_device, check_out
    from relabel.labelspace import load_label_space

    settings = _check_options(topk, batch_size, workers, shard_size, precision, decode, on_error, keep_logits,
                              channels_last)
    specs = [m if isinstance(m, ModelSpec) else ModelSpec(m) for m in models]
    if not specs:
        raise InputError("predict: no models given")
    names = [s.run_name() for s in specs]
    twice = repeated(names)
    if twice:
        raise InputError(f"predict: run names must be unique; {format_offenders(twice)} appear more than once "
                         f"(name the runs, e.g. in a models manifest)")
    out_dir = Path(out_dir)
    outs = {name: out_dir / f"{name}.parquet" for name in names}
    for out in outs.values():
        check_out(out, data)
    space = load_label_space(label_space) if label_space is not None else None
    source = open_images(data, split=split, image_column=image_column, key_column=key_column)
    metas = {name: RunMeta(name, **check_meta_fields({"group": s.group, "strength": s.strength, "seed": s.seed},
                                                     where=f"model {name}"))
             for name, s in zip(names, specs)}

    failed: dict[str, str] = {}

    def fail(name: str, error: BaseException) -> None:
        if fail_fast:
            raise error
        failed[name] = str(error)

    loaded: dict[str, LoadedModel] = {}
    for name, spec in zip(names, specs):
        try:
            model = load_model(spec.model, arch=spec.arch, weights=spec.weights, num_classes=spec.num_classes,
                               trust_program=trust_program)
            loaded[name] = model.with_preprocess(**(preprocess_changes or {}))
        except RelabelError as e:
            fail(name, InputError(f"model {name} ({spec.model}): cannot be loaded: {e}"))

    ranks = join(None if device is None else str(device))
    written: dict[str, Path] = {}
    done: list[str] = []
    throughput: dict[str, dict[str, Any]] = {}
    temporary: list[Path] = []
    try:
        chosen = _pick_device(device, ranks)
        decode_cache = DecodeCache(Path(cache), source) if cache is not None else None
        groups: dict[tuple[Any, ...], list[str]] = {}
        for name, model in loaded.items():
            pre = model.preprocess
            groups.setdefault((pre.resize_size, pre.crop_size, pre.interpolation), []).append(name)
        for members in groups.values():
            jobs = {name: _Job(loaded[name], source, space, chosen, settings, ranks) for name in members}
            first = jobs[members[0]]
            todo: dict[str, list[Shard]] = {}
            for name, job in jobs.items():
                if not restart and recorded_plan(outs[name]) == job.plan_id():
                    done.append(name)
                    written[name] = outs[name]
                    continue
                folder = shards_dir(outs[name])
                plan_id = job.plan_id()
                todo[name] = [s for s in job.mine if restart or not finished(folder / s.file, s, plan_id)]
            if not todo:
                continue
            pre = loaded[members[0]].preprocess
            needed = first.mine if decode_cache is not None else [
                s for s in first.mine if any(s in shards for shards in todo.values())]
            began = time.perf_counter()
            if decode_cache is not None:
                store = decode_cache.store(pre, settings.decode, first, needed)
            else:
                store = _decode(first, needed, pre, out_dir, temporary)
            decode_seconds = time.perf_counter() - began
            for name in todo:
                job = jobs[name]
                job.feed = partial(store.batches, batch_size=job.batch_size)
                job.extra_decode = (decode_seconds, len(todo))
                try:
                    job.run(metas[name], outs[name], restart)
                except RelabelError as e:
                    fail(name, e)
                    continue
                written[name] = outs[name]
                throughput[name] = job.clock.summary(job.extra_decode)
    finally:
        ranks.close()
        for folder in temporary:
            shutil.rmtree(folder, ignore_errors=True)
    result = Predictions(written, tuple(done), failed, throughput)
    if failed:
        raise ModelsFailed(result)
    return result


class ModelsFailed(RelabelError):
    """Some models failed; ``predictions`` holds what the others wrote."""

    def __init__(self, predictions: Predictions) -> None:
        self.predictions = predictions
        lines = "; ".join(f"{name}: {why}" for name, why in predictions.failed.items())
        n = len(predictions.failed)
        rest = "the other runs were written" if predictions.runs else "no run was written"
        super().__init__(f"{n} of {n + len(predictions.runs)} models failed ({lines}); {rest}")


def _decode(job: Any, shards: list[Shard], pre: Preprocess, out_dir: Path, temporary: list[Path]) -> DecodedStore:
    """The images of ``shards`` decoded once (the job's own decode route), stored where they fit."""
    rows = sum(s.stop - s.start for s in shards)
    shape = (rows, 3, pre.crop_size, pre.crop_size)
    n_bytes = int(np.prod(shape))
    where = storage(n_bytes, job.device)
    if where == "device":
        images = torch.empty(shape, dtype=torch.uint8, device=job.device)
    elif where == "host":
        try:
            images = torch.empty(shape, dtype=torch.uint8, pin_memory=job.cuda)
        except RuntimeError:  # pinning that much failed: pageable memory, copied a little slower
            images = torch.empty(shape, dtype=torch.uint8)
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=".relabel-decoded-", dir=out_dir))
        temporary.append(folder)
        images = torch.from_numpy(np.lib.format.open_memmap(folder / "images.npy", mode="w+", dtype=np.uint8,
                                                            shape=shape))
    errors = fill(job, shards, images)
    return DecodedStore(images, errors, shards)


