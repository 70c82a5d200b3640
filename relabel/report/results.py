"""Read a results folder written by ``relabel evaluate --out DIR`` back into a :class:`Report`.

The tables are relabel's own outputs, read as they were written: ``overall.parquet`` and
``per_class.parquet`` (always), ``comparison_*.parquet`` with ``comparison_params.json`` (with
``--reference``), ``categorisation_*.parquet`` with ``categorisation_params.json``, and
``recommendation.parquet`` with ``recommendation_params.json`` (with ``--recommend``), which
names the override file; another override file can be given instead. Nothing is recomputed. An optional
``evaluate_params.json`` with ``"simulated": true`` marks a demo's results as simulated.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relabel.categorisation import Categorisation
from relabel.comparison import Comparison
from relabel.errors import InputError, RelabelWarning
from relabel.labelspace import LabelSpace, imagenet_1k
from relabel.overrides import Overrides
from relabel.overrides import load as load_overrides
from relabel.recommendation import Recommendation
from relabel.report.content import Report, default_title

__all__ = ["load_report"]

_REQUIRED = {
    "overall": ["run", "group", "n_images", "acc_original", "acc_multilabel"],
    "per_class": ["run", "group", "class_index", "class_key", "class_name", "n_images", "acc_original",
                  "acc_multilabel"],
    "comparison_per_class": ["class_index", "class_key", "class_name", "group", "n_images", "acc_original_reference",
                             "acc_original", "delta_original", "ci_low_original", "ci_high_original",
                             "q_value_original", "affected", "explained_by_multilabels"],
    "comparison_summary": ["group", "mean_delta_original", "mean_delta_multilabel", "n_affected",
                           "n_affected_original", "n_explained_by_multilabels"],
    "comparison_group_means": ["class_index", "group", "strength", "acc_original", "acc_multilabel"],
    "comparison_flows": ["class_index", "group", "partner_index", "share_reference", "share_treatment",
                         "share_delta", "rank"],
    "categorisation_pairs": ["class_index", "group", "partner_index", "partner_name", "rank", "category", "reason"],
    "categorisation_classes": ["class_index", "group", "category", "reason", "loss_driver"],
    "recommendation": ["class_index", "class_key", "class_name", "action", "setting_group", "reason"],
}


def load_report(
    results_dir: str | Path,
    *,
    overrides: str | Path | Overrides | None = None,
    title: str | None = None,
    simulated: bool | None = None,
) -> Report:
    """A :class:`Report` of the results ``relabel evaluate --out DIR`` wrote into ``results_dir``.

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
    folder = Path(results_dir)
    if not folder.is_dir():
        raise InputError(f"results folder {folder} does not exist (write one with relabel evaluate --out {folder})")
    runs = _table(folder, "overall")
    per_class = _table(folder, "per_class")
    space = _label_space(per_class, folder)
    comparison = _comparison(folder, space) if (folder / "comparison_per_class.parquet").exists() else None
    categorisation = None
    if (folder / "categorisation_classes.parquet").exists():
        if comparison is None:
            raise InputError(f"results folder {folder}: categorisation tables without comparison_per_class.parquet")
        categorisation = Categorisation(_table(folder, "categorisation_pairs"),
                                        _table(folder, "categorisation_classes"),
                                        _json(folder / "categorisation_params.json"))
    if overrides is not None and not isinstance(overrides, Overrides):
        overrides = load_overrides(overrides)
    recommendation = None
    if (folder / "recommendation.parquet").exists():
        recommendation, overrides = _recommendation(folder, overrides)
    if simulated is None:
        info = folder / "evaluate_params.json"
        simulated = bool(_json(info).get("simulated", False)) if info.exists() else False
    return Report(
        title=title or default_title(comparison),
        runs=runs,
        per_class=per_class,
        comparison=comparison,
        categorisation=categorisation,
        recommendation=recommendation,
        overrides=overrides,
        simulated=simulated,
        source=str(folder),
    )


