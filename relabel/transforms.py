"""Trainer side of the override file: class-conditional augmentation in a torchvision pipeline.

Stage: export (what a training script imports). Image datasets such as torchvision's
``ImageFolder`` call ``transform(image)`` without the target, so a transform that depends on
the class needs either the target passed in (:class:`ClassConditionalTransform`, a
``torchvision.transforms.v2`` transform called as ``t(image, target)``) or a dataset wrapper
that passes it (:class:`ClassConditionalDataset`).

Usually both come from an override file::

    import relabel
    from torchvision import datasets
    from torchvision.transforms import v2

    train = datasets.ImageFolder("train/")            # no transform here
    default = v2.Compose([v2.RandomResizedCrop(224), v2.RandomHorizontalFlip(),
                          v2.ToImage(), v2.ToDtype(torch.float32, scale=True),
                          v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    overrides = relabel.overrides.load("overrides.json", classes=train.class_to_idx)
    transform = relabel.transforms.build_transform(overrides, default=default, classes=train.class_to_idx)
    train = relabel.transforms.ClassConditionalDataset(train, transform)

This module reads the format (:mod:`relabel.overrides`) and nothing reads it back: the
override file knows no trainer. It consumes :meth:`~relabel.overrides.Overrides.resolve` (the
overrides keyed by the trainer's class indices) and follows the format's one pipeline order
(:data:`relabel.overrides.ORDER`). How an override composes with the default pipeline is
:func:`override_pipeline`'s rule.
"""

from __future__ import annotations

import copy
import operator
import warnings
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch.utils.data import Dataset
from torchvision.transforms import v2

from relabel.errors import InputError, OverridesError, RelabelWarning
from relabel.overrides.files import load
from relabel.overrides.model import Overrides
from relabel.pipeline import build_pipeline, check_default, override_pipeline

if TYPE_CHECKING:
    from relabel.labelspace import LabelSpace

__all__ = [
    "ClassConditionalTransform",
    "ClassConditionalDataset",
    "build_transform",
    "override_pipeline",
    "build_pipeline",
    "check_default",
]

_NO_TARGET = object()


def _class_index(target: Any) -> int:
    """A sample's class index from an int, a numpy integer or a one-element integer tensor."""
    if isinstance(target, torch.Tensor):
        if target.numel() == 1 and not target.is_floating_point() and not target.is_complex():
            return int(target.item())
        raise TypeError(
            f"expected the target to be a class index, got a tensor of shape {tuple(target.shape)} and dtype "
            f"{target.dtype} (apply class-conditional transforms before one-hot encoding, mixup or cutmix)"
        )
    if isinstance(target, bool) or not hasattr(target, "__index__"):
        raise TypeError(f"expected the target to be a class index (an integer), got {type(target).__name__}: {target!r}")
    return operator.index(target)


class ClassConditionalTransform(v2.Transform):
    """Apply the transform for a sample's class: an override's pipeline, else the default.

    A ``torchvision.transforms.v2`` transform that needs the target:

    * ``t(image, target)`` returns ``(transformed image, target)`` (so it also works inside a
      ``v2.Compose`` called with ``(image, target)``);
    * ``t((image, target))`` returns ``(transformed image, target)``;
    * ``t(image, target=target)`` returns the transformed image alone.

    The target (an int, numpy integer or one-element integer tensor) passes through unchanged
    and the chosen pipeline is called with the image only, so v1 pipelines work too.
    ``t(image)`` without a target raises ``TypeError``: wrap the dataset in
    :class:`ClassConditionalDataset` instead of handing ``t`` to ``ImageFolder(transform=...)``.

    Parameters
    ----------
    default
        The pipeline for classes without an override.
    by_class
        ``{class index: pipeline}`` for the overridden classes. Usually built by
        :func:`build_transform`.

    Examples
    --------
    >>> from PIL import Image
    >>> t = ClassConditionalTransform(v2.Identity(), {1: v2.Grayscale()})
    >>> image = Image.new("RGB", (4, 4))
    >>> t(image, 0)[0].mode, t(image, 1)[0].mode, t(image, target=1).mode
    ('RGB', 'L', 'L')
    """

    def __init__(self, default: Callable[..., Any], by_class: Mapping[int, Callable[..., Any]]) -> None:
        super().__init__()
        bad = [k for k in by_class if isinstance(k, bool) or not isinstance(k, int) or k < 0]
        if bad:
            raise OverridesError(f"ClassConditionalTransform: class indices must be integers >= 0; got {bad[:5]!r}")
        not_callable = [k for k, t in by_class.items() if not callable(t)]
        if not callable(default) or not_callable:
            raise TypeError("ClassConditionalTransform: the default and every class's transform must be callable")
        self.default = default
        self._by_class = dict(by_class)

    @property
    def by_class(self) -> Mapping[int, Callable[..., Any]]:
        """``{class index: pipeline}`` for the overridden classes (read-only)."""
        return MappingProxyType(self._by_class)

    def transform_for(self, target: Any) -> Callable[..., Any]:
        """The pipeline a sample of class ``target`` gets."""
        return self._by_class.get(_class_index(target), self.default)

    def forward(self, *inputs: Any, target: Any = _NO_TARGET) -> Any:  # like v2.Compose, a container
        if target is not _NO_TARGET:
            if len(inputs) != 1:
                raise TypeError(f"t(image, target=...) takes one image, got {len(inputs)} positional inputs")
            return self.transform_for(target)(inputs[0])
        if len(inputs) == 1 and isinstance(inputs[0], (tuple, list)) and len(inputs[0]) == 2:
            image, target = inputs[0]
            return self.transform_for(target)(image), target
        if len(inputs) == 2:
            image, target = inputs
            return self.transform_for(target)(image), target
        raise TypeError(
            "ClassConditionalTransform needs the sample's target: call t(image, target) or "
            "t(image, target=...), or wrap the dataset in relabel.transforms.ClassConditionalDataset "
            "(datasets such as ImageFolder call transform(image) without the target)"
        )

    def extra_repr(self) -> str:
        distinct = len({id(t) for t in self._by_class.values()})
        return f"{len(self._by_class)} overridden classes, {distinct} override pipelines"


