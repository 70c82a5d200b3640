"""`relabel check`, the CI gate, run as a user runs it: real Parquet run files, exit codes, the JSON line, stderr."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import click
import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from relabel.cli.check import DEGRADED, PASSED, UNDECIDED
from relabel.cli.inputs import compare_arguments
from relabel.cli.main import cli
from relabel.cli.params import comparison_options
from shaped import mixed_group, simulate, single_labels, write_files

from relabel import compare, evaluate, pair, self_check

SIZES = [1000] * 9 + [30]  # CIFAR-10 shape, truck with 30 test images


def _invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _line(result):
    """The one JSON line on stdout."""
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    return json.loads(lines[0])


def _group(summary, name):
    (group,) = [g for g in summary["groups"] if g["group"] == name]
    return group


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """s050 the reference, s020 unchanged, s008 with cat (1,000 images) and truck (30 images) 10 points down; 2 seeds."""
    shaped = single_labels(SIZES)
    runs = simulate(shaped, {"s050": (0.5, 2, {}), "s020": (0.2, 2, {}), "s008": (0.08, 2, {"cat": 0.7, "truck": 0.7})})
    manifest = write_files(tmp_path_factory.mktemp("planted"), shaped, runs)
    return manifest, shaped, runs


@pytest.fixture(scope="module")
def small_drop(tmp_path_factory):
    """cat 3 points down (significant, but under the default 5-point threshold); one seed a group."""
    shaped = single_labels(SIZES)
    runs = simulate(shaped, {"s050": (0.5, 1, {}), "s008": (0.08, 1, {"cat": 0.77})})
    return write_files(tmp_path_factory.mktemp("small"), shaped, runs)


def _accuracy(shaped, runs, group, name):
    """Mean over the group's seeds of the class's top-1 accuracy, straight from the simulated predictions."""
    c = shaped.index(name)
    images = shaped.true == c
    return np.mean([np.mean(run.topk_ids[images, 0] == c) for run in runs if run.meta.group == group])


def test_a_planted_degraded_class_fails_the_gate_and_the_line_names_it(planted):
    manifest, shaped, runs = planted
    result = _invoke("check", "--manifest", manifest, "--reference", "s050")
    assert result.exit_code == DEGRADED == 1, result.output
    summary = _line(result)
    assert summary["schema"] == "relabel.check/1" and summary["status"] == "fail"
    assert summary["reference"] == "s050" and summary["results"] is None and summary["simulated"] is False
    assert summary["thresholds"] == {"metric": "original", "min_drop": 0.05, "fdr": 0.05, "fdr_method": "bh"}
    assert summary["n_affected"] == 1 and [g["group"] for g in summary["groups"]] == ["s008", "s020"]
    s008, s020 = _group(summary, "s008"), _group(summary, "s020")
    assert (s008["status"], s008["n_affected"], s008["n_classes"]) == ("fail", 1, 10)
    assert (s020["status"], s020["n_affected"]) == ("pass", 0)
    cat, truck = s008["worst"][:2]  # degraded first, then the largest drops
    assert (cat["class_key"], cat["affected"], cat["n_images"]) == ("cat", True, 1000)
    expected = _accuracy(shaped, runs, "s008", "cat") - _accuracy(shaped, runs, "s050", "cat")
    assert cat["delta"] == pytest.approx(expected, abs=1e-12) and cat["delta"] == pytest.approx(-0.1, abs=0.005)
    assert cat["q_value"] < 1e-6 and cat["ci_low"] < cat["delta"] < cat["ci_high"] < -0.05
    # the same 10-point drop on 30 images (3 images) cannot be told from noise: listed, not degraded
    assert (truck["class_key"], truck["affected"], truck["n_images"]) == ("truck", False, 30)
    assert truck["delta"] == pytest.approx(-0.1, abs=1e-12) and truck["q_value"] > 0.05
    assert len(s008["worst"]) == 5
    assert result.stderr.splitlines()[0] == (
        "relabel check against 's050': FAIL: 1 class degraded in 1 of 2 groups "
        "(drop >= 5 points with q <= 0.05 (Benjamini-Hochberg) on original labels)")
    assert "    DEGRADED cat: -10.0 points" in result.stderr or "    DEGRADED cat: -9." in result.stderr
    assert "    ok       truck: -10.0 points" in result.stderr


def test_candidates_choose_the_groups_gated(planted):
    manifest = planted[0]
    passed = _invoke("check", "--manifest", manifest, "--reference", "s050", "--candidate", "s020", "--top", "2")
    assert passed.exit_code == PASSED == 0, passed.output
    summary = _line(passed)
    assert summary["status"] == "pass" and [g["group"] for g in summary["groups"]] == ["s020"]
    assert len(summary["groups"][0]["worst"]) == 2 and summary["groups"][0]["median_detectable_drop"] > 0.05
    assert "pass: no class degraded in 1 group" in passed.stderr
    failed = _invoke("check", "--manifest", manifest, "--reference", "s050", "--candidate", "s008")
    assert failed.exit_code == DEGRADED and [g["group"] for g in _line(failed)["groups"]] == ["s008"]


def test_no_change_passes_with_one_and_two_seeds(tmp_path):
    shaped = single_labels(SIZES)
    runs = simulate(shaped, {"s050": (0.5, 2, {}), "s008": (0.08, 1, {})})
    manifest = write_files(tmp_path, shaped, runs)
    result = _invoke("check", "--manifest", manifest, "--reference", "s050")
    assert result.exit_code == PASSED, result.output
    summary = _line(result)
    assert summary["status"] == "pass" and summary["n_affected"] == 0
    assert all(not c["affected"] for c in summary["groups"][0]["worst"])
    assert "warning: groups ['s008'] have a single run" in result.stderr  # warnings still go to stderr


def test_thresholds_are_the_comparison_options(small_drop):
    default = _invoke("check", "--manifest", small_drop, "--reference", "s050")
    assert default.exit_code == PASSED, default.output
    cat = _group(_line(default), "s008")["worst"][0]
    assert cat["class_key"] == "cat" and -0.05 < cat["delta"] < -0.02 and cat["q_value"] < 0.05
    stricter = _invoke("check", "--manifest", small_drop, "--reference", "s050", "--min-drop", "2")
    assert stricter.exit_code == DEGRADED, stricter.output
    assert _line(stricter)["thresholds"]["min_drop"] == 0.02
    assert _invoke("check", "--manifest", small_drop, "--reference", "s050", "--min-drop", "2",
                   "--fdr", "1e-12").exit_code == PASSED


def test_a_results_folder_gives_the_verdict_of_recomputing(small_drop, tmp_path):
    out = tmp_path / "results"
    written = _invoke("evaluate", "--manifest", small_drop, "--reference", "s050", "--hierarchy", "none", "--out", out)
    assert written.exit_code == 0, written.output
    for extra, code in (([], PASSED), (["--min-drop", "2"], DEGRADED), (["--min-drop", "2", "--fdr", "1e-12"], PASSED)):
        from_folder = _invoke("check", out, *extra)
        recomputed = _invoke("check", "--manifest", small_drop, "--reference", "s050", *extra)
        assert from_folder.exit_code == recomputed.exit_code == code, from_folder.output
        folder_line, recomputed_line = _line(from_folder), _line(recomputed)
        assert folder_line.pop("results") == str(out) and recomputed_line.pop("results") is None
        if extra:  # other thresholds than the folder's: its detectable drops were computed for its own
            for line in (folder_line, recomputed_line):
                for group in line["groups"]:
                    group.pop("median_detectable_drop")
            assert all(g.get("median_detectable_drop", None) is None for g in folder_line["groups"])
        assert folder_line == recomputed_line
    # the folder's reference may be repeated, not changed
    assert _invoke("check", out, "--reference", "s050").exit_code == PASSED


def test_fdr_method_on_a_results_folder_gives_the_verdict_of_recomputing_with_it(small_drop, tmp_path):
    """--fdr-method by on a BH results folder re-adjusts its stored p-values: the line of computing with BY."""
    out = tmp_path / "results"
    assert _invoke("evaluate", "--manifest", small_drop, "--reference", "s050", "--hierarchy", "none",
                   "--out", out).exit_code == 0
    assert json.loads((out / "comparison_params.json").read_text())["fdr_method"] == "bh"
    lines = {}
    for method in ("bh", "by"):
        extra = ["--min-drop", "2", "--fdr", "1e-6", "--fdr-method", method]
        from_folder = _invoke("check", out, *extra)
        recomputed = _invoke("check", "--manifest", small_drop, "--reference", "s050", *extra)
        assert from_folder.exit_code == recomputed.exit_code, from_folder.output
        folder_line, recomputed_line = _line(from_folder), _line(recomputed)
        folder_line.pop("results"), recomputed_line.pop("results")
        for line in (folder_line, recomputed_line):
            for group in line["groups"]:
                group.pop("median_detectable_drop")
        assert folder_line == recomputed_line
        assert folder_line["thresholds"]["fdr_method"] == method
        lines[method] = folder_line
    bh_q = [c["q_value"] for c in lines["bh"]["groups"][0]["worst"]]
    by_q = [c["q_value"] for c in lines["by"]["groups"][0]["worst"]]
    c10 = sum(1 / i for i in range(1, 11))  # BY = BH x c(m) for these 10 classes, capped at 1
    assert by_q == pytest.approx([min(1.0, q * c10) for q in bh_q], rel=1e-9)
    assert "(Benjamini-Yekutieli)" in _invoke("check", out, "--fdr-method", "by").stderr


def test_a_results_folder_refuses_what_would_change_the_computation(small_drop, tmp_path):
    out = tmp_path / "results"
    assert _invoke("evaluate", "--manifest", small_drop, "--reference", "s050", "--out", out).exit_code == 0
    result = _invoke("check", out, "--n-bootstrap", "200", "--paired")
    assert result.exit_code == UNDECIDED and result.stdout == ""
    assert "is a finished comparison" in result.stderr and "--n-bootstrap, --paired apply" in result.stderr
    other = _invoke("check", out, "--reference", "s008")
    assert other.exit_code == UNDECIDED and other.stdout == ""
    assert other.stderr.strip() == (f"Error: results folder {out} compares with reference group 's050', not 's008': "
                                    f"drop --reference, or compute the comparison with --reference s008")
    both = _invoke("check", out, small_drop)
    assert both.exit_code == UNDECIDED and "not both" in both.stderr


def test_a_results_folder_without_a_comparison_is_an_input_error(small_drop, tmp_path):
    out = tmp_path / "evaluated"
    assert _invoke("evaluate", "--manifest", small_drop, "--out", out).exit_code == 0
    result = _invoke("check", out)
    assert result.exit_code == UNDECIDED and result.stdout == ""
    assert result.stderr.strip().startswith(f"Error: results folder {out} holds no comparison")


def _one_error_line(result):
    assert result.exit_code == UNDECIDED == 2, result.output
    assert result.stdout == ""  # a broken input never prints a verdict
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_missing_files_and_bad_manifests_exit_2_with_one_error_line(planted, tmp_path):
    manifest = planted[0]
    missing = _one_error_line(_invoke("check", "--manifest", tmp_path / "none.yaml", "--reference", "s050"))
    assert "none.yaml" in missing and "does not exist" in missing
    listed = yaml.safe_load(manifest.read_text())
    listed["runs"][0]["path"] = str(manifest.parent / "gone.parquet")
    listed["annotations"], listed["label_space"] = (str(manifest.parent / n) for n in ("labels.csv", "classes.csv"))
    (tmp_path / "gone.yaml").write_text(yaml.safe_dump(listed))
    assert "gone.parquet" in _one_error_line(_invoke("check", "--manifest", tmp_path / "gone.yaml",
                                                     "--reference", "s050"))
    (tmp_path / "broken.yaml").write_text("runs: [\n")
    assert "broken.yaml" in _one_error_line(_invoke("check", "--manifest", tmp_path / "broken.yaml",
                                                    "--reference", "s050"))
    (tmp_path / "norun.yaml").write_text("annotations: labels.csv\nruns:\n  - group: a\n")
    assert "norun.yaml" in _one_error_line(_invoke("check", "--manifest", tmp_path / "norun.yaml",
                                                   "--reference", "s050"))
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(b"PAR1 not really")
    assert "damaged.parquet" in _one_error_line(_invoke("check", "--annotations", manifest.parent / "labels.csv",
                                                        "--label-space", manifest.parent / "classes.csv",
                                                        "--run", f"a={damaged}", "--group", "a", "--reference", "a"))


def test_usage_errors_exit_2(planted):
    manifest = planted[0]
    assert "--reference GROUP is required" in _one_error_line(_invoke("check", "--manifest", manifest))
    assert "unknown candidate group 'nope'" in _one_error_line(
        _invoke("check", "--manifest", manifest, "--reference", "s050", "--candidate", "nope"))
    assert "'s050' is the reference group" in _one_error_line(
        _invoke("check", "--manifest", manifest, "--reference", "s050", "--candidate", "s050"))
    assert "reference group 'x' does not exist" in _one_error_line(
        _invoke("check", "--manifest", manifest, "--reference", "x"))
    assert "needs annotations with multi-label sets" in _one_error_line(
        _invoke("check", "--manifest", manifest, "--reference", "s050", "--metric", "multilabel"))
    assert "--min-drop" in _one_error_line(_invoke("check", "--manifest", manifest, "--reference", "s050",
                                                   "--min-drop", "0"))


def test_a_crash_is_undecided_not_degraded(planted, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr("relabel.cli.check.gate", broken)
    result = _invoke("check", "--manifest", planted[0], "--reference", "s050")
    assert result.exit_code == UNDECIDED and result.stdout == ""
    assert "KeyError: 'a bug'" in result.stderr and "the gate could not decide" in result.stderr


def test_quiet_prints_nothing_and_the_status_still_tells(planted):
    result = _invoke("check", "-q", "--manifest", planted[0], "--reference", "s050")
    assert result.exit_code == DEGRADED and result.stdout == "" and result.stderr == ""


def test_names_from_files_are_escaped(tmp_path):
    names = ["lap\x1b]0;pwned\x07top", "desk\u202eevil", "monitor"]
    shaped = single_labels([200, 200, 30], names)
    runs = simulate(shaped, {"a": (0.5, 1, {}), "b": (0.08, 1, {names[0]: 0.5})})
    manifest = write_files(tmp_path, shaped, runs)
    result = _invoke("check", "--manifest", manifest, "--reference", "a")
    assert result.exit_code == DEGRADED, result.output
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert "DEGRADED lap\\x1b]0;pwned\\x07top: -30.0 points" in result.stderr
    assert _line(result)["groups"][0]["worst"][0]["class_name"] == names[0]  # JSON-escaped, exact once parsed
    assert "\\u001b]0;pwned\\u0007top" in result.stdout


def test_every_comparison_option_reaches_compare():
    """The gate forwards comparison_options to compare() by name: an option compare() does not take would be lost."""

    @click.command()
    @comparison_options
    def probe(**options):
        pass

    names = {p.name for p in probe.params} - {"reference"}
    values = {name: object() for name in names}
    forwarded = compare_arguments(values, paired=False)
    assert set(forwarded) <= set(inspect.signature(compare).parameters)
    assert len(forwarded) == len(names), names - set(values)
    assert forwarded["seed"] is values["bootstrap_seed"]


def _entry_point():
    """The installed ``relabel`` script beside this interpreter, else the console-script entry point it declares."""
    script = shutil.which("relabel", path=str(Path(sys.executable).parent))
    if script:
        return [script]
    return [sys.executable, "-c", "import sys; from importlib.metadata import entry_points; "
            "(ep,) = entry_points(group='console_scripts', name='relabel'); sys.exit(ep.load()())"]


def test_the_installed_command_exits_with_the_verdict(planted, tmp_path):
    manifest = planted[0]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def run(*args):
        return subprocess.run([*_entry_point(), "check", *map(str, args)], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=300)

    failed = run("--manifest", manifest, "--reference", "s050", "--n-bootstrap", "200")
    assert failed.returncode == DEGRADED, failed.stderr
    assert json.loads(failed.stdout)["status"] == "fail" and failed.stdout.count("\n") == 1
    assert "FAIL: 1 class degraded" in failed.stderr
    passed = run("--manifest", manifest, "--reference", "s050", "--candidate", "s020", "--n-bootstrap", "200")
    assert passed.returncode == PASSED, passed.stderr
    assert json.loads(passed.stdout)["status"] == "pass"
    broken = run("--manifest", tmp_path / "none.yaml", "--reference", "s050")
    assert broken.returncode == UNDECIDED and broken.stdout == ""
    assert "Error: Invalid value for '--manifest'" in broken.stderr


# --------------------------------------------------------------------------------------------
# --self-check [N]: the A/A self-check of the reference group before the verdict

SELF_CHECK = ("--self-check", "20", "--self-check-bootstrap", "50", "--n-bootstrap", "200")


@pytest.fixture(scope="module")
def null_design(tmp_path_factory):
    """Two recipes of 4 seeds each that do not differ: 4 classes of 1,000 images, 6 of 30."""
    shaped = single_labels([1000] * 4 + [30] * 6)
    runs = simulate(shaped, {"a": (None, 4, {}), "b": (None, 4, {})}, jitter=0.05)
    return write_files(tmp_path_factory.mktemp("null"), shaped, runs), shaped, runs


@pytest.fixture(scope="module")
def tiny_design(tmp_path_factory):
    """Group a's four runs are two recipes (tests/shaped.py mixed_group: cat at 80% in two, 20% in the other two),
    group b is four runs of the first: a's A/A self-check truly fails, and b does not degrade any class."""
    shaped = single_labels([50] * 10)
    runs = mixed_group(shaped) + simulate(shaped, {"b": (None, 4, {})}, seed=5)
    return write_files(tmp_path_factory.mktemp("tiny"), shaped, runs), shaped, runs


