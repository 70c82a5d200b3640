"""`relabel plan` and the power line of `relabel evaluate`, through the CLI on files (1,000- and 30-image classes)."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from relabel.cli.main import cli
from shaped import simulate, single_labels, write_files


def _invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """CIFAR-10 shape with a 30-image truck, 2 seeds per recipe, cat 3 points worse; evaluated into a folder."""
    shaped = single_labels([1000] * 9 + [30])
    runs = simulate(shaped, {"s050": (0.5, 2, {}), "s008": (0.08, 2, {"cat": 0.77})}, jitter=0.05)
    folder = tmp_path_factory.mktemp("plan")
    manifest = write_files(folder, shaped, runs)
    out = folder / "results"
    result = _invoke("evaluate", "--manifest", manifest, "--reference", "s050", "--min-drop", "2", "--out", out)
    assert result.exit_code == 0, result.output
    return out, result.output


def test_evaluate_states_what_the_design_can_see(results):
    out, output = results
    assert "cannot be told from noise here (median class" in output
    table = pd.read_parquet(out / "comparison_per_class.parquet").set_index("class_name")
    # the 30-image class needs a far larger drop than the 1,000-image classes
    assert table.loc["truck", "detectable_drop"] > 2 * table.drop(index="truck")["detectable_drop"].max()
    assert (table["detectable_drop"] >= 0.02).all()


def test_plan_prints_and_writes_the_designs(results, tmp_path):
    out, _ = results
    result = _invoke("plan", out, "--seeds", "2,8", "--images", "30,1000", "--class", "cat", "--class", "truck",
                     "--out", tmp_path / "plan.csv")
    assert result.exit_code == 0, result.output
    assert "8 seeds, 1000 images" in result.output
    cat_line = next(line for line in result.output.splitlines() if line.startswith("cat"))
    figures = [float(x) for x in cat_line.split()[1:]]
    assert figures[3] <= figures[1] <= figures[0]  # more images and more seeds: smaller detectable drops
    plan = pd.read_csv(tmp_path / "plan.csv")
    assert set(plan["seeds"]) == {2, 8} and set(plan["images"]) == {30, 1000}
    assert len(plan) == 10 * 4


def test_plan_refuses_unknown_classes_and_folders_without_a_comparison(results, tmp_path):
    out, _ = results
    result = CliRunner().invoke(cli, ["plan", str(out), "--class", "unicorn"])
    assert result.exit_code == 1 and "no class named 'unicorn'" in result.output
    result = CliRunner().invoke(cli, ["plan", str(out), "--seeds", "0,2"])
    assert result.exit_code == 2 and "positive" in result.output
    single = tmp_path / "single"
    shaped = single_labels([50, 50], names=("a", "b"))
    manifest = write_files(tmp_path / "files", shaped, simulate(shaped, {"only": (None, 1, {})}))
    assert _invoke("evaluate", "--manifest", manifest, "--out", single).exit_code == 0
    result = CliRunner().invoke(cli, ["plan", str(single)])
    assert result.exit_code == 1 and "holds no comparison" in result.output


def test_paired_and_shrink_from_the_manifest_and_the_command_line(tmp_path):
    import json

    import yaml

    shaped = single_labels([200, 200, 30], names=("a", "b", "c"))
    runs = simulate(shaped, {"base": (None, 2, {}), "new": (None, 2, {"a": 0.6})}, jitter=0.05)
    manifest = write_files(tmp_path / "files", shaped, runs)
    data = yaml.safe_load(manifest.read_text())
    data["paired"] = True
    manifest.write_text(yaml.safe_dump(data))
    result = _invoke("evaluate", "--manifest", manifest, "--reference", "base", "--shrink", "--out", tmp_path / "r")
    assert result.exit_code == 0, result.output
    params = json.loads((tmp_path / "r" / "comparison_params.json").read_text())
    assert params["paired"] is True and params["shrink"] is True
    assert "delta_shrunk" in pd.read_parquet(tmp_path / "r" / "comparison_per_class.parquet")
    data["paired"] = "yes"
    manifest.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(cli, ["evaluate", "--manifest", str(manifest), "--reference", "base"])
    assert result.exit_code == 1 and "paired: expected true or false" in result.output


def test_report_shows_the_detectable_drop(results, tmp_path):
    out, _ = results
    result = _invoke("report", out, "--out", tmp_path / "page")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "page" / "index.html").read_text()
    assert 'data-key="detectable_drop"' in page and "Drops smaller than ~" in page
    assert "cannot be told from noise here" in (tmp_path / "page" / "summary.md").read_text()


def test_plan_follows_the_folders_fdr_method_and_takes_an_override(tmp_path):
    """A folder written with --fdr-method by is planned under BY: at the folder's own design the plan is the
    comparison's detectable_drop; --fdr-method bh gives smaller drops (a c(m) times larger per-test level)."""
    import json

    shaped = single_labels([1000] * 9 + [30])
    runs = simulate(shaped, {"s050": (0.5, 2, {}), "s008": (0.08, 2, {"cat": 0.77})}, jitter=0.05)
    manifest = write_files(tmp_path / "files", shaped, runs)
    out = tmp_path / "results"
    result = _invoke("evaluate", "--manifest", manifest, "--reference", "s050", "--min-drop", "1", "--fdr-method",
                     "by", "--n-bootstrap", "300", "--out", out)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "comparison_params.json").read_text())["fdr_method"] == "by"
    default = _invoke("plan", out, "--seeds", "2", "--out", tmp_path / "by.csv")
    assert default.exit_code == 0, default.output
    assert "FDR 0.05 with Benjamini-Yekutieli" in default.output
    stored = pd.read_parquet(out / "comparison_per_class.parquet").set_index("class_index")["detectable_drop"]
    by = pd.read_csv(tmp_path / "by.csv").set_index("class_index")["detectable_drop"]
    pd.testing.assert_series_equal(by, stored, check_names=False, rtol=1e-9)
    override = _invoke("plan", out, "--seeds", "2", "--fdr-method", "bh", "--out", tmp_path / "bh.csv")
    assert override.exit_code == 0, override.output
    assert "FDR 0.05 with Benjamini-Hochberg" in override.output
    bh = pd.read_csv(tmp_path / "bh.csv").set_index("class_index")["detectable_drop"]
    assert (bh < by).all()  # every class: z at a c(10) = 2.93 times larger level, above the 1-point floor
    bad = CliRunner().invoke(cli, ["plan", str(out), "--fdr-method", "holm"])
    assert bad.exit_code == 2 and "'holm' is not one of 'bh', 'by'" in bad.output
