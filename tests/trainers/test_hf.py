"""HF datasets: set_transform / with_transform with a real Dataset (Image and ClassLabel features)."""

from __future__ import annotations

import pytest
import torch
from torchvision.transforms import v2

import relabel
from relabel.trainers.hf import batch_transform

datasets = pytest.importorskip("datasets")


def _dataset(root, keys):
    from PIL import Image

    paths = sorted(p for p in root.rglob("*.png"))
    return datasets.Dataset.from_dict(
        {"image": [Image.open(p).convert("RGB") for p in paths], "label": [keys.index(p.parent.name) for p in paths]},
        features=datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=keys)}),
    )


def test_set_transform_and_with_transform_apply_each_rows_class_pipeline(subset_folder, recommended):
    train = _dataset(subset_folder["root"], subset_folder["keys"])
    pipeline = v2.Compose([v2.RandomResizedCrop(16, scale=(0.08, 1.0)), v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
    with pytest.warns(relabel.RelabelWarning, match=r"10 of the file's 12 overridden classes are not among the "
                                                    r"trainer's 3 classes and are skipped"):
        transform = relabel.build_transform(recommended["path"], default=pipeline, classes=train.features["label"].names,
                                            skip_absent=True)
    overridden = train.features["label"].names.index(subset_folder["overridden"][0])
    assert transform.transform_for(overridden).transforms[0].scale == subset_folder["scale"]
    assert transform.transform_for(train.features["label"].names.index("n01440764")) is pipeline
    train.set_transform(batch_transform(transform))
    row = train[0]
    assert row["image"].shape == (3, 16, 16) and row["image"].dtype == torch.float32
    batch = next(iter(torch.utils.data.DataLoader(train, batch_size=4)))
    assert batch["image"].shape == (4, 3, 16, 16) and batch["label"].tolist() == [0, 0, 0, 1]
    other = _dataset(subset_folder["root"], subset_folder["keys"]).with_transform(
        batch_transform(transform, output_column="pixel_values"))
    assert other[0]["pixel_values"].shape == (3, 16, 16) and "image" in other[0]


def test_a_missing_column_is_named(subset_folder, recommended):
    train = _dataset(subset_folder["root"], subset_folder["keys"]).rename_column("label", "y")
    with pytest.warns(relabel.RelabelWarning, match="skipped"):
        transform = relabel.build_transform(recommended["path"], default=v2.RandomResizedCrop(8),
                                            classes=subset_folder["keys"], skip_absent=True)
    train.set_transform(batch_transform(transform))
    with pytest.raises(relabel.InputError, match=r"not 'label' \(pass image_column= and label_column=\)"):
        train[0]
