"""The report as a short Markdown summary, for a pull request or an issue.

The headline, the affected classes with their category, reason and override, and links to the
figures (``figures/…``, relative to the summary). User-given text is escaped for Markdown and
HTML (GitHub renders inline HTML), so a class named ``<script>`` or ``a|b`` stays text and
cannot break a table; control characters (a bare ``\r``, escape sequences) and bidirectional
overrides (U+202E) are shown as their escapes (``\r``, ``\u202e``), never raw.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from relabel._text import printable
from relabel.categorisation import describe_loss_driver
from relabel.report.content import (
    Report,
    affected_classes,
    category_counts,
    compared_groups,
    describe_transforms,
    explained_classes,
    group_table,
    improved_lead,
    interval,
    is_missing,
    override_names,
    pct,
    plural,
    points,
    qvalue,
    recommendation_note,
)
from relabel.report.figures import Figure
from relabel.report.html import SIMULATED
from relabel.stats import FDR_METHOD_NAMES

__all__ = ["render_markdown"]

_SPECIAL = re.compile(r"([\\`*_\[\]|~#])")


def md(value: Any) -> str:
    """Escape any value as Markdown text (also inside a table cell)."""
    text = "" if value is None or is_missing(value) else str(value)
    text = html.escape(printable(text.replace("\n", " ")), quote=False)  # \r, escapes and bidi overrides visible
    return _SPECIAL.sub(r"\\\1", text)


def render_markdown(report: Report, figures: Sequence[Figure], *, max_classes: int = 30) -> str:
    """The Markdown summary (see the module docstring)."""
    lines = [f"# {md(report.title)}", ""]
    if report.simulated:
        lines += [f"> **{md(SIMULATED)}**", ""]
    comparison = report.comparison
    if comparison is not None:
        p = comparison.params
        metric = "multi-labels" if p["metric"] == "multilabel" else "original labels"
        lines += [
            f"Reference group {md(p['reference'])}; a class is *affected* when its accuracy on {metric} fell by at "
            f"least {100 * float(p['min_drop']):g} points with a {FDR_METHOD_NAMES[str(p.get('fdr_method', 'bh'))]} "
            f"q-value at most "
            f"{float(p['fdr']):g} ({p['n_bootstrap']} bootstrap draws, seed {p['seed']}).",
            "",
        ]
    lines += _group_lines(report)
    for group in compared_groups(report):
        lines += _group_summary(report, group)
    lines += _affected_lines(report, max_classes)
    rec = report.recommendation
    if rec is not None and rec.effect:
        lines += [
            f"Expected mean class accuracy with the overrides: {pct(rec.effect['mean_acc_default'])} → "
            f"{pct(rec.effect['mean_acc_expected'])} ({100 * rec.effect['expected_change']:+.2f} points; an estimate "
            f"in which each overridden class keeps the accuracy it had under the recommended setting).",
            "",
        ]
    if report.self_check is not None:
        lines += ["## Self-check (A/A)", "", md(report.self_check.summary_line()) + ".", ""]
    if comparison is not None:
        lines += [f"Note: {md(n)}" for n in comparison.notes]
        lines += [""] if comparison.notes else []
    if figures:
        lines += ["## Figures", ""]
        for f in figures:
            if f.name.startswith(("scatter-", "curves")):
                lines += [f"![{md(f.title)}](figures/{f.name})", ""]
        names = {f.name for f in figures}
        small = [a for a in affected_classes(report) if a.figure in names]
        if small:
            lines += ["Where each affected class's predictions went: "
                      + ", ".join(f"[{md(a.class_name)}](figures/{a.figure})" for a in small), ""]
    lines += ["The full report, with a sortable table of every class, is `index.html` beside this file.", ""]
    return "\n".join(lines)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _group_lines(report: Report) -> list[str]:
    table = group_table(report)
    ml = report.has_multilabels
    head = ["group", "strength", "runs", "top-1"] + (["multi-label"] if ml else [])
    lines = [_row(head), _row(["---"] + ["---:"] * (len(head) - 1))]
    for r in table.itertuples():
        cells = [md(r.group) + (" (reference)" if r.reference else ""),
                 "" if is_missing(r.strength) else f"{r.strength:g}", str(int(r.n_runs)), pct(r.acc_original)]
        if ml:
            cells.append(pct(r.acc_multilabel))
        lines.append(_row(cells))
    return lines + ["", "Accuracies: mean over each group's runs of the overall accuracy.", ""]


def _group_summary(report: Report, group: str) -> list[str]:
    comparison = report.comparison
    assert comparison is not None  # a group summary exists only for a comparison
    table = group_table(report)
    r = table[table["group"] == group].iloc[0]
    counts = category_counts(report, group)
    categories = ", ".join(f"{k} {v}" for k, v in counts.items())
    lead = improved_lead(report, group)
    text = (f"**{md(group)}**: " + (f"**{plural(lead[0], 'improved class', 'improved classes')}** (recovered or "
                                    f"gained), {plural(lead[1], 'affected class', 'affected classes')}"
                                    if lead else
                                    f"**{plural(int(r['n_affected']), 'affected class', 'affected classes')}**")
            + (f" ({categories})" if categories else "")
            + f"; mean class accuracy {points(r['mean_delta_original'])} points under original labels")
    if report.has_multilabels:
        explained = explained_classes(report, group)
        names = ", ".join(md(n) for n in explained["class_name"].head(12))
        n_original, n_explained = int(r["n_affected_original"]), int(r["n_explained_by_multilabels"])
        listed = f" (explained: {names}{' …' if len(explained) > 12 else ''})" if len(explained) else ""
        states = comparison.explanation_summary(group)
        text += (f", {points(r['mean_delta_multilabel'])} under multi-labels; "
                 + (md(states) if states else f"{plural(n_original, 'class drops', 'classes drop')} under original "
                                              f"labels, {n_explained} of them explained by multi-labels")
                 + listed)
    net = comparison.net_summary(group)
    improved = comparison.improved
    improved = improved[improved["group"].astype(str) == group]
    gains = ", ".join(f"{r.class_name} ({points(getattr(r, f'delta_{report.metric}'))})"
                      for r in improved.head(30).itertuples())
    net += f"; improved: {gains}{' …' if len(improved) > 30 else ''}" if gains and net else ""
    power_line = comparison.power_summary(group)
    return ([text + ".", ""] + ([md(net[0].upper() + net[1:]) + ".", ""] if net else [])
            + ([md(power_line[0].upper() + power_line[1:]) + ".", ""] if power_line else []))


def _affected_lines(report: Report, max_classes: int) -> list[str]:
    comparison = report.comparison
    items = affected_classes(report)
    if comparison is None or not items:
        return []
    m = report.metric
    reference = comparison.params["reference"]
    confidence = 100 * float(comparison.params.get("confidence", 0.95))
    lines = []
    for group in compared_groups(report):
        mine = [a for a in items if a.group == group][:max_classes]
        if not mine:
            continue
        lines += [f"## Affected classes: {md(group)} against {md(reference)}", "",
                  _row(["class", md(reference), md(group), "Δ points", f"{confidence:g}% CI", "q",
                        "predictions went to", "category"]),
                  _row(["---", "---:", "---:", "---:", "---:", "---:", "---", "---"])]
        for a in mine:
            r = a.row
            partner = ""
            if not a.pairs.empty:
                top = a.pairs.iloc[0]
                partner = f"{md(top['partner_name'])} ({points(top['share_delta'])})"
            category = md(a.why["category"]) if a.why is not None else ""
            lines.append(_row([md(a.class_name), pct(r[f"acc_{m}_reference"]), pct(r[f"acc_{m}"]),
                               points(r[f"delta_{m}"]), interval(r[f"ci_low_{m}"], r[f"ci_high_{m}"]),
                               qvalue(r[f"q_value_{m}"]), partner, category]))
        lines.append("")
        for a in mine:
            text = f"- **{md(a.class_name)}**"
            if a.why is not None:
                words = describe_loss_driver(a.why["loss_driver"], a.class_name, a.why.get("partner_name"))
                driver = f"; {md(words)}" if words else ""
                reason = str(a.why["reason"]).rstrip()
                text += f" ({md(a.why['category'])}{driver}): {md(reason)}{'' if reason.endswith('.') else '.'}"
            if a.override is not None:
                names = ", ".join(md(n) for n in override_names(report, a.override))
                text += f" Override: {md(describe_transforms(a.override.transforms))} for {names}."
            elif recommendation_note(report, a):
                text += f" Recommendation: {md(recommendation_note(report, a))}"
            lines.append(text)
        n_more = len([a for a in items if a.group == group]) - len(mine)
        if n_more > 0:
            lines.append(f"- … and {n_more} more (see the report's table).")
        lines.append("")
    return lines
