"""Compiled inner loops of the bootstrap (numba): one pass where numpy needs several per round.

Stage: the ground floor, under :mod:`relabel.stats`, its only user. Imported when the bootstrap
first runs (compiling, or loading numba's cached machine code, takes a moment). The kernels
release the GIL, so the bootstrap's threads draw blocks in parallel.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def pick_sums(values: np.ndarray, picks: np.ndarray, n_varying: np.ndarray, offset: np.ndarray,
              words: np.ndarray, sums: np.ndarray) -> None:
    """Sum the values of each resample's picks among its stratum's varying images.

    ``values`` is (tables, varying images, draws), ``picks`` and ``sums`` (tables for sums)
    are (strata, draws): cell (s, d) makes ``picks[s, d]`` picks, each the varying image
    ``offset[s] + (w * n_varying[s] >> 32)`` for the next 32-bit word w of ``words``, taken in
    cell order (stratum-major), so a stratum's values stay in cache while its draws are summed.
    Multiply-shift maps a uniform word to [0, n) with a bias below n / 2**32.
    """
    n_tables = values.shape[0]  # 1 or 2
    n_strata, n_draws = picks.shape
    w = 0
    for s in range(n_strata):
        n = np.uint64(n_varying[s])
        first = offset[s]
        for d in range(n_draws):
            first_total = 0.0
            second_total = 0.0
            for _ in range(picks[s, d]):
                image = first + np.int64((np.uint64(words[w]) * n) >> np.uint64(32))
                w += 1
                first_total += values[0, image, d]
                if n_tables == 2:
                    second_total += values[1, image, d]
            sums[0, s, d] = first_total
            if n_tables == 2:
                sums[1, s, d] = second_total


@numba.njit(nogil=True, cache=True)
def add_class_sums(totals: np.ndarray, base: float, first_row: np.ndarray, n_rows: np.ndarray,
                   class_of_row: np.ndarray, d0: int, class_sums: np.ndarray) -> None:
    """Sum each class's strata (consecutive rows of ``totals``, (tables, strata, draws)) into
    ``class_sums[metric, class, d0 + draw]``.

    With ``base > 0`` one table holds two metrics packed as ``low + base * high``, unpacked
    here; with ``base == 0`` each table is one metric. Strata are added to each other (not to
    0.0), so a class whose strata are all -0.0 stays -0.0, as a sum of its strata should.
    """
    n_tables, _, n_draws = totals.shape
    for r in range(len(first_row)):
        row0, c = first_row[r], class_of_row[r]
        for d in range(n_draws):
            if base > 0:
                low = 0.0
                high = 0.0
                for i in range(n_rows[r]):
                    packed = totals[0, row0 + i, d]
                    h = np.rint(packed / base)
                    x = packed - h * base
                    low = x if i == 0 else low + x
                    high = h if i == 0 else high + h
                class_sums[0, c, d0 + d] = low
                class_sums[1, c, d0 + d] = high
            else:
                for t in range(n_tables):
                    total = totals[t, row0, d]
                    for i in range(1, n_rows[r]):
                        total += totals[t, row0 + i, d]
                    class_sums[t, c, d0 + d] = total


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
