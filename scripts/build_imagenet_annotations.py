#!/usr/bin/env python3
"""Build the ImageNet-1k class and WordNet-hierarchy tables shipped in ``relabel/annotations/``.

Inputs
------
* ``--labels``: any file listing the 1000 ImageNet-1k wnids, one per line,
  in class-index order. Only the wnid at the start of each line is read
  (``n01440764``, ``n01440764,tench`` and ``n01440764 tench, Tinca tinca``
  all work); whatever follows it is ignored, so no display name comes from
  this file. The default is ``imagenet_x/annotations/imagenet_labels.txt``
  from the installed ``imagenet-x`` package, located with
  :func:`importlib.util.find_spec` (the package is not imported). The wnids
  must be unique, there must be exactly 1000 of them and they must be sorted
  (the torchvision / timm class-index order).
* ``--wordnet``: WordNet 3.0 ``data.noun`` (Debian: ``apt-get install
  wordnet-base``, file ``/usr/share/wordnet/data.noun``). ImageNet wnid
  ``n01440764`` is the noun synset at byte offset 01440764 of that file.
  ``index.noun``, ``cntlist.rev`` and ``noun.exc`` are read from the same
  folder (sense order, tag counts, irregular plurals).

Outputs (written to ``--out``; tab-separated, UTF-8, ``\\n`` line ends, one
header line, rows in a fixed order so that regeneration is byte-identical)
------------------------------------------------------------------------
* ``imagenet1k_classes.tsv``: ``class_index``, ``class_key`` (wnid),
  ``class_name`` (the synset's first WordNet lemma, ``_`` replaced by a space;
  not unique: "crane" and "maillot" appear twice), ``lemmas`` (all WordNet
  lemmas of the synset, ``_`` replaced by a space, joined by ``|``). Sorted by
  class index.
* ``imagenet1k_hierarchy.tsv``: ``child``, ``parent``: every WordNet 3.0
  hypernym edge (pointer ``@``) and instance-hypernym edge (pointer ``@i``)
  from the 1000 classes up to the root ``n00001740`` (entity). It is a DAG:
  some synsets have two parents. Sorted by (child, parent).
* ``imagenet1k_hierarchy_nodes.tsv``: ``node``, ``name`` (first WordNet lemma,
  ``_`` replaced by a space), ``lexname`` (the synset's lexicographer file,
  e.g. ``noun.animal``) for every node of the hierarchy, the 1000 classes
  included. Sorted by node.
* ``wordnet30_nouns.tsv.xz``: every WordNet 3.0 noun synset (82,115), for
  mapping the class names of other label spaces to WordNet: ``offset``
  (8 digits; the wnid is ``n`` + offset), ``lexname``, ``lemmas`` (``|``-joined,
  ``_`` shown as a space, case as in ``data.noun``), ``senses`` (per lemma, its
  sense number in ``index.noun``: the rank of this synset among the lemma's
  noun senses, which WordNet orders by SemCor tag count; space-separated,
  empty when all are 1), ``tag_counts`` (per lemma, the SemCor tag count of
  that sense from ``cntlist.rev``; empty when all are 0), ``hypernyms``
  (space-separated offsets of the ``@`` parents; ``@i`` instance-of parents
  are prefixed with ``i``). Sorted by offset. xz, written deterministically.
* ``wordnet30_noun_exceptions.tsv.xz``: ``form``, ``lemma``: WordNet's
  irregular noun plurals (``noun.exc``: mice -> mouse), in file order.

All nodes are written as ``n%08d`` wnids. The script also prints sanity
numbers (node counts, depths, path lengths between a few class pairs). Depth
is the length of the *shortest* hypernym path from the root (root depth 0).

Usage
-----
    python scripts/build_imagenet_annotations.py \\
        --wordnet /usr/share/wordnet/data.noun --labels PATH --out relabel/annotations/

Add ``--check`` to rebuild in memory and compare with the files already in
``--out`` instead of writing them (exit status 1 if any differs).

Standard library only; no network access.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import lzma
import re
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path

ROOT = "n00001740"  # entity.n.01
N_CLASSES = 1000
PARENT_POINTERS = frozenset({"@", "@i"})  # hypernym, instance hypernym
WNID_RE = re.compile(r"n\d{8}")

CLASSES_FILE = "imagenet1k_classes.tsv"
HIERARCHY_FILE = "imagenet1k_hierarchy.tsv"
NODES_FILE = "imagenet1k_hierarchy_nodes.tsv"
NOUNS_FILE = "wordnet30_nouns.tsv.xz"
EXCEPTIONS_FILE = "wordnet30_noun_exceptions.tsv.xz"

#: WordNet 3.0's lexicographer files by number (lexnames(5WN)); nouns use 03-28.
LEXNAMES = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
    "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling",
    "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object", "noun.person",
    "noun.phenomenon", "noun.plant", "noun.possession", "noun.process", "noun.quantity", "noun.relation",
    "noun.shape", "noun.state", "noun.substance", "noun.time",
)

# (wnid, wnid) pairs whose distance is printed as a sanity check.
SANITY_PAIRS = [
    ("n03642806", "n03832673"),  # laptop / notebook
    ("n04355933", "n04356056"),  # sunglass / sunglasses
    ("n03179701", "n03782006"),  # desk / monitor
    ("n09428293", "n09421951"),  # seashore / sandbar
    ("n02094114", "n02094258"),  # Norfolk terrier / Norwich terrier
    ("n02110185", "n02109961"),  # Siberian husky / Eskimo dog
    ("n03782006", "n04152593"),  # monitor / screen
]


@dataclass(frozen=True)
class Synset:
    """The parts of a WordNet noun synset that this script needs."""

    wnid: str
    lemmas: tuple[str, ...]  # as in data.noun, with underscores
    parents: tuple[str, ...]  # hypernym and instance-hypernym wnids, file order
    instance_parents: tuple[str, ...] = ()  # the subset reached through "@i"
    lexfile: int = 3  # lexicographer file number (LEXNAMES)
    lex_ids: tuple[int, ...] = ()  # per lemma, for its sense key


def wnid_from_offset(offset: str | int) -> str:
    return "n%08d" % int(offset)


# --------------------------------------------------------------------------
# Input parsing
# --------------------------------------------------------------------------


def parse_data_line(line: str) -> Synset:
    """Parse one synset line of a WordNet 3.0 ``data.noun`` file.

    Format (see wndb(5)): ``synset_offset lex_filenum ss_type w_cnt
    word lex_id [word lex_id ...] p_cnt [pointer_symbol synset_offset pos
    source/target ...] | gloss``. ``w_cnt`` is 2 hexadecimal digits, ``p_cnt``
    3 decimal digits.
    """
    head, sep, _gloss = line.partition("|")
    if not sep:
        raise ValueError("no gloss separator")
    fields = head.split()
    offset, lex_filenum, ss_type, w_cnt_hex = fields[:4]
    if ss_type != "n":
        raise ValueError(f"ss_type {ss_type!r} is not a noun")
    w_cnt = int(w_cnt_hex, 16)
    pos = 4
    lemmas = tuple(fields[pos : pos + 2 * w_cnt : 2])
    lex_ids = tuple(int(x, 16) for x in fields[pos + 1 : pos + 2 * w_cnt : 2])
    pos += 2 * w_cnt
    p_cnt = int(fields[pos])
    pos += 1
    parents = []
    instance_parents = []
    for _ in range(p_cnt):
        symbol, target, target_pos, _source_target = fields[pos : pos + 4]
        pos += 4
        if symbol in PARENT_POINTERS:
            if target_pos != "n":
                raise ValueError(f"hypernym pointer to pos {target_pos!r}")
            parents.append(wnid_from_offset(target))
            if symbol == "@i":
                instance_parents.append(wnid_from_offset(target))
    if pos != len(fields):
        raise ValueError(f"{len(fields) - pos} unparsed fields")
    if len(lemmas) != w_cnt:
        raise ValueError("fewer lemmas than w_cnt")
    return Synset(wnid_from_offset(offset), lemmas, tuple(parents), tuple(instance_parents),
                  int(lex_filenum), lex_ids)


def load_wordnet_nouns(path: Path) -> dict[str, Synset]:
    """Read every noun synset of ``data.noun``, keyed by wnid.

    Licence header lines (they start with two spaces) are skipped. Each
    synset's offset field is checked against the line's real byte offset,
    which is what makes ``wnid -> offset`` lookups valid.
    """
    synsets: dict[str, Synset] = {}
    byte_offset = 0
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line_offset = byte_offset
            byte_offset += len(raw)
            if raw.startswith(b"  "):
                continue
            line = raw.decode("utf-8")
            try:
                synset = parse_data_line(line)
            except (ValueError, IndexError) as exc:
                raise ValueError(f"{path}:{lineno}: cannot parse synset line: {exc}") from exc
            if int(synset.wnid[1:]) != line_offset:
                raise ValueError(
                    f"{path}:{lineno}: synset offset {synset.wnid[1:]} "
                    f"is not the line's byte offset {line_offset}"
                )
            synsets[synset.wnid] = synset
    if ROOT not in synsets:
        raise ValueError(f"{path}: root synset {ROOT} not found; is this WordNet 3.0 data.noun?")
    return synsets


def load_sense_order(path: Path) -> dict[str, tuple[str, ...]]:
    """``index.noun``: lemma (lower case, ``_``) -> its noun synsets' wnids in sense order.

    Format (wndb(5)): ``lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt
    tagsense_cnt synset_offset [synset_offset...]``; WordNet orders the offsets
    by decreasing SemCor tag count.
    """
    order: dict[str, tuple[str, ...]] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if line.startswith("  "):
                continue
            fields = line.split()
            n_synsets = int(fields[2])
            offsets = fields[-n_synsets:]
            if len(offsets) != n_synsets or not all(o.isdigit() and len(o) == 8 for o in offsets):
                raise ValueError(f"{path}:{lineno}: cannot parse index line")
            order[fields[0]] = tuple(wnid_from_offset(o) for o in offsets)
    return order


def load_tag_counts(path: Path) -> dict[str, int]:
    """``cntlist.rev``: sense key (``dog%1:05:00::``) -> SemCor tag count."""
    counts: dict[str, int] = {}
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            fields = line.split()
            if len(fields) != 3:
                raise ValueError(f"{path}:{lineno}: expected 'sense_key sense_number tag_cnt'")
            counts[fields[0]] = int(fields[2])
    return counts


def load_exceptions(path: Path) -> list[tuple[str, str]]:
    """``noun.exc``: (irregular form, base lemma) pairs, ``_`` shown as a space, file order."""
    pairs = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            fields = line.split()
            for base in fields[1:]:
                pairs.append((spaced(fields[0]), spaced(base)))
    return pairs


def nouns_table(synsets: dict[str, Synset], order: dict[str, tuple[str, ...]], tags: dict[str, int]) -> str:
    """The ``wordnet30_nouns.tsv.xz`` text (see the module docstring)."""
    rows = []
    for wnid in sorted(synsets):
        synset = synsets[wnid]
        senses, counts = [], []
        for lemma, lex_id in zip(synset.lemmas, synset.lex_ids):
            key = lemma.lower()
            order_of = order.get(key)
            if order_of is None or wnid not in order_of:
                raise ValueError(f"index.noun does not list {wnid} under {key!r}")
            senses.append(order_of.index(wnid) + 1)
            counts.append(tags.get(f"{key}%1:{synset.lexfile:02d}:{lex_id:02d}::", 0))
            if "|" in lemma:
                raise ValueError(f"lemma {lemma!r} of {wnid} contains '|'")
        parents = " ".join(("i" if p in synset.instance_parents else "") + p[1:] for p in synset.parents)
        rows.append((wnid[1:], LEXNAMES[synset.lexfile], "|".join(spaced(x) for x in synset.lemmas),
                     "" if set(senses) == {1} else " ".join(map(str, senses)),
                     "" if not any(counts) else " ".join(map(str, counts)), parents))
    return tsv(("offset", "lexname", "lemmas", "senses", "tag_counts", "hypernyms"), rows)


def xz(text: str) -> bytes:
    """Deterministic xz bytes (no timestamps are stored in the xz format)."""
    return lzma.compress(text.encode("utf-8"), format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64,
                         preset=9 | lzma.PRESET_EXTREME)


def default_labels_path() -> Path | None:
    """``imagenet_labels.txt`` of the installed ``imagenet_x`` package, if any.

    Uses ``importlib.util.find_spec`` so that the package (and its pandas
    dependency) is never imported.
    """
    try:
        spec = importlib.util.find_spec("imagenet_x")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "annotations" / "imagenet_labels.txt"
        if candidate.is_file():
            return candidate
    return None


def load_wnids(path: Path) -> list[str]:
    """Read the wnid that starts each line and check the ImageNet-1k invariants.

    Anything after the wnid (a ``,`` or whitespace, then a name) is ignored.
    """
    wnids: list[str] = []
    with open(path, encoding="utf-8", newline="") as fh:
        for lineno, line in enumerate(fh, start=1):
            line = line.strip()
            if not line:
                continue
            match = WNID_RE.match(line)
            if match is None or (len(line) > match.end() and line[match.end()] not in ", \t"):
                raise ValueError(f"{path}:{lineno}: expected a line starting with a wnid, got {line!r}")
            wnids.append(match.group())
    if len(wnids) != N_CLASSES:
        raise ValueError(f"{path}: expected {N_CLASSES} classes, found {len(wnids)}")
    if len(set(wnids)) != N_CLASSES:
        raise ValueError(f"{path}: wnids are not unique")
    if wnids != sorted(wnids):
        raise ValueError(f"{path}: wnids are not sorted (class-index order is sorted wnids)")
    return wnids


def class_names(wnids: list[str], synsets: dict[str, Synset]) -> list[tuple[str, str]]:
    """``(wnid, display name)`` per class: the synset's first lemma, ``_`` shown as a space."""
    missing = [w for w in wnids if w not in synsets]
    if missing:
        raise ValueError(f"{len(missing)} class wnids not in data.noun: {missing[:10]}")
    return [(w, spaced(synsets[w].lemmas[0])) for w in wnids]


