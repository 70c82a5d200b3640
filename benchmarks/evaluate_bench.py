"""Benchmark `relabel evaluate` on 6 simulated ImageNet-size runs (50,000 images, top-5).

Writes the runs as Parquet files in a temporary folder, then measures in one process run:

* the CLI end to end (``relabel evaluate --annotations real --manifest …``) as a subprocess:
  wall time and peak resident memory of that process;
* the library path in-process (load runs, pair, evaluate): wall time;
* a plain baseline doing the same per-class scoring one image at a time in Python
  (``tests/reference.py``), on the same paired arrays: wall time and the ratio.

Usage: python benchmarks/evaluate_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from reference import per_class_accuracy  # noqa: E402

from relabel import evaluate, load_annotations, load_run, pair, simulate_runs, write_run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    annotations = load_annotations("real")
    simulated = simulate_runs(annotations, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lines = ["annotations: real", "runs:"]
        for run in simulated.runs:
            write_run(run, folder / f"{run.meta.name}.parquet")
            lines.append(f"  - {{path: {run.meta.name}.parquet}}")
        (folder / "runs.yaml").write_text("\n".join(lines) + "\n")
        size_mb = sum(p.stat().st_size for p in folder.glob("*.parquet")) / 2**20

        cli_times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "relabel.cli", "evaluate", "--manifest", str(folder / "runs.yaml"),
                 "--out", str(folder / "out")],
                check=True, capture_output=True,
            )
            cli_times.append(time.perf_counter() - start)
        peak_child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

        lib_times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            space = annotations.label_space
            evaluations = [evaluate(pair(load_run(p, label_space=space), annotations))
                           for p in sorted(folder.glob("*.parquet"))]
            lib_times.append(time.perf_counter() - start)

        paired = [pair(load_run(p, label_space=annotations.label_space), annotations)
                  for p in sorted(folder.glob("*.parquet"))]
        sets = annotations.multilabel_sets()
        start = time.perf_counter()
        for pr in paired:
            per_class_accuracy(pr.true_index.tolist(), pr.pred_index.tolist(), [sets[r] for r in pr.rows], 1000)
        baseline = time.perf_counter() - start
        start = time.perf_counter()
        for pr in paired:
            evaluate(pr)
        vectorised = time.perf_counter() - start

    print(f"runs: {len(simulated.runs)} x 50,000 images, top-5, Parquet {size_mb:.1f} MiB in all")
    print(f"relabel evaluate (CLI subprocess, import + ReaL + 6 runs + write): median {np.median(cli_times):.2f} s, "
          f"peak RSS {peak_child_mb:.0f} MiB")
    print(f"library load + pair + evaluate, 6 runs: median {np.median(lib_times):.2f} s")
    print(f"scoring only: vectorised {vectorised:.3f} s vs plain Python loop {baseline:.3f} s "
          f"-> {baseline / vectorised:.1f}x")
    del evaluations


if __name__ == "__main__":
    main()
