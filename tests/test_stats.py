"""The two-level bootstrap and Benjamini-Hochberg control."""

from __future__ import annotations

import itertools
import math
import threading
import time

import numpy as np
import pytest
from scipy import stats

from relabel.stats import (
    benjamini_hochberg,
    bootstrap_delta,
    bootstrap_deltas,
    bootstrap_difference,
    exchange_p_values,
    holm,
    one_blas_thread,
    ordered_map,
    percentile_interval,
    split_jobs,
    _hypergeometric_laws,
)


def test_delta_by_hand():
    # class 0: 4 images; reference seeds get 4/4 and 2/4 right, treatment seeds 1/4 and 1/4 -> 0.75 vs 0.25
    ref = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], dtype=bool)
    treat = np.array([[1, 0, 0, 0], [0, 1, 0, 0]], dtype=bool)
    result = bootstrap_delta(ref, treat, np.zeros(4, dtype=int), 2, n_bootstrap=200)
    assert result.delta[0] == pytest.approx(-0.5)
    assert np.isnan(result.delta[1])  # class 1 has no images
    assert result.ci_low[0] <= -0.5 <= result.ci_high[0]


def test_identical_groups_have_zero_delta_and_p_one():
    rng = np.random.default_rng(0)
    runs = rng.uniform(size=(2, 300)) < 0.7
    result = bootstrap_delta(runs, runs, np.repeat(np.arange(3), 100), 3, n_bootstrap=200)
    np.testing.assert_allclose(result.delta, 0.0)
    assert (result.p_value > 0.5).all()


def test_reproducible_with_seed():
    rng = np.random.default_rng(1)
    ref, treat = rng.uniform(size=(2, 3, 500)) < 0.6
    cls = np.repeat(np.arange(10), 50)
    a = bootstrap_delta(ref, treat, cls, 10, seed=5)
    b = bootstrap_delta(ref, treat, cls, 10, seed=5)
    c = bootstrap_delta(ref, treat, cls, 10, seed=6)
    np.testing.assert_array_equal(a.ci_low, b.ci_low)
    assert not np.array_equal(a.ci_low, c.ci_low)


def _simulate(rng, n_classes, n_images, n_seeds, delta, seed_effect=0.04, noise=0.05):
    """Images with a fixed difficulty, per-(seed, class) effects and per-image jitter; true delta known."""
    cls = np.repeat(np.arange(n_classes), n_images)
    difficulty = rng.uniform(size=n_classes * n_images)

    def group(threshold):
        effect = seed_effect * rng.standard_normal((n_seeds, n_classes))
        jitter = noise * rng.standard_normal((n_seeds, len(cls)))
        return difficulty[None, :] + effect[:, cls] + jitter < threshold

    return group(0.7), group(0.7 + delta), cls


@pytest.mark.parametrize("n_seeds", [2, 3])
def test_interval_covers_the_true_delta_about_95_percent_of_the_time(n_seeds):
    """Each class is one repetition of a seeded simulation whose true delta is -0.1."""
    rng = np.random.default_rng(10 + n_seeds)
    ref, treat, cls = _simulate(rng, 1500, 50, n_seeds, delta=-0.1)
    result = bootstrap_delta(ref, treat, cls, 1500, seed=1)
    coverage = np.mean((result.ci_low <= -0.1) & (-0.1 <= result.ci_high))
    assert coverage == pytest.approx(0.95, abs=0.035)


def test_single_seed_interval_matches_scipy_image_bootstrap():
    """With one run per group only images are resampled: the spread matches scipy.stats.bootstrap."""
    rng = np.random.default_rng(3)
    ref, treat, cls = _simulate(rng, 20, 200, 1, delta=-0.1)
    ours = bootstrap_delta(ref, treat, cls, 20, n_bootstrap=4000, seed=0)
    for c in range(0, 20, 5):
        d = treat[0, cls == c].astype(float) - ref[0, cls == c].astype(float)
        theirs = stats.bootstrap((d,), np.mean, n_resamples=4000, method="percentile", random_state=0)
        assert ours.std_error[c] == pytest.approx(theirs.standard_error, rel=0.1)
        assert ours.ci_low[c] == pytest.approx(theirs.confidence_interval.low, abs=0.015)


