"""The override file format: round trips, line-precise errors, class keys, the published schema."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from relabel import LabelSpace, OverridesError
from relabel.overrides.vocabulary import VERSION_1_AUGMENTATIONS
from relabel.overrides import (
    SCHEMA_VERSION,
    Augmentation,
    Override,
    Overrides,
    Side,
    SideInfo,
    dumps_json,
    dumps_yaml,
    load,
    loads,
    schema,
    to_csv_table,
    write,
)

# Line numbers are part of the expected messages below: keep this text as it is.
GOOD = """\
{
  "schema": "relabel.overrides/1",
  "label_space": "office",
  "default": {
    "random_resized_crop": {"scale": [0.08, 1.0]},
    "horizontal_flip": {"p": 0.5}
  },
  "overrides": [
    {
      "classes": ["laptop", "notebook"],
      "transforms": {
        "random_resized_crop": {"scale": [0.5, 1.0]}
      },
      "reason": "laptop lost 8 points to notebook",
      "evidence": {"acc_multilabel": {"rrc-0.5": 0.9, "rrc-0.08": 0.82}},
      "side": {"lost": ["laptop"], "absorbing": ["notebook"], "target": "both"}
    },
    {
      "classes": ["desk"],
      "transforms": {
        "horizontal_flip": false,
        "color_jitter": {"strength": 0.2}
      }
    }
  ]
}
"""

GOOD_YAML = """\
schema: relabel.overrides/1
label_space: office
default:
  random_resized_crop: {scale: [0.08, 1.0]}
overrides:
  - classes: [laptop, notebook]
    transforms:
      random_resized_crop:
        scale: [0.5, 1.0]
    reason: laptop lost 8 points to notebook
  - classes: [desk]
    transforms:
      horizontal_flip: off
