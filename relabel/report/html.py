"""The report as one self-contained static HTML page.

No network is needed to open it: the figures are embedded as base64 PNG (they are also written
beside it), the style and the script (plain JavaScript: sorting and filtering the per-class
table) are inline, and a Content-Security-Policy forbids every other source. The style and the
script are package data beside this module (``page.css``, ``page.js``), inlined as they are. Every text that
comes from a user file (class names and keys, group and run names, reasons) goes through
:func:`html.escape`, so a class named ``<script>…</script>`` is shown as text.

Opening ``index.html?selftest=1`` makes the page sort and filter its own table and write the
outcome into ``<pre id="selftest">`` (the browser test reads it with ``--dump-dom``).
"""

from __future__ import annotations

import base64
import html
import shlex
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

from relabel._version import __version__
from relabel.categorisation import describe_loss_driver
from relabel.recommendation import Action
from relabel.stats import FDR_METHOD_NAMES
from relabel.report.content import (
    AffectedClass,
    Report,
    affected_classes,
    category_counts,
    class_table,
    compared_groups,
    describe_transforms,
    explained_classes,
    group_table,
    improved_lead,
    interval,
    is_missing,
    override_names,
    pct,
    points,
    qvalue,
    recommendation_note,
    seed_values,
)
from relabel.report.figures import Figure, scatter_name
from relabel.report.views import matrix_section, scatter_svg

__all__ = ["render_html"]

CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
       "base-uri 'none'; form-action 'none'")

SIMULATED = ("Simulated predictions: the runs in this report were made by relabel.synthetic (relabel evaluate "
             "--demo), not by trained models. The label space and the annotations are real.")


def e(value: Any) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def render_html(report: Report, figures: Sequence[Figure], *, max_classes: int = 30) -> str:
    """The page (see the module docstring); ``figures`` from :func:`relabel.report.figures.render_figures`."""
    by_name = {f.name: f for f in figures}
    affected = affected_classes(report)
    sections = [
        _headline(report, max_classes),
        _scatter_section(report, by_name),
        _curves_section(by_name),
        matrix_section(report),
        _affected_section(report, affected, by_name, max_classes),
        _table_section(report),
        _self_check_section(report),
        _provenance_section(report),
    ]
    nav = [("headline", "Headline")]
    if any(name.startswith("scatter-") for name in by_name):
        nav.append(("change", "Per-class change"))
    if "curves.png" in by_name:
        nav.append(("curves", "Strength"))
    if compared_groups(report):
        nav.append(("matrix", "Sweep at a glance"))
    if affected:
        nav.append(("affected", f"Affected classes ({len(affected)})"))
    nav.append(("classes", "All classes"))
    if report.self_check is not None:
        nav.append(("self-check", "Self-check"))
    nav.append(("provenance", "Provenance"))
    banner = f'<p class="simulated" role="alert">{e(SIMULATED)}</p>' if report.simulated else ""
    source = f" from <code>{e(report.source)}</code>" if report.source else ""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="generator" content="relabel {e(__version__)}">
<link rel="icon" href="data:,">
<title>{e(report.title)}</title>
<style>{_asset("page.css")}</style>
</head>
<body>
<header>
{banner}
<h1>{e(report.title)}</h1>
<p class="meta">Made by relabel {e(__version__)}{source}. {_settings(report)}</p>
<nav>{" · ".join(f'<a href="#{a}">{e(label)}</a>' for a, label in nav)}</nav>
</header>
<main>
{"".join(sections)}
</main>
<footer><p>The figures are also saved as PNG files in <code>figures/</code> beside this page, and a Markdown
summary in <code>summary.md</code>. Nothing on this page was recomputed: every number comes from relabel's
result tables.</p></footer>
<pre id="selftest" hidden></pre>
<script>{_asset("page.js")}</script>
</body>
</html>
"""


@cache
def _asset(name: str) -> str:
    """The page's style or script, shipped as package data beside this module."""
    return resources.files("relabel.report").joinpath(name).read_text(encoding="utf-8")


