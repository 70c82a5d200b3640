"""Label spaces: the built-in ImageNet-1k space and custom spaces read from real files."""

from __future__ import annotations

import json

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


def test_csv_with_a_single_column_of_names(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("laptop\nnotebook\ndesk\n")
    assert load_label_space(path).keys == ("laptop", "notebook", "desk")


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