"""

AUGMENTATIONS = str(Augmentation.choices())


def _file(tmp_path: Path, text: str, name: str = "overrides.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path, **kwargs) -> str:
    with pytest.raises(OverridesError) as info:
        load(path, **kwargs)
    return str(info.value)


def _bad(tmp_path: Path, old: str, new: str, *, name: str = "overrides.json", base: str = GOOD, **kwargs) -> tuple[Path, str]:
    assert base.count(old) == 1, old
    path = _file(tmp_path, base.replace(old, new), name)
    return path, _error(path, **kwargs)


# -- reading a good file ----------------------------------------------------------------------


def test_load_good_json(tmp_path, office_space):
    ov = load(_file(tmp_path, GOOD), classes=office_space)
    assert ov.schema == SCHEMA_VERSION and ov.label_space == "office"
    assert ov.default == {"random_resized_crop": {"scale": (0.08, 1.0)}, "horizontal_flip": {"p": 0.5}}
    first, second = ov.overrides
    assert first.classes == ("laptop", "notebook")
    assert first.transforms == {"random_resized_crop": {"scale": (0.5, 1.0)}}
    assert first.reason == "laptop lost 8 points to notebook"
    assert first.evidence == {"acc_multilabel": {"rrc-0.5": 0.9, "rrc-0.08": 0.82}}
    assert first.side == SideInfo(lost=("laptop",), absorbing=("notebook",), target=Side.BOTH)
    assert second.transforms == {"horizontal_flip": {"enabled": False}, "color_jitter": {"strength": 0.2}}
    assert second.reason == "" and second.evidence == {} and second.side is None
    assert ov.classes == ("laptop", "notebook", "desk")
    assert ov.override_for("desk") is second and ov.override_for("monitor") is None


def test_load_good_yaml_reads_on_off(tmp_path, office_space):
    ov = load(_file(tmp_path, GOOD_YAML, "overrides.yaml"), classes=office_space)
    assert ov.overrides[1].transforms == {"horizontal_flip": {"enabled": False}}
    assert ov.overrides[0].transforms == {"random_resized_crop": {"scale": (0.5, 1.0)}}


def test_effective_parameters_fill_from_default_then_torchvision():
    ov = loads(GOOD)
    # monitor has no override: the file's default, with torchvision's ratio
    assert ov.effective("monitor") == {
        "random_resized_crop": {"scale": (0.08, 1.0), "ratio": (3 / 4, 4 / 3)},
        "horizontal_flip": {"p": 0.5},
    }
    assert ov.effective("laptop")["random_resized_crop"]["scale"] == (0.5, 1.0)
    # desk: flip switched off (kept as off, not dropped: "off" is not "not mentioned"), colour jitter
    # strength 0.2 -> b = c = s = 0.2, hue = 0.2 / 4, applied always (p = 1)
    assert ov.effective("desk") == {
        "random_resized_crop": {"scale": (0.08, 1.0), "ratio": (3 / 4, 4 / 3)},
        "horizontal_flip": {"enabled": False},
        "color_jitter": {"brightness": 0.2, "contrast": 0.2, "saturation": 0.2, "hue": pytest.approx(0.05), "p": 1.0},
    }
    # an augmentation nobody mentions is absent (the trainer's pipeline decides)
    assert "rand_augment" not in ov.effective("desk")


def test_color_jitter_explicit_fields_beat_strength_and_hue_is_capped():
    ov = Overrides([Override(["a"], {"color_jitter": {"strength": 4.0, "contrast": 0.1}})])
    assert ov.effective("a")["color_jitter"] == {"brightness": 4.0, "contrast": 0.1, "saturation": 4.0, "hue": 0.5,
                                                 "p": 1.0}


# -- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_round_trip_json_yaml(tmp_path, suffix, office_space):
    ov = loads(GOOD, source="GOOD")
    path = write(ov, tmp_path / f"out{suffix}")
    back = load(path, classes=office_space)
    assert back == ov
    assert back.source == str(path)
    assert not list(tmp_path.glob(".*.tmp"))  # the temp file was renamed away


def test_round_trip_keeps_numpy_evidence_as_plain_values(tmp_path):
    np = pytest.importorskip("numpy")
    ov = Overrides([Override(["a"], {"horizontal_flip": True},
                             evidence={"delta": np.float64(-0.08), "counts": np.array([3, 4]), "missing": float("nan")})])
    assert ov.overrides[0].evidence == {"delta": -0.08, "counts": [3, 4], "missing": None}
    back = load(write(ov, tmp_path / "o.json"))
    assert back == ov
    assert back.overrides[0].transforms == {"horizontal_flip": {}}


def test_dumps_json_validates_against_the_published_schema():
    jsonschema = pytest.importorskip("jsonschema")
    data = json.loads(dumps_json(loads(GOOD)))
    jsonschema.Draft202012Validator(schema()).validate(data)
    assert data["overrides"][1]["transforms"]["horizontal_flip"] is False


def test_dumps_yaml_quotes_keys_that_yaml_would_misread():
    ov = Overrides([Override(["no", "007", "1e3"], {"horizontal_flip": {"p": 1.0}})])
    assert loads(dumps_yaml(ov), format="yaml") == ov


def test_csv_table_columns_and_values(office_space):
    table = to_csv_table(loads(GOOD), classes=office_space)
    assert list(table.columns) == [
        "class_key", "class_index",
        "random_resized_crop", "rrc_scale_min", "rrc_scale_max", "rrc_ratio_min", "rrc_ratio_max",
        "horizontal_flip", "hflip_p",
        "color_jitter", "cj_brightness", "cj_contrast", "cj_saturation", "cj_hue", "cj_p",
        "override", "reason",
    ]
    assert table["class_key"].tolist() == ["laptop", "notebook", "desk"]
    assert table["class_index"].tolist() == [0, 1, 2]
    assert table["rrc_scale_min"].tolist() == [0.5, 0.5, 0.08]
    assert table["rrc_scale_max"].tolist() == [1.0, 1.0, 1.0]
    assert table["hflip_p"].isna().tolist() == [False, False, True]  # off for desk: empty
    assert table["horizontal_flip"].tolist() == ["on", "on", "off"]
    assert table["color_jitter"].tolist() == ["", "", "on"]  # not mentioned for laptop and notebook
    assert table["cj_hue"].isna().tolist() == [True, True, False]
    assert table.loc[2, "cj_hue"] == pytest.approx(0.05)
    assert table["override"].tolist() == [0, 0, 1]


def test_round_trip_csv(tmp_path, office_space):
    ov = loads(GOOD)
    path = write(ov, tmp_path / "o.csv", classes=office_space)
    text = path.read_text()
    assert text.splitlines()[1].startswith("laptop,0,on,0.5,1.0,0.75,")
    back = load(path, classes=office_space)
    assert back.classes == ov.classes
    assert [o.reason for o in back.overrides] == [o.reason for o in ov.overrides]
    for key in ("laptop", "notebook", "desk"):
        assert back.effective(key) == ov.effective(key)
    # and once more: CSV -> CSV is stable
    again = write(back, tmp_path / "again.csv", classes=office_space)
    assert again.read_text() == text


def test_csv_without_classes_needs_a_built_in_label_space(tmp_path):
    with pytest.raises(OverridesError, match=r"label space 'office' is not built in; pass classes="):
        write(loads(GOOD), tmp_path / "o.csv")
    assert not (tmp_path / "o.csv").exists()


def test_write_refuses_unknown_suffix(tmp_path):
    with pytest.raises(OverridesError, match=r"unsupported override file suffix '.toml'"):
        write(loads(GOOD), tmp_path / "o.toml")


# -- bad files: every message names the file, the line and the field ------------------------------


def test_wrong_schema_version(tmp_path):
    path, message = _bad(tmp_path, '"relabel.overrides/1"', '"relabel.overrides/3"')
    assert message == (
        f"{path}, line 2: schema: expected one of ['relabel.overrides/1', 'relabel.overrides/2'], got the text "
        f"'relabel.overrides/3' (this relabel reads relabel.overrides/1 and relabel.overrides/2 and writes "
        f"relabel.overrides/2)"
    )


def test_unknown_transform(tmp_path):
    path, message = _bad(tmp_path, '"horizontal_flip": false', '"rotate": 15')
    assert message == (f"{path}, line 21: overrides[1].transforms.rotate: unknown transform 'rotate'; "
                       f"expected one of {AUGMENTATIONS}")


def test_misspelt_transform_gets_a_suggestion(tmp_path):
    path, message = _bad(tmp_path, '"random_resized_crop": {"scale": [0.5, 1.0]}', '"random_resize_crop": {"scale": [0.5, 1.0]}')
    assert message == (f"{path}, line 12: overrides[0].transforms.random_resize_crop: unknown transform "
                       f"'random_resize_crop' (did you mean 'random_resized_crop'?); expected one of {AUGMENTATIONS}")


def test_unknown_parameter(tmp_path):
    path, message = _bad(tmp_path, '{"scale": [0.5, 1.0]}', '{"scale": [0.5, 1.0], "size": 224}')
    assert message == (f"{path}, line 12: overrides[0].transforms.random_resized_crop.size: unknown parameter of "
                       f"random_resized_crop 'size'; expected one of ['enabled', 'scale', 'ratio']")


@pytest.mark.parametrize(("value", "problem"), [
    ("[0, 1.0]", "scale[0]: expected a fraction in (0, 1], got 0"),
    ("[0.5, 1.5]", "scale[1]: expected a fraction in (0, 1], got 1.5"),
    ("[-0.2, 1.0]", "scale[0]: expected a fraction in (0, 1], got -0.2"),
])
def test_scale_outside_unit_interval(tmp_path, value, problem):
    path, message = _bad(tmp_path, '{"scale": [0.5, 1.0]}', f'{{"scale": {value}}}')
    assert message == f"{path}, line 12: overrides[0].transforms.random_resized_crop.{problem}"


def test_scale_in_percent_is_refused_with_a_hint_and_every_problem_listed(tmp_path):
    path, message = _bad(tmp_path, '{"scale": [0.5, 1.0]}', '{"scale": [50, 100]}')
    assert message.splitlines() == [
        f"{path}: 2 problems",
        f"{path}, line 12: overrides[0].transforms.random_resized_crop.scale[0]: expected a fraction in (0, 1], "
        f"got 50 (a percentage? write 0.5)",
        f"{path}, line 12: overrides[0].transforms.random_resized_crop.scale[1]: expected a fraction in (0, 1], "
        f"got 100 (a percentage? write 1)",
    ]


def test_scale_min_above_max(tmp_path):
    path, message = _bad(tmp_path, '{"scale": [0.5, 1.0]}', '{"scale": [0.9, 0.5]}')
    assert message == f"{path}, line 12: overrides[0].transforms.random_resized_crop.scale: min 0.9 > max 0.5"


def test_ratio_min_above_max_in_the_default(tmp_path):
    path, message = _bad(tmp_path, '{"scale": [0.08, 1.0]}', '{"scale": [0.08, 1.0], "ratio": [1.5, 0.5]}')
    assert message == f"{path}, line 5: default.random_resized_crop.ratio: min 1.5 > max 0.5"


def test_range_needs_two_numbers(tmp_path):
    path, message = _bad(tmp_path, '{"scale": [0.5, 1.0]}', '{"scale": [0.5]}')
    assert message == (f"{path}, line 12: overrides[0].transforms.random_resized_crop.scale: "
                       f"expected [min, max] (two numbers), got [0.5]")


def test_unknown_class_key_against_a_label_space(tmp_path, office_space):
    path, message = _bad(tmp_path, '["desk"]', '["dsk"]', classes=office_space)
    assert message == (f"{path}, line 19: overrides[1].classes[0]: unknown class key 'dsk' (did you mean 'desk'?); "
                       f"not among the 4 classes of label space 'office'")


def test_unknown_class_key_in_side_against_a_class_list(tmp_path):
    path, message = _bad(tmp_path, '"absorbing": ["notebook"]', '"absorbing": ["screen"]',
                         classes=["laptop", "notebook", "desk", "monitor"])
    assert message == (f"{path}, line 16: overrides[0].side.absorbing[0]: unknown class key 'screen'; "
                       f"not among the trainer's 4 classes")


def test_class_in_two_overrides(tmp_path):
    path, message = _bad(tmp_path, '["desk"]', '["desk", "notebook"]')
    assert message == (f"{path}, line 19: overrides[1].classes[1]: class 'notebook' is already in overrides[0] "
                       f"(line 10); a class may appear in one override only")


def test_class_twice_in_one_override(tmp_path):
    path, message = _bad(tmp_path, '["desk"]', '["desk", "desk"]')
    assert message == (f"{path}, line 19: overrides[1].classes[1]: class 'desk' is listed twice in this override "
                       f"(first as classes[0] (line 19))")


def test_malformed_json(tmp_path):
    path, message = _bad(tmp_path, '"laptop lost 8 points to notebook",', '"laptop lost 8 points to notebook"')
    assert message == f"{path}, line 15, column 7: not valid JSON: Expecting ',' delimiter"


def test_tab_indented_json_keeps_line_numbers(tmp_path):
    path = _file(tmp_path, GOOD.replace("  ", "\t").replace('{"scale": [0.5, 1.0]}', '{"scale": [0.9, 0.5]}'))
    assert _error(path) == f"{path}, line 12: overrides[0].transforms.random_resized_crop.scale: min 0.9 > max 0.5"


def test_repeated_field(tmp_path):
    path, message = _bad(tmp_path, '"label_space": "office",', '"label_space": "office",\n  "label_space": "other",')
    assert message == f"{path}, line 4: label_space: field 'label_space' appears twice in this object (first on line 3)"


def test_missing_field(tmp_path):
    path, message = _bad(tmp_path, '"classes": ["desk"],', '')
    assert message == f"{path}, line 18: overrides[1]: missing required field 'classes'"


def test_wrong_types(tmp_path):
    path, message = _bad(tmp_path, '"horizontal_flip": false', '"horizontal_flip": "yes"')
    assert message == (f"{path}, line 21: overrides[1].transforms.horizontal_flip: "
                       f"expected true, false or an object, got the text 'yes'")
    path, message = _bad(tmp_path, '"strength": 0.2', '"strength": -1')
    assert message == f"{path}, line 22: overrides[1].transforms.color_jitter.strength: expected a value >= 0, got -1"


def test_rand_augment_ranges(tmp_path):
    path, message = _bad(tmp_path, '"horizontal_flip": false', '"rand_augment": {"magnitude": 300}')
    assert message == f"{path}, line 21: overrides[1].transforms.rand_augment.magnitude: expected a value <= 255, got 300"
    path, message = _bad(tmp_path, '"horizontal_flip": false', '"rand_augment": {"magnitude": 12, "num_magnitude_bins": 10}')
    assert message == (f"{path}, line 21: overrides[1].transforms.rand_augment.magnitude: "
                       f"magnitude 12 must be below num_magnitude_bins 10")


def test_side_target_vocabulary(tmp_path):
    path, message = _bad(tmp_path, '"target": "both"', '"target": "partner"')
    assert message == (f"{path}, line 16: overrides[0].side.target: expected one of ['lost', 'absorbing', 'both'], "
                       f"got the text 'partner'")


def test_empty_and_non_object_files(tmp_path):
    path = _file(tmp_path, "   \n", "empty.yaml")
    assert _error(path) == f"{path}: the file is empty; expected an object with 'schema' and 'overrides'"
    path = _file(tmp_path, "[1, 2]\n", "list.json")
    assert _error(path) == f"{path}, line 1: expected an object, got a list ([1, 2])"


def test_yaml_errors_have_lines(tmp_path):
    path, message = _bad(tmp_path, "scale: [0.5, 1.0]", "scale: [1.0, 0.5]", name="o.yaml", base=GOOD_YAML)
    assert message == f"{path}, line 9: overrides[0].transforms.random_resized_crop.scale: min 1.0 > max 0.5"
    path, message = _bad(tmp_path, "  - classes: [desk]", "  - classes: [desk\n", name="o.yaml", base=GOOD_YAML)
    assert message == f"{path}, line 13, column 15: not valid YAML: did not find expected ',' or ']'"  # libyaml's words
    path, message = _bad(tmp_path, "[laptop, notebook]", "[laptop, 1]", name="o.yaml", base=GOOD_YAML)
    assert message == (f"{path}, line 6: overrides[0].classes[1]: expected text, got the number 1 "
                       f"(class keys are text: write '1' in quotes)")
    path, message = _bad(tmp_path, "scale: [0.5, 1.0]", "scale: [5e-1, 1.0]", name="o.yaml", base=GOOD_YAML)
    assert message == (f"{path}, line 9: overrides[0].transforms.random_resized_crop.scale[0]: expected a number, "
                       f"got the text '5e-1' (YAML 1.1 reads numbers like 1e-3 as text: write 0.001)")


def test_csv_errors_have_lines_and_columns(tmp_path, office_space):
    header = "class_key,class_index,rrc_scale_min,rrc_scale_max,override,reason\n"
    path = _file(tmp_path, header + "laptop,0,0.5,1.0,0,x\nnotebook,1,0.9,0.5,1,y\n", "o.csv")
    assert _error(path) == f"{path}, line 3: column rrc_scale_min/rrc_scale_max: min 0.9 > max 0.5"
    path = _file(tmp_path, header + "laptop,0,half,1.0,0,x\n", "o.csv")
    assert _error(path) == f"{path}, line 2, column rrc_scale_min: expected a number, got 'half'"
    path = _file(tmp_path, header + "laptop,0,50,1.0,0,x\n", "o.csv")
    assert _error(path) == (f"{path}, line 2: column rrc_scale_min: expected a fraction in (0, 1], got 50.0 "
                            f"(a percentage? write 0.5)")
    path = _file(tmp_path, header + "laptop,0,0.5,1.0,0,x\nlaptop,0,0.5,1.0,1,x\n", "o.csv")
    assert _error(path) == (f"{path}, line 3: class_key: class 'laptop' is already in overrides[0] (line 2); "
                            f"a class may appear in one override only")
    path = _file(tmp_path, header + "laptop,0,0.5,1.0,0,x\nnotebook,1,0.6,1.0,0,x\n", "o.csv")
    assert _error(path) == (f"{path}, line 3: rows of override '0' must agree on every parameter and the reason "
                            f"(this row differs from line 2)")
    path = _file(tmp_path, header + "laptop,3,0.5,1.0,0,x\n", "o.csv")
    assert _error(path, classes=office_space) == (f"{path}, line 2, column class_index: 'laptop' has index 0 among "
                                                  f"the 4 classes of label space 'office', not 3")
    path = _file(tmp_path, header + "laptp,0,0.5,1.0,0,x\n", "o.csv")
    assert _error(path, classes=office_space) == (f"{path}, line 2: class_key: unknown class key 'laptp' (did you mean "
                                                  f"'laptop'?); not among the 4 classes of label space 'office'")
    path = _file(tmp_path, "class_key,rrc_scale,reason\n", "o.csv")
    assert _error(path).startswith(f"{path}, line 1: unknown column 'rrc_scale' (did you mean 'rrc_scale_min'?)")


def test_unsupported_suffix_and_missing_file(tmp_path):
    path = _file(tmp_path, GOOD, "o.txt")
    assert _error(path) == f"{path}: unsupported override file suffix '.txt'; use .json, .yaml, .yml or .csv"
    assert _error(tmp_path / "none.json") == f"override file {tmp_path / 'none.json'} does not exist"


# -- built in Python: the same rules, field paths without lines ---------------------------------------


def test_python_construction_is_validated():
    with pytest.raises(OverridesError) as info:
        Override(["a"], {"random_resized_crop": {"scale": (0.9, 0.5)}})
    assert str(info.value) == "transforms.random_resized_crop.scale: min 0.9 > max 0.5"
    with pytest.raises(OverridesError) as info:
        Override(["a"], {"blur": True})
    assert str(info.value) == f"transforms.blur: unknown transform 'blur'; expected one of {AUGMENTATIONS}"
    with pytest.raises(OverridesError) as info:
        Overrides([Override(["a"], {"horizontal_flip": True}), Override(["a"], {"horizontal_flip": False})])
    assert str(info.value) == ("overrides[1].classes[0]: class 'a' is already in overrides[0]; "
                               "a class may appear in one override only")
    with pytest.raises(OverridesError, match=r"schema: expected one of \['relabel.overrides/1', 'relabel.overrides/2'\]"):
        Overrides([], schema="relabel.overrides/0")
    with pytest.raises(OverridesError, match=r"list of class keys, got the text 'a'"):
        Override("a", {"horizontal_flip": True})


def test_vocabularies_list_their_choices():
    assert Augmentation.from_str("random_resized_crop") is Augmentation.RANDOM_RESIZED_CROP
    with pytest.raises(OverridesError) as info:
        Augmentation.from_str("cutout")
    assert str(info.value) == f"unknown transform 'cutout'; expected one of {AUGMENTATIONS}"
    with pytest.raises(OverridesError) as info:
        Side.from_str("x")
    assert str(info.value) == "unknown side 'x'; expected one of ['lost', 'absorbing', 'both']"


# -- mapping to a trainer's classes --------------------------------------------------------------


def _image_folder(root: Path, classes: list[str]):
    from PIL import Image
    from torchvision.datasets import ImageFolder

    for name in classes:
        (root / name).mkdir(parents=True)
        Image.new("RGB", (4, 4)).save(root / name / "0.png")
    return ImageFolder(root)


def test_resolve_against_image_folder(tmp_path):
    folder = _image_folder(tmp_path / "train", ["desk", "laptop", "monitor", "notebook"])
    assert folder.class_to_idx == {"desk": 0, "laptop": 1, "monitor": 2, "notebook": 3}
    ov = load(_file(tmp_path, GOOD), classes=folder.class_to_idx)
    resolved = ov.resolve(folder.class_to_idx)
    assert resolved == {
        1: {"random_resized_crop": {"scale": (0.5, 1.0)}},
        3: {"random_resized_crop": {"scale": (0.5, 1.0)}},
        0: {"horizontal_flip": {"enabled": False}, "color_jitter": {"strength": 0.2}},
    }
    assert ov.resolve(folder.classes) == resolved
    assert ov.resolve(LabelSpace.from_names(folder.classes)) == resolved


def test_resolve_names_unknown_keys_and_where_they_are(tmp_path):
    folder = _image_folder(tmp_path / "train", ["desk", "laptop", "monitor"])
    path = _file(tmp_path, GOOD)
    ov = load(path)
    with pytest.raises(OverridesError) as info:
        ov.resolve(folder.class_to_idx)
    assert str(info.value) == (f"{path}: class keys not among the trainer's 3 classes: 1 offender: 'notebook' "
                               f"(at line 10) (a trainer on a subset of the classes: pass skip_absent=True)")
    with pytest.raises(OverridesError, match=r"label space 'office' is not built in; pass classes="):
        ov.resolve()
    with pytest.raises(OverridesError, match=r"class_to_idx must map class keys to indices >= 0"):
        ov.resolve({"laptop": -1})


def test_resolve_with_the_built_in_imagenet_label_space():
    ov = Overrides([Override(["n03782006"], {"horizontal_flip": False})], label_space="imagenet-1k")
    assert ov.resolve() == {664: {"horizontal_flip": {"enabled": False}}}  # monitor


# -- the published schema is package data ----------------------------------------------------------


def test_schema_is_package_data_and_a_valid_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    shipped = resources.files("relabel").joinpath("overrides.schema.json")
    assert shipped.is_file()
    published = json.loads(shipped.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(published)
    assert published == schema()
    assert published["properties"]["schema"]["enum"] == ["relabel.overrides/1", SCHEMA_VERSION]
    assert sorted(published["$defs"]["transforms"]["properties"]) == sorted(a.value for a in Augmentation)


def test_csv_table_is_a_dataframe_with_nullable_numbers(office_space):
    table = to_csv_table(loads(GOOD), classes=office_space)
    assert isinstance(table, pd.DataFrame)
    assert str(table["hflip_p"].dtype) == "Float64"


# -- the package's shape (issue #13) ---------------------------------------------------------------


class _CountingValidator:
    """Wraps the JSON Schema validator and counts the schema passes."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def iter_errors(self, data):
        self.calls += 1
        return self.inner.iter_errors(data)


