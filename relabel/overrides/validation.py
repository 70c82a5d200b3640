"""Checking an override document: the published JSON Schema, then the rules a schema cannot say.

A problem carries a path into the document (``("overrides", 1, "transforms", "color_jitter",
"strength")``); a :class:`Locator` turns the path into a line (JSON/YAML) or a CSV line and
column, so that every message names the file, the line and the field::

    overrides.json, line 12: overrides[0].transforms.random_resized_crop.scale: min 0.9 > max 0.5

The checks are split so that each piece of a document is checked once: :func:`nonfinite_problems`
(NaN and infinity, which JSON has not and a parameter must never be), :func:`schema_problems`
(JSON Schema, with messages in the field's words), :func:`range_problems` (``min <= max``, odd
kernel sizes, RandAugment's magnitude below its bins, timm config strings, what a /1 file may
name) and :func:`duplicate_problems` (a class in one override only); :func:`problems` runs them
on a whole file. :func:`class_problems` checks the class keys against a trainer's classes.

The JSON Schema is generated from the catalogue (:func:`build_schema`) and published as
``relabel/overrides.schema.json``; ``scripts/overrides_schema.py`` writes it and a test checks
that the published file is what the catalogue says.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from importlib import resources
from typing import Any

from relabel.errors import OverridesError
from relabel.overrides.catalogue import REQUIRED, SPECS, Parameter, Spec
from relabel.overrides.vocabulary import (
    SCHEMA_VERSION,
    SCHEMA_VERSIONS,
    VERSION_1_AUGMENTATIONS,
    Augmentation,
    parse_config,
)

__all__ = [
    "Problem",
    "Locator",
    "schema",
    "build_schema",
    "problems",
    "nonfinite_problems",
    "schema_problems",
    "sections_problems",
    "range_problems",
    "duplicate_problems",
    "class_problems",
    "raise_problems",
    "render_path",
    "suggest",
    "jsonable",
    "MAX_DEPTH",
]

DocPath = tuple[str | int, ...]
"""A path into a document: keys and list positions."""

_MAX_PROBLEMS_SHOWN = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document, at ``path``."""

    path: DocPath
    message: str
    at_key: bool = False  # point at the key's line (unknown fields), not the value's
    related: DocPath | None = None  # another place the message refers to as {at}
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


def build_schema() -> dict[str, Any]:
    """The JSON Schema of the format, from the catalogue (what ``relabel/overrides.schema.json`` holds)."""
    side_keys = {"type": "array", "items": {"type": "string", "minLength": 1}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:relabel:schema:overrides:2",
        "title": "relabel class-conditional augmentation overrides, version 2 (reads version 1 too)",
        "description": ("Which training augmentation to use for which classes. Class keys are the label space's keys "
                        "(WordNet ids for ImageNet). An augmentation given as false is off for those classes; one not "
                        "mentioned is left to the trainer's pipeline. Scale parameters are fractions in (0, 1], not "
                        "percent. See docs/overrides.md."),
        "type": "object",
        "required": ["schema", "overrides"],
        "additionalProperties": False,
        "properties": {
            "schema": {"description": "The format and its version.", "enum": list(SCHEMA_VERSIONS)},
            "label_space": {"description": "Name of the label space whose keys the file uses (e.g. imagenet-1k).",
                            "type": ["string", "null"]},
            "default": {"description": "The augmentation the recommendation was made against (the recipe every class "
                                       "not listed keeps).", "$ref": "#/$defs/transforms"},
            "params": {"description": "Settings that produced the file (free-form, for provenance).", "type": "object"},
            "overrides": {"type": "array", "items": {"$ref": "#/$defs/override"}},
        },
        "$defs": {
            "override": {
                "type": "object",
                "required": ["classes", "transforms"],
                "additionalProperties": False,
                "properties": {
                    "classes": {"description": "Class keys this override applies to; a class appears in one override "
                                               "only.", "type": "array", "minItems": 1,
                                "items": {"type": "string", "minLength": 1}},
                    "transforms": {"description": "Augmentations that differ from the default: parameters not named "
                                                  "are inherited; false switches one off.",
                                   "$ref": "#/$defs/transforms", "minProperties": 1},
                    "reason": {"type": "string"},
                    "evidence": {"type": "object"},
                    "side": {
                        "description": "Which side of a pair the evidence points to: the classes that lost accuracy, "
                                       "those that absorbed their predictions, and which of them the override targets.",
                        "type": "object", "additionalProperties": False,
                        "properties": {"lost": side_keys, "absorbing": side_keys,
                                       "target": {"enum": ["lost", "absorbing", "both"]}},
                    },
                },
            },
            "transforms": {"type": "object", "additionalProperties": False,
                           "properties": {s.name: _entry_schema(s) for s in SPECS}},
        },
    }


