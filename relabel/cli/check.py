"""``relabel check``: the CI gate, exit 1 when a candidate recipe degrades a class of the reference.

Exit status: 0 pass (no class degraded), 1 fail (at least one class degraded), 2 the gate could
not decide (a usage error, a missing or broken input, or a crash; or, with ``--self-check``, an
A/A self-check above the FDR, which makes the rule's verdict untrustworthy): a broken input
never reads as a pass nor as a failed gate.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from relabel._text import printable
from relabel.cli.inputs import compare_arguments, load_evaluations, refuse_lone_self_check_options, run_self_check
from relabel.cli.params import annotation_options, comparison_options, run_options, self_check_options
from relabel.cli.render import echo_json, render_gate, verbosity_options
from relabel.comparison import Comparison, compare, run_order
from relabel.errors import ComparisonError, InputError, RelabelError
from relabel.export import Results, read_results
from relabel.gate import gate
from relabel.selfcheck import SelfCheck
from relabel.loading.manifest import read_manifest

#: Exit statuses of ``relabel check`` (docs/results.md).
PASSED, DEGRADED, UNDECIDED = 0, 1, 2

#: Parameters that still mean something with a results folder: which classes fail, and which groups.
_WITH_RESULTS = {"paths", "reference", "metric", "min_drop", "fdr", "fdr_method", "candidates", "top",
                 "self_check_splits"}


class UndecidedError(click.ClickException):
    """An input or usage error of the gate: exit status 2, never 1 (which means "a class degraded")."""

    exit_code = UNDECIDED


class _GateCommand(click.Command):
    """A command whose every error exits with :data:`UNDECIDED`, so that only a verdict exits with 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RelabelError as e:
            raise UndecidedError(printable(str(e), newlines=True)) from None
        except click.UsageError:
            raise  # exit status 2 already
        except click.ClickException as e:  # click.FileError and a bare ClickException would exit with 1
            raise UndecidedError(e.format_message()) from None
        except (click.exceptions.Exit, click.Abort):
            raise
        except Exception:
            click.echo(traceback.format_exc().rstrip(), err=True)
            click.echo("Error: relabel check failed unexpectedly (a bug, please report it with the traceback "
                       "above); the gate could not decide", err=True)
            raise click.exceptions.Exit(UNDECIDED) from None


@click.command("check", cls=_GateCommand)
@verbosity_options
@click.argument("paths", nargs=-1, type=click.Path(exists=True), metavar="[RUN_FILE]... | RESULTS_DIR")
@run_options
@annotation_options
@comparison_options
@click.option("--candidate", "candidates", multiple=True, metavar="GROUP",
              help="Gate this group against --reference (repeatable).  [default: every group compared with it]")
@click.option("--top", default=5, show_default=True, type=click.IntRange(0),
              help="Worst classes listed per group (in the JSON line and on stderr).")
@self_check_options("Above --fdr beyond Monte Carlo error, the verdict is undecided (exit 2). With a results "
                    "folder, its self_check.csv (relabel evaluate --self-check) is reused, whatever N.")
