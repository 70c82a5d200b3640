"""Categorisation: why each affected class lost accuracy — ambiguous, co-occurring, fine-grained.

Stage after :mod:`relabel.comparison`. For each affected class c and each partner d that
absorbed its predictions (``Comparison.flows``), :func:`pair_evidence` gathers the evidence,
:func:`decide` applies a short list of rules and gives the category, the rule, a confidence and
a one-sentence reason; :func:`categorise` does both for a comparison and adds the confusion
structure of the runs, the bias shift and the class-level table.

Evidence for a pair (c, d) (``docs/categorisation.md`` shows the real ImageNet statistics
behind every threshold):

* **co-annotation** (multi-labels): ``co_annotation_cd`` = P(d valid | c valid) =
  ``n_both / n_c_valid``, ``co_annotation_dc`` = P(c valid | d valid). How often raters found
  both labels right for one image: the same object under two names, or two objects in one photo.
* **relabelled** (original labels + multi-labels): ``n_relabelled_cd``, images whose original
  label is c but whose multi-label set has d and not c — the original labeller took a d for a
  c — and ``n_relabelled_dc``. Labellers confuse look-alikes; two objects that are simply in
  one photo are co-annotated but rarely relabelled (the original label was right).
* **context** (multi-labels): ``context_similarity``, the cosine between the classes'
  co-annotation profiles (how often each is valid with every *other* class): classes seen in
  the same scenes (a canoe and a lakeside share paddles and boathouses) even when never
  annotated together.
* **hierarchy**: ``lca``, ``lca_depth``, ``path_length``, ``is_ancestor`` and
  ``wu_palmer`` = ``2 D / (2 D + path_length)`` with ``D = lca_depth``: the LCA's depth
  relative to both classes' depths through it (Wu & Palmer 1994), 1 for one node, 0 via the
  root. With WordNet: ``lexname_c``, ``lexname_d`` (lexicographer files: ``noun.animal``,
  ``noun.artifact``, …) and ``scene_c``, ``scene_d`` (below *building*, *establishment* or
  *geological formation*: a place a photo is taken in, not an object in it).
* **names**: ``name_overlap`` — the display names are equal, the lemma sets meet, or one
  spelling is another plus ``s``/``es``. A shared name is only a homonym (*crane*, *Sus scrofa*
  for hog and wild boar) unless the co-annotation confirms it.
* **runs** (:func:`categorise` only): ``reference_confusion_p`` and ``reverse_confusion_p`` —
  Poisson p-values of the reference recipe sending c's images to d (d's to c) at least as often
  as it did, if c's errors were spread evenly over the other classes — and ``confusion``:
  ``mutual`` (both directions significant: look-alikes are confused both ways, before any
  change), ``one-way`` (c to d only: a context error runs from the object to its context),
  ``none``. Mutual confusion raises the confidence of a fine-grained call but never decides
  one: two objects in one photo are confused both ways too. One-way confusion is context
  evidence (rule 6).

The rules (first that holds decides; thresholds in :class:`CategoryThresholds`):

1. ``ancestor``: one class is a kind of the other → ambiguous.
2. ``implied_label``: ``max(cd, dc) >= implied_co_annotation`` (one label is valid on nearly
   every image of the other) → ambiguous.
3. ``shared_name``: the names overlap and ``max(cd, dc) >= co_annotation`` → ambiguous.
4. close in the hierarchy (``wu_palmer >= close_similarity`` in one lexicographer file; without
   lexnames, also siblings): ``co_annotated_parts`` when valid together often
   (``max >= co_annotation``) yet never relabelled → co-occurring; otherwise ``close_kinds`` →
   fine-grained. ``relabelled_kinds``: one lexicographer file, ``wu_palmer >= near_similarity``,
   not valid together often, and the original labellers confused them (relabelled at least
   once) → fine-grained.
5. ``co_annotated``: ``max(cd, dc) >= co_annotation``, not close → co-occurring.
6. context without frequent co-annotation (``context``): one is a scene and the other not;
   different lexicographer files (different kinds of thing are not look-alikes); valid together
   on at least ``min_n_both`` images; ``context_similarity >= context_similarity`` (for pairs not
   known to be of one kind: look-alikes share contexts too); one-way confusion in the runs →
   co-occurring, confidence by the number of signals. Without a hierarchy, one-way confusion
   alone decides nothing (``run_confusion_only`` → insufficient evidence): a bias shift inside
   a look-alike pair — the effect this tool looks for — runs one way too; with a hierarchy the
   rules above have already found the pair not close.
7. ``homonym`` (names overlap, nothing else) → unrelated; ``far_apart`` (multi-labels and
   hierarchy both looked, nothing found) → unrelated; ``missing_evidence`` → insufficient
   evidence; ``unconfirmed_name`` (names overlap, no multi-labels to check) → ambiguous, low.

Rules 2, 3, 4 (``co_annotated_parts``) and 5 need ``n_both >= min_n_both``.

Why it is a little over ~600 lines: the evidence, the rules above and the sentences that give
each decision's reason are read and changed together; they stay in the stage's one module.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from relabel._vocab import Vocabulary
from relabel.comparison import Comparison
from relabel.errors import InputError, format_offenders
from relabel.hierarchy import Hierarchy, imagenet_1k_hierarchy, load_hierarchy
from relabel.labelspace import LabelSpace
from relabel.loading.annotations import Annotations

__all__ = [
    "Categorisation",
    "Category",
    "CategoryThresholds",
    "Confidence",
    "LossDriver",
    "categorise",
    "decide",
    "describe_loss_driver",
    "pair_evidence",
]

#: WordNet synsets below which a class is a place a photo is taken in rather than an object in it.
SCENE_ROOTS = {"n02913152": "building", "n03297735": "establishment", "n09287968": "geological formation"}

class Category(Vocabulary, noun="category"):
    """Why a class lost predictions to a partner.

    >>> Category.from_str("fine-grained")
    <Category.FINE_GRAINED: 'fine-grained'>
    """

    AMBIGUOUS = "ambiguous"
    CO_OCCURRING = "co-occurring"
    FINE_GRAINED = "fine-grained"
    UNRELATED = "unrelated"
    INSUFFICIENT_EVIDENCE = "insufficient evidence"


class Confidence(Vocabulary, noun="confidence"):
    """How well the evidence backs a decision: two signals agree, one strong signal, or an inference."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class LossDriver(Vocabulary, noun="loss driver"):
    """Which side of a pair (c, d) drives c's loss (see :func:`categorise`)."""

    GAINED_FALSE_POSITIVES = "gained false positives"
    LOST_TRUE_POSITIVES = "lost true positives"
    BOTH = "both"


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

    Each default is a statistic of the real ImageNet ReaL labels and the WordNet graph, shown in
    ``docs/categorisation.md``.

    Attributes
    ----------
    implied_co_annotation
        Rule 2: one label valid on at least this share of the other's images (0.83: only the
        monitor / screen, laptop / notebook, sunglass(es), desktop computer / monitor pairs
        reach it among pairs with ``n_both >= 5``).
    co_annotation
        Rules 3–5: valid together "often" (0.27: 90% of the pairs that ImageNet's original
        labellers confused, close in WordNet, stay below it).
    min_n_both
        Rules 2–5 need at least this many images valid for both classes.
    close_similarity
        Rule 4: Wu–Palmer similarity from which a pair is close (0.75: from there on, pairs
        that ReaL relabelled outnumber pairs that are only co-annotated).
    near_similarity
        Rule 4b: Wu–Palmer similarity from which a pair of one kind that the original labellers
        confused (ReaL relabelled one as the other) counts as look-alikes (0.55: the lower
        quartile of the pairs relabelled at least 3 times).
    context_similarity
        Rule 6: co-annotation profiles at least this similar (0.25: the 99th percentile over
        all ImageNet class pairs).
    confusion_alpha
        Significance level of the runs' confusion tests.
    reverse_tolerance, pair_tolerance
        ``bias_shift`` allows the reverse flow to rise by at most ``reverse_tolerance``; the
        pair accuracy "held" when it fell by at most ``pair_tolerance`` (see :func:`categorise`).
    """

    implied_co_annotation: float = 0.83
    co_annotation: float = 0.27
    min_n_both: int = 5
    close_similarity: float = 0.75
    near_similarity: float = 0.55
    context_similarity: float = 0.25
    confusion_alpha: float = 0.01
    reverse_tolerance: float = 0.02
    pair_tolerance: float = 0.02

    def __post_init__(self) -> None:
        fractions = ("implied_co_annotation", "co_annotation", "close_similarity", "near_similarity",
                     "context_similarity",
                     "confusion_alpha", "reverse_tolerance", "pair_tolerance")
        bad = [f"{n}={getattr(self, n)!r}" for n in fractions
               if not isinstance(getattr(self, n), (int, float)) or isinstance(getattr(self, n), bool)
               or not 0 <= getattr(self, n) <= 1]
        if not isinstance(self.min_n_both, int) or isinstance(self.min_n_both, bool) or self.min_n_both < 0:
            bad.append(f"min_n_both={self.min_n_both!r}")
        if bad:
            raise InputError(
                f"category thresholds: fractions must lie in [0, 1] and counts be integers >= 0; got {', '.join(bad)}"
            )


@dataclass(frozen=True)
class Categorisation:
    """Category, rule, confidence, reason and evidence per (class, partner) pair and per affected class.

    Attributes
    ----------
    pairs
        One row per (affected class c, treatment group, partner d) of ``Comparison.flows``:
        ``class_index``, ``class_key``, ``class_name``, ``group``, ``partner_index``,
        ``partner_key``, ``partner_name``, ``rank``; co-annotation ``n_c_valid``,
        ``n_d_valid``, ``n_both`` (images), ``co_annotation_cd``, ``co_annotation_dc``,
        ``n_relabelled_cd``, ``n_relabelled_dc`` (images), ``context_similarity``; hierarchy
        ``lca``, ``lca_name``, ``lca_depth``, ``path_length`` (hops), ``is_ancestor``,
        ``wu_palmer``, ``lexname_c``, ``lexname_d``, ``scene_c``, ``scene_d``; names
        ``shared_name`` (bool), ``name_overlap``; runs ``share_reference``,
        ``share_treatment``, ``share_delta`` (share of c's images predicted as d),
        ``reverse_share_reference``, ``reverse_share_treatment``, ``reverse_share_delta`` (the
        same for d's images predicted as c), ``count_reference``, ``count_treatment``,
        ``reference_confusion_p``, ``reverse_confusion_p``, ``confusion``,
        ``pair_acc_reference``, ``pair_acc_treatment``, ``bias_shift``, ``loss_driver``;
        ``missing_evidence`` (``""`` or what was unavailable); the decision ``category``,
        ``rule``, ``confidence`` and ``reason`` (one sentence with the numbers).
    classes
        One row per (affected class, group): ``class_index``, ``class_key``, ``class_name``,
        ``group``, ``delta`` (accuracy change on the comparison's metric),
        ``explained_by_multilabels`` (from the comparison), ``category``, ``rule``,
        ``confidence``, ``reason``, ``partner_index`` (nullable ``Int64``: ``<NA>`` when no
        class absorbed c's predictions), ``partner_name`` (``None`` then), ``share_delta`` and
        ``loss_driver`` of the pair that carries most of the loss, ``n_pairs`` and
        ``other_pairs`` ("screen (ambiguous); desk (co-occurring)").
    params
        The thresholds, the hierarchy's source, whether multi-labels were used, the
        comparison's reference and metric.
    wordnet_map
        With ``hierarchy="wordnet"``: :attr:`relabel.wordnet.WordNetMapping.table`, the synset
        each class name got and why; else ``None``.
    """

    pairs: pd.DataFrame
    classes: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)
    wordnet_map: pd.DataFrame | None = None


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


def _rowwise(matrix: sp.csr_matrix, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``matrix[c[i], d[i]]`` for every i, as floats."""
    return np.asarray(matrix[c, d]).ravel().astype(np.float64) if len(c) else np.zeros(0)


def _co_annotation(annotations: Annotations, c: np.ndarray, d: np.ndarray) -> dict[str, np.ndarray]:
    """Co-annotation, relabelled counts and context similarity, vectorised over the CSR sets."""
    k = len(annotations.label_space)
    indptr, indices = annotations.multilabel_indptr, annotations.multilabel_indices
    if indptr is None or indices is None:
        raise InputError(f"{annotations.source or 'annotations'}: co-annotation needs multi-label sets")
    n = annotations.n_images
    owner = np.repeat(np.arange(n), np.diff(indptr))
    valid = sp.csr_matrix((np.ones(len(indices)), (owner, indices)), shape=(n, k))
    valid.data[:] = 1  # a label repeated within one set counts once
    together = (valid.T @ valid).tocsr()  # together[c, d]: images whose set holds c and d
    n_valid = together.diagonal()
    n_both = np.where(c == d, n_valid[c], _rowwise(together, c, d)).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cd = np.where(n_valid[c] > 0, n_both / np.maximum(n_valid[c], 1), np.nan)
        dc = np.where(n_valid[d] > 0, n_both / np.maximum(n_valid[d], 1), np.nan)

    # relabelled[c, d]: images originally labelled c whose (non-empty) set lacks c and has d
    original = annotations.original
    keeps = np.zeros(n, dtype=bool)
    keeps[owner[indices == original[owner]]] = True
    moved = ~keeps[owner]
    relabelled = sp.csr_matrix((np.ones(int(moved.sum())), (original[owner[moved]], indices[moved])), shape=(k, k))

    # context: cosine of the rows of `together` without the diagonal and without columns c and d
    off = together - sp.diags(n_valid)
    off.eliminate_zeros()
    squares = np.asarray(off.multiply(off).sum(axis=1)).ravel()
    if len(c):
        dot = np.asarray(off[c].multiply(off[d]).sum(axis=1)).ravel()
        cross = _rowwise(off, c, d)
        norm_c = np.sqrt(np.maximum(squares[c] - cross ** 2, 0))
        norm_d = np.sqrt(np.maximum(squares[d] - _rowwise(off, d, c) ** 2, 0))
        with np.errstate(invalid="ignore", divide="ignore"):
            context = np.where((norm_c > 0) & (norm_d > 0) & (c != d), dot / (norm_c * norm_d), np.nan)
    else:
        context = np.zeros(0)
    return {"n_c_valid": n_valid[c].astype(np.int64), "n_d_valid": n_valid[d].astype(np.int64),
            "n_both": n_both, "co_annotation_cd": cd, "co_annotation_dc": dc,
            "n_relabelled_cd": _rowwise(relabelled, c, d).astype(np.int64),
            "n_relabelled_dc": _rowwise(relabelled, d, c).astype(np.int64),
            "context_similarity": context}


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


def _resolve_hierarchy(hierarchy: Any, space: LabelSpace,
                       wordnet_map: Any = None) -> tuple[Hierarchy | None, pd.DataFrame | None]:
    """The hierarchy to use and, for ``"wordnet"``, the mapping table that built it."""
    from relabel.wordnet import WordNetMapping, map_to_wordnet

    if isinstance(hierarchy, WordNetMapping):
        return hierarchy.hierarchy(), hierarchy.table
    if isinstance(hierarchy, str) and hierarchy == "auto":
        return (imagenet_1k_hierarchy() if space.name == "imagenet-1k" else None), None
    if hierarchy is None:
        return None, None
    if isinstance(hierarchy, str) and hierarchy.lower() == "wordnet" and space.name != "imagenet-1k":
        mapping = map_to_wordnet(space, corrections=wordnet_map)
        return mapping.hierarchy(), mapping.table
    return load_hierarchy(hierarchy), None


def _hierarchy_evidence(tree: Hierarchy, keys_c: np.ndarray, keys_d: np.ndarray) -> dict[str, Any]:
    measures = tree.measures(keys_c.tolist(), keys_d.tolist())
    out: dict[str, Any] = {column: measures[column].array for column in measures.columns}
    depth = measures["lca_depth"].to_numpy(dtype=np.float64, na_value=np.nan)
    hops = measures["path_length"].to_numpy(dtype=np.float64, na_value=np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        wup = np.where(2 * depth + hops > 0, 2 * depth / (2 * depth + hops), 1.0)
    out["wu_palmer"] = np.where(np.isnan(depth) | np.isnan(hops), np.nan, wup)
    for side, keys in (("c", keys_c), ("d", keys_d)):
        out[f"lexname_{side}"] = [tree.lexname(k) if k in tree else None for k in keys]
        out[f"scene_{side}"] = pd.array([
            (any(tree.is_ancestor(root, k) for root in SCENE_ROOTS) if tree.lexnames else None) if k in tree else None
            for k in keys], dtype="boolean")
    return out


def pair_evidence(
    pairs: pd.DataFrame | Sequence[tuple[int, int]],
    annotations: Annotations | None,
    *,
    hierarchy: Any = "auto",
    label_space: LabelSpace | None = None,
    wordnet_map: Any = None,
) -> pd.DataFrame:
    """Co-annotation, relabelling, context, hierarchy and name evidence for arbitrary class pairs (c, d).

    Parameters
    ----------
    pairs
        ``(class_index, partner_index)`` tuples, or a DataFrame with those columns (other
        columns are kept).
    annotations
        Multi-label sets (and original labels) for the co-annotation evidence; ``None`` or
        annotations without multi-labels leave those columns missing.
    hierarchy
        A :class:`~relabel.hierarchy.Hierarchy`, a name or file for
        :func:`~relabel.hierarchy.load_hierarchy`, ``"wordnet"`` (map the class names to
        WordNet 3.0 with :func:`relabel.wordnet.map_to_wordnet`), a
        :class:`~relabel.wordnet.WordNetMapping`, ``None`` for none, or ``"auto"`` (default):
        the shipped WordNet graph for the ``imagenet-1k`` label space, none otherwise. Nodes
        are matched by class key.
    label_space
        Defaults to the annotations' label space.
    wordnet_map
        With ``hierarchy="wordnet"``: corrections, a ``class_key,synset`` CSV or a mapping.

    Returns
    -------
    pandas.DataFrame
        The input pairs with ``class_key``, ``class_name``, ``partner_key``, ``partner_name``
        and the evidence columns described in :class:`Categorisation` (``pairs``), plus
        ``missing_evidence``.
    """
    frame = _as_pairs(pairs)
    space = label_space or (annotations.label_space if annotations is not None else None)
    if space is None:
        raise InputError("pair_evidence: give annotations or a label_space")
    if annotations is not None and label_space is not None and annotations.label_space.keys != label_space.keys:
        raise InputError(
            f"pair_evidence: the annotations use label space {annotations.label_space.name!r} "
            f"({len(annotations.label_space)} classes), not {label_space.name!r}"
        )
    tree, _ = _resolve_hierarchy(hierarchy, space, wordnet_map)
    return _evidence(frame, annotations, space, tree)


def _evidence(frame: pd.DataFrame, annotations: Annotations | None, space: LabelSpace,
              tree: Hierarchy | None) -> pd.DataFrame:
    k = len(space)
    c = frame["class_index"].to_numpy(dtype=np.int64)
    d = frame["partner_index"].to_numpy(dtype=np.int64)
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
        for column in ("n_c_valid", "n_d_valid", "n_both", "n_relabelled_cd", "n_relabelled_dc"):
            out[column] = pd.array([None] * len(out), dtype="Int64")
        for column in ("co_annotation_cd", "co_annotation_dc", "context_similarity"):
            out[column] = np.nan

    if tree is not None:
        known = [key for key in space.keys if key in tree]
        if not known:
            raise InputError(
                f"hierarchy {tree.source!r} knows none of the {len(space)} class keys of label space "
                f"{space.name!r} (first keys: {format_offenders(space.keys)}); its nodes must be the class keys"
            )
        for column, values in _hierarchy_evidence(tree, keys[c], keys[d]).items():
            out[column] = values
    else:
        out["lca"] = ""
        out["lca_name"] = ""
        out["lca_depth"] = pd.array([None] * len(out), dtype="Int64")
        out["path_length"] = pd.array([None] * len(out), dtype="Int64")
        out["is_ancestor"] = False
        out["wu_palmer"] = np.nan
        for side in ("c", "d"):
            out[f"lexname_{side}"] = None
            out[f"scene_{side}"] = pd.array([None] * len(out), dtype="boolean")
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
        missing.append(" and ".join(parts))
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


def _get(row: Any, name: str) -> Any:
    value = getattr(row, name, None)
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _relation(row: Any) -> str:
    """How the two classes sit in the hierarchy, in words ("siblings under 'terrier'")."""
    if _get(row, "path_length") is None:
        return ""
    hops = int(row.path_length)
    if row.is_ancestor:
        c_is_wider = row.lca == row.class_key
        narrow, wide = (row.partner_name, row.class_name) if c_is_wider else (row.class_name, row.partner_name)
        return f"{narrow} is a kind of {wide} in the hierarchy ({hops} hop{'s' if hops != 1 else ''})"
    if hops == 2:
        where = f"siblings under '{row.lca_name}'"
    else:
        where = f"{hops} hops apart via '{row.lca_name}' at depth {int(row.lca_depth)}"
    wup = _get(row, "wu_palmer")
    return where + (f" (Wu-Palmer {wup:.2f})" if wup is not None else "")


def _kinds(row: Any) -> str:
    a, b = _get(row, "lexname_c"), _get(row, "lexname_d")
    return f"{a} vs {b}" if a and b else ""


_CONFIDENCE_ORDER = [Confidence.LOW, Confidence.MEDIUM, Confidence.HIGH]


def _level(n_signals: int) -> Confidence:
    return _CONFIDENCE_ORDER[max(0, min(n_signals, 3) - 1)]


def _decide_row(row: Any, t: CategoryThresholds) -> tuple[Category, str, Confidence, str]:
    c_name = _label(row.class_name, row.class_key, row.partner_name)
    d_name = _label(row.partner_name, row.partner_key, row.class_name)
    cd, dc = _get(row, "co_annotation_cd"), _get(row, "co_annotation_dc")
    has_co = cd is not None and dc is not None
    n_both = int(row.n_both) if has_co and _get(row, "n_both") is not None else 0
    enough = has_co and n_both >= t.min_n_both
    high, low = (max(cd, dc), min(cd, dc)) if has_co else (math.nan, math.nan)
    relabelled = (int(_get(row, "n_relabelled_cd") or 0), int(_get(row, "n_relabelled_dc") or 0))
    wup = _get(row, "wu_palmer")
    has_tree = wup is not None
    lex_c, lex_d = _get(row, "lexname_c"), _get(row, "lexname_d")
    has_lex = lex_c is not None and lex_d is not None
    same_kind = (lex_c == lex_d) if has_lex else None
    if has_lex:
        close = wup is not None and wup >= t.close_similarity and bool(same_kind)
    else:
        siblings = has_tree and int(row.path_length) == 2 and int(row.lca_depth) >= 1
        close = has_tree and (wup >= t.close_similarity or siblings)
    confusion = _get(row, "confusion")
    relation = _relation(row)
    together = f"{_range(low, high)} of each other's images" if has_co else ""
    missing = row.missing_evidence

    def note(text: str) -> str:
        return f"{text} ({missing} unavailable)" if missing else text

    def relabel_text() -> str:
        a, b = relabelled
        return f"the original labels were corrected from one to the other on {a} + {b} images"

    if row.is_ancestor:
        extra = f"; both are valid on {together}" if has_co else ""
        return (Category.AMBIGUOUS, "ancestor", Confidence.HIGH,
                note(f"{relation}, so the labels overlap in meaning{extra}"))
    if enough and high >= t.implied_co_annotation:
        small, big = (c_name, d_name) if cd >= dc else (d_name, c_name)
        level = _level(1 + bool(close) + bool(row.shared_name) + (low >= t.co_annotation))
        return (Category.AMBIGUOUS, "implied_label", level,
                note(f"{big} is also valid on {_pct(high)} of the images where {small} is "
                     f"({small} on {_pct(low)} of {big}'s), so the labels overlap in meaning"))
    if row.shared_name and enough and high >= t.co_annotation:
        return (Category.AMBIGUOUS, "shared_name", Confidence.HIGH,
                note(f"{c_name} and {d_name} share the name '{row.name_overlap}' and raters confirm it: "
                     f"both are valid on {together}"))
    if close:
        if enough and high >= t.co_annotation and sum(relabelled) == 0:
            return (Category.CO_OCCURRING, "co_annotated_parts", Confidence.MEDIUM,
                    note(f"{c_name} and {d_name} are close kinds ({relation}) but are valid together on "
                         f"{together} and no original label was ever corrected from one to the other: "
                         f"two things shown together, not look-alikes"))
        signals = [f"close in the hierarchy, {relation}"]
        if sum(relabelled):
            signals.append(relabel_text())
        if confusion == "mutual":
            signals.append("the reference runs already confuse them both ways")
        if has_co and not (enough and high >= t.co_annotation):
            signals.append(f"valid together on only {together}")
        level = _level(len(signals)) if has_co else Confidence.MEDIUM
        tail = "" if has_co else "; no multi-labels to check whether they are also annotated together"
        return (Category.FINE_GRAINED, "close_kinds", level,
                note(f"{c_name} and {d_name} are look-alikes: " + "; ".join(signals) + tail))
    often = enough and high >= t.co_annotation
    near = has_lex and bool(same_kind) and wup is not None and wup >= t.near_similarity
    if near and not often and sum(relabelled):
        level = Confidence.HIGH if confusion == "mutual" else Confidence.MEDIUM
        return (Category.FINE_GRAINED, "relabelled_kinds", level,
                note(f"{c_name} and {d_name} are look-alikes: the same kind of thing ({lex_c}, {relation}) and "
                     f"{relabel_text()}" + (f"; valid together on only {together}" if has_co else "")))
    if often:
        level = Confidence.HIGH if has_tree else Confidence.MEDIUM
        if has_tree:
            text = f"{c_name} and {d_name} are valid together on {together} but are {relation}, not close kinds"
        else:
            text = (f"{c_name} and {d_name} are valid together on {together}; "
                    f"{missing or 'hierarchy'} unavailable to check whether they are close kinds")
            return Category.CO_OCCURRING, "co_annotated", level, text
        return Category.CO_OCCURRING, "co_annotated", level, note(text)

    context = []
    scene_c, scene_d = _get(row, "scene_c"), _get(row, "scene_d")
    if scene_c is not None and scene_d is not None and bool(scene_c) != bool(scene_d):
        scene, thing = (c_name, d_name) if scene_c else (d_name, c_name)
        context.append(f"{scene} is a scene and {thing} an object in it")
    similarity = _get(row, "context_similarity")
    if similarity is not None and similarity >= t.context_similarity and not same_kind:
        context.append(f"they are annotated with the same other classes (context similarity {similarity:.2f})")
    if enough:
        context.append(f"raters found both in {n_both} images")
    if has_lex and not same_kind and not row.shared_name:
        context.append(f"different kinds of thing ({_kinds(row)}), so not look-alikes")
    one_way = f"the runs send {c_name}'s images to {d_name} but not the reverse"
    if confusion == "one-way":
        context.append(one_way)
    if context == [one_way] and not has_tree:  # a bias shift between look-alikes runs one way too; only a
        # hierarchy that found them not close (the rules above) lets a one-way flow speak for context
        return (Category.INSUFFICIENT_EVIDENCE, "run_confusion_only", Confidence.LOW,
                note(f"too little evidence for {c_name} and {d_name}: {one_way}, which a context error and a "
                     f"bias shift between look-alikes both do"))
    if context and not (row.shared_name and has_co):
        counted = f" (valid together on {n_both} images)" if has_co and not enough else ""
        return (Category.CO_OCCURRING, "context", _level(len(context)),
                note(f"{c_name} and {d_name} are likely seen together{counted}: " + "; ".join(context)))
    if row.shared_name:
        if has_co:
            return (Category.UNRELATED, "homonym", Confidence.MEDIUM,
                    note(f"{c_name} and {d_name} share the name '{row.name_overlap}' but raters do not treat "
                         f"them as one (valid together on {together})" + (f"; {relation}" if relation else "")
                         + ": a homonym"))
        return (Category.AMBIGUOUS, "unconfirmed_name", Confidence.LOW,
                f"{c_name} and {d_name} share the name '{row.name_overlap}'; no multi-labels to check whether "
                f"raters treat them as one" + (f" ({missing} unavailable)" if missing else ""))
    if has_co and has_tree:
        return (Category.UNRELATED, "far_apart", Confidence.MEDIUM,
                f"{c_name} and {d_name} are {relation}, not close kinds, and valid together on only {together} "
                f"({n_both} images) with no shared context")
    parts = []
    if has_co:
        parts.append(f"valid together on {together} ({n_both} images)")
    if has_tree:
        parts.append(f"{relation}, not close kinds")
    if not parts:
        parts.append("their names do not overlap")
    return (Category.INSUFFICIENT_EVIDENCE, "missing_evidence", Confidence.LOW,
            f"too little evidence for {c_name} and {d_name}: " + "; ".join(parts)
            + f" ({missing or 'hierarchy'} unavailable)")


def decide(evidence: pd.DataFrame, thresholds: CategoryThresholds | None = None) -> pd.DataFrame:
    """Category, rule, confidence and a one-sentence reason for every row of :func:`pair_evidence`.

    Returns a copy of ``evidence`` with ``category`` (a :class:`Category` value as a string),
    ``rule`` (which rule fired, see the module docstring), ``confidence`` (a
    :class:`Confidence` value) and ``reason``. Run evidence (``confusion``) is used when the
    rows come from :func:`categorise`; without it the decision rests on the annotations and the
    hierarchy alone.

    Examples
    --------
    >>> from relabel import Annotations, LabelSpace
    >>> space = LabelSpace.from_names(["laptop", "notebook", "desk"])
    >>> ann = Annotations.from_lists(["a", "b", "c", "d"], [0, 0, 1, 2],
    ...                              [[0, 1], [0, 1], [1, 0], [2]], label_space=space)
    >>> out = decide(pair_evidence([(0, 1), (0, 2)], ann, hierarchy=None), CategoryThresholds(min_n_both=1))
    >>> out["category"].tolist(), out["confidence"].tolist()
    (['ambiguous', 'insufficient evidence'], ['medium', 'low'])
    >>> print(out["reason"][0])  # doctest: +NORMALIZE_WHITESPACE
    notebook is also valid on 100% of the images where laptop is (laptop on 100% of notebook's),
    so the labels overlap in meaning (hierarchy unavailable)
    """
    t = thresholds if thresholds is not None else CategoryThresholds()
    out = evidence.copy()
    decisions = [_decide_row(row, t) for row in out.itertuples(index=False)]
    out["category"] = [cat.value for cat, _, _, _ in decisions]
    out["rule"] = [rule for _, rule, _, _ in decisions]
    out["confidence"] = [conf.value for _, _, conf, _ in decisions]
    out["reason"] = [reason for _, _, _, reason in decisions]
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


def _poisson_p(count: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """P(X >= count) for X ~ Poisson(expected); NaN where either is missing."""
    from scipy.stats import poisson

    with np.errstate(invalid="ignore"):
        p = poisson.sf(np.round(count) - 1, expected)
    return np.where(np.isnan(count) | np.isnan(expected), np.nan, p)


def _confusion(flows: pd.DataFrame, comparison: Comparison, t: CategoryThresholds) -> dict[str, Any]:
    """Whether the reference runs confuse c with d (and d with c) more than an even spread of errors would.

    Under the reference, c's images go to d with ``share_reference``; if c's errors
    (``1 - acc_reference(c)``) were spread evenly over the other K - 1 classes, d would get
    ``(1 - acc) / (K - 1)`` of them. The test counts over all reference runs (Poisson,
    one-sided). ``mutual``: both directions significant at ``confusion_alpha``; ``one-way``:
    the reverse is significant neither under the reference nor under the treatment, although a
    reverse share as large as c's share into d under the treatment would have been (so that a
    small class d is not read as "no reverse flow"); ``none`` otherwise; missing without run
    evidence (columns absent).
    """
    n = len(flows)
    empty = {"reference_confusion_p": np.full(n, np.nan), "reverse_confusion_p": np.full(n, np.nan),
             "confusion": np.full(n, None, dtype=object)}
    needed = ("share_reference", "reverse_share_reference")
    if n == 0 or any(c not in flows for c in needed):
        return empty
    metric = comparison.params.get("metric", "original")
    per_class = comparison.per_class.drop_duplicates("class_index").set_index("class_index")
    column = f"acc_{metric}_reference"
    if column not in per_class or "n_images" not in per_class:
        return empty
    k = len(comparison.label_space)
    accuracy = per_class[column].reindex(range(k)).to_numpy(dtype=np.float64)
    size_column = "n_multilabel" if metric == "multilabel" and "n_multilabel" in per_class else "n_images"
    sizes = per_class[size_column].reindex(range(k)).to_numpy(dtype=np.float64)
    runs = comparison.params.get("runs", {}).get(comparison.params.get("reference"), [None])
    n_runs = max(len(runs), 1)
    c = flows["class_index"].to_numpy(dtype=np.int64)
    d = flows["partner_index"].to_numpy(dtype=np.int64)
    chance_c = (1 - accuracy[c]) / max(k - 1, 1)
    chance_d = (1 - accuracy[d]) / max(k - 1, 1)
    forward = _poisson_p(flows["share_reference"].to_numpy(dtype=np.float64) * sizes[c] * n_runs,
                         chance_c * sizes[c] * n_runs)
    reverse = _poisson_p(flows["reverse_share_reference"].to_numpy(dtype=np.float64) * sizes[d] * n_runs,
                         chance_d * sizes[d] * n_runs)
    if "reverse_share_treatment" in flows:
        treated = _poisson_p(flows["reverse_share_treatment"].to_numpy(dtype=np.float64) * sizes[d] * n_runs,
                             chance_d * sizes[d] * n_runs)
    else:
        treated = reverse
    # power: had d's images gone to c as often as c's go to d under the treatment, would the test see it?
    detectable = _poisson_p(flows["share_treatment"].to_numpy(dtype=np.float64) * sizes[d] * n_runs,
                            chance_d * sizes[d] * n_runs) if "share_treatment" in flows else np.full(n, np.nan)
    alpha = t.confusion_alpha
    label = np.where((forward <= alpha) & (reverse <= alpha), "mutual",
                     np.where((reverse > alpha) & (treated > alpha) & (detectable <= alpha), "one-way",
                              "none")).astype(object)
    label[np.isnan(forward) | np.isnan(reverse)] = None
    return {"reference_confusion_p": forward, "reverse_confusion_p": reverse, "confusion": label}


_PAIR_COLUMNS = [
    "class_index", "class_key", "class_name", "group", "partner_index", "partner_key", "partner_name", "rank",
    "n_c_valid", "n_d_valid", "n_both", "co_annotation_cd", "co_annotation_dc", "n_relabelled_cd",
    "n_relabelled_dc", "context_similarity",
    "lca", "lca_name", "lca_depth", "path_length", "is_ancestor", "wu_palmer", "lexname_c", "lexname_d",
    "scene_c", "scene_d", "shared_name", "name_overlap",
    "count_reference", "count_treatment", "share_reference", "share_treatment", "share_delta",
    "reverse_share_reference", "reverse_share_treatment", "reverse_share_delta",
    "reference_confusion_p", "reverse_confusion_p", "confusion",
    "pair_acc_reference", "pair_acc_treatment", "bias_shift", "loss_driver",
    "missing_evidence", "category", "rule", "confidence", "reason",
]

_CLASS_COLUMNS = [
    "class_index", "class_key", "class_name", "group", "delta", "explained_by_multilabels",
    "category", "rule", "confidence", "reason", "partner_index", "partner_name", "share_delta", "loss_driver",
    "n_pairs", "other_pairs",
]


def categorise(
    comparison: Comparison,
    annotations: Annotations | None,
    *,
    hierarchy: Any = "auto",
    wordnet_map: Any = None,
    thresholds: CategoryThresholds | None = None,
) -> Categorisation:
    """Categorise every (affected class, absorbing partner) pair of a comparison, and each class.

    The pairs are the rows of ``comparison.flows`` (the partners d whose share of class c's
    predictions rose). Evidence comes from :func:`pair_evidence` (co-annotation, relabelling
    and context over the ``annotations``, the ``hierarchy``, the names) and from the runs
    (the flows and the reference runs' confusion, :func:`_confusion`); the category from
    :func:`decide`.

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
    absorbing partner is ``insufficient evidence`` with ``partner_index`` ``<NA>``.

    Parameters
    ----------
    hierarchy
        As in :func:`pair_evidence`: ``"auto"`` uses the shipped WordNet graph for ImageNet-1k,
        ``"wordnet"`` maps a custom label space's class names to WordNet.
    wordnet_map
        With ``hierarchy="wordnet"``: a ``class_key,synset`` CSV (or a dict) that corrects the
        automatic mapping.
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
    tree, mapping = _resolve_hierarchy(hierarchy, space, wordnet_map)
    flows = comparison.flows.reset_index(drop=True)
    evidence = _evidence(flows, annotations, space, tree)
    for column in ("share_reference", "share_treatment", "reverse_share_reference", "reverse_share_treatment"):
        if column not in evidence:
            evidence[column] = np.nan
    for column, values in _confusion(evidence, comparison, t).items():
        evidence[column] = values
    bias_shift, driver = _loss_driver(evidence, t) if len(evidence) else (np.zeros(0, bool), np.zeros(0, object))
    evidence["bias_shift"] = bias_shift
    evidence["loss_driver"] = driver
    pairs = decide(evidence, t)
    pairs = pairs.reindex(columns=_PAIR_COLUMNS)
    pairs = pairs.sort_values(["group", "class_index", "rank"], kind="stable").reset_index(drop=True)

    metric = comparison.params.get("metric", "original")
    classes = _class_table(comparison, pairs, metric)
    params = {
        "thresholds": asdict(t),
        "hierarchy": tree.source if tree is not None else None,
        "multilabels": bool(annotations is not None and annotations.has_multilabels),
        "reference": comparison.params.get("reference"),
        "metric": metric,
    }
    return Categorisation(pairs, classes, params, mapping)


def _no_partner_reason(name: str, rec: Any) -> str:
    """Why an affected class names no partner, from how many classes its losses rose into."""
    spread = getattr(rec, "n_flow_destinations", None)
    if spread is None or pd.isna(spread):  # a comparison that does not count destinations
        return f"no class absorbed {name}'s lost predictions"
    k = int(spread)
    if k == 0:
        return f"no other class received more of {name}'s images"
    if k == 1:
        return "no single partner stands out (the share lost to one class rose, but not significantly)"
    return f"no single partner stands out (losses spread over {k} classes)"


def _class_table(comparison: Comparison, pairs: pd.DataFrame, metric: str) -> pd.DataFrame:
    affected = comparison.per_class[comparison.per_class["affected"]]
    rows = []
    by_class = {key: sub for key, sub in pairs.groupby(["class_index", "group"], sort=False)}
    for rec in affected.itertuples(index=False):
        sub = by_class.get((rec.class_index, rec.group))
        base = {"class_index": rec.class_index, "class_key": rec.class_key, "class_name": rec.class_name,
                "group": rec.group, "delta": getattr(rec, f"delta_{metric}"),
                "explained_by_multilabels": getattr(rec, "explained_by_multilabels", False)}
        if sub is None or sub.empty:
            rows.append({**base, "category": Category.INSUFFICIENT_EVIDENCE.value, "rule": "no_partner",
                         "confidence": Confidence.LOW.value, "reason": _no_partner_reason(rec.class_name, rec),
                         "partner_index": pd.NA, "partner_name": None, "share_delta": np.nan, "loss_driver": None,
                         "n_pairs": 0, "other_pairs": ""})
            continue
        ordered = sub.sort_values("share_delta", ascending=False, kind="stable")
        top = ordered.iloc[0]
        others = "; ".join(f"{r.partner_name} ({r.category})" for r in ordered.iloc[1:].itertuples(index=False))
        rows.append({**base, "category": top["category"], "rule": top["rule"], "confidence": top["confidence"],
                     "reason": top["reason"], "partner_index": int(top["partner_index"]),
                     "partner_name": top["partner_name"], "share_delta": float(top["share_delta"]),
                     "loss_driver": top["loss_driver"], "n_pairs": len(ordered), "other_pairs": others})
    table = pd.DataFrame(rows, columns=_CLASS_COLUMNS)
    table["partner_index"] = pd.array(table["partner_index"].tolist(), dtype="Int64")
    table["partner_name"] = table["partner_name"].astype(object).where(table["partner_name"].notna(), None)
    return table.sort_values(["group", "delta"], kind="stable").reset_index(drop=True)
