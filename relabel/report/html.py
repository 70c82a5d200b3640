"""The report as one self-contained static HTML page.

No network is needed to open it: the figures are embedded as base64 PNG (they are also written
beside it), the style and the script (plain JavaScript: sorting and filtering the per-class
table) are inline, and a Content-Security-Policy forbids every other source. Every text that
comes from a user file (class names and keys, group and run names, reasons) goes through
:func:`html.escape`, so a class named ``<script>…</script>`` is shown as text.

Opening ``index.html?selftest=1`` makes the page sort and filter its own table and write the
outcome into ``<pre id="selftest">`` (the browser test reads it with ``--dump-dom``).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import Any

from relabel.categorisation import describe_loss_driver
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
    interval,
    is_missing,
    override_names,
    pct,
    points,
    qvalue,
    recommendation_note,
)
from relabel.report.figures import Figure, scatter_name

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
        _affected_section(report, affected, by_name, max_classes),
        _table_section(report),
    ]
    nav = [("headline", "Headline")]
    if any(name.startswith("scatter-") for name in by_name):
        nav.append(("change", "Per-class change"))
    if "curves.png" in by_name:
        nav.append(("curves", "Strength"))
    if affected:
        nav.append(("affected", f"Affected classes ({len(affected)})"))
    nav.append(("classes", "All classes"))
    from relabel import __version__

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
<style>{_STYLE}</style>
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
<script>{_SCRIPT}</script>
</body>
</html>
"""


def _settings(report: Report) -> str:
    c = report.comparison
    if c is None:
        return "No comparison (give relabel evaluate --reference GROUP to compare recipes class by class)."
    p = c.params
    metric = "multi-labels" if p["metric"] == "multilabel" else "original labels"
    return e(
        f"Reference group {p['reference']}; affected = accuracy on {metric} fell by at least "
        f"{100 * float(p['min_drop']):g} points with a Benjamini-Hochberg q-value at most {float(p['fdr']):g}; "
        f"{p['n_bootstrap']} bootstrap draws, seed {p['seed']}, {100 * float(p.get('confidence', 0.95)):g}% intervals."
    )


# --------------------------------------------------------------------------------------------
# headline


def _headline(report: Report, max_classes: int) -> str:
    groups = group_table(report)
    metric = report.metric
    reference = report.comparison.params["reference"] if report.comparison is not None else ""
    cards = []
    for group in compared_groups(report):
        row = groups[groups["group"] == group].iloc[0]
        counts = category_counts(report, group)
        chips = " ".join(f'<span class="chip cat-{e(k)}">{e(k)} {v}</span>' for k, v in counts.items())
        explained = explained_classes(report, group)
        explained_line = ""
        if report.has_multilabels:
            names = ", ".join(e(n) for n in explained["class_name"].head(12))
            more = f" and {len(explained) - 12} more" if len(explained) > 12 else ""
            states = report.comparison.explanation_summary(group)
            n_original, n_explained = int(row["n_affected_original"]), int(row["n_explained_by_multilabels"])
            explained_line = (
                (f"<p>{e(states)}" if states else
                 f"<p><b>{n_original}</b> {'class drops' if n_original == 1 else 'classes drop'} under original labels; "
                 f"<b>{n_explained}</b> of them {'is' if n_explained == 1 else 'are'} explained by multi-labels")
                + (f" (explained: {names}{more})" if len(explained) else "") + ".</p>"
            )
        net = report.comparison.net_summary(group)
        improved = report.comparison.improved
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
<p class="big"><b>{n_affected}</b> affected {"class" if n_affected == 1 else "classes"} <span class="muted">(on {
    _metric_words(metric)})</span></p>
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
        n_override = int((rec.table["action"] == "override").sum())
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
    shown = [figures[scatter_name(i, g)] for i, g in enumerate(compared_groups(report), start=1)
             if scatter_name(i, g) in figures]
    if not shown:
        return ""
    return (f'<section id="change"><h2>Per-class change: original labels against multi-labels</h2>'
            f'{"".join(_img(f, "wide") for f in shown)}</section>')


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
        badge = f'<span class="chip cat-{e(category)}">{e(category)}</span>'
        words = describe_loss_driver(a.why["loss_driver"], a.class_name, a.why.get("partner_name"))
        driver = f' <span class="muted">({e(words)})</span>' if words else ""
        why = f'<p class="reason">{e(a.why["reason"])}{driver}</p>'
        if a.why.get("other_pairs"):
            why += f'<p class="muted">Also lost predictions to: {e(a.why["other_pairs"])}</p>'
    figure = _img(figures[a.figure]) if a.figure in figures else ""
    return f"""<article class="affected" id="{e(a.anchor)}">
<h3>{e(a.class_name)} <span class="key">{e(a.class_key)}</span> {badge}</h3>
<p>{numbers}</p>
<div class="split"><div>{figure}</div><div>{why}{_evidence(a)}{_recommendation(report, a)}</div></div>
</article>
"""


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
        else:
            shown = "" if is_missing(value) else f"{float(value):g}"
        cells.append(f'<td class=num data-v="{e(v)}">{e(shown)}</td>')
    search = " ".join(str(r.get(c, "")) for c in ("class_name", "class_key", "category", "partner_name", "group"))
    attrs = f' data-group="{e(r.get("group", ""))}" data-status="{e(status)}" data-search="{e(search.lower())}"'
    css = {"affected": ' class="is-affected"', "improved": ' class="is-improved"', "": ""}.get(status, ' class="is-explained"')
    return f"<tr{css}{attrs}>{''.join(cells)}</tr>"


