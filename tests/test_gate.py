"""relabel.gate: the degraded rule on hand-built comparisons, and agreement with compare() on simulated runs."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from shaped import mixed_group, simulate, single_labels

from relabel import Comparison, ComparisonError, LabelSpace, compare, evaluate, gate, pair, self_check
from relabel.gate import SCHEMA

NAMES = ["laptop", "notebook", "desk", "monitor"]


def _comparison(rows, *, params=None, multilabel=False):
    """A comparison of group "b" (and "c") against "a" holding only what the gate reads."""
    frame = pd.DataFrame(rows, columns=["group", "class_index", "delta", "q_value", "detectable_drop"])
    frame["class_key"] = [NAMES[i] for i in frame["class_index"]]
    frame["class_name"] = frame["class_key"]
    frame["n_images"] = frame["class_index"].map({0: 50, 1: 50, 2: 30, 3: 1000})
    for m in ("original", "multilabel") if multilabel else ("original",):
        frame[f"delta_{m}"] = frame["delta"] if m == "original" else frame["delta"] / 2
        frame[f"ci_low_{m}"] = frame[f"delta_{m}"] - 0.01
        frame[f"ci_high_{m}"] = frame[f"delta_{m}"] + 0.01
        frame[f"q_value_{m}"] = frame["q_value"]
    frame = frame.drop(columns=["delta", "q_value"])
    settings = {"reference": "a", "metric": "original", "min_drop": 0.05, "fdr": 0.05, "n_bootstrap": 1000, "seed": 0,
                "paired": False, **(params or {})}
    empty = pd.DataFrame()
    return Comparison(LabelSpace.from_names(NAMES), empty, frame, empty, empty, empty, empty, settings)


def test_the_rule_is_drop_at_least_min_drop_and_q_at_most_fdr_on_its_boundaries():
    comparison = _comparison([
        ("b", 0, -0.05, 0.05, 0.06),    # exactly on both thresholds: degraded
        ("b", 1, -0.049, 0.001, 0.06),  # too small a drop
        ("b", 2, -0.30, 0.051, 0.20),   # large, not significant (a 30-image class)
        ("b", 3, np.nan, np.nan, np.nan),  # no images
    ])
    verdict = gate(comparison)
    assert not verdict.passed
    assert verdict.degraded["class_name"].tolist() == ["laptop"]
    # degraded first; then the largest drops; a class without a delta last
    assert verdict.classes["class_name"].tolist() == ["laptop", "desk", "notebook", "monitor"]
    (row,) = verdict.groups.itertuples(index=False)
    assert (row.group, row.n_classes, row.n_affected, row.worst_delta) == ("b", 3, 1, -0.30)
    assert row.median_detectable_drop == pytest.approx(0.06)  # median over the classes with a figure


def test_other_thresholds_reapply_the_rule_and_drop_the_detectable_drop():
    comparison = _comparison([("b", 0, -0.05, 0.05, 0.06), ("b", 1, -0.03, 0.001, 0.06), ("b", 2, -0.30, 0.051, 0.2)])
    assert gate(comparison, min_drop=0.02).degraded["class_name"].tolist() == ["laptop", "notebook"]
    assert gate(comparison, min_drop=0.02, fdr=0.01).degraded["class_name"].tolist() == ["notebook"]
    assert gate(comparison, fdr=0.1).degraded["class_name"].tolist() == ["desk", "laptop"]
    assert gate(comparison, fdr=0.04).passed
    assert np.isnan(gate(comparison, fdr=0.04).groups["median_detectable_drop"].iloc[0])
    assert gate(comparison, min_drop=0.05, fdr=0.05).groups["median_detectable_drop"].iloc[0] == pytest.approx(0.06)


def test_the_metric_picks_its_columns():
    rows = [("b", 0, -0.10, 0.01, 0.06), ("b", 1, 0.0, 1.0, 0.06)]
    assert not gate(_comparison(rows, multilabel=True)).passed
    on_multilabels = gate(_comparison(rows, multilabel=True), metric="multilabel")  # -0.05: degraded on the boundary
    assert on_multilabels.degraded["delta"].tolist() == [-0.05] and on_multilabels.params["metric"] == "multilabel"
    with pytest.raises(ComparisonError, match="no multilabel columns"):
        gate(_comparison(rows), metric="multilabel")
    with pytest.raises(ComparisonError, match="unknown metric 'top1'"):
        gate(_comparison(rows), metric="top1")


def test_candidates_and_settings_are_checked():
    comparison = _comparison([("b", 0, -0.10, 0.01, 0.06), ("c", 0, 0.0, 1.0, 0.06)])
    assert gate(comparison).groups["group"].tolist() == ["b", "c"]
    assert gate(comparison, groups=["c"]).passed and not gate(comparison, groups=["b"]).passed
    with pytest.raises(ComparisonError, match=r"unknown candidate groups 'x', 'y'; the comparison's groups are \['b', 'c'\]"):
        gate(comparison, groups=["x", "y"])
    with pytest.raises(ComparisonError, match="'a' is the reference group"):
        gate(comparison, groups=["a"])
    for bad in ({"min_drop": 5}, {"fdr": 0.0}, {"fdr": 1.0}):
        with pytest.raises(ComparisonError, match="strictly between 0 and 1"):
            gate(comparison, **bad)


def test_the_line_is_strict_json_with_the_documented_keys():
    comparison = _comparison([("b", 0, -0.10, 0.01, np.nan), ("b", 3, np.nan, np.nan, np.nan)],
                             params={"fdr_method": "by"})
    line = gate(comparison).to_dict(top=1, results="results/")
    json.dumps(line, allow_nan=False)
    assert line["schema"] == SCHEMA == "relabel.check/1" and line["status"] == "fail" and line["results"] == "results/"
    assert line["thresholds"] == {"metric": "original", "min_drop": 0.05, "fdr": 0.05, "fdr_method": "by"}
    (group,) = line["groups"]
    assert group["median_detectable_drop"] is None and len(group["worst"]) == 1
    assert group["worst"][0] == {"class_index": 0, "class_key": "laptop", "class_name": "laptop", "n_images": 50,
                                 "delta": -0.10, "ci_low": pytest.approx(-0.11), "ci_high": pytest.approx(-0.09),
                                 "q_value": 0.01, "affected": True}
    assert "fdr_method" not in gate(_comparison([("b", 0, 0.0, 1.0, 0.1)])).to_dict()["thresholds"]


@pytest.mark.parametrize("seeds", [1, 2])
def test_the_gate_agrees_with_compare_at_any_threshold(seeds):
    """Re-thresholding a comparison gives the affected classes of a comparison computed with those thresholds."""
    planted = {"cat": 0.77, "dog": 0.70, "frog": 0.5}  # frog: the 30-image class
    names = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog")
    shaped = single_labels([1000, 1000, 1000, 1000, 30, 1000, 30], names)
    runs = simulate(shaped, {"a": (0.5, seeds, {}), "b": (0.08, seeds, planted)})
    evaluations = [evaluate(pair(run, shaped.annotations)) for run in runs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # single-seed groups warn
        base = compare(evaluations, reference="a", n_bootstrap=300)
        for min_drop, fdr in ((0.05, 0.05), (0.02, 0.05), (0.02, 1e-6), (0.25, 0.2)):
            direct = compare(evaluations, reference="a", n_bootstrap=300, min_drop=min_drop, fdr=fdr)
            expected = sorted(direct.per_class.loc[direct.per_class["affected"], "class_name"])
            assert sorted(gate(base, min_drop=min_drop, fdr=fdr).degraded["class_name"]) == expected
            assert sorted(gate(direct).degraded["class_name"]) == expected
    assert sorted(gate(base).degraded["class_name"]) == ["dog", "frog"]
    assert sorted(gate(base, min_drop=0.02).degraded["class_name"]) == ["cat", "dog", "frog"]


def _tiny_self_check(**settings):
    """A real A/A self-check of group "a" that fails: its four runs are two recipes (tests/shaped.py mixed_group)."""
    shaped = single_labels([50] * 10)
    evaluations = [evaluate(pair(run, shaped.annotations)) for run in mixed_group(shaped)]
    return self_check(evaluations, group="a", n_splits=20, n_bootstrap=50, **settings)


def test_an_uncalibrated_self_check_makes_pass_and_fail_undecided():
    check = _tiny_self_check()
    assert not check.calibrated
    failing = _comparison([("b", 0, -0.10, 0.01, 0.06), ("b", 1, 0.0, 1.0, 0.06)])
    passing = _comparison([("b", 0, 0.0, 1.0, 0.06)])
    for comparison, rule in ((failing, "fail, 1 class degraded"), (passing, "pass")):
        verdict = gate(comparison, self_check=check)
        assert verdict.passed is (rule == "pass") and not verdict.decided and verdict.status == "undecided"
        line = verdict.to_dict(self_check_source="results/self_check.csv")
        json.dumps(line, allow_nan=False)
        assert line["status"] == "undecided" and f"so its verdict ({rule}) cannot be trusted" in line["reason"]
        assert line["self_check"]["calibrated"] is False and line["self_check"]["source"] == "results/self_check.csv"
        assert line["self_check"]["rate"] == check.rate
    plain = gate(failing)
    assert plain.decided and plain.status == "fail" and plain.reason is None and plain.to_dict()["self_check"] is None


def test_a_self_check_of_another_rule_or_group_is_refused():
    comparison = _comparison([("b", 0, 0.0, 1.0, 0.06)])
    with pytest.raises(ComparisonError, match=r"another rule than the gate's: fdr 0\.1 \(the gate's: 0\.05\)"):
        gate(comparison, self_check=_tiny_self_check(fdr=0.1))
    with pytest.raises(ComparisonError, match=r"fdr_method 'by' \(the gate's: 'bh'\)"):
        gate(comparison, self_check=_tiny_self_check(fdr_method="by"))
    by = _comparison([("b", 0, 0.0, 1.0, 0.06)], params={"fdr_method": "by"})
    assert gate(by, self_check=_tiny_self_check(fdr_method="by")).status == "undecided"
    moved = _comparison([("c", 0, 0.0, 1.0, 0.06)], params={"reference": "b"})
    with pytest.raises(ComparisonError, match=r"group 'a' \(the gate's: 'b'\)"):
        gate(moved, self_check=_tiny_self_check())
