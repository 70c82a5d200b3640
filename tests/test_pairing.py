"""Pairing runs with annotations by image key."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_run

from relabel import PairingError, RelabelWarning, Run, RunMeta, evaluate, pair


def test_keys_pair_exactly_or_by_file_name(office_annotations):
    run = make_run(["img3.jpg", "val/x/img0.jpg", "C:\\data\\img1.jpg"], [1, 0, 0])
    paired = pair(run, office_annotations)
    assert paired.rows.tolist() == [0, 1, 3]  # annotation order, not run order
    assert paired.pred_index.tolist() == [0, 0, 1]
    assert paired.true_index.tolist() == [0, 0, 1]


def test_unknown_keys_are_named_with_counts(office_annotations):
    run = make_run(["img0.jpg", "cat.jpg", "dog.jpg"], [0, 0, 0])
    with pytest.raises(PairingError) as e:
        pair(run, office_annotations)
    message = str(e.value)
    assert "2 of 3 image keys are not in the annotations" in message
    assert "'cat.jpg', 'dog.jpg'" in message
    assert "office fixture" in message


def test_two_rows_naming_the_same_image_are_refused(office_annotations):
    run = make_run(["a/img0.jpg", "b/img0.jpg"], [0, 0])
    with pytest.raises(PairingError, match="several run rows pair with the same annotated image.*'img0.jpg'"):
        pair(run, office_annotations)


def _imagefolder_order(ann):
    """Paths and row indices of the val images as ImageFolder lists them: by class folder, then file."""
    wnids = np.asarray(ann.label_space.keys, dtype=object)[ann.original]
    order = np.lexsort((ann.images.astype(str), wnids.astype(str)))
    paths = np.asarray([f"val/{w}/{f}" for w, f in zip(wnids[order], ann.images[order])], dtype=object)
    return paths, order


def test_class_sorted_folder_run_pairs_by_key_with_sorted_annotations(real_annotations):
    ann = real_annotations
    rng = np.random.default_rng(0)
    pred_sorted = np.where(rng.uniform(size=ann.n_images) < 0.77, ann.original, rng.integers(0, 1000, ann.n_images))
    sorted_run = Run(RunMeta("sorted"), ann.images, pred_sorted[:, None])
    paths, order = _imagefolder_order(ann)
    folder_run = Run(RunMeta("folder"), paths, pred_sorted[order][:, None])
    assert folder_run.images[0].startswith("val/n01440764/")  # tench folder comes first
    a = evaluate(pair(sorted_run, ann))
    b = evaluate(pair(folder_run, ann))
    assert a.overall == b.overall
    assert a.overall["acc_original"] == pytest.approx(0.77, abs=0.01)
    np.testing.assert_array_equal(a.per_class["acc_original"], b.per_class["acc_original"])


def test_trusting_position_of_a_folder_order_run_scores_at_chance_and_warns(real_annotations):
    """What pairing by key protects from: the folder-ordered predictions laid on sorted file names."""
    ann = real_annotations
    paths, order = _imagefolder_order(ann)
    misplaced = Run(RunMeta("misplaced"), ann.images, ann.original[order][:, None])
    with pytest.warns(RelabelWarning, match="chance level"):
        ev = evaluate(pair(misplaced, ann))
    assert ev.overall["acc_original"] < 0.005


def test_stated_order_at_chance_level_is_an_error_unless_allowed(real_annotations):
    ann = real_annotations
    _, order = _imagefolder_order(ann)
    stated = Run(RunMeta("stated"), ann.images, ann.original[order][:, None], image_order="canonical order")
    with pytest.raises(PairingError, match=r"at chance level.*given image keys by position \(canonical order\).*"
                                           r"class folder first.*--allow-chance"):
        pair(stated, ann)
    with pytest.warns(RelabelWarning, match="chance level"):
        pair(stated, ann, allow_chance=True)


def test_keys_without_an_extension_and_file_names_several_images_share(office_space):
    from relabel import Annotations

    ann = Annotations.from_lists(["a/x.jpg", "b/x.jpg", "ILSVRC2012_val_00000293.JPEG", "plain"], [0, 1, 2, 3],
                                 label_space=office_space)
    paired = pair(make_run(["ILSVRC2012_val_00000293", "c/plain.png", "b/x.jpg"], [2, 3, 1]), ann)
    assert paired.rows.tolist() == [1, 2, 3]
    with pytest.raises(PairingError, match=r"pair only by a file name that several annotated images share.*'x\.jpg' "
                                           r"\(file name shared by 2 offenders: 'a/x\.jpg', 'b/x\.jpg'\)"):
        pair(make_run(["x.jpg"], [0]), ann)
    with pytest.raises(PairingError, match=r"near misses \(the file extensions differ\): "
                                           r"'ILSVRC2012_val_00000293\.png' is close to 'ILSVRC2012_val_00000293\.JPEG'"):
        pair(make_run(["ILSVRC2012_val_00000293.png"], [0]), ann)
