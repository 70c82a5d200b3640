"""Categorisation: why each affected class lost accuracy — ambiguous, co-occurring, fine-grained.

Stage after :mod:`relabel.comparison`. For each affected class c and each partner d that
absorbed its predictions (``Comparison.flows``), the evidence of DESIGN.md is gathered by
:func:`pair_evidence` and a category is chosen by :func:`decide`; :func:`categorise` does both
for a :class:`~relabel.comparison.Comparison` and adds the bias shift and the class-level table.

Evidence for a pair (c, d), over all annotated images:

* co-annotation: ``co_annotation_cd`` = P(d valid | c valid) = ``n_both / n_c_valid`` and
  ``co_annotation_dc`` = P(c valid | d valid) = ``n_both / n_d_valid``, where ``n_c_valid``
  counts images whose multi-label set contains c and ``n_both`` those containing both;
* hierarchy (:class:`~relabel.hierarchy.Hierarchy`): ``lca``, ``lca_name``, ``lca_depth``,
  ``path_length``, ``is_ancestor``, and ``mean_class_depth`` (the scale ``lca_depth`` is
  judged against);
* lexical overlap: ``shared_name`` — the display names are equal, or the lemma sets meet, or
  one spelling is another plus a plural ``s``/``es`` (sunglass / sunglasses), case-insensitive;
* bias shift (from the flows): ``share_delta``, ``reverse_share_delta``, pair accuracies,
  ``bias_shift`` and ``loss_driver`` (see :func:`categorise`).

The rules, in order (the first that holds decides; thresholds in :class:`CategoryThresholds`,
the real ImageNet ReaL statistics behind them in ``docs/categorisation.md``):

1. ``shared_name`` → ambiguous.
2. ``ancestor``: one class is an ancestor of the other in the hierarchy → ambiguous.
3. ``overlap_and_close``: ``min(co_annotation_cd, co_annotation_dc) >= symmetric_co_annotation``
   and close in the hierarchy → ambiguous.
4. ``implied_label``: ``max(co_annotation_cd, co_annotation_dc) >= implied_co_annotation``
   (one label is valid on nearly every image of the other) → ambiguous.
5. ``close_in_hierarchy``: close in the hierarchy (and rules 3–4 did not hold) → fine-grained.
6. ``co_annotated_not_close``: ``max(...) >= co_occurring_co_annotation`` and not close (or no
   hierarchy to tell) → co-occurring.
7. otherwise → other (``no_rule``; ``no_evidence`` when neither multi-labels nor a hierarchy
   were there to look at).

"Close in the hierarchy" means ``path_length <= max_path_length`` and ``lca_depth >=
min_lca_depth`` (by default ``floor(lca_depth_fraction * mean_class_depth)``, 8 for the
ImageNet WordNet graph). Rules 3, 4 and 6 need ``n_both >= min_n_both``. Missing evidence is
named in ``missing_evidence`` and in the reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from relabel.comparison import Comparison
from relabel.errors import InputError, format_offenders
from relabel.hierarchy import Hierarchy, imagenet_1k_hierarchy, load_hierarchy
from relabel.labelspace import LabelSpace
from relabel.loading.annotations import Annotations

__all__ = [
    "Categorisation",
    "Category",
    "CategoryThresholds",
    "LossDriver",
    "categorise",
    "decide",
    "describe_loss_driver",
    "pair_evidence",
]


class Category(str, Enum):
    """Why a class lost predictions to a partner."""

    AMBIGUOUS = "ambiguous"
    CO_OCCURRING = "co-occurring"
    FINE_GRAINED = "fine-grained"
    OTHER = "other"

    @classmethod
    def from_str(cls, value: str | Category) -> Category:
        """Parse a category name, listing the choices on error.

        >>> Category.from_str("fine-grained")
        <Category.FINE_GRAINED: 'fine-grained'>
        """
        try:
            return cls(value)
        except ValueError:
            raise InputError(f"unknown category {value!r}; expected one of {[c.value for c in cls]}") from None


class LossDriver(str, Enum):
    """Which side of a pair (c, d) drives c's loss (see :func:`categorise`)."""

    GAINED_FALSE_POSITIVES = "gained false positives"
    LOST_TRUE_POSITIVES = "lost true positives"
    BOTH = "both"

    @classmethod
    def from_str(cls, value: str | LossDriver) -> LossDriver:
        """Parse a loss-driver name, listing the choices on error."""
        try:
            return cls(value)
        except ValueError:
            raise InputError(f"unknown loss driver {value!r}; expected one of {[c.value for c in cls]}") from None