def _settings(report: Report) -> str:
    c = report.comparison
    if c is None:
        return "No comparison (give relabel evaluate --reference GROUP to compare recipes class by class)."
    p = c.params
    metric = "multi-labels" if p["metric"] == "multilabel" else "original labels"
    return e(
        f"Reference group {p['reference']}; affected = accuracy on {metric} fell by at least "
        f"{100 * float(p['min_drop']):g} points with a {FDR_METHOD_NAMES[str(p.get('fdr_method', 'bh'))]} q-value at most "
        f"{float(p['fdr']):g}; "
        f"{p['n_bootstrap']} bootstrap draws, seed {p['seed']}, {100 * float(p.get('confidence', 0.95)):g}% intervals."
    )


# --------------------------------------------------------------------------------------------
# headline


def _headline(report: Report, max_classes: int) -> str:
    groups = group_table(report)
    metric = report.metric
    reference = report.comparison.params["reference"] if report.comparison is not None else ""
    cards = []
    comparison = report.comparison
    for group in compared_groups(report):
        assert comparison is not None  # groups are compared only in a comparison
        row = groups[groups["group"] == group].iloc[0]
        counts = category_counts(report, group)
        chips = " ".join(f'<span class="chip cat-{e(k.replace(" ", "-"))}">{e(k)} {v}</span>' for k, v in counts.items())
        explained = explained_classes(report, group)
        explained_line = ""
        if report.has_multilabels:
            names = ", ".join(e(n) for n in explained["class_name"].head(12))
            more = f" and {len(explained) - 12} more" if len(explained) > 12 else ""
            states = comparison.explanation_summary(group)
            n_original, n_explained = int(row["n_affected_original"]), int(row["n_explained_by_multilabels"])
            explained_line = (
                (f"<p>{e(states)}" if states else
                 f"<p><b>{n_original}</b> {'class drops' if n_original == 1 else 'classes drop'} under original labels; "
                 f"<b>{n_explained}</b> of them {'is' if n_explained == 1 else 'are'} explained by multi-labels")
                + (f" (explained: {names}{more})" if len(explained) else "") + ".</p>"
            )
        power_line = comparison.power_summary(group)
        explained_line += f'<p class="muted">{e(power_line[0].upper() + power_line[1:])}.</p>' if power_line else ""
        net = comparison.net_summary(group)
        improved = comparison.improved
        improved = improved[improved["group"].astype(str) == group]
        gains = ", ".join(f"{e(r.class_name)} ({points(getattr(r, f'delta_{metric}'))})"
                          for r in improved.head(max_classes).itertuples())
        more = f" and {len(improved) - max_classes} more" if len(improved) > max_classes else ""
        explained_line = ((f"<p>{e(net[0].upper() + net[1:])}.</p>" if net else "")
                          + (f'<p class="affected-list">Improved: {gains}{more}</p>' if gains else "") + explained_line)
        n_affected = int(row["n_affected"])
        listed = [a for a in affected_classes(report) if a.group == group]
        links = ", ".join(f'<a href="#{e(a.anchor)}">{e(a.class_name)}</a>' for a in listed[:max_classes])
        if len(listed) > max_classes:
            links += f" and {len(listed) - max_classes} more"
        cards.append(f"""<div class="card">
<h3>{e(group)} <span class="muted">against {e(reference)}</span></h3>
{_big_line(report, group, n_affected)}
<p>Mean class accuracy {_signed(row["mean_delta_original"])} points under original labels{
    f", {_signed(row['mean_delta_multilabel'])} under multi-labels" if report.has_multilabels else ""}.</p>
{explained_line}
<p class="chips">{chips or '<span class="muted">no affected class</span>'}</p>
{f'<p class="affected-list">Affected: {links}</p>' if links else ""}
</div>""")
    rows = []
    for r in groups.itertuples():
        tag = ' <span class="muted">(reference)</span>' if r.reference else ""
        rows.append(
            f"<tr><td>{e(r.group)}{tag}</td><td class=num>{'' if is_missing(r.strength) else e(f'{r.strength:g}')}</td>"
            f"<td class=num>{int(r.n_runs)}</td><td class=num>{int(r.n_images)}</td>"
            f"<td class=num>{pct(r.acc_original)}</td>"
            + (f"<td class=num>{pct(r.acc_multilabel)}</td>" if report.has_multilabels else "")
            + "</tr>"
        )
    ml_head = "<th>multi-label accuracy</th>" if report.has_multilabels else ""
    notes = "".join(f'<p class="note">Note: {e(n)}</p>' for n in (report.comparison.notes if report.comparison else ()))
    if not report.has_multilabels and report.comparison is None:
        notes += '<p class="note">Note: the annotations have no multi-label sets; only original-label accuracy.</p>'
    effect = ""
    rec = report.recommendation
    if rec is not None and rec.effect:
        n_override = int((rec.table["action"] == Action.OVERRIDE.value).sum())
        effect = (
            f'<p>Recommendation: keep <b>{e(rec.params.get("default_group"))}</b> as the default recipe and override '
            f'the augmentation of {n_override} affected class{"es" if n_override != 1 else ""} (and their partners, '
            f'target: {e(rec.params.get("target"))}). Expected mean class accuracy '
            f'{pct(rec.effect["mean_acc_default"])} → {pct(rec.effect["mean_acc_expected"])} '
            f'({_signed(rec.effect["expected_change"], 2)} points; an estimate in which each overridden class keeps '
            f'the accuracy it had under the recommended setting).</p>'
        )
    return f"""<section id="headline">
<h2>Headline</h2>
<div class="cards">{"".join(cards)}</div>
<table class="groups">
<thead><tr><th>group</th><th>strength</th><th>runs</th><th>images</th><th>top-1 accuracy</th>{ml_head}</tr></thead>
<tbody>{"".join(rows)}</tbody>
</table>
<p class="muted">Accuracies are the mean over each group's runs (seeds) of the run's overall accuracy.</p>
{effect}{notes}
</section>
"""


