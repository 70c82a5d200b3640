"""Trainer side: overrides reach the samples of the overridden classes, and only those.

The done-criterion of issue #4: a tiny CNN trains for a few steps on a small synthetic
ImageFolder through ClassConditionalDataset, and an instrumented RandomResizedCrop shows that
images of the overridden classes were cropped with the override's scale range and the others
with the default's.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch
import torchvision.transforms as transforms_v1
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision.datasets import ImageFolder
from torchvision.transforms import v2

from relabel import InputError, OverridesError, RelabelWarning
from relabel.overrides import Override, Overrides, load
from relabel.transforms import (
    ClassConditionalDataset,
    ClassConditionalTransform,
    build_pipeline,
    build_transform,
    check_default,
    override_pipeline,
)

CLASSES = ["cat", "dog", "fox", "owl"]  # ImageFolder sorts them: cat 0, dog 1, fox 2, owl 3
DEFAULT_SCALE = (0.08, 1.0)
OVERRIDE_SCALE = (0.5, 1.0)

OVERRIDE_FILE = """\
{
  "schema": "relabel.overrides/1",
  "label_space": "pets",
  "default": {"random_resized_crop": {"scale": [0.08, 1.0]}, "horizontal_flip": {"p": 0.5}},
  "overrides": [
    {
      "classes": ["cat", "dog"],
      "transforms": {"random_resized_crop": {"scale": [0.5, 1.0]}},
      "reason": "cat lost accuracy to dog under strong crops",
      "side": {"lost": ["cat"], "absorbing": ["dog"], "target": "both"}
    }
  ]
}
"""


def _images(n_per_class: int = 8, size: int = 64) -> list[tuple[Image.Image, int]]:
    rng = np.random.default_rng(0)
    out = []
    for label in range(len(CLASSES)):
        for _ in range(n_per_class):
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            pixels[..., label % 3] //= 4  # a little class signal
            out.append((Image.fromarray(pixels), label))
    return out


@pytest.fixture
def image_folder(tmp_path):
    root = tmp_path / "train"
    for j, (image, label) in enumerate(_images()):
        folder = root / CLASSES[label]
        folder.mkdir(parents=True, exist_ok=True)
        image.save(folder / (f"{j}.png" if j % 2 else f"{j}.jpg"))
    return root


@pytest.fixture
def override_path(tmp_path):
    path = tmp_path / "overrides.json"
    path.write_text(OVERRIDE_FILE, encoding="utf-8")
    return path


def default_pipeline(size: int = 32) -> v2.Compose:
    return v2.Compose([
        v2.RandomResizedCrop(size, scale=DEFAULT_SCALE),
        v2.RandomHorizontalFlip(),
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25]),
    ])


class Recorder(Dataset):
    """Pairs each sample's target with the crop draw made while loading it (num_workers=0)."""

    def __init__(self, dataset, log):
        self.dataset, self.log, self.samples = dataset, log, []

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        before = len(self.log)
        image, target = self.dataset[index]
        assert len(self.log) == before + 1, "expected exactly one crop per sample"
        self.samples.append((int(target), *self.log[before]))
        return image, target


def _tiny_cnn() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, stride=2, padding=1), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, len(CLASSES)),
    )


def _train(loader: DataLoader, steps_per_epoch_cap: int | None = None, epochs: int = 3) -> list[float]:
    model = _tiny_cnn()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(epochs):
        for images, targets in loader:
            assert images.shape[1:] == (3, 32, 32) and images.dtype == torch.float32
            loss = torch.nn.functional.cross_entropy(model(images), targets)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
    return losses


def _check_crops(samples, overridden: set[int]) -> None:
    assert {t for t, *_ in samples} == set(range(len(CLASSES)))
    for target, scale, fraction in samples:
        if target in overridden:
            assert scale == OVERRIDE_SCALE, (target, scale)
            assert fraction >= OVERRIDE_SCALE[0] - 0.05, (target, fraction)  # pixel rounding only
        else:
            assert scale == DEFAULT_SCALE, (target, scale)
    default_fractions = [f for t, _, f in samples if t not in overridden]
    assert min(default_fractions) < 0.3  # the default really crops smaller


# -- the done-criterion --------------------------------------------------------------------------


