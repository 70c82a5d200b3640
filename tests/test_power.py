"""The detectable drop (relabel.power): its standard error against the bootstrap's, its power against a simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from relabel import Annotations, LabelSpace, Run, RunMeta, compare, evaluate, pair, power
from relabel.errors import ComparisonError
from relabel.stats import bootstrap_deltas


def _chances(rng: np.random.Generator, acc: np.ndarray, true: np.ndarray, kappa: float = 2.0) -> np.ndarray:
    """Per-image chance of being right, Beta-distributed around the class accuracy (most images easy or hard)."""
    a = acc[true] * kappa
    return rng.beta(a, kappa - a)


def _design(rng: np.random.Generator, sizes, acc, *, seeds_reference: int, seeds_treatment: int,
            drop: dict[int, float] | None = None, mix: float = 0.3, seed_sd: float = 0.01):
    """Correctness arrays (runs, images) of two recipes whose per-image chances differ by ``mix`` (and ``drop``)."""
    acc = np.asarray(acc, dtype=np.float64)
    true = np.repeat(np.arange(len(sizes)), sizes)
    p_ref = _chances(rng, acc, true)
    p_treat = (1 - mix) * p_ref + mix * _chances(rng, acc, true)
    for c, d in (drop or {}).items():
        p_treat[true == c] *= 1 - d / acc[c]

    def runs(p: np.ndarray, k: int) -> np.ndarray:
        shift = rng.normal(0, seed_sd, size=(k, len(sizes)))[:, true]
        return (rng.random((k, len(true))) < np.clip(p + shift, 0, 1)).astype(np.float64)

    return runs(p_ref, seeds_reference), runs(p_treat, seeds_treatment), true


def _evaluations(ref: np.ndarray, treat: np.ndarray, true: np.ndarray, n_classes: int):
    space = LabelSpace.from_names([f"class{c}" for c in range(n_classes)], name="sim")
    images = [f"img{i:05d}.png" for i in range(len(true))]
    annotations = Annotations.from_lists(images, true.tolist(), label_space=space, source="sim")
    out = []
    for group, runs in (("reference", ref), ("treatment", treat)):
        for s, right in enumerate(runs):
            pred = np.where(right > 0, true, (true + 1) % n_classes)
            run = Run(RunMeta(f"{group}-{s}", group, None, s), np.array(images), pred[:, None].astype(np.int64),
                      source=f"sim:{group}-{s}")
            out.append(evaluate(pair(run, annotations)))
    return out


@pytest.mark.parametrize("seeds", [(1, 1), (2, 2), (3, 3), (2, 5)])
def test_standard_error_follows_the_bootstrap(seeds):
    """At the design the runs have, the formula's SE is the two-level bootstrap's, within 20%, for 30 to 1000 images."""
    rng = np.random.default_rng(list(seeds))
    sizes = [30, 200, 1000, 50]
    ratios = []
    for _ in range(4):
        ref, treat, true = _design(rng, sizes, [0.8, 0.6, 0.7, 0.9], seeds_reference=seeds[0],
                                   seeds_treatment=seeds[1])
        boot = bootstrap_deltas(ref[None], treat[None], true, len(sizes), n_bootstrap=3000, seed=1)[0]
        components = power.variance_components(ref, treat, true, len(sizes))
        # with alpha = 2 Φ(-1), power 0.5 and no floor, the detectable drop is SE itself
        se = power.detectable_drop(components, np.array(sizes), seeds_reference=seeds[0], seeds_treatment=seeds[1],
                                   alpha=0.31731050786291415, min_drop=1e-12, power=0.5)
        ratios.append(se / boot.std_error)
    ratio = np.mean(ratios, axis=0)
    assert np.all(np.abs(ratio - 1) < 0.2), ratio


def test_a_drop_of_the_detectable_size_is_found_with_the_stated_power():
    """Plant a drop of exactly the stated size in one of 8 classes: compare() finds it in ~80% of simulated studies."""
    sizes, acc, k, fdr, min_drop = [200] * 8, [0.7] * 8, 3, 0.05, 0.02
    rng = np.random.default_rng(7)
    pilots = [power.variance_components(*_design(rng, sizes, acc, seeds_reference=k, seeds_treatment=k), len(sizes))
              for _ in range(20)]
    components = sum(p.iloc[[0]].reset_index(drop=True) for p in pilots) / len(pilots)
    target = float(power.detectable_drop(components, np.array([200]), seeds_reference=k, seeds_treatment=k,
                                         alpha=power.bh_alpha(fdr, len(sizes), 0), min_drop=min_drop)[0])
    assert 0.05 < target < 0.3
    found = []
    for _ in range(120):
        ref, treat, true = _design(rng, sizes, acc, seeds_reference=k, seeds_treatment=k, drop={0: target})
        result = compare(_evaluations(ref, treat, true, len(sizes)), reference="reference", min_drop=min_drop,
                         fdr=fdr, n_bootstrap=400, seed=int(rng.integers(1 << 30)))
        found.append(bool(result.per_class["affected"].iloc[0]))
    rate = np.mean(found)
    # 120 studies: the Monte Carlo standard error of a rate near 0.8 is 0.037
    assert abs(rate - power.POWER) < 0.12, rate


def test_detectable_drop_shrinks_with_seeds_and_images_and_keeps_the_floor():
    rng = np.random.default_rng(3)
    ref, treat, true = _design(rng, [30, 1000, 0], [0.8, 0.8, 0.8], seeds_reference=2, seeds_treatment=2)
    components = power.variance_components(ref, treat, true, 3)
    assert components.iloc[2].isna().all()  # a class without images has no figures
    alpha = power.bh_alpha(0.05, 2, 0)

    def drop(k: int, n: float) -> np.ndarray:
        return power.detectable_drop(components, np.array([n, n, 0]), seeds_reference=k, seeds_treatment=k,
                                     alpha=alpha, min_drop=0.01)

    assert np.isnan(drop(2, 30)[2])
    assert np.all(drop(8, 30)[:2] < drop(2, 30)[:2])
    assert np.all(drop(2, 1000)[:2] < drop(2, 30)[:2])
    assert np.all(drop(50, 10**7)[:2] >= 0.01)  # never below min_drop: the affected rule needs it
    with pytest.raises(ComparisonError, match="at least 1"):
        power.detectable_drop(components, np.array([1, 1, 1]), seeds_reference=0, seeds_treatment=1, alpha=alpha,
                              min_drop=0.01)


def test_one_seed_per_group_covers_image_sampling_only():
    """No seed noise can be estimated from one seed a group: the figure is the image-level one, with no seed terms."""
    rng = np.random.default_rng(5)
    ref, treat, true = _design(rng, [500, 500], [0.7, 0.7], seeds_reference=1, seeds_treatment=1)
    components = power.variance_components(ref, treat, true, 2)
    assert (components[["var_within_reference", "var_within_treatment", "var_seed_reference",
                        "var_seed_treatment"]] == 0).all().all()
    assert (components["var_disagreement"] > 0).all()


def test_bh_alpha_is_the_step_up_threshold_of_the_next_rank():
    assert power.bh_alpha(0.05, 1000, 0) == pytest.approx(0.05 / 1000)
    assert power.bh_alpha(0.05, 1000, 9) == pytest.approx(0.05 * 10 / 1000)
    assert power.bh_alpha(0.05, 10, 10) == pytest.approx(0.05)


def test_cifar_shaped_design_cannot_see_a_three_point_drop():
    """1,000 test images a class, 2 seeds a recipe, a true 3.2-point drop of cat: the table says the design is too weak."""
    acc = np.array([0.95, 0.97, 0.9, 0.8, 0.93, 0.86, 0.95, 0.95, 0.96, 0.96])  # CIFAR-10's, cat fourth
    rng = np.random.default_rng(11)
    ref, treat, true = _design(rng, [1000] * 10, acc, seeds_reference=2, seeds_treatment=2, drop={3: 0.032})
    result = compare(_evaluations(ref, treat, true, 10), reference="reference", min_drop=0.02, fdr=0.05,
                     n_bootstrap=500)
    cat = result.per_class.iloc[3]
    assert cat["detectable_drop"] > 0.032
    assert "cannot be told from noise" in result.power_summary("treatment")
    planned = power.plan(result.per_class, seeds=[2, 8], fdr=0.05, min_drop=0.02, metric="original")
    cat_plan = planned[planned["class_index"] == 3].set_index("seeds")["detectable_drop"]
    assert cat_plan.loc[8] < cat_plan.loc[2]
    assert np.isclose(cat_plan.loc[2], cat["detectable_drop"])


def _planned_table(q_column: list[float]) -> pd.DataFrame:
    """One group, four classes: three of 100 images (equal variance components), one without images."""
    return pd.DataFrame({
        "group": "b", "class_index": [0, 1, 2, 3], "class_name": ["laptop", "notebook", "desk", "monitor"],
        "n_images": [100, 100, 100, 0], "p_value_original": [1e-4, 0.5, 0.9, np.nan],
        "q_value_original": q_column, "var_disagreement": [0.2] * 3 + [np.nan],
        "var_within_reference": [0.1] * 3 + [np.nan], "var_within_treatment": [0.1] * 3 + [np.nan],
        "var_seed_reference": [0.001] * 3 + [np.nan], "var_seed_treatment": [0.001] * 3 + [np.nan]})


def test_plan_under_by_uses_the_by_critical_p_and_needs_a_larger_drop():
    """By hand: m = 3 classes with images, R = 1 found, 2 seeds a group, 100 images a class.

    SE² = (τ² + W_R/k + W_T/k)/n + f(k)(σ_R² + W_R/n) + f(k)(σ_T² + W_T/n) with f(2) = 1/4:
    (0.2 + 0.05 + 0.05)/100 + 2 · 0.25 · (0.001 + 0.001) = 0.004. Critical p: BH q (R + 1)/m
    = 0.05 · 2/3; BY the same divided by c(3) = 1 + 1/2 + 1/3 = 11/6. D* = (t₁₋α/₂,₉₉ + z₀.₈) SE
    (above min_drop = 0.01; Student's t with n - 1 = 99 degrees of freedom, as the test's p-value).
    """
    from statistics import NormalDist

    from scipy import stats

    z = NormalDist().inv_cdf
    se = np.sqrt(0.004)
    alpha_bh = 0.05 * 2 / 3
    alpha_by = alpha_bh / (11 / 6)
    expected_bh = (stats.t.isf(alpha_bh / 2, 99) + z(0.8)) * se
    expected_by = (stats.t.isf(alpha_by / 2, 99) + z(0.8)) * se
    assert power.bh_alpha(0.05, 3, 1, "by") == pytest.approx(alpha_by, rel=1e-12)
    settings = {"seeds": [2], "fdr": 0.05, "min_drop": 0.01, "metric": "original"}
    bh = power.plan(_planned_table([3e-4, 0.75, 0.9, np.nan]), **settings)
    by = power.plan(_planned_table([5.5e-4, 1.0, 1.0, np.nan]), fdr_method="by", **settings)
    # a BH table planned for BY: R counted on its p-values re-adjusted with BY (here R = 1 under both)
    readjusted = power.plan(_planned_table([3e-4, 0.75, 0.9, np.nan]), fdr_method="by", comparison_fdr_method="bh",
                            **settings)
    np.testing.assert_allclose(bh["detectable_drop"][:3], [expected_bh] * 3, rtol=1e-9)
    np.testing.assert_allclose(by["detectable_drop"][:3], [expected_by] * 3, rtol=1e-9)
    np.testing.assert_allclose(readjusted["detectable_drop"], by["detectable_drop"], rtol=1e-12)
    assert expected_by > expected_bh and np.isnan(by["detectable_drop"][3])  # the class without images: none
    with pytest.raises(ComparisonError, match=r"plan: fdr_method is one of \['bh', 'by'\]; got 'holm'"):
        power.plan(_planned_table([3e-4, 0.75, 0.9, np.nan]), fdr_method="holm", **settings)


def test_plan_re_adjusts_the_p_values_for_r_when_the_method_changes():
    """Two p-values that BH finds (q ≤ 0.05) and BY does not: planning a BH table for BY counts R = 0, not 2."""
    table = _planned_table([np.nan] * 4).assign(p_value_original=[0.02, 0.03, 0.9, np.nan])
    table["q_value_original"] = [0.045, 0.045, 0.9, np.nan]  # BH of those p-values
    settings = {"seeds": [2], "fdr": 0.05, "min_drop": 0.01, "metric": "original"}
    readjusted = power.plan(table, fdr_method="by", comparison_fdr_method="bh", **settings)
    alpha = power.bh_alpha(0.05, 3, 0, "by")  # BY q-values: 0.0825, 0.0825, 1 -> none found
    expected = power.detectable_drop(table.iloc[:3], np.array([100.0] * 3), seeds_reference=2, seeds_treatment=2,
                                     alpha=alpha, min_drop=0.01)
    np.testing.assert_allclose(readjusted["detectable_drop"][:3], expected, rtol=1e-12)
