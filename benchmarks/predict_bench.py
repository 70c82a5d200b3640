"""Benchmark `relabel predict` over N checkpoints against N separate runs, a plain loop, and the ceilings.

Generates JPEGs of ImageNet-typical size (500×375, quality 90, smooth colour fields with
texture and noise, in 10 class folders) in a temporary folder, saves N checkpoints of one
architecture with different random weights (speed does not depend on them), and measures in
one process run:

(a) one pass: ``relabel.inference.checkpoints.predict_models`` over the N checkpoint files (what
    ``relabel predict --models``/``MODEL...`` does): decode once, every model over the store;
(b) N separate predictions: ``relabel.inference.predict`` once per checkpoint file (in this
    process, so without the start-up of N commands: the comparison is in their favour);
(c) a plain loop per checkpoint, written the way most evaluation scripts are: torchvision
    ``ImageFolder`` + ``DataLoader`` (same workers and batch size), the standard transforms
    (Resize 256, CenterCrop 224, ToTensor, Normalize), fp32 model, top-5 per batch;

and the ceilings, on the same machine in the same run:

* model alone: one model on a batch already on the device (relabel's settings: channels-last,
  inference mode, bf16 autocast on CUDA), images/s over at least 10 batches after 2 untimed ones;
* decode + preprocess alone: the JPEGs decoded, resized and cropped to uint8 by relabel's CPU
  route (DataLoader workers, PIL), nothing else; on CUDA also nvJPEG batched on the device
  (``torchvision.io.decode_jpeg(device=...)``);
* plain loop: (c) for one checkpoint.

Every timing covers the whole pass (checkpoint loading and worker start-up included for (a),
(b), (c)); files are in the page cache (generated just before). Rates are images/s of images ×
models: (a) and (b) process N × images. The figures and the ratios are printed, and with
``--json-out FILE`` written to FILE.

Usage:
  python benchmarks/predict_bench.py                           # CPU: N=8 ResNet-18, 100 images
  python benchmarks/predict_bench.py --models 4 --images 5000  # CUDA: ResNet-50 bf16, nvJPEG ceiling too
  python benchmarks/predict_bench.py --images 40 --models 2    # a quick look
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch


def _jpeg(seed: int, width: int, height: int, quality: int) -> bytes:
    from PIL import Image

    rng = np.random.default_rng(seed)
    small = rng.uniform(0, 255, (height // 25 + 1, width // 25 + 1, 3)).astype(np.uint8)
    field = np.asarray(Image.fromarray(small).resize((width, height), Image.BICUBIC), dtype=np.float32)
    y, x = np.mgrid[0:height, 0:width]
    texture = 30 * np.sin(x / rng.uniform(2, 9) + y / rng.uniform(2, 9))[..., None]
    pixels = (field + texture + rng.normal(0, 10, (height, width, 3))).clip(0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _write(args: tuple[Path, int, int, int, int]) -> int:
    root, index, width, height, quality = args
    data = _jpeg(index, width, height, quality)
    (root / f"class{index % 10:02d}" / f"img_{index:07d}.JPEG").write_bytes(data)
    return len(data)


def generate(root: Path, n: int, width: int, height: int, quality: int) -> float:
    """Write n JPEGs into 10 class folders; return the mean file size in KB."""
    for c in range(10):
        (root / f"class{c:02d}").mkdir(parents=True, exist_ok=True)
    jobs = [(root, i, width, height, quality) for i in range(n)]
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        sizes = list(pool.map(_write, jobs, chunksize=16))
    return float(np.mean(sizes)) / 1024


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def one_pass(checkpoints: list[Path], root: Path, out: Path, args: argparse.Namespace,
             device: torch.device) -> tuple[float, dict[str, Any]]:
    """(a): every checkpoint in one predict_models pass; images × models per second, and the stage records."""
    from relabel.inference.checkpoints import ModelSpec, predict_models

    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    result = predict_models([ModelSpec(c, arch=args.arch) for c in checkpoints], root, out_dir=out, device=device,
                            batch_size=args.batch_size, workers=args.workers, decode=args.decode)
    elapsed = time.perf_counter() - start
    assert len(result.runs) == len(checkpoints) and not result.failed
    return len(checkpoints) * args.images / elapsed, result.throughput


def separate_runs(checkpoints: list[Path], root: Path, out: Path, args: argparse.Namespace,
                  device: torch.device) -> tuple[float, float]:
    """(b): one predict() per checkpoint; images × models per second, and the first run's images/s."""
    from relabel.inference import predict

    shutil.rmtree(out, ignore_errors=True)
    times = []
    for c in checkpoints:
        start = time.perf_counter()
        run = predict(c, root, arch=args.arch, out=out / f"{c.stem}.parquet", device=device,
                      batch_size=args.batch_size, workers=args.workers, decode=args.decode)
        times.append(time.perf_counter() - start)
        assert run.n_images == args.images
    return len(checkpoints) * args.images / sum(times), args.images / times[0]


