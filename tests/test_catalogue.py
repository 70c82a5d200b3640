"""The augmentation catalogue against the real torchvision (and timm), and every family through every format.

The catalogue is a static table (the format imports no torch); these tests derive what it must
say from the installed constructors with inspect.signature, so a torchvision release that adds,
renames or re-defaults a parameter fails here until the table says what to do with it.
"""

from __future__ import annotations

import inspect
import json
import math

import pytest
import torch
from PIL import Image
from torchvision.transforms import v2

from relabel.errors import OverridesError
from relabel.overrides import Augmentation, Override, Overrides, dumps_json, dumps_yaml, load, loads, write
from relabel.overrides.catalogue import NOT_AUGMENTATIONS, REQUIRED, SPECS, Parameter, Spec
from relabel.overrides.table import CSV_COLUMNS, to_csv_table
from relabel.overrides.vocabulary import ORDER, PARAMETER_DEFAULTS
from relabel.pipeline import _create, _rebuild, read_parameters

TORCHVISION = [s for s in SPECS if s.torchvision]


def _default(value):
    return value.default if value.default is not inspect.Parameter.empty else REQUIRED


def _equal(a, b):
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-9)
    return a == b or str(getattr(b, "value", b)) == str(a)


@pytest.mark.parametrize("spec", TORCHVISION, ids=lambda s: s.name)
def test_every_constructor_parameter_is_a_file_or_a_trainer_parameter_with_the_same_default(spec: Spec):
    cls = getattr(v2, spec.torchvision)
    signature = {n: p for n, p in inspect.signature(cls.__init__).parameters.items() if n != "self"}
    file_params = {p.name: p for p in spec.parameters if not p.relabel_only
                   and (not p.implementations or "torchvision" in p.implementations)}
    assert set(signature) == set(file_params) | set(spec.trainer_parameters), spec.name
    assert not set(file_params) & set(spec.trainer_parameters)
    for name, p in file_params.items():
        default = _default(signature[name])
        if spec.name == "color_jitter" and default is None:
            assert p.default == 0.0  # ColorJitter(brightness=None) is no change, which the file writes as 0
        elif default is None:
            assert p.nullable and p.default is None, name
        else:
            assert _equal(p.default, default), (spec.name, name, p.default, default)


def test_every_v2_augmentation_is_in_the_catalogue_or_excluded_with_a_reason():
    named = {s.torchvision for s in TORCHVISION}
    transforms = {n for n in dir(v2) if inspect.isclass(getattr(v2, n)) and issubclass(getattr(v2, n), v2.Transform)}
    assert transforms - named - set(NOT_AUGMENTATIONS) == set()
    assert named & set(NOT_AUGMENTATIONS) == set()
    # and the ones the issue names are augmentations
    for name in ("GaussianBlur", "RandomAdjustSharpness", "RandomAutocontrast", "ColorJitter", "RandomAffine",
                 "RandomRotation", "RandomErasing", "RandomVerticalFlip", "AutoAugment", "AugMix", "RandAugment",
                 "TrivialAugmentWide", "RandomPerspective", "RandomEqualize", "RandomPosterize", "RandomSolarize",
                 "RandomInvert", "RandomGrayscale", "ElasticTransform", "RandomResizedCrop"):
        assert name in named


def test_timm_classes_named_in_the_catalogue_exist():
    pytest.importorskip("timm")
    import importlib

    for s in SPECS:
        for qualified in s.timm:
            module, _, name = qualified.partition(":")
            assert isinstance(getattr(importlib.import_module(module), name), type), qualified


def test_the_vocabulary_the_order_and_the_csv_columns_agree_with_the_table():
    assert [a.value for a in Augmentation] == [s.name for s in SPECS]
    assert sorted(ORDER) == sorted(Augmentation) and len(set(ORDER)) == len(ORDER)
    assert len({s.csv for s in SPECS}) == len(SPECS)
    columns = [c for c, *_ in CSV_COLUMNS]
    assert len(set(columns)) == len(columns) and not set(columns) & set(Augmentation.choices())
    for p in (p for s in SPECS for p in s.parameters):
        assert p.kind in ("number", "integer", "boolean", "choice", "range", "pair", "odd_size")
        if p.kind in ("number", "integer", "range", "pair", "odd_size"):
            assert p.low is not None and p.high is not None, f"{p.name} has no range"


# -- a sample value for every parameter, inside its range and (where possible) not its default --------------


def _sample(p: Parameter):
    if p.kind == "boolean":
        return not p.default if isinstance(p.default, bool) else True
    if p.kind == "choice":
        return p.choices[-1] if p.choices[-1] != p.default else p.choices[0]
    if p.kind == "odd_size":
        return [5, 3]
    if p.kind == "integer":
        return min(int(p.low) + 3, int(p.high))
    lo, hi = float(p.low), float(p.high)
    if p.kind == "number":
        return lo + (hi - lo) / 4 if hi - lo <= 10 else lo + 2.5
    a, b = lo + (hi - lo) / 4, lo + (hi - lo) / 2
    if hi - lo > 10:
        a, b = lo + 1.5, lo + 3
    if p.integer:
        return [int(a), int(b)]
    return [a, b]


