"""Annotation loaders on real files: ReaL, ImageNet val labels, custom JSON/CSV/Parquet, HF datasets.

The tiny custom files use the office label space (0 laptop, 1 notebook, 2 desk, 3 monitor) so
every expected index can be checked by eye. The ReaL numbers come from the real files that the
``imagenet-x`` package bundles.
"""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from relabel import Annotations, InputError, LabelSpace, RelabelWarning, imagenet_1k, load_annotations
from relabel.loading.annotations import read_original_labels, read_real_json
from relabel.loading.sources import source_path

# An unexpected sanity warning (original label outside its own set) fails the test.
pytestmark = pytest.mark.filterwarnings("error::relabel.errors.RelabelWarning")


def val(i: int) -> str:
    return f"ILSVRC2012_val_{i:08d}.JPEG"


def sets(annotations) -> list[list[int]]:
    return annotations.multilabel_sets()


@pytest.fixture
def keyed_office() -> LabelSpace:
    """The office classes with keys that differ from their names."""
    return LabelSpace(keys=("n0", "n1", "n2", "n3"), names=("laptop", "notebook", "desk", "monitor"), name="office")


@pytest.fixture(scope="module")
def real(request):
    """The real ReaL annotations (imagenet-x bundles real.json and the original val labels)."""
    pytest.importorskip("imagenet_x")
    return request.getfixturevalue("real_annotations")


# ---------------------------------------------------------------- ReaL


def test_real_json_from_a_user_path_joins_original_labels_by_file_name(tmp_path):
    real_json = tmp_path / "real.json"
    real_json.write_text("[[65, 58], [], [230, 231], [809]]")
    originals = tmp_path / "val_labels.csv"  # shuffled rows, folders in the paths, one extra image
    originals.write_text(
        "file_name,label\n"
        f"val/n04592741/{val(3)},230\nval/n01751748/{val(1)},65\n{val(5)},1\n{val(4)},809\n{val(2)},970\n"
    )
    ann = load_annotations(real_json, original_labels=originals)
    assert ann.images.tolist() == [val(1), val(2), val(3), val(4)]
    assert ann.original.tolist() == [65, 970, 230, 809]
    assert sets(ann) == [[65, 58], [], [230, 231], [809]]
    assert ann.label_space is imagenet_1k()
    assert ann.source == str(real_json)


def test_real_json_without_original_labels_takes_them_from_imagenet_x(tmp_path):
    pytest.importorskip("imagenet_x")
    real_json = tmp_path / "real.json"
    real_json.write_text("[[], [970, 795], [230, 231]]")
    ann = read_real_json(real_json)
    assert ann.original.tolist() == [65, 970, 230]


def test_real_by_name_has_50000_images_and_3163_empty_sets(real):
    assert real.n_images == 50_000
    assert real.images[0] == val(1) and real.images[-1] == val(50_000)
    assert int((np.diff(real.multilabel_indptr) == 0).sum()) == 3163
    assert real.original[:4].tolist() == [65, 970, 230, 809]
    assert sets(real)[:4] == [[], [970, 795], [230, 231], [809]]


def test_real_sanity_share_about_90_percent(real):
    nonempty = [(o, s) for o, s in zip(real.original.tolist(), sets(real)) if s]
    contains = sum(o in s for o, s in nonempty)
    assert (len(nonempty), contains) == (46_837, 42_164)
    assert contains / len(nonempty) == pytest.approx(0.9002, abs=1e-4)


def test_real_by_name_loads_without_a_sanity_warning():
    pytest.importorskip("imagenet_x")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RelabelWarning)
        assert load_annotations("REAL").n_images == 50_000


def test_original_val_labels_from_imagenet_x_have_50_images_per_class():
    pytest.importorskip("imagenet_x")
    originals = read_original_labels(source_path("imagenet-val-labels"))
    assert len(originals) == 50_000
    assert originals.iloc[0].tolist() == [val(293), 0]
    assert np.bincount(originals["original"], minlength=1000).tolist() == [50] * 1000


def test_original_val_labels_by_name_have_no_multilabels():
    pytest.importorskip("imagenet_x")
    ann = load_annotations("imagenet-val-labels")
    assert ann.n_images == 50_000
    assert not ann.has_multilabels
    assert ann.label_space is imagenet_1k()


def test_original_labels_as_text_lines_with_wordnet_ids(tmp_path):
    path = tmp_path / "val.txt"
    path.write_text(f"{val(1)} n01751748\n\n{val(2)} n04592741\n")
    assert read_original_labels(path).to_dict("list") == {"image": [val(1), val(2)], "original": [65, 908]}


# ---------------------------------------------------------------- sanity warning


