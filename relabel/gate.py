"""The CI gate: did a comparison find any class of the candidate recipes degraded?

Stage: after :mod:`relabel.comparison`. :func:`gate` reads a :class:`~relabel.comparison.Comparison`
(computed now, or read back from a results folder) and decides, per candidate group and class,
with the comparison's own rule on the chosen metric m:

* **degraded** (``affected``): ``delta_m <= -min_drop`` and ``q_value_m <= fdr``.

The gate passes when no class of any candidate group is degraded. With the comparison's own
metric, ``min_drop`` and ``fdr`` this is exactly ``per_class["affected"]``; other thresholds
re-apply the rule to the stored deltas and q-values (q-values do not depend on the threshold
they are compared with, so the verdict equals that of a comparison computed with them).
Another ``fdr_method`` than the comparison's re-adjusts the stored p-values across each
group's classes (:func:`relabel.stats.fdr_adjust`), which is what the comparison computed with
that method would hold. Nothing else is recomputed. :meth:`Gate.to_dict` is the machine-readable line of schema
:data:`SCHEMA` (``relabel.check/1``, docs/results.md). Deltas are fractions (0.05 = 5 points).

With an A/A self-check of the reference group (:func:`relabel.self_check`, run with the gate's
own rule: metric, ``min_drop``, ``fdr``, ``fdr_method`` and ``paired``), the verdict is
**undecided** when the self-check is not calibrated: its realised FDR (the share of splits
that flag a class in either direction, :attr:`SelfCheck.rate`) is above ``fdr`` beyond Monte
Carlo error (:attr:`SelfCheck.calibrated`). The rule's intervals are then too narrow for this
design, and neither a pass nor a fail can be trusted. The gate's own false-alarm rate, the
share of splits with a falsely *degraded* class (``false_affected_rate``), is reported too; it
is at most ``rate``, so deciding on ``rate`` is the stricter reading (the q-values bound the
discoveries of both directions together).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from relabel._version import __version__
from relabel.comparison import Comparison, Metric
from relabel.errors import ComparisonError, quoted
from relabel.selfcheck import SelfCheck
from relabel.stats import FDR_METHOD_NAMES, FDR_METHODS, fdr_adjust

__all__ = ["SCHEMA", "Gate", "gate"]

SCHEMA = "relabel.check/1"

_CLASS_COLUMNS = ("group", "class_index", "class_key", "class_name", "n_images", "delta", "ci_low", "ci_high",
                  "q_value", "affected")


@dataclass(frozen=True)
class Gate:
    """The verdict of :func:`gate`.

    Attributes
    ----------
    groups
        One row per candidate group, in the comparison's order: ``group``, ``n_classes``
        (classes with a delta on the metric), ``n_affected`` (degraded classes), ``worst_delta``
        (the lowest delta, a fraction) and ``median_detectable_drop`` (the comparison's median
        ``detectable_drop``; NaN when the gate's thresholds or metric differ from the
        comparison's, for which it was not computed).
    classes
        One row per (candidate group, class): ``group``, ``class_index``, ``class_key``,
        ``class_name``, ``n_images``, ``delta``, ``ci_low``, ``ci_high``, ``q_value`` (the
        metric's columns of the comparison) and ``affected`` (the rule of the module
        docstring). Per group: degraded classes first, then by delta (largest drop first),
        then by class index.
    params
        ``reference``, ``groups`` (the candidates), ``metric``, ``min_drop``, ``fdr``, the
        comparison's ``paired``, ``n_bootstrap`` and ``seed``, and ``fdr_method`` (the one
        applied) where the comparison records one or one was given.
    self_check
        The A/A self-check of the reference group the verdict rests on, or ``None``.
    """

    groups: pd.DataFrame
    classes: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)
    self_check: SelfCheck | None = None

    @property
    def passed(self) -> bool:
        """No class of any candidate group is degraded (the rule's verdict, whatever the self-check says)."""
        return not bool(self.classes["affected"].any())

    @property
    def decided(self) -> bool:
        """No self-check was run, or it is calibrated: the rule's verdict can be trusted."""
        return self.self_check is None or self.self_check.calibrated

    @property
    def status(self) -> str:
        """``pass``, ``fail``, or ``undecided`` when the self-check is above the FDR (module docstring)."""
        if not self.decided:
            return "undecided"
        return "pass" if self.passed else "fail"

    @property
    def reason(self) -> str | None:
        """Why the verdict is undecided (``None`` when it is not)."""
        check = self.self_check
        if check is None or self.decided:
            return None
        p = check.params
        n = len(check.splits)
        n_affected = int(self.groups["n_affected"].sum())
        rule = "pass" if self.passed else f"fail, {n_affected} class{'es' if n_affected != 1 else ''} degraded"
        mixed = ", or the group's runs are not one recipe" if p["split"] == "seeds" else ""
        return (f"the A/A self-check of group {p['group']!r} flagged a class that cannot differ in "
                f"{int(check.splits['any_false'].sum())} of {n} splits: realised FDR {100 * check.rate:.1f}% "
                f"± {100 * check.rate_error:.1f}%, above the FDR {p['fdr']:g} ({FDR_METHOD_NAMES[p['fdr_method']]}) "
                f"beyond Monte Carlo error; the rule's intervals are too narrow for this design"
                f"{mixed}, so its verdict "
                f"({rule}) cannot be trusted: use "
                f"{'more seeds or more images' if p['fdr_method'] == 'by' else 'fdr_method by, more seeds or more images'}")

    @property
    def degraded(self) -> pd.DataFrame:
        """The rows of ``classes`` that fail the gate."""
        return self.classes[self.classes["affected"].to_numpy(dtype=bool)]

    def to_dict(self, *, top: int = 5, results: str | None = None, simulated: bool = False,
                self_check_source: str | None = None) -> dict[str, Any]:
        """The ``relabel.check/1`` object (docs/results.md): verdict, thresholds and ``top`` worst classes per group.

        ``results`` names the results folder the comparison was read from (``None``: computed
        now); ``simulated`` says its runs were simulated; ``self_check_source`` names the file
        the self-check was read from (``None``: computed now).
        """
        params = self.params
        thresholds: dict[str, Any] = {"metric": params["metric"], "min_drop": params["min_drop"], "fdr": params["fdr"]}
        if params.get("fdr_method") is not None:
            thresholds["fdr_method"] = params["fdr_method"]
        groups = []
        for row in self.groups.itertuples(index=False):
            worst = self.classes[self.classes["group"] == row.group].head(top)
            groups.append({
                "group": row.group, "status": "fail" if row.n_affected else "pass", "n_classes": int(row.n_classes),
                "n_affected": int(row.n_affected), "worst_delta": _number(row.worst_delta),
                "median_detectable_drop": _number(row.median_detectable_drop),
                "worst": [{"class_index": int(c.class_index), "class_key": str(c.class_key),
                           "class_name": str(c.class_name), "n_images": int(c.n_images), "delta": _number(c.delta),
                           "ci_low": _number(c.ci_low), "ci_high": _number(c.ci_high), "q_value": _number(c.q_value),
                           "affected": bool(c.affected)} for c in worst.itertuples(index=False)],
            })
        return {
            "schema": SCHEMA, "relabel_version": __version__, "status": self.status, "reason": self.reason,
            "reference": params["reference"], "thresholds": thresholds,
            "n_affected": int(self.groups["n_affected"].sum()), "groups": groups,
            "paired": bool(params.get("paired", False)), "n_bootstrap": params.get("n_bootstrap"),
            "bootstrap_seed": params.get("seed"), "results": results, "simulated": bool(simulated),
            "self_check": None if self.self_check is None else _self_check_dict(self.self_check, self_check_source),
        }


def gate(comparison: Comparison, *, groups: Sequence[str] | None = None, metric: str | Metric | None = None,
         min_drop: float | None = None, fdr: float | None = None, fdr_method: str | None = None,
         self_check: SelfCheck | None = None) -> Gate:
    """Decide, per class of each candidate group, whether it degraded (module docstring).

    Parameters
    ----------
    comparison
        A comparison, computed by :func:`relabel.compare` or read by :func:`relabel.read_results`.
    groups
        The candidate groups (default: every group compared with the reference).
    metric, min_drop, fdr
        The rule's metric and thresholds (fractions in (0, 1)); default: the comparison's own.
    fdr_method
        ``bh`` or ``by`` (:data:`relabel.stats.FDR_METHODS`); default: the comparison's own
        (``bh`` for comparisons that record none).
    self_check
        An A/A self-check of the reference group with the gate's rule (module docstring); the
        verdict is undecided when it is not calibrated. A self-check of another group or rule
        is a :class:`~relabel.errors.ComparisonError`.
    """
    params = comparison.params
    per_class = comparison.per_class
    chosen = Metric.from_str(metric if metric is not None else params["metric"]).value
    min_drop = float(params["min_drop"] if min_drop is None else min_drop)
    fdr = float(params["fdr"] if fdr is None else fdr)
    recorded_method = str(params.get("fdr_method", "bh"))
    method = recorded_method if fdr_method is None else str(fdr_method)
    if method not in FDR_METHODS:
        raise ComparisonError(f"gate: fdr_method is one of {list(FDR_METHODS)}; got {fdr_method!r}")
    for name, value in (("min_drop", min_drop), ("fdr", fdr)):
        if not 0 < value < 1:
            raise ComparisonError(f"gate: {name} is a fraction strictly between 0 and 1 (0.05 = 5 points or 5%); "
                                  f"got {value!r}")
    needed = [f"{c}_{chosen}" for c in ("delta", "ci_low", "ci_high", "q_value")]
    readjust = method != recorded_method
    if readjust:
        needed.append(f"p_value_{chosen}")
    missing = [c for c in needed if c not in per_class]
    if missing:
        raise ComparisonError(f"gate: the comparison has no {chosen} columns ({', '.join(missing)} missing); "
                              f"{'its annotations have no multi-label sets: ' if chosen == 'multilabel' else ''}"
                              f"gate on metric {params['metric']!r}")
    reference = str(params["reference"])
    present = list(dict.fromkeys(per_class["group"].astype(str)))
    if groups is None:
        candidates = present
    else:
        candidates = list(dict.fromkeys(str(g) for g in groups))
        if reference in candidates:
            raise ComparisonError(f"gate: {reference!r} is the reference group; the candidates are the groups "
                                  f"compared with it: {present}")
        unknown = [g for g in candidates if g not in present]
        if unknown:
            raise ComparisonError(f"gate: unknown candidate group{'s' if len(unknown) > 1 else ''} "
                                  f"{', '.join(quoted(g) for g in unknown[:5])}; the comparison's groups are {present} "
                                  f"(reference {reference!r})")
    same = (chosen == params["metric"] and math.isclose(min_drop, params["min_drop"])
            and math.isclose(fdr, params["fdr"]) and not readjust)
    frames, rows = [], []
    for group in candidates:
        sub = per_class[per_class["group"].astype(str) == group]
        delta = sub[f"delta_{chosen}"].to_numpy(dtype=np.float64)
        q_value = (fdr_adjust(sub[f"p_value_{chosen}"].to_numpy(dtype=np.float64), method) if readjust
                   else sub[f"q_value_{chosen}"].to_numpy(dtype=np.float64))
        with np.errstate(invalid="ignore"):
            affected = (delta <= -min_drop) & (q_value <= fdr)  # NaN (a class without images) is never degraded
        frame = pd.DataFrame({
            "group": group, "class_index": sub["class_index"].to_numpy(dtype=np.int64),
            "class_key": sub["class_key"].astype(str).to_numpy(), "class_name": sub["class_name"].astype(str).to_numpy(),
            "n_images": sub["n_images"].to_numpy(dtype=np.int64), "delta": delta,
            "ci_low": sub[f"ci_low_{chosen}"].to_numpy(dtype=np.float64),
            "ci_high": sub[f"ci_high_{chosen}"].to_numpy(dtype=np.float64), "q_value": q_value, "affected": affected,
        })
        frame = frame.sort_values(["affected", "delta", "class_index"], ascending=[False, True, True],
                                  na_position="last", kind="stable")
        frames.append(frame)
        detectable = sub["detectable_drop"].median() if same and "detectable_drop" in sub else float("nan")
        rows.append({"group": group, "n_classes": int(np.isfinite(delta).sum()), "n_affected": int(affected.sum()),
                     "worst_delta": float(np.nanmin(delta)) if np.isfinite(delta).any() else float("nan"),
                     "median_detectable_drop": float(detectable)})
    classes = (pd.concat(frames, ignore_index=True) if frames
               else pd.DataFrame({c: [] for c in _CLASS_COLUMNS}))
    summary = pd.DataFrame(rows, columns=["group", "n_classes", "n_affected", "worst_delta", "median_detectable_drop"])
    settings = {"reference": reference, "groups": candidates, "metric": chosen, "min_drop": min_drop, "fdr": fdr,
                "paired": bool(params.get("paired", False)), "n_bootstrap": params.get("n_bootstrap"),
                "seed": params.get("seed")}
    if params.get("fdr_method") is not None or fdr_method is not None:
        settings["fdr_method"] = method
    if self_check is not None:
        _same_rule(self_check, reference=reference, metric=chosen, min_drop=min_drop, fdr=fdr, fdr_method=method,
                   paired=bool(params.get("paired", False)))
    return Gate(summary, classes, settings, self_check)


#: What a self-check must share with the gate's rule, as named in :attr:`SelfCheck.params`.
_SELF_CHECK_RULE = ("group", "metric", "min_drop", "fdr", "fdr_method", "paired")


def _same_rule(check: SelfCheck, *, reference: str, metric: str, min_drop: float, fdr: float, fdr_method: str,
               paired: bool) -> None:
    """The self-check split the reference group and tested the gate's own rule; else a ComparisonError."""
    p = check.params
    missing = [name for name in _SELF_CHECK_RULE if name not in p]
    if missing:
        raise ComparisonError(f"gate: the self-check's params lack {', '.join(missing)}; it cannot be matched with "
                              f"the gate's rule")
    wanted: dict[str, Any] = {"group": reference, "metric": metric, "min_drop": min_drop, "fdr": fdr, "fdr_method": fdr_method,
              "paired": paired}
    differ = []
    for name, value in wanted.items():
        have = p[name]
        same = (math.isclose(float(have), float(value)) if name in ("min_drop", "fdr")
                and isinstance(have, (int, float)) and not isinstance(have, bool) else str(have) == str(value))
        if not same:
            differ.append(f"{name} {have!r} (the gate's: {value!r})")
    if differ:
        raise ComparisonError(f"gate: the self-check tested another rule than the gate's: {', '.join(differ)}; "
                              f"run it on the reference group with the gate's metric, min_drop, fdr, fdr_method "
                              f"and paired")


def _self_check_dict(check: SelfCheck, source: str | None) -> dict[str, Any]:
    """The ``self_check`` object of the JSON line: the summary, the rate of falsely degraded classes, the source."""
    p = check.params
    n = len(check.splits)
    affected = float((check.splits["n_false_affected"] > 0).mean()) if n else float("nan")
    return {"group": p["group"], "split": p.get("split"), "n_splits": n, "n_bootstrap": p.get("n_bootstrap"),
            "seed": p.get("seed"), "rate": _number(check.rate), "rate_error": _number(check.rate_error),
            "false_affected_rate": _number(affected),
            "false_affected_rate_error": _number(math.sqrt(affected * (1 - affected) / n) if n else None),
            "mean_false": _number(check.mean_false), "calibrated": bool(check.calibrated), "source": source}


def _number(value: Any) -> float | None:
    """A JSON number, ``None`` where it is not defined (NaN)."""
    return None if value is None or pd.isna(value) else float(value)
