"""Trainer side: reading and rewriting a trainer's augmentation pipeline (torchvision v1/v2, timm).

Stage: export (what a training script imports, under :mod:`relabel.transforms`). A pipeline is
a ``Compose`` (v1 or v2, nested, or an object holding one as ``.transforms`` such as
torchvision's reference ``ClassificationPresetTrain`` or timm's ``create_transform`` result) of
steps. Each step is one of:

* an **augmentation** of the vocabulary (:mod:`relabel.overrides.catalogue`): a torchvision v2
  or v1 class, a timm class (``RandomResizedCropAndInterpolation``, ``RandomErasing``,
  ``RandAugment``, ``AutoAugment``, ``AugMixAugment``), or a ``RandomApply`` holding exactly
  one augmentation (its ``p`` is the augmentation's ``p``);
* a **known other step** — conversion, normalisation, resizing, cropping to the output size;
* a **container** relabel looks inside;
* anything else is **unknown**.

:func:`override_pipeline` changes what an override names and nothing else. An augmentation the
pipeline has is rebuilt as the same class with the override's parameters (trainer parameters
such as output size, interpolation and fill kept); ``false`` removes it; one the pipeline lacks
is inserted — but only into a pipeline whose every step relabel knows, because an unknown step
may be that augmentation under another name (a crop inserted after an unrecognised crop crops
twice). A pipeline relabel cannot understand is an error that lists what it found, never a
silent insertion.
"""

from __future__ import annotations

import copy
import inspect
import math
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any, cast

import torch
import torchvision.transforms as transforms_v1
from torchvision.transforms import v2

from relabel.errors import OverridesError, RelabelWarning
from relabel.overrides.catalogue import REQUIRED, Spec
from relabel.overrides.vocabulary import (
    ORDER,
    PARAMETER_DEFAULTS,
    Augmentation,
    explicit_parameters,
    format_config,
)

__all__ = ["identify", "steps", "override_pipeline", "build_pipeline", "check_default", "read_parameters"]

_CONTAINER_NAMES = ("Compose", "RandomChoice", "RandomOrder")
_OTHER_NAMES = ("ToImage", "PILToTensor", "ToTensor", "ToPILImage", "ToPureTensor", "ToDtype", "ConvertImageDtype",
                "Normalize", "Resize", "CenterCrop", "Pad", "Grayscale", "RGB", "Identity", "Lambda")
_CONVERSION_NAMES = ("ToImage", "PILToTensor", "ToTensor", "ToDtype", "ConvertImageDtype", "ToPureTensor", "Normalize")
_TIMM_OTHER = ("timm.data.transforms:MaybeToTensor", "timm.data.transforms:MaybePILToTensor",
               "timm.data.transforms:ToNumpy", "timm.data.transforms:ToTensor", "timm.data.transforms:ResizeKeepRatio",
               "timm.data.transforms:CenterCropOrPad")
_TIMM_CONVERSION = ("timm.data.transforms:MaybeToTensor", "timm.data.transforms:MaybePILToTensor",
                    "timm.data.transforms:ToNumpy", "timm.data.transforms:ToTensor")


def _tv(names: Sequence[str]) -> tuple[Any, ...]:
    return tuple(t for module in (v2, transforms_v1) for name in names
                 if isinstance(t := getattr(module, name, None), type))


def _timm(names: Sequence[str]) -> tuple[type, ...]:
    """timm classes, looked up only if timm is already imported (a pipeline holding them imported it)."""
    out = []
    for qualified in names:
        module, _, name = qualified.partition(":")
        found = getattr(sys.modules.get(module), name, None)
        if isinstance(found, type):
            out.append(found)
    return tuple(out)


@cache
def _torchvision_types(aug: Augmentation) -> tuple[type, ...]:
    return _tv([aug.spec.torchvision]) if aug.spec.torchvision else ()


