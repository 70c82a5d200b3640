"""Shared pieces of the adapter tests: a real image folder, and a real /2 override file written by the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from relabel.cli.main import cli


def make_image_folder(root: Path, keys, n: int = 3, size=(40, 30)) -> Path:
    """``root/<key>/<i>.png``: n small RGB images per class, each class its own colour."""
    for c, key in enumerate(keys):
        (root / key).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.new("RGB", size, (40 * c % 256, 90 + 10 * i, 200 - 30 * c % 200)).save(root / key / f"{i}.png")
    return root


@pytest.fixture(scope="session")
def recommended(tmp_path_factory) -> dict:
    """``relabel evaluate --demo --recommend``: the /2 override file (ImageNet-1k keys) the CLI writes, and its content."""
    out = tmp_path_factory.mktemp("demo") / "results"
    path = out.parent / "overrides.json"
    result = CliRunner().invoke(cli, ["evaluate", "--demo", "--out", str(out), "--recommend", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(path.read_text())
    assert data["schema"] == "relabel.overrides/2" and data["overrides"]
    return {"path": path, "data": data}


@pytest.fixture
def subset_folder(tmp_path, recommended) -> dict:
    """An 'ImageNet-100'-style trainer: the first override's two classes plus one class the file does not name."""
    first = recommended["data"]["overrides"][0]
    keys = sorted([*first["classes"], "n01440764"])
    root = make_image_folder(tmp_path / "train", keys)
    return {"root": root, "keys": keys, "overridden": first["classes"],
            "scale": tuple(first["transforms"]["random_resized_crop"]["scale"])}


MIXED = {
    "schema": "relabel.overrides/2",
    "label_space": "toy",
    "default": {"random_resized_crop": {"scale": [0.08, 1.0]}, "horizontal_flip": {"p": 0.5}},
    "overrides": [
        {"classes": ["b"], "transforms": {"horizontal_flip": False, "random_resized_crop": {"scale": [0.6, 1.0]}}},
        {"classes": ["c"], "transforms": {"color_jitter": {"brightness": 0.3, "p": 0.5}}},
    ],
}
"""A /2 file with an augmentation switched off (b), one added (c), and a class left alone (a)."""