def describe_loss_driver(driver: Any, class_name: str, partner_name: Any) -> str:
    """The loss driver in words that name who did what ("microphone gained false positives"); "" without one.

    >>> describe_loss_driver("gained false positives", "stage", "microphone")
    'microphone gained false positives'
    >>> describe_loss_driver("both", "stage", "microphone")
    'stage lost true positives and microphone gained false positives'
    """
    if pd.isna(driver) or not str(driver):
        return ""
    partner = "its partner" if pd.isna(partner_name) or not str(partner_name) else str(partner_name)
    words = {LossDriver.GAINED_FALSE_POSITIVES.value: f"{partner} gained false positives",
             LossDriver.LOST_TRUE_POSITIVES.value: f"{class_name} lost true positives",
             LossDriver.BOTH.value: f"{class_name} lost true positives and {partner} gained false positives"}
    return words.get(str(driver), str(driver))


@dataclass(frozen=True)
class CategoryThresholds:
    """The thresholds of the category rules (module docstring); fractions in [0, 1].

    Defaults were fixed after studying the real ImageNet ReaL labels and the WordNet graph
    (``docs/categorisation.md``): the ambiguous pairs reach 0.87–0.91 in at least one
    direction, co-occurring pairs 0.44–0.66 in both, fine-grained pairs at most 0.36.

    Attributes
    ----------
    implied_co_annotation
        Rule 4: one label valid on at least this share of the other's images → ambiguous.
    symmetric_co_annotation
        Rule 3: both directions at least this high, and close in the hierarchy → ambiguous.
    co_occurring_co_annotation
        Rule 6: the larger direction at least this high, not close → co-occurring.
    min_n_both
        Rules 3, 4 and 6 need at least this many images valid for both classes.
    max_path_length
        Close in the hierarchy: at most this many hops via the LCA (2 = siblings) …
    lca_depth_fraction, min_lca_depth
        … and an LCA at least ``min_lca_depth`` hops below the root; ``None`` (default) means
        ``max(1, floor(lca_depth_fraction * mean_class_depth))`` — 8 on ImageNet's WordNet
        graph (classes at mean depth 10.2), 1 for siblings under a parent in a two-level map.
    reverse_tolerance, pair_tolerance
        ``bias_shift`` allows the reverse flow to rise by at most ``reverse_tolerance``; the
        pair accuracy "held" when it fell by at most ``pair_tolerance`` (see :func:`categorise`).
    """

    implied_co_annotation: float = 0.83
    symmetric_co_annotation: float = 0.5
    co_occurring_co_annotation: float = 0.3
    min_n_both: int = 5
    max_path_length: int = 5
    lca_depth_fraction: float = 0.8
    min_lca_depth: int | None = None
    reverse_tolerance: float = 0.02
    pair_tolerance: float = 0.02

    def __post_init__(self) -> None:
        fractions = ("implied_co_annotation", "symmetric_co_annotation", "co_occurring_co_annotation",
                     "lca_depth_fraction", "reverse_tolerance", "pair_tolerance")
        bad = [f"{n}={getattr(self, n)!r}" for n in fractions
               if not isinstance(getattr(self, n), (int, float)) or not 0 <= getattr(self, n) <= 1]
        counts = ("min_n_both", "max_path_length")
        bad += [f"{n}={getattr(self, n)!r}" for n in counts
                if not isinstance(getattr(self, n), int) or isinstance(getattr(self, n), bool) or getattr(self, n) < 0]
        if self.min_lca_depth is not None and (not isinstance(self.min_lca_depth, int) or self.min_lca_depth < 0):
            bad.append(f"min_lca_depth={self.min_lca_depth!r}")
        if bad:
            raise InputError(
                f"category thresholds: fractions must lie in [0, 1] and counts be integers >= 0; got {', '.join(bad)}"
            )

    def lca_depth_threshold(self, mean_class_depth: float) -> int | None:
        """The ``min_lca_depth`` in force for a hierarchy whose classes have this mean depth."""
        if self.min_lca_depth is not None:
            return self.min_lca_depth
        if mean_class_depth is None or not np.isfinite(mean_class_depth):
            return None
        return max(1, math.floor(self.lca_depth_fraction * mean_class_depth + 1e-9))