def _types(aug: Augmentation) -> tuple[type, ...]:
    return _torchvision_types(aug) + _timm(aug.spec.timm)


_RANDOM_APPLY = _tv(["RandomApply"])
_CONTAINERS = _tv(_CONTAINER_NAMES) + _RANDOM_APPLY
_CONVERSIONS = _tv(_CONVERSION_NAMES)


def _wraps_p(aug: Augmentation) -> bool:
    return any(p.name == "p" and p.relabel_only for p in aug.spec.parameters)


def identify(step: Any) -> Augmentation | None:
    """The augmentation a pipeline step is (a ``RandomApply`` of exactly one counts as it), or ``None``."""
    for aug in Augmentation:
        types = _types(aug)
        if types and isinstance(step, types):
            return aug
    wrapped: Any = step
    if isinstance(wrapped, _RANDOM_APPLY) and len(wrapped.transforms) == 1:
        inner = identify(wrapped.transforms[0])
        if inner is not None and _wraps_p(inner):
            return inner
    return None


def _is_container(step: Any) -> bool:
    return identify(step) is None and (
        isinstance(step, _CONTAINERS) or isinstance(getattr(step, "transforms", None), (list, torch.nn.ModuleList)))


def _is_conversion(step: Any) -> bool:
    return isinstance(step, _CONVERSIONS + _timm(_TIMM_CONVERSION))


def _is_known_other(step: Any) -> bool:
    return isinstance(step, _tv(_OTHER_NAMES) + _timm(_TIMM_OTHER))


def _containers(obj: Any, depth: int = 0) -> Iterator[Any]:
    """The step lists inside a Compose-like object (``.transforms``), outermost first; augmentations are leaves."""
    if depth > 8 or (depth > 0 and identify(obj) is not None):
        return
    inner = getattr(obj, "transforms", None)
    if isinstance(inner, (list, torch.nn.ModuleList)):
        yield inner
        for step in inner:
            yield from _containers(step, depth + 1)
    elif inner is not None and inner is not obj:
        yield from _containers(inner, depth + 1)


def steps(pipeline: Any) -> list[Any]:
    """Every leaf step of a pipeline, in order (containers opened; an augmentation is a leaf)."""
    lists = list(_containers(pipeline))
    if not lists:
        return [pipeline]
    return [step for steps_ in lists for step in steps_ if not _is_container(step)]


def _describe(step: Any) -> str:
    name = type(step).__name__
    if name == "function" or inspect.isfunction(step):
        return f"the function {getattr(step, '__name__', '?')}"
    module = type(step).__module__.split(".")[0]
    return name if module in ("torchvision", "relabel") else f"{module} {name}"


def _unknown_steps(pipeline: Any) -> list[str]:
    return [_describe(s) for s in steps(pipeline) if identify(s) is None and not _is_known_other(s) and not _is_container(s)]


def _find(pipeline: Any, aug: Augmentation) -> list[Any]:
    if identify(pipeline) is aug:
        return [pipeline]
    return [step for steps_ in _containers(pipeline) for step in steps_ if identify(step) is aug]


# --------------------------------------------------------------------------------------------
# Reading a step's parameters, in the file's terms


@cache
def _signature(cls: Any) -> tuple[str, ...]:
    return tuple(name for name, p in inspect.signature(cls).parameters.items()
                 if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))


def _unwrap(step: Any) -> tuple[Any, float | None]:
    """The augmentation inside a ``RandomApply`` of one, and its ``p`` (``None`` when not wrapped)."""
    aug: Augmentation | None = identify(step)
    wrapper: Any = step
    if aug is not None and isinstance(wrapper, _RANDOM_APPLY) and not isinstance(wrapper, _types(aug)):
        return wrapper.transforms[0], float(wrapper.p)
    return step, None