def test_training_through_the_wrapper_applies_the_override_per_class(image_folder, override_path, crop_log):
    torch.manual_seed(0)
    train = ImageFolder(image_folder)
    assert train.class_to_idx == {"cat": 0, "dog": 1, "fox": 2, "owl": 3}
    overrides = load(override_path, classes=train.class_to_idx)
    transform = build_transform(overrides, default=default_pipeline(), classes=train.class_to_idx)
    wrapped = ClassConditionalDataset(train, transform)
    assert wrapped.classes == CLASSES and wrapped.class_to_idx == train.class_to_idx and len(wrapped) == 32

    recorder = Recorder(wrapped, crop_log)
    loader = DataLoader(recorder, batch_size=8, shuffle=True, num_workers=0, generator=torch.Generator().manual_seed(0))
    losses = _train(loader)

    assert len(losses) == 12 and all(np.isfinite(losses))
    assert len(recorder.samples) == 3 * 32
    _check_crops(recorder.samples, overridden={0, 1})


def test_hf_dataset_through_the_wrapper(override_path, crop_log):
    datasets = pytest.importorskip("datasets")
    torch.manual_seed(1)
    images = _images(n_per_class=4)
    hf = datasets.Dataset.from_dict(
        {"img": [im for im, _ in images], "fine_label": [label for _, label in images]},
        features=datasets.Features({"img": datasets.Image(), "fine_label": datasets.ClassLabel(names=CLASSES)}),
    )
    with pytest.raises(InputError, match=r"has no column 'image'; its columns are \['img', 'fine_label'\]"):
        ClassConditionalDataset(hf, lambda image, target: (image, target))

    probe = ClassConditionalDataset(hf, lambda image, target: (image, target), image_column="img", label_column="fine_label")
    assert probe.classes == CLASSES and probe.class_to_idx == {"cat": 0, "dog": 1, "fox": 2, "owl": 3}
    transform = build_transform(override_path, default=default_pipeline(), classes=probe.class_to_idx)
    wrapped = ClassConditionalDataset(hf, transform, image_column="img", label_column="fine_label")

    recorder = Recorder(wrapped, crop_log)
    losses = _train(DataLoader(recorder, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(1)), epochs=2)
    assert len(losses) == 4 and all(np.isfinite(losses))
    _check_crops(recorder.samples, overridden={0, 1})


# -- ClassConditionalTransform ---------------------------------------------------------------------


def _marking_transform() -> ClassConditionalTransform:
    return ClassConditionalTransform(v2.Identity(), {1: v2.Grayscale(), 3: v2.Grayscale()})


def test_call_forms():
    t = _marking_transform()
    image = Image.new("RGB", (8, 8))
    out, target = t(image, 1)
    assert out.mode == "L" and target == 1
    out, target = t(image, 0)
    assert out.mode == "RGB" and target == 0
    assert t(image, target=3).mode == "L"
    out, target = t((image, 3))
    assert out.mode == "L" and target == 3
    assert t(image, torch.tensor(1))[0].mode == "L"
    assert t(image, np.int64(1))[0].mode == "L"
    assert t(image, 7)[0].mode == "RGB"  # no override: the default
    out, target = v2.Compose([t, v2.ToImage()])(image, 1)
    assert out.shape == (1, 8, 8) and target == 1


def test_call_errors():
    t = _marking_transform()
    image = Image.new("RGB", (8, 8))
    with pytest.raises(TypeError, match=r"needs the sample's target.*ClassConditionalDataset"):
        t(image)
    with pytest.raises(TypeError, match=r"got a tensor of shape \(4,\).*before one-hot encoding, mixup or cutmix"):
        t(image, torch.zeros(4))
    with pytest.raises(TypeError, match=r"expected the target to be a class index \(an integer\), got str"):
        t(image, "cat")
    with pytest.raises(OverridesError, match=r"class indices must be integers >= 0"):
        ClassConditionalTransform(v2.Identity(), {-1: v2.Identity()})


def test_transform_is_a_v2_transform_and_pickles(override_path):
    t = build_transform(load(override_path), default=default_pipeline(), classes=CLASSES)
    assert isinstance(t, v2.Transform)
    again = pickle.loads(pickle.dumps(t))
    assert again.transform_for(0).transforms[0].scale == OVERRIDE_SCALE
    assert again.transform_for(2).transforms[0].scale == DEFAULT_SCALE
    assert "2 overridden classes, 1 override pipelines" in repr(t)


# -- how an override composes with the default pipeline ---------------------------------------------


def test_override_replaces_the_matching_step_and_keeps_the_rest():
    default = default_pipeline(size=48)
    before = repr(default)
    new = override_pipeline(default, {"random_resized_crop": {"scale": (0.5, 1.0)}, "horizontal_flip": {"p": 0.0}})
    assert repr(default) == before  # the default is not touched
    names = [type(s).__name__ for s in new.transforms]
    assert names == ["RandomResizedCrop", "RandomHorizontalFlip", "ToImage", "ToDtype", "Normalize"]
    crop = new.transforms[0]
    assert crop.scale == (0.5, 1.0) and crop.size == (48, 48) and crop.ratio == pytest.approx((3 / 4, 4 / 3))
    assert new.transforms[1].p == 0.0
    assert new.transforms[4].mean == [0.5, 0.5, 0.5]


