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
import math
import operator
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torchvision.transforms as transforms_v1
from torch.utils.data import Dataset
from torchvision.transforms import v2

from relabel.errors import InputError, OverridesError, RelabelWarning
from relabel.overrides.files import load
from relabel.overrides.model import Overrides
from relabel.overrides.vocabulary import ORDER, PARAMETER_DEFAULTS, Augmentation, explicit_parameters

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

# torchvision classes that implement each augmentation (v2 and v1); subclasses match too.
_TYPES: dict[Augmentation, tuple[type, ...]] = {
    Augmentation.RANDOM_RESIZED_CROP: (v2.RandomResizedCrop, transforms_v1.RandomResizedCrop),
    Augmentation.HORIZONTAL_FLIP: (v2.RandomHorizontalFlip, transforms_v1.RandomHorizontalFlip),
    Augmentation.COLOR_JITTER: (v2.ColorJitter, transforms_v1.ColorJitter),
    Augmentation.RAND_AUGMENT: (v2.RandAugment, transforms_v1.RandAugment),
    Augmentation.TRIVIAL_AUGMENT: (v2.TrivialAugmentWide, transforms_v1.TrivialAugmentWide),
}

# Steps that turn the image into a normalised tensor (and what follows them): an augmentation
# the default pipeline lacks is inserted before the first of these.
_CONVERSIONS: tuple[type, ...] = tuple(
    t
    for module in (v2, transforms_v1)
    for name in ("ToImage", "PILToTensor", "ToTensor", "ToDtype", "ConvertImageDtype", "ToPureTensor",
                 "Normalize", "RandomErasing")
    if isinstance(t := getattr(module, name, None), type)
)

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
    ``CIFAR10``, …) or mappings with an image and a label column (an HF ``datasets``
    ``Dataset``; ``image_column``, ``label_column``). ``dataset[i]`` returns
    ``(transform(image, target)[0], target)``, with ``target_transform`` applied to the target
    last. ``classes`` and ``class_to_idx`` are kept from the wrapped dataset, or derived from an
    HF ``ClassLabel`` label column.

    The wrapped dataset should have no transform of its own (``ImageFolder(root)``, not
    ``ImageFolder(root, transform=...)``): it would run before the class-conditional one, and
    relabel warns.
    """

    def __init__(
        self,
        dataset: Any,
        transform: Callable[[Any, Any], tuple[Any, Any]],
        *,
        image_column: str = "image",
        label_column: str = "label",
        target_transform: Callable[[Any], Any] | None = None,
    ) -> None:
        if not callable(transform):
            raise TypeError(f"transform must be callable as transform(image, target), got {type(transform).__name__}")
        self.dataset = dataset
        self.transform = transform
        self.image_column = image_column
        self.label_column = label_column
        self.target_transform = target_transform
        if getattr(dataset, "transform", None) is not None:
            warnings.warn(
                RelabelWarning(
                    f"the wrapped {type(dataset).__name__} already has a transform; it runs before the "
                    f"class-conditional one (create the dataset without transform=)"
                ),
                stacklevel=2,
            )
        columns = getattr(dataset, "column_names", None)
        if isinstance(columns, list):
            missing = [c for c in (image_column, label_column) if c not in columns]
            if missing:
                raise InputError(
                    f"{type(dataset).__name__} has no column {missing[0]!r}; its columns are {columns} "
                    f"(pass image_column= and label_column=)"
                )

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, target = self._split(self.dataset[index])
        image, target = self.transform(image, target)
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

    @property
    def classes(self) -> list[str]:
        """Class names of the wrapped dataset (``classes``, or an HF ``ClassLabel``'s names)."""
        own = getattr(self.dataset, "classes", None)
        if own is not None:
            return own
        names = self._class_label_names()
        if names is None:
            raise AttributeError(f"the wrapped {type(self.dataset).__name__} has no classes")
        return names

    @property
    def class_to_idx(self) -> dict[str, int]:
        """``{class name: index}`` of the wrapped dataset (or from an HF ``ClassLabel``)."""
        own = getattr(self.dataset, "class_to_idx", None)
        if own is not None:
            return own
        names = self._class_label_names()
        if names is None:
            raise AttributeError(f"the wrapped {type(self.dataset).__name__} has no class_to_idx")
        return {name: i for i, name in enumerate(names)}

    def _class_label_names(self) -> list[str] | None:
        features = getattr(self.dataset, "features", None)
        if features is None or not hasattr(features, "get"):
            return None
        names = getattr(features.get(self.label_column), "names", None)
        return list(names) if names is not None else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.dataset).__name__} of {len(self)}, {self.transform!r})"