def test_a_null_design_passes_the_self_check_and_the_line_reports_it(null_design):
    manifest = null_design[0]
    result = _invoke("check", "--manifest", manifest, "--reference", "a", *SELF_CHECK)
    assert result.exit_code == PASSED, result.output
    summary = _line(result)
    assert summary["status"] == "pass" and summary["reason"] is None
    check = summary["self_check"]
    assert (check["group"], check["split"], check["n_splits"], check["n_bootstrap"]) == ("a", "seeds", 20, 50)
    assert check["calibrated"] is True and check["source"] is None
    assert check["rate"] <= 0.05 and check["false_affected_rate"] <= check["rate"]
    assert check["rate_error"] == pytest.approx(np.sqrt(check["rate"] * (1 - check["rate"]) / 20))
    assert "  self-check (A/A): " in result.stderr and "of 20 splits of group 'a' (halves of its seeds" in result.stderr
    assert "within --fdr 0.05" in result.stderr
    without = _invoke("check", "--manifest", manifest, "--reference", "a", "--n-bootstrap", "200")
    assert _line(without)["self_check"] is None and "self-check" not in without.stderr


def test_a_self_check_above_the_fdr_makes_the_gate_undecided(tiny_design):
    """The tiny design truly fails the A/A check (the library's own self_check says so): exit 2, not a pass."""
    manifest, shaped, runs = tiny_design
    result = _invoke("check", "--manifest", manifest, "--reference", "a", *SELF_CHECK)
    assert result.exit_code == UNDECIDED == 2, result.output
    summary = _line(result)  # unlike a broken input, the line is printed: the reason is in it
    assert summary["status"] == "undecided" and summary["groups"][0]["status"] == "pass"
    check = summary["self_check"]
    assert check["calibrated"] is False and check["rate"] > 0.05 + 2 * check["rate_error"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluations = [evaluate(pair(run, shaped.annotations)) for run in runs]
    direct = self_check(evaluations, group="a", n_splits=20, n_bootstrap=50, metric="original")
    assert check["rate"] == direct.rate and not direct.calibrated
    assert check["false_affected_rate"] == float((direct.splits["n_false_affected"] > 0).mean())
    assert summary["reason"].startswith("the A/A self-check of group 'a' flagged a class that cannot differ in ")
    assert "so its verdict (pass) cannot be trusted" in summary["reason"]
    assert result.stderr.splitlines()[-1] == f"UNDECIDED (exit 2): {summary['reason']}"
    assert "UNDECIDED: the A/A self-check is above the FDR; the rule says pass" in result.stderr.splitlines()[0]
    quiet = _invoke("check", "-q", "--manifest", manifest, "--reference", "a", *SELF_CHECK)
    assert quiet.exit_code == UNDECIDED and quiet.stdout == ""


def test_a_results_folder_reuses_its_self_check(null_design, tiny_design, tmp_path):
    manifest = null_design[0]
    out = tmp_path / "results"
    assert _invoke("evaluate", "--manifest", manifest, "--reference", "a", "--hierarchy", "none", *SELF_CHECK,
                   "--out", out).exit_code == 0
    recomputed = _line(_invoke("check", "--manifest", manifest, "--reference", "a", *SELF_CHECK))
    # N, given or not, does not recompute anything: the folder's 20 splits are the ones reported
    for extra in ([], ["500"]):
        from_folder = _invoke("check", out, "--self-check", *extra)
        assert from_folder.exit_code == PASSED, from_folder.output
        line = _line(from_folder)
        assert line["self_check"].pop("source") == str(out / "self_check.csv")
        assert line["self_check"] == {k: v for k, v in recomputed["self_check"].items() if k != "source"}
        assert f"(reused from {out / 'self_check.csv'}, not recomputed)" in from_folder.stderr
    # an undecided self-check written by evaluate makes the folder's gate undecided too
    tiny_out = tmp_path / "tiny"
    assert _invoke("evaluate", "--manifest", tiny_design[0], "--reference", "a", "--hierarchy", "none", *SELF_CHECK,
                   "--out", tiny_out).exit_code == 0
    undecided = _invoke("check", tiny_out, "--self-check")
    assert undecided.exit_code == UNDECIDED and _line(undecided)["status"] == "undecided"


def test_a_results_folder_self_check_errors(null_design, tmp_path):
    manifest = null_design[0]
    bare = tmp_path / "bare"
    assert _invoke("evaluate", "--manifest", manifest, "--reference", "a", "--n-bootstrap", "200",
                   "--out", bare).exit_code == 0
    assert _one_error_line(_invoke("check", bare, "--self-check")) == (
        f"Error: results folder {bare} has no self_check.csv, and a results folder has no runs to split: write one "
        f"with relabel evaluate ... --reference GROUP --self-check [N] --out {bare}, or give relabel check the run "
        f"files (or --manifest) to compute it now")
    out = tmp_path / "results"
    assert _invoke("evaluate", "--manifest", manifest, "--reference", "a", *SELF_CHECK, "--out", out).exit_code == 0
    # its self-check tested the folder's rule, not a re-thresholded one
    other = _one_error_line(_invoke("check", out, "--self-check", "--min-drop", "2"))
    assert other.startswith(f"Error: results folder {out}: its self-check (self_check_params.json) cannot vouch for "
                            f"this gate: the self-check tested another rule than the gate's: min_drop 0.05 (the "
                            f"gate's: 0.02)")
    assert "fdr_method 'by' (the gate's: 'bh')" not in other
    by = _one_error_line(_invoke("check", out, "--self-check", "--fdr-method", "by"))
    assert "fdr_method 'bh' (the gate's: 'by')" in by
    refused = _one_error_line(_invoke("check", out, "--self-check", "--self-check-bootstrap", "60"))
    assert "is a finished comparison" in refused and "--self-check-bootstrap applies" in refused
    params_file = out / "self_check_params.json"
    damaged = json.loads(params_file.read_text())
    del damaged["params"]["fdr"]
    params_file.write_text(json.dumps(damaged))
    assert _one_error_line(_invoke("check", out, "--self-check")) == (
        f"Error: results folder {out}: self_check_params.json has no fdr under 'params' (a damaged or hand-made "
        f"file); write it again with relabel evaluate --self-check")


def test_self_check_input_errors_name_the_option_and_the_value(null_design, tiny_design, tmp_path):
    manifest = null_design[0]
    base = ("check", "--manifest", manifest, "--reference", "a", "--n-bootstrap", "200")
    assert "Invalid value for '--self-check': 0 is not in the range x>=1: N is the number of A/A splits" in (
        _one_error_line(_invoke(*base, "--self-check", "0")))
    assert ("Invalid value for '--self-check': expected the number of A/A splits N, a whole number of at least 1 "
            "(--self-check alone: 100); got 'many'") in _one_error_line(_invoke(*base, "--self-check", "many"))
    folder = _one_error_line(_invoke("check", "--self-check", manifest.parent))
    assert f"got {str(manifest.parent)!r} (a file or folder right after --self-check is read as N" in folder
    assert _one_error_line(_invoke(*base, "--self-check-bootstrap", "60")) == (
        "Error: --self-check-bootstrap 60 sets the draws of the A/A self-check: give --self-check [N] too, or drop it")
    assert "Invalid value for '--self-check-bootstrap': 10 is not in the range x>=50" in _one_error_line(
        _invoke(*base, "--self-check", "--self-check-bootstrap", "10"))
    assert "reference group 'zz' does not exist; groups are ['a', 'b']" in _one_error_line(
        _invoke("check", "--manifest", manifest, "--reference", "zz", "--self-check"))
    shaped, runs = null_design[1], null_design[2]
    one = write_files(tmp_path / "one", shaped, [r for r in runs if r.meta.group == "a"])
    assert "a comparison needs at least two groups; all 4 runs are in group 'a'" in _one_error_line(
        _invoke("check", "--manifest", one, "--reference", "a", "--self-check"))
    tiny = single_labels([1, 1, 1], ("x", "y", "z"))
    halves = write_files(tmp_path / "halves", tiny, simulate(tiny, {"a": (None, 1, {}), "b": (None, 1, {})}))
    assert _one_error_line(_invoke("check", "--manifest", halves, "--reference", "a", "--allow-chance",
                                   "--self-check", "5")) == (
        "Error: self-check: group 'a' has 1 run and no class with two images to split into halves, so no A/A split "
        "is possible (give at least two seeds per group, or images per class) (--self-check 5)")
