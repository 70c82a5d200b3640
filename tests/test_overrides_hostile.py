"""Hostile override files (#12, #17): each is refused quickly with the file, the line and what is wrong — through the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from relabel.cli.main import cli
from relabel.overrides import load

HEAD = '{"schema": "relabel.overrides/2", "overrides": [{"classes": ["n01440764"],\n"transforms": '
BOMB = "".join(f"{c}: &{c} [" + ", ".join([f"*{p}"] * 9 if p else ['"x"'] * 9) + "]\n"
               for p, c in zip([None, *"abcdefgh"], "abcdefghi")) + "schema: relabel.overrides/2\noverrides: []\n"

CASES = [
    # (name, file text, expected message fragment)
    ("num_ops 10**400", HEAD + '{"rand_augment": {"num_ops": 1' + "0" * 400 + "}}}]}",
     "line 2: overrides[0].transforms.rand_augment.num_ops: expected a value <= 16, got an integer of about 401 digits"),
    ("NaN", HEAD + '{"horizontal_flip": {"p": NaN}}}]}',
     "line 2: overrides[0].transforms.horizontal_flip.p: expected a finite number, got NaN"),
    ("Infinity", HEAD + '{"gaussian_blur": {"kernel_size": 3, "sigma": [0.1, Infinity]}}}]}',
     "line 2: overrides[0].transforms.gaussian_blur.sigma[1]: expected a finite number, got infinity"),
    ("nested 100,000 deep", '{"schema": "relabel.overrides/2", "overrides": [], "params": ' + "[" * 100_000 + "]" * 100_000 + "}",
     "line 1: nested more than 32 levels deep"),
    ("a 5000-digit integer", HEAD + '{"rand_augment": {"magnitude": ' + "9" * 5000 + "}}}]}", "not a number relabel can read"),
    ("degrees 1e400", HEAD + '{"random_rotation": {"degrees": 1e400}}}]}', "expected a finite number, got infinity"),
    ("even kernel", HEAD + '{"gaussian_blur": {"kernel_size": 4}}}]}', "expected odd kernel sizes, got 4"),
    ("bad timm aa", HEAD + '{"timm_rand_augment": "rand-q9"}}]}', "section 'q9' is not one of"),
    ("a /1 file naming a /2 augmentation", HEAD.replace("/2", "/1") + '{"vertical_flip": true}}]}',
     "vertical_flip is new in relabel.overrides/2"),
]


@pytest.mark.parametrize("name, text, fragment", CASES, ids=[c[0] for c in CASES])
def test_hostile_json_files_are_refused_with_the_file_and_line(tmp_path, name, text, fragment):
    path = tmp_path / "overrides.json"
    path.write_text(text)
    with pytest.raises(Exception) as info:
        load(path)
    assert type(info.value).__name__ == "OverridesError" and fragment in str(info.value)
    assert str(info.value).startswith(str(path))


def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    assert len(BOMB) < 500
    with pytest.raises(Exception, match=r"bomb.yaml, line 1, column 4: not valid YAML: an anchor \(&a\): aliases and "
                                        r"anchors are not allowed"):
        load(path)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.json"
    with path.open("w") as f:
        f.write('{"schema": "relabel.overrides/2", "overrides": [], "params": {"x": "')
        f.write("a" * (17 * 2**20))
        f.write('"}}')
    with pytest.raises(Exception, match=r"big.json: 17.0 MiB is larger than an override file can be \(at most 16 MiB"):
        load(path)


def test_through_the_cli_relabel_report_names_the_file_and_line(tmp_path):
    out = tmp_path / "results"
    runner = CliRunner()
    assert runner.invoke(cli, ["evaluate", "--demo", "--out", str(out)]).exit_code == 0
    for name, text, fragment in CASES[:3]:
        path = tmp_path / "bad.json"
        path.write_text(text)
        result = runner.invoke(cli, ["report", str(out), "--overrides", str(path), "--out", str(tmp_path / "r")])
        assert result.exit_code != 0 and fragment in result.output, (name, result.output[-500:])
        assert "Traceback" not in result.output
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BOMB)
    result = runner.invoke(cli, ["report", str(out), "--overrides", str(bomb), "--out", str(tmp_path / "r")])
    assert result.exit_code != 0 and "aliases and anchors are not allowed" in result.output


def test_a_version_1_csv_without_state_columns_reads_as_it_was_written(tmp_path):
    # written by relabel before /2 (columns and cells as that version wrote them)
    path = tmp_path / "old.csv"
    path.write_text("class_key,class_index,rrc_scale_min,rrc_scale_max,rrc_ratio_min,rrc_ratio_max,hflip_p,override,reason\n"
                    "cat,0,0.5,1.0,0.75,1.3333333333333333,,0,cat lost 3 points\n"
                    "dog,1,0.5,1.0,0.75,1.3333333333333333,,0,cat lost 3 points\n")
    ov = load(path, classes=["cat", "dog"])
    assert ov.overrides[0].transforms["horizontal_flip"] == {"enabled": False}  # an empty flip column meant off
    assert ov.overrides[0].transforms["random_resized_crop"]["scale"] == (0.5, 1.0)
    assert json.loads(json.dumps(ov.to_dict()))["schema"] == "relabel.overrides/2"