def read_parameters(aug: Augmentation, step: Any) -> dict[str, Any]:
    """A pipeline step's parameters in the file's terms (what it would be written as)."""
    inner, wrapped_p = _unwrap(step)
    s = aug.spec
    if _timm(s.timm) and isinstance(inner, _timm(s.timm)):
        out = _read_timm(aug, inner)
    else:
        out = {}
        for p in s.parameters:
            if p.relabel_only or not hasattr(inner, p.name):
                continue
            out[p.name] = _from_attribute(p.kind, getattr(inner, p.name))
        if aug is Augmentation.COLOR_JITTER:
            out = {name: _factor(getattr(inner, name), 0.0 if name == "hue" else 1.0)
                   for name in ("brightness", "contrast", "saturation", "hue")}
    if _wraps_p(aug):
        out["p"] = 1.0 if wrapped_p is None else wrapped_p
    return out


def _from_attribute(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "value") and not isinstance(value, (int, float)):  # an enum (AutoAugmentPolicy)
        return value.value
    if kind in ("range", "pair", "odd_size"):
        items = list(value) if isinstance(value, (list, tuple)) else [value, value]
        cast = int if kind == "odd_size" or all(isinstance(v, int) and not isinstance(v, bool) for v in items) else float
        return (cast(items[0]), cast(items[1]))
    if kind in ("number", "integer") and isinstance(value, (list, tuple)):  # stored per axis or side
        return float(value[0]) if kind == "number" else int(value[0])
    if kind == "number":
        return float(value)
    return value


def _factor(value: Any, center: float) -> Any:
    if value is None:
        return 0.0
    lo, hi = (float(v) for v in value)
    s = hi - center
    return s if math.isclose(lo, max(0.0, center - s), abs_tol=1e-9) or (center == 0 and math.isclose(lo, -s)) else (lo, hi)


def _read_timm(aug: Augmentation, step: Any) -> dict[str, Any]:
    if aug is Augmentation.RANDOM_RESIZED_CROP:
        return {"scale": tuple(map(float, step.scale)), "ratio": tuple(map(float, step.ratio))}
    if aug is Augmentation.RANDOM_ERASING:
        lo, hi = step.log_aspect_ratio
        return {"p": float(step.probability), "scale": (float(step.min_area), float(step.max_area)),
                "ratio": (math.exp(lo), math.exp(hi)), "mode": step.mode or "const",
                "count": (int(step.min_count), int(step.max_count))}
    if aug is Augmentation.TIMM_RAND_AUGMENT:
        op = step.ops[0]
        return {"magnitude": op.magnitude, "num_ops": step.num_layers, "magnitude_std": float(op.magnitude_std),
                "magnitude_max": op.magnitude_max if op.magnitude_max is not None else 10,
                "increasing": any("Increasing" in o.name for o in step.ops), "p": float(op.prob)}
    if aug is Augmentation.TIMM_AUG_MIX:
        return {"severity": step.ops[0].magnitude, "width": step.width, "depth": step.depth, "alpha": float(step.alpha),
                "blended": bool(step.blended)}
    return {}  # timm AutoAugment keeps no policy name


# --------------------------------------------------------------------------------------------
# Making a step


def _ctor_value(aug: Augmentation, name: str, value: Any) -> Any:
    if aug in (Augmentation.AUTO_AUGMENT,) and name == "policy":
        return transforms_v1.AutoAugmentPolicy(value)
    return value


def _check_size(aug: Augmentation, old: Any, size: int | Sequence[int] | None, what: str) -> None:
    if size is None or not aug.spec.needs_size:
        return
    want = (size, size) if isinstance(size, int) else tuple(size)
    have = getattr(old, "size", None)
    have = (have, have) if isinstance(have, int) else (tuple(have) if have is not None else None)
    if have is not None and tuple(have) != tuple(want):
        raise OverridesError(
            f"{what}: size={size} was given, but the pipeline already has {_describe(old)} with size {have}; "
            f"relabel changes that crop's parameters and never adds a second crop (leave size= out)")