def _big_line(report: Report, group: str, n_affected: int) -> str:
    """The card's headline number: the affected classes, or the improved ones when they lead."""
    words = _metric_words(report.metric)
    lead = improved_lead(report, group)
    if lead is None:
        return (f'<p class="big" data-kind="affected"><b>{n_affected}</b> affected '
                f'{"class" if n_affected == 1 else "classes"} <span class="muted">(on {words})</span></p>')
    n_improved, _ = lead
    return (f'<p class="big good" data-kind="improved"><b>{n_improved}</b> improved '
            f'{"class" if n_improved == 1 else "classes"} <span class="muted">(recovered or gained, on {words})</span>'
            f'</p><p>{"No class" if n_affected == 0 else f"<b>{n_affected}</b> {_class_word(n_affected)}"} '
            f"affected.</p>")


def _class_word(n: int) -> str:
    return "class" if n == 1 else "classes"


def _metric_words(metric: str) -> str:
    return "multi-labels" if metric == "multilabel" else "original labels"


def _signed(x: Any, digits: int = 1) -> str:
    return "n/a" if is_missing(x) else f"{100 * float(x):+.{digits}f}"


# --------------------------------------------------------------------------------------------
# figures


def _img(figure: Figure, css: str = "") -> str:
    data = base64.b64encode(figure.png).decode("ascii")
    return (f'<figure class="{css}"><img src="data:image/png;base64,{data}" alt="{e(figure.title)}">'
            f"<figcaption>{e(figure.caption)}</figcaption></figure>")