def test_shifted_class_indices_warn(real):
    shifted = pd.DataFrame({"image": real.images, "original": (real.original + 1) % 1000})
    with pytest.warns(RelabelWarning, match=r"only 1\.7% of the 46837 non-empty multi-label sets contain"):
        read_real_json(source_path("real"), original=shifted)


def test_sanity_warning_on_a_small_file(tmp_path, office_space):
    path = tmp_path / "shifted.json"  # 1 of 3 non-empty sets holds the original label: 33.3%
    path.write_text(json.dumps({
        "a.jpg": {"original": 0, "labels": [0, 1]},
        "b.jpg": {"original": 1, "labels": [2]},
        "c.jpg": {"original": 2, "labels": [3]},
        "d.jpg": {"original": 3, "labels": []},
    }))
    with pytest.warns(RelabelWarning, match=r"shifted\.json: only 33\.3% of the 3 non-empty"):
        load_annotations(path, label_space=office_space)


def test_no_warning_at_three_quarters(tmp_path, office_space):
    path = tmp_path / "fine.json"  # 3 of 4 non-empty sets hold the original label
    path.write_text(json.dumps({f"{i}.jpg": {"original": i, "labels": [i if i < 3 else 0]} for i in range(4)}))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RelabelWarning)
        load_annotations(path, label_space=office_space)


# ---------------------------------------------------------------- custom JSON


def test_json_image_to_labels_with_a_separate_original_labels_file(tmp_path, office_space):
    path = tmp_path / "multi.json"
    path.write_text('{"img0.jpg": ["laptop", "notebook"], "img1.jpg": [], "img2.jpg": ["monitor"]}')
    originals = tmp_path / "orig.csv"
    originals.write_text("image,label\nimg2.jpg,monitor\nimg0.jpg,laptop\nimg1.jpg,desk\n")
    ann = load_annotations(path, label_space=office_space, original_labels=originals)
    assert ann.images.tolist() == ["img0.jpg", "img1.jpg", "img2.jpg"]
    assert ann.original.tolist() == [0, 2, 3]
    assert sets(ann) == [[0, 1], [], [3]]


@pytest.mark.parametrize(
    ("img0", "img1"),
    [
        ({"original": 0, "labels": [0, 1]}, {"original": 2, "labels": [2, 3]}),
        ({"original": "n0", "labels": ["n0", "n1"]}, {"original": "n2", "labels": ["n2", "n3"]}),
        ({"original": "laptop", "labels": ["laptop", "notebook"]}, {"original": "desk", "labels": ["desk", "monitor"]}),
    ],
    ids=["indices", "keys", "names"],
)
def test_json_image_to_original_and_labels_as_indices_keys_or_names(tmp_path, keyed_office, img0, img1):
    path = tmp_path / "objects.json"
    path.write_text(json.dumps({"img0.jpg": img0, "img1.jpg": img1}))
    ann = load_annotations(path, label_space=keyed_office)
    assert ann.original.tolist() == [0, 2]
    assert sets(ann) == [[0, 1], [2, 3]]


def test_json_without_label_space_infers_sorted_names(tmp_path):
    path = tmp_path / "office.json"
    path.write_text(json.dumps({
        "img0.jpg": {"original": "laptop", "labels": ["laptop", "notebook"]},
        "img1.jpg": {"original": "monitor", "labels": ["desk", "monitor"]},
    }))
    ann = load_annotations(path)
    assert ann.label_space.keys == ("desk", "laptop", "monitor", "notebook")
    assert ann.label_space.name == "office"
    assert ann.original.tolist() == [1, 2]
    assert sets(ann) == [[1, 3], [0, 2]]


def test_json_without_label_space_infers_0_to_max_for_integers(tmp_path):
    path = tmp_path / "ints.json"
    path.write_text('{"a.jpg": {"original": 4, "labels": [4, 1]}, "b.jpg": {"original": 0, "labels": []}}')
    ann = load_annotations(path)
    assert ann.label_space.keys == ("0", "1", "2", "3", "4")
    assert sets(ann) == [[4, 1], []]


def test_jsonl_rows(tmp_path, office_space):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"image": "a.jpg", "original": 0, "labels": [0, 1]}\n\n{"image": "b.jpg", "original": 3, "labels": []}\n')
    ann = load_annotations(path, label_space=office_space)
    assert ann.original.tolist() == [0, 3]
    assert sets(ann) == [[0, 1], []]


# ---------------------------------------------------------------- CSV / Parquet


