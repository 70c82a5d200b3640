"""Hostile and messy input through the CLI, one row per case: (input builder, arguments, exit code, message).

Each builder writes real files into ``tmp_path`` (Parquet, CSV, .npy, torch archives, saved HF
datasets, symbolic links) and returns the command line. A row passes when the command exits
with its code and prints its fragment; a traceback fails it (``catch_exceptions=False``).
Rows with a ``marker`` check that a pickled payload never ran; rows with a ``check`` look at
what was written.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from click.testing import CliRunner
from hostile_files import Payload, evil_program
from torchvision import models

from relabel import imagenet_1k
from relabel.cli.main import cli

Builder = Callable[[Path, Any], list[str]]

OFFICE = ("laptop", "notebook", "desk", "monitor")
IMAGES = [f"img{i}.jpg" for i in range(8)]
TRUTH = ["laptop", "laptop", "notebook", "notebook", "desk", "desk", "monitor", "monitor"]
#: ImageNet classes whose imagefolder codes (0, 1, 2 in folder order) are not their ImageNet indices.
WNIDS = ("n01443537", "n01484850", "n01491361")  # goldfish 1, great white shark 2, tiger shark 3


@dataclass(frozen=True)
class Case:
    build: Builder
    exit_code: int
    fragment: str
    marker: str | None = None  # a file a payload would create; must not exist afterwards
    check: Callable[[Path, str], None] | None = None


# ---------------------------------------------------------------- shared files


def office(tmp: Path, annotations: bool = True) -> list[str]:
    """The office label space and annotations (one original label per image): the evaluate arguments."""
    (tmp / "classes.csv").write_text("key,name\n" + "".join(f"{c},{c}\n" for c in OFFICE))
    pd.DataFrame({"image": IMAGES, "original": TRUTH}).to_csv(tmp / "labels.csv", index=False)
    return ["evaluate", "--label-space", tmp / "classes.csv"] + (["--annotations", tmp / "labels.csv"]
                                                                  if annotations else [])


def imagenet_annotations(tmp: Path, wnids: list[str]) -> list[str]:
    """Annotations keyed img0.jpg… with ImageNet original labels (WordNet ids), and the evaluate arguments."""
    pd.DataFrame({"image": [f"img{i}.jpg" for i in range(len(wnids))], "original": wnids}).to_csv(
        tmp / "imagenet.csv", index=False)
    return ["evaluate", "--label-space", "imagenet-1k", "--annotations", tmp / "imagenet.csv"]


def images(folder: Path, n: int = 3) -> Path:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (16, 12), (40 * i, 80, 120)).save(folder / f"img{i}.jpg")
    return folder


def saved_imagefolder(tmp: Path, wnids: tuple[str, ...] = WNIDS, splits: tuple[str, ...] = ("validation",)) -> Path:
    """A real HF imagefolder dataset (class folders → ClassLabel), saved with save_to_disk."""
    import datasets as hf
    from PIL import Image

    root = tmp / "imagefolder"
    for split in splits:
        for j, wnid in enumerate(wnids):
            (root / split / wnid).mkdir(parents=True, exist_ok=True)
            for i in range(2):
                Image.new("RGB", (8, 8), (j * 60, i * 60, 0)).save(root / split / wnid / f"{split}_{wnid}_{i}.JPEG")
    dataset = hf.load_dataset("imagefolder", data_dir=str(root))
    saved = tmp / "saved"
    (dataset if len(splits) > 1 else dataset[next(iter(dataset))]).save_to_disk(str(saved))
    return saved


def hf_run(tmp: Path, wnids: tuple[str, ...] = WNIDS) -> Path:
    """A perfect run on saved_imagefolder's images, with ImageNet class indices."""
    space = imagenet_1k()
    keys = [f"validation_{w}_{i}.JPEG" for w in wnids for i in range(2)]
    ids = [space.keys.index(w) for w in wnids for _ in range(2)]
    pd.DataFrame({"image": keys, "pred_index": ids}).to_csv(tmp / "perfect.csv", index=False)
    return tmp / "perfect.csv"


def npy_claiming_rows(tmp: Path, rows: int) -> Path:
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, 4), }}"
    header += " " * (118 - len(header)) + "\n"
    path = tmp / "big.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + b"\0" * 64)
    return path


def timm_csv(tmp: Path, rows: list[str], name: str = "resnet50-224.csv") -> Path:
    """timm inference.py's default output: filename, label (description of the top-1 class), prob."""
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"filename": [f"img{i}.jpg" for i in range(len(rows))], "label": rows,
                  "prob": np.linspace(0.9, 0.5, len(rows))}).to_csv(path, index=False)
    return path


