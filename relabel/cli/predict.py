"""``relabel predict``: evaluate a model on an image folder or HF dataset and write a run file."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from relabel.cli.render import echo, render_written, verbosity_options
from relabel.inference.options import Decode, Interpolation, OnError, Precision


class _Triple(click.ParamType):
    """``R,G,B`` → three floats (mean or std of the normalisation)."""

    name = "R,G,B"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[float, ...]:
        if isinstance(value, tuple):
            return value
        try:
            numbers = tuple(float(v) for v in str(value).split(","))
        except ValueError:
            numbers = ()
        if len(numbers) != 3:
            self.fail(f"{value!r}: expected three numbers separated by commas, e.g. 0.5,0.5,0.5", param, ctx)
        return numbers


@click.command()
@verbosity_options
@click.argument("model", nargs=-1, metavar="MODEL...")
@click.argument("data", type=click.Path(exists=True, file_okay=False), metavar="DATA")
@click.option("-o", "--out", type=click.Path(dir_okay=False), metavar="RUN.parquet",
              help="The run file to write for one MODEL (shards go to RUN.parquet.shards/ until it is complete).")
@click.option("-d", "--out-dir", type=click.Path(file_okay=False), metavar="DIR",
              help="With several models (MODEL... or --models): write one run per model, DIR/NAME.parquet.")
@click.option("--models", "manifest", type=click.Path(exists=True, dir_okay=False), metavar="MODELS.csv|.json",
              help="A models manifest: one model per entry with model, name, group, strength, seed, arch, weights, "
                   "num_classes; --group, --strength, --seed, --arch, --weights and --num-classes fill the fields "
                   "an entry leaves empty.")
@click.option("--cache", type=click.Path(file_okay=False), metavar="DIR",
              help="Keep the decoded images in DIR for later commands (refused if DATA changed since).")
@click.option("--fail-fast", is_flag=True,
              help="With several models: stop at the first model that fails [default: report it, run the others].")
@click.option("--weights", metavar="NAME",
              help="Weights of a torchvision model name: an enum name such as ResNet50_Weights.IMAGENET1K_V2, "
                   "DEFAULT, or 'none' for random initialisation (timm names load pretrained weights unless 'none').")
@click.option("--arch", metavar="NAME", help="Architecture (torchvision or timm name) of a checkpoint's state dict.")
@click.option("--num-classes", type=click.IntRange(1),
              help="Classifier size when building --arch [default: read from the checkpoint].")
@click.option("--label-space", metavar="imagenet-1k|PATH",
              help="The classes the model predicts; its output size must match.")
@click.option("--name", help="Run name [default: the output file's stem].")
@click.option("--group", help="Group (recipe) of the run, e.g. rrc-0.08.")
@click.option("--strength", type=float, help="Numeric strength of the recipe, e.g. the RRC scale lower bound.")
@click.option("--seed", type=int, help="Training seed of the model (metadata).")
@click.option("--topk", default=5, show_default=True, type=click.IntRange(1), help="Classes kept per image.")
@click.option("--keep-logits", is_flag=True, help="Also store the full logits.")
@click.option("--split", help="Split of a saved HF DatasetDict.")
@click.option("--image-column", metavar="NAME", help="Image column of an HF dataset [default: its Image column].")
@click.option("--key-column", metavar="NAME",
              help="Image-key column of an HF dataset [default: a key-like text column, else the image file names].")
@click.option("--device", default="auto", show_default=True, metavar="auto|cpu|cuda|cuda:N",
              help="Where the model runs (under torchrun: each rank's own GPU).")
@click.option("--precision", type=click.Choice(Precision.choices()), default="auto", show_default=True,
              help="auto = bf16 autocast on CUDA, fp32 on CPU.")
@click.option("--batch-size", type=click.IntRange(1), help="Images per forward pass [default: 256 on CUDA, 32 on CPU].")
@click.option("--workers", type=click.IntRange(0),
              help="Parallel decode workers [default: CPU cores per local rank less one, at most 16].")
@click.option("--decode", type=click.Choice(Decode.choices()), default="cpu", show_default=True,
              help="Decode and resize in CPU workers, or in batches on the model's device (nvJPEG on CUDA).")
@click.option("--resize", "resize_size", type=click.IntRange(1),
              help="Shorter side after resizing [default: the model's own, else 256].")
@click.option("--crop", "crop_size", type=click.IntRange(1), help="Centre-crop size [default: the model's own, else 224].")
@click.option("--interpolation", type=click.Choice(Interpolation.choices()),
              help="Resize interpolation [default: the model's own, else bilinear].")
@click.option("--mean", type=_Triple(), help="Normalisation mean [default: the model's own, else ImageNet's].")
@click.option("--std", type=_Triple(), help="Normalisation std [default: the model's own, else ImageNet's].")
@click.option("--shard-size", default=1024, show_default=True, type=click.IntRange(1),
              help="Images per shard (the unit of resuming).")
@click.option("--on-error", type=click.Choice(OnError.choices()), default="fail", show_default=True,
              help="An unreadable image stops the run, or is left out with a warning.")
@click.option("--restart", is_flag=True, help="Discard shards left by an earlier, different prediction into --out.")
@click.option("--trust-program", is_flag=True,
              help="Load a TorchScript or torch.export (.pt2) MODEL: such a file is a program and runs what it holds, "
                   "so give this only for files from a source you trust.")
def predict(model: tuple[str, ...], data: str, out: str | None, out_dir: str | None, manifest: str | None,
            cache: str | None, fail_fast: bool, weights: str | None, arch: str | None, num_classes: int | None,
            label_space: str | None, name: str | None, group: str | None, strength: float | None, seed: int | None,
            topk: int, keep_logits: bool, split: str | None, image_column: str | None, key_column: str | None,
            device: str, precision: str, batch_size: int | None, workers: int | None, decode: str,
            resize_size: int | None, crop_size: int | None, interpolation: str | None,
            mean: tuple[float, ...] | None, std: tuple[float, ...] | None, shard_size: int, on_error: str,
            restart: bool, trust_program: bool) -> None:
    """Evaluate MODEL (or several) on the images in DATA and write a run file per model (top-k ids and scores).

    \b
    MODEL is a torchvision model name (with --weights), a timm or Hugging Face hub name
    (timm installed; e.g. timm/resnet18.a1_in1k), a checkpoint file (with --arch), or a
    TorchScript / torch.export (.pt2) file (with --trust-program: a program file runs code).
    DATA is a folder of images (flat, or class folders as ImageFolder reads them) or a
    folder saved with datasets' save_to_disk. Image keys are the paths relative to DATA.

    Several models (MODEL... or --models MODELS.csv, with --out-dir DIR) share one decode:
    the images are decoded and resized once per preprocessing and every model runs over
    them; each run file is the one a single relabel predict of that model writes. --cache DIR
    keeps the decoded images for later commands.

    Interrupted runs resume: rerun the same command and finished shards (and finished
    models) are kept. Under torchrun every rank takes its own shards and rank 0 writes the
    merged files.

    \b
    Examples:
      relabel predict resnet50 --weights ResNet50_Weights.IMAGENET1K_V2 imagenet/val -o runs/r50.parquet
      relabel predict ckpt/seed0.pth --arch resnet50 val/ -o runs/s008-0.parquet --group rrc-0.08 --strength 0.08 --seed 0
      torchrun --nproc_per_node 8 --no-python relabel predict model.pt2 --trust-program val/ -o runs/model.parquet
      relabel predict --models sweep.csv val/ --out-dir runs/ --cache /scratch/val-cache
      relabel predict ckpt/*.pth --arch resnet50 val/ --out-dir runs/ --group rrc-0.08
    """
    if manifest is not None or out_dir is not None or len(model) != 1:
        _predict_many(model, data, out, out_dir, manifest, cache, fail_fast, weights=weights, arch=arch,
                      num_classes=num_classes, label_space=label_space, name=name, group=group, strength=strength,
                      seed=seed, topk=topk, keep_logits=keep_logits, split=split, image_column=image_column,
                      key_column=key_column, device=device, precision=precision, batch_size=batch_size,
                      workers=workers, decode=decode, resize_size=resize_size, crop_size=crop_size,
                      interpolation=interpolation, mean=mean, std=std, shard_size=shard_size, on_error=on_error,
                      restart=restart, trust_program=trust_program)
        return
    if out is None:
        raise click.UsageError("give the run file to write: -o RUN.parquet (several models: --out-dir DIR)")
    if cache is not None:
        raise click.UsageError("--cache is for several models in one pass (--out-dir DIR); one model decodes "
                               "while it runs")
    from relabel.inference import load_model
    from relabel.inference import predict as run_predict
    from relabel.inference.prediction import check_out

    (model_name,) = model
    check_out(out, data)  # before the model is loaded
    loaded = load_model(model_name, arch=arch, weights=weights, num_classes=num_classes,
                        trust_program=trust_program).with_preprocess(
        resize_size=resize_size, crop_size=crop_size, interpolation=interpolation, mean=mean, std=std,
    )
    run = run_predict(
        loaded, data, label_space=label_space, out=out, name=name, group=group, strength=strength, seed=seed,
        topk=topk, keep_logits=keep_logits, split=split, image_column=image_column, key_column=key_column,
        device=device, precision=precision, batch_size=batch_size, workers=workers, decode=decode,
        shard_size=shard_size, on_error=on_error, restart=restart,
    )
    if int(os.environ.get("RANK", "0")) == 0:
        from relabel.inference.checkpoints import recorded_origin

        k = run.topk_ids.shape[1]
        record = (recorded_origin(Path(out)) or {}).get("throughput") or {}
        rate = (f", {record['images_per_s']} img/s, bound by {record['bound']}"
                if record.get("images_per_s") is not None and record.get("bound") else "")
        echo(f"{run.meta.name}: {run.n_images} images, top-{k}{' and logits' if run.logits is not None else ''} "
             f"from {loaded.description}{rate}")
        render_written([out])


def _predict_many(model: tuple[str, ...], data: str, out: str | None, out_dir: str | None, manifest: str | None,
                  cache: str | None, fail_fast: bool, *, weights: str | None, arch: str | None,
                  num_classes: int | None, name: str | None, group: str | None, strength: float | None,
                  seed: int | None, resize_size: int | None, crop_size: int | None, interpolation: str | None,
                  mean: tuple[float, ...] | None, std: tuple[float, ...] | None, **options: Any) -> None:
    """Several models over DATA in one pass (``relabel.inference.checkpoints.predict_models``)."""
    from relabel.inference.checkpoints import ModelSpec, ModelsFailed, predict_models, read_models

    if out is not None:
        raise click.UsageError("-o names one run file; with several models give --out-dir DIR (one NAME.parquet "
                               "per model)")
    if out_dir is None:
        raise click.UsageError("several models (MODEL... or --models) need --out-dir DIR for their run files")
    if not model and manifest is None:
        raise click.UsageError("give a MODEL, several, or --models MODELS.csv")
    if name is not None and len(model) + (manifest is not None) > 1:
        raise click.UsageError("--name names one run; with several models each is named after its file (or its "
                               "'name' in --models)")
    fields: dict[str, Any] = {"group": group, "strength": strength, "seed": seed, "arch": arch, "weights": weights,
                              "num_classes": num_classes}
    given = {k: v for k, v in fields.items() if v is not None}
    # the command's options fill the fields a manifest entry leaves empty; an entry's own values win
    specs = [replace(s, **{k: v for k, v in given.items() if getattr(s, k) is None})
             for s in (read_models(manifest) if manifest is not None else ())]
    specs += [ModelSpec(m, name, group, strength, seed, arch, weights, num_classes) for m in model]
    changes = {"resize_size": resize_size, "crop_size": crop_size, "interpolation": interpolation, "mean": mean,
               "std": std}
    try:
        result = predict_models(specs, data, out_dir=out_dir, cache=cache, fail_fast=fail_fast, preprocess_changes=changes,
                                **options)
    except ModelsFailed as e:
        if int(os.environ.get("RANK", "0")) == 0:
            _report(e.predictions)
        raise
    if int(os.environ.get("RANK", "0")) == 0:
        _report(result)


def _report(result: Any) -> None:
    for run_name, path in result.runs.items():
        if run_name in result.finished:
            echo(f"{run_name}: finished before with the same plan, kept ({path})")
            continue
        record = result.throughput.get(run_name, {})
        echo(f"{run_name}: {record.get('images', 0)} images, {record.get('images_per_s')} img/s, "
             f"bound by {record.get('bound')}")
    for run_name, why in result.failed.items():
        echo(f"{run_name}: FAILED: {why}")
    render_written([str(p) for n, p in result.runs.items() if n not in result.finished])