class ClassConditionalDataset(Dataset):
    """A map-style dataset whose samples go through a class-conditional transform.

    Wraps any dataset whose items are ``(image, target)`` pairs (torchvision ``ImageFolder``,
    ``CIFAR10``, timm's ``ImageDataset``, …) or mappings with an image and a label column (an
    HF ``datasets`` ``Dataset``; ``image_column``, ``label_column``). ``dataset[i]`` returns
    ``(transform(image, target)[0], target)``, with ``target_transform`` applied to the target
    last. ``classes`` and ``class_to_idx`` are kept from the wrapped dataset (or its timm
    reader), or derived from an HF ``ClassLabel`` label column.

    ``transform`` is either a class-conditional transform (a :class:`ClassConditionalTransform`
    from :func:`build_transform`) or the overrides themselves (an
    :class:`~relabel.overrides.Overrides` or the path of an override file). Given the
    overrides, the dataset builds the transform from a default pipeline — ``default=``, else
    the wrapped dataset's own ``transform`` (taken from a copy of it, so the dataset you passed
    keeps it), else the pipeline a trainer assigns later: ``dataset.transform = pipeline`` (what
    timm's ``create_loader`` does) makes that pipeline the default and the overrides apply on top
    of it. Assigning a plain pipeline to a dataset built from a ready transform is an error,
    never a silent replacement of the class-conditional transform.

    A wrapped dataset that keeps its own transform while ``transform`` is a ready
    class-conditional one runs it first; relabel warns.
    """

    def __init__(
        self,
        dataset: Any,
        transform: Callable[[Any, Any], tuple[Any, Any]] | Overrides | str | Path,
        *,
        image_column: str = "image",
        label_column: str = "label",
        target_transform: Callable[[Any], Any] | None = None,
        default: Callable[..., Any] | None = None,
        classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None,
        size: int | Sequence[int] | None = None,
        skip_absent: bool = False,
    ) -> None:
        self.image_column = image_column
        self.label_column = label_column
        self.target_transform = target_transform
        self._recipe: dict[str, Any] | None = None
        self._transform: Callable[[Any, Any], tuple[Any, Any]] | None = None
        if isinstance(transform, (Overrides, str, Path)):
            dataset, own = _without_transform(dataset)
            self.dataset = dataset
            self._check_columns()
            found = classes if classes is not None else self._classes_or_none()
            if found is None:
                raise OverridesError(f"pass classes= (the {type(dataset).__name__} has no class_to_idx or ClassLabel "
                                     f"names to map the override file's class keys to)")
            overrides = transform if isinstance(transform, Overrides) else load(transform, classes=found,
                                                                                 skip_absent=skip_absent)
            self._recipe = {"overrides": overrides, "classes": found, "size": size, "skip_absent": skip_absent}
            pipeline = default if default is not None else own
            if pipeline is not None:
                self._transform = self._build(pipeline)
            return
        if default is not None or classes is not None or size is not None:
            raise TypeError("default=, classes= and size= go with overrides (a file or Overrides), not with a ready "
                            "transform")
        if not callable(transform):
            raise TypeError(f"transform must be callable as transform(image, target), got {type(transform).__name__}")
        self.dataset = dataset
        self._transform = transform
        if getattr(dataset, "transform", None) is not None:
            warnings.warn(
                RelabelWarning(
                    f"the wrapped {type(dataset).__name__} already has a transform; it runs before the "
                    f"class-conditional one (create the dataset without transform=)"
                ),
                stacklevel=2,
            )
        self._check_columns()

    def _check_columns(self) -> None:
        columns = getattr(self.dataset, "column_names", None)
        if isinstance(columns, list):
            missing = [c for c in (self.image_column, self.label_column) if c not in columns]
            if missing:
                raise InputError(
                    f"{type(self.dataset).__name__} has no column {missing[0]!r}; its columns are {columns} "
                    f"(pass image_column= and label_column=)"
                )

    def _build(self, pipeline: Any) -> ClassConditionalTransform:
        assert self._recipe is not None
        if not callable(pipeline):
            raise OverridesError(f"the default pipeline must be callable; got {_what(pipeline)} (timm's "
                                 f"create_transform(separate=True) and create_loader(num_aug_splits=...) make a tuple "
                                 f"of pipelines, which relabel does not split)")
        return build_transform(self._recipe["overrides"], default=pipeline, classes=self._recipe["classes"],
                               size=self._recipe["size"], skip_absent=self._recipe["skip_absent"])

    @property
    def transform(self) -> Callable[[Any, Any], tuple[Any, Any]] | None:
        """The class-conditional transform (``None`` until a default pipeline is known)."""
        return self._transform

    @transform.setter
    def transform(self, value: Any) -> None:
        if isinstance(value, ClassConditionalTransform):
            self._transform = value
            return
        if self._recipe is None:
            raise OverridesError(
                f"ClassConditionalDataset.transform was assigned {_what(value)} (timm's create_loader does this), which "
                f"would replace the class-conditional transform. Build the dataset from the overrides instead — "
                f"ClassConditionalDataset(dataset, 'overrides.json') — and an assigned pipeline becomes the default "
                f"the overrides apply to")
        if value is None:
            raise OverridesError("ClassConditionalDataset.transform was assigned None (timm's create_loader does this "
                                 "for scheduled input sizes, which apply their own pipelines): relabel cannot apply "
                                 "the overrides there")
        self._transform = self._build(value)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        if self._transform is None:
            raise OverridesError("ClassConditionalDataset has overrides but no default pipeline yet: pass default=, "
                                 "or assign one (dataset.transform = pipeline; timm's create_loader does)")
        image, target = self._split(self.dataset[index])
        image, target = self._transform(image, target)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def _split(self, item: Any) -> tuple[Any, Any]:
        if isinstance(item, Mapping):
            try:
                return item[self.image_column], item[self.label_column]
            except KeyError:
                raise InputError(
                    f"dataset items have the keys {list(item)}, not {self.image_column!r} and "
                    f"{self.label_column!r} (pass image_column= and label_column=)"
                ) from None
        if isinstance(item, (tuple, list)) and len(item) >= 2:
            return item[0], item[1]
        raise InputError(
            f"dataset items must be (image, target) pairs or mappings with image and label columns; "
            f"got {type(item).__name__}"
        )

    def _classes_or_none(self) -> dict[str, int] | None:
        holders = [self.dataset]
        while isinstance(holders[-1], torch.utils.data.Subset):  # random_split and friends
            holders.append(holders[-1].dataset)
        for holder in (*holders, getattr(self.dataset, "reader", None)):
            own = getattr(holder, "class_to_idx", None)
            if own:
                return dict(own)
        names = self._class_label_names()
        return {name: i for i, name in enumerate(names)} if names is not None else None

    @property
    def classes(self) -> list[str]:
        """Class names of the wrapped dataset (``classes``, a timm reader's, or an HF ``ClassLabel``'s names)."""
        own = getattr(self.dataset, "classes", None)
        if own is not None:
            return own
        found = self._classes_or_none()
        if found is None:
            raise AttributeError(f"the wrapped {type(self.dataset).__name__} has no classes")
        return sorted(found, key=found.__getitem__)

    @property
    def class_to_idx(self) -> dict[str, int]:
        """``{class name: index}`` of the wrapped dataset (or its timm reader's, or from an HF ``ClassLabel``)."""
        found = self._classes_or_none()
        if found is None:
            raise AttributeError(f"the wrapped {type(self.dataset).__name__} has no class_to_idx")
        return found

    def _class_label_names(self) -> list[str] | None:
        features = getattr(self.dataset, "features", None)
        if features is None or not hasattr(features, "get"):
            return None
        names = getattr(features.get(self.label_column), "names", None)
        return list(names) if names is not None else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.dataset).__name__} of {len(self)}, {self._transform!r})"