_STYLE = """
:root { --fg: #1d2329; --muted: #66707a; --line: #e3e7eb; --bg: #ffffff; --soft: #f5f7f9;
        --red: #c0392b; --orange: #e08a1e; --blue: #2c6fbb; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--fg); background: var(--bg); }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; border-bottom: 1px solid var(--line); }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 0 0 6px; }
nav { margin: 8px 0 12px; } nav a { color: var(--blue); text-decoration: none; } nav a:hover { text-decoration: underline; }
.meta, .muted, figcaption { color: var(--muted); }
.meta { font-size: 13px; margin: 0; }
.simulated { background: #fdecea; border: 1px solid #f5c2bd; color: #8a1f11; padding: 10px 14px; border-radius: 6px;
             font-weight: 600; margin: 0 0 8px; }
.cards { display: flex; flex-wrap: wrap; gap: 14px; }
.card { flex: 1 1 340px; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; background: var(--soft); }
.card p { margin: 4px 0; } .card a { color: var(--blue); }
.big { font-size: 18px; } .big b { font-size: 26px; color: var(--red); }
.chip { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12px; font-weight: 600;
        background: #e8ebee; color: #333; margin: 2px 4px 2px 0; }
.cat-ambiguous { background: #ece3f7; color: #5b2d8e; } .cat-co-occurring { background: #dff3ef; color: #13665a; }
.cat-fine-grained { background: #e1ecf8; color: #1f4f8a; } .cat-other { background: #eceff1; color: #444; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.groups { margin: 16px 0 4px; }
figure { margin: 8px 0; } figure img { max-width: 100%; height: auto; } figure.wide img { max-width: 760px; }
figcaption { font-size: 13px; max-width: 760px; }
article.affected { border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin: 0 0 14px; }
.key { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; color: var(--muted); font-weight: normal; }
.split { display: flex; flex-wrap: wrap; gap: 18px; } .split > div:first-child { flex: 0 0 auto; max-width: 440px; }
.split > div:last-child { flex: 1 1 380px; min-width: 0; }
.reason { font-size: 15px; }
table.evidence caption { text-align: left; font-size: 12px; color: var(--muted); }
.override { background: #eef6ee; border-left: 3px solid #3c8d40; padding: 6px 10px; }
.filters { display: flex; flex-wrap: wrap; gap: 16px; align-items: center; margin: 8px 0; }
.filters input[type=search] { padding: 4px 8px; width: 260px; }
.scroll { max-height: 640px; overflow: auto; border: 1px solid var(--line); }
table.classes thead th { position: sticky; top: 0; background: var(--soft); vertical-align: bottom; }
table.classes { font-size: 12.5px; }
table.classes th button { font: inherit; font-weight: 600; border: 0; background: none; padding: 0; cursor: pointer;
                          color: inherit; text-align: left; }
th[aria-sort=ascending] button::after { content: " ▲"; } th[aria-sort=descending] button::after { content: " ▼"; }
tr.is-affected td:first-child { border-left: 3px solid var(--red); font-weight: 600; }
tr.is-explained td:first-child { border-left: 3px solid var(--orange); }
tr.is-improved td:first-child { border-left: 3px solid #2e7d32; }
.note { color: #7a5a00; }
footer { margin: 32px auto; font-size: 13px; color: var(--muted); border-top: 1px solid var(--line); }
code { font-size: 90%; }
"""