def test_csv_one_row_per_image_label_pair_with_an_empty_set(tmp_path, office_space):
    path = tmp_path / "pairs.csv"
    path.write_text(
        "image,original,label\n"
        "img0.jpg,laptop,laptop\nimg1.jpg,desk,\nimg2.jpg,monitor,monitor\nimg0.jpg,laptop,notebook\n"
    )
    ann = load_annotations(path, label_space=office_space)
    assert ann.images.tolist() == ["img0.jpg", "img1.jpg", "img2.jpg"]
    assert ann.original.tolist() == [0, 2, 3]
    assert sets(ann) == [[0, 1], [], [3]]
    assert ann.soft_scores is None


def test_csv_score_column_gives_soft_scores_in_set_order(tmp_path, office_space):
    path = tmp_path / "scores.csv"
    path.write_text(
        "image,original,label,score\n"
        "img0.jpg,0,1,0.25\nimg1.jpg,2,2,1.0\nimg0.jpg,0,0,0.75\n"
    )
    ann = load_annotations(path, label_space=office_space)
    assert sets(ann) == [[1, 0], [2]]
    np.testing.assert_allclose(ann.soft_scores, [0.25, 0.75, 1.0])


def test_csv_one_row_per_image_pair_label_names_with_separate_originals(tmp_path, office_space):
    path = tmp_path / "pairs.csv"
    path.write_text("file_name,label\nimg0.jpg,laptop\nimg0.jpg,notebook\nimg1.jpg,desk\n")
    originals = pd.DataFrame({"image": ["data/img1.jpg", "data/img0.jpg"], "original": ["desk", "notebook"]})
    ann = load_annotations(path, label_space=office_space, original_labels=originals)
    assert ann.original.tolist() == [1, 2]
    assert sets(ann) == [[0, 1], [2]]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (['"[0, 1]"', "[]", '"[2, 3]"'], [[0, 1], [], [2, 3]]),
        (["laptop|notebook", "", "desk | monitor"], [[0, 1], [], [2, 3]]),
        (["0", "", "2"], [[0], [], [2]]),  # read as floats by pandas: 0.0, NaN, 2.0
    ],
    ids=["json-lists", "pipes", "single-numbers"],
)
def test_csv_list_column_layouts(tmp_path, office_space, cells, expected):
    path = tmp_path / "lists.csv"
    path.write_text("image,original,labels\n" + "".join(f"img{i}.jpg,{i},{c}\n" for i, c in enumerate(cells)))
    ann = load_annotations(path, label_space=office_space)
    assert ann.original.tolist() == [0, 1, 2]
    assert sets(ann) == expected


def test_csv_with_image_and_label_only_holds_original_labels(tmp_path, keyed_office):
    path = tmp_path / "single.tsv"
    path.write_text("image\tlabel\na.jpg\tdesk\nb.jpg\tn0\n")
    ann = load_annotations(path, label_space=keyed_office)
    assert ann.original.tolist() == [2, 0]
    assert not ann.has_multilabels


def test_parquet_with_a_list_column(tmp_path, keyed_office):
    path = tmp_path / "lists.parquet"
    pd.DataFrame({
        "image": ["img0.jpg", "img1.jpg", "img2.jpg"],
        "original": ["n0", "n2", "n3"],
        "labels": [["n0", "n1"], [], ["n3"]],
    }).to_parquet(path)
    ann = load_annotations(path, label_space=keyed_office)
    assert ann.original.tolist() == [0, 2, 3]
    assert sets(ann) == [[0, 1], [], [3]]


def test_parquet_rows_without_label_space_infer_it(tmp_path):
    path = tmp_path / "rows.parquet"
    pd.DataFrame({
        "image": ["a.jpg", "a.jpg", "b.jpg"], "original": [2, 2, 0], "label": [2, 0, 0], "score": [0.9, 0.1, 1.0],
    }).to_parquet(path)
    ann = load_annotations(path)
    assert ann.label_space.keys == ("0", "1", "2")
    assert sets(ann) == [[2, 0], [0]]
    np.testing.assert_allclose(ann.soft_scores, [0.9, 0.1, 1.0])


def test_a_dataframe_is_read_as_a_table(office_space):
    frame = pd.DataFrame({"image": ["a.jpg", "b.jpg"], "original": [1, 2], "labels": [[1, 0], [2]]})
    ann = load_annotations(frame, label_space=office_space)
    assert sets(ann) == [[1, 0], [2]]


# ---------------------------------------------------------------- HF datasets


@pytest.fixture
def office_features():
    import datasets as hf

    names = ["laptop", "notebook", "desk", "monitor"]
    return hf.Features({
        "image_key": hf.Value("string"),
        "label": hf.ClassLabel(names=names),
        "labels": hf.Sequence(hf.ClassLabel(names=names)),
    })


