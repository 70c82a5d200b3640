"""WordNet for custom label spaces: which synset each class name gets and why, corrections, the hierarchy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from relabel import LabelSpace, Run, RunMeta, imagenet_1k, write_run
from relabel.categorisation import pair_evidence
from relabel.cli.main import cli
from relabel.errors import InputError
from relabel.wordnet import load_wordnet_map, map_to_wordnet, wordnet_nouns

CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
REPO = Path(__file__).resolve().parents[1]


def test_the_shipped_noun_graph_is_whole_wordnet():
    nouns = wordnet_nouns()
    assert len(nouns) == 82115  # every noun synset of WordNet 3.0's data.noun
    dog = nouns.row("n02084071")
    assert nouns.lemmas[dog] == ("dog", "domestic dog", "Canis familiaris")
    assert nouns.lexnames[dog] == "noun.animal"
    assert [nouns.wnids[p] for p in nouns.hypernyms[dog]] == ["n02083346", "n01317541"]  # canine, domestic animal
    assert nouns.senses["dog"][0] == (dog, 1, 42)  # sense 1, SemCor tag count 42
    assert nouns.is_instance[nouns.row("n08755003")]  # the Virgin Islands: a named place
    assert nouns.exceptions["mice"] == ("mouse",)
    assert (REPO / "relabel" / "annotations" / "wordnet30_nouns.tsv.xz").stat().st_size < 1_100_000


def test_cifar10_names_get_their_animal_and_vehicle_senses():
    table = map_to_wordnet(CIFAR10).table
    assert table["synset"].tolist() == ["n02691156", "n02958343", "n01503061", "n02121620", "n02430045",
                                        "n02084071", "n01639765", "n02374451", "n04194289", "n04490091"]
    assert table["synset_name"].tolist()[:2] == ["airplane", "car"]  # automobile is a lemma of car
    assert (table["match"] == "exact lemma").all()
    assert table["sense_number"].tolist() == [1] * 10  # the most frequent sense each time: context agrees
    cat = table.set_index("class_name").loc["cat"]
    assert cat["n_senses"] == 7 and cat["tag_count"] == 18
    assert cat["reason"].startswith("7 depictable senses of 'cat'; chose sense 1 n02121620 'cat' (noun.animal): "
                                    "the most frequent (tag count 18 vs 0)")


def test_numerals_letters_and_unknown_names_stay_unmapped_and_say_why():
    table = map_to_wordnet(["IV", "VI", "x", "A", "zorblax", "cat"]).table.set_index("class_name")
    assert table.loc[["IV", "VI", "x", "A", "zorblax"], "synset"].isna().all()
    assert (table.loc[["IV", "VI", "x", "A", "zorblax"], "match"] == "unmapped").all()
    assert "Roman numeral" in table.loc["IV", "reason"] and "intravenous" in table.loc["IV", "reason"]
    assert "single character" in table.loc["A", "reason"]
    assert table.loc["zorblax", "reason"] == ("no WordNet noun has the lemma 'zorblax' (nor a base form or, for "
                                              "several words, the last word)")
    # without the Roman-numeral guard the depictable filter still refuses IV: acts and numbers only
    nouns = wordnet_nouns()
    assert not any(nouns.is_depictable(r) for r, _, _ in nouns.senses["iv"])


def test_the_label_space_decides_between_senses():
    office = map_to_wordnet(["keyboard", "monitor", "mouse"]).table.set_index("class_name")
    animals = map_to_wordnet(["cat", "dog", "mouse"]).table.set_index("class_name")
    assert office.loc["mouse", "synset"] == "n03793489" and office.loc["mouse", "lexname"] == "noun.artifact"
    assert animals.loc["mouse", "synset"] == "n02330245" and animals.loc["mouse", "lexname"] == "noun.animal"
    assert "much closer to the other classes" in office.loc["mouse", "reason"]


def test_a_bird_species_set_maps_species_or_places_them_under_their_kind():
    names = ["cardinal", "blue jay", "Laysan albatross", "Black footed Albatross", "painted bunting",
             "house sparrow"]
    table = map_to_wordnet(names).table.set_index("class_name")
    # cardinal: the most frequent sense is the church official; among birds, the bird
    assert table.loc["cardinal", "synset"] == "n01541386" and table.loc["cardinal", "lexname"] == "noun.animal"
    assert table.loc["Laysan albatross", "match"] == "head noun"
    assert table.loc["Laysan albatross", "synset"] == table.loc["Black footed Albatross", "synset"] == "n02058221"
    assert table.loc["painted bunting", "synset"] == "n01537134"  # the bird, not the flag cloth
    mapping = map_to_wordnet(names)
    tree = mapping.hierarchy()
    # head-noun matches hang below their synset; a species WordNet knows takes its synset's place
    assert tree.parents["Laysan albatross"] == ("n02058221",)
    assert tree.measures(["Laysan albatross"], ["Black footed Albatross"])["path_length"].tolist() == [2]
    assert "n01541386" not in tree and tree.lexname("cardinal") == "noun.animal"


def test_imagenet_names_map_back_to_their_own_synsets_nine_times_in_ten():
    """ImageNet-1k's display names with their wnids hidden: the documented 0.909 of exact synsets."""
    space = imagenet_1k()
    hidden = LabelSpace(tuple(str(i) for i in range(1000)), space.names)
    table = map_to_wordnet(hidden).table
    assert (table["synset"].to_numpy() == np.asarray(space.keys)).mean() == pytest.approx(0.909, abs=0.0005)
    assert table["synset"].notna().all()


