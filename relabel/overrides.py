"""The override file: class-conditional augmentation for the next training run, as a format.

Stage: export (the recommender's output, the trainer's input). The file is versioned JSON or
YAML, published as the JSON Schema ``relabel/overrides.schema.json`` (package data) and
documented in ``docs/overrides.md``::

    {
      "schema": "relabel.overrides/1",
      "label_space": "imagenet-1k",
      "default": {"random_resized_crop": {"scale": [0.08, 1.0]}},
      "overrides": [
        {
          "classes": ["n03782006", "n04152593"],
          "transforms": {"random_resized_crop": {"scale": [0.5, 1.0]}},
          "reason": "monitor lost 12 points to screen under rrc-0.08",
          "evidence": {"acc_multilabel": {"rrc-0.5": 0.81, "rrc-0.08": 0.69}},
          "side": {"lost": ["n03782006"], "absorbing": ["n04152593"], "target": "both"}
        }
      ]
    }

Class keys are the label space's keys (WordNet ids for ImageNet). Scale parameters are
fractions of the image area in (0, 1], never percent. An override changes only the parameters
it names; the rest come from the trainer's default pipeline (see :func:`build_transform`).

:func:`load` validates a file (JSON Schema, then range and uniqueness rules, then class keys
when a class list is given) and names the file, line and field of every problem. Reading and
writing the format does not import torch; building transforms does.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relabel.errors import OverridesError, format_offenders

if TYPE_CHECKING:
    import pandas as pd

    from relabel.labelspace import LabelSpace
    from relabel.transforms import ClassConditionalTransform

__all__ = [
    "SCHEMA_VERSION",
    "Augmentation",
    "Side",
    "SideInfo",
    "Override",
    "Overrides",
    "PARAMETER_DEFAULTS",
    "CSV_COLUMNS",
    "schema",
    "load",
    "loads",
    "dumps_json",
    "dumps_yaml",
    "to_csv_table",
    "write",
    "build_transform",
    "explicit_parameters",
    "merge_parameters",
]

SCHEMA_VERSION = "relabel.overrides/1"
"""The format and version this relabel reads and writes."""

_MAX_PROBLEMS_SHOWN = 20


class Augmentation(str, Enum):
    """The augmentations an override file may name (a closed vocabulary)."""

    RANDOM_RESIZED_CROP = "random_resized_crop"
    HORIZONTAL_FLIP = "horizontal_flip"
    COLOR_JITTER = "color_jitter"
    RAND_AUGMENT = "rand_augment"
    TRIVIAL_AUGMENT = "trivial_augment"

    @classmethod
    def from_str(cls, value: str | Augmentation) -> Augmentation:
        """Parse an augmentation name, listing the choices on error.

        >>> Augmentation.from_str("horizontal_flip").name
        'HORIZONTAL_FLIP'
        """
        try:
            return cls(value)
        except ValueError:
            raise OverridesError(
                f"unknown transform {value!r}; expected one of {[a.value for a in cls]}"
            ) from None


class Side(str, Enum):
    """Which side of a pair an override targets: the class that lost accuracy, its partner that
    absorbed the lost predictions as false positives, or both."""

    LOST = "lost"
    ABSORBING = "absorbing"
    BOTH = "both"

    @classmethod
    def from_str(cls, value: str | Side) -> Side:
        """Parse a side name, listing the choices on error."""
        try:
            return cls(value)
        except ValueError:
            raise OverridesError(f"unknown side {value!r}; expected one of {[s.value for s in cls]}") from None


# The order in which augmentations run in torchvision's and timm's training recipes; an
# override that adds an augmentation the default pipeline lacks inserts it in this order.
_CANONICAL_ORDER = tuple(Augmentation)

PARAMETER_DEFAULTS: dict[Augmentation, dict[str, Any]] = {
    Augmentation.RANDOM_RESIZED_CROP: {"scale": (0.08, 1.0), "ratio": (3 / 4, 4 / 3)},
    Augmentation.HORIZONTAL_FLIP: {"p": 0.5},
    Augmentation.COLOR_JITTER: {"brightness": 0.0, "contrast": 0.0, "saturation": 0.0, "hue": 0.0},
    Augmentation.RAND_AUGMENT: {"num_ops": 2, "magnitude": 9, "num_magnitude_bins": 31},
    Augmentation.TRIVIAL_AUGMENT: {"num_magnitude_bins": 31},
}
"""Values of parameters that neither the override, the file's default nor the trainer's
pipeline gives (torchvision's own defaults)."""

_RANGES = ("scale", "ratio")
_INTEGER_PARAMETERS = {"num_ops", "magnitude", "num_magnitude_bins"}

CSV_COLUMNS: tuple[tuple[str, Augmentation, str, int | None], ...] = (
    ("rrc_scale_min", Augmentation.RANDOM_RESIZED_CROP, "scale", 0),
    ("rrc_scale_max", Augmentation.RANDOM_RESIZED_CROP, "scale", 1),
    ("rrc_ratio_min", Augmentation.RANDOM_RESIZED_CROP, "ratio", 0),
    ("rrc_ratio_max", Augmentation.RANDOM_RESIZED_CROP, "ratio", 1),
    ("hflip_p", Augmentation.HORIZONTAL_FLIP, "p", None),
    ("cj_brightness", Augmentation.COLOR_JITTER, "brightness", None),
    ("cj_contrast", Augmentation.COLOR_JITTER, "contrast", None),
    ("cj_saturation", Augmentation.COLOR_JITTER, "saturation", None),
    ("cj_hue", Augmentation.COLOR_JITTER, "hue", None),
    ("ra_num_ops", Augmentation.RAND_AUGMENT, "num_ops", None),
    ("ra_magnitude", Augmentation.RAND_AUGMENT, "magnitude", None),
    ("ra_num_magnitude_bins", Augmentation.RAND_AUGMENT, "num_magnitude_bins", None),
    ("ta_num_magnitude_bins", Augmentation.TRIVIAL_AUGMENT, "num_magnitude_bins", None),
)
"""The CSV table's parameter columns: (column, augmentation, parameter, item of a [min, max] range)."""

_CSV_FIXED = ("class_key", "class_index")
_CSV_TRAILING = ("override", "reason")


# --------------------------------------------------------------------------------------------
# Data classes


@dataclass(frozen=True)
class SideInfo:
    """Which classes of a pair lost accuracy, which absorbed their predictions, and which of
    them the override targets (``target``; ``None`` when not recorded)."""

    lost: tuple[str, ...] = ()
    absorbing: tuple[str, ...] = ()
    target: Side | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "lost", tuple(str(k) for k in self.lost))
        object.__setattr__(self, "absorbing", tuple(str(k) for k in self.absorbing))
        if self.target is not None:
            object.__setattr__(self, "target", Side.from_str(self.target))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (empty fields left out)."""
        out: dict[str, Any] = {}
        if self.lost:
            out["lost"] = list(self.lost)
        if self.absorbing:
            out["absorbing"] = list(self.absorbing)
        if self.target is not None:
            out["target"] = self.target.value
        return out


@dataclass(frozen=True)
class Override:
    """The augmentation for a set of classes, with why.

    ``transforms`` maps an :class:`Augmentation` name to its parameters, normalised: ranges
    are ``(min, max)`` tuples, ``true`` in a file becomes ``{}`` (on, parameters inherited) and
    ``false`` becomes ``{"enabled": False}`` (off for these classes). Treat it as read-only.

    >>> o = Override(["cat", "dog"], {"random_resized_crop": {"scale": [0.5, 1]}}, reason="cat lost 3 points")
    >>> o.classes, o.transforms
    (('cat', 'dog'), {'random_resized_crop': {'scale': (0.5, 1.0)}})
    """

    classes: tuple[str, ...]
    transforms: Mapping[str, Mapping[str, Any]]
    reason: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    side: SideInfo | None = None

    def __post_init__(self) -> None:
        if isinstance(self.classes, str):
            raise OverridesError(f"override classes must be a list of class keys, got the text {self.classes!r}")
        side = self.side
        if isinstance(side, Mapping):
            side = dict(side)
        elif isinstance(side, SideInfo):
            side = side.to_dict()
        raw = {"classes": _jsonable(list(self.classes), "classes"), "transforms": _jsonable(self.transforms, "transforms"),
               "reason": self.reason, "evidence": _jsonable(self.evidence, "evidence")}
        if side is not None:
            raw["side"] = _jsonable(side, "side")
        problems = _validate({"schema": SCHEMA_VERSION, "overrides": [raw]})
        if problems:
            _raise(problems, source=None, locator=None, strip=("overrides", 0))
        object.__setattr__(self, "classes", tuple(raw["classes"]))
        object.__setattr__(self, "transforms", _normalise_transforms(raw["transforms"]))
        object.__setattr__(self, "evidence", raw["evidence"])
        if side is not None:
            side_info = SideInfo(tuple(side.get("lost", ())), tuple(side.get("absorbing", ())), side.get("target"))
            object.__setattr__(self, "side", side_info)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of this override."""
        out: dict[str, Any] = {
            "classes": list(self.classes),
            "transforms": _transforms_to_json(self.transforms),
            "reason": self.reason,
            "evidence": dict(self.evidence),
        }
        if self.side is not None:
            out["side"] = self.side.to_dict()
        return out