@dataclass(frozen=True)
class Categorisation:
    """Category, rule, reason and evidence per (class, partner) pair and per affected class.

    Attributes
    ----------
    pairs
        One row per (affected class c, treatment group, partner d) of ``Comparison.flows``:
        ``class_index``, ``class_key``, ``class_name``, ``group``, ``partner_index``,
        ``partner_key``, ``partner_name``, ``rank`` (1 = largest ``share_delta``);
        co-annotation ``n_c_valid``, ``n_d_valid``, ``n_both`` (images), ``co_annotation_cd``
        (P(d valid | c valid)), ``co_annotation_dc`` (P(c valid | d valid)); hierarchy ``lca``,
        ``lca_name``, ``lca_depth``, ``path_length`` (hops), ``is_ancestor``,
        ``mean_class_depth``; ``shared_name`` (bool), ``name_overlap`` (the shared spelling);
        bias shift ``count_reference``, ``count_treatment`` (mean n[c, d] per group),
        ``share_reference``, ``share_treatment``, ``share_delta`` (share of c's images predicted
        as d), ``reverse_share_delta`` (the same for d's images predicted as c),
        ``pair_acc_reference``, ``pair_acc_treatment``, ``bias_shift``,
        ``loss_driver``; ``missing_evidence`` ("" or what was unavailable); the decision
        ``category``, ``rule`` and ``reason`` (one sentence with the numbers).
    classes
        One row per (affected class, group): ``class_index``, ``class_key``, ``class_name``,
        ``group``, ``delta`` (accuracy change on the comparison's metric),
        ``explained_by_multilabels`` (from the comparison), ``category``,
        ``rule``, ``reason``, ``partner_index``, ``partner_name`` and ``share_delta`` of the
        pair that carries most of the loss (largest ``share_delta``), ``loss_driver`` of that
        pair, ``n_pairs`` and ``other_pairs`` ("screen (ambiguous); desk (co-occurring)").
    params
        The thresholds (resolved ``min_lca_depth`` included), the hierarchy's source, whether
        multi-labels were used, the comparison's reference and metric.
    """

    pairs: pd.DataFrame
    classes: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# evidence


def _as_pairs(pairs: Any) -> pd.DataFrame:
    if isinstance(pairs, pd.DataFrame):
        missing = [c for c in ("class_index", "partner_index") if c not in pairs.columns]
        if missing:
            raise InputError(f"pairs: expected columns 'class_index' and 'partner_index'; missing {missing}")
        return pairs.reset_index(drop=True)
    rows = [tuple(p) for p in pairs]
    bad = [p for p in rows if len(p) != 2]
    if bad:
        raise InputError(f"pairs: expected (class_index, partner_index) pairs; {format_offenders(bad)}")
    return pd.DataFrame(rows, columns=["class_index", "partner_index"])


def _co_annotation(annotations: Annotations, c: np.ndarray, d: np.ndarray) -> dict[str, np.ndarray]:
    """n_c_valid, n_d_valid, n_both and both conditional shares, vectorised over the CSR sets."""
    k = len(annotations.label_space)
    indptr, indices = annotations.multilabel_indptr, annotations.multilabel_indices
    if indptr is None or indices is None:
        raise InputError(f"{annotations.source or 'annotations'}: co-annotation needs multi-label sets")
    owner = np.repeat(np.arange(annotations.n_images), np.diff(indptr))
    matrix = sp.csc_matrix((np.ones(len(indices), dtype=np.int64), (owner, indices)),
                           shape=(annotations.n_images, k))
    matrix.data[:] = 1  # a label repeated within one set counts once
    n_valid = np.asarray(matrix.sum(axis=0)).ravel()
    n_both = np.asarray(matrix[:, c].multiply(matrix[:, d]).sum(axis=0)).ravel() if len(c) else np.zeros(0)
    n_both = np.where(c == d, n_valid[c], n_both).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cd = np.where(n_valid[c] > 0, n_both / np.maximum(n_valid[c], 1), np.nan)
        dc = np.where(n_valid[d] > 0, n_both / np.maximum(n_valid[d], 1), np.nan)
    return {"n_c_valid": n_valid[c].astype(np.int64), "n_d_valid": n_valid[d].astype(np.int64),
            "n_both": n_both, "co_annotation_cd": cd, "co_annotation_dc": dc}


