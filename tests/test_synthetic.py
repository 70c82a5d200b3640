"""The simulated demo generator: deterministic, planted shifts where planted and nowhere else."""

from __future__ import annotations

import numpy as np
import pytest

from relabel import InputError, evaluate, pair, simulate_runs
from relabel.synthetic import PlantedPair


@pytest.fixture(scope="module")
def simulated(real_annotations):
    return simulate_runs(real_annotations, seed=0)


def _mean_accuracy(simulated, annotations, group):
    evs = [evaluate(pair(r, annotations)) for r in simulated.runs if r.meta.group == group]
    return np.mean([ev.per_class["acc_original"].to_numpy() for ev in evs], axis=0)


def test_groups_seeds_and_metadata(simulated):
    groups = [(r.meta.group, r.meta.strength, r.meta.seed) for r in simulated.runs]
    assert groups == [("rrc-0.5", 0.5, s) for s in range(3)] + [("rrc-0.08", 0.08, s) for s in range(3)]
    assert simulated.reference_group == "rrc-0.5" and simulated.treatment_group == "rrc-0.08"
    assert set(simulated.planted["category"]) == {"ambiguous", "co-occurring", "fine-grained"}
    assert all(r.topk_ids.shape == (50000, 5) for r in simulated.runs)
    assert all((np.diff(r.topk_scores, axis=1) <= 0).all() for r in simulated.runs)


def test_deterministic(real_annotations, simulated):
    again = simulate_runs(real_annotations, seed=0)
    for a, b in zip(simulated.runs, again.runs):
        np.testing.assert_array_equal(a.topk_ids, b.topk_ids)
    other = simulate_runs(real_annotations, seed=1)
    assert not np.array_equal(simulated.runs[0].topk_ids, other.runs[0].topk_ids)


def test_planted_classes_drop_and_others_do_not(real_annotations, simulated):
    reference = _mean_accuracy(simulated, real_annotations, "rrc-0.5")
    treatment = _mean_accuracy(simulated, real_annotations, "rrc-0.08")
    delta = treatment - reference
    lost = simulated.planted["class_index"].to_numpy()
    absorbing = simulated.planted["partner_index"].to_numpy()
    assert (delta[lost] < -0.1).all()
    assert (delta[absorbing] > 0).all()
    others = np.setdiff1d(np.arange(1000), np.concatenate([lost, absorbing]))
    assert delta[others].mean() == pytest.approx(0.01, abs=0.005)  # the treatment's small gain
    assert (delta[others] > -0.08).all()


def test_predictions_move_into_the_partner(real_annotations, simulated):
    lost, partner = simulated.planted.loc[0, ["class_index", "partner_index"]]
    ref, treat = simulated.runs[0], simulated.runs[3]
    of_lost = real_annotations.original == lost
    assert (treat.top1[of_lost] == partner).mean() > (ref.top1[of_lost] == partner).mean() + 0.15


def test_custom_label_space_needs_planted_pairs(office_annotations):
    with pytest.raises(InputError, match="give planted pairs"):
        simulate_runs(office_annotations)
    sim = simulate_runs(office_annotations, planted=(PlantedPair("laptop", "notebook", "ambiguous"),), topk=2)
    assert sim.planted["class_index"].tolist() == [0]


def test_a_class_in_two_planted_pairs_is_refused(office_annotations):
    pairs = (PlantedPair("laptop", "notebook", "ambiguous"), PlantedPair("desk", "laptop", "co-occurring"))
    with pytest.raises(InputError, match="one planted pair only"):
        simulate_runs(office_annotations, planted=pairs)