def test_a_map_file_corrects_the_mapping_and_bad_files_are_refused(tmp_path):
    space = LabelSpace.from_names(["chest", "IV", "cat"])
    (tmp_path / "map.csv").write_text("class_key,synset\nchest,n03014705\nIV,\n")
    table = map_to_wordnet(space, corrections=tmp_path / "map.csv").table.set_index("class_name")
    assert table.loc["chest", "synset"] == "n03014705" and table.loc["chest", "match"] == "user file"
    assert table.loc["IV", "synset"] is None and table.loc["IV", "reason"] == "left unmapped by the WordNet map file"
    assert table.loc["cat", "match"] == "exact lemma"
    (tmp_path / "bad.csv").write_text("class_key,synset\nchest,n99999999\ncat,dog\n")
    with pytest.raises(InputError, match=r"bad\.csv, column 'synset': not WordNet 3\.0 noun synset ids .*'n99999999', "
                                         r"'dog'"):
        load_wordnet_map(tmp_path / "bad.csv")
    (tmp_path / "twice.csv").write_text("class_key,synset\ncat,n02121620\ncat,n02121620\n")
    with pytest.raises(InputError, match=r"each class key may appear once; repeated: 1 offender: 'cat'"):
        load_wordnet_map(tmp_path / "twice.csv")
    (tmp_path / "unknown.csv").write_text("class_key,synset\ncow,n01887787\n")
    with pytest.raises(InputError, match=r"class keys not in label space 'custom': 1 offender: 'cow'"):
        map_to_wordnet(space, corrections=tmp_path / "unknown.csv")


def test_a_wordnet_hierarchy_gives_cifar10_pairs_their_evidence():
    space = LabelSpace.from_names(CIFAR10, name="cifar10")
    ev = pair_evidence([(3, 5), (1, 9), (2, 0), (8, 0)], None, hierarchy="wordnet", label_space=space)
    assert ev["lca_name"].tolist() == ["carnivore", "motor vehicle", "whole", "craft"]
    assert ev["lexname_c"].tolist() == ["noun.animal", "noun.artifact", "noun.animal", "noun.artifact"]
    assert ev["wu_palmer"].round(2).tolist() == [0.85, 0.9, 0.3, 0.76]  # 2D / (2D + hops)


