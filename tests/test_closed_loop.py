"""``relabel demo closed-loop``: real digits, real CNNs, and the recovery read from relabel's own comparison files.

Runs the command as a user would (three seeds instead of the default five, to keep the test
near a minute and a half on two cores; the logic and every other setting are the default's),
then reads what relabel wrote: the override file's lost classes, and the comparison of the
retrained runs with the strong ones in ``verify/``. The check is also made again through
``relabel evaluate --manifest verify.yaml`` to show the files stand on their own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from relabel.cli.main import cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("closed_loop") / "demo"
    result = CliRunner().invoke(cli, ["demo", "closed-loop", "--out", str(out), "--seeds", "3"],
                                catch_exceptions=False)
    return out, result.output


def test_the_strong_recipe_keeps_the_mean_but_hurts_some_digits(demo: tuple[Path, str]) -> None:
    out, _ = demo
    summary = pd.read_csv(out / "results" / "comparison_summary.csv").set_index("group")
    assert summary.loc["strong", "mean_delta_original"] >= -0.01  # the average does not show the damage
    per_class = pd.read_csv(out / "results" / "comparison_per_class.csv")
    affected = per_class.loc[per_class["affected"], "class_name"].tolist()
    assert "digit 6" in affected  # rotated, a 6 reads as another digit: the rotation is not label-preserving for it
    assert len(affected) <= 5


def test_the_override_switches_the_rotation_off_for_the_hurt_digits_only(demo: tuple[Path, str]) -> None:
    out, _ = demo
    overrides = json.loads((out / "overrides.json").read_text())
    assert overrides["default"]["random_rotation"] == {"degrees": [-180.0, 180.0]}
    per_class = pd.read_csv(out / "results" / "comparison_per_class.csv")
    affected = set(per_class.loc[per_class["affected"], "class_name"])
    lost = {k for o in overrides["overrides"] for k in o["side"]["lost"]}
    assert lost == affected
    assert all(o["transforms"] == {"random_rotation": False} for o in overrides["overrides"])


def test_relabel_verifies_the_recovery(demo: tuple[Path, str]) -> None:
    out, output = demo
    overrides = json.loads((out / "overrides.json").read_text())
    hurt = [o["side"]["lost"][0] for o in overrides["overrides"]]  # largest loss first
    after = pd.read_csv(out / "verify" / "comparison_per_class.csv").set_index("class_name")
    assert set(after["group"]) == {"retrained"}
    assert (after.loc[hurt, "delta_original"] > 0).all(), after.loc[hurt, "delta_original"]
    assert bool(after.loc[hurt[0], "improved"])  # the largest loss recovered significantly (q <= 0.05, >= 5 points)
    summary = pd.read_csv(out / "verify" / "comparison_summary.csv").set_index("group")
    assert summary.loc["retrained", "mean_delta_original"] >= 0  # at no cost to the average
    assert "loop closed: yes" in output
    paid = after.index[after["affected"].astype(bool)].tolist()  # what the retraining costs is said, not hidden
    line = next(x for x in output.splitlines() if x.startswith("affected by the retraining"))
    assert all(name in line for name in paid) and (bool(paid) or line.endswith("none"))
    figures = pd.read_csv(out / "figures.csv", dtype={"class_index": "Int64"}).set_index("class_name")
    assert figures["class_index"].isna().tolist() == [False] * 10 + [True]  # the mean row names no class
    assert figures.loc["mean", "acc_retrained"] >= figures.loc["mean", "acc_strong"]


def test_the_verification_stands_on_its_files(demo: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = demo
    result = CliRunner().invoke(cli, ["evaluate", "--manifest", str(out / "verify.yaml"), "--reference", "strong",
                                      "--hierarchy", "none", "--out", str(tmp_path / "again")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    again = pd.read_csv(tmp_path / "again" / "comparison_per_class.csv")
    written = pd.read_csv(out / "verify" / "comparison_per_class.csv")
    pd.testing.assert_series_equal(again["delta_original"], written["delta_original"])
    pd.testing.assert_series_equal(again["improved"], written["improved"])
