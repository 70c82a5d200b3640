"""Ablation plan: the few extra runs that tell which operation of a recipe hurt a class.

Stage after :mod:`relabel.comparison`, beside :mod:`relabel.recommendation`. The recommender
recommends only parameters the user varied across groups; when a group differs from the
reference in several operations at once — the fine-tuning case of one run of "no augmentation"
against one run of "flip, crop, blur, sharpen, contrast and affine" — it can say which classes
paid but not which operation to switch off. :func:`plan_ablation` writes down the runs that
can: for each operation in which ``group`` differs from the reference, one run of ``group``'s
recipe with that operation set back to the reference's setting (off when the reference does
not apply it) **for the affected classes only**, as an override file of its own. The plan
holds as many seeds per operation as ``group`` has runs (at least one).

:func:`write_ablation_plan` writes it as a runs manifest (YAML) with the runs already
evaluated and, for each planned run, the path its predictions should be written to; once the
user has trained them (``ClassConditionalDataset(train, "ablation/…json", default=recipe)``)
and written their predictions there, ``relabel evaluate --manifest plan.yaml --reference REF
--default-group GROUP --recommend overrides.json`` compares them all and recommends, per
class, the setting of the operation whose removal helped it. Each planned group is described
in the manifest as ``group``'s recipe with that one operation set back — the recipe its
affected classes were trained with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from relabel import _atomic
from relabel.comparison import Comparison
from relabel.errors import ComparisonError, InputError
from relabel.overrides import Override, Overrides
from relabel.overrides.files import write as write_overrides

__all__ = ["AblationPlan", "plan_ablation", "write_ablation_plan"]


@dataclass(frozen=True)
class AblationPlan:
    """The runs that would attribute ``group``'s losses to one of its operations.

    Attributes
    ----------
    group, reference
        The compared group whose affected classes are ablated, and the comparison's reference.
    classes
        Keys of the affected classes of ``group`` (largest loss first), the classes every
        planned run changes.
    operations
        The augmentations in which ``group`` differs from ``reference``, in the order of
        :data:`relabel.overrides.ORDER`.
    runs
        One row per planned run: ``name``, ``group`` (``GROUP-ablate-OPERATION``),
        ``operation``, ``seed``, ``override_file`` (relative name, ``ablation/OPERATION.json``)
        and ``setting`` (the operation's setting for the affected classes, as text).
    overrides
        ``{operation: Overrides}``: each planned group's override file (``default``: ``group``'s
        augmentation).
    descriptions
        ``{planned group: augmentation}`` as the manifest's ``groups`` section gives them.
    """

    group: str
    reference: str
    classes: tuple[str, ...]
    operations: tuple[str, ...]
    runs: pd.DataFrame
    overrides: dict[str, Overrides]
    descriptions: dict[str, dict[str, Any]]


def plan_ablation(
    comparison: Comparison,
    augmentations: Mapping[str, Mapping[str, Any]],
    *,
    group: str | None = None,
    seeds: Sequence[int] | None = None,
) -> AblationPlan:
    """Leave-one-operation-out runs for the affected classes of ``group`` (module docstring).

    Parameters
    ----------
    augmentations
        Each group's augmentation (the runs manifest's ``groups``); ``group`` and the reference
        must both be described.
    group
        The compared group to ablate; default: the one with the most affected classes (then
        the largest mean loss).
    seeds
        Seeds of the planned runs, one run per seed and operation; default: as many as
        ``group`` has runs (``0, 1, …``).
    """
    from relabel.overrides.vocabulary import ORDER
    from relabel.recommendation import _checked_augmentations, varied_parameters

    reference = str(comparison.params["reference"])
    summary = comparison.summary
    if group is None:
        ranked = summary.sort_values(["n_affected", "mean_delta_affected"], ascending=[False, True], kind="stable")
        group = str(ranked["group"].iloc[0])
    if group not in set(summary["group"]):
        raise ComparisonError(f"ablation plan: {group!r} is not a compared group; compared groups are "
                              f"{sorted(summary['group'])}")
    described, _ = _checked_augmentations(augmentations)
    missing = [g for g in (reference, group) if g not in described]
    if missing:
        raise InputError(f"ablation plan: the runs manifest's 'groups' section does not describe {missing} "
                         f"(described: {sorted(described) or 'none'}); it needs the augmentation of {group!r} and "
                         f"of the reference {reference!r}")
    varied = varied_parameters({reference: described[reference], group: described[group]})
    rank = {aug.value: i for i, aug in enumerate(ORDER)}
    operations = tuple(sorted(varied, key=lambda op: rank.get(op, len(rank))))
    if not operations:
        raise InputError(f"ablation plan: {group!r} and {reference!r} describe the same augmentation; there is no "
                         f"operation to leave out (their difference is not an augmentation)")
    rows = comparison.per_class[(comparison.per_class["group"] == group) & comparison.per_class["affected"]]
    rows = rows.sort_values("delta_" + str(comparison.params["metric"]), kind="stable")
    classes = tuple(str(k) for k in rows["class_key"])
    if not classes:
        raise InputError(f"ablation plan: no class is affected under {group!r} compared with {reference!r} "
                         f"(at --min-drop and --fdr); there is nothing to ablate")
    if seeds is None:
        means = comparison.group_means
        seeds = range(max(1, int(means.loc[means["group"] == group, "n_runs"].max())))
    seeds = sorted({int(s) for s in seeds}) or [0]
    overrides: dict[str, Overrides] = {}
    descriptions: dict[str, dict[str, Any]] = {}
    plan_rows = []
    for op in operations:
        setting: Any = described[reference][op] if op in described[reference] else False
        planned = f"{group}-ablate-{_slug(op)}"
        where = "set to the reference's setting" if setting is not False else "off"
        transforms: dict[str, Any] = {op: setting}
        overrides[op] = Overrides(
            overrides=(Override(classes, transforms, reason=(
                f"ablation of {group}: {op} {where} for the {len(classes)} classes that lost accuracy against "
                f"{reference}")),),
            label_space=comparison.label_space.name, default=described[group],
            params={"ablation": {"group": group, "reference": reference, "operation": op}},
        )
        description = {k: v for k, v in described[group].items() if k != op}
        if setting is not False:
            description[op] = setting
        descriptions[planned] = description
        for seed in seeds:
            plan_rows.append({"name": f"{planned}-s{seed}", "group": planned, "operation": op, "seed": int(seed),
                              "override_file": f"ablation/{_slug(op)}.json",
                              "setting": f"{op} off" if setting is False else f"{op} {setting}"})
    return AblationPlan(group, reference, classes, operations, pd.DataFrame(plan_rows), overrides, descriptions)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "operation"


def write_ablation_plan(
    plan: AblationPlan,
    path: str | Path,
    *,
    runs: Sequence[Mapping[str, Any]] = (),
    groups: Mapping[str, Mapping[str, Any]] | None = None,
    annotations: str | None = None,
    label_space: str | None = None,
    classes: Any = None,
) -> list[Path]:
    """Write the plan as a runs manifest (``.yaml``/``.yml``) and its override files under ``ablation/``.

    ``runs`` are the runs already evaluated (``path``, ``name``, ``group``, ``strength``,
    ``seed``), kept in the manifest so that the filled-in plan evaluates everything together;
    ``groups`` their augmentations. Paths in the manifest are relative to its folder when they
    lie inside it, else absolute. Planned runs get the path ``runs/NAME.parquet`` (relative to
    the manifest) where their predictions are to be written. Returns the files written.
    """
    import yaml

    target = Path(path)
    if target.suffix.lower() not in {".yaml", ".yml"}:
        raise InputError(f"ablation plan {target}: expected a .yaml or .yml name (a runs manifest)")
    folder = target.parent
    written = []
    for op, overrides in plan.overrides.items():
        written.append(write_overrides(overrides, folder / "ablation" / f"{_slug(op)}.json", classes=classes))
    entries: list[dict[str, Any]] = []
    for run in runs:
        entry = {"path": _relative(Path(run["path"]), folder)}
        entry.update({k: run[k] for k in ("name", "group", "strength", "seed") if run.get(k) is not None})
        entries.append(entry)
    for r in plan.runs.itertuples():
        entries.append({"path": f"runs/{r.name}.parquet", "name": str(r.name), "group": str(r.group),
                        "seed": int(r.seed)})
    data: dict[str, Any] = {}
    if label_space is not None:
        data["label_space"] = _relative_name(label_space, folder)
    if annotations is not None:
        data["annotations"] = _relative_name(annotations, folder)
    data["groups"] = {**{str(g): _plain(d) for g, d in (groups or {}).items()},
                      **{g: _plain(d) for g, d in plan.descriptions.items()}}
    data["runs"] = entries
    lines = [
        f"# Ablation plan written by relabel: which operation of {plan.group!r} hurt its affected classes?",
        f"# {len(plan.classes)} classes lost accuracy against {plan.reference!r}: {', '.join(plan.classes[:10])}"
        + (" ..." if len(plan.classes) > 10 else ""),
        f"# For each run below without a file yet, train {plan.group!r} with the override file named in its",
        "# comment (the affected classes get one operation set back; all other classes keep the recipe), and",
        "# write its predictions to the path given. Then:",
        f"#   relabel evaluate --manifest {target.name} --reference {plan.reference} --default-group {plan.group} \\",
        "#       --recommend overrides.json --out results/",
    ]
    for r in plan.runs.itertuples():
        lines.append(f"#   {r.name}: {r.override_file} ({r.setting} for the affected classes)")
    text = "\n".join(lines) + "\n" + yaml.safe_dump(data, sort_keys=False)
    written.append(_atomic.write_text(target, text))
    return written


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _relative(path: Path, folder: Path) -> str:
    path = path.resolve()
    try:
        return path.relative_to(folder.resolve()).as_posix()
    except ValueError:
        return str(path)


def _relative_name(value: str, folder: Path) -> str:
    """A file (made relative to the manifest's folder, or absolute) or a name such as ``real``."""
    return _relative(Path(value), folder) if Path(value).exists() else value
