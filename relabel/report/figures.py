"""Figures of a report as PNG files (matplotlib's object API, imported only when drawing; the backend is left alone).

* ``scatter-<i>-<group>.png``: per compared group, each class's accuracy change under original
  labels (x) against under multi-labels (y), in percentage points; affected classes in red,
  drops explained by multi-labels in orange, both labelled by name.
* ``curves.png`` (strength sweeps only): accuracy on the comparison's metric along the strength
  axis for the affected classes, and the mean class accuracy of each group (black).
* ``flows-<i>-<class index>.png``: per affected class, the share of its images predicted as
  itself, as each partner that absorbed its predictions, and as any other class, in the
  reference and the compared group.

Every value drawn is read from the report's result objects (:mod:`relabel.report.content`).
Class and group names are drawn as plain text (matplotlib's ``$…$`` maths is escaped).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from relabel.comparison import Comparison
from relabel.errors import InputError
from relabel.report.content import (
    AffectedClass,
    Report,
    affected_classes,
    compared_groups,
    curve_classes,
    has_curves,
    seed_values,
    slug,
)

__all__ = ["Figure", "render_figures"]

REFERENCE_COLOUR = "#9aa5b1"
TREATMENT_COLOUR = "#2c6fbb"
AFFECTED_COLOUR = "#c0392b"
EXPLAINED_COLOUR = "#e08a1e"
OTHER_COLOUR = "#b8c2cc"


@dataclass(frozen=True)
class Figure:
    """One PNG figure: its file ``name``, a one-line ``title``, a ``caption`` and the ``png`` bytes."""

    name: str
    title: str
    caption: str
    png: bytes


class _Matplotlib:
    """What the figures need from matplotlib, through its object API (``matplotlib.figure.Figure``).

    Neither ``pyplot`` nor a backend is touched: the caller's backend (a notebook's inline one)
    stays as it was, and no figure joins pyplot's list of open figures.
    """

    def __init__(self) -> None:
        try:
            import matplotlib
            import matplotlib.figure
        except ImportError:
            raise InputError(
                "the report's figures need matplotlib, which is not installed: pip install 'relabel[report]'"
            ) from None
        self._mpl: Any = matplotlib

    def rc_context(self, rc: dict[str, Any]) -> Any:
        return self._mpl.rc_context(rc)

    def subplots(self, figsize: tuple[float, float]) -> tuple[Any, Any]:
        fig = self._mpl.figure.Figure(figsize=figsize)
        return fig, fig.subplots()

    def get_cmap(self, name: str) -> Any:
        return self._mpl.colormaps[name]


def _pyplot() -> Any:
    return _Matplotlib()


def _text(value: Any) -> str:
    """A user-given name as plain matplotlib text: ``$`` would start maths."""
    return str(value).replace("$", r"\$")


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()


def scatter_name(group_index: int, group: str) -> str:
    """File name of a compared group's scatter."""
    return f"scatter-{group_index}-{slug(group)}.png"


def render_figures(report: Report, *, max_classes: int = 30, max_labels: int = 25) -> list[Figure]:
    """Draw every figure of the report (see the module docstring).

    Parameters
    ----------
    max_classes
        At most this many affected classes get a bar chart and a curve (largest drops first).
    max_labels
        At most this many points of a scatter are labelled by name (largest drops first).
    """
    comparison = report.comparison
    if comparison is None:
        return []
    plt = _pyplot()
    figures = []
    with plt.rc_context({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
                         "axes.titlesize": 10, "figure.dpi": 110, "text.usetex": False}):
        if report.has_multilabels:
            for i, group in enumerate(compared_groups(report), start=1):
                figures.append(_scatter(plt, comparison, i, group, max_labels))
        if has_curves(report):
            figures.append(_curves(plt, report, comparison, max_classes))
        for item in affected_classes(report)[:max_classes]:
            figures.append(_flows(plt, report, comparison, item))
    return figures


