"""Hierarchy: LCA, path length and depth on a hand-built DAG; parent-map files; the shipped WordNet graph."""

from __future__ import annotations

import json
from importlib import resources

import pandas as pd
import pytest

from relabel.errors import InputError
from relabel.hierarchy import Hierarchy, imagenet_1k_hierarchy, load_hierarchy

#: A small WordNet-like DAG. ``dog`` and ``cat`` have two parents each, and the short way to
#: them goes through ``domestic``, so ``dog`` (depth 2) lies above its ancestor ``canine``
#: (depth 3): shortest-path depth is not monotone, as in WordNet.
#:
#:   root ─┬─ organism ── carnivore ─┬─ canine ─┬─ dog ─┬─ terrier ─┬─ norfolk
#:         │                         │          │       │           └─ norwich
#:         │                         │          │       └─ husky
#:         │                         │          └─ wolf
#:         │                         └─ feline ── cat
#:         └─ domestic ─┬─ dog
#:                      └─ cat
EDGES = [
    ("organism", "root"), ("domestic", "root"), ("carnivore", "organism"),
    ("canine", "carnivore"), ("feline", "carnivore"),
    ("dog", "canine"), ("dog", "domestic"), ("wolf", "canine"),
    ("cat", "feline"), ("cat", "domestic"),
    ("terrier", "dog"), ("norfolk", "terrier"), ("norwich", "terrier"), ("husky", "dog"),
]


@pytest.fixture(scope="module")
def dag() -> Hierarchy:
    return Hierarchy.from_edges(EDGES, names={"domestic": "domestic animal"})


def test_depth_is_the_shortest_path_from_the_root(dag):
    depths = {n: dag.depth(n) for n in ("root", "domestic", "canine", "dog", "terrier", "norfolk", "wolf", "cat")}
    assert depths == {"root": 0, "domestic": 1, "canine": 3, "dog": 2, "terrier": 3, "norfolk": 4, "wolf": 4, "cat": 2}
    assert dag.roots == ("root",) and len(dag) == 13
    assert dag.ancestors("norfolk") == {"norfolk": 0, "terrier": 1, "dog": 2, "canine": 3, "domestic": 3,
                                        "carnivore": 4, "root": 4, "organism": 5}


@pytest.mark.parametrize(
    "a, b, lca, path, depth",
    [
        ("norfolk", "norwich", "terrier", 2, 3),  # siblings
        ("norfolk", "husky", "dog", 3, 2),
        ("norfolk", "wolf", "canine", 4, 3),  # 3 + 1 hops; root would be 4 + 4
        # domestic: 3 + 1 hops; carnivore is deeper (depth 2 > 1) but 4 + 2 hops away
        ("norfolk", "cat", "domestic", 4, 1),
        ("dog", "cat", "domestic", 2, 1),
        ("wolf", "cat", "carnivore", 4, 2),  # wolf reaches domestic only through the root
        ("norfolk", "norfolk", "norfolk", 0, 4),
        ("dog", "norfolk", "dog", 2, 2),  # an ancestor is its own LCA with the descendant
    ],
)
def test_lca_minimises_the_path_not_the_depth(dag, a, b, lca, path, depth):
    m = dag.measures([a, b], [b, a])
    assert m["lca"].tolist() == [lca, lca]
    assert m["path_length"].tolist() == [path, path]
    assert m["lca_depth"].tolist() == [depth, depth]
    assert dag.lca(a, b) == lca and dag.path_length(a, b) == path


def test_is_ancestor_either_way_and_names(dag):
    m = dag.measures(["dog", "norfolk", "norfolk"], ["norfolk", "dog", "cat"])
    assert m["is_ancestor"].tolist() == [True, True, False]
    assert m["lca_name"].tolist() == ["dog", "dog", "domestic animal"]
    assert dag.is_ancestor("canine", "husky") and not dag.is_ancestor("feline", "husky")


def test_ties_go_to_the_deeper_ancestor():
    # u and v are children of both A (depth 1) and B (depth 2): both LCAs are 2 hops away.
    h = Hierarchy.from_edges([("A", "root"), ("C", "root"), ("B", "C"), ("u", "A"), ("u", "B"), ("v", "A"), ("v", "B")])
    m = h.measures(["u"], ["v"])
    assert (m.loc[0, "lca"], m.loc[0, "path_length"], m.loc[0, "lca_depth"]) == ("B", 2, 2)


def test_unknown_nodes_and_forests_give_missing_values():
    h = Hierarchy({"a": ("r1",), "b": ("r2",)})
    m = h.measures(["a", "a"], ["b", "nowhere"])
    assert m["lca"].tolist() == ["", ""]
    assert m["path_length"].isna().all() and m["lca_depth"].isna().all()
    assert not m["is_ancestor"].any()
    assert h.missing(["a", "nowhere", "x", "nowhere"]) == ["nowhere", "x"]


def test_cycles_are_refused_with_the_cycle_named():
    with pytest.raises(InputError, match=r"must not contain cycles; found 'a' -> 'b' -> 'c' -> 'a'"):
        Hierarchy.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")])
    with pytest.raises(InputError, match=r"found 'x' -> 'x'"):
        Hierarchy({"x": ("x",)})


