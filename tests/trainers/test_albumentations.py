"""albumentations: per-class A.Compose pipelines from a /2 file, run on real images."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MIXED

from relabel.errors import OverridesError
from relabel.overrides import Overrides

A = pytest.importorskip("albumentations")
from relabel.trainers.albumentations import ClassConditionalCompose, build_transform  # noqa: E402


def _pipeline():
    return A.Compose([A.RandomResizedCrop(size=(16, 16), scale=(0.08, 1.0)), A.HorizontalFlip(p=0.5), A.Normalize()])


def test_per_class_parameters_off_and_inserted(subset_folder):
    t = build_transform(Overrides.from_dict(MIXED), default=_pipeline(), classes=["a", "b", "c"])
    assert isinstance(t, ClassConditionalCompose) and t.transform_for(0) is t.default
    b = t.transform_for(1).transforms
    assert [type(s).__name__ for s in b] == ["RandomResizedCrop", "Normalize"]  # flip off
    assert b[0].scale == (0.6, 1.0) and tuple(b[0].size) == (16, 16)
    c = t.transform_for(2).transforms
    assert [type(s).__name__ for s in c] == ["RandomResizedCrop", "HorizontalFlip", "ColorJitter", "Normalize"]
    assert c[2].brightness == pytest.approx((0.7, 1.3)) and c[2].p == 0.5
    image = np.zeros((30, 40, 3), np.uint8)
    for label in (0, 1, 2):
        assert t(image=image, label=label)["image"].shape == (16, 16, 3)
    out, target = t(image, 2)
    assert out.shape == (16, 16, 3) and target == 2


def test_the_cli_file_on_a_class_subset(subset_folder, recommended):
    from PIL import Image

    keys = subset_folder["keys"]
    with pytest.warns(Warning, match="skipped"):
        t = build_transform(recommended["path"], default=_pipeline(), classes=keys, skip_absent=True)
    crop = t.transform_for(keys.index(subset_folder["overridden"][0])).transforms[0]
    assert crop.scale == subset_folder["scale"]
    image = np.asarray(Image.open(next(subset_folder["root"].rglob("*.png"))))
    assert t(image=image, label=0)["image"].shape == (16, 16, 3)


def test_what_albumentations_cannot_say_is_an_error():
    ov = Overrides.from_dict({"schema": "relabel.overrides/2", "overrides": [
        {"classes": ["a"], "transforms": {"trivial_augment": True}}]})
    with pytest.raises(OverridesError, match=r"names trivial_augment, which has no albumentations counterpart"):
        build_transform(ov, default=_pipeline(), classes=["a"])
    unknown = A.Compose([A.RandomBrightnessContrast(), A.Normalize()])
    ov = Overrides.from_dict({"schema": "relabel.overrides/2", "overrides": [
        {"classes": ["a"], "transforms": {"horizontal_flip": {"p": 1.0}}}]})
    with pytest.raises(OverridesError, match=r"holds RandomBrightnessContrast, Normalize, of which RandomBrightnessContrast "
                                             r"is unknown"):
        build_transform(ov, default=unknown, classes=["a"])