def _scatter_section(report: Report, figures: dict[str, Figure]) -> str:
    shown = [(i, g, figures[scatter_name(i, g)]) for i, g in enumerate(compared_groups(report), start=1)
             if scatter_name(i, g) in figures]
    if not shown:
        return ""
    views = "".join(
        f'{scatter_svg(report, i, g)}<details class="static"><summary>The same as a PNG figure, the affected and '
        f'explained classes labelled</summary>{_img(f, "wide")}</details>' for i, g, f in shown
    )
    return f'<section id="change"><h2>Per-class change: original labels against multi-labels</h2>{views}</section>'


def _curves_section(figures: dict[str, Figure]) -> str:
    if "curves.png" not in figures:
        return ""
    return f'<section id="curves"><h2>Along the strength axis</h2>{_img(figures["curves.png"], "wide")}</section>'


# --------------------------------------------------------------------------------------------
# affected classes


def _affected_section(report: Report, affected: list[AffectedClass], figures: dict[str, Figure],
                      max_classes: int) -> str:
    if report.comparison is None:
        return ""
    if not affected:
        return '<section id="affected"><h2>Affected classes</h2><p>No class is affected.</p></section>'
    shown = affected[:max_classes]
    more = (f'<p class="muted">… and {len(affected) - len(shown)} more affected classes: see the table below '
            f"(status “affected”).</p>" if len(affected) > len(shown) else "")
    return (f'<section id="affected"><h2>Affected classes</h2>'
            f'{"".join(_affected_card(report, a, figures) for a in shown)}{more}</section>')


def _affected_card(report: Report, a: AffectedClass, figures: dict[str, Figure]) -> str:
    comparison = report.comparison
    assert comparison is not None  # only called with a comparison
    m = report.metric
    ref = comparison.params["reference"]
    r = a.row
    numbers = (
        f"{e(ref)} {pct(r[f'acc_{m}_reference'])} → {e(a.group)} {pct(r[f'acc_{m}'])} "
        f"(<b>{points(r[f'delta_{m}'])} points</b>, {100 * float(comparison.params.get('confidence', 0.95)):g}% CI "
        f"{interval(r[f'ci_low_{m}'], r[f'ci_high_{m}'])}, q {qvalue(r[f'q_value_{m}'])}) on {_metric_words(m)}"
    )
    if m == "multilabel":
        numbers += (f"; original labels {pct(r['acc_original_reference'])} → {pct(r['acc_original'])} "
                    f"({points(r['delta_original'])})")
    why = ""
    badge = ""
    if a.why is not None:
        category = str(a.why["category"])
        badge = f'<span class="chip cat-{e(category.replace(" ", "-"))}">{e(category)}</span>'
        words = describe_loss_driver(a.why["loss_driver"], a.class_name, a.why.get("partner_name"))
        driver = f' <span class="muted">({e(words)})</span>' if words else ""
        why = f'<p class="reason">{e(a.why["reason"])}{driver}</p>'
        if a.why.get("other_pairs"):
            why += f'<p class="muted">Also lost predictions to: {e(a.why["other_pairs"])}</p>'
    figure = _img(figures[a.figure]) if a.figure in figures else ""
    return f"""<article class="affected" id="{e(a.anchor)}">
<h3>{e(a.class_name)} <span class="key">{e(a.class_key)}</span> {badge}</h3>
<p>{numbers}</p>
{_seeds(report, a)}
<div class="split"><div>{figure}</div><div>{why}{_evidence(a)}{_recommendation(report, a)}</div></div>
{_examples(report, a)}
</article>
"""


def _seeds(report: Report, a: AffectedClass) -> str:
    """The class's accuracy in each run (seed) of the reference and of the group: one seed is not the change."""
    comparison = report.comparison
    assert comparison is not None  # only called with a comparison
    parts = []
    for group in (str(comparison.params["reference"]), a.group):
        values = seed_values(report, group, a.class_index)
        spans = ", ".join(
            f'<span data-seed="{e(_seed(r.seed))}" data-run="{e(r.run)}" title="run {e(r.run)}">'
            f'{f"seed {e(_seed(r.seed))} " if _seed(r.seed) else ""}{pct(r.value)}</span>'
            for r in values.itertuples()
        )
        parts.append(f"{e(group)}: {spans or 'no run'}")
    return (f'<p class="seeds">Per seed, accuracy on {_metric_words(report.metric)}: {" → ".join(parts)} '
            f"(the dots on the bar chart).</p>")


