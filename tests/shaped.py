"""Runs shaped like real ones, for the verdict tests: unequal class sizes, few seeds, fixed image difficulty.

Every image of class c has a fixed difficulty (its rank among c's images, spread evenly over
[0, 1)) and a fixed destination class it is predicted as when wrong. A run of a group with
per-class accuracy ``acc`` gets an image right when ``difficulty + jitter < acc[c]``, where the
jitter is a small per-run, per-image noise: seeds agree on most images and disagree near the
threshold, as real seeds do. A test plants a flow by choosing the destinations of the images
whose difficulty lies between two groups' accuracies (:func:`band`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from relabel import Annotations, LabelSpace, Run, RunMeta, write_run

CIFAR10 = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


@dataclass(frozen=True)
class Shaped:
    """A label space with single-label annotations and each image's class, difficulty and destination."""

    space: LabelSpace
    annotations: Annotations
    true: np.ndarray
    difficulty: np.ndarray
    destination: np.ndarray

    def index(self, name: str) -> int:
        return self.space.names.index(name)

    def band(self, name: str, low: float, high: float) -> np.ndarray:
        """Images of class ``name`` whose difficulty lies in [low, high), easiest first."""
        c = self.index(name)
        images = np.flatnonzero((self.true == c) & (self.difficulty >= low) & (self.difficulty < high))
        return images[np.argsort(self.difficulty[images], kind="stable")]

    def send(self, images: np.ndarray, names: Sequence[str]) -> None:
        """Make ``images`` go to the classes ``names`` in turn when they are wrong."""
        targets = np.array([self.index(n) for n in names])
        self.destination[images] = targets[np.arange(len(images)) % len(targets)]


def single_labels(sizes: Sequence[int], names: Sequence[str] = CIFAR10, *, seed: int = 0,
                  multilabels: Sequence[Sequence[str]] | None = None) -> Shaped:
    """``sizes[c]`` images of class ``names[c]``; wrong predictions go to a random other class by default."""
    rng = np.random.default_rng(seed)
    space = LabelSpace.from_names(list(names), name="shaped")
    true = np.repeat(np.arange(len(sizes)), sizes)
    difficulty = np.empty(len(true))
    for c, n in enumerate(sizes):
        difficulty[true == c] = (rng.permutation(n) + 0.5) / n
    destination = (true + rng.integers(1, len(sizes), size=len(true))) % len(sizes)
    images = [f"img{i:06d}.png" for i in range(len(true))]
    annotations = Annotations.from_lists(images, true.tolist(), multilabels, label_space=space, source="shaped")
    return Shaped(space, annotations, true, difficulty, destination)


def simulate(shaped: Shaped, groups: Mapping[str, tuple[float | None, int, Mapping[str, float]]], *,
             base: float = 0.8, jitter: float = 0.003, seed: int = 0) -> list[Run]:
    """Runs for ``{group: (strength, n_seeds, {class name: accuracy})}``; unnamed classes get ``base``."""
    runs = []
    for g, (group, (strength, n_seeds, accuracy)) in enumerate(groups.items()):
        acc = np.full(len(shaped.space), base)
        for name, value in accuracy.items():
            acc[shaped.index(name)] = value
        for s in range(n_seeds):
            noise = jitter * np.random.default_rng([seed, g, s]).standard_normal(len(shaped.true))
            pred = np.where(shaped.difficulty + noise < acc[shaped.true], shaped.true, shaped.destination)
            meta = RunMeta(f"{group}-seed{s}", group, strength, s)
            runs.append(Run(meta, shaped.annotations.images.copy(), pred[:, None].astype(np.int64),
                            source=f"shaped:{meta.name}"))
    return runs


def write_files(folder: Path, shaped: Shaped, runs: Sequence[Run],
                augmentations: Mapping[str, Mapping[str, object]] | None = None) -> Path:
    """classes.csv, labels.csv, one Parquet file per run and runs.yaml (runs in the given order)."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    names = shaped.space.names
    (folder / "classes.csv").write_text("key,name\n" + "".join(f"{n},{n}\n" for n in names))
    (folder / "labels.csv").write_text(
        "image,label\n" + "".join(f"{i},{names[t]}\n" for i, t in zip(shaped.annotations.images, shaped.true)))
    entries = []
    for run in runs:
        path = folder / f"{run.meta.name}.parquet"
        write_run(run, path)
        meta = {"name": run.meta.name, "group": run.meta.group, "strength": run.meta.strength, "seed": run.meta.seed}
        entries.append({"path": path.name, **{k: v for k, v in meta.items() if v is not None}})
    manifest = {"annotations": "labels.csv", "label_space": "classes.csv", "runs": entries}
    if augmentations:
        manifest["groups"] = {g: dict(a) for g, a in augmentations.items()}
    (folder / "runs.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return folder / "runs.yaml"


def mixed_group(shaped: Shaped, group: str = "a", *, lowered: str = "cat", accuracy: float = 0.2,
                seed: int = 0) -> list[Run]:
    """Four runs labelled ``group`` that are not one recipe: seeds 2 and 3 get ``lowered`` right with ``accuracy``
    (the others at 0.8), as when two runs of another recipe are filed under the group. An A/A check of the group
    truly fails: every split that puts seeds 0, 1 against seeds 2, 3 (one in three) flags ``lowered``."""
    import dataclasses

    good = simulate(shaped, {group: (None, 2, {})}, seed=seed)
    bad = simulate(shaped, {"other": (None, 2, {lowered: accuracy})}, seed=seed + 1)
    renamed = [dataclasses.replace(run, meta=RunMeta(f"{group}-seed{s + 2}", group, None, s + 2),
                                   source=f"shaped:{group}-seed{s + 2}") for s, run in enumerate(bad)]
    return good + renamed
