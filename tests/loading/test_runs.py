"""Run readers on real files written in tmp_path: relabel Parquet, tables, timm output, arrays, torch.

The office label space (conftest) is 0 laptop, 1 notebook, 2 desk, 3 monitor. timm cases use
ImageNet-1k, whose class 0 is "tench, Tinca tinca", 1 "goldfish, Carassius auratus", 607
"jack-o'-lantern", and which has two classes named "crane" (134, 517) and two named "maillot".
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal

import relabel
import relabel.loading.runs
from relabel import InputError, LabelSpace, LabelSpaceError, Run, RunMeta, load_run

IMAGES = ["img0.jpg", "img1.jpg", "img2.jpg"]


def _write_order(path, lines):
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


def _relabel_parquet(path, ids_type, ids, *, scores=None, meta=None):
    """A hand-built file in relabel's schema, with the id column typed as given."""
    columns = {"image": pa.array(IMAGES[: len(ids)]), "topk_ids": pa.array(ids, ids_type)}
    if scores is not None:
        columns["topk_scores"] = pa.array(scores, pa.list_(pa.float32()))
    table = pa.table(columns).replace_schema_metadata({b"relabel": json.dumps(meta or {"name": "hand"})})
    pq.write_table(table, path)
    return path


def _timm_frame(indices, probs, *, space, labels=True, include_index=False, separate=False, output="prob"):
    """The DataFrame timm's inference.py builds (label type "description"), before it is saved."""
    indices = np.asarray(indices, dtype=np.int64)
    probs = np.asarray(probs, dtype=np.float32)
    describe = np.vectorize(lambda i: ", ".join(space.lemmas[i]), otypes=[object])
    data = {"filename": IMAGES[: len(indices)]}
    if separate:
        for name, values, wanted in (("index", indices, include_index), ("label", describe(indices), labels),
                                     (output, probs, True)):
            if wanted:
                data.update({f"{name}_{i}": values[:, i] for i in range(values.shape[1])})
    else:
        squeeze = (lambda a: a[:, 0]) if indices.shape[1] == 1 else (lambda a: list(a))
        if include_index:
            data["index"] = squeeze(indices)
        if labels:
            data["label"] = squeeze(describe(indices))
        data[output] = squeeze(probs)
    return pd.DataFrame(data)


def _timm_csv(path, frame):
    """Save as timm does: pandas to_csv with numpy's print threshold lifted (array cells → their str)."""
    with np.printoptions(threshold=sys.maxsize):
        frame.to_csv(path, index=False)
    return path


# --- relabel's Parquet schema -------------------------------------------------------------------


def test_write_run_then_load_run_round_trips_ids_scores_logits_and_metadata(tmp_path, office_space):
    logits = np.array([[2.0, 1.0, 0.0, -1.0], [0.0, 0.0, 3.0, 0.0], [1.0, 4.0, 0.0, 2.0]], dtype=np.float32)
    run = Run(RunMeta("r1", "rrc-0.08", 0.08, 3), np.array(IMAGES, dtype=object),
              np.array([[0, 1], [2, 0], [1, 3]]), np.array([[0.6, 0.2], [0.8, 0.1], [0.8, 0.1]], dtype=np.float32),
              logits)
    assert relabel.write_run is relabel.loading.runs.write_run
    path = relabel.loading.runs.write_run(run, tmp_path / "r1.parquet")

    schema = pq.read_schema(path)
    loaded = load_run(path, label_space=office_space, keep_logits=True)

    assert json.loads(schema.metadata[b"relabel"]) == {"name": "r1", "group": "rrc-0.08", "strength": 0.08, "seed": 3}
    assert pa.types.is_fixed_size_list(schema.field("logits").type)
    assert loaded.meta == RunMeta("r1", "rrc-0.08", 0.08, 3)
    assert loaded.images.tolist() == IMAGES
    assert_array_equal(loaded.topk_ids, [[0, 1], [2, 0], [1, 3]])
    assert_allclose(loaded.topk_scores, [[0.6, 0.2], [0.8, 0.1], [0.8, 0.1]], rtol=1e-6)
    assert_allclose(loaded.logits, logits)
    assert load_run(path, label_space=office_space).logits is None


def test_metadata_given_to_load_run_overrides_the_files(tmp_path, office_space):
    path = _relabel_parquet(tmp_path / "x.parquet", pa.list_(pa.int64()), [[1], [2]],
                            meta={"name": "in-file", "group": "rrc-0.08", "strength": 0.08, "seed": 1})

    run = load_run(path, label_space=office_space, name="given", seed=7)

    assert run.meta == RunMeta("given", "rrc-0.08", 0.08, 7)


@pytest.mark.parametrize("ids_type", [pa.list_(pa.int64()), pa.list_(pa.int32(), 2)], ids=["list", "fixed-size-list"])
def test_relabel_parquet_reads_list_and_fixed_size_list_columns(tmp_path, office_space, ids_type):
    path = _relabel_parquet(tmp_path / "x.parquet", ids_type, [[3, 0], [1, 2]], scores=[[0.9, 0.1], [0.5, 0.4]])

    run = load_run(path, label_space=office_space)

    assert_array_equal(run.topk_ids, [[3, 0], [1, 2]])
    assert_allclose(run.topk_scores, [[0.9, 0.1], [0.5, 0.4]], rtol=1e-6)
    assert run.meta.name == "hand"


def test_relabel_parquet_refuses_non_integer_class_ids(tmp_path, office_space):
    path = _relabel_parquet(tmp_path / "x.parquet", pa.list_(pa.float64()), [[1.0, 2.5], [0.0, 3.0]])

    with pytest.raises(InputError, match=r"x\.parquet, column 'topk_ids'.*integer.*2\.5"):
        load_run(path, label_space=office_space)


def test_relabel_parquet_refuses_ragged_topk_lists(tmp_path, office_space):
    path = _relabel_parquet(tmp_path / "x.parquet", pa.list_(pa.int64()), [[1, 2], [0], [3, 1]])

    with pytest.raises(InputError, match=r"x\.parquet, column 'topk_ids'.*same number.*'img1\.jpg'"):
        load_run(path, label_space=office_space)


def test_relabel_parquet_refuses_metadata_that_is_not_json(tmp_path, office_space):
    table = pa.table({"image": ["a.jpg"], "topk_ids": pa.array([[1]], pa.list_(pa.int64()))})
    pq.write_table(table.replace_schema_metadata({b"relabel": b"{name: oops"}), tmp_path / "x.parquet")

    with pytest.raises(InputError, match=r"x\.parquet.*metadata.*'relabel'.*JSON"):
        load_run(tmp_path / "x.parquet", label_space=office_space)


