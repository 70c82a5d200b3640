"""Label spaces: the built-in ImageNet-1k space and custom spaces read from real files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from relabel import LabelSpace, LabelSpaceError, imagenet_1k, load_label_space

# ---------------------------------------------------------------- ImageNet-1k


def test_imagenet_1k_has_1000_sorted_wordnet_ids():
    space = imagenet_1k()
    assert len(space) == 1000
    assert space.name == "imagenet-1k"
    assert list(space.keys) == sorted(space.keys)
    assert space.keys[:3] == ("n01440764", "n01443537", "n01484850")
    assert space.names[:3] == ("tench", "goldfish", "great white shark")
    assert space.keys[-1] == "n15075141"
    assert space.names[-1] == "toilet tissue"


def test_imagenet_1k_names_are_wordnet_first_lemmas():
    space = imagenet_1k()
    assert space.names[477] == "carpenter's kit"  # WordNet keeps the apostrophe
    assert space.names[607] == "jack-o'-lantern"
    assert space.lemmas[477] == ("carpenter's kit", "tool kit")


def test_imagenet_1k_duplicate_names_are_refused_by_name_but_resolve_by_key():
    space = imagenet_1k()
    assert [i for i, n in enumerate(space.names) if n == "crane"] == [134, 517]
    assert [i for i, n in enumerate(space.names) if n == "maillot"] == [638, 639]
    with pytest.raises(LabelSpaceError, match=r"several classes share.*'crane'"):
        space.index_of_names(["tench", "crane"])
    assert space.index_of_keys(["n02012849", "n03126707"]).tolist() == [134, 517]


def test_imagenet_1k_resolves_names_keys_and_timm_descriptions():
    space = imagenet_1k()
    assert space.index_of_names(["tench", "n01443537", "tench, Tinca tinca", "maillot, tank suit"]).tolist() == [0, 1, 0, 639]


def test_load_label_space_by_name_returns_the_builtin_space():
    assert load_label_space("imagenet-1k") is imagenet_1k()
    assert load_label_space("ImageNet") is imagenet_1k()


# ---------------------------------------------------------------- custom spaces

OFFICE = ("laptop", "notebook", "desk", "monitor")


def test_from_a_list_of_names():
    space = load_label_space(["laptop", "notebook", "desk"])
    assert space.keys == ("laptop", "notebook", "desk")
    assert space.index_of_keys(["desk", "laptop"]).tolist() == [2, 0]


def test_a_label_space_passes_through_unchanged(office_space):
    assert load_label_space(office_space) is office_space


def test_csv_with_key_name_and_index_is_ordered_by_index(tmp_path):
    path = tmp_path / "classes.csv"
    path.write_text("key,name,index\nn2,desk,2\nn0,laptop,0\nn3,monitor,3\nn1,notebook,1\n")
    space = load_label_space(path)
    assert space.keys == ("n0", "n1", "n2", "n3")
    assert space.names == OFFICE
    assert space.name == "classes"


def test_tsv_with_class_key_and_class_name_keeps_file_order(tmp_path):
    path = tmp_path / "office.tsv"
    path.write_text("class_key\tclass_name\n" + "".join(f"k{i}\t{n}\n" for i, n in enumerate(OFFICE)))
    space = load_label_space(path)
    assert space.keys == ("k0", "k1", "k2", "k3")
    assert space.names == OFFICE


def test_csv_with_a_single_column_of_names_under_a_name_header(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("name\nlaptop\nnotebook\ndesk\n")
    assert load_label_space(path).keys == ("laptop", "notebook", "desk")


def test_csv_without_a_header_is_refused_not_read_with_its_first_name_as_a_header(tmp_path):
    # A CSV always has a header row: a header-less "laptop" line used to become class 0 silently
    # when the file was meant to have a header (e.g. "class"), so header-less lists go in .txt.
    path = tmp_path / "names.csv"
    path.write_text("class\nlaptop\nnotebook\ndesk\n")
    with pytest.raises(LabelSpaceError, match=r"names\.csv: a CSV label space starts with a header row naming its "
                                              r"'key' or 'name' column; the first line, 'class', is not one.*\.txt"):
        load_label_space(path)
    text = tmp_path / "names.txt"
    text.write_text("laptop\nnotebook\ndesk\n")
    assert load_label_space(text).keys == ("laptop", "notebook", "desk")


@pytest.mark.parametrize(
    "content",
    [
        ["laptop", "notebook", "desk", "monitor"],
        [{"key": n, "name": n} for n in OFFICE],
        {n: n for n in OFFICE},
        {"classes": ["laptop", "notebook", "desk", "monitor"]},
    ],
    ids=["list-of-names", "list-of-objects", "key-to-name", "classes-field"],
)
def test_json_layouts(tmp_path, content):
    path = tmp_path / "office.json"
    path.write_text(json.dumps(content))
    space = load_label_space(path)
    assert space.keys == OFFICE
    assert space.names == OFFICE


def test_json_object_keeps_keys_and_names_apart(tmp_path):
    path = tmp_path / "wn.json"
    path.write_text('{"n03642806": "laptop", "n03832673": "notebook"}')
    space = load_label_space(path)
    assert space.keys == ("n03642806", "n03832673")
    assert space.index_of_names(["notebook"]).tolist() == [1]


def test_text_file_with_one_name_per_line_skips_blank_lines(tmp_path):
    path = tmp_path / "office.txt"
    path.write_text("laptop\n\n  notebook  \ndesk\nmonitor\n")
    assert load_label_space(path).keys == OFFICE


def test_table_lists_index_key_and_name(office_space):
    table = office_space.table()
    assert table.columns.tolist() == ["class_index", "class_key", "class_name"]
    assert table["class_index"].tolist() == [0, 1, 2, 3]
    assert table["class_key"].tolist() == list(OFFICE)


# ---------------------------------------------------------------- errors


def test_duplicate_keys_in_a_list_name_the_offenders():
    with pytest.raises(LabelSpaceError, match=r"unique; 2 offenders: 'laptop', 'desk' appear more than once"):
        LabelSpace.from_names(["laptop", "desk", "laptop", "desk", "laptop"])


def test_duplicate_keys_in_a_csv_name_the_file(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("key,name\na,x\nb,y\na,z\n")
    with pytest.raises(LabelSpaceError, match=r"dup\.csv.*1 offender: 'a' appear"):
        load_label_space(path)


def test_duplicate_keys_in_a_json_object_are_an_error_not_an_overwrite(tmp_path):
    path = tmp_path / "dup.json"
    path.write_text('{"a": "x", "b": "y", "a": "z"}')
    with pytest.raises(LabelSpaceError, match=r"dup\.json.*1 offender: 'a'"):
        load_label_space(path)


def test_empty_key_is_refused(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("key,name\na,x\n,y\n")
    with pytest.raises(LabelSpaceError, match=r"blank\.csv.*must not be empty.*1 offender: 1"):
        load_label_space(path)


@pytest.mark.parametrize(
    ("indices", "message"),
    [
        ("0,1,x", r"not an integer: 1 offender: 'x'"),
        ("0,1,5", r"out of range: 1 offender: 5"),
        ("0,-1,2", r"out of range: 1 offender: -1"),
        ("0,1,1", r"repeated: 1 offender: 1"),
    ],
)
def test_bad_index_column_names_the_file_column_and_offenders(tmp_path, indices, message):
    path = tmp_path / "bad.csv"
    rows = [f"{k},{n},{i}" for k, n, i in zip("abc", "xyz", indices.split(","))]
    path.write_text("key,name,index\n" + "\n".join(rows) + "\n")
    with pytest.raises(LabelSpaceError, match=r"bad\.csv, column 'index': expected each class index 0\.\.2 once; " + message):
        load_label_space(path)


def test_unknown_keys_name_the_first_five_distinct_offenders(office_space):
    asked = ["laptop", "tablet", "phone", "tablet", "pen", "cup", "mug", "lamp"]
    with pytest.raises(LabelSpaceError) as info:
        office_space.index_of_keys(asked, where="runs.csv: ")
    assert str(info.value) == (
        "runs.csv: class keys not in label space 'office' (4 classes): "
        "6 offenders, first 5: 'tablet', 'phone', 'pen', 'cup', 'mug'"
    )


def test_unknown_names_name_the_offenders(office_space):
    with pytest.raises(LabelSpaceError, match=r"not in label space 'office': 1 offender: 'sofa'"):
        office_space.index_of_names(["desk", "sofa"])


def test_table_without_key_or_name_column(tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(LabelSpaceError, match=r"cols\.csv: expected a 'key' or 'name' column.*\['a', 'b'\]"):
        load_label_space(path)


def test_unparseable_json_names_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('["laptop",\n "desk"')
    with pytest.raises(LabelSpaceError, match=r"broken\.json: not valid JSON \(line 2"):
        load_label_space(path)


def test_json_of_the_wrong_shape(tmp_path):
    path = tmp_path / "shape.json"
    path.write_text("[1, 2, 3]")
    with pytest.raises(LabelSpaceError, match=r"shape\.json: expected a list of class names"):
        load_label_space(path)


def test_missing_file_or_unknown_name():
    with pytest.raises(LabelSpaceError, match=r"'imagenet-21k' is neither 'imagenet-1k' nor an existing file"):
        load_label_space("imagenet-21k")


def test_empty_text_file_has_no_classes(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n\n")
    with pytest.raises(LabelSpaceError, match=r"empty\.txt: .*has no classes"):
        load_label_space(path)


# ---------------------------------------------------------------- LabelSpace.indices: every label reader's one parser


def test_indices_reads_indices_keys_names_and_descriptions_in_one_and_two_dimensions(office_space):
    assert office_space.indices([3, "1", 2.0, "desk", " laptop "], where="x").tolist() == [3, 1, 2, 2, 0]
    assert office_space.indices(np.array([["desk", "0"], ["notebook", "3"]]), where="x").tolist() == [[2, 0], [1, 3]]
    assert office_space.indices(np.array([[1, 0]], dtype=np.uint8), where="x").tolist() == [[1, 0]]
    assert imagenet_1k().indices(["tench, Tinca tinca", "n01443537", 607], where="x").tolist() == [0, 1, 607]
    assert office_space.indices([], where="x").shape == (0,)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([0, 4], r"class ids must lie in 0\.\.3 \(label space 'office'\); 1 offender: 4 at images 1 offender: 'b\.jpg'"),
        (["0", "-1"], r"class ids must lie in 0\.\.3 .*1 offender: -1 at images 1 offender: 'b\.jpg'"),
        ([0, 10**30], r"class ids must lie in 0\.\.3 .*1 offender: 1e\+30 at images 1 offender: 'b\.jpg'"),
        ([0.0, 1.5], r"class ids must be integers; 1 offender: 1\.5 at images 1 offender: 'b\.jpg'"),
        ([0.0, float("inf")], r"class ids must be integers; 1 offender: inf at images"),
        ([0, None], r"missing class labels at images 1 offender: 'b\.jpg'"),
        ([0.0, float("nan")], r"missing class labels at images 1 offender: 'b\.jpg'"),
        ([0, [1, 2]], r"expected one class label per value, found nested values 1 offender: \[1, 2\] at images"),
        (["0", "--3"], r"class names not in label space 'office': 1 offender: '--3' at images 1 offender: 'b\.jpg'"),
        (["0", "²"], r"class names not in label space 'office': 1 offender: '²' at images 1 offender: 'b\.jpg'"),
        (["0", "٣"], r"class names not in label space 'office': 1 offender: '٣'"),
        ([0, True], r"class names not in label space 'office': 1 offender: 'True'"),
        (np.array([True, False]), r"class labels must be integers, keys or names; found bool values"),
    ],
)
def test_indices_refuses_and_names_the_image(office_space, values, message):
    with pytest.raises(LabelSpaceError, match=r"^preds\.csv, column 'pred': " + message):
        office_space.indices(values, where="preds.csv, column 'pred'", owners=["a.jpg", "b.jpg"])


def test_indices_names_the_images_of_2d_rows_and_positions_without_owners(office_space):
    with pytest.raises(LabelSpaceError, match=r"1 offender: 9 at images 1 offender: 'b\.jpg'"):
        office_space.indices(np.array([[0, 1], [2, 9]]), where="x", owners=["a.jpg", "b.jpg"])
    with pytest.raises(LabelSpaceError, match=r"x: class ids must lie in .*1 offender: 9 at positions 1 offender: 1"):
        office_space.indices([0, 9], where="x")


def test_indices_refuses_names_several_classes_share():
    with pytest.raises(LabelSpaceError, match=r"x: class names that several classes share .*'crane' at images "
                                              r"1 offender: 'b\.jpg'"):
        imagenet_1k().indices(["tench", "crane"], where="x", owners=["a.jpg", "b.jpg"])


@pytest.mark.parametrize(
    ("values", "keys"),
    [
        ([2, "0", 2.0], ("0", "1", "2")),
        (["desk", "laptop", " desk"], ("desk", "laptop")),
        ([1, "laptop"], ("1", "laptop")),
        (["²", "1"], ("1", "²")),
        ([-1, 0], ("-1", "0")),
    ],
)
def test_from_labels_infers_0_to_max_for_integers_else_sorted_names(values, keys):
    assert LabelSpace.from_labels(values, name="inferred").keys == keys


# ---------------------------------------------------------------- files: one reader each


def test_tsv_and_csv_headers_are_matched_in_any_case(tmp_path):
    path = tmp_path / "office.tsv"
    path.write_text("Class_Index\tKey\tName\n1\tn1\tnotebook\n0\tn0\tlaptop\n")
    space = load_label_space(path)
    assert space.keys == ("n0", "n1")
    assert space.names == ("laptop", "notebook")


def test_index_column_refuses_non_ascii_digits(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("key,index\na,0\nb,¹\n")
    with pytest.raises(LabelSpaceError, match=r"bad\.csv, column 'index': .*not an integer: 1 offender: '¹'"):
        load_label_space(path)


@pytest.mark.parametrize("suffix", [".txt", ".csv", ".json"])
def test_files_that_are_not_utf8(tmp_path, suffix):
    path = tmp_path / f"office{suffix}"
    path.write_bytes({".txt": "caf\xe9\n", ".csv": "name\ncaf\xe9\n", ".json": '["caf\xe9"]'}[suffix].encode("latin-1"))
    with pytest.raises(LabelSpaceError, match=rf"office\{suffix}: not UTF-8 text"):
        load_label_space(path)


def test_unparseable_csv(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("key,name\na,x\nb,y,z\n")
    with pytest.raises(LabelSpaceError, match=r"ragged\.csv: cannot parse as CSV: .*line 3"):
        load_label_space(path)


def test_imagenet_1k_is_built_once():
    assert imagenet_1k() is imagenet_1k()


# ---------------------------------------------------------------- names that look like integers, descriptions, blanks


DIGITS = LabelSpace.from_names(["1", "2", "3", "none"], name="digits")


@pytest.mark.parametrize(("values", "evidence", "expected"), [
    (["1", "3", "none"], None, [0, 2, 3]),  # "none" can only be a name: the integers are names too
    ([1, 3], ["none"], [0, 2]),  # ints (pandas reads a column of "1", "3" as ints) read by another column's names
    (["0", "1", "2"], None, [0, 1, 2]),  # "0" is no class's name: the values are indices
    ([["none", "1"], ["2", "3"]], None, [[3, 0], [1, 2]]),
])
def test_integer_like_names_are_names_when_the_values_say_so(values, evidence, expected):
    assert DIGITS.indices(values, where="x", evidence=evidence).tolist() == expected


@pytest.mark.parametrize("values", [["1", "2", "3"], [1, 2], ["1", "0", "none"]])
def test_integer_like_names_that_nothing_tells_apart_from_indices_are_an_error(values):
    with pytest.raises(LabelSpaceError, match=r"x: class labels that are both a valid class index and the name of "
                                              r"another class in label space 'digits' cannot be read safely.*"
                                              r"'?1'?: index 1 \('2'\) or the name of class 0"):
        DIGITS.indices(values, where="x")


def test_integer_names_that_are_their_own_index_are_not_ambiguous():
    space = LabelSpace.from_names(["0", "1", "2", "cat"])
    assert space.indices(["1", 2, "cat"], where="x").tolist() == [1, 2, 3]
    assert LabelSpace.from_names(["10", "20"]).indices(["20", 1], where="x").tolist() == [1, 1]


def test_timm_descriptions_come_before_display_names():
    """imagenet-1k: 638's description is "maillot", 639's "maillot, tank suit"; both display names are "maillot"."""
    space = imagenet_1k()
    assert space.indices(["maillot", "maillot, tank suit", "n03710721"],
                         where="x").tolist() == [638, 639, 639]
    with pytest.raises(LabelSpaceError, match=r"give class indices or keys instead; rerun timm\): 1 offender: 'crane'"):
        space.indices(["crane"], where="x", ambiguous_hint="; rerun timm")


@pytest.mark.parametrize("names", [("laptop", ""), ("laptop", "   ")])
def test_empty_class_names_are_refused(names):
    with pytest.raises(LabelSpaceError, match=r"class names must not be empty; empty at class indices 1 offender: 1"):
        LabelSpace(keys=("a", "b"), names=names)


def test_a_saved_hf_dataset_gives_its_class_label_names(tmp_path):
    import datasets as hf

    features = hf.Features({"image": hf.Value("string"), "label": hf.ClassLabel(names=["cat", "dog"])})
    splits = hf.DatasetDict({split: hf.Dataset.from_dict({"image": ["a.jpg"], "label": [1]}, features=features)
                             for split in ("train", "validation")})
    splits.save_to_disk(str(tmp_path / "pets"))
    space = load_label_space(tmp_path / "pets")
    assert space.keys == ("cat", "dog") and space.name == "pets"
    other = hf.Features({"image": hf.Value("string"), "label": hf.ClassLabel(names=["emu"])})
    hf.DatasetDict({"train": splits["train"], "test": hf.Dataset.from_dict({"image": ["b.jpg"], "label": [0]},
                                                                           features=other)}).save_to_disk(
        str(tmp_path / "mixed"))
    with pytest.raises(LabelSpaceError, match=r"ClassLabel features name different classes"):
        load_label_space(tmp_path / "mixed")
    (tmp_path / "plain").mkdir()
    with pytest.raises(LabelSpaceError, match=r"a folder, but not a dataset saved with save_to_disk"):
        load_label_space(tmp_path / "plain")
