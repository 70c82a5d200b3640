"""Comparing groups of runs class by class."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import make_run

from relabel import (Annotations, ComparisonError, LabelSpace, RelabelWarning, compare, evaluate, pair,
                     simulate_runs)


def _ev(annotations, top1, name, group, seed=0, strength=None, images=None):
    images = images or [f"img{i}.jpg" for i in range(len(top1))]
    return evaluate(pair(make_run(images, top1, name, group, seed, strength), annotations))


@pytest.fixture
def office_groups(office_annotations):
    """Reference gets everything right; 'strong' predicts notebook for both laptop images (2 seeds each).

    Under original labels laptop drops 100 points; under multi-labels only img1 (set {laptop}) is
    wrong, so laptop drops 50 points there. Notebook, desk and monitor do not change.
    """
    right = [0, 0, 1, 1, 2, 2, 3, 3]
    shifted = [1, 1, 1, 1, 2, 2, 3, 3]
    return [
        _ev(office_annotations, right, "ref0", "weak", 0, 0.5),
        _ev(office_annotations, right, "ref1", "weak", 1, 0.5),
        _ev(office_annotations, shifted, "str0", "strong", 0, 0.08),
        _ev(office_annotations, shifted, "str1", "strong", 1, 0.08),
    ]


def test_delta_flows_and_curves_by_hand(office_groups):
    comparison = compare(office_groups, reference="weak", metric="original", n_bootstrap=200)
    pc = comparison.per_class.set_index("class_name")
    assert pc.loc["laptop", "delta_original"] == -1.0
    assert pc.loc["laptop", "delta_multilabel"] == -0.5
    assert pc.loc[["notebook", "desk", "monitor"], "delta_original"].tolist() == [0.0, 0.0, 0.0]
    assert pc.loc["laptop", "acc_original_reference"] == 1.0 and pc.loc["laptop", "acc_original"] == 0.0
    assert (pc["group"] == "strong").all()
    flows = comparison.flows
    laptop_flow = flows[flows["class_index"] == 0].iloc[0]
    assert laptop_flow["partner_index"] == 1 and laptop_flow["share_delta"] == 1.0
    assert laptop_flow["count_reference"] == 0 and laptop_flow["count_treatment"] == 2
    assert laptop_flow["reverse_share_delta"] == 0.0
    assert laptop_flow["pair_acc_reference"] == 1.0 and laptop_flow["pair_acc_treatment"] == 1.0
    best = compare(office_groups, reference="weak", n_bootstrap=200).best_strength.set_index("class_index")["best_strength"]
    assert best[0] == 0.5  # laptop is best with the weak crop
    curves = comparison.curves
    assert curves[curves["class_index"] == 0]["strength"].tolist() == [0.08, 0.5]
    assert comparison.params["metric"] == "original" and comparison.params["reference"] == "weak"
    summary = comparison.summary.iloc[0]
    # mean class accuracy: weak 1.0; strong (0 + 1 + 1 + 1) / 4 under original labels, (0.5 + 1 + 1 + 1) / 4 multi
    assert summary["group"] == "strong"
    assert summary["mean_delta_original"] == -0.25 and summary["mean_delta_multilabel"] == -0.125
    assert (summary["n_affected"], summary["n_affected_original"]) == (1, 1)
    assert comparison.affected["class_name"].tolist() == ["laptop"]


def _laptop_only_fixture(n):
    """n laptop images each valid as notebook too, n notebook images; strong predicts notebook for laptop."""
    space = LabelSpace.from_names(["laptop", "notebook", "desk"])
    images = [f"l{i}.jpg" for i in range(n)] + [f"n{i}.jpg" for i in range(n)] + [f"d{i}.jpg" for i in range(n)]
    original = [0] * n + [1] * n + [2] * n
    sets = [[0, 1]] * n + [[1]] * n + [[2]] * n
    ann = Annotations.from_lists(images, original, sets, label_space=space)
    right = original
    shifted = [1] * n + [1] * n + [2] * n
    evs = [_ev(ann, right, f"r{s}", "weak", s, images=images) for s in range(2)]
    evs += [_ev(ann, shifted, f"s{s}", "strong", s, images=images) for s in range(2)]
    return evs


def test_explained_by_multilabels():
    comparison = compare(_laptop_only_fixture(30), reference="weak")
    laptop = comparison.per_class.set_index("class_name").loc["laptop"]
    assert laptop["affected_original"] and not laptop["affected_multilabel"]
    assert laptop["explained_by_multilabels"]
    assert not laptop["affected"]  # the default metric is multilabel
    by_original = compare(_laptop_only_fixture(30), reference="weak", metric="original")
    assert by_original.affected["class_name"].tolist() == ["laptop"]


def test_simulated_demo_finds_the_planted_real_drops_and_nothing_else(real_annotations):
    simulated = simulate_runs(real_annotations, seed=0)
    evs = [evaluate(pair(run, real_annotations)) for run in simulated.runs]
    comparison = compare(evs, reference=simulated.reference_group)
    planted = simulated.planted
    real = set(planted.loc[~planted["label_artefact"], "class_index"])
    assert set(comparison.affected["class_index"]) == real
    artefacts = set(planted.loc[planted["label_artefact"], "class_index"])
    explained = set(comparison.per_class.loc[comparison.per_class["explained_by_multilabels"], "class_index"])
    assert artefacts <= explained
    top_partner = comparison.flows[comparison.flows["rank"] == 1].set_index("class_index")["partner_index"]
    expected_partner = planted.set_index("class_index")["partner_index"]
    for c in real:
        assert top_partner[c] == expected_partner[c]


def test_without_multilabels_only_original_metrics(office_space):
    images = [f"i{i}" for i in range(40)]
    ann = Annotations.from_lists(images, [0] * 20 + [1] * 20, None, label_space=office_space)
    evs = [_ev(ann, [0] * 20 + [1] * 20, "r", "weak", images=images),
           _ev(ann, [1] * 20 + [1] * 20, "s", "strong", images=images)]
    with pytest.warns(RelabelWarning, match="single run"):
        comparison = compare(evs, reference="weak")
    assert comparison.params["metric"] == "original"
    assert "multi-label re-scoring was not possible" in " ".join(comparison.notes)
    assert "delta_multilabel" not in comparison.per_class
    assert comparison.affected["class_index"].tolist() == [0]
    with pytest.raises(ComparisonError, match="metric 'multilabel' needs annotations with multi-label sets"):
        compare(evs, reference="weak", metric="multilabel")


def test_reproducible(office_groups):
    a = compare(office_groups, reference="weak", seed=3, n_bootstrap=300)
    b = compare(office_groups, reference="weak", seed=3, n_bootstrap=300)
    pd.testing.assert_frame_equal(a.per_class, b.per_class)


def test_same_result_on_any_number_of_threads(real_annotations):
    """ImageNet scale, so that the draws are split into several blocks."""
    simulated = simulate_runs(real_annotations, seed=1)
    evs = [evaluate(pair(run, real_annotations)) for run in simulated.runs]
    one = compare(evs, reference=simulated.reference_group, n_bootstrap=300, n_jobs=1)
    four = compare(evs, reference=simulated.reference_group, n_bootstrap=300, n_jobs=4)
    pd.testing.assert_frame_equal(one.per_class, four.per_class)
    pd.testing.assert_frame_equal(one.flows, four.flows)


def test_any_number_of_groups(office_annotations, office_groups):
    third = _ev(office_annotations, [0, 0, 1, 1, 2, 2, 2, 2], "mid0", "mid", 0, 0.2)
    with pytest.warns(RelabelWarning, match=r"groups \['mid'\] have a single run"):
        comparison = compare([*office_groups, third], reference="weak", n_bootstrap=200)
    assert set(comparison.per_class["group"]) == {"strong", "mid"}
    assert comparison.curves["strength"].drop_duplicates().tolist() == [0.08, 0.2, 0.5]


def test_errors(office_annotations, office_groups, office_space):
    with pytest.raises(ComparisonError, match=r"reference group 'none' does not exist; groups are \['strong', 'weak'\]"):
        compare(office_groups, reference="none")
    with pytest.raises(ComparisonError, match="at least two groups"):
        compare(office_groups[:2], reference="weak")
    partial = _ev(office_annotations, [0, 0, 1], "part", "strong", images=["img0.jpg", "img1.jpg", "img2.jpg"])
    with pytest.raises(ComparisonError, match="must cover the same images.*'part'.*covers 3 images"):
        compare([*office_groups[:2], partial], reference="weak")
    other_space = LabelSpace.from_names(["a", "b", "c", "d"])
    ann = Annotations.from_lists([f"img{i}.jpg" for i in range(8)], [0, 0, 1, 1, 2, 2, 3, 3], None,
                                 label_space=other_space)
    with pytest.raises(ComparisonError, match="different label spaces"):
        compare([*office_groups[:2], _ev(ann, [0] * 8, "x", "strong")], reference="weak")
    no_group = _ev(office_annotations, [0] * 8, "loose", None)
    with pytest.raises(ComparisonError, match="every run needs a group.*'loose'"):
        compare([*office_groups, no_group], reference="weak")
    with pytest.raises(ComparisonError, match=r"unknown metric 'top5'; expected one of \['multilabel', 'original'\]"):
        compare(office_groups, reference="weak", metric="top5")


def test_bootstrap_settings_are_checked(office_groups):
    with pytest.raises(ComparisonError, match=r"got n_bootstrap=1000, confidence=95, n_jobs=None"):
        compare(office_groups, reference="weak", confidence=95)
    with pytest.raises(ComparisonError, match=r"n_jobs >= 1 .*got n_bootstrap=1000, confidence=0.95, n_jobs=0"):
        compare(office_groups, reference="weak", n_jobs=0)


def test_a_single_run_cannot_be_compared(office_groups):
    with pytest.raises(ComparisonError, match="at least two groups; all 1 runs are in group 'weak'"):
        compare(office_groups[:1], reference="weak")


def test_runs_of_one_group_on_different_image_sets(office_annotations, office_groups):
    partial = _ev(office_annotations, [0, 0, 1, 1], "ref-part", "weak", 2,
                  images=["img0.jpg", "img1.jpg", "img2.jpg", "img3.jpg"])
    with pytest.raises(ComparisonError, match="'ref-part' \\(group 'weak'\\) covers 4 images"):
        compare([*office_groups, partial], reference="weak")
