"""The README's "Use it in your trainer" snippets, run as they stand (each with the library it serves)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

import relabel

README = Path(__file__).resolve().parents[1] / "README.md"
CLASSES = ["bird", "cat", "dog"]
OVERRIDES = {
    "schema": "relabel.overrides/2",
    "label_space": "pets",
    "default": {"random_resized_crop": {"scale": [0.08, 1.0]}},
    "overrides": [{"classes": ["cat"], "transforms": {"random_resized_crop": {"scale": [0.5, 1.0]},
                                                      "horizontal_flip": False}}],
}


def _snippets() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Use it in your trainer"):]
    section = section[: section.index("\n## ", 3)]
    found: dict[str, str] = {}
    previous = 0
    for block in re.finditer(r"```python\n(.*?)```", section, re.S):
        labels = re.findall(r"^\*\*(.+?)\*\*", section[previous:block.start()], re.M)
        if labels:
            found[labels[-1].strip()] = block.group(1)
        previous = block.end()
    return found


SNIPPETS = _snippets()


def _user_lines(code: str) -> list[str]:
    return [line for line in code.splitlines()
            if line.strip() and not line.startswith(("import ", "from ")) and not line.strip().startswith("#")]


def test_the_section_covers_every_trainer_in_five_lines_or_fewer():
    for name in ("torchvision", "timm", "albumentations", "HF `datasets`", "PyTorch Lightning"):
        assert name in SNIPPETS, name
        assert len(_user_lines(SNIPPETS[name])) <= 5, (name, _user_lines(SNIPPETS[name]))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    from trainers.conftest import make_image_folder

    make_image_folder(tmp_path / "train", CLASSES, n=2)
    (tmp_path / "overrides.json").write_text(json.dumps(OVERRIDES))
    import yaml

    (tmp_path / "overrides.yaml").write_text(yaml.safe_dump(OVERRIDES))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


def _run(name: str, **names) -> dict:
    namespace = dict(names)
    exec(compile(SNIPPETS[name], f"README.md ({name})", "exec"), namespace)
    return namespace


def test_torchvision(workdir):
    ns = _run("torchvision")
    images, targets = next(iter(ns["loader"]))
    assert images.shape[1:] == (3, 32, 32)
    t = ns["train"].transform
    assert t.transform_for(1).transforms[0].scale == (0.5, 1.0)
    assert [type(s).__name__ for s in t.transform_for(1).transforms][:2] == ["RandomResizedCrop", "ToImage"]
    assert t.transform_for(0) is ns["pipeline"]


def test_timm(workdir):
    pytest.importorskip("timm")
    ns = _run("timm")
    images, _ = next(iter(ns["loader"]))
    assert images.shape[1:] == (3, 32, 32)
    crop = ns["train"].transform.transform_for(1).transforms[0]
    assert type(crop).__name__ == "RandomResizedCropAndInterpolation" and crop.scale == (0.5, 1.0)


def test_albumentations(workdir):
    pytest.importorskip("albumentations")
    ns = _run("albumentations")
    assert ns["image"].shape == (32, 32, 3)
    assert [type(s).__name__ for s in ns["transform"].transform_for(1).transforms] == ["RandomResizedCrop", "Normalize"]


def test_hf_datasets(workdir):
    pytest.importorskip("datasets")
    ns = _run("HF `datasets`")
    row = ns["train"][0]
    assert isinstance(row["image"], torch.Tensor) and row["image"].shape == (3, 32, 32)
    assert ns["transform"].transform_for(1).transforms[0].scale == (0.5, 1.0)


def test_lightning(workdir):
    L = pytest.importorskip("lightning.pytorch")
    from torchvision import datasets
    from torchvision.transforms import v2

    class MyDataModule(L.LightningDataModule):
        def __init__(self, root):
            super().__init__()
            self.root = root

        def setup(self, stage):
            pipeline = v2.Compose([v2.RandomResizedCrop(8), v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
            self.train = datasets.ImageFolder(self.root, transform=pipeline)

        def train_dataloader(self):
            return torch.utils.data.DataLoader(self.train, batch_size=2, shuffle=True)

    class Model(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(3 * 8 * 8, 3)

        def training_step(self, batch, _):
            return torch.nn.functional.cross_entropy(self.net(batch[0].flatten(1)), batch[1])

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    trainer = L.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    ns = _run("PyTorch Lightning", MyDataModule=MyDataModule, model=Model(), trainer=trainer)
    assert trainer.state.finished
    assert ns["datamodule"].train_dataloader().dataset.transform.transform_for(1).transforms[0].scale == (0.5, 1.0)


def test_a_dict_or_an_omegaconf_config(workdir):
    pytest.importorskip("omegaconf")
    ns = _run("A dict or a Hydra / OmegaConf config")
    assert ns["overrides"] == relabel.load_overrides("overrides.json") == relabel.load_overrides(dict(OVERRIDES))
    from omegaconf import OmegaConf

    bad = OmegaConf.create({**OVERRIDES, "overrides": [{"classes": ["cat"], "transforms": {"rand_augment": {
        "num_ops": 10**6}}}]})
    with pytest.raises(relabel.OverridesError, match=r"<DictConfig>: overrides\[0\].transforms.rand_augment.num_ops: "
                                                      r"expected a value <= 16, got 1000000"):
        relabel.load_overrides(bad)
