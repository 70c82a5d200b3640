"""Compiled inner loops of the bootstrap (numba): one pass where numpy needs several per round.

Stage: the ground floor, under :mod:`relabel.stats`, its only user. Imported when the bootstrap
first runs (compiling, or loading numba's cached machine code, takes a moment). The kernels
release the GIL, so the bootstrap's threads draw blocks in parallel.
"""

from __future__ import annotations

import numba
import numpy as np


#: Runs per lookup table of :func:`class_pick_sums`: a table holds 2**width sums, and four of them
#: (two metrics, 20 runs, int32) take 16 KiB, so a draw's tables stay in the first-level cache.
TABLE_RUNS = 10


@numba.njit(nogil=True, cache=True)
def class_pick_sums(masks: np.ndarray, table_run: np.ndarray, table_width: np.ndarray, weights: np.ndarray,
                    picks: np.ndarray, n_varying: np.ndarray, offset: np.ndarray, class_of_stratum: np.ndarray,
                    words: np.ndarray, d0: int, class_sums: np.ndarray) -> None:
    """Add each resample's picks among a stratum's varying images to its class's sum, per metric.

    A pick's value under draw d is ``weights[d] @ bits`` over the runs (bits: right in that run,
    on that metric), an integer. The runs are cut into tables of at most ``TABLE_RUNS``
    consecutive runs, the same for every metric: table t starts at run ``table_run[t]`` and is
    ``table_width[t]`` runs wide, the first metric's tables first; image i's bits in table t are
    ``masks[i, t]``. Each draw's tables of partial sums (one entry per subset of the table's
    runs) are formed once, so a pick costs one lookup per table and no product; the tables have
    the dtype of ``weights`` (the caller picks one wide enough).

    ``picks`` is (strata, draws): cell (s, d) makes ``picks[s, d]`` picks, each the varying image
    ``offset[s] + (w * n_varying[s] >> 32)`` for the next 32-bit word w of ``words``, taken draw by
    draw and, within a draw, stratum by stratum. Multiply-shift maps a uniform word to [0, n) with
    a bias below n / 2**32. The sums are added to ``class_sums[metric, class_of_stratum[s], d0 + d]``
    (int64: exact).
    """
    n_tables = masks.shape[1]
    n_metrics = class_sums.shape[0]  # 1 or 2
    k = n_tables // n_metrics  # tables per metric
    n_strata, n_draws = picks.shape
    size = 1 << TABLE_RUNS
    lookup = np.zeros(n_tables * size, weights.dtype)
    w = 0
    for d in range(n_draws):
        for t in range(n_tables):
            run, top, base = table_run[t], 0, t * size
            for mask in range(1, 1 << table_width[t]):
                if mask == 2 << top:
                    top += 1
                lookup[base + mask] = lookup[base + mask - (1 << top)] + weights[d, run + top]
        for s in range(n_strata):
            n = np.uint64(n_varying[s])
            first = offset[s]
            a = 0
            b = 0
            for _ in range(picks[s, d]):
                image = first + np.int64((np.uint64(words[w]) * n) >> np.uint64(32))
                w += 1
                if k == 1:  # up to TABLE_RUNS runs (the usual cases, written out: one lookup a metric)
                    a += lookup[masks[image, 0]]
                    if n_metrics == 2:
                        b += lookup[size + masks[image, 1]]
                elif k == 2:
                    a += lookup[masks[image, 0]] + lookup[size + masks[image, 1]]
                    if n_metrics == 2:
                        b += lookup[2 * size + masks[image, 2]] + lookup[3 * size + masks[image, 3]]
                else:
                    for t in range(k):
                        a += lookup[t * size + masks[image, t]]
                    if n_metrics == 2:
                        for t in range(k, n_tables):
                            b += lookup[t * size + masks[image, t]]
            c = class_of_stratum[s]
            class_sums[0, c, d0 + d] += a
            if n_metrics == 2:
                class_sums[1, c, d0 + d] += b


@numba.njit(nogil=True, cache=True)
def order_statistics(values: np.ndarray, ranks: np.ndarray, out: np.ndarray) -> None:
    """``out[i, j]``: the ``ranks[j]``-th smallest (from 0) of row i; ``ranks`` ascending, values integers.

    A row whose values span at most 8 times its length is counted (a histogram over its range,
    one pass); a wider one is sorted. The values found are the row's own (a -0.0 stays -0.0).
    """
    n_rows, n = values.shape
    counts = np.zeros(8 * n + 1, np.int64)
    for i in range(n_rows):
        row = values[i]
        low, high = row.min(), row.max()
        width = int(high - low) + 1
        if width <= len(counts):
            counts[:width] = 0
            for x in row:
                counts[int(x - low)] += 1
            j, seen = 0, 0
            for v in range(width):
                seen += counts[v]
                while j < len(ranks) and ranks[j] < seen:
                    out[i, j] = low if v == 0 else low + v
                    j += 1
                if j == len(ranks):
                    break
        else:
            ordered = np.sort(row)
            for j in range(len(ranks)):
                out[i, j] = ordered[ranks[j]]


@numba.njit(nogil=True, cache=True)
def invert_cdf(uniforms: np.ndarray, pair: np.ndarray, guide: np.ndarray, cdf: np.ndarray, width: int,
               out: np.ndarray) -> None:
    """``out[s, d]``: the smallest r with ``cdf[pair[s], r] > uniforms[s, d]`` (a draw from that row's law).

    ``guide[p, g]`` (g of G buckets) is the smallest r with ``cdf[p, r] > g / G``: the search
    starts there, a step or two from the answer (Chen & Asau's guide table). ``cdf`` is the
    rows flattened, each ``width`` long and ending above 1.
    """
    n_guide = guide.shape[1]
    for s in range(uniforms.shape[0]):
        p = pair[s]
        row = p * width
        for d in range(uniforms.shape[1]):
            u = uniforms[s, d]
            r = guide[p, np.int64(u * n_guide)]
            while u >= cdf[row + r]:
                r += 1
            out[s, d] = r
