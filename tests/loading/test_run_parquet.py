"""relabel's run Parquet has one owner, loading/runs.py: write_run, and one reader, run_from_arrow."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from numpy.testing import assert_array_equal

from relabel import InputError, LabelSpace, Run, RunMeta
from relabel.loading.runs import load_run, run_from_arrow, run_to_arrow, write_run

SPACE = LabelSpace.from_names(["cat", "dog", "fox"])


def _run(ids, logits=None) -> Run:
    images = np.array([f"img{i}.jpg" for i in range(len(ids))], dtype=object)
    scores = np.full(np.shape(ids), 0.5, dtype=np.float32)
    return Run(RunMeta("r", "g", 0.5, 1), images, np.asarray(ids), scores, logits)


def test_trusted_and_checked_reads_of_one_table_agree(tmp_path):
    logits = np.array([[3.0, 1.0, 0.0], [0.0, 2.0, 1.0]], dtype=np.float32)
    path = write_run(_run([[0, 1], [1, 2]], logits), tmp_path / "r.parquet")
    table = pq.read_table(path)
    trusted = run_from_arrow(table, meta=RunMeta("r"), trusted=True, source=str(path))
    checked = run_from_arrow(table, meta=RunMeta("r"), label_space=SPACE, source=str(path))
    loaded = load_run(path, label_space=SPACE, keep_logits=True)
    for run in (trusted, checked, loaded):
        assert run.images.tolist() == ["img0.jpg", "img1.jpg"]
        assert_array_equal(run.topk_ids, [[0, 1], [1, 2]])
        assert_array_equal(run.logits, logits)
        assert run.topk_ids.dtype == np.int64 and run.topk_scores.dtype == np.float32


def test_a_checked_read_refuses_what_the_label_space_does_not_have():
    table = run_to_arrow(_run([[0, 7]]))
    with pytest.raises(InputError, match=r"shard\.parquet.*7"):
        run_from_arrow(table, meta=RunMeta("r"), label_space=SPACE, source="shard.parquet")
    with pytest.raises(InputError, match=r"shard\.parquet: reading a run table needs the label space"):
        run_from_arrow(table, meta=RunMeta("r"), source="shard.parquet")
    # trusted: relabel's own table within one job, read as written
    assert_array_equal(run_from_arrow(table, meta=RunMeta("r"), trusted=True).topk_ids, [[0, 7]])


def test_write_run_moved_and_the_old_names_warn(tmp_path):
    import relabel.export

    assert relabel.write_run is write_run
    with pytest.warns(DeprecationWarning, match=r"relabel\.export\.write_run moved to relabel\.loading\.runs"):
        old = relabel.export.write_run
    assert old is write_run
    with pytest.warns(DeprecationWarning, match=r"relabel\.export\.atomic_path moved to relabel\._atomic"):
        from relabel.export import atomic_path
    with atomic_path(tmp_path / "x.txt") as tmp:
        tmp.write_text("x")
    assert (tmp_path / "x.txt").read_text() == "x"
