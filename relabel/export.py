"""Export: every file relabel writes goes through here, atomically (temp file + rename).

A failed write leaves no half-written file and never touches the target; existing files are
replaced only when the caller asked for that path.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from relabel.categorisation import Categorisation
from relabel.comparison import Comparison
from relabel.errors import InputError
from relabel.evaluation import Evaluation, evaluation_table
from relabel.loading.runs import Run, run_to_arrow

if TYPE_CHECKING:
    from relabel.overrides import Overrides
    from relabel.recommendation import Recommendation

__all__ = [
    "atomic_path",
    "write_table",
    "write_run",
    "write_evaluations",
    "write_comparison",
    "write_categorisation",
    "write_overrides",
    "write_recommendation",
    "write_recommendation_table",
]


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _write(path: str | Path, writer: Callable[[Path], None]) -> Path:
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def write_table(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame as Parquet or CSV, chosen by the suffix."""
    suffix = Path(path).suffix.lower()
    if suffix == ".parquet":
        return _write(path, lambda tmp: table.to_parquet(tmp, index=False))
    if suffix == ".csv":
        return _write(path, lambda tmp: table.to_csv(tmp, index=False))
    raise ValueError(f"unsupported table format {suffix!r}; use .parquet or .csv")


def write_run(run: Run, path: str | Path) -> Path:
    """Write a run in relabel's Parquet schema (metadata in the schema metadata)."""
    import pyarrow.parquet as pq

    return _write(path, lambda tmp: pq.write_table(run_to_arrow(run), tmp))


def write_evaluations(evaluations: list[Evaluation], out_dir: str | Path, *, simulated: bool = False) -> list[Path]:
    """Write the per-class and overall tables (Parquet + CSV) and ``evaluate_params.json`` into ``out_dir``.

    ``evaluate_params.json`` records the runs and whether their predictions were simulated (the
    demo), so that a report made later from the folder says so.
    """
    out = Path(out_dir)
    per_class = evaluation_table(evaluations)
    overall = pd.DataFrame(
        [{"run": ev.meta.name, "group": ev.meta.group, "strength": ev.meta.strength, "seed": ev.meta.seed, **ev.overall}
         for ev in evaluations]
    )
    written = []
    for name, table in (("per_class", per_class), ("overall", overall)):
        for suffix in (".parquet", ".csv"):
            written.append(write_table(table, out / f"{name}{suffix}"))
    params = {"simulated": simulated, "runs": [ev.meta.to_dict() | ev.params for ev in evaluations]}
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
    written = []
    for name, table in tables.items():
        if table.empty and not len(table.columns):
            continue
        for suffix in (".parquet", ".csv"):
            written.append(write_table(table, out / f"{name}{suffix}"))
    params = {**comparison.params, "notes": list(comparison.notes)}
    written.append(_write_json(params, out / "comparison_params.json"))
    return written


def write_categorisation(categorisation: Categorisation, out_dir: str | Path) -> list[Path]:
    """Write the pair and class tables (Parquet + CSV), the thresholds (JSON) and any WordNet map (CSV)."""
    out = Path(out_dir)
    written = []
    for name, table in (("categorisation_pairs", categorisation.pairs), ("categorisation_classes", categorisation.classes)):
        for suffix in (".parquet", ".csv"):
            written.append(write_table(table, out / f"{name}{suffix}"))
    written.append(_write_json(categorisation.params, out / "categorisation_params.json"))
    if categorisation.wordnet_map is not None:
        written.append(write_table(categorisation.wordnet_map, out / "wordnet_map.csv"))
    return written


def _write_json(data: object, path: Path) -> Path:
    return _write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8"))


def write_overrides(overrides: Overrides, path: str | Path, *, classes: Any = None) -> Path:
    """Write an override file atomically: ``.json``, ``.yaml``/``.yml`` or ``.csv`` (``classes`` gives ``class_index``)."""
    from relabel.overrides import write

    return write(overrides, path, classes=classes)


def write_recommendation(recommendation: Recommendation, path: str | Path, *, label_space: Any = None) -> list[Path]:
    """Write the override file (format by suffix: .json, .yaml, .yml) and a flat CSV beside it."""
    target = Path(path)
    if target.suffix.lower() not in {".json", ".yaml", ".yml"}:
        raise InputError(f"override file {target}: expected a .json, .yaml or .yml name (a flat .csv is written beside it)")
    written = [write_overrides(recommendation.overrides, target, classes=label_space)]
    written.append(write_overrides(recommendation.overrides, target.with_suffix(".csv"), classes=label_space))
    return written


def write_recommendation_table(recommendation: Recommendation, out_dir: str | Path, *,
                               override_file: str | Path | None = None) -> list[Path]:
    """Write the recommendation's per-class table (Parquet + CSV) and its effect and settings (JSON).

    ``recommendation_params.json`` also records where the override file was written
    (``override_file``, relative to ``out_dir``), so that ``relabel report`` finds it.
    """
    out = Path(out_dir)
    written = [write_table(recommendation.table, out / f"recommendation{suffix}") for suffix in (".parquet", ".csv")]
    info: dict[str, Any] = {"params": recommendation.params, "effect": recommendation.effect}
    if override_file is not None:
        info["override_file"] = os.path.relpath(Path(override_file).resolve(), out.resolve())
    written.append(_write_json(info, out / "recommendation_params.json"))
    return written
