"""The ``relabel`` command group: the one place where library errors become CLI errors."""

from __future__ import annotations

import warnings
from typing import Any

import click

from relabel._text import printable
from relabel._version import __version__
from relabel.cli.render import set_quiet, verbosity_options
from relabel.errors import RelabelError, RelabelWarning
from relabel.progress import enable as enable_progress

#: Exit status of a command stopped with Ctrl-C (128 + SIGINT, as a shell reports it).
INTERRUPTED = 130


class _RelabelGroup(click.Group):
    """Turns :class:`RelabelError` into a clean ``Error: …`` line and exit code 1, Ctrl-C into exit code 130.

    ``relabel check`` turns every error into exit code 2 itself (1 is its verdict "a class degraded").

    Messages are escaped (:func:`relabel._text.printable`): a class name or path from a file
    cannot drive the terminal through an error either.
    """

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        enable_progress(False)  # no state of an earlier command in this process (tests invoke many) carries over
        set_quiet(False)
        argv = ["relabel", *args]
        ctx = super().make_context(info_name, args, parent, **extra)
        ctx.meta["relabel.argv"] = argv  # the command line as given, for a results folder's provenance.json
        return ctx

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RelabelError as e:
            raise click.ClickException(printable(str(e), newlines=True)) from None
        except click.ClickException as e:
            e.message = printable(e.message, newlines=True)  # type: ignore[misc]  # click sets it once, in __init__
            raise
        except KeyboardInterrupt:
            # every file relabel writes is written beside its target and renamed into place, and the
            # interrupted write removed what it had written: nothing is left half-written
            click.echo("relabel: interrupted (Ctrl-C); nothing was half-written", err=True)
            raise click.exceptions.Exit(INTERRUPTED) from None


def _show_warning(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    label = "warning" if issubclass(category, RelabelWarning) else category.__name__
    click.secho(f"{label}: {printable(message, newlines=True)}", fg="yellow", err=True)


@click.group(cls=_RelabelGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="relabel")
@verbosity_options
def cli() -> None:
    """Find the classes a training change hurt, whether the loss is real, why, and what to change.

    \b
    Quick start:
      relabel evaluate --demo                      # simulated runs on real ImageNet ReaL labels
      relabel predict ckpt.pth --arch resnet50 imagenet/val -o runs/a.parquet --group rrc-0.08 --seed 0
      relabel evaluate --annotations real --manifest runs.yaml --reference rrc-0.5 \\
          --out results/ --recommend results/overrides.json --report results/report
      relabel report results/                      # the page again, from a results folder
      relabel check results/                       # CI gate: exit 1 when a class degraded

    Run `relabel COMMAND --help` for the options of each command.
    `-v`/`--verbose` and `-q`/`--quiet` go before or after the command's name.
    """
    warnings.showwarning = _show_warning


from relabel.cli.check import check  # noqa: E402  (commands register on the group)
from relabel.cli.demo import demo  # noqa: E402
from relabel.cli.evaluate import evaluate  # noqa: E402
from relabel.cli.plan import plan_command  # noqa: E402
from relabel.cli.predict import predict  # noqa: E402
from relabel.cli.report import report  # noqa: E402

cli.add_command(check)
cli.add_command(demo)
cli.add_command(evaluate)
cli.add_command(plan_command)
cli.add_command(predict)
cli.add_command(report)
