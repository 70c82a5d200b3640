"""Simulated runs with planted class pairs, for the demo and for testing later stages.

The generator makes a reference group (``rrc-0.5``, strength 0.5) and a treatment group
(``rrc-0.08``, strength 0.08), ``n_seeds`` runs each, on real annotations. Every image has a
fixed difficulty, so runs agree on most images as real seeds do; a wrong prediction falls on
another label of the image's multi-label set when it has one (as real models' errors often
do), else on a nearby class. The treatment is slightly better on every class (``gain``) except
inside the planted pairs (c, d): a share ``shift`` of the c images it would get right is
predicted as d (only the split inside the pair moves), and d's
images that the reference predicted as c stop being so — the bias shift of DESIGN.md. The
planted truth is returned with the runs so that tests can check later stages against it.

Nothing here is a measurement of a real model: the demo says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from relabel.errors import InputError
from relabel.loading.annotations import Annotations
from relabel.loading.runs import Run, RunMeta

__all__ = ["PlantedPair", "SyntheticRuns", "IMAGENET_PLANTED_PAIRS", "simulate_runs"]


@dataclass(frozen=True)
class PlantedPair:
    """Class ``lost`` (key) loses predictions to ``absorbing`` in the treatment; ``category`` is the truth.

    ``label_artefact`` pairs move only images on which the partner is also a valid label, so
    the drop shows under original labels and vanishes under multi-labels; the others move only
    images on which it is not, so the drop is real under both.
    """

    lost: str
    absorbing: str
    category: str
    label_artefact: bool = False


#: Well-known pairs from the literature, by WordNet id. Laptop/notebook, sunglass/sunglasses and
#: the two maillots are valid together on most ReaL images (45, 46 and 44 of 50), so their
#: planted drops are label artefacts; the other seven are real drops.
IMAGENET_PLANTED_PAIRS: tuple[PlantedPair, ...] = (
    PlantedPair("n03642806", "n03832673", "ambiguous", label_artefact=True),  # laptop -> notebook
    PlantedPair("n04355933", "n04356056", "ambiguous", label_artefact=True),  # sunglass -> sunglasses
    PlantedPair("n03782006", "n04152593", "ambiguous"),  # monitor -> screen
    PlantedPair("n09428293", "n09421951", "co-occurring"),  # seashore -> sandbar
    PlantedPair("n04296562", "n03759954", "co-occurring"),  # stage -> microphone
    PlantedPair("n03873416", "n02951358", "co-occurring"),  # paddle -> canoe
    PlantedPair("n02094114", "n02094258", "fine-grained"),  # Norfolk terrier -> Norwich terrier
    PlantedPair("n02110185", "n02109961", "fine-grained"),  # Siberian husky -> Eskimo dog
    PlantedPair("n01871265", "n02504013", "fine-grained"),  # tusker -> Indian elephant
    PlantedPair("n03710637", "n03710721", "ambiguous", label_artefact=True),  # maillot -> maillot (tank suit)
)


@dataclass(frozen=True)
class SyntheticRuns:
    """Simulated runs and the planted truth.

    ``augmentations`` describes each group's (simulated) augmentation, as a runs manifest's
    ``groups`` section would. ``planted`` has one row per pair: ``class_index`` (the class that loses), ``partner_index``
    (the class that absorbs), ``class_key``, ``partner_key``, ``category``.
    """

    runs: tuple[Run, ...]
    planted: pd.DataFrame
    reference_group: str
    treatment_group: str
    augmentations: dict[str, dict[str, dict[str, list[float]]]]


def simulate_runs(
    annotations: Annotations,
    *,
    seed: int = 0,
    n_seeds: int = 3,
    planted: tuple[PlantedPair, ...] | None = None,
    shift: float = 0.8,
    reverse_share: float = 0.12,
    gain: float = 0.01,
    seed_noise: float = 0.05,
    topk: int = 5,
) -> SyntheticRuns:
    """Deterministic simulated runs on ``annotations`` with planted pairs.

    Parameters
    ----------
    planted
        Pairs by class key; default :data:`IMAGENET_PLANTED_PAIRS` (ImageNet-1k only).
    shift
        Share of the losing class's movable images (see :class:`PlantedPair`) that the
        treatment predicts as its partner instead of getting them right.
    reverse_share
        Share of the partner's images that the reference predicts as the losing class (the
        treatment predicts none of them so).
    gain
        Accuracy the treatment gains on every class (it is better on average).
    seed_noise
        Spread of the per-seed jitter around each image's fixed difficulty.
    """
    space = annotations.label_space
    k = len(space)
    if planted is None:
        if space.name != "imagenet-1k":
            raise InputError("simulate_runs: give planted pairs for a label space other than imagenet-1k")
        planted = IMAGENET_PLANTED_PAIRS
    lost = space.index_of_keys([p.lost for p in planted], where="planted pairs: ")
    absorbing = space.index_of_keys([p.absorbing for p in planted], where="planted pairs: ")
    involved = np.concatenate([lost, absorbing])
    if len(set(involved.tolist())) != len(involved):
        raise InputError("simulate_runs: each class may take part in one planted pair only")

    rng = np.random.default_rng(seed)
    n = annotations.n_images
    true = annotations.original
    class_accuracy = rng.uniform(0.55, 0.95, size=k)
    difficulty = rng.uniform(size=n)
    move = rng.uniform(size=n)
    right, wrong = _image_predictions(annotations, rng)

    partner_of = np.full(k, -1)
    partner_of[lost] = absorbing
    artefact = np.array([p.label_artefact for p in planted])
    movable = _movable(annotations, partner_of, set(lost[artefact].tolist()))
    reverse_of = np.full(k, -1)
    reverse_of[absorbing] = lost

    runs = []
    groups = (("rrc-0.5", 0.5, 0.0, False), ("rrc-0.08", 0.08, gain, True))
    for group, strength, group_gain, treated in groups:
        for s in range(n_seeds):
            seed_rng = np.random.default_rng([seed, int(treated), s])
            jitter = seed_noise * seed_rng.standard_normal(n)
            correct = difficulty + jitter < class_accuracy[true] + group_gain
            pred = np.where(correct, right, wrong)
            into_partner = movable & correct & (move + jitter < shift) if treated else np.zeros(n, dtype=bool)
            pred = np.where(into_partner, partner_of[true], pred)
            reverse = (reverse_of[true] >= 0) & (move + jitter < reverse_share) & (not treated)
            pred = np.where(reverse, reverse_of[true], pred)
            ids, scores = _topk(pred, k, topk, seed_rng)
            meta = RunMeta(name=f"{group}-seed{s}", group=group, strength=strength, seed=s)
            runs.append(Run(meta, annotations.images.copy(), ids, scores, None, source=f"simulated:{meta.name}"))

    table = pd.DataFrame(
        {
            "class_index": lost,
            "partner_index": absorbing,
            "class_key": [p.lost for p in planted],
            "partner_key": [p.absorbing for p in planted],
            "category": [p.category for p in planted],
            "label_artefact": artefact,
        }
    )
    augmentations = {group: {"random_resized_crop": {"scale": [strength, 1.0]}} for group, strength, _, _ in groups}
    return SyntheticRuns(tuple(runs), table, reference_group="rrc-0.5", treatment_group="rrc-0.08",
                         augmentations=augmentations)


def _movable(annotations: Annotations, partner_of: np.ndarray, artefact_classes: set[int]) -> np.ndarray:
    """Images whose prediction the treatment may move into the partner class.

    For a label-artefact pair, images on which the partner is a valid label; for the others,
    images on which it is not (every image when there are no multi-labels).
    """
    true = annotations.original
    partner = partner_of[true]
    in_pair = partner >= 0
    indptr, indices = annotations.multilabel_indptr, annotations.multilabel_indices
    if indptr is None or indices is None:  # no multi-label sets
        return in_pair
    owner = np.repeat(np.arange(annotations.n_images), np.diff(indptr))
    partner_valid = np.zeros(annotations.n_images, dtype=bool)
    partner_valid[owner[indices == partner[owner]]] = True
    artefact = np.isin(true, list(artefact_classes))
    return in_pair & np.where(artefact, partner_valid, ~partner_valid)


def _image_predictions(annotations: Annotations, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each image's fixed right and wrong prediction.

    Right is the original label, or a label of the multi-label set when the set is non-empty
    and lacks the original label (ReaL's correction). Wrong is, with probability 0.6, another
    label of the set when one exists, else a nearby class.
    """
    n = annotations.n_images
    k = len(annotations.label_space)
    true = annotations.original
    right = true.copy()
    offsets = rng.integers(1, 6, size=n) * rng.choice([-1, 1], size=n)
    wrong = (true + offsets) % k
    indptr, indices = annotations.multilabel_indptr, annotations.multilabel_indices
    if indptr is not None and indices is not None:  # multi-label sets
        lengths = np.diff(indptr)
        owner = np.repeat(np.arange(n), lengths)
        other = indices != true[owner]
        original_in_set = np.zeros(n, dtype=bool)
        original_in_set[owner[~other]] = True
        # one random other label per image: the one with the highest random key
        keys = np.where(other, rng.uniform(size=len(indices)), -1.0)
        order = np.lexsort((keys, owner))
        last = np.r_[owner[order][1:] != owner[order][:-1], True] if len(order) else np.zeros(0, dtype=bool)
        pick = order[last]
        pick = pick[keys[pick] >= 0]
        use_other = rng.uniform(size=len(pick)) < 0.6
        wrong[owner[pick[use_other]]] = indices[pick[use_other]]
        corrected = ~original_in_set[owner[pick]]
        right[owner[pick[corrected]]] = indices[pick[corrected]]
    return right, wrong


def _topk(pred: np.ndarray, k: int, topk: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Top-k ids led by ``pred`` (others distinct) and decreasing scores that sum to at most 1."""
    n = len(pred)
    topk = min(topk, k)
    offsets = rng.choice(np.arange(1, k), size=topk - 1, replace=False)
    ids = np.concatenate([pred[:, None], (pred[:, None] + offsets[None, :]) % k], axis=1)
    top = rng.uniform(0.3, 0.95, size=n)
    rest = rng.dirichlet(np.ones(max(topk - 1, 1)), size=n)[:, : topk - 1] * (1 - top)[:, None] * 0.9
    rest = -np.sort(-rest, axis=1)
    scores = np.concatenate([top[:, None], np.minimum(rest, top[:, None])], axis=1).astype(np.float32)
    return ids.astype(np.int64), scores
