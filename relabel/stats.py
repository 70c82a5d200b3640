"""Statistics for comparing groups of runs: a stratified two-level bootstrap and BH control.

Numpy, scipy and compiled loops (:mod:`relabel._kernels`), no relabel types. The bootstrap resamples seeds within each group and
images within each class, and scores every metric (original, multi-label) on the same
resample. Resampling images is exact on counts and touches only the images that can move a
delta: an image right (or wrong) in every run adds 0 whatever the resample, so a class's
resample of n images is drawn as R ~ Binomial(n, v/n) picks among its v varying images
(by inversion of the binomial CDF) and R uniform picks among those v images, summed by a
compiled loop (:mod:`relabel._kernels`). No image that cannot change the answer is resampled.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from threadpoolctl import ThreadpoolController

__all__ = ["FDR_METHODS", "FDR_METHOD_NAMES", "BootstrapResult", "bootstrap_delta", "bootstrap_deltas", "bootstrap_difference",
           "benjamini_hochberg", "benjamini_yekutieli", "exchange_p_values", "fdr_adjust", "holm"]

#: Multiple-testing corrections across classes: ``bh`` (Benjamini–Hochberg), ``by`` (Benjamini–Yekutieli).
FDR_METHODS = ("bh", "by")
#: Their names, for text.
FDR_METHOD_NAMES = {"bh": "Benjamini-Hochberg", "by": "Benjamini-Yekutieli"}


@dataclass(frozen=True)
class BootstrapResult:
    """Per class: observed ``delta``, percentile interval, bootstrap standard error and p-value.

    ``draws`` (classes, draws) holds the resampled deltas when they were asked for
    (``keep_draws``), so that a contrast of two metrics can be taken on the same resamples
    (:func:`bootstrap_difference`).
    """

    delta: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    std_error: np.ndarray
    p_value: np.ndarray
    draws: np.ndarray | None = None


def bootstrap_delta(
    correct_reference: np.ndarray,
    correct_treatment: np.ndarray,
    class_of_image: np.ndarray,
    n_classes: int,
    *,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> BootstrapResult:
    """One metric: boolean arrays (runs, images) of correctness; see :func:`bootstrap_deltas`."""
    ref = np.asarray(correct_reference, dtype=np.float64)[None]
    treat = np.asarray(correct_treatment, dtype=np.float64)[None]
    return bootstrap_deltas(ref, treat, class_of_image, n_classes, n_bootstrap=n_bootstrap,
                            confidence=confidence, seed=seed)[0]


def bootstrap_deltas(
    correct_reference: np.ndarray,
    correct_treatment: np.ndarray,
    class_of_image: np.ndarray,
    n_classes: int,
    *,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    n_jobs: int | None = None,
    keep_draws: bool = False,
    paired: bool = False,
) -> tuple[BootstrapResult, ...]:
    """Per metric and class: treatment seeds' mean accuracy minus reference seeds' mean, with a CI.

    Parameters
    ----------
    correct_reference, correct_treatment
        Arrays (metrics, runs, images) holding 1.0 (right), 0.0 (wrong) or NaN (the image
        does not count for that metric, e.g. an empty multi-label set). Both groups scored
        the same images in the same order; whether an image counts is the same in every run.
    class_of_image
        Class index of each image.
    n_bootstrap, confidence, seed
        Number of draws, interval level and the seed of the draws.
    n_jobs
        Threads drawing blocks of resamples (default: the CPUs this process may use). Every
        block has its own seeded stream, so the results do not depend on ``n_jobs``.
    keep_draws
        Keep each metric's resampled deltas in ``BootstrapResult.draws``. The seeds are
        resampled from a stream of their own (the first child of ``seed``), so two calls with
        the same ``seed`` and the same numbers of runs draw the same seed resamples.
    paired
        Run j of the reference and run j of the treatment share seed j (same initialisation
        and data order): the seeds are resampled jointly, one multinomial draw for both groups,
        so noise the two runs of a seed share cancels in the delta. Needs as many runs in
        both groups.

    Returns
    -------
    tuple of BootstrapResult, one per metric
        ``delta`` (observed), ``ci_low``/``ci_high`` (percentile interval of the resampled
        deltas), ``std_error`` (their standard deviation) and a two-sided ``p_value`` for
        delta = 0: the larger of z = delta / std_error against Student's t with n - 1 degrees
        of freedom, n the class's scored images (bootstrap-count p-values from 1000 draws
        cannot go below 0.001, too coarse for BH over 1000 classes; the normal reference is
        too thin in the far tail for small classes) and the exact image-level exchange test
        (:func:`exchange_p_values`), which keeps the p-value honest where few images disagree
        (one seed, small classes). NaN for
        classes without scored images. Images are resampled within strata (class × which
        metrics count them), so each metric's denominator stays fixed.
    """
    from relabel._kernels import TABLE_RUNS, class_pick_sums  # compiled on first use (or loaded from numba's cache)

    ref = np.asarray(correct_reference, dtype=np.float64)
    treat = np.asarray(correct_treatment, dtype=np.float64)
    n_metrics, s_ref, _ = ref.shape
    s_treat = treat.shape[1]
    classes = np.asarray(class_of_image, dtype=np.int64)
    strata = _strata(ref, treat, classes, n_classes)

    # integer pattern values: s_ref * s_treat times (treatment mean minus reference mean)
    scale = s_ref * s_treat
    root = np.random.SeedSequence(seed)
    seeds_stream, images_stream = root.spawn(2)
    seeds_rng = np.random.default_rng(seeds_stream)
    c_ref = seeds_rng.multinomial(s_ref, np.full(s_ref, 1 / s_ref), size=n_bootstrap)
    if paired:
        if s_ref != s_treat:
            raise ValueError(f"paired bootstrap needs as many treatment runs as reference runs; got {s_treat} "
                             f"and {s_ref}")
        c_treat = c_ref  # run j of both groups shares seed j: resample the seeds jointly
    else:
        c_treat = seeds_rng.multinomial(s_treat, np.full(s_treat, 1 / s_treat), size=n_bootstrap)
    bits = strata.pattern_bits
    observed = s_ref * bits[:, :, s_ref:].sum(axis=2) - s_treat * bits[:, :, :s_ref].sum(axis=2)
    # a draw's value of a pattern is weights @ bits: s_ref * (treatment bits . c_treat) - s_treat * (reference
    # bits . c_ref), an integer, summed exactly in int64 by the compiled loop from lookup tables over the runs
    weights = np.concatenate([-s_treat * c_ref, s_ref * c_treat], axis=1)  # (draws, runs)
    # a table entry sums at most TABLE_RUNS weights, each at most s_ref * s_treat: int32 unless that could overflow
    narrow = s_ref * s_treat * TABLE_RUNS < 2**31
    weights = weights.astype(np.int32 if narrow else np.int64)
    tables = _PickTables.of(bits, strata.varying_pattern)
    class_sums = np.zeros((n_metrics, n_classes, n_bootstrap), dtype=np.int64)
    class_of_active = strata.active >> n_metrics
    block = max(1, min(n_bootstrap, _CELLS_PER_BLOCK // max(len(strata.active), 1)))
    starts = list(range(0, n_bootstrap, block)) if len(strata.active) else []
    streams = images_stream.spawn(len(starts))
    sampler = _RCountSampler(strata.n_images, strata.n_varying)

    def draw_block(i: int) -> None:
        d0 = starts[i]
        d1 = min(d0 + block, n_bootstrap)
        rng = np.random.default_rng(streams[i])
        picks = sampler.sample(rng, d1 - d0)  # (strata, draws)
        n_picks = int(picks.sum())  # a 64-bit output of the generator is two uniform 32-bit words
        words = rng.bit_generator.random_raw((n_picks + 1) // 2).view(np.uint32)[:n_picks]
        class_pick_sums(tables.masks, tables.run, tables.width, weights[d0:d1], picks, strata.n_varying,
                        strata.offset, class_of_active, words, d0, class_sums)

    stratum_class = np.arange(n_classes << n_metrics) >> n_metrics
    varying_class = classes[strata.varying_image]
    # the draw blocks are the parallel work (BLAS on one thread under them, for the callers' products)
    with one_blas_thread(), ThreadPoolExecutor(default_jobs() if n_jobs is None else n_jobs) as pool:
        exchanges = [pool.submit(_exchange_test, ref[m], treat[m], classes, n_classes, paired)
                     for m in range(n_metrics)]
        list(pool.map(draw_block, range(len(starts))))
        summaries = []
        for m in range(n_metrics):
            counts_m = (np.arange(n_classes << n_metrics) >> m) & 1  # strata whose images count for metric m
            n_scored = np.bincount(stratum_class, weights=strata.n_stratum * counts_m, minlength=n_classes)
            denominator = np.maximum(n_scored, 1) * scale
            delta = np.bincount(varying_class, weights=observed[m, strata.pattern_of_image],
                                minlength=n_classes) / denominator
            sums = class_sums[m].astype(np.float64)  # exact: integers far below 2**53
            draws = sums / denominator[:, None]
            summaries.append(pool.submit(_summarise, delta, draws, n_scored == 0, confidence, keep_draws,
                                         np.maximum(n_scored - 1, 1),
                                         percentile_interval(sums, denominator, confidence)))
        results = [summary.result() for summary in summaries]
        return tuple(_with_exchange_p(result, exchange.result()) for result, exchange in zip(results, exchanges))


def _with_exchange_p(result: BootstrapResult, test: _ExchangeTest) -> BootstrapResult:
    """``result`` with its p-value raised to the exchange test's where that one is larger (see :func:`exchange_p_values`).

    A far tail is recomputed exactly only where it can matter: where the bootstrap's p-value is
    below twice the transform's floor. Elsewhere the exchange p-value (at most that, up to the
    transform's rounding) cannot be the larger of the two.
    """
    with np.errstate(invalid="ignore"):
        exchange = test.exact(where=result.p_value < 2 * _FFT_FLOOR * (1 + 1e-6))
    p_value = np.where(np.isnan(result.p_value), np.nan, np.fmax(result.p_value, exchange))
    return BootstrapResult(result.delta, result.ci_low, result.ci_high, result.std_error, p_value, result.draws)


def exchange_p_values(correct_reference: np.ndarray, correct_treatment: np.ndarray, class_of_image: np.ndarray,
                      n_classes: int, *, paired: bool = False) -> np.ndarray:
    """Per class: the exact two-sided p-value of the image-level exchange test of delta = 0.

    Under the null the two recipes are one training process, so at each image the runs'
    outcomes are exchangeable between the groups. Given how many of the S = s_ref + s_treat
    runs got image i right (k_i), the number the treatment runs got right is hypergeometric,
    independently over images; the class's total T (delta is a fixed affine function of it)
    is their sum, whose distribution is the convolution of those hypergeometric laws,
    computed exactly. With one run a side this is the exact McNemar test: T ~ Binomial(D, 1/2)
    over the D images the two runs disagree on. ``paired`` (run j of each group shares seed j)
    exchanges the two runs of a seed only: T ~ Binomial(D, 1/2) over the discordant
    (image, seed) cells. ``p = min(1, 2 min(P(T <= t), P(T >= t)))``.

    The test conditions on the seeds (it ignores seed-to-seed variation, which the bootstrap
    covers), and the bootstrap's z is anti-conservative where few images
    disagree: :func:`bootstrap_deltas` reports the larger of the two p-values, so a class
    must pass both. Arrays are (runs, images) of 1.0, 0.0 or NaN (not scored); NaN for
    classes without scored images.

    >>> ref, treat = np.ones((1, 30)), np.ones((1, 30))
    >>> treat[0, :3] = 0  # 3 of 30 images lost, none gained: McNemar's P(T <= 0 | D = 3) = 1/8, two-sided 1/4
    >>> float(exchange_p_values(ref, treat, np.zeros(30, dtype=int), 1)[0])
    0.25
    """
    return _exchange_test(correct_reference, correct_treatment, class_of_image, n_classes, paired).exact()


@dataclass(frozen=True)
class _ExchangeTest:
    """Exchange-test p-values from the batched transform, and what recomputing their far tails exactly needs.

    ``far`` indexes (into ``tested``) the classes whose transform tail is below ``_FFT_FLOOR``.
    """

    p_value: np.ndarray
    tested: np.ndarray
    far: np.ndarray
    counts: np.ndarray
    at: np.ndarray
    law: _ExchangeLaw | None

    def exact(self, where: np.ndarray | None = None) -> np.ndarray:
        """The p-values with the far tails recomputed by direct convolution (only for classes in ``where``)."""
        p_value = self.p_value.copy()
        for i in self.far:  # empty without a law (the paired test is exact as it is)
            if where is not None and not where[self.tested[i]]:
                continue
            assert self.law is not None
            pmf, _ = self.law.of(self.counts[self.tested[i]])
            p_value[self.tested[i]] = min(1.0, 2 * min(pmf[: self.at[i] + 1].sum(), pmf[self.at[i]:].sum()))
        return p_value


def _exchange_test(correct_reference: np.ndarray, correct_treatment: np.ndarray, class_of_image: np.ndarray,
                   n_classes: int, paired: bool) -> _ExchangeTest:
    """:func:`exchange_p_values` up to the exact recomputation of the far tails."""
    from scipy import stats

    none = np.zeros(0, dtype=np.int64)
    ref = np.asarray(correct_reference, dtype=np.float64)
    treat = np.asarray(correct_treatment, dtype=np.float64)
    classes = np.asarray(class_of_image, dtype=np.int64)
    s_ref, s_treat = ref.shape[0], treat.shape[0]
    if paired and s_ref != s_treat:
        raise ValueError(f"paired exchange test needs as many treatment runs as reference runs; got {s_treat} "
                         f"and {s_ref}")
    scored = ~np.isnan(ref[0]) if s_ref else np.zeros(len(classes), dtype=bool)
    p_value = np.full(n_classes, np.nan)
    p_value[np.bincount(classes[scored], minlength=n_classes) > 0] = 1.0
    ref, treat, classes = ref[:, scored] == 1.0, treat[:, scored] == 1.0, classes[scored]
    if paired:
        gained = (treat & ~ref).sum(axis=0)
        discordant = gained + (ref & ~treat).sum(axis=0)
        t = np.bincount(classes, weights=gained, minlength=n_classes)
        d = np.bincount(classes, weights=discordant, minlength=n_classes)
        some = d > 0
        tails = np.minimum(stats.binom.cdf(t[some], d[some], 0.5), stats.binom.sf(t[some] - 1, d[some], 0.5))
        p_value[some] = np.minimum(1.0, 2 * tails)
        return _ExchangeTest(p_value, none, none, np.zeros((0, 0), dtype=np.int64), none, None)
    runs = s_ref + s_treat
    k = ref.sum(axis=0) + treat.sum(axis=0)
    varying = (k > 0) & (k < runs)
    k, t, c = k[varying], treat.sum(axis=0)[varying], classes[varying]
    counts = np.bincount(c * runs + k, minlength=n_classes * runs).reshape(n_classes, runs)  # images per (class, k)
    t_class = np.bincount(c, weights=t, minlength=n_classes).astype(np.int64)
    law = _ExchangeLaw(s_ref, s_treat)
    tested = np.flatnonzero(counts.any(axis=1))
    at = t_class[tested] - counts[tested] @ law.low
    tails = _tails_by_fft(law, counts[tested], at)
    p_value[tested] = np.minimum(1.0, 2 * tails)
    # far tails: where the transform's rounding could show; recomputed exactly by _ExchangeTest.exact
    return _ExchangeTest(p_value, tested, np.flatnonzero(tails < _FFT_FLOOR), counts, at, law)


#: Tail probabilities above this are taken from the batched transform (rounding about 1e-14 of the
#: total mass: relative error below 1e-6 there); smaller ones are recomputed by direct convolution.
_FFT_FLOOR = 1e-7
_FFT_CELLS = 1 << 22  # (classes, frequencies) cells per batch of the transform


def _tails_by_fft(law: _ExchangeLaw, counts: np.ndarray, at: np.ndarray) -> np.ndarray:
    """min(P(T <= t), P(T >= t)) per class (rows of ``counts``), T's law from the product of characteristic functions."""
    widths = np.array([len(single) - 1 for single in law.single])
    size = max(int((counts @ widths).max(initial=0)) + 1, int(widths.max()) + 1)
    from scipy import fft

    n_fft = fft.next_fast_len(size, real=True)
    spectra = fft.rfft(np.stack([np.pad(single, (0, n_fft - len(single))) for single in law.single]), axis=1)
    tails = np.empty(len(counts))
    step = max(1, _FFT_CELLS // len(spectra[0]))
    for start in range(0, len(counts), step):
        block = counts[start:start + step]
        product = np.ones((len(block), spectra.shape[1]), dtype=np.complex128)
        for k in np.flatnonzero(block.any(axis=0)):
            column = block[:, k]
            most = int(column.max())
            if most < len(block):  # classes share counts: each power once, then gathered
                product *= (spectra[k][None, :] ** np.arange(most + 1)[:, None])[column]
            else:
                product *= spectra[k][None, :] ** column[:, None]
        pmf = np.clip(fft.irfft(product, n_fft, axis=1), 0.0, None)
        below = np.cumsum(pmf, axis=1)
        above = np.cumsum(pmf[:, ::-1], axis=1)[:, ::-1]
        rows = np.arange(len(block))
        tails[start:start + len(block)] = np.minimum(below[rows, at[start:start + step]],
                                                     above[rows, at[start:start + step]])
    return tails


class _ExchangeLaw:
    """The law of T, the treatment runs' total of right answers over a class's varying images.

    An image right in k of the S runs adds a hypergeometric count in [max(0, k - s_ref),
    min(k, s_treat)]; n such images add its n-fold convolution, kept once per (k, n), so the
    classes of one comparison share the work.
    """

    def __init__(self, s_ref: int, s_treat: int) -> None:
        self.runs = s_ref + s_treat
        self.low = np.maximum(0, np.arange(self.runs) - s_ref)
        self.single = _hypergeometric_laws(s_ref, s_treat)
        self.powers: dict[tuple[int, int], np.ndarray] = {}

    def power(self, k: int, n: int) -> np.ndarray:
        """The n-fold convolution of image type k's law (support offset n * low[k])."""
        if n == 1:
            return self.single[k]
        known = self.powers.get((k, n))
        if known is None:
            known = _convolve(self.power(k, n // 2), self.power(k, n - n // 2))
            self.powers[(k, n)] = known
        return known

    def of(self, counts: np.ndarray) -> tuple[np.ndarray, int]:
        """T's law for a class with ``counts[k]`` images right in k runs, and its support's lowest value."""
        pmf = np.ones(1)
        for k in np.flatnonzero(counts):
            pmf = _convolve(pmf, self.power(int(k), int(counts[k])))
        return pmf, int((counts * self.low).sum())


@functools.lru_cache(maxsize=64)
def _hypergeometric_laws(s_ref: int, s_treat: int) -> tuple[np.ndarray, ...]:
    """Per k in 0..S-1: the law of the treatment's right answers at an image right in k of the S runs, on
    [max(0, k - s_ref), min(k, s_treat)]; read-only, kept per design (a sweep compares many groups of one size)."""
    from scipy import stats

    runs = s_ref + s_treat
    laws = tuple(stats.hypergeom.pmf(np.arange(max(0, k - s_ref), min(k, s_treat) + 1), runs, k, s_treat)
                 for k in range(runs))
    for law in laws:
        law.flags.writeable = False
    return laws


def _convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Convolution of two laws: direct (exact in the far tails) unless both are long, then by FFT."""
    if min(len(a), len(b)) <= 64 or len(a) * len(b) <= 1 << 20:
        return np.convolve(a, b)
    from scipy import signal

    return np.clip(signal.fftconvolve(a, b), 0.0, None)


_T = TypeVar("_T")
_R = TypeVar("_R")
_blas_lock = threading.Lock()
_blas_users = 0
_blas_controller: ThreadpoolController | None = None  # found once: looking up the loaded libraries takes ms
_blas_limit: Any = None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS on one thread while any caller is inside (process-wide, counted across threads).

    The bootstrap's own threads are its parallel work; a multi-threaded BLAS under them
    oversubscribes the cores and runs its small products several times slower. The limit is set
    by the first caller to enter and lifted by the last to leave, so the bootstraps that
    :func:`ordered_map` runs on worker threads, inside its caller's limit, leave it alone.
    """
    global _blas_users, _blas_limit, _blas_controller
    with _blas_lock:
        if _blas_users == 0:
            if _blas_controller is None:
                _blas_controller = ThreadpoolController()
            _blas_limit = _blas_controller.limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0 and _blas_limit is not None:
                _blas_limit.restore_original_limits()
                _blas_limit = None


def split_jobs(n_jobs: int | None, n_tasks: int) -> tuple[int, int]:
    """Threads for ``n_tasks`` tasks side by side, and threads for each task's bootstrap: ``n_jobs`` (default: the
    CPUs) in all, at least one each."""
    jobs = default_jobs() if n_jobs is None else n_jobs
    outer = max(1, min(jobs, n_tasks))
    return outer, max(1, jobs // outer)


def ordered_map(fn: Callable[[_T], _R], items: Iterable[_T], n_jobs: int) -> Iterator[_R]:
    """``map(fn, items)`` on ``n_jobs`` threads, in order, with at most ``n_jobs + 1`` results pending.

    For work that releases the GIL (the bootstrap's kernels and numpy); the window keeps memory
    bounded when the caller consumes results more slowly than they are made. ``n_jobs == 1``
    runs in the caller's thread.
    """
    if n_jobs <= 1:
        yield from map(fn, items)
        return
    with one_blas_thread(), ThreadPoolExecutor(n_jobs) as pool:
        pending: list[Future[_R]] = []
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > n_jobs:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


_CELLS_PER_BLOCK = 1 << 17  # (stratum, draw) cells per block: a block's arrays stay in cache


def default_jobs() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class _Strata:
    """Images grouped by stratum (class × which metrics count them), varying images by pattern.

    ``active`` lists the strata with at least one varying image; ``n_images``, ``n_varying``
    and ``offset`` describe them, and the varying images of ``active[i]`` are
    ``varying_pattern[offset[i]:offset[i] + n_varying[i]]`` (their pattern indices).
    """

    n_stratum: np.ndarray
    varying_image: np.ndarray
    pattern_of_image: np.ndarray
    pattern_bits: np.ndarray
    varying_pattern: np.ndarray
    active: np.ndarray
    n_images: np.ndarray
    n_varying: np.ndarray
    offset: np.ndarray


def _strata(ref: np.ndarray, treat: np.ndarray, classes: np.ndarray, n_classes: int) -> _Strata:
    """Strata, the varying images (not right in every run nor wrong in every run, in some
    metric) and their distinct correctness patterns across metrics and runs."""
    n_metrics, s_ref, _ = ref.shape
    runs = s_ref + treat.shape[1]
    scored = ~np.isnan(ref[:, 0, :])
    stratum = classes << n_metrics
    for m in range(n_metrics):
        stratum |= scored[m].astype(np.int64) << m
    bits = np.concatenate([ref, treat], axis=1) == 1.0  # (metrics, runs, images)
    right = bits.sum(axis=1)
    varying_image = ((right > 0) & (right < runs)).any(axis=0)
    flat = np.packbits(bits[:, :, varying_image].reshape(n_metrics * runs, -1).T, axis=1)
    if flat.shape[1] <= 8:  # up to 64 bits: rows as big-endian integers sort as the rows do, and faster
        padded = np.zeros((len(flat), 8), dtype=np.uint8)
        padded[:, :flat.shape[1]] = flat
        keys, pattern_of_image = np.unique(padded.view(">u8").ravel(), return_inverse=True)
        patterns = keys.astype(">u8").view(np.uint8).reshape(-1, 8)[:, :flat.shape[1]]
    else:
        patterns, pattern_of_image = np.unique(flat, axis=0, return_inverse=True)
    pattern_of_image = pattern_of_image.ravel()
    pattern_bits = (  # (metrics, patterns, runs)
        np.unpackbits(patterns, axis=1, count=n_metrics * runs).reshape(-1, n_metrics, runs).transpose(1, 0, 2)
    ).astype(np.int64)
    varying_stratum = stratum[varying_image]
    order = np.argsort(varying_stratum, kind="stable")
    n_strata = n_classes << n_metrics
    n_stratum = np.bincount(stratum, minlength=n_strata)
    n_varying = np.bincount(varying_stratum, minlength=n_strata)
    active = np.flatnonzero(n_varying)
    offset = (np.cumsum(n_varying) - n_varying)[active]
    return _Strata(n_stratum, varying_image, pattern_of_image, pattern_bits, pattern_of_image[order],
                   active, n_stratum[active], n_varying[active], offset)


class _RCountSampler:
    """How many of a stratum's n resampled images are varying: R ~ Binomial(n, v/n).

    Strata of up to ``_TABLE_MAX_N`` images invert the binomial CDF: one table per distinct
    (n, v) and a guide table (Chen & Asau) that starts each search at most a step or two from
    the answer, so a uniform u gives the smallest r with CDF(r) > u. Larger strata, whose
    tables would grow with n, use numpy's binomial sampler.
    """

    _GUIDE = 256
    _TABLE_MAX_N = 1024

    def __init__(self, n_images: np.ndarray, n_varying: np.ndarray) -> None:
        from scipy import stats  # imported when used: scipy.stats takes most of a second to import

        self.n_images = n_images
        self.share = n_varying / np.maximum(n_images, 1)
        small = n_images <= self._TABLE_MAX_N
        self.tabled, self.direct = np.flatnonzero(small), np.flatnonzero(~small)
        pairs, self.pair = np.unique(np.stack([n_images[small], n_varying[small]], axis=1), axis=0,
                                     return_inverse=True)
        self.pair = self.pair.ravel()
        width = int(pairs[:, 0].max(initial=0)) + 2
        r = np.arange(width)
        cdf = stats.binom.cdf(r[None, :], pairs[:, :1], pairs[:, 1:] / np.maximum(pairs[:, :1], 1))
        cdf[r[None, :] >= pairs[:, :1]] = 1.0
        cdf[:, -1] = 2.0  # sentinel: every search stops by r = n
        self.width = width
        grid = np.arange(self._GUIDE) / self._GUIDE
        self.guide = np.array([np.searchsorted(row, grid, side="right") for row in cdf],  # smallest r: CDF(r) > grid
                              dtype=np.int64).reshape(len(cdf), self._GUIDE)
        self.cdf = cdf.ravel()

    def sample(self, rng: np.random.Generator, n_draws: int) -> np.ndarray:
        """(strata, draws) counts of varying images in each resample."""
        counts = np.empty((len(self.n_images), n_draws), dtype=np.int64)
        if len(self.tabled):
            counts[self.tabled] = self._invert(rng.random((len(self.tabled), n_draws)))
        if len(self.direct):
            counts[self.direct] = rng.binomial(self.n_images[self.direct, None], self.share[self.direct, None],
                                               size=(len(self.direct), n_draws))
        return counts

    def _invert(self, u: np.ndarray) -> np.ndarray:
        from relabel._kernels import invert_cdf

        r = np.empty(u.shape, dtype=np.int64)
        invert_cdf(u, self.pair, self.guide, self.cdf, self.width, r)
        return r


@dataclass(frozen=True)
class _PickTables:
    """The runs cut into lookup tables of at most ``TABLE_RUNS`` runs, the same for each metric, and
    each varying image's bits in them (:func:`relabel._kernels.class_pick_sums`): ``masks`` (varying
    images, tables), table t covering runs ``run[t]`` to ``run[t] + width[t]``, metric by metric."""

    masks: np.ndarray
    run: np.ndarray
    width: np.ndarray

    @classmethod
    def of(cls, pattern_bits: np.ndarray, varying_pattern: np.ndarray) -> _PickTables:
        from relabel._kernels import TABLE_RUNS

        n_metrics, _, runs = pattern_bits.shape
        run = np.arange(0, runs, TABLE_RUNS)
        width = np.minimum(TABLE_RUNS, runs - run)
        by_pattern = np.stack([(pattern_bits[m, :, r:r + n] << np.arange(n)).sum(axis=1)
                               for m in range(n_metrics) for r, n in zip(run, width)], axis=1)
        masks = np.ascontiguousarray(by_pattern.astype(np.uint16).take(varying_pattern, axis=0))
        return cls(masks, np.tile(run, n_metrics), np.tile(width, n_metrics))


def percentile_interval(sums: np.ndarray, denominator: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """The percentile interval of ``sums / denominator[:, None]`` per row, as ``np.quantile`` (linear) gives it.

    ``sums`` (rows, draws) holds integers (the bootstrap's resampled totals): their order
    statistics are found by counting (:func:`relabel._kernels.order_statistics`), divided, and
    interpolated at (n - 1) q as numpy's linear method does, with the same arithmetic.
    """
    from relabel._kernels import order_statistics

    n = sums.shape[1]
    alpha = (1 - confidence) / 2
    virtual = (n - 1) * np.array([alpha, 1 - alpha])
    previous = np.floor(virtual)
    gamma = virtual - previous
    below = previous.astype(np.int64)
    above = np.minimum(below + 1, n - 1)
    ranks = np.unique(np.r_[below, above])
    found = np.empty((len(sums), len(ranks)))
    order_statistics(np.ascontiguousarray(sums), ranks, found)
    found /= denominator[:, None]
    a, b = found[:, np.searchsorted(ranks, below)], found[:, np.searchsorted(ranks, above)]
    difference = b - a
    interval = a + difference * gamma
    np.subtract(b, difference * (1 - gamma), out=interval, where=np.broadcast_to(gamma >= 0.5, interval.shape))
    return interval[:, 0], interval[:, 1]


def _summarise(delta: np.ndarray, draws: np.ndarray, empty: np.ndarray, confidence: float,
               keep_draws: bool = False, df: np.ndarray | None = None,
               interval: tuple[np.ndarray, np.ndarray] | None = None) -> BootstrapResult:
    """Percentile interval, standard error and p-value of ``draws`` (classes, draws): z = delta / SE against
    Student's t with ``df`` degrees of freedom per class, or the normal distribution without ``df``.
    ``interval`` is the percentile interval when the caller has it (:func:`percentile_interval`)."""
    alpha = (1 - confidence) / 2
    ci_low, ci_high = np.quantile(draws, [alpha, 1 - alpha], axis=1) if interval is None else interval
    std_error = draws.std(axis=1, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(std_error > 0, np.abs(delta) / np.where(std_error > 0, std_error, 1),
                     np.where(delta != 0, np.inf, 0))
    from scipy import stats

    p_value = 2 * (stats.norm.sf(z) if df is None else stats.t.sf(z, df))
    for arr in (delta, ci_low, ci_high, std_error, p_value):
        arr[empty] = np.nan
    return BootstrapResult(delta, ci_low, ci_high, std_error, p_value, draws if keep_draws else None)


def bootstrap_difference(
    first: BootstrapResult,
    second: BootstrapResult,
    classes: np.ndarray | None = None,
    *,
    confidence: float = 0.95,
) -> BootstrapResult:
    """Paired bootstrap of ``first.delta - second.delta`` per class, on the resamples both share.

    Both results must come from one :func:`bootstrap_deltas` call with ``keep_draws=True``
    (two metrics scored on the same resamples of seeds and images), so the difference of
    their draws is a draw of the difference: its interval and p-value account for the two
    deltas moving together. ``classes`` restricts the result to those class indices (in that
    order). Returns a :class:`BootstrapResult` (without draws); NaN where either delta is.

    >>> import numpy as np
    >>> d = np.array([[-0.2, -0.1, -0.3]])
    >>> a = BootstrapResult(np.array([-0.2]), d, d, d, d, draws=d)
    >>> b = BootstrapResult(np.array([-0.1]), d, d, d, d, draws=d + 0.1)
    >>> r = bootstrap_difference(a, b)
    >>> r.delta.round(6).tolist(), r.ci_low.round(6).tolist(), r.std_error.round(6).tolist()
    ([-0.1], [-0.1], [0.0])
    """
    if first.draws is None or second.draws is None:
        raise ValueError("bootstrap_difference needs results drawn with keep_draws=True")
    pick = slice(None) if classes is None else np.asarray(classes, dtype=np.int64)
    delta = first.delta[pick] - second.delta[pick]
    draws = first.draws[pick] - second.draws[pick]
    if draws.shape[0] == 0:
        empty = np.zeros(0)
        return BootstrapResult(empty, empty.copy(), empty.copy(), empty.copy(), empty.copy())
    return _summarise(delta.astype(np.float64), draws, np.isnan(delta), confidence)


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control); NaN entries stay NaN and do not count.

    The i-th smallest of m p-values becomes ``max_{j <= i} min(1, (m - j + 1) p_(j))``: reject
    where the adjusted value is at most alpha, and the chance of any false rejection in the
    family is at most alpha whatever the dependence between the tests.

    >>> holm(np.array([0.01, 0.04, 0.03, np.nan])).round(3).tolist()
    [0.03, 0.06, 0.06, nan]
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full_like(p, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    if len(valid):
        order = valid[np.argsort(p[valid], kind="stable")]
        m = len(order)
        steps = np.minimum(1.0, (m - np.arange(m)) * p[order])
        out[order] = np.maximum.accumulate(steps)
    return out


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values); NaN entries stay NaN and do not count.

    With m p-values sorted ascending, ``q_(i) = min_{j >= i} min(1, m p_(j) / j)``; rejecting
    ``q <= fdr`` controls the false discovery rate at ``fdr`` for independent or positively
    dependent (PRDS) tests.
    """
    return fdr_adjust(p_values, "bh")


def benjamini_yekutieli(p_values: np.ndarray) -> np.ndarray:
    """Benjamini–Yekutieli adjusted p-values: BH's times ``c(m) = sum_{i=1..m} 1/i`` (capped at 1).

    ``q_(i) = min_{j >= i} min(1, c(m) m p_(j) / j)``: the false discovery rate stays at most
    ``fdr`` under any dependence between the tests (e.g. the negatively correlated deltas of a
    confused pair), at the cost of power: c(1000) = 7.49, so a class needs a p-value about 7.5
    times smaller than under BH. NaN entries stay NaN and do not count.

    >>> benjamini_yekutieli(np.array([0.01, 0.02, 0.04, np.nan])).round(4).tolist()
    [0.055, 0.055, 0.0733, nan]
    """
    return fdr_adjust(p_values, "by")


def fdr_adjust(p_values: np.ndarray, method: str = "bh") -> np.ndarray:
    """Adjusted p-values (q-values) by ``method`` in :data:`FDR_METHODS`; NaN entries stay NaN and do not count."""
    if method not in FDR_METHODS:
        raise ValueError(f"fdr method: expected one of {list(FDR_METHODS)}, got {method!r}")
    p = np.asarray(p_values, dtype=np.float64)
    q = np.full_like(p, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    m = len(valid)
    if m:
        order = valid[np.argsort(p[valid], kind="stable")]
        factor = float(np.sum(1.0 / np.arange(1, m + 1))) if method == "by" else 1.0
        steps = factor * m * p[order] / np.arange(1, m + 1)
        q[order] = np.minimum(1.0, np.minimum.accumulate(steps[::-1])[::-1])
    return q