@dataclass(frozen=True)
class Overrides:
    """A validated override file: the default augmentation and the per-class overrides.

    Attributes
    ----------
    overrides
        The overrides; each class key appears in at most one of them.
    label_space
        Name of the label space whose keys the file uses (``None`` when not stated).
    default
        The augmentation the recommendation was made against, in the same form as
        ``Override.transforms``. :func:`build_transform` warns when the trainer's pipeline
        differs from it; the CSV table fills parameters an override does not name from it.
    params
        Free-form settings that produced the file (provenance).
    schema
        Always ``"relabel.overrides/1"``.
    source
        Where the file was read from (``None`` when built in Python); used in messages.

    Examples
    --------
    >>> ov = Overrides(
    ...     [Override(["cat", "dog"], {"random_resized_crop": {"scale": [0.5, 1.0]}})],
    ...     label_space="pets",
    ...     default={"random_resized_crop": {"scale": [0.08, 1.0]}},
    ... )
    >>> ov.resolve(["bird", "cat", "dog"])
    {1: {'random_resized_crop': {'scale': (0.5, 1.0)}}, 2: {'random_resized_crop': {'scale': (0.5, 1.0)}}}
    >>> ov.effective("bird")["random_resized_crop"]["scale"], ov.effective("cat")["random_resized_crop"]["scale"]
    ((0.08, 1.0), (0.5, 1.0))
    """

    overrides: tuple[Override, ...]
    label_space: str | None = None
    default: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    schema: str = SCHEMA_VERSION
    source: str | None = field(default=None, compare=False)
    _origins: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        items = tuple(self.overrides)
        bad = [type(o).__name__ for o in items if not isinstance(o, Override)]
        if bad:
            raise OverridesError(f"Overrides.overrides must hold Override objects; got {format_offenders(bad)}")
        raw = {
            "schema": self.schema,
            "label_space": self.label_space,
            "default": _jsonable(self.default, "default"),
            "params": _jsonable(self.params, "params"),
            "overrides": [o.to_dict() for o in items],
        }
        problems = _validate(raw)
        if problems:
            _raise(problems, source=self.source, locator=None)
        object.__setattr__(self, "overrides", items)
        object.__setattr__(self, "default", _normalise_transforms(raw["default"]))
        object.__setattr__(self, "params", raw["params"])

    # -- construction and serialisation ------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> Overrides:
        """Build from the file's JSON form (validated; errors name fields, not lines)."""
        problems = _validate(_jsonable(data, "file"))
        if problems:
            _raise(problems, source=source, locator=None)
        return cls._from_valid(data, source=source)

    @classmethod
    def _from_valid(cls, data: Mapping[str, Any], *, source: str | None) -> Overrides:
        return cls(
            overrides=tuple(
                Override(
                    classes=tuple(o["classes"]),
                    transforms=o["transforms"],
                    reason=o.get("reason", ""),
                    evidence=o.get("evidence", {}),
                    side=o.get("side"),
                )
                for o in data["overrides"]
            ),
            label_space=data.get("label_space"),
            default=data.get("default", {}),
            params=data.get("params", {}),
            schema=data["schema"],
            source=source,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: what :func:`dumps_json` writes."""
        out: dict[str, Any] = {
            "schema": self.schema,
            "label_space": self.label_space,
            "default": _transforms_to_json(self.default),
        }
        if self.params:
            out["params"] = dict(self.params)
        out["overrides"] = [o.to_dict() for o in self.overrides]
        return out

    # -- queries -------------------------------------------------------------------------------

    @property
    def classes(self) -> tuple[str, ...]:
        """Every overridden class key, in file order."""
        return tuple(key for o in self.overrides for key in o.classes)

    def override_for(self, class_key: str) -> Override | None:
        """The override that names ``class_key``, or ``None``."""
        for o in self.overrides:
            if class_key in o.classes:
                return o
        return None

    def effective(self, class_key: str) -> dict[str, dict[str, Any]]:
        """The complete augmentation for a class, computed from the file alone.

        The override's parameters, else the file's ``default``, else
        :data:`PARAMETER_DEFAULTS`; transforms switched off are left out. Colour jitter's
        ``strength`` is expanded into its four factors. This is what the CSV table holds.
        """
        override = self.override_for(class_key)
        own = override.transforms if override is not None else {}
        out: dict[str, dict[str, Any]] = {}
        for aug in _CANONICAL_ORDER:
            merged = merge_parameters(aug, self.default.get(aug.value), own.get(aug.value))
            if merged is None or merged.get("enabled", True) is False:
                continue
            out[aug.value] = {**PARAMETER_DEFAULTS[aug], **merged}
        return out

    def resolve(self, classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None) -> dict[int, Mapping[str, Mapping[str, Any]]]:
        """Map the file's class keys to a trainer's class indices: ``{class index: transforms}``.

        ``classes`` is the trainer's ``class_to_idx`` (e.g. torchvision ``ImageFolder``'s), a
        list of class keys in index order, or a :class:`~relabel.LabelSpace`; by default the
        label space the file names when it is built in (``imagenet-1k``). The transforms are the
        override's own (the parameters that differ from the default). Keys the trainer does not
        know raise :class:`~relabel.OverridesError` naming them.
        """
        index, what = self._class_index(classes)
        unknown = [key for key in self.classes if key not in index]
        if unknown:
            raise OverridesError(self._unknown_message(unknown, what))
        return {index[key]: o.transforms for o in self.overrides for key in o.classes}

    def build_transform(
        self,
        *,
        default: Callable[..., Any] | None = None,
        classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None,
        size: int | Sequence[int] | None = None,
    ) -> ClassConditionalTransform:
        """A :class:`~relabel.transforms.ClassConditionalTransform` built from this file.

        Parameters
        ----------
        default
            The trainer's training pipeline (a ``torchvision.transforms.v2.Compose``, a v1
            ``Compose``, or an object holding one as ``.transforms`` such as torchvision's
            reference ``ClassificationPresetTrain``). Classes without an override get it
            unchanged. Each distinct override gets a copy in which the transform of the same
            type (RandomResizedCrop, RandomHorizontalFlip, ColorJitter, RandAugment,
            TrivialAugmentWide) is replaced by one with the override's parameters, keeping the
            parameters the override does not name (output size, interpolation, the other
            range); ``false`` removes it; an augmentation the pipeline lacks is inserted in
            the usual order (crop, flip, RandAugment/TrivialAugment, colour jitter) before the
            tensor conversion (ToImage, ToDtype, Normalize, ...). Everything else is kept.
            When ``None``, the file's own ``default`` section is built (augmentations only).
        classes
            As for :meth:`resolve`.
        size
            Output size for a RandomResizedCrop the pipeline does not have.

        Warns (:class:`~relabel.RelabelWarning`) when ``default`` differs from the file's
        ``default`` section: the recommendation was made against another recipe.
        """
        from relabel.transforms import ClassConditionalTransform, build_pipeline, check_default, override_pipeline

        by_index = self.resolve(classes)
        if default is None:
            base = build_pipeline(self.default, size=size)
        else:
            check_default(default, self.default, source=self.source)
            base = default
        pipelines: dict[int, Any] = {}
        built: dict[int, Any] = {}
        for index, transforms in by_index.items():
            key = id(transforms)
            if key not in built:
                built[key] = override_pipeline(base, transforms, size=size)
            pipelines[index] = built[key]
        return ClassConditionalTransform(base, pipelines)

    # -- helpers -------------------------------------------------------------------------------

    def _class_index(self, classes: Mapping[str, int] | Sequence[str] | LabelSpace | None) -> tuple[dict[str, int], str]:
        """``{key: index}`` for the trainer's classes, and a phrase describing them."""
        from relabel.labelspace import LabelSpace

        if classes is None:
            space = _builtin_label_space(self.label_space)
            if space is None:
                raise OverridesError(
                    f"{self._prefix()}label space {self.label_space!r} is not built in; pass classes= "
                    f"(the trainer's class_to_idx, a list of class keys or a LabelSpace)"
                )
            classes = space
        if isinstance(classes, LabelSpace):
            return ({key: i for i, key in enumerate(classes.keys)},
                    f"the {len(classes)} classes of label space {classes.name!r}")
        if isinstance(classes, Mapping):
            bad = [f"{k!r}: {v!r}" for k, v in classes.items()
                   if isinstance(v, bool) or not isinstance(v, int) or v < 0]
            if bad:
                raise OverridesError(f"class_to_idx must map class keys to indices >= 0; got {format_offenders(bad)}")
            return {str(k): int(v) for k, v in classes.items()}, f"the trainer's {len(classes)} classes"
        if isinstance(classes, str) or not isinstance(classes, Sequence):
            raise OverridesError(
                f"classes must be a class_to_idx mapping, a list of class keys or a LabelSpace; got {type(classes).__name__}"
            )
        return {str(k): i for i, k in enumerate(classes)}, f"the trainer's {len(classes)} classes"

    def _unknown_message(self, unknown: list[str], what: str) -> str:
        where = [self._origins[k] for k in unknown[:5] if k in self._origins]
        located = f" (at {'; '.join(where)})" if where else ""
        return f"{self._prefix()}class keys not among {what}: {format_offenders(unknown)}{located}"

    def _prefix(self) -> str:
        return f"{self.source}: " if self.source else ""


