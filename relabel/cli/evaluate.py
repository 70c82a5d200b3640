"""``relabel evaluate``: per-class accuracy of runs under original and multi-label scoring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from relabel._atomic import folder_lock
from relabel.categorisation import categorise
from relabel.cli.inputs import compare_arguments, load_evaluations, refuse_lone_self_check_options, run_self_check
from relabel.cli.params import (annotation_options, categorisation_options, comparison_options, recommendation_options,
                                run_options, self_check_options)
from relabel.cli.render import (echo, echo_json, render_ablation_plan, render_comparison, render_evaluations,
                                render_recommendation, render_wordnet_map, render_written, verbosity_options)
from relabel.comparison import compare, run_order
from relabel.evaluation import Evaluation
from relabel.evaluation import evaluate as evaluate_paired
from relabel.export import planned_outputs, write_recommendation, write_results
from relabel.loading.annotations import Annotations, load_annotations
from relabel.loading.manifest import RunSpec, read_manifest
from relabel.pairing import pair
from relabel.progress import progress
from relabel.provenance import collect
from relabel.recommendation import recommend
from relabel.summary import build_summary


@click.command()
@verbosity_options
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False), metavar="[RUN_FILE]...")
@run_options
@annotation_options
@comparison_options
@categorisation_options
@recommendation_options
@click.option("--out", type=click.Path(file_okay=False), metavar="DIR",
              help="Write per_class.{parquet,csv} and overall.{parquet,csv} here.")
@click.option("--report", "report_dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Write a report here: index.html (a self-contained page), figures/*.png, summary.md.")
@click.option("--images", "images_root", type=click.Path(exists=True, file_okay=False), metavar="ROOT",
              help="With --report: the evaluation image folder (image keys are paths relative to it); each affected "
                   "class's card shows thumbnails of a few of its images.  [default: the keys are listed]")
@click.option("--ablation-plan", "ablation_plan", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write a runs manifest (.yaml) of the extra runs that would tell which operation hurt the "
                   "affected classes of --default-group: one operation set back for those classes per run, each with "
                   "its override file under ablation/. Fill in the runs and pass it to --manifest.")
@self_check_options("With one group and no --reference, that group's runs are split. Writes self_check.csv "
                    "to --out.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(0), help="Classes listed in the summary.")
@click.option("--demo", is_flag=True,
              help="Evaluate simulated runs (3 seeds of two recipes) on the real ImageNet-1k label space and ReaL labels.")
@click.option("--demo-seed", default=0, show_default=True, type=int, help="Seed of the simulated demo runs.")
@click.option("--json", "as_json", is_flag=True,
              help="Print a machine-readable summary (JSON, schema relabel.summary/1, see docs/results.md) "
                   "instead of the text.")
def evaluate(paths: tuple[str, ...], run_specs: tuple[RunSpec, ...], manifest: str | None, groups: tuple[str, ...],
             strengths: tuple[float, ...], seeds: tuple[int, ...], image_column: str | None, pred_column: str | None,
             score_column: str | None, order: str | None, canonical_order: bool, allow_chance: bool,
             keep_logits: bool, annotations: str | None, split: str | None, original_labels: str | None,
             label_space: str | None,
             reference: str | None, hierarchy: str, wordnet_map: str | None, metric: str | None,
             min_drop: float, fdr: float, flow_alpha: float, min_flow_share: float,
             n_bootstrap: int, bootstrap_seed: int, recommend_path: str | None, default_group: str | None,
             target: str, include_ambiguous: bool, out: str | None, report_dir: str | None, images_root: str | None,
             ablation_plan: str | None, top: int, demo: bool, demo_seed: int, as_json: bool, paired: bool,
             shrink: bool, fdr_method: str, self_check_splits: int | None, self_check_bootstrap: int,
             self_check_split: str) -> None:
    """Score runs per class, under original labels and under multi-labels (e.g. ImageNet ReaL).

    \b
    Runs are given as files (positional or --run NAME=PATH) or in a --manifest.
    Each run is paired with the annotations by image key (file name), never by position.

    With --reference GROUP, every other group is compared with it class by class: mean
    accuracy over seeds, delta, bootstrap interval, q-value (Benjamini-Hochberg, or
    Benjamini-Yekutieli with --fdr-method by), the
    affected classes (drop >= --min-drop points, q <= --fdr) with where their predictions went
    and why (ambiguous, co-occurring or fine-grained; see docs/categorisation.md), whether
    multi-labels explain each drop under original labels, and the classes that improved
    (rise >= --min-drop points, q <= --fdr). --self-check [N] measures how often that rule
    flags a class between two halves of one group's runs, which cannot differ.

    \b
    Examples:
      relabel evaluate --demo
      relabel evaluate --annotations real --run base=base.parquet --run strong=strong.parquet --out results/
      relabel evaluate --annotations real --manifest runs.yaml --reference rrc-0.5 --out results/
      relabel evaluate --annotations labels.json --label-space classes.csv preds.csv --image-column path
      relabel evaluate --manifest runs.yaml --reference none --ablation-plan plan.yaml   # one run per recipe
    """
    if images_root and not report_dir:
        raise click.UsageError("--images needs --report DIR: the thumbnails are shown in the report")
    if recommend_path is not None and Path(recommend_path).suffix.lower() not in {".json", ".yaml", ".yml"}:
        raise click.UsageError(f"--recommend {recommend_path}: expected a .json, .yaml or .yml name "
                               f"(a flat .csv is written beside it)")
    ctx = click.get_current_context()
    refuse_lone_self_check_options(ctx)
    inputs = [*paths, *(spec.path for spec in run_specs), manifest, annotations, original_labels, label_space, order,
              wordnet_map, hierarchy]
    if manifest:
        listed = read_manifest(manifest)
        inputs += [*(spec.path for spec in listed.runs), listed.annotations, listed.label_space]
        paired = paired or listed.paired
    planned_outputs(out=out, recommend=recommend_path, report=report_dir,
                    inputs=[p for p in inputs if p is not None and Path(p).is_file()])
    for folder in dict.fromkeys(str(Path(d).resolve()) for d in (out, report_dir) if d):
        ctx.with_resource(folder_lock(folder))  # held until the command ends: a second writer is refused
    if demo:
        if paths or run_specs or manifest:
            raise click.UsageError("--demo simulates its own runs; do not give run files with it")
        evaluations, annotations_used, augmentations = _demo_evaluations(demo_seed)
        reference = reference or "rrc-0.5"
    else:
        evaluations, annotations_used, augmentations = load_evaluations(ctx.params)
    evaluations = run_order(evaluations)  # every table and line below independent of the input's order
    groups_given = {str(ev.meta.group) for ev in evaluations}
    if self_check_splits is not None and reference is not None and groups_given == {reference}:
        raise click.UsageError(f"--reference {reference}: a comparison needs a second group, and every run is in "
                               f"group {reference!r}; to self-check that group alone, drop --reference "
                               f"(--self-check then splits the only group)")
    comparison = categorisation = None
    if reference is not None:
        comparison = compare(evaluations, reference=reference, **compare_arguments(ctx.params, paired=paired))
        if wordnet_map and hierarchy not in ("auto", "wordnet"):
            raise click.UsageError(f"--wordnet-map corrects the WordNet mapping; it cannot be used with "
                                   f"--hierarchy {hierarchy}")
        chosen = "wordnet" if wordnet_map else (None if hierarchy == "none" else hierarchy)
        categorisation = categorise(comparison, annotations_used, hierarchy=chosen, wordnet_map=wordnet_map)
    checked = None
    if self_check_splits is not None:
        group = reference if reference is not None else _only_group(evaluations)
        checked = run_self_check(evaluations, group, ctx.params, paired=paired,
                                 metric=None if comparison is None else comparison.params["metric"])
    recommendation = None
    if recommend_path is not None:
        if comparison is None or categorisation is None:
            raise click.UsageError("--recommend needs --reference GROUP: overrides come from a comparison")
        recommendation = recommend(comparison, categorisation, augmentations=augmentations,
                                   default_group=default_group, target=target, include_ambiguous=include_ambiguous)
    written = []
    plan = None
    if ablation_plan is not None:
        plan, plan_files = _ablation_plan(ablation_plan, comparison, evaluations, augmentations, default_group, demo,
                                          annotations, label_space, manifest, annotations_used)
        written += plan_files
    provenance = None
    if out or report_dir:
        provenance = collect(evaluations, annotations=annotations_used,
                             annotations_source="real" if demo else _annotations_given(annotations, manifest),
                             command=ctx.meta.get("relabel.argv", ()), options=ctx.params, simulated=demo)
    if out:  # the results folder first, whole (it keeps an override file or report of yours inside it)
        written += write_results(out, evaluations, comparison, categorisation, recommendation, simulated=demo,
                                 override_file=recommend_path, provenance=provenance, self_check=checked)
    if recommendation is not None and recommend_path is not None:
        written += write_recommendation(recommendation, recommend_path, label_space=annotations_used.label_space)
    if report_dir:
        from relabel.report import build_report, write_report

        report = build_report(evaluations, comparison, categorisation, recommendation, simulated=demo,
                              annotations=annotations_used, provenance=provenance, self_check=checked)
        if images_root:
            from relabel.thumbnails import add_thumbnails

            report = add_thumbnails(report, images_root)
        written += write_report(report, report_dir)
    if as_json:
        summary = build_summary(evaluations, comparison, categorisation, recommendation, simulated=demo)
        if checked is not None:
            summary["self_check"] = checked.to_dict()
        echo_json({**summary, "written": [str(path) for path in written]})
        return
    render_evaluations(evaluations, top=top, simulated=demo)
    if categorisation is not None and categorisation.wordnet_map is not None:
        render_wordnet_map(categorisation.wordnet_map)
    if comparison is not None and categorisation is not None:
        render_comparison(comparison, categorisation, top=top)
    if recommendation is not None:
        render_recommendation(recommendation, top=top)
    if plan is not None:
        render_ablation_plan(plan)
    if checked is not None:
        echo()
        echo(checked.summary_line())
    if comparison is None and len({ev.meta.group for ev in evaluations}) > 1:
        echo("note: the runs form several groups; give --reference GROUP to compare them class by class.")
    render_written(written)


def _only_group(evaluations: list[Evaluation]) -> str:
    """The group --self-check splits without --reference: the runs' only group."""
    groups = sorted({str(ev.meta.group) for ev in evaluations if ev.meta.group is not None})
    if len(groups) != 1 or any(ev.meta.group is None for ev in evaluations):
        raise click.UsageError(f"--self-check splits one group's runs: give --reference GROUP (groups: "
                               f"{', '.join(groups) or 'none'})")
    return groups[0]


