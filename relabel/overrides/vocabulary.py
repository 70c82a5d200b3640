"""The words of the override format: augmentation names, their parameters and defaults, the one order.

Everything the file, the CSV table and the trainer side agree on is stated here once, from the
static table :data:`relabel.overrides.catalogue.SPECS`:

* :class:`Augmentation` — the augmentations a file may name, listed in the file's own order
  (the published schema's, the CSV table's columns and the messages list them so);
* :data:`ORDER` — the order augmentations run in a training pipeline (torchvision's reference
  recipe and timm's: crop, flip, geometry, the automatic policies, colour, then what works on
  the tensor). It is the only order anything is inserted in: an augmentation an override adds
  to a pipeline that lacks it goes after those that come before it here;
* :data:`PARAMETER_DEFAULTS` and the parameter rules: how an entry is normalised, expanded and
  merged, and how a timm config string (``rand-m9-mstd0.5-inc1``) reads.

An entry (the value of one augmentation in ``transforms``) is normalised to a dict: ranges and
pairs as tuples, one number given for a range expanded (``degrees: 10`` → ``(-10.0, 10.0)``),
``true`` in a file as ``{}`` (on, parameters inherited), ``false`` as ``{"enabled": False}``
(**off** for these classes — distinct from an augmentation the entry does not mention, which
the trainer's pipeline decides).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from relabel._vocab import Vocabulary
from relabel.errors import OverridesError
from relabel.overrides.catalogue import REQUIRED, SPECS, Parameter, Spec, spec

__all__ = [
    "SCHEMA_VERSION",
    "SCHEMA_VERSIONS",
    "VERSION_1_AUGMENTATIONS",
    "Augmentation",
    "Side",
    "ORDER",
    "PARAMETER_DEFAULTS",
    "explicit_parameters",
    "merge_parameters",
    "parse_config",
    "format_config",
]

SCHEMA_VERSION = "relabel.overrides/2"
"""The format and version this relabel writes."""

SCHEMA_VERSIONS = ("relabel.overrides/1", "relabel.overrides/2")
"""The versions it reads. A /1 file means the same under /2 (whose vocabulary is a superset)
and is read as /2."""


class Augmentation(Vocabulary, noun="transform", error=OverridesError):
    """The augmentations an override file may name (a closed vocabulary, in the file's order).

    >>> Augmentation.from_str("horizontal_flip").name
    'HORIZONTAL_FLIP'
    """

    RANDOM_RESIZED_CROP = "random_resized_crop"
    RANDOM_CROP = "random_crop"
    HORIZONTAL_FLIP = "horizontal_flip"
    VERTICAL_FLIP = "vertical_flip"
    RANDOM_ROTATION = "random_rotation"
    RANDOM_AFFINE = "random_affine"
    RANDOM_PERSPECTIVE = "random_perspective"
    ELASTIC_TRANSFORM = "elastic_transform"
    COLOR_JITTER = "color_jitter"
    RANDOM_PHOTOMETRIC_DISTORT = "random_photometric_distort"
    RANDOM_GRAYSCALE = "random_grayscale"
    RANDOM_CHANNEL_PERMUTATION = "random_channel_permutation"
    GAUSSIAN_BLUR = "gaussian_blur"
    GAUSSIAN_NOISE = "gaussian_noise"
    RANDOM_ADJUST_SHARPNESS = "random_adjust_sharpness"
    RANDOM_AUTOCONTRAST = "random_autocontrast"
    RANDOM_EQUALIZE = "random_equalize"
    RANDOM_INVERT = "random_invert"
    RANDOM_POSTERIZE = "random_posterize"
    RANDOM_SOLARIZE = "random_solarize"
    JPEG = "jpeg"
    RANDOM_ZOOM_OUT = "random_zoom_out"
    AUTO_AUGMENT = "auto_augment"
    RAND_AUGMENT = "rand_augment"
    TRIVIAL_AUGMENT = "trivial_augment"
    AUG_MIX = "aug_mix"
    RANDOM_ERASING = "random_erasing"
    TIMM_RAND_AUGMENT = "timm_rand_augment"
    TIMM_AUTO_AUGMENT = "timm_auto_augment"
    TIMM_AUG_MIX = "timm_aug_mix"

    @property
    def spec(self) -> Spec:
        """Its row of the catalogue: parameters, implementations, ranges."""
        return spec(self.value)


VERSION_1_AUGMENTATIONS = frozenset({"random_resized_crop", "horizontal_flip", "color_jitter", "rand_augment",
                                     "trivial_augment"})
"""The five augmentations ``relabel.overrides/1`` knew."""


class Side(Vocabulary, noun="side", error=OverridesError):
    """Which side of a pair an override targets: the class that lost accuracy, its partner that
    absorbed the lost predictions as false positives, or both."""

    LOST = "lost"
    ABSORBING = "absorbing"
    BOTH = "both"


ORDER: tuple[Augmentation, ...] = tuple(Augmentation(name) for name in (
    "random_zoom_out", "random_resized_crop", "random_crop", "horizontal_flip", "vertical_flip", "random_rotation",
    "random_affine", "random_perspective", "elastic_transform", "auto_augment", "rand_augment", "trivial_augment",
    "aug_mix", "timm_auto_augment", "timm_rand_augment", "timm_aug_mix", "color_jitter", "random_photometric_distort",
    "random_grayscale", "random_channel_permutation", "gaussian_blur", "random_adjust_sharpness",
    "random_autocontrast", "random_equalize", "random_invert", "random_posterize", "random_solarize", "jpeg",
    "gaussian_noise", "random_erasing",
))
"""The order augmentations run in a training pipeline; what an inserted augmentation follows."""

PARAMETER_DEFAULTS: dict[Augmentation, dict[str, Any]] = {Augmentation(s.name): s.defaults for s in SPECS}
"""Values of parameters that neither the override, the file's default nor the trainer's
pipeline gives (the constructors' own defaults). A parameter whose constructor has no default
(RandomRotation's ``degrees``, GaussianBlur's ``kernel_size``, …) is not here: a transform
relabel creates needs it from the file."""


# --------------------------------------------------------------------------------------------
# Normalising entries


def _number(p: Parameter, value: Any) -> Any:
    if value is None:
        return None
    if p.kind == "integer":
        return int(value)
    if p.kind == "number":
        return float(value)
    if p.kind == "boolean":
        return bool(value)
    if p.kind == "choice":
        return str(value)
    if p.kind == "odd_size":
        return (int(value), int(value)) if not isinstance(value, (list, tuple)) else (int(value[0]), int(value[1]))
    cast = int if p.integer else float
    if not isinstance(value, (list, tuple)):
        v = cast(value)
        return (-v, v) if p.scalar == "symmetric" else (v, v)
    return (cast(value[0]), cast(value[1]))


def normalise_entry(name: str, value: Any) -> dict[str, Any]:
    """One augmentation's entry as the data model holds it (see the module docstring)."""
    if value is True:
        return {}
    if value is False:
        return {"enabled": False}
    s = spec(name)
    if isinstance(value, str):
        return parse_config(s, value)
    out: dict[str, Any] = {}
    for key, v in value.items():
        if key == "enabled":
            if v is False:
                return {"enabled": False}
            continue
        out[key] = _number(s.parameter(key), v)
    return out


def normalise_transforms(transforms: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every entry of a ``transforms`` section normalised."""
    return {name: normalise_entry(name, value) for name, value in transforms.items()}


def transforms_to_json(transforms: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A normalised ``transforms`` section in the file's form (``true``/``false``, lists for ranges)."""
    out: dict[str, Any] = {}
    for name, entry in transforms.items():
        if entry == {"enabled": False}:
            out[name] = False
        elif not entry:
            out[name] = True
        else:
            out[name] = {k: list(v) if isinstance(v, tuple) else v for k, v in entry.items()}
    return out


def explicit_parameters(augmentation: str | Augmentation, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters a normalised entry states, with colour jitter's ``strength`` expanded.

    ``strength`` s sets brightness = contrast = saturation = s and hue = min(0.5, s / 4);
    brightness, contrast, saturation or hue given beside it take precedence.

    >>> explicit_parameters("color_jitter", {"strength": 0.4, "hue": 0.0})
    {'brightness': 0.4, 'contrast': 0.4, 'saturation': 0.4, 'hue': 0.0}
    """
    out = {k: v for k, v in entry.items() if k not in ("strength", "enabled")}
    if Augmentation.from_str(augmentation) is Augmentation.COLOR_JITTER and "strength" in entry:
        s = float(entry["strength"])
        expanded = {"brightness": s, "contrast": s, "saturation": s, "hue": min(0.5, s / 4)}
        out = {**expanded, **out}
    return out


def merge_parameters(
    augmentation: str | Augmentation, base: Mapping[str, Any] | None, own: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """An override's entry on top of a default entry: ``None`` (neither mentions the
    augmentation), ``{"enabled": False}`` (off) or the stated parameters, the override's winning.

    >>> merge_parameters("random_resized_crop", {"scale": (0.08, 1.0), "ratio": (0.5, 2.0)}, {"scale": (0.5, 1.0)})
    {'scale': (0.5, 1.0), 'ratio': (0.5, 2.0)}
    """
    if own is None:
        if base is None:
            return None
        return {"enabled": False} if base.get("enabled", True) is False else explicit_parameters(augmentation, base)
    if own.get("enabled", True) is False:
        return {"enabled": False}
    if base is None or base.get("enabled", True) is False:
        return explicit_parameters(augmentation, own)
    return {**explicit_parameters(augmentation, base), **explicit_parameters(augmentation, own)}


def required_parameters(augmentation: str | Augmentation) -> tuple[str, ...]:
    """Parameters a transform relabel creates must get from the file (their constructor has no default)."""
    s = Augmentation.from_str(augmentation).spec
    return tuple(p.name for p in s.parameters if p.default is REQUIRED and not p.relabel_only)


# --------------------------------------------------------------------------------------------
# timm's config strings (``--aa rand-m9-mstd0.5-inc1``)

_RAND_KEYS = {"m": "magnitude", "n": "num_ops", "mstd": "magnitude_std", "mmax": "magnitude_max", "inc": "increasing",
              "p": "p"}
_AUGMIX_KEYS = {"m": "severity", "w": "width", "d": "depth", "a": "alpha", "b": "blended"}
_SECTION = re.compile(r"^([a-z]+)(-?\d+(?:\.\d+)?)$")


def parse_config(s: Spec, text: str) -> dict[str, Any]:
    """A timm config string as the entry's parameters; :class:`~relabel.OverridesError` if it is not one.

    ``rand-m9-mstd0.5-inc1`` (timm RandAugment: m magnitude, n ops, mstd, mmax, inc, p),
    ``augmix-m5-w4-d2`` (timm AugMix: m severity, w width, d depth, a alpha, b blended) and an
    AutoAugment policy name (``original``, ``originalr``, ``v0``, ``v0r``, ``3a``).

    >>> parse_config(spec("timm_rand_augment"), "rand-m9-mstd0.5-inc1")
    {'magnitude': 9, 'magnitude_std': 0.5, 'increasing': True}
    """
    if s.config is None:
        raise OverridesError(f"{s.name} takes true, false or an object of parameters, not the text {text!r}")
    if s.config == "policy":
        choices = s.parameter("policy").choices
        if text not in choices:
            raise OverridesError(f"expected a timm AutoAugment policy, one of {list(choices)}; got {text!r}")
        return {"policy": text}
    keys = _RAND_KEYS if s.config == "rand" else _AUGMIX_KEYS
    sections = text.split("-")
    if sections[0] != s.config:
        raise OverridesError(f"expected a timm config starting with {s.config + '-'!r} (e.g. "
                             f"{'rand-m9-mstd0.5-inc1' if s.config == 'rand' else 'augmix-m5-w4-d2'}); got {text!r}")
    out: dict[str, Any] = {}
    rest = sections[1:]
    i = 0
    while i < len(rest):
        section = rest[i]
        if section.endswith(("d", "m", "n", "w", "a", "p")) and i + 1 < len(rest) and rest[i + 1].isdigit():
            section, i = section + "-" + rest[i + 1], i + 1  # a negative value: d-1
        match = _SECTION.match(section)
        if match is None or match.group(1) not in keys:
            raise OverridesError(f"timm config {text!r}: section {section!r} is not one of "
                                 f"{[k + 'N' for k in keys]} (relabel does not rebuild timm's 't' transform sets)")
        name = keys[match.group(1)]
        p = s.parameter(name)
        raw = float(match.group(2))
        out[name] = bool(int(raw)) if p.kind == "boolean" else (int(raw) if p.kind == "integer" else raw)
        i += 1
    return out


def format_config(s: Spec, params: Mapping[str, Any]) -> str:
    """The timm config string of an entry's parameters (the inverse of :func:`parse_config`).

    >>> format_config(spec("timm_rand_augment"), {"magnitude": 9, "magnitude_std": 0.5, "increasing": True})
    'rand-m9-mstd0.5-inc1'
    """
    if s.config == "policy":
        return str(params.get("policy", s.parameter("policy").default))
    keys = _RAND_KEYS if s.config == "rand" else _AUGMIX_KEYS
    parts = [str(s.config)]
    for short, name in keys.items():
        if name not in params:
            continue
        value = params[name]
        if isinstance(value, bool):
            value = int(value)
        elif isinstance(value, float) and math.isfinite(value) and value.is_integer() and s.parameter(name).kind == "integer":
            value = int(value)
        parts.append(f"{short}{value:g}" if isinstance(value, float) else f"{short}{value}")
    return "-".join(parts)