@pytest.fixture
def office_dataset(office_features):
    import datasets as hf

    return hf.Dataset.from_dict(
        {"image_key": ["img0.jpg", "img1.jpg", "img2.jpg"], "label": [0, 2, 3], "labels": [[0, 1], [], [3]]},
        features=office_features,
    )


def test_hf_dataset_takes_its_label_space_from_class_labels(office_dataset):
    ann = load_annotations(office_dataset)
    assert ann.label_space.keys == ("laptop", "notebook", "desk", "monitor")
    assert ann.images.tolist() == ["img0.jpg", "img1.jpg", "img2.jpg"]
    assert ann.original.tolist() == [0, 2, 3]
    assert sets(ann) == [[0, 1], [], [3]]


def test_hf_dataset_dict_needs_a_split_when_it_has_several(office_dataset):
    import datasets as hf

    both = hf.DatasetDict({"train": office_dataset.select([0]), "validation": office_dataset})
    with pytest.raises(InputError, match=r"several splits \['train', 'validation'\]; choose one with split="):
        load_annotations(both)
    assert load_annotations(both, split="validation").n_images == 3
    assert load_annotations(hf.DatasetDict({"test": office_dataset})).n_images == 3


def test_hf_dataset_saved_to_disk(tmp_path, office_dataset):
    path = tmp_path / "office_ds"
    office_dataset.save_to_disk(str(path))
    ann = load_annotations(path)
    assert ann.source == str(path)
    assert sets(ann) == [[0, 1], [], [3]]


def test_hf_image_column_gives_file_names_and_originals_come_from_a_frame(tmp_path, office_space):
    import datasets as hf
    from PIL import Image

    files = []
    for name in ["img0.jpg", "img1.jpg"]:
        Image.new("RGB", (2, 2)).save(tmp_path / name)
        files.append(str(tmp_path / name))
    ds = hf.Dataset.from_dict({"image": files, "labels": [["laptop"], ["desk", "monitor"]]}).cast_column(
        "image", hf.Image()
    )
    originals = pd.DataFrame({"image": ["img0.jpg", "img1.jpg"], "original": [0, 2]})
    ann = load_annotations(ds, label_space=office_space, original_labels=originals)
    assert ann.images.tolist() == ["img0.jpg", "img1.jpg"]
    assert sets(ann) == [[0], [2, 3]]


def test_hf_errors():
    import datasets as hf

    with pytest.raises(InputError, match=r"no image column.*found \['label'\]"):
        load_annotations(hf.Dataset.from_dict({"label": [0]}))
    with pytest.raises(InputError, match=r"expected an HF datasets Dataset or DatasetDict, got list"):
        load_annotations([["a.jpg", 0]])


def test_folder_that_is_not_a_saved_dataset(tmp_path):
    with pytest.raises(InputError, match=r"not a dataset saved with save_to_disk"):
        load_annotations(tmp_path)


# ---------------------------------------------------------------- errors name file, field, offenders


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_duplicate_image_keys_in_a_table(tmp_path, office_space):
    path = write(tmp_path, "dup.csv", "image,original\na.jpg,0\nb.jpg,1\na.jpg,0\nb.jpg,2\n")
    with pytest.raises(InputError) as info:
        load_annotations(path, label_space=office_space)
    assert str(info.value) == f"{path}: image keys must be unique; 2 offenders: 'a.jpg', 'b.jpg' appear more than once"


def test_duplicate_image_keys_in_a_json_object(tmp_path):
    path = write(tmp_path, "dup.json", '{"a.jpg": {"original": 0, "labels": [0]}, "a.jpg": {"original": 1, "labels": [1]}}')
    with pytest.raises(InputError, match=r"dup\.json: keys must be unique.*1 offender: 'a\.jpg'"):
        load_annotations(path)


def test_duplicate_image_keys_in_an_original_labels_file(tmp_path):
    originals = write(tmp_path, "orig.csv", f"file_name,label\n{val(1)},0\nval/{val(1)},1\n")
    path = write(tmp_path, "real.json", "[[0]]")
    with pytest.raises(InputError, match=rf"orig\.csv, column 'file_name': image keys must be unique; 1 offender: '{val(1)}'"):
        load_annotations(path, original_labels=originals)


def test_class_ids_out_of_range(tmp_path, office_space):
    path = write(tmp_path, "range.csv", "image,original,labels\na.jpg,7,[0]\nb.jpg,1,[1]\n")
    with pytest.raises(InputError) as info:
        load_annotations(path, label_space=office_space)
    assert str(info.value) == (
        f"{path}, column 'original': class ids must lie in 0..3 (label space 'office'); 1 offender: 7 "
        "at images 1 offender: 'a.jpg'"
    )