def _spellings(space: LabelSpace, i: int) -> set[str]:
    out = {space.names[i].strip().lower()}
    if space.lemmas is not None:
        out |= {lemma.strip().lower() for lemma in space.lemmas[i]}
    return {s for s in out if s}


def _name_overlap(space: LabelSpace, c: int, d: int) -> str:
    """The spelling the two classes share ("maillot"), a plural pair ("sunglass / sunglasses"), or ""."""
    a, b = _spellings(space, c), _spellings(space, d)
    same = sorted(a & b)
    if same:
        return same[0]
    for x in sorted(a):
        for y in sorted(b):
            if y in (x + "s", x + "es"):
                return f"{x} / {y}"
            if x in (y + "s", y + "es"):
                return f"{x} / {y}"
    return ""


def _resolve_hierarchy(hierarchy: Hierarchy | str | None, space: LabelSpace) -> Hierarchy | None:
    if isinstance(hierarchy, str) and hierarchy == "auto":
        return imagenet_1k_hierarchy() if space.name == "imagenet-1k" else None
    if hierarchy is None:
        return None
    return load_hierarchy(hierarchy)


def pair_evidence(
    pairs: pd.DataFrame | Sequence[tuple[int, int]],
    annotations: Annotations | None,
    *,
    hierarchy: Hierarchy | str | None = "auto",
    label_space: LabelSpace | None = None,
) -> pd.DataFrame:
    """Co-annotation, hierarchy and lexical evidence for arbitrary class pairs (c, d).

    Parameters
    ----------
    pairs
        ``(class_index, partner_index)`` tuples, or a DataFrame with those columns (other
        columns are kept).
    annotations
        Multi-label sets for the co-annotation; ``None`` or annotations without multi-labels
        leave the co-annotation columns missing.
    hierarchy
        A :class:`~relabel.hierarchy.Hierarchy`, a name or file for
        :func:`~relabel.hierarchy.load_hierarchy`, ``None`` for none, or ``"auto"`` (default):
        the shipped WordNet graph for the ``imagenet-1k`` label space, none otherwise. Nodes
        are matched by class key.
    label_space
        Defaults to the annotations' label space.

    Returns
    -------
    pandas.DataFrame
        The input pairs with ``class_key``, ``class_name``, ``partner_key``, ``partner_name``
        and the evidence columns described in :class:`Categorisation` (``pairs``), plus
        ``missing_evidence``.

    Examples
    --------
    >>> from relabel import Annotations, LabelSpace
    >>> space = LabelSpace.from_names(["laptop", "notebook", "desk"])
    >>> ann = Annotations.from_lists(["a", "b", "c", "d"], [0, 0, 1, 2],
    ...                              [[0, 1], [0], [1, 0], [2, 0]], label_space=space)
    >>> ev = pair_evidence([(0, 1), (0, 2)], ann, hierarchy=None)
    >>> ev[["n_c_valid", "n_d_valid", "n_both", "co_annotation_cd", "co_annotation_dc"]].values.tolist()
    [[4.0, 2.0, 2.0, 0.5, 1.0], [4.0, 1.0, 1.0, 0.25, 1.0]]
    """
    space = label_space if label_space is not None else (annotations.label_space if annotations is not None else None)
    if space is None:
        raise InputError("pair_evidence: give a label_space when there are no annotations")
    if annotations is not None and annotations.label_space.keys != space.keys:
        raise InputError(
            f"pair_evidence: the annotations use label space {annotations.label_space.name!r} "
            f"({len(annotations.label_space)} classes), not {space.name!r} ({len(space)} classes)"
        )
    frame = _as_pairs(pairs)
    c = frame["class_index"].to_numpy(dtype=np.int64)
    d = frame["partner_index"].to_numpy(dtype=np.int64)
    k = len(space)
    out_of_range = sorted({int(x) for x in np.concatenate([c, d]) if not 0 <= x < k})
    if out_of_range:
        raise InputError(f"pairs: class indices must lie in 0..{k - 1}; {format_offenders(out_of_range)}")
    keys = np.asarray(space.keys, dtype=object)
    names = np.asarray(space.names, dtype=object)
    out = frame.copy()
    for column, values in (("class_key", keys[c]), ("class_name", names[c]),
                           ("partner_key", keys[d]), ("partner_name", names[d])):
        if column not in out:
            out[column] = values

    has_ml = annotations is not None and annotations.has_multilabels
    if annotations is not None and has_ml:
        for column, values in _co_annotation(annotations, c, d).items():
            out[column] = values
    else:
        for column in ("n_c_valid", "n_d_valid", "n_both"):
            out[column] = pd.array([None] * len(out), dtype="Int64")
        out["co_annotation_cd"] = np.nan
        out["co_annotation_dc"] = np.nan

    tree = _resolve_hierarchy(hierarchy, space)
    if tree is not None:
        known = [key for key in space.keys if key in tree]
        if not known:
            raise InputError(
                f"hierarchy {tree.source!r} knows none of the {len(space)} class keys of label space "
                f"{space.name!r} (first keys: {format_offenders(space.keys)}); its nodes must be the class keys"
            )
        measures = tree.measures(keys[c].tolist(), keys[d].tolist())
        for column in measures.columns:
            out[column] = measures[column].array
        out["mean_class_depth"] = float(np.mean([tree.depth(key) for key in known]))
    else:
        out["lca"] = ""
        out["lca_name"] = ""
        out["lca_depth"] = pd.array([None] * len(out), dtype="Int64")
        out["path_length"] = pd.array([None] * len(out), dtype="Int64")
        out["is_ancestor"] = False
        out["mean_class_depth"] = np.nan
    overlap = [_name_overlap(space, int(x), int(y)) for x, y in zip(c, d)]
    out["name_overlap"] = overlap
    out["shared_name"] = np.asarray([bool(o) for o in overlap])

    missing = []
    for x, y in zip(keys[c], keys[d]):
        parts = []
        if not has_ml:
            parts.append("multi-labels")
        if tree is None:
            parts.append("hierarchy")
        else:
            unknown = tree.missing([x, y])
            if unknown:
                parts.append(f"hierarchy (no node {', '.join(map(repr, unknown))})")
        missing.append("; ".join(parts))
    out["missing_evidence"] = missing
    return out