def _examples(report: Report, a: AffectedClass) -> str:
    """A few of the class's images: thumbnails where the report has them, else their keys."""
    examples = report.examples.get((a.group, a.class_index))
    if examples is None:
        return ""
    rows = [(f"predicted as {examples.partner_name}", examples.moved, "moved"),
            ("predicted right", examples.stayed, "stayed"),
            (f"{examples.partner_name}'s own images", examples.partner_own, "partner")]
    parts = []
    for label, keys, kind in rows:
        if not keys:
            continue
        items = []
        for key in keys:
            data = report.thumbnails.get(key)
            if data is not None and data.startswith("data:image/jpeg;base64,"):
                items.append(f'<figure class="thumb" data-key="{e(key)}"><img src="{e(data)}" alt="{e(key)}" '
                             f'title="{e(key)}" width="96" height="96"><figcaption>{e(key)}</figcaption></figure>')
            else:
                items.append(f'<code class="thumb-key" data-key="{e(key)}">{e(key)}</code>')
        parts.append(f'<div class="thumbs" data-kind="{kind}"><p class="muted">{e(label)}</p>{"".join(items)}</div>')
    if not parts:
        return ""
    shown = "" if report.thumbnails else (" Give <code>--images ROOT</code> (the evaluation image folder) to see "
                                          "them as thumbnails.")
    return (f'<div class="examples"><p class="muted">Some of its images in run {e(examples.run)} (the first of '
            f"{e(a.group)}, in annotation order).{shown}</p>{''.join(parts)}</div>")


def _seed(x: Any) -> str:
    if is_missing(x):
        return ""
    try:
        return f"{int(x)}" if float(x) == int(float(x)) else str(x)
    except (TypeError, ValueError):
        return str(x)


def _fraction(x: Any) -> str:
    return "" if is_missing(x) else f"{100 * float(x):.0f}%"


def _evidence(a: AffectedClass) -> str:
    if a.pairs.empty:
        return ""
    rows = []
    for p in a.pairs.to_dict("records"):
        hierarchy = ""
        if not is_missing(p.get("path_length")) and p.get("lca_name"):
            hierarchy = f"{int(p['path_length'])} hops via {p['lca_name']}"
        co = ""
        if not is_missing(p.get("co_annotation_cd")):
            co = f"{_fraction(p['co_annotation_cd'])} / {_fraction(p['co_annotation_dc'])}"
        name = p.get("name_overlap") or ""
        rows.append(
            f"<tr><td>{e(p.get('partner_name', ''))}</td>"
            f"<td class=num>{points(p.get('share_delta'))}</td>"
            f"<td class=num>{points(p.get('reverse_share_delta'))}</td>"
            f"<td class=num>{_fraction(p.get('pair_acc_reference'))} → {_fraction(p.get('pair_acc_treatment'))}</td>"
            f"<td class=num>{e(co)}</td><td>{e(hierarchy)}</td><td>{e(name)}</td>"
            f"<td>{e(p.get('category', ''))}</td></tr>"
        )
    return f"""<table class="evidence">
<caption>Evidence per partner that absorbed its predictions</caption>
<thead><tr><th title="rise of the share of this class's images predicted as the partner (points)">to partner</th>
<th>share Δ</th><th title="the same for the partner's images predicted as this class">reverse Δ</th>
<th title="share of this class's images predicted as this class or the partner">pair accuracy</th>
<th title="P(partner valid | class valid) / P(class valid | partner valid) in the multi-labels">co-annotation</th>
<th>hierarchy</th><th>shared name</th><th>category</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>"""


