"""The page's interactive views, drawn as inline SVG and HTML (no image, no network, no library).

* :func:`scatter_svg`: a compared group's per-class change under original labels (x) against
  multi-labels (y); every class is one ``<circle>`` carrying its name, key and both changes
  (``data-*``: about 120 bytes a class), so hovering, focusing or clicking it identifies it
  (``page.js`` writes it into the readout below the plot);
* :func:`matrix_section`: with one or more compared groups, a classes × groups heat map of the
  change on the comparison's metric (the affected classes of any group and the largest movers,
  at most ``max_rows`` rows), the number of degraded (affected) and improved classes per group,
  and the trade-off of each group's mean class change against its degraded classes.

Every value is read from ``Comparison.per_class`` and ``Comparison.summary``; nothing is
recomputed. Every user-given text (class names, keys, groups) goes through :func:`e`.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd

from relabel.report.content import Report, compared_groups, is_missing, points

__all__ = ["matrix_rows", "matrix_section", "scatter_svg"]

AFFECTED = "#c0392b"
EXPLAINED = "#e08a1e"
OTHER = "#b8c2cc"
IMPROVED = "#2e7d32"


def e(value: Any) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def _ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    raw = (hi - lo) / n
    if raw <= 0 or not math.isfinite(raw):
        return [lo]
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step) + 1)]


# --------------------------------------------------------------------------------------------
# the scatter


def scatter_svg(report: Report, group_index: int, group: str, *, size: int = 560, max_labels: int = 25) -> str:
    """The group's scatter as an inline ``<svg>`` whose every point identifies its class.

    The affected and explained classes (at most ``max_labels``, largest drop first) are also
    labelled by name; every point is identified on hover, focus and click.
    """
    comparison = report.comparison
    assert comparison is not None  # only drawn in a comparison
    rows = comparison.per_class[comparison.per_class["group"].astype(str) == group]
    x = 100 * rows["delta_original"].to_numpy(dtype=float)
    y = 100 * rows["delta_multilabel"].to_numpy(dtype=float)
    affected = rows["affected"].to_numpy(dtype=bool)
    explained = rows["explained_by_multilabels"].to_numpy(dtype=bool) & ~affected
    min_drop = 100 * float(comparison.params["min_drop"])
    finite = np.isfinite(x) & np.isfinite(y)
    values = np.concatenate([x[finite], y[finite], [-min_drop, min_drop]])
    lo, hi = float(values.min()), float(values.max())
    pad = 0.06 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    margin = 46
    span = size - margin - 12

    def sx(v: float) -> float:
        return margin + (v - lo) / (hi - lo) * span

    def sy(v: float) -> float:
        return 12 + (hi - v) / (hi - lo) * span

    parts = [f'<line class="diag" x1="{sx(lo):.1f}" y1="{sy(lo):.1f}" x2="{sx(hi):.1f}" y2="{sy(hi):.1f}"/>']
    for t in _ticks(lo, hi):
        parts.append(f'<line class="grid" x1="{sx(t):.1f}" y1="12" x2="{sx(t):.1f}" y2="{12 + span}"/>'
                     f'<line class="grid" x1="{margin}" y1="{sy(t):.1f}" x2="{margin + span}" y2="{sy(t):.1f}"/>'
                     f'<text class="tick" x="{sx(t):.1f}" y="{size - 18}" text-anchor="middle">{t:g}</text>'
                     f'<text class="tick" x="{margin - 5}" y="{sy(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    for v in (0.0, -min_drop):
        css = "zero" if v == 0 else "threshold"
        parts.append(f'<line class="{css}" x1="{sx(v):.1f}" y1="12" x2="{sx(v):.1f}" y2="{12 + span}"/>'
                     f'<line class="{css}" x1="{margin}" y1="{sy(v):.1f}" x2="{margin + span}" y2="{sy(v):.1f}"/>')
    order = np.argsort(affected.astype(int) * 2 + explained.astype(int), kind="stable")  # marked points on top
    names = rows["class_name"].astype(str).to_numpy()
    keys = rows["class_key"].astype(str).to_numpy()
    for i in order:
        if not finite[i]:
            continue
        status = "affected" if affected[i] else "explained" if explained[i] else "other"
        radius = 2.6 if status == "other" else 4.4
        parts.append(
            f'<circle class="pt pt-{status}" cx="{sx(x[i]):.1f}" cy="{sy(y[i]):.1f}" r="{radius}" tabindex="0" '
            f'data-name="{e(names[i])}" data-key="{e(keys[i])}" data-x="{x[i]:.1f}" data-y="{y[i]:.1f}"/>'
        )
    marked = [i for i in np.argsort(x, kind="stable") if finite[i] and (affected[i] or explained[i])][:max_labels]
    for i in marked:
        right = sx(x[i]) < margin + 0.7 * span
        parts.append(f'<text class="lbl" x="{sx(x[i]) + (6 if right else -6):.1f}" y="{sy(y[i]) - 4:.1f}" '
                     f'text-anchor="{"start" if right else "end"}">{e(names[i])}</text>')
    parts.append(f'<text class="axis" x="{margin + span / 2:.0f}" y="{size - 2}" text-anchor="middle">'
                 f"change under original labels (points)</text>"
                 f'<text class="axis" transform="translate(11 {12 + span / 2:.0f}) rotate(-90)" text-anchor="middle">'
                 f"change under multi-labels (points)</text>")
    missing = int((~finite).sum())
    note = f" {missing} classes without a value on either axis are not drawn." if missing else ""
    reference = comparison.params["reference"]
    return (
        f'<figure class="interactive"><svg class="scatter" id="scatter-{group_index}" viewBox="0 0 {size} {size}" '
        f'width="{size}" height="{size}" role="img" aria-label="{e(group)} against {e(reference)}: per-class change">'
        f'{"".join(parts)}</svg>'
        f'<p class="pick" id="pick-{group_index}" aria-live="polite">Hover over or click a point to see its class.</p>'
        f"<figcaption>{e(group)} against {e(reference)}: one point per class ({int(finite.sum())} drawn): "
        f"affected in red ({int(affected.sum())}), drops explained by multi-labels in orange "
        f"({int(explained.sum())}), the others in grey; the dashed diagonal is the same change under both, the "
        f"dotted lines the threshold of {min_drop:g} points.{e(note)}</figcaption></figure>"
    )


# --------------------------------------------------------------------------------------------
# the sweep matrix


def matrix_rows(report: Report, max_rows: int = 40) -> pd.DataFrame:
    """The heat map's rows: the class × group changes on the comparison's metric.

    Classes affected in any compared group come first (largest drop first), then the classes
    with the largest absolute change in any group, until ``max_rows``. The frame is indexed by
    ``class_index`` with the columns ``class_key``, ``class_name`` and one per compared group
    (the change as a fraction); ``affected`` and ``improved`` are the sets of
    ``(class_index, group)`` that are so marked.
    """
    comparison = report.comparison
    assert comparison is not None  # only drawn in a comparison
    m = report.metric
    per_class = comparison.per_class.copy()
    per_class["group"] = per_class["group"].astype(str)
    wide = per_class.pivot_table(index="class_index", columns="group", values=f"delta_{m}", aggfunc="first",
                                 dropna=False)
    groups = [g for g in compared_groups(report) if g in wide.columns]
    wide = wide.reindex(columns=groups)
    worst = wide.min(axis=1, skipna=True)
    moved = wide.abs().max(axis=1, skipna=True)
    hit = per_class.loc[per_class["affected"].astype(bool), "class_index"].unique()
    chosen = list(worst.loc[hit].sort_values(kind="stable").index)[:max_rows]
    rest = moved.drop(index=chosen).dropna().sort_values(ascending=False, kind="stable")
    chosen += list(rest.index[: max(0, max_rows - len(chosen))])
    names = per_class.drop_duplicates("class_index").set_index("class_index")
    table = wide.loc[chosen].copy()
    table.insert(0, "class_name", names["class_name"].reindex(chosen).astype(str).to_numpy())
    table.insert(0, "class_key", names["class_key"].reindex(chosen).astype(str).to_numpy())
    table.attrs["affected"] = set(zip(per_class.loc[per_class["affected"].astype(bool), "class_index"],
                                      per_class.loc[per_class["affected"].astype(bool), "group"]))
    improved = per_class["improved"].astype(bool) if "improved" in per_class else pd.Series(False, per_class.index)
    table.attrs["improved"] = set(zip(per_class.loc[improved, "class_index"], per_class.loc[improved, "group"]))
    return table


def _colour(delta: float, scale: float) -> str:
    """A diverging colour: red for drops, green for gains, white at zero (saturated at ``scale``)."""
    t = max(-1.0, min(1.0, delta / scale))
    base = (192, 57, 43) if t < 0 else (46, 125, 50)
    a = abs(t)
    r, g, b = (round(255 + (c - 255) * a) for c in base)
    return f"#{r:02x}{g:02x}{b:02x}"


def matrix_section(report: Report, *, max_rows: int = 40) -> str:
    """The sweep matrix (see the module docstring); "" without a comparison."""
    comparison = report.comparison
    if comparison is None or not compared_groups(report):
        return ""
    m = report.metric
    table = matrix_rows(report, max_rows)
    groups = [c for c in table.columns if c not in ("class_key", "class_name")]
    summary = comparison.summary.copy()
    summary["group"] = summary["group"].astype(str)
    summary = summary.set_index("group").reindex(groups)
    values = table[groups].to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    scale = max(float(np.abs(finite).max()) if finite.size else 0.0, float(comparison.params["min_drop"]))
    head = "".join(f'<th class="g" title="{e(g)}"><span>{e(g)}</span></th>' for g in groups)
    body = []
    for c, row in table.iterrows():
        cells = []
        for g in groups:
            v = row[g]
            mark = ("affected" if (c, g) in table.attrs["affected"] else
                    "improved" if (c, g) in table.attrs["improved"] else "")
            if is_missing(v):
                cells.append('<td class="cell na" title="no value">·</td>')
                continue
            words = f"{row['class_name']} in {g}: {points(v)} points" + (f" ({mark})" if mark else "")
            cells.append(f'<td class="cell{" " + mark if mark else ""}" style="background:{_colour(float(v), scale)}" '
                         f'data-v="{float(v)!r}" data-name="{e(row["class_name"])}" data-group="{e(g)}" '
                         f'title="{e(words)}">{100 * float(v):+.0f}</td>')
        body.append(f'<tr><th class="c" title="{e(row["class_key"])}">{e(row["class_name"])}</th>{"".join(cells)}</tr>')

    def count_row(label: str, column: str, css: str) -> str:
        cells = "".join(f'<td class="num {css}">{"" if is_missing(summary.at[g, column]) else int(summary.at[g, column])}'
                        f"</td>" if column in summary else "<td></td>" for g in groups)
        return f'<tr class="count"><th class="c">{e(label)}</th>{cells}</tr>'

    mean_cells = "".join(f'<td class="num">{points(summary.at[g, f"mean_delta_{m}"])}</td>' for g in groups)
    foot = (count_row("degraded (affected) classes", "n_affected", "bad")
            + count_row("improved classes", "n_improved", "good")
            + f'<tr class="count"><th class="c">mean class change (points)</th>{mean_cells}</tr>')
    n_classes = len(comparison.label_space)
    shown = (f"{len(table)} of {n_classes} classes: the classes affected in any group (largest drop first), then "
             f"the largest movers" if len(table) < n_classes else f"all {n_classes} classes")
    return f"""<section id="matrix">
