"""Shared fixtures: tiny label spaces whose numbers can be checked by eye, and real ReaL labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from relabel import Annotations, LabelSpace, Run, RunMeta


@pytest.fixture
def office_space() -> LabelSpace:
    """Four classes: 0 laptop, 1 notebook, 2 desk, 3 monitor."""
    return LabelSpace(keys=("laptop", "notebook", "desk", "monitor"),
                      names=("laptop", "notebook", "desk", "monitor"), name="office")


@pytest.fixture
def office_annotations(office_space: LabelSpace) -> Annotations:
    """Eight images, two per class; multi-label sets include an empty one (img7).

    ========  ========  ============
    image     original  multi-label
    ========  ========  ============
    img0      laptop    {laptop, notebook}
    img1      laptop    {laptop}
    img2      notebook  {notebook, laptop}
    img3      notebook  {notebook}
    img4      desk      {desk, monitor}
    img5      desk      {desk}
    img6      monitor   {monitor}
    img7      monitor   {}
    ========  ========  ============
    """
    return Annotations.from_lists(
        [f"img{i}.jpg" for i in range(8)],
        [0, 0, 1, 1, 2, 2, 3, 3],
        [[0, 1], [0], [1, 0], [1], [2, 3], [2], [3], []],
        label_space=office_space,
        source="office fixture",
    )


def make_run(images, top1, name="run", group=None, seed=None, strength=None) -> Run:
    """A top-1-only run from plain lists."""
    return Run(RunMeta(name, group, strength, seed), np.asarray(images, dtype=object),
               np.asarray(top1, dtype=np.int64)[:, None], None, None, source=f"test run {name}")


@pytest.fixture(scope="session")
def real_annotations():
    """The real ImageNet ReaL labels and original val labels, through imagenet-x."""
    from relabel import load_annotations

    return load_annotations("real")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ../shared folder beside the project (DESIGN.md and data notes)."""
    return Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def crop_log(monkeypatch):
    """Every torchvision v2 RandomResizedCrop draw: (the scale range it used, the area fraction it cropped)."""
    from torchvision.transforms import v2
    from torchvision.transforms.v2 import functional as F

    log: list[tuple[tuple[float, float], float]] = []
    original = v2.RandomResizedCrop.make_params

    def recording(self, flat_inputs):
        params = original(self, flat_inputs)
        height, width = F.get_size(flat_inputs[0])
        log.append((tuple(self.scale), params["height"] * params["width"] / (height * width)))
        return params

    monkeypatch.setattr(v2.RandomResizedCrop, "make_params", recording)
    return log
