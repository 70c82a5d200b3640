"""A many-group fixture: 5 recipes × 3 losses (as in the AgMax table), simulated by relabel.synthetic.

Every group is the treatment of :func:`relabel.simulate_runs` on the same annotations and seed
(so the classes' base accuracies agree), with its own planted pairs, shift and gain; the
reference is ``standard / baseline`` (the simulation's reference group). Groups have no
strength: a recipe × loss grid is not a strength axis.
"""

from __future__ import annotations

import relabel
from relabel import Run, RunMeta
from relabel.synthetic import IMAGENET_PLANTED_PAIRS

RECIPES = ("standard", "cutout", "mixup", "cutmix", "autoaugment")
LOSSES = ("baseline", "label smoothing", "agmax")
REFERENCE = "standard / baseline"


def _renamed(runs: tuple[Run, ...], group: str) -> list[Run]:
    out = []
    for run in runs:
        meta = RunMeta(f"{group} seed{run.meta.seed}", group, None, run.meta.seed)
        out.append(Run(meta, run.images, run.topk_ids, run.topk_scores, None, source=f"simulated:{meta.name}"))
    return out


def sweep_runs(annotations: relabel.Annotations, n_seeds: int = 2) -> list[Run]:
    """The 15 groups' runs (``n_seeds`` each), the reference first."""
    runs: list[Run] = []
    pairs = IMAGENET_PLANTED_PAIRS
    for i, recipe in enumerate(RECIPES):
        for j, loss in enumerate(LOSSES):
            group = f"{recipe} / {loss}"
            if group == REFERENCE:
                base = relabel.simulate_runs(annotations, seed=0, n_seeds=n_seeds, planted=pairs[:1],
                                             reverse_share=0.0)
                runs[:0] = _renamed(tuple(r for r in base.runs if r.meta.group == base.reference_group), group)
                continue
            planted = pairs[(i + j) % 4:(i + j) % 4 + i + 1] if i else ()
            simulated = relabel.simulate_runs(annotations, seed=0, n_seeds=n_seeds, planted=planted or pairs[:1],
                                              shift=0.3 + 0.12 * i if planted else 0.0,
                                              gain=0.012 * j - 0.004 * i, reverse_share=0.0)
            runs += _renamed(tuple(r for r in simulated.runs if r.meta.group == simulated.treatment_group), group)
    return runs
