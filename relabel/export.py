"""Export: the results folder, both ways, and the files the last stages hand to people and trainers.

Stage: last (after :mod:`relabel.recommendation`). This module owns the results folder that
``relabel evaluate --out DIR`` writes and ``relabel report DIR`` reads: the names of its files
(:data:`RESULT_FILES`), their columns, and both directions —

* ``write_*`` put one stage's tables (Parquet + CSV) and settings (JSON) into a folder, each
  file atomically; :func:`write_results` writes a whole results folder at once, beside the
  old one and swapped in, so that the folder holds the old results or the new ones and never
  a mix (files of yours in it are kept);
* :func:`read_results` reads a folder back into the objects that were written (nothing is
  recomputed), checking each table's columns and naming the file of any problem.

Relabel's run Parquet belongs to :mod:`relabel.loading.runs` (``write_run``), override files
to :mod:`relabel.overrides` (``write``); every write goes through :mod:`relabel._atomic`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from relabel import _atomic
from relabel._csvout import write_csv
from relabel.categorisation import Categorisation
from relabel.comparison import Comparison
from relabel.errors import InputError, RelabelWarning
from relabel.evaluation import Evaluation, evaluation_table, overall_table
from relabel.labelspace import LabelSpace, imagenet_1k
from relabel.overrides import Overrides
from relabel.overrides import load as load_overrides
from relabel.overrides import write as write_override_file
from relabel.provenance import FILE_NAME as PROVENANCE_FILE
from relabel.provenance import Provenance, collect, digest, read_provenance, write_provenance
from relabel.recommendation import Recommendation
from relabel.selfcheck import SPLIT_COLUMNS, SelfCheck

__all__ = [
    "RESULT_FILES",
    "Results",
    "read_results",
    "write_results",
    "write_table",
    "write_evaluations",
    "write_comparison",
    "write_categorisation",
    "write_overrides",
    "write_recommendation",
    "write_recommendation_table",
    "write_self_check",
    "planned_outputs",
]

_TABLES: dict[str, tuple[str, ...]] = {
    # name: the columns a reader needs (every table is written as NAME.parquet and NAME.csv)
    "overall": ("run", "group", "n_images", "acc_original", "acc_multilabel"),
    "per_class": ("run", "group", "class_index", "class_key", "class_name", "n_images", "acc_original",
                  "acc_multilabel"),
    "comparison_summary": ("group", "mean_delta_original", "mean_delta_multilabel", "n_affected",
                           "n_affected_original", "n_explained_by_multilabels"),
    "comparison_per_class": ("class_index", "class_key", "class_name", "group", "n_images", "acc_original_reference",
                             "acc_original", "delta_original", "ci_low_original", "ci_high_original",
                             "q_value_original", "affected", "explained_by_multilabels"),
    "comparison_group_means": ("class_index", "group", "strength", "acc_original", "acc_multilabel"),
    "comparison_flows": ("class_index", "group", "partner_index", "share_reference", "share_treatment",
                         "share_delta", "rank"),
    "comparison_curves": (),
    "comparison_best_strength": (),
    "categorisation_pairs": ("class_index", "group", "partner_index", "partner_name", "rank", "category", "reason"),
    "categorisation_classes": ("class_index", "group", "category", "reason", "loss_driver"),
    "recommendation": ("class_index", "class_key", "class_name", "action", "setting_group", "reason"),
    "self_check": SPLIT_COLUMNS,
}
_PARAMS = ("evaluate_params", "comparison_params", "categorisation_params", "recommendation_params",
           "self_check_params")

RESULT_FILES: frozenset[str] = frozenset(
    [f"{name}{suffix}" for name in _TABLES for suffix in (".parquet", ".csv")] + [f"{name}.json" for name in _PARAMS]
    + ["wordnet_map.csv", PROVENANCE_FILE]
)
"""Every file name a results folder may hold; anything else in the folder is the user's."""