<h2>The sweep at a glance</h2>
<p class="muted">Change of each class's accuracy on {"multi-labels" if m == "multilabel" else "original labels"}
against {e(comparison.params["reference"])}, in points, per compared group ({shown}). Red: a drop, green: a gain;
a framed cell is affected (or improved) in that group. Hover over a cell for its numbers.</p>
<div class="scroll matrix-scroll"><table class="matrix" id="matrix-table">
<thead><tr><th class="c">class</th>{head}</tr></thead>
<tbody>{"".join(body)}</tbody>
<tfoot>{foot}</tfoot>
</table></div>
{_tradeoff_svg(report, groups, summary)}
</section>
"""


def _tradeoff_svg(report: Report, groups: list[str], summary: pd.DataFrame, *, width: int = 560,
                  height: int = 360) -> str:
    m = report.metric
    if "n_affected" not in summary or f"mean_delta_{m}" not in summary:
        return ""
    xs = summary["n_affected"].to_numpy(dtype=float)
    ys = 100 * summary[f"mean_delta_{m}"].to_numpy(dtype=float)
    ok = np.isfinite(xs) & np.isfinite(ys)
    if not ok.any():
        return ""
    x_hi = max(1.0, float(xs[ok].max())) * 1.1
    y_lo, y_hi = float(min(ys[ok].min(), 0.0)), float(max(ys[ok].max(), 0.0))
    pad = 0.12 * (y_hi - y_lo or 1.0)
    y_lo, y_hi = y_lo - pad, y_hi + pad
    left, top, right, bottom = 52, 12, 16, 40

    def sx(v: float) -> float:
        return left + v / x_hi * (width - left - right)

    def sy(v: float) -> float:
        return top + (y_hi - v) / (y_hi - y_lo) * (height - top - bottom)

    parts = []
    for t in _ticks(0, x_hi, 5):
        parts.append(f'<line class="grid" x1="{sx(t):.1f}" y1="{top}" x2="{sx(t):.1f}" y2="{height - bottom}"/>'
                     f'<text class="tick" x="{sx(t):.1f}" y="{height - bottom + 14}" text-anchor="middle">{t:g}</text>')
    for t in _ticks(y_lo, y_hi, 5):
        parts.append(f'<line class="grid" x1="{left}" y1="{sy(t):.1f}" x2="{width - right}" y2="{sy(t):.1f}"/>'
                     f'<text class="tick" x="{left - 5}" y="{sy(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    parts.append(f'<line class="zero" x1="{left}" y1="{sy(0):.1f}" x2="{width - right}" y2="{sy(0):.1f}"/>')
    for g, x, y, good in zip(groups, xs, ys, ok):
        if not good:
            continue
        words = f"{g}: mean class change {y:+.1f} points, {int(x)} degraded classes"
        left_side = sx(x) < left + 0.6 * (width - left - right)
        parts.append(f'<g class="tp" data-name="{e(g)}"><circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="5" tabindex="0">'
                     f'<title>{e(words)}</title></circle><text class="lbl" x="{sx(x) + (7 if left_side else -7):.1f}" '
                     f'y="{sy(y) + 4:.1f}" text-anchor="{"start" if left_side else "end"}">{e(g)}</text></g>')
    parts.append(f'<text class="axis" x="{(left + width - right) / 2:.0f}" y="{height - 4}" text-anchor="middle">'
                 f"degraded (affected) classes</text>"
                 f'<text class="axis" transform="translate(12 {(top + height - bottom) / 2:.0f}) rotate(-90)" '
                 f'text-anchor="middle">mean class change (points)</text>')
    return (f'<figure class="interactive"><svg class="tradeoff" id="tradeoff" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="mean class change against degraded classes">'
            f'{"".join(parts)}</svg><figcaption>The trade-off per compared group: mean change of class accuracy '
            f"(up is better) against the number of degraded classes (left is better). A recipe up and to the left "
            f"gains on average and costs few classes; the heat map above says which.</figcaption></figure>")