# --------------------------------------------------------------------------
# Hierarchy
# --------------------------------------------------------------------------


def collect_hierarchy(
    class_wnids: list[str], synsets: dict[str, Synset]
) -> tuple[set[str], set[tuple[str, str]]]:
    """All ancestors of ``class_wnids`` and the (child, parent) edges among them."""
    missing = [w for w in class_wnids if w not in synsets]
    if missing:
        raise ValueError(f"{len(missing)} class wnids not in data.noun: {missing[:10]}")
    nodes: set[str] = set()
    edges: set[tuple[str, str]] = set()
    queue = deque(class_wnids)
    while queue:
        node = queue.popleft()
        if node in nodes:
            continue
        nodes.add(node)
        synset = synsets[node]
        if not synset.parents and node != ROOT:
            raise ValueError(f"{node} has no hypernym but is not the root {ROOT}")
        for parent in synset.parents:
            if parent not in synsets:
                raise ValueError(f"hypernym {parent} of {node} not in data.noun")
            edges.add((node, parent))
            queue.append(parent)
    return nodes, edges


def depths_from_root(edges: set[tuple[str, str]]) -> dict[str, int]:
    """Shortest hypernym-path length from ``ROOT`` to every node (BFS)."""
    children: dict[str, list[str]] = {}
    for child, parent in edges:
        children.setdefault(parent, []).append(child)
    depth = {ROOT: 0}
    queue = deque([ROOT])
    while queue:
        node = queue.popleft()
        for child in children.get(node, ()):
            if child not in depth:
                depth[child] = depth[node] + 1
                queue.append(child)
    return depth