def _entry_schema(s: Spec) -> dict[str, Any]:
    implemented = f"torchvision {s.torchvision}" if s.torchvision else ""
    if s.timm:
        timm = ", ".join("timm " + t.split(":")[1] for t in s.timm)
        implemented = f"{implemented}; {timm}" if implemented else timm
    types = ["boolean", "object", "string"] if s.config else ["boolean", "object"]
    text = " or a timm config text" if s.config else ""
    return {
        "description": f"{s.description} ({implemented}): true (on), false (off for these classes), an object of "
                       f"parameters{text}.",
        "type": types,
        "additionalProperties": False,
        "properties": {"enabled": {"type": "boolean"}, **{p.name: _parameter_schema(p) for p in s.parameters}},
    }


def _bounds(p: Parameter) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if p.low is not None:
        out["exclusiveMinimum" if p.low_open else "minimum"] = p.low
    if p.high is not None:
        out["exclusiveMaximum" if p.high_open else "maximum"] = p.high
    return out


def _parameter_schema(p: Parameter) -> dict[str, Any]:
    default = "" if p.default is REQUIRED or p.relabel_only and p.name == "strength" else (
        f" Default: {json.dumps(list(p.default) if isinstance(p.default, tuple) else p.default)}.")
    out: dict[str, Any] = {"description": p.description + "." + default}
    if p.kind in ("number", "integer"):
        out.update(type=[p.kind, "null"] if p.nullable else p.kind, **_bounds(p))
    elif p.kind == "boolean":
        out["type"] = "boolean"
    elif p.kind == "choice":
        out["enum"] = list(p.choices)
    else:
        item = {"type": "integer" if p.integer or p.kind == "odd_size" else "number", **_bounds(p)}
        types = ["array"]
        if p.scalar or p.kind == "odd_size":
            types.insert(0, item["type"])
            out.update(_bounds(p) if p.scalar != "symmetric" else {"minimum": 0, "maximum": p.high})
        if p.nullable:
            types.append("null")
        out.update(type=types[0] if len(types) == 1 else types, minItems=2, maxItems=2, items=item)
    return out


def problems(data: Any) -> list[Problem]:
    """Everything wrong with a whole file's data: NaN/infinity, the schema, then (if they pass) the rules."""
    found = nonfinite_problems(data) or schema_problems(data)
    if found:
        return found
    return sections_problems(data) + duplicate_problems(data["overrides"])