def _recommendation(report: Report, a: AffectedClass) -> str:
    parts = []
    if a.override is not None:
        names = override_names(report, a.override)
        parts.append(
            f'<p class="override"><b>Recommended override:</b> <code>{e(describe_transforms(a.override.transforms))}'
            f'</code> for {e(", ".join(names))}.<br><span class="muted">{e(a.override.reason)}</span></p>'
        )
    note = recommendation_note(report, a)
    if note:
        parts.append(f'<p class="override"><b>Recommendation:</b> {e(note)}</p>')
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# the per-class table


_COLUMNS_COMPARISON = [
    # (column, header, kind, tooltip)
    ("class_name", "class", "text", ""),
    ("class_key", "key", "text", ""),
    ("group", "group", "text", ""),
    ("n_images", "images", "num", "images of this original class"),
    ("acc_original_reference", "ref. original", "pct", "accuracy of the reference under original labels"),
    ("acc_original", "original", "pct", "accuracy of the group under original labels"),
    ("delta_original", "Δ original", "pts", "change under original labels (points)"),
    ("acc_multilabel_reference", "ref. multi-label", "pct", "accuracy of the reference under multi-labels"),
    ("acc_multilabel", "multi-label", "pct", "accuracy of the group under multi-labels"),
    ("delta_multilabel", "Δ multi-label", "pts", "change under multi-labels (points)"),
    ("ci", "CI", "ci", "bootstrap interval of the change on the comparison's metric (points)"),
    ("q", "q", "q", "Benjamini-Hochberg q-value on the comparison's metric"),
    ("detectable_drop", "detectable", "size", "smallest drop this design (images, seeds) finds with power 0.8 at the "
                                              "FDR, on the comparison's metric (points; relabel plan)"),
    ("status", "status", "text", "affected or improved on the comparison's metric, or a drop under original "
                                 "labels explained (or partly explained) by multi-labels"),
    ("category", "category", "text", ""),
    ("partner_name", "went to", "text", "the partner that absorbed most of its predictions"),
]

_COLUMNS_EVALUATION = [
    ("class_name", "class", "text", ""),
    ("class_key", "key", "text", ""),
    ("group", "group", "text", ""),
    ("n_images", "images", "num", "images of this original class"),
    ("acc_original", "original", "pct", "mean over the group's runs, original labels"),
    ("acc_multilabel", "multi-label", "pct", "mean over the group's runs, multi-labels"),
]


def _table_section(report: Report) -> str:
    table = class_table(report)
    m = report.metric
    if report.comparison is not None:
        columns = list(_COLUMNS_COMPARISON)
        table = table.sort_values(f"delta_{m}", kind="stable", na_position="last")
        sort_key = f"delta_{m}"
    else:
        columns = list(_COLUMNS_EVALUATION)
        sort_key = ""
    if not report.has_multilabels:
        columns = [c for c in columns if "multilabel" not in c[0]]
    groups = list(dict.fromkeys(table["group"].astype(str)))
    if len(groups) <= 1:
        columns = [c for c in columns if c[0] != "group"]
    head = "".join(
        f'<th data-key="{e(col)}" data-type="{"text" if kind == "text" else "num"}"'
        + (' aria-sort="ascending"' if col == sort_key else "")
        + (f' title="{e(tip)}"' if tip else "")
        + f'><button type="button">{e(label)}</button></th>'
        for col, label, kind, tip in columns
    )
    body = [_table_row(report, r, columns, m) for r in table.to_dict("records")]
    group_filter = ""
    if len(groups) > 1:
        options = "".join(f'<option value="{e(g)}">{e(g)}</option>' for g in groups)
        group_filter = f'<label>group <select id="group-filter"><option value="">all</option>{options}</select></label>'
    status_filter = ""
    if report.comparison is not None:
        marked = "affected, improved or explained by multi-labels" if report.has_multilabels else "affected or improved"
        status_filter = f'<label><input type="checkbox" id="status-filter"> {marked} only</label>'
    return f"""<section id="classes">
<h2>All classes</h2>
<p class="muted">Click a column header to sort (again to reverse). The filter matches class names, keys,
categories and partners.</p>
<div class="filters"><label>filter <input type="search" id="filter" placeholder="class, key, category…"></label>
{group_filter}{status_filter}<span id="count" class="muted"></span></div>
<div class="scroll"><table id="class-table" class="classes">
<thead><tr>{head}</tr></thead>
<tbody>{"".join(body)}</tbody>
</table></div>
</section>
"""