def _builtin_label_space(name: str | None) -> LabelSpace | None:
    if name is not None and name.lower() in {"imagenet-1k", "imagenet", "imagenet1k"}:
        from relabel.labelspace import imagenet_1k

        return imagenet_1k()
    return None


# --------------------------------------------------------------------------------------------
# Normalising transforms


def _normalise_entry(value: Any) -> dict[str, Any]:
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
        if name in _RANGES:
            out[name] = (float(v[0]), float(v[1]))
        elif name in _INTEGER_PARAMETERS:
            out[name] = int(v)
        else:
            out[name] = float(v)
    return out


def _normalise_transforms(transforms: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: _normalise_entry(value) for name, value in transforms.items()}


def _transforms_to_json(transforms: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
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


# --------------------------------------------------------------------------------------------
# Validation: JSON Schema, then semantic rules; problems carry a path into the document


@dataclass(frozen=True)
class _Problem:
    path: tuple[str | int, ...]
    message: str
    at_key: bool = False  # point at the key's line (unknown fields), not the value's
    related: tuple[str | int, ...] | None = None  # another place the message refers to as {at}
    line: int | None = None  # known directly (repeated keys), not through the path


def schema() -> dict[str, Any]:
    """The published JSON Schema of the format (``relabel/overrides.schema.json``)."""
    return json.loads(_schema_text())


@cache
def _schema_text() -> str:
    return resources.files("relabel").joinpath("overrides.schema.json").read_text(encoding="utf-8")


@cache
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(_schema_text()))


