"""``relabel plan``: the drop each class's comparison could detect with more seeds or images."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from relabel._atomic import write_text
from relabel.cli.render import _table, echo, render_written, verbosity_options
from relabel.errors import InputError
from relabel.export import read_results
from relabel.power import POWER, plan
from relabel.stats import FDR_METHOD_NAMES, FDR_METHODS


def _positive_list(ctx: click.Context, param: click.Parameter, value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        numbers = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated whole numbers such as 2,3,5,8; got {value!r}") from None
    if not numbers or any(n < 1 for n in numbers):
        raise click.BadParameter(f"expected positive whole numbers; got {value!r}")
    return numbers


@click.command("plan")
@verbosity_options
@click.argument("results", type=click.Path(exists=True, file_okay=False), metavar="RESULTS_DIR")
@click.option("--seeds", default="2,3,5,8", show_default=True, callback=_positive_list, metavar="K,K,…",
              help="Seeds per group (both groups alike) to plan for.")
@click.option("--images", callback=_positive_list, metavar="N,N,…",
              help="Images per class to plan for.  [default: each class's own count]")
@click.option("--class", "classes", multiple=True, metavar="NAME",
              help="Show this class (name or key) besides the median class; repeatable.  [default: the affected "
                   "classes]")
@click.option("--fdr-method", type=click.Choice(list(FDR_METHODS)),
              help="Plan for this FDR method: bh (Benjamini-Hochberg) or by (Benjamini-Yekutieli, whose per-test "
                   "level is c(m) = 1 + 1/2 + ... + 1/m times smaller).  [default: the comparison's own, "
                   "comparison_params.json]")
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE.csv",
              help="Write every class's detectable drop for every design as CSV.")
def plan_command(results: str, seeds: list[int], images: list[int] | None, classes: tuple[str, ...],
                 fdr_method: str | None, out: str | None) -> None:
    """Say, per class, the smallest drop a comparison could tell from noise with k seeds and n images.

    \b
    Reads the comparison of `relabel evaluate --out DIR` (its per-class variance components;
    nothing is recomputed) and states the detectable drop at power 0.8 and the comparison's
    FDR, under its FDR method (BH or BY) unless --fdr-method says otherwise (the formula:
    README, "How many seeds do I need?").

    \b
    Examples:
      relabel plan results/
      relabel plan results/ --seeds 3,8 --images 50,200 --class cat
      relabel plan results/ --fdr-method by
    """
    loaded = read_results(results)
    comparison = loaded.comparison
    if comparison is None:
        raise InputError(f"results folder {results} holds no comparison: run relabel evaluate with two groups of "
                         f"runs (--reference GROUP) and --out {results}")
    params = comparison.params
    recorded = str(params.get("fdr_method", "bh"))  # a comparison that records none used BH
    method = fdr_method or recorded
    table = plan(comparison.per_class, seeds=seeds, images=images, fdr=params["fdr"], min_drop=params["min_drop"],
                 metric=params["metric"], fdr_method=method, comparison_fdr_method=recorded)
    wanted = _wanted(comparison.per_class, classes, results)
    echo(f"Detectable drop in points (power {POWER:g}, FDR {params['fdr']:g} with {FDR_METHOD_NAMES[method]}, min-drop "
         f"{100 * params['min_drop']:g} points, metric {params['metric']}); per group, seeds per group × images "
         f"per class:", bold=True)
    sizes: list[int | None] = list(images) if images else [None]
    designs = [(k, n) for k in seeds for n in sizes]
    headers = ["class"] + [f"{k} seeds" + (f", {n} images" if n is not None else "") for k, n in designs]
    for group, rows in table.groupby("group", sort=False):
        runs = params.get("runs", {})
        have = f" (now {len(runs.get(params['reference'], []))} + {len(runs.get(str(group), []))} seeds)" if runs else ""
        echo(f"{group} against {params['reference']}{have}:")
        columns = [rows[(rows["seeds"] == k) & ((rows["images"] == n) if n is not None else True)]
                   .set_index("class_index")["detectable_drop"] for k, n in designs]
        lines = [["median class", *(_points(column.median()) for column in columns)]]
        names = rows.drop_duplicates("class_index").set_index("class_index")["class_name"]
        for c in wanted.get(str(group), []):
            lines.append([str(names.loc[c]), *(_points(column.loc[c]) for column in columns)])
        _table(headers, lines, "l" + "r" * len(designs))
    if out:
        render_written([write_text(Path(out), table.to_csv(index=False))])


def _points(value: float) -> str:
    return "–" if pd.isna(value) else f"{100 * value:.1f}"


def _wanted(per_class: pd.DataFrame, classes: tuple[str, ...], results: str) -> dict[str, list[int]]:
    """Per group, the class indices to show: the named ones, else the affected ones (at most 10)."""
    if classes:
        found = per_class[per_class["class_name"].astype(str).isin(classes) | per_class["class_key"].astype(str)
                          .isin(classes)]
        unknown = sorted(set(classes) - set(found["class_name"].astype(str)) - set(found["class_key"].astype(str)))
        if unknown:
            raise InputError(f"results folder {results}: no class named {', '.join(map(repr, unknown[:5]))} "
                             f"(give a class name or key of its label space)")
        return {str(g): rows["class_index"].drop_duplicates().tolist() for g, rows in found.groupby("group")}
    affected = per_class[per_class["affected"].astype(bool)]
    return {str(g): rows["class_index"].head(10).tolist() for g, rows in affected.groupby("group")}