def plain_loops(checkpoints: list[Path], root: Path, args: argparse.Namespace, device: torch.device) -> float:
    """(c): the plain loop once per checkpoint; images × models per second."""
    from torchvision import models

    total = 0.0
    for c in checkpoints:
        start = time.perf_counter()
        model = getattr(models, args.arch)(weights=None)
        model.load_state_dict(torch.load(c, weights_only=True))
        reference_loop(model, root, args, device)
        total += time.perf_counter() - start  # building and loading the model included, as in (a) and (b)
    return len(checkpoints) * args.images / total


def decode_alone(root: Path, args: argparse.Namespace) -> float:
    """Ceiling: relabel's CPU decode route alone (workers, PIL resize + crop to uint8), images/s."""
    from relabel.inference.data import open_images
    from relabel.inference.decode import DecodedImages, collate_decoded
    from relabel.inference.models import Preprocess

    source = open_images(root)
    loader = torch.utils.data.DataLoader(DecodedImages(source, Preprocess()), batch_size=args.batch_size,
                                         num_workers=args.workers, collate_fn=collate_decoded,
                                         prefetch_factor=4 if args.workers else None)
    start = time.perf_counter()
    n = sum(len(indices) for _, indices, _ in loader)
    return n / (time.perf_counter() - start)


def nvjpeg_alone(root: Path, args: argparse.Namespace, device: torch.device) -> float:
    """Ceiling on CUDA: the files' bytes read, then decoded, resized and cropped in batches on the device."""
    from relabel.inference.decode import decode_on_device
    from relabel.inference.models import Preprocess

    files = sorted(root.rglob("*.JPEG"))
    data = [torch.frombuffer(bytearray(f.read_bytes()), dtype=torch.uint8) for f in files]
    decode_on_device(data[:args.batch_size], device, Preprocess())  # warm-up
    _sync(device)
    start = time.perf_counter()
    for b in range(0, len(data), args.batch_size):
        decode_on_device(data[b:b + args.batch_size], device, Preprocess())
    _sync(device)
    return len(data) / (time.perf_counter() - start)


def reference_loop(model: torch.nn.Module, root: Path, args: argparse.Namespace, device: torch.device) -> float:
    """The plain loop over the images with one model; images/s (set-up of the loader included)."""
    from torchvision import datasets
    from torchvision import transforms as T

    transform = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                           T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    start = time.perf_counter()
    dataset = datasets.ImageFolder(str(root), transform=transform)
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch_size, shuffle=False,
                                         num_workers=args.workers, pin_memory=device.type == "cuda")
    model = model.to(device).eval()
    top5 = []
    with torch.inference_mode():
        for images, _ in loader:
            logits = model(images.to(device, non_blocking=True))
            top5.append(logits.topk(5, dim=1).indices.cpu())
    elapsed = time.perf_counter() - start
    assert sum(len(t) for t in top5) == args.images
    return args.images / elapsed