def _validate(data: Any) -> list[_Problem]:
    problems = [p for error in _validator().iter_errors(data) for p in _explain(error)]
    if problems:
        return problems
    return _semantic_problems(data)


_TYPE_WORDS = {
    "object": "an object",
    "array": "a list",
    "string": "text",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "null",
}


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {_num(value)}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return f"a list ({_short(value)})"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _num(x: Any) -> str:
    return repr(float(x)) if isinstance(x, float) else str(x)


def _is_transforms_path(path: tuple[str | int, ...]) -> bool:
    return path == ("default",) or (len(path) == 3 and path[0] == "overrides" and path[2] == "transforms")


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _explain(error: Any) -> list[_Problem]:
    path = tuple(error.absolute_path)
    kind = error.validator
    instance = error.instance
    if kind == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extras = [k for k in instance if k not in allowed]
        if _is_transforms_path(path):
            noun = "transform"
        elif len(path) >= 2 and _is_transforms_path(path[:-1]):
            noun = f"parameter of {path[-1]}"
        else:
            noun = "field"
        return [
            _Problem(path + (k,), f"unknown {noun} {k!r}{_suggest(str(k), allowed)}; expected one of {allowed}", at_key=True)
            for k in extras
        ]
    if kind == "required":
        return [_Problem(path, f"missing required field {k!r}") for k in error.validator_value if k not in instance]
    if kind == "type":
        expected = error.validator_value
        words = (" or ".join(_TYPE_WORDS.get(t, t) for t in expected) if isinstance(expected, list)
                 else _TYPE_WORDS.get(expected, expected))
        if expected == ["boolean", "object"]:
            words = "true, false or an object"
        hint = ""
        if len(path) >= 2 and path[-2] == "classes" and isinstance(instance, (int, float)) and not isinstance(instance, bool):
            hint = f" (class keys are text: write '{_num(instance)}' in quotes)"
        elif isinstance(instance, str) and expected in ("number", "integer") and _looks_numeric(instance):
            hint = " (YAML 1.1 reads numbers like 1e-3 as text: write 0.001)"
        return [_Problem(path, f"expected {words}, got {_describe(instance)}{hint}")]
    if kind == "const":
        hint = f" (this relabel reads {SCHEMA_VERSION!r})" if path == ("schema",) else ""
        return [_Problem(path, f"expected {error.validator_value!r}, got {_describe(instance)}{hint}")]
    if kind == "enum":
        return [_Problem(path, f"expected one of {list(error.validator_value)}, got {_describe(instance)}")]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if len(path) >= 2 and path[-2] == "scale":
            hint = ""
            if isinstance(instance, (int, float)) and 2 <= instance <= 100:
                hint = f" (a percentage? write {instance / 100:g})"
            return [_Problem(path, f"expected a fraction in (0, 1], got {_num(instance)}{hint}")]
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[kind]
        return [_Problem(path, f"expected a value {op} {_num(error.validator_value)}, got {_num(instance)}")]
    if kind in ("minItems", "maxItems"):
        if path and path[-1] in _RANGES:
            return [_Problem(path, f"expected [min, max] (two numbers), got {_short(instance)}")]
        if path and path[-1] == "classes":
            return [_Problem(path, "expected at least one class key")]
    if kind == "minLength":
        return [_Problem(path, "expected a non-empty class key")]
    if kind == "minProperties":
        return [_Problem(path, f"expected at least one transform; choose from {[a.value for a in Augmentation]}")]
    return [_Problem(path, error.message)]


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _semantic_problems(data: Mapping[str, Any]) -> list[_Problem]:
    problems: list[_Problem] = []
    sections: list[tuple[tuple[str | int, ...], Mapping[str, Any]]] = [(("default",), data.get("default") or {})]
    sections += [(("overrides", i, "transforms"), o["transforms"]) for i, o in enumerate(data["overrides"])]
    for where, transforms in sections:
        for name, entry in transforms.items():
            if not isinstance(entry, dict):
                continue
            for rng in _RANGES:
                if rng in entry and entry[rng][0] > entry[rng][1]:
                    lo, hi = entry[rng]
                    problems.append(_Problem(where + (name, rng), f"min {_num(lo)} > max {_num(hi)}"))
            magnitude, bins = entry.get("magnitude"), entry.get("num_magnitude_bins")
            if magnitude is not None and bins is not None and magnitude >= bins:
                problems.append(_Problem(where + (name, "magnitude"),
                                         f"magnitude {magnitude} must be below num_magnitude_bins {bins}"))
    first_seen: dict[str, tuple[int, int]] = {}
    for i, o in enumerate(data["overrides"]):
        for j, key in enumerate(o["classes"]):
            if key not in first_seen:
                first_seen[key] = (i, j)
                continue
            i0, j0 = first_seen[key]
            here = ("overrides", i, "classes", j)
            there = ("overrides", i0, "classes", j0)
            if i0 == i:
                problems.append(_Problem(here, f"class {key!r} is listed twice in this override (first as classes[{j0}]{{at}})", related=there))
            else:
                problems.append(_Problem(here, f"class {key!r} is already in overrides[{i0}]{{at}}; a class may appear in one override only", related=there))
    return problems