# --------------------------------------------------------------------------------------------
# decision


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _range(low: float, high: float) -> str:
    """"65%" when both directions round alike, else "86–89%"."""
    a, b = f"{100 * low:.0f}", f"{100 * high:.0f}"
    return f"{a}%" if a == b else f"{a}–{b}%"


def _label(name: str, key: str, other_name: str) -> str:
    return f"{name} ({key})" if name == other_name else name


def _relation(row: Any) -> str:
    """How the two classes sit in the hierarchy, in words ("siblings under 'terrier'")."""
    if pd.isna(row.path_length):
        return ""
    hops = int(row.path_length)
    if row.is_ancestor:
        c_is_wider = row.lca == row.class_key
        narrow, wide = (row.partner_name, row.class_name) if c_is_wider else (row.class_name, row.partner_name)
        return f"{narrow} is a kind of {wide} in the hierarchy ({hops} hop{'s' if hops != 1 else ''})"
    if hops == 2:
        return f"siblings under '{row.lca_name}'"
    return f"{hops} hops apart via '{row.lca_name}' at depth {int(row.lca_depth)}"


def _decide_row(row: Any, t: CategoryThresholds) -> tuple[Category, str, str]:
    c_name = _label(row.class_name, row.class_key, row.partner_name)
    d_name = _label(row.partner_name, row.partner_key, row.class_name)
    cd, dc = row.co_annotation_cd, row.co_annotation_dc
    has_co = not (pd.isna(cd) or pd.isna(dc))
    has_tree = not pd.isna(row.path_length)
    enough = has_co and not pd.isna(row.n_both) and int(row.n_both) >= t.min_n_both
    high, low = (max(cd, dc), min(cd, dc)) if has_co else (np.nan, np.nan)
    min_depth = t.lca_depth_threshold(row.mean_class_depth)
    close = (has_tree and int(row.path_length) <= t.max_path_length
             and min_depth is not None and int(row.lca_depth) >= min_depth)
    relation = _relation(row)
    together = f"{_range(low, high)} of each other's images" if has_co else ""
    missing = row.missing_evidence

    def note(text: str) -> str:
        return f"{text} ({missing} unavailable)" if missing else text

    if row.shared_name:
        extra = f"; both are valid on {together}" if has_co else ""
        return (Category.AMBIGUOUS, "shared_name",
                note(f"{c_name} and {d_name} share the name '{row.name_overlap}'{extra}"))
    if row.is_ancestor:
        extra = f"; both are valid on {together}" if has_co else ""
        return Category.AMBIGUOUS, "ancestor", note(f"{relation}, so the labels overlap in meaning{extra}")
    if enough and close and low >= t.symmetric_co_annotation:
        return (Category.AMBIGUOUS, "overlap_and_close",
                note(f"{c_name} and {d_name} are both valid on {together} and are {relation}"))
    if enough and high >= t.implied_co_annotation:
        small, big = (c_name, d_name) if cd >= dc else (d_name, c_name)
        return (Category.AMBIGUOUS, "implied_label",
                note(f"{big} is also valid on {_pct(high)} of the images where {small} is "
                     f"({small} on {_pct(low)} of {big}'s), so the labels overlap in meaning"))
    if close:
        if has_co:
            return (Category.FINE_GRAINED, "close_in_hierarchy",
                    note(f"{c_name} and {d_name} are close in the hierarchy ({relation}) "
                         f"but valid together on only {together}"))
        return (Category.FINE_GRAINED, "close_in_hierarchy",
                f"{c_name} and {d_name} are close in the hierarchy ({relation}); "
                f"no multi-labels to check whether they are also annotated together")
    if enough and high >= t.co_occurring_co_annotation:
        if has_tree:
            return (Category.CO_OCCURRING, "co_annotated_not_close",
                    note(f"{c_name} and {d_name} are valid together on {together} "
                         f"but are {relation}, not close in meaning"))
        return (Category.CO_OCCURRING, "co_annotated_not_close",
                f"{c_name} and {d_name} are valid together on {together}; "
                f"{missing or 'hierarchy'} unavailable to check whether they are close in meaning")
    if not has_co and not has_tree:
        return (Category.OTHER, "no_evidence",
                f"no multi-label or hierarchy information for {c_name} and {d_name}, and their names do not overlap")
    parts = []
    if has_co:
        parts.append(f"valid together on {together} ({int(row.n_both)} images)")
    else:
        parts.append("no multi-labels to check co-annotation")
    if has_tree:
        parts.append(f"{relation}, not close in the hierarchy")
    else:
        parts.append(f"{missing or 'hierarchy'} unavailable to check closeness")
    return Category.OTHER, "no_rule", f"no rule applies to {c_name} and {d_name}: " + "; ".join(parts)


