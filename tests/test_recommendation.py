"""Recommendation: which setting, which classes, when not to override, and the trainer hand-off."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import make_run
from PIL import Image
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder
from torchvision.transforms import v2

from relabel import (Annotations, ClassConditionalDataset, InputError, LabelSpace, RelabelWarning, categorise, compare, evaluate,
                     load_overrides, pair, simulate_runs, write_overrides)
from relabel.recommendation import recommend, varied_parameters
from relabel.transforms import build_transform


@pytest.fixture(scope="module")
def demo(real_annotations):
    simulated = simulate_runs(real_annotations, seed=0)
    evaluations = [evaluate(pair(run, real_annotations)) for run in simulated.runs]
    comparison = compare(evaluations, reference=simulated.reference_group)
    return simulated, comparison, categorise(comparison, real_annotations)


def test_demo_overrides_both_sides_of_real_drops_and_advises_multilabels_for_ambiguous(demo):
    simulated, comparison, categorisation = demo
    rec = recommend(comparison, categorisation, augmentations=simulated.augmentations)
    assert rec.params["default_group"] == "rrc-0.08"  # the better recipe on average stays the default
    table = rec.table.set_index("class_name")
    assert table.loc["monitor", "action"] == "multi-label scoring"  # ambiguous (monitor / screen)
    overridden = table[table["action"] == "override"]
    assert len(overridden) == 6
    assert (overridden["setting"] == "random_resized_crop scale=[0.5, 1.0]").all()
    assert (overridden["acc_expected"] > overridden["acc_default"]).all()
    planted = simulated.planted.set_index("class_index")["partner_index"]
    keys = comparison.label_space.keys
    for override in rec.overrides.overrides:
        lost = override.side.lost[0]
        c = keys.index(lost)
        assert override.classes == (lost, keys[planted[c]])
        assert override.transforms == {"random_resized_crop": {"scale": (0.5, 1.0)}}
        evidence = override.evidence["acc_multilabel"]
        assert override.reason and evidence["rrc-0.5"] > evidence["rrc-0.08"]
    assert rec.overrides.default == {"random_resized_crop": {"scale": (0.08, 1.0)}}
    assert rec.effect["expected_change"] == pytest.approx(rec.effect["mean_acc_expected"] - rec.effect["mean_acc_default"])


@pytest.mark.parametrize("target, sides", [("lost", ["lost"]), ("absorbing", ["absorbing"]), ("both", ["lost", "absorbing"])])
def test_target_side(demo, target, sides):
    simulated, comparison, categorisation = demo
    rec = recommend(comparison, categorisation, augmentations=simulated.augmentations, target=target)
    for override in rec.overrides.overrides:
        expected = tuple(k for side in sides for k in getattr(override.side, side))
        assert override.classes == expected
        assert override.side.target.value == target


def test_include_ambiguous(demo):
    simulated, comparison, categorisation = demo
    rec = recommend(comparison, categorisation, augmentations=simulated.augmentations, include_ambiguous=True)
    assert rec.table.set_index("class_name").loc["monitor", "target_classes"] == "monitor, screen"


def test_without_augmentation_descriptions_there_is_a_diagnosis_but_no_override(demo):
    _, comparison, categorisation = demo
    rec = recommend(comparison, categorisation, augmentations=None)
    assert rec.overrides.overrides == ()
    assert set(rec.table["action"]) == {"no description", "multi-label scoring"}


def _sweep(accuracies, n=50, strengths=(0.08, 0.2, 0.5, 1.0)):
    """One class 'a' (plus a steady class 'b'); group g_s gets accuracy accuracies[s] on 'a', 1 seed each."""
    space = LabelSpace.from_names(["a", "b"])
    images = [f"i{i}" for i in range(2 * n)]
    ann = Annotations.from_lists(images, [0] * n + [1] * n, None, label_space=space)
    evaluations = []
    for s in strengths:
        right = int(round(accuracies[s] * n))
        pred = [0] * right + [1] * (n - right) + [1] * n
        evaluations.append(evaluate(pair(make_run(images, pred, f"s{s}", f"rrc-{s}", 0, s), ann)))
    augmentations = {f"rrc-{s}": {"random_resized_crop": {"scale": [s, 1.0]}, "horizontal_flip": {"p": 0.5}}
                     for s in strengths}
    with pytest.warns(RelabelWarning, match="single run"):
        comparison = compare(evaluations, reference="rrc-1.0", metric="original", min_drop=0.05, fdr=0.5)
    return comparison, categorise(comparison, ann), augmentations


def test_strength_sweep_picks_the_best_strength_shrunk_toward_the_default():
    # best is 0.5 (0.74); 0.2 (0.70) lies within one standard error (sqrt(.74 * .26 / 50) = 0.062) -> 0.2,
    # the milder change from the default 0.08
    comparison, categorisation, augmentations = _sweep({0.08: 0.2, 0.2: 0.70, 0.5: 0.74, 1.0: 0.5})
    rec = recommend(comparison, categorisation, augmentations=augmentations, default_group="rrc-0.08")
    row = rec.table.iloc[0]
    assert (row["class_name"], row["action"], row["setting_group"]) == ("a", "override", "rrc-0.2")
    assert rec.overrides.overrides[0].transforms == {"random_resized_crop": {"scale": (0.2, 1.0)}}
    # 0.2 far below the best -> the best itself
    comparison, categorisation, augmentations = _sweep({0.08: 0.2, 0.2: 0.5, 0.5: 0.74, 1.0: 0.5})
    rec = recommend(comparison, categorisation, augmentations=augmentations, default_group="rrc-0.08")
    assert rec.table.iloc[0]["setting_group"] == "rrc-0.5"


def test_a_difference_that_is_not_an_augmentation_gives_a_diagnosis_only():
    comparison, categorisation, _ = _sweep({0.08: 0.2, 0.2: 0.5, 0.5: 0.74, 1.0: 0.5})
    same = {g: {"random_resized_crop": {"scale": [0.08, 1.0]}} for g in ("rrc-0.08", "rrc-0.2", "rrc-0.5", "rrc-1.0")}
    rec = recommend(comparison, categorisation, augmentations=same, default_group="rrc-0.08")
    assert rec.table.iloc[0]["action"] == "not an augmentation"
    assert "weight decay" in rec.table.iloc[0]["reason"]
    assert rec.overrides.overrides == ()


def test_varied_parameters_only():
    assert varied_parameters({"a": {"random_resized_crop": {"scale": [0.08, 1]}, "horizontal_flip": {"p": 0.5}},
                              "b": {"random_resized_crop": {"scale": [0.5, 1]}}}) == {
        "horizontal_flip": ["p"], "random_resized_crop": ["scale"]}


def test_bad_input(demo):
    simulated, comparison, categorisation = demo
    with pytest.raises(InputError, match="default group 'rrc-0.5' is not a compared group"):
        recommend(comparison, categorisation, augmentations=simulated.augmentations, default_group="rrc-0.5")
    with pytest.raises(InputError, match="augmentation of group 'rrc-0.5'.*unknown transform 'mixup'"):
        recommend(comparison, categorisation, augmentations={"rrc-0.5": {"mixup": {}}})
    with pytest.raises(InputError, match="unknown side 'left'"):
        recommend(comparison, categorisation, augmentations=simulated.augmentations, target="left")


def test_end_to_end_demo_to_training_pipeline(demo, tmp_path, crop_log):
    """evaluate -> compare -> categorise -> recommend -> file -> a training loop through the wrapper."""
    simulated, comparison, categorisation = demo
    rec = recommend(comparison, categorisation, augmentations=simulated.augmentations)
    path = write_overrides(rec.overrides, tmp_path / "overrides.json")
    keys = comparison.label_space.keys
    overridden = {k for o in rec.overrides.overrides for k in o.classes}
    chosen = ["n04296562", "n03759954", "n01440764", "n01443537"]  # stage, microphone (overridden), tench, goldfish
    assert {"n04296562", "n03759954"} <= overridden and not {"n01440764", "n01443537"} & overridden
    root = tmp_path / "train"
    rng = np.random.default_rng(0)
    for key in keys:  # a trainer sees all 1000 class folders; four hold images here
        (root / key).mkdir(parents=True)
    for key in chosen:
        for i in range(6):
            pixels = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / key / f"{i}.png")
    train = ImageFolder(root, allow_empty=True)
    overrides = load_overrides(path, classes=train.class_to_idx)
    pipeline = v2.Compose([v2.RandomResizedCrop(32, scale=(0.08, 1.0)), v2.ToImage(),
                           v2.ToDtype(torch.float32, scale=True)])
    dataset = ClassConditionalDataset(train, build_transform(overrides, default=pipeline, classes=train.class_to_idx))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=2), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
                                torch.nn.Flatten(), torch.nn.Linear(4, 1000))
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    targets_seen = []
    for images, targets in DataLoader(dataset, batch_size=8, shuffle=True):
        loss = torch.nn.functional.cross_entropy(model(images), targets)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        targets_seen += targets.tolist()
    assert len(crop_log) == len(dataset) == 24
    # crop draws follow the loader's order: pair them with the targets in that order
    for target, (scale, fraction) in zip(targets_seen, crop_log):
        if keys[target] in overridden:
            assert scale == (0.5, 1.0) and fraction >= 0.45
        else:
            assert scale == (0.08, 1.0)


# -- any augmentation of the vocabulary, and differences that are not augmentations (#14) -------------------


def _two_groups(descriptions):
    """Class 'a' at 0.4 under 'strong' and 0.9 under 'mild' (50 images each, one seed); 'b' steady."""
    comparison, categorisation, _ = _sweep({0.08: 0.4, 1.0: 0.9}, strengths=(0.08, 1.0))
    renamed = {"rrc-0.08": descriptions["strong"], "rrc-1.0": descriptions["mild"]}
    return recommend(comparison, categorisation, augmentations=renamed, default_group="rrc-0.08")


def test_any_augmentation_only_its_varied_parameters_are_written():
    rec = _two_groups({
        "strong": {"random_rotation": {"degrees": 30}, "gaussian_blur": {"kernel_size": 5, "sigma": [0.1, 2.0]},
                   "horizontal_flip": {"p": 0.5}},
        "mild": {"random_rotation": {"degrees": 5}, "gaussian_blur": {"kernel_size": 5, "sigma": [0.1, 2.0]},
                 "horizontal_flip": {"p": 0.5}},
    })
    assert rec.table.iloc[0]["action"] == "override"
    # only what differs between the groups: the rotation's degrees (one number read as torchvision reads it)
    assert rec.overrides.overrides[0].transforms == {"random_rotation": {"degrees": (-5.0, 5.0)}}
    assert rec.params["varied"] == {"random_rotation": ["degrees"]}


def test_an_augmentation_one_group_lacks_is_switched_off_in_the_override():
    rec = _two_groups({"strong": {"vertical_flip": {"p": 0.5}, "horizontal_flip": {"p": 0.5}},
                       "mild": {"horizontal_flip": {"p": 0.5}}})
    assert rec.overrides.overrides[0].transforms == {"vertical_flip": {"enabled": False}}
    assert "vertical_flip off" in rec.table.iloc[0]["setting"]


@pytest.mark.parametrize("training, words", [
    ({"strong": {"weight_decay": 0.05}, "mild": {"weight_decay": 0.0001}}, "weight_decay (0.0001 under rrc-1.0, 0.05"),
    ({"strong": {"label_smoothing": 0.1}, "mild": {}}, "label_smoothing (not set under rrc-1.0, 0.1 under rrc-0.08)"),
    ({"strong": {"loss": "agmax"}, "mild": {"loss": "cross-entropy"}}, "loss (cross-entropy under rrc-1.0, agmax"),
])
def test_a_difference_that_is_not_an_augmentation_is_named_and_gets_no_override(training, words):
    rec = _two_groups({g: {"random_resized_crop": {"scale": [0.08, 1.0]}, "training": t} for g, t in training.items()})
    row = rec.table.iloc[0]
    assert row["action"] == "not an augmentation" and words in row["reason"]
    assert rec.overrides.overrides == ()


def test_group_descriptions_are_checked_like_an_override_file():
    with pytest.raises(InputError, match=r"group 'rrc-0.08'.*random_rotation.degrees: expected a value <= 360"):
        _two_groups({"strong": {"random_rotation": {"degrees": 720}}, "mild": {}})
    with pytest.raises(InputError, match=r"unknown transform 'weight_decay'.*settings that are not augmentations go under "
                                         r"'training:'"):
        _two_groups({"strong": {"weight_decay": 0.05}, "mild": {}})