def longest_depths(nodes: set[str], synsets: dict[str, Synset]) -> dict[str, int]:
    """Longest hypernym-path length from ``ROOT`` to every node."""
    memo: dict[str, int] = {}

    def visit(node: str) -> int:
        if node not in memo:
            parents = synsets[node].parents
            memo[node] = 1 + max(visit(p) for p in parents) if parents else 0
        return memo[node]

    for node in sorted(nodes):
        visit(node)
    return memo


def upward_distances(node: str, synsets: dict[str, Synset]) -> dict[str, int]:
    """Fewest hypernym hops from ``node`` to each of its ancestors (itself: 0)."""
    dist = {node: 0}
    queue = deque([node])
    while queue:
        current = queue.popleft()
        for parent in synsets[current].parents:
            if parent not in dist:
                dist[parent] = dist[current] + 1
                queue.append(parent)
    return dist


def pair_distance(
    a: str, b: str, synsets: dict[str, Synset], depth: dict[str, int]
) -> tuple[int, str]:
    """Shortest path a -> LCA -> b and the LCA it goes through.

    The LCA is the common ancestor minimising ``d(a, X) + d(b, X)``; ties are
    broken by the deeper ``X`` (shortest-path depth), then by wnid.
    """
    up_a = upward_distances(a, synsets)
    up_b = upward_distances(b, synsets)
    common = up_a.keys() & up_b.keys()
    lca = min(common, key=lambda x: (up_a[x] + up_b[x], -depth[x], x))
    return up_a[lca] + up_b[lca], lca


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def spaced(lemma: str) -> str:
    return lemma.replace("_", " ")