def _rebuild(aug: Augmentation, old: Any, params: Mapping[str, Any], *, size: Any, what: str) -> Any:
    """A step like ``old`` (same class, same trainer parameters) with the named parameters replaced."""
    inner, wrapped_p = _unwrap(old)
    _check_size(aug, inner, size, what)
    own = {k: v for k, v in params.items() if not (k == "p" and _wraps_p(aug))}
    if _timm(aug.spec.timm) and isinstance(inner, _timm(aug.spec.timm)):
        new = _rebuild_timm(aug, inner, own, what=what)
    else:
        _refuse_foreign(aug, own, "torchvision", what)
        cls = type(inner)
        kwargs = {name: getattr(inner, name) for name in _signature(cast(Any, cls)) if hasattr(inner, name)}
        if aug is Augmentation.COLOR_JITTER:
            kwargs = {name: _range_arg(getattr(inner, name)) for name in ("brightness", "contrast", "saturation", "hue")}
        kwargs.update({k: _ctor_value(aug, k, v) for k, v in own.items()})
        _check_magnitude(kwargs, what)
        try:
            new = cls(**kwargs)
        except (TypeError, ValueError) as e:
            raise OverridesError(f"{what}: cannot rebuild {_describe(inner)} with {dict(own)}: {e}") from None
    p = params.get("p", wrapped_p) if _wraps_p(aug) else None
    return v2.RandomApply([new], p=p) if p is not None and p < 1 else new


def _range_arg(value: Any) -> Any:
    """ColorJitter keeps each factor as a (min, max) pair or None; None means 'no change' (0)."""
    return 0.0 if value is None else tuple(float(v) for v in value)


def _check_magnitude(kwargs: Mapping[str, Any], what: str) -> None:
    magnitude, bins = kwargs.get("magnitude"), kwargs.get("num_magnitude_bins")
    if magnitude is not None and bins is not None and magnitude >= bins:
        raise OverridesError(f"{what}: rand_augment magnitude {magnitude} must be below num_magnitude_bins {bins}")


def _refuse_foreign(aug: Augmentation, params: Mapping[str, Any], implementation: str, what: str) -> None:
    foreign = [k for k in params if aug.spec.parameter(k).implementations
               and implementation not in aug.spec.parameter(k).implementations]
    if foreign:
        raise OverridesError(f"{what}: {aug.value}.{foreign[0]} is a parameter of the "
                             f"{'/'.join(aug.spec.parameter(foreign[0]).implementations)} implementation only; the "
                             f"pipeline has {implementation}'s")


def _rebuild_timm(aug: Augmentation, old: Any, params: Mapping[str, Any], *, what: str) -> Any:
    _refuse_foreign(aug, params, "timm", what)
    if aug is Augmentation.RANDOM_RESIZED_CROP:
        new = copy.deepcopy(old)
        for name in ("scale", "ratio"):
            if name in params:
                setattr(new, name, tuple(params[name]))
        return new
    if aug is Augmentation.RANDOM_ERASING:
        new = copy.deepcopy(old)
        merged = {**_read_timm(aug, old), **params}
        new.probability = merged["p"]
        new.min_area, new.max_area = merged["scale"]
        new.log_aspect_ratio = (math.log(merged["ratio"][0]), math.log(merged["ratio"][1]))
        new.mode = merged["mode"]
        new.rand_color, new.per_pixel = merged["mode"] == "rand", merged["mode"] == "pixel"
        new.min_count, new.max_count = merged["count"]
        return new
    from timm.data import auto_augment

    hparams = {k: v for k, v in old.ops[0].hparams.items() if k not in ("magnitude_std", "magnitude_max")}
    if aug is Augmentation.TIMM_RAND_AUGMENT:
        if getattr(old, "choice_weights", None) is not None:
            raise OverridesError(f"{what}: the pipeline's timm RandAugment draws its operations with weights "
                                 f"(a 't' section); relabel cannot rebuild it")
        merged = {**_read_timm(aug, old), **params}
        return auto_augment.rand_augment_transform(format_config(aug.spec, merged), hparams)
    if aug is Augmentation.TIMM_AUG_MIX:
        merged = {**_read_timm(aug, old), **params}
        return auto_augment.augment_and_mix_transform(format_config(aug.spec, merged), hparams)
    if "policy" not in params:
        return copy.deepcopy(old)
    return auto_augment.auto_augment_transform(str(params["policy"]), hparams)


