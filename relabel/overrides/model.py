"""The override file's data model: :class:`Override` and :class:`Overrides`, validated once.

An object built in Python is checked when it is made (an :class:`Override` on its own, an
:class:`Overrides` for its top-level fields and for a class named in two overrides); a file
read by :mod:`relabel.overrides.files` or :mod:`relabel.overrides.table` is checked whole by
:func:`build` and its objects are made without checking again.

The model answers the questions a trainer asks — which override names a class
(:meth:`Overrides.override_for`), the complete setting of a class (:meth:`Overrides.effective`),
the overrides keyed by the trainer's class indices (:meth:`Overrides.resolve`) — and knows
nothing of any trainer: building a pipeline from it is the trainer side's job
(:func:`relabel.transforms.build_transform`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from relabel.errors import OverridesError, RelabelWarning, format_offenders
from relabel.overrides.validation import (
    Locator,
    class_problems,
    duplicate_problems,
    jsonable,
    nonfinite_problems,
    problems,
    raise_problems,
    range_problems,
    schema_problems,
)
from relabel.overrides.vocabulary import (
    PARAMETER_DEFAULTS,
    SCHEMA_VERSION,
    Augmentation,
    Side,
    merge_parameters,
    normalise_transforms,
    transforms_to_json,
)

if TYPE_CHECKING:
    from relabel.labelspace import LabelSpace

__all__ = ["SideInfo", "Override", "Overrides", "build"]


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
        side: Any = self.side
        if isinstance(side, SideInfo):
            side = side.to_dict()
        raw = {"classes": jsonable(list(self.classes), "classes"),
               "transforms": jsonable(self.transforms, "transforms", keep_nonfinite=True),
               "reason": self.reason, "evidence": jsonable(self.evidence, "evidence")}
        if side is not None:
            raw["side"] = jsonable(dict(side) if isinstance(side, Mapping) else side, "side")
        found = problems({"schema": SCHEMA_VERSION, "overrides": [raw]})
        if found:
            raise_problems(found, source=None, locator=None, strip=("overrides", 0))
        self._take(raw)

    @classmethod
    def _from_valid(cls, raw: Mapping[str, Any]) -> Override:
        """An override from one entry of a document that has passed :func:`problems` (not checked again)."""
        self = object.__new__(cls)
        self._take(raw)
        return self

    def _take(self, raw: Mapping[str, Any]) -> None:
        side = raw.get("side")
        object.__setattr__(self, "classes", tuple(raw["classes"]))
        object.__setattr__(self, "transforms", normalise_transforms(raw["transforms"]))
        object.__setattr__(self, "reason", raw.get("reason", ""))
        object.__setattr__(self, "evidence", jsonable(raw.get("evidence", {}), "evidence"))
        if side is not None:
            side = jsonable(side, "side")
            side = SideInfo(tuple(side.get("lost", ())), tuple(side.get("absorbing", ())), side.get("target"))
        object.__setattr__(self, "side", side)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of this override."""
        out: dict[str, Any] = {
            "classes": list(self.classes),
            "transforms": transforms_to_json(self.transforms),
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
        ``Override.transforms``. :func:`relabel.transforms.build_transform` warns when the
        trainer's pipeline differs from it; the CSV table fills parameters an override does not
        name from it.
    params
        Free-form settings that produced the file (provenance).
    schema
        Always ``"relabel.overrides/2"`` (a ``/1`` file is read as ``/2``: its meaning is unchanged).
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
    _origins: dict[str, tuple[int, int]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _origin: Callable[[int, int], str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        items = tuple(self.overrides)
        bad = [type(o).__name__ for o in items if not isinstance(o, Override)]
        if bad:
            raise OverridesError(f"Overrides.overrides must hold Override objects; got {format_offenders(bad)}")
        # Each Override was checked when it was made: what is left is the file's own fields and
        # the rule that spans overrides (a class in one override only).
        head = {
            "schema": self.schema,
            "label_space": self.label_space,
            "default": jsonable(self.default, "default", keep_nonfinite=True),
            "params": jsonable(self.params, "params"),
            "overrides": [],
        }
        found = nonfinite_problems(head) or schema_problems(head)
        if not found:
            found = (range_problems(("default",), head["default"], version=self.schema)
                     + duplicate_problems([o.to_dict() for o in items]))
        if found:
            raise_problems(found, source=self.source, locator=None)
        object.__setattr__(self, "schema", SCHEMA_VERSION)
        object.__setattr__(self, "overrides", items)
        object.__setattr__(self, "default", normalise_transforms(head["default"]))
        object.__setattr__(self, "params", head["params"])

    # -- construction and serialisation ------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> Overrides:
        """Build from the file's JSON form (validated; errors name fields, not lines)."""
        data = jsonable(data, source or "file", keep_nonfinite=True)
        found = problems(data)
        if found:
            raise_problems(found, source=source, locator=None)
        return cls._from_valid(data, source=source)

    @classmethod
    def _from_valid(cls, data: Mapping[str, Any], *, source: str | None) -> Overrides:
        """The file's objects from data that has passed :func:`problems` (not checked again)."""
        self = object.__new__(cls)
        for name, value in (
            ("overrides", tuple(Override._from_valid(o) for o in data["overrides"])),
            ("label_space", data.get("label_space")),
            ("default", normalise_transforms(data.get("default", {}))),
            ("params", jsonable(data.get("params", {}), "params")),
            ("schema", SCHEMA_VERSION),
            ("source", source),
            ("_origins", {}),
            ("_origin", None),
        ):
            object.__setattr__(self, name, value)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: what :func:`relabel.overrides.dumps_json` writes."""
        out: dict[str, Any] = {
            "schema": self.schema,
            "label_space": self.label_space,
            "default": transforms_to_json(self.default),
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

        Per augmentation the file mentions for this class: the override's parameters, else the
        file's ``default``, else :data:`~relabel.overrides.PARAMETER_DEFAULTS`; an augmentation
        switched **off** is ``{"enabled": False}``; one that neither the override nor the
        default mentions is **absent** (not mentioned: the trainer's pipeline decides). Colour
        jitter's ``strength`` is expanded into its four factors. This is what the CSV table holds.
        """
        override = self.override_for(class_key)
        own = override.transforms if override is not None else {}
        out: dict[str, dict[str, Any]] = {}
        for aug in Augmentation:
            merged = merge_parameters(aug, self.default.get(aug.value), own.get(aug.value))
            if merged is None:
                continue
            out[aug.value] = merged if merged.get("enabled", True) is False else {**PARAMETER_DEFAULTS[aug], **merged}
        return out

    def resolve(self, classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None, *,
                skip_absent: bool = False) -> dict[int, Mapping[str, Mapping[str, Any]]]:
        """Map the file's class keys to a trainer's class indices: ``{class index: transforms}``.

        ``classes`` is the trainer's ``class_to_idx`` (e.g. torchvision ``ImageFolder``'s), a
        list of class keys in index order, or a :class:`~relabel.LabelSpace`; by default the
        label space the file names when it is built in (``imagenet-1k``). The transforms are the
        override's own (the parameters that differ from the default); classes of one override
        share one mapping object. An augmentation switched off is ``{"enabled": False}``; one the
        override does not mention is absent (the trainer's default pipeline decides).

        Keys the trainer does not know raise :class:`~relabel.OverridesError` naming them —
        unless ``skip_absent`` (a trainer on a subset of the file's classes, e.g. an ImageNet-100
        trainer with an ImageNet-1k file): then they are left out, with a
        :class:`~relabel.RelabelWarning` that counts and names them. This is what every trainer
        adapter consumes.
        """
        index, what = self._class_index(classes)
        unknown = [key for key in self.classes if key not in index]
        if unknown and not skip_absent:
            raise OverridesError(self._unknown_message(unknown, what)
                                 + " (a trainer on a subset of the classes: pass skip_absent=True)")
        if unknown:
            warnings.warn(RelabelWarning(
                f"{self._prefix()}{len(unknown)} of the file's {len(self.classes)} overridden classes are not among "
                f"{what} and are skipped: {format_offenders(unknown)}"), stacklevel=2)
        return {index[key]: o.transforms for o in self.overrides for key in o.classes if key in index}

    def build_transform(
        self,
        *,
        default: Callable[..., Any] | None = None,
        classes: Mapping[str, int] | Sequence[str] | LabelSpace | None = None,
        size: int | Sequence[int] | None = None,
    ) -> Any:
        """Deprecated: use ``relabel.transforms.build_transform(overrides, default=..., classes=...)``.

        The trainer side owns building pipelines; the format knows no trainer.
        """
        warnings.warn(
            "Overrides.build_transform is deprecated and will be removed; use "
            "relabel.transforms.build_transform(overrides, default=..., classes=..., size=...)",
            DeprecationWarning, stacklevel=2,
        )
        from relabel.transforms import build_transform  # the deprecated way up; goes with this method

        return build_transform(self, default=default, classes=classes, size=size)

    # -- helpers -------------------------------------------------------------------------------

    def _class_index(self, classes: Mapping[str, int] | Sequence[str] | LabelSpace | None
                     ) -> tuple[dict[str, int], str]:
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
                f"classes must be a class_to_idx mapping, a list of class keys or a LabelSpace; "
                f"got {type(classes).__name__}"
            )
        return {str(k): i for i, k in enumerate(classes)}, f"the trainer's {len(classes)} classes"

    def _unknown_message(self, unknown: list[str], what: str) -> str:
        origin = self._origin
        where = [origin(*self._origins[k]) for k in unknown[:5] if k in self._origins] if origin is not None else []
        located = f" (at {'; '.join(where)})" if where else ""
        return f"{self._prefix()}class keys not among {what}: {format_offenders(unknown)}{located}"

    def _prefix(self) -> str:
        return f"{self.source}: " if self.source else ""


def _builtin_label_space(name: str | None) -> LabelSpace | None:
    if name is not None and name.lower() in {"imagenet-1k", "imagenet", "imagenet1k"}:
        from relabel.labelspace import imagenet_1k

        return imagenet_1k()
    return None


def build(
    data: Any,
    *,
    source: str,
    locator: Locator | None,
    origin: Callable[[int, int], str],
    classes: Mapping[str, int] | Sequence[str] | LabelSpace | None,
    skip_absent: bool = False,
) -> tuple[Overrides, dict[str, int], str]:
    """Check a parsed file once, make its objects, and check its class keys against ``classes``.

    ``origin(override, position)`` says where each class key was written (for messages).
    Returns the overrides, the trainer's ``{key: index}`` (empty without ``classes``) and a
    phrase describing those classes. With ``skip_absent``, keys not among ``classes`` are not
    errors here (:meth:`Overrides.resolve` leaves them out and says so).
    """
    found = problems(data)
    if found:
        raise_problems(found, source=source, locator=locator)
    overrides = Overrides._from_valid(data, source=source)
    origins = {key: (i, j) for i, o in enumerate(data["overrides"]) for j, key in enumerate(o["classes"])}
    object.__setattr__(overrides, "_origins", origins)
    object.__setattr__(overrides, "_origin", origin)
    known: dict[str, int] = {}
    what = ""
    if classes is not None:
        known, what = overrides._class_index(classes)
        found = class_problems(data, known, what)
        if found and not skip_absent:
            raise_problems(found, source=source, locator=locator)
    return overrides, known, what
