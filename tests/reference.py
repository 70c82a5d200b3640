"""Plain-loop reference implementations of relabel's metrics, for tests and benchmarks."""

from __future__ import annotations

from collections import Counter

import numpy as np


def per_class_accuracy(true, pred, multilabels, k):
    """acc_original and acc_multilabel per class, one image at a time (DESIGN.md definitions)."""
    n = [0] * k
    hit = [0] * k
    n_ml = [0] * k
    hit_ml = [0] * k
    for t, p, labels in zip(true, pred, multilabels):
        n[t] += 1
        hit[t] += int(p == t)
        if labels:
            n_ml[t] += 1
            hit_ml[t] += int(p in labels)
    acc = [h / c if c else np.nan for h, c in zip(hit, n)]
    acc_ml = [h / c if c else np.nan for h, c in zip(hit_ml, n_ml)]
    return np.array(acc), np.array(acc_ml), np.array(n), np.array(n_ml)


def confusion_counts(true, pred):
    """{(c, d): count} of images of original class c predicted as d."""
    return Counter(zip(map(int, true), map(int, pred)))
