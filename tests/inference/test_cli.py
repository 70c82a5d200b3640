"""`relabel predict` run as a user runs it: a checkpoint and a folder in tmp_path → a run file, then evaluate it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torchvision import models

from relabel import LabelSpace, load_run
from relabel.cli.main import cli
from relabel.inference import Preprocess, predict, shards_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_predict import image_tree  # noqa: E402


def _invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def files(tmp_path):
    """A 4-class ResNet-18 checkpoint (DDP-style keys, nested), a folder of 12 JPEGs, a class list."""
    torch.manual_seed(0)
    net = models.resnet18(weights=None, num_classes=4).eval()
    torch.save({"epoch": 1, "state_dict": {f"module.{k}": v for k, v in net.state_dict().items()}},
               tmp_path / "seed0.pth")
    keys = image_tree(tmp_path / "val")
    (tmp_path / "classes.csv").write_text("key,name\nn01,first\nn02,second\nn03,third\nn04,fourth\n")
    return tmp_path, net, keys


SMALL = ["--resize", 36, "--crop", 32, "--workers", 0]


def test_predict_writes_a_run_that_evaluate_reads(files):
    tmp_path, net, keys = files
    out = tmp_path / "runs" / "s008-0.parquet"
    result = _invoke("predict", tmp_path / "seed0.pth", tmp_path / "val", "--arch", "resnet18", "-o", out, *SMALL,
                     "--group", "rrc-0.08", "--strength", 0.08, "--seed", 0, "--topk", 3, "--label-space",
                     tmp_path / "classes.csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("s008-0: 12 images, top-3 from checkpoint ")
    assert f"wrote {out}" in result.stderr
    run = load_run(out, label_space=LabelSpace.from_names(["n01", "n02", "n03", "n04"]))
    assert (run.meta.name, run.meta.group, run.meta.strength, run.meta.seed) == ("s008-0", "rrc-0.08", 0.08, 0)
    by_api = predict(net, tmp_path / "val", preprocess=Preprocess(36, 32), workers=0, topk=3)
    assert run.images.tolist() == by_api.images.tolist() == keys
    np.testing.assert_array_equal(run.topk_ids, by_api.topk_ids)

    labels = {Path(k).name: {"original": k.split("/")[0]} for k in keys}  # keyed by file name only
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    evaluated = _invoke("evaluate", "--annotations", tmp_path / "labels.json", "--label-space",
                        tmp_path / "classes.csv", out)
    assert evaluated.exit_code == 0, evaluated.output
    assert "12/12" in evaluated.output


def test_predict_errors(files):
    tmp_path, _, _ = files
    out = tmp_path / "run.parquet"
    missing = _invoke("predict", tmp_path / "nope.pth", tmp_path / "val", "--arch", "resnet18", "-o", out)
    assert missing.exit_code == 1
    assert f"Error: model file {tmp_path / 'nope.pth'} does not exist" in missing.output

    (tmp_path / "two.csv").write_text("key\na\nb\n")
    mismatch = _invoke("predict", tmp_path / "seed0.pth", tmp_path / "val", "--arch", "resnet18", "-o", out, *SMALL,
                       "--label-space", tmp_path / "two.csv")
    assert mismatch.exit_code == 1
    assert "outputs 4 classes but label space 'two' has 2" in mismatch.output
    assert not out.exists() and not shards_dir(out).exists()

    no_weights = _invoke("predict", "resnet18", tmp_path / "val", "-o", out)
    assert no_weights.exit_code == 1 and "give the weights" in no_weights.output and "--weights" in no_weights.output

    bad_mean = _invoke("predict", tmp_path / "seed0.pth", tmp_path / "val", "-o", out, "--mean", "0.5,0.5")
    assert bad_mean.exit_code == 2 and "expected three numbers separated by commas" in bad_mean.output


def test_unreadable_images_fail_or_are_skipped(files):
    tmp_path, _, keys = files
    (tmp_path / "val" / "n02" / "broken.jpg").write_bytes(b"\xff\xd8 not really a JPEG")
    out = tmp_path / "run.parquet"
    args = ["predict", tmp_path / "seed0.pth", tmp_path / "val", "--arch", "resnet18", "-o", out, *SMALL]
    failed = _invoke(*args)
    assert failed.exit_code == 1
    assert "n02/broken.jpg: cannot read the image" in failed.output and "(CLI: --on-error skip)" in failed.output
    assert not out.exists()
    skipped = _invoke(*args, "--on-error", "skip")
    assert skipped.exit_code == 0, skipped.output
    assert "warning: skipped 1 unreadable image (1 offender: 'n02/broken.jpg'" in skipped.stderr
    assert load_run(out, label_space=LabelSpace.from_names(list("abcd"))).images.tolist() == keys


def test_help_lists_the_options():
    text = _invoke("predict", "--help").output
    for option in ("--weights", "--arch", "--out", "--keep-logits", "--decode", "--on-error", "--restart",
                   "--shard-size", "--precision", "--batch-size", "--workers", "--key-column", "torchrun"):
        assert option in text