def chance_order_run(tmp: Path) -> tuple[Path, Path]:
    """Perfect predictions in ImageFolder order (class folder, then file), saved without keys, and ReaL's order."""
    from relabel import load_annotations

    real = load_annotations("real")
    wnids = np.asarray(real.label_space.keys, dtype=object)[real.original]
    folder_order = np.lexsort((real.images.astype(str), wnids.astype(str)))
    np.save(tmp / "folder_order.npy", real.original[folder_order].astype(np.int64))
    return tmp / "folder_order.npy", tmp / "real.json"


def per_class(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "per_class.csv", dtype={"class_name": str}).set_index("class_name")


def lightning_like(tmp: Path) -> Path:
    torch.manual_seed(0)
    net = models.resnet18(weights=None, num_classes=4)
    path = tmp / "epoch=3.ckpt"
    torch.save({"state_dict": {f"model.{k}": v for k, v in net.state_dict().items()}, "epoch": 3}, path)
    return path


# ---------------------------------------------------------------- the table


def _check_perfect(tmp: Path, output: str) -> None:
    assert "100.0%" in output


def _check_integer_names(tmp: Path, output: str) -> None:
    table = per_class(tmp / "out")
    assert table.loc[["1", "2", "3", "none"], "n_images"].tolist() == [2, 1, 1, 1]
    assert table["acc_original"].tolist() == [1.0, 1.0, 1.0, 1.0]


def _check_short_output(tmp: Path, output: str) -> None:
    assert len(output) < 5000


def _integer_names(tmp: Path, labels: list[str], preds: list[str]) -> list[str]:
    (tmp / "classes.txt").write_text("1\n2\n3\nnone\n")
    keys = [f"img{i}.jpg" for i in range(len(labels))]
    (tmp / "labels.csv").write_text("image,original\n" + "".join(f"{k},{v}\n" for k, v in zip(keys, labels)))
    (tmp / "preds.csv").write_text("image,pred\n" + "".join(f"{k},{v}\n" for k, v in zip(keys, preds)))
    return ["evaluate", "--label-space", tmp / "classes.txt", "--annotations", tmp / "labels.csv", tmp / "preds.csv",
            "--out", tmp / "out"]


def _office_run(tmp: Path, columns: dict[str, list[Any]], name: str = "run.csv") -> Path:
    pd.DataFrame(columns).to_csv(tmp / name, index=False)
    return tmp / name


def _parquet_run(tmp: Path, topk: list[Any]) -> Path:
    pq.write_table(pa.table({"image": IMAGES[: len(topk)], "topk_ids": topk}), tmp / "run.parquet")
    return tmp / "run.parquet"


def _predict_evil(where: str, trust: bool) -> Builder:
    def build(tmp: Path, monkeypatch: Any) -> list[str]:
        path = evil_program(tmp / "evil.pt2", tmp / "marker", where)
        return ["predict", path, images(tmp / "imgs"), "-o", tmp / "out.parquet",
                *(["--trust-program"] if trust else [])]

    return build


def _predict_namespace_payload(tmp: Path, monkeypatch: Any) -> list[str]:
    torch.save({"model": models.resnet18(weights=None, num_classes=4).state_dict(),
                "args": argparse.Namespace(lr=0.1, evil=Payload(tmp / "marker"))}, tmp / "model_89.pth")
    return ["predict", tmp / "model_89.pth", "--arch", "resnet18", images(tmp / "imgs"), "-o", tmp / "out.parquet"]


def _hub_name(tmp: Path, monkeypatch: Any) -> list[str]:
    monkeypatch.setattr("relabel.inference.models._timm", lambda: None)
    return ["predict", "timm/resnet18.a1_in1k", images(tmp / "imgs"), "-o", tmp / "out.parquet"]


def _symlink_loop(tmp: Path, monkeypatch: Any) -> list[str]:
    folder = images(tmp / "imgs" / "a")
    os.symlink("..", folder / "again")
    return ["predict", "resnet18", "--weights", "none", "--num-classes", "4", tmp / "imgs", "-o", tmp / "out.parquet",
            "--workers", "0"]


def _canonical_chance(allow: bool) -> Builder:
    def build(tmp: Path, monkeypatch: Any) -> list[str]:
        array, _ = chance_order_run(tmp)
        return ["evaluate", "--annotations", "real", "--canonical-order", array, *(["--allow-chance"] if allow else [])]

    return build


