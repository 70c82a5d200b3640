"""Provenance: what wrote a results folder — ``provenance.json``, its data model, reading and writing.

Stage: export. Every folder that ``relabel evaluate --out DIR`` (or
:func:`relabel.export.write_results`) writes holds ``provenance.json`` (schema
:data:`SCHEMA`), which states

* the relabel version, the exact command line (``argv``, empty for a call from Python) and
  the time it was written (UTC, ISO 8601);
* every run file: its path, size and SHA-256, and the run's name, group, strength and seed
  (and the model it was predicted with and its hash, when ``relabel predict`` recorded them in
  the file: :data:`relabel.loading.runs.ORIGIN_KEY`);
* the annotations (their source, and the SHA-256 of a single file) and the label space (its
  name, class count and the SHA-256 of its class keys, one per line);
* the options of the command;
* every results file the command wrote into the folder, with its size and SHA-256.

Readers (:func:`relabel.export.read_results`, hence ``relabel report``) read only the files
this list names: a results file in the folder that it does not list is from something else
and is left unread. :class:`Provenance` is frozen; :func:`read_provenance` reads it back and
checks every field.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relabel import _atomic, _json
from relabel._version import __version__
from relabel.errors import InputError
from relabel.evaluation import Evaluation
from relabel.labelspace import LabelSpace
from relabel.loading.annotations import Annotations
from relabel.loading.runs import ORIGIN_KEY

__all__ = ["SCHEMA", "FILE_NAME", "FileDigest", "RunFile", "Provenance", "collect", "digest", "read_provenance",
           "write_provenance"]

SCHEMA = "relabel.provenance/1"
FILE_NAME = "provenance.json"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileDigest:
    """A file's size in bytes and the SHA-256 of its content (hex)."""

    size: int
    sha256: str


#: Run files hashed at once (reading and hashing both run outside the GIL).
_HASHING_THREADS = 4


def digest(path: str | Path) -> FileDigest:
    """Size and SHA-256 of a file, read in 1 MiB chunks."""
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return FileDigest(size, sha.hexdigest())


@dataclass(frozen=True)
class RunFile:
    """One run an evaluation read: where from (``path``, ``size``, ``sha256``; ``None`` when not a file) and who
    made it (``name``, ``group``, ``strength``, ``seed``, and ``model`` when ``relabel predict`` recorded it)."""

    path: str
    name: str
    group: str | None = None
    strength: float | None = None
    seed: int | None = None
    size: int | None = None
    sha256: str | None = None
    model: str | None = None
    model_sha256: str | None = None


@dataclass(frozen=True)
class Provenance:
    """What wrote a results folder (see the module docstring); ``files`` maps each results file's name to its digest."""

    relabel_version: str
    command: tuple[str, ...]
    created: str
    runs: tuple[RunFile, ...]
    annotations: Mapping[str, Any]
    label_space: Mapping[str, Any]
    options: Mapping[str, Any] = field(default_factory=dict)
    simulated: bool = False
    files: Mapping[str, FileDigest] = field(default_factory=dict)
    schema: str = SCHEMA

    def to_dict(self) -> dict[str, Any]:
        """The JSON object ``provenance.json`` holds."""
        return {
            "schema": self.schema,
            "relabel_version": self.relabel_version,
            "command": list(self.command),
            "created": self.created,
            "simulated": self.simulated,
            "runs": [dataclasses.asdict(run) for run in self.runs],
            "annotations": dict(self.annotations),
            "label_space": dict(self.label_space),
            "options": dict(self.options),
            "files": {name: dataclasses.asdict(d) for name, d in sorted(self.files.items())},
        }

    @classmethod
    def from_dict(cls, data: Any, *, where: str = FILE_NAME) -> Provenance:
        """Parse :meth:`to_dict`'s object, checking each field (an :class:`InputError` names the first bad one)."""
        if not isinstance(data, dict):
            raise InputError(f"{where}: expected a JSON object, found {type(data).__name__}")
        if data.get("schema") != SCHEMA:
            raise InputError(f"{where}: field 'schema' must be {SCHEMA!r}; found {data.get('schema')!r}")

        def typed(key: str, kind: type | tuple[type, ...]) -> Any:
            value = data.get(key)
            if not isinstance(value, kind):
                names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
                raise InputError(f"{where}: field {key!r} must be a {names}; found {value!r:.80}")
            return value

        command = typed("command", list)
        if not all(isinstance(a, str) for a in command):
            raise InputError(f"{where}: field 'command' must be a list of strings")
        runs = []
        names = {f.name for f in dataclasses.fields(RunFile)}
        for i, run in enumerate(typed("runs", list)):
            if not isinstance(run, dict) or not {"path", "name"} <= set(run) or set(run) - names:
                raise InputError(f"{where}: runs[{i}] must be an object with path, name and only the fields "
                                 f"{sorted(names)}; found {run!r:.120}")
            runs.append(RunFile(**run))
        files = {}
        for name, d in typed("files", dict).items():
            if not (isinstance(d, dict) and isinstance(d.get("size"), int) and isinstance(d.get("sha256"), str)):
                raise InputError(f"{where}: files[{name!r}] must be an object with size and sha256; found {d!r:.120}")
            files[name] = FileDigest(d["size"], d["sha256"])
        return cls(relabel_version=typed("relabel_version", str), command=tuple(command), created=typed("created", str),
                   runs=tuple(runs), annotations=typed("annotations", dict), label_space=typed("label_space", dict),
                   options=typed("options", dict), simulated=bool(typed("simulated", bool)), files=files)


