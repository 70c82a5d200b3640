"""``relabel check``: the CI gate, exit 1 when a candidate recipe degrades a class of the reference.

Exit status: 0 pass (no class degraded), 1 fail (at least one class degraded), 2 the gate could
not decide (a usage error, a missing or broken input, or a crash): a broken input never reads as
a pass nor as a failed gate.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from relabel._text import printable
from relabel.cli.inputs import compare_arguments, load_evaluations
from relabel.cli.params import annotation_options, comparison_options, run_options
from relabel.cli.render import echo_json, render_gate, verbosity_options
from relabel.comparison import Comparison, compare, run_order
from relabel.errors import InputError, RelabelError
from relabel.export import read_results
from relabel.gate import gate
from relabel.loading.manifest import read_manifest

#: Exit statuses of ``relabel check`` (docs/results.md).
PASSED, DEGRADED, UNDECIDED = 0, 1, 2

#: Parameters that still mean something with a results folder: which classes fail, and which groups.
_WITH_RESULTS = {"paths", "reference", "metric", "min_drop", "fdr", "fdr_method", "candidates", "top"}


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
      2  the gate could not decide: a usage error or a missing or broken input

    \b
    Examples:
      relabel check --annotations real --manifest runs.yaml --reference rrc-0.5 --candidate rrc-0.08
      relabel check results/ --min-drop 2
    """
    ctx = click.get_current_context()
    folders = [p for p in paths if Path(p).is_dir()]
    results: str | None = None
    simulated = False
    thresholds: dict[str, Any] = {}
    if folders:
        if len(paths) > 1:
            raise click.UsageError(f"give one results folder ({folders[0]}) or run files, not both or several folders")
        results = folders[0]
        _refuse_computing_options(ctx, results)
        comparison, simulated = _finished_comparison(results, options["reference"])
        thresholds = {name: options[name] for name in ("metric", "min_drop", "fdr", "fdr_method")
                      if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)}
    else:
        if options["reference"] is None:
            raise click.UsageError("--reference GROUP is required: the recipe every candidate group is gated against")
        evaluations, _, _ = load_evaluations(ctx.params)
        paired = options["paired"] or bool(options["manifest"] and read_manifest(options["manifest"]).paired)
        comparison = compare(run_order(evaluations), reference=options["reference"],
                             **compare_arguments(ctx.params, paired=paired))
    verdict = gate(comparison, groups=candidates or None, **thresholds)
    echo_json(verdict.to_dict(top=top, results=results, simulated=simulated), one_line=True)
    render_gate(verdict, top=top)
    ctx.exit(PASSED if verdict.passed else DEGRADED)


def _refuse_computing_options(ctx: click.Context, results: str) -> None:
    """A finished comparison cannot take options that would have changed how it was computed."""
    given = [max(p.opts, key=len) for p in ctx.command.params
             if p.name in ctx.params and p.name not in _WITH_RESULTS
             and ctx.get_parameter_source(p.name) not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)]
    if given:
        raise click.UsageError(f"{results} is a finished comparison (its settings are in comparison_params.json); "
                               f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} when computing one: give "
                               f"run files or --manifest instead of the results folder")


def _finished_comparison(results: str, reference: str | None) -> tuple[Comparison, bool]:
    """The comparison a results folder holds, and whether its runs were simulated."""
    loaded = read_results(results)
    comparison = loaded.comparison
    if comparison is None:
        raise InputError(f"results folder {results} holds no comparison: run relabel evaluate with two groups of "
                         f"runs, --reference GROUP and --out {results}")
    recorded = str(comparison.params["reference"])
    if reference is not None and reference != recorded:
        raise InputError(f"results folder {results} compares with reference group {recorded!r}, not {reference!r}: "
                         f"drop --reference, or compute the comparison with --reference {reference}")
    return comparison, loaded.simulated