def model_alone(model: torch.nn.Module, args: argparse.Namespace, device: torch.device, precision: str) -> float:
    model = model.to(device).eval().to(memory_format=torch.channels_last)
    x = torch.randn(args.batch_size, 3, 224, 224, device=device).contiguous(memory_format=torch.channels_last)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    # at least 10 timed batches, after 2 untimed: the first batches pay for one-off work (on the CPU, oneDNN
    # setting up its channels-last kernels: the first two batches of 32 ran at 24 and 35 img/s here,
    # the next at about 65)
    n_batches = max(10, args.images // args.batch_size)

    def run(batches: int) -> None:
        with torch.inference_mode(), torch.autocast(device.type, dtype=dtype or torch.float32,
                                                     enabled=dtype is not None):
            for _ in range(batches):
                torch.softmax(model(x).float(), dim=1).topk(5, dim=1)
        _sync(device)

    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True  # as relabel predict does on CUDA
    try:
        run(2)
        start = time.perf_counter()
        run(n_batches)
    finally:
        torch.backends.cudnn.benchmark = before
    return n_batches * args.batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=None, help="checkpoints N [8 on CPU, 4 on CUDA]")
    parser.add_argument("--arch", default=None, help="torchvision architecture [resnet18 on CPU, resnet50 on CUDA]")
    parser.add_argument("--images", type=int, default=None, help="JPEGs to generate [100 on CPU, 5000 on CUDA]")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--decode", default="auto", help="relabel's decode place: cpu, device, auto [device on CUDA]")
    parser.add_argument("--batch-size", type=int, default=None, help="[256 on CUDA, 32 on CPU]")
    parser.add_argument("--workers", type=int, default=None,
                        help="DataLoader workers [relabel's default: CPU cores less one, at most 16]")
    parser.add_argument("--size", default="500x375", help="image width x height")
    parser.add_argument("--quality", type=int, default=90)
    parser.add_argument("--json-out", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args()

    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    cuda = device.type == "cuda"
    args.images = args.images or (5000 if cuda else 100)
    args.models = args.models or (4 if cuda else 8)
    args.arch = args.arch or ("resnet50" if cuda else "resnet18")
    args.batch_size = args.batch_size or (256 if cuda else 32)
    args.decode = ("device" if cuda else "cpu") if args.decode == "auto" else args.decode
    if args.workers is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        args.workers = max(0, min(16, cpus - 1))
    width, height = (int(v) for v in args.size.split("x"))
    from relabel.inference.prediction import _resolve_precision  # the precision relabel picks, for the ceiling

    precision = _resolve_precision("auto", device.type, torch.cuda.get_device_capability(device) if cuda else None)
    from torchvision import models

    name = torch.cuda.get_device_name(device) if cuda else f"CPU ({torch.get_num_threads()} threads)"
    print(f"device: {name}; torch {torch.__version__}; N={args.models} {args.arch} random weights; "
          f"{args.images} images; batch {args.batch_size}; {args.workers} workers; relabel precision {precision}, "
          f"decode {args.decode}", flush=True)
    figures: dict[str, Any] = {"device": name, "arch": args.arch, "models": args.models, "images": args.images,
                               "batch_size": args.batch_size, "workers": args.workers, "precision": precision,
                               "decode": args.decode}

    def report(key: str, label: str, value: float) -> None:
        figures[key] = value
        print(f"  {label:<58} {value:9.1f} img/s", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "images"
        start = time.perf_counter()
        kb = generate(root, args.images, width, height, args.quality)
        print(f"generated {args.images} JPEGs {width}x{height} q{args.quality} (mean {kb:.0f} KB) in "
              f"{time.perf_counter() - start:.1f} s", flush=True)
        checkpoints = []
        for seed in range(args.models):
            torch.manual_seed(seed)
            path = Path(tmp) / f"seed{seed}.pth"
            torch.save(getattr(models, args.arch)(weights=None).state_dict(), path)
            checkpoints.append(path)

        print("ceilings:")
        torch.manual_seed(0)
        report("ceiling_model", "model alone on device tensors",
               model_alone(getattr(models, args.arch)(weights=None), args, device, precision))
        report("ceiling_decode", f"decode + preprocess alone (CPU, {args.workers} workers)", decode_alone(root, args))
        if cuda:
            report("ceiling_decode_device", "decode + preprocess alone (nvJPEG, batched)",
                   nvjpeg_alone(root, args, device))
        report("ceiling_plain_loop", "plain loop, one checkpoint (fp32)",
               plain_loops(checkpoints[:1], root, args, device))
        print(f"N = {args.models} checkpoints (images x models per second):")
        rate_a, stages = one_pass(checkpoints, root, Path(tmp) / "a", args, device)
        report("one_pass", "(a) one pass, relabel predict MODEL... / --models", rate_a)
        rate_b, single = separate_runs(checkpoints, root, Path(tmp) / "b", args, device)
        report("separate_runs", "(b) N separate relabel predict runs", rate_b)
        figures["single_run"] = single
        report("plain_loops", "(c) plain ImageFolder + DataLoader loop per checkpoint", plain_loops(
            checkpoints, root, args, device))
        figures["stages"] = stages
    first = next(iter(stages.values()))
    decode_ceiling = figures.get("ceiling_decode_device", figures["ceiling_decode"]) if args.decode == "device" \
        else figures["ceiling_decode"]
    print(f"one pass, first model's stage record: {first['stage_seconds']} s, bound by {first['bound']}; decode pass "
          f"{first['decode_pass']['seconds']:.1f} s for {first['decode_pass']['models']} models")
    bound = 1 / (1 / figures["ceiling_model"] + 1 / (args.models * decode_ceiling))
    ratios = {
        "one_pass_over_separate": rate_a / rate_b,
        "one_pass_over_plain_loops": rate_a / figures["plain_loops"],
        "one_pass_over_model_ceiling": rate_a / figures["ceiling_model"],
        "one_pass_over_serial_bound": rate_a / bound,
        "separate_over_plain_loops": rate_b / figures["plain_loops"],
        "single_over_min_ceiling": single / min(figures["ceiling_model"], decode_ceiling),
        "one_pass_over_n_times_single": rate_a / (args.models * single),
    }
    figures["ratios"] = ratios
    print("ratios:")
    print(f"  (a) / (b) one pass / separate runs          = {ratios['one_pass_over_separate']:.2f}x (goal >= 3x)")
    print(f"  (a) / (c) one pass / plain loops            = {ratios['one_pass_over_plain_loops']:.2f}x")
    print(f"  (b) / (c) separate runs / plain loops       = {ratios['separate_over_plain_loops']:.2f}x")
    print(f"  (a) / model ceiling                         = {ratios['one_pass_over_model_ceiling']:.0%}")
    print(f"  (a) / serial bound 1/(1/model + 1/(N*decode)) = {ratios['one_pass_over_serial_bound']:.0%} "
          f"(decode once, then N models, no overlap: the most a one pass can reach when stages do not overlap)")
    print(f"  single run / min(model, decode ceiling)     = {ratios['single_over_min_ceiling']:.0%} (goal >= 85% on GPU)")
    print(f"  (a) / (N x single-run rate)                 = {ratios['one_pass_over_n_times_single']:.0%}"
          f" (goal >= 85% on GPU when the model is the faster stage)")
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(figures, indent=2))
        print(f"wrote {args.json_out}")


if __name__ == "__main__":
    sys.exit(main())