# --------------------------------------------------------------------------------------------
# Writing


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame as Parquet or CSV, chosen by the suffix.

    The CSV is what ``table.to_csv(path, index=False)`` writes, byte for byte, by the faster
    writer of :mod:`relabel._csvout` (pandas' own for a table of types that writer leaves to it).
    """
    suffix = Path(path).suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise ValueError(f"unsupported table format {suffix!r}; use .parquet or .csv")
    with _atomic.atomic_path(path) as tmp:
        if suffix == ".parquet":
            table.to_parquet(tmp, index=False)
        else:
            write_csv(table, tmp)
    return Path(path)


def _write_tables(tables: dict[str, pd.DataFrame], out: Path) -> list[Path]:
    return [write_table(table, out / f"{name}{suffix}") for name, table in tables.items()
            for suffix in (".parquet", ".csv")]


def _write_json(data: object, path: Path) -> Path:
    return _atomic.write_text(path, json.dumps(data, indent=2, default=str))


def write_evaluations(evaluations: list[Evaluation], out_dir: str | Path, *, simulated: bool = False,
                      provenance: Provenance | None = None) -> list[Path]:
    """Write the per-class and overall tables (Parquet + CSV) and ``evaluate_params.json`` into ``out_dir``.

    ``evaluate_params.json`` records the runs and whether their predictions were simulated (the
    demo), so that a report made later from the folder says so, and, from ``provenance``, the
    annotations, the label space and the command's options (the order file among them).
    """
    out = Path(out_dir)
    written = _write_tables({"per_class": evaluation_table(evaluations), "overall": overall_table(evaluations)}, out)
    prov = provenance if provenance is not None else collect(evaluations, simulated=simulated)
    params = {"simulated": simulated, "runs": [ev.meta.to_dict() | ev.params for ev in evaluations],
              "annotations": dict(prov.annotations), "label_space": dict(prov.label_space),
              "options": dict(prov.options)}
    written.append(_write_json(params, out / "evaluate_params.json"))
    return written


def write_comparison(comparison: Comparison, out_dir: str | Path) -> list[Path]:
    """Write the comparison's tables (Parquet + CSV) and its parameters (JSON) into ``out_dir``."""
    out = Path(out_dir)
    space = comparison.label_space.table()
    named_flows = comparison.flows.merge(
        space.rename(columns={"class_index": "partner_index", "class_key": "partner_key", "class_name": "partner_name"}),
        on="partner_index", how="left",
    )
    tables = {
        "comparison_summary": comparison.summary,
        "comparison_per_class": comparison.per_class,
        "comparison_group_means": comparison.group_means,
        "comparison_flows": named_flows,
        "comparison_curves": comparison.curves,
        "comparison_best_strength": comparison.best_strength,
    }
    written = _write_tables({name: t for name, t in tables.items() if not (t.empty and not len(t.columns))}, out)
    params = {**comparison.params, "notes": list(comparison.notes)}
    written.append(_write_json(params, out / "comparison_params.json"))
    return written


def write_categorisation(categorisation: Categorisation, out_dir: str | Path) -> list[Path]:
    """Write the pair and class tables (Parquet + CSV), the thresholds (JSON) and any WordNet map (CSV)."""
    out = Path(out_dir)
    written = _write_tables({"categorisation_pairs": categorisation.pairs,
                             "categorisation_classes": categorisation.classes}, out)
    written.append(_write_json(categorisation.params, out / "categorisation_params.json"))
    if categorisation.wordnet_map is not None:
        written.append(write_table(categorisation.wordnet_map, out / "wordnet_map.csv"))
    return written


def write_overrides(overrides: Overrides, path: str | Path, *, classes: Any = None) -> Path:
    """Write an override file atomically: ``.json``, ``.yaml``/``.yml`` or ``.csv`` (``classes`` gives ``class_index``)."""
    return write_override_file(overrides, path, classes=classes)


def write_recommendation(recommendation: Recommendation, path: str | Path, *, label_space: Any = None) -> list[Path]:
    """Write the override file (format by suffix: .json, .yaml, .yml) and a flat CSV beside it."""
    target = Path(path)
    if target.suffix.lower() not in {".json", ".yaml", ".yml"}:
        raise InputError(f"override file {target}: expected a .json, .yaml or .yml name (a flat .csv is written "
                         f"beside it)")
    written = [write_overrides(recommendation.overrides, target, classes=label_space)]
    written.append(write_overrides(recommendation.overrides, target.with_suffix(".csv"), classes=label_space))
    return written


def write_recommendation_table(recommendation: Recommendation, out_dir: str | Path, *,
                               override_file: str | Path | None = None) -> list[Path]:
    """Write the recommendation's per-class table (Parquet + CSV) and its effect and settings (JSON).

    ``recommendation_params.json`` also records where the override file was written
    (``override_file``, relative to ``out_dir``), so that ``relabel report`` finds it.
    """
    return _write_recommendation_table(recommendation, Path(out_dir), Path(out_dir), override_file)


def _write_recommendation_table(recommendation: Recommendation, out: Path, final: Path,
                                override_file: str | Path | None) -> list[Path]:
    """As :func:`write_recommendation_table`, into ``out``, for a folder that will be at ``final``."""
    written = _write_tables({"recommendation": recommendation.table}, out)
    info: dict[str, Any] = {"params": recommendation.params, "effect": recommendation.effect}
    if override_file is not None:
        info["override_file"] = os.path.relpath(Path(override_file).resolve(), final.resolve())
    written.append(_write_json(info, out / "recommendation_params.json"))
    return written


def write_self_check(self_check: SelfCheck, out_dir: str | Path) -> list[Path]:
    """Write the A/A self-check: one row per split (``self_check`` Parquet + CSV) and its settings and
    summary (``self_check_params.json``: ``params`` and ``summary``, :meth:`SelfCheck.to_dict`)."""
    out = Path(out_dir)
    written = _write_tables({"self_check": self_check.splits}, out)
    written.append(_write_json({"params": self_check.params, "summary": self_check.to_dict()},
                               out / "self_check_params.json"))
    return written


def write_results(
    out_dir: str | Path,
    evaluations: Sequence[Evaluation],
    comparison: Comparison | None = None,
    categorisation: Categorisation | None = None,
    recommendation: Recommendation | None = None,
    *,
    simulated: bool = False,
    override_file: str | Path | None = None,
    provenance: Provenance | None = None,
    self_check: SelfCheck | None = None,
) -> list[Path]:
    """Write a whole results folder, all at once: the old results or the new ones, never a mix.

    The folder is filled beside ``out_dir`` and swapped in (:func:`relabel._atomic.atomic_dir`):
    a run killed half way leaves the earlier results as they were, and results files of an
    earlier run that this one does not write (a comparison, when this run has none) are gone
    afterwards. Files and folders of your own in ``out_dir`` (an override file, a report) are
    kept. Returns the paths written, inside ``out_dir``.

    The folder's ``provenance.json`` (:mod:`relabel.provenance`) states what wrote it and lists
    every results file written, with its SHA-256; ``provenance`` gives the command line,
    annotations and options (default: :func:`relabel.provenance.collect` of the evaluations).
    """
    final = Path(out_dir)
    if provenance is None:
        provenance = collect(list(evaluations), simulated=simulated)
    with _atomic.atomic_dir(final, owned=RESULT_FILES.__contains__) as staging:
        written = write_evaluations(list(evaluations), staging, simulated=simulated, provenance=provenance)
        if comparison is not None:
            written += write_comparison(comparison, staging)
        if categorisation is not None:
            written += write_categorisation(categorisation, staging)
        if recommendation is not None:
            written += _write_recommendation_table(recommendation, staging, final, override_file)
        if self_check is not None:
            written += write_self_check(self_check, staging)
        files = {path.name: digest(path) for path in written}
        written.append(write_provenance(dataclasses.replace(provenance, files=files), staging))
        names = [path.name for path in written]
    return [final / name for name in names]


def planned_outputs(*, out: str | Path | None = None, recommend: str | Path | None = None,
                    report: str | Path | None = None, inputs: Sequence[str | Path] = ()) -> list[Path]:
    """Every file one ``relabel evaluate`` may write, checked before anything is computed or written.

    ``out`` is the results folder (every name of :data:`RESULT_FILES`), ``recommend`` the
    override file (and its flat ``.csv``), ``report`` the report folder (``index.html``,
    ``summary.md``). Two outputs at one path, an output at one of the ``inputs`` (run files,
    annotations, …), a target under a file or in a read-only folder are each an
    :class:`InputError` naming both sides. Returns the paths.
    """
    owners: dict[Path, tuple[str, Path]] = {}

    def add(path: Path, owner: str) -> None:
        key = path.resolve()
        if key in owners and owners[key][0] != owner:
            raise InputError(f"{owner} would write {path}, which {owners[key][0]} writes too; choose another name "
                             f"or folder")
        owners[key] = (owner, path)

    if out is not None:
        _atomic.check_writable(out, folder=True)
        for name in sorted(RESULT_FILES):
            add(Path(out) / name, "the results folder (--out)")
    if recommend is not None:
        target = Path(recommend)
        _atomic.check_writable(target)
        for path in (target, target.with_suffix(".csv")):
            add(path, "the override file (--recommend)")
    if report is not None:
        _atomic.check_writable(report, folder=True)
        for name in ("index.html", "summary.md"):
            add(Path(report) / name, "the report (--report)")
    for given in inputs:
        key = Path(given).resolve()
        if key in owners:
            owner, path = owners[key]
            raise InputError(f"{owner} would write {path}, which is an input of this command ({given}); choose "
                             f"another name or folder")
    return [path for _, path in owners.values()]


# --------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class Results:
    """A results folder read back: the objects (and tables) that were written into it.

    Attributes
    ----------
    runs
        ``overall.parquet``: one row per run (:func:`relabel.evaluation.overall_table`).
    per_class
        ``per_class.parquet``: per-class rows of every run (:func:`relabel.evaluation.evaluation_table`).
    comparison, categorisation, recommendation
        The later stages' results, where the folder holds them (``None`` otherwise).
    self_check
        The A/A self-check (``self_check.parquet``), where the folder holds one.
    overrides
        The override file ``recommendation_params.json`` names (when it is still there), or
        the one given to :func:`read_results`.
    simulated
        ``evaluate_params.json`` says the predictions were simulated (the demo).
    source
        The folder.
    provenance
        What wrote the folder (``provenance.json``; ``None`` for a folder without one).
    """

    runs: pd.DataFrame
    per_class: pd.DataFrame
    comparison: Comparison | None
    categorisation: Categorisation | None
    recommendation: Recommendation | None
    overrides: Overrides | None
    simulated: bool
    source: str
    provenance: Provenance | None = None
    self_check: SelfCheck | None = None


def read_results(results_dir: str | Path, *, overrides: str | Path | Overrides | None = None) -> Results:
    """Read a folder that ``relabel evaluate --out DIR`` (or :func:`write_results`) wrote.

    The tables are read as they were written: ``overall`` and ``per_class`` (always),
    ``comparison_*`` with ``comparison_params.json``, ``categorisation_*`` with
    ``categorisation_params.json``, ``recommendation`` with ``recommendation_params.json``,
    which names the override file, and ``self_check`` with ``self_check_params.json``;
    ``overrides`` (a file or its content) is used instead when given. Every table's columns are checked;
    a missing or damaged file is an
    :class:`~relabel.errors.InputError` naming it. Nothing is recomputed.
    """
    folder = Path(results_dir)
    if not folder.is_dir():
        raise InputError(f"results folder {folder} does not exist (write one with relabel evaluate --out {folder})")
    provenance, listed = _listed(folder)
    runs = _table(folder, "overall", listed=listed)
    per_class = _table(folder, "per_class", listed=listed)
    space = _label_space(per_class, folder)
    comparison = _comparison(folder, space, listed) if listed("comparison_per_class.parquet") else None
    categorisation = None
    if listed("categorisation_classes.parquet"):
        if comparison is None:
            raise InputError(f"results folder {folder}: categorisation tables without comparison_per_class.parquet")
        categorisation = Categorisation(_table(folder, "categorisation_pairs", listed=listed),
                                        _table(folder, "categorisation_classes", listed=listed),
                                        _json(folder / "categorisation_params.json"))
    if overrides is not None and not isinstance(overrides, Overrides):
        overrides = load_overrides(overrides)
    recommendation = None
    if listed("recommendation.parquet"):
        recommendation, overrides = _recommendation(folder, overrides, listed)
    info = folder / "evaluate_params.json"
    simulated = bool(_json(info).get("simulated", False)) if listed("evaluate_params.json") else False
    self_check = _self_check(folder, listed) if listed("self_check.parquet") else None
    return Results(runs=runs, per_class=per_class, comparison=comparison, categorisation=categorisation,
                   recommendation=recommendation, overrides=overrides, simulated=simulated, source=str(folder),
                   provenance=provenance, self_check=self_check)


def _listed(folder: Path) -> tuple[Provenance | None, Callable[[str], bool]]:
    """The folder's provenance, and which results files to read: those it lists (without one, every one present:
    a folder filled by the stage writers, :func:`write_evaluations` and the others, has none).

    A results file the provenance does not list is another command's and is left unread (with
    one warning naming them); a listed file that is missing is an error; a listed file whose
    content changed since it was written is read, with a warning.
    """
    if not (folder / PROVENANCE_FILE).exists():  # the stage writers (write_evaluations, …) or an older relabel
        return None, lambda name: (folder / name).exists()
    provenance = read_provenance(folder)
    unlisted = sorted(p.name for p in folder.iterdir() if p.name in RESULT_FILES and p.name != PROVENANCE_FILE
                      and p.name not in provenance.files)
    if unlisted:
        shown = ", ".join(unlisted[:8]) + (f" and {len(unlisted) - 8} more" if len(unlisted) > 8 else "")
        warnings.warn(f"results folder {folder}: left unread {len(unlisted)} results files that {PROVENANCE_FILE} does "
                      f"not list ({shown}): an earlier or another command wrote them, not {_command(provenance)}",
                      RelabelWarning, stacklevel=3)
    checked: set[str] = set()

    def listed(name: str) -> bool:
        if name not in provenance.files:
            return False
        path = folder / name
        if not path.is_file():
            raise InputError(f"results folder {folder}: {name} is missing, but {PROVENANCE_FILE} lists it as written by "
                             f"{_command(provenance)}")
        if name not in checked:
            checked.add(name)
            expected = provenance.files[name]
            if digest(path) != expected:
                warnings.warn(f"{path} changed after {_command(provenance)} wrote it (its SHA-256 differs from the "
                              f"one {PROVENANCE_FILE} records)", RelabelWarning, stacklevel=4)
        return True

    return provenance, listed


def _command(provenance: Provenance) -> str:
    return f"'{' '.join(provenance.command)[:200]}'" if provenance.command else "the write_results call it records"


def _table(folder: Path, name: str, *, optional: bool = False,
           listed: Callable[[str], bool] | None = None) -> pd.DataFrame:
    path = folder / f"{name}.parquet"
    if not (listed(path.name) if listed is not None else path.exists()):
        if optional:
            return pd.DataFrame()
        raise InputError(f"results folder {folder}: {path.name} is missing (relabel evaluate --out {folder} writes it"
                         + ("" if name in ("overall", "per_class") else " when given --reference") + ")")
    try:
        table = pd.read_parquet(path)
    except Exception as e:  # pyarrow raises several types for a damaged file
        raise InputError(f"{path}: not a readable Parquet file ({type(e).__name__}: {e})") from None
    missing = [c for c in _TABLES[name] if c not in table.columns]
    if missing:
        raise InputError(f"{path}: expected relabel's columns; missing {missing} (found {list(table.columns)[:12]})")
    return table.reset_index(drop=True)


#: What ``self_check_params.json`` must hold under ``params`` for :class:`SelfCheck` to summarise its splits.
_SELF_CHECK_PARAMS = ("group", "split", "metric", "min_drop", "fdr", "fdr_method", "paired", "n_bootstrap", "seed")


def _self_check(folder: Path, listed: Callable[[str], bool]) -> SelfCheck:
    """The folder's A/A self-check: its splits and the settings they were drawn with, refused when either is broken."""
    splits = _table(folder, "self_check", listed=listed)
    params = _json(folder / "self_check_params.json").get("params", {})
    missing = [name for name in _SELF_CHECK_PARAMS if not isinstance(params, dict) or name not in params]
    if missing:
        raise InputError(f"results folder {folder}: self_check_params.json has no {', '.join(missing)} under "
                         f"'params' (a damaged or hand-made file); write it again with relabel evaluate --self-check")
    if not len(splits):
        raise InputError(f"results folder {folder}: self_check.csv holds no split; write it again with relabel "
                         f"evaluate --self-check")
    return SelfCheck(splits, dict(params))


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


def _recommendation(folder: Path, overrides: Overrides | None,
                    listed: Callable[[str], bool]) -> tuple[Recommendation, Overrides | None]:
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
    content = overrides if overrides is not None else Overrides(())
    return Recommendation(content, _table(folder, "recommendation", listed=listed), effect, params), overrides


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


def _comparison(folder: Path, space: LabelSpace, listed: Callable[[str], bool]) -> Comparison:
    params = _json(folder / "comparison_params.json")
    notes = tuple(str(n) for n in params.pop("notes", []) or [])
    for key in ("reference", "metric", "min_drop", "fdr", "n_bootstrap", "seed"):
        if key not in params:
            raise InputError(f"{folder / 'comparison_params.json'}: expected the key {key!r}")
    flows = _table(folder, "comparison_flows", listed=listed).drop(columns=["partner_key", "partner_name"], errors="ignore")
    return Comparison(
        label_space=space,
        group_means=_table(folder, "comparison_group_means", listed=listed),
        per_class=_table(folder, "comparison_per_class", listed=listed),
        flows=flows,
        summary=_table(folder, "comparison_summary", listed=listed),
        curves=_table(folder, "comparison_curves", optional=True, listed=listed),
        best_strength=_table(folder, "comparison_best_strength", optional=True, listed=listed),
        params=params,
        notes=notes,
    )


def __getattr__(name: str) -> Any:
    """Names that moved to the module that owns them: still importable from here, with a warning."""
    moved: Any
    if name == "atomic_path":
        from relabel._atomic import atomic_path as moved
    elif name == "write_run":
        from relabel.loading.runs import write_run as moved
    else:
        raise AttributeError(f"module 'relabel.export' has no attribute {name!r}")
    warnings.warn(f"relabel.export.{name} moved to {moved.__module__}.{name}; import it from there",
                  DeprecationWarning, stacklevel=2)
    return moved
