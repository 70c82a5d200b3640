"""Loading: user files → contract objects (label spaces, annotations, runs), validated here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from relabel.errors import InputError, format_offenders
from relabel.labelspace import LabelSpace, load_label_space
from relabel.loading.annotations import Annotations, load_annotations
from relabel.loading.manifest import Manifest, RunSpec, read_manifest
from relabel.loading.runs import Run, RunMeta, load_run

__all__ = [
    "Annotations",
    "Manifest",
    "Run",
    "RunMeta",
    "RunSpec",
    "load_annotations",
    "load_label_space",
    "load_run",
    "load_runs",
    "read_manifest",
]


def load_runs(specs: Sequence[RunSpec | str | Path], *, label_space: LabelSpace) -> list[Run]:
    """Load several runs from specs (or plain paths); run names must be unique."""
    runs = []
    for spec in specs:
        if not isinstance(spec, RunSpec):
            spec = RunSpec(Path(spec))
        runs.append(
            load_run(spec.path, label_space=label_space, name=spec.name, group=spec.group,
                     strength=spec.strength, seed=spec.seed, **spec.options)
        )
    names = [r.meta.name for r in runs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"run names must be unique; {format_offenders(repeated)} name several runs")
    return runs