def test_benjamini_hochberg_by_hand_and_nan():
    q = benjamini_hochberg(np.array([0.01, 0.04, np.nan, 0.03, 0.5]))
    # sorted p: 0.01, 0.03, 0.04, 0.5 with m = 4 -> 0.04, 0.0533, 0.0533, 0.5
    np.testing.assert_allclose(q[[0, 3, 1, 4]], [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])
    assert np.isnan(q[2])


def test_fdr_is_controlled_across_classes():
    """900 null classes and 100 with a real 25-point drop: few false discoveries, most drops found."""
    rng = np.random.default_rng(7)
    ref_null, treat_null, cls_null = _simulate(rng, 900, 50, 3, delta=0.0)
    ref_hit, treat_hit, cls_hit = _simulate(rng, 100, 50, 3, delta=-0.25)
    ref = np.concatenate([ref_null, ref_hit], axis=1)
    treat = np.concatenate([treat_null, treat_hit], axis=1)
    cls = np.concatenate([cls_null, cls_hit + 900])
    result = bootstrap_delta(ref, treat, cls, 1000, seed=0)
    discovered = benjamini_hochberg(result.p_value) <= 0.05
    false = discovered[:900].sum()
    assert discovered[900:].mean() > 0.8
    assert false / max(discovered.sum(), 1) <= 0.05


def _exact_two_level(ref, treat):
    """The bootstrap distribution of the delta by enumeration: {value: probability}.

    Seeds are resampled within each group and images within the class, every outcome weighed by
    its multinomial probability, so it is what an infinite number of draws would give.
    """
    def resamples(n):
        """Count vectors of a resample of n things with replacement, with their probabilities."""
        for counts in itertools.product(range(n + 1), repeat=n):
            if sum(counts) == n:
                yield np.array(counts), math.factorial(n) / math.prod(map(math.factorial, counts)) / n**n

    n_images = ref.shape[1]
    distribution = {}
    for (w_ref, p_ref), (w_treat, p_treat) in itertools.product(resamples(len(ref)), resamples(len(treat))):
        per_image = w_treat @ treat / len(treat) - w_ref @ ref / len(ref)
        for w_img, p_img in resamples(n_images):
            value = round(float(w_img @ per_image) / n_images, 12)
            distribution[value] = distribution.get(value, 0.0) + p_ref * p_treat * p_img
    return distribution


def test_resampling_matches_the_exact_two_level_bootstrap():
    """Standard error and 95% interval agree with the enumerated bootstrap distribution."""
    ref = np.array([[1, 1, 1, 0, 0], [1, 1, 0, 1, 0]], dtype=float)  # 2 reference seeds, 5 images
    treat = np.array([[1, 0, 0, 0, 1], [1, 1, 0, 0, 0]], dtype=float)
    exact = _exact_two_level(ref, treat)
    values = np.array(sorted(exact))
    probs = np.array([exact[v] for v in values])
    mean = probs @ values
    exact_se = math.sqrt(probs @ (values - mean) ** 2)
    cdf = np.cumsum(probs)

    def exact_quantile(q):
        return values[np.searchsorted(cdf, q)]

    result = bootstrap_delta(ref.astype(bool), treat.astype(bool), np.zeros(5, dtype=int), 1,
                             n_bootstrap=40_000, seed=3)
    assert result.delta[0] == pytest.approx(-0.2)  # 0.4 - 0.6
    assert result.std_error[0] == pytest.approx(exact_se, rel=0.02)
    # 40,000 draws put the 2.5% point within a few tenths of a percent of it (sd 0.08%)
    assert exact_quantile(0.02) <= result.ci_low[0] <= exact_quantile(0.03)
    assert exact_quantile(0.97) <= result.ci_high[0] <= exact_quantile(0.98)


def _two_level_std_error(ref, treat):
    """Standard error of the two-level bootstrap delta of one class, in closed form over images.

    Seed resamples are enumerated; given them, the image resample's mean has variance
    var(y) / n, where y is each image's treatment-minus-reference value.
    """
    def resamples(s):
        for counts in itertools.product(range(s + 1), repeat=s):
            if sum(counts) == s:
                yield np.array(counts), math.factorial(s) / math.prod(map(math.factorial, counts)) / s**s

    moment1 = moment2 = 0.0
    for (w_ref, p_ref), (w_treat, p_treat) in itertools.product(resamples(len(ref)), resamples(len(treat))):
        y = w_treat @ treat / len(treat) - w_ref @ ref / len(ref)
        p = p_ref * p_treat
        moment1 += p * y.mean()
        moment2 += p * (y.var() / len(y) + y.mean() ** 2)
    return math.sqrt(moment2 - moment1**2)


