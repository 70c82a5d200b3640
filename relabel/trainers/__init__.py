"""Trainer adapters: the override file in the libraries people train with.

Stage: export, trainer side (beside :mod:`relabel.transforms`, which serves torchvision, timm and
any PyTorch loop). Each adapter reads :meth:`relabel.overrides.Overrides.resolve` through
:func:`relabel.transforms.build_transform` or builds its own pipelines from it; no format
module imports them, and each imports its library only when used:

* :mod:`relabel.trainers.hf` — HF ``datasets``: a batch function for ``set_transform`` /
  ``with_transform``;
* :mod:`relabel.trainers.lightning` — a PyTorch Lightning ``LightningDataModule`` that wraps yours;
* :mod:`relabel.trainers.albumentations` — per-class ``A.Compose`` pipelines.

timm needs no adapter: ``ClassConditionalDataset(timm_dataset, "overrides.json")`` takes the
pipeline ``timm.data.create_loader`` assigns as its default (see the README).
"""