# --- any table with an image column and predictions ---------------------------------------------


def test_csv_columns_detected_by_default(tmp_path, office_space):
    path = tmp_path / "preds.csv"
    path.write_text("image,pred,score\nimg0.jpg,3,0.9\nimg1.jpg,0,0.4\n")

    run = load_run(path, label_space=office_space)

    assert run.meta.name == "preds"
    assert run.images.tolist() == ["img0.jpg", "img1.jpg"]
    assert_array_equal(run.topk_ids, [[3], [0]])
    assert_allclose(run.topk_scores, [[0.9], [0.4]], rtol=1e-6)


def test_column_names_can_be_given(tmp_path, office_space):
    path = tmp_path / "preds.csv"
    path.write_text("file_id,truth,guess,conf\nimg0.jpg,laptop,desk,0.7\nimg1.jpg,desk,notebook,0.6\n")

    run = load_run(path, label_space=office_space, image_column="file_id", pred_column="guess", score_column="conf")

    assert run.images.tolist() == ["img0.jpg", "img1.jpg"]
    assert_array_equal(run.topk_ids, [[2], [1]])
    assert_allclose(run.topk_scores, [[0.7], [0.6]], rtol=1e-6)


def test_a_prediction_column_wins_over_a_ground_truth_label_column(tmp_path, office_space):
    path = tmp_path / "preds.csv"
    path.write_text("image,label,pred\nimg0.jpg,0,1\nimg1.jpg,2,3\n")

    assert_array_equal(load_run(path, label_space=office_space).topk_ids, [[1], [3]])


def test_numeric_looking_image_keys_keep_their_leading_zeros(tmp_path, office_space):
    path = tmp_path / "preds.csv"
    path.write_text("image,pred\n000123,1\n000456,2\n")

    assert load_run(path, label_space=office_space).images.tolist() == ["000123", "000456"]


@pytest.mark.parametrize("layout", ["records", "lines", "pandas-columns"])
def test_json_tables_with_topk_lists(tmp_path, office_space, layout):
    records = [{"image": "img0.jpg", "topk_ids": [1, 0], "topk_scores": [0.7, 0.2]},
               {"image": "img1.jpg", "topk_ids": [3, 2], "topk_scores": [0.5, 0.5]}]
    path = tmp_path / ("preds.jsonl" if layout == "lines" else "preds.json")
    if layout == "records":
        path.write_text(json.dumps(records))
    elif layout == "lines":
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    else:  # pandas' default orient: {column: {row: value}}
        pd.DataFrame.from_records(records).to_json(path)

    run = load_run(path, label_space=office_space)

    assert run.images.tolist() == ["img0.jpg", "img1.jpg"]
    assert_array_equal(run.topk_ids, [[1, 0], [3, 2]])
    assert_allclose(run.topk_scores, [[0.7, 0.2], [0.5, 0.5]], rtol=1e-6)


def test_single_record_jsonl(tmp_path, office_space):
    path = tmp_path / "preds.jsonl"
    path.write_text('{"image": "img0.jpg", "pred": 2}\n')

    assert_array_equal(load_run(path, label_space=office_space).topk_ids, [[2]])


def test_plain_parquet_table_with_class_names(tmp_path, office_space):
    pd.DataFrame({"path": ["val/img0.jpg", "val/img1.jpg"], "prediction": ["monitor", "laptop"]}).to_parquet(
        tmp_path / "preds.parquet")

    run = load_run(tmp_path / "preds.parquet", label_space=office_space)

    assert run.images.tolist() == ["val/img0.jpg", "val/img1.jpg"]
    assert_array_equal(run.topk_ids, [[3], [0]])
    assert run.topk_scores is None


# --- timm inference.py output -------------------------------------------------------------------


def test_timm_csv_default_layout_top5(tmp_path):
    space = relabel.imagenet_1k()
    ids = [[607, 0, 2, 1, 3], [1, 607, 0, 2, 3]]
    probs = [[0.5, 0.25, 0.125, 0.0625, 1e-6], [0.75, 0.125, 0.0625, 0.03125, 0.015625]]
    path = _timm_csv(tmp_path / "resnet50-224.csv", _timm_frame(ids, probs, space=space, include_index=True))
    text = path.read_text()
    # numpy's str of each array: padded ints, quoted names wrapped over lines, floats in e-notation
    assert "img1.jpg,[  1 607   0   2   3]," in text
    assert "\"[\"\"jack-o'-lantern\"\" 'tench, Tinca tinca'\n 'great white shark," in text
    assert "[5.00e-01 2.50e-01 1.25e-01 6.25e-02 1.00e-06]" in text

    run = load_run(path, label_space=space)

    assert run.images.tolist() == ["img0.jpg", "img1.jpg"]
    assert_array_equal(run.topk_ids, ids)
    assert_allclose(run.topk_scores, probs, rtol=1e-6)
    assert_array_equal(load_run(path, label_space=space, pred_column="label").topk_ids, ids)


def test_timm_csv_descriptions_resolve_through_the_label_space(tmp_path):
    space = relabel.imagenet_1k()
    path = _timm_csv(tmp_path / "t.csv", _timm_frame([[0, 607], [607, 1]], [[0.6, 0.3], [0.9, 0.05]], space=space))
    assert "index" not in path.read_text().splitlines()[0]

    assert_array_equal(load_run(path, label_space=space).topk_ids, [[0, 607], [607, 1]])


def test_timm_csv_top1_writes_scalars(tmp_path):
    space = relabel.imagenet_1k()
    path = _timm_csv(tmp_path / "t.csv", _timm_frame([[1], [0]], [[0.75], [0.5]], space=space))
    assert path.read_text().splitlines()[1] == 'img0.jpg,"goldfish, Carassius auratus",0.75'

    run = load_run(path, label_space=space)

    assert_array_equal(run.topk_ids, [[1], [0]])
    assert_allclose(run.topk_scores, [[0.75], [0.5]])


@pytest.mark.parametrize("output", ["prob", "logit"])
def test_timm_csv_separate_columns(tmp_path, output):
    space = relabel.imagenet_1k()
    frame = _timm_frame([[607, 0], [1, 0]], [[4.0, 2.5], [3.0, -1.0]], space=space, include_index=True,
                        separate=True, output=output)
    assert list(frame.columns) == ["filename", "index_0", "index_1", "label_0", "label_1", f"{output}_0", f"{output}_1"]
    path = _timm_csv(tmp_path / "t.csv", frame)

    run = load_run(path, label_space=space)

    assert_array_equal(run.topk_ids, [[607, 0], [1, 0]])
    assert_allclose(run.topk_scores, [[4.0, 2.5], [3.0, -1.0]])


