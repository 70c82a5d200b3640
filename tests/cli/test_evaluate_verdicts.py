"""`relabel evaluate` verdicts on files shaped like real runs (issue #11): no partner, improvements, flows, order."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from click.testing import CliRunner
from PIL import Image
from relabel.cli.main import cli
from shaped import simulate, single_labels, write_files
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder
from torchvision.transforms import v2

from relabel import ClassConditionalDataset, load_overrides

CROPS = {"s050": {"random_resized_crop": {"scale": [0.5, 1.0]}},
         "s008": {"random_resized_crop": {"scale": [0.08, 1.0]}}}


def _invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def spread_loss(tmp_path_factory):
    """CIFAR-10 shape, 2 seeds per crop: cat loses 4 points under s008, 5 images to each of 8 classes."""
    shaped = single_labels([1000] * 9 + [30])
    shaped.send(shaped.band("cat", 0.76, 0.80), ["airplane", "automobile", "bird", "deer", "dog", "frog", "horse",
                                                  "ship"])
    runs = simulate(shaped, {"s050": (0.5, 2, {}), "s008": (0.08, 2, {"cat": 0.76})})
    return write_files(tmp_path_factory.mktemp("spread"), shaped, runs, CROPS)


@pytest.mark.parametrize("target", ["both", "lost", "absorbing"])
def test_no_partner_through_evaluate_recommend_file_and_trainer(spread_loss, tmp_path, target, crop_log):
    out = tmp_path / "out"
    result = _invoke("evaluate", "--manifest", spread_loss, "--reference", "s050", "--min-drop", "2",
                     "--hierarchy", "none", "--target", target, "--recommend", out / "overrides.json", "--out", out)
    assert result.exit_code == 0, result.output
    assert ("cat [insufficient evidence; low confidence]: no single partner stands out (losses spread over 8 classes)"
            in result.output)
    classes = pd.read_parquet(out / "categorisation_classes.parquet")
    assert str(classes["partner_index"].dtype) == "Int64" and classes["partner_index"].isna().all()
    assert classes["partner_name"].isna().all()
    per_class = pd.read_parquet(out / "comparison_per_class.parquet").set_index("class_name")
    assert per_class.loc["cat", "n_flow_destinations"] == 8
    written = json.loads((out / "overrides.json").read_text())
    (override,) = written["overrides"]
    assert override["classes"] == ["cat"]  # never the last class (truck) for a missing partner
    assert override["side"] == {"lost": ["cat"], "target": target}
    assert "no single class stands out as having absorbed its lost predictions" in override["reason"]
    assert ("so the override covers cat itself" in override["reason"]) == (target == "absorbing")
    assert override["evidence"]["partner"] is None and override["evidence"]["loss_driver"] is None
    assert "mostly to" not in override["reason"]

    # the trainer: cat images get the milder crop, every other class the default
    root = tmp_path / "train"
    rng = np.random.default_rng(0)
    for name in ("cat", "dog", "truck"):
        (root / name).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(root / name / f"{i}.png")
    train = ImageFolder(root)
    overrides = load_overrides(out / "overrides.json", classes=train.class_to_idx)
    pipeline = v2.Compose([v2.RandomResizedCrop(16, scale=(0.08, 1.0)), v2.ToImage(),
                           v2.ToDtype(torch.float32, scale=True)])
    dataset = ClassConditionalDataset(train, overrides.build_transform(default=pipeline, classes=train.class_to_idx))
    targets = [int(t) for _, batch in DataLoader(dataset, batch_size=4, shuffle=True) for t in batch]
    assert len(crop_log) == len(targets) == 12
    for t, (scale, fraction) in zip(targets, crop_log):
        assert scale == ((0.5, 1.0) if train.classes[t] == "cat" else (0.08, 1.0))
        if train.classes[t] == "cat":
            assert fraction >= 0.45


def test_a_partner_on_a_large_class_and_the_no_evidence_reason_reach_the_console(tmp_path):
    """cat -> dog rises 1.2 points on 1,000 images with 2 seeds: named, with the honest "no evidence" reason."""
    shaped = single_labels([1000] * 9 + [30])
    lost = shaped.band("cat", 0.77, 0.80)
    shaped.send(lost[:12], ["dog"])
    shaped.send(lost[12:], ["airplane", "automobile", "bird", "deer", "frog", "horse"])
    manifest = write_files(tmp_path, shaped, simulate(shaped, {"s050": (0.5, 2, {}), "s008": (0.08, 2, {"cat": 0.77})}))
    result = _invoke("evaluate", "--manifest", manifest, "--reference", "s050", "--min-drop", "2", "--hierarchy",
                     "none", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert re.search(r"cat \[insufficient evidence[^\]]*\]: too little evidence for cat and dog: .*"
                     r"\(multi-labels and hierarchy unavailable\)", result.output)
    assert "; ]" not in result.output and "no class absorbed" not in result.output
    assert re.search(r"^cat .* dog \(\+1\)\s*$", result.output, flags=re.MULTILINE)  # the "predictions went to" column
    assert "give --reference GROUP" not in result.output  # the stale note after every comparison
    flows = pd.read_csv(tmp_path / "out" / "comparison_flows.csv")
    assert flows["partner_name"].tolist() == ["dog"] and flows["metric"].tolist() == ["original"]
    assert {"share_ci_low", "share_ci_high", "share_p_adjusted", "reverse_share_reference",
            "reverse_share_treatment"} <= set(flows.columns)
    # without --reference the note is still the hint it was meant to be
    result = _invoke("evaluate", "--manifest", manifest)
    assert result.exit_code == 0 and "give --reference GROUP to compare them" in result.output
    # the partner test is a setting: a strict one names no partner, and the console says why
    result = _invoke("evaluate", "--manifest", manifest, "--reference", "s050", "--min-drop", "2", "--hierarchy",
                     "none", "--flow-alpha", "1e-9")
    assert result.exit_code == 0, result.output
    assert ("cat [insufficient evidence; low confidence]: no single partner stands out (losses spread over 7 classes)"
            in result.output)


def test_closed_loop_improvement_and_the_unsafe_arm_are_shown_everywhere(tmp_path):
    """Cat and dog retrained milder (cc): cat +3.3 points on 1,000 images, 3 seeds; only dog treated: cat -2.5."""
    shaped = single_labels([1000] * 10)
    runs = simulate(shaped, {"s008": (0.08, 3, {"cat": 0.80}), "cc": (None, 3, {"cat": 0.833}),
                             "dog-only": (None, 3, {"cat": 0.775})})
    manifest = write_files(tmp_path, shaped, runs)
    out = tmp_path / "out"
    result = _invoke("evaluate", "--manifest", manifest, "--reference", "s008", "--min-drop", "2", "--hierarchy",
                     "none", "--out", out, "--report", tmp_path / "report")
    assert result.exit_code == 0, result.output
    assert "cc: mean class accuracy" in result.output and "0 affected classes, 1 improved" in result.output
    assert re.search(r"net on original labels: 0 classes worse, 1 better \(mean \+3\.\d points\)", result.output)
    assert re.search(r"net on original labels: 1 class worse \(mean -2\.\d points\), 0 better", result.output)
    improved = result.output.split("Improved classes (cc against s008):")[1]
    assert re.search(r"^cat\s+(79|80)\.\d%\s+83\.\d%\s+\+3\.\d", improved, flags=re.MULTILINE)
    summary = pd.read_csv(out / "comparison_summary.csv").set_index("group")
    assert summary.loc["cc", "n_improved"] == 1 and summary.loc["dog-only", "n_affected"] == 1
    assert summary.loc["cc", "mean_delta_improved"] == pytest.approx(0.033, abs=0.005)
    per_class = pd.read_parquet(out / "comparison_per_class.parquet").set_index(["group", "class_name"])
    assert per_class.loc[("cc", "cat"), "improved"] and per_class.loc[("cc", "cat"), "improved_original"]
    markdown = (tmp_path / "report" / "summary.md").read_text()
    assert re.search(r"Net on original labels: 0 classes worse, 1 better \(mean \+3\.\d points\); improved: cat "
                     r"\(\+3\.\d\)", markdown)
    page = (tmp_path / "report" / "index.html").read_text()
    assert "Improved: cat (+3." in page and '<tr class="is-improved"' in page


@pytest.mark.parametrize("option, value, message", [
    ("--min-drop", "0", "'0' is in percentage points (2 = 2 points) and must be above 0 and below 100"),
    ("--min-drop", "100", "must be above 0 and below 100"),
    ("--fdr", "1", "--fdr"),
    ("--flow-alpha", "0", "--flow-alpha"),
    ("--min-flow-share", "-1", "'-1' is in percentage points (2 = 2 points) and must be at least 0 and below 100"),
])
def test_thresholds_are_checked_in_their_units(option, value, message):
    result = CliRunner().invoke(cli, ["evaluate", "--demo", option, value])
    assert result.exit_code == 2 and message in result.output


def test_the_order_of_runs_in_a_manifest_does_not_change_any_output(tmp_path):
    shaped = single_labels([1000] * 9 + [30])
    shaped.send(shaped.band("cat", 0.70, 0.80), ["dog", "bird"])
    runs = simulate(shaped, {"s050": (0.5, 3, {}), "s008": (0.08, 3, {"cat": 0.70, "truck": 0.6})}, jitter=0.05)
    manifest = write_files(tmp_path, shaped, runs, CROPS)
    content = yaml.safe_load(manifest.read_text())
    content["runs"] = [content["runs"][i] for i in (4, 0, 2, 5, 1, 3)]
    (tmp_path / "shuffled.yaml").write_text(yaml.safe_dump(content, sort_keys=False))
    outputs = []
    for name, path in (("a", manifest), ("b", tmp_path / "shuffled.yaml")):
        out = tmp_path / name
        result = _invoke("evaluate", "--manifest", path, "--reference", "s050", "--min-drop", "2", "--hierarchy",
                         "none", "--n-bootstrap", "300", "--recommend", out / "overrides.json", "--out", out)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "b").iterdir()) and "comparison_per_class.csv" in files
    stated = {"provenance.json", "evaluate_params.json"}  # they state the command, which names other files
    for name in sorted(set(files) - stated):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    params = [json.loads((tmp_path / name / "evaluate_params.json").read_text()) for name in "ab"]
    assert [{k: v for k, v in p.items() if k != "options"} for p in params] == [
        {k: v for k, v in params[0].items() if k != "options"}] * 2
    provenance = [json.loads((tmp_path / name / "provenance.json").read_text()) for name in "ab"]
    assert provenance[0]["runs"] == provenance[1]["runs"]
    assert {n: d for n, d in provenance[0]["files"].items() if n not in stated} == {
        n: d for n, d in provenance[1]["files"].items() if n not in stated}
    assert outputs[0].replace(str(tmp_path / "a"), "") == outputs[1].replace(str(tmp_path / "b"), "")