def _table_row(report: Report, r: dict[str, Any], columns: list[tuple[str, str, str, str]], m: str) -> str:
    status = ""
    if report.comparison is not None:
        explanation = r.get("multilabel_explanation")
        status = ("affected" if r.get("affected") else "improved" if r.get("improved")
                  else "explained by multi-labels" if r.get("explained_by_multilabels")
                  else "partly explained by multi-labels" if explanation == "partly explained" else "")
    cells = []
    for col, _label, kind, _tip in columns:
        if col == "status":
            value: Any = status
        elif col == "ci":
            value = r.get(f"ci_low_{m}")
        elif col == "q":
            value = r.get(f"q_value_{m}")
        else:
            value = r.get(col, "")
        if kind == "text":
            cells.append(f"<td>{e('' if is_missing(value) else value)}</td>")
            continue
        v = "" if is_missing(value) else repr(float(value))
        if kind == "pct":
            shown = pct(value)
        elif kind == "pts":
            shown = points(value)
        elif kind == "ci":
            shown = interval(r.get(f"ci_low_{m}"), r.get(f"ci_high_{m}"))
        elif kind == "q":
            shown = qvalue(value)
        elif kind == "size":
            shown = "n/a" if is_missing(value) else f"{100 * float(value):.1f}"
        else:
            shown = "" if is_missing(value) else f"{float(value):g}"
        cells.append(f'<td class=num data-v="{e(v)}">{e(shown)}</td>')
    search = " ".join(str(r.get(c, "")) for c in ("class_name", "class_key", "category", "partner_name", "group"))
    attrs = f' data-group="{e(r.get("group", ""))}" data-status="{e(status)}" data-search="{e(search.lower())}"'
    css = {"affected": ' class="is-affected"', "improved": ' class="is-improved"', "": ""}.get(status, ' class="is-explained"')
    return f"<tr{css}{attrs}>{''.join(cells)}</tr>"


# --------------------------------------------------------------------------------------------
# provenance


def _self_check_section(report: Report) -> str:
    """The A/A self-check: how often the rule flagged a class between pseudo-recipes that cannot differ."""
    check = report.self_check
    if check is None:
        return ""
    splits = check.splits
    flagged = splits[splits["any_false"].astype(bool)].head(10)
    rows = "".join(f"<tr><td class=num>{int(r.split)}</td><td>{e(r.runs_a)}</td><td>{e(r.runs_b)}</td>"
                   f"<td class=num>{int(r.n_false_affected)}</td><td class=num>{int(r.n_false_improved)}</td>"
                   f"<td class=num>{float(r.min_q_value):.3g}</td></tr>" for r in flagged.itertuples(index=False))
    table = ("<table><thead><tr><th>split</th><th>runs A</th><th>runs B</th><th>falsely affected</th>"
             f"<th>falsely improved</th><th>smallest q</th></tr></thead><tbody>{rows}</tbody></table>"
             if rows else "")
    return (f'<section id="self-check"><h2>Self-check (A/A)</h2><p>{e(check.summary_line())}.</p>'
            "<p>Each split cuts one group's runs into two pseudo-recipes that cannot differ (halves of its seeds, or "
            "with fewer than 4 runs halves of each class's images) and applies the comparison's rule; every class "
            "it flags is a false discovery, so the share of splits that flag one is the realised false discovery "
            f"rate to hold against the FDR. Every split is in <code>self_check.csv</code>.</p>{table}</section>")