def test_timm_separate_label_columns_without_index(tmp_path):
    space = relabel.imagenet_1k()
    path = _timm_csv(tmp_path / "t.csv", _timm_frame([[1, 0], [0, 607]], [[0.5, 0.4], [0.6, 0.3]],
                                                     space=space, separate=True))

    assert_array_equal(load_run(path, label_space=space).topk_ids, [[1, 0], [0, 607]])


@pytest.mark.parametrize("layout", ["json-index", "json-split", "json-records-lines"])
def test_timm_json_layouts(tmp_path, layout):
    space = relabel.imagenet_1k()
    frame = _timm_frame([[607, 1], [0, 1]], [[0.5, 0.25], [0.75, 0.125]], space=space, include_index=True)
    path = tmp_path / "t.json"
    if layout == "json-index":  # timm's --results-format json (and what it prints to the console)
        frame.set_index("filename").to_json(path, indent=4, orient="index")
    elif layout == "json-split":
        frame.to_json(path, indent=4, orient="split", index=False)
    else:
        frame.to_json(path, lines=True, orient="records")

    run = load_run(path, label_space=space)

    assert run.images.tolist() == ["img0.jpg", "img1.jpg"]
    assert_array_equal(run.topk_ids, [[607, 1], [0, 1]])
    assert_allclose(run.topk_scores, [[0.5, 0.25], [0.75, 0.125]])


def test_timm_parquet_keeps_filename_as_index(tmp_path):
    space = relabel.imagenet_1k()
    frame = _timm_frame([[607, 1], [0, 1]], [[0.5, 0.25], [0.75, 0.125]], space=space)
    frame.set_index("filename").to_parquet(tmp_path / "t.parquet")  # as timm's save_results does

    run = load_run(tmp_path / "t.parquet", label_space=space)

    assert run.images.tolist() == ["img0.jpg", "img1.jpg"]
    assert_array_equal(run.topk_ids, [[607, 1], [0, 1]])
    assert_allclose(run.topk_scores, [[0.5, 0.25], [0.75, 0.125]])


