"""The machine-readable summary of an evaluation: what ``relabel evaluate --json`` prints.

Stage: export (after :mod:`relabel.recommendation`). :func:`build_summary` gathers the numbers
a person reads in the terminal into one JSON-serialisable dict of the documented schema
:data:`SCHEMA` (``relabel.summary/1``, see docs/results.md): overall accuracy per run and, per
compared group, the affected, improved and explained counts and the affected classes with
their category. Accuracies and deltas are fractions (``0.05`` = 5 points); a number that is
not defined (no multi-labels) is ``null``. Nothing is recomputed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from relabel._version import __version__
from relabel.categorisation import Categorisation
from relabel.comparison import Comparison
from relabel.evaluation import Evaluation
from relabel.recommendation import Recommendation

__all__ = ["SCHEMA", "build_summary"]

SCHEMA = "relabel.summary/1"


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def _text(value: Any) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def build_summary(
    evaluations: Sequence[Evaluation],
    comparison: Comparison | None = None,
    categorisation: Categorisation | None = None,
    recommendation: Recommendation | None = None,
    *,
    simulated: bool = False,
) -> dict[str, Any]:
    """The summary of schema :data:`SCHEMA` (see the module docstring and docs/results.md)."""
    runs = [{**ev.meta.to_dict(), "n_images": int(ev.overall["n_images"]), "n_annotated": int(ev.overall["n_annotated"]),
             "acc_original": _number(ev.overall["acc_original"]),
             "acc_multilabel": _number(ev.overall.get("acc_multilabel"))} for ev in evaluations]
    return {
        "schema": SCHEMA,
        "relabel_version": __version__,
        "simulated": bool(simulated),
        "runs": runs,
        "comparison": None if comparison is None else _comparison(comparison, categorisation),
        "recommendation": None if recommendation is None else _recommendation(recommendation),
    }


def _class(row: Any, metric: str) -> dict[str, Any]:
    return {"class_index": int(row.class_index), "class_key": str(row.class_key), "class_name": str(row.class_name),
            "n_images": int(row.n_images), "acc_reference": _number(getattr(row, f"acc_{metric}_reference")),
            "acc": _number(getattr(row, f"acc_{metric}")), "delta": _number(getattr(row, f"delta_{metric}")),
            "ci_low": _number(getattr(row, f"ci_low_{metric}")), "ci_high": _number(getattr(row, f"ci_high_{metric}")),
            "q_value": _number(getattr(row, f"q_value_{metric}"))}


def _comparison(comparison: Comparison, categorisation: Categorisation | None) -> dict[str, Any]:
    params = comparison.params
    metric = str(params["metric"])
    summary = comparison.summary.set_index("group")
    why = categorisation.classes if categorisation is not None else None
    groups = []
    for group, rows in comparison.per_class.groupby("group", sort=False):
        line = summary.loc[group]
        affected = rows[rows["affected"]].sort_values(f"delta_{metric}", kind="stable")
        improved = rows[rows["improved"]].sort_values(f"delta_{metric}", ascending=False, kind="stable")
        reasons = (why[why["group"] == group].set_index("class_index") if why is not None else pd.DataFrame())
        listed = []
        for row in affected.itertuples():
            item = _class(row, metric)
            item["explained_by_multilabels"] = bool(row.explained_by_multilabels)
            if row.class_index in reasons.index:
                w = reasons.loc[row.class_index]
                item.update(category=_text(w["category"]), confidence=_text(w.get("confidence")),
                            reason=_text(w["reason"]), partner_name=_text(w["partner_name"]))
            else:
                item.update(category=None, confidence=None, reason=None, partner_name=None)
            listed.append(item)
        groups.append({
            "group": str(group),
            "mean_delta_original": _number(line["mean_delta_original"]),
            "mean_delta_multilabel": _number(line["mean_delta_multilabel"]),
            "n_affected": int(line["n_affected"]),
            "n_improved": int(line["n_improved"]),
            "n_explained_by_multilabels": int(line["n_explained_by_multilabels"]),
            "affected": listed,
            "improved": [_class(row, metric) for row in improved.itertuples()],
        })
    return {"reference": str(params["reference"]), "metric": metric, "min_drop": _number(params["min_drop"]),
            "fdr": _number(params["fdr"]), "fdr_method": str(params.get("fdr_method", "bh")),
            "n_bootstrap": int(params["n_bootstrap"]), "seed": params["seed"],
            "groups": groups, "notes": [str(n) for n in comparison.notes]}


def _recommendation(recommendation: Recommendation) -> dict[str, Any]:
    effect = recommendation.effect
    return {"default_group": recommendation.params.get("default_group"),
            "target": recommendation.params.get("target"),
            "n_overrides": int((recommendation.table["action"] == "override").sum()),
            "mean_acc_default": _number(effect.get("mean_acc_default")),
            "mean_acc_expected": _number(effect.get("mean_acc_expected")),
            "expected_change": _number(effect.get("expected_change"))}
