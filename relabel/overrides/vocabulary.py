"""The words of the override format: augmentation names, their parameters and defaults, the one order.

Everything the file, the CSV table and the trainer side agree on is stated here once:

* :class:`Augmentation` — the augmentations a file may name, listed in the file's own order
  (the published schema's, the CSV table's columns and the messages list them so);
* :data:`ORDER` — the order augmentations run in a training pipeline (torchvision's reference
  recipe and timm's: crop, flip, the automatic policies, colour jitter). It is the only
  order anything is inserted in: an augmentation an override adds to a pipeline that lacks it
  goes after those that come before it here;
* :data:`PARAMETER_DEFAULTS` and the parameter rules: which parameters are ``[min, max]``
  ranges, which are integers, and how an entry is normalised, expanded and merged.

An entry (the value of one augmentation in ``transforms``) is normalised to a dict: ranges as
``(min, max)`` tuples, ``true`` in a file as ``{}`` (on, parameters inherited), ``false`` as
``{"enabled": False}`` (off for these classes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relabel._vocab import Vocabulary
from relabel.errors import OverridesError

__all__ = [
    "SCHEMA_VERSION",
    "Augmentation",
    "Side",
    "ORDER",
    "PARAMETER_DEFAULTS",
    "RANGES",
    "INTEGER_PARAMETERS",
    "explicit_parameters",
    "merge_parameters",
]

SCHEMA_VERSION = "relabel.overrides/1"
"""The format and version this relabel reads and writes."""


class Augmentation(Vocabulary, noun="transform", error=OverridesError):
    """The augmentations an override file may name (a closed vocabulary, in the file's order).

    >>> Augmentation.from_str("horizontal_flip").name
    'HORIZONTAL_FLIP'
    """

    RANDOM_RESIZED_CROP = "random_resized_crop"
    HORIZONTAL_FLIP = "horizontal_flip"
    COLOR_JITTER = "color_jitter"
    RAND_AUGMENT = "rand_augment"
    TRIVIAL_AUGMENT = "trivial_augment"


class Side(Vocabulary, noun="side", error=OverridesError):
    """Which side of a pair an override targets: the class that lost accuracy, its partner that
    absorbed the lost predictions as false positives, or both."""

    LOST = "lost"
    ABSORBING = "absorbing"
    BOTH = "both"


ORDER: tuple[Augmentation, ...] = (
    Augmentation.RANDOM_RESIZED_CROP,
    Augmentation.HORIZONTAL_FLIP,
    Augmentation.RAND_AUGMENT,
    Augmentation.TRIVIAL_AUGMENT,
    Augmentation.COLOR_JITTER,
)
"""The order augmentations run in a training pipeline; what an inserted augmentation follows."""

PARAMETER_DEFAULTS: dict[Augmentation, dict[str, Any]] = {
    Augmentation.RANDOM_RESIZED_CROP: {"scale": (0.08, 1.0), "ratio": (3 / 4, 4 / 3)},
    Augmentation.HORIZONTAL_FLIP: {"p": 0.5},
    Augmentation.COLOR_JITTER: {"brightness": 0.0, "contrast": 0.0, "saturation": 0.0, "hue": 0.0},
    Augmentation.RAND_AUGMENT: {"num_ops": 2, "magnitude": 9, "num_magnitude_bins": 31},
    Augmentation.TRIVIAL_AUGMENT: {"num_magnitude_bins": 31},
}
"""Values of parameters that neither the override, the file's default nor the trainer's
pipeline gives (torchvision's own defaults)."""

RANGES = ("scale", "ratio")
"""Parameters written as ``[min, max]``."""

INTEGER_PARAMETERS = frozenset({"num_ops", "magnitude", "num_magnitude_bins"})
"""Parameters that are whole numbers."""


def normalise_entry(value: Any) -> dict[str, Any]:
    """One augmentation's entry as the data model holds it (see the module docstring)."""
    if value is True:
        return {}
    if value is False:
        return {"enabled": False}
    out: dict[str, Any] = {}
    for name, v in value.items():
        if name == "enabled":
            if v is False:
                return {"enabled": False}
            continue
        if name in RANGES:
            out[name] = (float(v[0]), float(v[1]))
        elif name in INTEGER_PARAMETERS:
            out[name] = int(v)
        else:
            out[name] = float(v)
    return out


def normalise_transforms(transforms: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every entry of a ``transforms`` section normalised."""
    return {name: normalise_entry(value) for name, value in transforms.items()}


def transforms_to_json(transforms: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A normalised ``transforms`` section in the file's form (``true``/``false``, lists for ranges)."""
    out: dict[str, Any] = {}
    for name, entry in transforms.items():
        if entry == {"enabled": False}:
            out[name] = False
        elif not entry and name != Augmentation.RANDOM_RESIZED_CROP.value:
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