def _create(aug: Augmentation, params: Mapping[str, Any], size: int | Sequence[int] | None, *, what: str) -> Any:
    """A new v2 transform for ``aug`` (the pipeline has none to rebuild)."""
    s: Spec = aug.spec
    if s.torchvision is None:
        raise OverridesError(
            f"{what} names {aug.value}, which the default pipeline does not have; relabel does not create timm's "
            f"{s.timm[0].split(':')[1]} (its settings come from timm's create_transform): give your pipeline one "
            f"(e.g. create_transform(..., auto_augment=...)) and the override will change it")
    defaults = {k: v for k, v in PARAMETER_DEFAULTS[aug].items()
                if not s.parameter(k).implementations or "torchvision" in s.parameter(k).implementations}
    p = {**defaults, **params}
    missing = [q.name for q in s.parameters if q.default is REQUIRED and not q.relabel_only and q.name not in p]
    if missing:
        raise OverridesError(f"{what} adds {aug.value}, which needs {missing[0]} (torchvision's {s.torchvision} has no "
                             f"default for it); give it in the file or put the transform in your default pipeline")
    _refuse_foreign(aug, params, "torchvision", what)
    kwargs = {k: _ctor_value(aug, k, v) for k, v in p.items() if not (k == "p" and _wraps_p(aug))}
    if s.needs_size:
        if size is None:
            raise OverridesError(f"{what} needs a {s.torchvision} but the default pipeline has none to take the output "
                                 f"size from; pass size= (e.g. 224)")
        kwargs["size"] = size
    if aug is Augmentation.RANDOM_RESIZED_CROP:
        kwargs["antialias"] = True
    _check_magnitude(kwargs, what)
    new = getattr(v2, str(s.torchvision))(**kwargs)
    wrap = p.get("p") if _wraps_p(aug) else None
    return v2.RandomApply([new], p=wrap) if wrap is not None and wrap < 1 else new


def _insert_position(top: list[Any], aug: Augmentation) -> int:
    earlier = ORDER[: ORDER.index(aug)]
    if aug.spec.stage == "tensor":
        after = [i + 1 for i, step in enumerate(top) if _is_conversion(step) or identify(step) in earlier]
        return after[-1] if after else len(top)
    found = [identify(step) for step in top]
    after = [i + 1 for i, a in enumerate(found) if a is not None and a in earlier and a.spec.stage == "image"]
    if after:
        return after[-1]
    return next((i for i, (step, a) in enumerate(zip(top, found)) if _is_conversion(step) or (
        a is not None and a.spec.stage == "tensor")), len(top))