def test_real_json_ids_out_of_range(tmp_path):
    path = write(tmp_path, "real.json", "[[0], [1000, -1]]")
    originals = pd.DataFrame({"image": [val(1), val(2)], "original": [0, 1]})
    with pytest.raises(InputError, match=r"multi-labels: class ids must lie in 0\.\.999 .*2 offenders: 1000, -1"):
        read_real_json(path, original=originals)


def test_unknown_label_names(tmp_path, office_space):
    path = write(tmp_path, "names.csv", "image,original,labels\na.jpg,laptop,laptop|sofa\nb.jpg,desk,chair|sofa\n")
    expected = r"names\.csv, column 'labels': class names not in label space 'office': 2 offenders: 'sofa', 'chair'"
    with pytest.raises(InputError, match=expected):
        load_annotations(path, label_space=office_space)


def test_missing_original_label_in_a_column(tmp_path, office_space):
    path = write(tmp_path, "gaps.csv", "image,original,labels\na.jpg,0,[0]\nb.jpg,,[1]\n")
    with pytest.raises(InputError) as info:
        load_annotations(path, label_space=office_space)
    assert str(info.value) == f"{path}, column 'original': missing original labels for 1 offender: 'b.jpg'"


def test_original_labels_that_do_not_cover_every_image(tmp_path):
    path = write(tmp_path, "real.json", "[[0], [1], [2]]")
    originals = write(tmp_path, "orig.csv", f"image,label\n{val(1)},0\n")
    expected = rf"real\.json: the original labels do not cover every annotated image; missing for 2 offenders: '{val(2)}'"
    with pytest.raises(InputError, match=expected):
        load_annotations(path, original_labels=originals)


def test_no_original_labels_at_all(tmp_path):
    path = write(tmp_path, "multi.json", '{"a.jpg": [0, 1]}')
    with pytest.raises(InputError, match=r"multi\.json: no original labels; add an 'original' column or give"):
        load_annotations(path)


def test_conflicting_original_labels_in_row_layout(tmp_path, office_space):
    path = write(tmp_path, "rows.csv", "image,original,label\na.jpg,0,0\na.jpg,1,1\n")
    expected = r"rows\.csv, column 'original': images with more than one original label: 1 offender: 'a\.jpg'"
    with pytest.raises(InputError, match=expected):
        load_annotations(path, label_space=office_space)


def test_a_class_twice_in_one_set(tmp_path, office_space):
    path = write(tmp_path, "twice.csv", "image,original,labels\na.jpg,0,0|1|0\nb.jpg,1,1\n")
    expected = r"twice\.csv: a class appears twice in one multi-label set; images 1 offender: 'a\.jpg'"
    with pytest.raises(InputError, match=expected):
        load_annotations(path, label_space=office_space)


def test_nan_scores(tmp_path, office_space):
    path = write(tmp_path, "scores.csv", "image,original,label,score\na.jpg,0,0,0.5\nb.jpg,1,1,nan\nc.jpg,2,2,\n")
    with pytest.raises(InputError) as info:
        load_annotations(path, label_space=office_space)
    assert str(info.value) == (
        f"{path}, column 'score': soft scores must be finite numbers; missing or invalid for images "
        "2 offenders: 'b.jpg', 'c.jpg'"
    )


def test_scores_need_the_row_layout(tmp_path, office_space):
    path = write(tmp_path, "scores.csv", "image,original,labels,score\na.jpg,0,[0],0.5\n")
    with pytest.raises(InputError, match=r"soft scores \(column 'score'\) need one row per \(image, label\)"):
        load_annotations(path, label_space=office_space)


def test_non_integer_class_ids(tmp_path, office_space):
    path = write(tmp_path, "floats.csv", "image,original\na.jpg,0.5\nb.jpg,1\n")
    with pytest.raises(InputError, match=r"floats\.csv, column 'original': class ids must be integers; 1 offender: 0\.5"):
        load_annotations(path, label_space=office_space)


def test_unparseable_json(tmp_path):
    path = write(tmp_path, "broken.json", '{"a.jpg": [0, 1],\n "b.jpg": [2')
    with pytest.raises(InputError, match=r"broken\.json: not valid JSON \(line 2, column"):
        load_annotations(path)


def test_unparseable_jsonl_line(tmp_path):
    path = write(tmp_path, "rows.jsonl", '{"image": "a.jpg", "original": 0}\n{"image": "b.jpg",\n')
    with pytest.raises(InputError, match=r"rows\.jsonl, line 2: not valid JSON"):
        load_annotations(path)


