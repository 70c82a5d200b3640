"""Benchmark ``relabel evaluate`` at sweep scale: R runs x 50,000 images (top-5), old code vs new.

Writes R simulated runs (groups of ``--seeds`` seeds, on the real ReaL labels) as Parquet files
with relabel's own writer in a temporary folder, and a manifest with each group's augmentation.
Then, for each configuration, runs in a fresh subprocess what the CLI does for a sweep::

    relabel evaluate --manifest runs.yaml --reference ref --out out/ --recommend out/overrides.yaml

(evaluate -> compare -> categorise -> recommend -> write), and reports the command's wall time
and the peak resident memory of that process (``ru_maxrss``: numpy and Arrow buffers included,
which tracemalloc misses). The baseline is the code of ``--baseline-rev`` (default: the commit
this branch started from), extracted with ``git archive`` into the temporary folder and run with
the same interpreter in the same run; the script checks that both write the same bytes.

``--breakdown`` also prints where one run's memory goes (the Run's arrays, the Evaluation's
frames) under both versions.

``--stages`` prints each stage's wall time (annotations, load+pair+evaluate and its parts, compare and
its bootstrap and flows, categorise, recommend, provenance, writing); ``--new-only`` skips the
baseline; ``--data DIR`` keeps the simulated runs (e.g. under /tmp, never in the repository) for the
next call.

Usage: python benchmarks/sweep_bench.py [--runs 100 1000] [--seeds 10] [--baseline-rev REV] [--stages]
       [--new-only] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE_REV = "56419eb"

#: Run in each child: the CLI in-process, then its own peak RSS (ru_maxrss is in KiB on Linux) and, with
#: RELABEL_BENCH_STAGES=1, the wall time of each stage (the functions below, where that code has them).
_CHILD = """
import importlib, json, os, resource, sys, time
start = time.perf_counter()
from relabel.cli.main import cli
stages = {}
def clocked(module, name, label):
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return
    if not hasattr(mod, name):
        return
    inner = getattr(mod, name)
    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            stages[label] = stages.get(label, 0.0) + time.perf_counter() - t
    setattr(mod, name, timed)
if os.environ.get("RELABEL_BENCH_STAGES") == "1":
    for module, name, label in [
            ("relabel.cli.inputs", "load_annotations", "annotations"),
            ("relabel.cli.inputs", "evaluate_runs", "load+pair+evaluate"),
            ("relabel.cli.evaluate", "load_annotations", "annotations"),
            ("relabel.cli.evaluate", "load_runs", "load runs (all, then pair+evaluate)"),
            ("relabel.cli.evaluate", "evaluate_paired", "  evaluate"),
            ("relabel.cli.evaluate", "pair", "  pair"),
            ("relabel.evaluation", "load_run", "  load_run (read, validate)"),
            ("relabel.evaluation", "pair", "  pair"),
            ("relabel.evaluation", "evaluate", "  evaluate"),
            ("relabel.cli.evaluate", "compare", "compare"),
            ("relabel.comparison", "bootstrap_deltas", "  bootstrap (classes and flows)"),
            ("relabel.comparison", "_flows", "  flows (its bootstrap included)"),
            ("relabel.comparison", "_group_flows", "  flows (thread time, its bootstrap included)"),
            ("relabel.cli.evaluate", "categorise", "categorise"),
            ("relabel.cli.evaluate", "recommend", "recommend"),
            ("relabel.cli.evaluate", "collect", "provenance (file hashes)"),
            ("relabel.cli.evaluate", "write_results", "write results (Parquet + CSV)"),
            ("relabel.cli.evaluate", "render_comparison", "render summary")]:
        clocked(module, name, label)
try:
    cli.main(sys.argv[1:], standalone_mode=False)
finally:
    wall = time.perf_counter() - start
    print(json.dumps({"wall_s": wall, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "stages": stages}), file=sys.stderr)