def test_standard_error_of_a_large_and_a_small_class_matches_the_closed_form():
    """A 3000-image class (binomial sampler) and a 40-image class (CDF table) in one call."""
    rng = np.random.default_rng(8)
    cls = np.repeat([0, 1], [3000, 40])
    ref, treat, _ = _simulate(rng, 1, 3040, 2, delta=-0.1)
    result = bootstrap_delta(ref, treat, cls, 2, n_bootstrap=4000, seed=0)
    for c in (0, 1):
        expected = _two_level_std_error(ref[:, cls == c].astype(float), treat[:, cls == c].astype(float))
        assert result.std_error[c] == pytest.approx(expected, rel=0.05)


def test_results_do_not_depend_on_the_number_of_threads():
    rng = np.random.default_rng(4)
    ref, treat, cls = _simulate(rng, 300, 40, 3, delta=-0.05)
    one = bootstrap_deltas(ref[None].astype(float), treat[None].astype(float), cls, 300, seed=2, n_jobs=1)[0]
    three = bootstrap_deltas(ref[None].astype(float), treat[None].astype(float), cls, 300, seed=2, n_jobs=3)[0]
    for field in ("delta", "ci_low", "ci_high", "std_error", "p_value"):
        np.testing.assert_array_equal(getattr(one, field), getattr(three, field))


def test_no_image_changes_between_runs():
    """Every image right in every run or wrong in every run: nothing to resample, delta exactly 0."""
    runs = np.repeat(np.array([[1, 1, 0, 1, 0, 0]], dtype=bool), 3, axis=0)
    result = bootstrap_delta(runs, runs, np.array([0, 0, 0, 1, 1, 1]), 2)
    np.testing.assert_array_equal(result.delta, [0.0, 0.0])
    np.testing.assert_array_equal(result.ci_low, [0.0, 0.0])
    np.testing.assert_array_equal(result.ci_high, [0.0, 0.0])
    np.testing.assert_array_equal(result.p_value, [1.0, 1.0])


def test_two_metrics_on_one_resample_with_images_that_count_for_one_metric_only():
    """Multi-label NaN images stay out of that metric's denominator; the original metric keeps them."""
    ref = np.array([[[1, 1, 0, 0]], [[1, np.nan, 0, 1]]])  # (metrics, runs, images)
    treat = np.array([[[0, 1, 0, 0]], [[0, np.nan, 1, 1]]])
    original, multilabel = bootstrap_deltas(ref, treat, np.zeros(4, dtype=int), 1, n_bootstrap=500)
    assert original.delta[0] == pytest.approx(-0.25)
    assert multilabel.delta[0] == pytest.approx(0.0)  # (1 - 1 + 0) over 3 scored images
    assert original.std_error[0] > 0 and multilabel.std_error[0] > 0


def test_paired_difference_of_two_metrics_matches_the_closed_form():
    """delta_multilabel - delta_original on the same resamples: a 400-image class, 2 seeds per group.

    The difference is linear in the runs' correctness, so its standard error is the two-level closed form
    applied to (multi-label minus original) correctness; scored independently it would be far larger.
    """
    rng = np.random.default_rng(9)
    ref_o, treat_o, _ = _simulate(rng, 1, 400, 2, delta=-0.15)
    extra = rng.uniform(size=400) < 0.5  # images where another valid label is predicted: right under multi-labels
    ref = np.stack([ref_o, ref_o | (extra & ~ref_o & (rng.uniform(size=(2, 400)) < 0.3))]).astype(float)
    treat = np.stack([treat_o, treat_o | (extra & ~treat_o & (rng.uniform(size=(2, 400)) < 0.8))]).astype(float)
    original, multilabel = bootstrap_deltas(ref, treat, np.zeros(400, dtype=int), 1, n_bootstrap=4000, seed=1,
                                            keep_draws=True)
    shift = bootstrap_difference(multilabel, original, np.array([0]))
    assert shift.delta[0] == pytest.approx(multilabel.delta[0] - original.delta[0])
    expected = _two_level_std_error(ref[1] - ref[0], treat[1] - treat[0])
    assert shift.std_error[0] == pytest.approx(expected, rel=0.06)
    assert shift.std_error[0] < 0.8 * math.hypot(original.std_error[0], multilabel.std_error[0])
    assert shift.ci_low[0] <= shift.delta[0] <= shift.ci_high[0] and shift.draws is None
    assert original.draws.shape == (1, 4000)
    with pytest.raises(ValueError, match="keep_draws=True"):
        bootstrap_difference(bootstrap_delta(ref_o, treat_o, np.zeros(400, dtype=int), 1), original)


