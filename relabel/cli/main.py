"""The ``relabel`` command group: the one place where library errors become CLI errors."""

from __future__ import annotations

import warnings
from typing import Any

import click

from relabel._version import __version__
from relabel.errors import RelabelError, RelabelWarning
from relabel.progress import enable as enable_progress


class _RelabelGroup(click.Group):
    """Turns :class:`RelabelError` into a clean ``Error: …`` line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RelabelError as e:
            raise click.ClickException(str(e)) from None


def _show_warning(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    label = "warning" if issubclass(category, RelabelWarning) else category.__name__
    click.secho(f"{label}: {message}", fg="yellow", err=True)


@click.group(cls=_RelabelGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="relabel")
@click.option("-v", "--verbose", is_flag=True, help="Show progress bars on stderr.")
def cli(verbose: bool) -> None:
    """Find the classes a training change hurt, whether the loss is real, why, and what to change.

    \b
    Quick start:
      relabel evaluate --demo                      # simulated runs on real ImageNet ReaL labels
      relabel predict ckpt.pth --arch resnet50 imagenet/val -o runs/a.parquet --group rrc-0.08 --seed 0
      relabel evaluate --annotations real --manifest runs.yaml --reference rrc-0.5 \\
          --out results/ --recommend results/overrides.json --report results/report
      relabel report results/                      # the page again, from a results folder

    Run `relabel COMMAND --help` for the options of each command.
    """
    enable_progress(verbose)
    warnings.showwarning = _show_warning


from relabel.cli.evaluate import evaluate  # noqa: E402  (commands register on the group)
from relabel.cli.plan import plan_command  # noqa: E402
from relabel.cli.predict import predict  # noqa: E402
from relabel.cli.report import report  # noqa: E402

cli.add_command(evaluate)
cli.add_command(plan_command)
cli.add_command(predict)
cli.add_command(report)