def test_a_file_is_validated_once(tmp_path, monkeypatch, office_space):
    from relabel.overrides import validation

    counting = _CountingValidator(validation._validator())
    monkeypatch.setattr(validation, "_validator", lambda: counting)
    three = json.loads(GOOD)
    three["overrides"].append({"classes": ["monitor"], "transforms": {"horizontal_flip": False}})
    assert len(three["overrides"]) == 3
    ov = load(_file(tmp_path, json.dumps(three)), classes=office_space)
    assert len(ov.overrides) == 3 and counting.calls == 1
    counting.calls = 0
    load(_file(tmp_path, dumps_yaml(ov), "again.yaml"))
    assert counting.calls == 1
    counting.calls = 0
    # built in Python: each override when it is made, the file's own fields once
    Overrides(list(ov.overrides), default=ov.default)
    assert counting.calls == 1
    counting.calls = 0
    [Override(o.classes, o.transforms) for o in ov.overrides]
    assert counting.calls == 3


def test_objects_read_from_a_file_equal_objects_built_in_python(tmp_path, office_space):
    ov = load(_file(tmp_path, GOOD), classes=office_space)
    rebuilt = Overrides(
        [Override(o.classes, o.transforms, reason=o.reason, evidence=o.evidence, side=o.side) for o in ov.overrides],
        label_space=ov.label_space, default=ov.default, params=ov.params,
    )
    assert rebuilt == ov and rebuilt.to_dict() == ov.to_dict()


