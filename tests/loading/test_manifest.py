"""Runs manifests (YAML and JSON) on real files: paths, metadata, reader options, groups, and every refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relabel import InputError, Manifest, RunSpec, load_runs, read_manifest


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_manifest_resolves_paths_and_keeps_metadata_options_and_groups(tmp_path):
    (tmp_path / "classes.csv").write_text("name\nlaptop\n")
    path = write(tmp_path, "runs.yaml", (
        "label_space: classes.csv\n"
        "annotations: real\n"
        "groups:\n"
        "  rrc-0.08: {random_resized_crop: {scale: [0.08, 1.0]}}\n"
        "runs:\n"
        "  - {path: a.parquet, name: a0, group: rrc-0.08, strength: 0.08, seed: 0, image_column: filename}\n"
        "  - {path: b.npy, seed: 2.0, order: order.txt, topk: 3, keep_logits: true}\n"
    ))

    manifest = read_manifest(path)

    assert isinstance(manifest, Manifest)
    assert manifest.label_space == str(tmp_path / "classes.csv")
    assert manifest.annotations == "real"  # a name, not a file beside the manifest
    assert manifest.groups == {"rrc-0.08": {"random_resized_crop": {"scale": [0.08, 1.0]}}}
    first, second = manifest.runs
    assert first == RunSpec(tmp_path / "a.parquet", "a0", "rrc-0.08", 0.08, 0, {"image_column": "filename"})
    assert second.seed == 2 and isinstance(second.seed, int)
    assert second.options == {"order": tmp_path / "order.txt", "topk": 3, "keep_logits": True}


def test_json_manifest(tmp_path):
    path = write(tmp_path, "runs.json", json.dumps({"runs": [{"path": "/abs/r.csv", "group": 8}]}))
    (spec,) = read_manifest(path).runs
    assert (spec.path, spec.name, spec.group) == (Path("/abs/r.csv"), None, "8")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("twice.json", '{"runs": [{"path": "a.csv"}], "runs": [{"path": "b.csv"}]}',
         r"twice\.json: keys must be unique within a JSON object; 1 offender: 'runs'"),
        ("twice.yaml", "runs:\n  - {path: a.csv}\nruns:\n  - {path: b.csv}\n",
         r"twice\.yaml, line 1: keys must be unique within a mapping; 1 offender: 'runs'"),
        ("seed.yaml", "runs:\n  - {path: a.csv, seed: 0, seed: 1}\n",
         r"seed\.yaml, line 2: keys must be unique within a mapping; 1 offender: 'seed'"),
    ],
    ids=["json-runs-twice", "yaml-runs-twice", "yaml-seed-twice"],
)
def test_repeated_keys_are_refused_not_collapsed(tmp_path, name, text, message):
    with pytest.raises(InputError, match=message):
        read_manifest(write(tmp_path, name, text))


def test_unknown_top_level_keys_are_refused(tmp_path):
    path = write(tmp_path, "runs.yaml", "label_spcae: imagenet-1k\nruns:\n  - {path: a.csv}\n")
    with pytest.raises(InputError, match=r"runs\.yaml: unknown fields \['label_spcae'\]; allowed: runs, label_space, "
                                         r"annotations, groups"):
        read_manifest(path)


def test_groups_must_map_names_to_mappings(tmp_path):
    path = write(tmp_path, "runs.yaml", "groups: [rrc-0.08]\nruns:\n  - {path: a.csv}\n")
    with pytest.raises(InputError, match=r"runs\.yaml, groups: expected a mapping from group name to a mapping"):
        read_manifest(path)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("seed: 1.7", r"'seed' must be an integer; found 1\.7"),
        ("seed: true", r"'seed' must be an integer; found True"),
        ("seed: x1", r"'seed' must be an integer; found 'x1'"),
        ("strength: strong", r"'strength' must be a finite number; found 'strong'"),
        ("strength: .nan", r"'strength' must be a finite number; found nan"),
        ("name: [a, b]", r"'name' must be non-empty text; found \['a', 'b'\]"),
        ("keep_logits: 'no'", r"reader option 'keep_logits' must be true or false; found 'no'"),
        ("topk: five", r"reader option 'topk' must be a positive integer; found 'five'"),
        ("topk: 0", r"reader option 'topk' must be a positive integer; found 0"),
        ("topk: true", r"reader option 'topk' must be a positive integer; found True"),
        ("order: 3", r"reader option 'order' must be a file path; found 3"),
        ("image_colum: filename", r"unknown fields \['image_colum'\]; allowed: path, canonical_order"),
    ],
)
def test_run_fields_are_checked_and_the_value_quoted(tmp_path, entry, message):
    path = write(tmp_path, "runs.yaml", f"runs:\n  - {{path: a.csv}}\n  - {{path: b.csv, {entry}}}\n")
    with pytest.raises(InputError, match=r"runs\.yaml, runs\[1\]: " + message):
        read_manifest(path)


def test_runs_must_be_a_non_empty_list_of_entries_with_a_path(tmp_path):
    with pytest.raises(InputError, match=r"empty\.yaml: expected a mapping with a non-empty 'runs' list"):
        read_manifest(write(tmp_path, "empty.yaml", "runs: []\n"))
    with pytest.raises(InputError, match=r"nopath\.yaml, runs\[0\]: each run needs a 'path'"):
        read_manifest(write(tmp_path, "nopath.yaml", "runs:\n  - {name: a}\n"))
    with pytest.raises(InputError, match=r"badpath\.yaml, runs\[0\]: 'path' must be a file path; found 3"):
        read_manifest(write(tmp_path, "badpath.yaml", "runs:\n  - {path: 3}\n"))
    with pytest.raises(InputError, match=r"space\.yaml, label_space: expected a name or a file path; found 7"):
        read_manifest(write(tmp_path, "space.yaml", "label_space: 7\nruns:\n  - {path: a.csv}\n"))


def test_unreadable_manifests(tmp_path):
    (tmp_path / "latin1.yaml").write_bytes("runs:\n  - {path: caf\xe9.csv}\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"latin1\.yaml: not UTF-8 text"):
        read_manifest(tmp_path / "latin1.yaml")
    with pytest.raises(InputError, match=r"broken\.json: not valid JSON \(line 1"):
        read_manifest(write(tmp_path, "broken.json", '{"runs": ['))
    with pytest.raises(InputError, match=r"broken\.yaml: not valid YAML"):
        read_manifest(write(tmp_path, "broken.yaml", "runs: [\n"))
    with pytest.raises(InputError, match=r"runs manifest .*gone\.yaml does not exist"):
        read_manifest(tmp_path / "gone.yaml")


def test_run_spec_checks_its_reader_options(tmp_path, office_space):
    with pytest.raises(InputError, match=r"run r: unknown reader options \['imagecolumn'\]"):
        RunSpec(tmp_path / "a.csv", "r", options={"imagecolumn": "file"})
    with pytest.raises(InputError, match=r"reader option 'keep_logits' must be true or false; found 'no'"):
        load_runs([RunSpec(tmp_path / "a.csv", options={"keep_logits": "no"})], label_space=office_space)


def test_load_runs_from_a_manifest_and_names_must_be_unique(tmp_path, office_space):
    (tmp_path / "a.csv").write_text("image,pred\nimg0.jpg,1\n")
    path = write(tmp_path, "runs.yaml", "runs:\n  - {path: a.csv, seed: 1}\n  - {path: a.csv, name: b}\n")
    runs = load_runs(read_manifest(path).runs, label_space=office_space)
    assert [(r.meta.name, r.meta.seed) for r in runs] == [("a", 1), ("b", None)]
    with pytest.raises(InputError, match=r"run names must be unique; 1 offender: 'a' name several runs"):
        load_runs([tmp_path / "a.csv", tmp_path / "a.csv"], label_space=office_space)