"""

#: Where one run's bytes go: the Run's arrays and the Evaluation's parts, in MiB.
_BREAKDOWN = """
import json, sys
import numpy as np, pandas as pd
from relabel import evaluate, load_annotations, load_run, pair
ann = load_annotations("real")
run = load_run(sys.argv[1], label_space=ann.label_space)
ev = evaluate(pair(run, ann))
mib = lambda b: round(b / 2**20, 3)
out = {"run.images (object array + str objects)": mib(run.images.nbytes + sum(sys.getsizeof(s) for s in run.images)),
       f"run.topk_ids ({run.topk_ids.dtype})": mib(run.topk_ids.nbytes),
       f"run.topk_scores ({run.topk_scores.dtype})": mib(run.topk_scores.nbytes)}
for name in ("per_class", "confusion"):
    out[f"evaluation.{name}"] = mib(getattr(ev, name).memory_usage(deep=True).sum())
compact = getattr(ev, "compact", None)
if compact is None:
    out["evaluation.per_image"] = mib(ev.per_image.memory_usage(deep=True).sum())
else:
    out["evaluation.compact (own arrays)"] = mib(compact.own_nbytes)
    out["evaluation.compact (shared across runs of one image list)"] = mib(compact.shared_nbytes)
print(json.dumps(out))
"""


def _write_runs(folder: Path, n_runs: int, seeds: int) -> list[dict]:
    """Write ``n_runs`` runs (pairs of groups from simulate_runs, ``seeds`` seeds each); their manifest entries."""
    from relabel import load_annotations, simulate_runs, write_run

    annotations = load_annotations("real")
    entries: list[dict] = []
    block = 0
    while len(entries) < n_runs:
        simulated = simulate_runs(annotations, seed=block, n_seeds=seeds)
        for run in simulated.runs:
            if len(entries) == n_runs:
                break
            group = "ref" if block == 0 and run.meta.group == "rrc-0.5" else f"{run.meta.group}-b{block}"
            path = folder / f"run{len(entries):04d}.parquet"
            write_run(run, path)
            entries.append({"path": path.name, "name": f"{group}-s{run.meta.seed}", "group": group,
                            "strength": run.meta.strength, "seed": run.meta.seed,
                            "augmentation": simulated.augmentations[run.meta.group]})
        block += 1
    return entries


def _manifest(folder: Path, entries: list[dict]) -> Path:
    groups = {e["group"]: e["augmentation"] for e in entries}
    lines = ["annotations: real", "groups:"]
    lines += [f"  {group}: {json.dumps(aug)}" for group, aug in groups.items()]
    lines.append("runs:")
    lines += [f"  - {{path: {e['path']}, name: {e['name']}, group: {e['group']}, strength: {e['strength']}, "
              f"seed: {e['seed']}}}" for e in entries]
    path = folder / f"runs{len(entries)}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _child(code: str, args: list[str], pythonpath: Path, env_extra: dict | None = None) -> tuple[str, str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath), "OMP_NUM_THREADS": "1", **(env_extra or {})}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd="/")
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({pythonpath}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout, done.stderr


def _evaluate(manifest: Path, out: Path, code_root: Path, stages: bool = False) -> dict:
    args = ["evaluate", "--manifest", str(manifest), "--reference", "ref", "--out", str(out),
            "--recommend", str(out / "overrides.yaml"), "--quiet"]
    _, err = _child(_CHILD, args, code_root, {"RELABEL_BENCH_STAGES": "1" if stages else "0"})
    return json.loads(err.strip().splitlines()[-1])


def _stage_lines(label: str, result: dict) -> list[str]:
    """One line per stage: seconds and share of the wall time."""
    wall = result["wall_s"]
    return [f"    {label} {name:34s} {seconds:7.1f} s  {100 * seconds / wall:4.0f}%"
            for name, seconds in result.get("stages", {}).items()]


def _same_outputs(a: Path, b: Path) -> list[str]:
    """Files of two results folders whose bytes differ (the folders' own paths aside); provenance is left out."""
    import pandas as pd

    differ = []
    names = sorted({p.relative_to(a) for p in a.rglob("*") if p.is_file()}
                   | {p.relative_to(b) for p in b.rglob("*") if p.is_file()})
    for name in names:
        if "provenance" in str(name) or name.suffix in (".html", ".png", ".lock"):
            continue
        fa, fb = a / name, b / name
        if not (fa.is_file() and fb.is_file()):
            differ.append(f"{name} (only in one)")
        elif name.suffix == ".parquet":
            if fa.read_bytes() != fb.read_bytes():
                same = pd.read_parquet(fa).equals(pd.read_parquet(fb))
                differ.append(f"{name}{' (the same table, other bytes)' if same else ''}")
        elif name.suffix in (".csv", ".yaml", ".json", ".md", ".txt"):
            # the folders' own paths (the --out and --recommend options) are the one expected difference
            text_a, text_b = fa.read_text().replace(str(a), "OUT"), fb.read_text().replace(str(b), "OUT")
            if text_a != text_b:
                differ.append(str(name))
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[100, 1000],
                        help="R values; the smallest is also run with the baseline code")
    parser.add_argument("--seeds", type=int, default=10, help="seeds per group")
    parser.add_argument("--baseline-rev", default=BASE_REV)
    parser.add_argument("--baseline-max", type=int, default=100, help="largest R run with the baseline code")
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--new-only", action="store_true", help="run only this tree's code (no baseline)")
    parser.add_argument("--stages", action="store_true", help="print each stage's wall time")
    parser.add_argument("--data", type=Path, metavar="DIR",
                        help="keep the simulated runs in DIR (made if missing) and reuse them on the next call; "
                             "default: a temporary folder, removed afterwards")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        baseline = folder / "baseline"
        baseline.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline_rev, "relabel"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive, check=True)
        data = args.data.resolve() if args.data is not None else folder
        data.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        listing = data / f"entries-{args.seeds}.json"
        entries = json.loads(listing.read_text()) if listing.is_file() else []
        if len(entries) < max(args.runs):
            entries = _write_runs(data, max(args.runs), args.seeds)
            listing.write_text(json.dumps(entries))
            verb = "wrote"
        else:
            verb = f"reused (from {data})"
        entries = entries[:max(args.runs)]
        size = sum((data / e["path"]).stat().st_size for e in entries) / 2**20
        print(f"{verb} {len(entries)} runs x 50,000 images top-5 ({size:.0f} MiB Parquet) in "
              f"{time.perf_counter() - start:.0f} s; groups of {args.seeds} seeds, reference 'ref'")
        if args.breakdown:
            for label, code_root in (("old", baseline), ("new", ROOT)):
                out, _ = _child(_BREAKDOWN, [str(data / entries[0]["path"])], code_root)
                parts = json.loads(out.strip().splitlines()[-1])
                print(f"one run, {label}: {sum(parts.values()):.2f} MiB = " +
                      ", ".join(f"{k} {v:.2f}" for k, v in parts.items()))
        for r in sorted(args.runs):
            manifest = _manifest(data, entries[:r])
            new = _evaluate(manifest, folder / f"new{r}", ROOT, args.stages)
            line = f"R={r}: new {new['wall_s']:.1f} s, peak {new['peak_mib']:.0f} MiB"
            old = None
            if r <= args.baseline_max and not args.new_only:
                old = _evaluate(manifest, folder / f"old{r}", baseline, args.stages)
                differ = _same_outputs(folder / f"old{r}", folder / f"new{r}")
                line += (f"; old ({args.baseline_rev}) {old['wall_s']:.1f} s, peak {old['peak_mib']:.0f} MiB; "
                         f"time old/new {old['wall_s'] / new['wall_s']:.2f}x, "
                         f"peak old/new {old['peak_mib'] / new['peak_mib']:.2f}x; "
                         f"outputs {'identical' if not differ else 'DIFFER: ' + ', '.join(differ)}")
            print(line, flush=True)
            if args.stages:
                print("\n".join(_stage_lines("new", new) + (_stage_lines("old", old) if old else [])), flush=True)


if __name__ == "__main__":
    main()