def test_json_of_the_wrong_shape(tmp_path):
    path = write(tmp_path, "shape.json", '"just a string"')
    with pytest.raises(InputError, match=r"shape\.json: expected a list of lists \(ReaL\)"):
        load_annotations(path)
    path = write(tmp_path, "flat.json", "[0, 1, 2]")
    with pytest.raises(InputError, match=r"flat\.json: ReaL labels must be a JSON list holding one list"):
        load_annotations(path, original_labels=pd.DataFrame({"image": [val(1)], "original": [0]}))


def test_unparseable_json_list_cell(tmp_path, office_space):
    path = write(tmp_path, "cells.csv", 'image,original,labels\na.jpg,0,"[0, 1"\n')
    with pytest.raises(InputError, match=r"cells\.csv, column 'labels', image 'a\.jpg': cannot read the labels '\[0, 1'"):
        load_annotations(path, label_space=office_space)


def test_unparseable_csv(tmp_path):
    path = write(tmp_path, "ragged.csv", "image,original\na.jpg,0\nb.jpg,1,2,3\n")
    with pytest.raises(InputError, match=r"ragged\.csv: cannot parse as CSV: .*line 3"):
        load_annotations(path)


def test_unreadable_parquet(tmp_path):
    path = write(tmp_path, "fake.parquet", "image,original\na.jpg,0\n")
    with pytest.raises(InputError, match=r"fake\.parquet: cannot read as Parquet"):
        load_annotations(path)


def test_table_without_an_image_column(tmp_path):
    path = write(tmp_path, "cols.csv", "picture,original\na.jpg,0\n")
    expected = r"cols\.csv: no image column; expected one of \['image', .*found \['picture', 'original'\]"
    with pytest.raises(InputError, match=expected):
        load_annotations(path)


def test_unknown_suffix(tmp_path):
    path = write(tmp_path, "labels.xlsx", "")
    with pytest.raises(InputError, match=r"labels\.xlsx: unknown annotation format '\.xlsx'; expected \.json"):
        load_annotations(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"annotations '.*nope\.csv': no such file or folder \(or give the name 'real'\)"):
        load_annotations(tmp_path / "nope.csv")
    with pytest.raises(InputError, match=r"original labels file .*gone\.csv does not exist"):
        load_annotations(write(tmp_path, "real.json", "[[0]]"), original_labels=tmp_path / "gone.csv")


def test_csv_image_keys_keep_leading_zeros(tmp_path):
    from relabel import load_annotations

    (tmp_path / "a.csv").write_text("image,label\n000123,cat\n000124,dog\n")
    annotations = load_annotations(tmp_path / "a.csv")
    assert annotations.images.tolist() == ["000123", "000124"]


# ---------------------------------------------------------------- review fixes


@pytest.mark.parametrize(
    ("header", "kwargs"),
    [("Image,original", {}), ("photo,original", {"image_column": "photo"}), ("img,original", {}),
     ("key,original", {})],
    ids=["capitalised", "custom", "img", "key"],
)
def test_csv_image_keys_keep_leading_zeros_whatever_the_image_column_is_called(tmp_path, office_space, header, kwargs):
    path = write(tmp_path, "a.csv", f"{header}\n000123,0\n000124,1\n")
    assert load_annotations(path, label_space=office_space, **kwargs).images.tolist() == ["000123", "000124"]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("one_list.jsonl", '[{"image": "a.jpg", "image": "b.jpg", "original": 0}]',
         r"one_list\.jsonl, line 1: keys must be unique within a JSON object; 1 offender: 'image'"),
        ("rows.jsonl", '{"image": "a.jpg", "original": 0}\n{"image": "b.jpg", "original": 1, "original": 2}\n',
         r"rows\.jsonl, line 2: keys must be unique within a JSON object; 1 offender: 'original'"),
        ("fields.json", '{"a.jpg": {"original": 0, "labels": [0], "labels": [1]}}',
         r"fields\.json: keys must be unique within a JSON object; 1 offender: 'labels'"),
    ],
)
def test_repeated_json_keys_are_refused_in_every_layout(tmp_path, name, text, message):
    with pytest.raises(InputError, match=message):
        load_annotations(write(tmp_path, name, text))


def test_jsonl_holding_one_real_list(tmp_path):
    path = write(tmp_path, "real.jsonl", "[[0], [1, 2]]")
    originals = pd.DataFrame({"image": [val(1), val(2)], "original": [0, 1]})
    ann = load_annotations(path, original_labels=originals)
    assert ann.images.tolist() == [val(1), val(2)]
    assert sets(ann) == [[0], [1, 2]]