def test_override_inherits_unnamed_parameters_from_the_pipeline():
    default = v2.Compose([v2.RandomResizedCrop(20, scale=(0.2, 1.0), ratio=(0.5, 2.0),
                                               interpolation=v2.InterpolationMode.BICUBIC),
                          v2.RandAugment(num_ops=3, magnitude=5), v2.ToImage()])
    new = override_pipeline(default, {"random_resized_crop": {"scale": (0.6, 1.0)}, "rand_augment": {"magnitude": 2}})
    crop, augment, _ = new.transforms
    assert crop.ratio == (0.5, 2.0) and crop.interpolation == v2.InterpolationMode.BICUBIC and crop.size == (20, 20)
    assert (augment.num_ops, augment.magnitude, augment.num_magnitude_bins) == (3, 2, 31)


def test_override_removes_and_inserts_in_the_usual_order():
    default = v2.Compose([v2.RandomResizedCrop(16), v2.RandomHorizontalFlip(), v2.TrivialAugmentWide(), v2.ToImage()])
    new = override_pipeline(default, {
        "trivial_augment": {"enabled": False},
        "rand_augment": {"num_ops": 1},
        "color_jitter": {"strength": 0.4},
    })
    assert [type(s).__name__ for s in new.transforms] == [
        "RandomResizedCrop", "RandomHorizontalFlip", "RandAugment", "ColorJitter", "ToImage"]
    jitter = new.transforms[3]
    assert jitter.brightness == (0.6, 1.4) and jitter.hue == (-0.1, 0.1)
    # nothing before it in the usual order: inserted before the tensor conversion
    new = override_pipeline(v2.Compose([v2.Resize(16), v2.ToImage(), v2.ToDtype(torch.float32)]),
                            {"color_jitter": {"brightness": 0.2}})
    assert [type(s).__name__ for s in new.transforms] == ["Resize", "ColorJitter", "ToImage", "ToDtype"]


def test_override_in_a_preset_object_and_a_v1_compose():
    class Preset:  # the shape of torchvision's references/classification/presets.ClassificationPresetTrain
        def __init__(self):
            self.transforms = transforms_v1.Compose([
                transforms_v1.RandomResizedCrop(24, antialias=True), transforms_v1.RandomHorizontalFlip(0.5),
                transforms_v1.PILToTensor(), transforms_v1.ConvertImageDtype(torch.float)])

        def __call__(self, image):
            return self.transforms(image)

    preset = Preset()
    new = override_pipeline(preset, {"random_resized_crop": {"scale": (0.5, 1.0)}})
    assert isinstance(new, Preset) and isinstance(preset.transforms.transforms[0], transforms_v1.RandomResizedCrop)
    crop = new.transforms.transforms[0]  # rebuilt as the same (v1) class, its size and interpolation kept
    assert type(crop) is transforms_v1.RandomResizedCrop and crop.scale == (0.5, 1.0) and tuple(crop.size) == (24, 24)
    assert new(Image.new("RGB", (40, 30))).shape == (3, 24, 24)


def test_a_single_transform_or_function_becomes_a_compose():
    new = override_pipeline(v2.RandomResizedCrop(8), {"random_resized_crop": {"scale": (0.9, 1.0)}})
    assert isinstance(new, v2.Compose) and new.transforms[0].scale == (0.9, 1.0)
    # a function relabel cannot look into may crop already: nothing is inserted before it, with or without size=
    for size in (None, 8):
        with pytest.raises(OverridesError, match=r"does not insert into a pipeline it cannot read: it holds the function "
                                                 r"<lambda>, of which the function <lambda> is unknown to relabel"):
            override_pipeline(lambda image: image, {"random_resized_crop": {"scale": (0.5, 1.0)}}, size=size)
    # switching off what a function-only pipeline does not have changes nothing
    assert [type(s).__name__ for s in override_pipeline(lambda image: image, {"horizontal_flip": {"enabled": False}}
                                                        ).transforms] == ["function"]


