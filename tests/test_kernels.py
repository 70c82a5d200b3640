"""The compiled bootstrap loops against the same sums written out in Python and numpy."""

from __future__ import annotations

import numpy as np
from scipy import stats

from relabel._kernels import add_class_sums, invert_cdf, pick_sums


def _picks_by_hand(values, picks, n_varying, offset, words):
    """What pick_sums documents: cells stratum-major, pick image offset + (word * n >> 32) for each next word."""
    n_tables, _, n_draws = values.shape
    sums = np.zeros((n_tables, len(picks), n_draws))
    w = 0
    for s in range(len(picks)):
        for d in range(n_draws):
            for _ in range(picks[s, d]):
                image = offset[s] + (int(words[w]) * int(n_varying[s]) >> 32)
                w += 1
                sums[:, s, d] += values[:, image, d]
    return sums, w


def test_pick_sums_by_hand():
    # stratum 0: images 0-1, stratum 1: images 2-4; 2 draws; two tables (two metrics)
    values = np.arange(2 * 5 * 2, dtype=np.float64).reshape(2, 5, 2)
    picks = np.array([[2, 0], [1, 3]])
    n_varying, offset = np.array([2, 3]), np.array([0, 2])
    # 0 -> first image; 2**31 -> the middle; 2**32 - 1 -> the last image of the stratum
    words = np.array([0, 2**32 - 1, 2**31, 0, 2**32 - 1, 2**31], dtype=np.uint32)
    sums = np.full((2, 2, 2), np.nan)
    pick_sums(values, picks, n_varying, offset, words, sums)
    # cell (0, 0): images 0 and 1 at draw 0; cell (0, 1): none; cell (1, 0): image 3; (1, 1): images 2, 4, 3
    expected = np.stack([[[v[0, 0] + v[1, 0], 0.0], [v[3, 0], v[2, 1] + v[4, 1] + v[3, 1]]] for v in values])
    np.testing.assert_array_equal(sums, expected)


def test_pick_sums_match_the_python_loop_on_random_strata():
    rng = np.random.default_rng(0)
    n_varying = rng.integers(1, 40, 30)
    offset = np.r_[0, np.cumsum(n_varying)[:-1]]
    n_draws = 7
    values = rng.integers(-50, 50, (1, int(n_varying.sum()), n_draws)).astype(np.float64)
    picks = rng.integers(0, 60, (30, n_draws))
    words = rng.integers(0, 2**32, int(picks.sum()), dtype=np.uint32)
    sums = np.empty((1, 30, n_draws))
    pick_sums(values, picks, n_varying, offset, words, sums)
    expected, used = _picks_by_hand(values, picks, n_varying, offset, words)
    assert used == len(words)
    np.testing.assert_array_equal(sums, expected)


def test_each_image_of_a_stratum_is_picked_equally_often():
    """The multiply-shift map of uniform words is uniform over the stratum's images (chi-square)."""
    n, n_picks = 7, 70_000
    counts = np.zeros(n)
    words = np.random.default_rng(1).integers(0, 2**32, n_picks, dtype=np.uint32)
    for i in range(n):  # table i counts the picks of image i
        table = np.zeros((1, n, 1))
        table[0, i, 0] = 1.0
        sums = np.empty((1, 1, 1))
        pick_sums(table, np.array([[n_picks]]), np.array([n]), np.array([0]), words, sums)
        counts[i] = sums[0, 0, 0]
    assert counts.sum() == n_picks
    assert stats.chisquare(counts).pvalue > 1e-3


def _class_sums_by_bincount(totals, base, first_row, n_rows, class_of_row, n_classes):
    """The sums written with numpy: unpack, bincount each class's strata, keep -0.0 where every stratum is -0.0."""
    if base > 0:
        high = np.round(totals[0] / base)
        totals = np.stack([totals[0] - high * base, high])
    row_class = np.repeat(class_of_row, n_rows)
    out = np.zeros((len(totals), n_classes, totals.shape[2]))
    for m, table in enumerate(totals):
        for d in range(table.shape[1]):
            summed = np.bincount(row_class, weights=table[:, d], minlength=n_classes)
            negative_zero = np.bincount(row_class, weights=np.signbit(table[:, d]) & (table[:, d] == 0),
                                        minlength=n_classes)
            summed[negative_zero == np.bincount(row_class, minlength=n_classes)] = -0.0
            out[m, class_of_row, d] = summed[class_of_row]
    return out


def test_class_sums_match_bincount_with_the_sign_of_zero():
    rng = np.random.default_rng(2)
    n_rows = np.array([1, 3, 2])
    first_row = np.r_[0, np.cumsum(n_rows)[:-1]]
    class_of_row = np.array([0, 2, 3])
    unpacked = rng.integers(-3, 3, (2, 6, 5)).astype(np.float64)
    unpacked[:, 1:4, 0] = -0.0  # class 2 at draw 0: every stratum -0.0
    unpacked[:, 1, 1], unpacked[:, 2, 1], unpacked[:, 3, 1] = -0.0, 0.0, -0.0  # a +0.0 among them: +0.0
    for totals, base in ((unpacked, 0.0), ((unpacked[0] + 1000.0 * unpacked[1])[None], 1000.0)):
        out = np.full((2, 4, 5), 7.0)
        add_class_sums(totals, base, first_row, n_rows, class_of_row, 0, out)
        expected = _class_sums_by_bincount(totals, base, first_row, n_rows, class_of_row, 4)
        np.testing.assert_array_equal(out[:, class_of_row], expected[:, class_of_row])
        np.testing.assert_array_equal(np.signbit(out[:, class_of_row]), np.signbit(expected[:, class_of_row]))
        assert (out[:, 1] == 7.0).all()  # a class without rows is left alone
        if base == 0.0:
            assert np.signbit(out[0, 2, 0]) and not np.signbit(out[0, 2, 1])


def test_class_sums_land_at_the_block_offset():
    totals = np.ones((1, 2, 3))
    out = np.zeros((1, 1, 10))
    add_class_sums(totals, 0.0, np.array([0]), np.array([2]), np.array([0]), 4, out)
    np.testing.assert_array_equal(out[0, 0], [0, 0, 0, 0, 2, 2, 2, 0, 0, 0])


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
