"""The closed loop on real images: detect → recommend → retrain → verify, on CPU in minutes.

The data are scikit-learn's handwritten digits (:func:`sklearn.datasets.load_digits`: 1,797
real 8×8 scans of 10 digits), each padded to 12×12. The images are split once, per class, into
a training half and a test half (``data_seed``). In the test half a share of the scans
(``rotated_share``, default half) is rotated by a random angle (uniform in [-180°, 180°]): the
deployment case of forms fed into the scanner at any angle, which a rotation augmentation is
meant to cover.

Two recipes train the same small CNN (three 3×3 convolutions, 16/32/64 channels, global max
pooling; Adam with a one-cycle learning rate up to 0.003, batch 32, ``epochs`` epochs, one run
per seed):

* ``mild``: ``RandomCrop(12, padding=1)`` (shifts of one pixel);
* ``strong``: the same plus ``RandomRotation(180)``. It keeps the mean class accuracy (0, 1, 2
  and 4 are now read at any angle) but it is not label-preserving for every digit: rotated, a 6,
  7 or 9 resembles other digits (a 6 upside down is nearly a 9), so those classes lose.

relabel then does what a user would: the runs are written as Parquet files with a runs
manifest (the two groups' augmentations under ``groups``), evaluated and compared with
``mild`` as the reference, the affected classes categorised, and an override file
recommended for ``strong`` (``overrides.json``: the classes that lost accuracy without the
rotation; ``target="lost"``). ``strong`` is retrained with that file through
:class:`relabel.transforms.ClassConditionalDataset`, and relabel compares the retrained runs
with ``strong`` (``verify/``). The loop is closed (``ClosedLoop.closed``) when, in that
comparison, every class the override covers for having lost accuracy rose, the largest loss
rose significantly (relabel's ``improved`` flag: at least ``min_drop`` and ``q <= fdr``) and the
mean class accuracy did not fall.

Everything is seeded: the split and the rotated test images by ``data_seed``, each run by its
seed (``torch.manual_seed`` and the order of its batches), with ``torch``'s deterministic
algorithms on and ``threads`` CPU threads (default 1); the same arguments give the same files
on the same machine and library versions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relabel._atomic import atomic_path
from relabel.categorisation import categorise
from relabel.comparison import Comparison, compare, run_order
from relabel.evaluation import Evaluation, evaluate
from relabel.export import write_recommendation, write_results
from relabel.labelspace import load_label_space
from relabel.loading import load_runs
from relabel.loading.annotations import Annotations, load_annotations
from relabel.loading.manifest import read_manifest
from relabel.errors import InputError
from relabel.loading.runs import Run, RunMeta, write_run
from relabel.pairing import pair
from relabel.progress import progress
from relabel.recommendation import Recommendation, recommend

__all__ = ["ClosedLoop", "closed_loop", "CLASS_NAMES", "RECIPES"]

CLASS_NAMES = tuple(f"digit {d}" for d in range(10))
"""The label space of the digits: ``digit 0`` … ``digit 9`` (class index = the digit)."""

RECIPES: dict[str, dict[str, Any]] = {
    "mild": {"random_crop": {"padding": 1}},
    "strong": {"random_crop": {"padding": 1}, "random_rotation": {"degrees": 180}},
}
"""Each group's augmentation as the runs manifest describes it (``groups``)."""

SIZE = 12


@dataclass(frozen=True)
class ClosedLoop:
    """What the closed loop found and wrote.

    Attributes
    ----------
    figures
        One row per class: ``class_index``, ``class_name``, ``acc_mild``, ``acc_strong``,
        ``acc_retrained`` (top-1 accuracy, mean over the seeds), ``overridden`` (the
        override file covers the class), ``hurt`` (affected under ``strong``, and covered
        for it), ``delta_strong`` (strong − mild) and ``delta_retrained`` (retrained −
        strong); then a row named ``mean`` (``class_index`` missing) with the mean class accuracies.
    before
        relabel's comparison of ``strong`` with ``mild`` (the reference).
    recommendation
        The recommendation made from it (its override file is ``overrides.json``).
    after
        relabel's comparison of ``retrained`` with ``strong`` (the reference).
    hurt
        The class indices the override covers for having lost accuracy (its ``lost`` side),
        largest loss first.
    recovered
        The hurt classes that ``after`` marks ``improved`` (a significant rise).
    closed
        Every hurt class rose in ``after``, the first (largest loss) is in ``recovered``, and
        ``after``'s mean class accuracy change is at least 0.
    out
        The folder holding everything: ``data/``, ``runs/``, ``runs.yaml``, ``results/``,
        ``overrides.json`` (+ ``.csv``), ``verify.yaml``, ``verify/`` and ``figures.csv``.
    """

    figures: pd.DataFrame
    before: Comparison
    recommendation: Recommendation
    after: Comparison
    hurt: tuple[int, ...]
    recovered: tuple[int, ...]
    closed: bool
    out: Path