def _provenance_section(report: Report) -> str:
    """Who made what: the run files, annotations, label space, relabel version and command."""
    prov = report.provenance
    if prov is None:
        return _provenance_known(report)
    runs = []
    for r in prov.runs:
        sha = f'<code title="{e(r.sha256)}">{e(r.sha256[:12])}…</code>' if r.sha256 else ""
        model = ""
        if r.model:
            model = e(r.model) + (f' <code title="{e(r.model_sha256)}">{e(r.model_sha256[:12])}…</code>'
                                  if r.model_sha256 else "")
        runs.append(
            f"<tr><td><code>{e(r.path)}</code></td><td class=num>{'' if r.size is None else f'{r.size:,}'}</td>"
            f"<td>{sha}</td><td>{e(r.name)}</td><td>{e(r.group or '')}</td>"
            f"<td class=num>{'' if r.strength is None else e(f'{r.strength:g}')}</td>"
            f"<td class=num>{'' if r.seed is None else e(r.seed)}</td><td>{model}</td></tr>"
        )
    command = " ".join(shlex.quote(a) for a in prov.command) if prov.command else "(called from Python)"
    files = "".join(f"<tr><td><code>{e(name)}</code></td><td class=num>{d.size:,}</td>"
                    f'<td><code title="{e(d.sha256)}">{e(d.sha256[:12])}…</code></td></tr>'
                    for name, d in sorted(prov.files.items()))
    options = "".join(f"<tr><td><code>{e(k)}</code></td><td><code>{e(v)}</code></td></tr>"
                      for k, v in prov.options.items() if v not in (None, (), [], False))
    return f"""<section id="provenance">
<h2>Provenance</h2>
<p>Made by relabel <b>{e(prov.relabel_version)}</b> at {e(prov.created)}{" from simulated predictions" if prov.simulated
    else ""}. Command: <code class="command">{e(command)}</code></p>
<p>Annotations: {_mapping(prov.annotations)}. Label space: {_mapping(prov.label_space)}.</p>
<div class="scroll"><table class="provenance"><caption>Run files (SHA-256 of each file; hover for all of it)</caption>
<thead><tr><th>path</th><th>bytes</th><th>sha256</th><th>run</th><th>group</th><th>strength</th><th>seed</th>
<th>model (from relabel predict)</th></tr></thead>
<tbody>{"".join(runs)}</tbody></table></div>
{f'<details><summary>Options of the command</summary><table class="provenance">{options}</table></details>' if options
    else ""}
{f'<details><summary>Results files written</summary><table class="provenance">{files}</table></details>' if files
    else ""}
</section>
"""


def _mapping(values: Any) -> str:
    items = [f"{e(k)} <code>{e(v)}</code>" for k, v in dict(values).items() if v not in (None, "")]
    return ", ".join(items) or "not recorded"


def _provenance_known(report: Report) -> str:
    """Without a provenance record: the runs, label space and version this report knows of."""
    runs = report.runs
    rows = "".join(
        f"<tr><td>{e(r.run)}</td><td>{e('' if is_missing(r.group) else r.group)}</td>"
        f"<td class=num>{'' if is_missing(r.strength) else e(f'{float(r.strength):g}')}</td>"
        f"<td class=num>{e(_seed(r.seed))}</td></tr>"
        for r in runs.itertuples()
    )
    space = ""
    if report.comparison is not None:
        label_space = report.comparison.label_space
        space = f" Label space: {e(label_space.name or 'unnamed')}, {len(label_space)} classes."
    return f"""<section id="provenance">
<h2>Provenance</h2>
<p>No provenance record came with these results (<code>provenance.json</code> is written by
<code>relabel evaluate --out DIR</code>): the run files' paths, digests and the command are not known. This page
was made by relabel {e(__version__)}{f" from <code>{e(report.source)}</code>" if report.source else ""}.{space}</p>
<table class="provenance"><thead><tr><th>run</th><th>group</th><th>strength</th><th>seed</th></tr></thead>
<tbody>{rows}</tbody></table>
</section>
"""