def _entry(spec: Spec, implementation: str) -> dict:
    out = {}
    for p in spec.parameters:
        if p.implementations and implementation not in p.implementations:
            continue
        if p.name == "strength":
            continue
        out[p.name] = _sample(p)
    if spec.name == "rand_augment":
        out["num_magnitude_bins"] = 8  # the magnitude (3) must stay below it
    return out


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_family_round_trips_through_json_yaml_and_csv_with_off_and_not_mentioned_apart(tmp_path, spec):
    implementation = "torchvision" if spec.torchvision else "timm"
    entry = _entry(spec, implementation)
    ov = Overrides([
        Override(["tuned"], {spec.name: entry}, reason="tuned"),
        Override(["off"], {spec.name: False}, reason="off"),
        Override(["other"], {"horizontal_flip" if spec.name != "horizontal_flip" else "vertical_flip": {"p": 0.25}}),
    ], label_space="toy")
    classes = ["tuned", "off", "other", "untouched"]
    for suffix in (".json", ".yaml"):
        back = load(write(ov, tmp_path / f"o{suffix}"), classes=classes)
        assert back == ov, suffix
    assert loads(dumps_json(ov)) == ov and loads(dumps_yaml(ov), format="yaml") == ov
    back = load(write(ov, tmp_path / "o.csv", classes=classes), classes=classes)
    for key in classes:
        assert back.effective(key) == ov.effective(key), key
    # off and not mentioned differ in every output
    assert ov.effective("off")[spec.name] == {"enabled": False}
    assert spec.name not in ov.effective("other")
    assert ov.resolve(classes)[1] == {spec.name: {"enabled": False}} and spec.name not in ov.resolve(classes)[2]
    table = to_csv_table(ov, classes=classes).set_index("class_key")
    assert table.loc["tuned", spec.name] == "on" and table.loc["off", spec.name] == "off"
    assert table.loc["other", spec.name] == ""
    assert json.loads(dumps_json(ov))["overrides"][1]["transforms"] == {spec.name: False}


@pytest.mark.parametrize("spec", TORCHVISION, ids=lambda s: s.name)
def test_every_torchvision_family_builds_the_transform_the_entry_says_and_it_runs(spec):
    entry = _entry(spec, "torchvision")
    params = loads(dumps_json(Overrides([Override(["a"], {spec.name: entry})]))).overrides[0].transforms[spec.name]
    built = _create(Augmentation(spec.name), params, 24, what="test")
    read = read_parameters(Augmentation(spec.name), built)
    for name, value in params.items():
        assert _equal(value, read[name]), (name, value, read[name])
    # rebuilt with nothing named, it is the same transform (the trainer's parameters survive a rebuild)
    again = _rebuild(Augmentation(spec.name), built, {}, size=None, what="test")
    assert read_parameters(Augmentation(spec.name), again) == read
    image = Image.new("RGB", (32, 32), (120, 60, 30))
    if spec.stage == "tensor":
        out = built(v2.ToDtype(torch.float32, scale=True)(v2.ToImage()(image)))
    else:
        out = built(image)
    assert out is not None


def test_a_parameter_without_a_constructor_default_is_needed_when_relabel_creates_the_transform():
    with pytest.raises(OverridesError, match=r"adds gaussian_blur, which needs kernel_size \(torchvision's GaussianBlur has "
                                             r"no default for it\)"):
        _create(Augmentation.GAUSSIAN_BLUR, {"sigma": (0.1, 1.0)}, None, what="overrides[0]")
    assert "kernel_size" not in PARAMETER_DEFAULTS[Augmentation.GAUSSIAN_BLUR]


def test_one_number_for_a_range_reads_as_torchvision_reads_it():
    ov = Overrides([Override(["a"], {"random_rotation": {"degrees": 15}, "gaussian_blur": {"kernel_size": 3, "sigma": 1.5},
                                     "jpeg": {"quality": 70}})])
    t = ov.overrides[0].transforms
    assert t["random_rotation"]["degrees"] == (-15.0, 15.0)  # like RandomRotation(15)
    assert t["gaussian_blur"] == {"kernel_size": (3, 3), "sigma": (1.5, 1.5)}  # like GaussianBlur(3, sigma=1.5)
    assert t["jpeg"]["quality"] == (70, 70)


def test_docs_list_every_augmentation_and_its_parameters():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "overrides.md").read_text(encoding="utf-8")
    for s in SPECS:
        assert f"| `{s.name}` |" in doc, s.name
        for p in s.parameters:
            assert f"`{p.name}`" in doc