def test_unknown_field_in_an_images_object(tmp_path, office_space):
    path = write(tmp_path, "typo.json", '{"a.jpg": {"orignal": 0, "labels": [0]}}')
    with pytest.raises(InputError, match=r"typo\.json, image 'a\.jpg': unknown fields \['orignal'\]"):
        load_annotations(path, label_space=office_space)


def test_soft_scores_are_matched_set_by_set_not_by_total_count(office_space):
    # 3 scores for 3 labels in total, but image a has 1 label and 2 scores: used to pass misaligned
    with pytest.raises(InputError, match=r"each image needs one soft score per label of its multi-label set; the "
                                         r"counts differ for images 2 offenders: 'a\.jpg', 'b\.jpg'"):
        Annotations.from_lists(["a.jpg", "b.jpg"], [0, 1], [[0], [1, 2]], label_space=office_space,
                               soft_scores=[[0.5, 0.5], [1.0]])
    with pytest.raises(InputError, match=r"soft scores: soft scores must be finite numbers; missing or invalid for "
                                         r"images 1 offender: 'b\.jpg'"):
        Annotations.from_lists(["a.jpg", "b.jpg"], [0, 1], [[0], [1, 2]], label_space=office_space,
                               soft_scores=[[0.5], [1.0, "high"]])
    ann = Annotations.from_lists(["a.jpg", "b.jpg"], [0, 1], [[0], [1, 2]], label_space=office_space,
                                 soft_scores=[[0.5], [1.0, 0.25]])
    np.testing.assert_allclose(ann.soft_scores, [0.5, 1.0, 0.25])


def test_parquet_written_by_pandas_with_the_image_as_index(tmp_path, office_space):
    path = tmp_path / "indexed.parquet"
    pd.DataFrame({"image": ["a.jpg", "b.jpg"], "original": [1, 3]}).set_index("image").to_parquet(path)
    ann = load_annotations(path, label_space=office_space)
    assert ann.images.tolist() == ["a.jpg", "b.jpg"]
    assert ann.original.tolist() == [1, 3]


def test_annotations_compare_by_identity_without_raising(office_annotations):
    assert office_annotations == office_annotations
    same = Annotations.from_lists(office_annotations.images, office_annotations.original,
                                  label_space=office_annotations.label_space)
    assert office_annotations != same  # used to raise: numpy arrays in a generated __eq__


def test_multilabel_errors_name_images_not_positions(tmp_path, office_space):
    path = write(tmp_path, "multi.json", '{"a.jpg": {"original": 0, "labels": [0]}, "b.jpg": {"original": 1, '
                                         '"labels": ["notebook", "sofa"]}}')
    with pytest.raises(InputError, match=r"multi\.json, column 'labels': class names not in label space 'office': "
                                         r"1 offender: 'sofa' at images 1 offender: 'b\.jpg'"):
        load_annotations(path, label_space=office_space)
    real = write(tmp_path, "real.json", "[[0], [1, null]]")
    originals = pd.DataFrame({"image": [val(1), val(2)], "original": [0, 1]})
    with pytest.raises(InputError, match=rf"real\.json, multi-labels: missing class labels at images 1 offender: "
                                         rf"'{val(2)}'"):
        read_real_json(real, original=originals)


@pytest.mark.parametrize("label", ["--3", "²", "3.5"])
def test_labels_that_are_not_ascii_integers_are_names(tmp_path, office_space, label):
    path = write(tmp_path, "odd.csv", f"image,original\na.jpg,0\nb.jpg,{label}\n")
    with pytest.raises(InputError, match=rf"odd\.csv, column 'original': .*{re.escape(label)}.* at images 1 offender: "
                                         r"'b\.jpg'"):
        load_annotations(path, label_space=office_space)


@pytest.mark.parametrize(
    "cells",
    [["[0 1]", "[]", "[2 3]"], ["\"['laptop', 'notebook']\"", "[]", "\"['desk', 'monitor']\""]],
    ids=["numpy", "python"],
)
def test_list_cells_in_numpy_and_python_forms(tmp_path, office_space, cells):
    path = write(tmp_path, "lists.csv", "image,original,labels\n" + "".join(
        f"img{i}.jpg,{i},{c}\n" for i, c in enumerate(cells)))
    assert sets(load_annotations(path, label_space=office_space)) == [[0, 1], [], [2, 3]]


def test_a_list_cell_that_cannot_be_read_completely(tmp_path, office_space):
    path = write(tmp_path, "cells.csv", "image,original,labels\na.jpg,0,\"['laptop', desk]\"\n")
    with pytest.raises(InputError, match=r"cells\.csv, column 'labels', image 'a\.jpg': cannot read the labels .*"
                                         r"'desk' is neither a number nor quoted text"):
        load_annotations(path, label_space=office_space)