def _table(folder: Path, name: str, *, optional: bool = False) -> pd.DataFrame:
    path = folder / f"{name}.parquet"
    if not path.exists():
        if optional:
            return pd.DataFrame()
        raise InputError(f"results folder {folder}: {path.name} is missing (relabel evaluate --out {folder} writes it"
                         + ("" if name in ("overall", "per_class") else " when given --reference") + ")")
    try:
        table = pd.read_parquet(path)
    except Exception as e:  # pyarrow raises several types for a damaged file
        raise InputError(f"{path}: not a readable Parquet file ({type(e).__name__}: {e})") from None
    missing = [c for c in _REQUIRED.get(name, []) if c not in table.columns]
    if missing:
        raise InputError(f"{path}: expected relabel's columns; missing {missing} (found {list(table.columns)[:12]})")
    return table.reset_index(drop=True)


def _json(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise InputError(f"{path} is missing (relabel evaluate --out writes it beside the tables)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def _recommendation(folder: Path, overrides: Overrides | None) -> tuple[Recommendation, Overrides | None]:
    """The recommendation table and, unless one was given, the override file it names (when still there)."""
    path = folder / "recommendation_params.json"
    info = _json(path)
    effect, params = info.get("effect"), info.get("params")
    expected = ("mean_acc_default", "mean_acc_expected", "expected_change")
    if not isinstance(effect, dict) or any(not isinstance(effect.get(k), (int, float)) for k in expected):
        raise InputError(f"{path}: expected 'effect' with numbers {list(expected)}, found {effect!r}")
    if not isinstance(params, dict) or "default_group" not in params:
        raise InputError(f"{path}: expected 'params' with the key 'default_group', found {params!r}")
    named = info.get("override_file")
    if overrides is None and isinstance(named, str):
        recorded = Path(os.path.normpath(folder / named))
        if recorded.is_file():
            overrides = load_overrides(recorded)
        else:
            warnings.warn(f"{path} names the override file {recorded}, which is not there: the report shows the "
                          f"recommendation without overrides (give --overrides FILE)", RelabelWarning, stacklevel=3)
    content = overrides if overrides is not None else Overrides([])
    return Recommendation(content, _table(folder, "recommendation"), effect, params), overrides


def _label_space(per_class: pd.DataFrame, folder: Path) -> LabelSpace:
    first = per_class[per_class["run"] == per_class["run"].iloc[0]] if len(per_class) else per_class
    first = first.sort_values("class_index", kind="stable")
    if first.empty or not np.array_equal(first["class_index"].to_numpy(), np.arange(len(first))):
        raise InputError(f"{folder / 'per_class.parquet'}: expected one row per class 0..K-1 for each run")
    keys = tuple(str(k) for k in first["class_key"])
    names = tuple(str(n) for n in first["class_name"])
    if len(keys) == 1000:
        builtin = imagenet_1k()
        if builtin.keys == keys:
            return builtin
    return LabelSpace(keys=keys, names=names, name="results")


def _comparison(folder: Path, space: LabelSpace) -> Comparison:
    params = _json(folder / "comparison_params.json")
    notes = tuple(str(n) for n in params.pop("notes", []) or [])
    for key in ("reference", "metric", "min_drop", "fdr", "n_bootstrap", "seed"):
        if key not in params:
            raise InputError(f"{folder / 'comparison_params.json'}: expected the key {key!r}")
    flows = _table(folder, "comparison_flows").drop(columns=["partner_key", "partner_name"], errors="ignore")
    return Comparison(
        label_space=space,
        group_means=_table(folder, "comparison_group_means"),
        per_class=_table(folder, "comparison_per_class"),
        flows=flows,
        summary=_table(folder, "comparison_summary"),
        curves=_table(folder, "comparison_curves", optional=True),
        best_strength=_table(folder, "comparison_best_strength", optional=True),
        params=params,
        notes=notes,
    )
