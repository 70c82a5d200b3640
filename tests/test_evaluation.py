"""Per-class evaluation on a hand-checkable fixture and against the plain-loop reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import make_run
from reference import confusion_counts, per_class_accuracy

from relabel import Annotations, LabelSpace, evaluate, pair, pair_accuracy
from relabel.evaluation import evaluation_table, multilabel_gaps

NAN = float("nan")


def test_office_fixture_numbers_by_hand(office_annotations):
    # predictions: laptop images -> notebook, laptop; notebook images -> laptop, notebook;
    # desk images -> monitor, desk; monitor images -> monitor, desk
    run = make_run([f"img{i}.jpg" for i in range(8)], [1, 0, 0, 1, 3, 2, 3, 2])
    ev = evaluate(pair(run, office_annotations))
    pc = ev.per_class.set_index("class_name")
    # original: every class gets one of its two images right
    assert pc["acc_original"].tolist() == [0.5, 0.5, 0.5, 0.5]
    # multi-label: laptop img0 predicted notebook is valid -> 2/2; notebook img2 predicted laptop valid -> 2/2;
    # desk img4 predicted monitor valid -> 2/2; monitor: img7 has an empty set (left out), img6 right -> 1/1
    assert pc["acc_multilabel"].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert pc["n_multilabel"].tolist() == [2, 2, 2, 1]
    assert pc["n_images"].tolist() == [2, 2, 2, 2]
    assert ev.overall["acc_original"] == 0.5
    assert ev.overall["acc_multilabel"] == 1.0
    assert ev.overall["n_multilabel"] == 7
    conf = {(r.true_index, r.pred_index): r.count for r in ev.confusion.itertuples()}
    assert conf == {(0, 1): 1, (0, 0): 1, (1, 0): 1, (1, 1): 1, (2, 3): 1, (2, 2): 1, (3, 3): 1, (3, 2): 1}
    assert pair_accuracy(ev, 0, 1) == 1.0
    assert pair_accuracy(ev, 2, 0) == 0.5
    np.testing.assert_allclose(pair_accuracy(ev, [0, 2], [1, 3]), [1.0, 1.0])


def test_class_without_images_is_nan(office_space):
    ann = Annotations.from_lists(["a", "b"], [0, 1], [[0], [1]], label_space=office_space)
    ev = evaluate(pair(make_run(["a", "b"], [0, 0]), ann))
    assert ev.per_class["n_images"].tolist() == [1, 1, 0, 0]
    assert np.isnan(ev.per_class["acc_original"][2]) and np.isnan(ev.per_class["acc_multilabel"][3])
    assert np.isnan(pair_accuracy(ev, 2, 3))


def test_without_multilabels_only_original_scores(office_space):
    ann = Annotations.from_lists(["a", "b", "c"], [0, 0, 1], None, label_space=office_space)
    ev = evaluate(pair(make_run(["a", "b", "c"], [0, 1, 1]), ann))
    assert not ev.has_multilabels
    assert ev.per_class["acc_original"].tolist()[:2] == [0.5, 1.0]
    assert ev.per_class["n_multilabel"].sum() == 0
    assert np.isnan(ev.overall["acc_multilabel"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_plain_loop_reference(seed):
    rng = np.random.default_rng(seed)
    k, n = 7, 400
    space = LabelSpace.from_names([f"c{i}" for i in range(k)])
    true = rng.integers(0, k, n)
    sets = [sorted(set(rng.integers(0, k, rng.integers(0, 4)).tolist()) | ({int(t)} if rng.uniform() < 0.8 else set()))
            for t in true]
    pred = np.where(rng.uniform(size=n) < 0.6, true, rng.integers(0, k, n))
    images = [f"x{i}.png" for i in range(n)]
    ann = Annotations.from_lists(images, true, sets, label_space=space)
    ev = evaluate(pair(make_run(images, pred), ann))
    acc, acc_ml, n_img, n_ml = per_class_accuracy(true, pred, sets, k)
    np.testing.assert_allclose(ev.per_class["acc_original"], acc)
    np.testing.assert_allclose(ev.per_class["acc_multilabel"], acc_ml)
    np.testing.assert_array_equal(ev.per_class["n_images"], n_img)
    np.testing.assert_array_equal(ev.per_class["n_multilabel"], n_ml)
    expected = confusion_counts(true, pred)
    got = {(r.true_index, r.pred_index): r.count for r in ev.confusion.itertuples()}
    assert got == dict(expected)


def test_invariant_to_row_order_and_folder_prefixes(office_annotations):
    images = [f"img{i}.jpg" for i in range(8)]
    pred = [1, 0, 0, 1, 3, 2, 3, 2]
    base = evaluate(pair(make_run(images, pred), office_annotations))
    perm = np.random.default_rng(3).permutation(8)
    shuffled = make_run([f"val/cls/{images[i]}" for i in perm], [pred[i] for i in perm])
    other = evaluate(pair(shuffled, office_annotations))
    pd.testing.assert_frame_equal(base.per_class, other.per_class)
    pd.testing.assert_frame_equal(base.confusion, other.confusion)


def test_invariant_to_permuting_the_class_order(office_annotations, office_space):
    images = [f"img{i}.jpg" for i in range(8)]
    pred = np.array([1, 0, 0, 1, 3, 2, 3, 2])
    perm = np.array([2, 0, 3, 1])  # new index of each old class
    space = LabelSpace(tuple(np.array(office_space.keys)[np.argsort(perm)]),
                       tuple(np.array(office_space.names)[np.argsort(perm)]))
    ann = Annotations.from_lists(images, perm[office_annotations.original],
                                 [[int(perm[x]) for x in s] for s in office_annotations.multilabel_sets()],
                                 label_space=space)
    base = evaluate(pair(make_run(images, pred), office_annotations)).per_class.set_index("class_key")
    moved = evaluate(pair(make_run(images, perm[pred]), ann)).per_class.set_index("class_key")
    cols = ["n_images", "acc_original", "acc_multilabel"]
    pd.testing.assert_frame_equal(base[cols], moved.loc[base.index, cols])


def test_subset_run_is_evaluated_on_what_it_covers(office_annotations):
    ev = evaluate(pair(make_run(["img0.jpg", "img1.jpg"], [0, 0]), office_annotations))
    assert ev.overall["n_images"] == 2 and ev.overall["n_annotated"] == 8
    assert ev.per_class["n_images"].tolist() == [2, 0, 0, 0]
    assert ev.overall["acc_original"] == 1.0


def test_real_annotations_overall_accuracy_of_a_perfect_run(real_annotations):
    from relabel import Run, RunMeta

    ann = real_annotations
    run = Run(RunMeta("oracle"), ann.images, ann.original[:, None].copy())
    ev = evaluate(pair(run, ann))
    assert ev.overall["acc_original"] == 1.0
    assert ev.overall["n_multilabel"] == 50000 - 3163
    # ReaL accuracy of predicting the original label: share of non-empty sets containing it
    assert 0.85 < ev.overall["acc_multilabel"] < 0.95


def test_stacked_table_and_multilabel_gaps(office_annotations):
    images = [f"img{i}.jpg" for i in range(8)]
    evs = [evaluate(pair(make_run(images, [1, 0, 0, 1, 3, 2, 3, 2], "a", "g", 0), office_annotations)),
           evaluate(pair(make_run(images, [0, 0, 1, 1, 2, 2, 3, 3], "b", "g", 1), office_annotations))]
    table = evaluation_table(evs)
    assert len(table) == 8 and table.columns[:4].tolist() == ["run", "group", "strength", "seed"]
    gaps = multilabel_gaps(evs).set_index("class_name")
    # run a: original 0.5 / multi-label 1.0 for every class; run b: 1.0 / 1.0 -> mean gap 0.25
    assert gaps["gap"].tolist() == [0.25, 0.25, 0.25, 0.25]


def _stacked_the_plain_way_too(evs):
    """evaluation_table equals the run-by-run inserts it stands for: values, dtypes, index, Parquet and CSV bytes."""
    import io

    from relabel.evaluation import _stacked_by_insert

    fast, plain = evaluation_table(evs), _stacked_by_insert(evs)
    pd.testing.assert_frame_equal(fast, plain, check_exact=True)
    assert fast.dtypes.equals(plain.dtypes) and fast.columns.equals(plain.columns)
    bytes_fast, bytes_plain = io.BytesIO(), io.BytesIO()
    fast.to_parquet(bytes_fast, index=False)
    plain.to_parquet(bytes_plain, index=False)
    assert bytes_fast.getvalue() == bytes_plain.getvalue()
    assert fast.to_csv(index=False) == plain.to_csv(index=False)
    return fast


@pytest.mark.parametrize("metas", [
    [("a", "g", 0.5, 0), ("b", "g", 0.25, 1), ("c", "h", 1.0, 2)],  # a sweep: one type per field
    [("a", None, None, None), ("b", "g", 0.5, 1)],  # missing fields: stacked the plain way
    [("a", "g", 1, 0), ("b", "g", 0.5, 1)],  # an int strength beside a float one
    [("a", "g", 0.5, 2**63), ("b", "g", 0.5, 1)],  # a seed beyond int64
    [("a", "g", 0.5, True), ("b", "g", 0.5, False)],  # booleans are not ints here
    [("a", "g", float("nan"), 0), ("b", "g", -0.0, 1)],
], ids=["sweep", "missing", "int-and-float", "huge-seed", "bool-seed", "nan-and-negative-zero"])
def test_stacked_table_is_the_run_by_run_inserts(office_annotations, metas):
    images = [f"img{i}.jpg" for i in range(8)]
    evs = [evaluate(pair(make_run(images, [(i + k) % 4 for i in range(8)], name, group, seed, strength),
                         office_annotations)) for k, (name, group, strength, seed) in enumerate(metas)]
    table = _stacked_the_plain_way_too(evs)
    assert table["run"].tolist() == [name for name, *_ in metas for _ in range(4)]


def test_stacked_table_of_runs_with_different_or_no_rows_or_a_run_column(office_annotations):
    import dataclasses

    images = [f"img{i}.jpg" for i in range(8)]
    evs = [evaluate(pair(make_run(images, [0] * 8, name, "g", 0, 0.5), office_annotations)) for name in "abc"]
    _stacked_the_plain_way_too([evs[0], dataclasses.replace(evs[1], per_class=evs[1].per_class.iloc[:0]), evs[2]])
    _stacked_the_plain_way_too([evs[0], dataclasses.replace(evs[1], per_class=evs[1].per_class.drop(columns="n_images"))])
    with pytest.raises(ValueError, match="already exists"):
        evaluation_table([dataclasses.replace(ev, per_class=ev.per_class.assign(run=1)) for ev in evs])
    with pytest.raises(ValueError):
        evaluation_table([])


def test_a_sweeps_stacked_table_is_built_without_run_by_run_inserts(office_annotations, monkeypatch):
    import relabel.evaluation as evaluation

    images = [f"img{i}.jpg" for i in range(8)]
    evs = [evaluate(pair(make_run(images, [0] * 8, name, "g", 0, 0.5), office_annotations)) for name in "ab"]
    expected = evaluation_table(evs)

    def refused(evaluations):
        raise AssertionError("stacked run by run")

    monkeypatch.setattr(evaluation, "_stacked_by_insert", refused)
    pd.testing.assert_frame_equal(evaluation_table(evs), expected)