# ---------------------------------------------------------------------------------------------
# files


def test_csv_tsv_and_json_parent_maps(tmp_path):
    (tmp_path / "h.csv").write_text(
        "child,parent,parent_name\nlaptop,portable,portable computer\nnotebook,portable,portable computer\n"
        "portable,root,\n", encoding="utf-8")
    (tmp_path / "h.tsv").write_text("parent\tchild\nportable\tlaptop\nportable\tnotebook\nroot\tportable\n")
    (tmp_path / "h.json").write_text(json.dumps({"laptop": "portable", "notebook": ["portable"], "portable": "root"}))
    (tmp_path / "h2.json").write_text(json.dumps({
        "parents": {"laptop": "portable", "notebook": "portable", "portable": "root", "root": []},
        "names": {"portable": "portable computer"}}))
    for name in ("h.csv", "h.tsv", "h.json", "h2.json"):
        h = load_hierarchy(tmp_path / name)
        m = h.measures(["laptop"], ["notebook"])
        assert (m.loc[0, "lca"], m.loc[0, "path_length"], m.loc[0, "lca_depth"]) == ("portable", 2, 1), name
        assert h.source == str(tmp_path / name)
    assert load_hierarchy(tmp_path / "h.csv").name("portable") == "portable computer"
    assert load_hierarchy(tmp_path / "h.tsv").name("portable") == "portable"


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("cycle.csv", "child,parent\na,b\nb,a\n", r"cycle\.csv: the parent map must not contain cycles; found 'a' -> 'b' -> 'a'"),
        ("cols.csv", "node,parent\na,b\n",
         r"cols\.csv: a parent map needs columns 'child' and 'parent'.*missing \['child'\], found columns \['node', 'parent'\]"),
        ("extra.csv", "child,parent,weight\na,b,1\n", r"extra\.csv: unknown columns 1 offender: 'weight'"),
        ("empty.csv", "child,parent\na,b\n,b\n", r"empty\.csv, column 'child': empty node at lines 1 offender: 3"),
        ("names.csv", "child,parent,parent_name\na,p,P\nb,p,Q\n", r"names\.csv: nodes with two different names: 1 offender: 'p'"),
        ("cycle.json", '{"a": "b", "b": ["c"], "c": "a"}',
         r"cycle\.json: the parent map must not contain cycles; found 'a' -> 'b' -> 'c' -> 'a'"),
        ("bad.json", '{"a": 3, "b": ["c", 4]}',
         r"bad\.json: each child's parent must be a node name or a list of them; not so for children 2 offenders: 'a', 'b'"),
        ("list.json", '[["a", "b"]]',
         r"list\.json: expected an object \{child: parent\} or \{child: \[parents\]\}, found a JSON list"),
        ("repeat.json", '{"a": "b", "a": "c"}', r"repeat\.json: each child may appear once; 1 offender: 'a' appear"),
        ("syntax.json", '{"a": ', r"syntax\.json: not valid JSON \(line 1"),
        ("fields.json", '{"parents": {"a": "b"}, "colours": {}}', r"fields\.json: unknown fields 1 offender: 'colours'"),
        ("h.txt", "a b\n", r"h\.txt: a hierarchy file must be \.csv, \.tsv or \.json; got '\.txt'"),
    ],
)
def test_file_errors_name_the_file_field_and_offenders(tmp_path, name, text, message):
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_hierarchy(tmp_path / name)


def test_missing_file_and_names(tmp_path):
    with pytest.raises(InputError, match=r"hierarchy '.*nope\.csv' is neither 'imagenet-1k' nor an existing file"):
        load_hierarchy(tmp_path / "nope.csv")
    assert load_hierarchy("imagenet-1k") is imagenet_1k_hierarchy()
    h = Hierarchy({"a": ("b",)})
    assert load_hierarchy(h) is h


# ---------------------------------------------------------------------------------------------
# the shipped WordNet graph (numbers from annotations/README.md)


def test_shipped_imagenet_hierarchy():
    h = imagenet_1k_hierarchy()
    assert h is imagenet_1k_hierarchy()  # cached
    assert len(h) == 1860 and h.roots == ("n00001740",) and h.name("n00001740") == "entity"
    assert sum(len(ps) >= 2 for ps in h.parents.values()) == 75  # 3 of them have three
    with resources.files("relabel.annotations").joinpath("imagenet1k_classes.tsv").open(encoding="utf-8") as f:
        classes = pd.read_csv(f, sep="\t", dtype=str)["class_key"]
    depths = [h.depth(k) for k in classes]
    assert (min(depths), max(depths)) == (4, 17)
    assert sum(depths) / 1000 == pytest.approx(10.221)
    assert (h.depth("n02092468"), h.depth("n02083346")) == (10, 12)  # terrier above its ancestor canine
    m = h.measures(["n03642806", "n04355933", "n02094114"], ["n03832673", "n04356056", "n02094258"])
    assert m["lca_name"].tolist() == ["portable computer", "device", "terrier"]
    assert m["path_length"].tolist() == [2, 8, 2]  # laptop/notebook, sunglass/sunglasses, Norfolk/Norwich
    assert m["lca_depth"].tolist() == [11, 6, 10]