def _ablation_plan(path: str, comparison: Any, evaluations: list[Evaluation], augmentations: dict[str, Any] | None,
                   group: str | None, demo: bool, annotations: str | None, label_space: str | None,
                   manifest: str | None, annotations_used: Annotations) -> tuple[Any, list[Path]]:
    from relabel.ablation import plan_ablation, write_ablation_plan

    if Path(path).suffix.lower() not in {".yaml", ".yml"}:
        raise click.UsageError(f"--ablation-plan {path}: expected a .yaml or .yml name (a runs manifest)")
    if demo:
        raise click.UsageError("--ablation-plan plans runs to train; the simulated --demo runs have no files to keep")
    if comparison is None:
        raise click.UsageError("--ablation-plan needs --reference GROUP: the plan ablates the losses of a comparison")
    if not augmentations:
        raise click.UsageError("--ablation-plan needs the groups' augmentations (a --manifest with a 'groups' section)")
    parsed = read_manifest(manifest) if manifest else None
    plan = plan_ablation(comparison, augmentations, group=group)
    runs = [{"path": ev.params["source"], "name": ev.meta.name, "group": ev.meta.group, "strength": ev.meta.strength,
             "seed": ev.meta.seed} for ev in evaluations]
    files = write_ablation_plan(plan, path, runs=runs, groups=augmentations,
                                annotations=annotations or (parsed.annotations if parsed else None),
                                label_space=label_space or (parsed.label_space if parsed else None),
                                classes=annotations_used.label_space)
    return plan, files


def _demo_evaluations(seed: int) -> tuple[list[Evaluation], Annotations, dict[str, Any] | None]:
    from relabel.synthetic import simulate_runs

    ann = load_annotations("real")
    simulated = simulate_runs(ann, seed=seed)
    evaluations = [evaluate_paired(pair(run, ann)) for run in progress(simulated.runs, desc="evaluate", unit="run")]
    return evaluations, ann, simulated.augmentations


def _annotations_given(annotations: str | None, manifest: str | None) -> str | None:
    """The annotations as the command named them: the option, else the manifest's entry."""
    if annotations is not None or manifest is None:
        return annotations
    return read_manifest(manifest).annotations