def _run_file(ev: Evaluation) -> RunFile:
    source = str(ev.params.get("source") or "")
    meta = ev.meta
    size = sha = None
    model: dict[str, str | None] = {}
    path = Path(source)
    if source and path.is_file():
        d = digest(path)
        size, sha = d.size, d.sha256
        model = _recorded_model(path)
    return RunFile(source, meta.name, meta.group, meta.strength, meta.seed, size, sha, model.get("model"),
                   model.get("model_sha256"))


def _recorded_model(path: Path) -> dict[str, str | None]:
    """The model ``relabel predict`` recorded in a run Parquet's schema metadata (``relabel.origin``), if any."""
    if path.suffix.lower() != ".parquet":
        return {}
    try:
        import pyarrow.parquet as pq

        metadata = pq.read_schema(path).metadata or {}
        origin = json.loads(metadata.get(ORIGIN_KEY, b"null"))
    except Exception:  # not relabel's Parquet or unreadable metadata: nothing recorded
        return {}
    if not isinstance(origin, dict):
        return {}
    return {k: None if origin.get(k) is None else str(origin[k]) for k in ("model", "model_sha256")}


def _label_space(space: LabelSpace) -> dict[str, Any]:
    keys = hashlib.sha256("\n".join(space.keys).encode("utf-8")).hexdigest()
    return {"name": space.name, "n_classes": len(space), "keys_sha256": keys}


def _annotations(annotations: Annotations | None, given: str | None) -> dict[str, Any]:
    if annotations is None:
        return {"source": given}
    info: dict[str, Any] = {"source": given if given is not None else annotations.source,
                            "path": annotations.source or None, "n_images": int(annotations.n_images),
                            "has_multilabels": bool(annotations.has_multilabels)}
    path = Path(annotations.source) if annotations.source else None
    if path is not None and path.is_file():
        d = digest(path)
        info.update(size=d.size, sha256=d.sha256)
    return info


def _plain(value: Any) -> Any:
    """An option's value as JSON: tuples as lists, paths and other objects as text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def collect(
    evaluations: Sequence[Evaluation],
    *,
    annotations: Annotations | None = None,
    annotations_source: str | None = None,
    command: Sequence[str] = (),
    options: Mapping[str, Any] | None = None,
    simulated: bool = False,
) -> Provenance:
    """The provenance of results computed from ``evaluations`` (``files`` is filled in when they are written).

    ``annotations_source`` is the annotations as the user named them (``"real"``, a path);
    ``command`` the command line; ``options`` the command's options (made JSON: tuples become
    lists, other objects text). The run files are hashed here.
    """
    if annotations is not None:
        space = annotations.label_space
    elif evaluations:
        space = evaluations[0].label_space
    else:
        raise InputError("provenance: no evaluations and no annotations to take the label space from")
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with ThreadPoolExecutor(_HASHING_THREADS) as pool:  # hashlib hashes without the GIL: a sweep's files in parallel
        runs = tuple(pool.map(_run_file, evaluations))
    return Provenance(relabel_version=__version__, command=tuple(str(a) for a in command), created=created,
                      runs=runs,
                      annotations=_annotations(annotations, annotations_source), label_space=_label_space(space),
                      options={str(k): _plain(v) for k, v in (options or {}).items()}, simulated=bool(simulated))


def write_provenance(provenance: Provenance, folder: str | Path) -> Path:
    """Write ``provenance.json`` into ``folder``, atomically."""
    return _atomic.write_text(Path(folder) / FILE_NAME, json.dumps(provenance.to_dict(), indent=2) + "\n")


def read_provenance(folder: str | Path) -> Provenance:
    """Read ``FOLDER/provenance.json``; an :class:`InputError` names the file when it is missing or malformed."""
    path = Path(folder) / FILE_NAME
    if not path.is_file():
        raise InputError(f"{path} is missing: the folder was not written by relabel evaluate --out (relabel 0.1.0 or "
                         f"later writes it)")
    return Provenance.from_dict(_json.parse(_json.read_text(path), str(path)), where=str(path))