def _scatter(plt: Any, comparison: Comparison, group_index: int, group: str, max_labels: int) -> Figure:
    rows = comparison.per_class[comparison.per_class["group"].astype(str) == group]
    x = 100 * rows["delta_original"].to_numpy(dtype=float)
    y = 100 * rows["delta_multilabel"].to_numpy(dtype=float)
    affected = rows["affected"].to_numpy(dtype=bool)
    explained = rows["explained_by_multilabels"].to_numpy(dtype=bool) & ~affected
    plain = ~(affected | explained)
    min_drop = 100 * float(comparison.params["min_drop"])
    reference = comparison.params["reference"]

    fig, ax = plt.subplots(figsize=(7.2, 6.0))
    finite = np.isfinite(x) & np.isfinite(y)
    lo = float(np.nanmin(np.concatenate([x[finite], y[finite], [-min_drop]]))) if finite.any() else -10.0
    hi = float(np.nanmax(np.concatenate([x[finite], y[finite], [min_drop]]))) if finite.any() else 10.0
    pad = 0.06 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    ax.plot([lo, hi], [lo, hi], color="#888888", lw=0.8, ls="--", zorder=1, label="same change under both")
    ax.axhline(0, color="#cccccc", lw=0.8, zorder=0)
    ax.axvline(0, color="#cccccc", lw=0.8, zorder=0)
    ax.axhline(-min_drop, color="#dddddd", lw=0.8, ls=":", zorder=0)
    ax.axvline(-min_drop, color="#dddddd", lw=0.8, ls=":", zorder=0)
    ax.scatter(x[plain], y[plain], s=9, color=OTHER_COLOUR, alpha=0.7, lw=0, zorder=2,
               label=f"other classes ({int(plain.sum())})")
    ax.scatter(x[explained], y[explained], s=30, color=EXPLAINED_COLOUR, zorder=3, edgecolor="white", lw=0.5,
               label=f"drop explained by multi-labels ({int(explained.sum())})")
    ax.scatter(x[affected], y[affected], s=34, color=AFFECTED_COLOUR, zorder=4, edgecolor="white", lw=0.5,
               label=f"affected ({int(affected.sum())})")

    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("change under original labels (points)")
    ax.set_ylabel("change under multi-labels (points)")
    ax.set_title(_text(f"{group} against {reference}: per-class accuracy change"))
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    names = rows["class_name"].astype(str).to_numpy()
    marked = np.flatnonzero((affected | explained) & finite)
    marked = marked[np.argsort(np.minimum(x[marked], y[marked]), kind="stable")][:max_labels]
    _label_points(fig, ax, [(x[i], y[i], names[i], AFFECTED_COLOUR if affected[i] else "#9a5a00") for i in marked])
    caption = (f"Each point is a class: its accuracy change from {reference} to {group} under original labels (x) "
               f"and under multi-labels (y), in percentage points. Dotted lines: the {min_drop:g}-point threshold. "
               f"Points near the x axis but far left dropped only under original labels.")
    return Figure(scatter_name(group_index, group), f"Per-class change: {group} against {reference}", caption,
                  _png(fig))


def _label_points(fig: Any, ax: Any, points: list[tuple[float, float, str, str]], fontsize: float = 8) -> None:
    """Label points by name, each at the first of a few offsets where it overlaps no earlier label.

    Greedy, in display space, with the label's size estimated from its length (no extra draw).
    """
    fig.canvas.draw()  # fixes the axes' position (equal aspect) so that data → pixels is final
    scale = fig.dpi / 72.0
    candidates = [(6, 2), (6, -10), (-6, 2), (-6, -10), (0, 7), (0, -15), (8, -4), (-8, -4), (6, 12), (-6, -20)]
    placed: list[tuple[float, float, float, float]] = []
    legend = ax.get_legend()
    if legend is not None:
        extent = legend.get_window_extent()
        placed.append((extent.x0, extent.y0, extent.x1, extent.y1))
    anchors = [ax.transData.transform((px, py)) for px, py, _, _ in points]
    for (px, py, name, colour), (ax_, ay_) in zip(points, anchors):
        text = _text(name)
        width = 0.56 * fontsize * len(str(name)) * scale
        height = 1.15 * fontsize * scale
        choice = candidates[0]
        for dx, dy in candidates:
            left = ax_ + dx * scale - (width if dx < 0 else (width / 2 if dx == 0 else 0))
            bottom = ay_ + dy * scale
            box = (left, bottom, left + width, bottom + height)
            clash = any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed)
            dot = any(box[0] - 2 < qx < box[2] + 2 and box[1] - 2 < qy < box[3] + 2 for qx, qy in anchors)
            if not clash and not dot:
                choice = (dx, dy)
                break
        dx, dy = choice
        left = ax_ + dx * scale - (width if dx < 0 else (width / 2 if dx == 0 else 0))
        placed.append((left, ay_ + dy * scale, left + width, ay_ + dy * scale + height))
        ax.annotate(text, (px, py), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                    ha="left" if dx > 0 else ("right" if dx < 0 else "center"), va="bottom", color=colour, zorder=5)