def closed_loop(
    out: str | Path,
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    epochs: int = 15,
    rotated_share: float = 0.5,
    data_seed: int = 0,
    n_bootstrap: int = 1000,
    threads: int = 1,
) -> ClosedLoop:
    """Run the closed loop on the digits and write its files under ``out`` (module docstring).

    Trains ``3 × len(seeds)`` small CNNs on CPU (a few seconds each). ``n_bootstrap`` is the
    comparisons' number of bootstrap draws (their seed is 0).
    """
    import torch

    if not seeds:
        raise InputError("closed_loop: seeds is empty; give at least one seed")
    out = Path(out)
    previous = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        data = _digits(rotated_share, data_seed)
        ann = _write_data(data, out / "data")
        groups = {name: RECIPES[name] for name in ("mild", "strong")}
        for name in groups:
            for seed in progress(seeds, desc=f"train {name}", unit="run"):
                _train_and_write(data, _pipeline(name), seed, epochs, name, out / "runs")
        manifest = _write_manifest(out / "runs.yaml", groups, [(g, s) for g in groups for s in seeds])
        evaluations = _evaluate_manifest(manifest, ann)
        before = compare(evaluations, reference="mild", n_bootstrap=n_bootstrap)
        categorisation = categorise(before, ann, hierarchy=None)
        recommendation = recommend(before, categorisation, augmentations=read_manifest(manifest).groups,
                                   default_group="strong", target="lost")
        override_file = out / "overrides.json"
        write_results(out / "results", evaluations, before, categorisation, recommendation,
                      override_file=override_file)
        write_recommendation(recommendation, override_file, label_space=ann.label_space)

        for seed in progress(seeds, desc="retrain", unit="run"):
            _train_and_write(data, _pipeline("strong"), seed, epochs, "retrained", out / "runs",
                             overrides=override_file)
        verify = _write_manifest(out / "verify.yaml", {"strong": RECIPES["strong"]},
                                 [(g, s) for g in ("strong", "retrained") for s in seeds])
        evaluations_after = _evaluate_manifest(verify, ann)
        after = compare(evaluations_after, reference="strong", n_bootstrap=n_bootstrap)
        write_results(out / "verify", evaluations_after, after, categorise(after, ann, hierarchy=None))
    finally:
        torch.set_num_threads(previous[0])
        torch.use_deterministic_algorithms(previous[1])

    lost = [key for ov in recommendation.overrides.overrides for key in (ov.side.lost if ov.side else ())]
    hurt = tuple(dict.fromkeys(int(i) for i in ann.label_space.index_of_keys(lost))) if lost else ()
    figures = _figures(before, after, recommendation, hurt)
    with atomic_path(out / "figures.csv") as tmp:
        figures.to_csv(tmp, index=False, float_format="%.4f")
    per_class = after.per_class.set_index("class_index")
    summary = after.summary.set_index("group")
    recovered = tuple(c for c in hurt if bool(per_class.loc[c, "improved"]))
    closed = (bool(hurt) and hurt[0] in recovered and all(float(per_class.loc[c, "delta_original"]) > 0 for c in hurt)
              and float(summary.loc["retrained", "mean_delta_original"]) >= 0)
    return ClosedLoop(figures, before, recommendation, after, hurt, recovered, closed, out)


# --------------------------------------------------------------------------------------------
# Data, recipes and training


@dataclass(frozen=True)
class _Digits:
    images: Any  # float tensor (n, 1, 12, 12) in [0, 1]
    labels: np.ndarray
    keys: np.ndarray
    train: np.ndarray
    test: np.ndarray