def _what(value: Any) -> str:
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} ({', '.join(type(v).__name__ for v in value)})"
    return "None" if value is None else f"a {type(value).__name__}"


def _without_transform(dataset: Any) -> tuple[Any, Any]:
    """A shallow copy of ``dataset`` without its own ``transform`` (looking through ``Subset``\\ s), and that transform."""
    inner = getattr(dataset, "dataset", None)
    if isinstance(dataset, torch.utils.data.Subset) and inner is not None:
        stripped, own = _without_transform(inner)
        if own is None:
            return dataset, None
        subset: Any = copy.copy(dataset)
        subset.dataset = stripped
        return subset, own
    own = getattr(dataset, "transform", None)
    if own is None:
        return dataset, None
    out: Any = copy.copy(dataset)
    out.transform = None
    if getattr(out, "transforms", None) is not None and not isinstance(out.transforms, (list, tuple)):
        out.transforms = None  # torchvision's VisionDataset keeps transform also inside .transforms
    return out, own


def build_transform(
    overrides: Overrides | str | Path,
    *,
    default: Callable[..., Any] | None = None,
    classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None,
    size: int | Sequence[int] | None = None,
    skip_absent: bool = False,
) -> ClassConditionalTransform:
    """A :class:`ClassConditionalTransform` from an override file (or its :class:`~relabel.overrides.Overrides`).

    Parameters
    ----------
    overrides
        The overrides, or the path of a file to :func:`relabel.overrides.load` (checked
        against ``classes``).
    default
        The trainer's training pipeline (a ``torchvision.transforms.v2.Compose``, a v1
        ``Compose``, timm's ``create_transform(...)``, or an object holding one as
        ``.transforms`` such as torchvision's reference ``ClassificationPresetTrain``).
        Classes without an override get it unchanged; each distinct override gets a copy
        changed by :func:`override_pipeline`'s rule (the augmentation rebuilt with the
        override's parameters, ``false`` removing it, a missing one inserted in
        :data:`relabel.overrides.ORDER` — only into a pipeline relabel can read). When
        ``None``, the file's own ``default`` section is built (augmentations only,
        :func:`build_pipeline`).
    classes
        The trainer's classes, as for :meth:`~relabel.overrides.Overrides.resolve`: its
        ``class_to_idx``, the class keys in index order, or a :class:`~relabel.LabelSpace`
        (default: the built-in label space the file names).
    size
        Output size for a crop the pipeline does not have (an error when the pipeline has a
        crop of another size: relabel never adds a second crop).
    skip_absent
        A trainer on a subset of the file's classes (an ImageNet-100 trainer, an ImageNet-1k
        file): overridden classes it does not have are left out with a warning instead of
        being an error.

    Warns (:class:`~relabel.RelabelWarning`) when ``default`` differs from the file's
    ``default`` section: the recommendation was made against another recipe.

    >>> from relabel.overrides import Override, Overrides
    >>> ov = Overrides([Override(["dog"], {"horizontal_flip": False})], default={"horizontal_flip": {"p": 0.5}})
    >>> pipeline = v2.Compose([v2.RandomHorizontalFlip(), v2.ToImage()])
    >>> t = build_transform(ov, default=pipeline, classes=["cat", "dog"])
    >>> [[type(step).__name__ for step in t.transform_for(c).transforms] for c in (0, 1)]
    [['RandomHorizontalFlip', 'ToImage'], ['ToImage']]
    """
    if not isinstance(overrides, Overrides):
        overrides = load(overrides, classes=classes, skip_absent=skip_absent)
    by_index = overrides.resolve(classes, skip_absent=skip_absent)
    if default is not None and not callable(default):
        raise OverridesError(f"default must be a pipeline (callable); got {_what(default)}")
    if default is None:
        base = build_pipeline(overrides.default, size=size)
    else:
        check_default(default, overrides.default, source=overrides.source)
        base = default
    pipelines: dict[int, Any] = {}
    built: dict[int, Any] = {}
    for index, transforms in by_index.items():
        key = id(transforms)  # classes of one override share its transforms: one pipeline for them
        if key not in built:
            built[key] = override_pipeline(base, transforms, size=size)
        pipelines[index] = built[key]
    return ClassConditionalTransform(base, pipelines)