def test_holm_by_hand_and_nan():
    # sorted p: 0.01, 0.03, 0.04, 0.5 with m = 4 -> 0.04, 0.09, 0.09 (monotone), 0.5
    adjusted = holm(np.array([0.01, 0.04, np.nan, 0.03, 0.5]))
    np.testing.assert_allclose(adjusted[[0, 3, 1, 4]], [0.04, 0.09, 0.09, 0.5])
    assert np.isnan(adjusted[2])
    np.testing.assert_allclose(holm(np.array([0.3, 0.9])), [0.6, 0.9])
    assert holm(np.array([])).shape == (0,)


def test_exchange_p_value_is_mcnemar_with_one_run_a_side():
    """30 images, one run a side: 3 lost and none gained is P(T <= 0 | D = 3) = 1/8, two-sided 1/4; 7 lost and
    2 gained is 2 P(Binomial(9, 1/2) <= 2) = 2 (1 + 9 + 36) / 512; a class whose runs agree everywhere has p = 1."""
    ref = np.ones((1, 90))
    treat = np.ones((1, 90))
    treat[0, :3] = 0  # class 0: 3 lost
    treat[0, 30:37] = 0  # class 1: 7 lost ...
    ref[0, 37:39] = 0  # ... and 2 gained
    cls = np.repeat([0, 1, 2], 30)
    p = exchange_p_values(ref, treat, cls, 4)
    np.testing.assert_allclose(p[:3], [0.25, 2 * 46 / 512, 1.0])
    assert np.isnan(p[3])  # no images


def _enumerated_exchange_p(ref, treat):
    """Two-sided p of T (the treatment runs' right answers) by enumeration: each image's outcomes dealt to the
    runs in every way (all subsets of the runs as the treatment's), independently over images."""
    runs = np.concatenate([ref, treat])
    subsets = list(itertools.combinations(range(len(runs)), len(treat)))
    laws = [[int(column[list(subset)].sum()) for subset in subsets] for column in runs.T]
    totals = np.array([sum(choice) for choice in itertools.product(*laws)])
    observed = int(treat.sum())
    return min(1.0, 2 * min(np.mean(totals <= observed), np.mean(totals >= observed)))


@pytest.mark.parametrize("seed", range(4))
def test_exchange_p_value_matches_enumerating_every_shuffle_of_unequal_groups(seed):
    """Two reference runs and one treatment run (unequal groups: per image T is hypergeometric), 6 images."""
    rng = np.random.default_rng(seed)
    ref = (rng.uniform(size=(2, 6)) < 0.6).astype(float)
    treat = (rng.uniform(size=(1, 6)) < 0.4).astype(float)
    p = exchange_p_values(ref, treat, np.zeros(6, dtype=int), 1)
    assert p[0] == pytest.approx(_enumerated_exchange_p(ref, treat))


def test_exchange_laws_kept_per_design_answer_for_their_own_design():
    """The per-image hypergeometric laws are computed once per (s_ref, s_treat) and reused: designs that
    alternate in one process (a sweep, then a self-check) each get the enumerated answer, and the kept
    laws cannot be edited in place."""
    rng = np.random.default_rng(7)
    for s_ref, s_treat in [(2, 1), (1, 2), (3, 2), (2, 1), (2, 3)]:
        ref = (rng.uniform(size=(s_ref, 5)) < 0.6).astype(float)
        treat = (rng.uniform(size=(s_treat, 5)) < 0.4).astype(float)
        p = exchange_p_values(ref, treat, np.zeros(5, dtype=int), 1)
        assert p[0] == pytest.approx(_enumerated_exchange_p(ref, treat)), (s_ref, s_treat)
    law = _hypergeometric_laws(2, 3)
    assert [len(single) for single in law] == [1, 2, 3, 3, 2]  # k right of 5 runs: T in [max(0, k - 2), min(k, 3)]
    with pytest.raises(ValueError):
        law[1][0] = 0.5