def _curves(plt: Any, report: Report, comparison: Comparison, limit: int) -> Figure:
    metric = report.metric
    column = f"acc_{metric}"
    curves = comparison.curves
    groups = curves.drop_duplicates("group").sort_values("strength", kind="stable")
    strengths = groups["strength"].to_numpy(dtype=float)
    # display arithmetic: the mean class accuracy of each group (the average curve)
    mean = curves.groupby("group", sort=False)[column].mean().reindex(groups["group"]).to_numpy()
    chosen = curve_classes(report, limit)
    names = comparison.label_space.names

    fig, ax = plt.subplots(figsize=(7.2, 4.6))
    cmap = plt.get_cmap("tab10" if len(chosen) <= 10 else "tab20")
    for n, c in enumerate(chosen):
        sub = curves[curves["class_index"] == c].sort_values("strength", kind="stable")
        ax.plot(sub["strength"], 100 * sub[column], marker="o", ms=4, lw=1.4, color=cmap(n % cmap.N),
                label=_text(names[c]))
        for group, strength in zip(groups["group"], strengths):
            seeds = seed_values(report, str(group), c, metric)["value"].to_numpy(dtype=float)
            ax.scatter(np.full(len(seeds), strength), 100 * seeds, s=10, facecolor="none", lw=0.8,
                       edgecolor=cmap(n % cmap.N), zorder=3)
    ax.plot(strengths, 100 * mean, marker="s", ms=5, lw=2.6, color="black", label="mean over all classes", zorder=5)
    positive = strengths[np.isfinite(strengths)]
    if len(positive) and positive.min() > 0 and positive.max() / positive.min() >= 4:
        ax.set_xscale("log")
    ax.set_xticks(strengths)
    ax.set_xticklabels([_text(f"{s:g}\n{g}") for s, g in zip(strengths, groups["group"])])
    ax.minorticks_off()
    ax.set_xlabel("strength")
    ax.set_ylabel(f"accuracy, {'multi-label' if metric == 'multilabel' else 'original labels'} (%)")
    ax.set_title("Accuracy along the strength axis: affected classes and the average")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    caption = (f"Mean accuracy over seeds of each affected class (largest drops first, at most {limit}) at each "
               f"group's strength, each seed as an open circle, and the mean class accuracy (black).")
    return Figure("curves.png", "Accuracy along the strength axis", caption, _png(fig))


def _flows(plt: Any, report: Report, comparison: Comparison, item: AffectedClass) -> Figure:
    reference = str(comparison.params["reference"])
    row = item.row
    metric = str(comparison.params.get("metric", "original"))  # the flows are counted under this metric
    labels = [f"{item.class_name} (correct)"]
    ref = [float(row[f"acc_{metric}_reference"])]
    treat = [float(row[f"acc_{metric}"])]
    for pair in item.pairs.itertuples():
        labels.append(str(pair.partner_name))
        ref.append(float(pair.share_reference))
        treat.append(float(pair.share_treatment))
    # display arithmetic: what the listed destinations leave of 100% went to any other class
    labels.append("other classes")
    ref.append(max(0.0, 1.0 - sum(ref)))
    treat.append(max(0.0, 1.0 - sum(treat)))

    height = 0.9 + 0.42 * len(labels)
    fig, ax = plt.subplots(figsize=(5.6, height))
    y = np.arange(len(labels))
    bar = 0.38
    ax.barh(y - bar / 2, 100 * np.asarray(ref), height=bar, color=REFERENCE_COLOUR, label=_text(reference))
    ax.barh(y + bar / 2, 100 * np.asarray(treat), height=bar, color=TREATMENT_COLOUR, label=_text(item.group))
    # each seed's accuracy of the class (the first pair of bars is its mean over seeds)
    for offset, group, colour in ((-bar / 2, reference, "#4a5560"), (bar / 2, item.group, "#0d3d75")):
        seeds = seed_values(report, group, item.class_index, metric)["value"].to_numpy(dtype=float)
        seeds = seeds[np.isfinite(seeds)]
        spread = np.linspace(-bar / 4, bar / 4, len(seeds)) if len(seeds) > 1 else np.zeros(len(seeds))
        ax.scatter(100 * seeds, offset + spread, s=14, color="white", edgecolor=colour, lw=1.2, zorder=4,
                   label="one seed" if group == item.group and len(seeds) else None)
    for yy, r, t in zip(y, ref, treat):
        ax.text(100 * r + 1, yy - bar / 2, f"{100 * r:.0f}%", va="center", fontsize=7, color="#555555")
        ax.text(100 * t + 1, yy + bar / 2, f"{100 * t:.0f}%", va="center", fontsize=7, color=TREATMENT_COLOUR)
    ax.set_yticks(y)
    ax.set_yticklabels([_text(label) for label in labels])
    ax.invert_yaxis()
    ax.set_xlim(0, 110)
    ax.set_xlabel(f"share of {_text(item.class_name)}'s images predicted as … (%)")
    ax.set_title(_text(f"Where {item.class_name}'s predictions went"))
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    scored = ("with a multi-label set: right (top-1 valid), lost to each class that absorbed its predictions "
              "(top-1 that class, not valid), or lost to any other class" if metric == "multilabel" else
              "(original label) predicted as itself, as each class that absorbed its predictions, and as any "
              "other class")
    caption = (f"Share of {item.class_name}'s images {scored}; mean over seeds, in {reference} (grey) and in "
               f"{item.group} (blue); the open dots on the first pair of bars are each seed's accuracy of the class.")
    return Figure(item.figure, f"Where {item.class_name}'s predictions went", caption, _png(fig))