def test_a_class_in_two_overrides_built_in_python_names_both():
    with pytest.raises(OverridesError) as info:
        Overrides([Override(["a", "b"], {"horizontal_flip": True}), Override(["c", "b"], {"horizontal_flip": False})])
    assert str(info.value) == ("overrides[1].classes[1]: class 'b' is already in overrides[0]; "
                               "a class may appear in one override only")


def test_the_one_pipeline_order_names_every_augmentation_once():
    from relabel.overrides import ORDER

    assert sorted(ORDER) == sorted(Augmentation) and len(set(ORDER)) == len(ORDER)
    # crop, flip, the automatic policies, colour jitter: torchvision's reference recipe and timm's (the
    # five augmentations of /1 keep their order), and what works on the tensor last
    version_1 = [a.value for a in ORDER if a.value in VERSION_1_AUGMENTATIONS]
    assert version_1 == ["random_resized_crop", "horizontal_flip", "rand_augment", "trivial_augment", "color_jitter"]
    assert [a.value for a in ORDER][-2:] == ["gaussian_noise", "random_erasing"]


def test_importing_the_format_imports_no_torch():
    import subprocess
    import sys

    # reading and writing a file too (what the package's own modules import is the import-graph test's)
    code = ("import sys, relabel.overrides as o; o.dumps_yaml(o.loads(sys.argv[1])); "
            "print(sorted(m for m in ('torch', 'torchvision', 'relabel.transforms') if m in sys.modules))")
    text = GOOD.replace('"label_space": "office"', '"label_space": null')
    out = subprocess.run([sys.executable, "-c", code, text], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