def decide(evidence: pd.DataFrame, thresholds: CategoryThresholds | None = None) -> pd.DataFrame:
    """Category, rule and a one-sentence reason for every row of :func:`pair_evidence`.

    Returns a copy of ``evidence`` with ``category`` (a :class:`Category` value as a string),
    ``rule`` (which rule fired, see the module docstring) and ``reason``.

    Examples
    --------
    >>> from relabel import Annotations, LabelSpace
    >>> space = LabelSpace.from_names(["laptop", "notebook", "desk"])
    >>> ann = Annotations.from_lists(["a", "b", "c", "d"], [0, 0, 1, 2],
    ...                              [[0, 1], [0, 1], [1, 0], [2]], label_space=space)
    >>> out = decide(pair_evidence([(0, 1), (0, 2)], ann, hierarchy=None), CategoryThresholds(min_n_both=1))
    >>> out["category"].tolist()
    ['ambiguous', 'other']
    >>> print(out["reason"][0])  # doctest: +NORMALIZE_WHITESPACE
    notebook is also valid on 100% of the images where laptop is (laptop on 100% of notebook's),
    so the labels overlap in meaning (hierarchy unavailable)
    """
    t = thresholds if thresholds is not None else CategoryThresholds()
    out = evidence.copy()
    decisions = [_decide_row(row, t) for row in out.itertuples(index=False)]
    out["category"] = [cat.value for cat, _, _ in decisions]
    out["rule"] = [rule for _, rule, _ in decisions]
    out["reason"] = [reason for _, _, reason in decisions]
    return out