def test_paired_exchange_swaps_the_two_runs_of_a_seed_only():
    """Paired, two seeds, 10 images: cells (image, seed) where the runs disagree: 5 lost, 1 gained -> D = 6."""
    ref = np.ones((2, 10))
    treat = np.ones((2, 10))
    treat[0, :3] = 0
    treat[1, 5:7] = 0
    ref[1, 9] = 0
    p = exchange_p_values(ref, treat, np.zeros(10, dtype=int), 1, paired=True)
    assert p[0] == pytest.approx(2 * stats.binom.cdf(1, 6, 0.5))


def test_exchange_p_value_leaves_unscored_images_out():
    """NaN images (not scored for the metric) add nothing: the same answer as without them."""
    ref = np.array([[1, 1, 1, np.nan, 1]])
    treat = np.array([[0, 0, 1, np.nan, 1]])
    kept = [0, 1, 2, 4]
    np.testing.assert_array_equal(exchange_p_values(ref, treat, np.zeros(5, dtype=int), 1),
                                  exchange_p_values(ref[:, kept], treat[:, kept], np.zeros(4, dtype=int), 1))


def test_the_reported_p_value_is_the_larger_of_the_bootstrap_and_the_exchange_test():
    """One seed a side, a 30-image class with 3 images lost: the bootstrap's z alone says p ~ 0.08;
    the exact test says 0.25, and that is what is reported. A 1,000-image class with a clear drop keeps
    the bootstrap's (larger) p-value where the exchange test, blind to seed noise, is smaller."""
    ref = np.ones((1, 30))
    treat = ref.copy()
    treat[0, :3] = 0
    result = bootstrap_delta(ref.astype(bool), treat.astype(bool), np.zeros(30, dtype=int), 1, n_bootstrap=2000)
    z = abs(result.delta[0]) / result.std_error[0]
    assert 2 * stats.t.sf(z, 29) < 0.15
    assert result.p_value[0] == pytest.approx(0.25)
    rng = np.random.default_rng(4)
    ref3, treat3, cls = _simulate(rng, 2, 1000, 3, delta=-0.03, seed_effect=0.05)
    result = bootstrap_delta(ref3, treat3, cls, 2, seed=0)
    exchange = exchange_p_values(ref3.astype(float), treat3.astype(float), cls, 2)
    studentised = 2 * stats.t.sf(np.abs(result.delta) / result.std_error, 1000 - 1)
    np.testing.assert_allclose(result.p_value, np.maximum(studentised, exchange))
    assert (studentised > exchange).any()  # seed-level noise: here the bootstrap is the stricter of the two


@pytest.mark.parametrize(("s_ref", "s_treat", "n_images"), [(1, 1, 30), (3, 2, 1000), (1, 4, 200), (2, 2, 5)])
def test_exchange_p_values_by_transform_match_direct_convolution(s_ref, s_treat, n_images, monkeypatch):
    """The batched transform (tails above relabel.stats._FFT_FLOOR) agrees with direct convolution everywhere
    to 1e-6 relative, from p near 1 down to the far tails of clear drops (p ~ 1e-100 at 1,000 images)."""
    import relabel.stats as module

    rng = np.random.default_rng(s_ref * 10 + s_treat)
    cls = np.repeat(np.arange(40), n_images)
    chance = rng.beta(2, 1, size=len(cls))
    shift = np.linspace(-0.3, 0.05, 40)[cls]
    ref = (rng.uniform(size=(s_ref, len(cls))) < chance).astype(float)
    treat = (rng.uniform(size=(s_treat, len(cls))) < np.clip(chance + shift, 0, 1)).astype(float)
    fast = exchange_p_values(ref, treat, cls, 40)
    monkeypatch.setattr(module, "_FFT_FLOOR", 2.0)  # every class by direct convolution
    exact = exchange_p_values(ref, treat, cls, 40)
    np.testing.assert_allclose(fast, exact, rtol=1e-6, atol=0)
    assert exact.min() < 0.01 and exact.max() > 0.1  # the design spans the bulk and the tail


def test_paired_exchange_needs_as_many_runs_a_side():
    with pytest.raises(ValueError, match="as many treatment runs as reference runs; got 1 and 2"):
        exchange_p_values(np.ones((2, 4)), np.ones((1, 4)), np.zeros(4, dtype=int), 1, paired=True)


def test_ordered_map_keeps_the_order_and_bounds_what_is_pending():
    started, consumed = [], []
    lock = threading.Lock()

    def work(i):
        with lock:
            started.append(i)
            ahead = len(started) - len(consumed)
        time.sleep(0.002 * (i % 3))  # finish out of order
        return i * i, ahead

    results = []
    for value, ahead in ordered_map(work, range(20), 3):
        results.append(value)
        consumed.append(value)
        assert ahead <= 3 + 1
    assert results == [i * i for i in range(20)]


