"""Terminal summaries: the only module of relabel that writes to stdout."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import click
import pandas as pd

from relabel._text import printable
from relabel.categorisation import Categorisation, describe_loss_driver
from relabel.comparison import Comparison
from relabel.evaluation import Evaluation, multilabel_gaps
from relabel.gate import Gate
from relabel.progress import enable as enable_progress
from relabel.recommendation import Recommendation
from relabel.stats import FDR_METHOD_NAMES


_quiet = False


def set_quiet(quiet: bool) -> None:
    """``--quiet``: print nothing to stdout and no ``wrote`` lines (errors and warnings still go to stderr)."""
    global _quiet
    _quiet = quiet


def echo(text: str = "", *, err: bool = False, bold: bool = False, fg: str | None = None, raw: bool = False) -> None:
    """Print one line, its control and bidi characters escaped (``raw``: the caller escaped and styled it)."""
    if _quiet:
        return
    line = text if raw else printable(text)
    click.secho(line, err=err, bold=bold or None, fg=fg)


def echo_json(data: Any, *, one_line: bool = False) -> None:
    """Print ``data`` as one JSON document (``--json``): text is JSON-escaped, so no control character is printed raw.

    ``one_line``: on a single line, for a program that reads stdout line by line. ``--quiet`` holds here too.
    """
    if _quiet:
        return
    layout: dict[str, Any] = {"separators": (",", ":")} if one_line else {"indent": 2}
    click.echo(json.dumps(data, ensure_ascii=True, allow_nan=False, **layout))


def verbosity_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``-v/--verbose`` and ``-q/--quiet``, on the group and on each command (before or after its name).

    Given either place, a flag holds for the whole command; the two together are a usage error.
    """

    def chosen(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if not value:
            return
        root = ctx.find_root()
        seen = root.meta.setdefault("relabel.verbosity", set())
        seen.add(param.name)
        if {"verbose", "quiet"} <= seen:
            raise click.UsageError("-v/--verbose and -q/--quiet contradict each other; give one")
        if param.name == "verbose":
            enable_progress(True)
        else:
            set_quiet(True)

    f = click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=chosen,
                     help="Print nothing but errors and warnings (no summary, no 'wrote' lines).")(f)
    return click.option("-v", "--verbose", is_flag=True, expose_value=False, callback=chosen,
                        help="Show progress bars on stderr.")(f)


def _pct(x: float) -> str:
    return "   n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:5.1f}%"


