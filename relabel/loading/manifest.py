"""Runs manifest: a small YAML or JSON file listing many runs with their metadata.

::

    label_space: imagenet-1k        # optional
    annotations: real               # optional
    runs:
      - path: runs/rrc008_seed0.parquet   # relative to the manifest
        name: rrc008-s0                   # default: the file's stem
        group: rrc-0.08
        strength: 0.08
        seed: 0
        image_column: filename            # optional reader options
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relabel.errors import InputError

__all__ = ["RunSpec", "Manifest", "read_manifest"]

_READER_OPTIONS = {"image_column", "pred_column", "score_column", "order", "canonical_order", "keep_logits", "topk"}
_META = {"name", "group", "strength", "seed"}


@dataclass(frozen=True)
class RunSpec:
    """Where a run lives, the metadata to give it, and options for its reader."""

    path: Path
    name: str | None = None
    group: str | None = None
    strength: float | None = None
    seed: int | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Manifest:
    """The parsed manifest: run specs plus optional defaults for the label space and annotations."""

    runs: tuple[RunSpec, ...]
    label_space: str | None = None
    annotations: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def read_manifest(path: str | Path) -> Manifest:
    """Parse and check a runs manifest; paths are resolved relative to the manifest's folder."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"runs manifest {path} does not exist")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise InputError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list) or not data["runs"]:
        raise InputError(f"{path}: expected a mapping with a non-empty 'runs' list")
    specs = []
    for i, entry in enumerate(data["runs"]):
        where = f"{path}, runs[{i}]"
        if not isinstance(entry, dict) or "path" not in entry:
            raise InputError(f"{where}: each run needs a 'path'")
        unknown = set(entry) - _META - _READER_OPTIONS - {"path"}
        if unknown:
            raise InputError(f"{where}: unknown fields {sorted(unknown)}; allowed: path, {', '.join(sorted(_META | _READER_OPTIONS))}")
        run_path = Path(entry["path"])
        if not run_path.is_absolute():
            run_path = path.parent / run_path
        try:
            strength = None if entry.get("strength") is None else float(entry["strength"])
            seed = None if entry.get("seed") is None else int(entry["seed"])
        except (TypeError, ValueError):
            raise InputError(
                f"{where}: 'strength' must be a number and 'seed' an integer; found "
                f"strength={entry.get('strength')!r}, seed={entry.get('seed')!r}"
            ) from None
        options = {k: entry[k] for k in _READER_OPTIONS if k in entry}
        if "order" in options and not Path(options["order"]).is_absolute():
            options["order"] = path.parent / options["order"]
        specs.append(
            RunSpec(run_path, entry.get("name"), None if entry.get("group") is None else str(entry["group"]),
                    strength, seed, options)
        )
    extra = {k: v for k, v in data.items() if k not in {"runs", "label_space", "annotations"}}
    return Manifest(tuple(specs), _relative_file(data.get("label_space"), path),
                    _relative_file(data.get("annotations"), path), extra)


def _relative_file(value: Any, manifest: Path) -> str | None:
    """A file named in the manifest, relative to the manifest's folder; names such as 'real' stay."""
    if value is None:
        return None
    candidate = manifest.parent / str(value)
    return str(candidate) if not Path(str(value)).is_absolute() and candidate.exists() else str(value)
