"""Benchmark `relabel predict` against a plain evaluation loop and against the model alone.

Generates N JPEGs of ImageNet-typical size (500×375, quality 90, smooth colour fields with
texture and noise, in 10 class folders) in a temporary folder, then measures images/s in one
process run, with ResNet-50 (random weights; speed does not depend on them):

(a) relabel predict (``relabel.inference.predict``, sharded output written to disk), with the
    default CPU-worker decoding and, on CUDA, also with ``decode="device"`` (nvJPEG);
(b) a plain reference loop written the way most evaluation scripts are: torchvision
    ``ImageFolder`` + ``DataLoader`` (same workers and batch size, pinned memory), the standard
    transforms (Resize 256, CenterCrop 224, ToTensor, Normalize), fp32 model, top-5 per batch;
(c) the model alone on a pre-decoded batch already on the device, with relabel's settings
    (bf16 autocast on CUDA, channels-last, inference mode, cuDNN benchmark mode): the ceiling.

Every timing covers the whole pass (model set-up and worker start-up included for (a) and
(b); (c) after one untimed warm-up batch); files are in the page cache (generated just
before). The methods run interleaved ``--repeat`` times; the medians and the ratios a/b and
a/c are printed.

Usage:
  python benchmarks/predict_bench.py                              # CUDA if available: 5000 images
  python benchmarks/predict_bench.py --images 256 --device cpu    # CPU, small
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

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


def relabel_predict(model: torch.nn.Module, root: Path, out: Path, args: argparse.Namespace,
                    device: torch.device, decode: str) -> float:
    from relabel.inference import predict

    start = time.perf_counter()
    run = predict(model, root, out=out, device=device, batch_size=args.batch_size, workers=args.workers,
                  decode=decode, restart=True)
    elapsed = time.perf_counter() - start
    assert run.n_images == args.images
    return args.images / elapsed


def reference_loop(model: torch.nn.Module, root: Path, args: argparse.Namespace, device: torch.device) -> float:
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
    n_batches = max(1, args.images // args.batch_size)

    def run(batches: int) -> None:
        with torch.inference_mode(), torch.autocast(device.type, dtype=dtype or torch.float32,
                                                     enabled=dtype is not None):
            for _ in range(batches):
                torch.softmax(model(x).float(), dim=1).topk(5, dim=1)
        _sync(device)

    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True  # as relabel predict does on CUDA
    try:
        run(1)
        start = time.perf_counter()
        run(n_batches)
    finally:
        torch.backends.cudnn.benchmark = before
    return n_batches * args.batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=None, help="JPEGs to generate [5000 on CUDA, 256 on CPU]")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--batch-size", type=int, default=None, help="[256 on CUDA, 32 on CPU]")
    parser.add_argument("--workers", type=int, default=None,
                        help="DataLoader workers for (a) and (b) [relabel's default: CPU cores less one, at most 16]")
    parser.add_argument("--size", default="500x375", help="image width x height")
    parser.add_argument("--quality", type=int, default=90)
    parser.add_argument("--device-decode", action="store_true",
                        help="also time relabel with decode='device' on CPU (always done on CUDA)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved repeats of every method; medians")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line too")
    args = parser.parse_args()

    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    cuda = device.type == "cuda"
    args.images = args.images or (5000 if cuda else 256)
    args.batch_size = args.batch_size or (256 if cuda else 32)
    if args.workers is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        args.workers = max(0, min(16, cpus - 1))
    width, height = (int(v) for v in args.size.split("x"))
    from relabel.inference.prediction import _resolve_precision  # the precision relabel picks, for the ceiling

    precision = _resolve_precision("auto", device.type, torch.cuda.get_device_capability(device) if cuda else None)

    from torchvision import models

    torch.manual_seed(0)
    model = models.resnet50(weights=None).eval()
    name = torch.cuda.get_device_name(device) if cuda else f"CPU ({torch.get_num_threads()} threads)"
    print(f"device: {name}; torch {torch.__version__}; ResNet-50 random weights; batch {args.batch_size}; "
          f"{args.workers} workers; relabel precision {precision}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "images"
        start = time.perf_counter()
        kb = generate(root, args.images, width, height, args.quality)
        print(f"generated {args.images} JPEGs {width}x{height} q{args.quality} (mean {kb:.0f} KB) in "
              f"{time.perf_counter() - start:.1f} s", flush=True)

        methods = {
            "ceiling": lambda: model_alone(copy.deepcopy(model), args, device, precision),
            "relabel": lambda: relabel_predict(copy.deepcopy(model), root, Path(tmp) / "run.parquet", args, device,
                                               "cpu"),
            "reference": lambda: reference_loop(copy.deepcopy(model), root, args, device),  # a fresh model copy
        }
        if cuda or args.device_decode:
            methods["relabel_device_decode"] = lambda: relabel_predict(
                copy.deepcopy(model), root, Path(tmp) / "run_device.parquet", args, device, "device")
        labels = {"ceiling": "(c) model alone on device tensors", "relabel": "(a) relabel predict",
                  "relabel_device_decode": "(a') relabel predict, decode=device",
                  "reference": "(b) plain ImageFolder loop, fp32"}
        rates: dict[str, list[float]] = {key: [] for key in methods}
        for repeat in range(args.repeat):  # interleaved, so that a noisy neighbour hits every method alike
            for key, method in methods.items():
                rates[key].append(method())
                print(f"  repeat {repeat + 1}: {labels[key]:<38} {rates[key][-1]:9.1f} img/s", flush=True)
        results = {"device": name, "images": args.images, "batch_size": args.batch_size, "workers": args.workers,
                   **{key: float(np.median(values)) for key, values in rates.items()}}
        print(f"median of {args.repeat}:")
        for key in methods:
            print(f"  {labels[key]:<38} {results[key]:9.1f} img/s")
        relabel_rate, reference, ceiling = results["relabel"], results["reference"], results["ceiling"]

    print(f"ratios: relabel / plain loop = {relabel_rate / reference:.2f}x (goal >= 3x on an H100); "
          f"relabel / model alone = {relabel_rate / ceiling:.0%} (goal >= 70%)")
    if "relabel_device_decode" in results:
        print(f"        decode=device / model alone = {results['relabel_device_decode'] / ceiling:.0%}")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    sys.exit(main())
