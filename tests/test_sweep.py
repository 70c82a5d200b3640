"""Sweep scale (#18): runs evaluated one at a time, held compactly, keys and pairing shared, same numbers."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shaped import CIFAR10, simulate, single_labels, write_files

from reference import confusion_counts, per_class_accuracy
from relabel import (Annotations, ImageKeys, LabelSpace, Run, RunMeta, compare, evaluate, evaluate_runs,
                     load_annotations, load_label_space, load_run, pair, write_run)
from relabel.cli.main import cli
from relabel.errors import InputError, LabelSpaceError, PairingError
from relabel.evaluation import class_id_dtype, evaluation_table, overall_table
from relabel.loading.runs import read_run_table

os.environ.setdefault("OMP_NUM_THREADS", "1")

SIZES = [1000, 30, 200, 500, 60, 300, 45, 120, 800, 90]  # unequal classes: 1,000-image and 30-image ones


def _shaped():
    """Single labels plus multi-label sets: some images with a second valid class, some with none."""
    base = single_labels(SIZES, seed=3)
    rng = np.random.default_rng(5)
    sets = []
    for t, d in zip(base.true, base.destination):
        u = rng.random()
        sets.append([] if u < 0.1 else [CIFAR10[t], CIFAR10[d]] if u < 0.3 else [CIFAR10[t]])
    return single_labels(SIZES, seed=3, multilabels=sets)


def _runs(shaped):
    groups = {"ref": (0.5, 2, {"cat": 0.9}), "strong": (0.08, 2, {"cat": 0.6, "bird": 0.95}),
              "weak": (1.0, 2, {})}
    return simulate(shaped, groups, seed=1)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    shaped = _shaped()
    runs = _runs(shaped)
    folder = tmp_path_factory.mktemp("sweep")
    manifest = write_files(folder, shaped, runs)
    return shaped, runs, folder, manifest


def _files(folder, runs):
    return [folder / f"{run.meta.name}.parquet" for run in runs]


def test_streamed_evaluations_equal_a_slow_reference(sweep):
    shaped, runs, folder, _ = sweep
    evaluations = evaluate_runs(_files(folder, runs), shaped.annotations)
    sets = shaped.annotations.multilabel_sets()
    for run, ev in zip(runs, evaluations):
        pred = run.topk_ids[:, 0]  # the runs list the annotated images in annotation order
        acc, acc_ml, n, n_ml = per_class_accuracy(shaped.true.tolist(), pred.tolist(), sets, len(SIZES))
        np.testing.assert_array_equal(ev.per_class["acc_original"].to_numpy(), acc)
        np.testing.assert_array_equal(ev.per_class["acc_multilabel"].to_numpy(), acc_ml)
        np.testing.assert_array_equal(ev.per_class["n_images"].to_numpy(), n)
        np.testing.assert_array_equal(ev.per_class["n_multilabel"].to_numpy(), n_ml)
        cells = confusion_counts(shaped.true, pred)
        assert dict(zip(zip(ev.confusion["true_index"], ev.confusion["pred_index"]), ev.confusion["count"])) == cells
        frame = ev.per_image
        assert frame.dtypes.astype(str).tolist() == ["int64", "int64", "int64", "bool", "float64"]
        np.testing.assert_array_equal(frame["row"], np.arange(len(pred)))
        np.testing.assert_array_equal(frame["pred_index"], pred)
        expected_ml = np.array([float(p in s) if s else np.nan for p, s in zip(pred, sets)])
        np.testing.assert_array_equal(frame["correct_multilabel"], expected_ml)  # NaN where the set is empty
        assert ev.overall["acc_original"] == float((pred == shaped.true).mean())


def test_streamed_path_equals_evaluating_each_run_alone(sweep):
    """Shared keys and pairing change nothing: every table of evaluate and compare is identical."""
    shaped, runs, folder, _ = sweep
    files = _files(folder, runs)
    streamed = evaluate_runs(files, shaped.annotations)
    alone = [evaluate(pair(load_run(f, label_space=shaped.space), shaped.annotations)) for f in files]
    pd.testing.assert_frame_equal(evaluation_table(streamed), evaluation_table(alone))
    pd.testing.assert_frame_equal(overall_table(streamed), overall_table(alone))
    for a, b in zip(streamed, alone):
        pd.testing.assert_frame_equal(a.confusion, b.confusion)
        pd.testing.assert_frame_equal(a.per_image, b.per_image)
    one = compare(streamed, reference="ref", n_bootstrap=200, seed=0, n_jobs=1)
    other = compare(alone, reference="ref", n_bootstrap=200, seed=0, n_jobs=1)
    for name in ("per_class", "summary", "group_means", "flows", "curves"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(other, name))
    assert one.affected["class_name"].tolist(), "the planted loss of 'cat' should be found"


def test_runs_of_one_image_list_share_one_key_array_and_rows(sweep):
    shaped, runs, folder, _ = sweep
    keys = ImageKeys()
    loaded = [load_run(f, label_space=shaped.space, keys=keys) for f in _files(folder, runs[:3])]
    assert loaded[0].images is loaded[1].images is loaded[2].images
    with pytest.raises(ValueError):
        loaded[0].images[0] = "other.png"  # held read-only: it stays as checked
    paired = [pair(run, shaped.annotations, keys=keys) for run in loaded]
    assert paired[0].rows is paired[2].rows
    evaluations = evaluate_runs(_files(folder, runs), shaped.annotations)
    assert all(ev.compact.rows is evaluations[0].compact.rows for ev in evaluations)


def test_a_run_in_another_order_or_subset_is_paired_afresh(tmp_path):
    shaped = _shaped()
    first, second = simulate(shaped, {"ref": (None, 2, {})}, seed=2)
    order = np.random.default_rng(0).permutation(first.n_images)
    shuffled = Run(second.meta, second.images[order], second.topk_ids[order], source="shuffled")
    keep = np.flatnonzero(shaped.true != 1)  # a run that leaves out the 30-image class
    part = Run(RunMeta("part", "ref", None, 5), first.images[keep], first.topk_ids[keep])
    for name, run in (("a", first), ("b", shuffled), ("c", part)):
        write_run(run, tmp_path / f"{name}.parquet")
    evaluations = evaluate_runs([tmp_path / f"{n}.parquet" for n in "abc"], shaped.annotations)
    alone = [evaluate(pair(run, shaped.annotations)) for run in (first, shuffled, part)]
    for a, b in zip(evaluations, alone):
        pd.testing.assert_frame_equal(a.per_image, b.per_image)
        pd.testing.assert_frame_equal(a.per_class, b.per_class)
    assert evaluations[2].overall["n_images"] == len(keep)


def test_a_bad_run_after_good_ones_is_still_refused_by_file_field_and_value(sweep, tmp_path):
    shaped, runs, folder, _ = sweep
    good = folder / f"{runs[0].meta.name}.parquet"
    ids = runs[1].topk_ids.copy()
    ids[7, 0] = 12  # beyond the 10 classes, in a file whose image column equals the first one's
    write_run(Run(RunMeta("bad"), runs[1].images, ids), tmp_path / "bad.parquet")
    with pytest.raises(LabelSpaceError, match=r"bad\.parquet.*topk_ids.*0\.\.9.*12.*img000007\.png"):
        evaluate_runs([good, tmp_path / "bad.parquet"], shaped.annotations)
    images = runs[1].images.copy()
    images[3] = images[4]  # a repeated key: another column, so checked afresh
    table = pd.DataFrame({"image": images, "pred_index": runs[1].topk_ids[:, 0]})
    table.to_csv(tmp_path / "twice.csv", index=False)
    with pytest.raises(InputError, match=r"twice\.csv.*unique.*img000004\.png"):
        evaluate_runs([good, tmp_path / "twice.csv"], shaped.annotations)
    with pytest.raises(InputError, match=r"each run must be its own file \(one listed twice would count as two "
                                         r"seeds\); given more than once: 1 offender: '.*ref-seed0.parquet', as the "
                                         r"runs 'ref-seed0', 'ref-seed0'"):
        evaluate_runs([good, good], shaped.annotations)
    (tmp_path / "copy").mkdir()
    same_name = tmp_path / "copy" / good.name
    same_name.write_bytes(good.read_bytes())
    with pytest.raises(InputError, match="run names must be unique"):
        evaluate_runs([good, same_name], shaped.annotations)


@pytest.mark.parametrize(("n_classes", "dtype"), [(256, np.uint8), (257, np.uint16), (65_536, np.uint16),
                                                  (65_537, np.uint32)])
def test_class_ids_are_held_in_the_smallest_type_that_fits(n_classes, dtype):
    assert class_id_dtype(n_classes) == np.dtype(dtype)
    space = LabelSpace.from_names([f"c{i}" for i in range(n_classes)])
    top = n_classes - 1  # the largest id: 65,536 wraps to 0 in uint16, so a wrong type is seen
    images = ["a.png", "b.png", "c.png"]
    ann = Annotations.from_lists(images, [top, 0, top], label_space=space)
    run = Run(RunMeta("r"), np.asarray(images, dtype=object), np.array([[top], [top], [0]]))
    ev = evaluate(pair(run, ann))
    assert ev.compact.pred_index.dtype == dtype and ev.compact.true_index.dtype == dtype
    assert ev.per_image["pred_index"].tolist() == [top, top, 0]
    assert ev.per_image["true_index"].tolist() == [top, 0, top]
    assert ev.per_class["n_correct_original"].to_numpy()[top] == 1


def test_an_id_beyond_the_label_space_is_refused_before_any_narrowing(tmp_path):
    space = LabelSpace.from_names([f"c{i}" for i in range(300)])
    images = ["a.png", "b.png"]
    ann = Annotations.from_lists(images, [0, 1], label_space=space)
    write_run(Run(RunMeta("r"), np.asarray(images, dtype=object), np.array([[0], [300]])), tmp_path / "r.parquet")
    with pytest.raises(LabelSpaceError, match=r"r\.parquet, column 'topk_ids'.*0\.\.299.*300.*b\.png"):
        evaluate_runs([tmp_path / "r.parquet"], ann)


def test_the_cli_on_a_sweep_writes_what_the_library_computes(sweep, tmp_path):
    shaped, runs, folder, manifest = sweep
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["evaluate", "--manifest", str(manifest), "--reference", "ref", "--out", str(out),
                                      "--n-bootstrap", "200", "-q"])
    assert result.exit_code == 0, result.output
    ann = load_annotations(folder / "labels.csv", label_space=load_label_space(folder / "classes.csv"))
    alone = [evaluate(pair(load_run(f, label_space=ann.label_space), ann)) for f in _files(folder, runs)]
    written = pd.read_parquet(out / "per_class.parquet").sort_values(["run", "class_index"], ignore_index=True)
    expected = evaluation_table(alone).sort_values(["run", "class_index"], ignore_index=True)
    assert written.columns.tolist() == expected.columns.tolist()
    for column in ("n_images", "n_correct_original", "n_multilabel", "n_correct_multilabel"):
        np.testing.assert_array_equal(written[column].to_numpy(), expected[column].to_numpy())
    for column in ("acc_original", "acc_multilabel"):
        np.testing.assert_array_equal(written[column].to_numpy(dtype=float), expected[column].to_numpy(dtype=float))


def test_the_next_file_is_read_ahead_but_checked_in_order(sweep, tmp_path):
    """Reading ahead changes no error: each bad file is still refused by name, in the order given."""
    shaped, runs, folder, _ = sweep
    good = folder / f"{runs[0].meta.name}.parquet"
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really parquet")
    with pytest.raises(InputError, match=r"broken\.parquet: cannot read as Parquet"):
        evaluate_runs([good, tmp_path / "broken.parquet"], shaped.annotations)
    with pytest.raises(InputError, match=r"missing\.parquet does not exist"):
        evaluate_runs([good, tmp_path / "missing.parquet", tmp_path / "broken.parquet"], shaped.annotations)
    ids = runs[1].topk_ids.copy()
    ids[2, 0] = 12
    write_run(Run(RunMeta("bad"), runs[1].images, ids), tmp_path / "bad.parquet")
    with pytest.raises(LabelSpaceError, match=r"bad\.parquet"):  # the first bad file, not the broken one after it
        evaluate_runs([good, tmp_path / "bad.parquet", tmp_path / "broken.parquet"], shaped.annotations)


def test_a_run_whose_image_keys_differ_names_its_file_and_first_unknown_key(sweep, tmp_path):
    shaped, runs, folder, _ = sweep
    good = folder / f"{runs[0].meta.name}.parquet"
    images = runs[1].images.copy()
    images[[5, 9]] = ["other005.png", "other009.png"]  # same length, other keys: the shared column does not match
    write_run(Run(RunMeta("odd"), images, runs[1].topk_ids), tmp_path / "odd.parquet")
    with pytest.raises(PairingError, match=r"odd\.parquet: 2 of \d+ image keys are not in the annotations.*other005\.png"):
        evaluate_runs([good, tmp_path / "odd.parquet"], shaped.annotations)


def test_read_run_table_only_reads_and_load_run_checks_what_it_is_given(sweep, tmp_path):
    shaped, runs, folder, _ = sweep
    path = folder / f"{runs[0].meta.name}.parquet"
    table = read_run_table(path)
    assert table is not None and "topk_ids" in table.column_names
    given = load_run(path, label_space=shaped.space, table=table)
    alone = load_run(path, label_space=shaped.space)
    np.testing.assert_array_equal(given.topk_ids, alone.topk_ids)
    np.testing.assert_array_equal(given.topk_scores, alone.topk_scores)
    assert given.images.tolist() == alone.images.tolist() and given.meta == alone.meta
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    pd.DataFrame({"image": ["a.png"], "pred_index": [0]}).to_csv(tmp_path / "run.csv", index=False)
    assert read_run_table(tmp_path / "broken.parquet") is None  # load_run reads it again and says what is wrong
    assert read_run_table(tmp_path / "run.csv") is None
    assert read_run_table(tmp_path / "missing.parquet") is None


def test_runs_of_one_image_list_share_their_multilabel_sets(sweep):
    shaped, runs, folder, _ = sweep
    keys = ImageKeys()
    loaded = [load_run(f, label_space=shaped.space, keys=keys) for f in _files(folder, runs[:2])]
    paired = [pair(run, shaped.annotations, keys=keys) for run in loaded]
    assert paired[0].sets is not None and paired[0].sets is paired[1].sets
    alone = pair(load_run(_files(folder, runs[:1])[0], label_space=shaped.space), shaped.annotations)
    assert alone.sets is None
    formed = alone.multilabel_sets()
    for field in ("owner", "labels", "scored"):
        np.testing.assert_array_equal(getattr(formed, field), getattr(paired[0].sets, field))


@pytest.mark.parametrize("width", [2, 5, 8, 9, 12])
def test_a_class_twice_in_a_row_is_refused_at_any_width(width):
    """Rows up to 8 wide are checked column pair by column pair, wider ones by sorting: same error."""
    n = 20
    ids = np.tile(np.arange(width), (n, 1)) + np.arange(n)[:, None]
    ids[13, width - 1] = ids[13, 0]  # the first and last rank name one class
    ids[17, 1] = ids[17, 0]
    images = np.array([f"img{i:02d}.png" for i in range(n)], dtype=object)
    with pytest.raises(InputError, match=r"more than once.*2 offenders.*img13\.png.*img17\.png"):
        Run(RunMeta("r"), images, ids)
    ok = np.tile(np.arange(width), (n, 1)) + np.arange(n)[:, None]
    assert Run(RunMeta("r"), images, ok).topk_ids.shape == (n, width)


def test_a_negative_class_id_is_refused_naming_the_image():
    images = np.array(["a.png", "b.png", "c.png"], dtype=object)
    with pytest.raises(LabelSpaceError, match=r">= 0.*-3.*c\.png"):
        Run(RunMeta("r"), images, np.array([[0, 1], [1, 2], [-3, 0]]))
    assert Run(RunMeta("r"), images, np.array([[0, 1], [1, 2], [3, 0]], dtype=np.uint8)).topk_ids.dtype == np.int64
