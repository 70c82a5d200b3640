"""PyTorch Lightning: a real Trainer.fit through ClassConditionalDataModule on an image folder."""

from __future__ import annotations

import pytest
import torch
from torchvision import datasets
from torchvision.transforms import v2

import relabel

L = pytest.importorskip("lightning.pytorch")
from relabel.trainers.lightning import ClassConditionalDataModule  # noqa: E402


class Folder(L.LightningDataModule):
    def __init__(self, root):
        super().__init__()
        self.root = root

    def setup(self, stage):
        pipeline = v2.Compose([v2.RandomResizedCrop(8, scale=(0.08, 1.0)), v2.ToImage(),
                               v2.ToDtype(torch.float32, scale=True)])
        self.train = datasets.ImageFolder(self.root, transform=pipeline)

    def train_dataloader(self):
        return torch.utils.data.DataLoader(self.train, batch_size=4, shuffle=True)


class Tiny(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 8 * 8, 3))
        self.seen: list[int] = []

    def training_step(self, batch, _):
        images, targets = batch
        self.seen += targets.tolist()
        return torch.nn.functional.cross_entropy(self.net(images), targets)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_trainer_fit_runs_on_the_class_conditional_training_set(subset_folder, recommended):
    inner = Folder(subset_folder["root"])
    datamodule = ClassConditionalDataModule(inner, recommended["path"], skip_absent=True)
    model = Tiny()
    trainer = L.Trainer(max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    with pytest.warns(relabel.RelabelWarning, match="skipped"):
        trainer.fit(model, datamodule=datamodule)
    assert sorted(model.seen) == [0, 0, 0, 1, 1, 1, 2, 2, 2]  # every image once, shuffled by the user's sampler
    loader = datamodule.train_dataloader()
    dataset = loader.dataset
    assert isinstance(dataset, relabel.ClassConditionalDataset) and loader.batch_size == 4
    index = dataset.class_to_idx[subset_folder["overridden"][0]]
    assert dataset.transform.transform_for(index).transforms[0].scale == subset_folder["scale"]
    assert inner.train.transform is dataset.transform.default  # the user's pipeline is the default, and kept
