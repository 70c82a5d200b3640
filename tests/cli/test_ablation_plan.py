"""``relabel evaluate --ablation-plan``: one run per recipe, six operations at once, and the plan that finds the one.

Real files through the real CLI: Parquet runs, a CSV of labels, a class list and a YAML
manifest. The planned runs are then "trained" (written where the plan says, with the blur run
recovering the hurt classes) and the filled-in plan is evaluated with ``--manifest``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from relabel.cli.main import cli
from relabel.loading.runs import Run, RunMeta, write_run
from relabel.overrides import load as load_overrides

CLASSES = ["apple", "bee", "cup", "door", "egg", "fern"]
N = 120  # images per class
SIX = {
    "horizontal_flip": {"p": 0.5},
    "random_resized_crop": {"scale": [0.35, 1.0]},
    "gaussian_blur": {"kernel_size": 5, "sigma": [0.1, 2.0]},
    "random_adjust_sharpness": {"sharpness_factor": 2.0, "p": 0.5},
    "random_autocontrast": {"p": 0.5},
    "random_affine": {"degrees": 10},
}


def _write_run(folder: Path, name: str, group: str, wrong: dict[int, float], seed: int = 0) -> Path:
    """A run right on every image except a share ``wrong[c]`` of class c's images, predicted as cup."""
    images, top = [], []
    for c in range(len(CLASSES)):
        k = int(round(wrong.get(c, 0.0) * N))
        for i in range(N):
            images.append(f"img_{c}_{i:03d}.png")
            first = 2 if i < k else c
            top.append([first] + [d for d in range(len(CLASSES)) if d != first][:2])
    run = Run(RunMeta(name, group, None, seed), np.asarray(images, dtype=object), np.asarray(top))
    return write_run(run, folder / f"{name}.parquet")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "classes.txt").write_text("\n".join(CLASSES) + "\n")
    pd.DataFrame({"image": [f"img_{c}_{i:03d}.png" for c in range(len(CLASSES)) for i in range(N)],
                  "label": [CLASSES[c] for c in range(len(CLASSES)) for _ in range(N)]}).to_csv(
        tmp_path / "labels.csv", index=False)
    runs = tmp_path / "runs"
    runs.mkdir()
    _write_run(runs, "plain", "none", {})
    _write_run(runs, "six", "six", {0: 0.4, 1: 0.3})  # apple and bee paid
    manifest = {"label_space": "classes.txt", "annotations": "labels.csv",
                "groups": {"none": {}, "six": SIX},
                "runs": [{"path": "runs/plain.parquet", "group": "none", "seed": 0},
                         {"path": "runs/six.parquet", "group": "six", "seed": 0}]}
    (tmp_path / "runs.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return tmp_path


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_the_plan_names_the_classes_that_paid_and_one_run_per_operation(project: Path) -> None:
    code, output = _invoke("evaluate", "--manifest", str(project / "runs.yaml"), "--reference", "none",
                           "--ablation-plan", str(project / "plan" / "plan.yaml"))
    assert code == 0, output
    assert "2 classes paid: apple, bee" in output
    plan = yaml.safe_load((project / "plan" / "plan.yaml").read_text())
    planned = [r for r in plan["runs"] if r["group"].startswith("six-ablate-")]
    assert sorted(r["group"] for r in planned) == sorted(f"six-ablate-{op}" for op in SIX)
    assert all(not (project / "plan" / r["path"]).exists() for r in planned)
    # every planned group is the six-operation recipe with exactly one operation off
    for op in SIX:
        description = plan["groups"][f"six-ablate-{op}"]
        assert set(description) == set(SIX) - {op}
        overrides = load_overrides(project / "plan" / "ablation" / f"{op}.json", classes=CLASSES)
        assert [o.classes for o in overrides.overrides] == [("apple", "bee")]
        assert overrides.overrides[0].transforms == {op: {"enabled": False}}
    # the runs already evaluated are kept, their paths valid from the plan's folder
    kept = [r for r in plan["runs"] if r["group"] in ("none", "six")]
    assert all((project / "plan" / r["path"]).resolve().is_file() for r in kept)


def test_the_plan_is_a_manifest_once_its_runs_exist(project: Path) -> None:
    plan_path = project / "plan" / "plan.yaml"
    code, output = _invoke("evaluate", "--manifest", str(project / "runs.yaml"), "--reference", "none",
                           "--ablation-plan", str(plan_path))
    assert code == 0, output
    # before training: the manifest reads, and the first missing run file is named
    code, output = _invoke("evaluate", "--manifest", str(plan_path), "--reference", "none")
    assert code != 0 and "six-ablate-" in output and "does not exist" in output
    # "train" the planned runs: without the blur, apple and bee are back; every other ablation still hurts them
    plan = yaml.safe_load(plan_path.read_text())
    for r in plan["runs"]:
        if r["group"].startswith("six-ablate-"):
            recovered = r["group"] == "six-ablate-gaussian_blur"
            _write_run(plan_path.parent / "runs", r["name"], r["group"], {} if recovered else {0: 0.4, 1: 0.3})
    code, output = _invoke("evaluate", "--manifest", str(plan_path), "--reference", "none", "--default-group", "six",
                           "--recommend", str(project / "overrides.json"), "--out", str(project / "results"))
    assert code == 0, output
    recommended = json.loads((project / "overrides.json").read_text())
    lost = sorted(k for o in recommended["overrides"] for k in o["side"]["lost"])
    assert lost == ["apple", "bee"]
    for o in recommended["overrides"]:  # the blur is off; every other operation stays as the six-operation recipe has it
        assert o["transforms"]["gaussian_blur"] in (False, {"enabled": False}), o["transforms"]
        kept = {op: v for op, v in o["transforms"].items() if op != "gaussian_blur"}
        assert kept == {op: recommended["default"][op] for op in kept}, o["transforms"]


def test_a_plan_needs_a_comparison_and_described_groups(project: Path) -> None:
    code, output = _invoke("evaluate", "--manifest", str(project / "runs.yaml"), "--ablation-plan",
                           str(project / "plan.yaml"))
    assert code != 0 and "--ablation-plan needs --reference" in output
    code, output = _invoke("evaluate", "--manifest", str(project / "runs.yaml"), "--reference", "none",
                           "--ablation-plan", str(project / "plan.json"))
    assert code != 0 and "expected a .yaml or .yml name" in output
    bare = yaml.safe_load((project / "runs.yaml").read_text())
    del bare["groups"]
    (project / "bare.yaml").write_text(yaml.safe_dump(bare))
    code, output = _invoke("evaluate", "--manifest", str(project / "bare.yaml"), "--reference", "none",
                           "--ablation-plan", str(project / "plan.yaml"))
    assert code != 0 and "'groups' section" in output


def test_an_operation_the_reference_also_applies_is_set_back_to_its_setting(project: Path) -> None:
    manifest = yaml.safe_load((project / "runs.yaml").read_text())
    manifest["groups"] = {"none": {"random_resized_crop": {"scale": [0.5, 1.0]}},
                          "six": {"random_resized_crop": {"scale": [0.08, 1.0]}, "gaussian_blur": {"kernel_size": 3}}}
    (project / "runs.yaml").write_text(yaml.safe_dump(manifest))
    code, output = _invoke("evaluate", "--manifest", str(project / "runs.yaml"), "--reference", "none",
                           "--ablation-plan", str(project / "plan.yaml"))
    assert code == 0, output
    plan = yaml.safe_load((project / "plan.yaml").read_text())
    assert plan["groups"]["six-ablate-random_resized_crop"] == {
        "random_resized_crop": {"scale": [0.5, 1.0]}, "gaussian_blur": {"kernel_size": [3, 3]}}  # as normalised
    crop = load_overrides(project / "ablation" / "random_resized_crop.json", classes=CLASSES)
    assert crop.overrides[0].transforms == {"random_resized_crop": {"scale": (0.5, 1.0)}}
    blur = load_overrides(project / "ablation" / "gaussian_blur.json", classes=CLASSES)
    assert blur.overrides[0].transforms == {"gaussian_blur": {"enabled": False}}


def test_no_affected_class_is_an_error_that_says_so(project: Path) -> None:
    _write_run(project / "runs", "six", "six", {})  # the six operations cost nothing
    code, output = _invoke("evaluate", "--manifest", str(project / "runs.yaml"), "--reference", "none",
                           "--ablation-plan", str(project / "plan.yaml"))
    assert code != 0 and "no class is affected under 'six'" in output
    assert not (project / "plan.yaml").exists()
