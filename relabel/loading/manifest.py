"""Runs manifest: a small YAML or JSON file listing many runs with their metadata.

::

    label_space: imagenet-1k        # optional
    annotations: real               # optional
    groups:                         # optional: one mapping per group (e.g. its augmentation)
      rrc-0.08: {random_resized_crop: {scale: [0.08, 1.0]}}
    paired: true                    # optional: seed s had one initialisation and data order in every group
    runs:
      - path: runs/rrc008_seed0.parquet   # relative to the manifest
        name: rrc008-s0                   # default: the file's stem
        group: rrc-0.08
        strength: 0.08
        seed: 0
        image_column: filename            # optional reader options

Every field is checked here: unknown fields (top level or per run) are errors, so a typo
never goes unnoticed; keys repeated within a mapping are errors (JSON and YAML alike);
``seed`` must be an integer and ``strength`` a number; reader options must have their
documented types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relabel import _json, _yaml
from relabel.errors import InputError, format_offenders
from relabel.loading.runs import READER_OPTIONS, check_meta_fields, check_reader_options

__all__ = ["RunSpec", "Manifest", "read_manifest"]

_META = ("name", "group", "strength", "seed")
_TOP_LEVEL = ("runs", "label_space", "annotations", "groups", "paired")


@dataclass(frozen=True)
class RunSpec:
    """Where a run lives, the metadata to give it, and options for its reader.

    ``options`` are checked on construction (names and types, see
    :data:`relabel.loading.runs.READER_OPTIONS`).
    """

    path: Path
    name: str | None = None
    group: str | None = None
    strength: float | None = None
    seed: int | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_reader_options(self.options, where=f"run {self.name or self.path}")


@dataclass(frozen=True)
class Manifest:
    """The parsed manifest: run specs plus optional defaults for the label space and annotations.

    ``groups`` maps a group name to the mapping the manifest gives it (kept as parsed; a
    later stage reads each group's augmentation from it).
    """

    runs: tuple[RunSpec, ...]
    label_space: str | None = None
    annotations: str | None = None
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    paired: bool = False


def read_manifest(path: str | Path) -> Manifest:
    """Parse and check a runs manifest; paths are resolved relative to the manifest's folder."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"runs manifest {path} does not exist")
    text = _json.read_text(path)
    data = _json.parse(text, str(path)) if path.suffix.lower() == ".json" else _parse_yaml(text, path)
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list) or not data["runs"]:
        raise InputError(f"{path}: expected a mapping with a non-empty 'runs' list")
    unknown = sorted(set(map(str, data)) - set(_TOP_LEVEL))
    if unknown:
        raise InputError(f"{path}: unknown fields {unknown}; allowed: {', '.join(_TOP_LEVEL)}")
    specs = tuple(_run_spec(entry, path, f"{path}, runs[{i}]") for i, entry in enumerate(data["runs"]))
    return Manifest(
        specs,
        _relative_file(data.get("label_space"), path, "label_space"),
        _relative_file(data.get("annotations"), path, "annotations"),
        _groups(data.get("groups"), path),
        _paired(data.get("paired", False), path),
    )


def _run_spec(entry: Any, manifest: Path, where: str) -> RunSpec:
    if not isinstance(entry, dict) or "path" not in entry:
        raise InputError(f"{where}: each run needs a 'path'")
    unknown = sorted(set(map(str, entry)) - set(_META) - set(READER_OPTIONS) - {"path"})
    if unknown:
        raise InputError(
            f"{where}: unknown fields {unknown}; allowed: path, {', '.join(sorted({*_META, *READER_OPTIONS}))}"
        )
    if not isinstance(entry["path"], str) or not entry["path"]:
        raise InputError(f"{where}: 'path' must be a file path; found {entry['path']!r}")
    run_path = Path(entry["path"])
    if not run_path.is_absolute():
        run_path = manifest.parent / run_path
    meta = check_meta_fields({k: entry[k] for k in _META if k in entry}, where=where)
    options = check_reader_options({k: entry[k] for k in READER_OPTIONS if k in entry}, where=where)
    if options.get("order") is not None and not Path(options["order"]).is_absolute():
        options["order"] = manifest.parent / options["order"]
    return RunSpec(run_path, meta.get("name"), meta.get("group"), meta.get("strength"), meta.get("seed"), options)


def _paired(value: Any, manifest: Path) -> bool:
    """``paired: true`` says the groups share seeds (seed s: one initialisation and data order in every group)."""
    if not isinstance(value, bool):
        raise InputError(f"{manifest}, paired: expected true or false (whether the groups share seeds); found {value!r}")
    return value


def _groups(value: Any, manifest: Path) -> dict[str, dict[str, Any]]:
    """The ``groups`` mapping: group name → a mapping describing the group, kept as parsed."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise InputError(f"{manifest}, groups: expected a mapping from group name to a mapping; found {value!r}")
    return {str(name): spec for name, spec in value.items()}


def _relative_file(value: Any, manifest: Path, key: str) -> str | None:
    """A file named in the manifest, relative to the manifest's folder; names such as 'real' stay."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InputError(f"{manifest}, {key}: expected a name or a file path; found {value!r}")
    candidate = manifest.parent / value
    return str(candidate) if not Path(value).is_absolute() and candidate.exists() else value


def _parse_yaml(text: str, path: Path) -> Any:
    """YAML with keys repeated within a mapping refused (PyYAML would keep the last one)."""
    try:
        root, data = _yaml.compose(text)
    except _yaml.YAMLSyntaxError as e:
        at = f" (line {e.line}, column {e.column})" if e.line is not None else ""
        raise InputError(f"{path}: not valid YAML{at}: {e.problem}") from None
    twice = _yaml.repeated_keys(root) if root is not None else []
    if twice:
        first = twice[0]
        keys = [r.key for r in twice if r.path == first.path and r.mapping_line == first.mapping_line]
        raise InputError(
            f"{path}, line {first.mapping_line}: keys must be unique within a mapping; "
            f"{format_offenders(list(dict.fromkeys(keys)))} appear more than once"
        )
    return data
