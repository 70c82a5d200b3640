"""albumentations: class-conditional augmentation as one ``A.Compose`` per override.

Stage: export, trainer side. :func:`build_transform` takes your ``A.Compose`` and the override
file and returns a :class:`ClassConditionalCompose`: ``t(image=array, label=y)`` runs the
pipeline of class ``y`` and returns albumentations' dict (``["image"]`` is the result);
``t(image, y)`` returns ``(image, y)``, so it also serves
:class:`~relabel.transforms.ClassConditionalDataset`. Overridden parameters map onto
albumentations' own (:data:`MAPPING`): ``horizontal_flip.p`` → ``HorizontalFlip(p=)``,
``random_resized_crop.scale`` → ``RandomResizedCrop(scale=)``, ``color_jitter.brightness`` b →
``ColorJitter(brightness=(max(0, 1 - b), 1 + b))``, ``random_rotation.degrees`` →
``Rotate(limit=)``, … A transform of the pipeline is rebuilt as the same class with its other
arguments kept; ``false`` removes it; a missing one is inserted (in
:data:`relabel.overrides.ORDER`, before ``Normalize``/``ToTensorV2``) only when every step of the
pipeline is one relabel knows. An augmentation with no albumentations counterpart here is an
error that names it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relabel.errors import OverridesError
from relabel.overrides.files import load
from relabel.overrides.model import Overrides
from relabel.overrides.vocabulary import ORDER, PARAMETER_DEFAULTS, Augmentation, explicit_parameters

if TYPE_CHECKING:
    from relabel.labelspace import LabelSpace

__all__ = ["MAPPING", "ClassConditionalCompose", "build_transform"]


def _jitter(b: float) -> tuple[float, float]:
    return (max(0.0, 1 - b), 1 + b)


@dataclass(frozen=True)
class _Map:
    """One augmentation in albumentations: its class and how each file parameter becomes its arguments."""

    cls: str
    params: Mapping[str, Callable[[Any], dict[str, Any]]]


MAPPING: dict[Augmentation, _Map] = {
    Augmentation.HORIZONTAL_FLIP: _Map("HorizontalFlip", {"p": lambda v: {"p": v}}),
    Augmentation.VERTICAL_FLIP: _Map("VerticalFlip", {"p": lambda v: {"p": v}}),
    Augmentation.RANDOM_RESIZED_CROP: _Map("RandomResizedCrop", {"scale": lambda v: {"scale": tuple(v)},
                                                                 "ratio": lambda v: {"ratio": tuple(v)}}),
    Augmentation.COLOR_JITTER: _Map("ColorJitter", {
        "brightness": lambda v: {"brightness": _jitter(v)}, "contrast": lambda v: {"contrast": _jitter(v)},
        "saturation": lambda v: {"saturation": _jitter(v)}, "hue": lambda v: {"hue": (-v, v)}, "p": lambda v: {"p": v}}),
    Augmentation.RANDOM_ROTATION: _Map("Rotate", {"degrees": lambda v: {"limit": tuple(v)}, "p": lambda v: {"p": v}}),
    Augmentation.RANDOM_AFFINE: _Map("Affine", {
        "degrees": lambda v: {"rotate": tuple(v)},
        "translate": lambda v: {"translate_percent": None if v is None else {"x": (-v[0], v[0]), "y": (-v[1], v[1])},
                                "translate_px": None},
        "scale": lambda v: {"scale": (1.0, 1.0) if v is None else tuple(v)},
        "shear": lambda v: {"shear": {"x": (0.0, 0.0) if v is None else tuple(v), "y": (0.0, 0.0)}},
        "p": lambda v: {"p": v}}),
    Augmentation.GAUSSIAN_BLUR: _Map("GaussianBlur", {"kernel_size": lambda v: {"blur_limit": _one_kernel(v)},
                                                      "sigma": lambda v: {"sigma_limit": tuple(v)}, "p": lambda v: {"p": v}}),
    Augmentation.RANDOM_GRAYSCALE: _Map("ToGray", {"p": lambda v: {"p": v}}),
    Augmentation.RANDOM_EQUALIZE: _Map("Equalize", {"p": lambda v: {"p": v}}),
    Augmentation.RANDOM_INVERT: _Map("InvertImg", {"p": lambda v: {"p": v}}),
    Augmentation.RANDOM_AUTOCONTRAST: _Map("AutoContrast", {"p": lambda v: {"p": v}}),
    Augmentation.RANDOM_CHANNEL_PERMUTATION: _Map("ChannelShuffle", {"p": lambda v: {"p": v}}),
    Augmentation.RANDOM_POSTERIZE: _Map("Posterize", {"bits": lambda v: {"num_bits": (v, v)}, "p": lambda v: {"p": v}}),
    Augmentation.RANDOM_SOLARIZE: _Map("Solarize", {"threshold": lambda v: {"threshold_range": (v / 255, v / 255)},
                                                    "p": lambda v: {"p": v}}),
    Augmentation.JPEG: _Map("ImageCompression", {"quality": lambda v: {"quality_range": tuple(v)},
                                                 "p": lambda v: {"p": v}}),
    Augmentation.RANDOM_ERASING: _Map("Erasing", {"p": lambda v: {"p": v}, "scale": lambda v: {"scale": tuple(v)},
                                                  "ratio": lambda v: {"ratio": tuple(v)}, "value": lambda v: {"fill": v}}),
}
"""The augmentations this adapter serves, with albumentations' class and arguments for each parameter."""

_KNOWN_OTHER = ("Normalize", "ToTensorV2", "ToFloat", "FromFloat", "Resize", "CenterCrop", "PadIfNeeded",
                "LongestMaxSize", "SmallestMaxSize", "RandomCrop")