# --------------------------------------------------------------------------------------------
# the stage


def _loss_driver(flows: pd.DataFrame, t: CategoryThresholds) -> tuple[np.ndarray, np.ndarray]:
    share = flows["share_delta"].to_numpy(dtype=np.float64)
    reverse = flows["reverse_share_delta"].to_numpy(dtype=np.float64)
    before = flows["pair_acc_reference"].to_numpy(dtype=np.float64)
    after = flows["pair_acc_treatment"].to_numpy(dtype=np.float64)
    outside = np.maximum(0.0, before - after)
    bias_shift = (share > 0) & ~(reverse > t.reverse_tolerance)
    driver = np.where(
        bias_shift & (outside <= t.pair_tolerance), LossDriver.GAINED_FALSE_POSITIVES.value,
        np.where(outside >= share, LossDriver.LOST_TRUE_POSITIVES.value, LossDriver.BOTH.value),
    )
    return bias_shift, driver


_PAIR_COLUMNS = [
    "class_index", "class_key", "class_name", "group", "partner_index", "partner_key", "partner_name", "rank",
    "n_c_valid", "n_d_valid", "n_both", "co_annotation_cd", "co_annotation_dc",
    "lca", "lca_name", "lca_depth", "path_length", "is_ancestor", "mean_class_depth",
    "shared_name", "name_overlap",
    "count_reference", "count_treatment", "share_reference", "share_treatment", "share_delta", "reverse_share_delta",
    "pair_acc_reference", "pair_acc_treatment", "bias_shift", "loss_driver",
    "missing_evidence", "category", "rule", "reason",
]

_CLASS_COLUMNS = [
    "class_index", "class_key", "class_name", "group", "delta", "explained_by_multilabels",
    "category", "rule", "reason", "partner_index", "partner_name", "share_delta", "loss_driver",
    "n_pairs", "other_pairs",
]


