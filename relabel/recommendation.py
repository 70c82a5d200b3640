"""Recommendation: class-conditional augmentation overrides for the next training run.

Stage after :mod:`relabel.categorisation`. The user keeps one recipe as the default (by
default the compared group with the best mean class accuracy) and overrides the augmentation
of the classes that recipe hurt:

* **Which setting.** Only parameters the user actually varied between groups are ever
  written (the groups' augmentations come from the runs manifest), so the recommender never
  invents a parameter. With several groups along one axis, a class gets the setting of the
  group where its accuracy (on the comparison's metric) is best, *shrunk toward the default*:
  among the groups whose accuracy for the class is within one standard error
  (``sqrt(p (1 - p) / n)`` of the best accuracy ``p`` over the class's ``n`` images) of the
  best, the one closest to the default group in strength (without strengths: the one whose
  augmentation differs from the default's in the fewest operations, then the best one) is
  chosen; if that is the default group itself, no override is made. With only a reference and
  the default group, the reference's setting is used.
* **Which classes.** The override covers the class that lost accuracy and the partner that
  absorbed most of its predictions (``target="both"``, the default backed by DESIGN.md's
  pilot); ``lost`` or ``absorbing`` target one side (``absorbing`` falls back to the class
  itself when no partner absorbed its predictions). Ambiguous
  classes get the advice to score with multi-labels and no override unless
  ``include_ambiguous``. A class is in at most one override: the larger loss claims it first.
* **Not an augmentation.** When the default group and the better group do not differ in any
  described augmentation (e.g. they differ in weight decay, label smoothing or an agreement loss
  such as AgMax), the class gets a diagnosis and no override. A group may state such settings
  under ``training`` (``{"training": {"weight_decay": 0.05}}``); the diagnosis then names them.
  Any augmentation of the vocabulary (:class:`~relabel.overrides.Augmentation`) may be
  described; its parameters are checked as an override file's are.
* **Expected effect.** Per class, the accuracy it had under the recommended setting against
  the default; for the average, the mean class accuracy when the overridden classes take
  those accuracies and every other class keeps the default's — an estimate that assumes the
  classes' effects carry over independently.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from relabel._vocab import Vocabulary
from relabel.categorisation import Categorisation, Category
from relabel.comparison import Comparison
from relabel.errors import ComparisonError, InputError, OverridesError
from relabel.overrides import Augmentation, Override, Overrides, Side, SideInfo, explicit_parameters

__all__ = ["Action", "Recommendation", "recommend", "varied_parameters"]


class Action(Vocabulary, noun="recommendation action"):
    """What the recommendation says for an affected class (``Recommendation.table``'s ``action``)."""

    OVERRIDE = "override"
    COVERED = "covered"
    MULTILABEL_SCORING = "multi-label scoring"
    NOT_AN_AUGMENTATION = "not an augmentation"
    KEEP_DEFAULT = "keep default"
    NO_DESCRIPTION = "no description"


@dataclass(frozen=True)
class Recommendation:
    """Overrides for the next run, and the table that explains them.

    Attributes
    ----------
    overrides
        The override file's content (:class:`~relabel.overrides.Overrides`); its ``default``
        is the default group's augmentation.
    table
        One row per affected class of the default group, largest loss first: ``class_index``,
        ``class_key``, ``class_name``, ``category``, ``action`` (``override``, ``covered``
        (already in an earlier override), ``multi-label scoring`` (ambiguous),
        ``not an augmentation``, ``keep default`` (weak evidence), ``no description``),
        ``setting_group`` (whose setting is recommended), ``setting`` (the parameters, as
        text), ``target_classes`` (the class names the override covers; both missing where
        there is no override), ``acc_default``,
        ``acc_expected`` (the class's accuracy under the recommended setting),
        ``expected_gain``, ``reason``.
    effect
        ``mean_acc_default`` (mean class accuracy of the default group), ``mean_acc_expected``
        (with the overridden classes at their recommended accuracy) and ``expected_change``.
    params
        Default group, metric, target side, include_ambiguous, the varied parameters.
    """

    overrides: Overrides
    table: pd.DataFrame
    effect: dict[str, float]
    params: dict[str, Any] = field(default_factory=dict)


def varied_parameters(augmentations: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, list[str]]:
    """Augmentation parameters whose value differs between the described groups.

    >>> varied_parameters({"a": {"random_resized_crop": {"scale": [0.08, 1]}, "horizontal_flip": {"p": 0.5}},
    ...                    "b": {"random_resized_crop": {"scale": [0.5, 1]}, "horizontal_flip": {"p": 0.5}}})
    {'random_resized_crop': ['scale']}
    """
    names = sorted({aug for desc in augmentations.values() for aug in desc})
    out: dict[str, list[str]] = {}
    for aug in names:
        params = sorted({p for desc in augmentations.values() for p in (desc.get(aug) or {})})
        varied = [p for p in params if len({_freeze((desc.get(aug) or {}).get(p)) for desc in augmentations.values()}) > 1]
        present = {aug in desc for desc in augmentations.values()}
        if len(present) > 1 and not varied:
            varied = params or ["enabled"]
        if varied:
            out[aug] = varied
    return out


TRAINING = "training"
"""The key of a group description that holds settings that are not augmentations (weight decay, …)."""


def _checked_augmentations(augmentations: Mapping[str, Any]) -> tuple[dict[str, dict[str, dict[str, Any]]],
                                                                       dict[str, dict[str, Any]]]:
    """``{group: {augmentation: parameters}}`` (names and values checked as in an override file)
    and ``{group: {setting: value}}`` of the ``training`` settings."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    training: dict[str, dict[str, Any]] = {}
    for group, description in augmentations.items():
        where = f"augmentation of group {group!r} (the runs manifest's 'groups' section)"
        if not isinstance(description, Mapping):
            raise InputError(f"{where}: expected a mapping of augmentation → parameters, found {description!r}")
        out[str(group)] = {}
        training[str(group)] = {}
        for name, params in description.items():
            if name == TRAINING:
                if not isinstance(params, Mapping):
                    raise InputError(f"{where}, training: expected a mapping of settings (weight_decay: 0.05, ...), "
                                     f"found {params!r}")
                training[str(group)] = dict(params)
                continue
            try:
                aug = Augmentation.from_str(name)
            except InputError as e:
                raise InputError(f"{where}: {e} (settings that are not augmentations go under 'training:')") from None
            if params is not None and not isinstance(params, (Mapping, str)):
                raise InputError(f"{where}, {name}: expected a mapping of parameters, found {params!r}")
            try:
                entry: Any = params if params is not None else True
                checked = Override(("group",), {aug.value: entry}).transforms[aug.value]
            except OverridesError as e:
                raise InputError(f"{where}: {e}") from None
            out[str(group)][aug.value] = explicit_parameters(aug, checked) if checked != {"enabled": False} else {}
            if checked == {"enabled": False}:
                del out[str(group)][aug.value]  # described as off: the same as not applied
    return out, training


def _training_difference(a: Mapping[str, Any], b: Mapping[str, Any], name_a: str, name_b: str) -> str:
    """The training settings in which two groups differ, as words (empty when none are described)."""
    keys = sorted(k for k in set(a) | set(b) if _freeze(a.get(k)) != _freeze(b.get(k)))
    return ", ".join(f"{k} ({a.get(k, 'not set')} under {name_a}, {b.get(k, 'not set')} under {name_b})"
                     for k in keys)


def _freeze(value: Any) -> Any:
    return tuple(_freeze(v) for v in value) if isinstance(value, (list, tuple)) else value


def _setting(description: Mapping[str, Mapping[str, Any]], varied: Mapping[str, list[str]]) -> dict[str, dict[str, Any]]:
    """The varied parameters of one group's augmentation (an absent augmentation is switched off)."""
    out: dict[str, dict[str, Any]] = {}
    for aug, params in varied.items():
        if aug not in description:
            out[aug] = {"enabled": False}
            continue
        chosen = {p: description[aug][p] for p in params if p in description[aug]}
        out[aug] = chosen
    return out


def _describe_setting(setting: Mapping[str, Mapping[str, Any]]) -> str:
    parts = []
    for aug, params in setting.items():
        if params.get("enabled") is False:
            parts.append(f"{aug} off")
        else:
            parts.append(f"{aug} " + ", ".join(f"{k}={list(v) if isinstance(v, tuple) else v}" for k, v in params.items()))
    return "; ".join(parts)


def recommend(
    comparison: Comparison,
    categorisation: Categorisation,
    *,
    augmentations: Mapping[str, Mapping[str, Mapping[str, Any]]] | None,
    default_group: str | None = None,
    target: str | Side = Side.BOTH,
    include_ambiguous: bool = False,
) -> Recommendation:
    """Class-conditional augmentation overrides for the affected classes of ``default_group``.

    Parameters
    ----------
    augmentations
        Each group's augmentation, ``{group: {augmentation: {parameter: value}}}`` (the runs
        manifest's ``groups`` section); ``None`` gives a diagnosis without overrides.
    default_group
        The recipe the next run keeps for every other class; default: the compared
        (non-reference) group with the best mean class accuracy on the comparison's metric.
    target
        ``both`` (default), ``lost`` or ``absorbing``: which side of a pair gets the override.
    include_ambiguous
        Also override ambiguous classes (by default they get the advice to score with
        multi-labels: an augmentation change does not fix a labelling problem).
    """
    side = Side.from_str(target)
    metric = comparison.params["metric"]
    reference = comparison.params["reference"]
    summary = comparison.summary.set_index("group")
    if default_group is None:
        default_group = str(summary[f"mean_delta_{metric}"].idxmax())
    if default_group not in summary.index:
        raise ComparisonError(
            f"default group {default_group!r} is not a compared group; compared groups are "
            f"{sorted(summary.index)} (the reference {reference!r} is what they were compared with)"
        )
    described, training = _checked_augmentations(augmentations or {})
    varied = varied_parameters(described) if described else {}
    space = comparison.label_space
    keys = space.keys
    means = comparison.group_means.set_index(["group", "class_index"])
    lookup = _Means(comparison.group_means)
    column = f"acc_{metric}"
    groups = list(comparison.group_means["group"].drop_duplicates())
    strength = comparison.group_means.drop_duplicates("group").set_index("group")["strength"]

    classes = categorisation.classes
    classes = classes[classes["group"] == default_group].sort_values("delta", kind="stable")
    covered: set[int] = set()
    overrides: list[Override] = []
    chosen_accuracy: dict[int, float] = {}
    rows = []
    for r in classes.itertuples():
        c = int(r.class_index)
        partner = None if pd.isna(r.partner_index) else int(r.partner_index)
        partner_name = space.names[partner] if partner is not None else None
        row = {"class_index": c, "class_key": keys[c], "class_name": r.class_name, "category": r.category,
               "setting_group": None, "setting": None, "target_classes": None,
               "acc_default": lookup.get(default_group, c, column), "acc_expected": np.nan,
               "expected_gain": np.nan}
        category = Category.from_str(r.category)
        if c in covered:
            row.update(action=Action.COVERED.value, reason=f"{r.class_name} is already covered by an earlier override")
        elif category is Category.AMBIGUOUS and not include_ambiguous:
            row.update(action=Action.MULTILABEL_SCORING.value, reason=(
                f"{r.class_name} and {partner_name or 'its partner'} overlap in meaning: score with multi-labels; "
                f"an augmentation change is not expected to help (use include_ambiguous to override anyway)"))
        elif not described or default_group not in described:
            row.update(action=Action.NO_DESCRIPTION.value, reason=(
                "the runs manifest does not describe the groups' augmentations (a 'groups' section), "
                "so no setting can be recommended"))
        else:
            candidates = [g for g in groups if g in described]
            choice = _choose_group(lookup, column, c, candidates, default_group, reference, strength, comparison,
                                   described)
            setting = _setting(described[choice], varied) if choice != default_group else {}
            if choice == default_group:
                row.update(action=Action.KEEP_DEFAULT.value, reason=(
                    f"no group is clearly better than {default_group} for {r.class_name} (within one standard error)"))
            elif not setting or _setting(described[default_group], varied) == setting:
                row.update(action=Action.NOT_AN_AUGMENTATION.value, setting_group=choice, reason=(
                    f"{r.class_name} does better under {choice}, but {choice} and {default_group} describe the same "
                    f"augmentation: the difference is "
                    + (_training_difference(training.get(choice, {}), training.get(default_group, {}), choice,
                                            default_group) or "something else (e.g. weight decay)")
                    + "; no override"))
            else:
                lost_side = [c]
                absorbing_side = [partner] if partner is not None else []
                targets = {Side.BOTH: lost_side + absorbing_side, Side.LOST: lost_side,
                           Side.ABSORBING: absorbing_side or lost_side}[side]
                targets = [t for t in targets if t not in covered]
                acc_choice = lookup.get(choice, c, column)
                for t in targets:
                    covered.add(t)
                    chosen_accuracy[t] = lookup.get(choice, t, column)
                reason = (
                    f"{r.class_name} lost {100 * -r.delta:.1f} points under {default_group}"
                    + (f", mostly to {partner_name} ({r.category})" if partner is not None
                       else "; no single class stands out as having absorbed its lost predictions"
                            + (f", so the override covers {r.class_name} itself" if side is Side.ABSORBING else ""))
                    + f"; it had {100 * acc_choice:.1f}% under {choice}"
                )
                evidence = {
                    "metric": metric, "delta": float(r.delta), "category": r.category,
                    "partner": keys[partner] if partner is not None else None,
                    "loss_driver": r.loss_driver if partner is not None and r.loss_driver else None,
                    column: {g: lookup.get(g, c, column) for g in candidates},
                }
                overrides.append(Override(
                    classes=tuple(keys[t] for t in targets), transforms=setting, reason=reason, evidence=evidence,
                    side=SideInfo(lost=(keys[c],), absorbing=tuple(keys[t] for t in absorbing_side), target=side),
                ))
                row.update(action=Action.OVERRIDE.value, setting_group=choice, setting=_describe_setting(setting),
                           target_classes=", ".join(space.names[t] for t in targets), acc_expected=acc_choice,
                           expected_gain=acc_choice - row["acc_default"], reason=reason)
        rows.append(row)

    columns = ["class_index", "class_key", "class_name", "category", "action", "setting_group", "setting",
               "target_classes", "acc_default", "acc_expected", "expected_gain", "reason"]
    table = pd.DataFrame(rows, columns=columns)
    default_acc = means.loc[default_group][column]
    expected_acc = default_acc.copy()
    for t, acc in chosen_accuracy.items():
        expected_acc.loc[t] = acc
    effect = {"mean_acc_default": float(np.nanmean(default_acc)), "mean_acc_expected": float(np.nanmean(expected_acc))}
    effect["expected_change"] = effect["mean_acc_expected"] - effect["mean_acc_default"]
    params = {"default_group": default_group, "reference": reference, "metric": metric, "target": side.value,
              "include_ambiguous": include_ambiguous, "varied": varied}
    result = Overrides(
        overrides=tuple(overrides), label_space=space.name,
        default=described.get(default_group, {}), params=params,
    )
    return Recommendation(result, table, effect, params)


class _Means:
    """Group means by (group, class index): a dict lookup per value, not a MultiIndex ``.loc`` (sweeps ask thousands)."""

    def __init__(self, group_means: pd.DataFrame) -> None:
        self._frame = group_means
        self._row = {key: i for i, key in enumerate(zip(group_means["group"].tolist(),
                                                        group_means["class_index"].tolist()))}
        self._columns: dict[str, np.ndarray] = {}

    def get(self, group: str, c: int, column: str) -> float:
        """The value of ``column`` for class ``c`` in ``group``."""
        values = self._columns.get(column)
        if values is None:
            values = self._columns[column] = self._frame[column].to_numpy(dtype=np.float64)
        return float(values[self._row[(group, c)]])


def _choose_group(lookup: _Means, column: str, c: int, candidates: list[str], default_group: str,
                  reference: str, strength: pd.Series, comparison: Comparison,
                  described: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """The group whose setting class ``c`` should get, shrunk toward the default (module docstring)."""
    accuracy = {g: lookup.get(g, c, column) for g in candidates}
    accuracy = {g: a for g, a in accuracy.items() if not math.isnan(a)}
    if not accuracy:
        return default_group
    if len(candidates) <= 2:
        return reference if reference in accuracy and accuracy[reference] > accuracy.get(default_group, -1) else default_group
    best = max(accuracy, key=accuracy.__getitem__)
    n_column = "n_multilabel" if column == "acc_multilabel" else "n_images"
    n = lookup.get(best, c, n_column)
    p = accuracy[best]
    margin = math.sqrt(p * (1 - p) / n) if n > 0 else 0.0
    near = [g for g, a in accuracy.items() if a >= p - margin]
    if default_group in near:
        return default_group
    s_default = strength.get(default_group, np.nan)
    if not math.isnan(s_default) and all(not math.isnan(strength.get(g, np.nan)) for g in near):
        return min(near, key=lambda g: (abs(strength[g] - s_default), -accuracy[g]))
    if described is not None and default_group in described:  # fewest augmentations changed from the default
        base = described[default_group]
        return min(near, key=lambda g: (_n_changed(described.get(g, {}), base), -accuracy[g]))
    return best


def _n_changed(a: Mapping[str, Any], b: Mapping[str, Any]) -> int:
    """How many augmentations two group descriptions set differently (one applies it, the other not, or other values)."""
    return sum(_freeze(sorted((a.get(k) or {}).items())) != _freeze(sorted((b.get(k) or {}).items())) or
               ((k in a) != (k in b)) for k in set(a) | set(b))