_CONVERSIONS = ("Normalize", "ToTensorV2", "ToFloat")


def _one_kernel(v: Any) -> tuple[int, int]:
    if v[0] != v[1]:
        raise OverridesError(f"albumentations' GaussianBlur takes one kernel size for both axes; got {list(v)}")
    return (int(v[0]), int(v[0]))


def _identify(step: Any) -> Augmentation | None:
    name = type(step).__name__
    return next((aug for aug, m in MAPPING.items() if m.cls == name), None)


def _arguments(step: Any) -> dict[str, Any]:
    return {k: v for k, v in step.to_dict()["transform"].items() if k != "__class_fullname__"}


def _arguments_for(aug: Augmentation, params: Mapping[str, Any], what: str) -> dict[str, Any]:
    m = MAPPING[aug]
    out: dict[str, Any] = {}
    for name, value in params.items():
        if name not in m.params:
            raise OverridesError(f"{what}: {aug.value}.{name} has no counterpart in albumentations' {m.cls}")
        out.update(m.params[name](value))
    return out


def override_compose(default: Any, transforms: Mapping[str, Mapping[str, Any]], *, size: Sequence[int] | None = None,
                     what: str = "override") -> Any:
    """A copy of ``default`` (an ``A.Compose``) with an override's augmentations applied (module docstring)."""
    import albumentations as A

    pipeline = copy.deepcopy(default)
    steps: list[Any] = pipeline.transforms
    for aug in ORDER:
        entry = transforms.get(aug.value)
        if entry is None:
            continue
        found = [i for i, step in enumerate(steps) if _identify(step) is aug]
        if entry.get("enabled", True) is False:
            for i in reversed(found):
                del steps[i]
            continue
        if aug not in MAPPING:
            raise OverridesError(f"{what} names {aug.value}, which has no albumentations counterpart in relabel "
                                 f"(served: {', '.join(a.value for a in MAPPING)})")
        params = explicit_parameters(aug, entry)
        if found:
            for i in found:
                steps[i] = type(steps[i])(**{**_arguments(steps[i]), **_arguments_for(aug, params, what)})
            continue
        unknown = [type(s).__name__ for s in steps if _identify(s) is None and type(s).__name__ not in _KNOWN_OTHER]
        if unknown:
            raise OverridesError(
                f"{what} names {aug.value}, which the default pipeline does not have, and relabel does not insert "
                f"into a pipeline it cannot read: it holds {', '.join(type(s).__name__ for s in steps)}, of which "
                f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} unknown to relabel. Put "
                f"{MAPPING[aug].cls} in your pipeline and the override will change it")
        full = {**PARAMETER_DEFAULTS[aug], **params}
        full = {k: v for k, v in full.items() if k in MAPPING[aug].params and v is not None}
        arguments = _arguments_for(aug, full, what)
        if aug is Augmentation.RANDOM_RESIZED_CROP:
            if size is None:
                raise OverridesError(f"{what} needs a RandomResizedCrop but the pipeline has none to take the size "
                                     f"from; pass size=(height, width)")
            arguments["size"] = tuple(size)
        earlier = ORDER[: ORDER.index(aug)]
        after = [i + 1 for i, s in enumerate(steps) if _identify(s) in earlier]
        position = after[-1] if after else next(
            (i for i, s in enumerate(steps) if type(s).__name__ in _CONVERSIONS), len(steps))
        steps.insert(position, getattr(A, MAPPING[aug].cls)(**arguments))
    return pipeline


class ClassConditionalCompose:
    """Per-class ``A.Compose`` pipelines: the override's for its classes, ``default`` for the rest."""

    def __init__(self, default: Any, by_class: Mapping[int, Any]) -> None:
        self.default = default
        self.by_class = dict(by_class)

    def transform_for(self, target: Any) -> Any:
        """The pipeline a sample of class ``target`` gets."""
        return self.by_class.get(int(target), self.default)

    def __call__(self, *args: Any, label: Any = None, **data: Any) -> Any:
        if args:
            if len(args) != 2 or data or label is not None:
                raise TypeError("call t(image=array, label=y, ...) as albumentations does, or t(image, y)")
            image, target = args
            return self.transform_for(target)(image=image)["image"], target
        if label is None:
            raise TypeError("ClassConditionalCompose needs the sample's class: t(image=array, label=y)")
        return self.transform_for(label)(**data)


def build_transform(
    overrides: Overrides | str | Path,
    *,
    default: Any,
    classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None,
    size: Sequence[int] | None = None,
    skip_absent: bool = False,
) -> ClassConditionalCompose:
    """A :class:`ClassConditionalCompose` from an override file and your ``A.Compose`` (``default``).

    ``classes``, ``skip_absent`` as for :func:`relabel.transforms.build_transform`; ``size``
    ``(height, width)`` for a crop the pipeline lacks.
    """
    if type(default).__name__ != "Compose" or not isinstance(getattr(default, "transforms", None), list):
        raise OverridesError(f"default must be an albumentations Compose; got {type(default).__name__}")
    if not isinstance(overrides, Overrides):
        overrides = load(overrides, classes=classes, skip_absent=skip_absent)
    by_index = overrides.resolve(classes, skip_absent=skip_absent)
    built: dict[int, Any] = {}
    pipelines = {}
    for index, transforms in by_index.items():
        if id(transforms) not in built:
            built[id(transforms)] = override_compose(default, transforms, size=size, what=overrides.source or "override")
        pipelines[index] = built[id(transforms)]
    return ClassConditionalCompose(default, pipelines)