def tsv(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
    """Render rows as TSV; fields must not contain tabs or line breaks."""
    lines = []
    for row in [header, *rows]:
        fields = [str(f) for f in row]
        for f in fields:
            if any(c in f for c in "\t\r\n"):
                raise ValueError(f"field {f!r} contains a tab or line break")
        lines.append("\t".join(fields))
    return "\n".join(lines) + "\n"


def build_tables(
    labels: list[tuple[str, str]], synsets: dict[str, Synset]
) -> tuple[dict[str, str], dict[str, object]]:
    """Return ``{file name: text}`` for the ImageNet tables and a dict of facts for the report."""
    class_wnids = [w for w, _ in labels]
    nodes, edges = collect_hierarchy(class_wnids, synsets)

    class_rows = [
        (index, wnid, name, "|".join(spaced(lemma) for lemma in synsets[wnid].lemmas))
        for index, (wnid, name) in enumerate(labels)
    ]
    edge_rows = sorted(edges)
    node_rows = [(node, spaced(synsets[node].lemmas[0]), LEXNAMES[synsets[node].lexfile]) for node in sorted(nodes)]

    files = {
        CLASSES_FILE: tsv(("class_index", "class_key", "class_name", "lemmas"), class_rows),
        HIERARCHY_FILE: tsv(("child", "parent"), edge_rows),
        NODES_FILE: tsv(("node", "name", "lexname"), node_rows),
    }
    facts = {"nodes": nodes, "edges": edges, "class_wnids": class_wnids}
    return files, facts


def report(
    labels: list[tuple[str, str]], synsets: dict[str, Synset], facts: dict[str, object]
) -> None:
    nodes: set[str] = facts["nodes"]  # type: ignore[assignment]
    edges: set[tuple[str, str]] = facts["edges"]  # type: ignore[assignment]
    class_set = {w for w, _ in labels}
    depth = depths_from_root(edges)
    assert depth.keys() == nodes, "some node is not reachable from the root"
    longest = longest_depths(nodes, synsets)

    inner = nodes - class_set
    parents_of: dict[str, int] = {}
    for child, _ in edges:
        parents_of[child] = parents_of.get(child, 0) + 1
    multi = sorted(n for n, k in parents_of.items() if k > 1)
    class_with_children = sorted({p for _, p in edges} & class_set)
    instance_edges = sum(1 for c, p in edges if p in synsets[c].instance_parents)
    class_depths = [depth[w] for w in class_set]

    print(f"classes: {len(labels)}; distinct display names: {len({n for _, n in labels})}")
    dup = {}
    for wnid, name in labels:
        dup.setdefault(name, []).append(wnid)
    for name, wnids in sorted(dup.items()):
        if len(wnids) > 1:
            print(f"  duplicate display name {name!r}: {', '.join(wnids)}")
    print(f"hierarchy nodes: {len(nodes)} ({len(class_set)} classes + {len(inner)} inner nodes)")
    print(f"hierarchy edges: {len(edges)} (instance-hypernym edges: {instance_edges})")
    print(f"nodes with 2+ parents: {len(multi)} (classes among them: {len(set(multi) & class_set)})")
    print(f"classes that are also ancestors of other classes: {len(class_with_children)}"
          + (f" {class_with_children}" if class_with_children else ""))
    print(f"max depth (shortest path from root): {max(depth.values())}; "
          f"over classes: min {min(class_depths)}, max {max(class_depths)}, "
          f"mean {sum(class_depths) / len(class_depths):.2f}")
    print(f"max depth (longest path from root): {max(longest.values())}")
    print("pair distances (hops a -> LCA -> b; LCA depth = shortest path from root, "
          "longest path in brackets):")
    names = dict(labels)
    for a, b in SANITY_PAIRS:
        dist, lca = pair_distance(a, b, synsets, depth)
        la = names.get(a, spaced(synsets[a].lemmas[0]))
        lb = names.get(b, spaced(synsets[b].lemmas[0]))
        print(f"  {a} {la!r} / {b} {lb!r}: distance {dist}, "
              f"LCA {lca} {spaced(synsets[lca].lemmas[0])!r} depth {depth[lca]} ({longest[lca]})")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wordnet", type=Path, default=Path("/usr/share/wordnet/data.noun"),
                        help="WordNet 3.0 data.noun (default: %(default)s)")
    parser.add_argument("--labels", type=Path, default=None,
                        help="file whose lines start with the 1000 wnids in class-index order; only the "
                             "wnids are read (default: imagenet_x/annotations/imagenet_labels.txt of the "
                             "installed imagenet-x)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "relabel" / "annotations",
                        help="output directory (default: the repository's relabel/annotations/)")
    parser.add_argument("--check", action="store_true",
                        help="compare with the files in --out instead of writing them")
    args = parser.parse_args(argv)

    labels_path = args.labels or default_labels_path()
    if labels_path is None:
        parser.error("imagenet-x is not installed; pass --labels PATH/imagenet_labels.txt")

    print(f"labels:  {labels_path} (sha256 {sha256(labels_path)})")
    print(f"wordnet: {args.wordnet} (sha256 {sha256(args.wordnet)})")
    wnids = load_wnids(labels_path)
    synsets = load_wordnet_nouns(args.wordnet)
    print(f"noun synsets in data.noun: {len(synsets)}")
    labels = class_names(wnids, synsets)

    files, facts = build_tables(labels, synsets)
    report(labels, synsets, facts)
    folder = args.wordnet.parent
    order = load_sense_order(folder / "index.noun")
    tags = load_tag_counts(folder / "cntlist.rev")
    blobs = {n: text.encode("utf-8") for n, text in files.items()}
    blobs[NOUNS_FILE] = xz(nouns_table(synsets, order, tags))
    blobs[EXCEPTIONS_FILE] = xz(tsv(("form", "lemma"), load_exceptions(folder / "noun.exc")))
    print(f"index.noun: {len(order)} lemmas; cntlist.rev: {len(tags)} sense keys")

    if args.check:
        stale = [n for n, blob in blobs.items()
                 if not (args.out / n).is_file() or (args.out / n).read_bytes() != blob]
        for name in stale:
            print(f"out of date: {args.out / name}", file=sys.stderr)
        return 1 if stale else 0

    args.out.mkdir(parents=True, exist_ok=True)
    for name, blob in blobs.items():
        path = args.out / name
        path.write_bytes(blob)
        rows = (lzma.decompress(blob) if name.endswith(".xz") else blob).count(b"\n") - 1
        print(f"wrote {path} ({path.stat().st_size} bytes, {rows} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
