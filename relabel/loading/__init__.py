"""Loading: user files → contract objects (label spaces, annotations, runs), validated here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from relabel.errors import InputError, format_offenders, repeated
from relabel.labelspace import LabelSpace, load_label_space
from relabel.loading.annotations import Annotations, load_annotations
from relabel.loading.manifest import Manifest, RunSpec, read_manifest
from relabel.loading.runs import ImageKeys, Run, RunMeta, load_run

__all__ = [
    "Annotations",
    "ImageKeys",
    "Manifest",
    "Run",
    "RunMeta",
    "RunSpec",
    "check_unique_names",
    "load_annotations",
    "load_label_space",
    "load_run",
    "load_runs",
    "read_manifest",
]


def load_runs(specs: Sequence[RunSpec | str | Path], *,
              label_space: LabelSpace | str | Path | Sequence[str]) -> list[Run]:
    """Load several runs from specs (or plain paths); run names must be unique.

    A :class:`RunSpec`'s reader options were checked when it was made, so they always fit
    :func:`load_run`. A run is named after its file unless its spec names it, so files of one
    name in several folders (timm's inference.py names its output after the model, e.g.
    ``seed0/resnet50-224.csv``, ``seed1/resnet50-224.csv``) need names of their own.
    """
    space = load_label_space(label_space)
    checked = [spec if isinstance(spec, RunSpec) else RunSpec(Path(spec)) for spec in specs]
    runs = [
        load_run(spec.path, label_space=space, name=spec.name, group=spec.group,
                 strength=spec.strength, seed=spec.seed, **spec.options)
        for spec in checked
    ]
    check_unique_names(checked, [run.meta.name for run in runs])
    return runs


def check_unique_names(specs: Sequence[RunSpec], names: Sequence[str]) -> None:
    """Run names (``names[i]`` is the run of ``specs[i]``) must be unique; else an error naming their files."""
    twice = repeated(names)
    if twice:
        paths = [str(spec.path) for spec, name in zip(specs, names) if name == twice[0]]
        same_file_name = len({Path(p).name for p in paths}) == 1
        hint = (" (files of one name in several folders, as timm's inference.py writes them per seed: "
                "it names its output after the model)" if same_file_name else "")
        raise InputError(
            f"run names must be unique; {format_offenders(twice)} name several runs: {format_offenders(paths)}"
            f"{hint}; give each run its own name (--run NAME=PATH, or name: in the manifest)"
        )