def _digits(rotated_share: float, seed: int) -> _Digits:
    import torch
    from sklearn.datasets import load_digits
    from torchvision.transforms.v2 import functional as F

    digits = load_digits()
    labels = np.asarray(digits.target, dtype=np.int64)
    images = torch.nn.functional.pad(torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0,
                                     (2, 2, 2, 2))
    rng = np.random.default_rng(seed)
    is_test = np.zeros(len(labels), dtype=bool)
    for c in range(10):
        members = np.flatnonzero(labels == c)
        rng.shuffle(members)
        is_test[members[: len(members) // 2]] = True
    rotated = is_test & (rng.random(len(labels)) < rotated_share)
    angles = rng.uniform(-180.0, 180.0, size=len(labels))
    for i in np.flatnonzero(rotated):
        images[i] = F.rotate(images[i], float(angles[i]))
    keys = np.asarray([f"digit_{i:04d}{'_rotated' if r else ''}.png" for i, r in enumerate(rotated)], dtype=object)
    return _Digits(images, labels, keys, np.flatnonzero(~is_test), np.flatnonzero(is_test))


def _pipeline(recipe: str) -> Any:
    from torchvision.transforms import v2

    steps: list[Any] = [v2.RandomCrop(SIZE, padding=RECIPES[recipe]["random_crop"]["padding"])]
    if "random_rotation" in RECIPES[recipe]:
        steps.append(v2.RandomRotation(RECIPES[recipe]["random_rotation"]["degrees"]))
    return v2.Compose(steps)


class _TrainSet:
    """The training half as a map-style dataset of ``(image tensor, digit)``, with the digits' classes."""

    def __init__(self, data: _Digits) -> None:
        self._data = data
        self.classes = list(CLASS_NAMES)
        self.class_to_idx = {name: i for i, name in enumerate(CLASS_NAMES)}

    def __len__(self) -> int:
        return len(self._data.train)

    def __getitem__(self, i: int) -> tuple[Any, int]:
        j = self._data.train[i]
        return self._data.images[j], int(self._data.labels[j])


def _network() -> Any:
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(64, 10),
    )


def _train_and_write(data: _Digits, pipeline: Callable[..., Any], seed: int, epochs: int, group: str, folder: Path,
                     *, overrides: Path | None = None) -> Path:
    import torch

    from relabel.transforms import ClassConditionalDataset

    base = _TrainSet(data)
    dataset: Any = ClassConditionalDataset(base, overrides, default=pipeline) if overrides is not None else None
    torch.manual_seed(seed)
    model = _network()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    order = torch.Generator().manual_seed(seed)
    steps = epochs * -(-len(base) // 32)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, total_steps=steps)
    for _ in range(epochs):
        permutation = torch.randperm(len(base), generator=order).tolist()
        for start in range(0, len(base), 32):
            batch = [dataset[i] if dataset is not None else _plain(base[i], pipeline)
                     for i in permutation[start:start + 32]]
            x = torch.stack([image for image, _ in batch])
            y = torch.tensor([target for _, target in batch])
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    model.eval()
    with torch.no_grad():
        scores = torch.softmax(model(data.images[torch.from_numpy(data.test)]), dim=1)
    top = torch.topk(scores, 5, dim=1)
    run = Run(RunMeta(f"{group}-s{seed}", group, None, seed), data.keys[data.test], top.indices.numpy(),
              top.values.numpy())
    return write_run(run, folder / f"{group}-s{seed}.parquet")


def _plain(item: tuple[Any, int], pipeline: Callable[..., Any]) -> tuple[Any, int]:
    return pipeline(item[0]), item[1]


# --------------------------------------------------------------------------------------------
# relabel's side, through its files


def _write_data(data: _Digits, folder: Path) -> Annotations:
    space = folder / "classes.txt"
    with atomic_path(space) as tmp:
        tmp.write_text("".join(f"{name}\n" for name in CLASS_NAMES), encoding="utf-8")
    labels = folder / "labels.csv"
    table = pd.DataFrame({"image": data.keys[data.test], "label": [CLASS_NAMES[c] for c in data.labels[data.test]]})
    with atomic_path(labels) as tmp:
        table.to_csv(tmp, index=False)
    return load_annotations(str(labels), label_space=load_label_space(space))


def _write_manifest(path: Path, groups: dict[str, dict[str, Any]], runs: list[tuple[str, int]]) -> Path:
    data = {
        "label_space": "data/classes.txt",
        "annotations": "data/labels.csv",
        "groups": groups,
        "runs": [{"path": f"runs/{g}-s{s}.parquet", "group": g, "seed": s} for g, s in runs],
    }
    import yaml

    with atomic_path(path) as tmp:
        tmp.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _evaluate_manifest(path: Path, ann: Annotations) -> list[Evaluation]:
    manifest = read_manifest(path)
    runs = load_runs(list(manifest.runs), label_space=ann.label_space)
    return run_order([evaluate(pair(run, ann)) for run in runs])


def _figures(before: Comparison, after: Comparison, recommendation: Recommendation,
             hurt: tuple[int, ...]) -> pd.DataFrame:
    means = pd.concat([before.group_means, after.group_means[after.group_means["group"] == "retrained"]])
    wide = means.pivot(index="class_index", columns="group", values="acc_original")
    keys = [key for ov in recommendation.overrides.overrides for key in ov.classes]
    covered = {int(i) for i in before.label_space.index_of_keys(keys)}
    figures = pd.DataFrame({
        "class_index": pd.array(wide.index.astype(int), dtype="Int64"),
        "class_name": [before.label_space.names[c] for c in wide.index],
        "acc_mild": wide["mild"].to_numpy(), "acc_strong": wide["strong"].to_numpy(),
        "acc_retrained": wide["retrained"].to_numpy(),
    })
    figures["overridden"] = figures["class_index"].isin(covered)
    figures["hurt"] = figures["class_index"].isin(hurt)
    figures["delta_strong"] = figures["acc_strong"] - figures["acc_mild"]
    figures["delta_retrained"] = figures["acc_retrained"] - figures["acc_strong"]
    mean = {"class_index": pd.NA, "class_name": "mean", "overridden": False, "hurt": False,
            **{c: figures[c].mean() for c in ("acc_mild", "acc_strong", "acc_retrained", "delta_strong",
                                              "delta_retrained")}}
    last = pd.DataFrame([mean]).astype({"class_index": "Int64"})
    return pd.concat([figures, last], ignore_index=True)

