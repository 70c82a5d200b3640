"""``relabel report``: render a results folder as an HTML page, PNG figures and a Markdown summary."""

from __future__ import annotations

from pathlib import Path

import click

from relabel.cli.render import render_written, verbosity_options
from relabel.report import load_report, write_report


@click.command()
@verbosity_options
@click.argument("results", type=click.Path(exists=True, file_okay=False), metavar="RESULTS_DIR")
@click.option("--out", type=click.Path(file_okay=False), metavar="DIR",
              help="Write index.html, summary.md and figures/ here.  [default: RESULTS_DIR/report]")
@click.option("--overrides", type=click.Path(exists=True, dir_okay=False), metavar="FILE",
              help="An override file to show each class's override from.  [default: the file relabel evaluate "
                   "--recommend wrote, when RESULTS_DIR records it]")
@click.option("--title", metavar="TEXT", help="The page's heading.  [default: what was compared with what]")
@click.option("--simulated/--not-simulated", default=None,
              help="Say on the page that the predictions are simulated.  [default: what RESULTS_DIR records]")
@click.option("--max-classes", default=30, show_default=True, type=click.IntRange(1),
              help="Affected classes that get their own section and bar chart (largest drops first).")
def report(results: str, out: str | None, overrides: str | None, title: str | None, simulated: bool | None,
           max_classes: int) -> None:
    """Render the results of `relabel evaluate --out DIR` as a page a person reads.

    \b
    Writes, without recomputing anything:
      index.html   a self-contained page (no network needed): the headline, per-class
                   change under original labels against multi-labels (hover a point to
                   identify its class), accuracy along the strength axis, the sweep at a
                   glance (classes x groups), each affected class with where its
                   predictions went, every seed, why and its override, a sortable,
                   filterable table of every class, and the folder's provenance
      figures/     the same figures as PNG files (needs matplotlib: relabel[report])
      summary.md   a Markdown summary for a pull request

    \b
    Examples:
      relabel evaluate --demo --out results/ --recommend results/overrides.json
      relabel report results/
      relabel report results/ --overrides edited-overrides.yaml
    """
    loaded = load_report(results, overrides=overrides, title=title, simulated=simulated)
    written = write_report(loaded, Path(out) if out else Path(results) / "report", max_classes=max_classes)
    render_written(written)
