"""Inference output on disk: a prediction's plan, its shards, and the run merged from them.

Part of :mod:`relabel.inference`. With ``out``, results are written in shards of
``shard_size`` images (``OUT.shards/shard-00000.parquet``, each in relabel's run schema and
written atomically) next to a ``plan.json`` that records what the shards were made from. A
shard is finished when its schema metadata names this plan and this shard's range
(:func:`finished`); a rerun with the same plan keeps the finished ones. :func:`merge` writes
the run only when every shard is there, so an interrupted run never leaves a partial ``OUT``.
Shards are tables relabel wrote within the job: they are read back trusted
(:func:`relabel.loading.runs.run_from_arrow`).
"""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from relabel._atomic import atomic_path
from relabel.errors import InputError, RelabelWarning, format_offenders
from relabel.loading.runs import Run, RunMeta, run_from_arrow, run_to_arrow, write_run

__all__ = ["Shard", "ShardResult", "ShardWriter", "shards_dir", "prepare", "finished", "merge", "read_run",
           "assemble", "warn_skipped", "PLAN_VERSION"]

SHARD_KEY = b"relabel.shard"
PLAN_VERSION = 2  # 2: the images by key, size, modification and change time (1: by key only)


def shards_dir(out: str | Path) -> Path:
    """Where the shards of ``out`` live while a prediction is under way: ``OUT.shards/``."""
    out = Path(out)
    return out.with_name(out.name + ".shards")


@dataclass
class Shard:
    """Images ``start`` to ``stop`` (exclusive) of the source: the unit of writing and resuming."""

    index: int
    start: int
    stop: int

    @property
    def file(self) -> str:
        """The shard's file name in the shards folder."""
        return f"shard-{self.index:05d}.parquet"


@dataclass
class ShardResult:
    """One shard's predictions; ``skipped`` holds (key, reason) of unreadable images."""

    shard: Shard
    images: np.ndarray
    ids: np.ndarray
    scores: np.ndarray
    logits: np.ndarray | None
    skipped: list[tuple[str, str]]


def prepare(folder: Path, plan: dict[str, Any], restart: bool) -> None:
    """Make ``folder`` hold this plan: refuse (or with ``restart`` discard) shards of another plan."""
    plan_file = folder / "plan.json"
    if restart and folder.exists():
        shutil.rmtree(folder)
    if plan_file.is_file():
        try:
            old = json.loads(plan_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = None
        if old != plan:
            differ = sorted(k for k in set(plan) | set(old or {}) if (old or {}).get(k) != plan.get(k))
            raise InputError(
                f"{folder} holds shards of another prediction (it differs in {', '.join(differ)}); pass "
                f"restart=True (CLI: --restart) to discard them, or choose another output file"
            )
        return
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(plan_file) as tmp:
        tmp.write_text(json.dumps(plan, indent=2, sort_keys=True), encoding="utf-8")


def _shard_info(path: Path) -> dict[str, Any] | None:
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
        return json.loads(metadata[SHARD_KEY])
    except Exception:  # unreadable or foreign file: recompute the shard
        return None


def finished(path: Path, shard: Shard, plan_id: str) -> bool:
    """Whether ``path`` is this shard, written under this plan (a shard is written whole or not at all)."""
    if not path.is_file():
        return False
    info = _shard_info(path)
    return info is not None and info.get("plan") == plan_id and (info.get("index"), info.get("start"),
                                                                 info.get("stop")) == (shard.index, shard.start,
                                                                                       shard.stop)


class ShardWriter:
    """Writes each finished shard atomically, its plan and range in the schema metadata."""

    def __init__(self, folder: Path, plan_id: str) -> None:
        self.folder, self.plan_id = folder, plan_id

    def __call__(self, result: ShardResult) -> None:
        import pyarrow.parquet as pq

        shard = result.shard
        table = run_to_arrow(Run(RunMeta("shard"), result.images, result.ids, result.scores, result.logits))
        info = {"plan": self.plan_id, "index": shard.index, "start": shard.start, "stop": shard.stop,
                "skipped": result.skipped}
        table = table.replace_schema_metadata({SHARD_KEY: json.dumps(info).encode()})
        with atomic_path(self.folder / shard.file) as tmp:
            pq.write_table(table, tmp)


def merge(folder: Path, shards: list[Shard], plan_id: str, meta: RunMeta, out: Path,
          origin: dict[str, Any] | None = None) -> Run:
    """Concatenate every shard in image order and write the run atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    missing = [s.file for s in shards if not finished(folder / s.file, s, plan_id)]
    if missing:
        raise InputError(f"{folder}: cannot merge, shards {format_offenders(missing)} are missing or incomplete")
    tables, skipped = [], []
    for shard in shards:
        table = pq.read_table(folder / shard.file)
        skipped += json.loads(table.schema.metadata[SHARD_KEY])["skipped"]
        tables.append(table.replace_schema_metadata(None))
    run = run_from_arrow(pa.concat_tables(tables), meta=meta, trusted=True, source=str(out))
    if run.n_images == 0:
        raise InputError(f"{out}: no image could be read ({format_offenders([k for k, _ in skipped])})")
    warn_skipped(skipped)
    write_run(run, out, origin=origin)
    return run


def read_run(out: Path, meta: RunMeta) -> Run:
    """The run rank 0 merged into ``out``, as the other ranks return it."""
    import pyarrow.parquet as pq

    return run_from_arrow(pq.read_table(out), meta=meta, trusted=True, source=str(out))


def assemble(meta: RunMeta, results: list[ShardResult], *, source: str) -> Run:
    """The run from shard results held in memory (a prediction without ``out``)."""
    results = sorted(results, key=lambda r: r.shard.index)
    skipped = [s for r in results for s in r.skipped]
    kept = [r for r in results if len(r.images)]
    if not kept:
        raise InputError(f"{source}: no image could be read ({format_offenders([k for k, _ in skipped])})")
    warn_skipped(skipped)
    logits = np.concatenate([r.logits for r in kept]) if kept[0].logits is not None else None
    return Run(meta, np.concatenate([r.images for r in kept]).astype(object), np.concatenate([r.ids for r in kept]),
               np.concatenate([r.scores for r in kept]), logits, source=source)


def warn_skipped(skipped: list[Any]) -> None:
    """One warning that counts and names the unreadable images left out (``on_error="skip"``)."""
    if skipped:
        first_reason = skipped[0][1]
        warnings.warn(
            f"skipped {len(skipped)} unreadable image{'s' if len(skipped) != 1 else ''} "
            f"({format_offenders([k for k, _ in skipped])}; first reason: {first_reason})",
            RelabelWarning, stacklevel=5,
        )