def build_transform(
    overrides: Overrides | str | Path,
    *,
    default: Callable[..., Any] | None = None,
    classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None,
    size: int | Sequence[int] | None = None,
) -> ClassConditionalTransform:
    """A :class:`ClassConditionalTransform` from an override file (or its :class:`~relabel.overrides.Overrides`).

    Parameters
    ----------
    overrides
        The overrides, or the path of a file to :func:`relabel.overrides.load` (checked
        against ``classes``).
    default
        The trainer's training pipeline (a ``torchvision.transforms.v2.Compose``, a v1
        ``Compose``, or an object holding one as ``.transforms`` such as torchvision's
        reference ``ClassificationPresetTrain``). Classes without an override get it
        unchanged; each distinct override gets a copy changed by :func:`override_pipeline`'s
        rule (the transform of the same type replaced by one with the override's parameters,
        ``false`` removing it, a missing one inserted in :data:`relabel.overrides.ORDER` before
        the tensor conversion). When ``None``, the file's own ``default`` section is built
        (augmentations only, :func:`build_pipeline`).
    classes
        The trainer's classes, as for :meth:`~relabel.overrides.Overrides.resolve`: its
        ``class_to_idx``, the class keys in index order, or a :class:`~relabel.LabelSpace`
        (default: the built-in label space the file names).
    size
        Output size for a RandomResizedCrop the pipeline does not have.

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
        overrides = load(overrides, classes=classes)
    by_index = overrides.resolve(classes)
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


# --------------------------------------------------------------------------------------------
# Building pipelines from override entries


def _containers(obj: Any, depth: int = 0) -> Iterator[list[Any]]:
    """The lists of steps inside a Compose-like object (``.transforms``), outermost first."""
    if depth > 8:
        return
    inner = getattr(obj, "transforms", None)
    if isinstance(inner, list):
        yield inner
        for step in inner:
            yield from _containers(step, depth + 1)
    elif inner is not None and inner is not obj:
        yield from _containers(inner, depth + 1)


def _find(pipeline: Any, aug: Augmentation) -> list[Any]:
    if isinstance(pipeline, _TYPES[aug]):
        return [pipeline]
    return [step for steps in _containers(pipeline) for step in steps if isinstance(step, _TYPES[aug])]


def _create(aug: Augmentation, params: Mapping[str, Any], size: int | Sequence[int] | None, *, what: str) -> Any:
    p = {**PARAMETER_DEFAULTS[aug], **params}
    if aug is Augmentation.RANDOM_RESIZED_CROP:
        if size is None:
            raise OverridesError(
                f"{what} needs a RandomResizedCrop but the default pipeline has none to take the output size "
                f"from; pass size= (e.g. 224)"
            )
        return v2.RandomResizedCrop(size, scale=p["scale"], ratio=p["ratio"], antialias=True)
    if aug is Augmentation.HORIZONTAL_FLIP:
        return v2.RandomHorizontalFlip(p=p["p"])
    if aug is Augmentation.COLOR_JITTER:
        return v2.ColorJitter(brightness=p["brightness"], contrast=p["contrast"], saturation=p["saturation"], hue=p["hue"])
    if aug is Augmentation.RAND_AUGMENT:
        _check_magnitude(p["magnitude"], p["num_magnitude_bins"], what)
        return v2.RandAugment(num_ops=p["num_ops"], magnitude=p["magnitude"], num_magnitude_bins=p["num_magnitude_bins"])
    return v2.TrivialAugmentWide(num_magnitude_bins=p["num_magnitude_bins"])


def _rebuild(aug: Augmentation, old: Any, params: Mapping[str, Any], *, what: str) -> Any:
    """A v2 transform like ``old`` with the named parameters replaced."""
    if aug is Augmentation.RANDOM_RESIZED_CROP:
        return v2.RandomResizedCrop(
            old.size,
            scale=params.get("scale", tuple(old.scale)),
            ratio=params.get("ratio", tuple(old.ratio)),
            interpolation=old.interpolation,
            antialias=getattr(old, "antialias", True),
        )
    if aug is Augmentation.HORIZONTAL_FLIP:
        return v2.RandomHorizontalFlip(p=params.get("p", old.p))
    if aug is Augmentation.COLOR_JITTER:
        return v2.ColorJitter(**{name: params.get(name, _range_arg(getattr(old, name)))
                                 for name in ("brightness", "contrast", "saturation", "hue")})
    if aug is Augmentation.RAND_AUGMENT:
        magnitude = params.get("magnitude", old.magnitude)
        bins = params.get("num_magnitude_bins", old.num_magnitude_bins)
        _check_magnitude(magnitude, bins, what)
        return v2.RandAugment(num_ops=params.get("num_ops", old.num_ops), magnitude=magnitude, num_magnitude_bins=bins,
                              interpolation=old.interpolation, fill=old.fill)
    return v2.TrivialAugmentWide(num_magnitude_bins=params.get("num_magnitude_bins", old.num_magnitude_bins),
                                 interpolation=old.interpolation, fill=old.fill)


def _range_arg(value: Any) -> Any:
    """ColorJitter keeps each factor as a (min, max) pair or None; None means 'no change' (0)."""
    return 0.0 if value is None else tuple(float(v) for v in value)


def _check_magnitude(magnitude: int, bins: int, what: str) -> None:
    if magnitude >= bins:
        raise OverridesError(f"{what}: rand_augment magnitude {magnitude} must be below num_magnitude_bins {bins}")


def _insert_position(steps: list[Any], aug: Augmentation, *, opaque: bool) -> int:
    earlier = ORDER[: ORDER.index(aug)]
    after = [i + 1 for i, step in enumerate(steps) if any(isinstance(step, _TYPES[a]) for a in earlier)]
    if after:
        return after[-1]
    if opaque:  # a default we cannot look into: augment before it
        return 0
    return next((i for i, step in enumerate(steps) if isinstance(step, _CONVERSIONS)), len(steps))


def override_pipeline(
    default: Callable[..., Any],
    transforms: Mapping[str, Mapping[str, Any]],
    *,
    size: int | Sequence[int] | None = None,
    what: str = "override",
) -> Any:
    """A copy of ``default`` with an override's augmentations applied; ``default`` is untouched.

    The rule, per augmentation the override names (``transforms``, as in
    :attr:`relabel.overrides.Override.transforms`):

    * the pipeline has a transform of that type (v2 or v1 ``RandomResizedCrop``,
      ``RandomHorizontalFlip``, ``ColorJitter``, ``RandAugment``, ``TrivialAugmentWide``,
      anywhere inside nested ``Compose``\\ s or an object holding one as ``.transforms``): it is
      replaced by a v2 transform with the override's parameters; parameters the override does
      not name (output size, interpolation, fill, the other range) are kept from it;
    * ``false`` (``{"enabled": False}``): it is removed;
    * the pipeline has none: it is inserted after the augmentations that come before it in
      the usual order (crop, flip, RandAugment, TrivialAugment, colour jitter), else before
      the tensor conversion (``ToImage``, ``ToDtype``, ``Normalize``, …), else at the end;
      parameters not named take :data:`relabel.overrides.PARAMETER_DEFAULTS`; a crop needs
      ``size``.

    Every other step (resizing, conversion, normalisation, random erasing) is kept. A default
    that is a single transform or function becomes a ``v2.Compose`` holding it; inserted
    augmentations go before a function (relabel cannot see inside it).

    >>> default = v2.Compose([v2.RandomResizedCrop(32), v2.RandomHorizontalFlip(), v2.ToImage()])
    >>> new = override_pipeline(default, {"random_resized_crop": {"scale": (0.5, 1.0)}, "horizontal_flip": {"enabled": False}})
    >>> [type(t).__name__ for t in new.transforms], new.transforms[0].scale, new.transforms[0].size
    (['RandomResizedCrop', 'ToImage'], (0.5, 1.0), (32, 32))
    """
    pipeline = copy.deepcopy(default)
    containers = list(_containers(pipeline))
    opaque = not containers and not any(isinstance(pipeline, types) for types in _TYPES.values())
    if not containers:
        pipeline = v2.Compose([pipeline])
        containers = [pipeline.transforms]
    top = containers[0]
    for aug in ORDER:
        entry = transforms.get(aug.value)
        if entry is None:
            continue
        found = [(steps, i) for steps in containers for i, step in enumerate(steps) if isinstance(step, _TYPES[aug])]
        if entry.get("enabled", True) is False:
            for steps, i in reversed(found):
                del steps[i]
            continue
        params = explicit_parameters(aug, entry)
        if found:
            for steps, i in found:
                steps[i] = _rebuild(aug, steps[i], params, what=what)
        else:
            top.insert(_insert_position(top, aug, opaque=opaque), _create(aug, params, size, what=what))
    return pipeline


def build_pipeline(transforms: Mapping[str, Mapping[str, Any]], *, size: int | Sequence[int] | None = None) -> v2.Compose:
    """A ``v2.Compose`` of the augmentations in ``transforms`` (e.g. a file's ``default``), in
    the usual order, with :data:`relabel.overrides.PARAMETER_DEFAULTS` for parameters not
    named. Augmentations only: add your own conversion (``ToImage``, ``ToDtype``, ``Normalize``)."""
    steps = []
    for aug in ORDER:
        entry = transforms.get(aug.value)
        if entry is None or entry.get("enabled", True) is False:
            continue
        steps.append(_create(aug, explicit_parameters(aug, entry), size, what="the file's default"))
    return v2.Compose(steps)


def _read(aug: Augmentation, step: Any) -> dict[str, Any]:
    """A torchvision transform's parameters in the file's terms."""
    if aug is Augmentation.RANDOM_RESIZED_CROP:
        return {"scale": tuple(map(float, step.scale)), "ratio": tuple(map(float, step.ratio))}
    if aug is Augmentation.HORIZONTAL_FLIP:
        return {"p": float(step.p)}
    if aug is Augmentation.COLOR_JITTER:
        return {name: _factor(getattr(step, name), 0.0 if name == "hue" else 1.0)
                for name in ("brightness", "contrast", "saturation", "hue")}
    if aug is Augmentation.RAND_AUGMENT:
        return {"num_ops": step.num_ops, "magnitude": step.magnitude, "num_magnitude_bins": step.num_magnitude_bins}
    return {"num_magnitude_bins": step.num_magnitude_bins}


def _factor(value: Any, center: float) -> Any:
    if value is None:
        return 0.0
    lo, hi = (float(v) for v in value)
    s = hi - center
    return s if math.isclose(lo, max(0.0, center - s), abs_tol=1e-9) or (center == 0 and math.isclose(lo, -s)) else (lo, hi)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return a == b


def check_default(pipeline: Any, file_default: Mapping[str, Mapping[str, Any]], *, source: str | None = None) -> list[str]:
    """Differences between a trainer's pipeline and a file's ``default`` section; warns if any.

    An override was recommended against that default (e.g. crops with scale (0.08, 1)); a
    trainer whose pipeline differs gets the override's parameters on top of another recipe.
    """
    differences = []
    for aug in ORDER:
        entry = file_default.get(aug.value)
        if entry is None:
            continue
        found = _find(pipeline, aug)
        if entry.get("enabled", True) is False:
            if found:
                differences.append(f"{aug.value} is off in the file's default but in your pipeline")
            continue
        if not found:
            differences.append(f"{aug.value} is in the file's default but not in your pipeline")
            continue
        actual = _read(aug, found[0])
        for name, value in explicit_parameters(aug, entry).items():
            if name in actual and not _same(actual[name], value):
                differences.append(f"{aug.value}.{name} is {_show(value)} in the file's default, "
                                   f"{_show(actual[name])} in your pipeline")
    if differences:
        where = f"{source}: " if source else ""
        warnings.warn(
            RelabelWarning(f"{where}the default pipeline differs from the recipe the overrides were made against: "
                           + "; ".join(differences)),
            stacklevel=3,
        )
    return differences


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(f"{v:g}" for v in value) + ")"
    return f"{value:g}" if isinstance(value, float) else str(value)