def test_original_labels_that_are_not_utf8(tmp_path):
    (tmp_path / "val.txt").write_bytes(f"{val(1)} caf\xe9\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"val\.txt: not UTF-8 text"):
        load_annotations(write(tmp_path, "real.json", "[[0]]"), original_labels=tmp_path / "val.txt")


def test_annotations_json_that_is_not_utf8(tmp_path):
    (tmp_path / "a.json").write_bytes('{"caf\xe9.jpg": [0]}'.encode("latin-1"))
    with pytest.raises(InputError, match=r"a\.json: not UTF-8 text \(invalid continuation byte at byte 5\)"):
        load_annotations(tmp_path / "a.json")


# ---------------------------------------------------------------- HF ClassLabel codes with a given label space


def _imagenet_classes_dataset(wnids, labels):
    import datasets as hf

    features = hf.Features({"image_key": hf.Value("string"), "label": hf.ClassLabel(names=list(wnids))})
    return hf.Dataset.from_dict({"image_key": [f"img{i}.JPEG" for i in range(len(labels))], "label": labels},
                                features=features)


def test_hf_class_label_codes_are_mapped_through_their_names_into_a_given_label_space():
    """imagefolder numbers class folders 0.. : code 0 here is goldfish (ImageNet 1), not tench (ImageNet 0)."""
    dataset = _imagenet_classes_dataset(["n01443537", "n01484850", "n01491361"], [0, 1, 2, 2])
    ann = load_annotations(dataset, label_space=imagenet_1k())
    assert ann.original.tolist() == [1, 2, 3, 3]
    assert load_annotations(dataset, label_space="imagenet-1k").original.tolist() == [1, 2, 3, 3]
    assert load_annotations(dataset).original.tolist() == [0, 1, 2, 2]  # no label space: the codes' own


def test_hf_class_label_names_outside_the_label_space_are_named():
    with pytest.raises(InputError, match=r"column 'label': the ClassLabel names must be classes \(keys or names\) of "
                                         r"label space 'imagenet-1k'.*'kitten'"):
        load_annotations(_imagenet_classes_dataset(["n01443537", "kitten"], [0, 1]), label_space=imagenet_1k())
    with pytest.raises(InputError, match=r"ClassLabel code -1 is not one of the feature's 2 classes"):
        load_annotations(_imagenet_classes_dataset(["n01443537", "n01484850"], [0, -1]), label_space=imagenet_1k())


def test_hf_class_label_lists_are_mapped_too(office_dataset):
    reordered = LabelSpace.from_names(["monitor", "desk", "notebook", "laptop"], name="reordered")
    ann = load_annotations(office_dataset, label_space=reordered)
    assert ann.original.tolist() == [3, 1, 0]
    assert sets(ann) == [[3, 2], [], [0]]


# ---------------------------------------------------------------- class names that look like integers


def test_integer_like_names_in_a_file_with_a_label_space(tmp_path):
    (tmp_path / "classes.txt").write_text("1\n2\n3\nnone\n")
    (tmp_path / "a.csv").write_text("image,original,labels\na.jpg,1,1|none\nb.jpg,3,3\nc.jpg,2,\n")
    ann = load_annotations(tmp_path / "a.csv", label_space=tmp_path / "classes.txt")
    assert ann.original.tolist() == [0, 2, 1]  # the original column alone (ints to pandas) is told by the labels'
    assert sets(ann) == [[0, 3], [2], []]


def test_integer_like_names_when_the_label_space_is_inferred(tmp_path):
    (tmp_path / "a.csv").write_text("image,original\na.jpg,1\nb.jpg,3\nc.jpg,none\nd.jpg,3\n")
    ann = load_annotations(tmp_path / "a.csv")
    assert ann.label_space.keys == ("1", "3", "none")
    assert ann.original.tolist() == [0, 1, 2, 1]


def test_hf_class_label_codes_beside_labels_of_another_kind_are_read_as_keys():
    import datasets as hf

    features = hf.Features({"image_key": hf.Value("string"), "label": hf.ClassLabel(names=["n01443537", "n01484850"]),
                            "labels": hf.Sequence(hf.Value("string"))})
    dataset = hf.Dataset.from_dict({"image_key": ["a.JPEG", "b.JPEG"], "label": [1, 0],
                                    "labels": [["n01484850", "tench, Tinca tinca"], ["goldfish"]]}, features=features)
    ann = load_annotations(dataset, label_space=imagenet_1k())
    assert ann.original.tolist() == [2, 1]
    assert sets(ann) == [[2, 0], [1]]
