"""PyTorch Lightning: a ``LightningDataModule`` that gives your training set class-conditional augmentation.

Stage: export, trainer side. :class:`ClassConditionalDataModule` wraps your data module: every
hook is passed through, and ``train_dataloader()`` returns your loader's settings (batch size,
sampler, workers, collate function, …) over a :class:`~relabel.transforms.ClassConditionalDataset`
of its dataset — whose own ``transform`` (e.g. ``ImageFolder(root, transform=pipeline)``)
becomes the default the overrides apply to (taken from a copy; your dataset keeps it)::

    datamodule = ClassConditionalDataModule(MyDataModule(), "overrides.json")
    trainer.fit(model, datamodule=datamodule)

Works with ``lightning`` (``lightning.pytorch``) or ``pytorch_lightning``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch.utils.data import DataLoader

from relabel.overrides.files import load
from relabel.overrides.model import Overrides
from relabel.transforms import ClassConditionalDataset

if TYPE_CHECKING:
    from relabel.labelspace import LabelSpace

LightningDataModule: Any
try:
    from lightning.pytorch import LightningDataModule
except ImportError:  # the older package name
    try:
        from pytorch_lightning import LightningDataModule
    except ImportError as e:
        raise ImportError("relabel.trainers.lightning needs PyTorch Lightning: pip install lightning") from e

__all__ = ["ClassConditionalDataModule"]


class ClassConditionalDataModule(LightningDataModule):
    """Your data module, with the override file applied to its training set.

    Parameters
    ----------
    datamodule
        Your ``LightningDataModule``; all its hooks run as they would.
    overrides
        An :class:`~relabel.overrides.Overrides` or the path of an override file.
    default
        The training pipeline; default: the training dataset's own ``transform``.
    classes, size, skip_absent
        As for :func:`relabel.transforms.build_transform` (``classes`` defaults to the
        dataset's ``class_to_idx``).
    """

    def __init__(
        self,
        datamodule: Any,
        overrides: Overrides | str | Path,
        *,
        default: Callable[..., Any] | None = None,
        classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None,
        size: int | Sequence[int] | None = None,
        skip_absent: bool = False,
    ) -> None:
        super().__init__()
        self.datamodule = datamodule
        self.overrides = overrides if isinstance(overrides, Overrides) else load(overrides)
        self.default, self.classes, self.size, self.skip_absent = default, classes, size, skip_absent

    def prepare_data(self) -> None:
        self.datamodule.prepare_data()

    def setup(self, stage: str) -> None:
        self.datamodule.setup(stage)

    def teardown(self, stage: str) -> None:
        self.datamodule.teardown(stage)

    def train_dataloader(self) -> Any:
        loader = self.datamodule.train_dataloader()
        if not isinstance(loader, DataLoader):
            raise TypeError(f"{type(self.datamodule).__name__}.train_dataloader() returned {type(loader).__name__}; "
                            f"ClassConditionalDataModule needs one torch DataLoader")
        dataset = ClassConditionalDataset(loader.dataset, self.overrides, default=self.default, classes=self.classes,
                                          size=self.size, skip_absent=self.skip_absent)
        return _like(loader, dataset)

    def val_dataloader(self) -> Any:
        return self.datamodule.val_dataloader()

    def test_dataloader(self) -> Any:
        return self.datamodule.test_dataloader()

    def predict_dataloader(self) -> Any:
        return self.datamodule.predict_dataloader()

    def state_dict(self) -> dict[str, Any]:
        return self.datamodule.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.datamodule.load_state_dict(state_dict)


def _like(loader: DataLoader, dataset: Any) -> DataLoader:
    """A DataLoader over ``dataset`` with ``loader``'s settings (its sampler indexes the same items)."""
    common: dict[str, Any] = {
        "num_workers": loader.num_workers, "collate_fn": loader.collate_fn, "pin_memory": loader.pin_memory,
        "timeout": loader.timeout, "worker_init_fn": loader.worker_init_fn, "generator": loader.generator,
        "persistent_workers": loader.persistent_workers,
    }
    if loader.num_workers > 0:
        common.update(multiprocessing_context=loader.multiprocessing_context, prefetch_factor=loader.prefetch_factor)
    if loader.batch_size is None:
        return DataLoader(dataset, batch_sampler=loader.batch_sampler, **common)
    return DataLoader(dataset, batch_size=loader.batch_size, sampler=loader.sampler, drop_last=loader.drop_last, **common)
