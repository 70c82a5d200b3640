"""What a report shows: the result objects, and the views of them that every format renders.

Stage after :mod:`relabel.recommendation` (or any earlier one): :func:`build_report` gathers
the results; nothing here computes a statistic. Every number the page, the figures and the
Markdown show is a value of an :class:`~relabel.evaluation.Evaluation`,
:class:`~relabel.comparison.Comparison`, :class:`~relabel.categorisation.Categorisation` or
:class:`~relabel.recommendation.Recommendation`, except three pieces of display arithmetic that
are named where they happen: a group's top-1 / multi-label accuracy is the mean of its runs'
``overall`` values, the average curve is the mean class accuracy of each group, and "other
classes" in a class's bar chart is what its listed destinations leave of 100%.

The views below (:func:`group_table`, :func:`affected_classes`, :func:`class_table`, …) are
shared by the HTML page, the figures and the Markdown summary, so the three always agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relabel.loading.annotations import Annotations
from relabel.categorisation import Categorisation
from relabel.comparison import Comparison
from relabel.evaluation import Evaluation, evaluation_table, overall_table
from relabel.export import read_results
from relabel.overrides import Override, Overrides
from relabel.provenance import Provenance
from relabel.selfcheck import SelfCheck
from relabel.recommendation import Recommendation

__all__ = ["EXAMPLE_BOUNDS", "AffectedClass", "Examples", "Report", "affected_classes", "build_report", "class_table",
           "group_table", "load_report", "seed_values"]


@dataclass(frozen=True)
class Examples:
    """Image keys of one affected class in one run of its group (the group's first run).

    ``moved``: images of the class predicted as ``partner`` (its top partner) in that run;
    ``stayed``: images of the class predicted right; ``partner_own``: the partner's images
    predicted as the partner. Each in annotation order, at most the bound it was built with.
    """

    run: str
    partner_name: str
    moved: tuple[str, ...]
    stayed: tuple[str, ...]
    partner_own: tuple[str, ...]

    def keys(self) -> tuple[str, ...]:
        """Every key, in the order the card shows them."""
        return self.moved + self.stayed + self.partner_own


#: At most this many images per card: moved to the partner, stayed right, the partner's own.
EXAMPLE_BOUNDS = (6, 3, 3)


@dataclass(frozen=True)
class Report:
    """Everything one report renders.

    Attributes
    ----------
    title
        The page's heading.
    runs
        One row per run, as ``overall.parquet`` holds it: ``run``, ``group``, ``strength``,
        ``seed``, ``n_images`` (images the run covers), ``n_annotated``, ``n_multilabel``,
        ``acc_original`` (top-1), ``acc_multilabel`` (top-1 in the multi-label set).
    per_class
        Per-class rows of every run (:func:`relabel.evaluation.evaluation_table`, as
        ``per_class.parquet`` holds it).
    comparison, categorisation, recommendation
        The later stages' results, where they were computed.
    overrides
        The override file's content: ``recommendation.overrides``, or a file read for
        ``relabel report --overrides``.
    simulated
        The predictions are simulated (``relabel evaluate --demo``); the page says so at the top.
    source
        Where the results were read from (``None`` when built from objects).
    examples
        Per affected class (``(group, class_index)``), image keys of a few of its images
        (:class:`Examples`); built from the evaluations when :func:`build_report` is given the
        annotations, else empty.
    thumbnails
        Image key → ``data:image/jpeg;base64,…`` (:func:`relabel.thumbnails.add_thumbnails`);
        keys without one are listed as text.
    provenance
        What made the results (:class:`relabel.provenance.Provenance`: the folder's
        ``provenance.json``, or what ``relabel evaluate`` collected); ``None`` when not known.
    self_check
        The A/A self-check (:class:`relabel.SelfCheck`) when one was run; shown in its own section.
    """

    title: str
    runs: pd.DataFrame
    per_class: pd.DataFrame
    comparison: Comparison | None = None
    categorisation: Categorisation | None = None
    recommendation: Recommendation | None = None
    overrides: Overrides | None = None
    simulated: bool = False
    source: str | None = None
    examples: dict[tuple[str, int], Examples] = field(default_factory=dict)
    thumbnails: dict[str, str] = field(default_factory=dict)
    provenance: Provenance | None = None
    self_check: SelfCheck | None = None

    @property
    def has_multilabels(self) -> bool:
        """Whether the runs were also scored with multi-labels."""
        return bool(self.runs["acc_multilabel"].notna().any())

    @property
    def metric(self) -> str:
        """The metric that decides which classes are affected (``multilabel`` or ``original``)."""
        if self.comparison is not None:
            return str(self.comparison.params["metric"])
        return "multilabel" if self.has_multilabels else "original"


def build_report(
    evaluations: Sequence[Evaluation],
    comparison: Comparison | None = None,
    categorisation: Categorisation | None = None,
    recommendation: Recommendation | None = None,
    *,
    title: str | None = None,
    simulated: bool = False,
    annotations: Annotations | None = None,
    provenance: Provenance | None = None,
    self_check: SelfCheck | None = None,
) -> Report:
    """Gather the results of ``relabel evaluate`` into a :class:`Report` (nothing is recomputed).

    Parameters
    ----------
    evaluations
        One :class:`~relabel.evaluation.Evaluation` per run.
    comparison, categorisation, recommendation
        The later stages' results, if they were computed (each needs the one before).
    title
        The page's heading; default "relabel report" with the reference group.
    simulated
        Say on every page and summary that the predictions are simulated (the demo).
    annotations
        The annotations the runs were paired with: each affected class's card then lists a few
        of its images (:class:`Examples`, :data:`EXAMPLE_BOUNDS`); give thumbnails with
        :func:`relabel.thumbnails.add_thumbnails`.
    provenance
        What made the results (:func:`relabel.provenance.collect`), shown in the page's
        "Provenance" section; without it the section lists the runs the report knows.
    """
    overrides = recommendation.overrides if recommendation is not None else None
    report = Report(
        title=title or default_title(comparison),
        runs=overall_table(evaluations),
        per_class=evaluation_table(evaluations),
        comparison=comparison,
        categorisation=categorisation,
        recommendation=recommendation,
        overrides=overrides,
        simulated=simulated,
        provenance=provenance,
        self_check=self_check,
    )
    if annotations is None or comparison is None:
        return report
    return replace(report, examples=_examples(report, evaluations, annotations))


def _examples(report: Report, evaluations: Sequence[Evaluation], annotations: Annotations,
              bounds: tuple[int, int, int] = EXAMPLE_BOUNDS) -> dict[tuple[str, int], Examples]:
    """A few image keys per affected class, from the first run of its group (see :class:`Examples`)."""
    first: dict[str, Evaluation] = {}
    for evaluation in evaluations:
        first.setdefault(str(evaluation.meta.group or ""), evaluation)
    keys = np.asarray(annotations.images, dtype=object)
    out = {}
    for item in affected_classes(report):
        found = first.get(item.group)
        if found is None:
            continue
        frame = found.per_image.sort_values("row", kind="stable")
        true, pred = frame["true_index"].to_numpy(), frame["pred_index"].to_numpy()
        rows = frame["row"].to_numpy()
        partner = -1
        partner_name = ""
        if not item.pairs.empty and "partner_index" in item.pairs and not is_missing(item.pairs["partner_index"].iloc[0]):
            partner = int(item.pairs["partner_index"].iloc[0])
            partner_name = str(item.pairs["partner_name"].iloc[0])
        c = item.class_index

        def pick(mask: np.ndarray, n: int, rows: np.ndarray = rows) -> tuple[str, ...]:
            return tuple(str(k) for k in keys[rows[mask][:n]])

        out[(item.group, c)] = Examples(
            run=str(found.meta.name), partner_name=partner_name,
            moved=pick((true == c) & (pred == partner), bounds[0]) if partner >= 0 else (),
            stayed=pick((true == c) & (pred == c), bounds[1]),
            partner_own=pick((true == partner) & (pred == partner), bounds[2]) if partner >= 0 else (),
        )
    return out


def load_report(
    results_dir: str | Path,
    *,
    overrides: str | Path | Overrides | None = None,
    title: str | None = None,
    simulated: bool | None = None,
) -> Report:
    """A :class:`Report` of the results ``relabel evaluate --out DIR`` wrote into ``results_dir``.

    The folder is read by :func:`relabel.export.read_results` (its owner); nothing is recomputed.

    Parameters
    ----------
    overrides
        An override file (or its content) to show each affected class's override from; default:
        the file ``recommendation_params.json`` names, when it is still there.
    title
        The page's heading; default "relabel report" with the reference group.
    simulated
        Mark the predictions as simulated; default: what ``evaluate_params.json`` says, else no.
    """
    results = read_results(results_dir, overrides=overrides)
    return Report(
        title=title or default_title(results.comparison),
        runs=results.runs,
        per_class=results.per_class,
        comparison=results.comparison,
        categorisation=results.categorisation,
        recommendation=results.recommendation,
        overrides=results.overrides,
        simulated=results.simulated if simulated is None else simulated,
        source=results.source,
        provenance=results.provenance,
        self_check=results.self_check,
    )


def default_title(comparison: Comparison | None) -> str:
    """"relabel report", and what was compared with what (the groups' names, or their number past 3)."""
    if comparison is None:
        return "relabel report"
    others = [str(g) for g in comparison.summary["group"]]
    shown = ", ".join(others) if len(others) <= 3 else f"{len(others)} groups"
    return f"relabel report: {shown} against {comparison.params['reference']}"


# --------------------------------------------------------------------------------------------
# formatting shared by every renderer


def is_missing(x: Any) -> bool:
    """``None``, NaN or pandas' NA (a scalar)."""
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def pct(x: Any) -> str:
    """A fraction as a percentage with one decimal ("68.3%"), "n/a" when missing."""
    return "n/a" if is_missing(x) else f"{100 * float(x):.1f}%"


def plural(n: int, word: str, many: str | None = None) -> str:
    """ "1 class", "7 classes"."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def points(x: Any) -> str:
    """A change of a fraction in signed percentage points ("-59.2"), "n/a" when missing."""
    return "n/a" if is_missing(x) else f"{100 * float(x):+.1f}"


def interval(low: Any, high: Any) -> str:
    """A confidence interval in percentage points ("[-72.8, -45.6]")."""
    if is_missing(low) or is_missing(high):
        return "n/a"
    return f"[{100 * float(low):+.1f}, {100 * float(high):+.1f}]"


def qvalue(x: Any) -> str:
    """A q-value in two significant digits ("1.5e-14", "0.32")."""
    if is_missing(x):
        return "n/a"
    x = float(x)
    return f"{x:.2g}" if x >= 0.01 else f"{x:.1e}"


def slug(text: str) -> str:
    """A file-name-safe form of a user-given name (group names come from run files)."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", str(text)).strip("-.")[:40] or "x"


def describe_transforms(transforms: Any) -> str:
    """An override's transforms in words ("random_resized_crop scale=[0.5, 1.0]")."""
    parts = []
    for aug, params in dict(transforms).items():
        params = dict(params or {})
        if params.get("enabled") is False:
            parts.append(f"{aug} off")
        elif not params:
            parts.append(f"{aug} on")
        else:
            values = ", ".join(f"{k}={list(v) if isinstance(v, tuple) else v}" for k, v in params.items())
            parts.append(f"{aug} {values}")
    return "; ".join(parts)


# --------------------------------------------------------------------------------------------
# views


def group_order(report: Report) -> list[str]:
    """Groups in the order the runs came, the reference first."""
    groups = [str(g) for g in dict.fromkeys(report.runs["group"].fillna("").astype(str))]
    if report.comparison is not None:
        reference = str(report.comparison.params["reference"])
        groups = [reference] + [g for g in groups if g != reference]
    return groups


def compared_groups(report: Report) -> list[str]:
    """The non-reference groups of the comparison, in order (empty without a comparison)."""
    if report.comparison is None:
        return []
    return [str(g) for g in report.comparison.summary["group"]]


def group_table(report: Report) -> pd.DataFrame:
    """One row per group: its runs' accuracies and, for compared groups, the comparison's summary.

    Columns: ``group``, ``strength``, ``n_runs``, ``n_images``, ``acc_original``,
    ``acc_multilabel`` (means of the group's runs' overall top-1 and multi-label accuracy),
    ``reference`` (bool) and, from ``Comparison.summary``, ``mean_delta_original``,
    ``mean_delta_multilabel``, ``n_affected``, ``n_affected_original``,
    ``n_explained_by_multilabels`` (missing for the reference).
    """
    runs = report.runs.copy()
    runs["group"] = runs["group"].fillna("").astype(str)
    table = runs.groupby("group", sort=False).agg(
        strength=("strength", "first"), n_runs=("run", "size"), n_images=("n_images", "max"),
        acc_original=("acc_original", "mean"), acc_multilabel=("acc_multilabel", "mean"),
    ).reindex(group_order(report)).reset_index()
    reference = report.comparison.params["reference"] if report.comparison is not None else None
    table["reference"] = table["group"] == reference
    summary_columns = ["mean_delta_original", "mean_delta_multilabel", "n_affected", "n_affected_original",
                       "n_explained_by_multilabels"]
    if report.comparison is not None:
        summary = report.comparison.summary.copy()
        summary["group"] = summary["group"].astype(str)
        table = table.merge(summary[["group", *summary_columns]], on="group", how="left")
    else:
        for column in summary_columns:
            table[column] = np.nan
    return table


def category_counts(report: Report, group: str) -> dict[str, int]:
    """Affected classes of ``group`` per category, from ``Categorisation.classes`` (largest first)."""
    if report.categorisation is None:
        return {}
    classes = report.categorisation.classes
    counts = classes.loc[classes["group"].astype(str) == group, "category"].value_counts()
    return {str(k): int(v) for k, v in counts.items()}


def explained_classes(report: Report, group: str) -> pd.DataFrame:
    """Rows of ``Comparison.per_class`` whose drop is explained by multi-labels, largest drop first."""
    if report.comparison is None:
        return pd.DataFrame()
    rows = report.comparison.per_class
    rows = rows[(rows["group"].astype(str) == group) & rows["explained_by_multilabels"].astype(bool)]
    return rows.sort_values("delta_original", kind="stable")


@dataclass(frozen=True)
class AffectedClass:
    """One affected class of one compared group, with everything the report says about it.

    ``row`` is its ``Comparison.per_class`` row; ``why`` its ``Categorisation.classes`` row
    (``None`` without a categorisation); ``pairs`` its ``Categorisation.pairs`` rows (else its
    ``Comparison.flows`` rows), by rank; ``override`` the override that names it;
    ``action`` its ``Recommendation.table`` row; ``figure`` the file name of its bar chart.
    """

    group: str
    group_index: int
    class_index: int
    class_key: str
    class_name: str
    row: pd.Series
    why: pd.Series | None
    pairs: pd.DataFrame
    override: Override | None
    action: pd.Series | None
    figure: str = field(default="")

    @property
    def anchor(self) -> str:
        """The HTML id of the class's section."""
        return f"class-{self.group_index}-{self.class_index}"


def affected_classes(report: Report) -> list[AffectedClass]:
    """Every affected class of every compared group, each group's largest drop first."""
    comparison = report.comparison
    if comparison is None:
        return []
    metric = report.metric
    space = comparison.label_space.table().set_index("class_index")
    out = []
    for g_index, group in enumerate(compared_groups(report), start=1):
        rows = comparison.per_class
        rows = rows[(rows["group"].astype(str) == group) & rows["affected"].astype(bool)]
        rows = rows.sort_values(f"delta_{metric}", kind="stable")
        for _, row in rows.iterrows():
            c = int(row["class_index"])
            out.append(AffectedClass(
                group=group, group_index=g_index, class_index=c, class_key=str(row["class_key"]),
                class_name=str(row["class_name"]), row=row, why=_why(report, group, c),
                pairs=_pairs(report, group, c, space), override=_override(report, str(row["class_key"])),
                action=_action(report, group, c), figure=f"flows-{g_index}-{c}.png",
            ))
    return out


def _why(report: Report, group: str, c: int) -> pd.Series | None:
    if report.categorisation is None:
        return None
    classes = report.categorisation.classes
    hit = classes[(classes["group"].astype(str) == group) & (classes["class_index"] == c)]
    return None if hit.empty else hit.iloc[0]


def _pairs(report: Report, group: str, c: int, space: pd.DataFrame) -> pd.DataFrame:
    if report.categorisation is not None:
        pairs = report.categorisation.pairs
    else:
        pairs = report.comparison.flows.copy() if report.comparison is not None else pd.DataFrame()
        if not pairs.empty and "partner_name" not in pairs:
            pairs["partner_name"] = space["class_name"].reindex(pairs["partner_index"]).to_numpy()
    if pairs.empty:
        return pairs
    sub = pairs[(pairs["group"].astype(str) == group) & (pairs["class_index"] == c)]
    return sub.sort_values("rank", kind="stable").reset_index(drop=True)


def _override(report: Report, class_key: str) -> Override | None:
    if report.overrides is None:
        return None
    for o in report.overrides.overrides:
        if o.side is not None and class_key in o.side.lost:
            return o
    return report.overrides.override_for(class_key)


def _action(report: Report, group: str, c: int) -> pd.Series | None:
    rec = report.recommendation
    if rec is None or rec.params.get("default_group") != group:
        return None
    hit = rec.table[rec.table["class_index"] == c]
    return None if hit.empty else hit.iloc[0]


def class_table(report: Report) -> pd.DataFrame:
    """The per-class table of the page: one row per (class, compared group), or per (class, group).

    With a comparison: ``Comparison.per_class`` with ``category``, ``partner_name`` and
    ``loss_driver`` from ``Categorisation.classes`` joined in. Without: per (class, group), the
    mean over the group's runs of ``acc_original`` and ``acc_multilabel`` (as
    :func:`relabel.evaluation.multilabel_gaps` averages them).
    """
    if report.comparison is not None:
        table = report.comparison.per_class.copy()
        table["group"] = table["group"].astype(str)
        if report.categorisation is not None and not report.categorisation.classes.empty:
            columns = ["class_index", "group", "category", "partner_name", "loss_driver"]
            why = report.categorisation.classes[columns].copy()
            why["group"] = why["group"].astype(str)
            table = table.merge(why, on=["class_index", "group"], how="left")
        for column in ("category", "partner_name", "loss_driver"):
            if column not in table:
                table[column] = ""
            table[column] = table[column].fillna("")
        return table
    per_class = report.per_class.copy()
    per_class["group"] = per_class["group"].fillna("").astype(str)
    return per_class.groupby(["class_index", "class_key", "class_name", "group"], as_index=False, sort=False).agg(
        n_images=("n_images", "max"), acc_original=("acc_original", "mean"), acc_multilabel=("acc_multilabel", "mean"),
    )


def seed_values(report: Report, group: str, class_index: int, metric: str | None = None) -> pd.DataFrame:
    """A class's accuracy in each run (seed) of ``group``: ``run``, ``seed``, ``value`` (a fraction).

    Read from :attr:`Report.per_class` (``acc_<metric>`` of the run's row; default metric: the
    comparison's); ``seed`` from :attr:`Report.runs` (missing when the run file gave none).
    Runs in the order they came.
    """
    column = f"acc_{metric or report.metric}"
    rows = report.per_class
    rows = rows[(rows["group"].fillna("").astype(str) == group) & (rows["class_index"] == class_index)]
    return pd.DataFrame({
        "run": rows["run"].astype(str).to_numpy(),
        "seed": (rows["seed"].to_numpy() if "seed" in rows else
                 report.runs.drop_duplicates("run").set_index("run")["seed"].reindex(rows["run"]).to_numpy()
                 if "seed" in report.runs else np.full(len(rows), np.nan)),
        "value": rows[column].to_numpy(dtype=float) if column in rows else np.full(len(rows), np.nan),
    })


def improved_lead(report: Report, group: str) -> tuple[int, int] | None:
    """``(n_improved, n_affected)`` when ``group``'s headline is its improvements, else ``None``.

    The closed loop: a retraining with overrides compared with its default recovers classes and
    degrades none or few. The improved classes lead when some classes improved and fewer were
    affected than improved (``Comparison.per_class``'s ``improved`` and ``affected`` columns).
    """
    comparison = report.comparison
    if comparison is None or "improved" not in comparison.per_class:
        return None
    rows = comparison.per_class[comparison.per_class["group"].astype(str) == group]
    n_improved, n_affected = int(rows["improved"].astype(bool).sum()), int(rows["affected"].astype(bool).sum())
    return (n_improved, n_affected) if n_improved > 0 and n_affected < n_improved else None


def has_curves(report: Report) -> bool:
    """A strength sweep: every group has a strength (``Comparison.curves`` is not empty)."""
    return report.comparison is not None and not report.comparison.curves.empty


def curve_classes(report: Report, limit: int) -> list[int]:
    """Affected classes (any group) for the strength curves, largest drop first, at most ``limit``."""
    seen: dict[int, None] = {}
    ranked = sorted(affected_classes(report), key=lambda a: float(a.row[f"delta_{report.metric}"]))
    for a in ranked:
        seen.setdefault(a.class_index, None)
    return list(seen)[:limit]


def override_names(report: Report, override: Override) -> list[str]:
    """Display names of the classes an override covers (keys the label space does not know stay keys)."""
    if report.comparison is None:
        return list(override.classes)
    space = report.comparison.label_space
    known = set(space.keys)
    return [space.names[int(space.index_of_keys([k])[0])] if k in known else k for k in override.classes]


def recommendation_note(report: Report, item: AffectedClass) -> str:
    """What the recommendation says about a class that no override names ("" when it has an override).

    The recommendation table's action and reason where there is one; else, with an override
    file, that no override names the class (and, for an ambiguous class when the file's
    ``include_ambiguous`` is off, the recommender's advice to score it with multi-labels).
    """
    if item.override is not None:
        return ""
    if item.action is not None:
        return f"{item.action['action']}: {item.action['reason']}"
    if report.overrides is None:
        return ""
    note = "No override names this class."
    ambiguous = item.why is not None and item.why["category"] == "ambiguous"
    if ambiguous and not report.overrides.params.get("include_ambiguous"):
        note += (" Its labels overlap in meaning with its partner's: score it with multi-labels; the recommender "
                 "does not override ambiguous classes unless asked to (include_ambiguous).")
    return note