def _class_problems(data: Mapping[str, Any], known: Mapping[str, int], what: str) -> list[_Problem]:
    problems = []
    for i, o in enumerate(data["overrides"]):
        places = [(("classes",), o["classes"])]
        side = o.get("side") or {}
        places += [(("side", name), side[name]) for name in ("lost", "absorbing") if name in side]
        for sub, keys in places:
            for j, key in enumerate(keys):
                if key not in known:
                    problems.append(_Problem(("overrides", i, *sub, j),
                                             f"unknown class key {key!r}{_suggest(key, list(known))}; not among {what}"))
    return problems


def _render(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class _Locator:
    """Where a path into the document is in the file: a line (JSON/YAML) or a CSV line and column."""

    def line(self, path: tuple[str | int, ...], *, at_key: bool = False) -> int | None:
        return None

    def field(self, path: tuple[str | int, ...]) -> str:
        return _render(path)


class _NodeLocator(_Locator):
    """Line numbers from a PyYAML node tree (JSON is YAML, so this serves both)."""

    def __init__(self, root: Any) -> None:
        self.root = root

    def line(self, path: tuple[str | int, ...], *, at_key: bool = False) -> int | None:
        import yaml

        node, key_node = self.root, None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                        node, key_node = v, k
                        break
                else:
                    key_node = None
                    break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node, key_node = node.value[part], None
            else:
                key_node = None
                break
        target = key_node if (at_key and key_node is not None) else node
        return target.start_mark.line + 1


def _format_problem(problem: _Problem, source: str | None, locator: _Locator | None, strip: tuple = ()) -> tuple[int, str]:
    locator = locator or _Locator()
    line = problem.line if problem.line is not None else locator.line(problem.path, at_key=problem.at_key)
    at = ""
    if problem.related is not None:
        related_line = locator.line(problem.related)
        at = f" (line {related_line})" if related_line is not None else ""
    message = problem.message.replace("{at}", at)
    path = problem.path[len(strip):] if problem.path[: len(strip)] == strip else problem.path
    where = locator.field(path)
    parts = [p for p in (source, f"line {line}" if line is not None else None) if p]
    head = ", ".join(parts)
    text = f"{where}: {message}" if where else message
    return (line if line is not None else 0), (f"{head}: {text}" if head else text)


def _raise(problems: list[_Problem], *, source: str | None, locator: _Locator | None, strip: tuple = ()) -> None:
    formatted = sorted({_format_problem(p, source, locator, strip) for p in problems})
    lines = [text for _, text in formatted]
    if len(lines) == 1:
        raise OverridesError(lines[0])
    shown = lines[:_MAX_PROBLEMS_SHOWN]
    more = len(lines) - len(shown)
    head = f"{source}: {len(lines)} problems" if source else f"invalid overrides: {len(lines)} problems"
    tail = [f"... and {more} more"] if more else []
    raise OverridesError("\n".join([head, *shown, *tail]))


def _jsonable(value: Any, where: str) -> Any:
    """Plain JSON values: tuples → lists, numpy scalars/arrays → Python, NaN/inf → None."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Enum):
        return _jsonable(value.value, where)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, where) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, where) for v in value]
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy scalars and arrays, tensors
        return _jsonable(value.tolist(), where)
    if hasattr(value, "isoformat"):  # dates and times YAML may produce
        return value.isoformat()
    raise OverridesError(f"{where}: values must be JSON values (numbers, text, lists, objects); got {type(value).__name__}")


# --------------------------------------------------------------------------------------------
# Reading


def load(
    path: str | Path,
    *,
    classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None,
) -> Overrides:
    """Read and validate an override file (``.json``, ``.yaml``/``.yml`` or ``.csv``).

    Every problem is reported with the file, the line and the field, e.g.
    ``overrides.json, line 12: overrides[0].transforms.random_resized_crop.scale: min 0.9 > max 0.5``.
    With ``classes`` (a :class:`~relabel.LabelSpace`, a trainer's ``class_to_idx`` or a list of
    class keys), class keys that are not among them are errors too.
    """
    path = Path(path)
    if not path.is_file():
        raise OverridesError(f"override file {path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise OverridesError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _load_csv(text, source=str(path), classes=classes)
    if suffix not in {".json", ".yaml", ".yml"}:
        raise OverridesError(f"{path}: unsupported override file suffix {suffix!r}; use .json, .yaml, .yml or .csv")
    return loads(text, source=str(path), format="json" if suffix == ".json" else "yaml", classes=classes)


def loads(
    text: str,
    *,
    source: str = "<overrides>",
    format: str = "json",
    classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None,
) -> Overrides:
    """Parse and validate override text (``format`` ``"json"`` or ``"yaml"``); see :func:`load`."""
    if format not in ("json", "yaml"):
        raise OverridesError(f"unknown override format {format!r}; expected one of ['json', 'yaml']")
    data, locator = _parse(text, source=source, as_json=format == "json")

    def origin(i: int, j: int) -> str:
        line = locator.line(("overrides", i, "classes", j)) if locator else None
        return f"line {line}" if line is not None else _render(("overrides", i, "classes", j))

    return _build(data, source=source, locator=locator, origin=origin, classes=classes)[0]


def _build(data: Any, *, source: str, locator: Any, origin: Callable[[int, int], str],
           classes: Mapping[str, int] | Sequence[str] | LabelSpace | None) -> tuple[Overrides, dict[str, int], str]:
    """Validate parsed override data, note where each class key was written (``origin(override, position)``,
    for messages) and check the keys against ``classes``; also returns the class index and its description."""
    problems = _validate(data)
    if problems:
        _raise(problems, source=source, locator=locator)
    overrides = Overrides._from_valid(data, source=source)
    origins = {key: origin(i, j) for i, o in enumerate(data["overrides"]) for j, key in enumerate(o["classes"])}
    object.__setattr__(overrides, "_origins", origins)
    known: dict[str, int] = {}
    what = ""
    if classes is not None:
        known, what = overrides._class_index(classes)
        problems = _class_problems(data, known, what)
        if problems:
            _raise(problems, source=source, locator=locator)
    return overrides, known, what


def _parse(text: str, *, source: str, as_json: bool) -> tuple[Any, _Locator | None]:
    import yaml

    data: Any = None
    if as_json:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise OverridesError(f"{source}, line {e.lineno}, column {e.colno}: not valid JSON: {e.msg}") from None
    # Raw tabs in valid JSON are whitespace (inside strings they must be escaped), but PyYAML
    # refuses some of them: spaces keep every line number.
    loader = yaml.SafeLoader(text.replace("\t", " ") if as_json else text)
    try:
        root = loader.get_single_node()
        repeated = _repeated_keys(root, ()) if root is not None else []
        if not as_json:
            data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as e:
        if as_json:  # valid JSON that PyYAML cannot read (tabs, ...): go on without line numbers
            return _strict_json(text, source), None
        mark = e.problem_mark or e.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = e.problem or e.context or str(e)
        raise OverridesError(f"{source}{where}: not valid YAML: {problem}") from None
    except yaml.YAMLError as e:
        if as_json:
            return _strict_json(text, source), None
        raise OverridesError(f"{source}: not valid YAML: {e}") from None
    finally:
        loader.dispose()
    locator = _NodeLocator(root) if root is not None else None
    if repeated:
        _raise(repeated, source=source, locator=locator)
    if root is None:
        raise OverridesError(f"{source}: the file is empty; expected an object with 'schema' and 'overrides'")
    return data, locator


def _strict_json(text: str, source: str) -> Any:
    from relabel._json import RepeatedJSONKeys, loads_strict

    try:
        return loads_strict(text)
    except RepeatedJSONKeys as e:
        raise OverridesError(f"{source}: fields repeated within one object: {format_offenders(e.keys)}") from None


def _repeated_keys(node: Any, path: tuple[str | int, ...]) -> list[_Problem]:
    import yaml

    problems: list[_Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, Any] = {}
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else None
            if key is not None and key in seen:
                problems.append(_Problem(path + (key,), f"field {key!r} appears twice in this object "
                                                       f"(first on line {seen[key].start_mark.line + 1})",
                                         line=k.start_mark.line + 1))
            elif key is not None:
                seen[key] = k
            problems += _repeated_keys(v, path + ((key,) if key is not None else ()))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            problems += _repeated_keys(v, path + (i,))
    return problems


class _CsvLocator(_Locator):
    """Paths into the document built from a CSV file → the CSV's line and column names."""

    def __init__(self, rows_of_override: list[list[int]], class_line: dict[tuple[int, int], int]) -> None:
        self.rows_of_override = rows_of_override
        self.class_line = class_line

    def line(self, path: tuple[str | int, ...], *, at_key: bool = False) -> int | None:
        if len(path) >= 4 and path[0] == "overrides" and path[2] == "classes":
            return self.class_line.get((int(path[1]), int(path[3])))
        if len(path) >= 2 and path[0] == "overrides" and isinstance(path[1], int) and path[1] < len(self.rows_of_override):
            return self.rows_of_override[path[1]][0]
        return None

    def field(self, path: tuple[str | int, ...]) -> str:
        if len(path) >= 4 and path[0] == "overrides" and path[2] == "classes":
            return "class_key"
        if len(path) >= 5 and path[2] == "transforms":
            aug, param = path[3], path[4]
            item = path[5] if len(path) >= 6 else None
            columns = [c for c, a, p, i in CSV_COLUMNS if a.value == aug and p == param and (item is None or i == item)]
            if columns:
                return "column " + "/".join(columns)
        if len(path) >= 3 and path[2] == "reason":
            return "column reason"
        return _render(path)


def _load_csv(text: str, *, source: str, classes: Mapping[str, int] | Sequence[str] | LabelSpace | None) -> Overrides:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise OverridesError(f"{source}: the file is empty; expected a header with class_key and parameter columns") from None
    except csv.Error as e:
        raise OverridesError(f"{source}, line 1: not valid CSV: {e}") from None
    header = [h.strip() for h in header]
    param_columns = {c: (a, p, i) for c, a, p, i in CSV_COLUMNS}
    allowed = [*_CSV_FIXED, *param_columns, *_CSV_TRAILING]
    unknown = [h for h in header if h not in allowed]
    if unknown:
        raise OverridesError(f"{source}, line 1: unknown column {unknown[0]!r}{_suggest(unknown[0], allowed)}; "
                             f"expected class_key, class_index, override, reason and parameter columns {list(param_columns)}")
    repeated = [h for h in dict.fromkeys(header) if header.count(h) > 1]
    if repeated:
        raise OverridesError(f"{source}, line 1: column {repeated[0]!r} appears more than once")
    if "class_key" not in header:
        raise OverridesError(f"{source}, line 1: missing column 'class_key'; found {header}")
    augs = [a for a in _CANONICAL_ORDER if any(param_columns[c][0] is a for c in header if c in param_columns)]

    groups: dict[str, int] = {}
    built: list[dict[str, Any]] = []
    rows_of_override: list[list[int]] = []
    class_line: dict[tuple[int, int], int] = {}
    indices: list[tuple[int, str, int]] = []  # (line, key, class_index) for the class_index check
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise OverridesError(f"{source}, line {line}: expected {len(header)} cells (as in the header), got {len(row)}")
            cells = {h: c.strip() for h, c in zip(header, row)}
            key = cells["class_key"]
            transforms = _csv_transforms(cells, augs, param_columns, source, line)
            entry = {"classes": [key], "transforms": transforms, "reason": cells.get("reason", "")}
            if cells.get("class_index", ""):
                try:
                    indices.append((line, key, int(cells["class_index"])))
                except ValueError:
                    raise OverridesError(f"{source}, line {line}, column class_index: expected an integer, "
                                         f"got {cells['class_index']!r}") from None
            group = cells.get("override", "") or f"row {line}"
            if group not in groups:
                groups[group] = len(built)
                built.append(entry)
                rows_of_override.append([line])
                class_line[(groups[group], 0)] = line
                continue
            i = groups[group]
            first = built[i]
            if first["transforms"] != transforms or first["reason"] != entry["reason"]:
                raise OverridesError(
                    f"{source}, line {line}: rows of override {group!r} must agree on every parameter and the reason "
                    f"(this row differs from line {rows_of_override[i][0]})"
                )
            class_line[(i, len(first["classes"]))] = line
            first["classes"].append(key)
            rows_of_override[i].append(line)
    except csv.Error as e:
        raise OverridesError(f"{source}, line {reader.line_num}: not valid CSV: {e}") from None
    data = {"schema": SCHEMA_VERSION, "label_space": None, "default": {}, "overrides": built}
    locator = _CsvLocator(rows_of_override, class_line)
    overrides, known, what = _build(data, source=source, locator=locator,
                                    origin=lambda i, j: f"line {class_line[(i, j)]}", classes=classes)
    if classes is not None:
        for line, key, index in indices:
            if key in known and known[key] != index:
                raise OverridesError(f"{source}, line {line}, column class_index: {key!r} has index {known[key]} "
                                     f"among {what}, not {index}")
    return overrides


def _csv_transforms(cells: dict[str, str], augs: list[Augmentation], param_columns: dict, source: str, line: int) -> dict[str, Any]:
    transforms: dict[str, Any] = {}
    for aug in augs:
        values: dict[str, Any] = {}
        ranges: dict[str, list[Any]] = {}
        for column, (a, param, item) in param_columns.items():
            if a is not aug or column not in cells or not cells[column]:
                continue
            value = _csv_number(cells[column], integer=param in _INTEGER_PARAMETERS, where=f"{source}, line {line}, column {column}")
            if item is None:
                values[param] = value
            else:
                ranges.setdefault(param, [None, None])[item] = value
        for param, pair in ranges.items():
            if None in pair:
                missing = [c for c, a, p, i in CSV_COLUMNS if a is aug and p == param and pair[i] is None]
                raise OverridesError(f"{source}, line {line}, column {missing[0]}: empty, but its partner is given; "
                                     f"give both ends of the range or neither")
            values[param] = pair
        if values:
            transforms[aug.value] = values
        elif aug is not Augmentation.RANDOM_RESIZED_CROP:
            transforms[aug.value] = False  # every cell empty: not applied to this class
    return transforms


def _csv_number(text: str, *, integer: bool, where: str) -> float | int:
    try:
        value = float(text)
    except ValueError:
        raise OverridesError(f"{where}: expected {'an integer' if integer else 'a number'}, got {text!r}") from None
    if integer:
        if not value.is_integer():
            raise OverridesError(f"{where}: expected an integer, got {text!r}")
        return int(value)
    return value


# --------------------------------------------------------------------------------------------
# Writing


def dumps_json(overrides: Overrides) -> str:
    """The override file as JSON text (two-space indent; short lists and flat objects on one line)."""
    return _json_text(overrides.to_dict(), 0) + "\n"


def _json_text(value: Any, depth: int) -> str:
    pad = "  " * depth
    if isinstance(value, dict):
        flat = json.dumps(value, ensure_ascii=False, allow_nan=False)
        if not value or (len(flat) <= 72 and all(not isinstance(v, dict) for v in value.values())
                         and all(not isinstance(x, (dict, list)) for v in value.values() if isinstance(v, list) for x in v)):
            return flat
        items = [f"{pad}  {json.dumps(k, ensure_ascii=False)}: {_json_text(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            return json.dumps(value, ensure_ascii=False, allow_nan=False)
        items = [f"{pad}  {_json_text(v, depth + 1)}" for v in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def dumps_yaml(overrides: Overrides) -> str:
    """The override file as YAML text (block style; lists of numbers or keys in flow style)."""
    import yaml

    return yaml.safe_dump(overrides.to_dict(), sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)


def to_csv_table(
    overrides: Overrides,
    *,
    classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None,
) -> pd.DataFrame:
    """The overrides as a flat table, one row per overridden class, for trainers that want one.

    Columns: ``class_key``; ``class_index`` (from ``classes``, by default the built-in label
    space the file names); one column per parameter of every augmentation the file mentions
    (see :data:`CSV_COLUMNS`: ``rrc_scale_min``, ``rrc_scale_max``, ``rrc_ratio_min``,
    ``rrc_ratio_max``, ``hflip_p``, ``cj_brightness`` … ``ta_num_magnitude_bins``), holding the
    class's complete setting (:meth:`Overrides.effective`; empty = not applied); ``override``
    (position of the override in the file) and ``reason``. Scale is a fraction of the image
    area in (0, 1], not percent. Evidence, side and the default section are not in the table.
    """
    import pandas as pd

    index, _ = overrides._class_index(classes)
    unknown = [key for key in overrides.classes if key not in index]
    if unknown:
        raise OverridesError(overrides._unknown_message(unknown, "the classes given"))
    mentioned = {name for section in [overrides.default, *(o.transforms for o in overrides.overrides)] for name in section}
    columns = [(c, a, p, i) for c, a, p, i in CSV_COLUMNS if a.value in mentioned]
    rows = []
    for position, o in enumerate(overrides.overrides):
        for key in o.classes:
            effective = overrides.effective(key)
            row: dict[str, Any] = {"class_key": key, "class_index": index[key]}
            for column, aug, param, item in columns:
                params = effective.get(aug.value)
                value = None if params is None else params[param]
                row[column] = value if item is None or value is None else value[item]
            row["override"] = position
            row["reason"] = o.reason
            rows.append(row)
    table = pd.DataFrame(rows, columns=[*_CSV_FIXED, *(c for c, *_ in columns), *_CSV_TRAILING])
    table["class_index"] = table["class_index"].astype("int64")
    table["override"] = table["override"].astype("int64")
    for column, aug, param, item in columns:
        table[column] = table[column].astype("Int64" if param in _INTEGER_PARAMETERS else "Float64")
    return table


def write(
    overrides: Overrides,
    path: str | Path,
    *,
    classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None,
) -> Path:
    """Write the file atomically (temp file + rename); the format follows the suffix.

    ``.json`` and ``.yaml``/``.yml`` hold everything; ``.csv`` is :func:`to_csv_table`
    (``classes`` gives its ``class_index`` column).
    """
    from relabel.export import atomic_path

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        text = dumps_json(overrides)
    elif suffix in {".yaml", ".yml"}:
        text = dumps_yaml(overrides)
    elif suffix == ".csv":
        text = to_csv_table(overrides, classes=classes).to_csv(index=False)
    else:
        raise OverridesError(f"unsupported override file suffix {suffix!r}; use .json, .yaml, .yml or .csv")
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def build_transform(
    overrides: Overrides | str | Path,
    *,
    default: Callable[..., Any] | None = None,
    classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None,
    size: int | Sequence[int] | None = None,
) -> ClassConditionalTransform:
    """:meth:`Overrides.build_transform` for an :class:`Overrides` or a file path."""
    if not isinstance(overrides, Overrides):
        overrides = load(overrides, classes=classes)
    return overrides.build_transform(default=default, classes=classes, size=size)