def _text(value: Any) -> str:
    """A text cell, "-" where the value is missing."""
    return "-" if value is None or pd.isna(value) or not str(value) else str(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> None:
    headers = [printable(h) for h in headers]
    rows = [[printable(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align))

    echo(line(headers), bold=True)
    for row in rows:
        echo(line(row))


def render_evaluations(evaluations: Sequence[Evaluation], *, top: int = 10, simulated: bool = False) -> None:
    """Overall accuracy per run, then the classes whose multi-label accuracy differs most from original.

    Under ``--quiet`` nothing is computed (a 1,000-run sweep's table costs a second).
    """
    if _quiet:
        return
    if simulated:
        echo(
            "SIMULATED PREDICTIONS: the runs below come from relabel.synthetic, not from trained models. "
            "The label space and ReaL annotations are real.",
            fg="magenta", bold=True,
        )
    rows = []
    for ev in evaluations:
        o = ev.overall
        coverage = f"{o['n_images']}/{o['n_annotated']}"
        rows.append([ev.meta.name, ev.meta.group or "-", coverage, _pct(o["acc_original"]), _pct(o["acc_multilabel"])])
    _table(["run", "group", "images", "top-1", "multi-label"], rows, "llrrr")
    partial = [ev for ev in evaluations if ev.overall["n_images"] < ev.overall["n_annotated"]]
    for ev in partial:
        echo(
            f"note: run {ev.meta.name!r} covers {ev.overall['n_images']} of {ev.overall['n_annotated']} annotated images; "
            f"its accuracies are over those images only."
        )
    if not all(ev.has_multilabels for ev in evaluations):
        echo("note: the annotations have no multi-label sets; only original-label accuracy was computed.")
        return
    gaps = multilabel_gaps(evaluations).head(top)
    if gaps.empty:
        return
    echo()
    echo(f"Classes where multi-label scoring changes accuracy most (mean over {len(evaluations)} runs):", bold=True)
    _table(
        ["class", "key", "images", "original", "multi-label", "gap"],
        [[r.class_name[:32], str(r.class_key), str(int(r.n_images)), _pct(r.acc_original), _pct(r.acc_multilabel),
          f"{100 * r.gap:+5.1f}"] for r in gaps.itertuples()],
        "llrrrr",
    )


def _class_rows(rows: pd.DataFrame, metric: str, went: pd.DataFrame | None, names: pd.Series) -> list[list[str]]:
    out = []
    shown = ["class_index", "class_name", *(f"{stat}_{metric}" for stat in ("acc", "delta", "ci_low", "ci_high",
                                                                            "q_value")), f"acc_{metric}_reference"]
    for r in rows[shown].itertuples():  # only the columns shown: itertuples costs a column lookup per column
        low, high = getattr(r, f"ci_low_{metric}"), getattr(r, f"ci_high_{metric}")
        cells = [r.class_name[:28], _pct(getattr(r, f"acc_{metric}_reference")), _pct(getattr(r, f"acc_{metric}")),
                 f"{100 * getattr(r, f'delta_{metric}'):+5.1f}", f"[{100 * low:+.1f}, {100 * high:+.1f}]",
                 f"{getattr(r, f'q_value_{metric}'):.1e}"]
        if went is not None:
            to = "-"
            if r.class_index in went.index:
                p = went.loc[r.class_index]
                to = f"{names[int(p.partner_index)][:20]} ({100 * p.share_delta:+.0f})"
            cells.append(to)
        out.append(cells)
    return out


def render_comparison(comparison: Comparison, categorisation: Categorisation, *, top: int = 10) -> None:
    """Per group: the net change, affected classes (drop, interval, q, partner, category, reason), improved classes.

    Under ``--quiet`` nothing is computed (99 groups of a sweep cost two seconds).
    """
    if _quiet:
        return
    params = comparison.params
    metric = params["metric"]
    echo()
    echo(
        f"Comparison with reference group {params['reference']!r} (metric: {metric}; affected = drop >= "
        f"{100 * params['min_drop']:g} points and q <= {params['fdr']:g}, improved = rise >= "
        f"{100 * params['min_drop']:g} points and q <= {params['fdr']:g} "
        f"({FDR_METHOD_NAMES[params.get('fdr_method', 'bh')]}); a partner = a class whose share of the "
        f"lost images rose with Holm-adjusted p <= {params['flow_alpha']:g}; {params['n_bootstrap']} bootstrap "
        f"draws, seed {params['seed']}):",
        bold=True,
    )
    for note in comparison.notes:
        echo(f"note: {note}")
    names = comparison.label_space.table().set_index("class_index")["class_name"]
    summary = comparison.summary.set_index("group")
    headers = ["class", "reference"]
    per_class = comparison.per_class
    shown = ["group", "affected", "improved", "class_index", "class_name", f"acc_{metric}_reference",
             *(f"{stat}_{metric}" for stat in ("acc", "delta", "ci_low", "ci_high", "q_value"))]
    # the rows and columns shown: a few of a sweep's 99,000 rows, 11 of its 40 columns
    marked = per_class.loc[per_class["affected"] | per_class["improved"], shown]
    marked_by_group = dict(list(marked.groupby("group", sort=False)))
    for group in per_class["group"].drop_duplicates().dropna():  # the groups in their order, as groupby gives them
        rows = marked_by_group.get(group, marked.iloc[:0])
        affected = rows[rows["affected"]].sort_values(f"delta_{metric}", kind="stable")
        improved = rows[rows["improved"]].sort_values(f"delta_{metric}", ascending=False, kind="stable")
        line = summary.loc[group]
        echo(f"{group}: mean class accuracy {100 * line[f'mean_delta_{metric}']:+.1f} points; "
                   f"{int(line['n_affected'])} affected class{'es' if int(line['n_affected']) != 1 else ''}, "
                   f"{int(line['n_improved'])} improved")
        for text in (comparison.net_summary(group), comparison.explanation_summary(group),
                     comparison.power_summary(group)):
            if text:
                echo(f"  {text}")
        columns = [*headers, group[:12], "delta", "95% CI", "q"]
        if not affected.empty:
            flows = comparison.flows[(comparison.flows["group"] == group) & (comparison.flows["rank"] == 1)]
            _table([*columns, "predictions went to"],
                   _class_rows(affected.head(top), metric, flows.set_index("class_index"), names), "lrrrrrl")
            why = categorisation.classes[categorisation.classes["group"] == group].set_index("class_index")
            echo()
            for r in affected.head(top)[["class_index", "class_name"]].itertuples():
                if r.class_index not in why.index:
                    continue
                w = why.loc[r.class_index]
                name = "  " + click.style(printable(r.class_name), bold=True)
                confidence = f"; {w['confidence']} confidence" if w.get("confidence") else ""
                if pd.isna(w["partner_index"]):
                    echo(name + printable(f" [{w['category']}{confidence}]: {w['reason']}"), raw=True)
                    continue
                driver = describe_loss_driver(w["loss_driver"], r.class_name, w["partner_name"])
                echo(name + printable(f" [{w['category']}{confidence}{'; ' + driver if driver else ''}]: {w['reason']}"),
                     raw=True)
                if w["other_pairs"]:
                    echo(f"      also lost predictions to: {w['other_pairs']}")
            if len(affected) > top:
                echo(f"… and {len(affected) - top} more (see --out)")
        if not improved.empty:
            echo()
            echo(f"  Improved classes ({group} against {params['reference']}):", bold=True)
            _table(columns, _class_rows(improved.head(top), metric, None, names), "lrrrrr")
            if len(improved) > top:
                echo(f"… and {len(improved) - top} more (see --out)")


def render_gate(gate: Gate, *, top: int = 5, self_check_source: str | None = None) -> None:
    """The gate's verdict for people, on stderr: one line, the self-check's line (where one was run), then per group
    its count and its ``top`` worst classes; an undecided verdict ends with its reason."""
    params = gate.params
    words = "multi-labels" if params["metric"] == "multilabel" else "original labels"
    rule = (f"drop >= {100 * params['min_drop']:g} points with q <= {params['fdr']:g} "
            f"({FDR_METHOD_NAMES[params.get('fdr_method', 'bh')]}) on {words}")
    failed = gate.groups[gate.groups["n_affected"] > 0]
    n = int(gate.groups["n_affected"].sum())
    if gate.passed:
        verdict = f"pass: no class degraded in {len(gate.groups)} group{'s' if len(gate.groups) != 1 else ''}"
    else:
        verdict = (f"FAIL: {n} class{'es' if n != 1 else ''} degraded in {len(failed)} of {len(gate.groups)} "
                   f"group{'s' if len(gate.groups) != 1 else ''}")
    if not gate.decided:
        verdict = f"UNDECIDED: the A/A self-check is above the FDR; the rule says {verdict}"
    echo(f"relabel check against {params['reference']!r}: {verdict} ({rule})", err=True, bold=True,
         fg=None if gate.passed and gate.decided else "red")
    if gate.self_check is not None:
        reused = f" (reused from {self_check_source}, not recomputed)" if self_check_source else ""
        echo(f"  {gate.self_check.summary_line()}{reused}", err=True)
    for row in gate.groups.itertuples(index=False):
        seen = "" if pd.isna(row.median_detectable_drop) else (
            f"; drops smaller than ~{100 * row.median_detectable_drop:.1f} points cannot be told from noise here "
            f"(median class)")
        echo(f"  {row.group}: {int(row.n_affected)} of {int(row.n_classes)} classes degraded{seen}", err=True)
        for c in gate.classes[gate.classes["group"] == row.group].head(top).itertuples(index=False):
            if pd.isna(c.delta):
                continue
            echo(f"    {'DEGRADED ' if c.affected else 'ok       '}{c.class_name}: {100 * c.delta:+.1f} points "
                 f"[{100 * c.ci_low:+.1f}, {100 * c.ci_high:+.1f}], q {c.q_value:.2g}, {int(c.n_images)} images",
                 err=True)
    if gate.reason is not None:
        echo(f"UNDECIDED (exit 2): {gate.reason}", err=True, bold=True, fg="red")


def render_recommendation(recommendation: Recommendation, *, top: int = 10) -> None:
    """What to change: one line per affected class, then the expected effect on the average."""
    params = recommendation.params
    echo()
    echo(f"Recommendation (default recipe {params['default_group']!r}, overrides target: {params['target']}):",
                bold=True)
    rows = []
    for r in recommendation.table.head(top).itertuples():
        rows.append([r.class_name[:24], r.category, r.action, _text(r.setting), _text(r.target_classes)[:36],
                     _pct(r.acc_default), _pct(r.acc_expected)])
    _table(["class", "category", "action", "setting", "override covers", "now", "expected"], rows, "lllllrr")
    effect = recommendation.effect
    echo(
        f"mean class accuracy: {100 * effect['mean_acc_default']:.2f}% with the default recipe, "
        f"{100 * effect['mean_acc_expected']:.2f}% expected with the overrides "
        f"({100 * effect['expected_change']:+.2f} points; estimate: each class keeps the accuracy it had "
        f"under the recommended setting, the others the default's)"
    )


def render_wordnet_map(table: pd.DataFrame, *, top: int = 10) -> None:
    """Which WordNet synset the class names got: counts, then every name not matched exactly."""
    mapped = table["synset"].notna()
    echo()
    echo(f"WordNet hierarchy from the class names: {int(mapped.sum())} of {len(table)} mapped "
                f"({', '.join(f'{k} {v}' for k, v in table['match'].value_counts().items())}):", bold=True)
    notable = table[(table["match"] != "exact lemma") | (table["n_senses"].fillna(1) > 1)]
    for r in notable.head(top).itertuples():
        target = f"{r.synset} '{r.synset_name}'" if r.synset else "unmapped"
        echo(f"  {r.class_name} -> {target}: {r.reason}")
    if len(notable) > top:
        echo(f"  … and {len(notable) - top} more (see wordnet_map.csv with --out)")


def render_written(paths: Sequence[object]) -> None:
    """List the files a command wrote (to stderr, so stdout stays the summary)."""
    for path in paths:
        echo(f"wrote {path}", err=True)


def render_closed_loop(result: Any) -> None:
    """Per-class figures of ``relabel demo closed-loop`` and its verdict."""
    figures = result.figures
    rows = []
    for r in figures.itertuples():
        mark = "hurt, overridden" if r.hurt else ("overridden" if r.overridden else "")
        rows.append([str(r.class_name), _pct(r.acc_mild), _pct(r.acc_strong), _pct(r.acc_retrained),
                     f"{100 * r.delta_retrained:+5.1f}", mark])
    echo("Top-1 accuracy per class, mean over seeds (test digits, half of them rotated):", bold=True)
    _table(["class", "mild", "strong", "retrained", "retrained-strong", ""], rows, "lrrrrl")
    names = result.before.label_space.names
    hurt = ", ".join(names[c] for c in result.hurt) or "none"
    recovered = ", ".join(names[c] for c in result.recovered) or "none"
    echo(f"hurt by the strong recipe and overridden: {hurt}; recovered significantly: {recovered}")
    metric = result.after.params["metric"]
    paid = [f"{r.class_name} ({100 * getattr(r, 'delta_' + metric):+.1f} points, q = "
            f"{getattr(r, 'q_value_' + metric):.2g})" for r in result.after.affected.itertuples()]
    echo("affected by the retraining (relabel's rule, against strong): " + (", ".join(paid) or "none"))
    echo("loop closed: " + ("yes" if result.closed else "no")
               + " (every hurt class rose, the largest loss significantly, and the mean did not fall)")


def render_ablation_plan(plan: Any) -> None:
    """Which classes paid under the ablated group, and the runs the plan asks for."""
    shown = ", ".join(plan.classes[:10]) + (" ..." if len(plan.classes) > 10 else "")
    echo(f"Ablation plan for {plan.group} (against {plan.reference}):", bold=True)
    echo(f"  {len(plan.classes)} classes paid: {shown}")
    echo(f"  {len(plan.operations)} operations differ ({', '.join(plan.operations)}); "
               f"{len(plan.runs)} runs planned, each with one operation set back for those classes only")
