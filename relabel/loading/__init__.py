"""Loading: user files → contract objects (label spaces, annotations, runs), validated here."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from relabel.errors import InputError, format_offenders, repeated
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
    """Load several runs from specs (or plain paths); run names must be unique.

    A :class:`RunSpec`'s reader options were checked when it was made, so they always fit
    :func:`load_run`.
    """
    checked = [spec if isinstance(spec, RunSpec) else RunSpec(Path(spec)) for spec in specs]
    runs = [
        load_run(spec.path, label_space=label_space, name=spec.name, group=spec.group,
                 strength=spec.strength, seed=spec.seed, **spec.options)
        for spec in checked
    ]
    twice = repeated(r.meta.name for r in runs)
    if twice:
        raise InputError(f"run names must be unique; {format_offenders(twice)} name several runs")
    return runs