def test_ordered_map_raises_the_error_of_a_task():
    def work(i):
        if i == 2:
            raise ValueError("task 2")
        return i

    with pytest.raises(ValueError, match="task 2"):
        list(ordered_map(work, range(5), 2))


def test_one_blas_thread_is_lifted_by_the_last_caller_to_leave():
    """As in ordered_map: the caller holds the limit while worker threads (bootstraps) enter and leave it."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    with threadpool_limits(2, user_api="blas"):
        if not blas_threads():
            pytest.skip("no BLAS library that threadpoolctl can see")
        assert blas_threads() == {2}
        seen = {}

        def worker():
            with one_blas_thread():
                seen["worker inside"] = blas_threads()

        with one_blas_thread():
            assert blas_threads() == {1}
            thread = threading.Thread(target=worker)
            thread.start()
            thread.join()
            seen["after the worker left"] = blas_threads()
            with one_blas_thread():  # nested in the same thread
                pass
            seen["after a nested caller left"] = blas_threads()
        assert seen == {"worker inside": {1}, "after the worker left": {1}, "after a nested caller left": {1}}
        assert blas_threads() == {2}


@pytest.mark.parametrize("n_draws", [2, 3, 37, 200, 1000])
def test_percentile_interval_is_numpys_linear_quantile_to_the_bit(n_draws):
    """Counted order statistics of integer sums, divided and interpolated: np.quantile's values and signs of zero."""
    rng = np.random.default_rng(n_draws)
    sums = rng.integers(-300, 300, (40, n_draws)).astype(np.float64)
    sums[0], sums[1], sums[2, ::2] = -0.0, 0.0, -0.0
    sums[3] = rng.integers(-10**9, 10**9, n_draws)  # too wide to count: sorted
    denominator = rng.integers(1, 5000, 40).astype(np.float64)
    for confidence in (0.95, 0.9, 0.5, 0.999):
        low, high = percentile_interval(sums, denominator, confidence)
        alpha = (1 - confidence) / 2
        expected = np.quantile(sums / denominator[:, None], [alpha, 1 - alpha], axis=1)
        for ours, theirs in zip((low, high), expected):
            np.testing.assert_array_equal(ours, theirs)
            np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))


def test_a_far_exchange_tail_is_made_exact_only_where_it_can_be_the_larger_p_value(monkeypatch):
    """With the transform's floor raised to 0.01 most classes have a 'far' tail; the reported p-value is still
    max(bootstrap, exact exchange) to the bit, and only classes whose bootstrap p is below 0.02 are recomputed."""
    import relabel.stats as module

    rng = np.random.default_rng(6)
    ref, treat, cls = _simulate(rng, 40, 60, 2, delta=-0.08, seed_effect=0.03)
    ref, treat = ref.astype(float)[None], treat.astype(float)[None]
    monkeypatch.setattr(module, "_FFT_FLOOR", 0.01)
    exact = exchange_p_values(ref[0], treat[0], cls, 40)
    asked = {}
    original = module._ExchangeTest.exact

    def recording(self, where=None):
        asked["where"] = where
        return original(self, where)

    monkeypatch.setattr(module._ExchangeTest, "exact", recording)
    reported = bootstrap_deltas(ref, treat, cls, 40, n_bootstrap=500, seed=1)[0]
    with monkeypatch.context() as m:
        m.setattr(module, "_with_exchange_p", lambda result, test: result)
        bootstrap_only = bootstrap_deltas(ref, treat, cls, 40, n_bootstrap=500, seed=1)[0]
    np.testing.assert_array_equal(reported.p_value, np.fmax(bootstrap_only.p_value, exact))
    where = asked["where"]
    assert where.any() and not where.all()
    np.testing.assert_array_equal(where, bootstrap_only.p_value < 0.02 * (1 + 1e-6))


def test_split_jobs_shares_the_threads_between_tasks_and_their_bootstraps():
    assert split_jobs(4, 10) == (4, 1)  # many tasks: one thread each
    assert split_jobs(4, 1) == (1, 4)  # one task: its bootstrap gets them all
    assert split_jobs(5, 2) == (2, 2)
    assert split_jobs(3, 0) == (1, 3)
