"""`relabel evaluate` run as a user runs it: real files in tmp_path, exit codes, messages, files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from relabel import Run, RunMeta, __version__, write_run
from relabel.cli.main import cli


@pytest.fixture
def office_files(tmp_path):
    """Label space CSV, annotations JSON and two run files for the four office classes."""
    (tmp_path / "classes.csv").write_text("key,name\nlaptop,laptop\nnotebook,notebook\ndesk,desk\nmonitor,monitor\n")
    annotations = {
        "img0.jpg": {"original": "laptop", "labels": ["laptop", "notebook"]},
        "img1.jpg": {"original": "laptop", "labels": ["laptop"]},
        "img2.jpg": {"original": "notebook", "labels": ["notebook", "laptop"]},
        "img3.jpg": {"original": "notebook", "labels": ["notebook"]},
        "img4.jpg": {"original": "desk", "labels": ["desk", "monitor"]},
        "img5.jpg": {"original": "desk", "labels": ["desk"]},
        "img6.jpg": {"original": "monitor", "labels": ["monitor"]},
        "img7.jpg": {"original": "monitor", "labels": []},
    }
    (tmp_path / "labels.json").write_text(json.dumps(annotations))
    images = np.array([f"photos/img{i}.jpg" for i in range(8)], dtype=object)
    write_run(Run(RunMeta("base", "rrc-0.5", 0.5, 0), images, np.array([[0], [0], [1], [1], [2], [2], [3], [3]])),
              tmp_path / "base.parquet")
    pd.DataFrame({"filename": [f"img{i}.jpg" for i in range(8)],
                  "pred": ["notebook", "laptop", "laptop", "notebook", "monitor", "desk", "monitor", "desk"]}
                 ).to_csv(tmp_path / "strong.csv", index=False)
    return tmp_path


def _invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_version_and_help():
    assert _invoke("--version").output.strip() == f"relabel, version {__version__}"
    help_text = _invoke("evaluate", "--help").output
    for option in ("--annotations", "--run", "--manifest", "--out", "--demo", "--canonical-order"):
        assert option in help_text


def test_evaluate_files_prints_summary_and_writes_tables(office_files):
    out = office_files / "results"
    result = _invoke("evaluate", "--annotations", office_files / "labels.json",
                     "--label-space", office_files / "classes.csv",
                     "--run", f"base={office_files / 'base.parquet'}", office_files / "strong.csv", "--out", out)
    assert result.exit_code == 0, result.output
    assert "base" in result.output and "strong" in result.output
    assert "8/8" in result.output
    per_class = pd.read_parquet(out / "per_class.parquet")
    assert sorted(per_class["run"].unique()) == ["base", "strong"]
    strong = per_class[per_class["run"] == "strong"].set_index("class_name")
    assert strong["acc_original"].tolist() == [0.5, 0.5, 0.5, 0.5]
    assert strong["acc_multilabel"].tolist() == [1.0, 1.0, 1.0, 1.0]
    base = per_class[per_class["run"] == "base"].iloc[0]
    assert (base["group"], base["strength"], base["seed"]) == ("rrc-0.5", 0.5, 0)
    pd.testing.assert_frame_equal(pd.read_csv(out / "per_class.csv"), per_class, check_dtype=False)
    overall = pd.read_csv(out / "overall.csv").set_index("run")
    assert overall.loc["strong", "acc_original"] == 0.5
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_manifest_with_metadata(office_files):
    (office_files / "runs.yaml").write_text(
        "annotations: labels.json\nlabel_space: classes.csv\nruns:\n"
        "  - {path: base.parquet, name: b0, group: weak, strength: 0.5, seed: 1}\n"
        "  - {path: strong.csv, name: s0, group: strong, strength: 0.08, seed: 1}\n"
    )
    out = office_files / "m"
    result = _invoke("evaluate", "--manifest", office_files / "runs.yaml", "--out", out)
    assert result.exit_code == 0, result.output
    overall = pd.read_parquet(out / "overall.parquet").set_index("run")
    assert overall.loc["s0", "group"] == "strong" and overall.loc["s0", "strength"] == 0.08
    assert overall.loc["b0", "acc_original"] == 1.0


def test_unknown_image_keys_fail_cleanly_and_write_nothing(office_files):
    pd.DataFrame({"image": ["img0.jpg", "zebra.jpg"], "pred": [0, 1]}).to_csv(office_files / "bad.csv", index=False)
    out = office_files / "never"
    result = CliRunner().invoke(cli, ["evaluate", "--annotations", str(office_files / "labels.json"),
                                      "--label-space", str(office_files / "classes.csv"),
                                      str(office_files / "bad.csv"), "--out", str(out)])
    assert result.exit_code == 1
    assert "Error:" in result.output and "bad.csv" in result.output and "'zebra.jpg'" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_metadata_option_counts_must_match(office_files):
    result = CliRunner().invoke(cli, ["evaluate", "--annotations", str(office_files / "labels.json"),
                                      str(office_files / "base.parquet"), str(office_files / "strong.csv"),
                                      "--group", "a", "--group", "b", "--group", "c"])
    assert result.exit_code == 2
    assert "--group was given 3 times for 2 runs" in result.output


def test_missing_annotations_and_runs_are_usage_errors(office_files):
    result = CliRunner().invoke(cli, ["evaluate", str(office_files / "base.parquet")])
    assert result.exit_code == 2 and "--annotations" in result.output
    result = CliRunner().invoke(cli, ["evaluate", "--annotations", "real"])
    assert result.exit_code == 2 and "no runs" in result.output


def test_run_spec_with_missing_file_is_rejected(tmp_path):
    result = CliRunner().invoke(cli, ["evaluate", "--annotations", "real", "--run", f"x={tmp_path / 'nope.parquet'}"])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_demo_says_it_is_simulated_and_writes_tables(tmp_path):
    result = _invoke("evaluate", "--demo", "--out", tmp_path / "demo", "--top", "3")
    assert result.exit_code == 0, result.output
    assert "SIMULATED PREDICTIONS" in result.output
    overall = pd.read_parquet(tmp_path / "demo" / "overall.parquet")
    assert len(overall) == 6 and set(overall["group"]) == {"rrc-0.5", "rrc-0.08"}
    assert (overall["n_images"] == 50000).all()
    # multi-label scoring credits other valid labels: ReaL accuracy above original, as on real models
    assert (overall["acc_multilabel"] > overall["acc_original"]).all()


def test_without_multilabels_the_summary_says_so(office_files):
    pd.DataFrame({"image": [f"img{i}.jpg" for i in range(8)],
                  "label": ["laptop", "laptop", "notebook", "notebook", "desk", "desk", "monitor", "monitor"]}
                 ).to_csv(office_files / "single.csv", index=False)
    result = _invoke("evaluate", "--annotations", office_files / "single.csv",
                     "--label-space", office_files / "classes.csv", office_files / "strong.csv")
    assert result.exit_code == 0, result.output
    assert "no multi-label sets; only original-label accuracy" in result.output
    assert " 50.0%" in result.output


def test_demo_compares_groups_and_lists_affected_classes(tmp_path):
    result = _invoke("evaluate", "--demo", "--out", tmp_path / "demo")
    assert result.exit_code == 0, result.output
    assert "Comparison with reference group 'rrc-0.5' (metric: multilabel" in result.output
    assert "rrc-0.08: mean class accuracy" in result.output and "7 affected classes" in result.output
    assert "Norwich terrier" in result.output  # where Norfolk terrier's predictions went
    per_class = pd.read_parquet(tmp_path / "demo" / "comparison_per_class.parquet")
    assert per_class["affected"].sum() == 7
    flows = pd.read_csv(tmp_path / "demo" / "comparison_flows.csv")
    assert {"class_index", "partner_name", "share_delta", "pair_acc_treatment"} <= set(flows.columns)
    assert json.loads((tmp_path / "demo" / "comparison_params.json").read_text())["n_bootstrap"] == 1000
    # categorisation: each affected class with its category and a reason carrying the evidence
    assert "Norfolk terrier [fine-grained" in result.output and "siblings under 'terrier'" in result.output
    assert "seashore [co-occurring" in result.output
    stage_line = next(line for line in result.output.splitlines() if line.strip().startswith("stage ["))
    assert stage_line.strip().startswith("stage [co-occurring;")
    assert "; microphone gained false positives]" in stage_line  # who gained them
    assert "give --reference GROUP" not in result.output
    classes = pd.read_parquet(tmp_path / "demo" / "categorisation_classes.parquet")
    assert len(classes) == 7 and set(classes["category"]) == {"ambiguous", "co-occurring", "fine-grained"}
    pairs = pd.read_csv(tmp_path / "demo" / "categorisation_pairs.csv")
    assert {"co_annotation_cd", "lca_depth", "path_length", "shared_name", "reason"} <= set(pairs.columns)


def test_compare_files_with_reference_and_thresholds(office_files):
    out = office_files / "cmp"
    result = _invoke("evaluate", "--annotations", office_files / "labels.json",
                     "--label-space", office_files / "classes.csv",
                     "--run", f"base={office_files / 'base.parquet'}", "--run", f"strong={office_files / 'strong.csv'}",
                     "--group", "weak", "--group", "strong", "--reference", "weak", "--metric", "original",
                     "--min-drop", "10", "--fdr", "0.2", "--out", out)
    assert result.exit_code == 0, result.output
    assert "affected = drop >= 10 points and q <= 0.2" in result.output
    assert "single run" in result.output
    per_class = pd.read_parquet(out / "comparison_per_class.parquet")
    assert per_class.set_index("class_name")["delta_original"].tolist() == [-0.5, -0.5, -0.5, -0.5]


def test_unknown_reference_group_is_a_clear_error(office_files):
    result = CliRunner().invoke(cli, ["evaluate", "--annotations", str(office_files / "labels.json"),
                                      "--label-space", str(office_files / "classes.csv"),
                                      str(office_files / "base.parquet"), "--group", "weak", "--reference", "strong"])
    assert result.exit_code == 1
    assert "Error: reference group 'strong' does not exist; groups are ['weak']" in result.output
    result = CliRunner().invoke(cli, ["evaluate", "--demo", "--min-drop", "150"])
    assert result.exit_code == 2 and "in percentage points (2 = 2 points) and must be above 0 and below 100" in result.output


def _ten_copies(folder):
    """The office files with ten copies of each image (20 a class), and a run ``shifted.csv`` that sends every
    laptop image to notebook: 20 of 20 lost with one run a side, an exact McNemar p of 2 / 2^20. Two images a
    class (the plain fixture) cannot be told from noise with one run: 2 of 2 lost is p = 0.5."""
    names = [f"img{i}_{copy}.jpg" for i in range(8) for copy in range(10)]
    classes = ["laptop", "laptop", "notebook", "notebook", "desk", "desk", "monitor", "monitor"]
    labels = json.loads((folder / "labels.json").read_text())
    (folder / "labels.json").write_text(json.dumps({name: labels[f"img{name.split('_')[0][3:]}.jpg"]
                                                    for name in names}))
    (folder / "single.csv").write_text("image,label\n" + "".join(f"{name},{classes[int(name.split('_')[0][3:])]}\n"
                                                                 for name in names))
    right = np.repeat([0, 0, 1, 1, 2, 2, 3, 3], 10)
    write_run(Run(RunMeta("base", "rrc-0.5", 0.5, 0), np.array([f"photos/{n}" for n in names], dtype=object),
                  right[:, None]), folder / "base.parquet")
    pd.DataFrame({"image": names, "pred": np.repeat([1, 1, 1, 1, 2, 2, 3, 3], 10)}
                 ).to_csv(folder / "shifted.csv", index=False)


def test_custom_files_without_hierarchy_say_what_evidence_was_missing(office_files):
    _ten_copies(office_files)
    result = _invoke("evaluate", "--annotations", office_files / "single.csv",
                     "--label-space", office_files / "classes.csv",
                     "--run", f"base={office_files / 'base.parquet'}", "--run", f"shift={office_files / 'shifted.csv'}",
                     "--group", "weak", "--group", "strong", "--reference", "weak", "--fdr", "0.5")
    assert result.exit_code == 0, result.output
    # no multi-labels, no hierarchy: only the runs speak (laptop's images go to notebook, none come back), and a
    # one-way flow alone cannot tell a context error from a bias shift between look-alikes
    assert "laptop [insufficient evidence; low confidence" in result.output
    assert "the runs send laptop's images to notebook but not the reverse" in result.output
    assert "(multi-labels and hierarchy unavailable)" in result.output


def test_user_hierarchy_file_is_used_for_custom_classes(office_files):
    _ten_copies(office_files)
    (office_files / "parents.csv").write_text(
        "child,parent\nlaptop,computer\nnotebook,computer\ncomputer,thing\ndesk,furniture\nfurniture,thing\n"
        "monitor,thing\n")
    result = _invoke("evaluate", "--annotations", office_files / "single.csv",
                     "--label-space", office_files / "classes.csv", "--hierarchy", office_files / "parents.csv",
                     "--run", f"base={office_files / 'base.parquet'}", "--run", f"shift={office_files / 'shifted.csv'}",
                     "--group", "weak", "--group", "strong", "--reference", "weak", "--fdr", "0.5")
    assert result.exit_code == 0, result.output
    assert "laptop [fine-grained" in result.output and "'computer'" in result.output


def test_demo_recommend_writes_overrides_a_trainer_can_load(tmp_path):
    from relabel import imagenet_1k, load_overrides

    result = _invoke("evaluate", "--demo", "--recommend", tmp_path / "next" / "overrides.yaml", "--target", "lost")
    assert result.exit_code == 0, result.output
    assert "Recommendation (default recipe 'rrc-0.08', overrides target: lost)" in result.output
    assert "multi-label scoring" in result.output and "expected with the overrides" in result.output
    overrides = load_overrides(tmp_path / "next" / "overrides.yaml", classes=imagenet_1k())
    assert len(overrides.overrides) == 6 and all(len(o.classes) == 1 for o in overrides.overrides)
    table = pd.read_csv(tmp_path / "next" / "overrides.csv")
    assert table["rrc_scale_min"].tolist() == [0.5] * 6


def test_recommend_needs_a_reference_and_a_json_or_yaml_name(office_files, tmp_path):
    result = CliRunner().invoke(cli, ["evaluate", "--annotations", str(office_files / "labels.json"),
                                      "--label-space", str(office_files / "classes.csv"),
                                      str(office_files / "base.parquet"), "--recommend", str(tmp_path / "o.json")])
    assert result.exit_code == 2 and "--recommend needs --reference" in result.output
    result = CliRunner().invoke(cli, ["evaluate", "--demo", "--recommend", str(tmp_path / "o.txt"),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "expected a .json, .yaml or .yml name" in result.output
    assert not (tmp_path / "o.txt").exists() and not (tmp_path / "out").exists()


def test_manifest_groups_describe_the_augmentation_for_recommend(office_files):
    _ten_copies(office_files)
    (office_files / "runs.yaml").write_text(
        "annotations: labels.json\nlabel_space: classes.csv\n"
        "groups:\n  weak: {random_resized_crop: {scale: [0.5, 1.0]}}\n"
        "  strong: {random_resized_crop: {scale: [0.08, 1.0]}}\n"
        "runs:\n  - {path: base.parquet, name: b0, group: weak}\n  - {path: shifted.csv, name: s0, group: strong}\n")
    result = _invoke("evaluate", "--manifest", office_files / "runs.yaml", "--reference", "weak", "--metric",
                     "original", "--fdr", "0.5", "--include-ambiguous", "--recommend", office_files / "o.json")
    assert result.exit_code == 0, result.output
    overrides = json.loads((office_files / "o.json").read_text())
    assert overrides["default"] == {"random_resized_crop": {"scale": [0.08, 1.0]}}
    assert overrides["overrides"][0]["classes"] == ["laptop", "notebook"]
    assert overrides["overrides"][0]["transforms"] == {"random_resized_crop": {"scale": [0.5, 1.0]}}


def test_manifest_inputs_that_would_silently_change_the_results_are_refused_or_named(office_files, tmp_path):
    """A misspelt group under ``groups:`` (its group would get no augmentation: no overrides), one file listed as
    two runs (one run counted as two seeds), runs of one group at two strengths (the curves would be dropped), a
    seed given twice in a group (a warning), a misspelt multi-label column (a warning) and a misspelt label-space
    column (an error): each is named, and the refused ones write nothing."""
    _ten_copies(office_files)
    head = "annotations: labels.json\nlabel_space: classes.csv\n"
    runs = "runs:\n  - {path: base.parquet, name: b0, group: weak}\n  - {path: shifted.csv, name: s0, group: strong}\n"
    out = tmp_path / "out"

    def evaluate(manifest_text, *extra):
        (office_files / "m.yaml").write_text(manifest_text)
        return CliRunner().invoke(cli, ["evaluate", "--manifest", str(office_files / "m.yaml"), "--reference", "weak",
                                        "--metric", "original", "--out", str(out), *map(str, extra)])

    typo = evaluate(head + "groups:\n  weak: {random_resized_crop: {scale: [0.5, 1.0]}}\n"
                    "  Strong: {random_resized_crop: {scale: [0.08, 1.0]}}\n" + runs)
    assert typo.exit_code == 1 and not out.exists()
    assert "m.yaml, groups: 1 offender: 'Strong' name no run's group (the runs' groups: strong, weak)" in typo.output

    twice = evaluate(head + runs + "  - {path: base.parquet, name: b1, group: weak}\n")
    assert twice.exit_code == 1 and not out.exists()
    assert "base.parquet', as the runs 'b0', 'b1'" in twice.output and "would count as two seeds" in twice.output

    (office_files / "base2.parquet").write_bytes((office_files / "base.parquet").read_bytes())
    mixed = evaluate(head + "runs:\n  - {path: base.parquet, name: b0, group: weak, strength: 0.5}\n"
                     "  - {path: base2.parquet, name: b1, group: weak, strength: 0.45}\n"
                     "  - {path: shifted.csv, name: s0, group: strong, strength: 0.08}\n")
    assert mixed.exit_code == 1 and not out.exists()
    assert "group 'weak': its runs give different strengths (0.45, 0.5" in mixed.output

    seed = evaluate(head + "runs:\n  - {path: base.parquet, name: b0, group: weak, seed: 1}\n"
                    "  - {path: base2.parquet, name: b1, group: weak, seed: 1}\n"
                    "  - {path: shifted.csv, name: s0, group: strong, seed: 1}\n")
    assert seed.exit_code == 0, seed.output
    assert "group 'weak': seeds 1 offender: 1 are given by more than one run" in seed.output


def test_annotation_and_label_space_columns_that_are_not_read(tmp_path):
    import warnings

    from relabel import LabelSpaceError, RelabelWarning, load_annotations, load_label_space

    (tmp_path / "classes.csv").write_text("idx,key\n1,b\n0,a\n")  # 'idx' is not 'index': rows in file order
    with pytest.raises(LabelSpaceError, match=r"classes.csv: unknown columns 1 offender: 'idx'; a label space CSV "
                                              r"has the columns key, name and index"):
        load_label_space(tmp_path / "classes.csv")
    (tmp_path / "classes.csv").write_text("index,key\n1,b\n0,a\n")
    space = load_label_space(tmp_path / "classes.csv")
    assert space.keys == ("a", "b")
    (tmp_path / "ml.csv").write_text("image,original,labls\nx.jpg,a,a|b\ny.jpg,b,b\n")
    with pytest.warns(RelabelWarning, match=r"ml.csv: columns 1 offender: 'labls' are not read"):
        ann = load_annotations(tmp_path / "ml.csv", label_space=space)
    assert not ann.has_multilabels
    (tmp_path / "ml.csv").write_text("image,original,labels\nx.jpg,a,a|b\ny.jpg,b,b\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RelabelWarning)
        assert load_annotations(tmp_path / "ml.csv", label_space=space).has_multilabels


def test_evaluate_report_and_a_later_relabel_report_from_the_folder(tmp_path):
    out = tmp_path / "results"
    result = _invoke("evaluate", "--demo", "--out", out, "--recommend", out / "overrides.json",
                     "--report", tmp_path / "report")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "report" / "index.html").read_text()
    assert "Simulated predictions" in page and "Norwich terrier" in page
    assert json.loads((out / "evaluate_params.json").read_text())["simulated"] is True
    result = _invoke("report", out, "--overrides", out / "overrides.json")
    assert result.exit_code == 0, result.output
    assert "Simulated predictions" in (out / "report" / "index.html").read_text()  # read from evaluate_params.json


def test_self_check_input_errors_name_the_option_and_the_value(tmp_path):
    """Every bad --self-check input is a usage error (exit 2) that names the option and what was given; nothing written."""
    from shaped import simulate, single_labels, write_files

    shaped = single_labels([200, 200, 30], names=("a", "b", "c"))
    one = write_files(tmp_path / "one", shaped, simulate(shaped, {"base": (None, 2, {})}))
    out = tmp_path / "out"

    def error(*args):
        result = CliRunner().invoke(cli, ["evaluate", "--manifest", str(one), *map(str, args), "--out", str(out)])
        assert result.exit_code == 2 and not out.exists(), result.output
        return result.output.strip().splitlines()[-1]

    assert error("--self-check-bootstrap", "60") == (
        "Error: --self-check-bootstrap 60 sets the draws of the A/A self-check: give --self-check [N] too, or drop it")
    assert error("--reference", "base", "--self-check", "5") == (
        "Error: --reference base: a comparison needs a second group, and every run is in group 'base'; to self-check "
        "that group alone, drop --reference (--self-check then splits the only group)")
    assert error("--self-check", "five") == (
        "Error: Invalid value for '--self-check': expected the number of A/A splits N, a whole number of at least 1 "
        "(--self-check alone: 100); got 'five'")
    assert error("--self-check", "0") == (
        "Error: Invalid value for '--self-check': 0 is not in the range x>=1: N is the number of A/A splits, a whole "
        "number of at least 1")
    # the one group alone, without --reference, is what it asks for
    fine = CliRunner().invoke(cli, ["evaluate", "--manifest", str(one), "--self-check", "3", "--self-check-bootstrap",
                                    "50"], catch_exceptions=False)
    assert fine.exit_code == 0 and "of 3 splits of group 'base'" in fine.output


def test_quiet_builds_no_summary_it_would_not_print(tmp_path, monkeypatch):
    """--quiet skips the terminal summaries' work (seconds for a 1,000-run sweep), not only their printing."""
    import relabel.cli.render as render

    def refused(*args, **kwargs):
        raise AssertionError("a summary was built under --quiet")

    monkeypatch.setattr(render, "multilabel_gaps", refused)
    monkeypatch.setattr(render, "_class_rows", refused)
    result = _invoke("evaluate", "--demo", "--quiet", "--out", tmp_path / "demo")
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and (tmp_path / "demo" / "comparison_per_class.csv").is_file()
    with pytest.raises(AssertionError, match="under --quiet"):
        _invoke("evaluate", "--demo", "--out", tmp_path / "loud")