def _cifar_files(tmp_path: Path) -> Path:
    """CIFAR-10-shaped runs without multi-labels: 2 seeds of a mild crop, 1 of a strong one that sends
    cat images to dog; unequal classes (300 cats and dogs, 40 of every other class)."""
    sizes = {name: (300 if name in ("cat", "dog") else 40) for name in CIFAR10}
    labels = [name for name in CIFAR10 for _ in range(sizes[name])]
    images = np.array([f"test/{i:05d}.png" for i in range(len(labels))], dtype=object)
    pd.DataFrame({"image": images, "label": labels}).to_csv(tmp_path / "labels.csv", index=False)
    (tmp_path / "classes.txt").write_text("\n".join(CIFAR10) + "\n")
    truth = np.array([CIFAR10.index(x) for x in labels])
    rng = np.random.default_rng(3)
    for group, strength, seeds in (("s050", 0.5, (0, 1)), ("s008", 0.08, (0,))):
        for seed in seeds:
            pred = truth.copy()
            wrong = rng.uniform(size=len(pred)) < 0.1
            pred[wrong] = rng.integers(0, 10, size=wrong.sum())
            if group == "s008":
                cats = np.flatnonzero(truth == 3)
                pred[cats[rng.uniform(size=len(cats)) < 0.25]] = 5  # cat -> dog
            write_run(Run(RunMeta(f"{group}-{seed}", group, strength, seed), images, pred[:, None]),
                      tmp_path / f"{group}-{seed}.parquet")
    return tmp_path


def test_cli_maps_cifar10_names_to_wordnet_and_calls_cat_dog_fine_grained(tmp_path):
    files = _cifar_files(tmp_path)
    runs = sorted(str(p) for p in files.glob("s0*.parquet"))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["evaluate", "--annotations", str(files / "labels.csv"), "--label-space",
                                      str(files / "classes.txt"), *runs, "--reference", "s050",
                                      "--hierarchy", "wordnet", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "WordNet hierarchy from the class names: 10 of 10 mapped (exact lemma 10):" in result.output
    assert "cat -> n02121620 'cat': 7 depictable senses of 'cat'" in result.output
    classes = pd.read_csv(out / "categorisation_classes.csv")
    cat = classes.set_index("class_name").loc["cat"]
    assert (cat["partner_name"], cat["category"], cat["rule"]) == ("dog", "fine-grained", "close_kinds")
    assert "no multi-labels to check" in cat["reason"]
    mapping = pd.read_csv(out / "wordnet_map.csv")
    assert mapping["synset"].tolist()[3] == "n02121620"
    # a map file overrides a name (here: dog as the frankfurter, n07676602) and implies --hierarchy wordnet
    (files / "map.csv").write_text("class_key,synset\ndog,n07676602\n")
    result = CliRunner().invoke(cli, ["evaluate", "--annotations", str(files / "labels.csv"), "--label-space",
                                      str(files / "classes.txt"), *runs, "--reference", "s050",
                                      "--wordnet-map", str(files / "map.csv")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "(exact lemma 9, user file 1)" in result.output
    assert "  cat [co-occurring" in result.output  # an animal and a food: different kinds, not look-alikes
    bad = CliRunner().invoke(cli, ["evaluate", "--annotations", str(files / "labels.csv"), "--label-space",
                                   str(files / "classes.txt"), *runs, "--reference", "s050", "--hierarchy", "none",
                                   "--wordnet-map", str(files / "map.csv")])
    assert bad.exit_code == 2 and "--wordnet-map corrects the WordNet mapping; it cannot be used with --hierarchy none" \
        in bad.output


@pytest.mark.skipif(not Path("/usr/share/wordnet/data.noun").is_file(),
                    reason="needs Debian's wordnet-base (.ci/run installs it)")
def test_the_shipped_wordnet_files_are_what_the_build_script_makes():
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "build_imagenet_annotations.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