def nonfinite_problems(data: Any) -> list[Problem]:
    """NaN and infinities in a document's ``default`` and ``transforms`` sections (walked without recursion).

    Free-form ``evidence`` and ``params`` may hold them (a class with no images has no
    accuracy): they are written as ``null``.
    """
    found: list[Problem] = []
    if not isinstance(data, Mapping):
        return found
    stack: list[tuple[DocPath, Any]] = [(("default",), data.get("default"))]
    overrides = data.get("overrides")
    if isinstance(overrides, list):
        stack += [(("overrides", i, "transforms"), o.get("transforms")) for i, o in enumerate(overrides)
                  if isinstance(o, Mapping)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            word = "NaN" if math.isnan(value) else ("infinity" if value > 0 else "-infinity")
            found.append(Problem(path, f"expected a finite number, got {word} (JSON has no NaN or infinity; "
                                       f"give a number, or leave the field out)"))
        elif isinstance(value, Mapping):
            stack.extend((path + (str(k),), v) for k, v in value.items())
        elif isinstance(value, (list, tuple)):
            stack.extend((path + (i,), v) for i, v in enumerate(value))
    return found


def schema_problems(data: Any) -> list[Problem]:
    """What the JSON Schema refuses, in the field's words."""
    return [p for error in _validator().iter_errors(data) for p in _explain(error)]


def sections_problems(data: Mapping[str, Any]) -> list[Problem]:
    """:func:`range_problems` of the ``default`` section and of every override's ``transforms``."""
    version = data.get("schema", SCHEMA_VERSION)
    found = range_problems(("default",), data.get("default") or {}, version=version)
    for i, o in enumerate(data["overrides"]):
        found += range_problems(("overrides", i, "transforms"), o["transforms"], version=version)
    return found


def range_problems(where: DocPath, transforms: Mapping[str, Any], *, version: str = SCHEMA_VERSION
                   ) -> list[Problem]:
    """The rules the schema cannot say, per entry of a ``transforms`` section (see the module docstring)."""
    found: list[Problem] = []
    for name, entry in transforms.items():
        here = where + (name,)
        if version != SCHEMA_VERSION and name not in VERSION_1_AUGMENTATIONS:
            found.append(Problem(here, f"{name} is new in {SCHEMA_VERSION}; this file says {version!r} "
                                       f"(write schema: {SCHEMA_VERSION})", at_key=True))
            continue
        s = Augmentation(name).spec
        if isinstance(entry, str):
            try:
                entry = parse_config(s, entry)
            except OverridesError as e:
                found.append(Problem(here, str(e)))
                continue
        if not isinstance(entry, Mapping):
            continue
        for p in s.parameters:
            value = entry.get(p.name)
            if isinstance(value, list) and p.kind == "range" and value[0] > value[1]:
                found.append(Problem(here + (p.name,), f"min {_num(value[0])} > max {_num(value[1])}"))
            if p.kind == "odd_size" and value is not None:
                sizes = value if isinstance(value, list) else [value]
                if any(v % 2 == 0 for v in sizes):
                    found.append(Problem(here + (p.name,), f"expected odd kernel sizes, got {_short(value)}"))
            if p.name in ("chain_depth", "depth") and value == 0:
                found.append(Problem(here + (p.name,), "expected -1 (random 1 to 3) or 1 and more, got 0"))
        magnitude, bins = entry.get("magnitude"), entry.get("num_magnitude_bins")
        if magnitude is not None and bins is not None and magnitude >= bins:
            found.append(Problem(here + ("magnitude",),
                                 f"magnitude {magnitude} must be below num_magnitude_bins {bins}"))
    return found


def duplicate_problems(overrides: Sequence[Mapping[str, Any]]) -> list[Problem]:
    """Class keys listed twice, within one override or across two."""
    found: list[Problem] = []
    first_seen: dict[str, tuple[int, int]] = {}
    for i, o in enumerate(overrides):
        for j, key in enumerate(o["classes"]):
            if key not in first_seen:
                first_seen[key] = (i, j)
                continue
            i0, j0 = first_seen[key]
            here = ("overrides", i, "classes", j)
            there = ("overrides", i0, "classes", j0)
            if i0 == i:
                found.append(Problem(here, f"class {key!r} is listed twice in this override (first as "
                                           f"classes[{j0}]{{at}})", related=there))
            else:
                found.append(Problem(here, f"class {key!r} is already in overrides[{i0}]{{at}}; a class may appear "
                                           f"in one override only", related=there))
    return found


def class_problems(data: Mapping[str, Any], known: Mapping[str, int], what: str) -> list[Problem]:
    """Class keys (in ``classes`` and ``side``) that are not among a trainer's classes ``known``."""
    found = []
    for i, o in enumerate(data["overrides"]):
        places: list[tuple[tuple[str, ...], Any]] = [(("classes",), o["classes"])]
        side = o.get("side") or {}
        places += [(("side", name), side[name]) for name in ("lost", "absorbing") if name in side]
        for sub, keys in places:
            for j, key in enumerate(keys):
                if key not in known:
                    found.append(Problem(("overrides", i, *sub, j),
                                         f"unknown class key {key!r}{suggest(key, list(known))}; not among {what}"))
    return found


# --------------------------------------------------------------------------------------------
# Messages in the field's words

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
    if isinstance(x, float):
        return repr(x)
    if isinstance(x, int) and not isinstance(x, bool) and abs(x) >= 10**15:
        return f"an integer of about {int(abs(x).bit_length() * 0.30103) + 1} digits"
    return str(x)


def _is_transforms_path(path: DocPath) -> bool:
    return path == ("default",) or (len(path) == 3 and path[0] == "overrides" and path[2] == "transforms")


def suggest(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _explain(error: Any) -> list[Problem]:
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
            Problem(path + (k,), f"unknown {noun} {k!r}{suggest(str(k), allowed)}; expected one of {allowed}",
                    at_key=True)
            for k in extras
        ]
    if kind == "required":
        return [Problem(path, f"missing required field {k!r}") for k in error.validator_value if k not in instance]
    if kind == "type":
        expected = error.validator_value
        words = (" or ".join(_TYPE_WORDS.get(t, str(t)) for t in expected) if isinstance(expected, list)
                 else _TYPE_WORDS.get(expected, expected))
        if isinstance(expected, list) and expected[:2] == ["boolean", "object"]:
            words = "true, false or an object" + (" or a timm config text" if "string" in expected else "")
        hint = ""
        if (len(path) >= 2 and path[-2] == "classes" and isinstance(instance, (int, float))
                and not isinstance(instance, bool)):
            hint = f" (class keys are text: write '{_num(instance)}' in quotes)"
        elif isinstance(instance, str) and "number" in str(expected) and _looks_numeric(instance):
            hint = " (YAML 1.1 reads numbers like 1e-3 as text: write 0.001)"
        return [Problem(path, f"expected {words}, got {_describe(instance)}{hint}")]
    if kind == "const":
        return [Problem(path, f"expected {error.validator_value!r}, got {_describe(instance)}")]
    if kind == "enum" and path == ("schema",):
        return [Problem(path, f"expected one of {list(SCHEMA_VERSIONS)}, got {_describe(instance)} "
                              f"(this relabel reads {' and '.join(SCHEMA_VERSIONS)} and writes {SCHEMA_VERSION})")]
    if kind == "enum":
        return [Problem(path, f"expected one of {list(error.validator_value)}, got {_describe(instance)}")]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if len(path) >= 2 and path[-2] == "scale" and error.validator_value in (0, 1) and kind != "minimum":
            hint = ""
            if isinstance(instance, (int, float)) and 2 <= instance <= 100:
                hint = f" (a percentage? write {instance / 100:g})"
            return [Problem(path, f"expected a fraction in (0, 1], got {_num(instance)}{hint}")]
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[kind]
        return [Problem(path, f"expected a value {op} {_num(error.validator_value)}, got {_num(instance)}")]
    if kind in ("minItems", "maxItems"):
        if path and isinstance(path[-1], str) and len(path) >= 2 and _is_transforms_path(path[:-2]):
            kind = Augmentation(str(path[-2])).spec.parameter(path[-1]).kind
            shape = "[min, max]" if kind == "range" else "[x, y]"
            return [Problem(path, f"expected {shape} (two numbers), got {_short(instance)}")]
        if path and path[-1] == "classes":
            return [Problem(path, "expected at least one class key")]
    if kind == "minLength":
        return [Problem(path, "expected a non-empty class key")]
    if kind == "minProperties":
        return [Problem(path, f"expected at least one transform; choose from {Augmentation.choices()}")]
    return [Problem(path, error.message)]


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Where a problem is, and raising them together


def render_path(path: Sequence[str | int]) -> str:
    """A path as the messages write it: ``overrides[0].transforms.random_resized_crop``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class Locator:
    """Where a path into the document is in the file; this base knows no lines (a document built in Python)."""

    def line(self, path: DocPath, *, at_key: bool = False) -> int | None:
        """The file's line of ``path`` (of its key with ``at_key``), if known."""
        return None

    def field(self, path: DocPath) -> str:
        """How a message names the field at ``path``."""
        return render_path(path)


def _format(problem: Problem, source: str | None, locator: Locator | None, strip: DocPath = ()) -> tuple[int, str]:
    locator = locator or Locator()
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


def raise_problems(found: list[Problem], *, source: str | None, locator: Locator | None, strip: DocPath = ()) -> None:
    """Raise one :class:`~relabel.errors.OverridesError` listing every problem, in line order."""
    formatted = sorted({_format(p, source, locator, strip) for p in found})
    lines = [text for _, text in formatted]
    if len(lines) == 1:
        raise OverridesError(lines[0])
    shown = lines[:_MAX_PROBLEMS_SHOWN]
    more = len(lines) - len(shown)
    head = f"{source}: {len(lines)} problems" if source else f"invalid overrides: {len(lines)} problems"
    tail = [f"... and {more} more"] if more else []
    raise OverridesError("\n".join([head, *shown, *tail]))


MAX_DEPTH = 32
"""How deeply an override document may nest (a file needs 6 levels; evidence a few more)."""


def jsonable(value: Any, where: str, *, keep_nonfinite: bool = False, _depth: int = 0) -> Any:
    """Plain JSON values: tuples → lists, numpy scalars/arrays → Python, NaN/inf → None (kept with
    ``keep_nonfinite``, so that the checks can name them); nesting deeper than :data:`MAX_DEPTH` is refused."""
    if _depth > MAX_DEPTH:
        raise OverridesError(f"{where}: nested more than {MAX_DEPTH} levels deep; an override document needs far fewer")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if keep_nonfinite or math.isfinite(value) else None
    if isinstance(value, Enum):
        return jsonable(value.value, where)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, where, keep_nonfinite=keep_nonfinite, _depth=_depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, where, keep_nonfinite=keep_nonfinite, _depth=_depth + 1) for v in value]
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy scalars and arrays, tensors
        return jsonable(value.tolist(), where, keep_nonfinite=keep_nonfinite, _depth=_depth)
    if hasattr(value, "isoformat"):  # dates and times YAML may produce
        return value.isoformat()
    raise OverridesError(f"{where}: values must be JSON values (numbers, text, lists, objects); "
                         f"got {type(value).__name__}")