def categorise(
    comparison: Comparison,
    annotations: Annotations | None,
    *,
    hierarchy: Hierarchy | str | None = "auto",
    thresholds: CategoryThresholds | None = None,
) -> Categorisation:
    """Categorise every (affected class, absorbing partner) pair of a comparison, and each class.

    The pairs are the rows of ``comparison.flows`` (the partners d whose share of class c's
    predictions rose). Evidence comes from :func:`pair_evidence` (co-annotation over the
    ``annotations``' multi-label sets, the ``hierarchy``, the names) and the flows; the
    category from :func:`decide`.

    Bias shift and the side that drives the loss, per pair (fractions of c's images):

    * ``bias_shift``: c's images predicted as d rose (``share_delta > 0``) while d's images
      predicted as c stayed or fell (``reverse_share_delta <= reverse_tolerance``);
    * loss outside the pair = ``max(0, pair_acc_reference - pair_acc_treatment)``: c's images
      that left both c and d;
    * ``loss_driver`` = ``"gained false positives"`` (the partner d's side: its predictions
      spread over c's images) when there is a bias shift and the pair accuracy held (loss
      outside the pair ``<= pair_tolerance``); ``"lost true positives"`` (c's own side: c is
      recognised less and d is one destination of several) when the loss outside the pair is
      at least ``share_delta``; ``"both"`` otherwise.

    The class-level category is that of the pair with the largest ``share_delta`` (the one
    carrying most of the loss); the other pairs are listed. An affected class without any
    absorbing partner is ``other``.

    Parameters
    ----------
    hierarchy
        As in :func:`pair_evidence`: ``"auto"`` uses the shipped WordNet graph for ImageNet-1k.
    thresholds
        :class:`CategoryThresholds`; the defaults are documented in ``docs/categorisation.md``.
    """
    t = thresholds if thresholds is not None else CategoryThresholds()
    space = comparison.label_space
    if annotations is not None and annotations.label_space.keys != space.keys:
        raise InputError(
            f"categorise: the annotations use label space {annotations.label_space.name!r} "
            f"({len(annotations.label_space)} classes) but the comparison {space.name!r} ({len(space)} classes)"
        )
    tree = _resolve_hierarchy(hierarchy, space)
    flows = comparison.flows.reset_index(drop=True)
    evidence = pair_evidence(flows, annotations, hierarchy=tree, label_space=space)
    bias_shift, driver = _loss_driver(evidence, t) if len(evidence) else (np.zeros(0, bool), np.zeros(0, object))
    evidence["bias_shift"] = bias_shift
    evidence["loss_driver"] = driver
    pairs = decide(evidence, t)
    pairs = pairs.reindex(columns=_PAIR_COLUMNS)
    pairs = pairs.sort_values(["group", "class_index", "rank"], kind="stable").reset_index(drop=True)

    metric = comparison.params.get("metric", "original")
    mean_class_depth = float(pairs["mean_class_depth"].iloc[0]) if len(pairs) else (
        float(np.mean([tree.depth(k) for k in space.keys if k in tree])) if tree is not None else float("nan"))
    classes = _class_table(comparison, pairs, metric)
    params = {
        "thresholds": asdict(t),
        "min_lca_depth": t.lca_depth_threshold(mean_class_depth),
        "mean_class_depth": mean_class_depth,
        "hierarchy": tree.source if tree is not None else None,
        "multilabels": bool(annotations is not None and annotations.has_multilabels),
        "reference": comparison.params.get("reference"),
        "metric": metric,
    }
    return Categorisation(pairs, classes, params)


def _class_table(comparison: Comparison, pairs: pd.DataFrame, metric: str) -> pd.DataFrame:
    affected = comparison.per_class[comparison.per_class["affected"]]
    rows = []
    by_class = {key: sub for key, sub in pairs.groupby(["class_index", "group"], sort=False)}
    for rec in affected.itertuples(index=False):
        sub = by_class.get((rec.class_index, rec.group))
        base = {"class_index": rec.class_index, "class_key": rec.class_key, "class_name": rec.class_name,
                "group": rec.group, "delta": getattr(rec, f"delta_{metric}"),
                "explained_by_multilabels": bool(getattr(rec, "explained_by_multilabels", False))}
        if sub is None or sub.empty:
            rows.append({**base, "category": Category.OTHER.value, "rule": "no_partner",
                         "reason": f"no class absorbed {rec.class_name}'s lost predictions", "partner_index": pd.NA,
                         "partner_name": None, "share_delta": np.nan, "loss_driver": "", "n_pairs": 0,
                         "other_pairs": ""})
            continue
        ordered = sub.sort_values("share_delta", ascending=False, kind="stable")
        top = ordered.iloc[0]
        others = "; ".join(f"{r.partner_name} ({r.category})" for r in ordered.iloc[1:].itertuples(index=False))
        rows.append({**base, "category": top["category"], "rule": top["rule"], "reason": top["reason"],
                     "partner_index": int(top["partner_index"]), "partner_name": top["partner_name"],
                     "share_delta": float(top["share_delta"]), "loss_driver": top["loss_driver"],
                     "n_pairs": len(ordered), "other_pairs": others})
    table = pd.DataFrame(rows, columns=_CLASS_COLUMNS)
    table["partner_index"] = table["partner_index"].astype("Int64")
    return table.sort_values(["group", "delta"], kind="stable").reset_index(drop=True)