def test_build_pipeline_from_the_files_default(override_path):
    overrides = load(override_path)
    t = build_transform(overrides, classes=CLASSES, size=16)
    assert [type(s).__name__ for s in t.default.transforms] == ["RandomResizedCrop", "RandomHorizontalFlip"]
    assert t.default.transforms[0].scale == DEFAULT_SCALE and t.transform_for(1).transforms[0].scale == OVERRIDE_SCALE
    with pytest.raises(OverridesError, match=r"the file's default needs a RandomResizedCrop.*pass size="):
        build_pipeline(overrides.default)


def test_rand_augment_magnitude_is_checked_against_the_pipelines_bins():
    with pytest.raises(OverridesError, match=r"rand_augment magnitude 12 must be below num_magnitude_bins 10"):
        override_pipeline(v2.Compose([v2.RandAugment(num_magnitude_bins=10)]), {"rand_augment": {"magnitude": 12}})


def test_a_default_pipeline_unlike_the_files_default_warns(override_path):
    overrides = load(override_path)
    other = v2.Compose([v2.RandomResizedCrop(32, scale=(0.25, 1.0)), v2.ToImage()])
    with pytest.warns(RelabelWarning) as record:
        build_transform(overrides, default=other, classes=CLASSES)
    message = str(record[0].message)
    assert message == (
        f"{override_path}: the default pipeline differs from the recipe the overrides were made against: "
        "random_resized_crop.scale is (0.08, 1) in the file's default, (0.25, 1) in your pipeline; "
        "horizontal_flip is in the file's default but not in your pipeline"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_default(default_pipeline(), overrides.default) == []


def test_unknown_classes_fail_before_anything_is_built(override_path):
    with pytest.raises(OverridesError, match=r"class keys not among the trainer's 2 classes: 1 offender: 'dog' \(at line 7\)"):
        build_transform(load(override_path), default=default_pipeline(), classes={"cat": 0, "fox": 1})


# -- ClassConditionalDataset ----------------------------------------------------------------------


def test_dataset_wrapper_warns_about_a_transform_already_set(image_folder):
    with pytest.warns(RelabelWarning, match=r"the wrapped ImageFolder already has a transform"):
        ClassConditionalDataset(ImageFolder(image_folder, transform=v2.ToImage()), _marking_transform())


def test_dataset_wrapper_target_transform_and_plain_lists():
    data = [(Image.new("RGB", (4, 4)), 1), (Image.new("RGB", (4, 4)), 2)]
    wrapped = ClassConditionalDataset(data, _marking_transform(), target_transform=lambda t: t * 10)
    assert [(im.mode, t) for im, t in (wrapped[0], wrapped[1])] == [("L", 10), ("RGB", 20)]
    with pytest.raises(AttributeError, match="has no classes"):
        _ = wrapped.classes
    with pytest.raises(InputError, match=r"items must be \(image, target\) pairs"):
        ClassConditionalDataset([Image.new("RGB", (4, 4))], _marking_transform())[0]


def test_resolving_a_built_overrides_object_needs_the_class_list():
    ov = Overrides([Override(["cat"], {"horizontal_flip": False})], label_space="pets")
    with pytest.raises(OverridesError, match=r"label space 'pets' is not built in; pass classes="):
        build_transform(ov, default=default_pipeline())


# -- moved names (issue #13) -------------------------------------------------------------------------


def test_build_transform_moved_to_the_trainer_side_and_the_old_names_warn(override_path):
    import relabel.overrides

    overrides = load(override_path)
    new = build_transform(overrides, default=default_pipeline(), classes=CLASSES)
    with pytest.warns(DeprecationWarning, match=r"relabel\.transforms\.build_transform"):
        old = overrides.build_transform(default=default_pipeline(), classes=CLASSES)
    with pytest.warns(DeprecationWarning, match=r"relabel\.transforms\.build_transform"):
        function = relabel.overrides.build_transform
    assert function is build_transform
    for t in (new, old):
        assert sorted(t.by_class) == [0, 1]
        assert t.transform_for(0).transforms[0].scale == OVERRIDE_SCALE
        assert t.transform_for(2).transforms[0].scale == DEFAULT_SCALE


def test_the_trainer_side_inserts_in_the_formats_one_order():
    import relabel.pipeline
    from relabel.overrides import ORDER
    from relabel.overrides.vocabulary import VERSION_1_AUGMENTATIONS

    assert relabel.pipeline.ORDER is ORDER
    everything = {a.value: {} for a in ORDER if a.value in VERSION_1_AUGMENTATIONS}
    built = override_pipeline(v2.Compose([v2.ToImage()]), everything, size=16)
    assert [type(s).__name__ for s in built.transforms] == [
        "RandomResizedCrop", "RandomHorizontalFlip", "RandAugment", "TrivialAugmentWide", "ColorJitter", "ToImage"]
