"""The compiled bootstrap loops against the same sums written out in Python and numpy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from relabel._kernels import class_pick_sums, invert_cdf
from relabel.stats import _PickTables


def _class_sums_by_hand(bits, weights, picks, n_varying, offset, class_of_stratum, words, n_classes):
    """What class_pick_sums documents, written out: draw by draw, stratum by stratum, pick image
    offset + (word * n >> 32) for each next word, its value weights[d] @ bits (metrics, images, runs)."""
    n_metrics = bits.shape[0]
    n_strata, n_draws = picks.shape
    sums = np.zeros((n_metrics, n_classes, n_draws), dtype=np.int64)
    w = 0
    for d in range(n_draws):
        for s in range(n_strata):
            for _ in range(picks[s, d]):
                image = offset[s] + (int(words[w]) * int(n_varying[s]) >> 32)
                w += 1
                sums[:, class_of_stratum[s], d] += bits[:, image, :] @ weights[d]
    return sums, w


def _class_sums(bits, weights, picks, n_varying, offset, class_of_stratum, words, n_classes, d0=0, n_total=None):
    tables = _PickTables.of(bits, np.arange(bits.shape[1]))  # every image its own pattern
    out = np.zeros((bits.shape[0], n_classes, n_total or picks.shape[1]), dtype=np.int64)
    class_pick_sums(tables.masks, tables.run, tables.width, weights, picks, n_varying, offset, class_of_stratum,
                    words, d0, out)
    return out


def test_class_pick_sums_by_hand():
    # stratum 0: images 0-1 (class 0), stratum 1: images 2-4 (class 1); 2 draws; 2 runs; one metric
    bits = np.array([[[1, 0], [0, 1], [1, 1], [0, 0], [1, 0]]])  # (metrics, images, runs)
    weights = np.array([[-2, 3], [-1, 5]])  # draw 0: run 0 weighs -2, run 1 3; draw 1: -1, 5
    picks = np.array([[2, 0], [1, 3]])
    n_varying, offset = np.array([2, 3]), np.array([0, 2])
    # draw 0: stratum 0's two picks, stratum 1's one; draw 1: stratum 1's three
    # 0 -> first image; 2**31 -> the middle; 2**32 - 1 -> the last image of the stratum
    words = np.array([0, 2**32 - 1, 2**31, 0, 2**32 - 1, 2**31], dtype=np.uint32)
    out = _class_sums(bits, weights, picks, n_varying, offset, np.array([0, 1]), words, 2)
    # draw 0: images 0 (-2) and 1 (3) in class 0; image 3 (0) in class 1; draw 1: images 2 (4), 4 (-1), 3 (0)
    np.testing.assert_array_equal(out, [[[1, 0], [0, 3]]])


@pytest.mark.parametrize("n_metrics", [1, 2])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("runs", [2, 10, 13, 20, 31])
def test_class_pick_sums_match_the_python_loop_on_random_strata(runs, dtype, n_metrics):
    """One or two metrics, runs cut into one to four tables a metric; strata of one class share its sum."""
    rng = np.random.default_rng(runs)
    n_strata, n_draws = 30, 7
    n_varying = rng.integers(1, 40, n_strata)
    offset = np.r_[0, np.cumsum(n_varying)[:-1]]
    bits = rng.integers(0, 2, (n_metrics, int(n_varying.sum()), runs))
    weights = rng.integers(-60, 60, (n_draws, runs)).astype(dtype)
    picks = rng.integers(0, 60, (n_strata, n_draws))
    class_of_stratum = np.sort(rng.integers(0, 12, n_strata))
    words = rng.integers(0, 2**32, int(picks.sum()), dtype=np.uint32)
    out = _class_sums(bits, weights, picks, n_varying, offset, class_of_stratum, words, 12)
    expected, used = _class_sums_by_hand(bits, weights, picks, n_varying, offset, class_of_stratum, words, 12)
    assert used == len(words)
    np.testing.assert_array_equal(out, expected)


def test_class_pick_sums_add_at_the_block_offset():
    bits = np.ones((1, 2, 1), dtype=np.int64)
    out = _class_sums(bits, np.array([[1], [1], [1]]), np.array([[2, 2, 2]]), np.array([2]), np.array([0]),
                      np.array([0]), np.zeros(6, dtype=np.uint32), 1, d0=4, n_total=10)
    np.testing.assert_array_equal(out[0, 0], [0, 0, 0, 0, 2, 2, 2, 0, 0, 0])


def test_each_image_of_a_stratum_is_picked_equally_often():
    """The multiply-shift map of uniform words is uniform over the stratum's images (chi-square)."""
    n, n_picks = 7, 70_000
    words = np.random.default_rng(1).integers(0, 2**32, n_picks, dtype=np.uint32)
    bits = np.eye(n, dtype=np.int64)[None]  # run i is right on image i only
    weights = np.eye(n, dtype=np.int64)  # draw i weighs run i: its sum counts the picks of image i
    picks = np.zeros((1, n), dtype=np.int64)
    counts = np.zeros(n)
    for i in range(n):
        picks[:] = 0
        picks[0, i] = n_picks
        counts[i] = _class_sums(bits, weights, picks, np.array([n]), np.array([0]), np.array([0]), words, 1)[0, 0, i]
    assert counts.sum() == n_picks
    assert stats.chisquare(counts).pvalue > 1e-3


def test_invert_cdf_finds_the_smallest_r_whose_cdf_exceeds_u():
    """Against searchsorted on binomial CDF rows, with u on bucket edges and on CDF values themselves."""
    from relabel.stats import _RCountSampler

    n_images, n_varying = np.array([5, 30, 30, 1, 200]), np.array([2, 1, 29, 1, 77])
    sampler = _RCountSampler(n_images, n_varying)
    rows = sampler.cdf.reshape(-1, sampler.width)
    rng = np.random.default_rng(3)
    u = rng.random((len(n_images), 300))
    u[:, :4] = [0.0, 0.5, 255 / 256, 1 - 2**-53]
    u[:, 4] = np.minimum(rows[sampler.pair, 1], 1 - 2**-53)  # exactly CDF(1) (u < 1): r > 1 (CDF(r) > u strictly)
    out = np.empty(u.shape, dtype=np.int64)
    invert_cdf(u, sampler.pair, sampler.guide, sampler.cdf, sampler.width, out)
    expected = np.array([np.searchsorted(rows[p], row, side="right") for p, row in zip(sampler.pair, u)])
    np.testing.assert_array_equal(out, expected)
    assert (out <= n_images[:, None]).all()