def _split(given: str | None) -> Builder:
    def build(tmp: Path, monkeypatch: Any) -> list[str]:
        saved = saved_imagefolder(tmp, splits=("train", "validation"))
        return ["evaluate", "--annotations", saved, "--label-space", "imagenet-1k", hf_run(tmp),
                *(["--split", given] if given else [])]

    return build


def _deep_json(tmp: Path, monkeypatch: Any) -> list[str]:
    (tmp / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    return [*office(tmp), tmp / "deep.json"]


def _folder_in_manifest(tmp: Path, monkeypatch: Any) -> list[str]:
    (tmp / "runs").mkdir()
    (tmp / "runs.yaml").write_text("runs:\n  - {path: runs, name: a}\n")
    return [*office(tmp), "--manifest", tmp / "runs.yaml"]


def _truncated_pt(tmp: Path, monkeypatch: Any) -> list[str]:
    torch.save({"logits": torch.randn(8, 4), "images": IMAGES}, tmp / "run.pt")
    (tmp / "run.pt").write_bytes((tmp / "run.pt").read_bytes()[:700])
    return [*office(tmp), tmp / "run.pt"]


def _random_pt(tmp: Path, monkeypatch: Any) -> list[str]:
    (tmp / "run.pt").write_bytes(np.random.default_rng(0).bytes(4096))
    return [*office(tmp), tmp / "run.pt"]


def _duplicate_parquet_columns(tmp: Path, monkeypatch: Any) -> list[str]:
    table = pa.Table.from_arrays([pa.array(IMAGES), pa.array([0] * 8), pa.array([1] * 8)],
                                 names=["image", "pred", "pred"])
    pq.write_table(table, tmp / "run.parquet")
    return [*office(tmp), tmp / "run.parquet"]


def _huge_key(tmp: Path, monkeypatch: Any) -> list[str]:
    (tmp / "run.csv").write_text("image,pred\n" + "k" * 60_000_000 + ".jpg,laptop\nimg0.jpg,laptop\n")
    return [*office(tmp), tmp / "run.csv"]


def _shared_file_names(ambiguous: bool) -> Builder:
    def build(tmp: Path, monkeypatch: Any) -> list[str]:
        args = office(tmp, annotations=False)
        keys = ["a/x.jpg", "b/x.jpg", "y.jpg", "z.jpg"]
        pd.DataFrame({"image": keys, "original": ["laptop", "desk", "monitor", "notebook"]}).to_csv(
            tmp / "labels.csv", index=False)
        run_keys = ["x.jpg", "elsewhere/y.jpg"] if ambiguous else ["a/x.jpg", "elsewhere/y.jpg", "z.jpg"]
        _office_run(tmp, {"image": run_keys, "pred": ["laptop", "monitor", "notebook"][: len(run_keys)]})
        return [*args, "--annotations", tmp / "labels.csv", tmp / "run.csv"]

    return build


def _empty_class_name(tmp: Path, monkeypatch: Any) -> list[str]:
    args = office(tmp)
    (tmp / "classes.csv").write_text("key,name\nlaptop,laptop\nnotebook, \ndesk,desk\nmonitor,monitor\n")
    return [*args, _office_run(tmp, {"image": IMAGES, "pred": TRUTH})]


CASES: dict[str, Case] = {
    # -------- #12: code execution from model files (the payload must never run)
    "pt2 payload in sample inputs, not trusted": Case(_predict_evil("sample inputs", False), 1,
                                                      "a torch.export file is a program", marker="marker"),
    "pt2 payload in sample inputs, trusted": Case(_predict_evil("sample inputs", True), 1,
                                                  "does not load with weights_only=True", marker="marker"),
    "pt2 payload in a weight, trusted": Case(_predict_evil("weight", True), 1,
                                             "does not load with weights_only=True", marker="marker"),
    "pt2 opaque-object constant, trusted": Case(_predict_evil("constant", True), 1,
                                                "is a pickled Python object", marker="marker"),
    "checkpoint args Namespace holding a payload": Case(_predict_namespace_payload, 1,
                                                        "holds objects other than tensors", marker="marker"),
    "hub name is not a path": Case(_hub_name, 1, "no such file, and a Hugging Face hub name"),
    # -------- #12: HF imagefolder annotations with a given label space
    "HF ClassLabel codes mapped through their names": Case(
        lambda tmp, mp: ["evaluate", "--annotations", saved_imagefolder(tmp), "--label-space", "imagenet-1k",
                         hf_run(tmp)], 0, "6/6", check=_check_perfect),
    "HF ClassLabel names not in the label space": Case(
        lambda tmp, mp: ["evaluate", "--annotations", saved_imagefolder(tmp, ("cat", "dog", "emu")), "--label-space",
                         "imagenet-1k", hf_run(tmp)], 1, "the ClassLabel names must be classes (keys or names)"),
    "--split of a saved DatasetDict": Case(_split("validation"), 0, "100.0%"),
    "saved DatasetDict without --split": Case(_split(None), 1, "choose one with split= (CLI: --split)"),
    "--label-space from a saved HF dataset": Case(
        lambda tmp, mp: ["evaluate", "--annotations", saved_imagefolder(tmp), "--label-space", saved_imagefolder(
            tmp / "other"), _office_run(tmp, {"image": [f"validation_{w}_{i}.JPEG" for w in WNIDS for i in range(2)],
                                              "pred": [w for w in WNIDS for _ in range(2)]})], 0, "100.0%"),
    # -------- #12: tracebacks that became errors
    ".npy header claiming 10^10 rows": Case(
        lambda tmp, mp: [*office(tmp), "--order", _json_order(tmp), npy_claiming_rows(tmp, 10**10)], 1,
        "header declares an array of shape (10000000000, 4)"),
    "Parquet topk_ids of nested lists": Case(lambda tmp, mp: [*office(tmp), _parquet_run(tmp, [[[0]], [[1]]])], 1,
                                             "lists nested in lists"),
    "JSON nested 100,000 deep": Case(_deep_json, 1, "JSON nested too deeply"),
    "run path that is a folder (--run)": Case(lambda tmp, mp: [*office(tmp), "--run", f"a={tmp}"], 2,
                                              "is a folder; expected a run file"),
    "run path that is a folder (manifest)": Case(_folder_in_manifest, 1, "is a folder; expected a file"),
    # -------- #12: timm inference.py / validate.py output
    "timm description maillot is class 638": Case(
        lambda tmp, mp: [*imagenet_annotations(tmp, ["n03710637", "n03710721"]),
                         timm_csv(tmp, ["maillot", "maillot, tank suit"])], 0, "100.0%"),
    "timm crane is two classes": Case(
        lambda tmp, mp: [*imagenet_annotations(tmp, ["n02012849"]), timm_csv(tmp, ["crane"])], 1,
        "rerun timm's inference.py with --include-index or --label-type name"),
    "timm --label-type detailed": Case(
        lambda tmp, mp: [*imagenet_annotations(tmp, ["n01440764"]),
                         timm_csv(tmp, ["tench, Tinca tinca: freshwater dace-like game fish of Europe"])], 0, "100.0%"),
    "timm prob-only output of a custom-class model": Case(
        lambda tmp, mp: [*office(tmp), _office_run(tmp, {"filename": IMAGES, "prob": [0.9] * 8})], 1,
        "rerun it with --include-index"),
    "timm validate.py summary": Case(
        lambda tmp, mp: [*office(tmp), _office_run(tmp, {"model": ["resnet50"], "top1": [80.1], "top1_err": [19.9],
                                                         "top5": [95.0], "top5_err": [5.0], "param_count": [25.6]})],
        1, "such as timm's validate.py writes"),
    "timm per-seed folders with one default file name": Case(
        lambda tmp, mp: [*imagenet_annotations(tmp, ["n01440764"]),
                         timm_csv(tmp / "seed0", ["tench, Tinca tinca"]), timm_csv(tmp / "seed1", ["tench, Tinca tinca"])],
        1, "as timm's inference.py writes them per seed"),
    # -------- #12: column names, keys, order files
    "columns image_id and y_pred": Case(
        lambda tmp, mp: [*office(tmp), _office_run(tmp, {"image_id": IMAGES, "y_pred": TRUTH})], 0, "100.0%"),
    "columns img_name and predicted_label": Case(
        lambda tmp, mp: [*office(tmp), _office_run(tmp, {"img_name": IMAGES, "predicted_label": TRUTH})], 0, "100.0%"),
    "keys without a file extension": Case(
        lambda tmp, mp: [*office(tmp), _office_run(tmp, {"image": [k[:-4] for k in IMAGES], "pred": TRUTH})], 0,
        "100.0%"),
    "another extension is a near miss": Case(
        lambda tmp, mp: [*office(tmp), _office_run(tmp, {"image": [k[:-4] + ".png" for k in IMAGES], "pred": TRUTH})],
        1, "near misses (the file extensions differ): 'img0.png' is close to 'img0.jpg'"),
    "JSON list of paths as --order": Case(
        lambda tmp, mp: [*office(tmp), "--order", _json_order(tmp), _npy_ids(tmp)], 0, "100.0%"),
    "arrays without keys name --order": Case(lambda tmp, mp: [*office(tmp), _npy_ids(tmp)], 1, "--order FILE"),
    "stated canonical order at chance level": Case(_canonical_chance(False), 1,
                                                   "given image keys by position (canonical order)"),
    "--allow-chance accepts it": Case(_canonical_chance(True), 0, "chance level"),
    # -------- #17: silent wrong numbers
    "ground-truth column only": Case(
        lambda tmp, mp: [*office(tmp), _office_run(tmp, {"filename": IMAGES, "label": TRUTH})], 1,
        "['label'] name the true class"),
    "integer-like class names": Case(
        lambda tmp, mp: _integer_names(tmp, ["1", "1", "2", "3", "none"], ["1", "1", "2", "3", "none"]), 0, "5/5",
        check=_check_integer_names),
    "integer-like names with nothing to tell them from indices": Case(
        lambda tmp, mp: _integer_names(tmp, ["1", "2", "3"], ["1", "2", "3"]), 1,
        "both a valid class index and the name of another class"),
    "top-k row repeating one class": Case(
        lambda tmp, mp: [*office(tmp), _parquet_run(tmp, [[0, 0, 0], [1, 2, 3]] + [[3, 2, 1]] * 6)], 1,
        "names one class more than once"),
    "Lightning checkpoint": Case(
        lambda tmp, mp: ["predict", lightning_like(tmp), "--arch", "resnet18", images(tmp / "imgs"), "-o",
                         tmp / "out.parquet", "--workers", "0", "--device", "cpu", "--topk", "1"], 0, "3 images"),
    "symlink loop in an image folder": Case(_symlink_loop, 1, "a symbolic link loop"),
    # -------- #17: messages that misled
    "truncated .pt": Case(_truncated_pt, 1, "zip archive torch.save writes is truncated or damaged"),
    "random bytes in a .pt": Case(_random_pt, 1, "not a file torch.save wrote"),
    "duplicate Parquet column names": Case(_duplicate_parquet_columns, 1, "column names must be unique"),
    "60 MB image key": Case(_huge_key, 1, "(60000006 characters)", check=_check_short_output),
    "annotation keys sharing a file name pair the others": Case(_shared_file_names(False), 0, "3/4"),
    "a run key needing a shared file name": Case(_shared_file_names(True), 1,
                                                 "pair only by a file name that several annotated images share"),
    "empty class name": Case(_empty_class_name, 1, "class names must not be empty"),
}


def _npy_ids(tmp: Path) -> Path:
    np.save(tmp / "ids.npy", np.asarray([OFFICE.index(t) for t in TRUTH], dtype=np.int64))
    return tmp / "ids.npy"


def _json_order(tmp: Path) -> Path:
    (tmp / "order.json").write_text(json.dumps([f"val/{t}/{k}" for t, k in zip(TRUTH, IMAGES)]))
    return tmp / "order.json"


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input(tmp_path, monkeypatch, name):
    case = CASES[name]
    args = [str(a) for a in case.build(tmp_path, monkeypatch)]

    result = CliRunner().invoke(cli, args, catch_exceptions=False)

    assert result.exit_code == case.exit_code, result.output[:3000]
    assert case.fragment in result.output, result.output[:3000]
    if case.marker is not None:
        assert not (tmp_path / case.marker).exists(), "a pickled payload ran"
    if case.check is not None:
        case.check(tmp_path, result.output)


def test_every_run_row_is_written_once_for_a_clean_folder(tmp_path):
    """The symlink case's counterpart: the same folder without the loop gives one row per real image."""
    folder = images(tmp_path / "imgs" / "a")
    os.symlink("a", tmp_path / "imgs" / "alias")
    result = CliRunner().invoke(cli, ["predict", "resnet18", "--weights", "none", "--num-classes", "4",
                                      str(tmp_path / "imgs"), "-o", str(tmp_path / "out.parquet"), "--workers", "0",
                                      "--device", "cpu"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(tmp_path / "out.parquet")["image"].tolist() == [f"a/img{i}.jpg" for i in range(3)]
    assert folder.exists()