_SCRIPT = r"""
(function () {
  "use strict";
  var table = document.getElementById("class-table");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var rows = Array.prototype.slice.call(tbody.rows);
  var filter = document.getElementById("filter");
  var groupFilter = document.getElementById("group-filter");
  var statusFilter = document.getElementById("status-filter");
  var count = document.getElementById("count");
  var state = { column: -1, ascending: true };

  function value(row, i, numeric) {
    var cell = row.cells[i];
    if (!numeric) { return cell.textContent.toLowerCase(); }
    var v = cell.getAttribute("data-v");
    return v === null || v === "" ? null : parseFloat(v);
  }

  function sortBy(i, ascending) {
    var numeric = heads[i].getAttribute("data-type") === "num";
    var keyed = rows.map(function (row, position) { return { row: row, key: value(row, i, numeric), position: position }; });
    keyed.sort(function (a, b) {
      if (a.key === null || b.key === null) {
        if (a.key === b.key) { return a.position - b.position; }
        return a.key === null ? 1 : -1;  // missing values last in both directions
      }
      var order = numeric ? a.key - b.key : a.key.localeCompare(b.key);
      if (order === 0) { return a.position - b.position; }
      return ascending ? order : -order;
    });
    rows = keyed.map(function (k) { return k.row; });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row) { fragment.appendChild(row); });
    tbody.appendChild(fragment);
    heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
    heads[i].setAttribute("aria-sort", ascending ? "ascending" : "descending");
    state.column = i;
    state.ascending = ascending;
  }

  function applyFilters() {
    var text = filter ? filter.value.trim().toLowerCase() : "";
    var group = groupFilter ? groupFilter.value : "";
    var onlyMarked = statusFilter ? statusFilter.checked : false;
    var shown = 0;
    rows.forEach(function (row) {
      var visible = (!text || row.getAttribute("data-search").indexOf(text) !== -1) &&
        (!group || row.getAttribute("data-group") === group) &&
        (!onlyMarked || row.getAttribute("data-status") !== "");
      row.hidden = !visible;
      if (visible) { shown += 1; }
    });
    if (count) { count.textContent = "showing " + shown + " of " + rows.length + " rows"; }
  }

  heads.forEach(function (head, i) {
    if (head.getAttribute("aria-sort") === "ascending") { state.column = i; }
    head.querySelector("button").addEventListener("click", function () {
      sortBy(i, state.column === i ? !state.ascending : true);
    });
  });
  [filter, groupFilter, statusFilter].forEach(function (input) {
    if (input) { input.addEventListener(input.type === "checkbox" ? "change" : "input", applyFilters); }
  });
  applyFilters();

  if (/[?&]selftest=1(&|$)/.test(window.location.search)) { window.addEventListener("load", selftest); }

  function columnOf(key) {
    for (var i = 0; i < heads.length; i++) { if (heads[i].getAttribute("data-key") === key) { return i; } }
    return -1;
  }
  function visibleValues(i, numeric) {
    return rows.filter(function (r) { return !r.hidden; }).map(function (r) { return value(r, i, numeric); });
  }
  function ordered(values, ascending) {
    var present = values.filter(function (v) { return v !== null; });
    for (var k = 1; k < present.length; k++) {
      var order = typeof present[k] === "number" ? present[k] - present[k - 1] : present[k].localeCompare(present[k - 1]);
      if (ascending ? order < 0 : order > 0) { return false; }
    }
    return values.slice(present.length).every(function (v) { return v === null; });
  }
  function selftest() {
    var out = { checks: {} };
    try {
      var numeric = columnOf("delta_multilabel") >= 0 ? columnOf("delta_multilabel") : columnOf("delta_original");
      if (numeric < 0) { numeric = columnOf("acc_original"); }
      var button = heads[numeric].querySelector("button");
      button.click();
      out.checks.first_click_sorts = ordered(visibleValues(numeric, true), state.ascending);
      out.first_click = state.ascending ? "ascending" : "descending";
      button.click();
      out.checks.second_click_reverses = ordered(visibleValues(numeric, true), state.ascending) &&
        out.first_click !== (state.ascending ? "ascending" : "descending");
      out.top_after_second_click = rows[0].cells[columnOf("class_name")].textContent;
      var name = columnOf("class_name");
      heads[name].querySelector("button").click();
      out.checks.text_sorts = ordered(visibleValues(name, false), true);
      out.first_by_name = rows[0].cells[name].textContent;
      out.rows = rows.length;
      if (filter) {
        filter.value = rows[0].cells[columnOf("class_key")].textContent.toLowerCase();
        filter.dispatchEvent(new Event("input"));
        var visible = rows.filter(function (r) { return !r.hidden; }).length;
        out.checks.filter_narrows = visible >= 1 && visible < rows.length;
        filter.value = "";
        filter.dispatchEvent(new Event("input"));
        out.checks.filter_clears = rows.every(function (r) { return !r.hidden; });
      }
      out.scripts = document.getElementsByTagName("script").length;
      out.images = Array.prototype.map.call(document.images, function (img) { return img.complete && img.naturalWidth > 0; });
      out.ok = Object.keys(out.checks).every(function (k) { return out.checks[k] === true; });
    } catch (err) {
      out.ok = false;
      out.error = String(err && err.stack || err);
    }
    document.getElementById("selftest").textContent = JSON.stringify(out);
  }
})();
"""
