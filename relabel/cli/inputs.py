"""Runs, annotations and comparison settings as the shared options name them: one reading for every command.

``relabel evaluate`` and ``relabel check`` take the same inputs (``run_options``,
``annotation_options``, ``comparison_options`` of :mod:`relabel.cli.params`); both read them
here, so the two commands cannot drift apart on what a command line means.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from relabel.cli.params import spread
from relabel.comparison import compare
from relabel.errors import ComparisonError, InputError, format_offenders
from relabel.evaluation import Evaluation, evaluate_runs
from relabel.labelspace import load_label_space
from relabel.loading.annotations import Annotations, load_annotations
from relabel.loading.manifest import RunSpec, read_manifest
from relabel.selfcheck import SelfCheck, self_check

#: ``comparison_options`` whose parameter is not named as :func:`relabel.compare`'s argument.
_RENAMED = {"bootstrap_seed": "seed"}


def load_evaluations(params: Mapping[str, Any]) -> tuple[list[Evaluation], Annotations, dict[str, Any] | None]:
    """Every run the parsed ``run_options`` and ``annotation_options`` name, evaluated; the annotations; the
    manifest's group augmentations (``None`` without a manifest ``groups`` section)."""
    specs = [RunSpec(Path(p)) for p in params["paths"]] + list(params["run_specs"])
    n = len(specs)
    metadata = zip(spread(params["groups"], n, "--group"), spread(params["strengths"], n, "--strength"),
                   spread(params["seeds"], n, "--seed"))
    readers = ("image_column", "pred_column", "score_column", "order", "canonical_order", "keep_logits")
    reader_options = {k: params[k] for k in readers if params[k] not in (None, False)}
    specs = [RunSpec(s.path, s.name, g, st, se, reader_options) for s, (g, st, se) in zip(specs, metadata)]
    annotations, label_space, augmentations = params["annotations"], params["label_space"], None
    if params["manifest"]:
        manifest = read_manifest(params["manifest"])
        specs += [RunSpec(s.path, s.name, s.group, s.strength, s.seed, {**reader_options, **s.options})
                  for s in manifest.runs]
        annotations = annotations or manifest.annotations
        label_space = label_space or manifest.label_space
        augmentations = manifest.groups or None
    if not specs:
        raise click.UsageError("no runs: give run files, --run NAME=PATH or --manifest (or try --demo)")
    if annotations is None:
        raise click.UsageError("no annotations: give --annotations real|PATH")
    space = load_label_space(label_space) if label_space else (
        load_label_space("imagenet-1k") if annotations == "real" else None
    )
    ann = load_annotations(annotations, label_space=space, original_labels=params["original_labels"],
                           split=params["split"])
    evaluations = evaluate_runs(specs, ann, allow_chance=params["allow_chance"])
    if augmentations:
        run_groups = {str(ev.meta.group) for ev in evaluations if ev.meta.group}
        unused = sorted(set(augmentations) - run_groups)
        if unused:  # a misspelt group name would leave its group without an augmentation: no overrides, silently
            raise InputError(f"{params['manifest']}, groups: {format_offenders(unused)} name no run's group (the "
                             f"runs' groups: {', '.join(sorted(run_groups))}); fix a misspelt name, or remove the "
                             f"entry")
    return evaluations, ann, augmentations


def compare_arguments(params: Mapping[str, Any], *, paired: bool) -> dict[str, Any]:
    """:func:`relabel.compare`'s keyword arguments from the parsed ``comparison_options`` (all but ``reference``).

    Each option is named after the argument it sets (``--bootstrap-seed`` sets ``seed``), so a
    new comparison option reaches every command that takes ``comparison_options``; ``paired``
    is the option or the manifest's ``paired: true``.
    """
    accepted = set(inspect.signature(compare).parameters) - {"evaluations", "reference"}
    arguments = {_RENAMED.get(name, name): value for name, value in params.items()
                 if _RENAMED.get(name, name) in accepted}
    arguments["paired"] = paired
    return arguments


def run_self_check(evaluations: list[Evaluation], group: str, params: Mapping[str, Any], *, paired: bool,
                   metric: str | None = None) -> SelfCheck:
    """The A/A self-check of ``group`` with the comparison's settings (``--self-check N``, ``--self-check-bootstrap``).

    ``metric`` is the comparison's (default: the option's, else the self-check's own default).
    An error of the self-check names ``--self-check`` and the group.
    """
    arguments = {name: value for name, value in compare_arguments(params, paired=paired).items()
                 if name in ("metric", "min_drop", "fdr", "fdr_method", "paired", "seed")}
    if metric is not None:
        arguments["metric"] = metric
    n_splits = params["self_check_splits"]
    split = params.get("self_check_split", "auto")
    try:
        return self_check(evaluations, group=group, n_splits=n_splits, n_bootstrap=params["self_check_bootstrap"],
                          split=None if split == "auto" else split, **arguments)
    except ComparisonError as e:
        raise ComparisonError(f"{e} (--self-check {n_splits})") from None


def refuse_lone_self_check_options(ctx: click.Context) -> None:
    """``--self-check-bootstrap`` or ``--self-check-split`` without ``--self-check`` would be ignored: a usage error."""
    if ctx.params.get("self_check_splits") is not None:
        return
    for name, option, what in (("self_check_bootstrap", "--self-check-bootstrap", "sets the draws of"),
                               ("self_check_split", "--self-check-split", "chooses how to split the runs for")):
        if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP):
            raise click.UsageError(f"{option} {ctx.params[name]} {what} the A/A self-check: give --self-check [N] "
                                   f"too, or drop it")