def test_timm_wordnet_ids_as_labels(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("filename,label,prob\nimg0.jpg,n01443537,0.9\nimg1.jpg,n03126707,0.8\n")

    assert_array_equal(load_run(path, label_space=relabel.imagenet_1k()).topk_ids, [[1], [517]])


def _timm_labels_csv(path, labels):
    with np.printoptions(threshold=sys.maxsize):
        pd.DataFrame({"filename": [f"img{i}.jpg" for i in range(len(labels))],
                      "label": [np.array(row, dtype=object) for row in labels],
                      "prob": [np.array([0.5, 0.3], dtype=np.float32) for _ in labels]}).to_csv(path, index=False)
    return path


def test_timm_descriptions_resolve_before_display_names(tmp_path):
    """timm's description of 638 is "maillot" (639's is "maillot, tank suit"); both display names are "maillot"."""
    path = _timm_labels_csv(tmp_path / "t.csv", [["maillot", "maillot, tank suit"], ["goldfish, Carassius auratus",
                                                                                   "tench, Tinca tinca"]])

    assert_array_equal(load_run(path, label_space=relabel.imagenet_1k()).topk_ids, [[638, 639], [1, 0]])


def test_timm_crane_is_two_classes_and_says_how_to_rerun_timm(tmp_path):
    path = _timm_labels_csv(tmp_path / "t.csv", [["goldfish, Carassius auratus", "crane"]])

    with pytest.raises(LabelSpaceError, match=r"t\.csv, column 'label'.*share.*rerun timm's inference\.py with "
                                              r"--include-index or --label-type name.*'crane'"):
        load_run(path, label_space=relabel.imagenet_1k())


def test_timm_detailed_labels_are_cut_to_their_description(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("filename,label,prob\n"
                    "img0.jpg,\"tench, Tinca tinca: freshwater dace-like game fish of Europe and western Asia\",0.9\n"
                    "img1.jpg,\"maillot: a woman's one-piece bathing suit\",0.8\n")

    assert_array_equal(load_run(path, label_space=relabel.imagenet_1k()).topk_ids, [[0], [638]])


def test_timm_csv_refuses_nan_probabilities(tmp_path):
    space = relabel.imagenet_1k()
    path = _timm_csv(tmp_path / "t.csv", _timm_frame([[0, 1], [1, 0]], [[0.5, np.nan], [0.5, 0.25]],
                                                     space=space, include_index=True))
    assert "[0.5 nan]" in path.read_text()

    with pytest.raises(InputError, match=r"t\.csv.*prob.*finite.*'img0\.jpg'"):
        load_run(path, label_space=space)


# --- arrays: .npy / .npz / torch ----------------------------------------------------------------


def test_logits_reduced_to_top5_softmax_like_torch(tmp_path):
    logits = np.random.default_rng(0).normal(size=(6, 10)).astype(np.float32)
    space = LabelSpace.from_names([f"c{i}" for i in range(10)])
    np.save(tmp_path / "logits.npy", logits)
    order = _write_order(tmp_path / "order.txt", [f"img{i}.jpg" for i in range(6)])

    run = load_run(tmp_path / "logits.npy", label_space=space, order=order)

    expected_scores, expected_ids = torch.topk(torch.softmax(torch.from_numpy(logits), dim=1), 5)
    assert_array_equal(run.topk_ids, expected_ids.numpy())
    assert_allclose(run.topk_scores, expected_scores.numpy(), rtol=1e-5, atol=1e-7)
    assert run.logits is None
    kept = load_run(tmp_path / "logits.npy", label_space=space, order=order, keep_logits=True, topk=2)
    assert kept.topk_ids.shape == (6, 2)
    assert_array_equal(kept.logits, logits)


def test_npy_ids_with_an_order_file_of_paths(tmp_path, office_space):
    np.save(tmp_path / "top2.npy", np.array([[3, 1], [0, 2], [2, 1]], dtype=np.int32))
    order = _write_order(tmp_path / "order.txt", [f"val/n0{i}/{img}" for i, img in enumerate(IMAGES)])

    run = load_run(tmp_path / "top2.npy", label_space=office_space, order=order)

    assert run.images.tolist() == IMAGES
    assert_array_equal(run.topk_ids, [[3, 1], [0, 2], [2, 1]])
    assert run.topk_scores is None


def test_npz_with_images_array_and_top1_ids(tmp_path, office_space):
    np.savez(tmp_path / "run.npz", preds=np.array([1, 0, 3]), images=np.array(IMAGES))

    run = load_run(tmp_path / "run.npz", label_space=office_space)

    assert run.images.tolist() == IMAGES
    assert_array_equal(run.topk_ids, [[1], [0], [3]])


def test_canonical_order_names_the_sorted_imagenet_val_files(tmp_path, office_space):
    np.save(tmp_path / "top1.npy", np.arange(50_000) % 4)

    run = load_run(tmp_path / "top1.npy", label_space=office_space, canonical_order=True)

    assert run.images[[0, 1, -1]].tolist() == [
        "ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000002.JPEG", "ILSVRC2012_val_00050000.JPEG"]
    assert run.top1[[0, 1, -1]].tolist() == [0, 1, 3]


def test_canonical_order_needs_50000_rows(tmp_path, office_space):
    np.save(tmp_path / "top1.npy", np.array([0, 1, 2]))

    with pytest.raises(InputError, match=r"top1\.npy: the canonical ImageNet validation order has 50000 .*has 3 rows"):
        load_run(tmp_path / "top1.npy", label_space=office_space, canonical_order=True)


def test_torch_tensor_and_dict_of_tensors(tmp_path, office_space):
    logits = torch.tensor([[0.0, 5.0, 1.0, 0.0], [2.0, 0.0, 0.0, 9.0]], requires_grad=True)
    torch.save(logits, tmp_path / "logits.pt")
    torch.save({"logits": logits.detach().to(torch.bfloat16), "images": ["a.jpg", "b.jpg"]}, tmp_path / "run.pth")
    order = _write_order(tmp_path / "order.txt", ["a.jpg", "b.jpg"])

    from_tensor = load_run(tmp_path / "logits.pt", label_space=office_space, order=order, topk=2)
    from_dict = load_run(tmp_path / "run.pth", label_space=office_space, topk=2)

    assert_array_equal(from_tensor.topk_ids, [[1, 2], [3, 0]])
    assert_array_equal(from_dict.topk_ids, [[1, 2], [3, 0]])
    assert from_dict.images.tolist() == ["a.jpg", "b.jpg"]


class _MakesDirectory:
    """Pickles as a call to os.mkdir: an unsafe loader would create the directory."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_torch_pickle_with_arbitrary_object_is_refused_not_executed(tmp_path, office_space):
    marker = tmp_path / "executed"
    torch.save({"logits": torch.zeros(2, 4), "payload": _MakesDirectory(str(marker))}, tmp_path / "evil.pt")
    order = _write_order(tmp_path / "order.txt", ["a.jpg", "b.jpg"])

    with pytest.raises(InputError, match=r"evil\.pt: cannot load: .*other than tensors.*posix\.mkdir"):
        load_run(tmp_path / "evil.pt", label_space=office_space, order=order)
    assert not marker.exists()


# --- errors: file, field and first offenders ----------------------------------------------------


def test_duplicate_image_keys(tmp_path, office_space):
    path = tmp_path / "preds.csv"
    path.write_text("filename,pred\na.jpg,0\nb.jpg,1\na.jpg,2\nb.jpg,3\nc.jpg,0\n")

    with pytest.raises(InputError, match=r"preds\.csv, column 'filename'.*unique.*2 offenders: 'a\.jpg', 'b\.jpg'"):
        load_run(path, label_space=office_space)


def test_duplicate_keys_in_an_order_file(tmp_path, office_space):
    np.save(tmp_path / "top1.npy", np.array([0, 1, 2]))
    order = _write_order(tmp_path / "order.txt", ["n01/a.jpg", "n02/a.jpg", "n02/b.jpg"])  # keys are base names

    with pytest.raises(InputError, match=r"top1\.npy, image-order file .*order\.txt: .*unique; 1 offender: 'a\.jpg'"):
        load_run(tmp_path / "top1.npy", label_space=office_space, order=order)


def test_out_of_range_class_ids(tmp_path, office_space):
    path = tmp_path / "preds.csv"
    path.write_text("image,pred\na.jpg,0\nb.jpg,4\nc.jpg,-1\n")

    # offenders in the order they appear, as everywhere (LabelSpace.indices); this read "-1, 4" while runs sorted them
    with pytest.raises(InputError, match=r"preds\.csv, column 'pred'.*0\.\.3.*2 offenders: 4, -1 at images 2 offenders: "
                                         r"'b\.jpg', 'c\.jpg'"):
        load_run(path, label_space=office_space)


def test_out_of_range_ids_in_an_array(tmp_path, office_space):
    np.savez(tmp_path / "run.npz", topk_ids=np.array([[0, 7], [1, 2]]), images=np.array(["a.jpg", "b.jpg"]))

    with pytest.raises(InputError, match=r"run\.npz, array 'topk_ids'.*1 offender: 7.*'a\.jpg'"):
        load_run(tmp_path / "run.npz", label_space=office_space)


def test_nan_scores(tmp_path, office_space):
    path = tmp_path / "preds.csv"
    path.write_text("image,pred,score\na.jpg,0,0.5\nb.jpg,1,\nc.jpg,2,inf\n")

    with pytest.raises(InputError, match=r"preds\.csv, column 'score'.*finite.*2 offenders: 'b\.jpg', 'c\.jpg'"):
        load_run(path, label_space=office_space)


def test_scores_that_are_not_numbers(tmp_path, office_space):
    path = tmp_path / "preds.csv"
    path.write_text("image,pred,score\na.jpg,0,0.5\nb.jpg,1,high\n")

    with pytest.raises(InputError, match=r"preds\.csv, column 'score': scores must be numbers; .*1 offender: 'high'"):
        load_run(path, label_space=office_space)


def test_inf_logits(tmp_path, office_space):
    logits = np.array([[0.0, 1.0, 2.0, 3.0], [0.0, np.inf, 0.0, 0.0], [np.nan, 0.0, 0.0, 0.0]])
    np.savez(tmp_path / "run.npz", logits=logits, images=np.array(IMAGES))

    with pytest.raises(InputError, match=r"run\.npz, array 'logits': logits must be finite.*2 offenders: 'img1.*'img2"):
        load_run(tmp_path / "run.npz", label_space=office_space)


def test_logits_width_must_match_the_label_space(tmp_path, office_space):
    np.save(tmp_path / "logits.npy", np.zeros((2, 5), dtype=np.float32))
    order = _write_order(tmp_path / "order.txt", ["a.jpg", "b.jpg"])

    with pytest.raises(LabelSpaceError, match=r"logits\.npy.*logits have 5 classes.*'office' has 4"):
        load_run(tmp_path / "logits.npy", label_space=office_space, order=order)


def test_missing_image_column(tmp_path, office_space):
    path = tmp_path / "preds.csv"
    path.write_text("name,pred\na.jpg,0\n")

    with pytest.raises(InputError, match=r"preds\.csv: no image column.*found \['name', 'pred'\]"):
        load_run(path, label_space=office_space)
    with pytest.raises(InputError, match=r"preds\.csv: no image column.*'picture'"):
        load_run(path, label_space=office_space, image_column="picture")


def test_missing_prediction_column(tmp_path, office_space):
    path = tmp_path / "preds.csv"
    path.write_text("image,truth\na.jpg,0\n")

    with pytest.raises(InputError, match=r"preds\.csv: no prediction column.*found \['image', 'truth'\]"):
        load_run(path, label_space=office_space)
    with pytest.raises(InputError, match=r"preds\.csv: no prediction column 'guess'"):
        load_run(path, label_space=office_space, pred_column="guess")


def test_table_without_rows(tmp_path, office_space):
    (tmp_path / "preds.csv").write_text("image,pred\n")

    with pytest.raises(InputError, match=r"preds\.csv: the run holds no predictions"):
        load_run(tmp_path / "preds.csv", label_space=office_space)


def test_unknown_suffix(tmp_path, office_space):
    (tmp_path / "preds.txt").write_text("a.jpg 0\n")

    with pytest.raises(InputError, match=r"preds\.txt: unknown run format '\.txt'; expected \.parquet"):
        load_run(tmp_path / "preds.txt", label_space=office_space)


def test_arrays_without_an_order(tmp_path, office_space):
    np.save(tmp_path / "top1.npy", np.array([0, 1]))

    with pytest.raises(InputError, match=r"top1\.npy: arrays carry no image keys; give an image-order file"):
        load_run(tmp_path / "top1.npy", label_space=office_space)


def test_order_file_with_the_wrong_number_of_lines(tmp_path, office_space):
    np.save(tmp_path / "top1.npy", np.array([0, 1, 2]))
    order = _write_order(tmp_path / "order.txt", ["a.jpg", "b.jpg"])

    with pytest.raises(InputError, match=r"top1\.npy: the image-order file .*order\.txt lists 2 images but .* has 3"):
        load_run(tmp_path / "top1.npy", label_space=office_space, order=order)


def test_ragged_topk_lists_in_a_table(tmp_path, office_space):
    path = tmp_path / "preds.csv"
    path.write_text('image,topk_ids\na.jpg,"[0, 1]"\nb.jpg,"[2, 3]"\nc.jpg,[1]\n')

    with pytest.raises(InputError, match=r"preds\.csv, column 'topk_ids'.*same number.*1 offender: 'c\.jpg'"):
        load_run(path, label_space=office_space)


def test_non_integer_class_ids_in_a_table(tmp_path, office_space):
    path = tmp_path / "preds.csv"
    path.write_text('image,topk_ids\na.jpg,[0 1]\nb.jpg,[2.5 3. ]\n')

    with pytest.raises(InputError, match=r"preds\.csv, column 'topk_ids'.*integers.*1 offender: 2\.5"):
        load_run(path, label_space=office_space)


# --- review fixes: each a file that used to load wrong or fail with a raw traceback --------------


def test_full_width_scores_are_taken_at_each_rows_predicted_ids(tmp_path, office_space):
    # one probability per class: pred 3 must get prob_3, not prob_0 (the first column)
    path = tmp_path / "preds.csv"
    path.write_text("image,pred,prob_0,prob_1,prob_2,prob_3\na.jpg,3,0.1,0.2,0.3,0.4\nb.jpg,1,0.5,0.25,0.125,0.125\n")

    run = load_run(path, label_space=office_space)

    assert_array_equal(run.topk_ids, [[3], [1]])
    assert_allclose(run.topk_scores, [[0.4], [0.25]])


def test_full_width_score_lists_with_topk_ids(tmp_path, office_space):
    records = [{"image": "a.jpg", "topk_ids": [2, 0], "prob": [0.25, 0.125, 0.5, 0.125]},
               {"image": "b.jpg", "topk_ids": [1, 3], "prob": [0.0, 0.75, 0.0, 0.25]}]
    (tmp_path / "preds.json").write_text(json.dumps(records))

    assert_allclose(load_run(tmp_path / "preds.json", label_space=office_space).topk_scores, [[0.5, 0.25], [0.75, 0.25]])


def test_scores_of_another_width_are_refused_naming_both_shapes(tmp_path, office_space):
    path = tmp_path / "preds.csv"
    path.write_text("image,index_0,index_1,index_2,prob_0,prob_1\na.jpg,3,1,0,0.5,0.3\n")

    with pytest.raises(InputError, match=r"preds\.csv, columns 'prob_0'…'prob_1': scores have shape \(1, 2\) but class "
                                         r"ids \(1, 3\); expected one score per class id \(1, 3\) or one per class \(1, 4\)"):
        load_run(path, label_space=office_space)


def test_numbered_columns_with_a_gap_are_refused_not_skipped_for_a_truth_label(tmp_path, office_space):
    path = tmp_path / "preds.csv"  # index_1, index_2 (no index_0) beside a ground-truth label: used to score 100%
    path.write_text("image,index_1,index_2,label\na.jpg,3,1,0\nb.jpg,2,0,1\n")

    with pytest.raises(InputError, match=r"preds\.csv: columns \['index_1', 'index_2'\] look like ranked columns "
                                         r"index_0, index_1, … but do not run from index_0"):
        load_run(path, label_space=office_space)


def test_class_index_is_the_true_class_never_the_prediction(tmp_path, office_space):
    path = tmp_path / "preds.csv"
    path.write_text("image,class_index,index\na.jpg,0,2\nb.jpg,1,3\n")
    assert_array_equal(load_run(path, label_space=office_space).topk_ids, [[2], [3]])

    path.write_text("image,class_index\na.jpg,0\n")
    with pytest.raises(InputError, match=r"no prediction column; \['class_index'\] name the true class \(ground "
                                         r"truth\), which is never read as the prediction"):
        load_run(path, label_space=office_space)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("\"['laptop', 'sofa']\"", r"class names not in label space 'office': 1 offender: 'sofa' at images 1 offender: "
                                 r"'a\.jpg'"),
        ('"[1, 2"', r"image 'a\.jpg': cannot read the class ids '\[1, 2'.*closing '\]'"),
        ('"[1, 2 3]"', r"image 'a\.jpg': cannot read the class ids.*partly by commas and partly by spaces"),
        ("[one two]", r"image 'a\.jpg': cannot read the class ids.*'one' is neither a number nor quoted text"),
        ("laptop||desk", r"image 'a\.jpg': cannot read the class ids.*empty label between '\|'"),
    ],
)
def test_list_cells_are_read_completely_or_refused(tmp_path, office_space, cell, message):
    path = tmp_path / "preds.csv"  # each used to lose values silently: ['laptop', 3] → ['laptop'], [1, 2 → [1]
    path.write_text(f"image,topk_ids\na.jpg,{cell}\n")

    with pytest.raises(InputError, match=r"preds\.csv, column 'topk_ids'.*" + message):
        load_run(path, label_space=office_space)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [('"[\'desk\', \'laptop\']"', [2, 0]), ('"[2, 0]"', [2, 0]), ("[2 0]", [2, 0]), ("desk|laptop", [2, 0]),
     ('"[\'desk\', 0]"', [2, 0])],
    ids=["python-names", "json-ints", "numpy-ints", "pipes", "name-and-index"],  # the last used to lose the 0
)
def test_every_list_cell_form_is_read_the_same_way(tmp_path, office_space, cell, expected):
    path = tmp_path / "preds.csv"
    path.write_text(f"image,topk_ids\na.jpg,{cell}\n")
    assert_array_equal(load_run(path, label_space=office_space).topk_ids, [expected])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"topk": 0}, r"'topk' must be a positive integer; found 0"),
        ({"topk": -1}, r"'topk' must be a positive integer; found -1"),
        ({"topk": "5"}, r"'topk' must be a positive integer; found '5'"),
        ({"topk": True}, r"'topk' must be a positive integer; found True"),
        ({"keep_logits": "no"}, r"'keep_logits' must be true or false; found 'no'"),
        ({"canonical_order": 1}, r"'canonical_order' must be true or false; found 1"),
        ({"image_column": 3}, r"'image_column' must be a column name; found 3"),
    ],
)
def test_reader_options_are_checked(tmp_path, office_space, options, message):
    np.save(tmp_path / "logits.npy", np.zeros((2, 4), dtype=np.float32))
    order = _write_order(tmp_path / "order.txt", ["a.jpg", "b.jpg"])

    with pytest.raises(InputError, match=r"logits\.npy: reader option " + message):
        load_run(tmp_path / "logits.npy", label_space=office_space, order=order, **options)


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"seed": 1.7}, r"'seed' must be an integer; found 1\.7"),
        ({"seed": True}, r"'seed' must be an integer; found True"),
        ({"strength": "strong"}, r"'strength' must be a finite number; found 'strong'"),
        ({"strength": float("inf")}, r"'strength' must be a finite number; found inf"),
    ],
)
def test_metadata_is_never_truncated(tmp_path, office_space, meta, message):
    path = tmp_path / "preds.csv"
    path.write_text("image,pred\na.jpg,1\n")

    with pytest.raises(InputError, match=r"preds\.csv, run metadata: " + message):
        load_run(path, label_space=office_space, **meta)
    assert load_run(path, label_space=office_space, seed=2.0, strength=1).meta == RunMeta("preds", None, 1.0, 2)


def test_seed_in_parquet_metadata_must_be_an_integer(tmp_path, office_space):
    path = _relabel_parquet(tmp_path / "x.parquet", pa.list_(pa.int64()), [[1]], meta={"name": "x", "seed": 0.5})

    with pytest.raises(InputError, match=r"x\.parquet, run metadata: 'seed' must be an integer; found 0\.5"):
        load_run(path, label_space=office_space)


def test_repeated_keys_in_parquet_metadata(tmp_path, office_space):
    table = pa.table({"image": ["a.jpg"], "topk_ids": pa.array([[1]], pa.list_(pa.int64()))})
    pq.write_table(table.replace_schema_metadata({b"relabel": b'{"name": "a", "name": "b"}'}), tmp_path / "x.parquet")

    with pytest.raises(InputError, match=r"x\.parquet: schema metadata key 'relabel' must hold a JSON object"):
        load_run(tmp_path / "x.parquet", label_space=office_space)


def test_runs_compare_by_identity_without_raising(tmp_path, office_space):
    path = tmp_path / "preds.csv"
    path.write_text("image,pred\na.jpg,1\n")
    run = load_run(path, label_space=office_space)

    assert run == run
    assert run != load_run(path, label_space=office_space)  # used to raise: numpy arrays in a generated __eq__


def test_timm_json_index_layout_with_a_repeated_file_name(tmp_path):
    path = tmp_path / "t.json"
    path.write_text('{"img0.jpg": {"index": 1, "prob": 0.5}, "img0.jpg": {"index": 2, "prob": 0.4}}')

    with pytest.raises(InputError, match=r"t\.json: keys must be unique within a JSON object; 1 offender: 'img0\.jpg'"):
        load_run(path, label_space=relabel.imagenet_1k())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"image": ["a.jpg", "b.jpg"], "pred": [1]}', r"every column must hold the same number of rows; found "
                                                       r"\{'image': 2, 'pred': 1\}"),
        ('{"columns": ["image", "pred"], "data": [["a.jpg", 1], ["b.jpg"]]}',
         r"every row under 'data' must hold 2 values \(one per column\); rows 1 offender: 1 do not"),
        ('{"image": {"0": "a.jpg", "1": "b.jpg"}, "pred": {"1": 2, "0": 1}}',
         r"every column must hold the same rows in the same order; columns 1 offender: 'pred'"),
        ('[{"image": "a.jpg", "pred": 1}, 3]', r"expected a list of records \(JSON objects\); records 1 offender: 1"),
    ],
    ids=["ragged-columns", "ragged-split", "columns-with-other-rows", "not-records"],
)
def test_malformed_json_tables(tmp_path, office_space, text, message):
    path = tmp_path / "preds.json"
    path.write_text(text)

    with pytest.raises(InputError, match=r"preds\.json: " + message):
        load_run(path, label_space=office_space)


def test_a_bad_jsonl_line_is_named_by_its_line_in_the_file(tmp_path, office_space):
    path = tmp_path / "preds.jsonl"
    path.write_text('{"image": "a.jpg", "pred": 1}\n\n{"image": "b.jpg", "pred": 2\n')

    with pytest.raises(InputError, match=r"preds\.jsonl, line 3: not valid JSON \(column 29"):
        load_run(path, label_space=office_space)


@pytest.mark.parametrize("suffix", [".csv", ".json", ".jsonl"])
def test_files_that_are_not_utf8(tmp_path, office_space, suffix):
    path = tmp_path / f"preds{suffix}"
    path.write_bytes('{"image": "caf\xe9.jpg", "pred": 1}\n'.encode("latin-1") if suffix != ".csv"
                     else "image,pred\ncaf\xe9.jpg,1\n".encode("latin-1"))

    with pytest.raises(InputError, match=rf"preds\{suffix}: not UTF-8 text"):
        load_run(path, label_space=office_space)


def test_an_order_file_that_is_not_utf8(tmp_path, office_space):
    np.save(tmp_path / "top1.npy", np.array([0]))
    (tmp_path / "order.txt").write_bytes("caf\xe9.jpg\n".encode("latin-1"))

    with pytest.raises(InputError, match=r"order\.txt: not UTF-8 text \(invalid continuation byte at byte 3\)"):
        load_run(tmp_path / "top1.npy", label_space=office_space, order=tmp_path / "order.txt")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("a.jpg,1\nb.jpg,\n", r"column 'pred': missing class labels at images 1 offender: 'b\.jpg'"),
        ("a.jpg,desk\nb.jpg,\n", r"column 'pred': empty cells at images 1 offender: 'b\.jpg'"),
        ("a.jpg,--3\nb.jpg,²\n", r"column 'pred': class names not in label space 'office': 2 offenders: '--3', '²' "
                                 r"at images 2 offenders: 'a\.jpg', 'b\.jpg'"),
    ],
    ids=["empty-number", "empty-name", "not-ascii-integers"],
)
def test_bad_prediction_cells_name_their_images(tmp_path, office_space, rows, message):
    path = tmp_path / "preds.csv"
    path.write_text("image,pred\n" + rows)

    with pytest.raises(InputError, match=r"preds\.csv, " + message):
        load_run(path, label_space=office_space)


def test_torch_dict_entries_that_are_neither_tensors_nor_key_lists_are_named(tmp_path, office_space):
    torch.save({"logits": torch.zeros(2, 4), "images": ["a.jpg", 1], "epoch": 3}, tmp_path / "run.pt")

    with pytest.raises(InputError, match=r"run\.pt: expected a dict of tensors and lists of image keys \(strings\); "
                                         r"entries 2 offenders: 'images', 'epoch' hold other values \(int, list\)"):
        load_run(tmp_path / "run.pt", label_space=office_space)


@pytest.mark.parametrize(("name", "message"), [("garbage.pt", "not a file torch.save wrote"),
                                               ("garbage.npy", "not an .npy array"), ("empty.npz", "cannot load arrays")])
def test_unreadable_array_files(tmp_path, office_space, name, message):
    (tmp_path / name).write_bytes(b"" if name.startswith("empty") else b"hello")

    with pytest.raises(InputError, match=rf"{name.replace('.', '[.]')}: {message}"):
        load_run(tmp_path / name, label_space=office_space)


def test_logits_are_reduced_chunk_by_chunk_like_torch(tmp_path, monkeypatch):
    import relabel.loading.runs as runs

    monkeypatch.setattr(runs, "_LOGIT_ROWS_PER_CHUNK", 3)  # 10 rows: chunks of 3, 3, 3 and 1
    logits = np.random.default_rng(1).normal(scale=20, size=(10, 7)).astype(np.float32)
    space = LabelSpace.from_names([f"c{i}" for i in range(7)])
    np.savez(tmp_path / "run.npz", logits=logits, images=np.array([f"img{i}.jpg" for i in range(10)]))

    run = load_run(tmp_path / "run.npz", label_space=space, topk=3)

    expected_scores, expected_ids = torch.topk(torch.softmax(torch.from_numpy(logits).double(), dim=1), 3)
    assert_array_equal(run.topk_ids, expected_ids.numpy())
    assert_allclose(run.topk_scores, expected_scores.numpy(), rtol=1e-5, atol=1e-7)
    assert run.topk_scores.dtype == np.float32


def test_topk_larger_than_the_number_of_classes_keeps_every_class(tmp_path, office_space):
    np.savez(tmp_path / "run.npz", logits=np.array([[0.0, 3.0, 1.0, 2.0]]), images=np.array(["a.jpg"]))
    assert_array_equal(load_run(tmp_path / "run.npz", label_space=office_space, topk=10).topk_ids, [[1, 3, 2, 0]])


def test_image_column_named_in_any_case_keeps_leading_zeros(tmp_path, office_space):
    path = tmp_path / "preds.csv"
    path.write_text("Image,Photo_ID,pred\n000123,007,1\n000456,008,2\n")

    assert load_run(path, label_space=office_space).images.tolist() == ["000123", "000456"]
    assert load_run(path, label_space=office_space, image_column="photo_id").images.tolist() == ["007", "008"]


# ---------------------------------------------------------------- the Run constructor and the API boundary


@pytest.mark.parametrize(("ids", "message"), [
    ([[0], [-1], [2]], r"class ids must be >= 0; found 1 offender: -1 at images 1 offender: 'img1\.jpg'"),
    ([[0.0], [1.0], [2.0]], r"class ids must be an integer array.*found float64"),
    ([[True], [False], [True]], r"class ids must be an integer array.*found bool"),
    ([[0, 1], [2, 2], [1, 3]], r"a row of top-k class ids names one class more than once.*'img1\.jpg'"),
    ([[0], [1]], r"3 image keys but class ids of shape \(2, 1\)"),
])
def test_run_constructor_refuses_ids_that_would_give_garbage(ids, message):
    with pytest.raises(InputError, match=message):
        Run(RunMeta("api"), np.asarray(IMAGES, dtype=object), np.asarray(ids))


def test_run_constructor_refuses_repeated_keys_and_scores_of_another_shape():
    with pytest.raises(InputError, match=r"image keys must be unique; 1 offender: 'a\.jpg'"):
        Run(RunMeta("api"), np.asarray(["a.jpg", "a.jpg"], dtype=object), np.asarray([0, 1]))
    with pytest.raises(InputError, match=r"scores must be floats of the class ids' shape \(3, 2\)"):
        Run(RunMeta("api"), np.asarray(IMAGES, dtype=object), np.asarray([[0, 1]] * 3), np.ones((3, 1)))
    run = Run(RunMeta("api"), IMAGES, np.asarray([3, 1, 0], dtype=np.int32))
    assert run.topk_ids.dtype == np.int64 and run.topk_ids.shape == (3, 1) and run.images.dtype == object


def test_ids_beyond_the_label_space_are_refused_when_paired(office_space):
    annotations = relabel.Annotations.from_lists(IMAGES, [0, 1, 2], label_space=office_space)
    run = Run(RunMeta("api"), IMAGES, np.asarray([[0], [4], [2]]))
    with pytest.raises(LabelSpaceError, match=r"class ids must lie in 0\.\.3 \(label space 'office'\); found "
                                              r"1 offender: 4 at images 1 offender: 'img1\.jpg'"):
        relabel.pair(run, annotations)


def test_load_run_takes_a_label_space_name(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("image,pred\na.jpg,n01443537\nb.jpg,7\n")
    assert_array_equal(load_run(path, label_space="imagenet-1k").topk_ids, [[1], [7]])
    with pytest.raises(LabelSpaceError, match="label space 'imagenet-22k' is neither 'imagenet-1k' nor an existing"):
        load_run(path, label_space="imagenet-22k")


def test_a_table_whose_only_class_column_is_the_truth_is_refused(tmp_path, office_space):
    path = tmp_path / "labels_only.csv"
    path.write_text("filename,label\na.jpg,laptop\nb.jpg,desk\n")
    with pytest.raises(InputError, match=r"no prediction column; \['label'\] name the true class"):
        load_run(path, label_space=office_space)
    assert_array_equal(load_run(path, label_space=office_space, pred_column="label").topk_ids, [[0], [2]])
    path.write_text("filename,label,prob\na.jpg,laptop,0.9\nb.jpg,desk,0.8\n")  # timm's output: label is predicted
    assert_array_equal(load_run(path, label_space=office_space).topk_ids, [[0], [2]])


@pytest.mark.parametrize("column", ["predicted_class", "pred_label", "predicted_label", "class_id", "y_pred", "preds"])
def test_common_prediction_column_names(tmp_path, office_space, column):
    path = tmp_path / "r.csv"
    path.write_text(f"file_name,label,{column}\na.jpg,laptop,desk\nb.jpg,desk,monitor\n")
    assert_array_equal(load_run(path, label_space=office_space).topk_ids, [[2], [3]])


def test_top5_lists_and_image_id_columns(tmp_path, office_space):
    path = tmp_path / "r.csv"
    path.write_text('image_id,top5\na.jpg,"[3, 1, 0, 2]"\nb.jpg,"[0, 1, 2, 3]"\n')
    assert_array_equal(load_run(path, label_space=office_space).topk_ids, [[3, 1, 0, 2], [0, 1, 2, 3]])


@pytest.mark.parametrize(("header", "message"), [
    ({"descr": "<i8", "fortran_order": False, "shape": (10**10,)},
     r"the header declares an array of shape \(10000000000,\) \(80000000000 bytes of data\) but the file holds 24"),
    ({"descr": "|O", "fortran_order": False, "shape": (3,)}, r"holds Python objects \(dtype object\)"),
])
def test_npy_header_is_checked_before_allocating(tmp_path, office_space, header, message):
    path = tmp_path / "ids.npy"
    with path.open("wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        f.write(np.arange(3, dtype=np.int64).tobytes())
    with pytest.raises(InputError, match=r"ids\.npy: " + message):
        load_run(path, label_space=office_space, order=_write_order(tmp_path / "o.txt", IMAGES))


def test_npy_header_that_is_not_a_python_literal(tmp_path, office_space):
    path = tmp_path / "ids.npy"
    np.save(path, np.arange(3))
    data = bytearray(path.read_bytes())
    data[10:20] = b"{'descr': "[:0] + b"{(((((((("[:10].ljust(10)
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"ids\.npy: not an \.npy array"):
        load_run(path, label_space=office_space, order=_write_order(tmp_path / "o.txt", IMAGES))


def test_json_order_file(tmp_path, office_space):
    np.save(tmp_path / "ids.npy", np.asarray([2, 0, 1]))
    (tmp_path / "order.json").write_text(json.dumps([f"val/x/{k}" for k in IMAGES]))
    run = load_run(tmp_path / "ids.npy", label_space=office_space, order=tmp_path / "order.json")
    assert run.images.tolist() == IMAGES and run.image_order == f"image-order file {tmp_path / 'order.json'}"
    (tmp_path / "bad.json").write_text(json.dumps({"images": IMAGES}))
    with pytest.raises(InputError, match=r"bad\.json: a JSON image-order file must be a list"):
        load_run(tmp_path / "ids.npy", label_space=office_space, order=tmp_path / "bad.json")


def test_ids_that_are_indices_by_definition_are_never_integer_like_names(tmp_path):
    """With classes named "1", "2", "3", "none", relabel's topk_ids and arrays hold indices; a 'pred' column may not."""
    digits = LabelSpace.from_names(["1", "2", "3", "none"], name="digits")
    relabel.export.write_run(Run(RunMeta("r"), IMAGES, np.asarray([[1], [2], [3]])), tmp_path / "r.parquet")
    assert_array_equal(load_run(tmp_path / "r.parquet", label_space=digits).topk_ids, [[1], [2], [3]])
    np.save(tmp_path / "r.npy", np.asarray([1, 2, 3]))
    assert_array_equal(load_run(tmp_path / "r.npy", label_space=digits,
                                order=_write_order(tmp_path / "o.txt", IMAGES)).topk_ids, [[1], [2], [3]])
    (tmp_path / "r.csv").write_text("image,pred_index\nimg0.jpg,1\nimg1.jpg,2\nimg2.jpg,3\n")
    assert_array_equal(load_run(tmp_path / "r.csv", label_space=digits).topk_ids, [[1], [2], [3]])
    (tmp_path / "names.csv").write_text("image,pred\nimg0.jpg,1\nimg1.jpg,none\nimg2.jpg,3\n")
    assert_array_equal(load_run(tmp_path / "names.csv", label_space=digits).topk_ids, [[0], [3], [2]])
    (tmp_path / "unclear.csv").write_text("image,pred\nimg0.jpg,1\nimg1.jpg,2\nimg2.jpg,3\n")
    with pytest.raises(LabelSpaceError, match="both a valid class index and the name of another class"):
        load_run(tmp_path / "unclear.csv", label_space=digits)