def override_pipeline(
    default: Any,
    transforms: Mapping[str, Mapping[str, Any]],
    *,
    size: int | Sequence[int] | None = None,
    what: str = "override",
) -> Any:
    """A copy of ``default`` with an override's augmentations applied; ``default`` is untouched.

    The rule, per augmentation the override names (``transforms``, as in
    :attr:`relabel.overrides.Override.transforms`), in :data:`relabel.overrides.ORDER`:

    * the pipeline has it (a torchvision v2 or v1 class, a timm class, or a ``RandomApply`` of
      one, anywhere inside nested ``Compose``\\ s or an object holding one as ``.transforms``):
      it is rebuilt as the same class with the override's parameters; parameters the override
      does not name (output size, interpolation, fill, the other range) are kept from it;
      ``p`` of an augmentation torchvision applies always sets the ``RandomApply`` around it;
    * ``false`` (``{"enabled": False}``): it is removed;
    * the pipeline lacks it: it is inserted as a v2 transform after the augmentations that
      come before it in :data:`~relabel.overrides.ORDER`, else before the tensor conversion
      (``ToImage``, ``ToDtype``, ``Normalize``, …) — after it for random erasing and Gaussian
      noise — else at the end; parameters not named take
      :data:`relabel.overrides.PARAMETER_DEFAULTS`; a crop needs ``size``. Only into a
      pipeline whose every step relabel knows: otherwise :class:`~relabel.OverridesError`
      lists the steps it does not know.

    ``size`` given beside a pipeline that has its own crop of another size is an error (relabel
    never adds a second crop). Every other step is kept.

    >>> default = v2.Compose([v2.RandomResizedCrop(32), v2.RandomHorizontalFlip(), v2.ToImage()])
    >>> new = override_pipeline(default, {"random_resized_crop": {"scale": (0.5, 1.0)}, "horizontal_flip": {"enabled": False}})
    >>> [type(t).__name__ for t in new.transforms], new.transforms[0].scale, tuple(new.transforms[0].size)
    (['RandomResizedCrop', 'ToImage'], (0.5, 1.0), (32, 32))
    """
    pipeline = copy.deepcopy(default)
    containers = list(_containers(pipeline))
    if not containers:
        pipeline = v2.Compose([pipeline])
        containers = [pipeline.transforms]
    top = containers[0]
    for aug in ORDER:
        entry = transforms.get(aug.value)
        if entry is None:
            continue
        found = [(steps_, i) for steps_ in containers for i, step in enumerate(steps_) if identify(step) is aug]
        if entry.get("enabled", True) is False:
            for steps_, i in reversed(found):
                del steps_[i]
            continue
        params = explicit_parameters(aug, entry)
        if found:
            for steps_, i in found:
                steps_[i] = _rebuild(aug, steps_[i], params, size=size, what=what)
            continue
        unknown = _unknown_steps(pipeline)
        if unknown:
            raise OverridesError(
                f"{what} names {aug.value}, which the default pipeline does not have, and relabel does not insert "
                f"into a pipeline it cannot read: it holds {', '.join(_describe(s) for s in steps(default))}, of "
                f"which {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} unknown to relabel (one may be "
                f"{aug.value} under another name). Put the augmentation in your pipeline (the override then changes "
                f"it), or build the pipeline from torchvision or timm transforms")
        top.insert(_insert_position(top, aug), _create(aug, params, size, what=what))
    return pipeline


def build_pipeline(transforms: Mapping[str, Mapping[str, Any]], *, size: int | Sequence[int] | None = None) -> v2.Compose:
    """A ``v2.Compose`` of the augmentations in ``transforms`` (e.g. a file's ``default``), in
    :data:`relabel.overrides.ORDER`, with :data:`relabel.overrides.PARAMETER_DEFAULTS` for
    parameters not named. Augmentations that work on the image only: add your own conversion
    (``ToImage``, ``ToDtype``, ``Normalize``); random erasing and Gaussian noise, which run on
    the tensor after it, need your pipeline (``default=``)."""
    out = []
    for aug in ORDER:
        entry = transforms.get(aug.value)
        if entry is None or entry.get("enabled", True) is False:
            continue
        if aug.spec.stage == "tensor":
            raise OverridesError(f"the file's default has {aug.value}, which runs on the tensor after your conversion "
                                 f"and normalisation: pass your pipeline as default=")
        out.append(_create(aug, explicit_parameters(aug, entry), size, what="the file's default"))
    return v2.Compose(out)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
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
        actual = read_parameters(aug, found[0])
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
        return "(" + ", ".join(f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in value) + ")"
    return f"{value:g}" if isinstance(value, float) else str(value)