def check(paths: tuple[str, ...], candidates: tuple[str, ...], top: int, **options: Any) -> None:
    """Fail (exit 1) when a candidate recipe degrades any class: a drop >= --min-drop points with q <= --fdr.

    \b
    The runs are given as for `relabel evaluate` (files, --run, --manifest; --reference GROUP
    required) and compared the same way, or a results folder that `relabel evaluate --out`
    wrote is read (nothing is recomputed; --min-drop, --fdr and --metric, when given,
    re-apply the rule to its deltas and q-values, --fdr-method re-adjusts its p-values;
    options that change the computation are refused there).

    \b
    Prints one JSON line on stdout (schema relabel.check/1, docs/results.md): the status, the
    thresholds, per group the count of degraded classes and the worst classes; and the verdict
    for people on stderr. -q prints neither; the exit status is the verdict:
      0  no class degraded (pass)
      1  at least one class degraded (the gate fails)
      2  the gate could not decide: a usage error or a missing or broken input, or
         (--self-check) the A/A self-check of the reference is above --fdr, so the
         rule's intervals are too narrow to trust either verdict (the JSON line,
         status "undecided", and stderr say why)

    \b
    Examples:
      relabel check --annotations real --manifest runs.yaml --reference rrc-0.5 --candidate rrc-0.08
      relabel check results/ --min-drop 2
      relabel check --manifest runs.yaml --reference rrc-0.5 --self-check 50
      relabel check results/ --self-check
    """
    ctx = click.get_current_context()
    refuse_lone_self_check_options(ctx)
    folders = [p for p in paths if Path(p).is_dir()]
    results: str | None = None
    simulated = False
    thresholds: dict[str, Any] = {}
    checked: SelfCheck | None = None
    source: str | None = None
    if folders:
        if len(paths) > 1:
            raise click.UsageError(f"give one results folder ({folders[0]}) or run files, not both or several folders")
        results = folders[0]
        _refuse_computing_options(ctx, results)
        loaded = read_results(results)
        comparison = _finished_comparison(loaded, results, options["reference"])
        simulated = loaded.simulated
        thresholds = {name: options[name] for name in ("metric", "min_drop", "fdr", "fdr_method")
                      if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)}
        if options["self_check_splits"] is not None:
            checked = _stored_self_check(loaded, results)
            source = str(Path(results) / "self_check.csv")
    else:
        if options["reference"] is None:
            raise click.UsageError("--reference GROUP is required: the recipe every candidate group is gated against")
        evaluations, _, _ = load_evaluations(ctx.params)
        paired = options["paired"] or bool(options["manifest"] and read_manifest(options["manifest"]).paired)
        evaluations = run_order(evaluations)
        comparison = compare(evaluations, reference=options["reference"],
                             **compare_arguments(ctx.params, paired=paired))
        if options["self_check_splits"] is not None:
            checked = run_self_check(evaluations, options["reference"], ctx.params, paired=paired,
                                     metric=comparison.params["metric"])
    verdict = gate(comparison, groups=candidates or None, **thresholds)
    if checked is not None:
        try:  # the same verdict, resting on the self-check: only matching the self-check with the rule can fail here
            verdict = gate(comparison, groups=candidates or None, self_check=checked, **thresholds)
        except ComparisonError as e:
            if source is None:
                raise
            raise InputError(f"results folder {results}: its self-check (self_check_params.json) cannot vouch for "
                             f"this gate: {str(e).removeprefix('gate: ')}; drop --min-drop/--fdr/--fdr-method/"
                             f"--metric, or give the run files to recompute the self-check") from None
    echo_json(verdict.to_dict(top=top, results=results, simulated=simulated, self_check_source=source),
              one_line=True)
    render_gate(verdict, top=top, self_check_source=source)
    ctx.exit(UNDECIDED if not verdict.decided else PASSED if verdict.passed else DEGRADED)


def _refuse_computing_options(ctx: click.Context, results: str) -> None:
    """A finished comparison cannot take options that would have changed how it was computed."""
    given = [max(p.opts, key=len) for p in ctx.command.params
             if p.name in ctx.params and p.name not in _WITH_RESULTS
             and ctx.get_parameter_source(p.name) not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)]
    if given:
        raise click.UsageError(f"{results} is a finished comparison (its settings are in comparison_params.json); "
                               f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} when computing one: give "
                               f"run files or --manifest instead of the results folder")


def _finished_comparison(loaded: Results, results: str, reference: str | None) -> Comparison:
    """The comparison a results folder holds."""
    comparison = loaded.comparison
    if comparison is None:
        raise InputError(f"results folder {results} holds no comparison: run relabel evaluate with two groups of "
                         f"runs, --reference GROUP and --out {results}")
    recorded = str(comparison.params["reference"])
    if reference is not None and reference != recorded:
        raise InputError(f"results folder {results} compares with reference group {recorded!r}, not {reference!r}: "
                         f"drop --reference, or compute the comparison with --reference {reference}")
    return comparison


def _stored_self_check(loaded: Results, results: str) -> SelfCheck:
    """The self-check ``relabel evaluate --self-check`` wrote into the folder (read and checked by read_results)."""
    checked = loaded.self_check
    if checked is None:
        raise InputError(f"results folder {results} has no self_check.csv, and a results folder has no runs to "
                         f"split: write one with relabel evaluate ... --reference GROUP --self-check [N] --out "
                         f"{results}, or give relabel check the run files (or --manifest) to compute it now")
    return checked
