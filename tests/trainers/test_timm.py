"""timm: create_dataset + create_loader (the documented path), create_transform pipelines, the double crop."""

from __future__ import annotations

import pytest
import torch
from conftest import MIXED
from PIL import Image

import relabel
from relabel.errors import OverridesError
from relabel.overrides import Overrides
from relabel.pipeline import identify, read_parameters, steps

timm_data = pytest.importorskip("timm.data")


def _loader(dataset, **kwargs):
    return timm_data.create_loader(dataset, input_size=(3, 24, 24), batch_size=3, is_training=True, use_prefetcher=False,
                                   num_workers=0, **kwargs)


def test_create_loader_gives_its_pipeline_to_the_dataset_as_the_default(subset_folder, recommended):
    dataset = timm_data.create_dataset("", root=str(subset_folder["root"]), split="train")
    train = relabel.ClassConditionalDataset(dataset, recommended["path"], skip_absent=True)
    with pytest.warns(relabel.RelabelWarning, match="skipped"):  # the ImageNet-1k file's other classes
        loader = _loader(train, scale=(0.08, 1.0), hflip=0.5, auto_augment="rand-m9-mstd0.5-inc1", re_prob=0.25)
    # create_loader assigned timm's pipeline; the dataset rebuilt the class-conditional transform on top of it
    t = train.transform
    assert isinstance(t, relabel.ClassConditionalTransform)
    names = [type(s).__name__ for s in steps(t.default)]
    assert names[:3] == ["RandomResizedCropAndInterpolation", "RandomHorizontalFlip", "RandAugment"]
    index = train.class_to_idx[subset_folder["overridden"][0]]
    crop = steps(t.transform_for(index))[0]
    assert type(crop).__name__ == "RandomResizedCropAndInterpolation" and crop.scale == subset_folder["scale"]
    assert sum(identify(s) is relabel.Augmentation.RANDOM_RESIZED_CROP for s in steps(t.transform_for(index))) == 1
    assert t.transform_for(train.class_to_idx["n01440764"]) is t.default
    images, targets = next(iter(loader))
    assert tuple(images.shape) == (3, 3, 24, 24) and set(targets.tolist()) <= {0, 1, 2}


def test_a_ready_transform_is_not_silently_overwritten_by_create_loader(subset_folder, recommended):
    dataset = timm_data.create_dataset("", root=str(subset_folder["root"]), split="train")
    with pytest.warns(relabel.RelabelWarning, match="skipped"):
        ready = relabel.build_transform(recommended["path"], default=timm_data.create_transform(24, is_training=True),
                                        classes=dataset.reader.class_to_idx, skip_absent=True)
    train = relabel.ClassConditionalDataset(dataset, ready)
    with pytest.raises(OverridesError, match=r"transform was assigned a Compose \(timm's create_loader does this\), which "
                                             r"would replace the class-conditional transform"):
        _loader(train)


def test_the_double_crop_case_is_an_error_and_the_timm_crop_is_changed_in_place():
    ov = Overrides.from_dict(MIXED)
    pipeline = timm_data.create_transform(32, is_training=True, scale=(0.08, 1.0), hflip=0.5, color_jitter=0.4)
    # the hint that used to add a second, stronger crop after timm's: now an error
    with pytest.raises(OverridesError, match=r"size=224 was given, but the pipeline already has timm "
                                             r"RandomResizedCropAndInterpolation with size \(32, 32\); relabel changes "
                                             r"that crop's parameters and never adds a second crop"):
        relabel.build_transform(ov, default=pipeline, classes=["a", "b", "c"], size=224)
    t = relabel.build_transform(ov, default=pipeline, classes=["a", "b", "c"])
    b = steps(t.transform_for(1))
    assert [type(s).__name__ for s in b][:2] == ["RandomResizedCropAndInterpolation", "ColorJitter"]  # flip off
    assert b[0].scale == (0.6, 1.0) and b[0].interpolation == steps(pipeline)[0].interpolation
    c = steps(t.transform_for(2))
    jitter = [s for s in c if identify(s) is relabel.Augmentation.COLOR_JITTER]
    assert read_parameters(relabel.Augmentation.COLOR_JITTER, jitter[0]) == {
        "brightness": pytest.approx(0.3), "contrast": pytest.approx(0.4), "saturation": pytest.approx(0.4), "hue": 0.0, "p": 0.5}
    out = t(Image.new("RGB", (40, 30)), 2)[0]
    assert out.shape == (3, 32, 32)


def test_an_unknown_timm_crop_is_an_error_that_says_what_it_found():
    pipeline = timm_data.create_transform(32, is_training=True, train_crop_mode="rkrr")
    ov = Overrides.from_dict({**MIXED, "default": {}, "overrides": [
        {"classes": ["a"], "transforms": {"random_resized_crop": {"scale": [0.5, 1.0]}}}]})
    with pytest.raises(OverridesError, match=r"does not insert into a pipeline it cannot read: it holds timm "
                                             r"ResizeKeepRatio, timm RandomCropOrPad, .* of which timm RandomCropOrPad is "
                                             r"unknown"):
        relabel.build_transform(ov, default=pipeline, classes=["a"], size=32)


def test_timm_rand_augment_and_random_erasing_take_the_overrides_parameters():
    pipeline = timm_data.create_transform(24, is_training=True, auto_augment="rand-m9-mstd0.5-inc1", re_prob=0.25)
    ov = Overrides.from_dict({"schema": "relabel.overrides/2", "overrides": [
        {"classes": ["a"], "transforms": {"timm_rand_augment": "rand-m3-n1", "random_erasing": {"p": 0.0, "count": [1, 2]}}},
        {"classes": ["b"], "transforms": {"timm_rand_augment": False, "random_erasing": False}},
    ]})
    t = relabel.build_transform(ov, default=pipeline, classes=["a", "b", "z"])
    a = {identify(s): s for s in steps(t.transform_for(0))}
    ra = read_parameters(relabel.Augmentation.TIMM_RAND_AUGMENT, a[relabel.Augmentation.TIMM_RAND_AUGMENT])
    assert (ra["magnitude"], ra["num_ops"], ra["magnitude_std"], ra["increasing"]) == (3, 1, 0.5, True)
    erasing = read_parameters(relabel.Augmentation.RANDOM_ERASING, a[relabel.Augmentation.RANDOM_ERASING])
    assert erasing["p"] == 0.0 and erasing["count"] == (1, 2)
    b = [identify(s) for s in steps(t.transform_for(1))]
    assert relabel.Augmentation.TIMM_RAND_AUGMENT not in b and relabel.Augmentation.RANDOM_ERASING not in b
    image = Image.new("RGB", (30, 30), (10, 120, 200))
    assert t(image, 0)[0].shape == (3, 24, 24) and torch.isfinite(t(image, 1)[0]).all()
    with pytest.raises(OverridesError, match=r"random_erasing.value is a parameter of the torchvision implementation only"):
        relabel.build_transform(Overrides.from_dict({"schema": "relabel.overrides/2", "overrides": [
            {"classes": ["a"], "transforms": {"random_erasing": {"value": 1.0}}}]}), default=pipeline, classes=["a"])
