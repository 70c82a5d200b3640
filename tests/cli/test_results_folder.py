"""`relabel evaluate --out DIR` as a user runs it twice: the folder holds one run's results, never a mix.

The files are real (a label space CSV, annotations JSON, a relabel run Parquet and a CSV run), the
command is the CLI, and `relabel report` reads the folder back through export.read_results.
"""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import relabel
from relabel import Run, RunMeta, write_run
from relabel.cli.main import cli


@pytest.fixture
def files(tmp_path):
    (tmp_path / "classes.csv").write_text("key,name\nlaptop,laptop\nnotebook,notebook\ndesk,desk\nmonitor,monitor\n")
    rng = np.random.default_rng(0)
    keys = [f"img{i}.jpg" for i in range(80)]
    truth = np.repeat(np.arange(4), 20)
    names = ["laptop", "notebook", "desk", "monitor"]
    (tmp_path / "labels.json").write_text(json.dumps(
        {k: {"original": names[t], "labels": [names[t]]} for k, t in zip(keys, truth)}))
    base = np.where(rng.uniform(size=80) < 0.9, truth, (truth + 1) % 4)
    strong = base.copy()
    strong[truth == 0] = np.where(rng.uniform(size=20) < 0.5, 1, 0)  # laptop loses half its images to notebook
    for seed in (0, 1):
        write_run(Run(RunMeta(f"base{seed}", "rrc-0.5", 0.5, seed), np.array(keys, dtype=object), base[:, None]),
                  tmp_path / f"base{seed}.parquet")
        write_run(Run(RunMeta(f"strong{seed}", "rrc-0.08", 0.08, seed), np.array(keys, dtype=object),
                      strong[:, None]), tmp_path / f"strong{seed}.parquet")
    return tmp_path


def _evaluate(files, out, *extra):
    runs = [files / f"{name}{seed}.parquet" for name in ("base", "strong") for seed in (0, 1)]
    args = ["evaluate", "--annotations", files / "labels.json", "--label-space", files / "classes.csv", *runs,
            "--out", out, *extra]
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_second_run_replaces_the_whole_folder_and_keeps_your_files(files):
    out = files / "results"
    first = _evaluate(files, out, "--reference", "rrc-0.5", "--n-bootstrap", "200")
    assert first.exit_code == 0, first.output
    assert {"comparison_per_class.parquet", "categorisation_classes.parquet", "comparison_params.json"} <= set(
        _names(out))
    (out / "notes.txt").write_text("my notes")
    report = CliRunner().invoke(cli, ["report", str(out)], catch_exceptions=False)
    assert report.exit_code == 0, report.output
    assert (out / "report" / "index.html").is_file()

    second = _evaluate(files, out)  # no --reference: no comparison this time
    assert second.exit_code == 0, second.output
    assert _names(out) == ["evaluate_params.json", "notes.txt", "overall.csv", "overall.parquet", "per_class.csv",
                           "per_class.parquet", "provenance.json", "report"]
    assert (out / "notes.txt").read_text() == "my notes"
    # what relabel report reads back is this run's results alone (before: the old comparison beside new tables)
    results = relabel.read_results(out)
    assert results.comparison is None and results.categorisation is None
    assert sorted(results.runs["run"]) == ["base0", "base1", "strong0", "strong1"]
    assert not [p for p in files.iterdir() if p.name.startswith(".results.")]


def test_a_write_that_fails_half_way_leaves_the_earlier_results(files, monkeypatch):
    out = files / "results"
    assert _evaluate(files, out, "--reference", "rrc-0.5", "--n-bootstrap", "200").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("relabel.export.write_categorisation", broken)
    result = CliRunner().invoke(cli, ["evaluate", "--annotations", str(files / "labels.json"), "--label-space",
                                      str(files / "classes.csv"), str(files / "base0.parquet"),
                                      str(files / "strong0.parquet"), "--out", str(out), "--reference", "rrc-0.5",
                                      "--n-bootstrap", "200"])
    assert result.exit_code != 0 and isinstance(result.exception, OSError)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in files.iterdir() if p.name.startswith(".results.")]


def test_results_are_readable_by_others_under_umask_022(files):
    old = os.umask(0o022)
    try:
        out = files / "results"
        assert _evaluate(files, out, "--reference", "rrc-0.5", "--n-bootstrap", "200",
                         "--report", files / "page").exit_code == 0
    finally:
        os.umask(old)
    modes = {p.relative_to(files).as_posix(): stat.S_IMODE(p.stat().st_mode)
             for folder in (out, files / "page") for p in [folder, *folder.rglob("*")]}
    assert {mode for name, mode in modes.items() if (files / name).is_dir()} == {0o755}
    assert {mode for name, mode in modes.items() if (files / name).is_file()} == {0o644}


def test_read_results_round_trips_what_write_results_wrote(files, tmp_path):
    ann = relabel.load_annotations(files / "labels.json", label_space=relabel.load_label_space(files / "classes.csv"))
    runs = relabel.load_runs(sorted(files.glob("*.parquet")), label_space=ann.label_space)
    evaluations = [relabel.evaluate(relabel.pair(run, ann)) for run in runs]
    comparison = relabel.compare(evaluations, reference="rrc-0.5", n_bootstrap=200)
    categorisation = relabel.categorise(comparison, ann, hierarchy=None)
    written = relabel.write_results(tmp_path / "out", evaluations, comparison, categorisation)
    assert all(p.parent == tmp_path / "out" and p.is_file() for p in written)
    results = relabel.read_results(tmp_path / "out")
    pd.testing.assert_frame_equal(results.per_class, relabel.evaluation.evaluation_table(evaluations))
    pd.testing.assert_frame_equal(results.runs, relabel.evaluation.overall_table(evaluations))
    pd.testing.assert_frame_equal(results.comparison.per_class, comparison.per_class.reset_index(drop=True))
    pd.testing.assert_frame_equal(results.categorisation.classes, categorisation.classes.reset_index(drop=True))
    assert results.comparison.params["reference"] == "rrc-0.5" and results.simulated is False

    (tmp_path / "out" / "comparison_flows.parquet").write_text("not parquet")
    with pytest.raises(relabel.InputError, match=r"comparison_flows\.parquet: not a readable Parquet file"):
        relabel.read_results(tmp_path / "out")
